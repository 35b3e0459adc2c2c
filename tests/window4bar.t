#!/bin/sh
# window4bar.t: windows of hand-made records in both modes (hop, early downbeat,
# loudest-per-step and tie order, the step >= 48 rule, 4/4 and tempo filters,
# TFDS bar rounding and the MIDI re-write arithmetic), failure cases; with $GMD
# the published TFDS counts; with TFDS_ORACLE=1 (make check-tfds) every GMD
# window against a mido/numpy transcription of TFDS + pretty_midi + magenta.
PYTHONPATH="$(dirname "$0")/lib" exec /usr/bin/python3 - "$@" <<'PYEOF'
# harness (TAP, tool runner, MessagePack, hand-made records): tests/lib
import os, re, struct, subprocess, sys
from drumvae_test import *
ORACLE = r'''# Oracle for window4bar --compat tfds: the TFDS groove/4bar-midionly build and
# magenta's GrooveConverter transcribed with mido + numpy (pretty_midi's
# load, get_end_time, adjust_times, time_to_tick, write and re-read).
import csv, json, math, os, sys
import mido
import numpy as np
root, outpath = sys.argv[1], sys.argv[2]
ROLAND = [[36], [38, 37, 40], [42, 22, 44], [46, 26], [43, 58], [47, 45], [50, 48],
          [49, 52, 55, 57], [51, 53, 59]]
CLS = {p: c for c, ps in enumerate(ROLAND) for p in ps}

def load(path):
    m = mido.MidiFile(path)
    res = m.ticks_per_beat
    ev = []
    for tr in m.tracks[:1]:
        tick = 0
        for msg in tr:
            tick += msg.time
            ev.append((tick, msg))
    scales = [(0, 60.0 / (120.0 * res))]
    for t, msg in ev:
        if msg.type == 'set_tempo':
            if t == 0:
                scales = [(0, 60.0 / ((6e7 / msg.tempo) * res))]
            else:
                s = 60.0 / ((6e7 / msg.tempo) * res)
                if s != scales[-1][1]:
                    scales.append((t, s))
    max_tick = max(t for t, _ in ev) + 1
    tt = tick_to_time(scales, max_tick)
    notes, op, ends = [], {}, []
    for t, msg in ev:
        if msg.type == 'note_on' and msg.velocity > 0:
            op.setdefault((msg.channel, msg.note), []).append((t, msg.velocity))
        elif msg.type == 'note_off' or (msg.type == 'note_on' and msg.velocity == 0):
            k = (msg.channel, msg.note)
            if k in op:
                close = [x for x in op[k] if x[0] != t]
                keep = [x for x in op[k] if x[0] == t]
                for st, v in close:
                    notes.append([tt[st], tt[t], msg.note, v])
                if close and keep:
                    op[k] = keep
                else:
                    del op[k]
        elif msg.type in ('control_change', 'pitchwheel'):
            ends.append(tt[t])
        elif msg.type in ('time_signature', 'key_signature', 'lyrics', 'text'):
            ends.append(tt[t])
    ends += [n[1] for n in notes] + [tt[t] for t, _ in scales]
    ts = [(msg.numerator, msg.denominator) for t, msg in ev if msg.type == 'time_signature']
    return res, scales, notes, max(ends), ts, tt

def tick_to_time(scales, max_tick):
    max_tick = max(max_tick, max(s[0] for s in scales))
    tt = np.zeros(max_tick + 1)
    last = 0
    for (st, sc), (et, _) in zip(scales[:-1], scales[1:]):
        tt[st:et + 1] = last + sc * np.arange(et - st + 1)
        last = tt[et]
    st, sc = scales[-1]
    tt[st:] = last + sc * np.arange(max_tick + 1 - st)
    return tt

def time_to_tick(tt, scales, x):
    k = np.searchsorted(tt, x, side='left')
    if k == len(tt):
        k -= 1
        k = k + (x - tt[k]) / scales[-1][1]
        return int(round(k))
    if k and math.fabs(x - tt[k - 1]) < math.fabs(x - tt[k]):
        return int(k - 1)
    return int(k)

counts = {}
out = open(outpath, 'w')
for row in csv.DictReader(open(os.path.join(root, 'info.csv'))):
    res, scales, notes, end, ts, tt_file = load(os.path.join(root, row['midi_filename']))
    bpm = int(row['bpm'])
    bar = 60 / bpm * int(row['time_signature'].split('-')[0])
    total_bars = int(round(end / bar))
    c = counts.setdefault(row['split'], [0, 0, 0])
    tempi = [60.0 / (s * res) for _, s in scales]
    for i in range(total_bars - 4 + 1):
        c[0] += 1
        ot = np.array([i * bar, (i + 4) * bar])
        nt = np.array([0, 4 * bar])
        win = [list(n) for n in notes if n[0] >= ot[0] and n[1] <= ot[-1]]
        on = np.interp(np.array([n[0] for n in win]), ot, nt)
        off = np.interp(np.array([n[1] for n in win]), ot, nt)
        for n, a, b in zip(win, on, off):
            n[0] = (a > 0) * a
            n[1] = (b > 0) * b
        win = [n for n in win if n[1] > n[0]]
        # tempo: snap the cut times to the file's tick grid, scale the tempo
        tt = tick_to_time(scales, time_to_tick(tt_file, scales, ot[-1]))
        snapped = [tt[time_to_tick(tt, scales, t)] for t in ot]
        speed = np.diff(snapped) / np.diff(nt)
        idx = 0
        while idx + 1 < len(scales) and snapped[0] >= tt[scales[idx + 1][0]]:
            idx += 1
        tempo = tempi[idx] * speed[0]
        s1 = 60.0 / (tempo * res)
        wscales = [(0, s1)]
        wtt = tick_to_time(wscales, 1)
        us = int(6e7 / (60. / (s1 * res)))
        # re-read: pretty_midi on the written file
        ticks = sorted((time_to_tick(wtt, wscales, n[1]), n[2], time_to_tick(wtt, wscales, n[0]), n[3])
                       for n in win)
        rscale = 60.0 / ((6e7 / us) * res)
        qpm = 60.0 / (rscale * res)
        if row['time_signature'] != '4-4' or ts[0] != (4, 4):
            continue
        c[1] += 1
        sps = 4 * qpm / 60.0
        step_length = (60. / qpm) / 4
        cells, maxstep = {}, -1
        for ke, p, ks, v in ticks:
            t = ks * rscale
            step = int(t * sps + 0.5)
            maxstep = max(maxstep, step)
            k = (step, CLS[p])
            if k not in cells or v > cells[k][0]:
                cells[k] = (v, (step_length * step - t) / step_length * 2)
        if maxstep < 48:
            continue
        c[2] += 1
        hits = sorted([s, k, v, o] for (s, k), (v, o) in cells.items() if s < 64)
        out.write(json.dumps({'id': row['midi_filename'] + '#bar%d' % i, 'split': row['split'],
                              'qpm': qpm, 'hits': hits}) + '\n')
print(json.dumps(counts))
'''
def grid(rec, classes=True):
    st, out, err = run([['quantize'], ['drumclass']] if classes else [['quantize']], pack(rec))
    assert st == 0, err
    return out

def patterns(out):
    """id -> (record, {(step, class): (velocity 0-127, offset)})"""
    res = {}
    for r in records(out):
        g = unbin('f', r['groove'])
        hits = {(t, k): (round(g[t * 27 + 9 + k] * 127), g[t * 27 + 18 + k])
                for t in range(64) for k in range(9) if g[t * 27 + k] == 1.0}
        res[r['id']] = (r, hits)
    return res

def summary(err):
    """split -> [windows, not-4/4, tempo-chg, no-onset>=48, patterns]"""
    return {m.group(1): [int(x) for x in m.group(2).split()]
            for m in re.finditer(r'^window4bar: (\S+)\s+((?:\d+\s*){5})$', err, re.M)}

def w4(args, inp):
    st, out, err = run(['window4bar'] + args, inp)
    return st, patterns(out), summary(err), err

# 1: default mode: windows of the grid, 1-bar hop, keys
kicks = [(0.5 * i, 0.5 * i + 0.1, 36, 64 + i) for i in range(20)]      # a kick every beat, 5 bars
rec = notes_rec('g.mid', kicks, bpm=120, split='train', style='rock', time_signature='4-4')
st, p, s, err = w4([], grid(rec))
ok(st == 0 and sorted(p) == ['g.mid#bar0', 'g.mid#bar1'] and s.get('train') == [2, 0, 0, 0, 2],
   'default: 5 bars make 2 windows (#bar0, #bar1), summary per split', '%s %s' % (sorted(p), err))
if 'g.mid#bar1' in p:
    r, hits = p['g.mid#bar1']
    want = {(4 * i, 0): (68 + i, 0.0) for i in range(16)}
    bad = [k for k in set(want) | set(hits) if want.get(k) != hits.get(k)]
    ok(not bad, 'window bar1: kicks on steps 0,4,..,60, velocities v/127, offsets 0',
       'differences at (step, class): %s: got %s want %s' % (bad[:3], [hits.get(k) for k in bad[:3]], [want.get(k) for k in bad[:3]]))
    keep = {'kind': 'pattern', 'steps': 64, 'classes': 9, 'qpm': 120.0, 'bar': 1, 'window': 'grid',
            'bpm': 120, 'split': 'train', 'style': 'rock', 'source': 'g.mid', 'map': 'roland', 'ts_num': 4}
    bad = ['%s = %r, want %r' % (k, r.get(k), v) for k, v in keep.items() if r.get(k) != v]
    bad += ['per-note key %s copied' % k for k in ('n', 'step', 'on_s', 'pitch', 'class', 'tempo_s', 'spb') if k in r]
    ok(not bad, 'pattern keys: qpm, bar, window, metadata copied, per-note keys not', '\n'.join(bad))
else:
    skip('window bar1 hits', 'no window'); skip('pattern keys', 'no window')

# 2: an early downbeat stays in its bar by default and is lost with --compat tfds
early = kicks + [(1.98, 2.05, 38, 100)]    # snare on bar 1's downbeat, 20 ms early
rec = notes_rec('e.mid', early, bpm=120, split='train', time_signature='4-4')
st, p, s, err = w4([], grid(rec))
h = p.get('e.mid#bar1', (None, {}))[1].get((0, 1))
ok(st == 0 and h is not None and h[0] == 100 and abs(h[1] - 0.32) < 1e-6,
   'default: the early snare is on step 0 of #bar1, offset +0.32 (early)', 'got %s %s' % (h, err))
st, p, s, err = w4(['--compat', 'tfds'], grid(rec))
ok(st == 0 and (0, 1) not in p.get('e.mid#bar1', (None, {(0, 1): 1}))[1] and
   (16, 1) in p.get('e.mid#bar0', (None, {}))[1],
   '--compat tfds: the early snare is lost from #bar1 (kept as step 16 of #bar0)', err)

# 3: loudest note per class and step; ties: record order, or magenta's note order
notes = [(0.5, 0.6, 42, 70), (0.51, 0.55, 44, 70),           # tie on step 4: hh-closed
         (1.0, 1.1, 38, 50), (1.01, 1.1, 40, 90),            # louder second snare on step 8
         (7.0, 7.1, 36, 90)]                                  # an onset in the last bar
rec = notes_rec('t.mid', notes, bpm=120, split='test', time_signature='4-4')
st, p, s, err = w4([], grid(rec))
hits = p.get('t.mid#bar0', (None, {}))[1]
ok(hits.get((4, 2)) == (70, 0.0) and hits.get((8, 1), (0, 0))[0] == 90 and abs(hits[(8, 1)][1] - f32(-0.16)) < 1e-7,
   'default: the loudest note wins; on a tie the first in time', hits)
st, p, s, err = w4(['--compat', 'tfds'], grid(rec))
hits = p.get('t.mid#bar0', (None, {}))[1]
ok(hits.get((4, 2), (0, 0))[0] == 70 and abs(hits[(4, 2)][1] - (-0.16)) < 0.01,
   '--compat tfds: on a tie the note that ends first wins (pretty_midi note order)', hits)

# 4: the converter yields a window only with an onset on step >= 48
sparse = [(0.0, 0.1, 36, 90), (2.0, 2.1, 36, 90), (9.0, 9.1, 36, 90)]   # bars 0, 1, 4
st, p, s, err = w4([], grid(notes_rec('s.mid', sparse, bpm=120, split='train', time_signature='4-4')))
ok(sorted(p) == ['s.mid#bar1'] and s.get('train') == [2, 0, 0, 1, 1],
   'default: a window with an empty last bar is dropped and counted', err)
edge = [(0.0, 0.1, 36, 90), (2.0, 2.1, 36, 90), (7.95, 7.99, 38, 90)]  # rounds to step 64
rec = notes_rec('x.mid', edge, bpm=120, split='train', time_signature='4-4', end_s=8.0)
st, p, s, err = w4(['--compat', 'tfds'], grid(rec))
ok(sorted(p) == ['x.mid#bar0'] and max(k[0] for k in p['x.mid#bar0'][1]) == 16,
   '--compat tfds: an onset quantized to step 64 still yields the window (magenta rule)', err)
st, p, s, err = w4([], grid(rec))
ok(sorted(p) == ['x.mid#bar1'] and s.get('train') == [2, 0, 0, 1, 1],
   'default: step 64 is bar 4: #bar0 has no onset >= 48 and is dropped, #bar1 kept', err)

# 5: time signature and tempo changes; --hop
rec = notes_rec('w.mid', [(0.5 * i, 0.5 * i + 0.1, 36, 90) for i in range(24)], ts=((0.0, 3, 4),),
                bpm=120, split='validation', time_signature='3-4')
st, p, s, err = w4([], grid(rec))
ok(st == 0 and not p and s.get('validation') == [5, 5, 0, 0, 0], 'default: 3/4 windows are counted and dropped', err)
st, p, s, err = w4(['--compat', 'tfds'], grid(rec))
ok(st == 0 and not p and s.get('validation') == [5, 5, 0, 0, 0], '--compat tfds: 3/4 (bar = 3 beats of the CSV bpm)', err)
rec = notes_rec('c.mid', [(0.5 * i, 0.5 * i + 0.1, 36, 90) for i in range(40)],
                tempos=[(0.0, 120.0), (10.0, 100.0)], split='train')
st, p, s, err = w4([], grid(rec))
ok(st == 0 and s.get('train', [0])[2] > 0 and s['train'][0] == s['train'][2] + s['train'][4] and
   all(r['qpm'] in (120.0, 100.0) for r, _ in p.values()),
   'default: windows across a tempo change are dropped; the others keep their tempo', err)
rec = notes_rec('h.mid', [(0.5 * i, 0.5 * i + 0.1, 36, 90) for i in range(28)], split='train')
st, p, s, err = w4(['--hop', '2'], grid(rec))
ok(sorted(p) == ['h.mid#bar0', 'h.mid#bar2'], '--hop 2: windows at bars 0 and 2 of 7', sorted(p))
st, p, s, err = w4(['--max', '1'], grid(rec))
ok(st == 0 and sorted(p) == ['h.mid#bar0'] and s['train'][0] == 4,
   '--max 1: only the first window is written, all are counted', (sorted(p), s))
st, p, s, err = w4(['--max', '0'], grid(rec))
ok(st == 2 and not p, '--max 0 is bad usage', err)
for bad in ('0', '65', '99999999999999999999'):
    st, p, s, err = w4(['--hop', bad], grid(rec))
    ok(st == 2 and not p, '--hop %s is bad usage' % bad, err)

# 6: --compat tfds cuts by the CSV bpm, rounds bars half to even (Python round)
for end, want in ((13.0, 3), (15.0, 5), (14.9, 4)):
    rec = notes_rec('r.mid', [(0.0, 0.1, 36, 90)], bpm=120, split='train', time_signature='4-4', end_s=end)
    st, p, s, err = w4(['--compat', 'tfds'], grid(rec))
    ok(s.get('train', [None])[0] == want, '--compat tfds: end %.1f s = %.2f bars -> %d windows' % (end, end / 2, want), err)

# 7: --compat tfds re-writes each window as MIDI: tempo and onsets on its tick grid
import math
us, tpq, bpm = 588235, 480, 101          # the file says 102.00005 qpm, the CSV 101 bpm
qpm = 6e7 / us
notes = [(0.001 * k + 0.3 * k, 0.3 * k + 0.1, 36 + k % 3, 60 + k) for k in range(40)]
rec = notes_rec('m.mid', [((round(a / (us / 1e6 / tpq))) * (us / 1e6 / tpq), (round(b / (us / 1e6 / tpq))) * (us / 1e6 / tpq), p, v)
                          for a, b, p, v in notes], qpm=qpm, bpm=bpm, split='train', time_signature='4-4')
st, p, s, err = w4(['--compat', 'tfds'], grid(rec))
# the TFDS + pretty_midi + magenta arithmetic for window 1, transcribed
sc = 60.0 / ((6e7 / us) * tpq)
bar = 60 / bpm * 4; a, b, L = 1 * bar, 5 * bar, 4 * bar
near = lambda x: min(range(int(x / sc) - 2, int(x / sc) + 3), key=lambda k: (abs(x - sc * k), -k))
speed = (sc * near(b) - sc * near(a)) / L
s1 = 60.0 / ((60.0 / (sc * tpq)) * speed * tpq)
usw = int(6e7 / (60. / (s1 * tpq)))
qr = 60.0 / ((60.0 / ((6e7 / usw) * tpq)) * tpq)
want = {}
for on, off, pi, v in sorted(notes):
    on_t, off_t = sc * round(on / (us / 1e6 / tpq)), sc * round(off / (us / 1e6 / tpq))
    if on_t < a or off_t > b:
        continue
    x = (L / (b - a)) * (on_t - a)
    k = 0 if x <= 0 else ((0 if x < s1 - x else 1) if x <= s1 else int(round(1 + (x - s1) / s1)))
    t = (60.0 / ((6e7 / usw) * tpq)) * k
    step = int(t * (4 * qr / 60.0) + 0.5)
    sl = 60.0 / qr / 4
    c = {36: 0, 37: 1, 38: 1}[pi]
    if step < 64 and ((step, c) not in want or v > want[(step, c)][0]):
        want[(step, c)] = (v, f32((sl * step - t) / sl * 2))
r, hits = p.get('m.mid#bar1', ({}, {}))
bad = [k for k in set(want) | set(hits) if want.get(k) != hits.get(k)]
ok(st == 0 and r.get('qpm') == qr and r.get('window') == 'tfds' and not bad,
   '--compat tfds: window tempo %.6f and every onset/offset as the MIDI re-write gives' % qr,
   'qpm %r want %r; differences %s' % (r.get('qpm'), qr, [(k, hits.get(k), want.get(k)) for k in bad[:4]]))

# 8: failure cases
good = grid(notes_rec('f', kicks))
fails('bad option: exit 2 and usage', ['window4bar', '--compat', 'magenta'], good, 2, r'usage: window4bar')
fails('--hop 0: exit 2', ['window4bar', '--hop', '0'], good, 2, r'usage: window4bar')
st, out, err = run(['window4bar', '-h'])
ok(st == 0 and not out and err.startswith('usage: window4bar [--compat tfds] [--hop BARS]'), '-h: usage', err)
fails('truncated record: exit 1', ['window4bar', '--quiet'], good[:-7], 1, r'truncated')
fails('wrong kind: exit 1, names the record', ['window4bar'], pack(notes_rec('n.mid', kicks)), 1,
      r'record 0 \(n.mid\): "kind": is "notes", want "grid"')
fails('grid without classes: exit 1, says to run drumclass', ['window4bar'], grid(notes_rec('q', kicks), classes=False), 1,
      r'"class": missing: give the notes drum classes with drumclass first')
r = records(good)[0]; del r['tpq']
fails('--compat tfds without tpq: exit 1, names the key', ['window4bar', '--compat', 'tfds'], pack(r), 1, r'"tpq"')
r = records(good)[0]; r['on_s'] = bins('d', list(reversed(unbin('d', r['on_s']))))
fails('notes out of time order: exit 1', ['window4bar'], pack(r), 1, r'"on_s": notes 0 and 1 are not in time order')

# 9: the full GMD: the published TFDS counts (skipped without $GMD)
def gmd_rows():
    import csv
    return list(csv.DictReader(open(os.path.join(GMD, 'info.csv'))))
if GMD and os.path.exists(os.path.join(BIN, 'midi-read')):
    files = [os.path.join(GMD, r['midi_filename']) for r in gmd_rows()]
    st, out, err = run([['midi-read', '--info', os.path.join(GMD, 'info.csv'), '--root', GMD] + files,
                        ['quantize'], ['drumclass'], ['window4bar', '--compat', 'tfds']])
    s = summary(err)
    want = {'train': [17261, 592, 0, 1078, 15591], 'validation': [2121, 135, 0, 57, 1929],
            'test': [2033, 0, 0, 132, 1901]}
    ok(st == 0 and all(s.get(k) == v for k, v in want.items()),
       'GMD --compat tfds: 17261/2121/2033 windows (TFDS), 15591/1929/1901 patterns', err)
    GMD_TFDS = out
    if os.environ.get('TFDS_ORACLE'):
        import json
        sys.path.insert(0, TMP)
        ref = os.path.join(TMP, 'ref.jsonl')
        open(os.path.join(TMP, 'oracle.py'), 'w').write(ORACLE)
        pr = subprocess.run(['/usr/bin/python3', os.path.join(TMP, 'oracle.py'), GMD, ref], capture_output=True)
        mine = patterns(GMD_TFDS)
        theirs = {}
        for line in open(ref) if pr.returncode == 0 else []:
            r = json.loads(line)
            theirs[r['id']] = {(s_, k): (v, o) for s_, k, v, o in r['hits']}
        ids = set(mine) == set(theirs)
        hitdiff, veldiff, maxoff = 0, 0, 0.0
        for i in set(mine) & set(theirs):
            a_, b_ = mine[i][1], theirs[i]
            if set(a_) != set(b_):
                hitdiff += 1
                continue
            for k in a_:
                veldiff += a_[k][0] != b_[k][0]
                maxoff = max(maxoff, abs(a_[k][1] - b_[k][1]))
        ok(pr.returncode == 0 and ids and not hitdiff and not veldiff and maxoff < 1e-6,
           'GMD --compat tfds = a pretty_midi/TFDS/magenta transcription: %d windows, hits and velocities equal, max offset diff %.1e'
           % (len(theirs), maxoff), '%s\nids equal %s, windows with other hits %d, velocity diffs %d' % (pr.stderr.decode()[-800:], ids, hitdiff, veldiff))
    else:
        skip('GMD --compat tfds against the Python transcription', 'slow: make check-tfds')
else:
    skip('GMD --compat tfds counts', 'GMD or midi-read not available')
    skip('GMD --compat tfds against the Python transcription', 'GMD or midi-read not available')
done()
PYEOF
