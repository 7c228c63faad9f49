# Sourced by the fetch scripts: a private apt configuration (own state, lists and cache under a folder) on the
# archive this machine's own apt sources name, so that packages of another Debian release can be downloaded
# without touching the system's sources or installed packages. No archive host is written here.
#
#   debian_archive CODENAME   prints the first URI of the machine's apt sources that serves CODENAME (deb822 or
#                             one-line format); fails with a message when there is none
#   private_apt STATE LINE    prepares STATE with LINE as its only source and sets the array apt_opts;
#                             then `apt-get "${apt_opts[@]}" update` and friends use only that source

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
  if [ -z "$archive" ]; then
    echo "no apt source for '$codename' found in /etc/apt/sources.list{,.d}: add one (the Debian archive)" >&2
    return 1
  fi
  echo "$archive"
}

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
