#!/bin/sh
# drumclass.t: the roland and gm maps pitch by pitch, the sample map files,
# map-file syntax and its errors, unmapped/ignored pitches, --strict, failure
# cases; with $GMD, real files through --strict. Tests are Python inside sh.
PYTHONPATH="$(dirname "$0")/lib" exec /usr/bin/python3 - "$@" <<'PYEOF'
# harness (TAP, tool runner, MessagePack, hand-made records): tests/lib
import os, re, struct, subprocess, sys
from drumvae_test import *
ROOT = os.environ.get('DRUMVAE_ROOT') or os.getcwd()
MAPS = os.path.join(ROOT, 'samples', 'maps')
ROLAND = {36: 0, 38: 1, 37: 1, 40: 1, 42: 2, 22: 2, 44: 2, 46: 3, 26: 3, 43: 4, 58: 4,
          47: 5, 45: 5, 50: 6, 48: 6, 49: 7, 52: 7, 55: 7, 57: 7, 51: 8, 53: 8, 59: 8}
GM = {}
for c, ps in enumerate([[36, 35], [38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85],
                        [42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22], [46, 67, 72, 74, 79, 81, 26],
                        [45, 29, 41, 43, 61, 64, 84], [48, 47, 60, 63, 77, 86, 87], [50, 30, 62, 76, 83],
                        [49, 52, 55, 57, 58], [51, 53, 59, 82]]):
    for p in ps: GM[p] = c

def grid_of(pitches, id='k'):
    """a grid record (via quantize) with one note of each pitch, 0.25 s apart"""
    rec = notes_rec(id, [(0.25 * i, 0.25 * i + 0.1, p, 100) for i, p in enumerate(pitches)], split='train')
    st, out, err = run(['quantize'], pack(rec))
    assert st == 0, err
    return out

def classes(args, inp):
    st, out, err = run(['drumclass'] + args, inp)
    g = records(out)
    if st or len(g) != 1:
        return st, None, err, None
    return st, dict(zip(g[0]['pitch'], g[0]['class'])), err, g[0]

def check_map(args, want, desc):
    ps = sorted(want)
    st, got, err, g = classes(args, grid_of(ps))
    bad = ['pitch %d: class %s, want %d' % (p, got.get(p) if got else None, want[p])
           for p in ps if not got or got.get(p) != want[p]]
    ok(st == 0 and not bad and g['n'] == len(ps), desc, '\n'.join(bad) + '\nexit %d %s' % (st, err))
    return g

# 1-4: built-in maps and their files in samples/maps
g = check_map([], ROLAND, 'default map roland: all 22 GMD pitches to REFERENCE classes')
ok(g and g['map'] == 'roland' and g['kind'] == 'grid' and g['split'] == 'train' and
   unbin('i', g['step'])[:3] == [0, 2, 4], 'map key, metadata and steps carried through', g and g.get('map'))
check_map(['--map', 'gm'], GM, '--map gm: all 61 GM pitches to the reduced classes')
check_map(['--map', os.path.join(MAPS, 'roland-td11.map')], ROLAND, 'samples/maps/roland-td11.map equals the built-in roland')
check_map(['--map', os.path.join(MAPS, 'gm.map')], GM, 'samples/maps/gm.map equals the built-in gm')
ez = dict(GM); ez.update({42: 2, 22: 2, 44: 2, 60: 2, 62: 2, 46: 3, 26: 3, 24: 3, 25: 3, 61: 3, 63: 3,
                          38: 1, 40: 1, 37: 1, 39: 1, 43: 4, 41: 4, 47: 5, 45: 5, 50: 6, 48: 6})
check_map(['--map', os.path.join(MAPS, 'ezdrummer-ish.map')], ez, 'ezdrummer-ish.map: base gm, pitches moved')

# 5: unmapped and ignored pitches
inp = grid_of([36, 60, 38, 60, 61])
st, got, err, g = classes([], inp)
ok(st == 0 and g and list(g['pitch']) == [36, 38] and g['n'] == 2 and
   re.search(r'3 notes dropped, pitches not in drum map roland: 60 \(2\), 61 \(1\)', err),
   'unmapped pitches are dropped and counted per pitch on stderr', 'exit %d %s' % (st, err))
fails('--strict rejects a record with an unmapped pitch', ['drumclass', '--strict'], inp, 1,
      r'record 0 \(k\): "pitch": note 1: pitch 60 is not in drum map roland')
mapf = os.path.join(TMP, 'my.map')
open(mapf, 'w').write('# my kit\nkick: 36\nsnare: 38   # center\n\n1: 40\nignore: 60 61\n')
st, got, err, g = classes(['--strict', '--map', mapf], inp)
ok(st == 0 and g and list(g['class']) == [0, 1] and g['map'] == mapf and
   re.search(r'3 notes of ignored pitches dropped', err),
   'a map file: names, class numbers, comments, "ignore:" passes --strict', 'exit %d %s' % (st, err))
open(mapf, 'w').write('snare: 40 38\nkick: 36\n')
st, out, err = run(['quantize'], pack(notes_rec('o', [(0.0, 0.1, 40, 90)])))
st, got, err, g = classes(['--map', mapf], out)
ok(st == 0 and got == {40: 1}, 'map file with a class out of order', err)

# 6: bad map files: exit 2 with FILE:LINE
for text, pat, what in (('kick 36\n', r':1: expected "CLASS: PITCH', 'no colon'),
                        ('kick: 36\nbell: 56\n', r':2: unknown class "bell"', 'unknown class'),
                        ('kick: 36 128\n', r':1: "128" is not a MIDI pitch', 'pitch 128'),
                        ('kick: 36\nsnare: 36\n', r':2: pitch 36 is already listed on line 1', 'duplicate pitch'),
                        ('kick: 36\nbase gm\n', r':2: "base" must come before', 'base after classes'),
                        ('base yamaha\n', r':1: "base" takes one name', 'unknown base'),
                        ('kick: x36\n', r':1: "x36" is not a MIDI pitch', 'not a number')):
    open(mapf, 'w').write(text)
    fails('bad map file (%s): exit 2, FILE:LINE message' % what, ['drumclass', '--map', mapf],
          grid_of([36]), 2, re.escape(mapf) + pat)
fails('--map of a missing file: exit 2', ['drumclass', '--map', os.path.join(TMP, 'none')], b'', 2,
      r'none: No such file or directory \(want roland, gm or a map file\)')

# 7: failure cases
good = grid_of([36])
fails('bad option: exit 2 and usage', ['drumclass', '-x'], good, 2, r'usage: drumclass')
st, out, err = run(['drumclass', '-h'])
ok(st == 0 and not out and err.startswith('usage: drumclass [--map roland|gm|FILE] [--strict]'), '-h: usage', err)
fails('truncated record: exit 1', ['drumclass'], good[:-3], 1, r'truncated')
fails('wrong kind: exit 1, names the record', ['drumclass'], pack(notes_rec('n.mid', [(0.0, 0.1, 36, 90)])),
      1, r'record 0 \(n.mid\): "kind": is "notes", want "grid"')
rec = records(good)[0]; rec['class'] = b'\x00'; rec['pitch'] = b'\x24\x24'
fails('per-note payload of the wrong length: exit 1', ['drumclass'], pack(rec), 1, r'"step"|"pitch": wrong length')
st, out, err = run(['drumclass', '-'], pack({'kind': 'grid', 'v': 2, 'id': 'g'}) + good)
ok(st == 1 and len(records(out)) == 1 and re.search(r'"v": grid version 2 is not supported', err),
   'an unknown version is reported, the next record still classed', err)

# 8: every GMD pitch is in the roland map (skipped without $GMD)
if GMD and os.path.exists(os.path.join(BIN, 'midi-read')):
    files = [os.path.join(GMD, 'drummer1/session1/%s' % f) for f in sorted(os.listdir(os.path.join(GMD, 'drummer1/session1')))[:40]]
    st, out, err = run([['midi-read'] + files, ['quantize'], ['drumclass', '--strict']])
    ok(st == 0 and len(records(out)) == 40, 'GMD: 40 files pass drumclass --strict with the roland map', err[-500:])
else:
    skip('GMD: drumclass --strict', 'GMD or midi-read not available')
done()
PYEOF
