# fit2d.gp — a 2-D generative fit (bdrl fit): heat map of the scalar field s,
# arrows of the gradient field g (left), BDD samples (right).
# Variables: dir (folder with fields.csv, samples.csv), out, term (png|svg), ttl.
if (term eq 'svg') { set terminal svg size 1200,560 dynamic font 'Helvetica,13' background '#ffffff' } \
else { set terminal pngcairo size 1200,560 font 'Helvetica,12' }
set output out
set datafile separator ','
set multiplot layout 1,2 title ttl
set size ratio -1
set xlabel 'x'
set ylabel 'y'
set palette defined (0 '#ffffff', 1 '#fde0c5', 2 '#f59e72', 3 '#d0443e', 4 '#5c0f2e')
set cbrange [0:*]
set cblabel 'scalar field s'
stats dir.'/fields.csv' using 1:2 skip 1 nooutput
xlo = STATS_min_x; xhi = STATS_max_x; ylo = STATS_min_y; yhi = STATS_max_y
set xrange [xlo:xhi]
set yrange [ylo:yhi]
stats dir.'/fields.csv' using 4:5 skip 1 nooutput
gmax = (abs(STATS_max_x) > abs(STATS_min_x) ? abs(STATS_max_x) : abs(STATS_min_x))
gmax = (abs(STATS_max_y) > gmax ? abs(STATS_max_y) : (abs(STATS_min_y) > gmax ? abs(STATS_min_y) : gmax))
arrow_scale = 0.06 * (xhi - xlo) / (gmax > 0 ? gmax : 1)
set title 'scalar field s (colour), gradient field g (arrows)'
plot dir.'/fields.csv' using 1:2:3 skip 1 with image notitle, \
     dir.'/fields.csv' using 1:2:($4*arrow_scale):($5*arrow_scale) skip 1 every 4:4 with vectors head size 0.04,20 filled lc rgb '#1f3b73' notitle
unset colorbox
set title 'Bellman Diffusion Dynamics samples'
plot dir.'/samples.csv' using 1:2 skip 1 with points pt 7 ps 0.25 lc rgb '#1f77b4' notitle
unset multiplot
