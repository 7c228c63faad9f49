#!/usr/bin/env bash
# Makes sure this machine's kernel runs arm64 and armhf programs through Debian's qemu-user-static (binfmt_misc),
# as its postinst does where systemd-binfmt runs: the tests start `bootrig` as a child process, and mmdebstrap
# runs the target's maintainer scripts in a chroot, so both need the kernel's help, not only a qemu prefix.
#
# usage: cmake/cross/binfmt.sh ARCH...
# Exit: 0 ready; 77 this machine cannot (no binfmt_misc, not root): the caller reports SKIPPED, never passed.
set -euo pipefail
dir=/proc/sys/fs/binfmt_misc
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
if [ ! -f "$dir/register" ]; then
  "${sudo[@]}" mount -t binfmt_misc binfmt_misc "$dir" 2> /dev/null \
    || { echo "binfmt: $dir is not mounted and cannot be (needs root, and a kernel with binfmt_misc)" >&2; exit 77; }
fi
for arch in "$@"; do
  case "$arch" in
    arm64) name=qemu-aarch64 ;;
    armhf) name=qemu-arm ;;
    *) echo "binfmt: architecture '$arch': use arm64 or armhf" >&2; exit 2 ;;
  esac
  [ -f "$dir/$name" ] && grep -q '^enabled' "$dir/$name" && continue
  conf=/usr/lib/binfmt.d/$name.conf
  [ -f "$conf" ] || { echo "binfmt: $conf is missing; install qemu-user-static" >&2; exit 1; }
  # The F flag opens the interpreter now, so that it also works inside chroots that do not hold it.
  grep -v '^#' "$conf" | "${sudo[@]}" tee "$dir/register" > /dev/null \
    || { echo "binfmt: the kernel refused $conf" >&2; exit 77; }
done
