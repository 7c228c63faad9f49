# Functions with *args and **kwargs, keyword-only arguments and decorators.
def log_calls(fn):
    def wrapper(*args, **kwargs):
        print('call', fn.__name__, args, sorted(kwargs.items()))
        return fn(*args, **kwargs)
    return wrapper


@log_calls
def configure(name, *pins, speed=115200, **extra):
    return '%s:%d:%d:%d' % (name, len(pins), speed, len(extra))


print(configure('uart1', 'P3', 'P4', speed=9600, parity=None))
print(configure('spi'))
