#!/usr/bin/env bash
# Installs a bootrig Debian package into a clean chroot of its architecture and runs it there: `bootrig
# --version`, then `bootrig run normal-boot` on the built-in simulated module. apt resolves the package's
# Depends from Debian 12's archive (the machine's own apt source) into a root that holds nothing else, so a
# dependency the package forgets to name is a library the loader cannot find. Foreign architectures run through
# qemu-user (cmake/cross/binfmt.sh).
#
# A package built against libgpiod 2.x depends on libgpiod3, which bookworm has only in its backports (apt takes a
# dependency from there only when main has none), as a Pi user of bookworm would add them.
# usage: cmake/cross/install-test.sh DEB WORKDIR
#   The chroot is made under WORKDIR and removed afterwards.
# The chroot is mmdebstrap's `extract` variant: the package and its dependency closure unpacked by dpkg-deb,
# no maintainer scripts (bootrig has none, and its dependencies are shared libraries whose scripts only run
# ldconfig; running the essential set's scripts under qemu costs minutes per architecture).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../apt-private.sh"
deb=$(realpath "${1:?usage: install-test.sh DEB WORKDIR}")
work=${2:?usage: install-test.sh DEB WORKDIR}
arch=$(dpkg-deb -f "$deb" Architecture)
archive=$(debian_archive bookworm)
[ -n "$archive" ] || { echo "install-test: no apt source for 'bookworm' in /etc/apt/sources.list{,.d}" >&2; exit 1; }
keyring=$(apt_private_keyring)

mkdir -p "$work"
root="$work/chroot-$arch"
rm -rf "$root"
cleanup() { rm -rf "$root"; }
trap cleanup EXIT
say() { echo "install-test ($arch): $*"; }

say "Depends: $(dpkg-deb -f "$deb" Depends)"
# apt reads the local package at the same path inside the new root: the setup hook copies it there, the
# extract hook removes it again.
mmdebstrap --quiet --variant=extract --architectures="$arch" --include="$deb" \
  --setup-hook='mkdir -p "$1/'"$(dirname "$deb")"'" && cp "'"$deb"'" "$1/'"$deb"'"' \
  --extract-hook='rm -f "$1/'"$deb"'"' bookworm "$root" \
  "deb [signed-by=$keyring] $archive bookworm main" \
  "deb [signed-by=$keyring] $archive bookworm-backports main"
# ld.so.cache for the new root, as the libraries' triggers would have made it (the host's ldconfig reads any
# architecture's ELF files).
ldconfig -r "$root" 2> /dev/null || true
[ -x "$root/usr/bin/bootrig" ] || { say "FAIL: the package put no /usr/bin/bootrig"; exit 1; }
for f in usr/share/man/man1/bootrig.1.gz usr/share/bash-completion/completions/bootrig \
  usr/share/zsh/vendor-completions/_bootrig usr/share/bootrig/rigs/sim.toml usr/share/doc/bootrig/README.md \
  usr/share/doc/bootrig/examples/99-bootrig.rules; do
  [ -f "$root/$f" ] || { say "FAIL: /$f is missing from the package"; exit 1; }
done

# The run needs /dev (its pty) and /proc; a private mount namespace drops the mounts with the process,
# whatever happens. The root holds no shell and no coreutils (nothing bootrig does not depend on): bootrig is
# started directly, with a clean environment.
run_in_chroot() {
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp/run unshare --mount --fork sh -c '
    root=$1; shift
    mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" || exit 2
    exec chroot "$root" "$@"' sh "$root" "$@"
}
mkdir -p "$root/dev" "$root/proc" "$root/tmp/run"
version=$(run_in_chroot /usr/bin/bootrig --version) || { say "FAIL: bootrig --version exited $?"; exit 1; }
say "bootrig --version: $version"
t0=$SECONDS
if ! run_in_chroot /usr/bin/bootrig run --no-progress --out /tmp/run/out normal-boot > "$work/normal-boot-$arch.log" 2>&1; then
  cat "$work/normal-boot-$arch.log"
  say "FAIL: bootrig run normal-boot (above)"
  exit 1
fi
# Result lines: "[hh:mm:ss.mmm] PASS   normal-boot   6.8 s" without a terminal.
grep -E '(^|\] )(PASS|FAIL|ERROR|SKIP|FLAKY) ' "$work/normal-boot-$arch.log" | sed "s/^/install-test ($arch): /"
grep -qE '(^|\] )PASS +normal-boot ' "$work/normal-boot-$arch.log" || { say "FAIL: no PASS line for normal-boot"; exit 1; }
say "PASS: installed, --version and normal-boot ($((SECONDS - t0)) s) in a clean $arch root"
