/* iqn.h — the IQN agent (Dabney, Ostrovski, Silver, Munos 2018, "Implicit
 * Quantile Networks for Distributional Reinforcement Learning").
 *
 * The network maps (s, τ) to the τ-quantile of every action's return:
 *   ψ(s)   = the shared torso (torso_spec, n_out 0): in -> agent.hidden, width
 *            E = the last hidden width (activation included)
 *   φ(τ)_j = ReLU(Σ_{i<n} cos(π i τ) w_ij + b_j), j < E   (n = iqn.embedding,
 *            the "cos" network: one layer n -> E)
 *   Z_τ(s, ·) = head(ψ(s) ⊙ φ(τ)), head = E -> E -> A with agent.activation
 *            on the hidden layer, linear output.
 * The head's hidden width is E, the torso's own last width: Dopamine puts its
 * DQN's 512 dense layer after the product, and our C51's head is one linear
 * layer after a torso of these widths, so IQN = C51's shape with the product
 * and one more E x E layer.
 *
 * An update, per transition (τ from the agent's own stream, see below):
 *   a*     = argmax_a (1/K) Σ_k Z_target,τ̃_k(s', a), τ̃_k ~ U[0, 1) (control;
 *            τ̃ = β(U) with agent.risk_target), with agent.double the online
 *            networks' Z at the same τ̃ instead of the target's, or the
 *            batch's next_action (policy evaluation);
 *   T_j    = r + γ' Z_target,τ'_j(s', a*), τ'_j ~ U, j < N', γ' the row's
 *            discount (agent.gamma without one), 0 if terminated (every
 *            T_j = r; a truncation bootstraps);
 *   loss   L_b = Σ_{i<N} (1/N') Σ_j ρ_{τ_i}^κ(T_j − Z_τ_i(s, a)), τ_i ~ U
 *          (quantile.h), per row b (its sample_loss), (1/B) Σ_b w_b L_b with
 *          the batch's importance weights (1 without); Adam over the three
 *          networks with their joint gradient norm clipped at train.clip.
 * Every transition draws its own τ (as Dopamine does). Draw order in one
 * update: τ̃ (B·K, control only), then τ' (B·N'), then τ (B·N), row-major
 * by transition, all from one generator seeded from the init stream (seed =
 * rng_u64(init) after the networks' initialization, stream RNG_STREAM_LOSS),
 * so a run is reproducible from its seed; its state is checkpointed.
 *
 * Acting and evaluation (q_values): Q(s, a) = (1/K) Σ_k Z_τ_k(s, a) at the
 * FIXED midpoints τ_k = (2k − 1)/2K: deterministic (the same greedy action
 * for the same state, so evaluations are reproducible and consume no
 * random numbers), and the midpoint rule is a lower-variance estimate of
 * the mean over τ ~ U than K random draws. The paper samples K τ per step.
 *
 * The return law (distribution op): Z_τ(s, a) at the iqn.law_points
 * midpoints, as equally weighted atoms sorted ascending (quantile crossing:
 * nothing makes Z monotone in τ). From the moving averages when agent.ema > 0.
 *
 * Shapes: state rows B (<= max_batch = max(train.batch_size, EVAL_MAX_ROWS)),
 * τ rows B·per (per = N, N' or K), laid out row-major: τ row r belongs to
 * state r / per. Head output (B·per, A).
 *
 * Memory: the agent owns its nine networks (online, target, average of
 * torso, cos and head), optimizers, generator and scratch; agent_free
 * releases them. The distribution op's arrays stay valid until the next call.
 */
#ifndef BDRL_IQN_H
#define BDRL_IQN_H

#include "agents/agent.h"
#include "fields/mlp.h"

agent *agent_iqn_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);

typedef enum { IQN_ONLINE = 0, IQN_TARGET = 1, IQN_AVERAGE = 2 } iqn_which;
typedef enum { IQN_TORSO = 0, IQN_COS = 1, IQN_HEAD = 2 } iqn_part;

/* One of the nine networks (NULL: the averages when agent.ema is 0). */
mlp *iqn_net(agent *a, iqn_which which, iqn_part part);

/* Z_τ(s, ·) of one observation at R levels tau (R) from the `which`
 * networks: z (R, A). For tests. */
int iqn_quantiles(agent *a, iqn_which which, const float *obs, int R, const double *tau, double *z, bdrl_err *e);

/* The τ of the last update or loss_grad: part 0 online τ (B·N), 1 target τ'
 * (B·N'), 2 τ̃ for a* (B·K; control only). *n receives the count. */
const double *iqn_last_taus(agent *a, int part, int *n);

/* Reseeds the τ generator as if created with this seed (tests: the same τ
 * for repeated loss evaluations). */
void iqn_reseed(agent *a, uint64_t seed);

/* The minibatch loss and its gradient into the three online networks' grads
 * (zeroed first) without a step; st->grad_norm is their joint norm. */
int iqn_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e);

#endif
