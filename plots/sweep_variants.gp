# sweep_variants.gp — an ablation sweep's metric per variant (bdrl sweep with
# variants:): the variants along x in the sweep file's order, one colour per
# config; one point per run (jittered within its config's slot), the median
# per (config, variant) as a large open diamond with its interquartile range as a
# bar; runs that never reached the threshold as open triangles in a grey
# band "not reached" above every finite value.
# Variables: dir (the data prefix: DIR.dat holds per config a block of runs,
# x y reached, then a block of medians, x median q25 q75; DIR.gp the
# configs, the variants' tic labels and the band), out, term (png|svg), ttl.
if (!exists("nconfigs")) { load dir.'.gp' }
width = nvariants * 75 + 260
if (width < 760) { width = 760 }
if (term eq 'svg') { set terminal svg size width,580 dynamic font 'Helvetica,13' background '#ffffff' noenhanced } \
else { set terminal pngcairo size width,580 font 'Helvetica,12' noenhanced }
set output out
set title ttl
set key outside right top box opaque
set grid ytics lc rgb '#dddddd'
set ylabel metric
set xlabel 'variant'
set xrange [-0.6:nvariants - 0.4]
eval('set xtics '.xtic_labels)
set xtics nomirror
if (rotate_tics) { set xtics rotate by 40 right }
# steps cannot be negative: no axis below 0 (a bottom offset would make one)
if (metric eq 'steps_to_threshold') { set offsets 0, 0, graph 0.05, 0; set yrange [0:*] } \
else { set offsets 0, 0, graph 0.05, graph 0.05 }
array col[8] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f']
if (has_band) {
  set object 1 rect from graph 0, first (band - band_half) to graph 1, first (band + band_half) \
      fc rgb '#eeeeee' fs solid 1.0 noborder behind
  if (numeric_tics) { set ytics ytic_from, ytic_step, ytic_to; set ytics add ('not reached' band) } \
  else { set ytics ('not reached' band) }
  set yrange [ytic_from:band + 2 * band_half]
}
# medians first, so that the runs' points stay visible on top of them
plot for [c=1:nconfigs] datafile index (2*(c-1)+1) using 1:2:3:4 with yerrorbars pt 12 ps 2.6 lw 2 \
         lc rgb col[(c-1)%8+1] notitle, \
     for [c=1:nconfigs] datafile index (2*(c-1)) using 1:($3 > 0.5 ? $2 : NaN) with points pt 7 ps 0.8 \
         lc rgb col[(c-1)%8+1] title configs[c], \
     for [c=1:nconfigs] datafile index (2*(c-1)) using 1:($3 > 0.5 ? NaN : $2) with points pt 8 ps 1.3 \
         lc rgb col[(c-1)%8+1] notitle, \
     keyentry with yerrorbars pt 12 ps 2.6 lw 2 lc rgb '#333333' title 'median, IQR', \
     keyentry with points pt 8 ps 1.3 lc rgb '#333333' title (has_band ? 'not reached' : '')
