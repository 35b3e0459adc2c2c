#!/bin/bash
# tests/rec-dump.t: rec-dump turns records into JSON lines that jq and
# python's json read back exactly (floats bit for bit, strings escaped).
# Records are built with /usr/bin/python3 + struct (no msgpack module).
BIN=${DRUMVAE_BIN:-bin}
DUMP=$BIN/rec-dump
PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! command -v jq >/dev/null; then
	echo "1..0 # SKIP needs /usr/bin/python3 and jq"
	exit 0
fi
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0 fail=0
ok() { # ok COND-STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=$((fail + 1)); fi
}
show() { sed 's/^/# /' "$@"; }

# mp.py: a tiny MessagePack encoder (containers always 32-bit headers)
cat >"$T/mp.py" <<'EOF'
import struct, sys
def enc(o):
    if o is None: return b'\xc0'
    if o is True: return b'\xc3'
    if o is False: return b'\xc2'
    if isinstance(o, int):
        if 0 <= o < 128: return bytes([o])
        if -32 <= o < 0: return struct.pack('b', o)
        if 0 <= o: return b'\xcf' + struct.pack('>Q', o)
        return b'\xd3' + struct.pack('>q', o)
    if isinstance(o, float): return b'\xcb' + struct.pack('>d', o)
    if isinstance(o, str):
        b = o.encode('utf-8', 'surrogateescape'); return b'\xdb' + struct.pack('>I', len(b)) + b
    if isinstance(o, (bytes, bytearray)): return b'\xc6' + struct.pack('>I', len(o)) + bytes(o)
    if isinstance(o, list): return b'\xdd' + struct.pack('>I', len(o)) + b''.join(map(enc, o))
    if isinstance(o, dict): return b'\xdf' + struct.pack('>I', len(o)) + b''.join(enc(k) + enc(v) for k, v in o.items())
    if isinstance(o, Raw): return o.b
    raise TypeError(o)
class Raw:
    def __init__(self, b): self.b = b
f32 = lambda a: struct.pack('<%df' % len(a), *a)
f64 = lambda a: struct.pack('<%dd' % len(a), *a)
i32 = lambda a: struct.pack('<%di' % len(a), *a)
u8 = bytes
out = sys.stdout.buffer
EOF
export PYTHONPATH=$T

# one pattern, one grid with awkward values, one latent
$PY - >"$T/a.rec" <<'EOF'
from mp import *
import random, math
random.seed(1)
g = [random.uniform(-1, 1) for _ in range(1728)]
g[0], g[1], g[2], g[3] = 1e-45, -0.0, 3.4028234663852886e38, 0.1
out.write(enc({"kind": "pattern", "v": 1, "id": "d1/s1/1_funk_80_beat_4-4.mid#bar12",
    "steps": 64, "classes": 9, "qpm": 80.00001, "groove": f32(g), "bar": 12, "split": "train"}))
out.write(enc({"kind": "grid", "v": 1, "id": "g", "n": 3, "step": i32([0, -7, 2**31 - 1]),
    "on_s": f64([0.1, 1/3, 5e-324]), "pitch": u8([36, 38, 255]), "velocity": u8([0, 1, 127]),
    "offset": f32([0.5, -0.25, 1/3]), "blob": b"\x00\x01\xfe\xff", "small": -3, "neg": -2**40,
    "big": 2**64 - 1, "f": 2.5, "t": True, "nil": None, 1: "intkey",
    "list": [1, [2, {"x": []}], "s"], "ext": Raw(b'\xd4\x05\x2a')}))
out.write(enc({"kind": "latent", "v": 1, "id": "z", "zdim": 4, "mu": f32([float('nan'), float('inf'), -float('inf'), 1.5]),
    "sigma": f32([1, 2, 3, 4]), "z": f32([0, 0, 0, 0]), "tempo_qpm": f64([120.0]), "ts_num": u8([4])}))
EOF
$DUMP "$T/a.rec" >"$T/a.json" 2>"$T/err"; st=$?
ok $((st != 0 || $(wc -l <"$T/a.json") != 3)) "three records give three lines, exit 0 (exit $st)"
show "$T/err"
jq -c . "$T/a.json" >/dev/null 2>"$T/err"
ok $? "every line is valid JSON for jq"
show "$T/err"

$PY - "$T/a.rec" "$T/a.json" <<'EOF' >"$T/out" 2>&1
import json, struct, sys
raw = open(sys.argv[1], 'rb').read()
recs = [json.loads(l) for l in open(sys.argv[2])]
bad = []
p, g, z = recs
want = struct.unpack('<1728f', raw[raw.index(b'groove') + 11:][:6912])
got = p["groove"]
for i, (a, b) in enumerate(zip(want, got)):
    if struct.pack('<f', a) != struct.pack('<f', b):
        bad.append("groove[%d]: %r != %r" % (i, b, a))
if len(got) != 1728: bad.append("groove has %d values" % len(got))
if p["qpm"] != 80.00001: bad.append("qpm %r" % p["qpm"])
if list(p)[:3] != ["kind", "v", "id"] or p["bar"] != 12 or p["split"] != "train": bad.append("metadata %r" % list(p))
if g["on_s"] != [0.1, 1/3, 5e-324]: bad.append("on_s %r" % g["on_s"])
if g["step"] != [0, -7, 2**31 - 1]: bad.append("step %r" % g["step"])
if g["pitch"] != [36, 38, 255] or g["velocity"] != [0, 1, 127]: bad.append("u8 %r %r" % (g["pitch"], g["velocity"]))
if [struct.pack('<f', x) for x in g["offset"]] != [struct.pack('<f', x) for x in (0.5, -0.25, 1/3)]: bad.append("offset %r" % g["offset"])
if g["blob"] != "0001feff": bad.append("blob %r" % g["blob"])
if (g["small"], g["neg"], g["big"], g["f"], g["t"], g["nil"]) != (-3, -2**40, 2**64 - 1, 2.5, True, None): bad.append("scalars")
if g["1"] != "intkey": bad.append("integer key %r" % g.get("1"))
if g["list"] != [1, [2, {"x": []}], "s"]: bad.append("list %r" % g["list"])
if g["ext"] != {"ext": 5, "data": "2a"}: bad.append("ext %r" % g["ext"])
if z["mu"] != ["nan", "inf", "-inf", 1.5] or z["sigma"] != [1, 2, 3, 4]: bad.append("latent %r" % z["mu"])
if z["tempo_qpm"] != [120] or z["ts_num"] != [4]: bad.append("tempo_qpm/ts_num")
if bad: print("\n".join(bad[:10]))
sys.exit(1 if bad else 0)
EOF
ok $? "values read back exactly: f32 bit for bit (%.9g), f64 (%.17g), i32, u8, scalars, nesting, ext, nan/inf"
show "$T/out"

# strings: escapes, UTF-8 kept, invalid UTF-8 replaced
$PY - >"$T/s.rec" <<'EOF'
from mp import *
s = b'q"b\\n\nt\tr\rc\x01\x1f\x7f e\xc3\xa9 \xf0\x9f\xa5\x81 bad\xff over\xc0\xaf sur\xed\xa0\x80 cut\xe2\x82'
out.write(enc({"kind": "notes", "v": 1, "id": "x", "s": s.decode('utf-8', 'surrogateescape'),
    b'k\xff\n'.decode('utf-8', 'surrogateescape'): 1}))
EOF
$DUMP "$T/s.rec" >"$T/s.json" 2>"$T/err"
$PY - "$T/s.json" <<'EOF' >"$T/out" 2>&1
import json, sys
line = open(sys.argv[1], 'rb').read()
r = json.loads(line)
want = 'q"b\\n\nt\tr\rc\x01\x1f\x7f e\u00e9 \U0001f941 bad\ufffd over\ufffd\ufffd sur\ufffd\ufffd\ufffd cut\ufffd\ufffd'
bad = []
if r["s"] != want: bad.append("got %r\nwant %r" % (r["s"], want))
if 'k\ufffd\n' not in r: bad.append("key %r" % list(r))
if line.count(b'\n') != 1: bad.append("raw newline inside the line")
for c in line[:-1]:
    if c < 0x20: bad.append("raw control byte %d" % c); break
if bad: print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
ok $? "strings: quotes, backslashes, control bytes escaped; UTF-8 kept; invalid bytes become U+FFFD"
show "$T/out" "$T/err"

# options
$DUMP -b "$T/a.rec" | jq -r 'select(.id == "g") | .blob' >"$T/out"
ok $([ "$(cat "$T/out")" = "AAH+/w==" ]; echo $?) "-b: unknown bins in base64 ($(cat "$T/out"))"
$DUMP --raw "$T/a.rec" | jq -r 'select(.id == "g") | .step' >"$T/out"
ok $([ "$(cat "$T/out")" = "00000000f9ffffffffffff7f" ]; echo $?) "--raw: typed bins as hex too ($(cat "$T/out"))"
$DUMP -k id,qpm,nope "$T/a.rec" >"$T/out"
printf '%s\n' '{"id":"d1/s1/1_funk_80_beat_4-4.mid#bar12","qpm":80.000010000000003}' '{"id":"g"}' '{"id":"z"}' >"$T/want"
diff "$T/want" "$T/out" >"$T/diff"
ok $? "-k id,qpm,nope keeps only those keys, in record order"
show "$T/diff"
$DUMP <"$T/a.rec" | cmp -s - "$T/a.json"
ok $? "no file: reads stdin, same output"
$DUMP - <"$T/a.rec" | cmp -s - "$T/a.json"
ok $? "-: reads stdin"
$DUMP "$T/a.rec" "$T/a.rec" | wc -l | grep -qx 6
ok $? "two files: six lines"
$DUMP </dev/null >"$T/out" 2>"$T/err"; st=$?
ok $((st != 0 || $(wc -c <"$T/out") != 0)) "empty input: no output, exit 0"

# failure cases
$DUMP --bogus "$T/a.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 2 || $(wc -c <"$T/out") != 0)) "bad option: exit 2 ($st), nothing on stdout"
grep -q '^usage: rec-dump' "$T/err"
ok $? "bad option: usage on stderr"
$DUMP -h >"$T/out" 2>"$T/err"; st=$?
ok $((st != 0 || $(wc -c <"$T/out") != 0)) "-h: exit 0, nothing on stdout"
grep -qx 'usage: rec-dump \[-r\] \[-b\] \[-k KEY,...\] \[--strict\] \[file ...\]' "$T/err"
ok $? "-h: usage on stderr matches the man page SYNOPSIS"

size=$(stat -c %s "$T/a.rec")
head -c 7000 "$T/a.rec" >"$T/cut.rec"
$DUMP "$T/cut.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -c <"$T/out") != 0)) "truncated first record: exit 1 ($st), nothing on stdout"
grep -q "rec-dump: $T/cut.rec: record 0: truncated" "$T/err"
ok $? "truncated first record: message names file and record 0"
show "$T/err"
head -c $((size - 10)) "$T/a.rec" >"$T/cut.rec"
$DUMP "$T/cut.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -l <"$T/out") != 2)) "truncated third record: exit 1 ($st), the two complete records on stdout"
grep -q "record 2: truncated" "$T/err"
ok $? "truncated third record: message names record 2"
show "$T/err"

echo 'this is text, not records' >"$T/text"
$DUMP "$T/text" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -c <"$T/out") != 0)) "text input: exit 1 ($st), nothing on stdout"
show "$T/err"

$DUMP "$T/nonexistent" "$T/a.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -l <"$T/out") != 3)) "missing file: warns, goes on with the next file, exit 1"
grep -q "nonexistent: No such file" "$T/err"
ok $? "missing file: message names the file"
$DUMP --strict "$T/nonexistent" "$T/a.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1 || $(wc -c <"$T/out") != 0)) "--strict: stops at the first bad file"

$PY - >"$T/b.rec" <<'EOF'
from mp import *
out.write(enc({"kind": "grid", "v": 1, "id": "short", "step": b"\x01\x02\x03", "pitch": u8([1])}))
EOF
$DUMP "$T/b.rec" >"$T/out" 2>"$T/err"; st=$?
ok $((st != 1)) "typed key with a bad length: exit 1 ($st)"
grep -q 'record 0 (short): "step": bin of 3 bytes' "$T/err"
ok $? "typed key with a bad length: message names record and key"
jq -e '.step == "010203" and .pitch == [1]' "$T/out" >/dev/null
ok $? "typed key with a bad length: the line is still written, that key as bytes"

$DUMP "$T/a.rec" >/dev/full 2>"$T/err"; st=$?
ok $((st != 1)) "stdout on a full disk: exit 1 ($st)"
grep -q 'write error' "$T/err"
ok $? "stdout on a full disk: \"write error\" on stderr"

echo "1..$n"
[ "$fail" -eq 0 ]
