# Device identity and message digests: machine.unique_id and SHA-256.
import machine
import ubinascii
import uhashlib

uid = ubinascii.hexlify(machine.unique_id()).decode()
print('id length', len(uid))
h = uhashlib.sha256()
h.update(b'hello ')
h.update(b'pycom')
print('sha256', ubinascii.hexlify(h.digest()).decode())
print('one shot', ubinascii.hexlify(uhashlib.sha256(b'').digest())[:16])
