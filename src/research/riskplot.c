/* riskplot.c — one state's laws under a sweep of a risk measure, and the
 * returns of greedy episodes (riskplot.h), drawn by plots/risk.gp and
 * plots/returns.gp. */
#include "research/riskplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent.h"
#include "core/io.h"
#include "core/plot.h"
#include "research/figfiles.h"
#include "train/evaldist.h"
#include "train/evaluate.h"
#include "train/run.h"
#include "train/train.h"
#include "truth/risk_policy.h"
#include "truth/truth.h"

#define MAXA RISKPLOT_MAX_ACTIONS
#define MAXP 256
/* CDF rows reach this far beyond the laws, so gnuplot's clipping draws them
 * to the edges of the axis. */
#define FAR 1e6

/* ---- the sweep ---- */

int riskplot_sweep_params(risk_measure family, const risk_spec *own, double *param, int max)
{
    double lo, hi;
    int n;
    switch (family) {
    case RISK_CVAR: /* alpha in (0, 1]: 1/n, 2/n, ..., 1 */
    case RISK_VAR:  /* alpha in (0, 1): the same without 1 */
        n = max < 200 ? max : 200;
        for (int i = 0; i < n; i++)
            param[i] = (i + 1.0) / n;
        if (family == RISK_VAR)
            for (int i = 0; i < n; i++)
                param[i] = (i + 0.5) / n;
        return n;
    case RISK_WANG: lo = -3, hi = 3; break;
    case RISK_POW: lo = -5, hi = 5; break;
    case RISK_CPW: lo = 0.28, hi = 3; break;
    default: return -1;
    }
    if (own && own->measure == family) {
        lo = fmin(lo, own->param);
        hi = fmax(hi, own->param);
    }
    n = max < 201 ? max : 201;
    for (int i = 0; i < n; i++)
        param[i] = lo + (hi - lo) * i / (n - 1);
    return n;
}

/* The number of actions within the tie tolerance of the best. */
static int n_best(const double *v, int n)
{
    double best = v[0];
    for (int a = 1; a < n; a++)
        best = fmax(best, v[a]);
    double tol = TRUTH_TIE_TOL * fmax(1.0, fabs(best));
    int k = 0;
    for (int a = 0; a < n; a++)
        k += v[a] >= best - tol;
    return k;
}

int riskplot_best(const double *v, int n)
{
    double best = v[0];
    for (int a = 1; a < n; a++)
        best = fmax(best, v[a]);
    double tol = TRUTH_TIE_TOL * fmax(1.0, fabs(best));
    for (int a = 0; a < n; a++)
        if (v[a] >= best - tol)
            return a;
    return 0;
}

int riskplot_flips(const double *param, const double *values, int n_points, int n_actions, riskplot_flip *out,
                   int max)
{
    int k = 0;
    for (int i = 1; i < n_points; i++) {
        int from = riskplot_best(values + (size_t)(i - 1) * n_actions, n_actions);
        int to = riskplot_best(values + (size_t)i * n_actions, n_actions);
        int tie = n_best(values + (size_t)(i - 1) * n_actions, n_actions) > 1 ||
                  n_best(values + (size_t)i * n_actions, n_actions) > 1;
        if (from != to && k < max)
            out[k++] = (riskplot_flip){param[i - 1], param[i], from, to, tie};
    }
    return k;
}

/* ---- laws as CDF polylines ---- */

/* Writes one action's law as a CDF polyline (atoms: steps; a density on a
 * grid: cells around the grid points, stat_dist_grid's reading) and widens
 * [*lo, *hi] to where it is between 0.001 and 0.999. Returns the rows. */
static int write_cdf(FILE *f, const double *x, const double *w, int n, int density, double *lo, double *hi)
{
    double z = 0;
    for (int i = 0; i < n; i++)
        if (w[i] > 0)
            z += w[i];
    if (!(z > 0) || !isfinite(z))
        return 0;
    double h = density && n > 1 ? (x[n - 1] - x[0]) / (n - 1) : 0, F = 0;
    int rows = 0;
    fprintf(f, "%.10g 0\n", -FAR);
    rows++;
    for (int i = 0; i < n; i++) {
        double p = w[i] > 0 ? w[i] / z : 0, Fn = fmin(1.0, F + p);
        double xl = density ? x[i] - h / 2 : x[i], xr = density ? x[i] + h / 2 : x[i];
        if (p > 0) {
            fprintf(f, "%.10g %.10g\n%.10g %.10g\n", xl, F, xr, Fn);
            rows += 2;
            if (Fn > 0.001 && xl < *lo)
                *lo = xl;
            if (F < 0.999 && xr > *hi)
                *hi = xr;
        }
        F = Fn;
    }
    fprintf(f, "%.10g 1\n", FAR);
    return rows + 1;
}

/* F(v) of a law: the mass at or below v (atoms), or the cells' mass up to v
 * (a density read as cells), for a mark on the curve. */
static double cdf_at(const double *x, const double *w, int n, int density, double v)
{
    double z = 0, F = 0;
    for (int i = 0; i < n; i++)
        if (w[i] > 0)
            z += w[i];
    if (!(z > 0))
        return NAN;
    double h = density && n > 1 ? (x[n - 1] - x[0]) / (n - 1) : 0;
    for (int i = 0; i < n; i++) {
        double p = w[i] > 0 ? w[i] / z : 0;
        if (!density) {
            if (x[i] <= v + 1e-12 * fmax(1.0, fabs(v)))
                F += p;
        } else {
            double xl = x[i] - h / 2, xr = x[i] + h / 2;
            if (v >= xr)
                F += p;
            else if (v > xl)
                F += p * (v - xl) / h;
        }
    }
    return fmin(F, 1.0);
}

static const char *family_name(risk_measure m)
{
    switch (m) {
    case RISK_CVAR: return "cvar";
    case RISK_VAR: return "var";
    case RISK_WANG: return "wang";
    case RISK_POW: return "pow";
    case RISK_CPW: return "cpw";
    default: return "mean";
    }
}

/* The policy the run's exact laws continue with, as `bdrl eval` takes it
 * (evaldist_run): optimal in evaluate mode, the exact risk-greedy policy for
 * a control run acting on a measure, else the run's greedy policy. */
static int truth_policy(agent *ag, const exp_config *cfg, const env_table *t, int *policy, const char **name,
                        bdrl_err *e)
{
    if (cfg->agent.mode == AGENT_CONTROL && cfg->agent.risk.measure != RISK_MEAN) {
        risk_greedy g;
        if (truth_tab_risk_greedy(t, cfg->agent.gamma, &cfg->agent.risk, 0, &g, e))
            return -1;
        memcpy(policy, g.policy, sizeof(int) * (size_t)t->n_states);
        risk_greedy_free(&g);
        *name = "risk-greedy";
        return 0;
    }
    return evaldist_fl_policy(ag, cfg, t, policy, name, e);
}

typedef struct {
    io_atomic a;
    int open;
} dfile;

static int dopen(dfile *d, const char *dir, const char *name, const char *header, bdrl_err *e)
{
    char p[4096];
    if (io_join(p, sizeof p, dir, name, e) || io_atomic_open(&d->a, p, e))
        return -1;
    d->open = 1;
    fprintf(d->a.f, "# %s\n", header);
    return 0;
}

static int dclose(dfile *d, bdrl_err *e)
{
    if (!d->open)
        return 0;
    d->open = 0;
    return io_atomic_commit(&d->a, e);
}

static void dabort(dfile *d)
{
    if (d->open)
        io_atomic_abort(&d->a);
    d->open = 0;
}

/* The action's name for figures, never empty. */
static void action_name(const env *en, int a, char *buf, size_t n)
{
    const char *nm = env_action_name(en, a);
    if (nm && *nm)
        snprintf(buf, n, "%s", nm);
    else
        snprintf(buf, n, "action %d", a);
}

/* ---- plot risk ---- */

int riskplot_risk(const char *run_dir, const char *state_text, const riskplot_risk_options *o,
                  const char *out_prefix, riskplot_risk_result *res, bdrl_err *e)
{
    exp_config cfg;
    env *en = NULL;
    agent *ag = NULL;
    int rc = -1, bad = 1;
    double *lx[MAXA] = {0}, *lw[MAXA] = {0};
    int ln[MAXA] = {0}, ldens[MAXA] = {0};
    truth_atoms ex[MAXA];
    memset(ex, 0, sizeof ex);
    int *policy = NULL;
    double *learned = NULL, *exact = NULL;
    dfile f[5];
    memset(f, 0, sizeof f);
    riskplot_risk_result r;
    memset(&r, 0, sizeof r);

    if (run_load(run_dir, &cfg, &en, &ag, e))
        goto done;
    const int A = ag->n_actions;
    if (A > MAXA) {
        err_set(e, "%s has %d actions; plot risk draws at most %d", run_dir, A, MAXA);
        goto done;
    }
    if (!ag->ops->risk_values) {
        err_set(e, "%s is a %s run: it learns no return law to distort (plot risk needs a distributional agent)",
                run_dir, ag->ops->name);
        goto done;
    }
    float obs[ENV_OBS_MAX] = {0};
    double st[ENV_STATE_MAX] = {0};
    if (evaldist_parse_state(en, state_text, obs, st, e))
        goto done;
    const env_table *t = env_transition_table(en);
    r.state = env_is_tabular(en) ? (int)obs[0] : -1;
    if (t && truth_tab_is_terminal(t, r.state)) {
        err_set(e, "state %d is terminal: its return is 0 and the agent never acts there", r.state);
        goto done;
    }
    risk_measure family = o && o->family_given ? o->family
                          : cfg.agent.risk.measure == RISK_MEAN ? RISK_CVAR : cfg.agent.risk.measure;
    double param[MAXP];
    int np = riskplot_sweep_params(family, &cfg.agent.risk, param, MAXP);
    if (np < 2) {
        err_set(e, "plot risk sweeps a family with a parameter (cvar, var, wang, pow, cpw), not %s",
                family_name(family));
        goto done;
    }
    bad = 0;
    r.n_actions = A;
    r.n_points = np;
    r.has_exact = t != NULL;
    risk_spec_format(&cfg.agent.risk, r.own, sizeof r.own);
    snprintf(r.family, sizeof r.family, "%s", family_name(family));
    if (agent_greedy(ag, obs, &r.greedy, e))
        goto done;

    /* the learned laws (copies: the agent's arrays live until its next call) */
    for (int a = 0; a < A; a++) {
        agent_dist d;
        if (agent_distribution(ag, obs, a, &d, e))
            goto done;
        lx[a] = err_malloc(sizeof(double) * (size_t)d.n, e);
        lw[a] = err_malloc(sizeof(double) * (size_t)d.n, e);
        if (!lx[a] || !lw[a])
            goto done;
        memcpy(lx[a], d.x, sizeof(double) * (size_t)d.n);
        memcpy(lw[a], d.w, sizeof(double) * (size_t)d.n);
        ln[a] = d.n;
        ldens[a] = d.is_density;
    }
    /* the exact laws under the truth's policy */
    snprintf(r.exact_policy, sizeof r.exact_policy, "none");
    if (t) {
        const char *pname;
        policy = err_malloc(sizeof(int) * (size_t)t->n_states, e);
        if (!policy || truth_policy(ag, &cfg, t, policy, &pname, e))
            goto done;
        snprintf(r.exact_policy, sizeof r.exact_policy, "%s", pname);
        for (int a = 0; a < A; a++)
            if (truth_tab_distribution(t, cfg.agent.gamma, policy, r.state, a, &ex[a], e))
                goto done;
    }
    /* the sweep: the agent's own risk values, and the measure of the exact laws */
    learned = err_malloc(sizeof(double) * (size_t)np * A, e);
    exact = err_malloc(sizeof(double) * (size_t)np * A, e);
    if (!learned || !exact)
        goto done;
    for (int i = 0; i < np; i++) {
        risk_spec sp = {family, param[i]};
        if (ag->ops->risk_values(ag, 1, obs, &sp, learned + (size_t)i * A, e))
            goto done;
        for (int a = 0; a < A; a++) {
            exact[(size_t)i * A + a] = NAN;
            if (t && risk_atoms(&sp, ex[a].value, ex[a].prob, (size_t)ex[a].n, &exact[(size_t)i * A + a], e))
                goto done;
        }
    }
    r.n_flips_learned = riskplot_flips(param, learned, np, A, r.flips_learned, RISKPLOT_MAX_FLIPS);
    if (t)
        r.n_flips_exact = riskplot_flips(param, exact, np, A, r.flips_exact, RISKPLOT_MAX_FLIPS);
    /* the run's own measure of every law, marked on the CDFs */
    if (agent_action_values(ag, 1, obs, r.own_learned, e))
        goto done;
    for (int a = 0; a < A; a++) {
        r.own_exact[a] = NAN;
        if (t && risk_atoms(&cfg.agent.risk, ex[a].value, ex[a].prob, (size_t)ex[a].n, &r.own_exact[a], e))
            goto done;
    }

    /* files */
    char data_dir[4096], png[4096], p[4096];
    if ((size_t)snprintf(data_dir, sizeof data_dir, "%s_data", out_prefix) >= sizeof data_dir ||
        (size_t)snprintf(png, sizeof png, "%s.png", out_prefix) >= sizeof png) {
        err_set(e, "path too long: %s", out_prefix);
        goto done;
    }
    if (io_mkdirs(data_dir, e))
        goto done;
    if (dopen(&f[0], data_dir, "laws.dat", "learned laws as CDFs, one block per action: return F", e) ||
        dopen(&f[1], data_dir, "exact.dat", "exact laws as CDFs, one block per action: return F", e) ||
        dopen(&f[2], data_dir, "marks.dat", "the run's measure of each law: action value_learned F_learned "
                                            "value_exact F_exact", e) ||
        dopen(&f[3], data_dir, "sweep.dat", "param, then each action's measure of its learned law, then of its "
                                            "exact law (NaN without a transition table)", e))
        goto done;
    if (io_join(p, sizeof p, data_dir, "flips.csv", e) || io_atomic_open(&f[4].a, p, e))
        goto done;
    f[4].open = 1;
    double lo = INFINITY, hi = -INFINITY;
    for (int a = 0; a < A; a++) {
        fprintf(f[0].a.f, "# action %d\n", a);
        if (!write_cdf(f[0].a.f, lx[a], lw[a], ln[a], ldens[a], &lo, &hi))
            fprintf(f[0].a.f, "NaN NaN\n");
        fprintf(f[0].a.f, "\n\n");
        fprintf(f[1].a.f, "# action %d\n", a);
        if (!t || !write_cdf(f[1].a.f, ex[a].value, ex[a].prob, ex[a].n, 0, &lo, &hi))
            fprintf(f[1].a.f, "NaN NaN\n");
        fprintf(f[1].a.f, "\n\n");
        double Fl = cdf_at(lx[a], lw[a], ln[a], ldens[a], r.own_learned[a]);
        double Fe = t ? cdf_at(ex[a].value, ex[a].prob, ex[a].n, 0, r.own_exact[a]) : NAN;
        fprintf(f[2].a.f, "%d %.10g %.10g %.10g %.10g\n", a, r.own_learned[a], Fl, r.own_exact[a], Fe);
        lo = fmin(lo, fmin(r.own_learned[a], isnan(r.own_exact[a]) ? INFINITY : r.own_exact[a]));
        hi = fmax(hi, fmax(r.own_learned[a], isnan(r.own_exact[a]) ? -INFINITY : r.own_exact[a]));
    }
    for (int i = 0; i < np; i++) {
        fprintf(f[3].a.f, "%.10g", param[i]);
        for (int a = 0; a < A; a++)
            fprintf(f[3].a.f, " %.10g", learned[(size_t)i * A + a]);
        for (int a = 0; a < A; a++)
            fprintf(f[3].a.f, " %.10g", exact[(size_t)i * A + a]);
        fputc('\n', f[3].a.f);
    }
    fprintf(f[4].a.f, "laws,param_lo,param_hi,best_before,best_after,tie\n");
    for (int k = 0; k < r.n_flips_learned; k++)
        fprintf(f[4].a.f, "learned,%.10g,%.10g,%d,%d,%d\n", r.flips_learned[k].lo, r.flips_learned[k].hi,
                r.flips_learned[k].from, r.flips_learned[k].to, r.flips_learned[k].tie);
    for (int k = 0; k < r.n_flips_exact; k++)
        fprintf(f[4].a.f, "exact,%.10g,%.10g,%d,%d,%d\n", r.flips_exact[k].lo, r.flips_exact[k].hi,
                r.flips_exact[k].from, r.flips_exact[k].to, r.flips_exact[k].tie);
    for (int i = 0; i < 5; i++)
        if (dclose(&f[i], e))
            goto done;
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    double pad = 0.05 * (hi - lo);
    /* meta.gp */
    {
        io_atomic m;
        if (io_join(p, sizeof p, data_dir, "meta.gp", e) || io_atomic_open(&m, p, e))
            goto done;
        FILE *mf = m.f;
        fprintf(mf, "# written by bdrl plot risk; read by plots/risk.gp\n");
        fprintf(mf, "nact = %d; hasexact = %d; xlo = %.10g; xhi = %.10g\n", A, t != NULL, lo - pad, hi + pad);
        fprintf(mf, "plo = %.10g; phi = %.10g; greedy = %d\n", param[0], param[np - 1], r.greedy + 1);
        if (cfg.agent.risk.measure == family)
            fprintf(mf, "ownparam = %.10g\n", cfg.agent.risk.param);
        else
            fprintf(mf, "ownparam = NaN\n");
        fprintf(mf, "family = ");
        fig_gp_str(mf, r.family);
        char s1[256];
        snprintf(s1, sizeof s1, "%s of each action's law", family == RISK_CVAR ? "CVaR_alpha (mean of the lowest "
                 "alpha)" : family == RISK_VAR ? "VaR_alpha (the alpha quantile)" : family == RISK_WANG ?
                 "Wang_eta (eta < 0 averse)" : family == RISK_POW ? "Pow_eta (eta < 0 averse)" :
                 "CPW_eta (eta = 1: the mean)");
        fprintf(mf, "\nylab2 = ");
        fig_gp_str(mf, s1);
        fprintf(mf, "\nxlab2 = ");
        fig_gp_str(mf, family == RISK_CVAR || family == RISK_VAR ? "alpha" : "eta");
        snprintf(s1, sizeof s1, "each law's %s (agent.risk)", r.own);
        fprintf(mf, "\nmarklab = ");
        fig_gp_str(mf, s1);
        snprintf(s1, sizeof s1, "(Z(s, a), then the %s policy)", r.exact_policy);
        fprintf(mf, "\nexactlab = ");
        fig_gp_str(mf, s1);
        snprintf(s1, sizeof s1, "each exact law's %s", r.own);
        fprintf(mf, "\nexactmark = ");
        fig_gp_str(mf, s1);
        fprintf(mf, "\nlearnlab = ");
        fig_gp_str(mf, fig_agent_label(ag));
        fprintf(mf, "\narray actname[%d]\n", A);
        for (int a = 0; a < A; a++) {
            char nm[64], lab[96];
            action_name(en, a, nm, sizeof nm);
            snprintf(lab, sizeof lab, "%s%s", nm, a == r.greedy ? " (greedy)" : "");
            fprintf(mf, "actname[%d] = ", a + 1);
            fig_gp_str(mf, lab);
            fputc('\n', mf);
        }
        if (io_atomic_commit(&m, e))
            goto done;
    }
    char title[600], where[160];
    if (r.state >= 0)
        snprintf(where, sizeof where, "state %d", r.state);
    else
        snprintf(where, sizeof where, "state %s", state_text);
    if (o && o->title && *o->title)
        snprintf(title, sizeof title, "%s", o->title);
    else
        snprintf(title, sizeof title, "%s on %s (agent.risk %s), %s\neach action's return law (top) and its %s "
                 "across %s (bottom)%s", fig_agent_label(ag), env_display_name(en), r.own, where, r.family,
                 family == RISK_CVAR || family == RISK_VAR ? "alpha" : "eta",
                 t ? "" : "; no exact laws (no transition table)");
    if (fig_write_replot(out_prefix, "risk.gp", title, e) || plot_gnuplot("risk.gp", data_dir, png, title, e))
        goto done;
    if (res)
        *res = r;
    rc = 0;
done:
    for (int i = 0; i < 5; i++)
        dabort(&f[i]);
    for (int a = 0; a < MAXA; a++) {
        free(lx[a]);
        free(lw[a]);
        truth_atoms_free(&ex[a]);
    }
    free(policy);
    free(learned);
    free(exact);
    if (ag)
        agent_free(ag);
    if (en)
        env_free(en);
    return rc && bad ? RISKPLOT_BAD_INPUT : rc;
}

/* ---- plot returns ---- */

void riskplot_returns_options_default(riskplot_returns_options *o)
{
    memset(o, 0, sizeof *o);
    o->episodes = 100;
}

/* A run's greedy episodes: undiscounted and discounted returns, lengths,
 * successes (each n). */
static int play(const exp_config *cfg, env *en, agent *ag, int n, uint64_t seed, double *ret, double *disc,
                int *len, int *succ, bdrl_err *e)
{
    const int D = ag->obs_dim;
    for (int k = 0; k < n; k++) {
        uint64_t s = eval_episode_seed(seed, k);
        float obs[ENV_OBS_MAX];
        memcpy(obs, env_reset(en, &s), sizeof(float) * (size_t)D);
        double G = 0, Gd = 0, g = 1;
        int t = 0, done = 0;
        env_step st = {0};
        while (!done) {
            int a;
            if (agent_greedy(ag, obs, &a, e))
                return err_prefix(e, "episode %d, step %d", k + 1, t);
            st = env_do_step(en, a);
            G += st.reward;
            Gd += g * st.reward;
            g *= cfg->agent.gamma;
            t++;
            memcpy(obs, st.obs, sizeof(float) * (size_t)D);
            done = st.terminated || st.truncated;
        }
        ret[k] = G;
        disc[k] = Gd;
        len[k] = t;
        succ[k] = env_step_success(en, &st);
    }
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* The histogram rule of one row of panels (every run's returns of one kind):
 * one bar per distinct value when there are at most 40 (exact: a
 * FrozenLake return is one of a few numbers), else 40 equal bins over the
 * row's range. */
typedef struct {
    int distinct;        /* 1: bars at the distinct values */
    int n;               /* distinct values, or bins */
    double lo, width;    /* bins: the first edge and the width; bars: their drawn width */
    double *v;           /* distinct values (n) */
} binning;

static int binning_make(const double *x, int n, binning *b, bdrl_err *e)
{
    memset(b, 0, sizeof *b);
    double *s = err_malloc(sizeof(double) * (size_t)n, e);
    if (!s)
        return -1;
    memcpy(s, x, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!k || s[i] - s[k - 1] > 1e-9 * fmax(1.0, fabs(s[i])))
            s[k++] = s[i];
    double range = s[k - 1] - s[0];
    if (k <= 40) {
        double gap = INFINITY;
        for (int i = 1; i < k; i++)
            gap = fmin(gap, s[i] - s[i - 1]);
        if (!isfinite(gap))
            gap = 1;
        b->distinct = 1;
        b->n = k;
        b->v = s;
        b->width = 0.8 * fmin(gap, range > 0 ? range / 12 : 1);
        return 0;
    }
    b->n = 40;
    b->lo = s[0];
    b->width = range / 40;
    free(s);
    return 0;
}

/* The bin (or bar) of x. */
static int binning_index(const binning *b, double x)
{
    if (b->distinct) {
        int best = 0;
        for (int i = 1; i < b->n; i++)
            if (fabs(b->v[i] - x) < fabs(b->v[best] - x))
                best = i;
        return best;
    }
    int i = (int)((x - b->lo) / b->width);
    return i < 0 ? 0 : i >= b->n ? b->n - 1 : i;
}

static double binning_centre(const binning *b, int i)
{
    return b->distinct ? b->v[i] : b->lo + (i + 0.5) * b->width;
}

int riskplot_returns(int n_runs, const char *const *run_dirs, const riskplot_returns_options *o,
                     const char *out_prefix, riskplot_returns_result *res, bdrl_err *e)
{
    if (n_runs < 1 || n_runs > RISKPLOT_MAX_RUNS) {
        err_set(e, "plot returns: 1 to %d runs, not %d", RISKPLOT_MAX_RUNS, n_runs);
        return RISKPLOT_BAD_INPUT;
    }
    if (o->episodes < 1 || o->episodes > RISKPLOT_MAX_EPISODES) {
        err_set(e, "plot returns: episodes must be in [1, %d], got %d", RISKPLOT_MAX_EPISODES, o->episodes);
        return RISKPLOT_BAD_INPUT;
    }
    exp_config cfg[RISKPLOT_MAX_RUNS];
    env *en[RISKPLOT_MAX_RUNS] = {0};
    agent *ag[RISKPLOT_MAX_RUNS] = {0};
    const int N = o->episodes;
    double *ret = NULL, *disc = NULL, *ones = NULL;
    int *len = NULL, *succ = NULL;
    binning bins[2];
    memset(bins, 0, sizeof bins);
    int rc = -1, bad = 1;
    dfile f[2];
    memset(f, 0, sizeof f);
    riskplot_returns_result r;
    memset(&r, 0, sizeof r);
    for (int k = 0; k < n_runs; k++)
        if (run_load(run_dirs[k], &cfg[k], &en[k], &ag[k], e))
            goto done;
    for (int k = 1; k < n_runs; k++)
        if (env_get_kind(en[k]) != env_get_kind(en[0])) {
            err_set(e, "%s is on %s, %s on %s: plot runs of one environment", run_dirs[0], env_name(en[0]),
                    run_dirs[k], env_name(en[k]));
            goto done;
        }
    risk_spec measure = {RISK_CVAR, 0.1};
    if (o->measure_given) {
        measure = o->measure;
    } else {
        for (int k = n_runs - 1; k >= 0; k--)
            if (cfg[k].agent.risk.measure != RISK_MEAN)
                measure = cfg[k].agent.risk;
    }
    if (risk_spec_check(&measure, e))
        goto done;
    bad = 0;
    r.n_runs = n_runs;
    r.episodes = N;
    r.seed = o->seed_given ? o->seed : train_eval_seed(&cfg[0]);
    risk_spec_format(&measure, r.measure, sizeof r.measure);
    const size_t RN = (size_t)n_runs * N;
    ret = err_malloc(sizeof(double) * RN, e);
    disc = err_malloc(sizeof(double) * RN, e);
    len = err_malloc(sizeof(int) * RN, e);
    succ = err_malloc(sizeof(int) * RN, e);
    ones = err_malloc(sizeof(double) * (size_t)N, e);
    if (!ret || !disc || !len || !succ || !ones)
        goto done;
    for (int i = 0; i < N; i++)
        ones[i] = 1; /* the episodes' empirical law: equal weights */
    for (int k = 0; k < n_runs; k++) {
        size_t o0 = (size_t)k * N;
        if (play(&cfg[k], en[k], ag[k], N, r.seed, ret + o0, disc + o0, len + o0, succ + o0, e)) {
            err_prefix(e, "%s", run_dirs[k]);
            goto done;
        }
        double m = 0, md = 0, sr = 0, ml = 0;
        for (int i = 0; i < N; i++) {
            m += ret[o0 + i];
            md += disc[o0 + i];
            sr += succ[o0 + i];
            ml += len[o0 + i];
        }
        r.mean[k] = m / N;
        r.disc_mean[k] = md / N;
        r.success[k] = sr / N;
        r.length[k] = ml / N;
        if (risk_atoms(&measure, ret + o0, ones, (size_t)N, &r.risk[k], e) ||
            risk_atoms(&measure, disc + o0, ones, (size_t)N, &r.disc_risk[k], e))
            goto done;
        char risk[64];
        risk_spec_format(&cfg[k].agent.risk, risk, sizeof risk);
        if (o->labels[k] && *o->labels[k])
            snprintf(r.label[k], sizeof r.label[k], "%s", o->labels[k]);
        else
            snprintf(r.label[k], sizeof r.label[k], "%s, agent.risk %s", fig_agent_label(ag[k]), risk);
    }
    int given[RISKPLOT_MAX_RUNS];
    for (int k = 0; k < n_runs; k++)
        given[k] = o->labels[k] && *o->labels[k];
    fig_unique_labels(&r.label[0][0], sizeof r.label[0], n_runs, run_dirs, given);
    /* one binning per row, shared by the runs so their bars line up */
    if (binning_make(ret, (int)RN, &bins[0], e) || binning_make(disc, (int)RN, &bins[1], e))
        goto done;

    char data_dir[4096], png[4096], p[4096];
    if ((size_t)snprintf(data_dir, sizeof data_dir, "%s_data", out_prefix) >= sizeof data_dir ||
        (size_t)snprintf(png, sizeof png, "%s.png", out_prefix) >= sizeof png) {
        err_set(e, "path too long: %s", out_prefix);
        goto done;
    }
    if (io_mkdirs(data_dir, e))
        goto done;
    if (dopen(&f[0], data_dir, "hist.dat", "one block per panel (run 1 undiscounted, run 1 discounted, run 2 ...): "
                                           "bar centre, fraction of episodes, bar width", e))
        goto done;
    if (io_join(p, sizeof p, data_dir, "episodes.csv", e) || io_atomic_open(&f[1].a, p, e))
        goto done;
    f[1].open = 1;
    fprintf(f[1].a.f, "run,label,episode,return,discounted_return,length,success\n");
    double ymax = 0;
    for (int k = 0; k < n_runs; k++) {
        for (int row = 0; row < 2; row++) {
            const double *x = (row ? disc : ret) + (size_t)k * N;
            int cnt[1000] = {0};
            for (int i = 0; i < N; i++)
                cnt[binning_index(&bins[row], x[i])]++;
            fprintf(f[0].a.f, "# run %d, %s\n", k + 1, row ? "discounted" : "undiscounted");
            for (int b = 0; b < bins[row].n; b++) {
                double frac = (double)cnt[b] / N;
                ymax = fmax(ymax, frac);
                if (cnt[b])
                    fprintf(f[0].a.f, "%.10g %.10g %.10g\n", binning_centre(&bins[row], b), frac, bins[row].width);
            }
            fprintf(f[0].a.f, "\n\n");
        }
        for (int i = 0; i < N; i++) {
            size_t j = (size_t)k * N + i;
            fprintf(f[1].a.f, "%d,\"%s\",%d,%.17g,%.17g,%d,%d\n", k + 1, r.label[k], i, ret[j], disc[j], len[j],
                    succ[j]);
        }
    }
    for (int i = 0; i < 2; i++)
        if (dclose(&f[i], e))
            goto done;
    {
        io_atomic m;
        if (io_join(p, sizeof p, data_dir, "meta.gp", e) || io_atomic_open(&m, p, e))
            goto done;
        FILE *mf = m.f;
        fprintf(mf, "# written by bdrl plot returns; read by plots/returns.gp\nnruns = %d; ymax = %.6g\n", n_runs,
                fmin(1.0, ymax * 1.15 + 0.02));
        for (int row = 0; row < 2; row++) {
            double lo = bins[row].distinct ? bins[row].v[0] : bins[row].lo;
            double hi = bins[row].distinct ? bins[row].v[bins[row].n - 1] : bins[row].lo + bins[row].n * bins[row].width;
            double pad = hi > lo ? 0.08 * (hi - lo) : 0.5;
            fprintf(mf, "xlo%d = %.10g; xhi%d = %.10g\n", row + 1, lo - pad - bins[row].width / 2, row + 1,
                    hi + pad + bins[row].width / 2);
        }
        fprintf(mf, "array mean[%d]\narray risk[%d]\narray ptitle[%d]\n", 2 * n_runs, 2 * n_runs, 2 * n_runs);
        for (int k = 0; k < n_runs; k++)
            for (int row = 0; row < 2; row++) {
                int i = 2 * k + row + 1;
                char tt[400];
                if (row == 0)
                    snprintf(tt, sizeof tt, "%s\nreturn: mean %.4g, %s %.4g; success %.3g", r.label[k], r.mean[k],
                             r.measure, r.risk[k], r.success[k]);
                else
                    snprintf(tt, sizeof tt, "discounted (gamma %g)\nmean %.4g, %s %.4g; %.3g steps",
                             cfg[k].agent.gamma, r.disc_mean[k], r.measure, r.disc_risk[k], r.length[k]);
                fprintf(mf, "mean[%d] = %.10g; risk[%d] = %.10g; ptitle[%d] = ", i, row ? r.disc_mean[k] : r.mean[k],
                        i, row ? r.disc_risk[k] : r.risk[k], i);
                fig_gp_str(mf, tt);
                fputc('\n', mf);
            }
        fprintf(mf, "measure = ");
        fig_gp_str(mf, r.measure);
        fputc('\n', mf);
        if (io_atomic_commit(&m, e))
            goto done;
    }
    char title[600];
    if (o->title && *o->title)
        snprintf(title, sizeof title, "%s", o->title);
    else
        snprintf(title, sizeof title, "%s: returns of %d greedy episodes per run (evaluation seed %llu)",
                 env_display_name(en[0]), N, (unsigned long long)r.seed);
    if (fig_write_replot(out_prefix, "returns.gp", title, e) || plot_gnuplot("returns.gp", data_dir, png, title, e))
        goto done;
    if (res)
        *res = r;
    rc = 0;
done:
    for (int i = 0; i < 2; i++) {
        dabort(&f[i]);
        free(bins[i].v);
    }
    free(ret);
    free(disc);
    free(ones);
    free(len);
    free(succ);
    for (int k = 0; k < n_runs; k++) {
        if (ag[k])
            agent_free(ag[k]);
        if (en[k])
            env_free(en[k]);
    }
    return rc && bad ? RISKPLOT_BAD_INPUT : rc;
}
