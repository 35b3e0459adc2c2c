#!/bin/sh
# latent-mix.t: --slerp and --similar on hand-made latent records (built
# with tests/lib/mp.py, a minimal MessagePack writer), checked number by number;
# failure cases: bad options, record count, truncated record, wrong kind.
. "$(dirname "$0")/lib/tap.sh"

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
r = mp.load(\"s.rec\"); bad = 0
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
m = mp.unf32(mp.load(\"p.rec\")[1][\"mu\"])
want = [1.5, 3.0, 0.0, -1.5]
if max(abs(m[i] - want[i]) for i in range(4)) > 1e-6: print(\"mid\", m, \"want\", want); sys.exit(1)
'"

check "slerp reads its two records from two files" sh -c "
	cd '$T' && '$PY' -c '
import mp; r = mp.load(\"ab.rec\"); mp.write(\"a.rec\", r[:1]); mp.write(\"b.rec\", r[1:])' &&
	'$BIN/latent-mix' --slerp 5 a.rec - <b.rec | cmp - s.rec"

check "similar 1: z is the input z, K outputs, metadata copied" sh -c "
	'$BIN/latent-mix' --similar 1 --count 2 '$T/in.rec' >'$T/s1.rec' && cd '$T' && '$PY' -c '
import mp, sys
r = mp.load(\"s1.rec\"); bad = 0
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
v = [x for r in mp.load(\"s0.rec\") for x in mp.unf32(r[\"z\"])]
m = sum(v) / len(v); sd = (sum((x - m) ** 2 for x in v) / len(v)) ** 0.5
print(\"n\", len(v), \"mean\", m, \"sd\", sd)
sys.exit(not (len(v) == 10240 and abs(m) < 0.05 and abs(sd - 1) < 0.05))
'"

check "similar 0.75: z = 0.75 z_in + 0.25 eps with the same eps as --similar 0" sh -c "
	'$BIN/latent-mix' --similar 0.75 --count 40 '$T/big.rec' >'$T/s75.rec' && cd '$T' && '$PY' -c '
import mp, sys
e = [mp.unf32(r[\"z\"]) for r in mp.load(\"s0.rec\")]
z = [mp.unf32(r[\"z\"]) for r in mp.load(\"s75.rec\")]
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
