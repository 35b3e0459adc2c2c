#!/bin/bash
# tests/train-step.t: train-step as a black box: --init (parameter counts),
# one epoch (metrics records, validation), bit-identical reruns, SIGKILL in
# mid-epoch, damaged checkpoints and inputs, non-finite loss, export.
# Patterns come from tests/lib/gen_patterns.py (no GMD); rec-dump and jq read output.
. "$(dirname "$0")/lib/model.sh"
gen 300 1 > "$T/p300.rec"
gen 100 2 > "$T/v100.rec"
ts=$bin/train-step
cd "$T" || exit 1

# usage
$ts --bogus > out 2> err; st=$?
t "bad option: exit 2, usage on stderr, nothing on stdout" \
	test $st = 2 -a ! -s out -a "$(grep -c '^usage: train-step' err)" = 1
$ts -h > out 2> err; st=$?
t "-h: exit 0, usage on stderr" test $st = 0 -a ! -s out -a -s err
$ts --init tiny > out 2> err; st=$?
t "--init without -o: exit 2" test $st = 2
$ts --init tiny -m x.ckpt -o y.ckpt > out 2> err; st=$?
t "--init with -m: exit 2" test $st = 2
$ts --init nosuch -o y.ckpt > out 2> err; st=$?
t "--init unknown preset: exit 2, names it" test $st = 2 -a ! -e y.ckpt
grep -q nosuch err || ok 1 "message names the preset" err
$ts --init tiny --enc 0 -o y.ckpt > out 2> err; st=$?
t "--enc 0: exit 2" test $st = 2 -a ! -e y.ckpt

# --init
$ts --init tiny -o t0.ckpt > out 2> err; st=$?
t "--init tiny: exit 0, nothing on stdout" test $st = 0 -a ! -s out -a -s t0.ckpt
t "--init tiny prints its parameter count" grep -Eq '^train-step: tiny: [0-9,]+ parameters$' err
$ts --init groovae -o g0.ckpt > out 2> err; st=$?
t "--init groovae says 4,085,019 parameters" \
	test $st = 0 -a "$(cat err)" = "train-step: groovae: 4,085,019 parameters"
t "groovae checkpoint size: 64 + text + 3 x 4,085,019 floats" \
	test "$(stat -c %s g0.ckpt)" -ge $((3 * 4 * 4085019)) -a \
	"$(stat -c %s g0.ckpt)" -lt $((3 * 4 * 4085019 + 8192))
$ts --init groovae -o g0b.ckpt 2> /dev/null
t "--init is deterministic (same seed, same file)" cmp -s g0.ckpt g0b.ckpt
$ts --init groovae --seed 2 -o g0b.ckpt 2> /dev/null
t "--init --seed 2 gives other parameters" eval '! cmp -s g0.ckpt g0b.ckpt'
rm -f g0b.ckpt

# one epoch
$ts -m t0.ckpt -o t1.ckpt --batch 32 --seed 3 --every 4 --validate v100.rec p300.rec \
	> m1.rec 2> err; st=$?
t "one epoch: exit 0, nothing on stderr (not a tty)" test $st = 0 -a ! -s err -a -s t1.ckpt
"$bin/rec-dump" m1.rec > m1.json 2> err
t "metrics: train at steps 4, 8, 9; train-epoch; validation" test \
	"$(jq -r '[.kind, .id, .step, .epoch] | join(" ")' m1.json | tr '\n' ,)" = \
	"metrics train 4 1,metrics train 8 1,metrics train 9 1,metrics train-epoch 9 1,metrics validation 9 1,"
jq -e 'select(.id != "validation") | (.loss | isnormal) and .loss > 0 and
	(.r_loss - .hits - .vel - .off | fabs) < 1e-6 * .r_loss and .lr > 0 and .gnorm > 0 and
	.ex_per_s > 0 and .kl_bits >= 0 and .hit_acc >= 0 and .hit_acc <= 1 and .beta > 0.19' \
	m1.json > chk 2> err
t "train metrics: finite, r_loss = hits + vel + off, lr, gnorm" \
	test "$(grep -c true chk)" = 4
jq -e 'select(.id == "validation") | (.loss | isnormal) and (.lr == null)' m1.json > chk
t "validation metrics: finite loss, no lr" test "$(cat chk)" = true
$ts -m t0.ckpt -o t1b.ckpt --batch 32 --seed 3 --every 4 --validate v100.rec p300.rec \
	> m1b.rec 2> err
t "rerun of the epoch: identical checkpoint" cmp t1.ckpt t1b.ckpt
$ts -m t0.ckpt -o t1c.ckpt --batch 32 --seed 3 < p300.rec > /dev/null 2> err
t "stdin input, no --validate: identical checkpoint" cmp t1.ckpt t1c.ckpt
$ts -m t0.ckpt -o t1c.ckpt --batch 32 --seed 4 p300.rec > /dev/null 2> err
t "another --seed: another checkpoint" eval '! cmp -s t1.ckpt t1c.ckpt'
$ts -m t1.ckpt -o t2.ckpt --batch 32 --seed 3 p300.rec > m2.rec 2> err
t "second epoch: epoch 2, step 18" test \
	"$("$bin/rec-dump" m2.rec | jq -r 'select(.id == "train-epoch") | "\(.epoch) \(.step)"')" = "2 18"
$ts -m t0.ckpt -o u1.ckpt --batch 32 p300.rec > /dev/null 2> err &&
	$ts -m t0.ckpt -o u1b.ckpt --batch 32 p300.rec > /dev/null 2> err
t "without --seed: reproducible from the checkpoint's state" cmp u1.ckpt u1b.ckpt
cp t1.ckpt same.ckpt
$ts -m same.ckpt -o same.ckpt --batch 32 --seed 3 p300.rec > /dev/null 2> err
t "-o equal to -m: writes the next epoch" cmp same.ckpt t2.ckpt
t "no temporary files left" test "$(ls | grep -c tmp)" = 0
$ts -m t0.ckpt -o o.ckpt --batch 512 p300.rec > out 2> err; st=$?
t "fewer patterns than a batch: exit 1, message, no output" \
	test $st = 1 -a ! -e o.ckpt -a ! -s out
grep -q 'fewer than one batch' err || ok 1 "message says fewer than one batch" err
$ts -m t0.ckpt -o o.ckpt --batch 0 p300.rec > out 2> err; st=$?
t "--batch 0: exit 2" test $st = 2 -a ! -e o.ckpt

# bad input data
gen 40 1 latent > wrong.rec
$ts -m t0.ckpt -o o.ckpt --batch 8 p300.rec wrong.rec > out 2> err; st=$?
t "wrong kind: exit 1, no checkpoint, nothing on stdout" test $st = 1 -a ! -e o.ckpt -a ! -s out
t "wrong kind: message names file, record and kind" \
	grep -q 'wrong.rec: record 0 (gen/0.mid#bar1).*latent' err
head -c 5000 p300.rec > trunc.rec
$ts -m t0.ckpt -o o.ckpt --batch 8 p300.rec trunc.rec > out 2> err; st=$?
t "truncated record: exit 1, no checkpoint" test $st = 1 -a ! -e o.ckpt -a ! -s out -a -s err
gen 40 1 pattern huge > huge.rec
$ts -m t0.ckpt -o o.ckpt --batch 8 --every 1 huge.rec > out 2> err; st=$?
t "non-finite loss: exit 1, no checkpoint" test $st = 1 -a ! -e o.ckpt
t "non-finite loss: says so" grep -q 'loss is inf; no checkpoint written' err

# damaged checkpoints
size=$(stat -c %s t0.ckpt)
for cut in 0 7 63 64 100 4095 4096 $((size / 2)) $((size - 1)); do
	head -c $cut t0.ckpt > cut.ckpt
	$ts -m cut.ckpt -o o.ckpt --batch 8 p300.rec > out 2> err; st=$?
	[ $st = 1 ] && [ ! -e o.ckpt ] && [ ! -s out ] && [ "$(wc -l < err)" = 1 ] ||
		{ echo "# cut at $cut: exit $st"; ok 1 "truncated checkpoint" err; }
done
t "checkpoint truncated at 9 lengths: exit 1, one line, no output" true
grep -q 'cut.ckpt: truncated: '$((size - 1))' of '$size' bytes' err ||
	ok 1 "message says truncated, with sizes" err
bad=0
for off in 0 8 12 16 20 24 32 40 48 56 64 200 4096 5000 $((size / 2)) $((size - 20)) $((size - 1)); do
	cp t0.ckpt flip.ckpt
	b=$(od -An -tu1 -j$off -N1 t0.ckpt)
	printf "\\$(printf %03o $((b ^ 0x20)))" |
		dd of=flip.ckpt bs=1 seek=$off conv=notrunc 2> /dev/null
	cmp -s flip.ckpt t0.ckpt && { bad=1; echo "# byte $off not changed"; }
	$ts -m flip.ckpt -o o.ckpt --batch 8 p300.rec > out 2> err; st=$?
	[ $st = 1 ] && [ ! -e o.ckpt ] && [ ! -s out ] ||
		{ bad=1; echo "# byte $off: exit $st"; sed 's/^/# /' err; }
done
t "a damaged byte at 17 offsets: exit 1, no output" test $bad = 0
cp t0.ckpt v2.ckpt
printf '\002' | dd of=v2.ckpt bs=1 seek=8 conv=notrunc 2> /dev/null
$ts -m v2.ckpt -o o.ckpt p300.rec > out 2> err
t "wrong version: says which" grep -q 'version 2; this build reads version 1' err
$ts -m nonexistent.ckpt -o o.ckpt p300.rec > out 2> err; st=$?
t "missing checkpoint: exit 1" test $st = 1 -a ! -e o.ckpt
$ts -m p300.rec -o o.ckpt p300.rec > out 2> err; st=$?
t "a record file as checkpoint: exit 1, not a checkpoint" \
	test $st = 1 -a "$(grep -c 'not a drumvae checkpoint' err)" = 1

# SIGKILL in mid-epoch: the input is untouched, no output file is left,
# and rerunning gives the same checkpoint as an uninterrupted run
$ts --init tiny --enc 64 --dec 64 --cond 64 -o k0.ckpt 2> /dev/null
gen 800 3 > p800.rec
cp k0.ckpt k0.orig
$ts -m k0.ckpt -o k1.ckpt --batch 8 --seed 5 --every 1 p800.rec > km.rec 2> err &
pid=$!
for i in $(seq 200); do
	[ "$(stat -c %s km.rec)" -gt 2000 ] && break
	sleep 0.02
done
kill -9 $pid
wait $pid 2> /dev/null; st=$?
nrec=$("$bin/rec-dump" km.rec 2> /dev/null | wc -l)
t "killed in mid-epoch (status $st, after $nrec of 100 steps)" test $st = 137 -a "$nrec" -lt 100
t "after SIGKILL: the input checkpoint is intact" cmp k0.ckpt k0.orig
t "after SIGKILL: no output checkpoint and no temporary file" \
	test "$(ls | grep -c '^k1')" = 0
$ts -m k0.ckpt -o k1.ckpt --batch 8 --seed 5 --every 1 p800.rec > /dev/null 2> err
$ts -m k0.orig -o k1.full --batch 8 --seed 5 --every 1 p800.rec > /dev/null 2> err
t "rerun after SIGKILL = uninterrupted run" cmp k1.ckpt k1.full

# export
$ts -m t1.ckpt -o e.ckpt --export > out 2> err; st=$?
t "--export: exit 0, no Adam state (a third of the size)" \
	test $st = 0 -a $(( $(stat -c %s e.ckpt) * 5 / 2 )) -lt "$(stat -c %s t1.ckpt)"
$ts -m t1.ckpt -o h.ckpt --export-half > out 2> err; st=$?
t "--export-half: exit 0, about half of --export" \
	test $st = 0 -a "$(stat -c %s h.ckpt)" -lt "$(stat -c %s e.ckpt)"
$ts -m t1.ckpt -o h.ckpt --export-half p300.rec > out 2> err; st=$?
t "--export with input files: exit 2" test $st = 2
if [ -x "$bin/decode" ]; then
	"$bin/decode" -m t1.ckpt --sample 5 --temperature 0 > d1.rec 2> err
	"$bin/decode" -m e.ckpt --sample 5 --temperature 0 > d2.rec 2>> err
	t "--export: decode gives the same patterns as the full checkpoint" cmp d1.rec d2.rec
	"$bin/decode" -m h.ckpt --sample 5 --temperature 0 > d3.rec 2>> err
	t "--export-half: decodes" test -s d3.rec
fi
$ts -m e.ckpt -o e1.ckpt --batch 32 --seed 3 p300.rec > /dev/null 2> err; st=$?
t "training an exported model starts with zero Adam state" test $st = 0 -a -s e1.ckpt

# progress line on a terminal
if command -v script > /dev/null; then
	script -qec "$ts -m t0.ckpt -o p.ckpt --batch 32 p300.rec > /dev/null" /dev/null \
		> tty.txt 2>&1
	t "progress line on a terminal" grep -q 'epoch 1 step .*/9 loss .* ex/s ETA' tty.txt
fi

echo "1..$n"
exit $fail
