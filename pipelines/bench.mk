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
		$(PYTHON_SYS) bench/vae_ref.py bench -p $$p -b $$b -t $$t -n $(BENCH_STEPS); done; done; done

bench-ref: $(OBJ)/bench/vae-dump
	@d=$$(mktemp -d) && trap 'rm -rf $$d' EXIT && \
	$(OBJ)/bench/vae-dump -p groovae -b 8 -o $$d && $(PYTHON_SYS) bench/vae_ref.py check $$d

.PHONY: bench-torch bench-ref
