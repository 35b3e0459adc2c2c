# generate.mk: grooves from a model (the shipped one by default).
#   make generate N=8 TEMP=0.5 SEED=1      prior samples → out/*.mid, *.svg
#   make interpolate A=x.mid B=y.mid STEPS=7
#   make reconstruct IN=x.mid              encode, decode at T=0
#   make similar IN=x.mid S=0.8 N=4        variations around a groove
#   make humanize IN=x.mid                 expressive take of a quantized groove
#   make wav                               render out/*.mid with fluidsynth
# BPM=Q sets the output tempo (default: the source's, or 120 for samples).
# Foreign MIDI goes through the General MIDI drum map (MAP=gm).

MODEL ?= samples/drumvae.ckpt
OUT ?= out
N ?= 8
TEMP ?= 0.5
SEED ?= 1
STEPS ?= 7
S ?= 0.8
MAP ?= gm
BPM ?=
SOUNDFONT ?= /usr/share/sounds/sf2/FluidR3_GM.sf2

BPM_OPT = $(if $(BPM),--bpm $(BPM))
DEB_NEEDED = build-essential pkg-config libsmf-dev libmsgpack-dev libopenblas-dev parallel jq

# Install what is missing (as root), or say exactly what to install.
deps:
	@missing=""; for p in $(DEB_NEEDED); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "deps: installing$$missing"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
		else \
			echo "drumvae needs these Debian packages; run:" >&2; \
			echo "  sudo apt-get install -y$$missing" >&2; exit 1; \
		fi; \
	fi
	@$(MAKE) -j$$(nproc) --no-print-directory all >/dev/null

model-file:
	@test -s "$(MODEL)" || { echo "generate: no model at $(MODEL) (MODEL=path/to.ckpt, or make model)" >&2; exit 1; }

# Read one groove (the first 4-bar window) from a MIDI file into $(OUT)/$(2).rec
define READ_GROOVE
	@test -f "$(1)" || { echo "$@: no such MIDI file: '$(1)'" >&2; exit 1; }
	@mkdir -p $(OUT)
	$(BIN)/midi-read "$(1)" | $(BIN)/quantize | $(BIN)/drumclass --map $(MAP) | \
		$(BIN)/window4bar --max 1 --quiet > $(OUT)/$(2).rec.tmp || { rm -f $(OUT)/$(2).rec.tmp; exit 1; }
	@test -s $(OUT)/$(2).rec.tmp || { echo "$@: no 4-bar groove in '$(1)'" >&2; rm -f $(OUT)/$(2).rec.tmp; exit 1; }
	mv $(OUT)/$(2).rec.tmp $(OUT)/$(2).rec
endef

# Patterns in $(OUT)/$(1).rec → $(OUT)/$(1)-001.mid ... (one file each),
# $(OUT)/$(1).mid (all back to back) and $(OUT)/$(1)-001.svg ... (pictures).
define WRITE_GROOVES
	rm -f $(OUT)/$(1)-[0-9][0-9][0-9].mid $(OUT)/$(1)-[0-9][0-9][0-9].svg
	$(BIN)/midi-write $(BPM_OPT) -o $(OUT) --name $(1) $(OUT)/$(1).rec
	$(BIN)/midi-write $(BPM_OPT) -f $(OUT)/$(1).mid $(OUT)/$(1).rec
	$(BIN)/pattern-svg -o $(OUT) --name $(1) $(OUT)/$(1).rec
	@echo "$@: wrote $$($(BIN)/rec-dump $(OUT)/$(1).rec | wc -l) grooves to $(OUT)/ ($(1).mid has them back to back)"
endef

generate: deps model-file
	@mkdir -p $(OUT)
	$(BIN)/decode -m $(MODEL) --sample $(N) --temperature $(TEMP) --seed $(SEED) $(BPM_OPT) > $(OUT)/samples.rec.tmp || { rm -f $(OUT)/samples.rec.tmp; exit 1; }
	mv $(OUT)/samples.rec.tmp $(OUT)/samples.rec
	$(call WRITE_GROOVES,samples)

interpolate: deps model-file
	@test -n "$(A)" -a -n "$(B)" || { echo "interpolate: give A=first.mid B=second.mid" >&2; exit 1; }
	$(call READ_GROOVE,$(A),interp-a)
	$(call READ_GROOVE,$(B),interp-b)
	cat $(OUT)/interp-a.rec $(OUT)/interp-b.rec | $(BIN)/encode -m $(MODEL) | \
		$(BIN)/latent-mix --slerp $(STEPS) | \
		$(BIN)/decode -m $(MODEL) --temperature 0 $(BPM_OPT) > $(OUT)/interpolate.rec.tmp || { rm -f $(OUT)/interpolate.rec.tmp; exit 1; }
	mv $(OUT)/interpolate.rec.tmp $(OUT)/interpolate.rec
	$(call WRITE_GROOVES,interpolate)
	$(BIN)/rec-dump $(OUT)/interpolate.rec | jq -s -r -f pipelines/overlap.jq \
		--slurpfile a <($(BIN)/rec-dump $(OUT)/interp-a.rec) \
		--slurpfile b <($(BIN)/rec-dump $(OUT)/interp-b.rec) | tee $(OUT)/interpolate-overlap.txt

reconstruct: deps model-file
	@test -n "$(IN)" || { echo "reconstruct: give IN=groove.mid" >&2; exit 1; }
	$(call READ_GROOVE,$(IN),input)
	$(BIN)/encode -m $(MODEL) $(OUT)/input.rec | \
		$(BIN)/decode -m $(MODEL) --temperature 0 $(BPM_OPT) > $(OUT)/reconstruct.rec.tmp || { rm -f $(OUT)/reconstruct.rec.tmp; exit 1; }
	mv $(OUT)/reconstruct.rec.tmp $(OUT)/reconstruct.rec
	$(call WRITE_GROOVES,reconstruct)

similar: deps model-file
	@test -n "$(IN)" || { echo "similar: give IN=groove.mid" >&2; exit 1; }
	$(call READ_GROOVE,$(IN),input)
	$(BIN)/encode -m $(MODEL) $(OUT)/input.rec | \
		$(BIN)/latent-mix --similar $(S) --count $(N) --seed $(SEED) | \
		$(BIN)/decode -m $(MODEL) --temperature $(TEMP) --seed $(SEED) $(BPM_OPT) > $(OUT)/similar.rec.tmp || { rm -f $(OUT)/similar.rec.tmp; exit 1; }
	mv $(OUT)/similar.rec.tmp $(OUT)/similar.rec
	$(call WRITE_GROOVES,similar)

humanize: deps model-file
	@test -n "$(IN)" || { echo "humanize: give IN=groove.mid" >&2; exit 1; }
	$(call READ_GROOVE,$(IN),input)
	$(BIN)/encode -m $(MODEL) --humanize $(OUT)/input.rec | \
		$(BIN)/decode -m $(MODEL) --temperature 0 $(BPM_OPT) > $(OUT)/humanize.rec.tmp || { rm -f $(OUT)/humanize.rec.tmp; exit 1; }
	mv $(OUT)/humanize.rec.tmp $(OUT)/humanize.rec
	$(call WRITE_GROOVES,humanize)

# Audio: every out/*.mid → out/*.wav with fluidsynth and the GM soundfont.
wav:
	@if ! command -v fluidsynth >/dev/null || [ ! -f $(SOUNDFONT) ]; then \
		if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q fluidsynth fluid-soundfont-gm; \
		else echo "wav: run: sudo apt-get install -y fluidsynth fluid-soundfont-gm" >&2; exit 1; fi; \
	fi
	@test -n "$(wildcard $(OUT)/*.mid)" || { echo "wav: no MIDI files in $(OUT)/ (make generate first)" >&2; exit 1; }
	for f in $(OUT)/*.mid; do \
		fluidsynth -ni -q -g 1.0 -F "$${f%.mid}.wav.tmp" -T wav -r 44100 $(SOUNDFONT) "$$f" >/dev/null && \
		mv "$${f%.mid}.wav.tmp" "$${f%.mid}.wav"; \
	done
	@echo "wav: $(OUT)/*.wav"

.PHONY: deps model-file generate interpolate reconstruct similar humanize wav
