#!/usr/bin/env python3
"""Writes bootrig's man page and its bash and zsh completion from the CLI's own --help (every subcommand)."""
# usage: cli-docs.py OUTDIR VERSION -- COMMAND...   (COMMAND runs bootrig, through qemu-user when cross-built)
# Writes OUTDIR/bootrig.1.gz, OUTDIR/bootrig.bash (bash-completion) and OUTDIR/_bootrig (zsh). Any subcommand
# whose help cannot be read fails the build: a man page missing a command is worse than none.
import gzip
import re
import subprocess
import sys

SECTIONS = ("Positionals:", "Options:", "Subcommands:")


def run(cmd, args):
    out = subprocess.run(cmd + args, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit(f"cli-docs: '{' '.join(['bootrig'] + args)}' exited {out.returncode}: {out.stderr.strip()}")
    return out.stdout


def parse_entries(lines):
    """CLI11's two-column lists: '  NAME  description', a long NAME puts its description on the next line."""
    entries = []
    for line in lines:
        m = re.match(r"^  (\S.*?)(?:\s{2,}(.*))?$", line)
        if m and not line.startswith("   "):
            entries.append([m.group(1).strip(), (m.group(2) or "").strip()])
        elif entries and line.strip():
            entries[-1][1] = (entries[-1][1] + " " + line.strip()).strip()
    return entries


def parse_help(text):
    lines = text.splitlines()
    cmd = {"about": re.sub(r"^bootrig: ", "", lines[0].strip()), "usage": "", "Positionals:": [], "Options:": [], "Subcommands:": [],
           "footer": []}
    section = None
    for line in lines[1:]:
        if line.startswith("Usage:"):
            cmd["usage"] = re.sub(r"^Usage: \S+", "bootrig", line).strip()
            section = None
        elif line.strip() in SECTIONS:
            section = line.strip()
            cmd[section + "raw"] = []
        elif section and (line.startswith(" ") or not line.strip()):
            cmd[section + "raw"].append(line)
        elif line.strip():
            section = None
            cmd["footer"].append(line.strip())
    for s in SECTIONS:
        cmd[s] = parse_entries(cmd.get(s + "raw", []))
    return cmd


def collect(runner, path):
    cmd = parse_help(run(runner, path + ["--help"]))
    cmd["path"] = path
    cmd["children"] = [collect(runner, path + [name]) for name, _ in cmd["Subcommands:"]]
    return cmd


def option_names(spec):
    """'-v,--verbose' -> ['-v', '--verbose']; '--retries INT:INT in [0 - 20]' -> ['--retries']."""
    return [n for n in spec.split(" ", 1)[0].split(",") if n.startswith("-")]


def takes_value(spec):
    return " " in spec and not spec.split(" ", 1)[1].startswith("...")


def man_escape(s):
    return s.replace("\\", "\\e").replace("-", "\\-").replace("'", "\\(aq")


def man_line(s):
    s = man_escape(s)
    return "\\&" + s if s.startswith(".") else s


def man_page(top, version, scenarios):
    out = [f'.TH BOOTRIG 1 "" "bootrig {version}" "User Commands"', ".SH NAME",
           f"bootrig \\- {man_escape(top['about'])}", ".SH SYNOPSIS", f".B {man_escape(top['usage'])}"]
    for cmd in walk(top):
        if not cmd["children"]:
            out += [".PP", f".B {man_escape(cmd['usage'])}"]
    out += [".SH DESCRIPTION", "bootrig " + man_line(top["about"]) + "."]
    for cmd in walk(top):
        title = " ".join(["bootrig"] + cmd["path"])
        out += [".SH " + ("GLOBAL OPTIONS" if not cmd["path"] else "COMMAND " + man_escape(title).upper())]
        if cmd["path"]:
            out += [man_line(cmd["about"]), ".PP", f".B {man_escape(cmd['usage'])}"]
        for section in SECTIONS:
            if section == "Subcommands:" or not cmd[section]:
                continue
            out += [".PP", f".I {section[:-1]}"]
            for spec, text in cmd[section]:
                out += [".TP", f".B {man_escape(spec)}", man_line(text)]
        if cmd["Subcommands:"] and cmd["path"]:
            out += [".PP", "Subcommands: " + ", ".join(man_escape(n) for n, _ in cmd["Subcommands:"]) + "."]
        for line in cmd["footer"]:
            if not line.startswith("Exit codes:"):
                out += [".PP", man_line(line)]
    out += [".SH SCENARIOS"]
    for name, text in scenarios:
        out += [".TP", f".B {man_escape(name)}", man_line(text)]
    exits = next((l for c in walk(top) for l in c["footer"] if l.startswith("Exit codes:")), None)
    if exits:
        out += [".SH EXIT STATUS", man_line(exits[len("Exit codes:"):].strip())]
    out += [".SH FILES", "Rig files are searched in \\-\\-rig, $BOOTRIG_RIG, ./bootrig.toml,",
            "~/.config/bootrig/rig.toml and /etc/bootrig/rig.toml.",
            "Example rigs and firmware images: /usr/share/bootrig/rigs.",
            "Documentation, a udev rule and a systemd unit: /usr/share/doc/bootrig.",
            ".SH SEE ALSO", ".BR picocom (1), " + ".BR mpremote (1)"]
    return "\n".join(out) + "\n"


def walk(cmd):
    yield cmd
    for c in cmd["children"]:
        yield from walk(c)


def words(cmd):
    names = [n for spec, _ in cmd["Options:"] for n in option_names(spec)]
    valued = [n for spec, _ in cmd["Options:"] if takes_value(spec) for n in option_names(spec)]
    return names, valued


def bash_completion(top, scenarios):
    cases = []
    for cmd in walk(top):
        names, valued = words(cmd)
        subs = [n for n, _ in cmd["Subcommands:"]]
        extra = " ".join(n for n, _ in scenarios) if cmd["path"] in (["run"], ["describe"]) else ""
        cases.append(f'    "{" ".join(cmd["path"])}") opts="{" ".join(names)}" valued="{" ".join(valued)}" '
                     f'subs="{" ".join(subs)}" args="{extra}" ;;')
    return f"""# bash completion for bootrig (generated from its --help by cmake/cli-docs.py)
_bootrig() {{
  local cur prev path="" i w opts valued subs args
  cur=${{COMP_WORDS[COMP_CWORD]}}
  prev=${{COMP_WORDS[COMP_CWORD-1]}}
  # The subcommand path so far: words that are subcommands of the path before them.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${{COMP_WORDS[i]}}
    _bootrig_words "$path"
    if [[ " $subs " == *" $w "* ]]; then path="${{path:+$path }}$w"; fi
  done
  _bootrig_words "$path"
  local globals_valued="{' '.join(words(top)[1])}"
  if [[ " $valued $globals_valued " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$subs $args" -- "$cur"))
    [[ -z $subs && -z $args ]] && COMPREPLY=($(compgen -f -- "$cur"))
  fi
}}
_bootrig_words() {{
  case "$1" in
{chr(10).join(cases)}
    *) opts="" valued="" subs="" args="" ;;
  esac
}}
complete -F _bootrig bootrig
"""


def zsh_quote(s):
    return s.replace("'", "'\\''").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def zsh_function(cmd, scenarios):
    fname = "_bootrig" + "".join("_" + p.replace("-", "_") for p in cmd["path"])
    specs = []
    for spec, text in cmd["Options:"]:
        names = option_names(spec)
        value = ":value:_files" if takes_value(spec) else ""
        desc = zsh_quote(text.split(";")[0][:70])
        if len(names) == 1:
            specs.append(f"'{names[0]}[{desc}]{value}'")
        else:
            specs.append(f"'({' '.join(names)})'{{{','.join(names)}}}'[{desc}]{value}'")
    body = [f"{fname}() {{", "  local -a subcmds", "  local curcontext=\"$curcontext\" state line",
            "  typeset -A opt_args"]
    if cmd["Subcommands:"]:
        body.append("  subcmds=(" + " ".join(f"'{n}:{zsh_quote(t[:60])}'" for n, t in cmd["Subcommands:"]) + ")")
        body.append("  _arguments -C " + " ".join(specs) + " '1: :->cmd' '*:: :->args'")
        body += ["  case $state in", "    cmd) _describe -t commands 'bootrig command' subcmds ;;",
                 "    args)", "      case $words[1] in"]
        for c in cmd["children"]:
            body.append(f"        {c['path'][-1]}) _bootrig{''.join('_' + p.replace('-', '_') for p in c['path'])} ;;")
        body += ["      esac ;;", "  esac"]
    else:
        rest = "'*:file:_files'"
        if cmd["path"] in (["run"], ["describe"]):
            rest = "'*:scenario:(" + " ".join(n for n, _ in scenarios) + ")'"
        elif not cmd["Positionals:"]:
            rest = ""
        body.append("  _arguments " + " ".join(specs) + " " + rest)
    body.append("}")
    return "\n".join(body)


def zsh_completion(top, scenarios):
    funcs = [zsh_function(c, scenarios) for c in walk(top)]
    return ("#compdef bootrig\n# zsh completion for bootrig (generated from its --help by cmake/cli-docs.py)\n\n" +
            "\n\n".join(funcs) + "\n\n_bootrig \"$@\"\n")


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: cli-docs.py OUTDIR VERSION -- COMMAND...")
    outdir, version, runner = sys.argv[1], sys.argv[2], sys.argv[4:]
    top = collect(runner, [])
    scenarios = [(m.group(1), m.group(2).strip()) for m in
                 (re.match(r"^(\S+)\s+(.*)$", l) for l in run(runner, ["list"]).splitlines()) if m]
    if not scenarios:
        sys.exit("cli-docs: 'bootrig list' named no scenarios")
    # mtime 0: the same help gives the same bytes.
    with open(f"{outdir}/bootrig.1.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(man_page(top, version, scenarios).encode())
    with open(f"{outdir}/bootrig.bash", "w") as f:
        f.write(bash_completion(top, scenarios))
    with open(f"{outdir}/_bootrig", "w") as f:
        f.write(zsh_completion(top, scenarios))


if __name__ == "__main__":
    main()
