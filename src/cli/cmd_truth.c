/* cmd_truth.c — `bdrl truth`: the true return distribution of a policy at one
 * state (exact atoms from a transition table, Monte Carlo returns from a
 * state that can be set), with
 * --projection the distance from a representation's projected fixed point
 * to it (truth/projected.h), and with --risk the iterated risk-greedy policy
 * and its laws (truth/risk_policy.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/evaldist.h"
#include "agents/experiment.h"
#include "train/run.h"
#include "truth/projected.h"
#include "truth/risk_policy.h"
#include "truth/truth.h"
#include "cli/args.h"
#include "cli/cli.h"
#include "core/io.h"

static const args_opt opts[] = {
    {"policy", 0, 1, "optimal|RUN", "the policy after the first action (default optimal)"},
    {"state", 0, 1, "S", "a state index (transition tables; --projection, --risk: default all), or the state's "
                         "components (CartPole: X,XDOT,THETA,THETADOT)"},
    {"action", 0, 1, "A", "only this first action (default: every action)"},
    {"rollouts", 'n', 1, "N", "Monte Carlo: rollouts per action (default 1)"},
    {"steps", 0, 1, "K", "Monte Carlo: steps per rollout (default: smallest K with gamma^K < 1e-4)"},
    {"summary", 0, 0, "", "Monte Carlo: one summary row per action instead of the returns"},
    {"projection", 0, 1, "quantile:N|categorical:N",
     "transition tables: the projected operator's fixed point against the exact law"},
    {"risk", 0, 1, "MEASURE[:PARAM]",
     "transition tables: the iterated risk-greedy policy for mean, cvar:A, var:A, wang:E, cpw:E or pow:E"},
};
static const args_spec spec = {
    "bdrl truth [CONFIG] --state S [--policy optimal|RUN] [--action A] [-n N] [--steps K]\n"
    "                  [--summary] [--set KEY=VALUE]...\n"
    "       bdrl truth [CONFIG] --projection quantile:N|categorical:N [--state S] [--policy optimal|RUN]\n"
    "                  [--action A] [--set KEY=VALUE]...\n"
    "       bdrl truth CONFIG --risk MEASURE[:PARAM] [--state S [--action A]] [--set KEY=VALUE]...",
    "Prints the true law of the return Z(s, a) = sum_t gamma^t r_t: the first action a,\n"
    "then the policy. CONFIG (with --set) gives the environment and gamma (agent.gamma);\n"
    "without CONFIG, RUN/config.yaml does. The policy: 'optimal' (value iteration on\n"
    "the transition table, ties to the lowest action; the default) or a run directory\n"
    "RUN: the policy whose returns RUN learned (its greedy policy, or the optimal one\n"
    "for a run with agent.mode evaluate), as 'bdrl eval' compares against.\n\n"
    "With a transition table (FrozenLake, CliffWalking, or a\n"
    "tabular plugin's bdrl_env_transitions): CSV action,return,prob, the exact\n"
    "atoms of the infinite-horizon law (time limits ignored: a truncation is not an\n"
    "end), from dynamic programming on the table, stopped when less than 1e-12 of\n"
    "the probability is still walking (that mass is dropped). A terminal state (a\n"
    "hole, the goal, a cliff cell) has return 0. The number of atoms, the mean and\n"
    "the dropped mass go to stderr.\n"
    "Without one (CartPole, Acrobot, MountainCar, a plugin with bdrl_env_set_state;\n"
    "--policy RUN): CSV action,return, one row per Monte Carlo rollout of K steps from\n"
    "the state set (the time limit ignored, K with gamma^K < 1e-4, 917 at gamma 0.99).\n"
    "CartPole and a greedy policy are deterministic, so every rollout gives the same\n"
    "return; a random env (a plugin's) needs -n N. With --summary:\n"
    "action,n,mean,sd,min,max,mean_length (steps until the episode ended, or K).\n\n"
    "--projection (transition tables only): the fixed point of the projected\n"
    "distributional Bellman operator Z <- P(r + gamma Z(s', pi(s'))), the law a learner\n"
    "with that representation converges to even with perfect optimisation: its\n"
    "distance to the exact law is the representation's own floor, what perfect TD\n"
    "training of it leaves. quantile:N is QR-DQN's (N equally weighted atoms at the\n"
    "quantiles tau_i = (2i+1)/(2N), the W1 projection); categorical:N is C51's (N\n"
    "atoms on [agent.v_min, agent.v_max], each return clipped to it and its mass split\n"
    "between the two nearest atoms; the means are exact inside the support). CSV\n"
    "state,action,w1,cramer,mean_fixed_point,mean_truth for every non-terminal (s, a)\n"
    "(or those of --state/--action); the mean W1, mean bias (fixed point minus truth),\n"
    "max W1 and, for contrast, the mean W1 of the exact law projected once (what the\n"
    "representation can hold) go to stderr. FrozenLake 4x4, gamma 0.99, optimal\n"
    "policy: quantile:101 is 0.035 from the truth (means 0.034 low; projected once\n"
    "0.0024), categorical:101 on [0, 1] 0.0017.\n\n"
    "--risk (transition tables only): the iterated per-state risk-greedy policy, what a\n"
    "distributional agent acting greedily on a risk measure of its learned laws\n"
    "converges to when it converges; not the static policy that maximizes the\n"
    "measure of the whole return from the start (a risk measure is not additive over\n"
    "time, so choosing per state is not dynamic programming for it). From the\n"
    "mean-optimal policy, it alternates the exact laws Z(s, a) of the current policy\n"
    "with the choice, in every state, of the action maximizing the measure of Z(s, a)\n"
    "(ties to the lowest action) until a policy repeats: the last one (converged) or an\n"
    "earlier one (a cycle, reported with its length and the states that flip; the\n"
    "exit status is still 0). Measures (distorted expectations E[F^-1(beta(tau))], IQN\n"
    "section 3): mean; cvar:ALPHA (mean of the lowest ALPHA, in (0, 1]); var:ALPHA\n"
    "(the ALPHA quantile); wang:ETA (ETA < 0 averse); cpw:ETA (ETA in [0.28, 100]);\n"
    "pow:ETA (ETA < 0 averse). CSV state,action,mean_optimal,value_0,...: the\n"
    "policy's action and the mean-optimal one in every non-terminal state, and the\n"
    "measure of Z(s, a) under the policy for every action; the iterations, whether it\n"
    "converged, the states that differ from the mean-optimal policy and the largest\n"
    "dropped mass go to stderr. With --state S: the laws of S under the policy in the\n"
    "format above (action,return,prob), and S's values on stderr.\n\n"
    "Examples (fl.yaml holding 'env: {name: frozenlake}'):\n"
    "  bdrl truth fl.yaml --state 0\n"
    "  bdrl truth fl.yaml --set env.slippery=false --set agent.gamma=0.9 --state 0 --action 2\n"
    "  bdrl truth --policy runs/cartpole_c51_s1 --state 0,0,0.05,0 --summary\n"
    "  bdrl truth fl.yaml --projection quantile:101\n"
    "  bdrl truth fl.yaml --risk cvar:0.25\n"
    "  bdrl truth cw.yaml --set env.slippery=true --risk wang:-0.75 --state 36",
    opts, (int)(sizeof opts / sizeof *opts), 1,
};

/* The policy of a trained run: its config, env and agent. */
typedef struct {
    exp_config cfg;
    env *env;
    agent *agent;
} run_policy;

/* Opens RUN and checks that its environment has the shape of en's (same kind,
 * actions and, for FrozenLake, number of states). */
static int run_policy_open(run_policy *rp, const char *dir, const env *en, bdrl_err *e)
{
    if (run_load(dir, &rp->cfg, &rp->env, &rp->agent, e))
        return -1;
    if (env_get_kind(rp->env) != env_get_kind(en))
        return err_set(e, "the run is on %s, CONFIG on %s", env_name(rp->env), env_name(en));
    if (env_n_actions(rp->env) != env_n_actions(en) || env_n_states(rp->env) != env_n_states(en))
        return err_set(e, "the run's %s has %d states and %d actions, CONFIG's %d and %d", env_name(en),
                       env_n_states(rp->env), env_n_actions(rp->env), env_n_states(en), env_n_actions(en));
    return 0;
}

static void run_policy_close(run_policy *rp)
{
    agent_free(rp->agent);
    env_free(rp->env);
    rp->agent = NULL;
    rp->env = NULL;
}

static int print_fl(const env_table *t, double gamma, const int *policy, int s, int a0, int a1)
{
    printf("action,return,prob\n");
    for (int a = a0; a <= a1; a++) {
        truth_atoms d;
        bdrl_err e;
        if (truth_tab_distribution(t, gamma, policy, s, a, &d, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            return 1;
        }
        for (int i = 0; i < d.n; i++)
            printf("%d,%.17g,%.17g\n", a, d.value[i], d.prob[i]);
        fprintf(stderr, "# state %d action %d: %d atoms, mean %.10f, dropped mass %.3g, %d steps\n", s, a,
                d.n, truth_atoms_mean(&d), d.residual, d.steps);
        truth_atoms_free(&d);
    }
    return 0;
}

/* The projected fixed point against the exact law for every non-terminal
 * (s, a) with s in [s0, s1], a in [a0, a1]. */
static int print_projected(const env_table *t, double gamma, const int *policy, const proj_spec *sp, int s0,
                           int s1, int a0, int a1)
{
    proj_fixed_point fp;
    bdrl_err e;
    if (truth_tab_projected(t, gamma, policy, sp, 0, 0, &fp, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 1;
    }
    int rc = 1, n = 0, N = fp.n;
    double sum_w1 = 0, sum_bias = 0, max_w1 = 0, sum_once = 0;
    double *pv = malloc(sizeof(double) * (size_t)N), *pp = malloc(sizeof(double) * (size_t)N);
    if (!pv || !pp) {
        fprintf(stderr, "bdrl: out of memory\n");
        goto done;
    }
    printf("state,action,w1,cramer,mean_fixed_point,mean_truth\n");
    for (int s = s0; s <= s1; s++) {
        if (truth_tab_is_terminal(t, s))
            continue;
        for (int a = a0; a <= a1; a++) {
            truth_atoms d;
            if (truth_tab_distribution(t, gamma, policy, s, a, &d, &e)) {
                fprintf(stderr, "bdrl: %s\n", e.msg);
                goto done;
            }
            /* Π applied once to the exact law: what the representation can
             * hold, against what bootstrapping through Π converges to */
            int bad = sp->kind == PROJ_QUANTILE ? proj_quantile(d.value, d.prob, d.n, N, pv, &e)
                                                : proj_categorical(d.value, d.prob, d.n, N, sp->v_min, sp->v_max, pp, &e);
            if (!bad)
                for (int j = 0; j < N; j++) {
                    if (sp->kind == PROJ_QUANTILE)
                        pp[j] = 1.0 / N;
                    else
                        pv[j] = proj_fp_value(&fp, s, a)[j];
                }
            stat_dist *truth = bad ? NULL : stat_dist_atoms(d.value, d.prob, (size_t)d.n, &e);
            truth_atoms_free(&d);
            stat_dist *model = truth ? stat_dist_atoms(proj_fp_value(&fp, s, a), proj_fp_prob(&fp, s, a),
                                                       (size_t)fp.n, &e) : NULL;
            stat_dist *once = model ? stat_dist_atoms(pv, pp, (size_t)N, &e) : NULL;
            if (!once) {
                stat_dist_free(truth);
                stat_dist_free(model);
                fprintf(stderr, "bdrl: %s\n", e.msg);
                goto done;
            }
            sum_once += stat_w1(once, truth);
            stat_dist_free(once);
            stat_cmp c;
            stat_dist_compare(model, truth, &c);
            double mm = stat_dist_mean(model), mt = stat_dist_mean(truth);
            printf("%d,%d,%.17g,%.17g,%.17g,%.17g\n", s, a, c.w1, c.cramer, mm, mt);
            sum_w1 += c.w1;
            sum_bias += mm - mt;
            max_w1 = fmax(max_w1, c.w1);
            n++;
            stat_dist_free(model);
            stat_dist_free(truth);
        }
    }
    if (sp->kind == PROJ_QUANTILE)
        fprintf(stderr, "# projection quantile:%d", sp->n);
    else
        fprintf(stderr, "# projection categorical:%d on [%g, %g]", sp->n, sp->v_min, sp->v_max);
    fprintf(stderr, ": fixed point after %d sweeps (last change %.2g)\n", fp.iterations, fp.change);
    double bias = n ? sum_bias / n : 0;
    bias = fabs(bias) < 5e-7 ? 0.0 : bias; /* no "-0.000000" for C51's exact means */
    if (n)
        fprintf(stderr, "# %d (state, action) pairs: mean W1 %.6f, mean bias %+.6f, max W1 %.6f; "
                        "the exact law projected once: mean W1 %.6f\n", n,
                sum_w1 / n, bias, max_w1, sum_once / n);
    else
        fprintf(stderr, "# no non-terminal (state, action) pair here\n");
    rc = 0;
done:
    free(pv);
    free(pp);
    proj_fixed_point_free(&fp);
    return rc;
}

/* `--risk`: the iterated risk-greedy policy; with state >= 0 its laws at
 * state (actions a0..a1) instead of the policy table. */
static int print_risk(const env_table *t, double gamma, const risk_spec *r, int state, int a0, int a1)
{
    risk_greedy g;
    bdrl_err e;
    char name[64];
    risk_spec_format(r, name, sizeof name);
    if (truth_tab_risk_greedy(t, gamma, r, 0, &g, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 1;
    }
    int S = t->n_states, A = t->n_actions, rc = 0;
    fprintf(stderr, "# policy risk-greedy %s (from the mean-optimal policy), gamma %g\n", name, gamma);
    if (state < 0) {
        printf("state,action,mean_optimal");
        for (int a = 0; a < A; a++)
            printf(",value_%d", a);
        printf("\n");
        for (int s = 0; s < S; s++) {
            if (truth_tab_is_terminal(t, s))
                continue;
            printf("%d,%d,%d", s, g.policy[s], g.mean_policy[s]);
            for (int a = 0; a < A; a++)
                printf(",%.17g", g.value[s * A + a]);
            printf("\n");
        }
    } else {
        rc = print_fl(t, gamma, g.policy, state, a0, a1);
        if (!truth_tab_is_terminal(t, state)) {
            fprintf(stderr, "# state %d: action %d (mean-optimal %d); %s per action:", state, g.policy[state],
                    g.mean_policy[state], name);
            for (int a = 0; a < A; a++)
                fprintf(stderr, " %.10f", g.value[state * A + a]);
            fprintf(stderr, "\n");
        }
    }
    int live = 0, differ = 0;
    for (int s = 0; s < S; s++)
        if (!truth_tab_is_terminal(t, s)) {
            live++;
            differ += g.policy[s] != g.mean_policy[s];
        }
    if (g.converged) {
        fprintf(stderr, "# converged after %d improvement%s: the policy is %s-greedy on its own laws\n", g.iterations,
                g.iterations == 1 ? "" : "s", name);
    } else {
        fprintf(stderr, "# NOT CONVERGED: a cycle of %d policies (pi_%d to pi_%d, pi_0 the mean-optimal one); the "
                        "policy printed is the cycle's last, and greedy on its laws is the cycle's first. States that "
                        "flip (their actions in the cycle):",
                g.cycle_length, g.cycle_start, g.iterations - 1);
        for (int s = 0; s < S; s++)
            if (risk_greedy_flips(&g, s)) {
                fprintf(stderr, " %d (", s);
                for (int c = 0; c < g.cycle_length; c++)
                    fprintf(stderr, "%s%d", c ? "," : "", g.cycle[(size_t)c * S + s]);
                fprintf(stderr, ")");
            }
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "# %d of %d non-terminal states differ from the mean-optimal policy", differ, live);
    for (int s = 0, k = 0; s < S; s++)
        if (!truth_tab_is_terminal(t, s) && g.policy[s] != g.mean_policy[s])
            fprintf(stderr, "%s %d (%d -> %d)", k++ ? "," : ":", s, g.mean_policy[s], g.policy[s]);
    fprintf(stderr, "\n# largest dropped mass of a law %.3g\n", g.residual);
    risk_greedy_free(&g);
    return rc;
}

static int print_cp(const exp_config *cfg, const double *st, int a0, int a1, int n, int K, int summary,
                    truth_policy_fn pol, void *ctx)
{
    double *ret = malloc(sizeof(double) * (size_t)n);
    int *len = malloc(sizeof(int) * (size_t)n);
    int rc = 1;
    if (!ret || !len) {
        fprintf(stderr, "bdrl: out of memory\n");
        goto done;
    }
    printf(summary ? "action,n,mean,sd,min,max,mean_length\n" : "action,return\n");
    for (int a = a0; a <= a1; a++) {
        bdrl_err e;
        if (truth_mc_returns(&cfg->env, st, a, cfg->agent.gamma, K, pol, ctx, n, ret, len, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            goto done;
        }
        if (!summary) {
            for (int i = 0; i < n; i++)
                printf("%d,%.17g\n", a, ret[i]);
            continue;
        }
        double m = 0, ml = 0, lo = INFINITY, hi = -INFINITY, v = 0;
        for (int i = 0; i < n; i++) {
            m += ret[i];
            ml += len[i];
            lo = fmin(lo, ret[i]);
            hi = fmax(hi, ret[i]);
        }
        m /= n;
        ml /= n;
        for (int i = 0; i < n; i++)
            v += (ret[i] - m) * (ret[i] - m);
        double sd = n > 1 ? sqrt(v / (n - 1)) : 0.0;
        printf("%d,%d,%.17g,%.17g,%.17g,%.17g,%.17g\n", a, n, m, sd, lo, hi, ml);
    }
    rc = 0;
done:
    free(ret);
    free(len);
    return rc;
}

int cmd_truth(int argc, char **argv)
{
    args_parsed a;
    int rc = args_parse(&spec, argc, argv, &a);
    if (rc)
        return rc > 0 ? 0 : 2;
    const char *pol = args_get(&spec, &a, "policy");
    if (!pol)
        pol = "optimal";
    int optimal = !strcmp(pol, "optimal");
    char run_cfg[4096];
    const char *cfg_path = a.n_pos == 1 ? a.pos[0] : NULL;
    if (a.n_pos > 1 || (!cfg_path && optimal)) {
        fprintf(stderr, "bdrl truth: expected one CONFIG file (or --policy RUN; see 'bdrl truth --help')\n");
        return 2;
    }
    if (!cfg_path) {
        snprintf(run_cfg, sizeof run_cfg, "%s/" RUN_FILE_CONFIG, pol);
        if (!io_exists(run_cfg)) {
            fprintf(stderr, "bdrl: --policy %s: not a run directory (no config.yaml)\n", pol);
            return 2;
        }
        cfg_path = run_cfg;
    }
    const char *state_text = args_get(&spec, &a, "state");
    const char *proj_text = args_get(&spec, &a, "projection");
    const char *risk_text = args_get(&spec, &a, "risk");
    proj_spec ps;
    risk_spec rs;
    bdrl_err e;
    if (proj_text && proj_spec_parse(proj_text, &ps, &e)) {
        fprintf(stderr, "bdrl truth: --projection %s\n", e.msg);
        return 2;
    }
    if (risk_text && risk_spec_parse(risk_text, &rs, &e)) {
        fprintf(stderr, "bdrl truth: --risk %s\n", e.msg);
        return 2;
    }
    if (risk_text && proj_text) {
        fprintf(stderr, "bdrl truth: --risk and --projection exclude each other\n");
        return 2;
    }
    if (risk_text && args_get(&spec, &a, "policy")) {
        fprintf(stderr, "bdrl truth: --risk computes its own policy; --policy does not apply\n");
        return 2;
    }
    if (risk_text && !state_text && args_get(&spec, &a, "action")) {
        fprintf(stderr, "bdrl truth: with --risk, --action selects the laws printed for --state S; give --state\n");
        return 2;
    }
    if (!state_text && !proj_text && !risk_text) {
        fprintf(stderr, "bdrl truth: --state is required\n");
        return 2;
    }
    exp_config cfg;
    if (exp_load(&cfg, cfg_path, a.sets, a.n_sets, &e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 2;
    }
    env *en = env_create(&cfg.env, &e);
    if (!en) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        return 2;
    }
    run_policy rp = {0};
    rc = 2;
    int A = env_n_actions(en), a0 = 0, a1 = A - 1;
    long long v;
    const char *act_text = args_get(&spec, &a, "action");
    if (act_text) {
        if (args_int("--action", act_text, 0, A - 1, &v))
            goto done;
        a0 = a1 = (int)v;
    }
    if (!optimal && run_policy_open(&rp, pol, en, &e)) {
        fprintf(stderr, "bdrl: --policy %s: %s\n", pol, e.msg);
        goto done;
    }
    const char *n_text = args_get(&spec, &a, "rollouts"), *k_text = args_get(&spec, &a, "steps");
    int summary = args_get(&spec, &a, "summary") != NULL;

    const env_table *t = env_transition_table(en);
    if (risk_text && !t) {
        fprintf(stderr, "bdrl truth: --risk needs an environment with a transition table (%s has none)\n",
                env_name(en));
        goto done;
    }
    if (proj_text && !t) {
        fprintf(stderr, "bdrl truth: --projection needs an environment with a transition table (%s has none)\n",
                env_name(en));
        goto done;
    }
    if (proj_text && ps.kind == PROJ_CATEGORICAL) {
        ps.v_min = cfg.agent.v_min;
        ps.v_max = cfg.agent.v_max;
        if (proj_spec_check(&ps, &e)) {
            fprintf(stderr, "bdrl truth: --projection %s\n", e.msg);
            goto done;
        }
    }
    if (t) {
        if (n_text || k_text || summary) {
            fprintf(stderr, "bdrl truth: -n, --steps and --summary are for Monte Carlo truth (%s has a "
                            "transition table: its law is exact)\n", env_name(en));
            goto done;
        }
        int s0 = 0, s1 = t->n_states - 1;
        if (state_text) {
            if (args_int("--state", state_text, 0, t->n_states - 1, &v))
                goto done;
            s0 = s1 = (int)v;
        }
        if (risk_text) {
            rc = print_risk(t, cfg.agent.gamma, &rs, state_text ? s0 : -1, a0, a1);
            goto done;
        }
        int *policy = malloc(sizeof(int) * (size_t)t->n_states);
        if (!policy) {
            fprintf(stderr, "bdrl: out of memory\n");
            rc = 1;
            goto done;
        }
        const char *name = "optimal";
        if (optimal ? truth_tab_value_iteration(t, cfg.agent.gamma, NULL, NULL, policy, &e)
                    : evaldist_fl_policy(rp.agent, &rp.cfg, t, policy, &name, &e)) {
            fprintf(stderr, "bdrl: %s\n", e.msg);
            free(policy);
            rc = 1;
            goto done;
        }
        fprintf(stderr, "# policy %s, gamma %g\n", name, cfg.agent.gamma);
        rc = proj_text ? print_projected(t, cfg.agent.gamma, policy, &ps, s0, s1, a0, a1)
                       : print_fl(t, cfg.agent.gamma, policy, s0, a0, a1);
        free(policy);
        goto done;
    }

    /* Monte Carlo from a set state */
    if (optimal) {
        fprintf(stderr, "bdrl truth: %s has no transition table, so no 'optimal' policy here: give --policy "
                        "RUN (a trained run's greedy policy)\n", env_name(en));
        goto done;
    }
    double st[ENV_STATE_MAX];
    int ns = args_real_list("--state", state_text, st, ENV_STATE_MAX);
    if (ns < 0)
        goto done;
    int sdim = env_state_dim(en);
    if (ns != sdim) {
        fprintf(stderr, "bdrl truth: --state needs %d numbers for %s (%s), got %d\n", sdim, env_name(en),
                env_state_names(en), ns);
        goto done;
    }
    int n = 1, K = 0;
    if (n_text) {
        if (args_int("-n", n_text, 1, 10000000, &v))
            goto done;
        n = (int)v;
    }
    if (k_text) {
        if (args_int("--steps", k_text, 1, 100000000, &v))
            goto done;
        K = (int)v;
    } else if (truth_mc_horizon(cfg.agent.gamma, &K, &e)) {
        fprintf(stderr, "bdrl: %s (give --steps K)\n", e.msg);
        goto done;
    }
    rc = print_cp(&cfg, st, a0, a1, n, K, summary, evaldist_greedy_action, rp.agent);
done:
    run_policy_close(&rp);
    env_free(en);
    return rc;
}
