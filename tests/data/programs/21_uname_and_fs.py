# What the module reports about itself and its flash.
import os
import sys

u = os.uname()
print('machine', u.machine)
print('release 1.20', u.release.startswith('1.20'))
print('platform', sys.platform)
print('path', sys.path)
print('cwd', os.getcwd())
print('free KiB > 900', os.getfree('/flash') > 900)
st = os.statvfs('/flash')
print('block size', st[0])
