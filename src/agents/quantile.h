/* quantile.h — the pieces QR-DQN and IQN share: the quantile Huber loss
 * (Dabney et al. 2018, "Distributional RL with Quantile Regression", eq. 10;
 * and "Implicit Quantile Networks", eq. 3), quantile midpoints, IQN's cosine
 * features of τ, and the ascending sort of a law's atoms.
 *
 * Quantile Huber loss of one prediction θ at quantile level τ against one
 * target sample T, with u = T − θ:
 *   L_κ(u)    = u²/2                 if |u| <= κ
 *             = κ (|u| − κ/2)         otherwise           (Huber)
 *   ρ_τ^κ(u)  = |τ − 1{u < 0}| · L_κ(u) / κ                (κ > 0)
 *   ρ_τ^0(u)  = |τ − 1{u < 0}| · |u|                        (κ = 0: the plain
 *                                                           quantile loss, the limit)
 *   ∂ρ/∂θ     = −|τ − 1{u < 0}| · clip(u, −κ, κ) / κ       (κ > 0)
 *             = −|τ − 1{u < 0}| · sign(u)                   (κ = 0)
 * For N predictions θ_i (levels τ_i) against M target samples T_j the loss
 * of one (s, a) is summed over i and averaged over j, as in both papers
 * (and Dopamine): L = Σ_i (1/M) Σ_j ρ_{τ_i}^κ(T_j − θ_i).
 *
 * Pure functions; no allocation except quantile_sort's none (in place).
 */
#ifndef BDRL_QUANTILE_H
#define BDRL_QUANTILE_H

#include "fields/real.h"

/* ρ_τ^κ(u) and its derivative with respect to θ (where u = T − θ). */
double quantile_huber_rho(double tau, double u, double kappa);
double quantile_huber_drho_dtheta(double tau, double u, double kappa);

/* L = Σ_i (1/M) Σ_j ρ_{τ_i}^κ(T_j − θ_i) for theta (N, stride `stride`:
 * θ_i = theta[i·stride]), tau (N), target (M). If grad is not NULL,
 * grad[i·stride] is SET to scale · ∂L/∂θ_i. */
double quantile_huber_loss(int N, const real *theta, int stride, const double *tau, int M, const double *target,
                           double kappa, real *grad, double scale);

/* τ_i = (2i + 1) / (2N), i = 0..N−1 (the paper's (2i − 1)/2N with i from 1). */
void quantile_midpoints(int N, double *tau);

/* IQN's cosine features: out (R, n) with out[r·n + i] = cos(π i τ_r),
 * i = 0..n−1 (the paper's Σ_{i=0}^{n−1}; i = 0 is the constant 1). Computed
 * by the Chebyshev recurrence cos((i+1)x) = 2 cos x cos(ix) − cos((i−1)x)
 * in double (one libm cos per row; error below 1e-12 for n <= 256). */
void quantile_cos_features(int R, const double *tau, int n, real *out);

/* Sorts x (n) ascending in place (quantile crossing: a network's quantile
 * estimates need not be monotone in τ; agent_dist wants ascending x). */
void quantile_sort(int n, double *x);

#endif
