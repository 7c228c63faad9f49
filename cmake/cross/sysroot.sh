#!/usr/bin/env bash
# Makes a sysroot of Debian 12 for a Raspberry Pi architecture (arm64, armhf) from Debian's archive with
# mmdebstrap: bootrig's build dependencies unpacked (not installed: nothing of the target runs), plus an index
# of which package holds which file and each package's shlibs, from which cmake/deb-depends.sh derives a
# package's runtime dependencies.
#
# usage: cmake/cross/sysroot.sh ARCH DEST [GPIOD_API]
#   GPIOD_API: 1 (default) bookworm's libgpiod 1.6, as Raspberry Pi OS bookworm has it; 2 libgpiod 2.x from
#   bookworm-backports, the API of Raspberry Pi OS trixie (Debian 13).
# Idempotent: DEST is remade only when the package list below changes. The archive address comes from this
# machine's apt sources (cmake/apt-private.sh), never from here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../apt-private.sh"

arch=${1:?usage: sysroot.sh ARCH DEST [GPIOD_API]}
dest=${2:?usage: sysroot.sh ARCH DEST [GPIOD_API]}
api=${3:-1}
case "$arch" in arm64 | armhf) ;; *) echo "sysroot: architecture '$arch': use arm64 or armhf" >&2; exit 2 ;; esac
# What bootrig's build and tests link against (the toolchain, libc and libstdc++ headers come from the cross
# compiler packages; libc6-dev and libstdc++-12-dev are here for the libraries the linker needs).
case "$api" in
  1) packages=libgpiod-dev ;;
  2) packages=libgpiod-dev/bookworm-backports,libgpiod3/bookworm-backports ;;
  *) echo "sysroot: libgpiod API '$api': use 1 or 2" >&2; exit 2 ;;
esac
packages+=,libserialport-dev,libspdlog-dev,libcli11-dev,libtomlplusplus-dev,nlohmann-json3-dev
packages+=,zlib1g-dev,libsqlite3-dev,libgtest-dev,libgmock-dev,libstdc++-12-dev,libc6-dev
key="bookworm $arch relative-links gpiod$api $packages"
[ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$key" ] && exit 0

command -v mmdebstrap > /dev/null || { echo "sysroot: mmdebstrap is missing; install it (cmake/install-deps.sh --cross)" >&2; exit 1; }
archive=$(debian_archive bookworm)
[ -n "$archive" ] || { echo "sysroot: no apt source for 'bookworm' in /etc/apt/sources.list{,.d}; add one" >&2; exit 1; }
keyring=$(apt_private_keyring)

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
# The extract hook runs while the downloaded packages are still in the rootfs: it records, for each one, its
# files ("package path" lines) and its shlibs file (the soname -> dependency table dpkg-shlibdeps uses).
hook='set -e; idx="$1/var/lib/bootrig-sysroot"; mkdir -p "$idx"
for deb in "$1"/var/cache/apt/archives/*.deb; do
  p=$(dpkg-deb -f "$deb" Package)
  dpkg-deb -c "$deb" | awk -v p="$p" "{ sub(/^\\./, \"\", \$6); print p, \$6 }" >> "$idx/files"
  t=$(mktemp -d); dpkg-deb -e "$deb" "$t"; [ -f "$t/shlibs" ] && cp "$t/shlibs" "$idx/$p.shlibs"; rm -rf "$t"
done'
mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$packages" --extract-hook="$hook" \
  bookworm "$dest" "deb [signed-by=$keyring] $archive bookworm main" \
  "deb [signed-by=$keyring] $archive bookworm-backports main"
# Debian's -dev packages link some libraries absolutely (libz.so -> /lib/.../libz.so.1.2.13): inside a sysroot
# such a link points at the build machine's file (or nowhere), and the linker quietly takes the static archive
# instead. Relative links keep them inside the sysroot.
find "$dest"/usr "$dest"/lib* -type l -lname '/*' | while read -r link; do
  target=$(readlink "$link")
  ln -sfn "$(realpath --relative-to="$(dirname "$link")" -m "$dest$target")" "$link"
done
# No device nodes: qemu-user looks for every path in the sysroot first (QEMU_LD_PREFIX), and the sysroot's
# /dev/ptmx is not the host's devpts instance (posix_openpt fails with ENODEV).
rm -rf "$dest/dev"
echo "$key" > "$dest/.complete"
