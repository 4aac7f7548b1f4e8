/* cmd_plot.c — `bdrl plot`: figures from run, comparison and sweep
 * directories (gnuplot scripts in plots/, data files beside the figures). */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "train/run.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "core/io.h"
#include "research/curves.h"
#include "research/distplot.h"
#include "research/policyplot.h"
#include "research/riskplot.h"
#include "stats/risk.h"
#include "research/rundir.h"
#include "research/sweep.h"

static const args_spec plot_spec = {
    "bdrl plot dist|fields|curves|sweep|policy|risk|returns ...",
    "Draws figures as PNG (pngcairo) and SVG with the gnuplot scripts in plots/ (found\n"
    "in $BDRL_PLOTS_DIR, PREFIX/share/bdrl/plots, or the source tree). Beside every\n"
    "figure P.png go P.svg, the data (P_data/ or P.dat) and P.gp, which redraws it\n"
    "(the command is printed).\n\n"
    "  dist RUN [RUN...]     return distributions at every state of a tabular env (a grid\n"
    "                        laid out like its map) or CartPole probe state: model,\n"
    "                        Bellman Diffusion samples and the truth; up to 6 runs overlaid\n"
    "  fields RUN --state S  a BD run's scalar field s(u) and gradient field g(u)\n"
    "  curves DIR...         learning curves of runs or comparison directories\n"
    "  sweep DIR             a sweep's metric against each swept parameter (and per variant)\n"
    "  policy RUN [RUN...]   greedy policies of tabular runs on the map, beside the exact\n"
    "                        (risk-greedy) policy, the states that differ marked\n"
    "  risk RUN --state S    each action's law at one state and its risk measure across\n"
    "                        the measure's parameter: where the ranking of actions flips\n"
    "  returns RUN [RUN...]  histograms of the returns of each run's greedy episodes\n\n"
    "Run 'bdrl plot SUB --help' for a subcommand's options.",
    NULL, 0, 0,
};

/* What was written and how to redraw it: the distribution and field figures'
 * P.gp reads paths relative to its own directory, the curves' P.gp (curves.h)
 * relative to where bdrl ran. */
static void print_outputs(const char *prefix, int rel_to_dir)
{
    const char *slash = strrchr(prefix, '/');
    const char *base = slash ? slash + 1 : prefix;
    if (!rel_to_dir) {
        printf("wrote %s.png, %s.svg and the data %s.dat\nredraw: gnuplot %s.gp\n", prefix, base, base, prefix);
        return;
    }
    printf("wrote %s.png, %s.svg and the data in %s_data/\n", prefix, base, base);
    if (slash)
        printf("redraw: cd %.*s && gnuplot %s.gp\n", (int)(slash - prefix), prefix, base);
    else
        printf("redraw: gnuplot %s.gp\n", base);
}

/* Default output prefix RUN/plots/NAME (the directory is created). */
static int default_prefix(char *buf, size_t n, const char *run, const char *name)
{
    bdrl_err e;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/plots", run);
    if (io_mkdirs(dir, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return -1;
    }
    if ((size_t)snprintf(buf, n, "%s/%s", dir, name) >= n) {
        fprintf(stderr, "bdrl: path too long: %s/%s\n", dir, name);
        return -1;
    }
    return 0;
}

static int prefix_dir_exists(const char *prefix)
{
    char d[4096];
    snprintf(d, sizeof d, "%s", prefix);
    char *slash = strrchr(d, '/');
    if (!slash)
        return 1;
    *slash = '\0';
    struct stat st;
    return d[0] == '\0' || (stat(d, &st) == 0 && S_ISDIR(st.st_mode));
}

static int is_run_dir(const char *dir)
{
    char p[4096];
    if ((size_t)snprintf(p, sizeof p, "%s/" RUN_FILE_CONFIG, dir) >= sizeof p)
        return 0;
    return io_exists(p);
}

/* The positional RUN directories of `bdrl plot CMD`: 1 to max of them, each
 * with a config.yaml. Returns 0, or 2 after one line on stderr. */
static int check_runs(const char *cmd, const args_parsed *a, int max)
{
    if (a->n_pos < 1 || a->n_pos > max) {
        fprintf(stderr, "bdrl plot %s: expected 1 to %d RUN directories (see 'bdrl plot %s --help')\n", cmd, max,
                cmd);
        return 2;
    }
    for (int i = 0; i < a->n_pos; i++)
        if (!is_run_dir(a->pos[i])) {
            fprintf(stderr, "bdrl: %s: not a run directory (no config.yaml)\n", a->pos[i]);
            return 2;
        }
    return 0;
}

static const char *base_name(const char *p, char *buf, size_t n)
{
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        len--;
    size_t s = len;
    while (s > 0 && p[s - 1] != '/')
        s--;
    snprintf(buf, n, "%.*s", (int)(len - s), p + s);
    return buf;
}

/* Splits --labels at commas into out (n names expected); -1 after a message. */
static int split_labels(const char *cmd, const char *text, char *buf, size_t nbuf, const char **out, int max, int n)
{
    snprintf(buf, nbuf, "%s", text);
    int k = 0;
    for (char *p = buf; p; k++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (k < max)
            out[k] = p;
        p = comma ? comma + 1 : NULL;
    }
    if (k != n) {
        fprintf(stderr, "bdrl plot %s: --labels needs one name per run (%d), got %d\n", cmd, n, k);
        return -1;
    }
    return 0;
}

/* The figure's prefix: --out (its directory must exist) or RUN/plots/NAME
 * with _vs_RUN2... for the other runs. */
static int figure_prefix(char *prefix, size_t n, const char *out, const char *name0, int n_runs, char **runs)
{
    if (out) {
        snprintf(prefix, n, "%s", out);
        if (!prefix_dir_exists(prefix)) {
            fprintf(stderr, "bdrl: --out %s: its directory does not exist\n", out);
            return 2;
        }
        return 0;
    }
    char name[600], b[512];
    snprintf(name, sizeof name, "%s", name0);
    for (int r = 1; r < n_runs; r++) {
        size_t k = strlen(name);
        snprintf(name + k, sizeof name - k, "_vs_%s", base_name(runs[r], b, sizeof b));
    }
    return default_prefix(prefix, n, runs[0], name) ? 1 : 0;
}

/* ---- dist ---- */

static const args_opt dist_opts[] = {
    {"out", 'o', 1, "PREFIX", "PREFIX.png, .svg, .gp, PREFIX_data/ (default RUN/plots/dist[_vs_RUN2...])"},
    {"pdf", 0, 0, "", "probability per bin instead of CDFs (see above)"},
    {"samples", 'n', 1, "N", "Bellman Diffusion samples per panel of a BD run; 0 = none (default 1000)"},
    {"action", 0, 1, "A", "this action in every state (default: the truth's policy's action)"},
    {"labels", 0, 1, "A[,B...]", "names of the runs in the figure (default: their agents' labels, e.g. BD, C51)"},
    {"title", 0, 1, "TEXT", "the figure's title"},
    {"seed", 0, 1, "N", "the sampler's seed (default 1)"},
};
static const args_spec dist_spec = {
    "bdrl plot dist RUN [RUN...] [--out PREFIX] [--pdf] [-n N] [--action A] [--labels A,B,...]\n"
    "                     [--title TEXT] [--seed N]",
    "One panel per state: the states of an env with a transition table (FrozenLake, a\n"
    "tabular plugin) laid out like its map (terminal states shaded, labelled as the env\n"
    "labels them: FrozenLake's H hole and G goal, CliffWalking's C cliff; their return is 0), or the 20 CartPole\n"
    "probe states. The title names the env (a plugin by its own name). Each panel shows,\n"
    "for one action (named in its title), the model's law of every run, a BD run's\n"
    "Bellman Diffusion samples (the agent's default sampler, as 'bdrl sample' draws\n"
    "them) and the truth (exact atoms from the table, as 'bdrl truth --policy RUN'\n"
    "prints them; a Monte Carlo return of the run's greedy policy on CartPole), with\n"
    "each run's W1 to its truth in the title. Default encoding: CDFs, where densities,\n"
    "atoms and samples compare directly and W1 is the area between two curves. --pdf:\n"
    "probability per bin of the C51 atom spacing (densities times the bin; samples: a\n"
    "histogram; atoms as an outline; true atoms as impulses of their probability).\n"
    "Up to 6 runs of the same environment are overlaid in each panel; each agent keeps\n"
    "its colour whatever its place (a second run of the same agent a second shade).\n"
    "The action: --action A, or in each state the action of the policy the truth\n"
    "follows (optimal for agent.mode evaluate, else the first run's greedy policy).\n"
    "Prints the mean W1 of each run over the panels.",
    dist_opts, 7, 0,
};

static int plot_dist(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&dist_spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (check_runs("dist", &a, DISTPLOT_MAX_RUNS))
        return 2;
    distplot_options o;
    distplot_options_default(&o);
    const char *t;
    long long v;
    if (args_get(&dist_spec, &a, "pdf"))
        o.mode = DISTPLOT_PDF;
    if ((t = args_get(&dist_spec, &a, "samples"))) {
        if (args_int("--samples", t, 0, 1000000, &v))
            return 2;
        o.samples = (int)v;
    }
    if ((t = args_get(&dist_spec, &a, "action"))) {
        if (args_int("--action", t, 0, 1000000, &v)) /* the env's own range is checked with the runs */
            return 2;
        o.action = (int)v;
    }
    if ((t = args_get(&dist_spec, &a, "seed"))) {
        if (args_int("--seed", t, 0, 9007199254740991LL, &v))
            return 2;
        o.seed = (uint64_t)v;
    }
    o.title = args_get(&dist_spec, &a, "title");
    char labels[512] = "";
    if ((t = args_get(&dist_spec, &a, "labels")) &&
        split_labels("dist", t, labels, sizeof labels, o.labels, DISTPLOT_MAX_RUNS, a.n_pos))
        return 2;
    char prefix[4096];
    if ((rc = figure_prefix(prefix, sizeof prefix, args_get(&dist_spec, &a, "out"), "dist", a.n_pos,
                            (char **)a.pos)))
        return rc;
    bdrl_err e;
    distplot_result res;
    rc = distplot_dist(a.n_pos, (const char *const *)a.pos, prefix, &o, &res, &e);
    if (rc) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return rc == DISTPLOT_BAD_INPUT ? 2 : 1;
    }
    print_outputs(prefix, 1);
    for (int r = 0; r < a.n_pos; r++) {
        printf("%s: mean W1 to the truth over %d panels %.4f", res.label[r], res.n_panels, res.mean_w1[r]);
        if (!isnan(res.mean_w1_samples[r]))
            printf(" (Bellman Diffusion samples: %.4f)", res.mean_w1_samples[r]);
        printf("\n");
    }
    return 0;
}

/* ---- fields ---- */

static const args_opt fields_opts[] = {
    {"state", 0, 1, "S", "FrozenLake, CliffWalking: a state index; CartPole: X,XDOT,THETA,THETADOT"},
    {"action", 0, 1, "A", "the action (default: the action of the policy the truth follows)"},
    {"out", 'o', 1, "PREFIX", "PREFIX.png, .svg, .gp, PREFIX_data/ (default RUN/plots/fields_s<S>[_a<A>])"},
    {"title", 0, 1, "TEXT", "the figure's title"},
};
static const args_spec fields_spec = {
    "bdrl plot fields RUN --state S [--action A] [--out PREFIX] [--title TEXT]",
    "The two networks of a Bellman Diffusion run at one state and action, over the\n"
    "agent's grid of normalized returns u (top axis; the bottom axis is the return):\n"
    "the scalar field s(u), the learned density, with the true atoms as impulses\n"
    "(probability, right axis); and the gradient field g(u), its own network, against\n"
    "the finite-difference derivative ds/du of s. Bellman Diffusion Dynamics moves\n"
    "samples with drift g and noise sqrt(s): where g and ds/du disagree, the plain\n"
    "sampler (--sampler em) drifts towards another density than s; the default\n"
    "Metropolis-adjusted one corrects towards s at the cost of rejected moves. The\n"
    "title gives the grid mass of max(s, 0) (1 when the field is a normalized density).",
    fields_opts, 4, 0,
};

static int plot_fields(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&fields_spec, argc, argv, &a, "bdrl plot fields", "one RUN directory");
    if (rc >= 0)
        return rc;
    const char *state = args_get(&fields_spec, &a, "state"), *t;
    if (!state) {
        fprintf(stderr, "bdrl plot fields: --state is required\n");
        return 2;
    }
    if (!is_run_dir(a.pos[0])) {
        fprintf(stderr, "bdrl: %s: not a run directory (no config.yaml)\n", a.pos[0]);
        return 2;
    }
    int action = -1;
    long long v;
    if ((t = args_get(&fields_spec, &a, "action"))) {
        if (args_int("--action", t, 0, 3, &v))
            return 2;
        action = (int)v;
    }
    char prefix[4096];
    const char *out = args_get(&fields_spec, &a, "out");
    if (out) {
        snprintf(prefix, sizeof prefix, "%s", out);
        if (!prefix_dir_exists(prefix)) {
            fprintf(stderr, "bdrl: --out %s: its directory does not exist\n", out);
            return 2;
        }
    } else {
        char name[300], st[200];
        snprintf(st, sizeof st, "%s", state);
        for (char *p = st; *p; p++)
            if (*p == ',')
                *p = '_';
        if (action >= 0)
            snprintf(name, sizeof name, "fields_s%s_a%d", st, action);
        else
            snprintf(name, sizeof name, "fields_s%s", st);
        if (default_prefix(prefix, sizeof prefix, a.pos[0], name))
            return 1;
    }
    bdrl_err e;
    int drawn;
    rc = distplot_fields(a.pos[0], state, action, prefix, args_get(&fields_spec, &a, "title"), &drawn, &e);
    if (rc) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return rc == DISTPLOT_BAD_INPUT ? 2 : 1;
    }
    print_outputs(prefix, 1);
    printf("state %s, action %d\n", state, drawn);
    return 0;
}

/* ---- policy ---- */

static const args_opt policy_opts[] = {
    {"out", 'o', 1, "PREFIX", "PREFIX.png, .svg, .gp, PREFIX_data/ (default RUN/plots/policy[_vs_RUN2...])"},
    {"labels", 0, 1, "A[,B...]", "names of the runs (default: agent and measure, e.g. 'C51, agent.risk cvar:0.1')"},
    {"title", 0, 1, "TEXT", "the figure's title"},
};
static const args_spec policy_spec = {
    "bdrl plot policy RUN [RUN...] [--out PREFIX] [--labels A,B,...] [--title TEXT]",
    "The greedy policy of each run on the environment's map, beside the exact policy\n"
    "it should have learned. Runs on an environment with a transition table (FrozenLake,\n"
    "CliffWalking, a tabular plugin: laid out as its map or layout; a Python environment\n"
    "with a table P, or a plugin without a layout: one row of states), all on one map\n"
    "(their dynamics and gamma may differ), up to 6. One row per run:\n"
    "  left   the run's greedy action in every state, ranked as the agent acts (its Q\n"
    "         values, or with agent.risk the measure of each action's law);\n"
    "  right  the exact policy for the run's agent.risk and gamma: the iterated\n"
    "         risk-greedy policy of 'bdrl truth CONFIG --risk MEASURE' (mean: the\n"
    "         mean-optimal policy), with the mean-optimal action grey and dashed in the\n"
    "         states where the two differ, and the states that flip when the iteration\n"
    "         cycles labelled.\n"
    "States where the run's action differs from the exact one are outlined in red in\n"
    "both panels; terminal cells (holes, the goal, the cliff) have no action. An\n"
    "action is an arrow when its name is a direction (left, right, up, down), else its\n"
    "name. Prints, per run, the states that differ (of all, and of those the exact\n"
    "policy visits from the start), as 'bdrl eval' counts them.",
    policy_opts, 3, 0,
};

static int plot_policy(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&policy_spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (check_runs("policy", &a, POLICYPLOT_MAX_RUNS))
        return 2;
    policyplot_options o;
    memset(&o, 0, sizeof o);
    o.title = args_get(&policy_spec, &a, "title");
    char labels[512];
    const char *t = args_get(&policy_spec, &a, "labels");
    if (t && split_labels("policy", t, labels, sizeof labels, o.labels, POLICYPLOT_MAX_RUNS, a.n_pos))
        return 2;
    char prefix[4096];
    if ((rc = figure_prefix(prefix, sizeof prefix, args_get(&policy_spec, &a, "out"), "policy", a.n_pos,
                            (char **)a.pos)))
        return rc;
    bdrl_err e;
    policyplot_result *res = malloc(sizeof *res);
    if (!res) {
        fprintf(stderr, "bdrl: out of memory\n");
        return 1;
    }
    rc = policyplot_runs(a.n_pos, (const char *const *)a.pos, prefix, &o, res, &e);
    if (rc) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        free(res);
        return rc == POLICYPLOT_BAD_INPUT ? 2 : 1;
    }
    print_outputs(prefix, 1);
    const policyplot_counts *c = &res->counts;
    for (int r = 0; r < a.n_pos; r++) {
        printf("%s: greedy policy differs from the %s in %d of %d states (%d of the %d that policy visits)", res->label[r],
               res->exact[r], c->n_differ[r], c->n_nonterminal, c->n_differ_visited[r], c->n_visited[r]);
        if (c->n_risk_differ[r])
            printf("; that policy differs from the mean-optimal one in %d", c->n_risk_differ[r]);
        printf("\n");
    }
    free(res);
    return 0;
}

/* ---- risk ---- */

static const args_opt risk_opts[] = {
    {"state", 0, 1, "S", "a tabular state index, or the state's components (CartPole: X,XDOT,THETA,THETADOT)"},
    {"measure", 0, 1, "cvar|var|wang|pow|cpw", "the family swept (default: the run's agent.risk, cvar for mean)"},
    {"out", 'o', 1, "PREFIX", "PREFIX.png, .svg, .gp, PREFIX_data/ (default RUN/plots/risk_s<S>_<family>)"},
    {"title", 0, 1, "TEXT", "the figure's title"},
};
static const args_spec riskplot_spec = {
    "bdrl plot risk RUN --state S [--measure cvar|var|wang|pow|cpw] [--out PREFIX] [--title TEXT]",
    "What a risk measure does to the choice at one state of RUN (a distributional\n"
    "agent: BD, C51, QR-DQN, IQN).\n"
    "  top     each action's learned return law as a CDF (the greedy action's thick),\n"
    "          with each action's value of the run's agent.risk marked on its curve;\n"
    "  bottom  each action's value of one family of measures across its parameter:\n"
    "          cvar (mean of the lowest alpha) and var (the alpha quantile) over\n"
    "          alpha in (0, 1], wang over eta in [-3, 3], pow over [-5, 5], cpw over\n"
    "          [0.28, 3] (widened to hold the run's own parameter), computed as the\n"
    "          agent computes what it acts on (its risk values at that parameter).\n"
    "Where two curves cross, the ranking of the actions flips; the parameters where\n"
    "the best action changes are printed (learned and exact). With a transition table\n"
    "(FrozenLake, CliffWalking, a tabular plugin) the exact laws are drawn dashed in\n"
    "both panels: Z(s, a) then the policy 'bdrl eval' takes as the run's truth (the\n"
    "exact risk-greedy policy for a run acting on a measure, else its greedy policy;\n"
    "the optimal one for agent.mode evaluate), so only the first action changes\n"
    "along the sweep.",
    risk_opts, 4, 0,
};

static int plot_risk(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&riskplot_spec, argc, argv, &a, "bdrl plot risk", "one RUN directory");
    if (rc >= 0)
        return rc;
    const char *state = args_get(&riskplot_spec, &a, "state"), *t;
    if (!state) {
        fprintf(stderr, "bdrl plot risk: --state is required\n");
        return 2;
    }
    if (!is_run_dir(a.pos[0])) {
        fprintf(stderr, "bdrl: %s: not a run directory (no config.yaml)\n", a.pos[0]);
        return 2;
    }
    riskplot_risk_options o;
    memset(&o, 0, sizeof o);
    o.title = args_get(&riskplot_spec, &a, "title");
    if ((t = args_get(&riskplot_spec, &a, "measure"))) {
        static const struct {
            const char *name;
            risk_measure m;
        } fam[] = {{"cvar", RISK_CVAR}, {"var", RISK_VAR}, {"wang", RISK_WANG}, {"pow", RISK_POW}, {"cpw", RISK_CPW}};
        o.family_given = 0;
        for (size_t i = 0; i < sizeof fam / sizeof *fam; i++)
            if (!strcmp(t, fam[i].name)) {
                o.family = fam[i].m;
                o.family_given = 1;
            }
        if (!o.family_given) {
            fprintf(stderr, "bdrl plot risk: --measure must be cvar, var, wang, pow or cpw (a family; its "
                            "parameter is swept), got '%s'\n", t);
            return 2;
        }
    }
    char prefix[4096];
    const char *out = args_get(&riskplot_spec, &a, "out");
    if (out) {
        snprintf(prefix, sizeof prefix, "%s", out);
        if (!prefix_dir_exists(prefix)) {
            fprintf(stderr, "bdrl: --out %s: its directory does not exist\n", out);
            return 2;
        }
    } else {
        char name[300], st[200];
        snprintf(st, sizeof st, "%s", state);
        for (char *p = st; *p; p++)
            if (*p == ',')
                *p = '_';
        snprintf(name, sizeof name, "risk_s%s%s%s", st, o.family_given ? "_" : "", o.family_given ? t : "");
        if (default_prefix(prefix, sizeof prefix, a.pos[0], name))
            return 1;
    }
    bdrl_err e;
    riskplot_risk_result *res = malloc(sizeof *res);
    if (!res) {
        fprintf(stderr, "bdrl: out of memory\n");
        return 1;
    }
    rc = riskplot_risk(a.pos[0], state, &o, prefix, res, &e);
    if (rc) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        free(res);
        return rc == RISKPLOT_BAD_INPUT ? 2 : 1;
    }
    print_outputs(prefix, 1);
    printf("state %s: %s per action, learned:", state, res->own);
    for (int k = 0; k < res->n_actions; k++)
        printf(" %.6g", res->own_learned[k]);
    printf(" (greedy: action %d)\n", res->greedy);
    if (res->has_exact) {
        printf("exact (Z(s, a), then the %s policy):", res->exact_policy);
        for (int k = 0; k < res->n_actions; k++)
            printf(" %.6g", res->own_exact[k]);
        printf("\n");
    }
    const char *pn = !strcmp(res->family, "cvar") || !strcmp(res->family, "var") ? "alpha" : "eta";
    for (int x = 0; x < 1 + res->has_exact; x++) {
        int n = x ? res->n_flips_exact : res->n_flips_learned;
        const riskplot_flip *fl = x ? res->flips_exact : res->flips_learned;
        printf("%s %s: ", x ? "exact" : "learned", res->family);
        if (!n)
            printf("the best action does not change over the %d values of %s\n", res->n_points, pn);
        for (int k = 0; k < n; k++)
            printf("%sbest action %d -> %d between %s %.4g and %.4g%s", k ? "; " : "", fl[k].from, fl[k].to, pn,
                   fl[k].lo, fl[k].hi, fl[k].tie ? " (a tie, broken to the lowest action)" : "");
        if (n)
            printf("\n");
    }
    free(res);
    return 0;
}

/* ---- returns ---- */

static const args_opt returns_opts[] = {
    {"episodes", 0, 1, "N", "greedy episodes per run (default 100)"},
    {"seed", 0, 1, "S", "base seed of the episodes (default: the first run's evaluation seed, as bdrl eval)"},
    {"measure", 0, 1, "MEASURE[:PARAM]", "the risk measure marked (default: the first run's agent.risk other than "
                                         "mean, else cvar:0.1)"},
    {"labels", 0, 1, "A[,B...]", "names of the runs (default: agent and measure)"},
    {"out", 'o', 1, "PREFIX", "PREFIX.png, .svg, .gp, PREFIX_data/ (default RUN/plots/returns[_vs_RUN2...])"},
    {"title", 0, 1, "TEXT", "the figure's title"},
};
static const args_spec returns_spec = {
    "bdrl plot returns RUN [RUN...] [--episodes N] [--seed S] [--measure M] [--labels A,B,...]\n"
    "                        [--out PREFIX] [--title TEXT]",
    "The returns of each run's greedy episodes side by side, one column per run (up\n"
    "to 6, one environment): the undiscounted return (what 'bdrl eval' scores) above\n"
    "the discounted return sum_t gamma^t r_t (what the learned laws are laws of), as\n"
    "the fraction of episodes at each value (at most 40 distinct values) or in 40\n"
    "bins, with the mean and a risk measure of the episodes' returns marked. The\n"
    "episodes are bdrl eval's: episode k reset with the k-th seed of the base seed,\n"
    "actions greedy on the agent's Q values or on its agent.risk; every run plays the\n"
    "same seeds (the first run's evaluation seed unless --seed), so on FrozenLake they\n"
    "face the same slips. Prints each run's means, measure, success rate and length;\n"
    "every episode is in PREFIX_data/episodes.csv.",
    returns_opts, 6, 0,
};

static int plot_returns(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&returns_spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (check_runs("returns", &a, RISKPLOT_MAX_RUNS))
        return 2;
    riskplot_returns_options o;
    riskplot_returns_options_default(&o);
    const char *t;
    long long v;
    if ((t = args_get(&returns_spec, &a, "episodes"))) {
        if (args_int("--episodes", t, 1, RISKPLOT_MAX_EPISODES, &v))
            return 2;
        o.episodes = (int)v;
    }
    if ((t = args_get(&returns_spec, &a, "seed"))) {
        if (args_int("--seed", t, 0, 9007199254740991LL, &v))
            return 2;
        o.seed = (uint64_t)v;
        o.seed_given = 1;
    }
    bdrl_err e;
    if ((t = args_get(&returns_spec, &a, "measure"))) {
        if (risk_spec_parse(t, &o.measure, &e)) {
            fprintf(stderr, "bdrl plot returns: --measure %s\n", e.msg);
            return 2;
        }
        o.measure_given = 1;
    }
    o.title = args_get(&returns_spec, &a, "title");
    char labels[512];
    if ((t = args_get(&returns_spec, &a, "labels")) &&
        split_labels("returns", t, labels, sizeof labels, o.labels, RISKPLOT_MAX_RUNS, a.n_pos))
        return 2;
    char prefix[4096];
    if ((rc = figure_prefix(prefix, sizeof prefix, args_get(&returns_spec, &a, "out"), "returns", a.n_pos,
                            (char **)a.pos)))
        return rc;
    riskplot_returns_result *res = malloc(sizeof *res);
    if (!res) {
        fprintf(stderr, "bdrl: out of memory\n");
        return 1;
    }
    rc = riskplot_returns(a.n_pos, (const char *const *)a.pos, &o, prefix, res, &e);
    if (rc) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        free(res);
        return rc == RISKPLOT_BAD_INPUT ? 2 : 1;
    }
    print_outputs(prefix, 1);
    for (int k = 0; k < res->n_runs; k++)
        printf("%s: %d episodes (seed %llu): return mean %.6g, %s %.6g; discounted mean %.6g, %s %.6g; success "
               "rate %.4g; %.4g steps\n", res->label[k], res->episodes, (unsigned long long)res->seed, res->mean[k],
               res->measure, res->risk[k], res->disc_mean[k], res->measure, res->disc_risk[k], res->success[k],
               res->length[k]);
    free(res);
    return 0;
}

/* ---- curves ---- */

static const args_opt curves_opts[] = {
    {"out", 'o', 1, "PREFIX", "PREFIX.png, .svg, .dat, .gp (default DIR/curves; required for several DIRs)"},
    {"labels", 0, 1, "A,B,...", "names of the groups, in order"},
    {"title", 0, 1, "TEXT", "the figure's title"},
    {"threshold", 0, 1, "X", "the dashed threshold line (default: the runs' summary.json; 'none': no line)"},
};
static const args_spec curves_spec = {
    "bdrl plot curves DIR... [--out PREFIX] [--labels A,B,...] [--title TEXT] [--threshold X|none]",
    "Learning curves: greedy evaluation return against environment steps, the mean\n"
    "over the runs of each group with a 95% bootstrap band. DIR is a run directory\n"
    "(bdrl train) or a comparison directory (bdrl compare: its runs/*). Runs are\n"
    "grouped by name without the _s<seed> suffix (cartpole_bd_s1 and cartpole_bd_s2\n"
    "form the group cartpole_bd), in the order first seen; a comparison directory's\n"
    "groups come in the order its configs were given to bdrl compare.",
    curves_opts, 4, 0,
};

#define MAX_GROUPS 32
#define MAX_RUNS_PER 256

typedef struct {
    char label[256];
    int n;
    char *dirs[MAX_RUNS_PER];
} group;

static void strip_seed(char *name)
{
    char *u = strrchr(name, '_');
    if (u && u[1] == 's' && u[2]) {
        char *p = u + 2;
        while (*p >= '0' && *p <= '9')
            p++;
        if (!*p)
            *u = '\0';
    }
}

static int add_run(group *g, int *ng, const char *dir)
{
    char name[256];
    base_name(dir, name, sizeof name);
    strip_seed(name);
    int k;
    for (k = 0; k < *ng; k++)
        if (!strcmp(g[k].label, name))
            break;
    if (k == *ng) {
        if (*ng == MAX_GROUPS) {
            fprintf(stderr, "bdrl plot curves: more than %d groups\n", MAX_GROUPS);
            return -1;
        }
        snprintf(g[k].label, sizeof g[k].label, "%s", name);
        g[k].n = 0;
        (*ng)++;
    }
    if (g[k].n == MAX_RUNS_PER) {
        fprintf(stderr, "bdrl plot curves: more than %d runs in group %s\n", MAX_RUNS_PER, name);
        return -1;
    }
    g[k].dirs[g[k].n] = strdup(dir);
    return g[k].dirs[g[k].n++] ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The configs of DIR/comparison.csv (its first column) in the order
 * `bdrl compare` was given them, as empty groups, so that --labels follow
 * the command line rather than the alphabetical order of runs/ (a plain
 * `compare breakout_dqn.yaml breakout_c51.yaml` would otherwise label its
 * curves the wrong way round). No file: nothing, runs/ order decides. */
static int add_compared_configs(group *g, int *ng, const char *dir)
{
    char p[4096];
    if ((size_t)snprintf(p, sizeof p, "%s/comparison.csv", dir) >= sizeof p)
        return 0;
    FILE *f = fopen(p, "r");
    if (!f)
        return 0;
    char line[4096];
    int rc = 0;
    for (int row = 0; fgets(line, sizeof line, f); row++) {
        line[strcspn(line, ",\r\n")] = '\0';
        if (row == 0 || !line[0])
            continue;
        int k;
        for (k = 0; k < *ng && strcmp(g[k].label, line); k++)
            ;
        if (k < *ng)
            continue;
        if (*ng == MAX_GROUPS) {
            fprintf(stderr, "bdrl plot curves: more than %d groups\n", MAX_GROUPS);
            rc = -1;
            break;
        }
        snprintf(g[*ng].label, sizeof g[*ng].label, "%.255s", line);
        g[(*ng)++].n = 0;
    }
    fclose(f);
    return rc;
}

/* Groups with no runs (a compared config none of whose runs exists yet)
 * are dropped, keeping the order of the others. */
static void drop_empty_groups(group *g, int *ng)
{
    int k = 0;
    for (int i = 0; i < *ng; i++)
        if (g[i].n > 0)
            g[k++] = g[i];
    *ng = k;
}

/* The run directories under a comparison directory's runs/, sorted, in
 * groups ordered as the comparison's configs (add_compared_configs). */
static int add_comparison(group *g, int *ng, const char *dir)
{
    if (add_compared_configs(g, ng, dir))
        return -1;
    char rd[4096];
    snprintf(rd, sizeof rd, "%s/runs", dir);
    DIR *d = opendir(rd);
    if (!d)
        return -1;
    char **names = NULL;
    int n = 0, cap = 0, rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", rd, de->d_name) >= sizeof p || !is_run_dir(p))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = realloc(names, sizeof(char *) * (size_t)cap);
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        names[n++] = strdup(p);
    }
    closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof(char *), cmp_str);
    for (int i = 0; i < n; i++) {
        if (!rc && add_run(g, ng, names[i]))
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc ? -1 : n;
}

static int plot_curves(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&curves_spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (a.n_pos < 1) {
        fprintf(stderr, "bdrl plot curves: expected run or comparison directories (see 'bdrl plot curves --help')\n");
        return 2;
    }
    group *g = calloc(MAX_GROUPS, sizeof(group));
    if (!g) {
        fprintf(stderr, "bdrl: out of memory\n");
        return 1;
    }
    int ng = 0;
    rc = 2;
    const char *first_run = NULL;
    for (int i = 0; i < a.n_pos; i++) {
        if (is_run_dir(a.pos[i])) {
            if (add_run(g, &ng, a.pos[i]))
                goto done;
            continue;
        }
        int k = add_comparison(g, &ng, a.pos[i]);
        if (k < 0) {
            fprintf(stderr, "bdrl: %s: neither a run directory (config.yaml) nor a comparison directory (runs/)\n",
                    a.pos[i]);
            goto done;
        }
        if (k == 0) {
            fprintf(stderr, "bdrl: %s: no runs under %s/runs\n", a.pos[i], a.pos[i]);
            goto done;
        }
    }
    drop_empty_groups(g, &ng);
    first_run = g[0].dirs[0];
    const char *t;
    if ((t = args_get(&curves_spec, &a, "labels"))) {
        char *copy = strdup(t), *save = NULL;
        int k = 0;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save), k++)
            if (k < ng)
                snprintf(g[k].label, sizeof g[k].label, "%s", tok);
        free(copy);
        if (k != ng) {
            fprintf(stderr, "bdrl plot curves: --labels gives %d names for %d groups\n", k, ng);
            goto done;
        }
    }
    double threshold = NAN;
    if ((t = args_get(&curves_spec, &a, "threshold"))) {
        if (strcmp(t, "none")) {
            char *end;
            threshold = strtod(t, &end);
            if (!*t || *end || !isfinite(threshold)) {
                fprintf(stderr, "bdrl: --threshold expects a number or 'none', got '%s'\n", t);
                goto done;
            }
        }
    } else {
        rundir_summary s;
        bdrl_err e2;
        if (!rundir_read_summary(first_run, &s, &e2))
            threshold = s.threshold;
    }
    char prefix[4096];
    const char *out = args_get(&curves_spec, &a, "out");
    if (out) {
        snprintf(prefix, sizeof prefix, "%s", out);
        if (!prefix_dir_exists(prefix)) {
            fprintf(stderr, "bdrl: --out %s: its directory does not exist\n", out);
            goto done;
        }
    } else if (a.n_pos == 1) {
        if (is_run_dir(a.pos[0])) {
            if (default_prefix(prefix, sizeof prefix, a.pos[0], "curves")) {
                rc = 1;
                goto done;
            }
        } else {
            snprintf(prefix, sizeof prefix, "%s/curves", a.pos[0]);
        }
    } else {
        fprintf(stderr, "bdrl plot curves: --out PREFIX is required with several directories\n");
        goto done;
    }
    const char *labels[MAX_GROUPS];
    const char *const *dirs[MAX_GROUPS];
    int n_runs[MAX_GROUPS];
    for (int k = 0; k < ng; k++) {
        labels[k] = g[k].label;
        dirs[k] = (const char *const *)g[k].dirs;
        n_runs[k] = g[k].n;
    }
    bdrl_err e;
    if (curves_plot_dirs(prefix, args_get(&curves_spec, &a, "title"), ng, labels, n_runs, dirs, threshold, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        rc = 1;
        goto done;
    }
    print_outputs(prefix, 0);
    for (int k = 0; k < ng; k++)
        printf("%s: %d run%s\n", g[k].label, g[k].n, g[k].n == 1 ? "" : "s");
    rc = 0;
done:
    for (int k = 0; k < ng; k++)
        for (int i = 0; i < g[k].n; i++)
            free(g[k].dirs[i]);
    free(g);
    return rc;
}

/* ---- sweep ---- */

static const args_spec sweep_spec = {
    "bdrl plot sweep DIR",
    "Redraws a sweep's figures from DIR/results.csv (bdrl sweep): the metric against\n"
    "each swept parameter, one point per run and the mean per value, into\n"
    "DIR/plots/<key>.png and .svg; for a sweep with variants (DIR/variants.csv) also\n"
    "DIR/plots/variants.png and .svg: the metric per variant and config, the runs, the\n"
    "medians with their IQR, and runs that never reached the threshold in a band.",
    NULL, 0, 0,
};

static int plot_sweep(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse_one(&sweep_spec, argc, argv, &a, "bdrl plot sweep", "one sweep directory");
    if (rc >= 0)
        return rc;
    char p[4096];
    snprintf(p, sizeof p, "%s/results.csv", a.pos[0]);
    if (!io_exists(p)) {
        fprintf(stderr, "bdrl: %s: not a sweep directory (no results.csv)\n", a.pos[0]);
        return 2;
    }
    bdrl_err e;
    if (sweep_plot_dir(a.pos[0], &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 1;
    }
    /* Name what was drawn: one figure per swept key. */
    snprintf(p, sizeof p, "%s/plots", a.pos[0]);
    DIR *d = opendir(p);
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".png"))
            continue;
        char **nn = realloc(names, sizeof(char *) * (size_t)(n + 1));
        if (!nn)
            break;
        names = nn;
        if ((names[n] = strdup(de->d_name)))
            n++;
    }
    if (d)
        closedir(d);
    if (n > 1)
        qsort(names, (size_t)n, sizeof(char *), cmp_str);
    for (int i = 0; i < n; i++) {
        printf("wrote %s/%s and .svg\n", p, names[i]);
        free(names[i]);
    }
    free(names);
    return 0;
}

int cmd_plot(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "bdrl plot: expected a subcommand: dist, fields, curves, sweep, policy, risk or returns (see 'bdrl plot --help')\n");
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        args_print_help(&plot_spec, stdout);
        return 0;
    }
    if (!strcmp(sub, "dist"))
        return plot_dist(argc - 1, argv + 1);
    if (!strcmp(sub, "fields"))
        return plot_fields(argc - 1, argv + 1);
    if (!strcmp(sub, "curves"))
        return plot_curves(argc - 1, argv + 1);
    if (!strcmp(sub, "policy"))
        return plot_policy(argc - 1, argv + 1);
    if (!strcmp(sub, "risk"))
        return plot_risk(argc - 1, argv + 1);
    if (!strcmp(sub, "returns"))
        return plot_returns(argc - 1, argv + 1);
    if (!strcmp(sub, "sweep"))
        return plot_sweep(argc - 1, argv + 1);
    fprintf(stderr, "bdrl plot: unknown subcommand '%s' (dist, fields, curves, sweep, policy, risk, returns)\n", sub);
    return 2;
}
