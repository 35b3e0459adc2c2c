# tap.sh: TAP helpers for the sh tests, sourced as `. "$(dirname "$0")/lib/tap.sh"`:
# BIN (the tools), T (a scratch folder removed at exit), ok, nok, skip, check,
# fails, and py CODE (/usr/bin/python3 in $T, with tests/lib/mp.py importable).
BIN=${DRUMVAE_BIN:-$(pwd)/bin}
PY=/usr/bin/python3
PYTHONPATH=$(cd "$(dirname "$0")/lib" && pwd) || exit 1
export PYTHONPATH
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
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
# py CODE: run Python CODE in $T
py() { (cd "$T" && "$PY" -c "$1"); }
