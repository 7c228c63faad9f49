# A settings file on /flash read and updated with ujson, as many projects keep their configuration.
import ujson
import os

CONFIG = '/flash/config.json'
defaults = {'interval': 60}
try:
    with open(CONFIG) as f:
        config = ujson.load(f)
except OSError:
    config = defaults
config['boots'] = config.get('boots', 0) + 1
with open(CONFIG, 'w') as f:
    ujson.dump(config, f)
with open(CONFIG) as f:
    again = ujson.loads(f.read())
print('interval', again['interval'], 'boots', again['boots'])
print('list', ujson.dumps([1, 'two', None, True, 2.5]))
os.remove(CONFIG)
