# Reading the safe-boot button pin and driving an output, with Pycom's Pin API.
from machine import Pin

button = Pin('P12', mode=Pin.IN, pull=Pin.PULL_DOWN)
led = Pin('P9', mode=Pin.OUT)
print('button', button.value(), button())
for level in (1, 0, 1):
    led.value(level)
    print('led', led.value())
led.toggle()
print('toggled', led())
print('id', button.id())
