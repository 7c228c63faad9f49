#!/usr/bin/python3
"""Checks a bootrig run folder with the real readers: results.json against docs/results.schema.json
(python3-jsonschema), junit.xml with python3-junitparser, report.html as XML (one diagram per attempt, the right
lanes), each attempt's serial.txt and signals.vcd (read back by sigrok-cli with --sigrok, edges matched against
events.jsonl), and with --render report.html in headless Chromium (dump-dom and a screenshot that is not blank).
Prints what it checked; exits 1 naming the first thing wrong. Debian's /usr/bin/python3 (its packages)."""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

LANES = ["P12", "RESET", "P2", "LED", "serial", "bootrig"]
SVG = "{http://www.w3.org/2000/svg}"


class Bad(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Bad(what)


def attempts_of(results):
    for s in results["scenarios"]:
        for k, a in enumerate(s["attempts"], 1):
            yield s, k, a


def check_schema(run, schema_path):
    import jsonschema
    with open(os.path.join(run, "results.json"), encoding="utf-8") as f:
        results = json.load(f)
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(results), key=lambda e: list(e.path))
    need(not errors, "results.json does not match the schema: " +
         "; ".join("%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:5]))
    return results


def check_junit(run, results):
    from junitparser import JUnitXml, Failure, Error, Skipped, Properties
    xml = JUnitXml.fromfile(os.path.join(run, "junit.xml"))
    suites = list(xml) if hasattr(xml, "__iter__") else [xml]
    cases = [c for s in suites for c in s]
    t = results["totals"]
    need(len(cases) == len(results["scenarios"]), "junit.xml: %d cases for %d scenarios" % (len(cases), len(results["scenarios"])))
    need(xml.failures == t["FAIL"] + t["FLAKY"], "junit.xml failures %s, results.json FAIL+FLAKY %d" % (xml.failures, t["FAIL"] + t["FLAKY"]))
    need(xml.errors == t["ERROR"], "junit.xml errors %s, results.json ERROR %d" % (xml.errors, t["ERROR"]))
    need(xml.skipped == t["SKIP"] + t["NOT RUN"], "junit.xml skipped %s" % xml.skipped)
    for case, s in zip(cases, results["scenarios"]):
        need(case.name == s["name"], "junit.xml case %s where results.json has %s" % (case.name, s["name"]))
        kinds = [type(r) for r in case.result]
        last = s["attempts"][-1] if s["attempts"] else None
        if s["outcome"] == "FAIL":
            need(Failure in kinds, "%s: FAIL without <failure>" % s["name"])
            msg = [r for r in case.result if isinstance(r, Failure)][0].message
            need(msg == last["message"], "%s: failure message %r, results.json %r" % (s["name"], msg, last["message"]))
        if s["outcome"] == "ERROR":
            need(Error in kinds, "%s: ERROR without <error>" % s["name"])
        if s["outcome"] in ("SKIP", "NOT RUN"):
            need(Skipped in kinds, "%s: %s without <skipped>" % (s["name"], s["outcome"]))
        if s["outcome"] == "PASS":
            need(not kinds, "%s: PASS with %s" % (s["name"], kinds))
        found = case.child(Properties)
        props = {p.name: p.value for p in found} if found is not None else {}
        for m in (last["measurements"] if last else []):
            key = "measurement " + m["name"]
            need(key in props, "%s: no property %r in junit.xml" % (s["name"], key))
            need(re.match(r"^-?[0-9.e+-]+ ", props[key]) and float(props[key].split()[0]) == float("%g" % m["value"]),
                 "%s: property %r = %r, value %r" % (s["name"], key, props[key], m["value"]))
        out = case.system_out or ""
        need(s["attempts"] == [] or "attempt %d: %s" % (len(s["attempts"]), last["outcome"]) in out,
             "%s: system-out does not tell the last attempt: %r" % (s["name"], out[:200]))
        if last and last["message"]:
            need(last["message"] in out, "%s: system-out lacks the message" % s["name"])


def check_report_xml(run, results):
    path = os.path.join(run, "report.html")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    need(not re.search(r'(src|href)="(https?:)?//', text), "report.html refers to something on the network")
    root = ET.fromstring(text.split("\n", 1)[1])  # after <!DOCTYPE html>
    figures = [e for e in root.iter("figure") if e.get("class") == "attempt"]
    expected = [(s["name"], k, a["outcome"]) for s, k, a in attempts_of(results)]
    got = [(f.get("data-scenario"), int(f.get("data-attempt")), f.get("data-outcome")) for f in figures]
    need(got == expected, "report.html diagrams %s, results.json attempts %s" % (got, expected))
    for f in figures:
        svgs = list(f.iter(SVG + "svg"))
        need(len(svgs) == 1, "report.html: %d svg in %s" % (len(svgs), f.get("data-scenario")))
        lanes = [g.get("data-lane") for g in svgs[0].iter(SVG + "g") if g.get("class") == "lane"]
        need(lanes == LANES, "report.html: lanes %s in %s attempt %s" % (lanes, f.get("data-scenario"), f.get("data-attempt")))
    return len(figures)


def vcd_changes(text):
    """signal name -> [(time, value)] from a VCD (wire signals only)."""
    ids, out, t = {}, {}, None
    body = text.split("$enddefinitions $end", 1)
    for m in re.finditer(r"\$var\s+(\w+)\s+\d+\s+(\S+)\s+(\S+)\s+\$end", body[0]):
        if m.group(1) == "wire":
            ids[m.group(2)] = m.group(3)
    for tok in body[1].split():
        if tok.startswith("#"):
            t = int(tok[1:])
        elif tok[0] in "01xz" and tok[1:] in ids:
            out.setdefault(ids[tok[1:]], []).append((t, tok[0]))
    return out


def edges(changes):
    """[(time, new level)] where a level changes."""
    res, prev = [], None
    for t, v in changes:
        if v != prev and prev is not None:
            res.append((t, v))
        prev = v
    return res


def check_vcd_with_sigrok(attempt_dir):
    events = [json.loads(l) for l in open(os.path.join(attempt_dir, "events.jsonl"), encoding="utf-8") if l.strip()]
    first_us = min(e["t"] for e in events) // 1000
    ours = open(os.path.join(attempt_dir, "signals.vcd"), encoding="utf-8").read()
    need("$var string 1 ( rx_line $end" in ours, "signals.vcd has no rx_line string signal")
    # sigrok-cli reads it back (its VCD input skips the string signals) and writes VCD of its own, at 1 MHz.
    p = subprocess.run(["sigrok-cli", "-I", "vcd", "-i", os.path.join(attempt_dir, "signals.vcd"), "-O", "vcd"],
                       capture_output=True, text=True, timeout=120)
    need(p.returncode == 0, "sigrok-cli failed on %s: %s" % (attempt_dir, p.stderr[-500:]))
    back = vcd_changes(p.stdout)
    for name in ("p12", "reset", "p2", "led", "rx_busy", "tx_busy"):
        need(name in back, "sigrok-cli read no %s channel from %s" % (name, attempt_dir))
    # sigrok's time 0 is the dump's first timestamp, the earliest event.
    lines = {"safeboot": "p12", "reset": "reset", "bootloader": "p2"}
    expected = {}
    for e in events:
        if e["kind"] == "output" and e["line"] in lines:
            expected.setdefault(lines[e["line"]], []).append((e["t"] // 1000 - first_us, str(e["level"])))
        if e["kind"] == "led_edge":
            expected.setdefault("led", []).append((e["t"] // 1000 - first_us, "1" if e["edge"] == "rising" else "0"))
    # The levels the dump starts from: lines released, the LED before its first edge.
    level = {"p12": "0", "reset": "0", "p2": "0", "led": None}
    checked = 0
    for name, want in expected.items():
        real, now_level = [], level[name] if level[name] is not None else ("0" if want[0][1] == "1" else "1")
        for t, v in want:
            if v != now_level:  # setting a line to the level it has is no edge
                real.append((t, v))
            now_level = v
        got = edges(back[name])
        need(got == real, "%s in %s: sigrok-cli edges %s, events.jsonl %s" % (name, attempt_dir, got[:6], real[:6]))
        checked += len(real)
    n_rx = sum(1 for e in events if e["kind"] == "serial" and e["dir"] == "rx")
    need(n_rx == 0 or any(v == "1" for _, v in back["rx_busy"]), "no rx activity in %s" % attempt_dir)
    return checked


def check_attempt_files(run, results, sigrok):
    edges_checked = 0
    for s, k, a in attempts_of(results):
        d = os.path.join(run, s["folder"], "attempt-%d" % k)
        if not os.path.exists(os.path.join(d, "events.jsonl")):
            continue
        st = open(os.path.join(d, "serial.txt"), encoding="utf-8").read().splitlines()
        need(st and st[0].startswith("#"), "serial.txt in %s has no header" % d)
        for line in st[1:]:
            need(re.match(r"^ *-?[0-9]+\.[0-9]{3} (rx|tx)  ", line), "serial.txt line %r in %s" % (line, d))
            need(not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line), "serial.txt keeps a control byte: %r" % line)
        need(os.path.exists(os.path.join(d, "serial.log")), "the raw serial.log is gone in %s" % d)
        if sigrok:
            edges_checked += check_vcd_with_sigrok(d)
        else:
            need(open(os.path.join(d, "signals.vcd"), encoding="utf-8").read().startswith("$version"), "signals.vcd in %s" % d)
    return edges_checked


def chromium(args, timeout=180):
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout)


def check_render(run, results):
    from PIL import Image
    url = "file://" + os.path.abspath(os.path.join(run, "report.html"))
    with tempfile.TemporaryDirectory() as tmp:
        # Phone width: diagrams scroll sideways, text stays readable.
        png = os.path.join(tmp, "phone.png")
        p = chromium(["--user-data-dir=" + tmp + "/profile", "--window-size=390,2400", "--screenshot=" + png,
                      "--dump-dom", url])
        need(p.returncode == 0 and os.path.exists(png), "chromium failed: " + p.stderr[-800:])
        dom = p.stdout
        img = Image.open(png).convert("RGB")
        if os.environ.get("BOOTRIG_KEEP_SCREENSHOT"):
            shutil.copy(png, os.environ["BOOTRIG_KEEP_SCREENSHOT"])
    need(dom.count('class="attempt"') == sum(1 for _ in attempts_of(results)),
         "chromium's DOM has %d diagrams" % dom.count('class="attempt"'))
    for lane in LANES:
        need(dom.count('data-lane="%s"' % lane) == sum(1 for _ in attempts_of(results)), "chromium's DOM: lane %s" % lane)
    colours = img.getcolors(maxcolors=1 << 16)
    need(colours is None or len(colours) > 20, "the screenshot is blank (%s colours)" % (colours and len(colours)))
    w, h = img.size
    dark = sum(1 for x in range(0, w, 3) for y in range(0, h // 2, 3) if sum(img.getpixel((x, y))) < 200)
    need(dark > 200, "the screenshot shows almost no text (%d dark samples)" % dark)
    return w, h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--sigrok", action="store_true")
    ap.add_argument("--render", action="store_true")
    o = ap.parse_args()
    try:
        results = check_schema(o.run, o.schema)
        check_junit(o.run, results)
        n = check_report_xml(o.run, results)
        e = check_attempt_files(o.run, results, o.sigrok)
        msg = "ok: schema, junit, %d diagrams" % n
        if o.sigrok:
            msg += ", %d edges read back by sigrok-cli" % e
        if o.render:
            msg += ", rendered %dx%d" % check_render(o.run, results)
        print(msg)
    except Bad as b:
        print("check_run_folder %s: %s" % (o.run, b))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
