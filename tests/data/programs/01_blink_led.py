# Traffic light on the RGB LED: the heartbeat off, then a fixed colour sequence.
import pycom
import time

pycom.heartbeat(False)
COLOURS = [('red', 0x7f0000), ('amber', 0x7f7f00), ('green', 0x007f00)]
for name, rgb in COLOURS:
    pycom.rgbled(rgb)
    print('light', name, hex(rgb))
    time.sleep_ms(50)
pycom.rgbled(0)
print('heartbeat', pycom.heartbeat())
