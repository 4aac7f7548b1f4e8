#!/bin/sh
# Writes configs/minatar/<game>_<agent>.yaml: every agent on every MinAtar game
# with the same shared keys (run from the repository root; the files are
# committed, this script says how they were made and keeps the twins equal).
set -eu
out=configs/minatar
mkdir -p "$out"
for game in asterix breakout freeway seaquest space_invaders; do
  for agent in dqn c51 qrdqn iqn bd rainbow bd_rainbow; do
    f="$out/${game}_${agent}.yaml"
    kind=$agent components="" replay="" about=""
    case $agent in
      rainbow) kind=c51;;
      bd_rainbow) kind=bd;;
    esac
    case $agent in
      *rainbow)
        components="
  n_step: 3                  # Rainbow: multi-step returns
  double: true               # the target's a* from the online network
  dueling: true              # value and advantage streams
  noisy: true                # exploration by noisy linear layers (ε unused)
  noisy_sigma0: 0.5"
        replay="
replay:
  prioritized: true
  alpha: 0.5
  beta: 0.4                  # annealed to 1 over train.total_steps
  eps: 1.0e-6"
        about="
# Rainbow (this file): ${kind} plus Rainbow's five components at Rainbow's
# settings (Hessel et al. 2018, as configs/*_rainbow.yaml): 3-step returns,
# proportional prioritized replay (α 0.5, β 0.4 -> 1), double Q, a dueling
# head, noisy nets (σ0 0.5) instead of ε-greedy. Every other key is
# ${game}_${kind}.yaml's. Dopamine's MinAtar rainbow_${game}.gin uses only
# the first two (with C51) and keeps ε-greedy.";;
    esac
    case $kind in
      dqn)   own="dqn:
  loss: huber                # Dopamine's DQN (κ = 1)";;
      c51)   own="c51:
  atoms: 51                  # Dopamine's MinAtar Rainbow: 51 atoms on [-100, 100]";;
      qrdqn) own="qrdqn:
  quantiles: 200             # Dopamine's MinAtar quantile_*.gin: num_atoms 200, κ 1
  kappa: 1.0";;
      iqn)   own="iqn:
  n: 64                      # Dopamine's IQN defaults (Dabney et al. 2018): N = N' = 64, K = 32
  n_prime: 64
  k: 32
  embedding: 64
  kappa: 1.0";;
      bd)    own="bd:
  field: basis               # docs/basis.md; not tuned on MinAtar
  basis: 51                  # bumps over [v_min, v_max], as many as C51's atoms
  basis_width: 1.0
  lambda_grad: 1.0
  mass_floor: 0.1";;
    esac
    cat > "$f" <<YAML
# ${agent} on MinAtar ${game} (made by scripts/minatar_configs.sh; every
# agent's file for this game shares all keys but agent.kind and its own
# section, so a comparison differs only in the return model).
#
#   bdrl train configs/minatar/${game}_${agent}.yaml [--set seed=2]
#   bdrl compare configs/minatar/${game}_{dqn,c51}.yaml --seeds 3 -j 2
#
# Network: MinAtar's own DQN (Young & Tian 2019): one 3x3 valid convolution
# with 16 channels, ReLU, dense 128, ReLU, the agent's head. Dopamine's
# MinAtar networks use a 'SAME' convolution and no dense layer.
# Everything else follows Dopamine's MinAtar gin files
# (dopamine/labs/environments/minatar/dqn_${game}.gin): Adam lr 2.5e-4 and
# eps 3.125e-4, batch 32, replay 100k, an update every 4 steps after the
# first 1,000, a target copy every 1,000 steps, ε 1 -> 0.01 over 250k steps,
# no gradient clipping, sticky actions 0.1. Differences: Dopamine starts
# ε's decay after the first 1,000 steps (bdrl at step 0); Dopamine's
# quantile and Rainbow gins add 3-step returns and prioritized replay,
# which these equal-terms configs leave out (n = 1, uniform replay, as
# dqn_${game}.gin); Dopamine evaluates with ε = 0.001, bdrl greedily.${about}
seed: 1
env:
  name: minatar-${game}
  sticky_action_prob: 0.1
  difficulty_ramping: true
agent:
  kind: ${kind}${components}
  gamma: 0.99
  conv: [16]
  conv_kernel: 3
  hidden: [128]
  activation: relu
  lr: 2.5e-4
  adam_eps: 3.125e-4
  v_min: -100                # Dopamine's MinAtar Rainbow support (vmax 100, vmin = -vmax)
  v_max: 100
${own}${replay}
train:
  total_steps: 1000000
  batch_size: 32
  buffer_size: 100000
  learning_starts: 1000
  train_frequency: 4
  target_update: 1000
  tau: 1.0
  eps_start: 1.0
  eps_end: 0.01
  eps_decay_steps: 250000
  clip: 0
  checkpoint_interval: 250000
eval:
  interval: 50000
  episodes: 10
YAML
  done
done
