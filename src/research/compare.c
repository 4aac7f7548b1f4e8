#include "research/compare.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/check.h"
#include "train/run.h"
#include "agents/experiment.h"
#include "core/io.h"
#include "core/json.h"
#include "core/rng.h"
#include "research/curves.h"
#include "research/pool.h"
#include "research/rundir.h"
#include "stats/metrics.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double compare_quantile_inf(const double *s, int n, double q)
{
    if (n <= 0)
        return NAN;
    double h = (double)(n - 1) * q;
    int i = (int)floor(h);
    double g = h - i;
    if (i >= n - 1)
        return s[n - 1];
    if (g == 0)
        return s[i];
    if (isinf(s[i + 1]) || isinf(s[i]))
        return INFINITY;
    return stat_quantile_sorted(s, (size_t)n, q);
}

void compare_stt_quartiles(double *v, int n, double *median, double *q25, double *q75)
{
    if (n <= 0) {
        *median = *q25 = *q75 = NAN;
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *median = compare_quantile_inf(v, n, 0.5);
    *q25 = compare_quantile_inf(v, n, 0.25);
    *q75 = compare_quantile_inf(v, n, 0.75);
}

/* The statistic of one resample of n values (sorted in place): the median
 * with compare's rule for infinities, or the mean. */
static double resample_stat(int stt, const double *x, int n, rng *r, double *buf)
{
    for (int i = 0; i < n; i++)
        buf[i] = x[rng_below(r, (unsigned long)n)];
    if (!stt)
        return stat_mean(buf, (size_t)n);
    qsort(buf, (size_t)n, sizeof *buf, cmp_double);
    return compare_quantile_inf(buf, n, 0.5);
}

int compare_boot_interval(int stt, const double *x, int nx, const double *y, int ny, rng *r, double *lo,
                          double *hi)
{
    *lo = *hi = NAN;
    if (nx <= 0 || ny <= 0)
        return 0;
    double *buf = malloc((size_t)(nx > ny ? nx : ny) * sizeof *buf);
    double *d = malloc((size_t)COMPARE_BOOT * sizeof *d);
    if (!buf || !d) {
        free(buf);
        free(d);
        return -1;
    }
    rng_reseed(r, COMPARE_BOOT_SEED, 1);
    int defined = 1;
    for (int k = 0; k < COMPARE_BOOT && defined; k++) {
        double sx = resample_stat(stt, x, nx, r, buf), sy = resample_stat(stt, y, ny, r, buf);
        if (!stt)
            d[k] = sx - sy;
        else if (isinf(sx) && isinf(sy))
            defined = 0; /* "not reached" / "not reached": no ratio */
        else
            d[k] = isinf(sy) ? 0 : isinf(sx) ? INFINITY : sx / sy;
    }
    if (defined) {
        qsort(d, COMPARE_BOOT, sizeof *d, cmp_double);
        *lo = compare_quantile_inf(d, COMPARE_BOOT, 0.025);
        *hi = compare_quantile_inf(d, COMPARE_BOOT, 0.975);
    }
    free(buf);
    free(d);
    return 0;
}

static void ci_of(const double *x, int n, rng *r, compare_ci *out)
{
    out->n = n;
    out->mean = out->lo = out->hi = NAN;
    if (n <= 0)
        return;
    out->mean = stat_mean(x, (size_t)n);
    rng_reseed(r, COMPARE_BOOT_SEED, 0); /* every interval reproducible on its own */
    if (stat_bootstrap_mean_ci(x, (size_t)n, COMPARE_BOOT, 0.95, r, &out->lo, &out->hi, NULL))
        out->lo = out->hi = NAN;
}

/* Mean of metrics.csv's q_mean column over the episodes that end after
 * 95% of last_step (episodes without updates, q_mean nan, are skipped);
 * NaN when there is none or the file is unreadable. */
static double late_q_mean(const char *dir, double last_step)
{
    char p[4096];
    char *txt = io_join(p, sizeof p, dir, RUN_FILE_METRICS, NULL) ? NULL : io_read_file(p, NULL, NULL);
    if (!txt)
        return NAN;
    char *nl = strchr(txt, '\n');
    int col = curves_csv_column(txt, "q_mean");
    char *line;
    double sum = 0, from = 0.95 * last_step;
    int m = 0;
    for (line = nl ? nl + 1 : NULL; col >= 0 && line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        double step = strtod(line, NULL), q = NAN;
        const char *c = line;
        for (int j = 0; j < col && c; j++) {
            c = strchr(c, ',');
            c = c ? c + 1 : NULL;
        }
        if (c)
            q = strtod(c, NULL);
        if (step > from && isfinite(q)) {
            sum += q;
            m++;
        }
    }
    free(txt);
    return m ? sum / m : NAN;
}

void compare_stats_free(compare_stats *s)
{
    free(s->stt_runs);
    s->stt_runs = NULL;
}

int compare_summarize(const char *const *dirs, int n, int with_w1, compare_stats *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    out->n_runs = n;
    out->threshold = out->stt_median = out->stt_q25 = out->stt_q75 = out->stt_iqr = NAN;
    out->wall_mean = out->sps_mean = out->stt_ratio = out->stt_ratio_lo = out->stt_ratio_hi = NAN;
    out->q_end_mean = out->q_end_max = NAN;
    size_t m = (size_t)(n > 0 ? n : 1);
    double *fin = calloc(m, sizeof *fin), *best = calloc(m, sizeof *best), *auc = calloc(m, sizeof *auc),
           *succ = calloc(m, sizeof *succ), *w1 = calloc(m, sizeof *w1), *stt = calloc(m, sizeof *stt),
           *wall = calloc(m, sizeof *wall), *sps = calloc(m, sizeof *sps), *lq = calloc(m, sizeof *lq),
           *qe = calloc(m, sizeof *qe);
    rng *r = rng_create(COMPARE_BOOT_SEED, 0);
    int rc = 0;
    if (!fin || !best || !auc || !succ || !w1 || !stt || !wall || !sps || !lq || !qe || !r) {
        rc = err_set(e, "out of memory");
        goto done;
    }
    int nd = 0, ns = 0, nw = 0, na = 0;
    for (int i = 0; i < n; i++) {
        rundir_summary s;
        if (rundir_read_summary(dirs[i], &s, NULL) || !rundir_done(&s, -1))
            continue;
        out->n_solved += !strcmp(s.status, "solved");
        curves_run c;
        bdrl_err e2;
        if (curves_read_eval(dirs[i], &c, &e2) || c.n == 0) {
            if (c.n == 0)
                curves_run_free(&c);
            continue;
        }
        if (nd == 0) {
            snprintf(out->agent, sizeof out->agent, "%s", s.agent);
            snprintf(out->env, sizeof out->env, "%s", s.env);
            snprintf(out->threshold_on, sizeof out->threshold_on, "%s", s.threshold_on);
            out->threshold = s.threshold;
        }
        int on_success = !strcmp(s.threshold_on, "success_rate");
        double step;
        if (isnan(s.threshold)) { /* none (a plugin without eval.threshold): nothing to reach */
            stt[nd] = NAN;
        } else if (stat_steps_to_threshold(c.step, on_success ? c.success : c.ret, c.n, s.threshold, &step)) {
            stt[nd] = step;
            out->stt_reached++;
        } else {
            stt[nd] = INFINITY;
        }
        fin[nd] = c.ret[c.n - 1];
        lq[nd] = curves_last_quarter(c.step, c.ret, c.n);
        double q = late_q_mean(dirs[i], c.step[c.n - 1]);
        if (isfinite(q))
            qe[out->q_end_n++] = q;
        best[nd] = c.ret[0];
        for (size_t j = 1; j < c.n; j++)
            if (c.ret[j] > best[nd])
                best[nd] = c.ret[j];
        double a;
        if (c.n == 1)
            auc[na++] = c.ret[0];
        else if (stat_auc(c.step, c.ret, c.n, &a, NULL) == 0)
            auc[na++] = a / (c.step[c.n - 1] - c.step[0]);
        if (isfinite(s.final_success_rate))
            succ[ns++] = s.final_success_rate;
        wall[nd] = s.wall_seconds;
        sps[nd] = s.sps;
        curves_run_free(&c);
        if (with_w1) {
            char p[4096];
            double v;
            char *js = io_join(p, sizeof p, dirs[i], "distributions.json", NULL) ? NULL
                                                                                    : io_read_file(p, NULL, NULL);
            if (js && rundir_json_num(js, "mean_w1", &v) && isfinite(v))
                w1[nw++] = v;
            free(js);
        }
        nd++;
    }
    out->n_done = nd;
    ci_of(fin, nd, r, &out->final_return);
    ci_of(lq, nd, r, &out->last_quarter);
    if (out->q_end_n > 0) {
        out->q_end_mean = stat_mean(qe, (size_t)out->q_end_n);
        out->q_end_max = qe[0];
        for (int k = 1; k < out->q_end_n; k++)
            out->q_end_max = qe[k] > out->q_end_max ? qe[k] : out->q_end_max;
    }
    ci_of(best, nd, r, &out->best_return);
    ci_of(auc, na, r, &out->auc);
    ci_of(succ, ns, r, &out->success);
    ci_of(w1, nw, r, &out->w1);
    if (nd > 0) {
        out->wall_mean = stat_mean(wall, (size_t)nd);
        out->sps_mean = stat_mean(sps, (size_t)nd);
    }
    if (nd > 0 && !isnan(out->threshold)) {
        compare_stt_quartiles(stt, nd, &out->stt_median, &out->stt_q25, &out->stt_q75);
        out->stt_iqr = isinf(out->stt_q75) ? INFINITY : out->stt_q75 - out->stt_q25;
        out->stt_runs = stt; /* sorted now; the ratio intervals resample them */
        stt = NULL;
    }
done:
    free(fin);
    free(best);
    free(auc);
    free(succ);
    free(w1);
    free(stt);
    free(wall);
    free(sps);
    free(lq);
    free(qe);
    if (r)
        rng_free(r);
    return rc;
}

/* ---------------- output ---------------- */

/* Four significant digits, but large values whole (33750, not 3.375e+04):
 * step counts and wall times read better that way. */
static void fmt_plain(char *b, size_t n, double v)
{
    if (fabs(v) >= 1000 && fabs(v) < 1e12)
        snprintf(b, n, "%.0f", v);
    else
        snprintf(b, n, "%.4g", v);
}

void compare_fmt_num(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, "–");
    else if (isinf(v))
        snprintf(b, n, "not reached");
    else
        fmt_plain(b, n, v);
}

/* A bound of an interval: a ratio of steps in 3 digits (∞ when the
 * resampled median was "not reached"), or (stt 0) a signed difference. */
static void fmt_bound(char *b, size_t n, int stt, double v)
{
    if (isinf(v))
        snprintf(b, n, "∞");
    else
        snprintf(b, n, stt ? "%.3g" : "%+.3g", v);
}

void compare_append_interval(char *b, size_t n, int stt, double lo, double hi)
{
    if (isnan(lo) || isnan(hi))
        return;
    size_t k = strlen(b);
    char a[32], z[32];
    fmt_bound(a, sizeof a, stt, lo);
    fmt_bound(z, sizeof z, stt, hi);
    snprintf(b + k, k < n ? n - k : 0, " [%s, %s]", a, z);
}

static void fmt_ci(char *b, size_t n, const compare_ci *c)
{
    if (c->n == 0 || isnan(c->mean))
        snprintf(b, n, "–");
    else {
        char m[24], lo[24], hi[24];
        fmt_plain(m, sizeof m, c->mean);
        fmt_plain(lo, sizeof lo, c->lo);
        fmt_plain(hi, sizeof hi, c->hi);
        snprintf(b, n, "%s [%s, %s]", m, lo, hi);
    }
}

static void csv_num(FILE *f, double v)
{
    if (isnan(v))
        fputs(",", f);
    else if (isinf(v))
        fputs(",inf", f);
    else
        fprintf(f, ",%.10g", v);
}

static void json_ci(json_writer *w, const char *key, const compare_ci *c)
{
    json_key(w, key);
    json_object_begin(w);
    json_kv_int(w, "n", c->n);
    json_kv_num(w, "mean", c->mean);
    json_kv_num(w, "ci95_lo", c->lo);
    json_kv_num(w, "ci95_hi", c->hi);
    json_object_end(w);
}

/* JSON has no infinity: "not reached" is a string there. */
static void json_stt(json_writer *w, const char *key, double v)
{
    if (isinf(v))
        json_kv_str(w, key, "not reached");
    else
        json_kv_num(w, key, v);
}

/* Whether the environment a run summary names always has a transition
 * table: exact laws make W1 to the truth worth reporting by default (a
 * plugin may have one: --truth asks for it). */
static int env_name_has_table(const char *name)
{
    const env_kind_info *in = env_kind_describe(env_kind_by_name(name));
    return in && in->table == 1;
}

int compare_write(const char *out_dir, int n, const char *const *labels, const char *const *configs,
                  compare_stats *st, int n_seeds, bdrl_err *e)
{
    rng *r = rng_create(COMPARE_BOOT_SEED, 1);
    if (!r)
        return err_set(e, "out of memory");
    for (int g = 0; g < n; g++) {
        double a = st[0].stt_median, b = st[g].stt_median;
        st[g].stt_ratio = isfinite(a) && isfinite(b) && b > 0 ? a / b : NAN;
        st[g].stt_ratio_lo = st[g].stt_ratio_hi = NAN;
        if (g > 0 && !isnan(st[g].stt_ratio) && st[0].stt_runs && st[g].stt_runs &&
            compare_boot_interval(1, st[0].stt_runs, st[0].n_done, st[g].stt_runs, st[g].n_done, r,
                                  &st[g].stt_ratio_lo, &st[g].stt_ratio_hi)) {
            rng_free(r);
            return err_set(e, "out of memory");
        }
    }
    rng_free(r);
    int fl = 0;
    for (int g = 0; g < n; g++)
        fl |= env_name_has_table(st[g].env) || st[g].w1.n > 0;
    char path[4096];
    io_atomic a;

    /* comparison.md */
    if (io_join(path, sizeof path, out_dir, "comparison.md", e) || io_atomic_open(&a, path, e))
        return -1;
    FILE *f = a.f;
    fprintf(f, "# Comparison over %d seeds\n\n", n_seeds);
    int solved = 0;
    for (int g = 0; g < n; g++) {
        fprintf(f, "- **%s**: `%s` (%s on %s), %d of %d runs finished", labels[g], configs[g],
                st[g].agent[0] ? st[g].agent : "?", st[g].env[0] ? st[g].env : "?", st[g].n_done,
                st[g].n_runs);
        if (st[g].n_solved)
            fprintf(f, " (%d of them ended at the threshold)", st[g].n_solved);
        fprintf(f, "\n");
        solved += st[g].n_solved;
    }
    if (solved)
        fprintf(f, "\nRuns with eval.stop_at_threshold end at their first evaluation at the threshold: their\n"
                   "final and best returns are that evaluation's, and the curves hold it from there on, so\n"
                   "the curves show how fast the seeds get there, not whether they stay.\n");
    if (isnan(st[0].threshold))
        fprintf(f, "\nSteps to threshold: none (–): eval.threshold is not set, and %s has no default threshold.",
                st[0].env[0] ? st[0].env : "this environment");
    else
        fprintf(f, "\nSteps to threshold: first evaluation at which the %s reaches %g; a seed that never\n"
                   "reaches it counts as infinitely many steps (\"not reached\").",
                st[0].threshold_on[0] ? st[0].threshold_on : "evaluation", st[0].threshold);
    fprintf(f, " Intervals: 95%% percentile\n"
               "bootstrap of the mean over seeds. AUC: area under the evaluation-return curve divided\n"
               "by its span of steps (the curve's mean level). Last quarter: each run's mean evaluation\n"
               "return after 3/4 of its steps. Q at end: each run's replay batches' mean Q over its\n"
               "episodes in the last 5%% of its steps (metrics.csv), mean [largest] over the runs.\n"
               "Ratio: median steps to threshold of %s / of this config (< 1: %s needs fewer steps),\n"
               "with a 95%% percentile bootstrap interval (each config's seeds resampled on their own; an\n"
               "interval that excludes 1 separates the two).\n\n",
            labels[0], labels[0]);
    fprintf(f, "| config | steps to threshold: median | IQR [q25, q75] | reached | final return | best return "
               "| AUC | last quarter | Q at end | wall s | steps/s |%s ratio |\n",
            fl ? " success rate | mean W1 to truth |" : "");
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |%s ---: |\n",
            fl ? " ---: | ---: |" : "");
    for (int g = 0; g < n; g++) {
        const compare_stats *s = &st[g];
        char med[64], iqr[64], q25[64], q75[64], fin[96], best[96], auc[96], wall[64], sps[64], succ[96],
            w1[96], ratio[160], lq[96], qm[64], qx[64], qend[160];
        compare_fmt_num(med, sizeof med, s->stt_median);
        if (isinf(s->stt_iqr))
            snprintf(iqr, sizeof iqr, "∞");
        else
            compare_fmt_num(iqr, sizeof iqr, s->stt_iqr);
        compare_fmt_num(q25, sizeof q25, s->stt_q25);
        compare_fmt_num(q75, sizeof q75, s->stt_q75);
        fmt_ci(fin, sizeof fin, &s->final_return);
        fmt_ci(best, sizeof best, &s->best_return);
        fmt_ci(auc, sizeof auc, &s->auc);
        fmt_ci(lq, sizeof lq, &s->last_quarter);
        compare_fmt_num(qm, sizeof qm, s->q_end_mean);
        compare_fmt_num(qx, sizeof qx, s->q_end_max);
        if (s->q_end_n)
            snprintf(qend, sizeof qend, "%s [%s]", qm, qx);
        else
            snprintf(qend, sizeof qend, "–");
        compare_fmt_num(wall, sizeof wall, s->wall_mean);
        compare_fmt_num(sps, sizeof sps, s->sps_mean);
        fmt_ci(succ, sizeof succ, &s->success);
        fmt_ci(w1, sizeof w1, &s->w1);
        compare_fmt_num(ratio, sizeof ratio, g == 0 ? NAN : s->stt_ratio);
        compare_append_interval(ratio, sizeof ratio, 1, s->stt_ratio_lo, s->stt_ratio_hi);
        char reached[64] = "–";
        if (!isnan(s->threshold))
            snprintf(reached, sizeof reached, "%d/%d", s->stt_reached, s->n_done);
        fprintf(f, "| %s | %s | %s [%s, %s] | %s | %s | %s | %s | %s | %s | %s | %s |", labels[g], med, iqr, q25,
                q75, reached, fin, best, auc, lq, qend, wall, sps);
        if (fl)
            fprintf(f, " %s | %s |", succ, w1);
        fprintf(f, " %s |\n", g == 0 ? "1" : ratio);
    }
    fprintf(f, "\n![learning curves: evaluation return against environment steps](curves.png)\n");
    if (io_atomic_commit(&a, e))
        return -1;

    /* comparison.csv */
    if (io_join(path, sizeof path, out_dir, "comparison.csv", e) || io_atomic_open(&a, path, e))
        return -1;
    f = a.f;
    fprintf(f, "config,path,agent,env,runs,finished,threshold_on,threshold,stt_reached,stt_median,stt_q25,stt_q75,"
               "stt_iqr,final_return_mean,final_return_lo,final_return_hi,best_return_mean,best_return_lo,"
               "best_return_hi,auc_mean,auc_lo,auc_hi,wall_seconds_mean,sps_mean,success_rate_mean,"
               "success_rate_lo,success_rate_hi,w1_mean,w1_lo,w1_hi,stt_ratio_first_over_this,last_quarter_mean,"
               "last_quarter_lo,last_quarter_hi,q_end_mean,q_end_max,stt_ratio_lo,stt_ratio_hi\n");
    for (int g = 0; g < n; g++) {
        const compare_stats *s = &st[g];
        fprintf(f, "%s,%s,%s,%s,%d,%d,%s", labels[g], configs[g], s->agent, s->env, s->n_runs, s->n_done,
                s->threshold_on);
        csv_num(f, s->threshold);
        fprintf(f, ",%d", s->stt_reached);
        double v[] = {s->stt_median, s->stt_q25, s->stt_q75, s->stt_iqr, s->final_return.mean, s->final_return.lo,
                      s->final_return.hi, s->best_return.mean, s->best_return.lo, s->best_return.hi, s->auc.mean,
                      s->auc.lo, s->auc.hi, s->wall_mean, s->sps_mean, s->success.mean, s->success.lo,
                      s->success.hi, s->w1.mean, s->w1.lo, s->w1.hi, s->stt_ratio, s->last_quarter.mean,
                      s->last_quarter.lo, s->last_quarter.hi, s->q_end_mean, s->q_end_max, s->stt_ratio_lo,
                      s->stt_ratio_hi};
        for (size_t k = 0; k < sizeof v / sizeof *v; k++)
            csv_num(f, v[k]);
        fputc('\n', f);
    }
    if (io_atomic_commit(&a, e))
        return -1;

    /* comparison.json */
    if (io_join(path, sizeof path, out_dir, "comparison.json", e) || io_atomic_open(&a, path, e))
        return -1;
    json_writer w;
    json_init(&w, a.f);
    json_object_begin(&w);
    json_kv_int(&w, "seeds", n_seeds);
    json_kv_int(&w, "bootstrap_resamples", COMPARE_BOOT);
    json_key(&w, "configs");
    json_array_begin(&w);
    for (int g = 0; g < n; g++) {
        const compare_stats *s = &st[g];
        json_object_begin(&w);
        json_kv_str(&w, "config", labels[g]);
        json_kv_str(&w, "path", configs[g]);
        json_kv_str(&w, "agent", s->agent);
        json_kv_str(&w, "env", s->env);
        json_kv_int(&w, "runs", s->n_runs);
        json_kv_int(&w, "finished", s->n_done);
        json_kv_str(&w, "threshold_on", s->threshold_on);
        json_kv_num(&w, "threshold", s->threshold);
        json_key(&w, "steps_to_threshold");
        json_object_begin(&w);
        json_kv_int(&w, "reached", s->stt_reached);
        json_stt(&w, "median", s->stt_median);
        json_stt(&w, "q25", s->stt_q25);
        json_stt(&w, "q75", s->stt_q75);
        json_stt(&w, "iqr", s->stt_iqr);
        json_kv_num(&w, "ratio_first_over_this", s->stt_ratio);
        json_kv_num(&w, "ratio_lo", s->stt_ratio_lo);
        json_kv_num(&w, "ratio_hi", s->stt_ratio_hi);
        json_object_end(&w);
        json_ci(&w, "final_eval_return", &s->final_return);
        json_ci(&w, "best_eval_return", &s->best_return);
        json_ci(&w, "auc", &s->auc);
        json_ci(&w, "last_quarter_return", &s->last_quarter);
        json_kv_num(&w, "q_end_mean", s->q_end_mean);
        json_kv_num(&w, "q_end_max", s->q_end_max);
        json_ci(&w, "final_success_rate", &s->success);
        json_ci(&w, "mean_w1", &s->w1);
        json_kv_num(&w, "wall_seconds_mean", s->wall_mean);
        json_kv_num(&w, "sps_mean", s->sps_mean);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);
    fputc('\n', a.f);
    return io_atomic_commit(&a, e);
}

/* ---------------- running ---------------- */

static void stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(out, n, "%s", b);
    char *dot = strrchr(out, '.');
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        *dot = '\0';
}

typedef struct {
    char dir[4096], log[4096], name[300];
    pool_argv argv;
    int group;
} run_slot;

/* Config stems, made unique (a_2, a_3 for a second and third a). */
static int make_labels(const compare_options *o, char **labels, bdrl_err *e)
{
    for (int g = 0; g < o->n_configs; g++) {
        char st0[256], lab[300];
        stem(o->configs[g], st0, sizeof st0);
        snprintf(lab, sizeof lab, "%s", st0);
        for (int k = 2;; k++) {
            int clash = 0;
            for (int h = 0; h < g; h++)
                clash |= !strcmp(labels[h], lab);
            if (!clash)
                break;
            snprintf(lab, sizeof lab, "%s_%d", st0, k);
        }
        if (!(labels[g] = strdup(lab)))
            return err_set(e, "out of memory");
    }
    return 0;
}

void compare_runs_free(compare_runs *r)
{
    for (int g = 0; r->labels && g < r->n_configs; g++)
        free(r->labels[g]);
    free(r->labels);
    free(r->dir);
    free(r->total_steps);
    memset(r, 0, sizeof *r);
}

int compare_plan(const compare_options *o, compare_runs *r, int *bad_input, bdrl_err *e)
{
    memset(r, 0, sizeof *r);
    *bad_input = 0;
    int G = o->n_configs, S = o->n_seeds, R = G * S, first = o->first_seed > 0 ? o->first_seed : 1;
    if (G < 1 || S < 1) {
        *bad_input = 1;
        return err_set(e, "compare: need at least one config and one seed");
    }
    r->n = R;
    r->n_configs = G;
    r->n_seeds = S;
    r->labels = calloc((size_t)G, sizeof *r->labels);
    r->dir = calloc((size_t)R, sizeof *r->dir);
    r->total_steps = calloc((size_t)R, sizeof *r->total_steps);
    exp_config *cfg = malloc(sizeof *cfg);
    char **sets = calloc((size_t)o->n_sets + 1, sizeof *sets);
    char seedset[64], runs_dir[4096];
    int rc = -1;
    if (!r->labels || !r->dir || !r->total_steps || !cfg || !sets) {
        err_set(e, "out of memory");
        goto done;
    }
    if (make_labels(o, r->labels, e) || io_join(runs_dir, sizeof runs_dir, o->out, "runs", e))
        goto done;
    for (int i = 0; i < o->n_sets; i++)
        sets[i] = o->sets[i];
    sets[o->n_sets] = seedset;
    for (int g = 0; g < G; g++)
        for (int k = 0; k < S; k++) {
            char name[320];
            snprintf(seedset, sizeof seedset, "seed=%d", first + k);
            if (exp_load(cfg, o->configs[g], sets, o->n_sets + 1, e) || exp_check(cfg, e)) {
                *bad_input = 1;
                goto done;
            }
            r->total_steps[g * S + k] = cfg->train.total_steps;
            snprintf(name, sizeof name, "%s_s%d", r->labels[g], first + k);
            if (io_join(r->dir[g * S + k], sizeof r->dir[0], runs_dir, name, e))
                goto done;
        }
    rc = 0;
done:
    free(cfg);
    free(sets);
    if (rc)
        compare_runs_free(r);
    return rc;
}

/* Over several environments, the aggregate of research/suite.h beside the
 * table; when the runs do not make a suite (an agent missing an
 * environment...) a warning says why. */
static void write_suite(const compare_options *o, const run_slot *runs, int n)
{
    const char **dirs = calloc((size_t)n, sizeof *dirs);
    for (int i = 0; dirs && i < n; i++)
        dirs[i] = runs[i].dir;
    int bad;
    bdrl_err e;
    if (dirs && suite_n_envs(dirs, n) >= 2 && suite_write(o->out, dirs, n, o->suite, &bad, &e) && o->progress)
        fprintf(o->progress, "compare: warning: no aggregate over environments: %s\n", e.msg);
    free(dirs);
}

int compare_run(const compare_options *o, int *n_failed, int *bad_input, bdrl_err *e)
{
    *bad_input = 0;
    *n_failed = 0;
    int G = o->n_configs, S = o->n_seeds, R = G * S, first = o->first_seed > 0 ? o->first_seed : 1;
    if (G < 1 || S < 1) {
        *bad_input = 1;
        return err_set(e, "compare: need at least one config and one seed");
    }
    char **labels = calloc((size_t)G, sizeof *labels);
    run_slot *runs = calloc((size_t)R, sizeof *runs);
    pool_job *jobs = calloc((size_t)R, sizeof *jobs);
    int *job_run = calloc((size_t)R, sizeof *job_run);
    compare_stats *st = calloc((size_t)G, sizeof *st);
    exp_config *cfg = malloc(sizeof *cfg);
    char **sets = calloc((size_t)o->n_sets + 1, sizeof *sets);
    char seedset[64];
    int rc = -1, nj = 0, failed = 0, fl_any = 0, out_lock = -1;
    double threshold = NAN;
    if (!labels || !runs || !jobs || !job_run || !st || !cfg || !sets) {
        err_set(e, "out of memory");
        goto done;
    }
    for (int i = 0; i < o->n_sets; i++)
        sets[i] = o->sets[i];
    sets[o->n_sets] = seedset;
    if (make_labels(o, labels, e))
        goto done;
    if (o->only >= R) {
        *bad_input = 1;
        err_set(e, "compare: --only %d: the comparison has runs 0 to %d", o->only, R - 1);
        goto done;
    }
    char runs_dir[4096], logs_dir[4096];
    if (io_join(runs_dir, sizeof runs_dir, o->out, "runs", e) || io_join(logs_dir, sizeof logs_dir, o->out, "logs", e))
        goto done;
    /* Resolve every run's configuration first: a bad config or --set is bad
     * input, reported before anything runs. */
    for (int g = 0; g < G; g++)
        for (int s = 0; s < S; s++) {
            snprintf(seedset, sizeof seedset, "seed=%d", first + s);
            if (exp_load(cfg, o->configs[g], sets, o->n_sets + 1, e) || exp_check(cfg, e)) {
                *bad_input = 1;
                goto done;
            }
            if (s == 0) {
                double t = exp_threshold(cfg);
                threshold = g == 0 ? t : (t == threshold ? threshold : NAN);
                fl_any |= env_kind_describe(cfg->env.kind)->table == 1;
            }
            run_slot *r = &runs[g * S + s];
            r->group = g;
            snprintf(r->name, sizeof r->name, "%s_s%d", labels[g], first + s);
            char file[400];
            snprintf(file, sizeof file, "%s.log", r->name);
            if (io_join(r->dir, sizeof r->dir, runs_dir, r->name, e) || io_join(r->log, sizeof r->log, logs_dir, file, e))
                goto done;
        }
    /* the output directory's lock first (not for one array task, --only):
     * nothing below may plan runs another driver is running */
    if (o->only < 0 && (io_mkdirs(o->out, e) || rundir_lock_output(o->out, &out_lock, bad_input, e)))
        goto done;
    if (io_mkdirs(runs_dir, e) || io_mkdirs(logs_dir, e))
        goto done;
    for (int g = 0; g < G; g++)
        for (int s = 0; s < S; s++) {
            run_slot *r = &runs[g * S + s];
            if (o->only >= 0 && g * S + s != o->only)
                continue;
            snprintf(seedset, sizeof seedset, "seed=%d", first + s);
            if (exp_load(cfg, o->configs[g], sets, o->n_sets + 1, e))
                goto done;
            rundir_action act;
            if (rundir_plan(r->dir, cfg, &act, e)) {
                *bad_input = 1;
                goto done;
            }
            if (act == RUNDIR_DONE)
                continue;
            if (o->only >= 0 && o->progress)
                fprintf(o->progress, "compare: run %d (%s): %s\n", o->only, r->name,
                        act == RUNDIR_RESUME ? "resuming from its checkpoint" : "starting from step 0");
            pool_argv_add(&r->argv, "train");
            if (act == RUNDIR_RESUME) {
                pool_argv_add(&r->argv, "--resume");
                pool_argv_add(&r->argv, r->dir);
            } else {
                pool_argv_add(&r->argv, o->configs[g]);
                for (int i = 0; i < o->n_sets + 1; i++) {
                    pool_argv_add(&r->argv, "--set");
                    pool_argv_add(&r->argv, sets[i]);
                }
                pool_argv_add(&r->argv, "--out");
                pool_argv_add(&r->argv, r->dir);
            }
            pool_argv_add(&r->argv, "--quiet");
            if (r->argv.bad) {
                err_set(e, "out of memory");
                goto done;
            }
            jobs[nj] = (pool_job){.name = r->name, .argv = r->argv.v, .log = r->log};
            job_run[nj++] = g * S + s;
        }
    if (o->progress && o->only < 0)
        fprintf(o->progress, "compare: %d configs x %d seeds = %d runs, %d to run, %d at a time -> %s\n", G, S, R,
                nj, o->jobs > 0 ? o->jobs : pool_ncpu(), o->out);
    pool_options po = {o->jobs, o->progress, o->stop, o->exe};
    int nf = 0;
    if (nj && pool_run(jobs, nj, &po, &nf, e))
        goto done;
    failed += nf;
    if (o->only >= 0) { /* one run of a job array: the summary job does the rest */
        *n_failed = failed;
        rc = 0;
        goto done;
    }

    /* W1 to the truth: `bdrl eval RUN --json` (distributions.json) */
    int with_w1 = o->truth > 0 || (o->truth < 0 && fl_any);
    if (with_w1 && !(o->stop && *o->stop)) {
        nj = 0;
        for (int i = 0; i < R; i++) {
            run_slot *r = &runs[i];
            char p[4096];
            rundir_summary s;
            if (rundir_read_summary(r->dir, &s, NULL) || !rundir_done(&s, -1))
                continue;
            if (o->truth < 0 && !env_name_has_table(s.env))
                continue;
            if (io_join(p, sizeof p, r->dir, "distributions.json", e))
                goto done;
            if (io_exists(p))
                continue;
            pool_argv_free(&r->argv);
            const char *av[] = {"eval", r->dir, "--json", "--no-samples", "--episodes", "10"};
            for (size_t k = 0; k < sizeof av / sizeof *av; k++)
                pool_argv_add(&r->argv, av[k]);
            if (r->argv.bad) {
                err_set(e, "out of memory");
                goto done;
            }
            jobs[nj] = (pool_job){.name = r->name, .argv = r->argv.v, .log = r->log};
            job_run[nj++] = i;
        }
        if (nj && o->progress)
            fprintf(o->progress, "compare: distance to the truth of %d runs (bdrl eval --no-samples)\n", nj);
        if (nj && pool_run(jobs, nj, &po, &nf, e))
            goto done;
        if (nj)
            failed += nf;
    }

    /* summaries */
    const char **dirs = calloc((size_t)S, sizeof *dirs);
    const char ***groups = calloc((size_t)G, sizeof *groups);
    int *counts = calloc((size_t)G, sizeof *counts);
    const char **cfgs = calloc((size_t)G, sizeof *cfgs);
    if (!dirs || !groups || !counts || !cfgs) {
        free(dirs);
        free(groups);
        free(counts);
        free(cfgs);
        err_set(e, "out of memory");
        goto done;
    }
    int src = 0;
    for (int g = 0; g < G && !src; g++) {
        cfgs[g] = o->configs[g];
        groups[g] = calloc((size_t)S, sizeof **groups);
        if (!groups[g]) {
            src = err_set(e, "out of memory");
            break;
        }
        for (int s = 0; s < S; s++) {
            dirs[s] = runs[g * S + s].dir;
            groups[g][s] = runs[g * S + s].dir;
        }
        counts[g] = S;
        src = compare_summarize(dirs, S, with_w1, &st[g], e);
    }
    if (!src)
        src = compare_write(o->out, G, (const char *const *)labels, cfgs, st, S, e);
    if (!src) {
        char prefix[4096], title[512];
        snprintf(title, sizeof title, "evaluation return over %d seeds (mean, 95%% bootstrap band)", S);
        bdrl_err pe;
        int any = 0;
        for (int g = 0; g < G; g++)
            any |= st[g].n_done > 0;
        if (any && (io_join(prefix, sizeof prefix, o->out, "curves", &pe) ||
                    curves_plot_dirs(prefix, title, G, (const char *const *)labels, counts,
                                     (const char *const *const *)groups, threshold, &pe)) &&
            o->progress)
            fprintf(o->progress, "compare: warning: no learning-curve plot: %s\n", pe.msg);
    }
    if (!src)
        write_suite(o, runs, R);
    for (int g = 0; g < G; g++)
        free(groups[g]);
    free(groups);
    free(dirs);
    free(counts);
    free(cfgs);
    if (src)
        goto done;
    *n_failed = failed;
    rc = 0;
done:
    for (int i = 0; runs && i < R; i++)
        pool_argv_free(&runs[i].argv);
    for (int g = 0; labels && g < G; g++)
        free(labels[g]);
    free(labels);
    free(runs);
    free(jobs);
    free(job_run);
    for (int g = 0; st && g < G; g++)
        compare_stats_free(&st[g]);
    free(st);
    free(cfg);
    free(sets);
    rundir_unlock(out_lock);
    return rc;
}
