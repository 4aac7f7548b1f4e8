# returns.gp — `bdrl plot returns`: the returns of runs' greedy episodes,
# one column per run: the undiscounted return (what bdrl eval scores) above
# the discounted one (sum of gamma^t r_t: what the return laws are laws of),
# as the fraction of episodes per value (or per bin), with the mean (solid)
# and a risk measure of the episodes' returns (dashed) marked. Both rows
# share their x axis across the runs.
# Variables: dir (folder with meta.gp and hist.dat: one `index` block per
# panel, run 1 undiscounted, run 1 discounted, run 2 ...), out, term, ttl.
load dir.'/meta.gp'
pw = 420.0; ph = 250.0
W = nruns*pw + 80; W = (W < 820 ? 820.0 : W*1.0); H = 2*ph + 320.0
if (term eq 'svg') { set terminal svg size W,H dynamic font 'Helvetica,12' background '#ffffff' } \
else { set terminal pngcairo size W,H font 'Helvetica,11' background '#ffffff' }
set encoding utf8
set termoption noenhanced
set output out
array rcolor[6] = ['#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf']
hist = dir.'/hist.dat'
set multiplot title ttl font ',12'
set grid ytics lc rgb '#e6e6e6'
set border 3; set xtics nomirror; set ytics nomirror
set style fill solid 0.75 noborder
unset key
cw = (W - 80)/nruns
do for [k=1:nruns] {
  do for [row=1:2] {
    i = 2*(k-1) + row
    x0 = 60 + (k-1)*cw
    yt = H - 100 - (row-1)*(ph + 120)
    set lmargin at screen x0/W; set rmargin at screen (x0 + cw - 30)/W
    set tmargin at screen yt/H; set bmargin at screen (yt - ph)/H
    set title ptitle[i] font ',10'
    if (row == 1) { set xrange [xlo1:xhi1]; set xlabel 'return (undiscounted)' } \
    else { set xrange [xlo2:xhi2]; set xlabel 'discounted return' }
    set yrange [0:ymax]
    set ylabel (k == 1 ? 'fraction of episodes' : '')
    unset arrow
    set arrow 1 from mean[i], graph 0 to mean[i], graph 1 nohead lw 2 lc rgb '#000000'
    set arrow 2 from risk[i], graph 0 to risk[i], graph 1 nohead lw 2 dt 2 lc rgb '#e53935'
    plot hist index (i-1) using 1:2:3 with boxes lc rgb rcolor[(k-1)%6+1]
  }
}
unset arrow
unset title; unset border; unset tics; unset grid; unset xlabel; unset ylabel
set lmargin at screen 0.05; set rmargin at screen 0.95
set bmargin at screen 0.0; set tmargin at screen 40.0/H
set xrange [0:1]; set yrange [0:1]
set key at screen 0.5, 22.0/H center center horizontal samplen 3 font ',11'
plot NaN with lines lw 2 lc rgb '#000000' title 'mean of the episodes', \
     NaN with lines lw 2 dt 2 lc rgb '#e53935' title measure.' of the episodes'
unset multiplot
