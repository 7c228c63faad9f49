#!/usr/bin/env bash
# Downloads Espressif's esptool 4.7.0 as Debian 13 (trixie) packages it (architecture all, pure Python) into a
# private folder, so the tests can run the real tool against the simulated module. Its Python dependencies
# are Debian 12 packages (cmake/install-deps.sh installs them), except python3-reedsolo, which only espefuse
# needs. The system's apt sources and installed packages are not touched.
#
# usage: cmake/fetch-esptool.sh DEST
# Leaves DEST/root/usr/lib/python3/dist-packages/esptool and DEST/esptool (a launcher) and prints nothing
# else on success. Idempotent.
set -euo pipefail
. "$(dirname "$0")/apt-private.sh"

dest=${1:?usage: fetch-esptool.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
stamp="$dest/.complete"
[ -f "$stamp" ] && exit 0

# The archive that serves this machine's own release serves trixie too.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
archive=$(debian_archive "$codename")
if [ -z "$archive" ]; then
  echo "fetch-esptool: no apt source for '$codename' found in /etc/apt/sources.list{,.d}; add one" >&2
  exit 1
fi

state="$dest/apt"
private_apt_download "$state" "$archive" trixie esptool
rm -rf "$dest/root"
for deb in "$state"/cache/archives/esptool_*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
pkgdir="$dest/root/usr/lib/python3/dist-packages"
[ -f "$pkgdir/esptool/loader.py" ] || { echo "fetch-esptool: the downloaded package holds no esptool/loader.py" >&2; exit 1; }
cat > "$dest/esptool" <<LAUNCHER
#!/bin/sh
# esptool from Debian's $(basename "$state"/cache/archives/esptool_*.deb), unpacked by cmake/fetch-esptool.sh
# Debian's own Python, whose dist-packages hold the dependencies install-deps.sh installed.
PYTHONPATH="$pkgdir\${PYTHONPATH:+:\$PYTHONPATH}" exec /usr/bin/python3 -m esptool "\$@"
LAUNCHER
chmod +x "$dest/esptool"
touch "$stamp"
