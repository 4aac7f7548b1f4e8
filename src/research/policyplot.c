/* policyplot.c — greedy policies of tabular runs on the map beside the exact
 * risk-greedy policy, drawn by plots/policy.gp (policyplot.h). */
#include "research/policyplot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent.h"
#include "core/io.h"
#include "core/plot.h"
#include "research/figfiles.h"
#include "train/evaldist.h"
#include "train/run.h"
#include "truth/risk_policy.h"
#include "truth/truth.h"

#define MAXR POLICYPLOT_MAX_RUNS

int policyplot_direction(const char *name, double *dx, double *dy)
{
    static const struct {
        const char *name;
        double dx, dy;
    } dirs[] = {{"left", -1, 0}, {"right", 1, 0}, {"up", 0, 1}, {"down", 0, -1}};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        if (name && !strcmp(name, dirs[i].name)) {
            *dx = dirs[i].dx;
            *dy = dirs[i].dy;
            return 1;
        }
    *dx = *dy = 0;
    return 0;
}

/* The colours of render_draw.c's grid, so a map looks the same in the
 * animations and here. */
static unsigned cell_rgb(char c)
{
    switch (c) {
    case 'S': return 0xFFF2B3;
    case 'G': return 0x43A047;
    case 'H': return 0x1A2F5A;
    case 'C': return 0x8D4E3A;
    default: return 0xE3F2FD;
    }
}

/* Cell centre of state s: column s % ncol, row s / ncol drawn from the top. */
static void centre(const env_table *t, int s, double *x, double *y)
{
    *x = s % t->ncol + 0.5;
    *y = t->nrow - 1 - s / t->ncol + 0.5;
}

/* A block's end; a block without rows gets a NaN row so that gnuplot's
 * `index` numbering keeps one block per panel. */
static void end_block(FILE *f, int rows, int cols)
{
    if (!rows) {
        for (int k = 0; k < cols; k++)
            fprintf(f, "%sNaN", k ? " " : "");
        fputc('\n', f);
    }
    fputs("\n\n", f);
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

/* An arrow of a cell's action: from 0.32 before the centre to 0.32 after. */
static void arrow_row(FILE *f, double x, double y, double dx, double dy, int s, int a)
{
    fprintf(f, "%g %g %g %g %d %d\n", x - 0.32 * dx, y - 0.32 * dy, 0.64 * dx, 0.64 * dy, s, a);
}

int policyplot_write_data(const env *en, int n, const policyplot_row *rows, const char *data_dir,
                          policyplot_counts *c, bdrl_err *e)
{
    const env_table *t = env_transition_table(en);
    if (!t)
        return err_set(e, "%s has no transition table: policy maps need one", env_name(en));
    if (n < 1 || n > MAXR)
        return err_set(e, "policy maps: 1 to %d runs, not %d", MAXR, n);
    const int S = t->n_states, A = t->n_actions;
    for (int r = 0; r < n; r++)
        for (int s = 0; s < S; s++) {
            if (truth_tab_is_terminal(t, s))
                continue;
            int bad = rows[r].agent[s] < 0 || rows[r].agent[s] >= A || rows[r].exact[s] < 0 ||
                      rows[r].exact[s] >= A || (rows[r].mean_optimal && (rows[r].mean_optimal[s] < 0 ||
                                                                            rows[r].mean_optimal[s] >= A));
            if (bad)
                return err_set(e, "policy maps: run %d has an action out of [0, %d) at state %d", r + 1, A, s);
        }
    policyplot_counts cnt;
    memset(&cnt, 0, sizeof cnt);
    unsigned char *vis = err_malloc((size_t)S, e);
    if (!vis || io_mkdirs(data_dir, e)) {
        free(vis);
        return -1;
    }
    int rc = -1;
    /* 0 cells, 1 arrows, 2 names, 3 differ, 4 mean, 5 flips, 6 policy.csv */
    dfile f[7];
    memset(f, 0, sizeof f);
    if (dopen(&f[0], data_dir, "cells.dat", "the map: x y rgb letter word (cell centres; row 0 of the table at the top)", e) ||
        dopen(&f[1], data_dir, "arrows.dat", "one block per panel (run 1 agent, run 1 exact, run 2 agent, ...): "
                                              "x0 y0 dx dy state action", e) ||
        dopen(&f[2], data_dir, "names.dat", "one block per panel: x y state action name (actions that are not "
                                             "directions)", e) ||
        dopen(&f[3], data_dir, "differ.dat", "one block per panel: x y state agent_action exact_action "
                                              "(the run's action differs from the exact one)", e) ||
        dopen(&f[4], data_dir, "mean.dat", "one block per panel (exact panels only): x0 y0 dx dy state action "
                                            "of the mean-optimal policy where the exact policy differs", e) ||
        dopen(&f[5], data_dir, "flips.dat", "one block per panel (exact panels only): x y state (flips in the "
                                             "exact iteration's cycle)", e))
        goto done;
    {
        char p[4096];
        if (io_join(p, sizeof p, data_dir, "policy.csv", e) || io_atomic_open(&f[6].a, p, e))
            goto done;
        f[6].open = 1;
        fprintf(f[6].a.f, "run,label,state,row,col,cell,agent_action,exact_action,mean_optimal_action,differ,"
                          "visited,flips\n");
    }
    for (int s = 0; s < S; s++) {
        double x, y;
        centre(t, s, &x, &y);
        char k = t->desc ? t->desc[s] : 'F';
        char letter[2] = {k, 0};
        if (k == 'F')
            letter[0] = '-'; /* gnuplot's columns need a word; '-' is drawn as nothing */
        /* the env's own name of a terminal cell ("H hole" -> "hole"), else
         * "end": a Python table's terminal states are not holes */
        const char *label = env_state_label(en, s), *sp = strchr(label, ' ');
        const char *word = sp ? sp + 1 : label;
        if (!*word)
            word = truth_tab_is_terminal(t, s) ? "end" : "";
        fprintf(f[0].a.f, "%g %g %u %s \"", x, y, cell_rgb(k), letter);
        for (const char *q = word; *q; q++)
            if (*q != '"' && *q != '\\' && *q != '\n')
                fputc(*q, f[0].a.f);
        fputs("\"\n", f[0].a.f);
    }
    for (int s = 0; s < S; s++)
        cnt.n_nonterminal += !truth_tab_is_terminal(t, s);
    for (int r = 0; r < n; r++) {
        const policyplot_row *row = &rows[r];
        cnt.n_visited[r] = evaldist_visited(t, row->exact, vis);
        for (int panel = 0; panel < 2; panel++) {
            const int *pol = panel ? row->exact : row->agent;
            int na = 0, nn = 0, nd = 0, nm = 0, nf = 0;
            fprintf(f[1].a.f, "# run %d, %s\n", r + 1, panel ? "exact" : "agent");
            fprintf(f[2].a.f, "# run %d, %s\n", r + 1, panel ? "exact" : "agent");
            fprintf(f[3].a.f, "# run %d, %s\n", r + 1, panel ? "exact" : "agent");
            fprintf(f[4].a.f, "# run %d, %s\n", r + 1, panel ? "exact" : "agent");
            fprintf(f[5].a.f, "# run %d, %s\n", r + 1, panel ? "exact" : "agent");
            for (int s = 0; s < S; s++) {
                if (truth_tab_is_terminal(t, s))
                    continue;
                double x, y, dx, dy;
                centre(t, s, &x, &y);
                const char *name = env_action_name(en, pol[s]);
                if (policyplot_direction(name, &dx, &dy)) {
                    arrow_row(f[1].a.f, x, y, dx, dy, s, pol[s]);
                    na++;
                } else {
                    char nm_buf[24];
                    if (!name || !*name) {
                        snprintf(nm_buf, sizeof nm_buf, "action %d", pol[s]);
                        name = nm_buf;
                    }
                    fprintf(f[2].a.f, "%g %g %d %d \"", x, y, s, pol[s]);
                    for (const char *q = name; *q; q++)
                        if (*q != '"' && *q != '\\' && *q != '\n')
                            fputc(*q, f[2].a.f);
                    fputs("\"\n", f[2].a.f);
                    nn++;
                    cnt.named_actions = 1;
                }
                if (row->agent[s] != row->exact[s]) {
                    fprintf(f[3].a.f, "%g %g %d %d %d\n", x, y, s, row->agent[s], row->exact[s]);
                    nd++;
                }
                if (panel && row->mean_optimal && row->mean_optimal[s] != row->exact[s]) {
                    const char *mn = env_action_name(en, row->mean_optimal[s]);
                    if (policyplot_direction(mn, &dx, &dy)) {
                        /* shorter and beside the centre, so it does not
                         * cross the exact policy's arrow */
                        fprintf(f[4].a.f, "%g %g %g %g %d %d\n", x + 0.37 * dy - 0.2 * dx, y - 0.37 * dx - 0.2 * dy,
                                0.4 * dx, 0.4 * dy, s, row->mean_optimal[s]);
                        nm++;
                    }
                }
                if (panel && row->flips && row->flips[s]) {
                    fprintf(f[5].a.f, "%g %g %d\n", x, y, s);
                    nf++;
                }
            }
            end_block(f[1].a.f, na, 6);
            /* a names row is x y state action "name": a NaN row needs a text too */
            if (!nn)
                fputs("NaN NaN NaN NaN \"\"\n", f[2].a.f);
            fputs("\n\n", f[2].a.f);
            end_block(f[3].a.f, nd, 5);
            end_block(f[4].a.f, nm, 6);
            end_block(f[5].a.f, nf, 3);
        }
        for (int s = 0; s < S; s++) {
            if (truth_tab_is_terminal(t, s))
                continue;
            int differ = row->agent[s] != row->exact[s];
            cnt.n_differ[r] += differ;
            cnt.n_differ_visited[r] += differ && vis[s];
            int md = row->mean_optimal ? row->mean_optimal[s] : -1;
            cnt.n_risk_differ[r] += row->mean_optimal && md != row->exact[s];
            fprintf(f[6].a.f, "%d,\"%s\",%d,%d,%d,%c,%d,%d,%d,%d,%d,%d\n", r + 1, row->label, s, s / t->ncol,
                    s % t->ncol, t->desc ? t->desc[s] : 'F', row->agent[s], row->exact[s], md, differ, vis[s],
                    row->flips ? row->flips[s] : 0);
        }
    }
    for (int i = 0; i < 7; i++) {
        f[i].open = 0;
        if (io_atomic_commit(&f[i].a, e))
            goto done;
    }
    if (c)
        *c = cnt;
    rc = 0;
done:
    for (int i = 0; i < 7; i++)
        if (f[i].open)
            io_atomic_abort(&f[i].a);
    free(vis);
    return rc;
}

/* ---- runs ---- */

typedef struct {
    exp_config cfg;
    env *en;
    agent *ag;
    int *agent_pol;
    risk_greedy g;
    int have_g;
    unsigned char *flips;
} prun;

static void prun_close(prun *p)
{
    if (p->ag)
        agent_free(p->ag);
    if (p->en)
        env_free(p->en);
    if (p->have_g)
        risk_greedy_free(&p->g);
    free(p->agent_pol);
    free(p->flips);
    memset(p, 0, sizeof *p);
}

/* Writes meta.gp: the layout in cells, the panels' titles and the legend. */
static int write_meta(const char *data_dir, const env_table *t, int n, char titles[][2][300],
                      const policyplot_counts *c, int any_mean, int any_flips, bdrl_err *e)
{
    char p[4096];
    io_atomic m;
    if (io_join(p, sizeof p, data_dir, "meta.gp", e) || io_atomic_open(&m, p, e))
        return -1;
    FILE *f = m.f;
    fprintf(f, "# written by bdrl plot policy; read by plots/policy.gp\n");
    /* the longest line of any title, for the script to size the panels' slots */
    int maxchars = 0;
    for (int r = 0; r < n; r++)
        for (int k = 0; k < 2; k++)
            for (const char *q = titles[r][k]; *q;) {
                size_t l = strcspn(q, "\n");
                maxchars = (int)l > maxchars ? (int)l : maxchars;
                q += l + (q[l] == '\n');
            }
    fprintf(f, "nrow = %d; ncol = %d; nruns = %d; maxchars = %d\n", t->nrow, t->ncol, n, maxchars);
    fprintf(f, "named = %d; anymean = %d; anyflips = %d\n", c->named_actions, any_mean, any_flips);
    fprintf(f, "array ptitle[%d]\n", 2 * n);
    for (int r = 0; r < n; r++)
        for (int k = 0; k < 2; k++) {
            fprintf(f, "ptitle[%d] = ", 2 * r + k + 1);
            fig_gp_str(f, titles[r][k]);
            fputc('\n', f);
        }
    return io_atomic_commit(&m, e);
}

int policyplot_runs(int n_runs, const char *const *run_dirs, const char *out_prefix, const policyplot_options *o,
                    policyplot_result *res, bdrl_err *e)
{
    if (n_runs < 1 || n_runs > MAXR) {
        err_set(e, "plot policy: 1 to %d runs, not %d", MAXR, n_runs);
        return POLICYPLOT_BAD_INPUT;
    }
    prun runs[MAXR];
    memset(runs, 0, sizeof runs);
    int rc = -1, bad = 1;
    policyplot_row rows[MAXR];
    char labels[MAXR][160], exact_labels[MAXR][160], titles[MAXR][2][300];
    policyplot_counts cnt;
    const env_table *t = NULL;
    for (int r = 0; r < n_runs; r++) {
        prun *p = &runs[r];
        if (run_load(run_dirs[r], &p->cfg, &p->en, &p->ag, e))
            goto done;
        const env_table *tr = env_transition_table(p->en);
        if (!tr) {
            err_set(e, "%s is on %s, which has no transition table: policy maps need a tabular environment "
                       "with one (FrozenLake, CliffWalking, a tabular plugin or Python environment)",
                    run_dirs[r], env_name(p->en));
            goto done;
        }
        if (r == 0) {
            t = tr;
        } else if (env_get_kind(p->en) != env_get_kind(runs[0].en) || tr->nrow != t->nrow || tr->ncol != t->ncol ||
                   tr->n_actions != t->n_actions ||
                   (t->desc && tr->desc && memcmp(tr->desc, t->desc, (size_t)t->n_states))) {
            err_set(e, "%s and %s are on different maps: plot runs of one map", run_dirs[0], run_dirs[r]);
            goto done;
        }
    }
    bad = 0;
    const int S = t->n_states;
    for (int r = 0; r < n_runs; r++) {
        prun *p = &runs[r];
        const env_table *tr = env_transition_table(p->en);
        p->agent_pol = err_calloc((size_t)S, sizeof(int), e);
        p->flips = err_calloc((size_t)S, 1, e);
        if (!p->agent_pol || !p->flips)
            goto done;
        for (int s = 0; s < S; s++) {
            if (truth_tab_is_terminal(tr, s))
                continue;
            float obs = (float)s;
            if (agent_greedy(p->ag, &obs, &p->agent_pol[s], e)) {
                err_prefix(e, "%s: state %d", run_dirs[r], s);
                goto done;
            }
        }
        /* the exact policy for the run's own measure and gamma, on the run's
         * own table (a slippery run and a non-slippery one share the map, not
         * the dynamics) */
        if (truth_tab_risk_greedy(tr, p->cfg.agent.gamma, &p->cfg.agent.risk, 0, &p->g, e)) {
            err_prefix(e, "%s: the exact policy", run_dirs[r]);
            goto done;
        }
        p->have_g = 1;
        for (int s = 0; s < S; s++)
            p->flips[s] = (unsigned char)risk_greedy_flips(&p->g, s);
    }
    /* labels: the agent and its measure; the directory when that is not enough */
    for (int r = 0; r < n_runs; r++) {
        char risk[64];
        risk_spec_format(&runs[r].cfg.agent.risk, risk, sizeof risk);
        if (o && o->labels[r] && *o->labels[r])
            snprintf(labels[r], sizeof labels[r], "%s", o->labels[r]);
        else
            snprintf(labels[r], sizeof labels[r], "%s, agent.risk %s", fig_agent_label(runs[r].ag), risk);
    }
    int given[MAXR];
    for (int r = 0; r < n_runs; r++)
        given[r] = o && o->labels[r] && *o->labels[r];
    fig_unique_labels(&labels[0][0], sizeof labels[0], n_runs, run_dirs, given);
    for (int r = 0; r < n_runs; r++) {
        char risk[64];
        risk_spec_format(&runs[r].cfg.agent.risk, risk, sizeof risk);
        const risk_greedy *g = &runs[r].g;
        if (runs[r].cfg.agent.risk.measure == RISK_MEAN)
            snprintf(exact_labels[r], sizeof exact_labels[r], "exact mean-optimal policy (gamma %g)",
                     runs[r].cfg.agent.gamma);
        else if (g->converged)
            snprintf(exact_labels[r], sizeof exact_labels[r], "exact %s-greedy policy (gamma %g, converged)", risk,
                     runs[r].cfg.agent.gamma);
        else
            snprintf(exact_labels[r], sizeof exact_labels[r],
                     "exact %s-greedy iteration (gamma %g): a cycle of %d policies, its last", risk,
                     runs[r].cfg.agent.gamma, g->cycle_length);
        rows[r].label = labels[r];
        rows[r].exact_label = exact_labels[r];
        rows[r].agent = runs[r].agent_pol;
        rows[r].exact = g->policy;
        rows[r].mean_optimal = runs[r].cfg.agent.risk.measure == RISK_MEAN ? NULL : g->mean_policy;
        rows[r].flips = g->converged ? NULL : runs[r].flips;
    }
    char data_dir[4096], png[4096];
    if ((size_t)snprintf(data_dir, sizeof data_dir, "%s_data", out_prefix) >= sizeof data_dir ||
        (size_t)snprintf(png, sizeof png, "%s.png", out_prefix) >= sizeof png) {
        err_set(e, "path too long: %s", out_prefix);
        goto done;
    }
    if (policyplot_write_data(runs[0].en, n_runs, rows, data_dir, &cnt, e))
        goto done;
    int any_mean = 0, any_flips = 0;
    for (int r = 0; r < n_runs; r++) {
        any_mean |= cnt.n_risk_differ[r] > 0;
        any_flips |= rows[r].flips != NULL;
        snprintf(titles[r][0], sizeof titles[r][0], "%s: greedy policy\n%d of %d states differ from the exact "
                 "policy\n(%d of the %d states the exact policy visits)", labels[r], cnt.n_differ[r], cnt.n_nonterminal,
                 cnt.n_differ_visited[r], cnt.n_visited[r]);
        if (rows[r].mean_optimal)
            snprintf(titles[r][1], sizeof titles[r][1], "%s\n%d of %d states differ from the mean-optimal policy\n%s",
                     exact_labels[r], cnt.n_risk_differ[r], cnt.n_nonterminal,
                     cnt.n_risk_differ[r] ? "(its actions grey, dashed)" : " ");
        else
            snprintf(titles[r][1], sizeof titles[r][1], "%s\n(value iteration, ties to the lowest action)\n ",
                     exact_labels[r]);
    }
    if (write_meta(data_dir, t, n_runs, titles, &cnt, any_mean, any_flips, e))
        goto done;
    char title[512];
    if (o && o->title && *o->title)
        snprintf(title, sizeof title, "%s", o->title);
    else
        snprintf(title, sizeof title, "%s %dx%d: greedy policies (left) against the exact policies for their "
                 "measures (right)", env_display_name(runs[0].en), t->nrow, t->ncol);
    if (fig_write_replot(out_prefix, "policy.gp", title, e) || plot_gnuplot("policy.gp", data_dir, png, title, e))
        goto done;
    if (res) {
        memset(res, 0, sizeof *res);
        res->counts = cnt;
        for (int r = 0; r < n_runs; r++) {
            snprintf(res->label[r], sizeof res->label[r], "%s", labels[r]);
            snprintf(res->exact[r], sizeof res->exact[r], "%s", exact_labels[r]);
            res->converged[r] = runs[r].g.converged;
        }
    }
    rc = 0;
done:
    for (int r = 0; r < n_runs; r++)
        prun_close(&runs[r]);
    return rc && bad ? POLICYPLOT_BAD_INPUT : rc;
}
