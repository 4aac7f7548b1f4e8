# dist_probes.gp — return distributions at CartPole's probe states (bdrl plot
# dist): one panel per probe (truth.h), each zoomed to where its laws are.
# Each panel: every run's model law (BD: grid density; C51: atoms), BD's
# Bellman Diffusion samples, and the Monte Carlo return of each run's greedy
# policy (CartPole is deterministic: one atom).
#   mode 'cdf': CDFs (truth black, models coloured, samples light and wide);
#   mode 'pdf': probability per bin of width binw (model lines / outlines,
#               sample histogram, true atoms as black impulses).
# Variables: dir (folder with meta.gp and the .dat files, one `index` block
# per panel), out, term (png|svg), ttl. dist_frozenlake.gp is the map twin.
load dir.'/meta.gp'
pw = (ncol > 5 ? 250 : 330); ph = (ncol > 5 ? 210 : 265); fs = (ncol > 5 ? 9 : 11)
tfont = sprintf('Helvetica,%d', fs); tfont_svg = sprintf('Helvetica,%d', fs+1)
f_m1 = sprintf(',%d', fs-1); f_p1 = sprintf(',%d', fs+1); f_p2 = sprintf(',%d', fs+2)
f_p4 = sprintf(',%d', fs+4); f_p5 = sprintf(',%d', fs+5)
# the legend: one entry a row (truths, models, samples drawn) in a strip at
# the bottom as tall as they need; at least 1000 px wide so that the title
# fits however few columns of panels there are
keyrows = ntruth + nruns
do for [r=1:nruns] { keyrows = keyrows + rsamples[r] }
keyh = 45 + 19*keyrows
W = ncol*pw + 90; W = (W < 1000 ? 1000 : W); H = nrow*ph + 60 + keyh
if (term eq 'svg') { set terminal svg size W,H dynamic font tfont_svg background '#ffffff' } \
else { set terminal pngcairo size W,H font tfont }
set encoding utf8
set termoption noenhanced
set output out
set multiplot title ttl font f_p4
top = 1 - 55.0/H; bot = (keyh - 5.0)/H; left = 60.0/W; right = 1 - 12.0/W
cw = (right - left)/ncol; chh = (top - bot)/nrow
set grid lc rgb '#e6e6e6'
set tics font f_m1
set xtics nomirror; set ytics nomirror
set style fill transparent solid 0.6 noborder
do for [i=1:npanels] {
  rr = (i-1)/ncol; cc = (i-1)%ncol
  x0 = left + cc*cw; y1 = top - rr*chh
  set lmargin at screen x0 + 38.0/W
  set rmargin at screen x0 + cw - 10.0/W
  set tmargin at screen y1 - 40.0/H
  set bmargin at screen y1 - chh + 22.0/H
  set title ptitle[i] offset 0,-0.7
  set xrange [pxlo[i]:pxhi[i]]
  if (mode eq 'cdf') {
    set yrange [-0.03:1.05]
    plot for [r=1:nruns] sprintf('%s/run%d_ecdf.dat', dir, r) index (i-1) using 1:2 with lines lw 5 lc rgb rlight[r] notitle, \
         for [r=1:nruns] sprintf('%s/run%d_cdf.dat', dir, r) index (i-1) using 1:2 with lines lw 2.5 lc rgb rcolor[r] notitle, \
         for [k=1:ntruth] sprintf('%s/truth%d_cdf.dat', dir, k) index (i-1) using 1:2 with lines lw 1.3 dt k lc rgb '#000000' notitle
  } else {
    if (exists('pymax')) { set yrange [0:pymax[i]] } else { set yrange [0:*] }
    plot for [r=1:nruns] sprintf('%s/run%d_hist.dat', dir, r) index (i-1) using 1:2:(binw) with boxes lc rgb rlight[r] notitle, \
         for [r=1:nruns] sprintf('%s/run%d_pdf.dat', dir, r) index (i-1) using 1:2 with lines lw 2 lc rgb rcolor[r] notitle, \
         for [k=1:ntruth] sprintf('%s/truth%d.dat', dir, k) index (i-1) using 1:2 with impulses lw 2 dt k lc rgb '#000000' notitle
  }
}
# Axis labels and one legend for all panels, in a strip at the bottom.
set label 101 'return' at screen 0.5, bot - 14.0/H center font f_p2
set label 102 ylab at screen 14.0/W, (top + bot)/2 center rotate by 90 font f_p2
set lmargin at screen left; set rmargin at screen right
set bmargin at screen 0.01; set tmargin at screen bot - 30.0/H
unset title; unset border; unset tics; unset grid
set xrange [0:1]; set yrange [0:1]
set key at screen 0.5, (bot - 30.0/H)/2 center center vertical maxrows keyrows width 2 font f_p1 samplen 3
if (mode eq 'cdf') {
  plot for [k=1:ntruth] NaN with lines lw 1.3 dt k lc rgb '#000000' title tlabel[k], \
       for [r=1:nruns] NaN with lines lw 2.5 lc rgb rcolor[r] title rmodel[r], \
       for [r=1:nruns] NaN with lines lw 5 lc rgb rlight[r] title (rsamples[r] ? rsamp[r].' (empirical CDF)' : '')
} else {
  plot for [k=1:ntruth] NaN with impulses lw 2 dt k lc rgb '#000000' title tlabel[k].' (atoms)', \
       for [r=1:nruns] NaN with lines lw 2 lc rgb rcolor[r] title rmodel[r], \
       for [r=1:nruns] NaN with boxes lc rgb rlight[r] title (rsamples[r] ? rsamp[r].' (histogram)' : '')
}
unset multiplot
