# Packing a sensor reading into a LoRa-sized payload with ustruct, and back.
import ustruct
import ubinascii

temperature = -12
humidity = 87
battery_mv = 3712
payload = ustruct.pack('>hBH', temperature, humidity, battery_mv)
print('payload', ubinascii.hexlify(payload), len(payload))
t, h, b = ustruct.unpack('>hBH', payload)
print('decoded', t, h, b)
print('calcsize', ustruct.calcsize('<IHb'))
print('b64', ubinascii.b2a_base64(b'pycom').strip())
