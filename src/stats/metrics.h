/* metrics.h — distances between distributions and summaries of results.
 *
 * 1-D distances (docs/design.md §1.6) go through one representation, stat_dist: the
 * CDF of a law on the real line as a piecewise-linear function with jumps.
 * Empirical samples and weighted atoms give step functions, a density on a
 * grid gives a continuous piecewise-linear CDF, and a CDF callback can be
 * tabulated. Two such CDFs are linear between their merged breakpoints, so
 *   W1     = integral |F - G| dx,
 *   Cramér = (integral (F - G)^2 dx)^(1/2),
 *   KS     = sup |F - G|
 * are computed exactly (up to rounding), with no quadrature and no grid.
 * All in the units of the inputs (return units when the caller passes
 * returns).
 *
 * The rest: sliced W1 and MMD for d-dimensional point clouds, the
 * Kolmogorov–Smirnov statistic against a CDF, and the summaries used to
 * report runs over seeds (mean with a bootstrap interval, median and IQR
 * with numpy's default quantile, steps to a threshold, area under a curve).
 *
 * Memory: a stat_dist is created by one of the stat_dist_* constructors and
 * freed with stat_dist_free; it copies what it needs from its inputs.
 * No function keeps a pointer to caller memory.
 */
#ifndef BDRL_METRICS_H
#define BDRL_METRICS_H

#include <stddef.h>

#include "../core/err.h"
#include "../core/rng.h"

/* A CDF callback: F(x) for a law on the real line. */
typedef double (*stat_cdf_fn)(double x, void *ctx);

/* ---- 1-D laws as CDFs ---- */

typedef struct stat_dist stat_dist;

/* Empirical law of n >= 1 finite samples (mass 1/n each, ties merged). */
stat_dist *stat_dist_sample(const double *x, size_t n, bdrl_err *e);

/* Atoms at values v (n, any order, repeats merged) with probabilities p (n).
 * p must be finite and >= 0 with a positive sum; it is divided by its sum, so
 * C51 softmax outputs and FrozenLake atoms truncated at 1e-12 mass both give a
 * proper law. */
stat_dist *stat_dist_atoms(const double *v, const double *p, size_t n, bdrl_err *e);

/* A density given at n >= 2 equally spaced points x_k = lo + k (hi - lo)/(n-1)
 * (lo < hi), as `linspace(lo, hi, n)` in numpy.
 * Interpretation: piecewise constant, value max(dens[k], 0) on the cell
 * [x_k - h/2, x_k + h/2], h = (hi - lo)/(n - 1); so the support is
 * [lo - h/2, hi + h/2], the CDF is piecewise linear through the cell edges,
 * and the mean is exactly sum x_k s+_k / sum s+_k — the Q value of docs/design.md
 * §1.4 computed from the same grid.
 * Negative values are clamped to 0 (the s+ of docs/design.md §1.4) and the result is
 * normalized by its mass sum_k max(dens[k], 0) h, which is written to *mass
 * if mass is not NULL (before normalization: a diagnostic of the field).
 * Errors: a non-finite value, or zero mass. Because of the normalization the
 * density may be given in any units, e.g. p~(u) on a grid whose lo, hi are in
 * return units. */
stat_dist *stat_dist_grid(const double *dens, size_t n, double lo, double hi, double *mass,
                          bdrl_err *e);

/* Tabulates a continuous CDF at n >= 2 equally spaced points on [lo, hi] and
 * interpolates linearly between them. The mass below lo becomes an atom at lo
 * and the mass above hi an atom at hi, so the result is a proper law whose
 * W1 to the true one is at most (tail mass) x (distance to the tails) plus an
 * O(h^2) interpolation error; exact for a piecewise-linear CDF (e.g. uniform3)
 * whose kinks fall on the grid. Values are clamped to [0, 1] and made
 * non-decreasing (running maximum). Errors: NaN from the callback. */
stat_dist *stat_dist_from_cdf(stat_cdf_fn cdf, void *ctx, double lo, double hi, size_t n,
                              bdrl_err *e);

void stat_dist_free(stat_dist *d);

double stat_dist_cdf(const stat_dist *d, double x);   /* right-continuous F(x) */
double stat_dist_mean(const stat_dist *d);            /* exact mean of the law */
size_t stat_dist_size(const stat_dist *d);            /* breakpoints */

typedef struct {
    double w1;      /* integral |F - G| dx */
    double cramer;  /* (integral (F - G)^2 dx)^(1/2) */
    double ks;      /* sup_x |F(x) - G(x)| over both one-sided limits */
} stat_cmp;

/* All three distances in one pass over the merged breakpoints. */
void stat_dist_compare(const stat_dist *a, const stat_dist *b, stat_cmp *out);
double stat_w1(const stat_dist *a, const stat_dist *b);
double stat_cramer(const stat_dist *a, const stat_dist *b);

/* Exact W1 between two empirical samples of sizes na, nb >= 1 (different
 * sizes allowed): integral |F - G| over the merged sorted points. Inputs are
 * not modified. Errors: empty or non-finite input. */
int stat_w1_samples(const double *a, size_t na, const double *b, size_t nb, double *out, bdrl_err *e);
/* The same for inputs already sorted ascending (unchecked). */
double stat_w1_sorted(const double *a, size_t na, const double *b, size_t nb);

/* ---- d-dimensional point clouds, rows (n, d) ---- */

#define STAT_SLICED_DIRS 128 /* default and recommended minimum */

/* Sliced W1: the mean over n_dirs directions w, uniform on the unit sphere
 * (normalized standard normal vectors drawn from r), of the exact 1-D W1
 * between the projections x w and y w. n_dirs == 0 means STAT_SLICED_DIRS.
 * If se is not NULL it receives the Monte-Carlo standard error of the mean
 * over directions (sd / sqrt(n_dirs); 0 when n_dirs == 1). For d == 1 the
 * result is the exact 1-D W1 whatever the directions. */
int stat_sliced_w1(const double *x, size_t nx, const double *y, size_t ny, size_t d,
                   size_t n_dirs, rng *r, double *out, double *se, bdrl_err *e);

#define STAT_MMD_MEDIAN_POINTS 1000 /* median heuristic uses at most this many points */

typedef struct {
    double mmd2;       /* unbiased U-statistic; may be slightly negative */
    double mmd;        /* sqrt(max(mmd2, 0)) */
    double bandwidth;  /* the sigma used */
} stat_mmd_result;

/* MMD between samples x (nx, d) and y (ny, d), nx, ny >= 2, with the Gaussian
 * kernel k(a, b) = exp(-|a - b|^2 / (2 sigma^2)):
 *   MMD2 = sum_{i!=j} k(x_i,x_j) / (nx(nx-1)) + sum_{i!=j} k(y_i,y_j) / (ny(ny-1))
 *          - 2 sum_{i,j} k(x_i,y_j) / (nx ny).
 * bandwidth > 0 sets sigma; bandwidth <= 0 uses the median heuristic: sigma is
 * the median (numpy's: mean of the two middle values for an even count) of
 * the Euclidean distances |z_i - z_j|, i < j, over the pooled sample
 * z = (x, y). If nx + ny > STAT_MMD_MEDIAN_POINTS the pairs are taken over the
 * deterministic subset z_floor(k N / K), k = 0..K-1, K = STAT_MMD_MEDIAN_POINTS
 * (N = nx + ny). If that median is 0 (more than half the pairs coincide) the
 * mean pairwise distance is used; if that is 0 too every point is the same,
 * MMD2 is 0 for any sigma and sigma = 1 is reported.
 * Cost O((nx + ny)^2 d). */
int stat_mmd(const double *x, size_t nx, const double *y, size_t ny, size_t d, double bandwidth,
             stat_mmd_result *out, bdrl_err *e);

/* ---- goodness of fit ---- */

/* Kolmogorov–Smirnov statistic D = sup |F_n - F| of n >= 1 samples against
 * a continuous CDF. Errors: empty input, non-finite sample, NaN from cdf. */
int stat_ks(const double *x, size_t n, stat_cdf_fn cdf, void *ctx, double *D, bdrl_err *e);
/* Kolmogorov's limiting survival function Q(l) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 l^2). */
double stat_kolmogorov_q(double lambda);
/* Approximate p-value of D for n samples: Q((sqrt(n) + 0.12 + 0.11/sqrt(n)) D)
 * (Stephens' correction; good for n >= 5 or so). */
double stat_ks_pvalue(double D, size_t n);

/* ---- summaries (issue 5) ---- */

/* Arithmetic mean (plain left-to-right sum / n); NaN for n == 0. */
double stat_mean(const double *x, size_t n);

/* Quantile q in [0, 1] of n >= 1 values by numpy's default ("linear",
 * Hyndman & Fan type 7): with the values sorted ascending, h = (n - 1) q,
 * i = floor(h), g = h - i, result = lerp(x_i, x_{i+1}, g) with numpy's lerp
 * (a + (b - a) g, or b - (b - a)(1 - g) when g >= 0.5), so results match
 * numpy.quantile(x, q) bit for bit. Errors: empty input, NaN, q outside [0,1]. */
int stat_quantile(const double *x, size_t n, double q, double *out, bdrl_err *e);
/* The same on values already sorted ascending (unchecked). */
double stat_quantile_sorted(const double *s, size_t n, double q);
/* numpy.median: the middle value, or (a + b) / 2 of the two middle values. */
int stat_median(const double *x, size_t n, double *out, bdrl_err *e);

/* Percentile bootstrap interval of the mean: B resamples of size n drawn
 * with replacement (indices rng_below(r, n), resample by resample, in order),
 * and the (1 - level)/2 and (1 + level)/2 quantiles (numpy's linear, above) of
 * the B resampled means; level = 0.95 gives the usual 95% interval. */
int stat_bootstrap_mean_ci(const double *x, size_t n, size_t B, double level, rng *r,
                           double *lo, double *hi, bdrl_err *e);

typedef struct {
    size_t n;
    double mean, ci_lo, ci_hi;  /* mean and its 95% percentile bootstrap interval */
    double median, q25, q75, iqr;  /* numpy's linear quantiles; iqr = q75 - q25 */
    double min, max;
} stat_summary;

/* All of the above for n >= 1 finite values, with B bootstrap resamples
 * (B >= 1; 10000 is customary). */
int stat_summarize(const double *x, size_t n, size_t B, rng *r, stat_summary *out, bdrl_err *e);

/* Learning curves: evaluation steps (n, strictly increasing) and values (n). */

/* Index of the first point with value >= threshold, or -1 if none (a NaN
 * value never reaches it). */
long stat_first_reach(const double *values, size_t n, double threshold);
/* Step at which the curve first reaches threshold: returns 1 and sets *step,
 * or returns 0 ("none") and sets *step to NaN. */
int stat_steps_to_threshold(const double *steps, const double *values, size_t n,
                            double threshold, double *step);
/* Area under the curve by the trapezoid rule over the steps:
 * sum (s_{i+1} - s_i)(v_i + v_{i+1}) / 2; 0 for a single point. Divide by
 * s_{n-1} - s_0 for the curve's mean level. Errors: n == 0, steps not strictly
 * increasing, non-finite input. */
int stat_auc(const double *steps, const double *values, size_t n, double *out, bdrl_err *e);

#endif
