/* dqn.h — the DQN agent (Mnih et al. 2015): the non-distributional
 * reference the distributional agents are compared with.
 *
 * One network, the shared torso with a linear head of n_actions Q-values
 * (torso_spec with n_out = A). Everything else is what C51 uses: the
 * trainer's replay, exploration and target schedule, Adam (agent.lr,
 * agent.adam_eps) with global-norm clipping at train.clip. An update:
 *   target  y = r + γ' Q_target(s', a*), a* = argmax_a Q_target(s', a)
 *           (ties to the lowest index), or argmax_a Q_online(s', a) with
 *           agent.double (van Hasselt et al. 2016: the online network
 *           picks, the target network values), or the batch's next_action
 *           (agent.mode evaluate); γ' = the row's discount (γ^m after an
 *           m-step reward; agent.gamma without one), 0 if terminated (a
 *           truncated transition bootstraps);
 *   loss    (1/B) Σ_i w_i ℓ(δ_i), δ = Q(s, a) − y (y is a constant), w_i
 *           the batch's importance weights (1 without):
 *             dqn.loss huber (default; Dopamine's, κ = 1):
 *               ℓ = δ²/2 for |δ| <= 1, |δ| − 1/2 beyond; ℓ' = clamp(δ, −1, 1)
 *             dqn.loss mse (CleanRL's dqn.py, F.mse_loss):
 *               ℓ = δ²; ℓ' = 2δ
 *           each row's sample_loss is |δ_i| (proportional priority);
 *   step    Adam, clipped as above.
 *
 * The return law it reports (`bdrl eval`, `dist`, `plot dist`) is one atom
 * at Q(s, a) with weight 1, a point mass. Its W1 to the true law Z is
 * E|Z − Q|, the mean absolute deviation of the return around Q: a real
 * number, 0 only for a deterministic return, and at least E|Z − median Z|
 * whatever Q is; the same figure a distributional agent must beat.
 *
 * Memory: the agent owns its networks, optimizer and scratch (allocated at
 * create for max(train.batch_size, EVAL_MAX_ROWS) rows; q_values takes
 * larger batches in chunks); agent_free releases them.
 */
#ifndef BDRL_DQN_H
#define BDRL_DQN_H

#include "agents/agent.h"
#include "fields/mlp.h"

typedef enum { DQN_LOSS_HUBER = 0, DQN_LOSS_MSE = 1 } dqn_loss_kind;

agent *agent_dqn_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);

/* ℓ(δ) of one TD error δ = Q − y, and its derivative dℓ/dδ into *dl (may be
 * NULL). */
double dqn_loss(dqn_loss_kind kind, double delta, double *dl);

/* The online network and its target (tests). */
mlp *dqn_online(agent *a);
mlp *dqn_target(agent *a);

/* The minibatch loss and its parameter gradient, written into the online
 * network's grads (zeroed first) without stepping the optimizer; fills st
 * (grad_norm of the unclipped gradient). Used by update and by the
 * gradient check. */
int dqn_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e);

#endif
