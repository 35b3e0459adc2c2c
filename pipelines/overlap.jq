# overlap.jq: per interpolation step, the hits it shares with each end
# (Jaccard index of the hit cells: |S and E| / |S or E|).
# Input: the interpolation's patterns (rec-dump, slurped); $a, $b: the two
# source patterns (slurped files of one record each).
def hits: [.groove as $g | range(0; 64) as $t | range(0; 9) as $k
	| select($g[$t * 27 + $k] > 0.5) | $t * 9 + $k];
def jaccard($x; $y): ($x - ($x - $y) | length) as $i
	| if ($x + $y | unique | length) == 0 then 1 else $i / ($x + $y | unique | length) end;
def r2: . * 100 | round / 100;
($a[0] | hits) as $ha | ($b[0] | hits) as $hb
| "step      t  hits  overlap-A  overlap-B",
  (to_entries[] | (.value | hits) as $h
	| "\(.key + 1 | tostring | .[0:4] | . + "    " | .[0:4]) \(.value.t // "-" | tostring | . + "      " | .[0:6]) \($h | length | tostring | "   " + . | .[-4:])  \(jaccard($h; $ha) | r2 | tostring | . + "         " | .[0:9])  \(jaccard($h; $hb) | r2)"),
  "A: \($ha | length) hits, B: \($hb | length) hits, A and B share \(jaccard($ha; $hb) | r2)"
