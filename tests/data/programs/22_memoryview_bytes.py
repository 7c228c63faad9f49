# Buffers: a bytearray ring buffer, memoryview slices, bytes methods.
buf = bytearray(8)
mv = memoryview(buf)
for i in range(12):
    buf[i % 8] = i
print('ring', list(buf))
mv[0:2] = b'\xff\xfe'
print('head', bytes(mv[:4]))
data = b'temp=21;hum=40'
print('fields', [f.split(b'=') for f in data.split(b';')])
print('decode', data.decode().upper(), data.find(b'hum'), '%02x' % 171)
