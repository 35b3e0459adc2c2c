#!/bin/sh
# man.t: every tool has a page; the page's SYNOPSIS names every long option
# the tool's usage line names (and no other); every page is clean under
# mandoc -Tlint (skipped without mandoc).
cd "$(dirname "$0")/.." || exit 1
bin=${DRUMVAE_BIN:-bin}
n=0 fail=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }
for src in filters/*.c; do
	tool=$(basename "$src" .c)
	page=man/man1/$tool.1
	[ -f "$page" ]; ok $? "$tool: man page $page"
	[ -f "$page" ] || continue
	"$bin/$tool" -h 2> "${TMPDIR:-/tmp}/man.t.$$" > /dev/null
	u=$(grep -o -- '--[a-z][a-z-]*' "${TMPDIR:-/tmp}/man.t.$$" | sort -u | tr '\n' ' ')
	m=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$page" | grep -o 'Fl -[a-z][a-z-]*' |
		sed 's/^Fl /-/' | sort -u | tr '\n' ' ')
	[ -n "$u" ] && [ "$u" = "$m" ]
	ok $? "$tool: SYNOPSIS long options = usage's ($u)"
	[ "$u" = "$m" ] || echo "# usage: $u; SYNOPSIS: $m"
done
rm -f "${TMPDIR:-/tmp}/man.t.$$"
if command -v mandoc > /dev/null; then
	for page in man/man*/*.[157]; do
		out=$(mandoc -Tlint -Wwarning "$page" 2>&1)
		[ -z "$out" ]; ok $? "mandoc -Tlint $page"
		[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	done
else
	n=$((n + 1)); echo "ok $n # skip mandoc not installed"
fi
echo "1..$n"
exit $fail
