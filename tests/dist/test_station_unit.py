#!/usr/bin/env python3
"""dist/bootrig-station@.service checked by systemd's own parser (systemd-analyze verify), as an instance."""

# systemd-analyze prints a key it cannot parse as a warning and still exits 0 ("Failed to parse sec value,
# ignoring"), so anything it prints fails the test. --man=no: the man page is installed by the package, not
# here. Debian 12's udevadm has no `verify` (systemd 254 added it), so the udev rule is not checked here.

import os
import shutil
import subprocess
import sys
import tempfile


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    unit = os.path.join(here, "..", "..", "dist", "bootrig-station@.service")
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("systemd-analyze is missing: install Debian's systemd (cmake/install-deps.sh does)")
        return 1
    with tempfile.TemporaryDirectory() as d:
        instance = os.path.join(d, "bootrig-station@UNIT0001.service")
        shutil.copyfile(unit, instance)
        r = subprocess.run([analyze, "verify", "--man=no", instance], capture_output=True, text=True,
                           timeout=120)
        said = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or said:
            print(f"systemd-analyze verify {os.path.basename(instance)}: exit {r.returncode}\n{said}")
            return 1
    # A unit that fails to parse is caught above; the test proves it can catch one.
    with tempfile.TemporaryDirectory() as d:
        broken = os.path.join(d, "bootrig-station@UNIT0002.service")
        with open(unit) as f:
            text = f.read()
        with open(broken, "w") as f:
            f.write(text.replace("RestartSec=10", "RestartSec=ten"))
        r = subprocess.run([analyze, "verify", "--man=no", broken], capture_output=True, text=True, timeout=120)
        if "RestartSec" not in (r.stdout + r.stderr) and "sec value" not in (r.stdout + r.stderr):
            print("systemd-analyze said nothing of a broken RestartSec: the check above would prove nothing")
            return 1
    print("dist/bootrig-station@.service: systemd-analyze verify says nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
