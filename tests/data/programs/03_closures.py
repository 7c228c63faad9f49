# Closures and counters: callbacks that remember their state.
def make_counter(start=0):
    count = [start]

    def inc(step=1):
        count[0] += step
        return count[0]
    return inc


def multiplier(n):
    return lambda x: x * n


c = make_counter(10)
c()
c(5)
print('counter', c())
double, triple = multiplier(2), multiplier(3)
print('mul', double(21), triple(7), [multiplier(k)(2) for k in range(4)])


def outer():
    x = 'outer'

    def inner():
        nonlocal x
        x = 'changed'
    inner()
    return x


print('nonlocal', outer())
