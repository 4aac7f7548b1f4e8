# policy.gp — `bdrl plot policy`: greedy policies on a tabular env's map. One
# row of two panels per run: left the run's greedy action in every state,
# right the exact policy for its measure (the iterated risk-greedy policy;
# the mean-optimal one for agent.risk mean) with the mean-optimal action grey
# and dashed where the two differ. States where the run's action differs from
# the exact one are outlined in red in both panels. Terminal cells (holes,
# goal, cliff) have no action.
# Variables: dir (folder with meta.gp, cells.dat (x y rgb letter word) and one `index` block per
# panel in arrows.dat, names.dat, differ.dat, mean.dat, flips.dat), out,
# term (png|svg), ttl.
load dir.'/meta.gp'
# a cell's side in pixels: large on small maps, at least 26 on wide ones
cs = 560.0/ncol; cs = (cs > 90 ? 90.0 : cs); cs = (cs < 26 ? 26.0 : cs)
pw = ncol*cs; ph = nrow*cs
gap = 50; top = 60; ttlh = 70; keyh = 62
fs = (cs >= 60 ? 11 : 9)
# each panel sits centred in a slot wide enough for its title's longest line
# (maxchars, from meta.gp; about 0.6 em a character)
slot = maxchars*fs*0.62 + 10; slot = (slot < pw ? pw : slot)
W = 2*slot + 2*gap; W = (W < 900 ? 900 : W)
x1 = (W - 2*slot)/3.0 + (slot - pw)/2.0; x2 = x1 + slot + (W - 2*slot)/3.0
H = top + nruns*(ttlh + ph + 16) + keyh
# floats, so that the screen fractions below are not integer divisions
W = W*1.0; H = H*1.0
# fonts as strings: some commands (set key) take no expression there
f0 = sprintf(',%d', fs); fm1 = sprintf(',%d', fs-1); fp3 = sprintf(',%d', fs+3)
if (term eq 'svg') { set terminal svg size W,H dynamic font sprintf('Helvetica,%d', fs+1) background '#ffffff' } \
else { set terminal pngcairo size W,H font sprintf('Helvetica,%d', fs) background '#ffffff' }
set encoding utf8
set termoption noenhanced
set output out
cells = dir.'/cells.dat'; arrows = dir.'/arrows.dat'; names = dir.'/names.dat'
differ = dir.'/differ.dat'; meanf = dir.'/mean.dat'; flipsf = dir.'/flips.dat'
# terminal cells: the env's word for them where it fits, else the letter;
# the start: a small S
term(c) = (c eq 'H' || c eq 'G' || c eq 'C')
cellword(c, w) = (!term(c) ? '' : cs >= 60 ? w : c)
set multiplot title ttl font fp3
unset key; unset border; unset tics; unset grid
set xrange [0:ncol]; set yrange [0:nrow]
do for [r=1:nruns] {
  ytop = H - top - (r-1)*(ttlh + ph + 16) - ttlh
  do for [k=0:1] {
    i = 2*(r-1) + k + 1
    xl = (k == 0 ? x1 : x2)
    set lmargin at screen xl/W; set rmargin at screen (xl + pw)/W
    set tmargin at screen ytop/H; set bmargin at screen (ytop - ph)/H
    set title ptitle[i] offset 0,-0.4 font f0
    plot cells using 1:2:(0.485):(0.485):3 with boxxyerror fs solid 1.0 noborder lc rgb variable, \
         cells using 1:2:(cellword(strcol(4), strcol(5))):(strcol(4) eq 'S' ? 0 : 16777215) with labels tc rgb variable font f0, \
         cells using ($1-0.5+0.12):($2+0.5-0.14):(strcol(4) eq 'S' ? 'S' : '') with labels font fm1, \
         differ index (i-1) using 1:2:(0.44):(0.44) with boxxyerror fs empty border rgb '#e53935' lw 3.5 lc rgb '#e53935', \
         meanf index (i-1) using 1:2:3:4 with vectors head size 0.16,28 filled dt 2 lw 2.5 lc rgb '#8c8c8c', \
         arrows index (i-1) using 1:2:3:4 with vectors head size 0.16,28 filled lw 3 lc rgb '#111111', \
         names index (i-1) using 1:2:5 with labels font f0, \
         flipsf index (i-1) using 1:($2-0.33):('flips') with labels tc rgb '#e65100' font fm1
  }
}
# one legend for all panels, in a strip at the bottom
unset title
set lmargin at screen 0.02; set rmargin at screen 0.98
set bmargin at screen 0.0; set tmargin at screen (keyh - 6.0)/H
set xrange [0:1]; set yrange [0:1]
set key at screen 0.5, (keyh/2.0)/H center center vertical Left reverse samplen 3 font f0
plot NaN with vectors head size 0.02,28 filled lw 3 lc rgb '#111111' title (named ? 'greedy action (arrow, or its name)' : 'greedy action'), \
     NaN with boxxyerror fs empty border rgb '#e53935' lw 3.5 lc rgb '#e53935' title 'the run differs from the exact policy', \
     (anymean ? NaN : 1/0) with vectors head size 0.02,28 filled dt 2 lw 2.5 lc rgb '#8c8c8c' title (anymean ? 'mean-optimal action, where the exact policy differs' : '')
unset multiplot
