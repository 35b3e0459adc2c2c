#!/bin/bash
# tests/encode-decode.t: encode and decode as black boxes on a tiny model:
# record shapes and metadata, determinism, --sample/--humanize/--bpm, bad
# options, damaged checkpoints, wrong or truncated records. (The speed of
# decode --sample 64 is measured by `make bench-decode`, not here.)
# Patterns come from tests/lib/gen_patterns.py (no GMD); rec-dump and jq read output.
. "$(dirname "$0")/lib/model.sh"
dump() { "$bin/rec-dump" "$@"; }
enc=$bin/encode dec=$bin/decode
cd "$T" || exit 1
gen 70 1 > p70.rec
gen 3 1 > p3.rec
"$bin/train-step" --init tiny -o m0.ckpt 2> /dev/null
"$bin/train-step" -m m0.ckpt -o m.ckpt --batch 10 --seed 1 p70.rec > /dev/null 2> err ||
	ok 1 "train a tiny model" err
Z=$(head -c 4096 m.ckpt | tr -d '\0' | sed -n 's/^z //p')

# usage
for tool in encode decode; do
	"$bin/$tool" --bogus -m m.ckpt > out 2> err; st=$?
	t "$tool: bad option: exit 2, usage, nothing on stdout" \
		test $st = 2 -a ! -s out -a "$(grep -c "^usage: $tool -m CKPT" err)" = 1
	"$bin/$tool" < p3.rec > out 2> err; st=$?
	t "$tool: no -m: exit 2" test $st = 2 -a ! -s out
	"$bin/$tool" -h > out 2> err; st=$?
	t "$tool: -h: exit 0" test $st = 0 -a ! -s out -a -s err
done
$dec -m m.ckpt --sample 2.5 > out 2> err; st=$?
t "decode --sample 2.5: exit 2" test $st = 2 -a ! -s out
$dec -m m.ckpt --temperature -1 --sample 1 > out 2> err; st=$?
t "decode --temperature -1: exit 2" test $st = 2 -a ! -s out
$dec -m m.ckpt --sample 1 l.rec > out 2> err; st=$?
t "decode --sample with input files: exit 2" test $st = 2 -a ! -s out

# encode
$enc -m m.ckpt p70.rec > l.rec 2> err; st=$?
t "encode 70 patterns: exit 0, nothing on stderr" test $st = 0 -a ! -s err
dump l.rec > l.json
t "70 latent records, ids in input order" test \
	"$(jq -r .id l.json | tr '\n' ' ')" = "$(dump p70.rec | jq -r .id | tr '\n' ' ')"
jq -e --argjson Z "$Z" '.kind == "latent" and .v == 1 and .zdim == $Z and
	(.mu | length) == $Z and (.sigma | length) == $Z and .z == .mu and
	all(.sigma[]; . > 0) and .source != null and .bar != null and .split == "train" and
	.groove == null and .steps == null' l.json > chk
t "latent: zdim $Z, mu, sigma > 0, z = mu, metadata copied, no groove" \
	test "$(grep -c true chk)" = 70
t "latent qpm is the pattern's" test "$(jq -r .qpm l.json | head -3 | tr '\n' ' ')" = "80 81 82 "
$enc -m m.ckpt < p70.rec > l2.rec 2> err
t "encode is deterministic (stdin)" cmp l.rec l2.rec
$enc -m m.ckpt --sample --seed 4 p70.rec > ls.rec 2> err
$enc -m m.ckpt --sample --seed 4 p70.rec > ls2.rec 2>> err
t "encode --sample: deterministic with a seed" cmp ls.rec ls2.rec
dump ls.rec | jq -e '.z != .mu' > chk
t "encode --sample: z differs from mu" test "$(grep -c true chk)" = 70
dump ls.rec | jq -c .mu > a; jq -c .mu l.json > b
t "encode --sample: same mu" cmp a b
$enc -m m.ckpt --humanize p70.rec > lh.rec 2> err
dump lh.rec | jq -c .mu > c
t "encode --humanize: other mu" eval '! cmp -s b c'

# decode
$dec -m m.ckpt --sample 5 --temperature 0 > s.rec 2> err; st=$?
t "decode --sample 5: exit 0" test $st = 0 -a ! -s err
dump s.rec > s.json
t "sample ids" test "$(jq -r .id s.json | tr '\n' ' ')" = \
	"sample-0000 sample-0001 sample-0002 sample-0003 sample-0004 "
jq -e '.kind == "pattern" and .steps == 64 and .classes == 9 and .qpm == 120 and
	(.groove | length) == 1728 and
	all(range(0; 64) as $t | .groove[$t * 27:$t * 27 + 9][]; . == 0 or . == 1) and
	all(range(0; 64) as $t | .groove[$t * 27 + 9:$t * 27 + 18][]; . >= 0 and . <= 1) and
	all(range(0; 64) as $t | .groove[$t * 27 + 18:$t * 27 + 27][]; . >= -1 and . <= 1)' \
	s.json > chk
t "patterns: 64 x 27, hits 0/1, velocity in [0,1], offset in [-1,1]" \
	test "$(grep -c true chk)" = 5
$dec -m m.ckpt --sample 70 --temperature 0 > s70.rec 2> err
dump s70.rec | head -5 | jq -c .groove > a; jq -c .groove s.json > b
/usr/bin/python3 -c '
import json, sys
a = [json.loads(l) for l in open("a")]; b = [json.loads(l) for l in open("b")]
d = max(abs(x - y) for p, q in zip(a, b) for x, y in zip(p, q))
print("# max difference %g" % d); sys.exit(not (len(a) == len(b) == 5 and d < 1e-4))' > err
t "decode --sample: the first 5 of 70 match --sample 5 (at T=0, to 1e-4: batch size)" test $? = 0
$dec -m m.ckpt --sample 5 --seed 9 > t1.rec 2> err
$dec -m m.ckpt --sample 5 --seed 9 > t2.rec 2>> err
t "decode: deterministic with a seed" cmp t1.rec t2.rec
$dec -m m.ckpt --sample 5 --seed 10 > t3.rec 2>> err
t "decode: another seed, other patterns" eval '! cmp -s t1.rec t3.rec'
$dec -m m.ckpt --sample 3 --bpm 96 | dump | jq .qpm > q 2> err
t "decode --bpm 96" test "$(sort -u q)" = 96
$dec -m m.ckpt --temperature 0 l.rec > r.rec 2> err; st=$?
dump r.rec > r.json
t "decode latents: exit 0, one pattern each" test $st = 0 -a "$(wc -l < r.json)" = 70
t "decode latents: ids ID#dec, qpm and metadata of the latent, no latent keys" test \
	"$(jq -c '[.id, .qpm, .source, .bar, .split, .zdim, .mu, .z]' r.json | head -1)" = \
	'["gen/0.mid#bar1#dec",80,"gen/0.mid",1,"train",null,null,null]'
$dec -m m.ckpt --temperature 0 --bpm 100 l.rec | dump | jq .qpm | sort -u > q
t "decode latents --bpm 100 overrides qpm" test "$(cat q)" = 100
$dec -m m.ckpt --teacher p70.rec l.rec > tf.rec 2> err; st=$?
dump tf.rec > tf.json
t "decode --teacher: exit 0, one pattern each, same ids" test $st = 0 -a \
	"$(jq -r .id tf.json | tr '\n' ' ')" = "$(jq -r .id r.json | tr '\n' ' ')"
jq -c '.groove[0:27]' tf.json > a; jq -c '.groove[0:27]' r.json > b
t "decode --teacher: step 0 (zero input in both) equals free decoding at T=0" cmp a b
jq -c '.groove' tf.json > a; jq -c '.groove' r.json > b
t "decode --teacher: later steps follow the targets, not the own samples" eval '! cmp -s a b'
$dec -m m.ckpt --teacher p3.rec l.rec > out 2> err; st=$?
t "decode --teacher with too few patterns: exit 1" test $st = 1 -a -s err
t "decode --teacher with too few patterns: says so" grep -q 'no pattern left for latent 3' err
$enc -m m.ckpt p3.rec > l3.rec 2> /dev/null
$dec -m m.ckpt --teacher s.rec l3.rec > out 2> err; st=$?
t "decode --teacher out of step with the latents: exit 1, nothing on stdout" test $st = 1 -a ! -s out
t "decode --teacher out of step: names both ids" grep -q 'latent 0 is .* but the next pattern is' err
$dec -m m.ckpt --sample 2 --teacher p3.rec > out 2> err; st=$?
t "decode --sample with --teacher: exit 2" test $st = 2 -a ! -s out

# bad input
$dec -m m.ckpt p3.rec > out 2> err; st=$?
t "decode a pattern: exit 1, nothing on stdout" test $st = 1 -a ! -s out
t "decode a pattern: names the record" grep -q 'p3.rec: record 0 (gen/0.mid#bar1): "kind"' err
$enc -m m.ckpt l.rec > out 2> err; st=$?
t "encode a latent: exit 1, nothing on stdout" test $st = 1 -a ! -s out
t "encode a latent: names the record" grep -q 'l.rec: record 0 (gen/0.mid#bar1): "kind"' err
head -c 3000 p3.rec > trunc.rec
$enc -m m.ckpt trunc.rec > out 2> err; st=$?
t "encode a truncated record: exit 1, nothing on stdout" test $st = 1 -a ! -s out -a -s err
head -c 100 l.rec > trunc.rec
$dec -m m.ckpt trunc.rec > out 2> err; st=$?
t "decode a truncated record: exit 1, nothing on stdout" test $st = 1 -a ! -s out -a -s err
"$bin/train-step" --init tiny --z 3 -o z3.ckpt 2> /dev/null
$enc -m m.ckpt p3.rec > l3.rec
$dec -m z3.ckpt l3.rec > out 2> err; st=$?
t "decode with another latent size: exit 1, says so" \
	test $st = 1 -a ! -s out -a "$(grep -c "\"zdim\": is $Z, the model's latent size is 3" err)" = 3
$enc -m m.ckpt p3.rec nonexistent.rec l3.rec p3.rec > out 2> err; st=$?
t "encode: bad files and records are reported, the good ones encoded, exit 1" \
	test $st = 1 -a "$(dump out | wc -l)" = 6 -a "$(wc -l < err)" = 4
$enc -m m.ckpt --strict p3.rec l3.rec p3.rec > out 2> err; st=$?
t "encode --strict: stops at the first bad file" test $st = 1 -a "$(dump out | wc -l)" = 3

# damaged checkpoints: one line, exit 1, nothing on stdout
size=$(stat -c %s m.ckpt)
bad=0
for cut in 0 5 64 4096 $((size / 2)) $((size - 1)); do
	head -c $cut m.ckpt > d.ckpt
	for tool in "$dec -m d.ckpt --sample 1" "$enc -m d.ckpt p3.rec"; do
		$tool > out 2> err; st=$?
		[ $st = 1 ] && [ ! -s out ] && [ "$(wc -l < err)" = 1 ] ||
			{ bad=1; echo "# $tool cut at $cut: exit $st"; sed 's/^/# /' err; }
	done
done
t "truncated checkpoint (6 lengths): exit 1, one line, no output" test $bad = 0
bad=0
for off in 0 9 20 30 70 4100 $((size / 3)) $((size - 12)); do
	cp m.ckpt d.ckpt
	b=$(od -An -tu1 -j$off -N1 m.ckpt)
	printf "\\$(printf %03o $((b ^ 0x81)))" | dd of=d.ckpt bs=1 seek=$off conv=notrunc 2> /dev/null
	$dec -m d.ckpt --sample 1 > out 2> err; st=$?
	[ $st = 1 ] && [ ! -s out ] || { bad=1; echo "# byte $off: exit $st"; sed 's/^/# /' err; }
done
t "damaged byte in header/config/params: decode refuses (exit 1, no output)" test $bad = 0
$dec -m p3.rec --sample 1 > out 2> err; st=$?
t "a record file as checkpoint: exit 1" test $st = 1 -a "$(grep -c 'not a drumvae checkpoint' err)" = 1


echo "1..$n"
exit $fail
