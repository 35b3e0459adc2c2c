#!/bin/bash
# tests/midi-write.t: midi-write turns pattern, grid and notes records into
# Standard MIDI Files that midicsv (and python3-mido) read back with the
# expected notes, velocities, ticks, tempo and channel; failure cases leave
# no files behind. Records are built with /usr/bin/python3 + struct.
BIN=${DRUMVAE_BIN:-bin}
MW=$BIN/midi-write
PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! command -v midicsv >/dev/null; then
	echo "1..0 # SKIP needs /usr/bin/python3 and midicsv"
	exit 0
fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0 fail=0
ok() { # ok STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
skip() { n=$((n + 1)); echo "ok $n # skip $1"; }
show() { [ -s "$1" ] && sed 's/^/# /' "$@"; }

# mw.py: records by hand (MessagePack via struct), the expected notes from
# the rules of midi-write(1), and a reader of midicsv output.
cat >"$T/mw.py" <<'EOF'
import struct, sys, random
def enc(o):
    if isinstance(o, bool): return b'\xc3' if o else b'\xc2'
    if isinstance(o, int):
        if 0 <= o < 128: return bytes([o])
        return b'\xd3' + struct.pack('>q', o)
    if isinstance(o, float): return b'\xcb' + struct.pack('>d', o)
    if isinstance(o, str):
        b = o.encode(); return b'\xdb' + struct.pack('>I', len(b)) + b
    if isinstance(o, (bytes, bytearray)): return b'\xc6' + struct.pack('>I', len(o)) + bytes(o)
    if isinstance(o, dict): return b'\xdf' + struct.pack('>I', len(o)) + b''.join(enc(k) + enc(v) for k, v in o.items())
    raise TypeError(o)
f32 = lambda a: struct.pack('<%df' % len(a), *a)
f64 = lambda a: struct.pack('<%dd' % len(a), *a)
i32 = lambda a: struct.pack('<%di' % len(a), *a)
tof32 = lambda a: list(struct.unpack('<%df' % len(a), f32(a)))
MAPS = {"roland": [36, 38, 42, 46, 43, 47, 50, 49, 51], "gm": [36, 38, 42, 46, 45, 48, 50, 49, 51]}

def pattern(pid, qpm, hits):
    """hits: (step, class, hit, velocity, offset)"""
    g = [0.0] * 1728
    for t, c, h, v, o in hits:
        g[t * 27 + c], g[t * 27 + 9 + c], g[t * 27 + 18 + c] = h, v, o
    return {"kind": "pattern", "v": 1, "id": pid, "steps": 64, "classes": 9, "qpm": qpm,
            "groove": f32(g), "bar": 0, "split": "test", "g": tof32(g)}

def write(recs, path):
    with open(path, 'wb') as f:
        for r in recs:
            f.write(enc({k: v for k, v in r.items() if k != "g"}))

def rawnotes(p, base, m="roland"):
    out = []
    g = p["g"]
    for t in range(64):
        for c in range(9):
            h, v, o = g[t * 27 + c], g[t * 27 + 9 + c], g[t * 27 + 18 + c]
            if h > 0.5:
                on = max(base + t * 120 + min(59, max(-59, round(-o / 2 * 120))), 0)
                off = on + 120
                if on < base + 7680 < off: off = base + 7680
                out.append([on, off, 9, MAPS[m][c], min(127, max(1, round(v * 127)))])
    return out

def trim(notes):
    """one key never overlaps: end at the next onset; of two at one tick keep the louder"""
    keep = []
    for x in sorted(notes, key=lambda x: (x[2], x[3], x[0])):
        if keep and keep[-1][2:4] == x[2:4]:
            if keep[-1][0] == x[0]:
                if x[4] > keep[-1][4]: keep[-1] = list(x)
                continue
            keep[-1][1] = min(keep[-1][1], x[0])
        keep.append(list(x))
    return sorted(keep)

def csv(path):
    """midicsv text -> dict of header, tempo, ts, notes (paired FIFO), markers, end"""
    r = {"tempo": [], "ts": [], "notes": [], "marker": [], "title": [], "end": None, "chan": set()}
    open_ = {}
    for line in open(path, encoding='latin-1'):
        f = [x.strip() for x in line.split(',', 3)]
        tr, tick, kind = int(f[0]), int(f[1]), f[2]
        if kind == 'Header': r["header"] = tuple(int(x) for x in f[3].split(','))
        elif kind == 'Tempo': r["tempo"].append((tick, int(f[3])))
        elif kind == 'Time_signature': r["ts"].append((tick,) + tuple(int(x) for x in f[3].split(',')))
        elif kind in ('Marker_t', 'Title_t'): r["marker" if kind == 'Marker_t' else "title"].append((tick, f[3].strip('"')))
        elif kind == 'End_track': r["end"] = tick
        elif kind in ('Note_on_c', 'Note_off_c'):
            ch, key, vel = (int(x) for x in f[3].split(','))
            r["chan"].add((kind, ch))
            if kind == 'Note_on_c' and vel > 0:
                open_.setdefault((ch, key), []).append([tick, None, ch, key, vel])
            else:
                x = open_[(ch, key)].pop(0); x[1] = tick; r["notes"].append(x)
    r["notes"].sort()
    r["dangling"] = sum(len(v) for v in open_.values())
    return r

def diff(name, got, want):
    if got == want: return 0
    print("%s differs" % name)
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b: print("first at %d: got %r, want %r" % (i, a, b)); break
    else: print("got %d items, want %d" % (len(got), len(want)))
    return 1
EOF
export PYTHONPATH=$T

# P1: every rule once; P2: other tempo; then the same id again, a path-like id
# and an empty id (file names).
$PY - "$T" <<'EOF'
import sys, pickle
from mw import *
T = sys.argv[1]
p1 = pattern("drummer1/session1/1_funk_80_beat_4-4.mid#bar12", 80.0, [
    (0, 0, 1.0, 1.0, 0.2),      # early first downbeat: clamps to tick 0
    (4, 1, 1.0, 0.5, -0.5),     # late: 4.25 steps = tick 510, velocity 63.5 -> 64
    (8, 2, 0.9, 0.001, 0.0),    # velocity rounds to 0 -> 1
    (10, 3, 0.5, 0.9, 0.0),     # hit 0.5 is not > 0.5: no note
    (12, 4, 0.51, 0.7, 0.0), (12, 5, 0.51, 0.7, 0.0), (12, 6, 0.51, 0.7, 0.0),
    (12, 7, 0.51, 0.7, 0.0), (12, 8, 0.51, 0.7, 0.0),
    (20, 0, 1.0, 0.3, 1.0), (21, 0, 1.0, 0.4, -1.0),   # offsets +-1: 59 ticks from the step
    (30, 1, 1.0, 0.6, -1.0), (31, 1, 1.0, 0.9, 1.0),   # 3659 and 3661: the first ends at 3661
    (40, 1, 1.0, 0.6, 0.0), (41, 1, 1.0, 0.9, 0.9),    # first ends where the second starts
    (63, 8, 1.0, 0.8, -1.0),    # late on the last step: ends at the pattern end
])
p2 = pattern("second", 120.0, [(0, 0, 1.0, 1.0, 0.0), (16, 1, 1.0, 0.5, 0.1), (62, 2, 1.0, 0.2, 0.0)])
p3 = dict(p1)
p4 = pattern("../../etc/passwd", 100.0, [(0, 0, 1.0, 1.0, 0.0)])
p5 = pattern("", 100.0, [(1, 1, 1.0, 1.0, 0.0)])
write([p1], T + "/p1.rec")
write([p1, p2, p3], T + "/three.rec")
write([p4, p5], T + "/names.rec")
pickle.dump({"p1": p1, "p2": p2}, open(T + "/pats.pkl", "wb"))
EOF

# 1. one pattern into a directory
$MW -o "$T/one" "$T/p1.rec" 2>"$T/err"; st=$?
f="$T/one/drummer1_session1_1_funk_80_beat_4-4.mid_bar12.mid"
ok $((st != 0)) "-o DIR: exit 0 ($st)"
show "$T/err"
ok $([ -f "$f" ] && [ "$(ls -A "$T/one" | wc -l)" = 1 ]; echo $?) "-o DIR: one file named from the id ($(ls "$T/one"))"
midicsv "$f" >"$T/p1.csv" 2>"$T/err"
ok $? "midicsv reads it"
show "$T/err"
$PY - "$T" roland <<'EOF' >"$T/out.txt"
import sys, pickle
from mw import *
T, m = sys.argv[1], sys.argv[2]
p = pickle.load(open(T + "/pats.pkl", "rb"))["p1"]
r = csv(T + "/p1.csv" if m == "roland" else T + "/gm.csv")
bad = 0
if r["header"] != (0, 1, 480): print("header %r, want type 0, 1 track, 480 ppq" % (r["header"],)); bad = 1
if r["tempo"] != [(0, 750000)]: print("tempo %r, want [(0, 750000)] for 80 qpm" % r["tempo"]); bad = 1
if r["ts"] != [(0, 4, 2, 24, 8)]: print("time signature %r, want 4/4" % r["ts"]); bad = 1
if r["end"] != 7680: print("End_track at %r, want 7680" % r["end"]); bad = 1
if r["chan"] != {("Note_on_c", 9), ("Note_off_c", 9)}: print("channels %r, want 9 (0x99/0x89)" % r["chan"]); bad = 1
if r["title"] != [(0, p["id"])]: print("track name %r" % r["title"]); bad = 1
if r["dangling"]: print("%d notes without note-off" % r["dangling"]); bad = 1
bad |= diff("notes (on, off, channel, pitch, velocity)", r["notes"], trim(rawnotes(p, 0, m)))
sys.exit(bad)
EOF
ok $? "pattern: notes, velocities, ticks, clamp, trim, tempo 750000, 4/4, channel 10, End_track 7680"
show "$T/out.txt"
grep -q '^1, 510, Note_on_c, 9, 38, 64$' "$T/p1.csv"
ok $? "pattern: late snare at step 4, offset -0.5 is tick 510, velocity 64 (spelled out)"
grep -q '^1, 0, Note_on_c, 9, 36, 127$' "$T/p1.csv"
ok $? "pattern: early first kick clamps to tick 0"

$MW --map gm -f "$T/gm.mid" "$T/p1.rec" && midicsv "$T/gm.mid" >"$T/gm.csv"
$PY - "$T" gm <<'EOF' >"$T/out.txt"
import sys, pickle
from mw import *
T = sys.argv[1]
p = pickle.load(open(T + "/pats.pkl", "rb"))["p1"]
r = csv(T + "/gm.csv")
sys.exit(diff("gm notes", r["notes"], trim(rawnotes(p, 0, "gm"))))
EOF
ok $? "--map gm: toms on 45 48 50"
show "$T/out.txt"
grep -q 'Note_on_c, 9, 43,' "$T/gm.csv"
ok $((! $?)) "--map gm: no Roland low tom 43"

$MW --bpm 100 -f "$T/bpm.mid" "$T/p1.rec" && midicsv "$T/bpm.mid" >"$T/bpm.csv"
grep -q '^1, 0, Tempo, 600000$' "$T/bpm.csv" && diff <(grep Note "$T/p1.csv") <(grep Note "$T/bpm.csv") >/dev/null
ok $? "--bpm 100: tempo 600000, same notes and ticks"

if $PY -c 'import mido' 2>/dev/null; then
	$PY - "$f" "$T/p1.csv" <<'EOF' >"$T/out.txt" 2>&1
import sys, mido
from mw import *
m = mido.MidiFile(sys.argv[1])
bad = 0
if (m.type, len(m.tracks), m.ticks_per_beat) != (0, 1, 480): print("mido: type %d, %d tracks, %d ppq" % (m.type, len(m.tracks), m.ticks_per_beat)); bad = 1
t, open_, notes, tempo = 0, {}, [], None
for msg in m.tracks[0]:
    t += msg.time
    if msg.type == 'set_tempo': tempo = msg.tempo
    if msg.type == 'note_on' and msg.velocity > 0: open_.setdefault(msg.note, []).append([t, None, msg.channel, msg.note, msg.velocity])
    elif msg.type in ('note_off', 'note_on'):
        x = open_[msg.note].pop(0); x[1] = t; notes.append(x)
if tempo != 750000: print("mido tempo %r" % tempo); bad = 1
bad |= diff("mido vs midicsv notes", sorted(notes), csv(sys.argv[2])["notes"])
sys.exit(bad)
EOF
	ok $? "python3-mido sees the same file: type 0, 480 ppq, same notes as midicsv"
	show "$T/out.txt"
else
	skip "python3-mido not installed"
fi

# 2. three patterns back to back
$MW -f "$T/three.mid" "$T/three.rec" 2>"$T/err"; st=$?
midicsv "$T/three.mid" >"$T/three.csv" 2>>"$T/err"
ok $((st != 0)) "-f FILE: three patterns, exit 0 ($st)"
show "$T/err"
$PY - "$T" <<'EOF' >"$T/out.txt"
import sys, pickle
from mw import *
T = sys.argv[1]
P = pickle.load(open(T + "/pats.pkl", "rb"))
r = csv(T + "/three.csv")
want = trim(rawnotes(P["p1"], 0) + rawnotes(P["p2"], 7680) + rawnotes(P["p1"], 15360))
bad = diff("notes", r["notes"], want)
if r["tempo"] != [(0, 750000), (7680, 500000), (15360, 750000)]: print("tempo %r" % r["tempo"]); bad = 1
if r["ts"] != [(0, 4, 2, 24, 8)]: print("time signatures %r, want one 4/4" % r["ts"]); bad = 1
if [t for t, _ in r["marker"]] != [0, 7680, 15360] or r["marker"][1][1] != "second": print("markers %r" % r["marker"]); bad = 1
if r["end"] != 3 * 7680: print("End_track at %r, want %d" % (r["end"], 3 * 7680)); bad = 1
sys.exit(bad)
EOF
ok $? "-f FILE: pattern k starts at 7680k, tempo meta per change, a marker per pattern, End_track 23040"
show "$T/out.txt"
$MW -f - "$T/three.rec" | cmp -s - "$T/three.mid"
ok $? "-f -: the same bytes on stdout"
$MW -f - <"$T/three.rec" | cmp -s - "$T/three.mid"
ok $? "-f - with records on stdin"
$MW -f /dev/null "$T/three.rec" && [ -c /dev/null ]
ok $? "-f /dev/null: written to, not replaced by a regular file"
mkfifo "$T/fifo" && { midicsv "$T/fifo" >"$T/fifo.csv" & } && $MW -f "$T/fifo" "$T/three.rec" && wait &&
	cmp -s "$T/fifo.csv" "$T/three.csv" && [ -p "$T/fifo" ]
ok $? "-f FIFO: written through the fifo (midicsv reads it), the fifo stays"

# 3. file names
$MW -o "$T/names" "$T/three.rec" "$T/names.rec" 2>"$T/err"; st=$?
ls -A "$T/names" >"$T/ls"
printf '%s\n' _._.._etc_passwd.mid drummer1_session1_1_funk_80_beat_4-4.mid_bar12-2.mid \
	drummer1_session1_1_funk_80_beat_4-4.mid_bar12.mid record.mid second.mid >"$T/want"
diff "$T/want" "$T/ls" >"$T/diff"
ok $((st != 0 || $(cat "$T/diff" | wc -l) != 0)) "-o: unsafe bytes become _, no leading dot, empty id is record.mid, a repeated id gets -2"
show "$T/diff"
cmp -s "$T/names/drummer1_session1_1_funk_80_beat_4-4.mid_bar12.mid" "$f" &&
	cmp -s "$T/names/drummer1_session1_1_funk_80_beat_4-4.mid_bar12-2.mid" "$f"
ok $? "-o: each file holds its own pattern (identical to the single-file run)"
$MW -o "$T/named" --name take "$T/three.rec" 2>"$T/err"; st=$?
ls -A "$T/named" | tr '\n' ' ' >"$T/ls"
[ $st = 0 ] && [ "$(cat "$T/ls")" = "take-001.mid take-002.mid take-003.mid " ] &&
	cmp -s "$T/named/take-001.mid" "$T/names/drummer1_session1_1_funk_80_beat_4-4.mid_bar12.mid"
ok $? "-o --name take: take-001.mid ... in record order, same contents"

# 4. grid and notes records
$PY - >"$T/gn.rec" <<'EOF'
from mw import *
w = sys.stdout.buffer.write
w(enc({"kind": "grid", "v": 1, "id": "g1", "qpm": 90.0, "spq": 4, "spb": 12, "ts_num": 3, "ts_den": 4,
       "total_steps": 24, "n": 5, "step": i32([0, 5, 5, 5, 23]), "offset": f32([0.1, -0.2, -0.2, 0.5, 0.0]),
       "pitch": bytes([36, 40, 40, 40, 59]), "velocity": bytes([0, 64, 90, 30, 127]), "class": bytes([0, 1, 1, 1, 8])}))
w(enc({"kind": "grid", "v": 1, "id": "g2", "qpm": 90.0, "spq": 4, "spb": 16, "total_steps": 16, "n": 2,
       "step": i32([1, 2]), "offset": f32([0.0, 0.0]), "velocity": bytes([10, 20]), "class": bytes([4, 6])}))
w(enc({"kind": "notes", "v": 1, "id": "n1", "tpq": 96, "end_s": 4.0, "ntempo": 2, "tempo_s": f64([0, 2.0]),
       "tempo_qpm": f64([120, 60]), "nts": 2, "ts_s": f64([0, 1.0]), "ts_num": bytes([4, 3]), "ts_den": bytes([4, 8]),
       "n": 3, "on_s": f64([0.0, 1.0, 2.5]), "off_s": f64([0.1, 1.05, 2.5]), "pitch": bytes([36, 38, 42]),
       "velocity": bytes([100, 0, 127]), "channel": bytes([9, 9, 0])}))
EOF
$MW -f "$T/gn.mid" "$T/gn.rec" 2>"$T/err" && midicsv "$T/gn.mid" | grep -v 'Start_track\|End_of_file\|Header' >"$T/gn.csv"
cat >"$T/want" <<'EOF'
1, 0, Marker_t, "g1"
1, 0, Tempo, 666667
1, 0, Time_signature, 3, 2, 24, 8
1, 0, Note_on_c, 9, 36, 1
1, 120, Note_off_c, 9, 36, 0
1, 570, Note_on_c, 9, 40, 30
1, 612, Note_off_c, 9, 40, 0
1, 612, Note_on_c, 9, 40, 90
1, 732, Note_off_c, 9, 40, 0
1, 2760, Note_on_c, 9, 59, 127
1, 2880, Marker_t, "g2"
1, 2880, Time_signature, 4, 2, 24, 8
1, 2880, Note_off_c, 9, 59, 0
1, 3000, Note_on_c, 9, 43, 10
1, 3120, Note_off_c, 9, 43, 0
1, 3120, Note_on_c, 9, 50, 20
1, 3240, Note_off_c, 9, 50, 0
1, 4800, Marker_t, "n1"
1, 4800, Tempo, 500000
1, 4800, Note_on_c, 9, 36, 100
1, 4896, Note_off_c, 9, 36, 0
1, 5760, Time_signature, 3, 3, 24, 8
1, 5760, Note_on_c, 9, 38, 1
1, 5808, Note_off_c, 9, 38, 0
1, 6720, Tempo, 1000000
1, 6960, Note_on_c, 0, 42, 127
1, 6961, Note_off_c, 0, 42, 0
1, 7680, End_track
EOF
diff "$T/want" "$T/gn.csv" >"$T/diff"
ok $? "grid (pitch; class through the map; 3/4; offsets; one key at one tick: the louder) and notes (tempo map, time signatures, channels) back to back"
show "$T/diff" "$T/err"

# 5. failure cases
$MW --bogus -o "$T/x" "$T/p1.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 2 || $(wc -c <"$T/out") != 0)) "bad option: exit 2 ($st), nothing on stdout"
grep -q '^usage: midi-write' "$T/err"
ok $? "bad option: usage on stderr"
ok $([ ! -e "$T/x" ]; echo $?) "bad option: no directory made"
for args in "" "-o $T/a -f $T/b.mid" "--bpm 0 -o $T/x" "--bpm fast -o $T/x" "--map tr808 -o $T/x"; do
	$MW $args "$T/p1.rec" >"$T/out" 2>"$T/err"; st=$?
	ok $((st != 2 || $(wc -c <"$T/out") != 0)) "bad usage '$args': exit 2 ($st)"
done
$MW -h >"$T/out" 2>"$T/err"; st=$?
grep -qx 'usage: midi-write \[-o DIR \[--name PREFIX\] | -f FILE.mid\] \[--bpm BPM\] \[--map roland|gm\]' "$T/err"
ok $((st != 0 || $? != 0)) "-h: exit 0, usage on stderr as in the man page"

size=$(stat -c %s "$T/three.rec")
head -c $((size - 100)) "$T/three.rec" >"$T/cut.rec"
rm -rf "$T/o"
$MW -o "$T/o" "$T/cut.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -c <"$T/out") != 0)) "truncated record, -o: exit 1 ($st), nothing on stdout"
grep -q "cut.rec: record 2: truncated" "$T/err"
ok $? "truncated record: message names the record"
show "$T/err"
ok $([ "$(ls -A "$T/o" | tr '\n' ' ')" = "drummer1_session1_1_funk_80_beat_4-4.mid_bar12.mid second.mid " ]; echo $?) \
	"truncated record, -o: the complete records' files, nothing else ($(ls -A "$T/o" | tr '\n' ' '))"
$MW -f "$T/cut.mid" "$T/cut.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1)) "truncated record, -f: exit 1 ($st)"
ok $([ -z "$(ls -A "$T" | grep 'cut\.mid')" ]; echo $?) "truncated record, -f: no file at all (all or nothing)"
$MW -f - "$T/cut.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -c <"$T/out") != 0)) "truncated record, -f -: exit 1 ($st), nothing on stdout"

$PY - >"$T/bad.rec" <<'EOF'
from mw import *
w = sys.stdout.buffer.write
w(enc({"kind": "latent", "v": 1, "id": "z1", "zdim": 2, "mu": f32([0, 0])}))
p = pattern("nan", 120.0, [(3, 2, 1.0, 1.0, 0.0)]); g = p["g"]; g[3 * 27 + 20] = float('nan')
p["groove"] = f32(g); del p["g"]; w(enc(p))
p = pattern("short", 120.0, []); p["groove"] = p["groove"][:-4]; del p["g"]; w(enc(p))
w(enc({"kind": "grid", "v": 1, "id": "g", "qpm": 90.0, "spq": 4, "total_steps": 4, "n": 2,
       "step": i32([0]), "offset": f32([0]), "pitch": bytes([36]), "velocity": bytes([1])}))
p = pattern("good", 120.0, [(0, 0, 1.0, 1.0, 0.0)]); del p["g"]; w(enc(p))
EOF
rm -rf "$T/o"
$MW -o "$T/o" "$T/bad.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -c <"$T/out") != 0)) "bad records: exit 1 ($st), nothing on stdout"
grep -q 'record 0 (z1): "kind": is "latent", want pattern, grid or notes' "$T/err"
ok $? "wrong kind: message names record and key"
grep -q 'record 1 (nan): "groove": non-finite value at step 3, column 20' "$T/err" &&
	grep -q 'record 2 (short): "groove": wrong length' "$T/err" &&
	grep -q 'record 3 (g): "step": holds 1 values, want 2' "$T/err"
ok $? "bad pattern and grid: messages name record and key"
show "$T/err"
ok $([ "$(ls -A "$T/o")" = good.mid ]; echo $?) "bad records are skipped, the good one is written ($(ls -A "$T/o" | tr '\n' ' '))"
rm -rf "$T/o"
$MW --strict -o "$T/o" "$T/bad.rec" 2>/dev/null; st=$?
ok $((st != 1 || $(ls -A "$T/o" | wc -l) != 0)) "--strict: stops at the first bad record ($st)"

$MW -o /proc/midi-write-test "$T/p1.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1)) "unwritable -o DIR: exit 1 ($st)"
grep -q '/proc/midi-write-test' "$T/err"
ok $? "unwritable -o DIR: message names it"
touch "$T/plain"
$MW -o "$T/plain" "$T/p1.rec" 2>"$T/err"; st=$?
ok $((st != 1)) "-o on a regular file: exit 1 ($st)"
mkdir "$T/full"
(trap '' XFSZ; ulimit -f 0; exec "$MW" -o "$T/full" "$T/three.rec") 2>"$T/err"; st=$?
ok $((st != 1 || $(ls -A "$T/full" | wc -l) != 0)) "write fails (file size limit): exit 1 ($st), no partial or temporary file in DIR ($(ls -A "$T/full" | tr '\n' ' '))"
show "$T/err"
(trap '' XFSZ; ulimit -f 0; exec "$MW" -f "$T/full/all.mid" "$T/three.rec") 2>"$T/err"; st=$?
ok $((st != 1 || $(ls -A "$T/full" | wc -l) != 0)) "-f write fails: exit 1 ($st), nothing left"

# 6. round trip: midi-read | quantize | drumclass | window4bar gives the pattern back
if [ -x "$BIN/window4bar" ] && [ -x "$BIN/midi-read" ] && [ -x "$BIN/quantize" ] && [ -x "$BIN/drumclass" ]; then
	$PY - "$T" <<'EOF'
import sys, random, pickle
from mw import *
T = sys.argv[1]
random.seed(7)
hits = {}
for t in range(64):
    for c in range(9):
        if random.random() < 0.15:
            o = random.uniform(-0.9, 0.9) if t else random.uniform(-0.9, 0.0)
            hits[t, c] = (t, c, 1.0, random.uniform(0.05, 1.0), o)
hits[63, 2] = (63, 2, 1.0, 0.7, -0.9)  # late on the last step: must stay inside the window
hits[0, 0] = (0, 0, 1.0, 1.0, 0.0)
p = pattern("rt", 96.0, list(hits.values()))
write([p], T + "/rt.rec")
pickle.dump(p, open(T + "/rt.pkl", "wb"))
EOF
	mkdir -p "$T/rt"
	"$MW" -o "$T/rt" "$T/rt.rec" &&
		"$BIN/midi-read" "$T/rt/rt.mid" | "$BIN/quantize" | "$BIN/drumclass" | "$BIN/window4bar" --quiet >"$T/back.rec" 2>"$T/err"
	ok $? "round trip: midi-write | midi-read | quantize | drumclass | window4bar runs"
	show "$T/err"
	"$BIN/rec-dump" "$T/back.rec" >"$T/back.json" 2>>"$T/err"
	$PY - "$T" <<'EOF' >"$T/out.txt" 2>&1
import sys, json, pickle
from mw import *
T = sys.argv[1]
p = pickle.load(open(T + "/rt.pkl", "rb"))
recs = [json.loads(l) for l in open(T + "/back.json")]
if len(recs) != 1: print("%d patterns came back, want 1" % len(recs)); sys.exit(1)
q, g = recs[0], p["g"]
bad = 0
if abs(q["qpm"] - 96) > 1e-3: print("qpm %r" % q["qpm"]); bad = 1
worst = [0, 0]
for i in range(1728):
    t, k = divmod(i, 27)
    a, b = g[i], q["groove"][i]
    if k < 9 and a != b: print("hit step %d class %d: %r, want %r" % (t, k, b, a)); bad = 1; break
    if 9 <= k < 18 and abs(b - round(a * 127) / 127) > 1e-6: print("velocity step %d class %d: %r, want %r" % (t, k - 9, b, round(a * 127) / 127)); bad = 1; break
    if k >= 18: worst[1] = max(worst[1], abs(a - b))
if worst[1] > 0.01: print("offsets differ by up to %.4f (limit 0.01: a tick is 1/60 of an offset unit)" % worst[1]); bad = 1
print("%d patterns back; largest offset error %.5f" % (len(recs), worst[1]))
sys.exit(bad)
EOF
	ok $? "round trip: hits exact, velocities round(v*127)/127, offsets within 0.01 ($(tail -1 "$T/out.txt"))"
	show "$T/out.txt"
else
	skip "round trip: midi-read, quantize, drumclass or window4bar not built in $BIN"
	skip "round trip: compare"
fi

# 7. GMD: a real file's 4-bar windows (hop 4) back to back with -f, read
# and cut again, give the same windows
f=${GMD:+$GMD/drummer1/session1/102_funk_95_beat_4-4.mid}
if [ -n "$f" ] && [ -f "$f" ] && [ -x "$BIN/window4bar" ] && [ -x "$BIN/midi-read" ] &&
	[ -x "$BIN/quantize" ] && [ -x "$BIN/drumclass" ] && [ -x "$BIN/rec-dump" ]; then
	pipe() { "$BIN/midi-read" "$@" | "$BIN/quantize" | "$BIN/drumclass" | "$BIN/window4bar" --quiet --hop 4; }
	pipe "$f" >"$T/gmd.rec" 2>"$T/err" &&
		"$MW" -f "$T/gmd.mid" "$T/gmd.rec" 2>>"$T/err" &&
		pipe "$T/gmd.mid" >"$T/gmd2.rec" 2>>"$T/err"
	ok $? "GMD: $(basename "$f") | ... | window4bar --hop 4 | midi-write -f | midi-read | ... | window4bar --hop 4"
	show "$T/err"
	"$BIN/rec-dump" -k bar,qpm,groove "$T/gmd.rec" >"$T/a.json"
	"$BIN/rec-dump" -k bar,qpm,groove "$T/gmd2.rec" >"$T/b.json"
	$PY - "$T/a.json" "$T/b.json" <<'EOF2' >"$T/out.txt" 2>&1
import sys, json
A = [json.loads(l) for l in open(sys.argv[1])]
B = [json.loads(l) for l in open(sys.argv[2])]
bad, worst = 0, 0.0
if len(A) != len(B) or not A: print("%d windows, then %d" % (len(A), len(B))); sys.exit(1)
for a, b in zip(A, B):
    if a["bar"] != b["bar"] or abs(a["qpm"] - b["qpm"]) > 1e-3: print("bar %r qpm %r, then bar %r qpm %r" % (a["bar"], a["qpm"], b["bar"], b["qpm"])); bad = 1; break
    for i in range(1728):
        t, k = divmod(i, 27)
        x, y = a["groove"][i], b["groove"][i]
        if k < 18 and abs(x - y) > 1e-6:
            print("bar %d step %d class %d %s: %r, then %r" % (a["bar"], t, k % 9, "hit" if k < 9 else "velocity", x, y)); bad = 1; break
        if k >= 18:
            want = min(x, 0.0) if a["bar"] == 0 and t == 0 else x  # tick 0 holds no earlier onset
            if abs(y - want) > 1 / 60 + 1e-6:
                print("bar %d step %d class %d offset %r, then %r" % (a["bar"], t, k - 18, x, y)); bad = 1; break
            worst = max(worst, abs(y - want))
    if bad: break
print("%d windows; largest offset change %.4f" % (len(A), worst))
sys.exit(bad)
EOF2
	ok $? "GMD: same windows: hits and velocities exact, offsets within 1/60 ($(tail -1 "$T/out.txt"))"
	show "$T/out.txt"
else
	skip "GMD round trip: \$GMD or the preprocessing tools are missing"
	skip "GMD round trip: compare"
fi

echo "1..$n"
[ "$fail" -eq 0 ]
