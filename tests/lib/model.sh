# model.sh: TAP helpers for the tests of train-step, encode and decode, sourced
# as `. "$(dirname "$0")/lib/model.sh"`: bin (the tools), T (a scratch folder
# removed at exit), ok STATUS DESC [DIAGNOSTIC FILE], t DESC CMD..., and
# gen N SEED [KIND [HUGE]] (random pattern records, see gen_patterns.py).
bin=${DRUMVAE_BIN:-bin}
GEN=$(cd "$(dirname "$0")/lib" && pwd)/gen_patterns.py || exit 1
T=$(mktemp -d "/tmp/$(basename "$0" .t)-t.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export OPENBLAS_NUM_THREADS=1
n=0 fail=0

ok() { # ok STATUS DESCRIPTION [DIAGNOSTIC FILE]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
		[ -n "$3" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -20
	fi
}
t() { local d=$1; shift; "$@"; ok $? "$d" "$T/err"; }
gen() { /usr/bin/python3 "$GEN" "$@"; }
