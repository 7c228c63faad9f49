# Runs the real esptool (Debian's package, unpacked by cmake/fetch-esptool.sh) with a placeholder for its ESP32
# flasher stub, so that esptool's default flow (upload the stub, then speak the stub's protocol) runs against
# bootrig's simulated module. Debian's esptool ships no Xtensa stub (its README.Debian: no Xtensa compiler in
# Debian), so without this the default flow stops at "No such file ... stub_flasher_32.json" on any ESP32; the
# simulator cannot execute Xtensa code anyway and models the stub's protocol after MEM_END (docs/simulator.md).
# Everything else is esptool's own code, unchanged.
import os
import sys

import esptool
import esptool.loader

esptool.loader.STUBS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "esptool_stub")

if __name__ == "__main__":
    esptool._main()
