#!/bin/sh
# preprocess.t: `make data` (pipelines/preprocess.mk) on a small GMD made here
# with mido: one .rec per split, byte-identical to the one-process pipeline for
# any batch size, summary, a broken file fails without a partial target, the
# missing-GMD error; with $GMD the full TFDS-compatible build. Python inside sh.
PYTHONPATH="$(dirname "$0")/lib" exec /usr/bin/python3 - "$@" <<'PYEOF'
# harness (TAP, tool runner, MessagePack, hand-made records): tests/lib
import os, re, struct, subprocess, sys
from drumvae_test import *
import csv, time
ROOT = os.environ.get('DRUMVAE_ROOT') or os.getcwd()

def make(*args):
    env = {k: v for k, v in os.environ.items() if k not in ('MAKEFLAGS', 'MFLAGS', 'MAKELEVEL')}
    p = subprocess.run(['make', '--no-print-directory', '-C', ROOT, 'BIN=' + BIN, 'PREPROC_TOOLS='] + list(args),
                       capture_output=True, env=env)
    return p.returncode, p.stdout.decode(errors='replace'), p.stderr.decode(errors='replace')

def midi_file(path, bpm, bars, num=4, seed=0):
    import mido
    m = mido.MidiFile(type=0, ticks_per_beat=480)
    tr = mido.MidiTrack(); m.tracks.append(tr)
    tr.append(mido.MetaMessage('time_signature', numerator=num, denominator=4, time=0))
    tr.append(mido.MetaMessage('set_tempo', tempo=round(6e7 / bpm), time=0))
    ev = []
    for b in range(bars):
        for q in range(num * 2):                      # eighths: hi-hat, kick on 1, snare on 3
            t = (b * num * 2 + q) * 240 + (seed * 7 + q * 3) % 11
            ev += [(t, 'note_on', 42, 60 + q), (t + 60, 'note_off', 42, 0)]
            if q == 0: ev += [(t, 'note_on', 36, 100), (t + 90, 'note_off', 36, 0)]
            if q == 4: ev += [(t, 'note_on', 38, 90 + seed), (t + 90, 'note_off', 38, 0)]
    ev.sort()
    now = 0
    for t, kind, pitch, vel in ev:
        tr.append(mido.Message(kind, channel=9, note=pitch, velocity=vel, time=t - now)); now = t
    m.save(path)

# a small GMD: info.csv + MIDI files
gmd = os.path.join(TMP, 'gmd')
rows = [('drummer1', 'train', 100, 8, 4), ('drummer1', 'validation', 90, 6, 4), ('drummer2', 'train', 120, 9, 4),
        ('drummer2', 'test', 110, 5, 4), ('drummer3', 'train', 95, 7, 3), ('drummer3', 'train', 130, 12, 4)]
os.makedirs(os.path.join(gmd, 'drummer1', 's1')); os.makedirs(os.path.join(gmd, 'drummer2', 's1'))
os.makedirs(os.path.join(gmd, 'drummer3', 's1'))
with open(os.path.join(gmd, 'info.csv'), 'w') as f:
    f.write('drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,audio_filename,duration,split\n')
    for i, (d, split, bpm, bars, num) in enumerate(rows):
        name = '%s/s1/%d_rock_%d_beat_%d-4.mid' % (d, i, bpm, num)
        midi_file(os.path.join(gmd, name), bpm, bars, num, i)
        f.write('%s,%s/s1,%s/s1/%d,rock,%d,beat,%d-4,%s,,%.1f,%s\n' % (d, d, d, i, bpm, num, name, bars * 2.4, split))
have = os.path.exists(os.path.join(BIN, 'midi-read'))
try:
    import mido
except ImportError:
    have = False

# 1-3: make data on the small GMD, batched and one file per job
if have:
    data = os.path.join(TMP, 'data')
    st, out, err = make('data', 'GMD=' + gmd, 'DATA_DIR=' + data, 'DATA_BATCH=2')
    recs = {s: records(open(os.path.join(data, s + '.rec'), 'rb').read()) if os.path.exists(os.path.join(data, s + '.rec')) else None
            for s in ('train', 'validation', 'test')}
    ok(st == 0 and all(recs.values()) and all(r['split'] == s for s, rs in recs.items() for r in rs or []),
       'make data: train/validation/test.rec, each record of its split', 'exit %d\n%s\n%s' % (st, out, err))
    files = [os.path.join(gmd, r['midi_filename']) for r in csv.DictReader(open(os.path.join(gmd, 'info.csv')))
             if r['split'] == 'train']
    st2, ref, err2 = run([['midi-read', '--info', os.path.join(gmd, 'info.csv'), '--root', gmd] + files,
                          ['quantize'], ['drumclass'], ['window4bar']])
    got = open(os.path.join(data, 'train.rec'), 'rb').read() if recs['train'] else b''
    ok(st2 == 0 and got == ref and len(records(ref)) > 10,
       'train.rec is byte-identical to the pipeline in one process (order kept)', '%d vs %d bytes\n%s' % (len(got), len(ref), err2))
    data1 = os.path.join(TMP, 'data1')
    st, out, err = make('data', 'GMD=' + gmd, 'DATA_DIR=' + data1, 'DATA_BATCH=1')
    same = all(open(os.path.join(data, s + '.rec'), 'rb').read() == open(os.path.join(data1, s + '.rec'), 'rb').read()
               for s in ('train', 'validation', 'test')) if st == 0 else False
    ok(same, 'one file per job gives the same bytes', err)
    ok(re.search(r'window4bar: train\s+\d+\s+\d+\s+0\s+\d+\s+%d' % len(recs['train'] or []), err) is not None,
       'the window summary is printed per split', err)
    # 5: a bad MIDI file fails the build and leaves no partial target
    bad = os.path.join(gmd, 'drummer2/s1/2_rock_120_beat_4-4.mid')
    good_bytes = open(bad, 'rb').read()
    open(bad, 'wb').write(good_bytes[:40])
    data2 = os.path.join(TMP, 'data2')
    st, out, err = make(os.path.join(data2, 'train.rec'), 'GMD=' + gmd, 'DATA_DIR=' + data2)
    ok(st != 0 and not os.path.exists(os.path.join(data2, 'train.rec')) and '2_rock_120' in err,
       'a broken MIDI file fails make data and deletes the partial target', 'exit %d\n%s' % (st, err))
    open(bad, 'wb').write(good_bytes)
else:
    for d in ('make data', 'byte-identical', 'one file per job', 'summary', 'broken MIDI file'):
        skip(d, 'midi-read or python3-mido not available')

# 4: no GMD: a clear error, nothing built
st, out, err = make('data', 'GMD=' + os.path.join(TMP, 'nothere'), 'DATA_DIR=' + os.path.join(TMP, 'none'))
ok(st != 0 and 'no Groove MIDI Dataset: set GMD=dir' in err and not os.path.exists(os.path.join(TMP, 'none')),
   'make data without a GMD: a clear error', err)

# 6: the full GMD (skipped without $GMD)
if GMD and have:
    data = os.path.join(TMP, 'full')
    t0 = time.time()
    st, out, err = make('data', 'GMD=' + GMD, 'DATA_DIR=' + data, 'WINDOW_OPTS=--compat tfds')
    dt = time.time() - t0
    counts = {s: len(records(open(os.path.join(data, s + '.rec'), 'rb').read())) if st == 0 else 0
              for s in ('train', 'validation', 'test')}
    ok(st == 0 and counts == {'train': 15591, 'validation': 1929, 'test': 1901},
       'full GMD, WINDOW_OPTS=--compat tfds: 15591/1929/1901 patterns (%.1f s)' % dt, '%s\n%s' % (counts, err))
else:
    skip('full GMD make data', 'GMD or midi-read not available')
done()
PYEOF
