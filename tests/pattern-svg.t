#!/bin/sh
# pattern-svg.t: SVG files from hand-made pattern records: names, well-formed
# XML, one shaded cell and one timing tick per hit at the right place, grid
# lines, --scale, and failure cases (bad option, truncated record, wrong kind).
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

echo 1..17

# Geometry (pattern-svg.c): grid origin x 86, y 42, cells 12 x 16, image 862 x 208.
py '
import mp, struct
h = [(0, 0, 1.0, 0.0), (4, 1, 0.0, 1.0), (8, 2, 0.5, -1.0), (63, 8, 0.8, 0.5), (17, 3, 0.6, -0.25)]
r = mp.pattern("drummer1/s1/1_funk_80.mid#bar12", h, qpm=80.0)
g = list(struct.unpack("<1728f", r["groove"]))
g[20 * 27 + 4] = 0.5        # exactly 0.5: not a hit
g[21 * 27 + 5] = 0.51       # a hit, velocity 0, offset 0
r["groove"] = mp.f32s(g)
mp.write("one.rec", [r])
mp.write("two.rec", [mp.pattern("a/b#1", [(0, 0, 1.0, 0.0)]), mp.pattern("x<&\"y\">\u00e9\x01", [])])
mp.write("long.rec", [mp.pattern("L" * 300, [])])
mp.write("lat.rec", [mp.latent("lat", [1.0]), mp.pattern("after-latent", [])])
b = mp.pack(mp.pattern("cut", []))
open("trunc.rec", "wb").write(mp.pack(mp.pattern("first", [])) + b[:500])
' || { echo "Bail out! cannot make test records"; exit 1; }

check "one record: one file named from the id, nothing on stdout" sh -c "
	mkdir '$T/o1' && '$BIN/pattern-svg' -o '$T/o1' '$T/one.rec' >'$T/o1.out' &&
	[ ! -s '$T/o1.out' ] && [ \"\$(ls -A '$T/o1')\" = drummer1_s1_1_funk_80.mid_bar12.svg ]"

cat >"$T/svgcheck.py" <<'PYEOF'
import sys, xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
X0, Y0, CW, CH = 86, 42, 12, 16
root = ET.parse(sys.argv[1]).getroot()
bad = 0
def err(*a):
    global bad; bad += 1; print(*a)
if (root.get("width"), root.get("height"), root.get("viewBox")) != ("862", "208", "0 0 862 208"):
    err("size", root.get("width"), root.get("height"), root.get("viewBox"))
title = "".join(t.text or "" for t in root.iter(NS + "text") if t.get("font-size") == "13")
if "drummer1/s1/1_funk_80.mid#bar12" not in title or "qpm 80.0" not in title or "6 hits" not in title:
    err("title line", repr(title))
# hits: (step, class) -> (fill-opacity, tick offset); velocity v -> .15 + .85 v
want = {(0, 0): (1.0, 0.0), (4, 1): (0.15, 1.0), (8, 2): (0.575, -1.0), (63, 8): (0.83, 0.5),
        (17, 3): (0.66, -0.25), (21, 5): (0.15, 0.0)}
cells = {}
for r in root.iter(NS + "rect"):
    if r.find(NS + "title") is not None:
        t = (int(r.get("x")) - 1 - X0) // CW; c = (int(r.get("y")) - 1 - Y0) // CH
        cells[(t, c)] = float(r.get("fill-opacity"))
if sorted(cells) != sorted(want):
    err("hit cells", sorted(cells), "want", sorted(want))
ticks = {}
for l in root.iter(NS + "line"):
    if l.get("stroke") == "#f97316":
        x = float(l.get("x1")); c = (int(l.get("y1")) - 2 - Y0) // CH
        t = int((x - X0 - 0.001) // CW) if x > X0 else 0
        for (tt, cc) in want:
            if cc == c: ticks[(tt, cc)] = x
for k, (op, o) in want.items():
    if k in cells and abs(cells[k] - op) > 0.0011:
        err("cell", k, "fill-opacity", cells[k], "want", op)
    wx = X0 + (k[0] + 0.5 - o / 2) * CW
    if k not in ticks or abs(ticks[k] - wx) > 0.006:
        err("tick", k, "x", ticks.get(k), "want", wx)
grid = [l for l in root.iter(NS + "line") if l.get("stroke") in ("#e4e4e4", "#aaa")]
beats = [l for l in grid if l.get("stroke") == "#aaa"]
bars = [l for g in root.iter(NS + "g") if g.get("stroke") == "#222" for l in g.iter(NS + "line")]
if len(grid) != 60 or len(beats) != 12 or sorted(int(l.get("x1")) for l in bars) != [278, 470, 662]:
    err("grid lines", len(grid), "beat lines", len(beats), "bar lines", [l.get("x1") for l in bars])
sys.exit(bad)
PYEOF

check "hit cells, velocity shading, timing ticks, grid, title (XML parsed)" \
	"$PY" "$T/svgcheck.py" "$T/o1/drummer1_s1_1_funk_80.mid_bar12.svg"

check "--scale 2 doubles width and height, keeps the viewBox" sh -c "
	'$BIN/pattern-svg' --scale 2 -o '$T/o2' <'$T/one.rec' &&
	grep -q 'width=\"1724\" height=\"416\" viewBox=\"0 0 862 208\"' '$T/o2/drummer1_s1_1_funk_80.mid_bar12.svg'"

check "two records, names sanitised, XML specials escaped, bad bytes replaced" sh -c "
	'$BIN/pattern-svg' -o '$T/o3' '$T/two.rec' && [ -f '$T/o3/a_b_1.svg' ] &&
	cd '$T/o3' && '$PY' -c '
import os, sys, xml.etree.ElementTree as ET
n = [f for f in os.listdir(\".\") if f != \"a_b_1.svg\"]
if len(n) != 1 or not n[0].startswith(\"x<&\") or not n[0].endswith(\".svg\"): print(n); sys.exit(1)
t = ET.parse(n[0]).getroot().find(\"{http://www.w3.org/2000/svg}title\").text
sys.exit(t != \"x<&\\\"y\\\">\u00e9?\" and print(repr(t)) is None)'"

check "no temporary files left behind" sh -c "[ \"\$(ls -A '$T/o3' | grep -c '^\\.')\" = 0 ]"

check "long id: cut at 200 bytes plus a hash" sh -c "
	'$BIN/pattern-svg' -o '$T/o4' '$T/long.rec' && ls '$T/o4' | grep -Eqx 'L{200}-[0-9a-f]{16}\\.svg'"

check "output directory is made when missing; default is ." sh -c "
	'$BIN/pattern-svg' -o '$T/new' '$T/long.rec' && mkdir '$T/o5' && cd '$T/o5' &&
	'$BIN/pattern-svg' <'$T/two.rec' && [ -f a_b_1.svg ]"

if command -v rsvg-convert >/dev/null; then
	check "rsvg-convert renders it" rsvg-convert -o "$T/one.png" "$T/o1/drummer1_s1_1_funk_80.mid_bar12.svg"
else
	ok "# SKIP rsvg-convert not installed (apt-get install librsvg2-bin)"
fi

fails "bad option: exit 2, usage" 2 usage "$BIN/pattern-svg" --bogus "$T/one.rec"
fails "--scale 0: exit 2" 2 "scale" "$BIN/pattern-svg" --scale 0 -o "$T/o6" "$T/one.rec"
fails "-o names a file: exit 1" 1 "not a directory" "$BIN/pattern-svg" -o "$T/one.rec" "$T/one.rec"
fails "truncated record: exit 1, names record 1" 1 "trunc.rec: record 1: truncated" \
	"$BIN/pattern-svg" -o "$T/o7" "$T/trunc.rec"
check "... the complete record before it is written" test -f "$T/o7/first.svg"
fails "wrong kind: exit 1, names record and key" 1 'lat.rec: record 0 (lat): "kind": is "latent"' \
	"$BIN/pattern-svg" -o "$T/o8" "$T/lat.rec" "$T/one.rec"
check "... and goes on with the next record and file" sh -c "
	[ -f '$T/o8/after-latent.svg' ] && [ -f '$T/o8/drummer1_s1_1_funk_80.mid_bar12.svg' ]"
fails "--strict: stops at the first bad record" 1 'record 0 (lat)' \
	"$BIN/pattern-svg" --strict -o "$T/o9" "$T/lat.rec" "$T/one.rec"
check "... and writes nothing after it" sh -c "[ -z \"\$(ls -A '$T/o9')\" ]"
exit $fail
