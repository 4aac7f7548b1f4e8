/* curves.h — learning curves of several groups of runs (configs, sweep
 * settings): each run's eval.csv (step,return_mean,...) is put on a common
 * step grid, and per group the mean over runs and a 95% percentile bootstrap
 * band of that mean (fixed RNG seed: the same files give the same figure) are
 * written to a data file and drawn by plots/curves.gp (evaluation return
 * against environment steps, one line and band per group, the threshold as
 * a dashed line).
 *
 * Common grid: the union of the evaluation steps of every run in a group;
 * between its own evaluations a run is interpolated linearly, and before its
 * first / after its last evaluation it holds that value (a run that stopped
 * early keeps its last value). Runs without eval.csv or with no rows are
 * skipped (and counted); a group with no usable run is an error.
 *
 * Memory: nothing is kept; callers own every array they pass.
 */
#ifndef BDRL_CURVES_H
#define BDRL_CURVES_H

#include <stddef.h>

#include "core/err.h"

/* One run's evaluation curve, read from DIR/eval.csv: steps (n) strictly
 * increasing, the return_mean column (n) and, when present, success_rate (n,
 * NaN where absent). Caller frees the three arrays (free()). */
typedef struct {
    size_t n;
    double *step;
    double *ret;
    double *success;
} curves_run;

int curves_read_eval(const char *run_dir, curves_run *out, bdrl_err *e);

/* Index of column `name` in a CSV header line (the text up to its first
 * newline), or -1: how the run files' readers find their columns. */
int curves_csv_column(const char *header, const char *name);
void curves_run_free(curves_run *r);

/* Mean of value[j] over the evaluations after 3/4 of the curve's span
 * (step[j] > 0.75 x step[n-1]): where a run stands at the end of its budget,
 * less noisy than its final evaluation alone; value[n-1] if there is none
 * (n must be at least 1). `bdrl compare`'s last-quarter column and the
 * aggregate's --score last-quarter. */
double curves_last_quarter(const double *step, const double *value, size_t n);

/* A group's aggregate on its grid: step (n), mean (n), lo/hi (n) the 95%
 * bootstrap interval of the mean over the runs (equal to the mean for one
 * run). Caller frees with curves_agg_free. */
typedef struct {
    size_t n;
    int n_runs;
    double *step, *mean, *lo, *hi;
} curves_agg;

int curves_aggregate(const curves_run *runs, int n_runs, curves_agg *out, bdrl_err *e);
void curves_agg_free(curves_agg *a);

/* Plots n_groups groups: group g is labels[g] with n_runs[g] run directories
 * run_dirs[g][0..n_runs[g]-1]. Writes out_prefix.dat (gnuplot data: one
 * block per group, columns step mean lo hi, blocks separated by two blank
 * lines), out_prefix.gp (the variables and `load` of plots/curves.gp, so
 * `gnuplot out_prefix.gp` redraws it), out_prefix.png and out_prefix.svg.
 * threshold NaN = no threshold line. title may be NULL. */
int curves_plot_dirs(const char *out_prefix, const char *title, int n_groups,
                     const char *const *labels, const int *n_runs,
                     const char *const *const *run_dirs, double threshold, bdrl_err *err);

#endif
