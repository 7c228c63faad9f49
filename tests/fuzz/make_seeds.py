#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into tests/fuzz/corpus/<target>/ (run once; the seeds are committed).

Usage: tests/fuzz/make_seeds.py BOOTRIG   (the built bootrig binary makes the firmware seeds)
Each seed is a well-formed input in the target's own encoding (fuzz_<target>.cpp), so that the fuzzer starts
from inside the formats, not from random bytes. Crash inputs a fuzzing run finds are added beside them by hand
(named crash-<what>), and the corpus replay (test_fuzz_corpus.cpp) keeps them as regressions.
"""
import gzip, io, os, struct, subprocess, sys, tarfile, tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(root, "tests", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# rig_file: the shipped rigs and a test rig using every table.
for name in sorted(os.listdir(os.path.join(root, "rigs"))):
    if name.endswith(".toml"):
        put("rig_file", name, open(os.path.join(root, "rigs", name), "rb").read())
put("rig_file", "every-table.toml", """[rig]
name = "every table"
kind = "sim"
[serial]
baud = 921600
[timing]
safeboot_recheck_ms = 50
window1_toggle_ms = 250
window2_toggle_ms = 125
final_toggle_ms = 50
final_duration_ms = 750
heartbeat_on_ms = 40
heartbeat_off_ms = 1960
reset_pulse_ms = 50
boot_timeout_ms = 8000
[firmware]
current = { path = "images/fipy-1.20.2.r6.bin" }
[flasher]
command = ["esptool.py", "--port", "{port}", "write_flash", "{offset}", "{image}"]
timeout_ms = 60000
[sim]
board = "GPy"
mac = "24:0a:c4:12:34:56"
flash_id = "0x1640ef"
[sim.faults]
garbage_rate = 0.01
led_stuck = "on"
[sim.timing]
window1_toggle_ms = 250
[sim.wires]
kind = "internal"
""")

# boot_log: the captured logs, each prefixed by nothing (the target cuts pieces itself: a piece-size byte and
# a time byte before each piece), so wrap each log into pieces of 16 bytes.
def pieces(data, size=16):
    out = b""
    for i in range(0, len(data), size):
        chunk = data[i:i + size]
        out += bytes([len(chunk) - 1, 7]) + chunk
    return out

logs = os.path.join(root, "tests", "data", "boot_logs")
for name in sorted(os.listdir(logs)):
    if name.endswith(".log"):
        put("boot_log", name[:-4], pieces(open(os.path.join(logs, name), "rb").read()))

# repl: an operation byte, then the board's answers in pieces (a piece-size byte before each).
def repl_seed(op, answer):
    out = bytes([op])
    for i in range(0, len(answer), 32):
        chunk = answer[i:i + 32]
        out += bytes([len(chunk) - 1]) + chunk
    return out

raw_enter = b"\r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>"
put("repl", "prompt", repl_seed(0, b"\r\nPycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32\r\n>>> "))
put("repl", "exec-raw", repl_seed(1, raw_enter + b"OK1\r\n\x04\x04>"))
put("repl", "exec-raw-traceback", repl_seed(1, raw_enter + b"OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nZeroDivisionError: divide by zero\r\n\x04>"))
put("repl", "exec-friendly", repl_seed(2, b">>> x = 1\r\n>>> "))
put("repl", "soft-reset", repl_seed(3, b">>> \r\nMPY: soft reboot\r\nPycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32\r\n>>> "))
put("repl", "raw-paste", repl_seed(0x84, raw_enter + b"R\x01\x80\x00\x01" + b"\x01" * 4 + b"\x04OK\x04\x04>"))
put("repl", "raw-paste-refused", repl_seed(0x84, raw_enter + b"R\x00" + b"OK\x04\x04>"))
put("repl", "program-lines", repl_seed(6, raw_enter + b"OK2\r\n3\r\n\x04\x04>"))
put("repl", "channel", repl_seed(7, raw_enter + b"OK\x04\x04>" * 4))

# led_decoder: tolerance byte, start-level byte, then edges of (op, u16 ms): op bit 0 rising, bit 1 advance.
def led_seed(halves):
    out = bytes([20, 0])
    rising = True
    for ms in halves:
        out += bytes([1 if rising else 0]) + struct.pack("<H", ms)
        rising = not rising
    return out + bytes([2]) + struct.pack("<H", 5000)

put("led_decoder", "heartbeat", led_seed([3920, 80] * 4))
put("led_decoder", "window1", led_seed([500] * 12))
put("led_decoder", "window2", led_seed([250] * 24))
put("led_decoder", "safe-boot", led_seed([500] * 12 + [250] * 24 + [100] * 15 + [3920, 80] * 3))
put("led_decoder", "error", led_seed([50] * 24))

# rom_protocol: side byte (1: replies to the flasher, 0: requests to the simulated ROM), then pieces.
def slip(packet):
    return b"\xc0" + packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"

def request(op, data, chk=0):
    return struct.pack("<BBHI", 0, op, len(data), chk) + data

def response(op, value, data):
    return struct.pack("<BBHI", 1, op, len(data), value) + data

sync = request(0x08, bytes([7, 7, 0x12, 0x20]) + b"\x55" * 32)
read_reg = request(0x0A, struct.pack("<I", 0x40001000))
attach = request(0x0D, bytes(8))
params = request(0x0B, struct.pack("<IIIIII", 0, 4 << 20, 64 << 10, 4096, 256, 0xFFFF))
begin = request(0x02, struct.pack("<IIII", 4096, 1, 1024, 0x10000))
block = b"\xaa" * 1024
data = request(0x03, struct.pack("<IIII", len(block), 0, 0, 0) + block, 0xEF ^ 0)
md5 = request(0x13, struct.pack("<IIII", 0x10000, 1024, 0, 0))
end = request(0x04, struct.pack("<I", 1))

def host_pieces(frames, side):
    out = bytes([side])
    stream = b"".join(slip(f) for f in frames)
    for i in range(0, len(stream), 100):
        chunk = stream[i:i + 100]
        n = len(chunk) - 1
        # the target SLIP-frames a piece itself when its size byte is odd; keep these even (already framed)
        if n % 2 == 1:
            chunk = chunk[:-1]
            n -= 1
        out += bytes([n]) + chunk
    return out

put("rom_protocol", "flash-session", host_pieces([sync, read_reg, attach, params, begin, data, md5, end], 0))
put("rom_protocol", "sync", host_pieces([sync], 0))
put("rom_protocol", "replies", host_pieces([response(0x08, 0x20120707, b"\x00\x00"),
                                            response(0x0A, 0x00F01D83, b"\x00\x00"),
                                            response(0x13, 0, b"0" * 32 + b"\x00\x00"),
                                            response(0x02, 0, b"\x01\x05")], 1))

# firmware_file: a small valid image, a bundle of it, and a legacy-script bundle, made by bootrig itself.
bootrig = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "dev", "bootrig")
with tempfile.TemporaryDirectory() as tmp:
    img = os.path.join(tmp, "fipy.bin")
    subprocess.run([bootrig, "-q", "image", "make", "--version", "1.20.2.r4", "--board", "FiPy", "--size", "512",
                    "-o", img], check=True)
    put("firmware_file", "app.bin", open(img, "rb").read())
    bundle = os.path.join(tmp, "fipy.tar.gz")
    subprocess.run([bootrig, "-q", "image", "make", "--version", "1.20.2.r4", "--board", "FiPy", "--size", "512",
                    "-o", bundle], check=True)
    put("firmware_file", "bundle.tar.gz", open(bundle, "rb").read())
    raw = gzip.decompress(open(bundle, "rb").read())
    put("firmware_file", "bundle.tar", raw)
    # Only the legacy script and the app: the older bundle layout.
    src = tarfile.open(fileobj=io.BytesIO(raw))
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as dst:
        for m in src.getmembers():
            if m.name in ("script", "fipy.bin"):
                dst.addfile(m, src.extractfile(m))
    put("firmware_file", "legacy-bundle.tar", out.getvalue())
