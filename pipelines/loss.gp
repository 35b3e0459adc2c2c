# loss.gp: loss curves from model/metrics.tsv (make plot).
# Called with: gnuplot -e "tsv='...'; png='...'" pipelines/loss.gp
set terminal pngcairo size 1000,700 noenhanced
set output png
set datafile separator "\t"
set key autotitle columnhead
set multiplot layout 2,1 title "drumvae training"
set xlabel "step"
set ylabel "loss"
set grid
plot tsv using 3:(strcol(1) eq "train" ? $4 : NaN) with lines lw 1 title "train loss", \
     tsv using 3:(strcol(1) eq "validation" ? $4 : NaN) with linespoints lw 2 pt 7 title "validation loss"
set ylabel "KL bits / hit accuracy x100"
plot tsv using 3:(strcol(1) eq "train" ? $9 : NaN) with lines title "train KL (bits)", \
     tsv using 3:(strcol(1) eq "validation" ? $9 : NaN) with linespoints pt 7 title "validation KL (bits)", \
     tsv using 3:(strcol(1) eq "validation" ? 100*$10 : NaN) with linespoints pt 5 title "validation hit accuracy x100"
unset multiplot
