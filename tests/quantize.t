#!/bin/sh
# quantize.t: quantize on hand-made notes records (magenta arithmetic bit for bit,
# tempo maps, time signatures, --compat magenta skips, --channel) and the failure
# cases; with $GMD, one GMD file through midi-read. Tests are Python inside sh.
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
# 1: steps and offsets, bit for bit as magenta computes them (qpm 102.00005)
qpm = 6e7 / 588235
sps = 4 * qpm / 60.0
step_len = 60.0 / qpm / 4
times = [0.0, 0.01, 0.3, step_len * 1.5, step_len * 2.5 - 1e-9, 1.0, 3.7]
notes = [(t, t + 0.05, 36 + i, 60 + i) for i, t in enumerate(times)]
rec = notes_rec('a.mid', notes, qpm=qpm, end_s=4.2, bpm=102, split='train', style='funk')
st, out, err = run(['quantize'], pack(rec))
g = records(out)
diag = 'exit %d, %d records, stderr: %s' % (st, len(g), err)
if ok(st == 0 and len(g) == 1 and g[0]['kind'] == 'grid' and g[0]['id'] == 'a.mid',
      'quantize writes one grid record with the notes id', diag):
    g = g[0]
    bad = []
    want_step = [int(t * sps + 0.5) for t in sorted(times)]
    got_step = unbin('i', g['step'])
    if got_step != want_step:
        bad.append('step %s, want %s' % (got_step, want_step))
    got_off = unbin('f', g['offset'])
    for i, t in enumerate(sorted(times)):
        want = f32((step_len * want_step[i] - t) / step_len * 2)
        if got_off[i] != want:
            bad.append('note %d: offset %r, want %r (diff %g)' % (i, got_off[i], want, got_off[i] - want))
    ok(not bad, 'steps floor(t*sps+0.5) and offsets 2*(grid-t)/step exactly as magenta', '\n'.join(bad))
    want = {'qpm': qpm, 'spq': 4, 'spb': 16, 'ts_num': 4, 'ts_den': 4, 'n': len(times),
            'total_steps': int(4.2 * sps + 0.5), 'bpm': 102, 'split': 'train', 'style': 'funk',
            'source': 'a.mid', 'end_s': 4.2, 'tpq': 480}
    bad = ['%s = %r, want %r' % (k, g.get(k), v) for k, v in want.items() if g.get(k) != v]
    bad += ['%s should not be copied' % k for k in ('channel',) if k in g]
    if unbin('d', g['on_s']) != sorted(times) or list(g['pitch']) != [n[2] for n in sorted(notes)]:
        bad.append('on_s/pitch not carried through: %s %s' % (unbin('d', g['on_s']), list(g['pitch'])))
    ok(not bad, 'grid keys (qpm, spb, total_steps, ...) and metadata copied through', '\n'.join(bad))
else:
    skip('steps and offsets', 'no grid record'); skip('grid keys', 'no grid record')

# 2: a note exactly half a step after a grid line goes to the later step
st, out, err = run(['quantize'], pack(notes_rec('h', [(0.0625, 0.1, 36, 90)])))
g = records(out)
ok(st == 0 and unbin('i', g[0]['step']) == [1] and unbin('f', g[0]['offset']) == [1.0],
   'a tie at half a step rounds up: step 1, offset +1 (early)', 'got %s %s' % (
   g and unbin('i', g[0]['step']), g and unbin('f', g[0]['offset'])))

# 3: tempo change: the default follows the tempo map, --compat magenta skips the file
tempos = [(0.0, 120.0), (2.0, 60.0)]  # 16 steps at 120, then a step is 0.25 s
rec = notes_rec('t', [(1.0, 1.1, 36, 90), (2.5, 2.6, 38, 90), (3.01, 3.1, 42, 90)], tempos=tempos)
st, out, err = run(['quantize'], pack(rec))
g = records(out)
steps = g and unbin('i', g[0]['step'])
offs = g and unbin('f', g[0]['offset'])
ok(st == 0 and steps == [8, 18, 20] and abs(offs[2] - f32(-0.08)) < 1e-6,
   'tempo map: steps after a change count at the new tempo', 'steps %s offsets %s' % (steps, offs))
st, out, err = run(['quantize', '--compat', 'magenta'], pack(rec))
ok(st == 0 and not out and 'tempo changes at 2 s' in err and 'skipped' in err,
   '--compat magenta skips a file whose tempo changes (MultipleTempoError)', 'exit %d %r' % (st, err))
same = notes_rec('t2', [(1.0, 1.1, 36, 90)], tempos=[(0.0, 100.0), (1.5, 100.0)])
st, out, err = run(['quantize', '--compat', 'magenta'], pack(same))
ok(st == 0 and len(records(out)) == 1, 'a repeated tempo is no change', err)

# 4: time signatures
r34 = notes_rec('w', [(0.0, 0.1, 36, 90)], ts=((0.0, 3, 4),))
st, out, err = run(['quantize'], pack(r34))
g = records(out)
ok(st == 0 and g and g[0]['spb'] == 12 and g[0]['ts_num'] == 3,
   '3/4 gives 12 steps per bar (window4bar drops it later)', err)
st, out, err = run(['quantize', '--compat', 'magenta'], pack(r34))
ok(st == 0 and not out and 'not 4/4' in err, '--compat magenta skips 3/4', err)
chg = notes_rec('c', [(0.0, 0.1, 36, 90)], ts=((0.0, 4, 4), (4.0, 3, 4)))
st, out, err = run(['quantize'], pack(chg))
ok(st == 0 and not out and re.search(r'skipped: time signature changes from 4/4 to 3/4', err),
   'a time signature change skips the record with a warning', err)
late = notes_rec('l', [(0.0, 0.1, 36, 90)], ts=((1.0, 6, 8),))
st, out, err = run(['quantize'], pack(late))
ok(st == 0 and not out and 'after the implicit 4/4' in err, '6/8 starting late: skipped', err)
st, out, err = run(['quantize'], pack(notes_rec('d', [(0.0, 0.1, 36, 90)], ts=((0.0, 2, 2),))))
ok(st == 0 and records(out)[0]['spb'] == 16, '2/2 has 16 steps per bar, like 4/4', err)

# 5: no notes; --channel
st, out, err = run(['quantize'], pack(notes_rec('e', [], end_s=3.0)))
g = records(out)
ok(st == 0 and len(g) == 1 and g[0]['n'] == 0 and g[0]['total_steps'] == 24,
   'no notes: an empty grid (window4bar counts its windows)', err)
st, out, err = run(['quantize', '--compat', 'magenta'], pack(notes_rec('e', [], end_s=3.0)))
ok(st == 0 and not out and 'no notes' in err, '--compat magenta skips a file with no notes', err)
mixed = notes_rec('m', [(0.0, 0.1, 36, 90, 9), (0.5, 0.6, 60, 90, 0)])
st, out, err = run(['quantize', '--channel', '10'], pack(mixed))
g = records(out)
ok(st == 0 and g and list(g[0]['pitch']) == [36], '--channel 10 keeps the GM drum channel only',
   '%s %s' % (g and list(g[0]['pitch']), err))

# 6: several records and files, order kept
a, b = pack(notes_rec('one', [(0.0, 0.1, 36, 90)])), pack(notes_rec('two', [(0.0, 0.1, 38, 90)]))
open(os.path.join(TMP, 'a.rec'), 'wb').write(a)
open(os.path.join(TMP, 'b.rec'), 'wb').write(a + b)
st, out, err = run(['quantize', os.path.join(TMP, 'a.rec'), '-', os.path.join(TMP, 'b.rec')], b)
ok(st == 0 and [r['id'] for r in records(out)] == ['one', 'two', 'one', 'two'],
   'files and - (stdin) in argument order', '%s %s' % ([r['id'] for r in records(out)], err))

# 7: failure cases
good = pack(notes_rec('x', [(0.0, 0.1, 36, 90)]))
fails('bad option: exit 2 and usage', ['quantize', '--bogus'], good, 2, r'usage: quantize')
fails('bad --compat value: exit 2', ['quantize', '--compat', 'tfds'], good, 2, r'usage: quantize')
fails('bad --channel: exit 2', ['quantize', '--channel', '17'], good, 2, r'usage: quantize')
st, out, err = run(['quantize', '-h'])
ok(st == 0 and not out and err.startswith('usage: quantize [--compat magenta]'), '-h: usage, exit 0', err)
fails('truncated record: exit 1, nothing on stdout', ['quantize'], good[:-5], 1, r'truncated')
fails('wrong kind: exit 1, message names the record', ['quantize'],
      pack({'kind': 'pattern', 'v': 1, 'id': 'p#bar0'}), 1, r'record 0 \(p#bar0\): "kind": is "pattern", want "notes"')
bad = notes_rec('y', [(0.0, 0.1, 36, 90)]); bad['on_s'] = bins('d', [0.0, 1.0])
fails('per-note payload of the wrong length: exit 1, names the key', ['quantize'], pack(bad), 1,
      r'record 0 \(y\): "on_s": wrong length')
bad = notes_rec('z', [(0.0, 0.1, 36, 90)]); del bad['tempo_qpm']
fails('missing key: exit 1, names the key', ['quantize'], pack(bad), 1, r'"tempo_qpm": missing')
bad = notes_rec('q', [(0.0, 0.1, 36, 90)], tempos=[(0.0, -5.0)])
fails('a negative tempo is bad data', ['quantize'], pack(bad), 1, r'"tempo_qpm": tempo 0: -5 qpm')
st, out, err = run(['quantize'], pack({'kind': 'pattern', 'v': 1, 'id': 'p'}) + good)
ok(st == 1 and [r['id'] for r in records(out)] == ['x'], 'a bad record is reported, the next one still written', err)
st, out, err = run(['quantize', '--strict'], pack({'kind': 'pattern', 'v': 1, 'id': 'p'}) + good)
ok(st == 1 and not out, '--strict stops at the first bad record', err)

# 8: a GMD file through midi-read (skipped without $GMD)
if GMD and os.path.exists(os.path.join(BIN, 'midi-read')):
    f = os.path.join(GMD, 'drummer1/session1/1_funk_80_beat_4-4.mid')
    st, out, err = run([['midi-read', '--info', os.path.join(GMD, 'info.csv'), '--root', GMD, f], ['quantize']])
    g = records(out)
    if ok(st == 0 and len(g) == 1, 'GMD file: midi-read | quantize', err):
        s, on = unbin('i', g[0]['step']), unbin('d', g[0]['on_s'])
        sps = 4 * g[0]['qpm'] / 60.0
        bad = [i for i in range(len(s)) if s[i] != int(on[i] * sps + 0.5)]
        ok(g[0]['qpm'] == 80.0 and g[0]['spb'] == 16 and g[0]['bpm'] == 80 and not bad and
           all(abs(x) <= 1 for x in unbin('f', g[0]['offset'])),
           'GMD file: 80 qpm, 4/4, every step and |offset| <= 1', 'bad notes %s' % bad[:5])
    else:
        skip('GMD file steps', 'no grid')
else:
    skip('GMD file: midi-read | quantize', 'GMD or midi-read not available')
    skip('GMD file steps', 'GMD or midi-read not available')
done()
PYEOF
