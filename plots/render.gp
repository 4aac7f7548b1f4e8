# render.gp — `bdrl render`: a greedy episode, frame by frame. Left: the
# environment, drawn from shapes (render_draw.h: type x0 y0 x1 y1 rgb text;
# 1 filled rectangle, 2 thin line, 3 thick line, 4 filled circle of radius
# x1, 5 text in colour rgb). Right: the agent's return law from the current state for each
# action as a CDF, the greedy action's curve thick, and the return collected
# so far (undiscounted) as a dashed vertical line.
# Variables: dir (folder with meta.gp, scene.dat, laws.dat; one `index`
# block per frame), out (the GIF, or the folder of PNG frames), mode
# ('gif': one animated GIF; 'png': out/frame_00001.png, ...).
# Prints "frame N" to stdout as each frame is done (progress).
load dir.'/meta.gp'
W = 1000; H = 460
if (mode eq 'gif') {
  set terminal gif animate delay delay size W,H font 'DejaVuSans,10' background '#ffffff'
  set output out
} else {
  set terminal pngcairo size W,H font 'DejaVu Sans,10' background '#ffffff'
}
set encoding utf8
set termoption noenhanced
set print '-'
array acolor[8] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf']
scene = dir.'/scene.dat'; lawsf = dir.'/laws.dat'

# The scene's axes stretched to the panel's shape, so x and y scales agree.
sl = 0.02; sr = 0.38; sb = 0.06; st = 0.84
pr = ((sr - sl)*W) / ((st - sb)*H)
# as reals: meta.gp writes whole numbers for grids, and 4/3 would divide to 1
sw = (sx1 - sx0)*1.0; sh = (sy1 - sy0)*1.0
if (sw/sh < pr) { cx = (sx0 + sx1)/2; ax0 = cx - sh*pr/2; ax1 = cx + sh*pr/2; ay0 = sy0; ay1 = sy1 } \
else { cy = (sy0 + sy1)/2; ax0 = sx0; ax1 = sx1; ay0 = cy - sw/pr/2; ay1 = cy + sw/pr/2 }

do for [i=1:nframes] {
  if (mode ne 'gif') { set output sprintf('%s/frame_%05d.png', out, i) }
  set multiplot title ttl."\n".ftitle[i] font ',12'
  # the environment
  set lmargin at screen sl; set rmargin at screen sr
  set bmargin at screen sb; set tmargin at screen st
  unset border; unset tics; unset key; unset grid; unset arrow; unset xlabel; unset ylabel
  set xrange [ax0:ax1]; set yrange [ay0:ay1]
  plot scene index (i-1) using ($1==1 ? ($2+$4)/2 : NaN):(($3+$5)/2):(($4-$2)/2):(($5-$3)/2):6 \
         with boxxyerror fs solid 1.0 noborder lc rgb variable notitle, \
       '' index (i-1) using ($1==2 ? $2 : NaN):3:($4-$2):($5-$3):6 with vectors nohead lw 1.5 lc rgb variable notitle, \
       '' index (i-1) using ($1==3 ? $2 : NaN):3:($4-$2):($5-$3):6 with vectors nohead lw 9 lc rgb variable notitle, \
       '' index (i-1) using ($1==4 ? $2 : NaN):3:4:6 with circles fs solid 1.0 noborder lc rgb variable notitle, \
       '' index (i-1) using ($1==5 ? $2 : NaN):3:7:6 with labels tc rgb variable font ',11' notitle
  # the return laws
  set lmargin at screen 0.47; set rmargin at screen 0.73
  set bmargin at screen 0.13; set tmargin at screen st
  set border 3; set xtics nomirror; set ytics nomirror 0.25; set grid lc rgb '#e6e6e6'
  set xrange [lx0:lx1]; set yrange [-0.02:1.02]
  set xlabel 'return (the laws: discounted return from this state on)'
  set ylabel lawlabel.': P(return <= x)'
  set key at screen 0.74, screen st left top vertical Left reverse samplen 2 font ',9'
  set arrow 1 from G[i], graph 0 to G[i], graph 1 nohead lw 2 dt 2 lc rgb '#000000'
  plot for [a=1:nact] lawsf index (i-1) using 2:($1==a-1 ? $3 : NaN) with lines \
         lw (chosen[i]==a ? 4 : 1.5) lc rgb acolor[(a-1)%8+1] title actname[a].(chosen[i]==a ? ' (greedy)' : ''), \
       NaN with lines lw 2 dt 2 lc rgb '#000000' title 'rewards so far, undiscounted'
  unset multiplot
  print sprintf('frame %d', i)
}
if (mode eq 'gif') { set output }
