#!/bin/sh
# latent-mix.t: --slerp and --similar on hand-made latent records (built
# with an embedded minimal MessagePack writer), checked number by number;
# failure cases: bad options, record count, truncated record, wrong kind.
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

echo 1..18

py '
import mp, math
mp.write("ab.rec", [mp.latent("a", [3.0, 0.0, 0.0, 0.0], qpm=100.0, source="x.mid"),
                    mp.latent("b", [0.0, 0.0, 4.0, 0.0], qpm=120.0)])
mp.write("par.rec", [mp.latent("p", [1.0, 2.0, 0.0, -1.0]), mp.latent("q", [2.0, 4.0, 0.0, -2.0])])
mp.write("one.rec", [mp.latent("a", [1.0, 0.0])])
mp.write("three.rec", [mp.latent(c, [1.0, 0.0]) for c in "abc"])
mp.write("z3.rec", [mp.latent("a", [1.0, 0.0, 0.0]), mp.latent("b", [1.0, 0.0])])
mp.write("in.rec", [mp.latent("g%d" % i, [0.5 * i - 1.0] * 8, sigma=[0.1] * 8,
                              z=[0.25 * i] * 8, qpm=90.0, split="test") for i in range(3)])
mp.write("big.rec", [mp.latent("big", [0.0] * 256, z=[1.0] * 256)])
mp.write("pat.rec", [mp.pattern("p")])
mp.write("bad.rec", [mp.latent("bad", [1.0, float("nan")])])
b = mp.pack(mp.latent("t", [1.0, 2.0]))
open("trunc.rec", "wb").write(mp.pack(mp.latent("ok", [1.0, 2.0])) + b[:len(b) - 3])
' || { echo "Bail out! cannot make test records"; exit 1; }

check "slerp 5: endpoints exact, great circle, qpm linear, ids" sh -c "
	'$BIN/latent-mix' --slerp 5 '$T/ab.rec' >'$T/s.rec' && cd '$T' && '$PY' -c '
import mp, math, sys
r = mp.records(\"s.rec\"); bad = 0
def err(*a):
    global bad; bad = 1; print(*a)
if len(r) != 5: err(\"want 5 records, got\", len(r)); sys.exit(1)
a = [3.0, 0, 0, 0]; b = [0, 0, 4.0, 0]
for k, x in enumerate(r):
    t = k / 4; w = math.pi / 2
    want = [math.sin((1 - t) * w) * a[i] + math.sin(t * w) * b[i] for i in range(4)]
    mu, z, sg = mp.unf32(x[\"mu\"]), mp.unf32(x[\"z\"]), mp.unf32(x[\"sigma\"])
    for i in range(4):
        if abs(mu[i] - want[i]) > 1e-6: err(\"record\", k, \"mu[%d]\" % i, mu[i], \"want\", want[i])
    if z != mu: err(\"record\", k, \"z != mu\")
    if sg != [0.0] * 4: err(\"record\", k, \"sigma not 0:\", sg)
    if abs(x[\"qpm\"] - (100 + 20 * t)) > 1e-12: err(\"record\", k, \"qpm\", x[\"qpm\"])
    if x[\"t\"] != t: err(\"record\", k, \"t\", x[\"t\"])
    wid = \"a~b@t=%g\" % t
    if x[\"id\"] != wid: err(\"record\", k, \"id\", x[\"id\"], \"want\", wid)
    if x[\"kind\"] != \"latent\" or x[\"zdim\"] != 4 or x[\"from\"] != \"a\" or x[\"to\"] != \"b\":
        err(\"record\", k, \"kind/zdim/from/to\", x)
    if \"source\" in x: err(\"record\", k, \"copied source of A\")
if mp.unf32(r[0][\"mu\"]) != a or mp.unf32(r[4][\"mu\"]) != b: err(\"endpoints not exact\")
sys.exit(bad)
'"

check "slerp of parallel vectors falls back to lerp" sh -c "
	'$BIN/latent-mix' --slerp 3 '$T/par.rec' >'$T/p.rec' && cd '$T' && '$PY' -c '
import mp, sys
m = mp.unf32(mp.records(\"p.rec\")[1][\"mu\"])
want = [1.5, 3.0, 0.0, -1.5]
if max(abs(m[i] - want[i]) for i in range(4)) > 1e-6: print(\"mid\", m, \"want\", want); sys.exit(1)
'"

check "slerp reads its two records from two files" sh -c "
	cd '$T' && '$PY' -c '
import mp; r = mp.records(\"ab.rec\"); mp.write(\"a.rec\", r[:1]); mp.write(\"b.rec\", r[1:])' &&
	'$BIN/latent-mix' --slerp 5 a.rec - <b.rec | cmp - s.rec"

check "similar 1: z is the input z, K outputs, metadata copied" sh -c "
	'$BIN/latent-mix' --similar 1 --count 2 '$T/in.rec' >'$T/s1.rec' && cd '$T' && '$PY' -c '
import mp, sys
r = mp.records(\"s1.rec\"); bad = 0
if [x[\"id\"] for x in r] != [\"g%d~similar-%02d\" % (i, k) for i in range(3) for k in (1, 2)]:
    print(\"ids\", [x[\"id\"] for x in r]); sys.exit(1)
for j, x in enumerate(r):
    i = j // 2
    if mp.unf32(x[\"z\"]) != [0.25 * i] * 8 or x[\"mu\"] != x[\"z\"] or mp.unf32(x[\"sigma\"]) != [0.0] * 8:
        print(\"record\", j, \"z/mu/sigma\", mp.unf32(x[\"z\"]), mp.unf32(x[\"sigma\"])); bad = 1
    if x[\"qpm\"] != 90.0 or x[\"split\"] != \"test\" or x[\"similarity\"] != 1.0:
        print(\"record\", j, \"qpm/split/similarity\", x); bad = 1
sys.exit(bad)
'"

check "similar 0: z is N(0, I) noise (mean, sd of 256 x 40 draws)" sh -c "
	'$BIN/latent-mix' --similar 0 --count 40 '$T/big.rec' >'$T/s0.rec' && cd '$T' && '$PY' -c '
import mp, sys
v = [x for r in mp.records(\"s0.rec\") for x in mp.unf32(r[\"z\"])]
m = sum(v) / len(v); sd = (sum((x - m) ** 2 for x in v) / len(v)) ** 0.5
print(\"n\", len(v), \"mean\", m, \"sd\", sd)
sys.exit(not (len(v) == 10240 and abs(m) < 0.05 and abs(sd - 1) < 0.05))
'"

check "similar 0.75: z = 0.75 z_in + 0.25 eps with the same eps as --similar 0" sh -c "
	'$BIN/latent-mix' --similar 0.75 --count 40 '$T/big.rec' >'$T/s75.rec' && cd '$T' && '$PY' -c '
import mp, sys
e = [mp.unf32(r[\"z\"]) for r in mp.records(\"s0.rec\")]
z = [mp.unf32(r[\"z\"]) for r in mp.records(\"s75.rec\")]
d = max(abs(z[k][i] - (0.75 + 0.25 * e[k][i])) for k in range(40) for i in range(256))
print(\"max diff\", d); sys.exit(d > 1e-6)
'"

check "same seed reproduces, another seed differs" sh -c "
	'$BIN/latent-mix' --similar 0.5 --count 3 --seed 7 '$T/in.rec' >'$T/r1.rec' &&
	'$BIN/latent-mix' --similar 0.5 --count 3 --seed 7 <'$T/in.rec' >'$T/r2.rec' &&
	'$BIN/latent-mix' --similar 0.5 --count 3 --seed 8 '$T/in.rec' >'$T/r3.rec' &&
	cmp '$T/r1.rec' '$T/r2.rec' && ! cmp -s '$T/r1.rec' '$T/r3.rec'"

fails "bad option: exit 2, usage" 2 usage "$BIN/latent-mix" --bogus "$T/ab.rec"
fails "neither mode: exit 2" 2 "exactly one" "$BIN/latent-mix" "$T/ab.rec"
fails "--slerp 1: exit 2" 2 "slerp" "$BIN/latent-mix" --slerp 1 "$T/ab.rec"
fails "--similar 1.5: exit 2" 2 "similar" "$BIN/latent-mix" --similar 1.5 "$T/ab.rec"
fails "--count with --slerp: exit 2" 2 "count" "$BIN/latent-mix" --slerp 3 --count 2 "$T/ab.rec"
fails "slerp of one record: exit 1" 1 "exactly two.*got one" "$BIN/latent-mix" --slerp 3 "$T/one.rec"
fails "slerp of three records: exit 1, names the third" 1 "record 2 (c).*got more" \
	"$BIN/latent-mix" --slerp 3 "$T/three.rec"
fails "truncated record: exit 1, names record 1" 1 "record 1: truncated" \
	"$BIN/latent-mix" --slerp 3 "$T/trunc.rec"
fails "wrong kind: exit 1, names record and key" 1 'record 0 (p): "kind": is "pattern"' \
	"$BIN/latent-mix" --similar 0.5 "$T/pat.rec"
fails "zdim differs: exit 1" 1 "zdim differs" "$BIN/latent-mix" --slerp 3 "$T/z3.rec"
fails "NaN in mu: exit 1, names record and key" 1 'record 0 (bad): "mu": non-finite value nan at index 1' \
	"$BIN/latent-mix" --similar 0.5 "$T/bad.rec"
exit $fail
