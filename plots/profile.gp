# profile.gp — performance profiles over a suite of environments (bdrl
# compare over several environments, or --aggregate): per agent the fraction
# of runs whose normalized score exceeds tau (line) and a 95% stratified
# bootstrap band; tau = 0 is the random policy's score, tau = 1 the
# reference (dashed).
# Variables: dir (the data prefix: DIR.dat holds one block per agent, DIR.gp
# the agent labels), out, term (png|svg), ttl.
if (!exists("nagents")) { load dir.'.gp' }
if (term eq 'svg') { set terminal svg size 900,560 dynamic font 'Helvetica,13' background '#ffffff' noenhanced } \
else { set terminal pngcairo size 900,560 font 'Helvetica,12' noenhanced }
set output out
set title ttl
set key bottom left box opaque Left reverse
set grid lc rgb '#dddddd'
set xlabel 'normalized score τ (0: random policy, 1: reference)'
set ylabel 'fraction of runs with score > τ'
set yrange [0:1.05]
set autoscale xfix
set ytics 0, 0.25, 1
array col[8] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f']
set style fill transparent solid 0.2 noborder
set arrow 1 from 1, graph 0 to 1, graph 1 nohead dt 2 lw 1.5 lc rgb '#000000'
set arrow 2 from 0, graph 0 to 0, graph 1 nohead dt 3 lw 1 lc rgb '#777777'
plot for [g=1:nagents] datafile index (g-1) using 1:3:4 with filledcurves lc rgb col[(g-1)%8+1] notitle, \
     for [g=1:nagents] datafile index (g-1) using 1:2 with lines lw 2 lc rgb col[(g-1)%8+1] title labels[g]
