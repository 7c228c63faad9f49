#!/usr/bin/env bash
# Prints the Debian runtime dependencies of an ELF binary, as dpkg-shlibdeps derives them from shlibs files:
# for each library it needs, the package holding that library and that package's shlibs entry for it.
#
# usage: cmake/deb-depends.sh ROOT BINARY
#   ROOT: / for a native build (the system's dpkg database), or a sysroot made by cmake/cross/sysroot.sh (its
#         index of files and shlibs, written while its packages were unpacked).
# Prints one Depends line ("libc6 (>= 2.36), libgpiod2 (>= 1.6.3), ..."); fails naming a library no package
# of ROOT holds, or one without shlibs, since a package must not ship a dependency it cannot name.
set -euo pipefail
root=${1:?usage: deb-depends.sh ROOT BINARY}
binary=${2:?usage: deb-depends.sh ROOT BINARY}
root=${root%/}
index="$root/var/lib/bootrig-sysroot"

owner() {  # soname -> the package holding it
  local so=$1 p
  if [ -d "$index" ]; then
    awk -v so="/$so" '$2 ~ /^(\/usr)?\/lib\/([^\/]+\/)?[^\/]+$/ && substr($2, length($2) - length(so) + 1) == so {
      print $1; exit }' "$index/files"
  else
    for p in /lib /usr/lib; do
      dpkg-query -S "$p/*/$so" 2> /dev/null | sed -n 's/^\([^:,]*\).*/\1/p' | head -n 1 && return 0
    done
  fi
}

shlibs_of() {  # package -> its shlibs file
  local p=$1 f
  if [ -d "$index" ]; then
    f="$index/$p.shlibs"
  else
    f=$(ls "/var/lib/dpkg/info/$p:$(dpkg --print-architecture).shlibs" "/var/lib/dpkg/info/$p.shlibs" 2> /dev/null | head -n 1)
  fi
  [ -n "$f" ] && [ -f "$f" ] && printf '%s' "$f"
}

deps=()
for so in $(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
  # libfoo.so.1.10 -> "libfoo 1.10"; libfoo-1.2.so -> "libfoo-1.2" style names as dpkg-shlibdeps reads them.
  if [[ $so =~ ^(.*)\.so\.(.*)$ ]]; then name=${BASH_REMATCH[1]} ver=${BASH_REMATCH[2]}
  elif [[ $so =~ ^(.*)-([0-9.]+)\.so$ ]]; then name=${BASH_REMATCH[1]} ver=${BASH_REMATCH[2]}
  else echo "deb-depends: $binary needs '$so', which has no soname version" >&2; exit 1; fi
  pkg=$(owner "$so")
  [ -n "$pkg" ] || { echo "deb-depends: no package in $root holds $so, which $binary needs" >&2; exit 1; }
  file=$(shlibs_of "$pkg") || { echo "deb-depends: package $pkg (holding $so) has no shlibs file in $root" >&2; exit 1; }
  dep=$(awk -v n="$name" -v v="$ver" '$1 !~ /:$/ && $1 == n && $2 == v { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' "$file")
  [ -n "$dep" ] || { echo "deb-depends: $file has no entry for $so" >&2; exit 1; }
  deps+=("$dep")
done
printf '%s\n' "${deps[@]}" | sort -u | paste -sd, | sed 's/,/, /g'
