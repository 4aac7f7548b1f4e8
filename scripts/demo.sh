#!/usr/bin/env bash
# make demo: Bellman Diffusion against C51 on FrozenLake 4x4 (policy evaluation
# against the exact return laws, and control) and CartPole, a few seeds each,
# every agent (DQN, QR-DQN, IQN as well) on those and on Acrobot, a
# risk-neutral and a CVaR agent on a FrozenLake ledge (docs/results.md: on
# Gymnasium's CliffWalking the two policies are equal), DQN and C51 on
# MinAtar Breakout, one animation (bdrl render) per built-in environment,
# then the figures and runs/demo/report.md. About eleven minutes on 2 cores
# (the risk and animation sections about one of them, MinAtar two).
#
# Sizes (environment variables): SEEDS (2), JOBS (2), FL_EVAL_STEPS (30000),
# FL_STEPS (25000), CP_STEPS (30000), AC_STEPS (20000, Acrobot), RISK_STEPS
# (20000, the ledge), MA_STEPS (100000, MinAtar Breakout), SAMPLES (1000 Bellman Diffusion samples per panel), OUT
# (runs/demo). Rerunning keeps finished runs (bdrl compare resumes what is
# missing; the animations' own runs are kept once finished); delete OUT to
# start over.
set -euo pipefail
cd "$(dirname "$0")/.."
BDRL=${BDRL:-bin/bdrl}
OUT=${OUT:-runs/demo}
SEEDS=${SEEDS:-2}
JOBS=${JOBS:-2}
FL_EVAL_STEPS=${FL_EVAL_STEPS:-30000}
FL_STEPS=${FL_STEPS:-25000}
CP_STEPS=${CP_STEPS:-30000}
AC_STEPS=${AC_STEPS:-20000}
RISK_STEPS=${RISK_STEPS:-20000}
MA_STEPS=${MA_STEPS:-100000}
SAMPLES=${SAMPLES:-1000}
mkdir -p "$OUT"
t0=$(date +%s)
stamp() { echo "demo [$(( $(date +%s) - t0 )) s]: $*"; }

# compare NAME STEPS CONFIG... [-- extra --set ...]
compare() {
  local name=$1 steps=$2; shift 2
  stamp "$name: $* ($SEEDS seeds, $steps steps each, $JOBS at a time)"
  "$BDRL" compare "$@" --seeds "$SEEDS" -j "$JOBS" --out "$OUT/$name" -q \
    --set train.total_steps="$steps" --set train.checkpoint_interval=0
}

compare fl_eval "$FL_EVAL_STEPS" configs/frozenlake4_eval_bd.yaml configs/frozenlake4_eval_c51.yaml
compare fl_control "$FL_STEPS" configs/frozenlake4_bd.yaml configs/frozenlake4_c51.yaml
compare cartpole "$CP_STEPS" configs/cartpole_bd.yaml configs/cartpole_c51.yaml
# every other registered agent on the same seeds, and every agent on Acrobot,
# for the every-agent table (scripts/agents_table.sh)
compare others_fl_eval "$FL_EVAL_STEPS" configs/frozenlake4_eval_{dqn,qrdqn,iqn}.yaml
compare others_cartpole "$CP_STEPS" configs/twins/cartpole_{dqn,qrdqn,iqn}.yaml
compare acrobot "$AC_STEPS" configs/acrobot_{bd,c51}.yaml configs/twins/acrobot_{dqn,qrdqn,iqn}.yaml
# risk: the same C51 acting on the mean and on CVaR(0.1), on the map where
# their exact policies differ (configs/frozenlake_ledge_c51.yaml)
compare risk "$RISK_STEPS" configs/frozenlake_ledge_c51.yaml configs/frozenlake_ledge_c51_cvar.yaml
# MinAtar: the shipped Breakout configs (an update every 4 steps), the first
# tenth of their 1M-step budget, evaluated 5 times along the way
compare minatar "$MA_STEPS" configs/minatar/breakout_dqn.yaml configs/minatar/breakout_c51.yaml \
  --set eval.interval=$(( MA_STEPS / 5 ))

# train_one NAME CONFIG [--set ...]: a short run of its own for an animation,
# OUT/anim/NAME; kept once finished, resumed if interrupted
train_one() {
  local dir="$OUT/anim/$1" cfg=$2; shift 2
  if grep -qs '"status": "\(finished\|solved\)"' "$dir/summary.json"; then return 0; fi
  if [ -d "$dir" ]; then "$BDRL" train --resume "$dir" -q; else "$BDRL" train "$cfg" --out "$dir" -q "$@"; fi
}
stamp "animations: short runs on CliffWalking and MountainCar (at the same time)"
mkdir -p "$OUT/anim"
# CliffWalking-v1 as Gymnasium registers it (not slippery): C51 finds the
# 13-step path along the cliff within about 10k steps; it stops there
train_one cliffwalking configs/cliffwalking_c51.yaml --set env.slippery=false --set train.total_steps=25000 \
  --set eval.interval=2500 --set eval.episodes=5 --set eval.stop_at_threshold=true --set train.checkpoint_interval=0 &
pid_cw=$!
train_one mountaincar configs/mountaincar_c51.yaml --set train.total_steps=20000 --set eval.interval=20000 \
  --set eval.episodes=3 --set train.checkpoint_interval=0 &
pid_mc=$!
wait $pid_cw
wait $pid_mc

fl_bd="$OUT/fl_eval/runs/frozenlake4_eval_bd_s1"; fl_c51="$OUT/fl_eval/runs/frozenlake4_eval_c51_s1"
cp_bd="$OUT/cartpole/runs/cartpole_bd_s1"; cp_c51="$OUT/cartpole/runs/cartpole_c51_s1"
stamp "figures"
"$BDRL" plot dist "$fl_bd" "$fl_c51" --out "$OUT/fl_dist" -n "$SAMPLES" \
  --title "FrozenLake 4x4, policy evaluation of the optimal policy: return distribution of every state (seed 1)" \
  | tee "$OUT/fl_dist.txt"
for k in $(seq 2 "$SEEDS"); do
  "$BDRL" plot dist "$OUT/fl_eval/runs/frozenlake4_eval_bd_s$k" "$OUT/fl_eval/runs/frozenlake4_eval_c51_s$k" \
    --out "$OUT/fl_dist_s$k" -n "$SAMPLES" \
    --title "FrozenLake 4x4, policy evaluation of the optimal policy: return distribution of every state (seed $k)" \
    > "$OUT/fl_dist_s$k.txt"
done
"$BDRL" plot dist "$fl_bd" "$fl_c51" --out "$OUT/fl_dist_pdf" -n "$SAMPLES" --pdf \
  --title "FrozenLake 4x4, policy evaluation: the same laws as probability per bin of 0.02 (seed 1)" >/dev/null
"$BDRL" plot fields "$fl_bd" --state 0 --out "$OUT/fl_fields_s0" \
  --title "FrozenLake 4x4, Bellman Diffusion fields at the start state (seed 1)" >/dev/null
"$BDRL" plot dist "$cp_bd" "$cp_c51" --out "$OUT/cp_dist" -n "$SAMPLES" \
  --title "CartPole: return distribution of the greedy action at the 20 probe states (seed 1)" \
  | tee "$OUT/cp_dist.txt"
"$BDRL" plot curves "$OUT/fl_eval" --out "$OUT/curves_fl_eval" --labels "BD,C51" \
  --title "FrozenLake 4x4, policy evaluation: greedy success rate of the learned Q of the optimal policy" >/dev/null
"$BDRL" plot curves "$OUT/fl_control" --out "$OUT/curves_fl_control" --labels "BD,C51" \
  --title "FrozenLake 4x4, control: greedy success rate (200 episodes per evaluation)" >/dev/null
"$BDRL" plot curves "$OUT/cartpole" --out "$OUT/curves_cartpole" --labels "BD,C51" \
  --title "CartPole: greedy return (20 episodes per evaluation)" >/dev/null
"$BDRL" plot curves "$OUT/minatar" --out "$OUT/curves_minatar" --labels "DQN,C51" \
  --title "MinAtar Breakout: greedy return (10 episodes per evaluation)" >/dev/null

stamp "risk figures"
rk_mean="$OUT/risk/runs/frozenlake_ledge_c51_s1"; rk_cvar="$OUT/risk/runs/frozenlake_ledge_c51_cvar_s1"
"$BDRL" plot policy "$rk_mean" "$rk_cvar" --out "$OUT/risk_policy" --labels "C51 on the mean,C51 on CVaR(0.1)" \
  --title "FrozenLake ledge, seed 1: greedy policies (left) and the exact policies for their measures (right)" \
  | tee "$OUT/risk_policy.txt"
"$BDRL" plot returns "$rk_mean" "$rk_cvar" --episodes 1000 --out "$OUT/risk_returns" \
  --labels "C51 on the mean,C51 on CVaR(0.1)" \
  --title "FrozenLake ledge: returns of 1000 greedy episodes of each agent (seed 1)" | tee "$OUT/risk_returns.txt"
"$BDRL" plot risk "$rk_cvar" --state 4 --out "$OUT/risk_state4" \
  --title "FrozenLake ledge, C51 acting on CVaR(0.1), the start state: each action's law and its CVaR across alpha" \
  | tee "$OUT/risk_state4.txt"
"$BDRL" eval "$rk_cvar" --no-samples > "$OUT/risk_eval_cvar.txt"

stamp "animations (bdrl render)"
# render NAME RUN [--every K]: one greedy episode as OUT/anim_NAME.gif
render() {
  local name=$1 run=$2; shift 2
  "$BDRL" render "$run" --out "$OUT/anim_$name.gif" "$@" | tee "$OUT/anim_$name.txt"
}
render frozenlake "$OUT/fl_control/runs/frozenlake4_bd_s1"
render ledge_mean "$rk_mean" --episodes 2
render ledge_cvar "$rk_cvar" --episodes 2
render cliffwalking "$OUT/anim/cliffwalking"
render cartpole "$OUT/cartpole/runs/cartpole_bd_s1" --every 10
render acrobot "$OUT/acrobot/runs/acrobot_c51_s1" --every 4
render mountaincar "$OUT/anim/mountaincar" --every 4
render breakout "$OUT/minatar/runs/breakout_c51_s1"

# table NAME: the comparison table of a compare directory, config names shortened
table() {
  grep '^|' "$OUT/$1/comparison.md" |
    sed -e 's/| frozenlake4_eval_bd |/| BD |/; s/| frozenlake4_eval_c51 |/| C51 |/' \
        -e 's/| frozenlake4_bd |/| BD |/; s/| frozenlake4_c51 |/| C51 |/' \
        -e 's/| cartpole_bd |/| BD |/; s/| cartpole_c51 |/| C51 |/' \
        -e 's/| frozenlake_ledge_c51 |/| C51 on the mean |/; s/| frozenlake_ledge_c51_cvar |/| C51 on CVaR(0.1) |/' \
        -e 's/| breakout_dqn |/| DQN |/; s/| breakout_c51 |/| C51 |/'
}
# retline FIGURE LABEL: a run's line of bdrl plot returns' output, after its label
retline() { sed -n "s/^$2: //p" "$OUT/$1.txt"; }
# succ LABEL: the success rate of a run in bdrl plot returns' output (risk_returns.txt)
succ() { sed -n "s/^$1: .*success rate \([^;]*\);.*/\1/p" "$OUT/risk_returns.txt" | awk '{ printf "%.0f", 1000 * $1 }'; }
# frames NAME: "T steps, return R" of an animation's first episode
frames() { sed -n 's/^episode 1: return \([^ ]*\) over \([0-9]*\) steps\(.*\)/\2 steps, return \1\3/p' "$OUT/anim_$1.txt"; }
# w1line FIGURE LABEL: "0.0806 (Bellman Diffusion samples: 0.0849)" from bdrl plot dist's output
w1line() { sed -n "s/^$2: mean W1 to the truth over [0-9]* panels //p" "$OUT/$1.txt"; }
# csv NAME ROW COLUMN: a field of a comparison.csv by config name and column name
csv() {
  awk -F, -v row="$2" -v col="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    $1 == row { print $c }' "$OUT/$1/comparison.csv"
}
# num X: 3 significant digits ("not reached" for inf, "n/a" if empty)
num() { awk -v x="$1" 'BEGIN { if (x == "") print "n/a"; else if (x ~ /inf/) print "not reached"; else printf "%.3g", x }'; }
steps() { awk -v x="$1" 'BEGIN { if (x == "") print "n/a"; else if (x ~ /inf/) print "not reached"; else printf "%.0f", x }'; }
ci() { echo "$(num "$(csv "$1" "$2" "$3_mean")") [$(num "$(csv "$1" "$2" "$3_lo")"), $(num "$(csv "$1" "$2" "$3_hi")")]"; }
elapsed=$(( $(date +%s) - t0 ))
# CPU seconds of every process the demo ran (bash's `times`: children's user and system)
times > "$OUT/.times"   # not in a pipe: a subshell's `times` would count its own children only
cpu=$(tail -1 "$OUT/.times" | awk '{ n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } printf "%.0f", n }')
rm -f "$OUT/.times"

report="$OUT/report.md"
tmp="$report.tmp.$$"
{
  echo "# bdrl demo: Bellman Diffusion against C51"
  echo
  echo "Bellman Diffusion (BD) learns, for every state and action, the *density* of the return with"
  echo "a scalar field s and its derivative with a gradient field g (each a sum of Gaussian bumps of"
  echo "the return, docs/basis.md), trains them on the linear distributional Bellman operator, and"
  echo "draws returns with Bellman Diffusion Dynamics. C51 learns a histogram on as many atoms as BD"
  echo "has bumps. Both agents share everything else (torso, optimizer,"
  echo "replay, exploration, target period), so the comparison differs only in the distribution"
  echo "model. $SEEDS seeds per agent; runs are shorter than the configs' defaults to fit the demo"
  echo "($FL_EVAL_STEPS steps of policy evaluation, $FL_STEPS of FrozenLake control, $CP_STEPS of CartPole)."
  echo
  echo "![FrozenLake return distributions, BD vs C51](fl_dist.png)"
  echo
  echo "At a glance ($SEEDS seeds; intervals are 95% bootstrap intervals of the mean over seeds):"
  echo
  echo "- **FrozenLake, policy evaluation**, mean W1 to the exact laws over every (state, action)"
  echo "  pair: BD $(ci fl_eval frozenlake4_eval_bd w1), C51 $(ci fl_eval frozenlake4_eval_c51 w1)."
  echo "- **FrozenLake, control**, median steps to a greedy success rate of 0.7: BD"
  echo "  $(steps "$(csv fl_control frozenlake4_bd stt_median)") ($(csv fl_control frozenlake4_bd stt_reached)/$SEEDS seeds), C51"
  echo "  $(steps "$(csv fl_control frozenlake4_c51 stt_median)") ($(csv fl_control frozenlake4_c51 stt_reached)/$SEEDS); final success rate BD"
  echo "  $(ci fl_control frozenlake4_bd success_rate), C51 $(ci fl_control frozenlake4_c51 success_rate)."
  echo "- **CartPole**, median steps to a greedy return of 475: BD"
  echo "  $(steps "$(csv cartpole cartpole_bd stt_median)") ($(csv cartpole cartpole_bd stt_reached)/$SEEDS), C51"
  echo "  $(steps "$(csv cartpole cartpole_c51 stt_median)") ($(csv cartpole cartpole_c51 stt_reached)/$SEEDS); final return BD $(ci cartpole cartpole_bd final_return),"
  echo "  C51 $(ci cartpole cartpole_c51 final_return)."
  echo "- **Risk**, on a FrozenLake ledge where the exact CVaR(0.1)-greedy policy avoids the holes and the"
  echo "  mean-optimal one does not: C51 acting on CVaR(0.1) reached the goal in $(succ 'C51 on CVaR(0.1)') of 1000"
  echo "  greedy episodes, the same C51 acting on the mean in $(succ 'C51 on the mean'), taking the shorter way (seed 1)."
  echo "- **Cost**: BD trained at $(steps "$(csv fl_eval frozenlake4_eval_bd sps_mean)") steps/s on FrozenLake, C51 at"
  echo "  $(steps "$(csv fl_eval frozenlake4_eval_c51 sps_mean)") (this machine, during this demo)."
  echo
  echo "## FrozenLake 4x4: the return distribution of every state"
  echo
  echo "Policy evaluation of the optimal policy on the slippery lake: behaviour is the optimal policy"
  echo "with a uniformly random action half of the time,"
  echo "targets bootstrap from the optimal action, and the exact law of every return is known (dynamic"
  echo "programming on the transition table: an atom at 0 for falling into a hole, atoms 0.99^(k-1)"
  echo "for reaching the goal at step k). Each panel is a cell of the map (holes and the goal are"
  echo "shaded: their return is 0) and shows the CDF of the return of the optimal action from"
  echo "that cell: the **exact truth** (black steps), **BD's learned law** (blue: the atoms of its basis coefficients), **$SAMPLES returns"
  echo "sampled by Bellman Diffusion Dynamics** from BD's fields (light blue, wide), and **C51's atoms**"
  echo "(red steps). The jump at 0 is the probability of ending in a hole; the rise towards 1 is"
  echo "reaching the goal, later steps giving smaller returns. W1, the area between a model's CDF and"
  echo "the truth's, is in each panel's title (return units). (The figure is the one at the top.)"
  echo
  echo "Mean W1 over the 11 panels (seed 1, optimal actions): BD $(w1line fl_dist BD);"
  echo "C51 $(w1line fl_dist C51)."
  echo
  echo "Over every (state, action) pair and every seed (\`bdrl eval\`, no samples), with the greedy"
  echo "success rate of the learned Q values:"
  echo
  table fl_eval
  echo
  echo "![policy evaluation: learning curves](curves_fl_eval.png)"
  echo
  if [ "$SEEDS" -gt 1 ]; then
    echo "The other seeds, drawn the same way: the learned laws still move between evaluations at"
    echo "these run lengths (the greedy success rate in the curves above swings with them), so one"
    echo "seed is an example, not a verdict."
    echo
    for k in $(seq 2 "$SEEDS"); do
      echo "- seed $k: BD $(w1line fl_dist_s$k BD); C51 $(w1line fl_dist_s$k C51) ([figure](fl_dist_s$k.png))"
    done
    echo
  fi
  echo "The same laws as probability per bin of 0.02 (C51's atom spacing): BD's density times the"
  echo "bin (blue line), the histogram of its samples (light blue), C51's atoms (red outline) and the"
  echo "true atoms as black impulses of their own probability (many atoms fall in one bin, so the"
  echo "impulses stand lower than the bars; the CDFs above are the like-for-like view):"
  echo
  echo "![FrozenLake return distributions as densities](fl_dist_pdf.png)"
  echo
  echo "What BD holds at the start state: the scalar field s(u) over normalized returns with the true"
  echo "atoms (top), and the gradient field g(u) — a separate network, the drift of the sampler —"
  echo "against the finite-difference derivative of s (bottom):"
  echo
  echo "![BD fields at state 0](fl_fields_s0.png)"
  echo
  echo "## FrozenLake 4x4: control"
  echo
  echo "Both agents learn the optimal policy by trial and error (epsilon-greedy, argmax targets). Success"
  echo "rate over 200 greedy episodes; threshold 0.7 (the configs' eval.threshold)."
  echo
  table fl_control
  echo
  echo "![FrozenLake control: learning curves](curves_fl_control.png)"
  echo
  echo "## CartPole"
  echo
  echo "Greedy return over 20 episodes; solved at 475."
  echo
  table cartpole
  echo
  echo "![CartPole: learning curves](curves_cartpole.png)"
  echo
  echo "Return distributions at the 20 probe states (truth.h): CartPole is deterministic, so the"
  echo "truth of each agent's greedy policy is one atom (a Monte Carlo rollout; solid black for BD's"
  echo "policy, dashed for C51's). Each panel is zoomed to where its laws are."
  echo
  echo "![CartPole probe states, BD vs C51](cp_dist.png)"
  echo
  echo "Mean W1 over the probes (seed 1): BD $(w1line cp_dist BD); C51 $(w1line cp_dist C51)."
  echo
  echo "## Risk: a CVaR agent takes the long way round"
  echo
  echo "Any distributional agent can act greedily on a risk measure of its own learned law"
  echo "(\`agent.risk: cvar:0.1\`: the mean of the worst 10% of each action's return). On Gymnasium's"
  echo "CliffWalking (slippery or not; gamma 0.99, 0.95 or 0.9) the exact CVaR(0.1)-greedy policy is the"
  echo "mean-optimal one (\`bdrl truth CONFIG --risk cvar:0.1\`), so there a CVaR agent cannot act"
  echo "differently. This section uses a map where the two differ, a FrozenLake *ledge*"
  echo "(configs/frozenlake_ledge_c51.yaml): three rows of four, S on the left of the middle row, G on"
  echo "its right, a row of holes below; each move goes where it is meant 95% of the time and to either"
  echo "side 2.5%; gamma 0.9. The mean-optimal policy walks right along the holes (an episode falls in"
  echo "with probability 0.071); the exact CVaR(0.1)-greedy policy steps up from S and from the next"
  echo "cell and walks a row away (0.0007), two steps longer. The same C51 ($RISK_STEPS steps, $SEEDS seeds)"
  echo "once acting on the mean, once on CVaR(0.1). Left, each agent's greedy action in every cell;"
  echo "right, the exact policy for its measure (grey dashed: the mean-optimal action where it"
  echo "differs); red outlines: where the agent differs from its exact policy."
  echo
  echo "![FrozenLake ledge: greedy policies of the mean and the CVaR agent](risk_policy.png)"
  echo
  sed -n 's/^\(C51 on .*\)$/- \1/p' "$OUT/risk_policy.txt"
  echo
  echo "The returns of 1000 greedy episodes of each (seed 1; both face the same slips): the"
  echo "undiscounted return (1 at the goal, 0 in a hole) and the discounted one the agents rank by."
  echo
  echo "- on the mean: $(retline risk_returns 'C51 on the mean')"
  echo "- on CVaR(0.1): $(retline risk_returns 'C51 on CVaR(0.1)')"
  echo
  echo "![FrozenLake ledge: returns of the greedy episodes](risk_returns.png)"
  echo
  echo "Over every seed (\`bdrl compare\`; W1 to the exact laws of each agent's own policy):"
  echo
  table risk
  echo
  echo "The CVaR agent's laws are farther from its truth because its targets bootstrap from the"
  echo "mean-greedy action (\`agent.risk_target: false\`, the shipped twins' setting), while the truth continues"
  echo "with the CVaR policy (docs/results.md)."
  echo
  echo "What the CVaR agent sees at S: each action's learned law (solid) and exact law (dashed), and"
  echo "below, each action's CVaR over alpha, as the agent computes it and from the exact laws. In the"
  echo "exact laws *up* (the detour) ranks first at alpha 0.1, and at every alpha: they continue with"
  echo "the CVaR policy (the detour from the next cell too), under which going right first gains"
  echo "nothing. Where the learned curves cross (listed below), an agent acting on that alpha would"
  echo "switch:"
  echo
  echo "![the start state: laws and CVaR across alpha](risk_state4.png)"
  echo
  sed -n 's/^\(learned cvar\|exact cvar\)\(.*\)$/- \1\2/p' "$OUT/risk_state4.txt"
  echo
  echo "One greedy episode of each (the mean agent first; the same seeds, so the same slips):"
  echo
  echo "![the mean agent's episodes](anim_ledge_mean.gif) ![the CVaR agent's episodes](anim_ledge_cvar.gif)"
  echo
  echo "## MinAtar Breakout"
  echo
  echo "MinAtar (Young & Tian 2019) is where distributional agents are compared on small budgets:"
  echo "Breakout on a 10x10 grid of 4 binary channels, sticky actions (0.1) and difficulty ramping, as"
  echo "MinAtar 1.0.15 plays it step for step. The shipped configs (configs/minatar/: MinAtar's network,"
  echo "a 3x3 convolution with 16 channels and a dense layer of 128, at Dopamine's MinAtar settings, an"
  echo "update every 4 steps) for $MA_STEPS of their 1,000,000 steps, $SEEDS seeds. A uniformly random policy"
  echo "scores 0.41 (100 episodes of the real MinAtar); docs/minatar.md has the full runs (at 1M steps"
  echo "DQN 12.6 and C51 14.3 over the last quarter, 3 seeds)."
  echo
  table minatar
  echo
  echo "![MinAtar Breakout: learning curves](curves_minatar.png)"
  echo
  echo "## Every agent"
  echo
  echo "The five registered agents on the same seeds, each config the C51 twin's but for the"
  echo "agent's own keys: CartPole ($CP_STEPS steps, threshold 475), Acrobot ($AC_STEPS steps,"
  echo "threshold −100) and FrozenLake 4x4 policy evaluation ($FL_EVAL_STEPS steps; W1 to the exact"
  echo "laws; DQN's law is one atom at Q, so its W1 is the spread of the true law around the mean)."
  echo "Steps/s: the training loop with evaluations, on this machine during this demo. docs/results.md has"
  echo "the same table over 10 seeds."
  echo
  scripts/agents_table.sh "$OUT/cartpole" "$OUT/others_cartpole" "$OUT/acrobot" "$OUT/fl_eval" "$OUT/others_fl_eval"
  echo
  echo "## Animations"
  echo
  echo "\`bdrl render RUN\` plays a run's first greedy evaluation episode (the one \`bdrl eval\` scores"
  echo "first) and draws it frame by frame: the environment on the left; on the right the agent's return"
  echo "law of each action from the current state as a CDF, the greedy action's thick, and the rewards"
  echo "collected so far dashed. One per built-in environment, from the runs above or from short runs"
  echo "of their own (CliffWalking-v1 as Gymnasium registers it, not slippery, stopped when it first"
  echo "reaches the threshold; MountainCar 20,000 steps); Breakout is C51's seed 1 above."
  echo
  echo "| environment | run | episode drawn |"
  echo "| --- | --- | --- |"
  echo "| FrozenLake 4x4 | BD, control, seed 1 | $(frames frozenlake) |"
  echo "| CliffWalking-v1 | C51, not slippery | $(frames cliffwalking) |"
  echo "| CartPole | BD, seed 1 (one frame in 10) | $(frames cartpole) |"
  echo "| Acrobot | C51, seed 1 (one frame in 4) | $(frames acrobot) |"
  echo "| MountainCar | C51, 20,000 steps (one frame in 4) | $(frames mountaincar) |"
  echo "| MinAtar Breakout | C51, seed 1, $MA_STEPS steps | $(frames breakout) |"
  echo
  for a in frozenlake cliffwalking cartpole acrobot mountaincar breakout; do
    echo "![bdrl render: $a](anim_$a.gif)"
    echo
  done
  echo "## Reproduce, look further"
  echo
  echo "Every figure has its data beside it (\`*_data/\`, \`*.dat\`) and a script that redraws it"
  echo "(\`cd $OUT && gnuplot fl_dist.gp\`). The runs are in \`$OUT/*/runs/\`:"
  echo
  echo '```sh'
  echo "bdrl eval $fl_bd                      # W1 per (state, action), BDD samples included"
  echo "bdrl dist $fl_bd --state 14 --action 1   # the learned law (atoms of the basis coefficients)"
  echo "bdrl truth --policy $fl_bd --state 14 --action 1"
  echo "bdrl plot dist $fl_bd $fl_c51 --action 2    # every panel for one action"
  echo "bdrl truth configs/frozenlake_ledge_c51.yaml --risk cvar:0.1   # the exact CVaR-greedy policy"
  echo "bdrl plot risk $rk_cvar --state 5 --measure wang   # another state, another family"
  echo "bdrl render $rk_cvar --episodes 5 --frames frames/   # PNG frames instead of a GIF"
  echo "bdrl compare configs/frozenlake4_eval_bd.yaml configs/frozenlake4_eval_c51.yaml --seeds 10   # the full runs"
  echo '```'
  echo
  echo "The generative mode (\`bdrl fit configs/fit/mog1d.yaml\`, fields fitted to known laws and"
  echo "sampled with Bellman Diffusion Dynamics) is shown in docs/results.md; it is left out here to"
  echo "spend the demo's time on the agents."
  echo
  echo "This demo took $elapsed s of wall time on $(nproc) cores and $cpu s of CPU time ($(date -u +%Y-%m-%d));"
  echo "a rerun keeps finished runs and only redraws."
} > "$tmp"
mv "$tmp" "$report"
stamp "report written to $report"
