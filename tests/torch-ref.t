#!/bin/sh
# torch-ref.t: the C training step against the PyTorch model in
# bench/vae_ref.py (float64 autograd, same weights, batch, eps and dropout
# masks): loss, logits and every gradient within 1e-4 relative; the last
# case takes the weights from a checkpoint train-step trained and the batch
# from a pattern file. Skips when /usr/bin/python3 has no torch.
here=$(cd "$(dirname "$0")/.." && pwd)
dump=${DRUMVAE_OBJ:-$here/obj}/bench/vae-dump
py=/usr/bin/python3
if ! $py -c 'import torch, numpy' 2>/dev/null; then
	echo "1..0 # SKIP python3-torch not installed"
	exit 0
fi
set -- \
	"tiny hier, dropout 0.3|-p tiny -b 3" \
	"tiny flat, no free bits|-p tiny -f -F 0 -b 3" \
	"tiny hier, 2-layer encoder, 3-layer conductor, balanced loss|-p tiny -L balanced -E 2 -C 3 -D 1 -F 0 -b 3" \
	"tiny flat, 2-layer encoder, 3-layer decoder|-p tiny -f -E 2 -D 3 -k 0.5 -b 3" \
	"groovae (magenta sizes)|-p groovae -b 4" \
	"hier preset, no free bits|-p hier -b 2 -F 0" \
	"trained checkpoint (tiny hier, balanced loss), batch from a pattern file|-m CKPT -d PATS -b 4"
echo "1..$#"
n=0 fail=0
tmp=$(mktemp -d) || exit 1
ck=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp" "$ck"' EXIT
bin=${DRUMVAE_BIN:-$here/bin}
$py "$here/tests/lib/gen_patterns.py" 40 5 > "$ck/p.rec" &&
	"$bin/train-step" --init tiny --loss balanced -o "$ck/0.ckpt" 2> /dev/null &&
	"$bin/train-step" -m "$ck/0.ckpt" -o "$ck/1.ckpt" --batch 8 "$ck/p.rec" > /dev/null 2>&1 ||
	echo "# could not train the checkpoint for the last case"
for c in "$@"; do
	n=$((n + 1))
	name=${c%%|*} opts=${c#*|}
	opts=$(echo "$opts" | sed "s|CKPT|$ck/1.ckpt|; s|PATS|$ck/p.rec|")
	rm -f "$tmp"/*
	if ! $dump $opts -o "$tmp" 2>"$tmp/err"; then
		echo "not ok $n - $name: vae-dump $opts failed: $(cat "$tmp/err")"
		fail=1
		continue
	fi
	if $py "$here/bench/vae_ref.py" check "$tmp" >"$tmp/out" 2>&1; then
		echo "ok $n - $name: $(tail -1 "$tmp/out")"
	else
		echo "not ok $n - $name (vae-dump $opts):"
		sed 's/^/# /' "$tmp/out"
		fail=1
	fi
done
exit $fail
