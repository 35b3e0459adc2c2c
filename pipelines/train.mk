# train.mk: training epochs. `make model` = `make data`, then EPOCHS epochs
# of PRESET: model/epoch-001.ckpt from model/epoch-000.ckpt (the fresh
# model), epoch-002 from epoch-001, ... One train-step run per epoch, so an
# interrupted run resumes from the last finished epoch and a rerun with the
# same SEED reproduces every file. Metrics: model/epoch-NNN.metrics
# (records), model/metrics.tsv (one line per record), `make plot` draws
# model/loss.png with gnuplot.

PRESET ?= hier
EPOCHS ?= 20
BATCH ?= 64
SEED ?= 1
MODEL_DIR ?= model
# Extra train-step --init options (sizes, --loss, --free-bits, ...); the
# default is the shipped model's recipe (README, "Quality").
INIT_OPTS ?= --loss balanced --free-bits 64
TRAIN_OPTS ?=
TRAIN_REC ?= data/train.rec
VALID_REC ?= data/validation.rec
TRAIN_STEP ?= $(BIN)/train-step

EPOCH_IDS := $(shell seq -f %03g 1 $(EPOCHS))
EPOCH_CKPTS := $(EPOCH_IDS:%=$(MODEL_DIR)/epoch-%.ckpt)
LAST_CKPT := $(MODEL_DIR)/epoch-$(lastword $(EPOCH_IDS)).ckpt

model: $(LAST_CKPT) $(MODEL_DIR)/metrics.tsv
	@echo "model: $(LAST_CKPT)"

# The data and the tools are order-only: rebuilding them never retrains.
$(MODEL_DIR)/epoch-000.ckpt: | $(TRAIN_STEP)
	@mkdir -p $(@D)
	$(TRAIN_STEP) --init $(PRESET) --seed $(SEED) $(INIT_OPTS) -o $@

define EPOCH_RULE
$(MODEL_DIR)/epoch-$(1).ckpt: $(MODEL_DIR)/epoch-$(2).ckpt | $(TRAIN_STEP) $(TRAIN_REC) $(VALID_REC)
	$(TRAIN_STEP) -m $$< -o $$@ --batch $(BATCH) --seed $(SEED) $(TRAIN_OPTS) \
		--validate $(VALID_REC) $(TRAIN_REC) > $(MODEL_DIR)/epoch-$(1).metrics.tmp
	mv $(MODEL_DIR)/epoch-$(1).metrics.tmp $(MODEL_DIR)/epoch-$(1).metrics
endef
$(foreach n,$(EPOCH_IDS),$(eval $(call EPOCH_RULE,$(n),$(shell printf %03d $$((10#$(n) - 1))))))

# One TSV line per metrics record of every finished epoch.
METRIC_COLS = id epoch step loss r_loss hits vel off kl_bits hit_acc lr gnorm ex_per_s
METRIC_COMMA := ,
METRIC_EMPTY :=
METRIC_JQ = [$(subst $(METRIC_EMPTY) $(METRIC_EMPTY),$(METRIC_COMMA),$(METRIC_COLS:%=.%))]
$(MODEL_DIR)/metrics.tsv: $(EPOCH_CKPTS) | $(BIN)/rec-dump
	( echo "$(METRIC_COLS)" | tr ' ' '\t'; \
	  cat $(sort $(wildcard $(MODEL_DIR)/epoch-*.metrics)) | $(BIN)/rec-dump | \
	  jq -r '$(METRIC_JQ) | map(. // "") | @tsv' ) > $@.tmp
	mv $@.tmp $@

metrics: | $(BIN)/rec-dump
	@test -n "$(wildcard $(MODEL_DIR)/epoch-*.metrics)" || { echo "metrics: no finished epoch in $(MODEL_DIR)/" >&2; exit 1; }
	@rm -f $(MODEL_DIR)/metrics.tsv
	$(MAKE) --no-print-directory $(MODEL_DIR)/metrics.tsv EPOCHS=$(words $(wildcard $(MODEL_DIR)/epoch-*.metrics))

plot: metrics
	@command -v gnuplot >/dev/null || { echo "plot: gnuplot missing: apt-get install gnuplot-nox" >&2; exit 1; }
	gnuplot -e "tsv='$(MODEL_DIR)/metrics.tsv'; png='$(MODEL_DIR)/loss.png'" pipelines/loss.gp
	@echo "plot: $(MODEL_DIR)/loss.png"

# The last epoch (or CKPT=) without optimizer state, in half precision
# (drumvae-ckpt(5)), as samples/drumvae.ckpt is made: EXPORT=path.
EXPORT ?= $(MODEL_DIR)/drumvae.ckpt
CKPT ?= $(LAST_CKPT)
export-model: | $(TRAIN_STEP)
	@test -s "$(CKPT)" || { echo "export-model: no checkpoint $(CKPT) (make model first)" >&2; exit 1; }
	$(TRAIN_STEP) -m $(CKPT) -o $(EXPORT) --export-half
	@echo "export-model: $(EXPORT) from $(CKPT)"

.PHONY: model metrics plot export-model
