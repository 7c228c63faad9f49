# Shared by the fetch-*.sh scripts (sourced, not run): downloads Debian packages through a private apt state,
# verified by apt against the machine's Debian archive keyring, without touching the system's apt sources or
# installed packages. The archive address is never written here: it comes from this machine's apt sources.

# debian_archive CODENAME: prints the first URI of this machine's apt sources (deb822 or one-line format) that
# serves CODENAME's main suite; prints nothing when there is none.
debian_archive() {
  local codename=$1 archive="" f
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
  printf '%s' "$archive"
}

# private_apt STATE LINE: prepares STATE with LINE (a "deb" or "deb-src" line) as its only source and sets the
# array apt_opts; then `apt-get "${apt_opts[@]}" update` and friends use only that source and that state.
private_apt() {
  local state=$1 line=$2
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/etc/preferences.d"
  : > "$state/status"
  apt_opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/none"
            -o "Dir::Etc::Preferences=$state/none" -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d"
            -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status" -o "Dir::Cache=$state/cache"
            -o "Debug::NoLocking=1" -o "APT::Get::List-Cleanup=0" -o "Acquire::Languages=none"
            -o "APT::Sandbox::User=root")
  echo "$line" > "$state/sources.list"
}

# The keyring apt checks every private source against.
apt_private_keyring() {
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || { echo "apt-private: $keyring is missing; install debian-archive-keyring" >&2; return 1; }
  printf '%s' "$keyring"
}

# private_apt_download STATE ARCHIVE SUITE PACKAGE...: downloads the packages (name/suite pinned) into
# STATE/cache/archives, after an `apt-get update` of ARCHIVE SUITE main into STATE. apt checks the suite's
# Release signature against the Debian archive keyring and each .deb against the signed checksums.
private_apt_download() {
  local state=$1 archive=$2 suite=$3; shift 3
  local keyring
  keyring=$(apt_private_keyring) || return 1
  private_apt "$state" "deb [signed-by=$keyring] $archive $suite main"
  apt-get "${apt_opts[@]}" -qq update
  local pins=() p
  for p in "$@"; do pins+=("$p/$suite"); done
  (cd "$state/cache/archives" && apt-get "${apt_opts[@]}" -qq download "${pins[@]}")
}
