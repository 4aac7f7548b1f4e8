#include "research/curves.h"
#include "train/run.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/plot.h"
#include "core/rng.h"
#include "stats/metrics.h"

#define CURVES_BOOT 2000
#define CURVES_SEED 0x63757276ull /* fixed: the same runs give the same band */

void curves_run_free(curves_run *r)
{
    free(r->step);
    free(r->ret);
    free(r->success);
    memset(r, 0, sizeof *r);
}

double curves_last_quarter(const double *step, const double *value, size_t n)
{
    double from = 0.75 * step[n - 1], sum = 0;
    int k = 0;
    for (size_t j = 0; j < n; j++)
        if (step[j] > from) {
            sum += value[j];
            k++;
        }
    return k ? sum / k : value[n - 1];
}

void curves_agg_free(curves_agg *a)
{
    free(a->step);
    free(a->mean);
    free(a->lo);
    free(a->hi);
    memset(a, 0, sizeof *a);
}

int curves_csv_column(const char *header, const char *name)
{
    size_t nl = strlen(name);
    int idx = 0;
    for (const char *p = header;; idx++) {
        size_t len = strcspn(p, ",\r\n");
        if (len == nl && !strncmp(p, name, nl))
            return idx;
        if (p[len] != ',')
            return -1;
        p += len + 1;
    }
}

int curves_read_eval(const char *run_dir, curves_run *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    char path[4096];
    if (io_join(path, sizeof path, run_dir, RUN_FILE_EVAL, e))
        return -1;
    char *text = io_read_file(path, NULL, e);
    if (!text)
        return -1;
    int c_step = curves_csv_column(text, "step"), c_ret = curves_csv_column(text, "return_mean"),
        c_succ = curves_csv_column(text, "success_rate");
    if (c_step < 0 || c_ret < 0) {
        free(text);
        return err_set(e, "%s: no step and return_mean columns in the header", path);
    }
    size_t cap = 0, n = 0, line_no = 1;
    int rc = 0;
    char *p = strchr(text, '\n');
    while (p && *++p) {
        line_no++;
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        if (strspn(p, " \r\t") == strlen(p)) {
            p = eol;
            continue;
        }
        double v[3] = {NAN, NAN, NAN};
        int col = 0;
        for (char *q = p;; col++) {
            char *end;
            double x = strtod(q, &end);
            int which = col == c_step ? 0 : col == c_ret ? 1 : col == c_succ ? 2 : -1;
            if (which >= 0)
                v[which] = end == q ? NAN : x;
            q += strcspn(q, ",");
            if (*q != ',')
                break;
            q++;
        }
        if (!isfinite(v[0]) || (n > 0 && !(v[0] > out->step[n - 1]))) {
            rc = err_set(e, "%s:%zu: bad or non-increasing step", path, line_no);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            double *a = realloc(out->step, cap * sizeof *a);
            if (a)
                out->step = a;
            double *b = a ? realloc(out->ret, cap * sizeof *b) : NULL;
            if (b)
                out->ret = b;
            double *c = b ? realloc(out->success, cap * sizeof *c) : NULL;
            if (c)
                out->success = c;
            if (!c) {
                rc = err_set(e, "out of memory");
                break;
            }
        }
        out->step[n] = v[0];
        out->ret[n] = v[1];
        out->success[n] = v[2];
        n++;
        p = eol;
    }
    free(text);
    out->n = n;
    if (rc)
        curves_run_free(out);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The run's value at step s: linear between evaluations, held outside. */
static double value_at(const curves_run *r, double s)
{
    if (s <= r->step[0])
        return r->ret[0];
    if (s >= r->step[r->n - 1])
        return r->ret[r->n - 1];
    size_t lo = 0, hi = r->n - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (r->step[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    double t = (s - r->step[lo]) / (r->step[hi] - r->step[lo]);
    return r->ret[lo] + t * (r->ret[hi] - r->ret[lo]);
}

int curves_aggregate(const curves_run *runs, int n_runs, curves_agg *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    size_t total = 0;
    for (int i = 0; i < n_runs; i++)
        total += runs[i].n;
    if (n_runs < 1 || total == 0)
        return err_set(e, "no evaluation points to aggregate");
    double *all = malloc(total * sizeof *all), *vals = malloc((size_t)n_runs * sizeof *vals);
    if (!all || !vals) {
        free(all);
        free(vals);
        return err_set(e, "out of memory");
    }
    size_t k = 0;
    for (int i = 0; i < n_runs; i++)
        for (size_t j = 0; j < runs[i].n; j++)
            all[k++] = runs[i].step[j];
    qsort(all, total, sizeof *all, cmp_double);
    size_t m = 0;
    for (size_t j = 0; j < total; j++)
        if (m == 0 || all[j] != all[m - 1])
            all[m++] = all[j];
    out->n = m;
    out->n_runs = n_runs;
    out->step = all;
    out->mean = malloc(m * sizeof(double));
    out->lo = malloc(m * sizeof(double));
    out->hi = malloc(m * sizeof(double));
    rng *r = rng_create(CURVES_SEED, 0);
    int rc = 0;
    if (!out->mean || !out->lo || !out->hi || !r)
        rc = err_set(e, "out of memory");
    for (size_t j = 0; !rc && j < m; j++) {
        int nv = 0;
        for (int i = 0; i < n_runs; i++)
            if (runs[i].n)
                vals[nv++] = value_at(&runs[i], all[j]);
        out->mean[j] = stat_mean(vals, (size_t)nv);
        if (nv == 1 || !isfinite(out->mean[j])) {
            out->lo[j] = out->hi[j] = out->mean[j];
        } else {
            rng_reseed(r, CURVES_SEED, (uint64_t)j); /* each point's band independent of the grid's length */
            rc = stat_bootstrap_mean_ci(vals, (size_t)nv, CURVES_BOOT, 0.95, r, &out->lo[j], &out->hi[j], e);
        }
    }
    if (r)
        rng_free(r);
    free(vals);
    if (rc)
        curves_agg_free(out);
    return rc;
}

int curves_plot_dirs(const char *out_prefix, const char *title, int n_groups, const char *const *labels,
                     const int *n_runs, const char *const *const *run_dirs, double threshold, bdrl_err *err)
{
    if (n_groups < 1)
        return err_set(err, "curves: no groups to plot");
    char dat[PATH_MAX], gp[PATH_MAX], png[PATH_MAX], script[PATH_MAX];
    if (snprintf(dat, sizeof dat, "%s.dat", out_prefix) >= (int)sizeof dat ||
        snprintf(gp, sizeof gp, "%s.gp", out_prefix) >= (int)sizeof gp ||
        snprintf(png, sizeof png, "%s.png", out_prefix) >= (int)sizeof png)
        return err_set(err, "curves: output path too long");
    if (plot_find_script("curves.gp", script, sizeof script, err))
        return -1;
    io_atomic a;
    if (io_atomic_open(&a, dat, err))
        return -1;
    fprintf(a.f, "# learning curves: evaluation return against environment steps; per group the mean\n"
                 "# over runs and a 95%% percentile bootstrap interval of that mean (%d resamples)\n",
            CURVES_BOOT);
    for (int g = 0; g < n_groups; g++) {
        curves_run *runs = calloc((size_t)(n_runs[g] > 0 ? n_runs[g] : 1), sizeof *runs);
        if (!runs) {
            io_atomic_abort(&a);
            return err_set(err, "out of memory");
        }
        int used = 0;
        for (int i = 0; i < n_runs[g]; i++) {
            bdrl_err e2;
            if (curves_read_eval(run_dirs[g][i], &runs[used], &e2) == 0 && runs[used].n > 0)
                used++;
            else
                curves_run_free(&runs[used]);
        }
        curves_agg ag;
        int rc = used ? curves_aggregate(runs, used, &ag, err)
                      : err_set(err, "curves: group '%s' has no run with evaluations", labels[g]);
        for (int i = 0; i < used; i++)
            curves_run_free(&runs[i]);
        free(runs);
        if (rc) {
            io_atomic_abort(&a);
            return -1;
        }
        fprintf(a.f, "%s# group %d: %s (%d of %d runs)\n# step mean lo hi\n", g ? "\n\n" : "", g + 1, labels[g],
                used, n_runs[g]);
        for (size_t j = 0; j < ag.n; j++)
            fprintf(a.f, "%.17g %.17g %.17g %.17g\n", ag.step[j], ag.mean[j], ag.lo[j], ag.hi[j]);
        curves_agg_free(&ag);
    }
    if (io_atomic_commit(&a, err))
        return -1;

    if (io_atomic_open(&a, gp, err))
        return -1;
    fprintf(a.f, "# Learning curves written by bdrl (data: %s). Redraw with: gnuplot %s\n", dat, gp);
    fprintf(a.f, "ngroups = %d\narray labels[%d]\n", n_groups, n_groups);
    for (int g = 0; g < n_groups; g++) {
        fprintf(a.f, "labels[%d] = ", g + 1);
        plot_write_quoted(a.f, labels[g]);
        fputc('\n', a.f);
    }
    if (isfinite(threshold))
        fprintf(a.f, "has_thr = 1\nthr = %.17g\n", threshold);
    else
        fprintf(a.f, "has_thr = 0\nthr = 0\n");
    plot_write_redraw(a.f, dat, out_prefix, png, title, script);
    if (io_atomic_commit(&a, err))
        return -1;
    return plot_gnuplot("curves.gp", out_prefix, png, title ? title : "", err);
}
