# A periodic Timer.Alarm counting ticks while the main loop sleeps.
from machine import Timer
import time


class Clock:
    def __init__(self):
        self.ticks = 0
        self.alarm = Timer.Alarm(self._tick, ms=100, periodic=True)

    def _tick(self, alarm):
        self.ticks += 1


clock = Clock()
while clock.ticks < 3:
    time.sleep_ms(20)
clock.alarm.cancel()
print('ticks', clock.ticks)
chrono = Timer.Chrono()
chrono.start()
time.sleep_ms(50)
chrono.stop()
print('chrono ran', chrono.read_ms() >= 50)
