#!/bin/sh
# pattern-eval.t: reconstruction and distribution metrics on hand-made
# pattern records whose every number was worked out by hand (see the
# comments), the text table, and failure cases.
. "$(dirname "$0")/lib/tap.sh"

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
    + (len(mp.load(\"m.rec\")) != 1))
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
sys.exit(bad + (len(mp.load(\"d.rec\")) != 3))
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
