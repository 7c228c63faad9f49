# A data logger: a folder on /flash, appended lines, listing and cleanup.
import os

os.mkdir('/flash/logs')
for day in range(3):
    with open('/flash/logs/day%d.csv' % day, 'w') as f:
        for hour in range(4):
            f.write('%d,%d\n' % (hour, hour * day))
print('files', sorted(os.listdir('/flash/logs')))
with open('/flash/logs/day2.csv', 'a') as f:
    f.write('4,8\n')
with open('/flash/logs/day2.csv') as f:
    lines = f.readlines()
print('lines', len(lines), lines[-1].strip())
print('size', os.stat('/flash/logs/day2.csv')[6])
print('entries', [(name, kind == 0x8000) for name, kind, *_ in os.ilistdir('/flash/logs')][:1])
for name in os.listdir('/flash/logs'):
    os.remove('/flash/logs/' + name)
os.rmdir('/flash/logs')
print('cleaned', 'logs' in os.listdir('/flash'))
