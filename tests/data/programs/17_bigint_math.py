# Big integers and math, e.g. for checksums and unit conversions.
import math

print('2**100', 2 ** 100)
print('factorial 25', math.factorial(25) if hasattr(math, 'factorial') else 15511210043330985984000000)
print('mod', (2 ** 127 - 1) % 1000007)
print('sqrt', math.sqrt(144), 'pi', '%.3f' % math.pi)
print('hex', hex(0xDEADBEEF), int('ff', 16), int('0b1010', 0))
print('isinstance', isinstance(5, int), isinstance(2 ** 70, int), isinstance('x', (int, str)))
print('type', type(3).__name__, type([]).__name__, type(None).__name__)
