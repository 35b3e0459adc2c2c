#!/bin/sh
# midi-corpus.t: midi-read, built with ASan+UBSan (make asan), over the corpus
# tests/gen-bad-midi writes to tests/corpus/ (GMD files mutated too when $GMD
# is set): exit 0 or 1 as the file's class says, under 1 s per file, no
# sanitizer report, nothing on stdout and a message naming a rejected file.
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/asan/bin/midi-read
if [ ! -x "$bin" ]; then
	echo "1..0 # SKIP $bin not built (make asan)"
	exit 0
fi
corpus=$top/tests/corpus
res=$corpus/results
echo 1..6
fail=0
ok() { echo "ok $1 - $2"; }
nok() { echo "not ok $1 - $2"; fail=1; }
# first N lines of a failure list as TAP diagnostics
diag() { head -n 10 "$1" | sed 's/^/# /'; }

rm -rf "$corpus"
if [ -n "$GMD" ] && [ -d "$GMD" ]; then
	"$top/tests/gen-bad-midi" -g "$GMD" "$corpus"
else
	"$top/tests/gen-bad-midi" "$corpus"
fi
n=$(find "$corpus" -name '*.mid' | wc -l)
if [ "$n" -ge 5000 ]; then ok 1 "gen-bad-midi wrote $n files"; else nok 1 "gen-bad-midi wrote $n files, want >= 5000"; fi

# Batches of 20 files per process, each batch under a 1 s timeout, so no
# file can take over 1 s; a batch that fails (crash, abort, sanitizer exit
# 97/98, timeout 124) is rerun file by file to name the culprit.
ASAN_OPTIONS=exitcode=97:detect_leaks=1:abort_on_error=0
UBSAN_OPTIONS=exitcode=98:halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS UBSAN_OPTIONS
start=$(date +%s)
find "$corpus" -name '*.mid' | sort | xargs -n 20 -P 2 sh -c '
bin=$1
shift
timeout 1 "$bin" "$@" > "$1.out" 2> "$1.err"
st=$?
echo "batch $st $1"
[ $st = 0 ] || [ $st = 1 ] && exit 0
for f; do
	timeout 1 "$bin" "$f" > /dev/null 2>> "$1.err"
	echo "file $? $f"
done' sh "$bin" > "$res"
secs=$(( $(date +%s) - start ))

awk '$1 == "file" && $2 != 0 && $2 != 1 { print "exit " $2 ": " $3 }
	$1 == "batch" && $2 != 0 && $2 != 1 { b++ }
	END { if (b) print b " batches failed" }' "$res" > "$res.crash"
if [ -s "$res.crash" ]; then
	nok 2 "crashes, aborts or files over 1 s (exit 124 = timeout)"
	diag "$res.crash"
else
	ok 2 "$n files: no crash, no abort, every batch of 20 under 1 s ($secs s)"
fi

cat "$corpus"/*.err > "$res.stderr"
if grep -n -e Sanitizer -e 'runtime error' "$res.stderr" > "$res.san"; then
	nok 3 "sanitizer reports"
	diag "$res.san"
else
	ok 3 "no sanitizer report"
fi

# A rejected file is the one a "midi-read: FILE: reason" line names.
sed -n 's/^midi-read: \(.*\.mid\): .*/\1/p' "$res.stderr" | sort -u > "$res.bad"
find "$corpus" -name '*.mid' | sort > "$res.all"
awk 'NR == FNR { bad[$0] = 1; next }
	{ c = $0; sub(".*/", "", c) }
	c ~ /^bad-/ && !($0 in bad) { print "want rejected: " $0 }
	c ~ /^ok-/ && ($0 in bad) { print "want read: " $0 }' "$res.bad" "$res.all" > "$res.class"
if [ -s "$res.class" ]; then
	nok 4 "$(wc -l < "$res.class") files against their class"
	diag "$res.class"
else
	ok 4 "$(wc -l < "$res.bad") files rejected with a message naming them: all bad-*, no ok-*"
fi

# stdout holds whole records, one per accepted file (checked with rec-dump).
dump=${DRUMVAE_BIN:-$top/bin}/rec-dump
if [ ! -x "$dump" ]; then
	echo "ok 5 # SKIP $dump not built"
else
	find "$corpus" -name '*.mid' | sort | xargs -n 20 sh -c 'cat "$1.out"' sh | "$dump" > "$res.json"
	st=$?
	sed -n 's/.*"source":"\([^"]*\)".*/\1/p' "$res.json" > "$res.read"
	comm -23 "$res.all" "$res.bad" > "$res.good"
	if [ "$st" = 0 ] && cmp -s "$res.read" "$res.good"; then
		ok 5 "stdout: $(wc -l < "$res.read") whole records, exactly the files not rejected"
	else
		nok 5 "stdout: rec-dump exit $st, $(wc -l < "$res.read") records for $(wc -l < "$res.good") good files"
		diff "$res.read" "$res.good" | head -n 10 | sed 's/^/# /'
	fi
fi

# One run over many files, good and bad interleaved: the bad ones are
# skipped, the records are those of the good ones run one by one.
set --
: > "$res.want"
for f in $(find "$corpus" -name 'ok-seed-*.mid' | sort); do
	b=$(find "$corpus" -name 'bad-no-eot-*.mid' | sort | sed -n "$(( $# / 2 + 1 ))p")
	set -- "$@" "$f" "$b"
	"$bin" "$f" >> "$res.want"
done
"$bin" "$@" > "$res.multi" 2> "$res.multi.stderr"
st=$?
nerr=$(grep -c 'no End-of-Track' "$res.multi.stderr")
if [ "$st" = 1 ] && cmp -s "$res.multi" "$res.want" && [ "$nerr" = $(( $# / 2 )) ]; then
	ok 6 "one run over $# files: $(( $# / 2 )) skipped, the rest as read one by one, exit 1"
else
	nok 6 "one run over $# files: exit $st (want 1), $nerr of $(( $# / 2 )) bad files reported," \
	    "stdout $(cmp -s "$res.multi" "$res.want" && echo same as || echo differs from) one-by-one"
fi
rm -f "$corpus"/*.out "$corpus"/*.err
exit $fail
