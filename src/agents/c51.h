/* c51.h — the C51 histogram agent (Bellemare, Dabney, Munos 2017; docs/design.md
 * §1.5), the baseline Bellman Diffusion is compared with.
 *
 * One network, the shared torso with a linear head of n_actions x atoms
 * logits (torso_spec with n_out = A·N; at agent.hidden [120, 84] this is
 * CleanRL's c51.py network obs -> 120 -> 84 -> A·N). Per action a softmax
 * over N atoms z_j = v_min + j Δz, Δz = (v_max - v_min)/(N - 1); Q = Σ z_j p_j.
 * An update:
 *   target  a* = argmax_a Q_target(s', a) (ties to the lowest index), or
 *           argmax_a of the online network's Q (agent.double; the law is
 *           still the target network's), or the batch's next_action (policy
 *           evaluation); with agent.risk_target ρ replaces Q in either argmax;
 *           atoms r + γ' z_j, γ' the row's discount (agent.gamma without
 *           one), 0 if terminated (a truncation bootstraps), carrying
 *           p_target(s', a*)_j, projected onto the support (c51_project);
 *   loss    cross-entropy CE_i = −Σ_j m_j log p_θ(s, a)_j, (1/B) Σ_i w_i CE_i
 *           with the batch's importance weights w (1 without), computed
 *           with a stable log-softmax (CleanRL clamps p to
 *           [1e-5, 1 - 1e-5] before the log; the two agree unless a
 *           probability falls below 1e-5, where the clamp stops the gradient);
 *           CE_i is the row's sample_loss;
 *   step    Adam (agent.lr, agent.adam_eps) with global-norm clipping at
 *           train.clip (0 = off).
 * All network work is batched GEMMs; every buffer is allocated at create for
 * max(train.batch_size, eval_batch_rows(cfg)) rows; q_values takes larger
 * batches in chunks.
 *
 * Memory: the agent owns its networks, optimizer and scratch; agent_free
 * releases them. The distribution op's arrays stay valid until the next call.
 */
#ifndef BDRL_C51_H
#define BDRL_C51_H

#include "agents/agent.h"
#include "fields/mlp.h"

agent *agent_c51_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);

/* The categorical projection: atoms r + g·z_j (z_j = v_min + j Δz, j < n)
 * with probabilities p (n) are clipped to [v_min, v_max] and each one's mass
 * is split between its two neighbouring support points in proportion to
 * proximity (all of it to a support point it falls on). m (n) is
 * overwritten. g is γ, or 0 for a terminal transition (all mass at r). */
void c51_project(int n, double v_min, double v_max, double r, double g, const double *p, double *m);

/* Cross-entropy of the softmax p of n logits against a target distribution
 * m: returns −Σ_j m_j log p_j and, if dlogits is not NULL, writes its
 * gradient with respect to the logits, p_j Σ_k m_k − m_j (= p − m when m
 * sums to 1). */
double c51_cross_entropy(int n, const float *logits, const double *m, float *dlogits);

/* The online network and its target (tests, benchmarks). */
mlp *c51_online(agent *a);
mlp *c51_target(agent *a);
/* The moving average the distribution op reads (agent.ema > 0), else NULL. */
mlp *c51_average(agent *a);

/* The minibatch loss and its parameter gradient, written into the online
 * network's grads (zeroed first) without stepping the optimizer; fills st
 * (grad_norm is that of the unclipped gradient). Used by update and by the
 * gradient check. */
int c51_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e);

/* GEMM multiply-adds of one update at batch B, counted as 2·M·N·K per GEMM
 * (target forward, online forward, backward without the input gradient).
 * Elementwise work is not counted. */
double c51_update_flops(const agent *a, int B);

#endif
