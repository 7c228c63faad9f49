# Error handling as robust main.py files do it: custom exceptions, finally, re-raise.
import sys


class SensorError(Exception):
    pass


def read(channel):
    if channel == 3:
        raise SensorError('channel %d not connected' % channel)
    if channel == 4:
        return 1 // 0
    return channel * 10


for ch in range(6):
    try:
        print('read', ch, read(ch))
    except SensorError as e:
        print('sensor error:', e)
    except ZeroDivisionError as e:
        print('math error:', e)
    finally:
        pass

try:
    undefined_function()
except NameError as e:
    print('caught', type(e).__name__, e)

try:
    raise ValueError('bad value', 42)
except ValueError as e:
    print('args', e.args)
    sys.print_exception(e)
