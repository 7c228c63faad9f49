# Iterator protocol: a class that iterates, iter/next with defaults, enumerate and zip.
class Countdown:
    def __init__(self, start):
        self.n = start

    def __iter__(self):
        return self

    def __next__(self):
        if self.n <= 0:
            raise StopIteration
        self.n -= 1
        return self.n + 1


print('countdown', list(Countdown(4)))
it = iter([1, 2])
print('next', next(it), next(it))
try:
    next(it)
except StopIteration:
    print('exhausted')
for i, (a, b) in enumerate(zip('abc', [1, 2, 3])):
    print('pair', i, a, b)
print('callable', callable(print), callable(42))
print('globals', 'Countdown' in globals())
