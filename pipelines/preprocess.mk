# preprocess.mk: `make data` turns the Groove MIDI Dataset (GMD=dir, default
# ../shared/data/groove when present) into data/train.rec, data/validation.rec
# and data/test.rec (pattern records) by the split column of GMD/info.csv:
#   midi-read --info | quantize | drumclass   (GNU parallel -k, DATA_BATCH files a job)
#   | window4bar $(WINDOW_OPTS)               (one process per split: one summary)
# The GMD folder needs info.csv with the columns midi_filename and split (and
# bpm, time_signature for WINDOW_OPTS=--compat tfds): another kit's files can be
# laid out the same way and classed with DRUMMAP=FILE.
# `make bench-data` times it; `make check-tfds` checks window4bar --compat tfds
# against a Python transcription of the TFDS build + magenta's converter.

DATA_DIR ?= data
DATA_SPLITS = train validation test
DATA_RECS = $(DATA_SPLITS:%=$(DATA_DIR)/%.rec)
# Files per parallel job. A job costs ~5-15 ms to start and a file ~0.5 ms of
# work, so few big jobs win: auto = the split's files / DATA_JOBS.
DATA_BATCH ?= auto
DATA_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Extra options: WINDOW_OPTS=--compat tfds (bit-compatible with groovae_4bar's
# data), DRUMMAP=gm or a map file (drumvae-drummap(5)).
WINDOW_OPTS ?=
DRUMMAP ?= roland
PREPROC_TOOLS = $(BIN)/midi-read $(BIN)/quantize $(BIN)/drumclass $(BIN)/window4bar
GMD_CSV = $(GMD)/info.csv

data: $(DATA_RECS)

gmd-check:
	@if [ -z "$(GMD)" ] || [ ! -f "$(GMD_CSV)" ]; then \
		echo "make data: no Groove MIDI Dataset: set GMD=dir (the folder holding info.csv" >&2; \
		echo "  and drummer*/; get groove-v1.0.0-midionly.zip from magenta's datasets page)" >&2; \
		exit 2; fi

# Jobs print records on stdout in input order (-k); a failed stage fails its
# job (pipefail inside the job too), a failed job stops the rest (--halt) and
# fails the pipe, so .DELETE_ON_ERROR removes the partial target.
$(DATA_DIR)/%.rec: $(PREPROC_TOOLS) $(wildcard $(GMD_CSV)) | gmd-check
	@mkdir -p $(@D)
	@files=$$(G='$(GMD)' awk -F, -v s='$*' '{ sub(/\r$$/, "") } NR == 1 { for (i = 1; i <= NF; i++) col[$$i] = i; next } \
		$$col["split"] == s { print ENVIRON["G"] "/" $$col["midi_filename"] }' '$(GMD_CSV)'); \
	n=$$(printf '%s\n' "$$files" | awk NF | wc -l) b='$(DATA_BATCH)' j='$(DATA_JOBS)'; \
	if [ "$$b" = auto ]; then b=$$(( (n + j - 1) / j )); [ "$$b" -gt 0 ] || b=1; fi; \
	echo "data: $@: $$n $* files of $(GMD_CSV), $$b a job, $$j at a time"; \
	printf '%s\n' "$$files" | awk NF | \
	G='$(GMD)' PARALLEL_SHELL=/bin/bash parallel -k -N $$b -j $$j --halt now,fail=1 \
		'set -o pipefail; $(BIN)/midi-read --info "$$G/info.csv" --root "$$G" {} | $(BIN)/quantize | $(BIN)/drumclass --map $(DRUMMAP)' | \
	$(BIN)/window4bar $(WINDOW_OPTS) > $@.tmp || { rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

# Benchmark: `make data` from clean, BENCH_RUNS times, against baselines
# timed in the same run: one file per parallel job (-N 1), and all files in
# one job (one process per stage). Writes to $(BENCH_DIR); data/ stays as is.
BENCH_RUNS ?= 5
BENCH_BASE_RUNS ?= 3
BENCH_DIR ?= build/bench-data
bench-data: $(PREPROC_TOOLS) | gmd-check
	@mkdir -p $(BENCH_DIR); : > $(BENCH_DIR)/results; \
	bench() { \
		what=$$1 runs=$$2; shift 2; \
		for i in $$(seq $$runs); do \
			rm -f $(BENCH_DIR)/*.rec; \
			t0=$$(date +%s.%N); \
			$(MAKE) --no-print-directory data DATA_DIR=$(BENCH_DIR) "$$@" >$(BENCH_DIR)/log 2>&1 || { cat $(BENCH_DIR)/log >&2; exit 1; }; \
			t1=$$(date +%s.%N); \
			echo "$$t0 $$t1"; \
		done | awk '{ printf "%.4f\n", $$2 - $$1 }' | sort -g | \
		awk -v w="$$what" '{ t[NR] = $$1 } END { n = NR; \
			m = n % 2 ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2; \
			printf "%.3f %.3f %d %s\n", t[1], m, n, w }' >> $(BENCH_DIR)/results; \
	}; \
	echo "bench-data: make data from clean on $(GMD), $$(nproc) cores"; \
	bench "batched: -N $(DATA_BATCH)" $(BENCH_RUNS) && \
	bench "one file per job: -N 1" $(BENCH_BASE_RUNS) DATA_BATCH=1 && \
	bench "one job: all files, -j 1" $(BENCH_BASE_RUNS) DATA_BATCH=100000 DATA_JOBS=1 && \
	awk 'NR == 1 { base = $$2 } { w = $$4; for (i = 5; i <= NF; i++) w = w " " $$i; \
		printf "  %-26s %d runs  min %6.2f s  median %6.2f s  median/batched %5.2f\n", \
		w, $$3, $$1, $$2, $$2 / base }' $(BENCH_DIR)/results

# The slow oracle comparison on the full GMD (about 30 s of Python).
check-tfds: $(PREPROC_TOOLS) | gmd-check
	DRUMVAE_BIN=$(abspath $(BIN)) GMD=$(abspath $(GMD)) TFDS_ORACLE=1 prove --exec '' -v tests/window4bar.t

.PHONY: data gmd-check bench-data check-tfds
