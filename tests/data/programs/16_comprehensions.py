# Set and dict comprehensions, sorting with keys, builtins people rely on.
readings = [('kitchen', 21), ('hall', 18), ('attic', 27), ('cellar', 12), ('hall', 19)]
rooms = {name for name, _ in readings}
print('rooms', sorted(rooms))
latest = {name: t for name, t in readings}
print('latest', sorted(latest.items()))
print('warm', [n for n, t in sorted(readings, key=lambda r: r[1]) if t > 20])
print('any cold', any(t < 15 for _, t in readings), 'all positive', all(t > 0 for _, t in readings))
print('map', list(map(lambda r: r[1] * 2, readings[:2])), 'filter', list(filter(None, [0, 1, '', 'x'])))
print('round', round(21.456, 1) == 21.5, round(7.5), 'divmod', divmod(17, 5))
print('minmax', min(readings, key=lambda r: r[1]), max(t for _, t in readings))
