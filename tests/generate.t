#!/bin/sh
# generate.t: the product's first command, `make generate`, on the shipped
# model: N MIDI files and pictures, each a 4-bar groove with velocities and
# microtiming that midicsv and python3-mido read back the same; the same
# seed gives the same files, another seed other ones; reconstruct and
# interpolate run on a MIDI file midi-write made; bad input fails cleanly.
. "$(dirname "$0")/lib/tap.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${DRUMVAE_MODEL:-$top/samples/drumvae.ckpt}
mk() { make -s -C "$top" --no-print-directory BIN="$BIN" MODEL="$MODEL" "$@"; }
echo "1..13"
if [ ! -s "$MODEL" ]; then
	for i in $(seq 13); do skip "no model at $MODEL"; done
	exit 0
fi

check "make generate N=4 SEED=7: exit 0" mk generate N=4 SEED=7 OUT="$T/a"
check "... 4 MIDI files, 4 pictures, all 4 back to back in samples.mid" sh -c "
	[ \"\$(ls '$T/a' | grep -c '^samples-00[1-4]\.mid\$')\" = 4 ] &&
	[ \"\$(ls '$T/a' | grep -c '^samples-00[1-4]\.svg\$')\" = 4 ] && [ -s '$T/a/samples.mid' ]"
check "the same seed gives the same files" sh -c "
	make -s -C '$top' --no-print-directory BIN='$BIN' MODEL='$MODEL' generate N=4 SEED=7 OUT='$T/b' >/dev/null &&
	for f in '$T'/a/samples-00?.mid; do cmp \"\$f\" '$T'/b/\$(basename \"\$f\") || exit 1; done"
check "another seed gives other grooves" sh -c "
	make -s -C '$top' --no-print-directory BIN='$BIN' MODEL='$MODEL' generate N=4 SEED=8 OUT='$T/c' >/dev/null &&
	! cmp -s '$T/a/samples-001.mid' '$T/c/samples-001.mid'"

# midicsv and mido see the same notes: (tick, channel, note, velocity)
cat >"$T/cmp.py" <<'PYEOF'
import csv, subprocess, sys
import mido
bad = []
for path in sys.argv[1:]:
    rows = list(csv.reader(subprocess.run(['midicsv', path], capture_output=True,
                                          text=True, check=True).stdout.splitlines()))
    a = sorted((int(r[1]), int(r[3]), int(r[4]), int(r[5])) for r in rows
               if r[2].strip() == 'Note_on_c' and int(r[5]) > 0)
    m = mido.MidiFile(path)
    b, t = [], 0
    for msg in mido.merge_tracks(m.tracks):
        t += msg.time
        if msg.type == 'note_on' and msg.velocity > 0:
            b.append((t, msg.channel, msg.note, msg.velocity))
    b.sort()
    tpb = m.ticks_per_beat
    step = tpb // 4
    offgrid = sum(1 for x in a if x[0] % step)
    vels = set(x[3] for x in a)
    end = max(t for t in [0] + [x[0] for x in a])
    if a != b: bad.append('%s: midicsv %d notes, mido %d notes differ' % (path, len(a), len(b)))
    if not a: bad.append('%s: no notes' % path)
    if any(x[1] != 9 for x in a): bad.append('%s: a note off channel 10' % path)
    if len(vels) < 3: bad.append('%s: velocities %s: no dynamics' % (path, sorted(vels)))
    if offgrid < len(a) // 4: bad.append('%s: %d of %d notes off the grid: no microtiming' % (path, offgrid, len(a)))
    if end >= 16 * 4 * step: bad.append('%s: a note after 4 bars (tick %d)' % (path, end))
print('\n'.join(bad)); sys.exit(1 if bad else 0)
PYEOF
if $PY -c 'import mido' 2>/dev/null && command -v midicsv >/dev/null; then
	check "midicsv and mido read the same notes: channel 10, dynamics, microtiming, 4 bars" \
		$PY "$T/cmp.py" "$T"/a/samples-00?.mid
else
	skip "midicsv or python3-mido missing"
fi
check "the pictures are SVG" sh -c "grep -q '<svg' '$T/a/samples-001.svg'"

# the other recipes, on a groove midi-write made from a sample
cp "$T/a/samples-002.mid" "$T/in.mid"
check "make reconstruct IN=...: one groove" sh -c "
	make -s -C '$top' --no-print-directory BIN='$BIN' MODEL='$MODEL' reconstruct IN='$T/in.mid' OUT='$T/r' >/dev/null &&
	[ -s '$T/r/reconstruct-001.mid' ] && [ -s '$T/r/reconstruct.mid' ]"
check "make interpolate A=... B=... STEPS=5: 5 steps and an overlap table" sh -c "
	make -s -C '$top' --no-print-directory BIN='$BIN' MODEL='$MODEL' interpolate A='$T/in.mid' B='$T/a/samples-003.mid' STEPS=5 OUT='$T/i' >/dev/null &&
	[ \"\$(ls '$T/i' | grep -c '^interpolate-00[1-5]\.mid\$')\" = 5 ] &&
	[ \"\$(grep -c . '$T/i/interpolate-overlap.txt')\" = 7 ]"
check "make similar IN=... N=2: two variations" sh -c "
	make -s -C '$top' --no-print-directory BIN='$BIN' MODEL='$MODEL' similar IN='$T/in.mid' N=2 OUT='$T/s' >/dev/null &&
	[ \"\$(ls '$T/s' | grep -c '^similar-00[12]\.mid\$')\" = 2 ]"

# failures: a message, non-zero exit, no half-written output
mk reconstruct IN="$T/missing.mid" OUT="$T/f1" >"$T/out" 2>"$T/err"
st=$?; [ $st != 0 ] && grep -q "no such MIDI file" "$T/err" && [ ! -e "$T/f1/reconstruct.rec" ]
[ $? = 0 ] && ok "reconstruct of a missing file: message, exit $st, no output" || { nok "reconstruct of a missing file"; sed 's/^/# /' "$T/err"; }
printf 'MThd\0\0\0\6\0\0\0\1\1\340MTrk\0\0\0\10\0\377\57' >"$T/bad.mid"
mk reconstruct IN="$T/bad.mid" OUT="$T/f2" >"$T/out" 2>"$T/err"
st=$?; [ $st != 0 ] && grep -q "bad.mid" "$T/err" && [ ! -e "$T/f2/reconstruct.rec" ] && [ ! -e "$T/f2/input.rec" ]
[ $? = 0 ] && ok "reconstruct of a truncated MIDI file: message naming it, exit $st, no output" || { nok "reconstruct of a truncated MIDI file"; sed 's/^/# /' "$T/err"; }
make -s -C "$top" --no-print-directory BIN="$BIN" MODEL="$T/none.ckpt" generate OUT="$T/f3" >"$T/out" 2>"$T/err"
st=$?; [ $st != 0 ] && grep -q "no model at" "$T/err" && [ -z "$(ls "$T/f3" 2>/dev/null)" ]
[ $? = 0 ] && ok "generate without a model: message, exit $st, nothing written" || { nok "generate without a model"; sed 's/^/# /' "$T/err"; }
head -c 5000 "$MODEL" >"$T/cut.ckpt"
make -s -C "$top" --no-print-directory BIN="$BIN" MODEL="$T/cut.ckpt" generate OUT="$T/f4" >"$T/out" 2>"$T/err"
st=$?; [ $st != 0 ] && grep -qi "cut.ckpt" "$T/err" && [ -z "$(ls "$T/f4" 2>/dev/null | grep -v '^$')" ]
[ $? = 0 ] && ok "generate with a truncated model: message naming it, exit $st, no files" || { nok "generate with a truncated model"; sed 's/^/# /' "$T/err"; ls "$T/f4" | sed 's/^/# /'; }
exit $fail
