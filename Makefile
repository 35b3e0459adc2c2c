# drumvae: MusicVAE for 4-bar drum grooves, as small Unix filters.
# make            build every tool into bin/
# make check      build and run every test (TAP, prove)
# make install    PREFIX=/usr/local DESTDIR=
# Pipelines (make data, train, generate, ...) live in pipelines/*.mk.

.SUFFIXES:
.DELETE_ON_ERROR:
SHELL = /bin/bash
.SHELLFLAGS = -o pipefail -ec

PREFIX ?= /usr/local
MANPREFIX ?= $(PREFIX)/share/man
PKGS = smf msgpack openblas

CC ?= cc
OPT ?= -O2 -g
CFLAGS_WARN = -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(OPT) $(CFLAGS_WARN) \
	-Ilib $(PKG_CFLAGS) $(CFLAGS)
ALL_LDLIBS = $(PKG_LIBS) -lpthread -lm $(LDLIBS)

# Build flavours write to their own folders: bin/ + obj/ by default,
# build/asan/ for the sanitizer build (make asan).
BIN ?= bin
OBJ ?= obj

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:lib/%.c=$(OBJ)/lib/%.o)
LIB_HDR = $(wildcard lib/*.h)
TOOL_SRC = $(sort $(wildcard filters/*.c))
TOOLS = $(TOOL_SRC:filters/%.c=$(BIN)/%)
TEST_SRC = $(sort $(wildcard tests/*.c))
TEST_BINS = $(TEST_SRC:tests/%.c=$(OBJ)/tests/%)
MAN1 = $(wildcard man/man1/*.1)
MAN5 = $(wildcard man/man5/*.5)
MAN7 = $(wildcard man/man7/*.7)

all: $(TOOLS) $(TEST_BINS)

$(OBJ)/lib/%.o: lib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/libdrumvae.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BIN)/%: filters/%.c $(OBJ)/libdrumvae.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(OBJ)/libdrumvae.a $(ALL_LDLIBS)

$(OBJ)/tests/%: tests/%.c tests/tap.h $(OBJ)/libdrumvae.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(OBJ)/libdrumvae.a $(ALL_LDLIBS)

# Tests: shell TAP scripts tests/*.t and C unit tests, all run by prove.
# Tests find the tools through DRUMVAE_BIN and the unit tests through
# DRUMVAE_OBJ; GMD points at the Groove MIDI Dataset (tests that need it
# skip when it is absent).
GMD_DEFAULT = $(firstword $(wildcard ../shared/data/groove))
GMD ?= $(GMD_DEFAULT)
check: all asan
	DRUMVAE_BIN=$(abspath $(BIN)) DRUMVAE_OBJ=$(abspath $(OBJ)) GMD=$(abspath $(GMD)) \
	OPENBLAS_NUM_THREADS=1 prove --exec '' $(PROVEFLAGS) $(sort $(wildcard tests/*.t)) $(TEST_BINS)

asan:
	$(MAKE) BIN=build/asan/bin OBJ=build/asan/obj CC=clang \
		OPT='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' all

install: $(TOOLS)
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 \
		$(DESTDIR)$(MANPREFIX)/man5 $(DESTDIR)$(MANPREFIX)/man7
	cp -f $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	$(if $(MAN1),cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/)
	$(if $(MAN5),cp -f $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/)
	$(if $(MAN7),cp -f $(MAN7) $(DESTDIR)$(MANPREFIX)/man7/)

uninstall:
	rm -f $(TOOLS:$(BIN)/%=$(DESTDIR)$(PREFIX)/bin/%) \
		$(MAN1:man/%=$(DESTDIR)$(MANPREFIX)/%) $(MAN5:man/%=$(DESTDIR)$(MANPREFIX)/%) \
		$(MAN7:man/%=$(DESTDIR)$(MANPREFIX)/%)

lint-man:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5) $(MAN7)

clean:
	rm -rf bin obj build

.PHONY: all check asan install uninstall lint-man clean

# Fragments: pipelines (data, train, generate, eval, bench) and test extras
# (fuzzing). Each adds its own targets.
-include $(sort $(wildcard pipelines/*.mk) $(wildcard tests/*.mk))
