#!/bin/sh
# drumclass.t: the roland and gm maps pitch by pitch, the sample map files,
# map-file syntax and its errors, unmapped/ignored pitches, --strict, failure
# cases; with $GMD, real files through --strict. Tests are Python inside sh.
exec /usr/bin/python3 - "$@" <<'PYEOF'
# --- harness: minimal MessagePack, TAP and tool runner (no msgpack module) ---
import os, re, struct, subprocess, sys, tempfile
BIN = os.environ.get('DRUMVAE_BIN') or os.path.join(os.getcwd(), 'bin')
GMD = os.environ.get('GMD', '')
if GMD and not os.path.isfile(os.path.join(GMD, 'info.csv')):
    GMD = ''
TMP = tempfile.mkdtemp(prefix='drumvae-test.')
def pack(o):
    if o is None: return b'\xc0'
    if o is True or o is False: return b'\xc3' if o else b'\xc2'
    if isinstance(o, int):
        if 0 <= o < 128: return bytes([o])
        return b'\xd3' + struct.pack('>q', o)
    if isinstance(o, float): return b'\xcb' + struct.pack('>d', o)
    if isinstance(o, str):
        b = o.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b'\xdb' + struct.pack('>I', len(b))) + b
    if isinstance(o, (bytes, bytearray)): return b'\xc6' + struct.pack('>I', len(o)) + bytes(o)
    if isinstance(o, dict):
        return b'\xdf' + struct.pack('>I', len(o)) + b''.join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError(o)
def unpack(b, i=0):
    c = b[i]; i += 1
    if c < 0x80: return c, i
    if c >= 0xe0: return c - 256, i
    if 0x80 <= c <= 0x8f or c in (0xde, 0xdf):
        n = c & 15
        if c > 0x8f:
            w = 2 if c == 0xde else 4; n = int.from_bytes(b[i:i+w], 'big'); i += w
        d = {}
        for _ in range(n):
            k, i = unpack(b, i); v, i = unpack(b, i); d[k] = v
        return d, i
    if 0x90 <= c <= 0x9f or c in (0xdc, 0xdd):
        n = c & 15
        if c > 0x9f:
            w = 2 if c == 0xdc else 4; n = int.from_bytes(b[i:i+w], 'big'); i += w
        a = []
        for _ in range(n):
            v, i = unpack(b, i); a.append(v)
        return a, i
    if 0xa0 <= c <= 0xbf or c in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        n = c & 31
        if c > 0xbf:
            w = {0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4}[c]
            n = int.from_bytes(b[i:i+w], 'big'); i += w
        s = bytes(b[i:i+n]); i += n
        return (s if c in (0xc4, 0xc5, 0xc6) else s.decode()), i
    if c == 0xc0: return None, i
    if c in (0xc2, 0xc3): return c == 0xc3, i
    if c == 0xca: return struct.unpack('>f', b[i:i+4])[0], i + 4
    if c == 0xcb: return struct.unpack('>d', b[i:i+8])[0], i + 8
    for code, fmt, w in ((0xcc, '>B', 1), (0xcd, '>H', 2), (0xce, '>I', 4), (0xcf, '>Q', 8),
                         (0xd0, '>b', 1), (0xd1, '>h', 2), (0xd2, '>i', 4), (0xd3, '>q', 8)):
        if c == code: return struct.unpack(fmt, b[i:i+w])[0], i + w
    raise ValueError('byte 0x%02x at %d' % (c, i - 1))
def records(b):
    i, out = 0, []
    while i < len(b):
        r, i = unpack(b, i); out.append(r)
    return out
def bins(fmt, a): return struct.pack('<%d%s' % (len(a), fmt), *a)
def unbin(fmt, b): return list(struct.unpack('<%d%s' % (len(b) // struct.calcsize(fmt), fmt), b))
def f32(x): return struct.unpack('<f', struct.pack('<f', x))[0]
def notes_rec(id, notes, qpm=120.0, tempos=None, ts=((0.0, 4, 4),), end_s=None, tpq=480, **extra):
    """notes: (on_s, off_s, pitch, velocity[, channel]) tuples, sorted here"""
    notes = sorted(notes, key=lambda n: (n[0], n[2]))
    tempos = tempos if tempos is not None else [(0.0, qpm)]
    if end_s is None:
        end_s = max([n[1] for n in notes] + [0.0])
    r = {'kind': 'notes', 'v': 1, 'id': id, 'source': id, 'tpq': tpq, 'end_s': end_s,
         'ntempo': len(tempos), 'tempo_s': bins('d', [t[0] for t in tempos]),
         'tempo_qpm': bins('d', [t[1] for t in tempos]),
         'nts': len(ts), 'ts_s': bins('d', [t[0] for t in ts]),
         'ts_num': bytes(t[1] for t in ts), 'ts_den': bytes(t[2] for t in ts),
         'n': len(notes), 'on_s': bins('d', [n[0] for n in notes]),
         'off_s': bins('d', [n[1] for n in notes]), 'pitch': bytes(n[2] for n in notes),
         'velocity': bytes(n[3] for n in notes),
         'channel': bytes((n[4] if len(n) > 4 else 9) for n in notes)}
    r.update(extra)
    return r
def stream(recs): return b''.join(pack(r) for r in recs)
def run(cmd, inp=b''):
    """cmd: a tool name plus arguments, or a list of such lists (a pipe)"""
    if isinstance(cmd[0], str): cmd = [cmd]
    data, err, st = inp, '', 0
    for c in cmd:
        p = subprocess.run([os.path.join(BIN, c[0])] + list(c[1:]), input=data, capture_output=True)
        data, err, st = p.stdout, err + p.stderr.decode(errors='replace'), p.returncode
        if st:
            break
    return st, data, err
N = [0, 0]
def ok(cond, desc, diag=''):
    N[0] += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', N[0], desc))
    if not cond:
        N[1] += 1
        for l in str(diag).splitlines():
            print('# ' + l)
    sys.stdout.flush()
    return cond
def skip(desc, why):
    N[0] += 1
    print('ok %d - %s # skip %s' % (N[0], desc, why))
def fails(desc, cmd, inp, want, pattern):
    """cmd must exit `want`, print nothing on stdout and match pattern on stderr"""
    st, out, err = run(cmd, inp)
    ok(st == want and not out and re.search(pattern, err), desc,
       'exit %d (want %d), %d bytes on stdout, stderr:\n%s' % (st, want, len(out), err))
def done():
    print('1..%d' % N[0])
    subprocess.run(['rm', '-rf', TMP])
    sys.exit(1 if N[1] else 0)
# --- end of harness ---
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
