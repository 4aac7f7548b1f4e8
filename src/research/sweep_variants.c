/* sweep_variants.c — variants.md, variants.csv and plots/variants.png of an
 * ablation sweep (sweep_variants.h). */
#include "research/sweep_variants.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/plot.h"
#include "core/rng.h"
#include "research/compare.h"

/* ---------------- the tables ---------------- */

/* One (variant, point, config): its seeds' runs. */
typedef struct {
    int runs;            /* seeds */
    int done;            /* finished (a row in results.csv) */
    int n;               /* finished with a value of the metric */
    int reached;         /* of which finite (steps_to_threshold: reached the threshold) */
    double center, lo, hi; /* steps_to_threshold: median, q25, q75; else mean and 95% interval */
    double vs_first;     /* against the first variant's cell of the same point and config */
    double vs_lo, vs_hi; /* its 95% bootstrap interval (compare_boot_interval); NaN for the first */
} variant_cell;

/* The table: cells[(p * n_variants + v) * n_bases + b]. */
typedef struct {
    const sweep_def *s;
    int stt;             /* the metric is steps_to_threshold: medians, not means */
    int some_missing;    /* a cell has runs that have not finished */
    variant_cell *cells;
} variant_table;

static variant_cell *cell_at(const variant_table *t, int p, int v, int b)
{
    return &t->cells[((size_t)p * t->s->n_variants + v) * t->s->n_bases + b];
}

static int setting_of(const sweep_def *s, int b, int v, int p) { return (b * s->n_variants + v) * s->n_points + p; }

/* A cell from its setting's runs: the statistics of `bdrl compare` for
 * steps to threshold, summary.md's mean and interval for the others. */
static void cell_of(const variant_table *t, int st, const double *metric, const unsigned char *have, rng *r,
                    double *buf, variant_cell *c)
{
    const sweep_def *s = t->s;
    memset(c, 0, sizeof *c);
    c->runs = s->n_seeds;
    c->center = c->lo = c->hi = c->vs_first = c->vs_lo = c->vs_hi = NAN;
    for (int k = 0; k < s->n_seeds; k++) {
        int i = st * s->n_seeds + k;
        if (!have[i])
            continue;
        c->done++;
        if (isnan(metric[i]))
            continue;
        buf[c->n++] = metric[i];
        c->reached += isfinite(metric[i]);
    }
    if (c->n == 0)
        return;
    if (t->stt)
        compare_stt_quartiles(buf, c->n, &c->center, &c->lo, &c->hi);
    else
        sweep_mean_ci(buf, c->n, r, &c->center, &c->lo, &c->hi);
}

/* Ratio of medians of steps (undefined unless both are finite), or the
 * difference of means. */
static double against_first(int stt, double x, double first)
{
    if (stt)
        return isfinite(x) && isfinite(first) && first > 0 ? x / first : NAN;
    return x - first;
}

static int table_build(variant_table *t, const sweep_def *s, const double *metric, const unsigned char *have,
                       bdrl_err *e)
{
    memset(t, 0, sizeof *t);
    t->s = s;
    t->stt = !strcmp(s->metric, "steps_to_threshold");
    t->cells = calloc((size_t)s->n_points * s->n_variants * s->n_bases, sizeof *t->cells);
    double *buf = calloc((size_t)s->n_seeds, sizeof *buf), *first = calloc((size_t)s->n_seeds, sizeof *first);
    rng *r = rng_create(SWEEP_BOOT_SEED, 0);
    int rc = -1;
    if (!t->cells || !buf || !first || !r)
        goto out;
    /* per point and config: the first variant's values stay in `first`
     * while the others', in turn in buf, are resampled against them */
    for (int p = 0; p < s->n_points; p++)
        for (int b = 0; b < s->n_bases; b++) {
            const variant_cell *c0 = cell_at(t, p, 0, b);
            for (int v = 0; v < s->n_variants; v++) {
                variant_cell *c = cell_at(t, p, v, b);
                cell_of(t, setting_of(s, b, v, p), metric, have, r, v == 0 ? first : buf, c);
                c->vs_first = against_first(t->stt, c->center, c0->center);
                t->some_missing |= c->done < c->runs;
                if (v > 0 && !isnan(c->vs_first) &&
                    compare_boot_interval(t->stt, buf, c->n, first, c0->n, r, &c->vs_lo, &c->vs_hi))
                    goto out;
            }
        }
    rc = 0;
out:
    if (rc) {
        free(t->cells);
        t->cells = NULL;
        err_set(e, "out of memory");
    }
    free(buf);
    free(first);
    if (r)
        rng_free(r);
    return rc;
}

/* The swept grid and random values of point p (the same for every base
 * and variant), as "key=value" pairs for a row's label. */
static const char *point_value(const sweep_def *s, int p, int j)
{
    return s->setting_values[setting_of(s, 0, 0, p)][s->n_meta + j];
}

static void md_intro(FILE *f, const variant_table *t)
{
    const sweep_def *s = t->s;
    const char *first = s->variants[0].name;
    fprintf(f, "# Variants of sweep `%s`\n\n", s->path);
    fprintf(f, "`%s` per variant (rows, in the sweep file's order) and config (column groups: the base "
               "config files' names), over %d seed%s.\n",
            s->metric, s->n_seeds, s->n_seeds == 1 ? "" : "s");
    if (t->stt)
        fprintf(f, "Median and interquartile range [q25, q75] over the seeds; a seed that never reaches the "
                   "threshold counts as\ninfinitely many steps, so a median or quartile is \"not reached\" when "
                   "too few seeds reached it\n(as `bdrl compare`). Reached: seeds that reached it / seeds "
                   "finished. vs `%s`: this median / `%s`'s\n(< 1: fewer steps than `%s`), with a 95%% percentile "
                   "bootstrap interval (%d resamples of each\nconfig's seeds, drawn independently; an interval "
                   "below 1 says the variant needs fewer steps).\n",
                first, first, first, COMPARE_BOOT);
    else
        fprintf(f, "Mean over seeds and 95%% percentile bootstrap interval (%d resamples), as in summary.md. "
                   "vs `%s`: this\nmean - `%s`'s, with the same interval for the difference (the two sets of seeds resampled "
                   "independently).\n",
                SWEEP_BOOT, first, first);
    if (t->some_missing)
        fprintf(f, "Finished: runs finished / runs of the cell; the statistics are over the finished ones.\n");
    fprintf(f, "\n| variant |");
    for (int j = 0; j < s->n_params - s->n_meta; j++)
        fprintf(f, " `%s` |", s->param_names[s->n_meta + j]);
    for (int b = 0; b < s->n_bases; b++) {
        if (t->stt)
            fprintf(f, " `%s` median | IQR [q25, q75] | reached |", s->bases[b].stem);
        else
            fprintf(f, " `%s` mean | 95%% interval |", s->bases[b].stem);
        fprintf(f, " vs `%s` [95%% interval] |%s", first, t->some_missing ? " finished |" : "");
    }
    fprintf(f, "\n| --- |");
    for (int j = 0; j < s->n_params - s->n_meta; j++)
        fprintf(f, " ---: |");
    for (int b = 0; b < s->n_bases; b++)
        fprintf(f, "%s ---: |%s", t->stt ? " ---: | ---: | ---: |" : " ---: | ---: |", t->some_missing ? " ---: |" : "");
    fputc('\n', f);
}

static void md_cell(FILE *f, const variant_table *t, const variant_cell *c)
{
    char m[64], lo[64], hi[64], vs[200];
    compare_fmt_num(m, sizeof m, c->center);
    compare_fmt_num(lo, sizeof lo, c->lo);
    compare_fmt_num(hi, sizeof hi, c->hi);
    if (t->stt || isnan(c->vs_first))
        compare_fmt_num(vs, sizeof vs, c->vs_first);
    else
        snprintf(vs, sizeof vs, "%+.4g", c->vs_first);
    compare_append_interval(vs, sizeof vs, t->stt, c->vs_lo, c->vs_hi);
    if (c->n == 0)
        fprintf(f, " – | – |%s", t->stt ? " – |" : "");
    else if (t->stt)
        fprintf(f, " %s | [%s, %s] | %d/%d |", m, lo, hi, c->reached, c->n);
    else
        fprintf(f, " %s | [%s, %s] |", m, lo, hi);
    fprintf(f, " %s |", vs);
    if (t->some_missing)
        fprintf(f, " %d/%d |", c->done, c->runs);
}

/* A row label in Markdown: the first opens the row. */
static void md_label(FILE *f, const char *text, int first) { fprintf(f, first ? "| %s |" : " %s |", text); }

static void md_foot(FILE *f, const variant_table *t)
{
    fprintf(f, "\n![%s per variant and config](plots/variants.png)\n", t->s->metric);
}

/* variants.csv's header: variant, the point's keys, then per config
 * STEM:runs, STEM:finished and the statistics. */
static void csv_header(FILE *f, const variant_table *t)
{
    const sweep_def *s = t->s;
    static const char *const stt_cols[] = {"median", "q25", "q75", "reached", "vs_first", "vs_first_lo", "vs_first_hi"};
    static const char *const mean_cols[] = {"mean", "ci95_lo", "ci95_hi", "vs_first", "vs_first_lo", "vs_first_hi"};
    fputs("variant", f);
    for (int j = 0; j < s->n_params - s->n_meta; j++) {
        fputc(',', f);
        sweep_csv_field(f, s->param_names[s->n_meta + j]);
    }
    for (int b = 0; b < s->n_bases; b++) {
        const char *const *cols = t->stt ? stt_cols : mean_cols;
        int nc = t->stt ? 7 : 6;
        char name[600];
        for (int k = -2; k < nc; k++) {
            snprintf(name, sizeof name, "%s:%s", s->bases[b].stem, k == -2 ? "runs" : k == -1 ? "finished" : cols[k]);
            fputc(',', f);
            sweep_csv_field(f, name);
        }
    }
    fputc('\n', f);
}

static void csv_cell(FILE *f, const variant_table *t, const variant_cell *c)
{
    fprintf(f, ",%d,%d,", c->runs, c->done);
    sweep_csv_num(f, c->center);
    fputc(',', f);
    sweep_csv_num(f, c->lo);
    fputc(',', f);
    sweep_csv_num(f, c->hi);
    if (t->stt)
        fprintf(f, ",%d", c->reached);
    fputc(',', f);
    sweep_csv_num(f, c->vs_first);
    fputc(',', f);
    sweep_csv_num(f, c->vs_lo);
    fputc(',', f);
    sweep_csv_num(f, c->vs_hi);
}

static void csv_label(FILE *f, const char *text, int first)
{
    if (!first)
        fputc(',', f);
    sweep_csv_field(f, text);
}

/* How variants.md or variants.csv is written: its header, a row's labels
 * (the variant, then the point's values), a cell, what follows the rows. */
typedef struct {
    const char *file;
    void (*head)(FILE *f, const variant_table *t);
    void (*label)(FILE *f, const char *text, int first);
    void (*cell)(FILE *f, const variant_table *t, const variant_cell *c);
    void (*foot)(FILE *f, const variant_table *t); /* may be NULL */
} table_style;

static const table_style md_style = {"variants.md", md_intro, md_label, md_cell, md_foot};
static const table_style csv_style = {"variants.csv", csv_header, csv_label, csv_cell, NULL};

/* One row per variant (per point in turn), one column group per config. */
static int write_table(const variant_table *t, const table_style *st, bdrl_err *e)
{
    const sweep_def *s = t->s;
    char path[4200];
    io_atomic a;
    if (io_join(path, sizeof path, s->out, st->file, e) || io_atomic_open(&a, path, e))
        return -1;
    st->head(a.f, t);
    for (int p = 0; p < s->n_points; p++)
        for (int v = 0; v < s->n_variants; v++) {
            st->label(a.f, s->variants[v].name, 1);
            for (int j = 0; j < s->n_params - s->n_meta; j++)
                st->label(a.f, point_value(s, p, j), 0);
            for (int b = 0; b < s->n_bases; b++)
                st->cell(a.f, t, cell_at(t, p, v, b));
            fputc('\n', a.f);
        }
    if (st->foot)
        st->foot(a.f, t);
    return io_atomic_commit(&a, e);
}

int sweep_variants_write(const sweep_def *s, const double *metric, const unsigned char *have, bdrl_err *e)
{
    variant_table t;
    if (table_build(&t, s, metric, have, e))
        return -1;
    int rc = write_table(&t, &md_style, e) || write_table(&t, &csv_style, e) ? -1 : 0;
    free(t.cells);
    return rc;
}

/* ---------------- the figure ---------------- */

/* What the figure shows, read back from variants.csv and results.csv. */
typedef struct {
    int n_cfg, n_var;
    const char *cfg[SWEEP_CSV_MAX_COLS]; /* configs, variants.csv's column groups in order */
    const char **var;                    /* variants in file order (variants.csv's first column) */
    int *row_cfg, *row_var;              /* per results.csv row: indices, -1 where unknown */
    double *y;                           /* per row: the metric, +INFINITY never reached, NaN none */
} variant_fig;

static void fig_free(variant_fig *g)
{
    free(g->var);
    free(g->row_cfg);
    free(g->row_var);
    free(g->y);
}

/* The configs (STEM of each STEM:runs column, cut to STEM in vc's text)
 * and the variants (distinct values of the first column, in order) of
 * variants.csv. */
static int fig_order(sweep_csv *vc, variant_fig *g, bdrl_err *e)
{
    for (int i = 1; i < vc->n_cols; i++) {
        size_t len = strlen(vc->hdr[i]);
        if (len > 5 && !strcmp(vc->hdr[i] + len - 5, ":runs")) {
            vc->hdr[i][len - 5] = '\0';
            g->cfg[g->n_cfg++] = vc->hdr[i];
        }
    }
    if (!(g->var = calloc((size_t)vc->n_rows + 1, sizeof *g->var)))
        return err_set(e, "out of memory");
    for (int i = 0; i < vc->n_rows; i++) {
        int k = 0;
        while (k < g->n_var && strcmp(g->var[k], vc->rows[i][0]))
            k++;
        if (k == g->n_var)
            g->var[g->n_var++] = vc->rows[i][0];
    }
    if (g->n_cfg == 0 || g->n_var == 0)
        return err_set(e, "variants.csv names no configs or no variants");
    return 0;
}

static int index_of(const char *const *names, int n, const char *x)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], x))
            return i;
    return -1;
}

/* Each row's config and variant (results.csv without a config column: one
 * base, the first group) and its value ("inf": never reached). */
static int fig_rows(const sweep_csv *res, int c_metric, variant_fig *g, bdrl_err *e)
{
    int c_var = sweep_csv_col(res, "variant"), c_cfg = sweep_csv_col(res, "config");
    if (c_var < 0)
        return err_set(e, "results.csv has no variant column, but the sweep directory has a variants.csv");
    size_t n = (size_t)res->n_rows + 1;
    g->row_cfg = calloc(n, sizeof *g->row_cfg);
    g->row_var = calloc(n, sizeof *g->row_var);
    g->y = calloc(n, sizeof *g->y);
    if (!g->row_cfg || !g->row_var || !g->y)
        return err_set(e, "out of memory");
    for (int i = 0; i < res->n_rows; i++) {
        char *const *row = res->rows[i];
        int ok = res->n_fields[i] > c_metric;
        g->row_var[i] = ok ? index_of(g->var, g->n_var, row[c_var]) : -1;
        g->row_cfg[i] = !ok ? -1 : c_cfg < 0 ? 0 : index_of(g->cfg, g->n_cfg, row[c_cfg]);
        char *end;
        g->y[i] = ok && *row[c_metric] ? strtod(row[c_metric], &end) : NAN;
        if (ok && *row[c_metric] && *end)
            g->y[i] = NAN;
    }
    return 0;
}

/* The y axis: the lowest finite value, and where the "not reached" band
 * sits, above every finite value by an eighth of their span (NaN when every
 * run reached it: no band); numeric: whether any value is finite (if none
 * is, the band alone, at 1 over 0, and no numeric tics). */
typedef struct {
    double lo, band;
    int numeric;
} fig_axis;

static fig_axis fig_band(const variant_fig *g, int n_rows)
{
    double lo = INFINITY, hi = -INFINITY;
    int any_inf = 0;
    for (int i = 0; i < n_rows; i++) {
        if (g->row_var[i] < 0 || g->row_cfg[i] < 0)
            continue;
        if (isinf(g->y[i]))
            any_inf = 1;
        else if (isfinite(g->y[i])) {
            lo = g->y[i] < lo ? g->y[i] : lo;
            hi = g->y[i] > hi ? g->y[i] : hi;
        }
    }
    fig_axis ax = {lo, NAN, isfinite(lo)};
    if (!ax.numeric)
        ax.lo = hi = 0;
    double span = hi - ax.lo > 0 ? hi - ax.lo : fabs(hi) > 0 ? fabs(hi) : 1;
    if (any_inf)
        ax.band = ax.numeric ? hi + span / 8 : 1;
    return ax;
}

/* x of config c's runs at variant v: the variants 1 apart, the configs side
 * by side within 0.8 of it. */
static double fig_x(const variant_fig *g, int v, int c) { return v + (c - (g->n_cfg - 1) / 2.0) * (0.8 / g->n_cfg); }

/* Data: per config a block of runs (x y reached) jittered across its slot
 * (deterministically, by row, so a redraw is the same figure), then a block
 * of medians (x median q25 q75); infinities drawn at the band. */
static int fig_write_dat(const char *dat, const variant_fig *g, int n_rows, double band, bdrl_err *e)
{
    double *buf = calloc((size_t)n_rows + 1, sizeof *buf);
    io_atomic a;
    if (!buf)
        return err_set(e, "out of memory");
    if (io_atomic_open(&a, dat, e)) {
        free(buf);
        return -1;
    }
    double slot = 0.8 / g->n_cfg;
    for (int c = 0; c < g->n_cfg; c++) {
        fprintf(a.f, "# %s: runs (x y reached)\nnan nan 1\n", g->cfg[c]);
        for (int i = 0; i < n_rows; i++)
            if (g->row_cfg[i] == c && g->row_var[i] >= 0 && !isnan(g->y[i])) {
                double jitter = (fmod((i + 1) * 0.6180339887498949, 1.0) - 0.5) * 0.8 * slot;
                fprintf(a.f, "%.6g %.10g %d\n", fig_x(g, g->row_var[i], c) + jitter, isinf(g->y[i]) ? band : g->y[i],
                        !isinf(g->y[i]));
            }
        fprintf(a.f, "\n\n# %s: medians (x median q25 q75)\nnan nan nan nan\n", g->cfg[c]);
        for (int v = 0; v < g->n_var; v++) {
            int n = 0;
            for (int i = 0; i < n_rows; i++)
                if (g->row_cfg[i] == c && g->row_var[i] == v && !isnan(g->y[i]))
                    buf[n++] = g->y[i];
            double m, q25, q75;
            compare_stt_quartiles(buf, n, &m, &q25, &q75);
            if (n > 0)
                fprintf(a.f, "%.6g %.10g %.10g %.10g\n", fig_x(g, v, c), isinf(m) ? band : m,
                        isinf(q25) ? band : q25, isinf(q75) ? band : q75);
        }
        fprintf(a.f, "\n\n");
    }
    free(buf);
    return io_atomic_commit(&a, e);
}

/* A round tic step (1, 2 or 5 x 10^k) for about 6 tics over [lo, hi]:
 * with a band, the numeric tics stop below it (gnuplot's own would run
 * into the "not reached" label). */
static double tic_step(double lo, double hi)
{
    double raw = (hi - lo) / 6, p = pow(10, floor(log10(raw)));
    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

/* A variant's name as a gnuplot string in double quotes (names are
 * letters, digits and _ . + -; anything else is dropped). */
static void gp_label(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        if (*s != '"' && *s != '\\' && *s != '\'' && *s != '\n')
            fputc(*s, f);
    fputc('"', f);
}

/* The redraw script: configs, variants as x tics, the band, the size. */
static int fig_write_gp(const char *prefix, const variant_fig *g, const char *metric, const char *title,
                        fig_axis ax, bdrl_err *e)
{
    char gp[4300], dat[4300], png[4300], script[4096];
    snprintf(gp, sizeof gp, "%s.gp", prefix);
    snprintf(dat, sizeof dat, "%s.dat", prefix);
    snprintf(png, sizeof png, "%s.png", prefix);
    if (plot_find_script("sweep_variants.gp", script, sizeof script, NULL))
        snprintf(script, sizeof script, "sweep_variants.gp");
    io_atomic a;
    if (io_atomic_open(&a, gp, e))
        return -1;
    size_t longest = 0;
    fprintf(a.f, "# %s per variant and config, written by bdrl sweep. Redraw with: gnuplot %s\nmetric = ", metric, gp);
    plot_write_quoted(a.f, metric);
    fprintf(a.f, "\nnconfigs = %d\narray configs[%d]\n", g->n_cfg, g->n_cfg);
    for (int c = 0; c < g->n_cfg; c++) {
        fprintf(a.f, "configs[%d] = ", c + 1);
        plot_write_quoted(a.f, g->cfg[c]);
        fputc('\n', a.f);
    }
    fprintf(a.f, "nvariants = %d\nxtic_labels = '(", g->n_var);
    for (int v = 0; v < g->n_var; v++) {
        fprintf(a.f, "%s", v ? ", " : "");
        gp_label(a.f, g->var[v]);
        fprintf(a.f, " %d", v);
        longest = strlen(g->var[v]) > longest ? strlen(g->var[v]) : longest;
    }
    fprintf(a.f, ")'\nrotate_tics = %d\n", g->n_var * (longest + 1) > 60);
    if (isnan(ax.band)) {
        fprintf(a.f, "has_band = 0\nband = 0\nband_half = 0\n");
    } else {
        double step = tic_step(ax.lo, ax.band);
        fprintf(a.f, "has_band = 1\nband = %.10g\nband_half = %.10g\nnumeric_tics = %d\n", ax.band,
                (ax.band - ax.lo) / 24, ax.numeric);
        fprintf(a.f, "ytic_from = %.10g\nytic_step = %.10g\nytic_to = %.10g\n", floor(ax.lo / step) * step, step,
                ax.band - (ax.band - ax.lo) / 12);
    }
    plot_write_redraw(a.f, dat, prefix, png, title, script);
    return io_atomic_commit(&a, e);
}

int sweep_variants_plot(const char *sweep_dir, const sweep_csv *results, int c_metric, const char *metric,
                        bdrl_err *e)
{
    char path[4200], prefix[4200], dat[4300], png[4300], title[600];
    sweep_csv vc;
    variant_fig g;
    memset(&g, 0, sizeof g);
    if (io_join(path, sizeof path, sweep_dir, "variants.csv", e) || sweep_csv_read(path, &vc, e))
        return -1;
    int rc = -1;
    if (fig_order(&vc, &g, e) || fig_rows(results, c_metric, &g, e))
        goto out;
    fig_axis ax = fig_band(&g, results->n_rows);
    snprintf(prefix, sizeof prefix, "%s/plots/variants", sweep_dir);
    snprintf(dat, sizeof dat, "%s.dat", prefix);
    snprintf(png, sizeof png, "%s.png", prefix);
    /* the sweep directory's name first: two ablations' figures side by side
     * (docs/ablation.md) say which is which */
    const char *slash = strrchr(sweep_dir, '/');
    const char *name = slash && slash[1] ? slash + 1 : sweep_dir;
    snprintf(title, sizeof title, "%.200s: %s per variant", name, metric);
    if (fig_write_dat(dat, &g, results->n_rows, ax.band, e) || fig_write_gp(prefix, &g, metric, title, ax, e) ||
        plot_gnuplot("sweep_variants.gp", prefix, png, title, e))
        goto out;
    rc = 0;
out:
    fig_free(&g);
    sweep_csv_free(&vc);
    return rc;
}
