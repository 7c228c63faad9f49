# A sensor driver class with a moving average, as people write for analog sensors.
class MovingAverage:
    def __init__(self, size):
        self.size = size
        self.values = []

    def add(self, v):
        self.values.append(v)
        if len(self.values) > self.size:
            self.values.pop(0)
        return self.mean()

    def mean(self):
        return sum(self.values) // len(self.values)


class FakeSensor:
    def __init__(self, readings):
        self._it = iter(readings)

    def read(self):
        return next(self._it)


avg = MovingAverage(3)
sensor = FakeSensor([100, 110, 130, 90, 95])
for _ in range(5):
    print('avg', avg.add(sensor.read()))
