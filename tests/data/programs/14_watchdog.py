# The watchdog pattern: feed it from the main loop while work goes on.
from machine import WDT
import time

wdt = WDT(timeout=2000)
for step in range(5):
    time.sleep_ms(100)
    wdt.feed()
    print('step', step, 'fed')
print('work done')
wdt.feed()
