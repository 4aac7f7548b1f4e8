/* Tests of the risk figures (src/research/policyplot.h, riskplot.h;
 * `bdrl plot policy`, `plot risk`, `plot returns`) on short runs of the
 * FrozenLake ledge configs (configs/frozenlake_ledge_c51{,_cvar}.yaml, 3000
 * steps: long enough that the CVaR run's greedy action at S is up while its
 * Q values would go right): the policy map's arrows are the run's greedy
 * actions and the exact risk-greedy policy, pointing the way the actions'
 * names say; disagreements are counted right on hand-made policies; the
 * risk sweep's values are stats/risk's on the agent's atoms and on the exact
 * laws; the flips of the best action are found on hand-made values; the
 * greedy returns are the episodes `bdrl eval` scores; a Python table is a
 * row of states with its actions named; bad input exits 2 with one line. */
#include "test_util.h"

#include <sys/stat.h>

#include "agents/agent.h"
#include "research/figfiles.h"
#include "research/policyplot.h"
#include "research/riskplot.h"
#include "train/evaldist.h"
#include "train/run.h"
#include "truth/risk_policy.h"
#include "truth/truth.h"

static char run_mean[700], run_cvar[700], run_cp[700], run_dqn[700];

static void train(const char *cfg, const char *out, const char *extra)
{
    tu_result r = tu_run("%s train %s --out %s -q --set train.checkpoint_interval=0 %s", tu_bdrl(), cfg, out, extra);
    if (r.status != 0)
        fail_msg("bdrl train %s exited %d: %s", out, r.status, r.err);
    tu_run_free(&r);
}

static void ensure_runs(void)
{
    if (run_mean[0])
        return;
    snprintf(run_mean, sizeof run_mean, "%s/ledge_mean", tu_dir);
    snprintf(run_cvar, sizeof run_cvar, "%s/ledge_cvar", tu_dir);
    snprintf(run_cp, sizeof run_cp, "%s/cartpole", tu_dir);
    snprintf(run_dqn, sizeof run_dqn, "%s/ledge_dqn", tu_dir);
    char cfg[800];
    const char *steps = "--set train.total_steps=3000 --set eval.interval=3000 --set eval.episodes=20";
    snprintf(cfg, sizeof cfg, "%s/configs/frozenlake_ledge_c51.yaml", tu_root());
    train(cfg, run_mean, steps);
    snprintf(cfg, sizeof cfg, "%s/configs/frozenlake_ledge_c51_cvar.yaml", tu_root());
    train(cfg, run_cvar, steps);
    snprintf(cfg, sizeof cfg, "%s/configs/frozenlake_ledge_c51.yaml", tu_root());
    train(cfg, run_dqn, "--set agent.kind=dqn --set train.total_steps=300 --set eval.interval=300 "
                        "--set train.learning_starts=100");
    snprintf(cfg, sizeof cfg, "%s/cp.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: cartpole\nagent:\n  kind: c51\n  v_max: 100\n"
                  "train:\n  total_steps: 300\n  learning_starts: 100\neval:\n  interval: 300\n  episodes: 2\n");
    train(cfg, run_cp, "");
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && st.st_size > 0;
}

/* The rows of index block `block` (0-based) of a gnuplot data file: each
 * row's numbers into v (at most maxc per row), rows into *n. */
static int read_block(const char *path, int block, double v[][12], int maxr, int maxc)
{
    char *text = tu_read(path);
    if (!text)
        fail_msg("no %s", path);
    int b = 0, n = 0, blank = 0;
    for (char *p = text; *p;) {
        char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 0) {
            if (++blank == 2)
                b++;
        } else {
            blank = 0;
            if (*p != '#' && b == block && n < maxr) {
                char *q = p;
                int c = 0;
                while (c < maxc) {
                    char *e;
                    double x = strtod(q, &e);
                    if (e == q)
                        break;
                    v[n][c++] = x;
                    q = e;
                }
                if (c > 0 && !isnan(v[n][0]))
                    n++;
            }
        }
        p = end ? end + 1 : p + len;
    }
    free(text);
    return n;
}

/* The run's greedy action at every state, and the exact policy for its
 * measure (what the figure must show). */
static void policies_of(const char *run, int *greedy, int *exact, int *mean_opt, int *n_states)
{
    exp_config cfg;
    env *en;
    agent *ag;
    bdrl_err e;
    if (run_load(run, &cfg, &en, &ag, &e))
        fail_msg("%s", e.msg);
    const env_table *t = env_transition_table(en);
    *n_states = t->n_states;
    for (int s = 0; s < t->n_states; s++) {
        float obs = (float)s;
        greedy[s] = -1;
        if (!truth_tab_is_terminal(t, s))
            assert_int_equal(agent_greedy(ag, &obs, &greedy[s], &e), 0);
    }
    risk_greedy g;
    assert_int_equal(truth_tab_risk_greedy(t, cfg.agent.gamma, &cfg.agent.risk, 0, &g, &e), 0);
    memcpy(exact, g.policy, sizeof(int) * (size_t)t->n_states);
    memcpy(mean_opt, g.mean_policy, sizeof(int) * (size_t)t->n_states);
    risk_greedy_free(&g);
    agent_free(ag);
    env_free(en);
}

static void test_policy_frozenlake(void **state)
{
    (void)state;
    ensure_runs();
    char prefix[800], p[900];
    snprintf(prefix, sizeof prefix, "%s/policy", tu_dir);
    tu_result r = tu_run("%s plot policy %s %s --out %s", tu_bdrl(), run_mean, run_cvar, prefix);
    if (r.status != 0)
        fail_msg("plot policy exited %d: %s", r.status, r.err);
    assert_contains(r.out, "policy.png");
    assert_contains(r.out, "C51, agent.risk mean: greedy policy differs from the exact mean-optimal policy");
    assert_contains(r.out, "C51, agent.risk cvar:0.1: greedy policy differs from the exact cvar:0.1-greedy policy");
    /* the exact CVaR policy of this map differs from the mean-optimal one at S and 5 */
    assert_contains(r.out, "that policy differs from the mean-optimal one in 2");
    tu_run_free(&r);
    const char *files[] = {".png", ".svg", ".gp", "_data/meta.gp", "_data/cells.dat", "_data/arrows.dat",
                           "_data/differ.dat", "_data/policy.csv"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s%s", prefix, files[i]);
        if (!exists(p))
            fail_msg("no %s", p);
    }
    /* the arrows: block 2r the run's greedy actions, block 2r+1 the exact
     * policy, every non-terminal state once, pointing as the action's name */
    const char *runs[2] = {run_mean, run_cvar};
    snprintf(p, sizeof p, "%s_data/arrows.dat", prefix);
    int greedy_differs_from_mean_opt = 0;
    for (int k = 0; k < 2; k++) {
        int greedy[64], exact[64], mean_opt[64], S;
        policies_of(runs[k], greedy, exact, mean_opt, &S);
        assert_int_equal(S, 12);
        for (int panel = 0; panel < 2; panel++) {
            double v[64][12];
            int n = read_block(p, 2 * k + panel, v, 64, 6);
            assert_int_equal(n, 7); /* 12 cells, 4 holes and the goal */
            for (int i = 0; i < n; i++) {
                int s = (int)v[i][4], a = (int)v[i][5];
                assert_int_equal(a, panel ? exact[s] : greedy[s]);
                /* FrozenLake: 0 left, 1 down, 2 right, 3 up */
                const double dx[4] = {-1, 0, 1, 0}, dy[4] = {0, -1, 0, 1};
                assert_true(v[i][2] * dx[a] > 0 || v[i][3] * dy[a] > 0);
                /* from the cell's centre: column s % 4, row s / 4 from the top */
                assert_close(v[i][0] + v[i][2] / 2, s % 4 + 0.5, 1e-9);
                assert_close(v[i][1] + v[i][3] / 2, 2 - s / 4 + 0.5, 1e-9);
            }
        }
        if (k == 1) {
            assert_int_equal(exact[4], 3); /* the exact CVaR policy: up at S */
            assert_int_equal(mean_opt[4], 2);
            greedy_differs_from_mean_opt = greedy[4] != mean_opt[4];
        }
    }
    /* the short CVaR run already acts differently from the mean-optimal policy at S */
    assert_true(greedy_differs_from_mean_opt);
    /* the redraw script works */
    snprintf(p, sizeof p, "%s.png", prefix);
    unlink(p);
    r = tu_run("cd %s && gnuplot policy.gp", tu_dir);
    if (r.status != 0)
        fail_msg("gnuplot policy.gp exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    assert_true(exists(p));
}

/* Disagreements on hand-made policies on FrozenLake 4x4, not slippery:
 * exact "always right" visits 0, 1, 2, 3 from S; the agent differs at 1
 * (visited), 4 and 14 (not), and at the hole 5 (terminal: not counted). */
static void test_policy_counts_by_hand(void **state)
{
    (void)state;
    env_config c;
    env_config_defaults(&c, "frozenlake");
    c.slippery = 0;
    bdrl_err e;
    env *en = env_create(&c, &e);
    assert_non_null(en);
    int exact[16], agent[16], mean_opt[16];
    for (int s = 0; s < 16; s++)
        exact[s] = agent[s] = mean_opt[s] = 2;
    agent[1] = 1;
    agent[4] = 3;
    agent[14] = 0;
    agent[5] = 0; /* a hole */
    mean_opt[8] = 1;
    mean_opt[9] = 1;
    policyplot_row rows[2] = {{"hand", "exact", agent, exact, mean_opt, NULL},
                              {"same", "exact", exact, exact, NULL, NULL}};
    char dir[800];
    snprintf(dir, sizeof dir, "%s/hand_data", tu_dir);
    policyplot_counts cnt;
    assert_int_equal(policyplot_write_data(en, 2, rows, dir, &cnt, &e), 0);
    assert_int_equal(cnt.n_nonterminal, 11);
    assert_int_equal(cnt.n_differ[0], 3);
    assert_int_equal(cnt.n_visited[0], 4);
    assert_int_equal(cnt.n_differ_visited[0], 1);
    assert_int_equal(cnt.n_risk_differ[0], 2);
    assert_int_equal(cnt.n_differ[1], 0);
    assert_int_equal(cnt.n_risk_differ[1], 0);
    assert_int_equal(cnt.named_actions, 0);
    /* the marks: in both panels of run 1 the three states, none for run 2 */
    char p[900];
    snprintf(p, sizeof p, "%s/differ.dat", dir);
    double v[64][12];
    for (int panel = 0; panel < 2; panel++) {
        int n = read_block(p, panel, v, 64, 5);
        assert_int_equal(n, 3);
        assert_int_equal((int)v[0][2], 1);
        assert_int_equal((int)v[1][2], 4);
        assert_int_equal((int)v[2][2], 14);
        assert_int_equal((int)v[0][3], 1);
        assert_int_equal((int)v[0][4], 2);
    }
    assert_int_equal(read_block(p, 2, v, 64, 5), 0);
    assert_int_equal(read_block(p, 3, v, 64, 5), 0);
    /* the grey mean-optimal arrows: exact panel of run 1 only, at 8 and 9 */
    snprintf(p, sizeof p, "%s/mean.dat", dir);
    assert_int_equal(read_block(p, 0, v, 64, 6), 0);
    assert_int_equal(read_block(p, 1, v, 64, 6), 2);
    assert_int_equal((int)v[0][4], 8);
    assert_int_equal((int)v[1][5], 1);
    /* an action out of range is refused */
    agent[0] = 4;
    assert_int_equal(policyplot_write_data(en, 1, rows, dir, &cnt, &e), -1);
    assert_contains(e.msg, "out of [0, 4)");
    env_free(en);
    double dx, dy;
    assert_true(policyplot_direction("up", &dx, &dy) && dx == 0 && dy == 1);
    assert_false(policyplot_direction("risky", &dx, &dy));
}

/* The learned curve is the agent's risk values, which for C51 are
 * stats/risk's measure of its atoms; the dashed curve is stats/risk's
 * measure of the exact laws under the exact risk-greedy policy. */
static void test_risk_sweep_matches_stats(void **state)
{
    (void)state;
    ensure_runs();
    char prefix[800], p[900];
    snprintf(prefix, sizeof prefix, "%s/risk4", tu_dir);
    tu_result r = tu_run("%s plot risk %s --state 4 --out %s", tu_bdrl(), run_cvar, prefix);
    if (r.status != 0)
        fail_msg("plot risk exited %d: %s", r.status, r.err);
    assert_contains(r.out, "state 4: cvar:0.1 per action, learned:");
    assert_contains(r.out, "exact (Z(s, a), then the risk-greedy policy):");
    assert_contains(r.out, "learned cvar: ");
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s.png", prefix);
    assert_true(exists(p));
    exp_config cfg;
    env *en;
    agent *ag;
    bdrl_err e;
    assert_int_equal(run_load(run_cvar, &cfg, &en, &ag, &e), 0);
    const env_table *t = env_transition_table(en);
    risk_greedy g;
    assert_int_equal(truth_tab_risk_greedy(t, cfg.agent.gamma, &cfg.agent.risk, 0, &g, &e), 0);
    snprintf(p, sizeof p, "%s_data/sweep.dat", prefix);
    double v[256][12];
    int n = read_block(p, 0, v, 256, 9);
    assert_int_equal(n, 200);
    int checked = 0;
    for (int i = 0; i < n; i++) {
        double alpha = v[i][0];
        /* hand points: alpha 0.05, 0.1, 0.5, 1 */
        if (fabs(alpha - 0.05) > 1e-9 && fabs(alpha - 0.1) > 1e-9 && fabs(alpha - 0.5) > 1e-9 &&
            fabs(alpha - 1) > 1e-9)
            continue;
        risk_spec sp = {RISK_CVAR, alpha};
        for (int a = 0; a < 4; a++) {
            float obs = 4;
            agent_dist d;
            assert_int_equal(agent_distribution(ag, &obs, a, &d, &e), 0);
            double want;
            assert_int_equal(risk_atoms(&sp, d.x, d.w, (size_t)d.n, &want, &e), 0);
            assert_close(v[i][1 + a], want, 1e-6);
            truth_atoms ta;
            assert_int_equal(truth_tab_distribution(t, cfg.agent.gamma, g.policy, 4, a, &ta, &e), 0);
            assert_int_equal(risk_atoms(&sp, ta.value, ta.prob, (size_t)ta.n, &want, &e), 0);
            assert_close(v[i][5 + a], want, 1e-7);
            if (alpha == 1) /* CVaR at 1 is the mean */
                assert_close(v[i][5 + a], truth_atoms_mean(&ta), 1e-7);
            truth_atoms_free(&ta);
        }
        checked++;
    }
    assert_int_equal(checked, 4);
    /* the exact CVaR(0.1) of the laws at S, as `bdrl truth --risk` prints them */
    snprintf(p, sizeof p, "%s_data/marks.dat", prefix);
    n = read_block(p, 0, v, 8, 5);
    assert_int_equal(n, 4);
    assert_close(v[3][3], 0.52642566720048878, 1e-9); /* up */
    assert_close(v[2][3], 0.38310781769884833, 1e-9); /* right */
    risk_greedy_free(&g);
    agent_free(ag);
    env_free(en);
}

/* Labels two runs share get their directories' names, all of them (not
 * all but the last), unless the user gave them. */
static void test_unique_labels(void **state)
{
    (void)state;
    char labels[3][40] = {"C51", "C51", "BD"};
    const char *dirs[3] = {"runs/a_s1/", "other/a_s2", "b"};
    fig_unique_labels(&labels[0][0], sizeof labels[0], 3, dirs, NULL);
    assert_string_equal(labels[0], "C51 (a_s1)");
    assert_string_equal(labels[1], "C51 (a_s2)");
    assert_string_equal(labels[2], "BD");
    char again[3][40] = {"C51", "C51", "C51"};
    const int given[3] = {0, 1, 0};
    fig_unique_labels(&again[0][0], sizeof again[0], 3, dirs, given);
    assert_string_equal(again[0], "C51 (a_s1)");
    assert_string_equal(again[1], "C51");
    assert_string_equal(again[2], "C51 (b)");
}

/* Where the best action changes along a sweep, ties to the lowest action. */
static void test_flips_by_hand(void **state)
{
    (void)state;
    const double param[4] = {0.1, 0.2, 0.3, 0.4};
    /* two actions: 0 best, then 1 best from 0.3, a tie at 0.4 (0 by the rule) */
    const double values[8] = {1.0, 0.5, 0.9, 0.8, 0.6, 0.7, 0.7, 0.7};
    riskplot_flip f[4];
    int n = riskplot_flips(param, values, 4, 2, f, 4);
    assert_int_equal(n, 2);
    assert_close(f[0].lo, 0.2, 0);
    assert_close(f[0].hi, 0.3, 0);
    assert_int_equal(f[0].from, 0);
    assert_int_equal(f[0].to, 1);
    assert_int_equal(f[0].tie, 0);
    assert_int_equal(f[1].from, 1);
    assert_int_equal(f[1].to, 0);
    assert_int_equal(f[1].tie, 1);
    assert_int_equal(riskplot_flips(param, values, 4, 2, f, 1), 1); /* capped */
    double ps[256];
    risk_spec own = {RISK_WANG, -4};
    int k = riskplot_sweep_params(RISK_WANG, &own, ps, 256);
    assert_true(k > 100);
    assert_close(ps[0], -4, 1e-12); /* widened to hold the run's own parameter */
    assert_close(ps[k - 1], 3, 1e-12);
    k = riskplot_sweep_params(RISK_CVAR, NULL, ps, 256);
    assert_close(ps[k - 1], 1, 1e-12);
    assert_true(ps[0] > 0);
    assert_int_equal(riskplot_sweep_params(RISK_MEAN, NULL, ps, 256), -1);
}

/* The greedy returns are the episodes bdrl eval scores (same seed), for a
 * run acting on CVaR: the detour's lengths differ from the Q-greedy path's,
 * so acting on Q instead would change the mean length. */
static void test_returns_match_eval(void **state)
{
    (void)state;
    ensure_runs();
    char prefix[800];
    snprintf(prefix, sizeof prefix, "%s/returns", tu_dir);
    tu_result r = tu_run("%s plot returns %s %s --episodes 40 --seed 7 --out %s", tu_bdrl(), run_mean, run_cvar,
                         prefix);
    if (r.status != 0)
        fail_msg("plot returns exited %d: %s", r.status, r.err);
    assert_contains(r.out, "C51, agent.risk cvar:0.1: 40 episodes (seed 7): return mean ");
    /* "...: return mean M, ...; success rate R; L steps" */
    const char *line = strstr(r.out, "agent.risk cvar:0.1: 40 episodes");
    double mean = strtod(strstr(line, "return mean ") + 12, NULL);
    const char *rate = strstr(line, "success rate ");
    assert_non_null(rate);
    double len = strtod(strstr(rate, "; ") + 2, NULL);
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --episodes 40 --seed 7 --no-samples", tu_bdrl(), run_cvar);
    assert_int_equal(r.status, 0);
    assert_close(tu_json_num(r.out, "greedy_return_mean"), mean, 1e-9);
    assert_close(tu_json_num(r.out, "length_mean"), len, 1e-3);
    tu_run_free(&r);
    char p[900];
    snprintf(p, sizeof p, "%s_data/episodes.csv", prefix);
    char *csv = tu_read(p);
    assert_non_null(csv);
    assert_int_equal(tu_count_lines(csv), 1 + 2 * 40);
    free(csv);
    snprintf(p, sizeof p, "%s.svg", prefix);
    assert_true(exists(p));
}

/* A Python environment's table P is one row of states; its actions (safe,
 * risky) are not directions and are written by name. */
static void test_policy_python_row(void **state)
{
    (void)state;
    tu_lsan_ignore_python();
    char cfg[800], run[800], prefix[800], p[900];
    snprintf(cfg, sizeof cfg, "%s/chain_py.yaml", tu_dir);
    char text[1500];
    snprintf(text, sizeof text,
             "env:\n  name: python\n  python: %s/tests/python/chain_py.py:Chain\n"
             "  params: {length: 3, p_risky: 0.7, reward_fall: -1.0}\n"
             "agent:\n  kind: c51\n  gamma: 0.9\n  v_min: -1\n  v_max: 1\n  risk: cvar:0.25\n"
             "train:\n  total_steps: 600\n  learning_starts: 100\neval:\n  interval: 600\n  episodes: 5\n",
             tu_root());
    tu_write(cfg, text);
    snprintf(run, sizeof run, "%s/chain_run", tu_dir);
    train(cfg, run, "");
    snprintf(prefix, sizeof prefix, "%s/chain_policy", tu_dir);
    tu_result r = tu_run("%s plot policy %s --labels chain --out %s", tu_bdrl(), run, prefix);
    if (r.status != 0)
        fail_msg("plot policy (python) exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s_data/meta.gp", prefix);
    char *meta = tu_read(p);
    assert_contains(meta, "nrow = 1; ncol = 5");
    assert_contains(meta, "named = 1");
    free(meta);
    snprintf(p, sizeof p, "%s_data/names.dat", prefix);
    char *names = tu_read(p);
    assert_contains(names, "\"safe\"");
    free(names);
    /* the exact cvar:0.25 policy of the chain: safe everywhere (risky's
     * lowest quarter is the fall, -1) */
    snprintf(p, sizeof p, "%s_data/policy.csv", prefix);
    char *csv = tu_read(p);
    int rows = 0;
    for (const char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        int state, row, col, ag, ex;
        char cell;
        assert_int_equal(sscanf(l + 1, "1,\"chain\",%d,%d,%d,%c,%d,%d", &state, &row, &col, &cell, &ag, &ex), 6);
        assert_int_equal(row, 0);
        assert_int_equal(col, state);
        assert_int_equal(ex, 0);
        rows++;
    }
    assert_int_equal(rows, 3); /* the chain's three states; goal and fall are terminal */
    free(csv);
}

static void test_bad_input(void **state)
{
    (void)state;
    ensure_runs();
    tu_result r;
    const char *helps[] = {"plot policy --help", "plot risk --help", "plot returns --help"};
    for (size_t i = 0; i < 3; i++) {
        r = tu_run("%s %s", tu_bdrl(), helps[i]);
        assert_int_equal(r.status, 0);
        assert_contains(r.out, "usage: bdrl plot ");
        tu_run_free(&r);
    }
    struct {
        const char *args, *msg;
    } bad[] = {
        {"plot policy", "expected 1 to 6 RUN"},
        {"plot policy /nonexistent", "not a run directory"},
        {"plot policy @CP", "has no transition table"},
        {"plot policy @M @CP", "has no transition table"},
        {"plot policy @M @C --labels x", "one name per run"},
        {"plot policy @M --out /nonexistent/dir/x", "its directory does not exist"},
        {"plot risk @C", "--state is required"},
        {"plot risk @C --state 12", "state 12 is not in [0, 12)"},
        {"plot risk @C --state 8", "state 8 is terminal"},
        {"plot risk @C --state x", "expected a frozenlake state index"},
        {"plot risk @C --state 4 --measure mean", "--measure must be cvar, var, wang, pow or cpw"},
        {"plot risk @D --state 4", "learns no return law to distort"},
        {"plot risk @CP --state 0,0", "expected 4 comma-separated numbers"},
        {"plot returns", "expected 1 to 6 RUN"},
        {"plot returns @M --episodes 0", "--episodes"},
        {"plot returns @M --measure cvar:2", "--measure"},
        {"plot returns @M @CP", "plot runs of one environment"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[2000] = "";
        for (const char *p = bad[i].args; *p;) {
            const char *rep = NULL;
            int skip = 0;
            if (!strncmp(p, "@CP", 3))
                rep = run_cp, skip = 3;
            else if (!strncmp(p, "@M", 2))
                rep = run_mean, skip = 2;
            else if (!strncmp(p, "@C", 2))
                rep = run_cvar, skip = 2;
            else if (!strncmp(p, "@D", 2))
                rep = run_dqn, skip = 2;
            if (rep) {
                strcat(args, rep);
                p += skip;
            } else {
                strncat(args, p, 1);
                p++;
            }
        }
        r = tu_run("%s %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("'bdrl %s' exited %d (expected 2): %s", args, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
    /* a CartPole run has no exact laws, but plot risk works from its state */
    char prefix[800];
    snprintf(prefix, sizeof prefix, "%s/cp_risk", tu_dir);
    r = tu_run("%s plot risk %s --state 0,0,0.05,0 --measure wang --out %s", tu_bdrl(), run_cp, prefix);
    if (r.status != 0)
        fail_msg("plot risk on CartPole exited %d: %s", r.status, r.err);
    assert_contains(r.out, "learned wang: ");
    assert_true(!strstr(r.out, "exact wang"));
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_counts_by_hand),
        cmocka_unit_test(test_flips_by_hand),
        cmocka_unit_test(test_unique_labels),
        cmocka_unit_test(test_policy_frozenlake),
        cmocka_unit_test(test_risk_sweep_matches_stats),
        cmocka_unit_test(test_returns_match_eval),
        cmocka_unit_test(test_policy_python_row),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("riskplot", tests, tu_group_setup, tu_group_teardown);
}
