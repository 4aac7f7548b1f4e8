# curves.gp — learning curves over seeds (bdrl compare, bdrl sweep, bdrl plot):
# evaluation return against environment steps, per group the mean over runs
# (line) and a 95% bootstrap interval of that mean (band), the threshold
# dashed.
# Variables: dir (the data prefix: DIR.dat holds the blocks, DIR.gp the
# group labels and threshold), out, term (png|svg), ttl.
if (!exists("ngroups")) { load dir.'.gp' }
if (term eq 'svg') { set terminal svg size 900,560 dynamic font 'Helvetica,13' background '#ffffff' noenhanced } \
else { set terminal pngcairo size 900,560 font 'Helvetica,12' noenhanced }
set output out
set title ttl
# Below the axes, not inside them: curves that still rise at the end (MinAtar)
# would run under a key in a corner. Two entries a row, and the bottom
# margin grown by hand for the rows (gnuplot's own margin puts the key over
# the x label).
set key below maxcols 2 width 1
set bmargin 3.5 + 1.3 * ceil((ngroups + has_thr) / 2.0)
set grid lc rgb '#dddddd'
set xlabel 'environment steps'
set ylabel 'evaluation return'
array col[8] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f']
set style fill transparent solid 0.2 noborder
# The threshold is plotted as a function (not an arrow) so autoscaling includes it.
if (has_thr) {
  plot for [g=1:ngroups] datafile index (g-1) using 1:3:4 with filledcurves lc rgb col[(g-1)%8+1] notitle, \
       for [g=1:ngroups] datafile index (g-1) using 1:2 with lines lw 2 lc rgb col[(g-1)%8+1] title labels[g], \
       thr with lines dt 2 lw 1.5 lc rgb '#000000' title sprintf('threshold %g', thr)
} else {
  plot for [g=1:ngroups] datafile index (g-1) using 1:3:4 with filledcurves lc rgb col[(g-1)%8+1] notitle, \
       for [g=1:ngroups] datafile index (g-1) using 1:2 with lines lw 2 lc rgb col[(g-1)%8+1] title labels[g]
}
