#!/bin/sh
# pattern-eval.t: reconstruction and distribution metrics on hand-made
# pattern records whose every number was worked out by hand (see the
# comments), the text table, and failure cases.
BIN=${DRUMVAE_BIN:-$(pwd)/bin}
PY=/usr/bin/python3
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }
# check DESC CMD...: ok when CMD succeeds, else print its output as comments
check() {
	d=$1; shift
	if out=$("$@" 2>&1); then ok "$d"; else nok "$d"; printf '%s\n' "$out" | sed 's/^/# /'; fi
}
# fails DESC STATUS PATTERN CMD...: CMD must exit STATUS, write nothing on
# stdout and a message matching PATTERN on stderr
fails() {
	d=$1 want=$2 pat=$3; shift 3
	"$@" >"$T/out" 2>"$T/err"; st=$?
	if [ "$st" -eq "$want" ] && [ ! -s "$T/out" ] && grep -q -- "$pat" "$T/err"; then
		ok "$d"
	else
		nok "$d"
		echo "# exit $st (want $want), stdout $(wc -c <"$T/out") bytes, stderr:"
		sed 's/^/# /' "$T/err"
	fi
}
cat >"$T/mp.py" <<'PYEOF'
# mp.py: just enough MessagePack for the drumvae tests (no msgpack module).
import struct, sys
def pack(o):
    if o is None: return b'\xc0'
    if o is True: return b'\xc3'
    if o is False: return b'\xc2'
    if isinstance(o, int):
        if 0 <= o < 128: return bytes([o])
        if -32 <= o < 0: return struct.pack('b', o)
        return b'\xd3' + struct.pack('>q', o)
    if isinstance(o, float): return b'\xcb' + struct.pack('>d', o)
    if isinstance(o, str):
        b = o.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b'\xdb' + struct.pack('>I', len(b))) + b
    if isinstance(o, (bytes, bytearray)): return b'\xc6' + struct.pack('>I', len(o)) + bytes(o)
    if isinstance(o, (list, tuple)): return b'\xdd' + struct.pack('>I', len(o)) + b''.join(pack(x) for x in o)
    if isinstance(o, dict):
        return b'\xdf' + struct.pack('>I', len(o)) + b''.join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError(o)
def f32s(a): return struct.pack('<%df' % len(a), *a)
def unf32(b): return list(struct.unpack('<%df' % (len(b) // 4), b))
def unpack(b, i=0):
    c = b[i]; i += 1
    if c < 0x80: return c, i
    if c >= 0xe0: return c - 256, i
    if 0x80 <= c <= 0x8f or c in (0xde, 0xdf):
        if c <= 0x8f: n = c & 15
        else:
            w = 2 if c == 0xde else 4; n = int.from_bytes(b[i:i+w], 'big'); i += w
        d = {}
        for _ in range(n):
            k, i = unpack(b, i); v, i = unpack(b, i); d[k] = v
        return d, i
    if 0x90 <= c <= 0x9f or c in (0xdc, 0xdd):
        if c <= 0x9f: n = c & 15
        else:
            w = 2 if c == 0xdc else 4; n = int.from_bytes(b[i:i+w], 'big'); i += w
        a = []
        for _ in range(n):
            v, i = unpack(b, i); a.append(v)
        return a, i
    if 0xa0 <= c <= 0xbf or c in (0xd9, 0xda, 0xdb, 0xc4, 0xc5, 0xc6):
        if c <= 0xbf: n = c & 31
        else:
            w = {0xd9: 1, 0xda: 2, 0xdb: 4, 0xc4: 1, 0xc5: 2, 0xc6: 4}[c]
            n = int.from_bytes(b[i:i+w], 'big'); i += w
        s = b[i:i+n]; i += n
        return (s if c in (0xc4, 0xc5, 0xc6) else s.decode()), i
    if c == 0xc0: return None, i
    if c in (0xc2, 0xc3): return c == 0xc3, i
    if c == 0xca: return struct.unpack('>f', b[i:i+4])[0], i + 4
    if c == 0xcb: return struct.unpack('>d', b[i:i+8])[0], i + 8
    for code, fmt, w in ((0xcc, '>B', 1), (0xcd, '>H', 2), (0xce, '>I', 4), (0xcf, '>Q', 8),
                         (0xd0, '>b', 1), (0xd1, '>h', 2), (0xd2, '>i', 4), (0xd3, '>q', 8)):
        if c == code: return struct.unpack(fmt, b[i:i+w])[0], i + w
    raise ValueError('byte 0x%02x at %d' % (c, i - 1))
def records(path):
    b = open(path, 'rb').read(); i = 0; out = []
    while i < len(b):
        r, i = unpack(b, i); out.append(r)
    return out
def write(path, recs):
    with open(path, 'wb') as f:
        for r in recs: f.write(pack(r))
def latent(id, mu, sigma=None, z=None, qpm=120.0, **extra):
    r = {'kind': 'latent', 'v': 1, 'id': id, 'zdim': len(mu), 'qpm': qpm, 'mu': f32s(mu),
         'sigma': f32s(sigma if sigma is not None else [0.0] * len(mu)),
         'z': f32s(z if z is not None else mu)}
    r.update(extra); return r
def pattern(id, hits=(), qpm=120.0, **extra):
    """hits: (step, class, velocity 0..1, offset) tuples"""
    g = [0.0] * (64 * 27)
    for s, c, v, o in hits:
        g[s*27 + c] = 1.0; g[s*27 + 9 + c] = v; g[s*27 + 18 + c] = o
    r = {'kind': 'pattern', 'v': 1, 'id': id, 'steps': 64, 'classes': 9, 'qpm': qpm,
         'groove': f32s(g)}
    r.update(extra); return r
def expect(path, id, want, absent=(), tol=1e-6):
    """the record `id` of file `path` has the keys of `want` (numbers within
    tol) and none of `absent`; prints each difference, returns the count"""
    bad = 0
    recs = [r for r in records(path) if r.get('id') == id]
    if len(recs) != 1:
        print('%s: %d records with id %r' % (path, len(recs), id)); return 1
    r = recs[0]
    for k, v in want.items():
        if k not in r:
            print('%s: %s: key %r missing' % (path, id, k)); bad += 1
        elif isinstance(v, float) and isinstance(r[k], (int, float)):
            if not abs(r[k] - v) <= tol:
                print('%s: %s: %r = %r, want %r (diff %g)' % (path, id, k, r[k], v, r[k] - v)); bad += 1
        elif r[k] != v:
            print('%s: %s: %r = %r, want %r' % (path, id, k, r[k], v)); bad += 1
    for k in absent:
        if k in r:
            print('%s: %s: key %r should be absent, is %r' % (path, id, k, r[k])); bad += 1
    return bad
PYEOF
py() { (cd "$T" && "$PY" -c "$1"); }

echo 1..23

# Two originals and their reconstructions (step, class, velocity, offset):
#   a (120 qpm, half a step = 62.5 ms)        b (60 qpm, half a step = 125 ms)
#   orig  kick@0 100 +.2  snare@4 80 -.1      kick@0 64 +.4
#         hh@8 60 0       kick@12 120 +.5
#   recon kick@0 90 0     snare@4 80 +.1      kick@0 64 0
#         hh@8 70 0       ride@13 50 0 (false)
# tp 4, fp 1 (ride), fn 1 (kick@12): P = R = F1 = 0.8; kick F1 = 2*2/(2*2+0+1)
# velocity |err| 10+0+10+0 -> 5; timing ms .2*62.5 + .2*62.5 + 0 + .4*125
# -> 75/4 = 18.75; on-grid baseline (12.5+6.25+0+50)/4 = 17.1875; training
# kick mean (100+120+64)/3: class-mean baseline (16/3 + 0 + 0 + 92/3)/4 = 9.
py '
import mp
A = [(0, 0, 100/127, .2), (4, 1, 80/127, -.1), (8, 2, 60/127, 0.), (12, 0, 120/127, .5)]
B = [(0, 0, 64/127, .4)]
RA = [(0, 0, 90/127, 0.), (4, 1, 80/127, .1), (8, 2, 70/127, 0.), (13, 8, 50/127, 0.)]
RB = [(0, 0, 64/127, 0.)]
mp.write("orig.rec", [mp.pattern("g/a.mid#bar1", A, split="test"), mp.pattern("g/b.mid#bar1", B, qpm=60.0)])
mp.write("recon.rec", [mp.pattern("g/a.mid#bar1~recon", RA), mp.pattern("g/b.mid#bar1", RB, qpm=100.0)])
mp.write("short.rec", [mp.pattern("g/a.mid#bar1", RA)])
mp.write("badid.rec", [mp.pattern("g/a.mid#bar1", RA), mp.pattern("g/b.mid#bar12", RB)])
mp.write("empty.rec", [mp.pattern("e")])
mp.write("lat.rec", [mp.latent("g/a.mid#bar1", [0.0, 1.0])])
b = mp.pack(mp.pattern("g/b.mid#bar1", RB))
open("trunc.rec", "wb").write(mp.pack(mp.pattern("g/a.mid#bar1", RA)) + b[:1000])
' || { echo "Bail out! cannot make test records"; exit 1; }

check "reconstruction metrics, worked out by hand" sh -c "
	'$BIN/pattern-eval' --ref '$T/orig.rec' --train '$T/orig.rec' '$T/recon.rec' >'$T/m.rec' 2>'$T/m.err' &&
	cd '$T' && '$PY' -c '
import mp, sys
sys.exit(mp.expect(\"m.rec\", \"reconstruction\", dict(kind=\"metrics\", v=1, patterns=2, cells=1152,
    hits_true=5, hits_pred=5, hits_both=4, hit_acc=1 - 2 / 1152, precision=0.8, recall=0.8, f1=0.8,
    f1_kick=0.8, f1_snare=1.0, f1_closed_hh=1.0, f1_ride=0.0, vel_mae=5.0, timing_ms=18.75,
    base_timing_ms=17.1875, base_vel_mae=9.0),
    absent=(\"f1_open_hh\", \"f1_low_tom\", \"f1_mid_tom\", \"f1_high_tom\", \"f1_crash\"), tol=2e-5)
    + (len(mp.records(\"m.rec\")) != 1))
'"

check "table on stderr" grep -Eq '^all +5 +5 +4 +0\.8000 +0\.8000 +0\.8000$' "$T/m.err"

check "no --train: no velocity baseline" sh -c "
	'$BIN/pattern-eval' --ref '$T/orig.rec' '$T/recon.rec' 2>/dev/null >'$T/m2.rec' && cd '$T' && '$PY' -c '
import mp, sys
sys.exit(mp.expect(\"m2.rec\", \"reconstruction\", dict(vel_mae=5.0, base_timing_ms=17.1875),
    absent=(\"base_vel_mae\",), tol=2e-5))
'"

check "reconstruction from stdin, read in lockstep" sh -c "
	'$BIN/pattern-eval' --ref '$T/orig.rec' --train '$T/orig.rec' <'$T/recon.rec' 2>/dev/null |
	cmp - '$T/m.rec'"

check "--text: the table on stdout, nothing on stderr" sh -c "
	'$BIN/pattern-eval' --text --ref '$T/orig.rec' '$T/recon.rec' >'$T/t.out' 2>'$T/t.err' &&
	[ ! -s '$T/t.err' ] && grep -Eq '^kick +3 +2 +2 +1\.0000 +0\.6667 +0\.8000$' '$T/t.out' &&
	grep -Eq '^timing MAE \(ms\) +18\.7500 +17\.1875' '$T/t.out'"

check "reconstruction of itself: all 1, errors 0" sh -c "
	'$BIN/pattern-eval' --ref '$T/orig.rec' '$T/orig.rec' 2>/dev/null >'$T/m3.rec' && cd '$T' && '$PY' -c '
import mp, sys
sys.exit(mp.expect(\"m3.rec\", \"reconstruction\", dict(precision=1.0, recall=1.0, f1=1.0,
    hit_acc=1.0, vel_mae=0.0, timing_ms=0.0)))
'"

# Distribution: train = the originals, samples = the reconstructions.
# hits/pattern: train 5/2 (kick 3/2, snare 1/2, hh 1/2), samples 5/2 (kick 1,
# snare, hh, ride 1/2): kick rel 1/1.5 - 1 = -1/3 = the largest over the
# flagged classes. Velocity bins (of 8): train 100 80 60 120 64 -> 12 10 7 15
# 8; samples 90 80 70 50 64 -> 11 10 8 6 8: TV = (.2+.2+.2+.2+.2+.2)/2 = .6;
# kick: train {12 15 8}/3, samples {11 8}/2: TV = (1/3+1/3+1/6+1/2)/2 = 2/3.
# Mean velocity 424/5 and 354/5; mean |offset| ms (50+50)/5 = 20 and 6.25/5.
check "distribution metrics, worked out by hand" sh -c "
	'$BIN/pattern-eval' --stats '$T/orig.rec' '$T/recon.rec' >'$T/d.rec' 2>'$T/d.err' && cd '$T' && '$PY' -c '
import mp, sys
bad = mp.expect(\"d.rec\", \"stats-train\", dict(patterns=2, hits=5, density=2.5, density_kick=1.5,
    density_snare=0.5, density_closed_hh=0.5, density_ride=0.0, vel_mean=84.8, timing_ms=20.0), tol=1e-5)
bad += mp.expect(\"d.rec\", \"stats-samples\", dict(patterns=2, hits=5, density=2.5, density_kick=1.0,
    density_ride=0.5, vel_mean=70.8, timing_ms=1.25), tol=1e-5)
bad += mp.expect(\"d.rec\", \"distribution\", dict(density_rel=0.0, density_rel_kick=-1/3,
    density_rel_snare=0.0, density_rel_max=1/3, vel_tv=0.6, vel_tv_kick=2/3, vel_tv_snare=0.0,
    vel_mean_rel=70.8 / 84.8 - 1, timing_rel=1.25 / 20 - 1),
    absent=(\"density_rel_ride\", \"vel_tv_ride\"), tol=1e-5)
sys.exit(bad + (len(mp.records(\"d.rec\")) != 3))
'"

check "distribution table flags kick, snare, hh; velocity bins" sh -c "
	grep -Eq '^kick +\* +1\.5000 +1\.0000 +-0\.3333 +0\.6667$' '$T/d.err' &&
	grep -Eq '^ride +0\.0000 +0\.5000 +- +-$' '$T/d.err' &&
	grep -Eq '^ 64-71 +0\.2000 +0\.4000$' '$T/d.err'"

check "distribution of the samples from stdin" sh -c "
	'$BIN/pattern-eval' --stats '$T/orig.rec' - <'$T/recon.rec' 2>/dev/null >'$T/d2.rec' && cd '$T' && '$PY' -c '
import mp, sys
sys.exit(mp.expect(\"d2.rec\", \"distribution\", dict(vel_tv=0.6, vel_tv_kick=2/3), tol=1e-9)
    + mp.expect(\"d2.rec\", \"stats-samples\", dict(file=\"-\")))'"

check "silent patterns: hit_acc 1, P/R/F1 and errors absent" sh -c "
	'$BIN/pattern-eval' --ref '$T/empty.rec' '$T/empty.rec' 2>/dev/null >'$T/e.rec' && cd '$T' && '$PY' -c '
import mp, sys
sys.exit(mp.expect(\"e.rec\", \"reconstruction\", dict(patterns=1, hits_true=0, hit_acc=1.0),
    absent=(\"precision\", \"recall\", \"f1\", \"f1_kick\", \"vel_mae\", \"timing_ms\", \"base_timing_ms\")))'"

fails "bad option: exit 2, usage" 2 usage "$BIN/pattern-eval" --bogus
fails "no mode: exit 2" 2 "exactly one" "$BIN/pattern-eval" "$T/recon.rec"
fails "both modes: exit 2" 2 "exactly one" "$BIN/pattern-eval" --ref "$T/orig.rec" --stats "$T/orig.rec"
fails "--train with --stats: exit 2" 2 "train" "$BIN/pattern-eval" --stats "$T/orig.rec" --train "$T/orig.rec"
fails "stdin for two inputs: exit 2" 2 "only one" "$BIN/pattern-eval" --ref - --train "$T/orig.rec"
fails "fewer reconstructions: exit 1, names the unmatched original" 1 \
	"orig.rec: record 1 (g/b.mid#bar1): the other input ended after 1 patterns" \
	"$BIN/pattern-eval" --ref "$T/orig.rec" "$T/short.rec"
fails "more reconstructions: exit 1" 1 "recon.rec: record 1 (g/b.mid#bar1): the other input" \
	"$BIN/pattern-eval" --ref "$T/short.rec" "$T/recon.rec"
fails "mismatched id (bar12 for bar1): exit 1" 1 \
	'badid.rec: record 1 (g/b.mid#bar12): "id": does not match "g/b.mid#bar1"' \
	"$BIN/pattern-eval" --ref "$T/orig.rec" "$T/badid.rec"
fails "truncated record: exit 1, names record 1" 1 "trunc.rec: record 1: truncated" \
	"$BIN/pattern-eval" --ref "$T/orig.rec" "$T/trunc.rec"
fails "wrong kind: exit 1, names record and key" 1 \
	'lat.rec: record 0 (g/a.mid#bar1): "kind": is "latent", want "pattern"' \
	"$BIN/pattern-eval" --ref "$T/orig.rec" "$T/lat.rec"
fails "truncated training set (--stats): exit 1" 1 "trunc.rec: record 1: truncated" \
	"$BIN/pattern-eval" --stats "$T/trunc.rec" "$T/orig.rec"
fails "no input patterns: exit 1" 1 "no patterns" "$BIN/pattern-eval" --stats "$T/orig.rec" /dev/null
fails "missing file: exit 1" 1 "nosuch.rec" "$BIN/pattern-eval" --ref "$T/nosuch.rec" "$T/orig.rec"
exit $fail
