# Parsing AT-style modem responses with ure.
import ure

LINE = ure.compile(r'\+CSQ: (\d+),(\d+)')
for response in ['+CSQ: 17,99', 'ERROR', '+CSQ: 31,0']:
    m = LINE.match(response)
    if m:
        print('signal', int(m.group(1)), 'ber', int(m.group(2)))
    else:
        print('no match', response)
print('split', ure.compile(',').split('a,b,,c'))
