#!/usr/bin/env bash
# Downloads MicroPython's C sources (Debian 13 "trixie" source package micropython 1.25.0+ds) into a private
# folder of the build tree, checksum-verified, for the simulated module's interpreter. Nothing is installed and
# the system's apt sources are not changed; the sources are never committed.
#
# usage: cmake/fetch-micropython.sh DEST
# Leaves DEST/micropython-1.25.0 (py/, extmod/, shared/, lib/, ports/embed, tools/pyboard.py, tools/mpremote)
# and prints nothing else on success. Idempotent.
set -euo pipefail

dest=${1:?usage: fetch-micropython.sh DEST}
orig=micropython_1.25.0+ds.orig.tar.xz
sha256=7b25be99a502f070b2de81dafc08da7051d992325d6e67daa9045a918fffdbea
tree=micropython-1.25.0
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
stamp="$dest/.complete"
[ -f "$stamp" ] && [ -d "$dest/$tree/py" ] && exit 0

. "$(dirname "$0")/apt-private.sh"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
archive=$(debian_archive "$codename")
if [ -z "$archive" ]; then
  echo "fetch-micropython: no apt source for '$codename' found in /etc/apt/sources.list{,.d}: add one (the Debian archive)" >&2
  exit 1
fi

if ! echo "$sha256  $dest/$orig" | sha256sum --check --status 2>/dev/null; then
  keyring=$(apt_private_keyring)
  state="$dest/apt"
  private_apt "$state" "deb-src [signed-by=$keyring] $archive trixie main"
  apt-get "${apt_opts[@]}" -qq update
  # apt checks the signed index and the .dsc's hashes; the pinned checksum below makes it this exact release.
  (cd "$dest" && apt-get "${apt_opts[@]}" -qq --download-only source micropython/trixie >/dev/null)
  rm -rf "$state"
  if ! echo "$sha256  $dest/$orig" | sha256sum --check --status; then
    echo "fetch-micropython: $dest/$orig is missing or its SHA-256 is not $sha256 (trixie's micropython 1.25.0+ds)" >&2
    exit 1
  fi
fi
rm -rf "${dest:?}/$tree"
tar -xJf "$dest/$orig" -C "$dest"
[ -f "$dest/$tree/ports/embed/embed.mk" ] && [ -f "$dest/$tree/tools/pyboard.py" ] \
  || { echo "fetch-micropython: $orig holds no ports/embed or tools/pyboard.py" >&2; exit 1; }
touch "$stamp"
