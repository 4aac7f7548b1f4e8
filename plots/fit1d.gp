# fit1d.gp — a 1-D generative fit (bdrl fit): the learned density s against the
# true one with a histogram of BDD samples (top), the gradient field g against
# the true derivative (bottom).
# Variables: dir (folder with fields.csv, hist.csv), out, term (png|svg), ttl.
if (term eq 'svg') { set terminal svg size 900,700 dynamic font 'Helvetica,13' background '#ffffff' } \
else { set terminal pngcairo size 900,700 font 'Helvetica,12' }
set output out
set datafile separator ','
set key top left box opaque
set grid lc rgb '#dddddd'
set multiplot layout 2,1 title ttl
set ylabel 'density'
set style fill solid 0.35 noborder
plot dir.'/hist.csv' using 1:2 skip 1 with boxes lc rgb '#7aa6d6' title 'BDD samples (histogram)', \
     dir.'/fields.csv' using 1:4 skip 1 with lines lw 2 dt 2 lc rgb '#000000' title 'true density p', \
     dir.'/fields.csv' using 1:2 skip 1 with lines lw 2 lc rgb '#d62728' title 'scalar field s'
set xlabel 'x'
set ylabel 'derivative'
plot dir.'/fields.csv' using 1:5 skip 1 with lines lw 2 dt 2 lc rgb '#000000' title "true p'", \
     dir.'/fields.csv' using 1:3 skip 1 with lines lw 2 lc rgb '#2ca02c' title 'gradient field g'
unset multiplot
