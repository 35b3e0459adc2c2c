# eval-table.jq: a markdown table of several eval/*/summary.json (slurped).
def f($n): if . == null then "-" else (. * pow(10; $n) | round / pow(10; $n) | tostring) end;
"| model | F1 T=0 | F1 teacher-forced | vel err (0-127) | vel baseline | timing err ms | grid baseline ms | KL bits | prior max density dev | prior vel mean dev | prior timing dev | prior vel TV |",
"|---|---|---|---|---|---|---|---|---|---|---|---|",
(.[] | "| \(.model) | \(.t0_f1 | f(3)) | \(.tf_f1 | f(3)) | \(.t0_vel_mae | f(1)) | \(.t0_base_vel_mae | f(1)) | \(.t0_timing_ms | f(1)) | \(.t0_base_timing_ms | f(1)) | \(.kl_bits | f(1)) | \(.prior_density_rel_max | f(2)) | \(.prior_vel_mean_rel | f(2)) | \(.prior_timing_rel | f(2)) | \(.prior_vel_tv | f(2)) |")
