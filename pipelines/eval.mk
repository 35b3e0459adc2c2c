# eval.mk: `make eval [MODEL=x.ckpt]` measures a model on the GMD test split
# (data/test.rec; run `make data` first):
#   reconstruction, sampled at T=0 (encode to mu, decode autoregressively)
#   and teacher-forced: hit precision, recall, F1, velocity and timing error
#   on true hits, with the class-mean-velocity and on-the-grid baselines;
#   KL of the posterior in bits; prior samples (EVAL_SAMPLES at EVAL_TEMP)
#   against the training data: per-class hit density, velocity histogram
#   distance, mean velocity and mean |timing offset|.
# Results: $(EVAL_DIR)/*.metrics (records) and $(EVAL_DIR)/summary.json;
# `make eval-table EVALS="eval/a eval/b"` prints a markdown table of several.

EVAL_MODEL ?= $(MODEL)
EVAL_NAME ?= $(basename $(notdir $(EVAL_MODEL)))
EVAL_DIR ?= eval/$(EVAL_NAME)
EVAL_SAMPLES ?= 1000
EVAL_TEMP ?= 0.5
EVAL_SEED ?= 1
TEST_REC ?= data/test.rec
EVAL_TRAIN_REC ?= data/train.rec
EVAL_TOOLS = $(BIN)/encode $(BIN)/decode $(BIN)/pattern-eval $(BIN)/rec-dump

eval: $(EVAL_TOOLS)
	@test -s "$(EVAL_MODEL)" || { echo "eval: no model at '$(EVAL_MODEL)' (MODEL=...)" >&2; exit 1; }
	@test -s "$(TEST_REC)" -a -s "$(EVAL_TRAIN_REC)" || { echo "eval: $(TEST_REC) or $(EVAL_TRAIN_REC) missing: run make data" >&2; exit 1; }
	@mkdir -p $(EVAL_DIR)
	$(BIN)/encode -m $(EVAL_MODEL) $(TEST_REC) > $(EVAL_DIR)/test-latent.rec.tmp || { rm -f $(EVAL_DIR)/test-latent.rec.tmp; exit 1; }
	mv $(EVAL_DIR)/test-latent.rec.tmp $(EVAL_DIR)/test-latent.rec
	$(BIN)/decode -m $(EVAL_MODEL) --temperature 0 $(EVAL_DIR)/test-latent.rec > $(EVAL_DIR)/recon-t0.rec.tmp || { rm -f $(EVAL_DIR)/recon-t0.rec.tmp; exit 1; }
	mv $(EVAL_DIR)/recon-t0.rec.tmp $(EVAL_DIR)/recon-t0.rec
	$(BIN)/pattern-eval --ref $(TEST_REC) --train $(EVAL_TRAIN_REC) $(EVAL_DIR)/recon-t0.rec > $(EVAL_DIR)/recon-t0.metrics.tmp || { rm -f $(EVAL_DIR)/recon-t0.metrics.tmp; exit 1; }
	mv $(EVAL_DIR)/recon-t0.metrics.tmp $(EVAL_DIR)/recon-t0.metrics
	$(BIN)/decode -m $(EVAL_MODEL) --teacher $(TEST_REC) $(EVAL_DIR)/test-latent.rec > $(EVAL_DIR)/recon-tf.rec.tmp || { rm -f $(EVAL_DIR)/recon-tf.rec.tmp; exit 1; }
	mv $(EVAL_DIR)/recon-tf.rec.tmp $(EVAL_DIR)/recon-tf.rec
	$(BIN)/pattern-eval --ref $(TEST_REC) --train $(EVAL_TRAIN_REC) $(EVAL_DIR)/recon-tf.rec > $(EVAL_DIR)/recon-tf.metrics.tmp || { rm -f $(EVAL_DIR)/recon-tf.metrics.tmp; exit 1; }
	mv $(EVAL_DIR)/recon-tf.metrics.tmp $(EVAL_DIR)/recon-tf.metrics
	$(BIN)/decode -m $(EVAL_MODEL) --sample $(EVAL_SAMPLES) --temperature $(EVAL_TEMP) --seed $(EVAL_SEED) > $(EVAL_DIR)/prior.rec.tmp || { rm -f $(EVAL_DIR)/prior.rec.tmp; exit 1; }
	mv $(EVAL_DIR)/prior.rec.tmp $(EVAL_DIR)/prior.rec
	$(BIN)/pattern-eval --stats $(EVAL_TRAIN_REC) $(EVAL_DIR)/prior.rec > $(EVAL_DIR)/prior.metrics.tmp || { rm -f $(EVAL_DIR)/prior.metrics.tmp; exit 1; }
	mv $(EVAL_DIR)/prior.metrics.tmp $(EVAL_DIR)/prior.metrics
	$(BIN)/rec-dump $(EVAL_DIR)/test-latent.rec | jq -s -f pipelines/eval-summary.jq \
		--arg model '$(EVAL_MODEL)' \
		--slurpfile t0 <($(BIN)/rec-dump $(EVAL_DIR)/recon-t0.metrics) \
		--slurpfile tf <($(BIN)/rec-dump $(EVAL_DIR)/recon-tf.metrics) \
		--slurpfile prior <($(BIN)/rec-dump $(EVAL_DIR)/prior.metrics) \
		> $(EVAL_DIR)/summary.json.tmp || { rm -f $(EVAL_DIR)/summary.json.tmp; exit 1; }
	mv $(EVAL_DIR)/summary.json.tmp $(EVAL_DIR)/summary.json
	@jq -r 'to_entries[] | "\(.key)\t\(.value)"' $(EVAL_DIR)/summary.json

EVALS ?= $(wildcard eval/*)
eval-table:
	@test -n "$(EVALS)" || { echo "eval-table: no eval/*/summary.json (make eval first)" >&2; exit 1; }
	@jq -s -r -f pipelines/eval-table.jq $(EVALS:%=%/summary.json)

.PHONY: eval eval-table
