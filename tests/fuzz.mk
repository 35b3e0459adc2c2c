# tests/fuzz.mk: libFuzzer targets (clang). `make fuzz` builds every
# tests/fuzz/NAME.c with all of lib/*.c into build/fuzz/NAME and runs each
# for $(FUZZTIME) seconds on its corpus fuzz/corpus-NAME (kept, gitignored),
# seeded from build/fuzz/seeds-NAME when a rule below makes one.
FUZZTIME ?= 60
FUZZCC ?= clang
FUZZ_SRC = $(sort $(wildcard tests/fuzz/*.c))
FUZZ_BINS = $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O1 -g \
	-fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	$(CFLAGS_WARN) -Ilib $(PKG_CFLAGS)
FUZZ_SEEDS = build/fuzz/seeds-fuzz-midi

build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(LIB_HDR)
	@mkdir -p $(@D)
	$(FUZZCC) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS) -lm

# fuzz-midi starts from the targeted classes, seeds and prefixes that
# tests/gen-bad-midi writes first.
build/fuzz/seeds-fuzz-midi: tests/gen-bad-midi
	rm -rf $@
	tests/gen-bad-midi -n 1200 $@

fuzz: $(FUZZ_BINS) $(FUZZ_SEEDS)
	for f in $(FUZZ_BINS); do \
		n=$${f##*/}; s=build/fuzz/seeds-$$n; [ -d $$s ] || s=; \
		mkdir -p fuzz/corpus-$$n; \
		echo "fuzz: $$n for $(FUZZTIME) s"; \
		$$f -max_total_time=$(FUZZTIME) -max_len=65536 -timeout=2 -rss_limit_mb=2048 \
			-close_fd_mask=2 -print_final_stats=1 fuzz/corpus-$$n $$s || exit 1; \
	done

.PHONY: fuzz
