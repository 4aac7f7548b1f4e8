#include "aggregate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

const char *const agg_stat_names[AGG_N_STATS] = {"iqm", "median", "mean", "optimality_gap"};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

size_t agg_size(const agg_table *t)
{
    size_t n = 0;
    for (int k = 0; k < t->n_tasks; k++)
        n += (size_t)t->n_runs[k];
    return n;
}

int agg_check(const agg_table *t, bdrl_err *e)
{
    if (!t || t->n_tasks < 1 || !t->n_runs || !t->x)
        return err_set(e, "score table: no tasks");
    size_t i = 0;
    for (int k = 0; k < t->n_tasks; k++) {
        if (t->n_runs[k] < 1)
            return err_set(e, "score table: task %d has no runs", k + 1);
        for (int r = 0; r < t->n_runs[k]; r++, i++)
            if (!isfinite(t->x[i]))
                return err_set(e, "score table: task %d, run %d: score %g is not a finite number", k + 1, r + 1,
                               t->x[i]);
    }
    return 0;
}

static int check_boot(int reps, double level, bdrl_err *e)
{
    if (reps < 1)
        return err_set(e, "bootstrap: %d resamples (need at least 1)", reps);
    if (!(level > 0 && level < 1))
        return err_set(e, "bootstrap: interval level %g is not between 0 and 1", level);
    return 0;
}

int agg_normalize(const agg_table *t, const double *random, const double *reference, double *out, bdrl_err *e)
{
    if (agg_check(t, e))
        return -1;
    size_t i = 0;
    for (int k = 0; k < t->n_tasks; k++) {
        double lo = random[k], hi = reference[k];
        if (!isfinite(lo) || !isfinite(hi))
            return err_set(e, "normalization: task %d: random score %g and reference score %g must be finite", k + 1,
                           lo, hi);
        if (hi == lo)
            return err_set(e, "normalization: task %d: the reference score equals the random score (%g)", k + 1, lo);
        for (int r = 0; r < t->n_runs[k]; r++, i++)
            out[i] = (t->x[i] - lo) / (hi - lo);
    }
    return 0;
}

/* ---- point estimates on checked tables; work: agg_size or n_tasks values ---- */

static double iqm_u(const agg_table *t, double *work)
{
    size_t n = agg_size(t);
    memcpy(work, t->x, n * sizeof *work);
    qsort(work, n, sizeof *work, cmp_double);
    size_t k = n / 4; /* scipy's int(0.25 * n) */
    double s = 0;
    for (size_t i = k; i < n - k; i++)
        s += work[i];
    return s / (double)(n - 2 * k);
}

/* per-task means of x, or of max(gamma - x, 0) when gap */
static void task_means(const agg_table *t, int gap, double gamma, double *m)
{
    size_t i = 0;
    for (int k = 0; k < t->n_tasks; k++) {
        double s = 0;
        for (int r = 0; r < t->n_runs[k]; r++, i++)
            s += gap ? (t->x[i] < gamma ? gamma - t->x[i] : 0.0) : t->x[i];
        m[k] = s / t->n_runs[k];
    }
}

static double mean_of(const double *m, int n)
{
    double s = 0;
    for (int k = 0; k < n; k++)
        s += m[k];
    return s / n;
}

/* numpy.median of m (sorted in place) */
static double median_of(double *m, int n)
{
    qsort(m, (size_t)n, sizeof *m, cmp_double);
    return n % 2 ? m[n / 2] : (m[n / 2 - 1] + m[n / 2]) / 2;
}

static void estimates_u(const agg_table *t, double gamma, double *work, double *tm, double out[AGG_N_STATS])
{
    out[AGG_IQM] = iqm_u(t, work);
    task_means(t, 0, gamma, tm);
    out[AGG_MEAN] = mean_of(tm, t->n_tasks);
    out[AGG_MEDIAN] = median_of(tm, t->n_tasks);
    task_means(t, 1, gamma, tm);
    out[AGG_OPTGAP] = mean_of(tm, t->n_tasks);
}

int agg_estimates(const agg_table *t, double gamma, double out[AGG_N_STATS], bdrl_err *e)
{
    if (agg_check(t, e))
        return -1;
    if (!isfinite(gamma))
        return err_set(e, "optimality gap: threshold %g is not finite", gamma);
    double *work = err_calloc(agg_size(t), sizeof *work, e), *tm = err_calloc((size_t)t->n_tasks, sizeof *tm, e);
    if (work && tm)
        estimates_u(t, gamma, work, tm, out);
    int rc = work && tm ? 0 : -1;
    free(work);
    free(tm);
    return rc;
}

static int one_stat(const agg_table *t, double gamma, int which, double *out, bdrl_err *e)
{
    double all[AGG_N_STATS];
    if (agg_estimates(t, gamma, all, e))
        return -1;
    *out = all[which];
    return 0;
}

int agg_iqm(const agg_table *t, double *out, bdrl_err *e) { return one_stat(t, AGG_GAMMA, AGG_IQM, out, e); }
int agg_median(const agg_table *t, double *out, bdrl_err *e) { return one_stat(t, AGG_GAMMA, AGG_MEDIAN, out, e); }
int agg_mean(const agg_table *t, double *out, bdrl_err *e) { return one_stat(t, AGG_GAMMA, AGG_MEAN, out, e); }
int agg_optimality_gap(const agg_table *t, double gamma, double *out, bdrl_err *e)
{
    return one_stat(t, gamma, AGG_OPTGAP, out, e);
}

/* ---- stratified bootstrap ---- */

void agg_resample(const agg_table *t, rng *r, double *out)
{
    size_t base = 0;
    for (int k = 0; k < t->n_tasks; k++) {
        unsigned long n = (unsigned long)t->n_runs[k];
        for (unsigned long j = 0; j < n; j++)
            out[base + j] = t->x[base + rng_below(r, n)];
        base += n;
    }
}

/* The percentile interval of v (n values, sorted here). */
static void percentile_interval(double *v, int n, double level, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *lo = stat_quantile_sorted(v, (size_t)n, (1 - level) / 2);
    *hi = stat_quantile_sorted(v, (size_t)n, (1 + level) / 2);
}

/* A vector statistic of a table: k values into out. */
typedef void (*vector_stat)(const agg_table *t, void *ctx, double *out);

/* Percentile intervals of the k components of f over reps stratified
 * resamples of t (checked by the caller). */
static int boot_vector(const agg_table *t, int k, vector_stat f, void *ctx, int reps, double level, rng *r,
                       double *lo, double *hi, bdrl_err *e)
{
    double *buf = err_calloc(agg_size(t), sizeof *buf, e), *s = err_calloc((size_t)k, sizeof *s, e),
           *v = err_calloc((size_t)reps * (size_t)k, sizeof *v, e);
    int rc = buf && s && v ? 0 : -1;
    agg_table rs = {t->n_tasks, t->n_runs, buf};
    for (int b = 0; !rc && b < reps; b++) {
        agg_resample(t, r, buf);
        f(&rs, ctx, s);
        for (int j = 0; j < k; j++)
            v[(size_t)j * (size_t)reps + (size_t)b] = s[j];
    }
    for (int j = 0; !rc && j < k; j++)
        percentile_interval(v + (size_t)j * (size_t)reps, reps, level, &lo[j], &hi[j]);
    free(buf);
    free(s);
    free(v);
    return rc;
}

typedef struct {
    double gamma, *work, *tm;
} estimates_ctx;

static void estimates_fn(const agg_table *t, void *ctx, double *out)
{
    estimates_ctx *c = ctx;
    estimates_u(t, c->gamma, c->work, c->tm, out);
}

int agg_intervals(const agg_table *t, double gamma, int reps, double level, rng *r, double lo[AGG_N_STATS],
                  double hi[AGG_N_STATS], bdrl_err *e)
{
    if (agg_check(t, e) || check_boot(reps, level, e))
        return -1;
    if (!isfinite(gamma))
        return err_set(e, "optimality gap: threshold %g is not finite", gamma);
    estimates_ctx c = {gamma, err_calloc(agg_size(t), sizeof(double), e),
                       err_calloc((size_t)t->n_tasks, sizeof(double), e)};
    int rc = c.work && c.tm ? boot_vector(t, AGG_N_STATS, estimates_fn, &c, reps, level, r, lo, hi, e) : -1;
    free(c.work);
    free(c.tm);
    return rc;
}

/* ---- probability of improvement ---- */

static int check_pair(const agg_table *x, const agg_table *y, bdrl_err *e)
{
    if (agg_check(x, e) || agg_check(y, e))
        return -1;
    if (x->n_tasks != y->n_tasks)
        return err_set(e, "probability of improvement: X has %d tasks and Y %d (they must share their tasks)",
                       x->n_tasks, y->n_tasks);
    return 0;
}

/* Mean over tasks of U / (n m); wx, wy: agg_size of x and y. U is counted
 * in halves (an integer) on sorted copies, two pointers through y. */
static double improvement_u(const agg_table *x, const agg_table *y, double *wx, double *wy)
{
    size_t bx = 0, by = 0;
    double s = 0;
    for (int k = 0; k < x->n_tasks; k++) {
        size_t n = (size_t)x->n_runs[k], m = (size_t)y->n_runs[k];
        memcpy(wx, x->x + bx, n * sizeof *wx);
        memcpy(wy, y->x + by, m * sizeof *wy);
        qsort(wx, n, sizeof *wx, cmp_double);
        qsort(wy, m, sizeof *wy, cmp_double);
        size_t lt = 0, le = 0;
        unsigned long long u2 = 0; /* 2 U */
        for (size_t i = 0; i < n; i++) {
            while (lt < m && wy[lt] < wx[i])
                lt++;
            if (le < lt)
                le = lt;
            while (le < m && wy[le] <= wx[i])
                le++;
            u2 += 2 * lt + (le - lt);
        }
        s += (double)u2 / (2.0 * (double)n * (double)m);
        bx += n;
        by += m;
    }
    return s / x->n_tasks;
}

int agg_improvement(const agg_table *x, const agg_table *y, double *p, bdrl_err *e)
{
    if (check_pair(x, y, e))
        return -1;
    double *wx = err_calloc(agg_size(x), sizeof *wx, e), *wy = err_calloc(agg_size(y), sizeof *wy, e);
    if (wx && wy)
        *p = improvement_u(x, y, wx, wy);
    int rc = wx && wy ? 0 : -1;
    free(wx);
    free(wy);
    return rc;
}

int agg_improvement_interval(const agg_table *x, const agg_table *y, int reps, double level, rng *r, double *lo,
                             double *hi, bdrl_err *e)
{
    if (check_pair(x, y, e) || check_boot(reps, level, e))
        return -1;
    size_t nx = agg_size(x), ny = agg_size(y);
    double *bx = err_calloc(nx, sizeof *bx, e), *by = err_calloc(ny, sizeof *by, e),
           *wx = err_calloc(nx, sizeof *wx, e), *wy = err_calloc(ny, sizeof *wy, e),
           *v = err_calloc((size_t)reps, sizeof *v, e);
    int rc = bx && by && wx && wy && v ? 0 : -1;
    agg_table rx = {x->n_tasks, x->n_runs, bx}, ry = {y->n_tasks, y->n_runs, by};
    for (int b = 0; !rc && b < reps; b++) {
        agg_resample(x, r, bx);
        agg_resample(y, r, by);
        v[b] = improvement_u(&rx, &ry, wx, wy);
    }
    if (!rc)
        percentile_interval(v, reps, level, lo, hi);
    free(bx);
    free(by);
    free(wx);
    free(wy);
    free(v);
    return rc;
}

/* ---- performance profiles ---- */

static int check_tau(const double *tau, int n_tau, bdrl_err *e)
{
    if (n_tau < 1 || !tau)
        return err_set(e, "performance profile: no thresholds");
    for (int i = 0; i < n_tau; i++)
        if (!isfinite(tau[i]))
            return err_set(e, "performance profile: threshold %d is not a finite number", i + 1);
    return 0;
}

static void profile_u(const agg_table *t, const double *tau, int n_tau, double *frac)
{
    for (int j = 0; j < n_tau; j++) {
        size_t i = 0;
        double s = 0;
        for (int k = 0; k < t->n_tasks; k++) {
            int c = 0;
            for (int r = 0; r < t->n_runs[k]; r++, i++)
                c += t->x[i] > tau[j];
            s += (double)c / t->n_runs[k];
        }
        frac[j] = s / t->n_tasks;
    }
}

int agg_profile(const agg_table *t, const double *tau, int n_tau, double *frac, bdrl_err *e)
{
    if (agg_check(t, e) || check_tau(tau, n_tau, e))
        return -1;
    profile_u(t, tau, n_tau, frac);
    return 0;
}

typedef struct {
    const double *tau;
    int n_tau;
} profile_ctx;

static void profile_fn(const agg_table *t, void *ctx, double *out)
{
    const profile_ctx *c = ctx;
    profile_u(t, c->tau, c->n_tau, out);
}

int agg_profile_intervals(const agg_table *t, const double *tau, int n_tau, int reps, double level, rng *r,
                          double *lo, double *hi, bdrl_err *e)
{
    if (agg_check(t, e) || check_tau(tau, n_tau, e) || check_boot(reps, level, e))
        return -1;
    profile_ctx c = {tau, n_tau};
    return boot_vector(t, n_tau, profile_fn, &c, reps, level, r, lo, hi, e);
}
