/* distplot.c — panels of return distributions (model, BDD samples, truth)
 * and plots of the BD fields, drawn by plots/dist_frozenlake.gp,
 * plots/dist_probes.gp and plots/fields.gp. */
#include "research/distplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/evaldist.h"
#include "agents/registry.h"
#include "train/run.h"
#include "truth/truth.h"
#include "core/io.h"
#include "core/plot.h"
#include "core/rng.h"
#include "research/figfiles.h"
#include "stats/metrics.h"

#define MAXR DISTPLOT_MAX_RUNS

void distplot_options_default(distplot_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = DISTPLOT_CDF;
    o->samples = 1000;
    o->action = -1;
    o->seed = 1;
}

const char *distplot_action_name(const env *en, int action)
{
    const char *n = env_action_name(en, action);
    return *n ? n : "?";
}

/* ---- small helpers ---- */

/* A law as atoms (values ascending, probabilities summing to 1). */
typedef struct {
    int n;
    double *v, *p;
} atoms;

static void atoms_free(atoms *a)
{
    free(a->v);
    free(a->p);
    a->v = a->p = NULL;
    a->n = 0;
}

static int atoms_equal(const atoms *a, const atoms *b)
{
    if (a->n != b->n)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (fabs(a->v[i] - b->v[i]) > 1e-12 || fabs(a->p[i] - b->p[i]) > 1e-12)
            return 0;
    return 1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Data files: opened once, one block per panel (gnuplot `index`). */
typedef struct {
    io_atomic a;
    int open;
} dfile;

static int dfile_open(dfile *d, const char *dir, const char *name, const char *header, bdrl_err *e)
{
    char p[4096];
    if (io_join(p, sizeof p, dir, name, e))
        return -1;
    if (io_atomic_open(&d->a, p, e))
        return -1;
    d->open = 1;
    fprintf(d->a.f, "# %s\n", header);
    return 0;
}

static void block_begin(dfile *d, int panel, const char *what)
{
    fprintf(d->a.f, "# panel %d: %s\n", panel, what);
}

static void block_end(dfile *d, int rows)
{
    if (!rows)
        fprintf(d->a.f, "NaN NaN\n");
    fprintf(d->a.f, "\n\n");
}

static int dfile_close(dfile *d, bdrl_err *e)
{
    if (!d->open)
        return 0;
    d->open = 0;
    return io_atomic_commit(&d->a, e);
}

static void dfile_abort(dfile *d)
{
    if (d->open)
        io_atomic_abort(&d->a);
    d->open = 0;
}

/* A CDF as a polyline: atoms give exact steps; lo/hi extend it flat. */
static int write_atoms_cdf(FILE *f, const double *v, const double *p, int n, double lo, double hi)
{
    double tot = 0, F = 0;
    for (int i = 0; i < n; i++)
        tot += p[i];
    fprintf(f, "%.10g 0\n", lo);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%.10g %.10g\n", v[i], F / tot);
        F += p[i];
        fprintf(f, "%.10g %.10g\n", v[i], F / tot);
    }
    fprintf(f, "%.10g 1\n", hi);
    return 2 * n + 2;
}

/* The smallest polyline x where the CDF reaches q (atoms). */
static double atoms_quantile(const double *v, const double *p, int n, double q)
{
    double tot = 0, F = 0;
    for (int i = 0; i < n; i++)
        tot += p[i];
    for (int i = 0; i < n; i++) {
        F += p[i];
        if (F >= q * tot)
            return v[i];
    }
    return v[n - 1];
}

/* ---- the runs ---- */

typedef struct {
    const char *dir;
    exp_config cfg;
    env *en;
    agent *ag;
    int can_sample;       /* the agent draws return samples (agent_can_sample: BD) */
    int n_atoms;          /* atoms of the reported law (C51; BD basis fields read out as atoms), else 0 */
    int *policy;          /* FrozenLake: the truth's policy (n_states) */
    const char *policy_name;
    char label[64];
    rng *r;
} prun;

static void prun_close(prun *p)
{
    if (p->ag)
        agent_free(p->ag);
    if (p->en)
        env_free(p->en);
    if (p->r)
        rng_free(p->r);
    free(p->policy);
    memset(p, 0, sizeof *p);
}

static int prun_open(prun *p, const char *dir, uint64_t seed, bdrl_err *e)
{
    memset(p, 0, sizeof *p);
    p->dir = dir;
    if (run_load(dir, &p->cfg, &p->en, &p->ag, e))
        return -1;
    p->can_sample = agent_can_sample(p->ag);
    /* the agent says what its law is: atoms (how many) or a density */
    agent_dist d;
    float obs0[ENV_OBS_MAX] = {0};
    if (agent_distribution(p->ag, obs0, 0, &d, e))
        return -1;
    p->n_atoms = d.is_density ? 0 : d.n;
    p->r = rng_create(seed, RNG_STREAM_SAMPLER);
    if (!p->r)
        return err_set(e, "out of memory");
    if (env_transition_table(p->en)) {
        const env_table *t = env_transition_table(p->en);
        p->policy = err_malloc(sizeof(int) * (size_t)t->n_states, e);
        if (!p->policy)
            return -1;
        if (evaldist_fl_policy(p->ag, &p->cfg, t, p->policy, &p->policy_name, e))
            return err_prefix(e, "%s", dir);
    } else {
        p->policy_name = "greedy";
    }
    return 0;
}

/* The truth of Z(s, a) under run p's policy: exact at state index panel
 * (tabular), else Monte Carlo from state (env_state_dim doubles). */
static int truth_of(prun *p, int panel, const double *state, int a, atoms *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    if (env_transition_table(p->en)) {
        truth_atoms d;
        if (truth_tab_distribution(env_transition_table(p->en), p->cfg.agent.gamma, p->policy, panel, a, &d, e))
            return -1;
        out->n = d.n;
        out->v = d.value;
        out->p = d.prob;
        double tot = 0;
        for (int i = 0; i < d.n; i++)
            tot += d.prob[i];
        for (int i = 0; i < d.n; i++)
            out->p[i] /= tot;
        return 0;
    }
    double ret;
    if (truth_mc_returns(&p->cfg.env, state, a, p->cfg.agent.gamma, 0, evaldist_greedy_action, p->ag, 1, &ret,
                          NULL, e))
        return -1;
    out->v = err_malloc(sizeof(double), e);
    out->p = err_malloc(sizeof(double), e);
    if (!out->v || !out->p)
        return atoms_free(out), -1;
    out->n = 1;
    out->v[0] = ret;
    out->p[0] = 1;
    return 0;
}

/* What one panel holds for one run. */
typedef struct {
    double *x, *w;          /* (n) copies of the agent_dist arrays */
    int n, is_density;
    double w1, w1_samples, mean_model, mean_truth, mass;
    double *smp;            /* (n_samples) sorted, or NULL */
    int n_smp, frozen;
} panel_run;

static void panel_run_free(panel_run *pr)
{
    free(pr->x);
    free(pr->w);
    free(pr->smp);
    memset(pr, 0, sizeof *pr);
}

static int panel_run_fill(prun *p, const float *obs, int a, const atoms *truth, int n_samples, panel_run *pr,
                          bdrl_err *e)
{
    memset(pr, 0, sizeof *pr);
    pr->w1 = pr->w1_samples = NAN;
    agent_dist d;
    if (agent_distribution(p->ag, obs, a, &d, e))
        return -1;
    pr->n = d.n;
    pr->is_density = d.is_density;
    pr->mass = d.mass;
    pr->x = err_malloc(sizeof(double) * (size_t)d.n, e);
    pr->w = err_malloc(sizeof(double) * (size_t)d.n, e);
    if (!pr->x || !pr->w)
        return -1;
    memcpy(pr->x, d.x, sizeof(double) * (size_t)d.n);
    memcpy(pr->w, d.w, sizeof(double) * (size_t)d.n);
    stat_dist *tr = stat_dist_atoms(truth->v, truth->p, (size_t)truth->n, e);
    if (!tr)
        return -1;
    pr->mean_truth = stat_dist_mean(tr);
    bdrl_err e2;
    stat_dist *m = pr->is_density ? stat_dist_grid(pr->w, (size_t)pr->n, pr->x[0], pr->x[pr->n - 1], NULL, &e2)
                                  : stat_dist_atoms(pr->x, pr->w, (size_t)pr->n, &e2);
    int has_law = m != NULL;
    if (m) { /* a field <= 0 on the whole grid has no law: NaN, drawn empty */
        pr->w1 = stat_w1(m, tr);
        pr->mean_model = stat_dist_mean(m);
        stat_dist_free(m);
    } else {
        pr->mean_model = NAN;
    }
    int rc = 0;
    if (p->can_sample && n_samples > 0 && has_law) {
        pr->smp = err_malloc(sizeof(double) * (size_t)n_samples, e);
        sde_config sc;
        sde_result res;
        agent_sampler_defaults(p->ag, &sc);
        if (!pr->smp || agent_sample(p->ag, obs, a, &sc, n_samples, pr->smp, &res, p->r, e)) {
            rc = -1;
        } else {
            pr->n_smp = n_samples;
            pr->frozen = res.n_frozen;
            qsort(pr->smp, (size_t)n_samples, sizeof(double), cmp_double);
            stat_dist *s = stat_dist_sample(pr->smp, (size_t)n_samples, e);
            if (!s)
                rc = -1;
            else {
                pr->w1_samples = stat_w1(s, tr);
                stat_dist_free(s);
            }
        }
    }
    stat_dist_free(tr);
    return rc;
}

/* The model's CDF polyline into f (and quantiles q_lo, q_hi). */
static int write_model_cdf(FILE *f, const panel_run *pr, double lo, double hi, double *qlo, double *qhi)
{
    if (!pr->is_density) {
        *qlo = atoms_quantile(pr->x, pr->w, pr->n, 0.002);
        *qhi = atoms_quantile(pr->x, pr->w, pr->n, 0.998);
        return write_atoms_cdf(f, pr->x, pr->w, pr->n, lo, hi);
    }
    int n = pr->n;
    double h = (pr->x[n - 1] - pr->x[0]) / (n - 1), tot = 0, F = 0;
    for (int i = 0; i < n; i++)
        tot += pr->w[i] > 0 ? pr->w[i] : 0;
    if (!(tot > 0) || !isfinite(tot))
        return 0;
    *qlo = pr->x[0];
    *qhi = pr->x[n - 1];
    int got_lo = 0, got_hi = 0;
    fprintf(f, "%.10g 0\n%.10g 0\n", lo, pr->x[0] - h / 2);
    for (int i = 0; i < n; i++) {
        F += pr->w[i] > 0 ? pr->w[i] : 0;
        fprintf(f, "%.10g %.10g\n", pr->x[i] + h / 2, F / tot);
        if (!got_lo && F / tot >= 0.002)
            *qlo = pr->x[i], got_lo = 1;
        if (!got_hi && F / tot >= 0.998)
            *qhi = pr->x[i], got_hi = 1;
    }
    fprintf(f, "%.10g 1\n", hi);
    return n + 3;
}

/* The model as probability per bin of width delta. */
static int write_model_pdf(FILE *f, const panel_run *pr, double delta)
{
    int n = pr->n, rows = 0;
    if (!pr->is_density) {
        /* an atom's probability is per bin of its own spacing dz */
        double dz = n > 1 ? (pr->x[n - 1] - pr->x[0]) / (n - 1) : delta, k = delta / dz;
        fprintf(f, "%.10g 0\n", pr->x[0] - dz / 2);
        for (int i = 0; i < n; i++)
            fprintf(f, "%.10g %.10g\n%.10g %.10g\n", pr->x[i] - dz / 2, k * pr->w[i], pr->x[i] + dz / 2,
                    k * pr->w[i]);
        fprintf(f, "%.10g 0\n", pr->x[n - 1] + dz / 2);
        return 2 * n + 2;
    }
    double h = (pr->x[n - 1] - pr->x[0]) / (n - 1), tot = 0;
    for (int i = 0; i < n; i++)
        tot += pr->w[i] > 0 ? pr->w[i] : 0;
    if (!(tot > 0) || !isfinite(tot))
        return 0;
    for (int i = 0; i < n; i++, rows++)
        fprintf(f, "%.10g %.10g\n", pr->x[i], (pr->w[i] > 0 ? pr->w[i] : 0) / (tot * h) * delta);
    return rows;
}

/* The largest value the pdf view draws for a model: BD density × delta or
 * a C51 atom's probability. */
static double model_pdf_max(const panel_run *pr, double delta)
{
    double mx = 0, tot = 0;
    for (int i = 0; i < pr->n; i++) {
        double w = pr->w[i] > 0 ? pr->w[i] : 0;
        mx = fmax(mx, w);
        tot += w;
    }
    if (pr->n < 2 || !(tot > 0))
        return mx;
    double h = (pr->x[pr->n - 1] - pr->x[0]) / (pr->n - 1);
    return pr->is_density ? mx / (tot * h) * delta : mx * delta / h;
}

/* Sample histogram: bins of width delta centred on origin + j delta. */
static int write_hist(FILE *f, const double *x, int n, double origin, double delta, double *ymax)
{
    if (!n)
        return 0;
    long j0 = lround((x[0] - origin) / delta), j1 = lround((x[n - 1] - origin) / delta);
    int rows = 0, k = 0;
    for (long j = j0; j <= j1; j++) {
        double hi_edge = origin + ((double)j + 0.5) * delta;
        int c = 0;
        while (k < n && (x[k] < hi_edge || j == j1)) {
            k++;
            c++;
        }
        if (c) {
            fprintf(f, "%.10g %.10g\n", origin + (double)j * delta, (double)c / n), rows++;
            *ymax = fmax(*ymax, (double)c / n);
        }
    }
    return rows;
}

/* ---- distplot_dist ---- */

static void fmt_w1(char *buf, size_t n, double w1)
{
    if (isnan(w1))
        snprintf(buf, n, "n/a");
    else if (w1 < 0.01)
        snprintf(buf, n, "%.4f", w1);
    else
        snprintf(buf, n, "%.3g", w1);
}

int distplot_dist(int n_runs, const char *const *run_dirs, const char *out_prefix, const distplot_options *o,
                  distplot_result *res, bdrl_err *e)
{
    if (n_runs < 1 || n_runs > MAXR)
        return err_set(e, "distplot: 1 to %d runs, not %d", MAXR, n_runs);
    prun runs[MAXR];
    memset(runs, 0, sizeof runs);
    int rc = -1, np = 0, is_fl = 0, ntruth = 1, bad = 1;
    int *act = NULL;
    atoms *truth = NULL; /* (np, n_runs) */
    panel_run *pan = NULL;
    char **titles = NULL;
    double *pxlo = NULL, *pxhi = NULL, *pymax = NULL;
    dfile files[4 * MAXR + 2 * MAXR + 1];
    memset(files, 0, sizeof files);
    char data_dir[4096], png[4096];
    const env_table *t = NULL;

    for (int r = 0; r < n_runs; r++)
        if (prun_open(&runs[r], run_dirs[r], o->seed, e))
            goto done;
    is_fl = env_transition_table(runs[0].en) != NULL;
    const env_kind_info *kin = env_kind_describe(env_get_kind(runs[0].en));
    if (!is_fl && kin->n_probes < 1) {
        err_set(e, "%s is on %s: distribution plots need reference laws, which exist for environments with "
                   "a transition table (exact) or probe states (Monte Carlo)", run_dirs[0], env_name(runs[0].en));
        goto done;
    }
    for (int r = 1; r < n_runs; r++) {
        if (env_get_kind(runs[r].en) != env_get_kind(runs[0].en)) {
            err_set(e, "%s is on %s, %s on %s: plot runs of one environment", run_dirs[0], env_name(runs[0].en),
                    run_dirs[r], env_name(runs[r].en));
            goto done;
        }
        if (is_fl) {
            const env_table *a = env_transition_table(runs[0].en), *b = env_transition_table(runs[r].en);
            if (a->nrow != b->nrow || a->ncol != b->ncol || memcmp(a->desc, b->desc, (size_t)a->n_states)) {
                err_set(e, "%s and %s are on different maps (transition tables)", run_dirs[0], run_dirs[r]);
                goto done;
            }
        }
    }
    /* labels; occurrence[r]: how many earlier runs have r's agent kind */
    int occurrence[MAXR] = {0};
    for (int r = 0; r < n_runs; r++) {
        const char *kind = agent_class_of(runs[r].cfg.agent.kind)->label;
        int same = 0;
        for (int q = 0; q < n_runs; q++)
            if (q != r && runs[q].cfg.agent.kind == runs[r].cfg.agent.kind)
                same = 1, occurrence[r] += q < r;
        if (o->labels[r] && *o->labels[r])
            snprintf(runs[r].label, sizeof runs[r].label, "%s", o->labels[r]);
        else if (same)
            snprintf(runs[r].label, sizeof runs[r].label, "%s (run %d)", kind, r + 1);
        else
            snprintf(runs[r].label, sizeof runs[r].label, "%s", kind);
    }
    int A = runs[0].ag->n_actions;
    if (o->action >= A) {
        err_set(e, "action %d is not in [0, %d]", o->action, A - 1);
        goto done;
    }
    bad = 0;
    if (is_fl) {
        t = env_transition_table(runs[0].en);
        np = t->n_states;
    } else {
        np = kin->n_probes;
    }
    act = err_calloc((size_t)np, sizeof(int), e);
    truth = err_calloc((size_t)np * n_runs, sizeof(atoms), e);
    pan = err_calloc((size_t)np * n_runs, sizeof(panel_run), e);
    titles = err_calloc((size_t)np, sizeof(char *), e);
    pxlo = err_calloc((size_t)np, sizeof(double), e);
    pxhi = err_calloc((size_t)np, sizeof(double), e);
    pymax = err_calloc((size_t)np, sizeof(double), e);
    if (!act || !truth || !pan || !titles || !pxlo || !pxhi || !pymax)
        goto done;

    /* Pass 1: actions and truths. */
    for (int p = 0; p < np; p++) {
        float obs[ENV_OBS_MAX] = {0};
        const double *st = is_fl ? NULL : kin->probe(p);
        act[p] = -1;
        if (is_fl) {
            if (truth_tab_is_terminal(t, p))
                continue;
            obs[0] = (float)p;
        } else if (env_observe_state(runs[0].en, st, obs, e)) {
            goto done;
        }
        if (o->action >= 0)
            act[p] = o->action;
        else if (is_fl)
            act[p] = runs[0].policy[p];
        else if (agent_greedy(runs[0].ag, obs, &act[p], e))
            goto done;
        for (int r = 0; r < n_runs; r++)
            if (truth_of(&runs[r], p, st, act[p], &truth[p * n_runs + r], e))
                goto done;
    }
    /* one truth line, unless some run's truth differs (another greedy policy) */
    for (int p = 0; p < np && ntruth == 1; p++)
        for (int r = 1; r < n_runs; r++)
            if (act[p] >= 0 && !atoms_equal(&truth[p * n_runs], &truth[p * n_runs + r]))
                ntruth = n_runs;

    /* Pass 2: models and samples. */
    for (int p = 0; p < np; p++) {
        if (act[p] < 0)
            continue;
        float obs[ENV_OBS_MAX] = {0};
        if (is_fl)
            obs[0] = (float)p;
        else if (env_observe_state(runs[0].en, kin->probe(p), obs, e))
            goto done;
        for (int r = 0; r < n_runs; r++)
            if (panel_run_fill(&runs[r], obs, act[p], &truth[p * n_runs + r], o->samples, &pan[p * n_runs + r], e)) {
                err_prefix(e, "%s", run_dirs[r]);
                goto done;
            }
    }

    /* Files. */
    snprintf(data_dir, sizeof data_dir, "%s_data", out_prefix);
    snprintf(png, sizeof png, "%s.png", out_prefix);
    if (io_mkdirs(data_dir, e))
        goto done;
    double vmin = runs[0].cfg.agent.v_min, vmax = runs[0].cfg.agent.v_max, width = vmax - vmin;
    double delta = width / 50;
    for (int r = n_runs - 1; r >= 0; r--)
        if (runs[r].n_atoms > 1)
            delta = (runs[r].cfg.agent.v_max - runs[r].cfg.agent.v_min) / (runs[r].n_atoms - 1);
    double far_lo = vmin - width, far_hi = vmax + width;
    dfile *tpdf = &files[0], *tcdf = &files[MAXR], *mpdf = &files[2 * MAXR], *mcdf = &files[3 * MAXR],
          *hist = &files[4 * MAXR], *ecdf = &files[5 * MAXR], *summ = &files[6 * MAXR];
    char name[64];
    for (int k = 0; k < ntruth; k++) {
        snprintf(name, sizeof name, "truth%d.dat", k + 1);
        if (dfile_open(&tpdf[k], data_dir, name, "true atoms: return probability", e))
            goto done;
        snprintf(name, sizeof name, "truth%d_cdf.dat", k + 1);
        if (dfile_open(&tcdf[k], data_dir, name, "true CDF (polyline): return F", e))
            goto done;
    }
    for (int r = 0; r < n_runs; r++) {
        snprintf(name, sizeof name, "run%d_pdf.dat", r + 1);
        if (dfile_open(&mpdf[r], data_dir, name,
                       !runs[r].n_atoms ? "model: return density*bin (probability per bin of the figure's width)"
                                        : "model atoms as a histogram outline: return probability",
                       e))
            goto done;
        snprintf(name, sizeof name, "run%d_cdf.dat", r + 1);
        if (dfile_open(&mcdf[r], data_dir, name, "model CDF (polyline): return F", e))
            goto done;
        snprintf(name, sizeof name, "run%d_hist.dat", r + 1);
        if (dfile_open(&hist[r], data_dir, name, "BDD samples: bin centre, fraction of samples", e))
            goto done;
        snprintf(name, sizeof name, "run%d_ecdf.dat", r + 1);
        if (dfile_open(&ecdf[r], data_dir, name, "BDD samples' empirical CDF (polyline): return F", e))
            goto done;
    }
    {
        char p[4096];
        if (io_join(p, sizeof p, data_dir, "summary.csv", e) || io_atomic_open(&summ->a, p, e))
            goto done;
        summ->open = 1;
        fprintf(summ->a.f, "panel,state,action,run,label,agent,w1,w1_samples,mean_model,mean_truth,mass,"
                           "frozen_walkers\n");
    }
    double sum_w1[MAXR] = {0}, sum_w1s[MAXR] = {0};
    int n_w1[MAXR] = {0}, n_w1s[MAXR] = {0}, n_panels = 0;
    for (int p = 0; p < np; p++) {
        char what[128];
        int live = act[p] >= 0;
        if (live)
            snprintf(what, sizeof what, "%s %d, action %d (%s)", is_fl ? "state" : "probe", p, act[p],
                     distplot_action_name(runs[0].en, act[p]));
        else
            snprintf(what, sizeof what, "state %d, terminal (no distribution)", p);
        double qlo = INFINITY, qhi = -INFINITY, ymodel = 0, ytruth = 0;
        for (int k = 0; k < ntruth; k++) {
            block_begin(&tpdf[k], p, what);
            block_begin(&tcdf[k], p, what);
            int rows = 0, rows_c = 0;
            if (live) {
                atoms *tr = &truth[p * n_runs + k];
                for (int i = 0; i < tr->n; i++, rows++) {
                    fprintf(tpdf[k].a.f, "%.10g %.10g\n", tr->v[i], tr->p[i]);
                    ytruth = fmax(ytruth, tr->p[i]);
                }
                rows_c = write_atoms_cdf(tcdf[k].a.f, tr->v, tr->p, tr->n, far_lo, far_hi);
                qlo = fmin(qlo, tr->v[0]);
                qhi = fmax(qhi, tr->v[tr->n - 1]);
            }
            block_end(&tpdf[k], rows);
            block_end(&tcdf[k], rows_c);
        }
        for (int r = 0; r < n_runs; r++) {
            panel_run *pr = &pan[p * n_runs + r];
            int r1 = 0, r2 = 0, r3 = 0, r4 = 0;
            block_begin(&mpdf[r], p, what);
            block_begin(&mcdf[r], p, what);
            block_begin(&hist[r], p, what);
            block_begin(&ecdf[r], p, what);
            if (live) {
                double a_lo, a_hi;
                r1 = write_model_pdf(mpdf[r].a.f, pr, delta);
                if (r1)
                    ymodel = fmax(ymodel, model_pdf_max(pr, delta));
                r2 = write_model_cdf(mcdf[r].a.f, pr, far_lo, far_hi, &a_lo, &a_hi);
                if (r2) {
                    qlo = fmin(qlo, a_lo);
                    qhi = fmax(qhi, a_hi);
                }
                if (pr->n_smp) {
                    r3 = write_hist(hist[r].a.f, pr->smp, pr->n_smp, vmin, delta, &ymodel);
                    double *pp = malloc(sizeof(double) * (size_t)pr->n_smp);
                    if (!pp) {
                        err_set(e, "out of memory");
                        goto done;
                    }
                    for (int i = 0; i < pr->n_smp; i++)
                        pp[i] = 1;
                    r4 = write_atoms_cdf(ecdf[r].a.f, pr->smp, pp, pr->n_smp, far_lo, far_hi);
                    free(pp);
                    int i_lo = (int)(0.002 * pr->n_smp), i_hi = (int)(0.998 * (pr->n_smp - 1));
                    qlo = fmin(qlo, pr->smp[i_lo]);
                    qhi = fmax(qhi, pr->smp[i_hi]);
                }
                fprintf(summ->a.f, "%d,%d,%d,%d,\"%s\",%s,%.10g,%.10g,%.10g,%.10g,%.10g,%d\n", p, p, act[p], r + 1,
                        runs[r].label, runs[r].ag->ops->name, pr->w1, pr->w1_samples, pr->mean_model,
                        pr->mean_truth, pr->mass, pr->frozen);
                if (!isnan(pr->w1))
                    sum_w1[r] += pr->w1, n_w1[r]++;
                if (!isnan(pr->w1_samples))
                    sum_w1s[r] += pr->w1_samples, n_w1s[r]++;
            }
            block_end(&mpdf[r], r1);
            block_end(&mcdf[r], r2);
            block_end(&hist[r], r3);
            block_end(&ecdf[r], r4);
        }
        /* pdf y range: the models' scale; a true atom far taller than every
         * model (CartPole's single atom of probability 1) runs off the top
         * rather than squash the models. */
        pymax[p] = 1.1 * (ytruth <= 2 * ymodel || !(ymodel > 0) ? fmax(ymodel, ytruth) : ymodel);
        if (!(pymax[p] > 0))
            pymax[p] = 1;
        /* x range: FrozenLake the whole return range; CartPole around the mass */
        if (is_fl || !isfinite(qlo)) {
            pxlo[p] = vmin - 0.1 * width;
            pxhi[p] = vmax + 0.05 * width;
        } else {
            double pad = fmax(0.15 * (qhi - qlo), 2 * delta);
            pxlo[p] = fmax(qlo - pad, vmin - 0.125 * width);
            pxhi[p] = fmin(qhi + pad, vmax + 0.05 * width);
        }
        /* title */
        char tt[512];
        int k = 0;
        const char *label = is_fl ? env_state_label(runs[0].en, p) : "";
        if (live) {
            if (is_fl)
                k = snprintf(tt, sizeof tt, "state %d%s%s%s · %s", p, *label ? " (" : "", label, *label ? ")" : "",
                             distplot_action_name(runs[0].en, act[p]));
            else
                k = snprintf(tt, sizeof tt, "%d %s · %s", p, kin->probe_name(p),
                             distplot_action_name(runs[0].en, act[p]));
            k += snprintf(tt + k, sizeof tt - (size_t)k, "\nW1");
            for (int r = 0; r < n_runs && k < (int)sizeof tt - 40; r++) {
                char w[32];
                fmt_w1(w, sizeof w, pan[p * n_runs + r].w1);
                k += snprintf(tt + k, sizeof tt - (size_t)k, "%s %s %s", r ? "," : "", runs[r].label, w);
            }
            n_panels++;
        } else {
            snprintf(tt, sizeof tt, "state %d", p);
        }
        titles[p] = strdup(tt);
        if (!titles[p]) {
            err_set(e, "out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (dfile_close(&files[i], e))
            goto done;

    /* meta.gp */
    {
        char p[4096];
        io_atomic m;
        if (io_join(p, sizeof p, data_dir, "meta.gp", e) || io_atomic_open(&m, p, e))
            goto done;
        FILE *f = m.f;
        /* a tabular env's drawing of its states; probes five to a row */
        int nrow = is_fl ? t->nrow : (np + 4) / 5, ncol = is_fl ? t->ncol : 5;
        fprintf(f, "# Panels of %s %s (written by bdrl plot dist; read by the plot script)\n", env_display_name(runs[0].en),
                is_fl ? "states" : "probe states");
        fprintf(f, "nrow = %d; ncol = %d; npanels = %d\nnruns = %d; ntruth = %d\n", nrow, ncol, np, n_runs, ntruth);
        fprintf(f, "mode = '%s'; binw = %.10g\n", o->mode == DISTPLOT_CDF ? "cdf" : "pdf", delta);
        char yl[128];
        if (o->mode == DISTPLOT_CDF)
            snprintf(yl, sizeof yl, "P(return <= x)");
        else
            snprintf(yl, sizeof yl, "probability per bin of %.3g", delta);
        fprintf(f, "ylab = ");
        fig_gp_str(f, yl);
        fprintf(f, "\narray cell[%d]\narray ptitle[%d]\narray plabel[%d]\narray pxlo[%d]\narray pxhi[%d]\n"
                   "array pymax[%d]\n", np, np, np, np, np, np);
        for (int i = 0; i < np; i++) {
            char c = is_fl ? t->desc[i] : 'P';
            fprintf(f, "cell[%d] = '%c'; pxlo[%d] = %.10g; pxhi[%d] = %.10g; pymax[%d] = %.10g; ptitle[%d] = ", i + 1,
                    c, i + 1, pxlo[i], i + 1, pxhi[i], i + 1, pymax[i], i + 1);
            fig_gp_str(f, titles[i]);
            /* a terminal panel's big text: the env's label of the state */
            const char *l = is_fl ? env_state_label(runs[0].en, i) : "";
            fprintf(f, "; plabel[%d] = ", i + 1);
            fig_gp_str(f, *l ? l : "terminal");
            fputc('\n', f);
        }
        /* Colours follow the agent kind (its registry index: BD blue, C51
         * red, ...), so an agent has one colour in every figure whatever its
         * slot; a second run of the same kind gets a second shade, lighter
         * versions draw its samples. */
        static const char *colors[][2] = {{"#1f77b4", "#17becf"}, {"#d62728", "#ff7f0e"}, {"#2ca02c", "#98a02c"},
                                          {"#9467bd", "#e377c2"}, {"#8c564b", "#bcbd22"}, {"#7f7f7f", "#393b79"}};
        static const char *light[][2] = {{"#9ec5e8", "#a8e4ec"}, {"#f4a6a6", "#ffcc99"}, {"#a6dba0", "#d4d99a"},
                                         {"#cbb6e0", "#f3bde3"}, {"#c9ada7", "#e5e58f"}, {"#c7c7c7", "#9c9ed2"}};
        const int n_colors = (int)(sizeof colors / sizeof colors[0]);
        fprintf(f, "array rlabel[%d]\narray rmodel[%d]\narray rsamp[%d]\narray rsamples[%d]\narray rcolor[%d]\n"
                   "array rlight[%d]\narray rbd[%d]\narray tlabel[%d]\n",
                n_runs, n_runs, n_runs, n_runs, n_runs, n_runs, n_runs, ntruth);
        for (int r = 0; r < n_runs; r++) {
            char s[160];
            fprintf(f, "rlabel[%d] = ", r + 1);
            fig_gp_str(f, runs[r].label);
            if (!runs[r].n_atoms)
                snprintf(s, sizeof s, "%s: model density (grid)", runs[r].label);
            else if (runs[r].can_sample)
                snprintf(s, sizeof s, "%s: model atoms (the basis coefficients)", runs[r].label);
            else
                snprintf(s, sizeof s, "%s: model atoms", runs[r].label);
            fprintf(f, "; rmodel[%d] = ", r + 1);
            fig_gp_str(f, s);
            snprintf(s, sizeof s, "%s: %d Bellman Diffusion samples", runs[r].label, o->samples);
            fprintf(f, "; rsamp[%d] = ", r + 1);
            fig_gp_str(f, s);
            int kc = runs[r].cfg.agent.kind % n_colors, shade = occurrence[r] % 2;
            fprintf(f, "; rsamples[%d] = %d; rbd[%d] = %d; rcolor[%d] = '%s'; rlight[%d] = '%s'\n", r + 1,
                    runs[r].can_sample && o->samples > 0, r + 1, runs[r].can_sample, r + 1, colors[kc][shade], r + 1,
                    light[kc][shade]);
        }
        for (int k = 0; k < ntruth; k++) {
            char s[200];
            const char *how = is_fl ? "exact" : "Monte Carlo";
            if (ntruth == 1)
                snprintf(s, sizeof s, "truth (%s, %s policy)", how, runs[0].policy_name);
            else
                snprintf(s, sizeof s, "truth (%s, %s's %s policy)", how, runs[k].label, runs[k].policy_name);
            fprintf(f, "tlabel[%d] = ", k + 1);
            fig_gp_str(f, s);
            fputc('\n', f);
        }
        if (io_atomic_commit(&m, e))
            goto done;
    }
    const char *script = is_fl ? "dist_frozenlake.gp" : "dist_probes.gp";
    char title[512];
    if (o->title && *o->title)
        snprintf(title, sizeof title, "%s", o->title);
    else if (is_fl)
        snprintf(title, sizeof title, "%s %dx%d: return distribution of each state under the %s policy "
                 "(gamma %g)", env_display_name(runs[0].en), t->nrow, t->ncol, runs[0].policy_name,
                 runs[0].cfg.agent.gamma);
    else
        snprintf(title, sizeof title, "%s probe states: return distribution of the greedy action (gamma %g)",
                 env_display_name(runs[0].en), runs[0].cfg.agent.gamma);
    if (fig_write_replot(out_prefix, script, title, e) || plot_gnuplot(script, data_dir, png, title, e))
        goto done;
    if (res) {
        memset(res, 0, sizeof *res);
        res->n_panels = n_panels;
        for (int r = 0; r < n_runs; r++) {
            res->mean_w1[r] = n_w1[r] ? sum_w1[r] / n_w1[r] : NAN;
            res->mean_w1_samples[r] = n_w1s[r] ? sum_w1s[r] / n_w1s[r] : NAN;
            snprintf(res->label[r], sizeof res->label[r], "%s", runs[r].label);
        }
    }
    rc = 0;
done:
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        dfile_abort(&files[i]);
    if (truth)
        for (int i = 0; i < np * n_runs; i++)
            atoms_free(&truth[i]);
    if (pan)
        for (int i = 0; i < np * n_runs; i++)
            panel_run_free(&pan[i]);
    if (titles)
        for (int i = 0; i < np; i++)
            free(titles[i]);
    free(titles);
    free(truth);
    free(pan);
    free(act);
    free(pxlo);
    free(pxhi);
    free(pymax);
    for (int r = 0; r < n_runs; r++)
        prun_close(&runs[r]);
    return rc && bad ? DISTPLOT_BAD_INPUT : rc;
}

/* ---- distplot_fields ---- */

int distplot_fields(const char *run_dir, const char *state_text, int action, const char *out_prefix,
                    const char *title, int *action_out, bdrl_err *e)
{
    prun run;
    int rc = -1, bad = 1;
    /* N points over the grid range; the finite difference of s spans
     * ±FD_K points (0.01 in u at the default range), finer than the kernel
     * width sqrt(ε) ≈ 0.03 but coarse enough not to magnify the ReLU kinks. */
    enum { N = 501, FD_K = 2 };
    double *u = NULL, *s = NULL, *g = NULL;
    atoms tr = {0};
    if (prun_open(&run, run_dir, 1, e))
        goto done;
    if (!agent_has_fields(run.ag)) {
        err_set(e, "%s is a %s run: only Bellman Diffusion runs have fields (see 'bdrl plot dist')", run_dir,
                run.ag->ops->name);
        goto done;
    }
    int is_fl = env_transition_table(run.en) != NULL, A = run.ag->n_actions;
    float obs[ENV_OBS_MAX] = {0};
    double st[ENV_STATE_MAX] = {0};
    if (evaldist_parse_state(run.en, state_text, obs, st, e))
        goto done;
    int state = is_fl ? (int)obs[0] : -1;
    if (is_fl && truth_tab_is_terminal(env_transition_table(run.en), state)) {
        err_set(e, "state %d is terminal: its return is 0 and the agent never learns it", state);
        goto done;
    }
    if (action >= A) {
        err_set(e, "action %d is not in [0, %d]", action, A - 1);
        goto done;
    }
    if (action < 0) {
        if (is_fl)
            action = run.policy[state];
        else if (agent_greedy(run.ag, obs, &action, e))
            goto done;
    }
    if (action_out)
        *action_out = action;
    bad = 0;
    if (truth_of(&run, state, st, action, &tr, e))
        goto done;
    agent_field_range geo;
    run.ag->ops->field_range(run.ag, &geo);
    u = err_malloc(sizeof(double) * N, e);
    s = err_malloc(sizeof(double) * N * (size_t)A, e);
    g = err_malloc(sizeof(double) * N * (size_t)A, e);
    if (!u || !s || !g)
        goto done;
    double du = (geo.hi - geo.lo) / (N - 1);
    for (int i = 0; i < N; i++)
        u[i] = geo.lo + i * du;
    if (run.ag->ops->fields(run.ag, obs, N, u, s, g, e))
        goto done;
    char data_dir[4096], png[4096], p[4096];
    snprintf(data_dir, sizeof data_dir, "%s_data", out_prefix);
    snprintf(png, sizeof png, "%s.png", out_prefix);
    if (io_mkdirs(data_dir, e))
        goto done;
    io_atomic f;
    if (io_join(p, sizeof p, data_dir, "fields.dat", e) || io_atomic_open(&f, p, e))
        goto done;
    fprintf(f.f, "# return u s(u) g(u) ds/du (central difference of s over +-%d points)\n", FD_K);
    double mass = 0;
    for (int i = 0; i < N; i++) {
        double si = s[i * A + action];
        int a0 = i > FD_K ? i - FD_K : 0, a1 = i < N - 1 - FD_K ? i + FD_K : N - 1;
        double fd = (s[a1 * A + action] - s[a0 * A + action]) / ((a1 - a0) * du);
        fprintf(f.f, "%.10g %.10g %.10g %.10g %.10g\n", geo.c + geo.h * u[i], u[i], si, g[i * A + action], fd);
        mass += (si > 0 ? si : 0) * du;
    }
    if (io_atomic_commit(&f, e))
        goto done;
    if (io_join(p, sizeof p, data_dir, "truth.dat", e) || io_atomic_open(&f, p, e))
        goto done;
    fprintf(f.f, "# true atoms: return probability\n");
    for (int i = 0; i < tr.n; i++)
        fprintf(f.f, "%.10g %.10g\n", tr.v[i], tr.p[i]);
    if (io_atomic_commit(&f, e))
        goto done;
    if (io_join(p, sizeof p, data_dir, "meta.gp", e) || io_atomic_open(&f, p, e))
        goto done;
    char sub[256];
    if (is_fl)
        snprintf(sub, sizeof sub, "state %d · %s", state, distplot_action_name(run.en, action));
    else
        snprintf(sub, sizeof sub, "state (%g, %g, %g, %g) · %s", obs[0], obs[1], obs[2], obs[3],
                 distplot_action_name(run.en, action));
    fprintf(f.f, "# written by bdrl plot fields\nc = %.10g; h = %.10g; ulo = %.10g; uhi = %.10g; mass = %.10g\n",
            geo.c, geo.h, geo.lo, geo.hi, mass);
    char sub2[400];
    snprintf(sub2, sizeof sub2, "%s  (grid mass of max(s, 0): %.3f)", sub, mass);
    fprintf(f.f, "sub = ");
    fig_gp_str(f.f, sub2);
    char fdl[128];
    snprintf(fdl, sizeof fdl, "ds/du (central difference over %.3g in u)", 2 * FD_K * du);
    fprintf(f.f, "\nfdlab = ");
    fig_gp_str(f.f, fdl);
    fprintf(f.f, "\ntruthlab = ");
    fig_gp_str(f.f, is_fl ? "true atoms (exact; probability, right axis)"
                      : "true return (Monte Carlo; probability, right axis)");
    fputc('\n', f.f);
    if (io_atomic_commit(&f, e))
        goto done;
    char ttl[512];
    if (title && *title)
        snprintf(ttl, sizeof ttl, "%s", title);
    else
        snprintf(ttl, sizeof ttl, "Bellman Diffusion fields of %s", run_dir);
    if (fig_write_replot(out_prefix, "fields.gp", ttl, e) || plot_gnuplot("fields.gp", data_dir, png, ttl, e))
        goto done;
    rc = 0;
done:
    free(u);
    free(s);
    free(g);
    atoms_free(&tr);
    prun_close(&run);
    return rc && bad ? DISTPLOT_BAD_INPUT : rc;
}
