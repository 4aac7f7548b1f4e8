/* risk.h — distortion risk measures of a return law (Dabney et al. 2018,
 * "Implicit Quantile Networks", §3): a measure is the distorted expectation
 *
 *   ρ_β(Z) = E_{τ ~ U[0,1]} [ F_Z^{-1}(β(τ)) ] = ∫_0^1 F_Z^{-1}(β(τ)) dτ
 *
 * for a nondecreasing β : [0, 1] → [0, 1]:
 *   mean       β(τ) = τ                                   E[Z]
 *   cvar:α     β(τ) = α τ, α in (0, 1]                    mean of the lowest α of Z
 *   wang:η     β(τ) = Φ(Φ^{-1}(τ) + η), η finite          η < 0 averse, η > 0 seeking
 *   cpw:η      β(τ) = τ^η / (τ^η + (1 − τ)^η)^{1/η},      Tversky and Kahneman's weighting;
 *              η in [0.28, 100] (β is not monotone below 0.279, Ingersoll 2008)
 *   pow:η      β(τ) = τ^{1/(1+η)} for η ≥ 0 (seeking),
 *              1 − (1 − τ)^{1/(1+|η|)} for η < 0 (averse)
 *   var:α      β(τ) = α, α in (0, 1): F^{-1}(α) (a point, not an average)
 * with F^{-1}(v) = inf{x : F(x) ≥ v}. wang:0, pow:0, cpw:1 and cvar:1 are
 * the mean; cvar:α → 0 is the minimum.
 *
 * Exact values on a law of atoms x_(1) ≤ ... ≤ x_(n) with cumulative F_i:
 * substituting v = β(τ),
 *   ρ_β(Z) = Σ_i x_(i) [h(F_i) − h(F_{i−1})],  h(u) = |{τ in [0,1] : β(τ) ≤ u}|,
 * h the (generalized) inverse of β: closed forms for mean (u), cvar
 * (min(u/α, 1)), wang (Φ(Φ^{-1}(u) − η)), pow (u^{1+η}; 1 − (1 − u)^{1+|η|})
 * and var (1 if u ≥ α else 0); bisection on the monotone β for cpw (to the
 * last bit of τ). It is computed in the summed-by-parts form
 *   ρ = x_(1) + Σ_{i<n} (1 − h(F_i)) (x_(i+1) − x_(i)),
 * with 1 − h from the upper cumulative mass where F_i > 1/2, so no
 * difference of nearly equal h values is taken.
 *
 * On a Gaussian mixture Σ_k w_k N(μ_k, σ²) (the BD agent's basis laws):
 * mean Σ w_k μ_k; var by bisection on the mixture CDF; cvar in closed form
 * given q = F^{-1}(α):  (1/α) Σ_k w_k [μ_k Φ(z_k) − σ φ(z_k)], z_k = (q − μ_k)/σ;
 * wang, pow and cpw by adaptive Gauss–Kronrod quadrature (GSL's qag, 61
 * points, relative tolerance 1e-12) of the distorted law's CDF H = h ∘ F:
 *   ρ = x0 + ∫_{x0}^{∞} (1 − H) dx − ∫_{−∞}^{x0} H dx   (x0 the mixture mean),
 * which is ∫ x dH, the same integral as that of the quantile function above;
 * the range is cut at (40 + |η|) σ beyond the outermost means, where H and
 * 1 − H are below 1e-300.
 *
 * Memory: nothing is kept; the atom functions sort a private copy.
 */
#ifndef BDRL_RISK_H
#define BDRL_RISK_H

#include <stddef.h>

#include "../core/err.h"

typedef enum { RISK_MEAN, RISK_CVAR, RISK_WANG, RISK_CPW, RISK_POW, RISK_VAR } risk_measure;

typedef struct {
    risk_measure measure;
    double param; /* α or η; unused by mean */
} risk_spec;

/* Parses "mean", "cvar:0.25", "wang:-0.75", "cpw:0.71", "pow:-2", "var:0.1":
 * a known name, a colon and a finite number in range (mean: no number).
 * One-line message on error. */
int risk_spec_parse(const char *text, risk_spec *out, bdrl_err *e);
/* The parameter's range check (what parse does after reading it). */
int risk_spec_check(const risk_spec *r, bdrl_err *e);
/* "cvar:0.25" (the parameter with %.10g), "mean". */
void risk_spec_format(const risk_spec *r, char *buf, size_t n);

/* β(τ) for τ in [0, 1] (clamped): the level at which the quantile function
 * is read when τ is uniform, e.g. for sampling τ in IQN. */
double risk_beta(const risk_spec *r, double tau);
/* h(u) = |{τ : β(τ) ≤ u}| for u in [0, 1] (clamped): β's inverse. */
double risk_beta_inv(const risk_spec *r, double u);

/* ρ of the law with atoms x (n ≥ 1, any order, ties allowed) and weights
 * w (finite, ≥ 0, positive sum; normalized here; zero weights ignored). */
int risk_atoms(const risk_spec *r, const double *x, const double *w, size_t n, double *out, bdrl_err *e);

/* ρ of Σ_k w_k N(mu_k, sigma²) (K ≥ 1, weights ≥ 0 with a positive sum,
 * normalized here; sigma > 0). Errors: bad input, quadrature failure. */
int risk_gauss_mixture(const risk_spec *r, const double *mu, const double *w, size_t K, double sigma, double *out,
                       bdrl_err *e);

#endif
