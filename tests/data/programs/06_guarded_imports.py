# Code shared between boards: modules of other MicroPython ports imported under guard, with fallbacks.
try:
    import esp32
    HAVE_ESP32 = True
except ImportError:
    HAVE_ESP32 = False

try:
    import neopixel
except ImportError as e:
    neopixel = None
    print('no neopixel:', e)

try:
    from micropython import const
except ImportError:
    def const(x):
        return x

LIMIT = const(5)
print('esp32 module', HAVE_ESP32, 'neopixel', neopixel, 'limit', LIMIT)
