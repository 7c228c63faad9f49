#!/usr/bin/env bash
# Downloads libgpiod 2.x (bookworm-backports) into a private folder so the v2 driver can be built and tested
# without touching the system's apt sources or installed packages.
#
# usage: cmake/fetch-libgpiod2.sh DEST
# Leaves DEST/root/usr/{include,lib/...} and prints nothing else on success. Idempotent.
set -euo pipefail

dest=${1:?usage: fetch-libgpiod2.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
stamp="$dest/.complete"
[ -f "$stamp" ] && exit 0

# On Debian 13 (trixie) and later, libgpiod 2.x is the distribution's own version: take it from there.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
suite="$codename-backports"
case "$codename" in bookworm) ;; *) suite="$codename" ;; esac

# The archive address comes from this machine's own apt sources: the URI that serves the release's main suite.
. "$(dirname "$0")/private-apt.sh"
archive=$(debian_archive "$codename") || { echo "fetch-libgpiod2: cannot name the archive; or install libgpiod 2.x and pass -DBOOTRIG_GPIOD_ROOT" >&2; exit 1; }

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
state="$dest/apt"
private_apt "$state" "deb [signed-by=$keyring] $archive $suite main"
apt-get "${apt_opts[@]}" -qq update
(cd "$state/cache/archives" && apt-get "${apt_opts[@]}" -qq download libgpiod-dev/"$suite" libgpiod3/"$suite" libgpiodcxx1/"$suite" 2>/dev/null \
   || apt-get "${apt_opts[@]}" -qq download libgpiod-dev/"$suite" libgpiod3/"$suite")
rm -rf "$dest/root"
for deb in "$state"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
[ -f "$dest/root/usr/include/gpiod.hpp" ] || { echo "fetch-libgpiod2: the downloaded packages hold no gpiod.hpp (C++ bindings)" >&2; exit 1; }
touch "$stamp"
