/* bd_basis.h — the Bellman Diffusion agent with basis fields (bd.field
 * basis; derivation and measurements in docs/basis.md).
 *
 * The same two fields as bd.h, scalar s ≈ density and gradient g ≈ its
 * u-derivative, but linear in a fixed basis of the normalized return u:
 *
 *   s(u; x, a) = Σ_k w_k(x, a) φ_k(u),   w = cw · softplus(z_s(x))[a, ·] >= 0
 *   g(u; x, a) = Σ_k d_k(x, a) φ_k'(u),  d = cw · z_g(x)[a, ·]
 *   φ_k(u) = N(u; μ_k, σ²), μ_k = −1 + 2k/(K − 1), σ = bd.basis_width · 2/(K − 1)
 *
 * z_s, z_g: two networks (torso.h's torso with a linear layer to A·K
 * outputs, the shape of C51's A·atoms logits); cw = 1/(K ln 2) makes the
 * initial mass about 1. Everything the grid agent computes on its grid has
 * a closed form here: mass M = Σ w_k, Q = c + h Σ w_k μ_k / M, the query law
 * (k ∝ w_k of the online field at (s, a), whose forward the loss needs
 * anyway, then μ_k + σ ξ; a share bd.query_uniform uniform over
 * [−1 − 3σ, 1 + 3σ]), and the target fields at mapped points (the target
 * network runs on s' only):
 *
 *   p_T(v)  = Σ_j a_j N(v; γ μ_j + b, γ²σ² + ε_j),  a_j = w⁻_j / max(M⁻, floor)
 *   ∂p_T(v) = its v-derivative
 *
 * (γ^{-1} s⁻((v − b)/γ) is exactly that mixture with ε_j = 0; the jitter
 * u − ξ, ξ ~ N(0, ε_j), is applied as its expectation, an exact blur).
 * Terminal targets are N(v; u_r, ε + ε_j) and its derivative, ε =
 * agent.eps_kernel. The losses are the `fields` regression of bd.h at Q
 * query points per transition, in units of one bump's height (s) and its
 * slope (g): loss_s = mean (s − p_T)² / S², loss_g = λ mean (g − ∂p_T)² /
 * (S/σ)², S = 1/(sqrt(2π) σ).
 *
 * Memory: all at create, for train.batch_size transitions; nothing
 * allocates later. The agent owns its networks, optimizers, one query
 * stream and scratch.
 */
#ifndef BDRL_BD_BASIS_H
#define BDRL_BD_BASIS_H

#include "agents/agent.h"
#include "agents/bd.h"

/* Called by agent_bd_create for bd.field basis (its own ops table). */
agent *agent_bdb_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);

/* Bytes of the scratch buffers agent_bdb_create allocates for cfg on en
 * (the memory estimate's scratch part; the same table drives both). */
double bdb_scratch_bytes(const exp_config *cfg, const env *en);

/* Introspection for tests: bd.h's bd_get_geometry, bd_net, bd_reseed,
 * bd_debug_targets and bd_eval_fields are the grid agent's; these are the
 * basis agent's (sampling, describing and the fields go through the ops). */
void bdb_get_geometry(const agent *a, bd_geometry *g);
mlp *bdb_net(agent *a, bd_field f, int target);
void bdb_reseed(agent *a, uint64_t seed);
/* Prepares the targets of batch b as update would (bd_debug_targets) and
 * points at them, inside the agent until its next call: query points,
 * targets t, dt (B·Q; bd.basis_loss queries only), next actions (B). */
int bdb_targets(agent *a, const agent_batch *b, const double **u, const double **t, const double **dt,
                const int **next_action, int *Q, bdrl_err *e);
int bdb_eval_fields(agent *a, const float *obs, int target, int n, const double *u, double *s, double *g,
                    bdrl_err *e);
/* The coefficients at one observation: w (A, K) of the scalar field (after
 * softplus and cw) and d (A, K) of the gradient field; reported (target 0)
 * or target (1; d then from the online gradient network, which has no
 * target copy). Either may be NULL. */
int bdb_coefficients(agent *a, const float *obs, int target, double *w, double *d, bdrl_err *e);
/* The losses and parameter gradients of one update on batch b (left in the
 * online networks' grads, not applied): for finite-difference tests (with
 * bd.query_uniform 1, so the query points do not move with the online
 * parameters). Consumes the query stream like update. */
int bdb_debug_loss(agent *a, const agent_batch *b, double *loss_s, double *loss_g, bdrl_err *e);

/* ---- the pure pieces (tested on their own) ---- */

typedef struct {
    int K;
    double mu0, delta, sigma; /* μ_k = mu0 + k delta */
} bdb_basis;

/* Bumps k in [*k0, *k1) are the only ones within 6σ of u (the rest are
 * below e^-18 of the peak and skipped; BAND_SD in bd_basis.c). */
void bdb_band(const bdb_basis *bs, double u, int *k0, int *k1);

/* s(u) = Σ_k w_k φ_k(u) into *s and Σ_k w_k φ_k'(u) into *ds (either may
 * be NULL). */
void bdb_field(const bdb_basis *bs, const double *w, double u, double *s, double *ds);

/* Adds weight p at position x (u units) to the coefficients a (K) by the
 * linear split onto the two neighbouring centres (C51's projection: mass
 * and mean preserved; clamped to the end centres outside [μ_0, μ_{K−1}]). */
void bdb_project_atom(const bdb_basis *bs, double x, double p, double *a);

/* Bootstrapped targets at v (n) from next-state coefficients wn (K):
 * t = Σ_j a_j N(v; γ μ_j + b, γ²σ² + jitter), a_j = wn_j / max(Σ wn, floor),
 * dt its v-derivative. */
void bdb_target_bootstrap(const bdb_basis *bs, int n, const double *v, double b, double gamma,
                          const double *wn, double floor, double jitter, double *t, double *dt);

#endif
