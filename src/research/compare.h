/* compare.h — several configurations over several seeds (`bdrl compare`):
 * runs them (pool.h), then summarizes each configuration's runs and writes
 * comparison.md, comparison.csv, comparison.json and learning curves.
 *
 * Layout of the output directory:
 *   runs/<label>_s<seed>/   one `bdrl train` run each (run.h)
 *   logs/<label>_s<seed>.log  the child's output (and its eval's, with truth)
 *   comparison.{md,csv,json}, curves.{png,svg,dat,gp}
 *   aggregate.{md,csv}, improvement.csv, scores.csv, profile.{png,svg,dat,gp}
 *     when the finished runs span several environments: the aggregate over
 *     environments of research/suite.h (configs of one agent form one agent)
 * Rerunning the same comparison finishes what is missing (finished runs are
 * kept, interrupted ones resumed from their checkpoint).
 *
 * Statistics per configuration (over its finished runs; stats/metrics.h):
 *   - steps to threshold: the first evaluation step whose thresholded
 *     quantity (summary.json's threshold_on: return_mean for CartPole,
 *     success_rate for FrozenLake) reaches the threshold; a seed that never
 *     reaches it counts as infinitely many steps, so median and quartiles
 *     (numpy's linear quantiles) are infinite — "not reached" — when fewer
 *     than that share of seeds reached it; reached counts them;
 *   - final and best evaluation return, area under the evaluation curve
 *     (trapezoid over the evaluation steps divided by their span: the
 *     curve's mean level), final success rate, mean W1 to the truth: mean
 *     and 95% percentile bootstrap interval (10,000 resamples, fixed seed);
 *   - wall time and steps/s: means;
 *   - ratio of medians of steps to threshold, first configuration / this one
 *     (< 1: the first needs fewer steps).
 *
 * Memory: compare_summarize allocates compare_stats.stt_runs (compare_stats_free
 * releases it); callers own everything they pass.
 */
#ifndef BDRL_COMPARE_H
#define BDRL_COMPARE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "core/rng.h"
#include "research/suite.h"

#define COMPARE_BOOT 10000
#define COMPARE_BOOT_SEED 0x636d70ull

/* mean and 95% bootstrap interval of n values (NaN when n == 0) */
typedef struct {
    int n;
    double mean, lo, hi;
} compare_ci;

typedef struct {
    int n_runs;              /* run directories given */
    int n_done;              /* finished runs summarized */
    int n_solved;            /* of which ended at the threshold (status solved) */
    char agent[32], env[32], threshold_on[32];
    double threshold;
    int stt_reached;         /* runs that reached the threshold */
    double stt_median, stt_q25, stt_q75, stt_iqr; /* INFINITY: not reached by enough runs */
    compare_ci final_return, best_return, auc, success, w1;
    compare_ci last_quarter; /* per run: mean evaluation return at steps > 3/4 of its last evaluation's */
    int q_end_n;             /* runs with update statistics in their last 5% of steps */
    double q_end_mean, q_end_max; /* per run: mean of metrics.csv's q_mean (replay batches' mean Q)
                                     over the episodes ending after 95% of its steps; mean and
                                     largest over the runs (divergence shows here first) */
    double wall_mean, sps_mean;
    double stt_ratio;        /* median of the first group / this one's; NaN if undefined */
    double stt_ratio_lo, stt_ratio_hi; /* its 95% bootstrap interval (compare_boot_interval); NaN if undefined */
    double *stt_runs;        /* per finished run, sorted: steps to threshold, +INFINITY for one that never
                                reached it (n_done values; NULL without a threshold); compare_stats_free */
} compare_stats;

/* Frees what compare_summarize allocated in s (s itself is the caller's). */
void compare_stats_free(compare_stats *s);

/* Summarizes the finished runs among dirs (n). with_w1: read mean_w1 from
 * each run's distributions.json (runs without it are left out of w1). */
int compare_summarize(const char *const *dirs, int n, int with_w1, compare_stats *out, bdrl_err *e);

/* Quantile q of n values some of which may be +INFINITY (numpy's linear
 * rule; a neighbour with zero weight does not count), on sorted input. */
double compare_quantile_inf(const double *sorted, int n, double q);

/* Sorts v (n values, +INFINITY for a seed that never reached the
 * threshold) and sets their median and quartiles by compare_quantile_inf
 * (all NaN when n is 0): the steps-to-threshold statistics of a group. */
void compare_stt_quartiles(double *v, int n, double *median, double *q25, double *q75);

/* 95% percentile bootstrap interval [lo, hi] of a comparison of two
 * groups' per-seed values x (nx) and y (ny). Their seeds trained
 * different things, so each is resampled on its own, COMPARE_BOOT times (r
 * reseeded to COMPARE_BOOT_SEED, stream 1: every interval reproducible on
 * its own), and the statistic of each pair of resamples is
 *   stt: median(x) / median(y) of steps to threshold, medians by
 *        compare_quantile_inf (one that falls on an unreached seed is ∞);
 *        ∞ over a finite median is ∞, a finite one over ∞ is 0, and ∞
 *        over ∞ leaves the interval undefined (NaN, NaN);
 *   else: mean(x) − mean(y) of finite values.
 * Percentiles by compare_quantile_inf. NaN bounds when either group has
 * no values. Returns -1 only when out of memory. */
int compare_boot_interval(int stt, const double *x, int nx, const double *y, int ny, rng *r, double *lo,
                          double *hi);

/* A figure of the tables: "–" for NaN, "not reached" for an infinity,
 * whole numbers from 1000 on (33750, not 3.375e+04), else 4 digits. */
void compare_fmt_num(char *b, size_t n, double v);

/* Appends " [lo, hi]", a compare_boot_interval, to the text in b (size
 * n): bounds of a ratio of steps in 3 digits (∞ when the resampled median
 * was "not reached"), or (stt 0) signed differences; nothing when either
 * bound is NaN. */
void compare_append_interval(char *b, size_t n, int stt, double lo, double hi);

/* Writes comparison.md, .csv and .json into out_dir for n groups (labels,
 * config paths, stats; ratios are filled in here). */
int compare_write(const char *out_dir, int n, const char *const *labels, const char *const *configs,
                  compare_stats *st, int n_seeds, bdrl_err *e);

typedef struct {
    int n_configs;
    const char *const *configs;
    int n_seeds;               /* seeds first_seed .. first_seed + n_seeds - 1 */
    int first_seed;            /* 0 or 1: seeds start at 1 */
    char *const *sets;         /* applied to every config, before seed */
    int n_sets;
    const char *out;
    int jobs;                  /* <= 0: cores */
    int truth;                 /* -1: FrozenLake configs only, 0: never, 1: every config */
    FILE *progress;
    volatile sig_atomic_t *stop;
    const char *exe;           /* bdrl binary; NULL: the running one */
    int only;                  /* >= 0: run I alone (config I / n_seeds, seed first_seed + I % n_seeds),
                                  no eval and no tables (a Slurm array task); -1: everything */
    const suite_options *suite; /* the aggregate over environments (NULL: defaults) */
} compare_options;

/* The runs of a comparison without running anything: run i is config
 * i / n_seeds with seed first_seed + i % n_seeds in dir[i], configured for
 * total_steps[i] steps. Every configuration is loaded and checked whole
 * (exp_check); a bad one is an error with *bad_input set. */
typedef struct {
    int n, n_configs, n_seeds;
    char **labels;             /* [n_configs] */
    char (*dir)[4096];         /* [n] */
    int64_t *total_steps;      /* [n] */
} compare_runs;

int compare_plan(const compare_options *o, compare_runs *r, int *bad_input, bdrl_err *e);
void compare_runs_free(compare_runs *r);

/* The whole `bdrl compare`. Returns 0 (and *n_failed runs that failed), or
 * -1 with *bad_input set when the configs or options are wrong or another
 * driver holds the output directory's lock (rundir_lock_output; exit 2). */
int compare_run(const compare_options *o, int *n_failed, int *bad_input, bdrl_err *e);

#endif
