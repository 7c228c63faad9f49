# Generators as a data pipeline: samples, filtering, batching.
def samples(n):
    for i in range(n):
        yield (i * 37) % 100


def above(limit, it):
    for v in it:
        if v > limit:
            yield v


def batches(it, size):
    batch = []
    for v in it:
        batch.append(v)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


for b in batches(above(40, samples(20)), 4):
    print('batch', b)
gen = (x * x for x in range(5))
print('sum of squares', sum(gen))
