# fields.gp — a Bellman Diffusion agent's two fields at one state and action
# (bdrl plot fields), over the agent's grid range. Top: the scalar field s(u)
# (the learned density of the normalized return u), with the true atoms as
# impulses (probability, right axis). Bottom: the gradient field g(u) (its
# own network) against the central finite difference ds/du of s: where the
# two agree, the sampler's drift matches the density it diffuses in.
# Both fields are in u units (u = (return - c)/h, top axis); the bottom axis
# is the return.
# Variables: dir (folder with fields.dat, truth.dat, meta.gp), out,
# term (png|svg), ttl.
load dir.'/meta.gp'
# Ranges first (stats honours ranges already set): room above the curves for
# the key, and the zero of both y axes of the top panel at the same height.
stats dir.'/fields.dat' using 3 nooutput
slo = (STATS_min < 0 ? STATS_min : 0); shi = (STATS_max > 0 ? STATS_max : 1)
ylo = slo - 0.05*(shi - slo); yhi = shi + 0.35*(shi - slo)
stats dir.'/truth.dat' using 2 nooutput
y2hi = STATS_max*(yhi/shi); y2lo = y2hi*ylo/yhi
stats dir.'/fields.dat' using 4 nooutput
gmax = (abs(STATS_min) > abs(STATS_max) ? abs(STATS_min) : abs(STATS_max)); gmax = (gmax > 0 ? gmax : 1)
if (term eq 'svg') { set terminal svg size 1000,780 dynamic font 'Helvetica,13' background '#ffffff' } \
else { set terminal pngcairo size 1000,780 font 'Helvetica,12' }
set encoding utf8
set termoption noenhanced
set output out
set grid lc rgb '#e0e0e0'
set key at graph 0.5, 0.97 center top horizontal box opaque width 1
set multiplot title ttl."\n".sub font ',13'
set lmargin 12; set rmargin 12
set xrange [c + h*ulo : c + h*uhi]
set link x2 via (x - c)/h inverse c + h*x
set x2tics 0.5; set xtics nomirror
set x2label 'normalized return u'
set tmargin at screen 0.86; set bmargin at screen 0.52
set ylabel 's(u)  (density per unit u)'
set y2label 'true probability'
set ytics nomirror; set y2tics
set yrange [ylo:yhi]; set y2range [y2lo:y2hi]
set format x ''
plot dir.'/fields.dat' using 1:3 with lines lw 2.5 lc rgb '#d62728' title 'scalar field s(u)', \
     0 with lines lc rgb '#888888' dt 2 notitle, \
     dir.'/truth.dat' using 1:2 axes x1y2 with impulses lw 2 lc rgb '#000000' title truthlab
unset x2tics; unset x2label; unset y2tics; unset y2label; unset link x2
set format x '% h'
set tmargin at screen 0.46; set bmargin at screen 0.09
set xlabel 'return'
set ylabel 'g(u), ds/du'
set yrange [-1.1*gmax:1.45*gmax]
plot dir.'/fields.dat' using 1:4 with lines lw 2.5 lc rgb '#2ca02c' title 'gradient field g(u)', \
     dir.'/fields.dat' using 1:5 with lines lw 1.5 dt 2 lc rgb '#000000' title fdlab, \
     0 with lines lc rgb '#888888' dt 2 notitle
unset multiplot
