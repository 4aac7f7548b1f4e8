/* bd.h — the Bellman Diffusion agent, agent.kind bd (registry number 0):
 * basis fields, what every shipped config trains (bd.field basis, the
 * default; derivation and measurements in docs/basis.md).
 *
 * Per state and action it learns the density of the normalized return
 * u = (x − c)/h (bd_common.h) with a scalar field s ≈ the density and a
 * gradient field g ≈ its u-derivative, each linear in a fixed basis of u:
 *
 *   s(u; x, a) = Σ_k w_k(x, a) φ_k(u),   w = cw · softplus(z_s(x))[a, ·] >= 0
 *   g(u; x, a) = Σ_k d_k(x, a) φ_k'(u),  d = cw · z_g(x)[a, ·]
 *   φ_k(u) = N(u; μ_k, σ²), μ_k = −1 + 2k/(K − 1), σ = bd.basis_width · 2/(K − 1)
 *
 * z_s, z_g: two networks (torso.h's torso with a linear layer to A·K
 * outputs, the shape of C51's A·atoms logits); cw = 1/(K ln 2) makes the
 * initial mass about 1. What a grid agent computes on its grid has a
 * closed form here: mass M = Σ w_k, Q = c + h Σ w_k μ_k / M, and the
 * target field at mapped points (the target network runs on s' only):
 * γ^{-1} s⁻((v − b)/γ) / max(M⁻, floor) = Σ_j a_j N(v; γ μ_j + b, γ²σ²),
 * a_j = w⁻_j / max(M⁻, floor), a' = argmax_a' Q⁻(s', a') unless the batch
 * gives it (agent.double: argmax of the ONLINE scalar field's Q at s', the
 * coefficients still the target's; agent.risk_target with a non-mean
 * agent.risk: argmax of ρ(Z(s', a')) instead of Q, ρ of the law Σ_k w_k
 * N(c + h μ_k, (hσ)²)/M as risk_values computes it, on the target or, with
 * agent.double, the online field). γ is each row's discount (γ^m after an
 * m-step reward; agent.gamma without one), in the map and in
 * b = (r − (1 − γ)c)/h alike.
 *
 * The loss: the target's atoms γ μ_j + b with weights a_j (a terminal
 * transition: u_r with weight 1) are split onto the two neighbouring
 * centres by C51's rule (bd_project_atom), giving coefficients a', and the
 * fields regress onto Σ a'_k φ_k and Σ a'_k φ_k', integrated over u in
 * closed form (rᵀ G r with r = w − a', and d − a' with G' for g). Units:
 * loss_s = √K ∫ (s − p_T)² du / ∫ φ_0², loss_g = λ √K ∫ (g − ∂p_T)² du /
 * ∫ φ_0'², means over the batch (see create for why), weighted means
 * (1/B) Σ w_i L_i with the batch's importance weights; each row's scalar
 * L_i is its sample_loss. agent.eps_kernel and
 * bd.jitter are not read: the split is exact, so there is no kernel to
 * widen and no query point to jitter (docs/basis.md).
 *
 * agent.ema = d > 0: both networks are averaged into copies after every
 * update, avg <- d avg + (1 − d) online, and the reported law
 * (distribution, the sampler) reads them; acting and targets do not.
 * distribution: bd.readout atoms reports the coefficients' law
 * Σ w_k δ(μ_k) / M (the field without its known bump width), density the
 * field s on the bd.grid points. Sampling: bd_common.h's default sampler
 * with η = 0.02 σ² (u units), the fields 0 outside [−1 − m, 1 + m].
 *
 * Memory: all at create, for train.batch_size transitions; nothing
 * allocates later. The agent owns its networks, optimizers and scratch;
 * an update draws no random numbers.
 *
 * The bd registry class lives here: agent_bd_create, its memory estimate
 * and checkpoint shape keys dispatch on bd.field, creating the grid agent
 * of bd_grid.h for bd.field grid (docs/design.md §1.4's recipe, the reference).
 */
#ifndef BDRL_BD_H
#define BDRL_BD_H

#include "agents/agent.h"
#include "agents/bd_common.h"
#include "fields/mlp.h"

/* agent.kind bd: the basis agent, or the grid agent for bd.field grid. */
agent *agent_bd_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);

/* ---- introspection of the basis agent, for tests and diagnostics
 * (sampling, describing and the fields go through the ops) ---- */

/* Bytes of the scratch buffers the basis agent allocates for cfg on en
 * (the memory estimate's scratch part; the same table drives both). */
double bd_scratch_bytes(const exp_config *cfg, const env *en);

void bd_get_geometry(const agent *a, bd_geometry *g);
/* The networks: target 0 = online, 1 = target (scalar field only; NULL for
 * the gradient field), 2 = the moving average (NULL when agent.ema is 0). */
mlp *bd_net(agent *a, bd_field f, int target);
/* The fields at one observation and n points u (u units): s, g (n, A);
 * reported (target 0) or target (1) networks; s or g may be NULL. */
int bd_eval_fields(agent *a, const float *obs, int target, int n, const double *u, double *s, double *g,
                   bdrl_err *e);
/* The coefficients at one observation: w (A, K) of the scalar field (after
 * softplus and cw) and d (A, K) of the gradient field; reported (target 0)
 * or target (1; d then from the online gradient network, which has no
 * target copy). Either may be NULL. */
int bd_coefficients(agent *a, const float *obs, int target, double *w, double *d, bdrl_err *e);
/* The losses and parameter gradients of one update on batch b (left in the
 * online networks' grads, not applied): for finite-difference tests. */
int bd_debug_loss(agent *a, const agent_batch *b, double *loss_s, double *loss_g, bdrl_err *e);

/* ---- the pure pieces (tested on their own) ---- */

typedef struct {
    int K;
    double mu0, delta, sigma; /* μ_k = mu0 + k delta */
} bd_basis;

/* Bumps k in [*k0, *k1) are the only ones within 6σ of u (the rest are
 * below e^-18 of the peak and skipped; BAND_SD in bd.c). */
void bd_band(const bd_basis *bs, double u, int *k0, int *k1);

/* s(u) = Σ_k w_k φ_k(u) into *s and Σ_k w_k φ_k'(u) into *ds (either may
 * be NULL). */
void bd_field_at(const bd_basis *bs, const double *w, double u, double *s, double *ds);

/* Adds weight p at position x (u units) to the coefficients a (K) by the
 * linear split onto the two neighbouring centres (C51's projection: mass
 * and mean preserved; clamped to the end centres outside [μ_0, μ_{K−1}]). */
void bd_project_atom(const bd_basis *bs, double x, double p, double *a);

#endif
