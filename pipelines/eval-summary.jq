# eval-summary.jq: one JSON object of the numbers `make eval` reports.
# Input: the test split's latent records (slurped); $t0, $tf, $prior: the
# metrics records of pattern-eval; $model: the checkpoint's path.
def kl_bits: [range(0; .zdim) as $i
	| .sigma[$i] * .sigma[$i] + .mu[$i] * .mu[$i] - 1 - 2 * (.sigma[$i] | log)]
	| add * 0.5 / (2 | log);
def pick($r; $p): $r | with_entries(select(.key | test("^(f1|precision|recall|vel_mae|timing_ms|base_vel_mae|base_timing_ms|hit_acc|f1_.*)$")))
	| with_entries(.key = $p + .key);
($prior[] | select(.id == "distribution")) as $d
| ($prior[] | select(.id == "stats-train")) as $tr
| ($prior[] | select(.id == "stats-samples")) as $sa
| { model: $model, test_patterns: length, kl_bits: (map(kl_bits) | add / length) }
  + pick($t0[0]; "t0_") + pick($tf[0]; "tf_")
  + ($d | with_entries(select(.key | test("^(density_rel.*|vel_tv|vel_mean_rel|timing_rel)$")))
        | with_entries(.key = "prior_" + .key))
  + { prior_vel_mean: $sa.vel_mean, train_vel_mean: $tr.vel_mean,
      prior_timing_ms: $sa.timing_ms, train_timing_ms: $tr.timing_ms }
