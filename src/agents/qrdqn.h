/* qrdqn.h — the QR-DQN agent (Dabney, Rowland, Bellemare, Munos 2018,
 * "Distributional Reinforcement Learning with Quantile Regression").
 *
 * One network, the shared torso with a linear head of n_actions x N quantile
 * values (torso_spec with n_out = A·N, the same shape as C51's head at
 * N = atoms): θ(s, a)_i estimates the return's quantile at the midpoint
 * τ_i = (2i − 1)/2N, i = 1..N; Q(s, a) = (1/N) Σ_i θ(s, a)_i. An update:
 *   target  a* = argmax_a Q_target(s', a) (ties to the lowest index), or
 *           argmax_a of the online network's Q (agent.double; the quantiles
 *           are still the target network's), or the batch's next_action
 *           (policy evaluation); ρ replaces Q with agent.risk_target;
 *           T_j = r + γ' θ_target(s', a*)_j, j = 1..N, γ' the row's discount
 *           (agent.gamma without one), 0 if terminated (every T_j = r; a
 *           truncation bootstraps);
 *   loss    L_b = Σ_i (1/N) Σ_j ρ_{τ_i}^κ(T_j − θ(s, a)_i) (quantile.h) per
 *           row b (its sample_loss), (1/B) Σ_b w_b L_b with the batch's
 *           importance weights (1 without);
 *   step    Adam (agent.lr, agent.adam_eps) with global-norm clipping at
 *           train.clip, as C51.
 * Shapes: network output (B, A·N), row i action a at [i·A·N + a·N, +N).
 * No support range: agent.v_min/v_max are not used.
 *
 * The return law (distribution op): the N quantiles of (s, a) as N atoms of
 * weight 1/N, sorted ascending (nothing in the loss stops quantile crossing,
 * so θ_i need not be monotone in i; sorting the atoms does not change the
 * law they make, and it is the equally weighted law that W1 compares). Read from the moving average when
 * agent.ema > 0.
 *
 * Memory: the agent owns its networks, optimizer and scratch (allocated at
 * create for max(train.batch_size, EVAL_MAX_ROWS) rows); agent_free releases
 * them. The distribution op's arrays stay valid until the next call.
 */
#ifndef BDRL_QRDQN_H
#define BDRL_QRDQN_H

#include "agents/agent.h"
#include "fields/mlp.h"

agent *agent_qrdqn_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);

/* The online network, its target, the moving average (NULL when agent.ema
 * is 0): tests. */
mlp *qrdqn_online(agent *a);
mlp *qrdqn_target(agent *a);
mlp *qrdqn_average(agent *a);

/* The minibatch loss and its gradient into the online network's grads
 * (zeroed first), without a step; st->grad_norm is the unclipped norm. */
int qrdqn_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e);

#endif
