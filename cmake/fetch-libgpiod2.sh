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

# The archive address comes from this machine's own apt sources (deb822 or one-line format): the first
# URI that serves the release's main suite.
archive=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  archive=$(awk -v c="$codename" '
    BEGIN { RS=""; FS="\n" }
    { uri=""; ok=0
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uri=u[1] }
        if ($i ~ /^Suites:/) { n=split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == c) ok=1 }
      }
      if (ok && uri != "") { print uri; exit } }' "$f")
  [ -n "$archive" ] && break
done
if [ -z "$archive" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    archive=$(sed -E 's/\[[^]]*\]//' "$f" | awk -v c="$codename" '$1 == "deb" && $3 == c { print $2; exit }')
    [ -n "$archive" ] && break
  done
fi
if [ -z "$archive" ]; then
  echo "fetch-libgpiod2: no apt source for '$codename' found in /etc/apt/sources.list{,.d}; add one or install libgpiod 2.x and pass -DBOOTRIG_GPIOD_ROOT" >&2
  exit 1
fi

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
state="$dest/apt"
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc/preferences.d" "$state/etc/apt.conf.d"
: > "$state/status"
opt=(-o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/none"
     -o "Dir::Etc::Preferences=$state/none" -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d"
     -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
     -o "Debug::NoLocking=1" -o "APT::Get::List-Cleanup=0" -o "Acquire::Languages=none" -o "APT::Sandbox::User=root")
echo "deb [signed-by=$keyring] $archive $suite main" > "$state/sources.list"
apt-get "${opt[@]}" -qq update
(cd "$state/cache/archives" && apt-get "${opt[@]}" -qq download libgpiod-dev/"$suite" libgpiod3/"$suite" libgpiodcxx1/"$suite" 2>/dev/null \
   || apt-get "${opt[@]}" -qq download libgpiod-dev/"$suite" libgpiod3/"$suite")
rm -rf "$dest/root"
for deb in "$state"/cache/archives/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
[ -f "$dest/root/usr/include/gpiod.hpp" ] || { echo "fetch-libgpiod2: the downloaded packages hold no gpiod.hpp (C++ bindings)" >&2; exit 1; }
touch "$stamp"
