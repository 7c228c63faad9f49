#!/usr/bin/env bash
# Downloads libgpiod 2.x (bookworm-backports) into a private folder so the v2 driver can be built and tested
# without touching the system's apt sources or installed packages.
#
# usage: cmake/fetch-libgpiod2.sh DEST
# Leaves DEST/root/usr/{include,lib/...} and prints nothing else on success. Idempotent.
set -euo pipefail
. "$(dirname "$0")/apt-private.sh"

dest=${1:?usage: fetch-libgpiod2.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
stamp="$dest/.complete"
[ -f "$stamp" ] && exit 0

# On Debian 13 (trixie) and later, libgpiod 2.x is the distribution's own version: take it from there.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
suite="$codename-backports"
case "$codename" in bookworm) ;; *) suite="$codename" ;; esac

archive=$(debian_archive "$codename")
if [ -z "$archive" ]; then
  echo "fetch-libgpiod2: no apt source for '$codename' found in /etc/apt/sources.list{,.d}; add one or install libgpiod 2.x and pass -DBOOTRIG_GPIOD_ROOT" >&2
  exit 1
fi

state="$dest/apt"
private_apt_download "$state" "$archive" "$suite" libgpiod-dev libgpiod3 libgpiodcxx1 2>/dev/null \
  || private_apt_download "$state" "$archive" "$suite" libgpiod-dev libgpiod3
rm -rf "$dest/root"
for deb in "$state"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
[ -f "$dest/root/usr/include/gpiod.hpp" ] || { echo "fetch-libgpiod2: the downloaded packages hold no gpiod.hpp (C++ bindings)" >&2; exit 1; }
touch "$stamp"
