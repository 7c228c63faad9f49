# A boot counter kept in NVS, which survives resets and updates.
import pycom

try:
    pycom.nvs_erase('boots')
except KeyError:
    pass
print('before', pycom.nvs_get('boots', None))
for _ in range(3):
    pycom.nvs_set('boots', pycom.nvs_get('boots', 0) + 1)
print('after', pycom.nvs_get('boots'))
try:
    pycom.nvs_get('never_set')
except ValueError as e:
    print('missing:', e)
pycom.nvs_erase('boots')
