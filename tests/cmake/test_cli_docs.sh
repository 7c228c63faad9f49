#!/usr/bin/env bash
# Tests what cmake/cli-docs.py generated: the man page renders without groff warnings and documents every
# subcommand and option the binary's --help lists; bash completion completes subcommands, options and scenario
# names; the zsh completion parses.
# usage: test_cli_docs.sh BOOTRIG DOCS_DIR
set -euo pipefail
bootrig=$1 docs=$2
fail() { echo "FAIL: $*" >&2; exit 1; }

man=$(zcat "$docs/bootrig.1.gz")
warnings=$(printf '%s\n' "$man" | groff -man -Tutf8 -ww -z 2>&1 || true)
[ -z "$warnings" ] || fail "groff warns about the man page: $warnings"
text=$(printf '%s\n' "$man" | groff -man -Tutf8 -P-cbou 2> /dev/null)

subcommands() { "$bootrig" "$@" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'; }
options() { "$bootrig" "$@" --help | sed -n '/^Options:/,/^$/p' | grep -oE '^  -[^ ]+' | tr ',' '\n' | grep -oE -- '--[a-z0-9-]+'; }
n=0
for sub in $(subcommands); do
  nested=$(subcommands "$sub" || true)
  for path in "$sub" ${nested:+$(for s in $nested; do echo "$sub:$s"; done)}; do
    words=${path//:/ }
    grep -q "bootrig $words \[OPTIONS\]" <<< "$text" || fail "the man page has no synopsis for 'bootrig $words'"
    for opt in $(options $words); do
      grep -qe "$opt" <<< "$text" || fail "the man page does not mention $opt of 'bootrig $words'"
      n=$((n + 1))
    done
  done
done
[ "$n" -gt 20 ] || fail "only $n options found in the CLI's help: the help format changed?"

complete_words() {  # words... -> what bash completion offers for the last one
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bootrig; echo "${COMPREPLY[*]}"' \
    sh "$docs/bootrig.bash" "$@"
}
[ "$(complete_words bootrig ru)" = run ] || fail "bash: 'bootrig ru<TAB>' gives '$(complete_words bootrig ru)'"
[ "$(complete_words bootrig --rig x.toml ima)" = image ] || fail "bash: an option's value is taken for a subcommand"
[ "$(complete_words bootrig image m)" = make ] || fail "bash: nested subcommands"
[ "$(complete_words bootrig run --retr)" = --retries ] || fail "bash: subcommand options"
[ "$(complete_words bootrig describe normal-b)" = normal-boot ] || fail "bash: scenario names"
command -v zsh > /dev/null || fail "zsh is not installed (cmake/install-deps.sh installs it): _bootrig cannot be checked"
zsh -n "$docs/_bootrig" || fail "zsh cannot parse _bootrig"
echo "man page: $n options of every subcommand documented; bash completion works"
