# bench.mk: speed of the numeric core. `make bench-train` builds
# bench/bench-train.c and prints one row per preset x batch x threads:
# examples/s of a training step, the share spent in matrix products, and
# the same products timed alone by sgemm (eff% = that ideal / the step).
# With python3-torch installed, `make bench-torch` times the same model in
# PyTorch (bench/vae_ref.py) and `make bench-ref` checks loss and gradients.
BENCH_PRESETS ?= groovae hier
BENCH_BATCHES ?= 64 512
BENCH_THREADS ?= 1 2
BENCH_STEPS ?= 3
PYTHON_SYS ?= /usr/bin/python3

$(OBJ)/bench/bench-train: bench/bench-train.c $(OBJ)/libdrumvae.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(OBJ)/libdrumvae.a $(ALL_LDLIBS)

bench-train: $(OBJ)/bench/bench-train
	@$< -H
	@for p in $(BENCH_PRESETS); do for b in $(BENCH_BATCHES); do for t in $(BENCH_THREADS); do \
		OPENBLAS_NUM_THREADS=$$t $< -p $$p -b $$b -t $$t -n $(BENCH_STEPS); done; done; done

.PHONY: bench-train

# vae-dump writes one training step for bench/vae_ref.py; tests/torch-ref.t
# needs it, so it is part of `all`.
$(OBJ)/bench/vae-dump: bench/vae-dump.c $(OBJ)/libdrumvae.a $(LIB_HDR) $(LIB_SRC)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(OBJ)/libdrumvae.a $(ALL_LDLIBS)

all: $(OBJ)/bench/vae-dump

bench-torch:
	@for p in $(BENCH_PRESETS); do for b in $(BENCH_BATCHES); do for t in $(BENCH_THREADS); do \
		OPENBLAS_NUM_THREADS=$$t $(PYTHON_SYS) bench/vae_ref.py bench -p $$p -b $$b -t $$t -n $(BENCH_STEPS); done; done; done

bench-ref: $(OBJ)/bench/vae-dump
	@d=$$(mktemp -d) && trap 'rm -rf $$d' EXIT && \
	$(OBJ)/bench/vae-dump -p groovae -b 8 -o $$d && $(PYTHON_SYS) bench/vae_ref.py check $$d

.PHONY: bench-torch bench-ref

# bench-decode: wall time of `decode --sample 64` on a fresh groovae model
# (float32 export, as shipped), process start included, against baselines
# timed in the same run: the process alone (--sample 0: map and check the
# checkpoint, decode nothing) and /bin/true.
BENCH_DECODE_RUNS ?= 20
bench-decode: $(BIN)/decode $(BIN)/train-step
	@d=$$(mktemp -d) && trap 'rm -rf $$d' EXIT && \
	$(BIN)/train-step --init groovae -o $$d/g0.ckpt 2>/dev/null && \
	$(BIN)/train-step -m $$d/g0.ckpt -o $$d/g.ckpt --export 2>/dev/null && \
	t() { for i in $$(seq $(BENCH_DECODE_RUNS)); do s=$$(date +%s%N); "$$@" >/dev/null; \
		echo $$(( ($$(date +%s%N) - s) / 1000 )); done | sort -n | \
		awk '{ t[NR] = $$1 } END { printf "%8.1f %8.1f", t[1] / 1000, t[int((NR + 1) / 2)] / 1000 }'; } && \
	echo "bench-decode: wall ms over $(BENCH_DECODE_RUNS) runs, OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-default}" && \
	printf '  %-40s %8s %8s\n' what min median && \
	printf '  %-40s %s\n' "/bin/true" "$$(t /bin/true)" && \
	printf '  %-40s %s\n' "decode --sample 0 (start, map, verify)" "$$(t $(BIN)/decode -m $$d/g.ckpt --sample 0)" && \
	printf '  %-40s %s\n' "decode --sample 64 --temperature 0.5" "$$(t $(BIN)/decode -m $$d/g.ckpt --sample 64)"

bench: bench-data bench-decode bench-train

.PHONY: bench-decode bench
