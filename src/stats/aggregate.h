/* aggregate.h — how several agents compare over a suite of tasks, by the
 * statistics Agarwal et al. 2021 ("Deep RL at the Edge of the Statistical
 * Precipice", NeurIPS) recommend and their rliable library computes:
 * normalized scores, the aggregate point estimates IQM, median, mean and
 * optimality gap, stratified bootstrap confidence intervals, the
 * probability of improvement of one agent over another, and performance
 * profiles (score distributions).
 *
 * A score table holds one agent's scores: task t has n_runs[t] >= 1 runs
 * (seeds), and tasks may have different numbers of runs. Every function
 * refuses a table with no task, a task with no run or a score that is not
 * finite (NaN, inf), with a one-line message naming the task and run.
 *
 * Definitions (x_{t,r}: the score of run r on task t, T tasks, n_t runs of
 * task t, N = sum n_t; on a table with the same n for every task each one is
 * exactly rliable's, which accepts only such tables):
 *   normalized score  (x - random_t) / (reference_t - random_t)
 *   IQM               the interquartile mean of all N scores pooled: sorted
 *                     ascending, k = floor(N/4) cut from each end, the mean
 *                     of the N - 2k in the middle (scipy.stats.trim_mean(x,
 *                     0.25), rliable's aggregate_iqm: N = 10 keeps 6, N = 5
 *                     keeps 3, N < 4 keeps all)
 *   mean              mean over tasks of the per-task mean score
 *   median            median over tasks of the per-task mean score (numpy's:
 *                     the middle one, or the mean of the two middle ones)
 *   optimality gap    mean over tasks of the per-task mean of max(gamma - x, 0)
 *                     (rliable: gamma - mean(min(x, gamma))), gamma = 1 by
 *                     default; it equals gamma - mean when no score is above
 *                     gamma
 *   P(X > Y)          per task, the Mann-Whitney U statistic of X's runs
 *                     against Y's divided by n_X n_Y (pairs with x > y count
 *                     1, ties 1/2), averaged over tasks (the tables must have
 *                     the same tasks; their runs may differ in number);
 *                     P(Y > X) = 1 - P(X > Y)
 *   profile(tau)      the score distribution: per task the fraction of runs
 *                     with score > tau (strictly), averaged over tasks
 * Ragged tables: mean, median, optimality gap, P(X > Y) and profiles weigh
 * every task equally (per-task values first); the IQM pools runs, so a task
 * with more runs weighs more in it.
 *
 * Intervals: stratified bootstrap, rliable's default (percentile intervals,
 * no BCa): a resample draws, for every task independently, n_t runs with
 * replacement from that task's own runs (so every resample has exactly n_t
 * runs of task t); the statistic is recomputed on each of reps resamples
 * and the interval is the (1 - level)/2 and (1 + level)/2 quantiles of
 * those values by numpy's linear rule (arch's np.percentile). The four
 * point estimates share one set of resamples; for P(X > Y) X and Y are
 * resampled independently (rliable's StratifiedIndependentBootstrap).
 * rliable's defaults, kept here: 50,000 resamples for point estimates and
 * probabilities of improvement (get_interval_estimates), 2,000 for profiles
 * (create_performance_profile).
 *
 * Determinism: the resamples come from the caller's rng (core/rng.h), in a
 * fixed order (resample by resample; task by task; run by run; X before Y),
 * so the same seed and stream give the same intervals.
 *
 * Memory: nothing is kept; callers own every array they pass.
 */
#ifndef BDRL_AGGREGATE_H
#define BDRL_AGGREGATE_H

#include <stddef.h>

#include "../core/err.h"
#include "../core/rng.h"

#define AGG_REPS 50000        /* rliable's get_interval_estimates default */
#define AGG_PROFILE_REPS 2000 /* rliable's create_performance_profile default */
#define AGG_GAMMA 1.0         /* optimality gap threshold (rliable's default) */
#define AGG_LEVEL 0.95

/* One agent's scores: x holds task 0's n_runs[0] runs, then task 1's, ... */
typedef struct {
    int n_tasks;
    const int *n_runs; /* [n_tasks] */
    const double *x;   /* [sum of n_runs] */
} agg_table;

/* The number of scores in t (sum of n_runs; no checks). */
size_t agg_size(const agg_table *t);

/* 0 if t is a valid table, else -1 with the reason. */
int agg_check(const agg_table *t, bdrl_err *e);

/* out[i] = (x_i - random_t) / (reference_t - random_t) for every score of
 * t (out has agg_size(t) values); random and reference have n_tasks values
 * each, finite and different on each task. */
int agg_normalize(const agg_table *t, const double *random, const double *reference, double *out, bdrl_err *e);

/* The aggregate point estimates, in this order in every array below. */
enum { AGG_IQM = 0, AGG_MEDIAN, AGG_MEAN, AGG_OPTGAP, AGG_N_STATS };
extern const char *const agg_stat_names[AGG_N_STATS]; /* "iqm", "median", "mean", "optimality_gap" */

int agg_iqm(const agg_table *t, double *out, bdrl_err *e);
int agg_median(const agg_table *t, double *out, bdrl_err *e);
int agg_mean(const agg_table *t, double *out, bdrl_err *e);
int agg_optimality_gap(const agg_table *t, double gamma, double *out, bdrl_err *e);

/* All four (out[AGG_IQM] ... out[AGG_OPTGAP]). */
int agg_estimates(const agg_table *t, double gamma, double out[AGG_N_STATS], bdrl_err *e);

/* Their stratified bootstrap intervals at the given level (0 < level < 1),
 * reps >= 1 resamples shared by the four statistics. */
int agg_intervals(const agg_table *t, double gamma, int reps, double level, rng *r, double lo[AGG_N_STATS],
                  double hi[AGG_N_STATS], bdrl_err *e);

/* One stratified resample of t into out (agg_size(t) values, the layout of
 * t.x): for each task in order, n_t draws rng_below(r, n_t) of its runs. */
void agg_resample(const agg_table *t, rng *r, double *out);

/* Probability of improvement P(X > Y) and its interval (x, y: the same
 * number of tasks). */
int agg_improvement(const agg_table *x, const agg_table *y, double *p, bdrl_err *e);
int agg_improvement_interval(const agg_table *x, const agg_table *y, int reps, double level, rng *r, double *lo,
                             double *hi, bdrl_err *e);

/* The score distribution at n_tau thresholds tau (any order, finite):
 * frac[i] = profile(tau[i]); and its pointwise interval (lo, hi: n_tau each)
 * from reps stratified resamples shared by every tau. */
int agg_profile(const agg_table *t, const double *tau, int n_tau, double *frac, bdrl_err *e);
int agg_profile_intervals(const agg_table *t, const double *tau, int n_tau, int reps, double level, rng *r,
                          double *lo, double *hi, bdrl_err *e);

#endif
