#!/bin/sh
# pattern-svg.t: SVG files from hand-made pattern records: names, well-formed
# XML, one shaded cell and one timing tick per hit at the right place, grid
# lines, --scale, and failure cases (bad option, truncated record, wrong kind).
. "$(dirname "$0")/lib/tap.sh"

echo 1..18

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
if n != [\"x___y_____.svg\"]: print(n); sys.exit(1)
t = ET.parse(n[0]).getroot().find(\"{http://www.w3.org/2000/svg}title\").text
sys.exit(t != \"x<&\\\"y\\\">\u00e9?\" and print(repr(t)) is None)'"

check "--name P: files P-001.svg, P-002.svg in record order" sh -c "
	'$BIN/pattern-svg' --name groove -o '$T/o6' '$T/two.rec' &&
	[ \"\$(ls '$T/o6' | tr '\\n' ' ')\" = 'groove-001.svg groove-002.svg ' ] &&
	grep -q 'a/b#1' '$T/o6/groove-001.svg'"

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
