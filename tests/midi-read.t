#!/bin/sh
# midi-read.t: midi-read on hand-made MIDI files (written by an embedded perl
# helper) checked value by value through rec-dump and jq: timing, tempo map,
# note pairing, end time, --info/--root, stdin; failure cases: bad options,
# bad files alone and among good ones, --strict. With $GMD: midicsv as an
# independent oracle on a few real files.
. "$(dirname "$0")/lib/tap.sh"
# same DESC JQ-EXPR WANT FILE: the jq expression over the dumped records of
# FILE must print WANT
same() {
	got=$(jq -c "$2" "$4" 2>&1 | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$3" ]; then ok "$1"; else nok "$1"; echo "# $2: got $got, want $3"; fi
}
# mid OUT FORMAT TPQ TRACK...: a MIDI file from tracks given as hex bytes
mid() {
	perl -e 'my ($o, $f, $q, @t) = @ARGV; open my $h, ">:raw", $o or die;
		print $h pack("a4Nnnn", "MThd", 6, $f, scalar @t, $q);
		for (@t) { (my $x = $_) =~ s/\s+//g; my $b = pack("H*", $x);
			print $h pack("a4N", "MTrk", length $b), $b }' "$@"
}
MR=$BIN/midi-read
if [ ! -x "$MR" ] || [ ! -x "$BIN/rec-dump" ] || ! command -v jq >/dev/null; then
	echo "1..0 # SKIP needs $MR, $BIN/rec-dump and jq"
	exit 0
fi
echo 1..29

# 120 qpm, 4/4; notes 36 [0, 240) and 38 [480, 720) (off by running-status
# note-on velocity 0); a CC at 1200, End-of-Track at 1920 (not counted).
mid "$T/a.mid" 0 480 "00 FF5103 07A120  00 FF5804 04021808  00 FF0103 616263
	00 993664  8170 893640  8170 993850  8170 3800  8360 B90440  8550 FF2F00"
"$MR" "$T/a.mid" >"$T/a.rec"; st=$?
"$BIN/rec-dump" "$T/a.rec" >"$T/a.json"
if [ $st = 0 ] && [ "$(wc -l <"$T/a.json")" = 1 ]; then ok "reads a file: exit 0, one record"; else nok "reads a file: exit $st"; fi
same "kind, v, id, source, tpq" '[.kind,.v,.id,.source,.tpq]' "[\"notes\",1,\"$T/a.mid\",\"$T/a.mid\",480]" "$T/a.json"
same "notes: on_s, off_s" '[.n,.on_s,.off_s]' '[2,[0,0.5],[0.25,0.75]]' "$T/a.json"
same "notes: pitch, velocity, channel" '[.pitch,.velocity,.channel]' '[[54,56],[100,80],[9,9]]' "$T/a.json"
same "end_s: the CC at 1.25 s, not the End-of-Track at 2 s" '.end_s' '1.25' "$T/a.json"
same "tempo map and time signature" '[.ntempo,.tempo_s,.tempo_qpm,.nts,.ts_s,.ts_num,.ts_den]' \
	'[1,[0],[120],1,[0],[4],[4]]' "$T/a.json"

# Tempo 120 then 240 at tick 480; a note at 960 starts at 0.5 + 0.25 s; the
# repeated 240 at 1440 is dropped, as pretty_midi drops it.
mid "$T/b.mid" 0 480 "00 FF5103 07A120  8360 FF5103 03D090  8360 993C40  8360 FF5103 03D090
	00 893C40  00 FF2F00"
"$MR" "$T/b.mid" | "$BIN/rec-dump" >"$T/b.json"
same "tempo change: times and qpm, repeat dropped" '[.ntempo,.tempo_s,.tempo_qpm]' '[2,[0,0.5],[120,240]]' "$T/b.json"
same "tempo change: note times" '[.on_s,.off_s,.end_s]' '[[0.75],[1],1]' "$T/b.json"

# No tempo at all: 120 qpm; a format 1 file whose tempo sits in track 2 is
# read at 120 too (tempo and signatures come from the first track only).
mid "$T/c.mid" 1 96 "00 FF2F00" "00 FF5103 0F4240  00 903C40  60 803C40  00 FF2F00"
"$MR" "$T/c.mid" | "$BIN/rec-dump" >"$T/c.json"
same "format 1, no tempo in track 1: 120 qpm" '[.ntempo,.tempo_qpm,.on_s,.off_s,.channel]' \
	'[1,[120],[0],[0.5],[0]]' "$T/c.json"

# Pairing as pretty_midi: one note-off ends every open note of its key that
# started before it; a note-off on the tick of its only note-on leaves a
# zero-length note (pretty_midi drops it, end_s ignores it); a note never
# ended ends at its track's End-of-Track (and counts in end_s).
mid "$T/d.mid" 1 480 "00 992464  8170 992450  8170 892440  8170 992660  00 892640
	8360 992830  00 FF2F00" "8B20 90307F  8268 FF2F00"
"$MR" "$T/d.mid" | "$BIN/rec-dump" >"$T/d.json"
same "pairing: overlapping notes of one key end together" '[.on_s[0:2],.off_s[0:2],.velocity[0:2]]' \
	'[[0,0.25],[0.5,0.5],[100,80]]' "$T/d.json"
same "pairing: off on the note-on tick gives a zero-length note" '[.on_s[2],.off_s[2],.pitch[2]]' \
	'[0.75,0.75,38]' "$T/d.json"
same "pairing: open notes end at End-of-Track, in end_s" '[.n,.pitch,.off_s[3:],.end_s]' \
	'[5,[36,36,38,40,48],[1.25,1.875],1.875]' "$T/d.json"

# Sorted by (on_s, pitch) across tracks and channels.
mid "$T/e.mid" 1 480 "00 FF2F00" "00 993840  10 893840  00 FF2F00" "00 903240  00 912440  10 803240  00 812440  00 FF2F00"
"$MR" "$T/e.mid" | "$BIN/rec-dump" >"$T/e.json"
same "notes sorted by onset, then pitch" '[.pitch,.channel]' '[[36,50,56],[1,0,9]]' "$T/e.json"

# stdin, and several files in one run.
"$MR" <"$T/a.mid" | "$BIN/rec-dump" >"$T/s.json"
same "no file: reads stdin, source \"-\"" '[.source,.n]' '["-",2]' "$T/s.json"
"$MR" "$T/a.mid" "$T/b.mid" - <"$T/c.mid" | "$BIN/rec-dump" >"$T/m.json"
same "three files in one run, in order" '.n' '2 1 1' "$T/m.json"

# --info and --root.
printf 'drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,split\n' >"$T/info.csv"
printf 'drummer9,s,x,"funk/groove, 1",120,beat,4-4,d9/a.mid,train\r\n' >>"$T/info.csv"
mkdir "$T/d9" && cp "$T/a.mid" "$T/d9/a.mid"
"$MR" --info "$T/info.csv" --root "$T/" "$T/d9/a.mid" | "$BIN/rec-dump" >"$T/i.json"
same "--info, --root: id and the CSV row" '[.id,.bpm,.split,.style,.beat_type,.time_signature,.drummer]' \
	'["d9/a.mid",120,"train","funk/groove, 1","beat","4-4","drummer9"]' "$T/i.json"
"$MR" --info "$T/info.csv" "$T/d9/a.mid" | "$BIN/rec-dump" >"$T/i2.json"
same "--info without --root matches the path's tail" '[.id,.bpm]' "[\"$T/d9/a.mid\",120]" "$T/i2.json"
fails "--info: a file with no row is a bad file" 1 "b.mid: no row" "$MR" --info "$T/info.csv" "$T/b.mid"

# Bad usage and bad data.
fails "bad option: usage, exit 2" 2 "usage: midi-read" "$MR" --bogus "$T/a.mid"
"$MR" -h >"$T/out" 2>"$T/err"; st=$?
if [ $st = 0 ] && grep -q "usage: midi-read" "$T/err" && [ ! -s "$T/out" ]; then ok "-h: usage on stderr, exit 0"; else nok "-h: exit $st"; fi
fails "missing --info file" 1 "nope.csv" "$MR" --info "$T/nope.csv" "$T/a.mid"
head -c 40 "$T/a.mid" >"$T/trunc.mid"
fails "truncated file: exit 1, message names it" 1 "trunc.mid: byte 18: chunk 'MTrk' claims" "$MR" "$T/trunc.mid"
: >"$T/empty.mid"
fails "empty file" 1 "empty.mid: byte 0: empty file" "$MR" "$T/empty.mid"
mid "$T/rs.mid" 0 480 "00 993664  00 FF0101 61  10 3600  00 FF2F00"
fails "running status after a meta event" 1 "rs.mid: byte 32: track 1: data byte 0x36 without a running status" "$MR" "$T/rs.mid"
mid "$T/noeot.mid" 0 480 "00 993664  10 893640"
fails "track without End-of-Track" 1 "noeot.mid: byte 30: track 1: no End-of-Track" "$MR" "$T/noeot.mid"
fails "missing file" 1 "nope.mid: No such file" "$MR" "$T/nope.mid"

# A bad file among good ones: skipped, the rest read, exit 1; --strict
# stops at it.
"$MR" "$T/a.mid" "$T/empty.mid" "$T/b.mid" >"$T/out" 2>"$T/err"; st=$?
"$BIN/rec-dump" "$T/out" >"$T/x.json"
if [ $st = 1 ] && [ "$(jq -c .n "$T/x.json" | tr '\n' ' ')" = "2 1 " ] && grep -q empty.mid "$T/err"; then
	ok "bad file among good ones: skipped, others read, exit 1"
else
	nok "bad file among good ones: exit $st, records $(jq -c .n "$T/x.json" | tr '\n' ' ')"
fi
"$MR" --strict "$T/a.mid" "$T/empty.mid" "$T/b.mid" >"$T/out" 2>"$T/err"; st=$?
"$BIN/rec-dump" "$T/out" >"$T/x.json"
if [ $st = 1 ] && [ "$(jq -c .n "$T/x.json" | tr '\n' ' ')" = "2 " ]; then
	ok "--strict: stops at the first bad file"
else
	nok "--strict: exit $st, records $(jq -c .n "$T/x.json" | tr '\n' ' ')"
fi

# Oracle: midicsv on real GMD files. Onsets from ticks and the one tempo,
# within 1e-9 s; pitch and velocity of every note-on, in order.
if [ -z "$GMD" ] || [ ! -d "$GMD" ] || ! command -v midicsv >/dev/null; then
	skip "no GMD or midicsv"
else
	bad=0 nf=0
	for f in $(find "$GMD" -name '*.mid' | sort | awk 'NR % 97 == 1'); do
		nf=$((nf + 1))
		midicsv "$f" | awk -F', *' '$3 == "Header" { q = $6 } $3 == "Tempo" { us = $4 }
			$3 == "Note_on_c" && $6 > 0 { printf "%.12f %d %d\n", $2 * us / (1e6 * q), $5, $6 }' |
			sort -k1,1n -k2,2n -s >"$T/want"
		"$MR" "$f" | "$BIN/rec-dump" |
			jq -r '[.on_s, .pitch, .velocity] | transpose[] | "\(.[0]) \(.[1]) \(.[2])"' >"$T/got"
		paste -d ' ' "$T/want" "$T/got" | awk -v f="$f" '
			NF != 6 || $2 != $5 || $3 != $6 || $1 - $4 > 1e-9 || $4 - $1 > 1e-9 {
				print "# " f ": note " NR ": midicsv " $1, $2, $3 ", midi-read " $4, $5, $6; bad = 1; exit }
			END { exit bad }' || bad=1
	done
	if [ $bad = 0 ]; then ok "$nf GMD files: notes as midicsv reads them"; else nok "GMD files against midicsv"; fi
fi
exit $fail
