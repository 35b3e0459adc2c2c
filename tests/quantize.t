#!/bin/sh
# quantize.t: quantize on hand-made notes records (magenta arithmetic bit for bit,
# tempo maps, time signatures, --compat magenta skips, --channel) and the failure
# cases; with $GMD, one GMD file through midi-read. Tests are Python inside sh.
PYTHONPATH="$(dirname "$0")/lib" exec /usr/bin/python3 - "$@" <<'PYEOF'
# harness (TAP, tool runner, MessagePack, hand-made records): tests/lib
import os, re, struct, subprocess, sys
from drumvae_test import *
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
for bad in ('0', '17', '4294967297', '10x'):
    st, out, err = run(['quantize', '--channel', bad], pack(mixed))
    ok(st == 2 and not out and 'usage' in err, '--channel %s: bad usage (exit 2)' % bad, err)

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
