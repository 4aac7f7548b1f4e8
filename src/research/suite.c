#include "research/suite.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/experiment.h"
#include "agents/registry.h"
#include "core/io.h"
#include "core/plot.h"
#include "core/rng.h"
#include "envs/env.h"
#include "research/curves.h"
#include "research/random_score.h"
#include "research/rundir.h"
#include "stats/aggregate.h"

int suite_value_parse(const char *arg, suite_value *out, bdrl_err *e)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return err_set(e, "'%s': expected ENV=VALUE (e.g. cartpole=500)", arg);
    size_t k = (size_t)(eq - arg);
    if (k >= sizeof out->env)
        return err_set(e, "'%s': environment name too long", arg);
    memcpy(out->env, arg, k);
    out->env[k] = '\0';
    if (env_kind_by_name(out->env) < 0)
        return err_set(e, "'%s': unknown environment '%s' (see bdrl env list)", arg, out->env);
    if (!strcmp(eq + 1, "best")) {
        out->value = NAN;
        return 0;
    }
    char *end;
    out->value = strtod(eq + 1, &end);
    if (end == eq + 1 || *end || !isfinite(out->value))
        return err_set(e, "'%s': the value must be a finite number (or best, for a reference)", arg);
    return 0;
}

/* A finished run's summary, or 0. */
static int done_summary(const char *dir, rundir_summary *s)
{
    return rundir_read_summary(dir, s, NULL) == 0 && rundir_done(s, -1);
}

int suite_n_envs(const char *const *dirs, int n)
{
    char (*seen)[32] = calloc((size_t)(n > 0 ? n : 1), sizeof *seen);
    int k = 0;
    for (int i = 0; seen && i < n; i++) {
        rundir_summary s;
        if (!done_summary(dirs[i], &s) || !s.env[0])
            continue;
        int j = 0;
        while (j < k && strcmp(seen[j], s.env))
            j++;
        if (j == k)
            snprintf(seen[k++], sizeof seen[0], "%s", s.env);
    }
    free(seen);
    return k;
}

/* A run's config.yaml into cfg. */
static int load_run_config(const char *dir, exp_config *cfg, bdrl_err *e)
{
    char p[4096];
    return io_join(p, sizeof p, dir, "config.yaml", e) || exp_load(cfg, p, NULL, 0, e) ? -1 : 0;
}

/* The agent of a finished run for grouping: summary.json's agent with the
 * components of its config.yaml (agent_variant_name), so C51 with Rainbow's
 * components is another agent than C51; the agent alone if the config
 * cannot be read (a run from before config.yaml was written, or whose
 * environment plugin is gone). */
static void agent_of(const char *dir, const rundir_summary *su, char *out, size_t n)
{
    exp_config *cfg = malloc(sizeof *cfg);
    if (cfg && load_run_config(dir, cfg, NULL) == 0)
        agent_variant_name(su->agent, cfg, out, n);
    else
        snprintf(out, n, "%s", su->agent);
    free(cfg);
}

/* The config label of a run directory: its name without compare's _s<seed>. */
static void label_of(const char *dir, char *out, size_t n)
{
    const char *b = strrchr(dir, '/');
    b = b && b[1] ? b + 1 : dir;
    snprintf(out, n, "%s", b);
    char *u = strrchr(out, '_');
    if (u && u[1] == 's' && u[2] && strspn(u + 2, "0123456789") == strlen(u + 2))
        *u = '\0';
}

void suite_dirs_free(char **dirs, int n)
{
    for (int i = 0; dirs && i < n; i++)
        free(dirs[i]);
    free(dirs);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Whether label is a first field of comparison.csv's rows (text). */
static int csv_has_label(const char *csv, const char *label)
{
    size_t n = strlen(label);
    const char *line = strchr(csv, '\n'); /* past the header */
    while (line && *++line) {
        if (!strncmp(line, label, n) && line[n] == ',')
            return 1;
        line = strchr(line, '\n');
    }
    return 0;
}

int suite_scan(const char *compare_dir, char ***dirs, int *n, bdrl_err *e)
{
    *dirs = NULL;
    *n = 0;
    char p[4096], rd[4096];
    if (io_join(p, sizeof p, compare_dir, "comparison.csv", e) || io_join(rd, sizeof rd, compare_dir, "runs", e))
        return -1;
    char *csv = io_read_file(p, NULL, NULL);
    if (!csv)
        return err_set(e, "%s: no comparison.csv (not a bdrl compare output directory)", compare_dir);
    DIR *d = opendir(rd);
    if (!d) {
        free(csv);
        return err_set(e, "%s: no runs/ directory (not a bdrl compare output directory)", compare_dir);
    }
    int cap = 0, rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char lab[300], full[4096];
        if (de->d_name[0] == '.')
            continue;
        label_of(de->d_name, lab, sizeof lab);
        if (!csv_has_label(csv, lab))
            continue;
        if (io_join(full, sizeof full, rd, de->d_name, e)) {
            rc = -1;
            break;
        }
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nd = realloc(*dirs, (size_t)cap * sizeof *nd);
            if (!nd) {
                rc = err_set(e, "out of memory");
                break;
            }
            *dirs = nd;
        }
        if (!((*dirs)[*n] = strdup(full))) {
            rc = err_set(e, "out of memory");
            break;
        }
        (*n)++;
    }
    closedir(d);
    free(csv);
    if (rc) {
        suite_dirs_free(*dirs, *n);
        *dirs = NULL;
        *n = 0;
        return -1;
    }
    if (*n > 1)
        qsort(*dirs, (size_t)*n, sizeof **dirs, cmp_str);
    return 0;
}

/* ---------------- the suite ---------------- */

typedef struct {
    const char *dir;
    char label[300], on[32];
    double score, threshold;
    int a, t;
} run_info;

typedef struct {
    char name[32], on[32], random_src[64], reference_src[32];
    double random, reference;
    int first; /* its first run */
} task_info;

typedef struct {
    int nr, na, nt;
    run_info *run;
    char (*agent)[32];
    task_info *task;
    char (*cell)[300];   /* [na * nt]: the config label of agent a on task t */
    int *ord;            /* runs by agent, task, then as given */
    int *n_runs;         /* [na * nt] */
    int *off;            /* [na]: agent a's first score in raw / norm */
    double *raw, *norm;  /* [nr], in ord's order */
} suite;

static void suite_free(suite *s)
{
    free(s->run);
    free(s->agent);
    free(s->task);
    free(s->cell);
    free(s->ord);
    free(s->n_runs);
    free(s->off);
    free(s->raw);
    free(s->norm);
}

static int agent_index(const suite *s, const char *name)
{
    for (int i = 0; i < s->na; i++)
        if (!strcmp(s->agent[i], name))
            return i;
    return -1;
}

static int task_index(const suite *s, const char *name)
{
    for (int i = 0; i < s->nt; i++)
        if (!strcmp(s->task[i].name, name))
            return i;
    return -1;
}

/* A run's score under `how`: summary.json's final evaluation, or the mean
 * of eval.csv's evaluations over the last quarter of its steps. */
static int run_score(const char *dir, const rundir_summary *su, suite_score how, double *out, bdrl_err *e)
{
    int on_success = !strcmp(su->threshold_on, "success_rate");
    if (how == SUITE_SCORE_FINAL) {
        *out = on_success ? su->final_success_rate : su->final_eval_return;
        return isfinite(*out) ? 0 : err_set(e, "%s: summary.json has no final evaluation", dir);
    }
    curves_run c;
    if (curves_read_eval(dir, &c, e))
        return -1;
    int rc = 0;
    *out = c.n ? curves_last_quarter(c.step, on_success ? c.success : c.ret, c.n) : NAN;
    if (!isfinite(*out))
        rc = err_set(e, "%s/eval.csv has no %s to score", dir, on_success ? "success_rate" : "evaluation");
    curves_run_free(&c);
    return rc;
}

/* Reads the finished runs and sorts them into agents and tasks. */
static int suite_read(suite *s, const char *const *dirs, int n, suite_score how, int *bad, bdrl_err *e)
{
    size_t m = (size_t)(n > 0 ? n : 1);
    s->run = calloc(m, sizeof *s->run);
    s->agent = calloc(m, sizeof *s->agent);
    s->task = calloc(m, sizeof *s->task);
    if (!s->run || !s->agent || !s->task)
        return err_set(e, "out of memory");
    for (int i = 0; i < n; i++) {
        rundir_summary su;
        if (!done_summary(dirs[i], &su))
            continue;
        run_info *r = &s->run[s->nr];
        r->dir = dirs[i];
        label_of(dirs[i], r->label, sizeof r->label);
        snprintf(r->on, sizeof r->on, "%s", su.threshold_on);
        if (run_score(dirs[i], &su, how, &r->score, e)) {
            *bad = 1;
            return -1;
        }
        r->threshold = su.threshold;
        char name[sizeof s->agent[0]];
        agent_of(dirs[i], &su, name, sizeof name);
        if ((r->a = agent_index(s, name)) < 0)
            snprintf(s->agent[r->a = s->na++], sizeof s->agent[0], "%s", name);
        if ((r->t = task_index(s, su.env)) < 0) {
            task_info *t = &s->task[r->t = s->nt++];
            snprintf(t->name, sizeof t->name, "%s", su.env);
            snprintf(t->on, sizeof t->on, "%s", su.threshold_on);
            t->first = s->nr;
        }
        s->nr++;
    }
    if (s->nr == 0) {
        *bad = 1;
        return err_set(e, "no finished runs to aggregate");
    }
    s->cell = calloc((size_t)(s->na * s->nt), sizeof *s->cell);
    if (!s->cell)
        return err_set(e, "out of memory");
    for (int i = 0; i < s->nr; i++) {
        run_info *r = &s->run[i];
        char *c = s->cell[r->a * s->nt + r->t];
        if (!c[0])
            snprintf(c, sizeof s->cell[0], "%s", r->label);
        else if (strcmp(c, r->label)) {
            *bad = 1;
            return err_set(e, "agent %s has two configs on %s (%s and %s): aggregate one of them at a time",
                           s->agent[r->a], s->task[r->t].name, c, r->label);
        }
    }
    for (int a = 0; a < s->na; a++)
        for (int t = 0; t < s->nt; t++)
            if (!s->cell[a * s->nt + t][0]) {
                *bad = 1;
                return err_set(e, "agent %s has no finished run on %s (every agent needs every environment)",
                               s->agent[a], s->task[t].name);
            }
    return 0;
}

static const suite_value *find_value(const suite_value *v, int n, const char *env)
{
    const suite_value *hit = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].env, env))
            hit = &v[i]; /* the last one given */
    return hit;
}

/* The random policy's score on the environment of run r (its config.yaml). */
static int measure_random(const run_info *r, const char *on, double *out, bdrl_err *e)
{
    exp_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return err_set(e, "out of memory");
    random_score rs;
    int rc = load_run_config(r->dir, cfg, e) ||
                     random_score_measure(&cfg->env, RANDOM_SCORE_EPISODES, RANDOM_SCORE_SEED, &rs, e)
                 ? -1
                 : 0;
    free(cfg);
    if (rc)
        return err_prefix(e, "the random policy's score on %s", r->dir);
    *out = strcmp(on, "success_rate") ? rs.return_mean : rs.success_rate;
    return 0;
}

/* Per task: one score kind, its reference and its random score. */
static int suite_normalizers(suite *s, const suite_options *o, int *bad, bdrl_err *e)
{
    const suite_value *lists[2] = {o->random, o->reference};
    int counts[2] = {o->n_random, o->n_reference};
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < counts[l]; i++) {
            if (task_index(s, lists[l][i].env) < 0) {
                *bad = 1;
                return err_set(e, "--%s %s: no run on that environment", l ? "reference" : "random",
                               lists[l][i].env);
            }
            if (l == 0 && isnan(lists[l][i].value)) {
                *bad = 1;
                return err_set(e, "--random %s=best: best is a reference, not a random score", lists[l][i].env);
            }
        }
    for (int k = 0; k < s->nt; k++) {
        task_info *t = &s->task[k];
        double thr = s->run[t->first].threshold;
        for (int i = 0; i < s->nr; i++) {
            const run_info *r = &s->run[i];
            if (r->t != k)
                continue;
            if (strcmp(r->on, t->on)) {
                *bad = 1;
                return err_set(e, "%s: runs score on %s and on %s", t->name, t->on, r->on);
            }
            if (r->threshold != thr && !find_value(o->reference, o->n_reference, t->name)) {
                *bad = 1;
                return err_set(e, "%s: runs have thresholds %g and %g; give the reference with --reference %s=VALUE",
                               t->name, thr, r->threshold, t->name);
            }
        }
        const suite_value *v = find_value(o->reference, o->n_reference, t->name);
        t->reference = v ? v->value : thr;
        if (v && isnan(v->value)) { /* best; every score is finite (run_score) */
            t->reference = -INFINITY;
            for (int i = 0; i < s->nr; i++)
                if (s->run[i].t == k && s->run[i].score > t->reference)
                    t->reference = s->run[i].score;
        }
        snprintf(t->reference_src, sizeof t->reference_src, "%s", v ? "--reference" : "threshold");
        if ((v = find_value(o->random, o->n_random, t->name))) {
            t->random = v->value;
            snprintf(t->random_src, sizeof t->random_src, "--random");
        } else {
            if (measure_random(&s->run[t->first], t->on, &t->random, e))
                return -1;
            snprintf(t->random_src, sizeof t->random_src, "random policy, %d episodes", RANDOM_SCORE_EPISODES);
        }
        if (!isfinite(t->reference) || t->reference == t->random) {
            *bad = 1;
            return err_set(e, "%s: the reference score %g gives no scale above the random policy's %g; give "
                              "--reference %s=VALUE",
                           t->name, t->reference, t->random, t->name);
        }
    }
    return 0;
}

/* The score tables: runs ordered by agent, task, then as given. */
static int suite_tables(suite *s, bdrl_err *e)
{
    s->ord = calloc((size_t)s->nr, sizeof *s->ord);
    s->n_runs = calloc((size_t)(s->na * s->nt), sizeof *s->n_runs);
    s->off = calloc((size_t)s->na, sizeof *s->off);
    s->raw = calloc((size_t)s->nr, sizeof *s->raw);
    s->norm = calloc((size_t)s->nr, sizeof *s->norm);
    if (!s->ord || !s->n_runs || !s->off || !s->raw || !s->norm)
        return err_set(e, "out of memory");
    int k = 0;
    for (int a = 0; a < s->na; a++) {
        s->off[a] = k;
        for (int t = 0; t < s->nt; t++)
            for (int i = 0; i < s->nr; i++)
                if (s->run[i].a == a && s->run[i].t == t) {
                    s->ord[k] = i;
                    s->raw[k++] = s->run[i].score;
                    s->n_runs[a * s->nt + t]++;
                }
    }
    double *rnd = calloc((size_t)s->nt, sizeof *rnd), *ref = calloc((size_t)s->nt, sizeof *ref);
    int rc = rnd && ref ? 0 : err_set(e, "out of memory");
    for (int t = 0; !rc && t < s->nt; t++) {
        rnd[t] = s->task[t].random;
        ref[t] = s->task[t].reference;
    }
    for (int a = 0; !rc && a < s->na; a++) {
        agg_table tab = {s->nt, s->n_runs + a * s->nt, s->raw + s->off[a]};
        rc = agg_normalize(&tab, rnd, ref, s->norm + s->off[a], e);
    }
    free(rnd);
    free(ref);
    return rc;
}

static agg_table table_of(const suite *s, int a)
{
    return (agg_table){s->nt, s->n_runs + a * s->nt, s->norm + s->off[a]};
}

/* ---------------- statistics ---------------- */

static uint64_t name_stream(const char *name)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)name; *c; c++)
        h = (h ^ *c) * 1099511628211ull;
    return rng_mix64(h);
}

typedef struct {
    double est[AGG_N_STATS], lo[AGG_N_STATS], hi[AGG_N_STATS];
} suite_agent_stats;

typedef struct {
    suite_agent_stats *ag;        /* [na] */
    double *p, *plo, *phi;  /* [na * na]: P(row > column) */
    double tau[SUITE_TAUS];
    double *frac, *flo, *fhi; /* [na * SUITE_TAUS] */
} suite_stats;

static void stats_free(suite_stats *st)
{
    free(st->ag);
    free(st->p);
    free(st->plo);
    free(st->phi);
    free(st->frac);
    free(st->flo);
    free(st->fhi);
}

static int suite_compute(const suite *s, const suite_options *o, suite_stats *st, bdrl_err *e)
{
    int na = s->na, reps = o->reps > 0 ? o->reps : AGG_REPS;
    int preps = o->profile_reps > 0 ? o->profile_reps : AGG_PROFILE_REPS;
    size_t nn = (size_t)na * (size_t)na, nf = (size_t)na * SUITE_TAUS;
    st->ag = calloc((size_t)na, sizeof *st->ag);
    st->p = calloc(nn, sizeof *st->p);
    st->plo = calloc(nn, sizeof *st->plo);
    st->phi = calloc(nn, sizeof *st->phi);
    st->frac = calloc(nf, sizeof *st->frac);
    st->flo = calloc(nf, sizeof *st->flo);
    st->fhi = calloc(nf, sizeof *st->fhi);
    rng *r = rng_create(SUITE_SEED, 0);
    int rc = st->ag && st->p && st->plo && st->phi && st->frac && st->flo && st->fhi && r
                 ? 0
                 : err_set(e, "out of memory");
    /* the tau grid: a tenth beyond min(0, lowest score) and max(1, highest),
     * rounded out to tenths, so both ends show a flat profile */
    double lo = 0, hi = 1;
    for (int i = 0; i < s->nr; i++) {
        lo = fmin(lo, s->norm[i]);
        hi = fmax(hi, s->norm[i]);
    }
    lo = floor(lo * 10) / 10 - 0.1;
    hi = ceil(hi * 10) / 10 + 0.1;
    for (int i = 0; i < SUITE_TAUS; i++)
        st->tau[i] = lo + (hi - lo) * i / (SUITE_TAUS - 1);
    for (int a = 0; !rc && a < na; a++) {
        agg_table t = table_of(s, a);
        suite_agent_stats *g = &st->ag[a];
        rng_reseed(r, SUITE_SEED, name_stream(s->agent[a]));
        rc = agg_estimates(&t, AGG_GAMMA, g->est, e) ||
                     agg_intervals(&t, AGG_GAMMA, reps, AGG_LEVEL, r, g->lo, g->hi, e)
                 ? -1
                 : 0;
        if (!rc) {
            rng_reseed(r, SUITE_SEED, name_stream(s->agent[a]) ^ 0x70726f66696c65ull); /* "profile" */
            rc = agg_profile(&t, st->tau, SUITE_TAUS, st->frac + (size_t)a * SUITE_TAUS, e) ||
                         agg_profile_intervals(&t, st->tau, SUITE_TAUS, preps, AGG_LEVEL, r,
                                               st->flo + (size_t)a * SUITE_TAUS, st->fhi + (size_t)a * SUITE_TAUS, e)
                     ? -1
                     : 0;
        }
    }
    /* each pair once, the names in byte order as X (so the numbers do not
     * depend on the order of the configs); P(Y > X) = 1 - P(X > Y) */
    for (int a = 0; !rc && a < na; a++)
        for (int b = a + 1; !rc && b < na; b++) {
            int x = strcmp(s->agent[a], s->agent[b]) < 0 ? a : b, y = x == a ? b : a;
            agg_table tx = table_of(s, x), ty = table_of(s, y);
            double p, plo, phi;
            rng_reseed(r, SUITE_SEED, rng_mix64(name_stream(s->agent[x]) + name_stream(s->agent[y])));
            rc = agg_improvement(&tx, &ty, &p, e) ||
                         agg_improvement_interval(&tx, &ty, reps, AGG_LEVEL, r, &plo, &phi, e)
                     ? -1
                     : 0;
            st->p[x * na + y] = p;
            st->plo[x * na + y] = plo;
            st->phi[x * na + y] = phi;
            st->p[y * na + x] = 1 - p;
            st->plo[y * na + x] = 1 - phi;
            st->phi[y * na + x] = 1 - plo;
        }
    rng_free(r);
    return rc;
}

/* ---------------- files ---------------- */

static const char *const STAT_TITLES[AGG_N_STATS] = {"IQM", "median", "mean", "optimality gap"};

static const char *base_name(const char *dir)
{
    const char *b = strrchr(dir, '/');
    return b && b[1] ? b + 1 : dir;
}

static int write_csvs(const char *out, const suite *s, const suite_stats *st, bdrl_err *e)
{
    char path[4096];
    io_atomic f;
    if (io_join(path, sizeof path, out, "scores.csv", e) || io_atomic_open(&f, path, e))
        return -1;
    fprintf(f.f, "agent,task,config,run,score,random,reference,normalized\n");
    for (int k = 0; k < s->nr; k++) {
        const run_info *r = &s->run[s->ord[k]];
        const task_info *t = &s->task[r->t];
        fprintf(f.f, "%s,%s,%s,%s,%.10g,%.10g,%.10g,%.10g\n", s->agent[r->a], t->name, r->label, base_name(r->dir),
                s->raw[k], t->random, t->reference, s->norm[k]);
    }
    if (io_atomic_commit(&f, e))
        return -1;
    if (io_join(path, sizeof path, out, "aggregate.csv", e) || io_atomic_open(&f, path, e))
        return -1;
    fprintf(f.f, "agent,statistic,estimate,ci_lo,ci_hi\n");
    for (int a = 0; a < s->na; a++)
        for (int j = 0; j < AGG_N_STATS; j++)
            fprintf(f.f, "%s,%s,%.10g,%.10g,%.10g\n", s->agent[a], agg_stat_names[j], st->ag[a].est[j],
                    st->ag[a].lo[j], st->ag[a].hi[j]);
    if (io_atomic_commit(&f, e))
        return -1;
    if (io_join(path, sizeof path, out, "improvement.csv", e) || io_atomic_open(&f, path, e))
        return -1;
    fprintf(f.f, "agent_x,agent_y,p_x_gt_y,ci_lo,ci_hi\n");
    for (int a = 0; a < s->na; a++)
        for (int b = 0; b < s->na; b++)
            if (a != b)
                fprintf(f.f, "%s,%s,%.10g,%.10g,%.10g\n", s->agent[a], s->agent[b], st->p[a * s->na + b],
                        st->plo[a * s->na + b], st->phi[a * s->na + b]);
    return io_atomic_commit(&f, e);
}

static int write_md(const char *out, const suite *s, const suite_stats *st, const suite_options *o, int has_png,
                    bdrl_err *e)
{
    char path[4096];
    io_atomic f;
    if (io_join(path, sizeof path, out, "aggregate.md", e) || io_atomic_open(&f, path, e))
        return -1;
    FILE *m = f.f;
    fprintf(m, "# Aggregate over %d environments\n\n", s->nt);
    fprintf(m, "Agarwal et al. 2021 (rliable). Score of a run: %s (mean greedy return, or\n"
               "success rate where the threshold is on it), normalized per environment: 0 = the random\n"
               "policy's score, 1 = the reference (the evaluation threshold unless --reference). IQM: mean\n"
               "of the middle 50%% of all runs pooled; median and mean: of the per-environment means;\n"
               "optimality gap: mean shortfall below 1. Intervals: 95%% stratified percentile bootstrap\n"
               "(%d resamples, runs resampled within each environment). Definitions: docs/aggregate.md.\n\n",
            o->score == SUITE_SCORE_LAST_QUARTER ? "the mean of its evaluations over the last quarter of its steps"
                                                 : "its final evaluation",
            o->reps > 0 ? o->reps : AGG_REPS);
    fprintf(m, "| environment | score | random (0) | reference (1) |");
    for (int a = 0; a < s->na; a++)
        fprintf(m, " %s |", s->agent[a]);
    fprintf(m, "\n| --- | --- | ---: | ---: |");
    for (int a = 0; a < s->na; a++)
        fprintf(m, " --- |");
    fprintf(m, "\n");
    for (int t = 0; t < s->nt; t++) {
        const task_info *k = &s->task[t];
        fprintf(m, "| %s | %s | %.4g (%s) | %.4g (%s) |", k->name, k->on, k->random, k->random_src, k->reference,
                k->reference_src);
        for (int a = 0; a < s->na; a++)
            fprintf(m, " %s, %d runs |", s->cell[a * s->nt + t], s->n_runs[a * s->nt + t]);
        fprintf(m, "\n");
    }
    fprintf(m, "\n| agent |");
    for (int j = 0; j < AGG_N_STATS; j++)
        fprintf(m, " %s |", STAT_TITLES[j]);
    fprintf(m, "\n| --- |");
    for (int j = 0; j < AGG_N_STATS; j++)
        fprintf(m, " ---: |");
    fprintf(m, "\n");
    for (int a = 0; a < s->na; a++) {
        fprintf(m, "| %s |", s->agent[a]);
        for (int j = 0; j < AGG_N_STATS; j++)
            fprintf(m, " %.3f [%.3f, %.3f] |", st->ag[a].est[j], st->ag[a].lo[j], st->ag[a].hi[j]);
        fprintf(m, "\n");
    }
    if (s->na > 1) {
        fprintf(m, "\nProbability of improvement P(X > Y): per environment the chance that a run of X scores\n"
                   "above a run of Y (ties count 1/2), averaged over environments.\n\n"
                   "| X | Y | P(X > Y) |\n| --- | --- | ---: |\n");
        for (int a = 0; a < s->na; a++)
            for (int b = a + 1; b < s->na; b++)
                fprintf(m, "| %s | %s | %.3f [%.3f, %.3f] |\n", s->agent[a], s->agent[b], st->p[a * s->na + b],
                        st->plo[a * s->na + b], st->phi[a * s->na + b]);
    }
    if (has_png)
        fprintf(m, "\n![performance profiles: fraction of runs with normalized score above tau](profile.png)\n");
    return io_atomic_commit(&f, e);
}

static int write_profile(const char *out, const suite *s, const suite_stats *st, const suite_options *o,
                         bdrl_err *e)
{
    char prefix[4096], dat[4200], gp[4200], png[4200], script[PATH_MAX], title[256];
    if (io_join(prefix, sizeof prefix, out, "profile", e))
        return -1;
    snprintf(dat, sizeof dat, "%s.dat", prefix);
    snprintf(gp, sizeof gp, "%s.gp", prefix);
    snprintf(png, sizeof png, "%s.png", prefix);
    if (plot_find_script("profile.gp", script, sizeof script, e))
        return -1;
    io_atomic f;
    if (io_atomic_open(&f, dat, e))
        return -1;
    fprintf(f.f, "# performance profiles: per agent the fraction of runs whose normalized score exceeds tau\n"
                 "# (per environment, averaged over environments) and a 95%% stratified bootstrap band (%d "
                 "resamples)\n",
            o->profile_reps > 0 ? o->profile_reps : AGG_PROFILE_REPS);
    for (int a = 0; a < s->na; a++) {
        fprintf(f.f, "%s# agent %d: %s\n# tau fraction lo hi\n", a ? "\n\n" : "", a + 1, s->agent[a]);
        for (int i = 0; i < SUITE_TAUS; i++) {
            size_t j = (size_t)a * SUITE_TAUS + (size_t)i;
            fprintf(f.f, "%.10g %.10g %.10g %.10g\n", st->tau[i], st->frac[j], st->flo[j], st->fhi[j]);
        }
    }
    if (io_atomic_commit(&f, e) || io_atomic_open(&f, gp, e))
        return -1;
    fprintf(f.f, "# Performance profiles written by bdrl (data: %s). Redraw with: gnuplot %s\n", dat, gp);
    fprintf(f.f, "nagents = %d\narray labels[%d]\n", s->na, s->na);
    for (int a = 0; a < s->na; a++) {
        fprintf(f.f, "labels[%d] = ", a + 1);
        plot_write_quoted(f.f, s->agent[a]);
        fputc('\n', f.f);
    }
    snprintf(title, sizeof title, "score distributions: %d agents over %d environments (%d runs)", s->na, s->nt,
             s->nr);
    plot_write_redraw(f.f, dat, prefix, png, title, script);
    if (io_atomic_commit(&f, e))
        return -1;
    return plot_gnuplot("profile.gp", prefix, png, title, e);
}

int suite_write(const char *out_dir, const char *const *dirs, int n, const suite_options *o, int *bad_input,
                bdrl_err *e)
{
    static const suite_options defaults = {0};
    if (!o)
        o = &defaults;
    *bad_input = 0;
    suite s = {0};
    suite_stats st = {0};
    int rc = suite_read(&s, dirs, n, o->score, bad_input, e) || suite_normalizers(&s, o, bad_input, e) ||
                     suite_tables(&s, e) || suite_compute(&s, o, &st, e) || write_csvs(out_dir, &s, &st, e)
                 ? -1
                 : 0;
    if (!rc) {
        bdrl_err pe;
        int png = write_profile(out_dir, &s, &st, o, &pe) == 0;
        rc = write_md(out_dir, &s, &st, o, png, e);
        if (!rc && !png)
            rc = err_set(e, "no performance-profile figure: %s", pe.msg);
    }
    stats_free(&st);
    suite_free(&s);
    return rc;
}
