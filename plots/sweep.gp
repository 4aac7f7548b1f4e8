# sweep.gp — a sweep's metric against one swept parameter (bdrl sweep): one
# point per run, the mean over runs per value as a line.
# Variables: dir (the data prefix: DIR.dat holds the points then the means,
# DIR.gp the parameter, metric and axis kind), out, term (png|svg), ttl.
if (!exists("param")) { load dir.'.gp' }
if (term eq 'svg') { set terminal svg size 800,520 dynamic font 'Helvetica,13' background '#ffffff' noenhanced } \
else { set terminal pngcairo size 800,520 font 'Helvetica,12' noenhanced }
set output out
set title ttl
set key top left box opaque
set grid lc rgb '#dddddd'
set xlabel param
set ylabel metric
set offsets graph 0.05, graph 0.05, graph 0.05, graph 0.05
if (logx) { set logscale x; set format x '%g' }
if (categorical) {
  plot datafile index 0 using 1:2 with points pt 7 ps 1 lc rgb '#7aa6d6' title 'runs', \
       datafile index 1 using 1:2:xtic(3) with linespoints lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'mean over seeds'
} else {
  plot datafile index 0 using 1:2 with points pt 7 ps 1 lc rgb '#7aa6d6' title 'runs', \
       datafile index 1 using 1:2 with linespoints lw 2 pt 5 ps 1.3 lc rgb '#d62728' title 'mean over seeds'
}
