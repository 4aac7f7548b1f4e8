# risk.gp — `bdrl plot risk`: one state of a run. Top: each action's learned
# return law as a CDF (solid; the greedy action's thick, drawn first), the exact law dashed
# where the env has a transition table, and on each curve the action's value
# of the run's agent.risk (filled: learned, open: exact). Bottom: each
# action's value of one family of risk measures across its parameter, learned
# (solid) and exact (dashed); where the curves cross, the best action
# changes. The run's own parameter is a vertical line.
# Variables: dir (folder with meta.gp, laws.dat, exact.dat: one `index`
# block per action; marks.dat; sweep.dat: param, learned values, exact
# values), out, term (png|svg), ttl.
load dir.'/meta.gp'
W = 1000.0; H = 880.0
if (term eq 'svg') { set terminal svg size W,H dynamic font 'Helvetica,12' background '#ffffff' } \
else { set terminal pngcairo size W,H font 'Helvetica,11' background '#ffffff' }
set encoding utf8
set termoption noenhanced
set output out
array acolor[8] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']
laws = dir.'/laws.dat'; exactf = dir.'/exact.dat'; marks = dir.'/marks.dat'; sweep = dir.'/sweep.dat'
set multiplot title ttl font ',12'
set grid lc rgb '#e6e6e6'
set border 3; set xtics nomirror; set ytics nomirror
L = 0.08; R = 0.68
# top: the laws
set lmargin at screen L; set rmargin at screen R
set tmargin at screen 0.92; set bmargin at screen 0.56
set xrange [xlo:xhi]; set yrange [-0.02:1.02]
set xlabel 'return'
set ylabel learnlab.': P(return <= x)'
set key at screen R + 0.01, screen 0.92 left top vertical Left reverse samplen 2.5 font ',10'
# the greedy action's thick curve first, so thinner ones on top stay visible
plot laws index (greedy-1) using 1:2 with lines lw 3.5 lc rgb acolor[(greedy-1)%8+1] title actname[greedy], \
     for [a=1:nact] laws index (a-1) using 1:(a == greedy ? NaN : $2) with lines lw 1.8 lc rgb acolor[(a-1)%8+1] title (a == greedy ? '' : actname[a]), \
     for [a=1:nact] (hasexact ? exactf : laws) index (a-1) using 1:(hasexact ? $2 : NaN) with lines lw 1.3 dt 2 lc rgb acolor[(a-1)%8+1] notitle, \
     for [a=1:nact] marks every ::(a-1)::(a-1) using 2:3 with points pt 7 ps 1.6 lc rgb acolor[(a-1)%8+1] notitle, \
     for [a=1:nact] marks every ::(a-1)::(a-1) using 4:5 with points pt 6 ps 2.0 lw 2 lc rgb acolor[(a-1)%8+1] notitle, \
     NaN with points pt 7 ps 1.4 lc rgb '#555555' title marklab, \
     (hasexact ? NaN : 1/0) with lines lw 1.3 dt 2 lc rgb '#555555' title (hasexact ? 'exact laws (dashed)' : ''), \
     (hasexact ? NaN : 1/0) with lines lc rgb '#ffffff' title (hasexact ? exactlab : ''), \
     (hasexact ? NaN : 1/0) with points pt 6 ps 1.6 lw 2 lc rgb '#555555' title (hasexact ? exactmark : '')
# bottom: the sweep
set tmargin at screen 0.45; set bmargin at screen 0.07
set xrange [plo:phi]; set yrange [*:*]
set xlabel xlab2
set ylabel ylab2
unset arrow
if (ownparam == ownparam) { set arrow 1 from ownparam, graph 0 to ownparam, graph 1 nohead lw 1.5 dt 3 lc rgb '#000000' }
set key at screen R + 0.01, screen 0.45 left top vertical Left reverse samplen 2.5 font ',10'
plot sweep using 1:(column(greedy+1)) with lines lw 3.5 lc rgb acolor[(greedy-1)%8+1] title actname[greedy], \
     for [a=1:nact] sweep using 1:(a == greedy ? NaN : column(a+1)) with lines lw 1.8 lc rgb acolor[(a-1)%8+1] title (a == greedy ? '' : actname[a]), \
     for [a=1:nact] sweep using 1:(hasexact ? column(nact+a+1) : NaN) with lines lw 1.3 dt 2 lc rgb acolor[(a-1)%8+1] notitle, \
     (hasexact ? NaN : 1/0) with lines lw 1.3 dt 2 lc rgb '#555555' title (hasexact ? 'exact laws' : ''), \
     (ownparam == ownparam ? NaN : 1/0) with lines lw 1.5 dt 3 lc rgb '#000000' title (ownparam == ownparam ? sprintf('the run''s agent.risk: %s:%g', family, ownparam) : '')
unset multiplot
