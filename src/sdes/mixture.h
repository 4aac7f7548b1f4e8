/* mixture.h — analytic isotropic Gaussian mixtures in d dimensions.
 *
 *   p(x) = Σ_k w_k N(x; μ_k, σ_k² I)
 *
 * They are the known laws every sampler is tested on before it sees learned
 * fields (docs/design.md §1.3): exact density and gradient (as a batched
 * sde_field_fn), exact sampling, the exact CDF of any 1-D projection (for
 * Kolmogorov–Smirnov checks) and mode occupancy by nearest mean.
 *
 * Memory: sde_mixture_create copies its inputs; the caller owns the mixture
 * and frees it with sde_mixture_free. Nothing here keeps a pointer to caller
 * memory.
 */
#ifndef BDRL_SDE_MIXTURE_H
#define BDRL_SDE_MIXTURE_H

#include "core/err.h"
#include "core/rng.h"

typedef struct {
    int k, d;
    double *w;   /* (k) weights, normalized to sum 1 at creation */
    double *mu;  /* (k, d) means */
    double *sd;  /* (k) per-component standard deviation (isotropic) */
    double *cn;  /* (k) w_k (2π σ_k²)^(−d/2), cached */
} sde_mixture;

/* w: (k) non-negative, positive sum (normalized here); mu: (k, d); sd: (k) > 0. */
sde_mixture *sde_mixture_create(int k, int d, const double *w, const double *mu,
                                const double *sd, bdrl_err *e);
void sde_mixture_free(sde_mixture *m);

/* p(x) at one point x (d). If grad is not NULL it receives ∇p(x) (d).
 * Plain (not log-space) arithmetic on purpose: far from the means p and ∇p
 * underflow to exactly 0, as a learned density effectively does. */
double sde_mixture_eval(const sde_mixture *m, const double *x, double *grad);

/* sde_field_fn adapter (see sampler.h); ctx is a `const sde_mixture *`.
 * x (n, d) -> s (n) = p, g (n, d) = ∇p (g may be NULL). Fails if d differs. */
int sde_mixture_field(void *ctx, int n, int d, const double *x, double *s, double *g,
                      bdrl_err *e);

/* n exact samples into x (n, d). */
void sde_mixture_sample(const sde_mixture *m, rng *r, int n, double *x);

/* CDF of the projection wᵀX at t, X ~ p, for any non-zero direction w (d):
 * Σ_k w_k Φ((t − wᵀμ_k) / (σ_k ||w||)). With d = 1 and w = {1} it is the CDF. */
double sde_mixture_cdf_proj(const sde_mixture *m, const double *w, double t);

/* Index of the component whose mean is nearest to x (Euclidean). */
int sde_mixture_nearest(const sde_mixture *m, const double *x);

/* Fraction of the points x (n, d) nearest to each component, into frac (k).
 * Points with skip[i] != 0 are left out (skip may be NULL). Returns the number
 * of points counted; frac is all 0 when it is 0. */
int sde_mixture_occupancy(const sde_mixture *m, int n, const double *x,
                          const unsigned char *skip, double *frac);

#endif
