/* projected.h — the fixed point of the *projected* distributional Bellman
 * operator on a transition table: the law a learner restricted to a given
 * representation converges to even with perfect optimisation, so its distance
 * to the exact law (truth.h) is that representation's own floor.
 *
 * Why: on FrozenLake 4x4 (slippery, γ 0.99, π*) the fixed point of QR-DQN's
 * 101-quantile projection is 0.035 (mean W1) from the exact laws, its means
 * 0.034 low, although the best 101 quantiles of each exact law are only
 * 0.0024 away: the projection's error compounds through bootstrapping. C51's
 * categorical projection on [0, 1] keeps the exact means and is 0.0017 away.
 * A QR-DQN run's W1 there (0.030 over seeds 101-110) has to be read against
 * that floor. `bdrl truth CONFIG --projection ...` prints these numbers.
 *
 * Policy evaluation of Z(s, a) — first a, then the deterministic policy π —
 * with a projection Π applied after every backup:
 *   Z_{k+1}(s) = Π( mixture over the outcomes (p, s', r, terminated) of
 *                   (s, π(s)): the atom r if terminated, else r + γ Z_k(s') ),
 * Jacobi sweeps over the states from Z_0 = δ0, to convergence; then each
 * (s, a) is Π of the same mixture with the first action a. A terminal state
 * (t->terminal) has Z = Π(δ0) (return 0, as truth.c).
 *
 * Projections:
 *   - quantile:N (Dabney et al. 2018, the W1 projection; QR-DQN's fixed
 *     point): N equally weighted atoms at F^{-1}(τ_i), τ_i = (2i+1)/(2N),
 *     i < N, F^{-1}(τ) = inf{x : F(x) ≥ τ} of the law normalized to mass 1;
 *   - categorical:N on [v_min, v_max] (C51, Bellemare et al. 2017): N ≥ 2
 *     atoms z_j = v_min + j Δz, Δz = (v_max - v_min)/(N - 1); each atom is
 *     clipped to [v_min, v_max] and its mass split linearly between its two
 *     neighbouring z_j (mean-preserving inside the support).
 *
 * Both operators are contractions (quantile: W∞, γ; categorical: Cramér,
 * √γ), so the fixed point is unique. Iteration stops when no position
 * (quantile, relative to max(1, |position|)) or no probability (categorical)
 * moves by more than tol between sweeps; not converging within max_iter
 * sweeps is an error.
 *
 * Memory: the projections write into caller-owned arrays; a proj_fixed_point
 * is allocated by truth_tab_projected and freed with proj_fixed_point_free.
 * Nothing keeps pointers to caller memory.
 */
#ifndef BDRL_PROJECTED_H
#define BDRL_PROJECTED_H

#include "core/err.h"
#include "envs/env.h"

#define PROJ_TOL 1e-13        /* default convergence tolerance */
#define PROJ_MAX_ITER 1000000 /* default sweep limit */
#define PROJ_MAX_N 100000     /* largest N accepted */

typedef enum { PROJ_QUANTILE, PROJ_CATEGORICAL } proj_kind;

typedef struct {
    proj_kind kind;
    int n;               /* quantile: N ≥ 1 atoms; categorical: N ≥ 2 support points */
    double v_min, v_max; /* categorical only: the support, v_min < v_max */
} proj_spec;

/* Parses "quantile:N" or "categorical:N" (N a decimal integer, nothing
 * after it); v_min/v_max are set by the caller. The message is one line. */
int proj_spec_parse(const char *text, proj_spec *out, bdrl_err *e);
/* Checks n (and the support for categorical). */
int proj_spec_check(const proj_spec *p, bdrl_err *e);

/* Quantile projection of the law with atoms v (n ≥ 1, any order, repeats
 * allowed) and probabilities p (≥ 0, positive sum; normalized here):
 * writes the N positions F^{-1}(τ_i), ascending, to out. */
int proj_quantile(const double *v, const double *p, int n, int N, double *out, bdrl_err *e);

/* Categorical projection of the same kind of law onto N ≥ 2 points of
 * [v_min, v_max]: writes the N masses to m (summing to the law's total mass;
 * p is not normalized). */
int proj_categorical(const double *v, const double *p, int n, int N, double v_min, double v_max, double *m,
                     bdrl_err *e);

/* The fixed point: for every (s, a), n atoms value/prob. Quantile: the
 * positions, prob 1/N each; categorical: the support z_j and the masses. */
typedef struct {
    proj_spec spec;
    int n_states, n_actions, n;
    double *value;   /* (n_states · n_actions · n), (s · A + a) · n + j */
    double *prob;    /* the same layout */
    int iterations;  /* sweeps done */
    double change;   /* the last sweep's largest change */
} proj_fixed_point;

/* The fixed point of Π T^π on table t (tol ≤ 0: PROJ_TOL; max_iter ≤ 0:
 * PROJ_MAX_ITER). out is zeroed first and needs proj_fixed_point_free after
 * success (it is freed here on failure). */
int truth_tab_projected(const env_table *t, double gamma, const int *policy, const proj_spec *spec, double tol,
                        int max_iter, proj_fixed_point *out, bdrl_err *e);
void proj_fixed_point_free(proj_fixed_point *fp);

/* The atoms of (s, a): n values and probabilities (pointers into fp). */
const double *proj_fp_value(const proj_fixed_point *fp, int s, int a);
const double *proj_fp_prob(const proj_fixed_point *fp, int s, int a);
/* Mean of (s, a)'s atoms (probabilities renormalized). */
double proj_fp_mean(const proj_fixed_point *fp, int s, int a);

#endif
