/* Tests of CliffWalking-v1 (src/envs/cliffwalking.c, tabular.c): the
 * transition tables and seeded trajectories against Gymnasium's own
 * (tests/ref/cliffwalking_*.csv, written by tests/ref/cliffwalking_ref.py
 * from gymnasium/envs/toy_text/cliffwalking.py), the grid, terminal states,
 * the (absent) time limit, the keys it refuses, and its exact truth. */
#include "test_util.h"

#include "train/check.h"
#include "agents/experiment.h"
#include "envs/env.h"
#include "truth/truth.h"

static env *make_cw(int slippery, int max_steps)
{
    env_config c;
    env_config_defaults(&c, "cliffwalking");
    c.slippery = slippery;
    c.max_episode_steps = max_steps;
    bdrl_err err;
    env *e = env_create(&c, &err);
    if (!e)
        fail_msg("env_create: %s", err.msg);
    return e;
}

static FILE *open_ref(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/ref/%s", tu_root(), name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    return f;
}

/* P, line for line as `bdrl env table` prints it, against the reference's. */
static void test_tables_match_gymnasium(void **state)
{
    (void)state;
    const char *files[2] = {"cliffwalking_table.csv", "cliffwalking_table_slippery.csv"};
    for (int sl = 0; sl <= 1; sl++) {
        env *e = make_cw(sl, 0);
        const env_table *t = env_transition_table(e);
        FILE *f = open_ref(files[sl]);
        char want[256], got[256];
        assert_non_null(fgets(want, sizeof want, f));
        assert_string_equal(want, "state,action,prob,next_state,reward,terminated\n");
        int lines = 0, coincide = 0;
        for (int s = 0; s < 48; s++)
            for (int a = 0; a < 4; a++) {
                assert_int_equal(t->n_outcomes[s * 4 + a], sl ? 3 : 1);
                for (int k = 0; k < t->n_outcomes[s * 4 + a]; k++) {
                    const env_outcome *o = env_table_outcome(t, s, a, k);
                    snprintf(got, sizeof got, "%d,%d,%.17g,%d,%.17g,%d\n", s, a, o->prob, o->next_state, o->reward,
                             o->terminated);
                    if (!fgets(want, sizeof want, f))
                        fail_msg("%s ends before state %d action %d", files[sl], s, a);
                    if (strcmp(want, got))
                        fail_msg("%s line %d: reference %s bdrl %s", files[sl], lines + 2, want, got);
                    lines++;
                    coincide += k > 0 && o->next_state == env_table_outcome(t, s, a, k - 1)->next_state;
                }
            }
        assert_null(fgets(want, sizeof want, f));
        fclose(f);
        assert_int_equal(lines, sl ? 576 : 192);
        if (sl)
            assert_true(coincide > 0); /* kept apart, as in P */
        env_free(e);

        /* the command prints the same; Gymnasium's default is not slippery */
        tu_result r = tu_run("%s env table cliffwalking%s | cmp - '%s/tests/ref/%s'", tu_bdrl(),
                             sl ? " --set env.slippery=true" : "", tu_root(), files[sl]);
        if (r.status)
            fail_msg("bdrl env table cliffwalking%s differs from %s: %s", sl ? " (slippery)" : "", files[sl], r.out);
        tu_run_free(&r);
    }
}

/* Replays tests/ref/NAME (seed,step,action,state,reward,terminated,truncated;
 * step 0 the reset's state): reset(seed), then every step, bit for bit. */
static void replay(const char *name, int slippery, long *n_traj, long *n_steps, long *n_goal, long *n_cliff,
                   long *n_long)
{
    FILE *f = open_ref(name);
    env *e = make_cw(slippery, 0);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    long lineno = 1, last_step = 0;
    *n_traj = *n_steps = *n_goal = *n_cliff = *n_long = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        unsigned long long seed;
        long step, action, st, term, trunc;
        double reward;
        if (sscanf(line, "%llu,%ld,%ld,%ld,%lf,%ld,%ld", &seed, &step, &action, &st, &reward, &term, &trunc) != 7)
            fail_msg("%s:%ld: malformed row", name, lineno);
        if (step == 0) {
            *n_long += last_step >= 500;
            uint64_t s = seed;
            const float *obs = env_reset(e, &s);
            if (obs[0] != (float)st)
                fail_msg("%s:%ld: seed %llu resets to %g, Gymnasium to %ld", name, lineno, seed, obs[0], st);
            (*n_traj)++;
            last_step = 0;
            continue;
        }
        env_step r = env_do_step(e, (int)action);
        double got;
        env_get_state(e, &got);
        if (r.refused || got != (double)st || r.obs[0] != (float)st || r.reward != reward || r.terminated != term ||
            r.truncated != trunc)
            fail_msg("%s:%ld: seed %llu step %ld: state %g reward %g terminated %d truncated %d; Gymnasium %ld %g %ld %ld",
                     name, lineno, seed, step, got, r.reward, r.terminated, r.truncated, st, reward, term, trunc);
        (*n_steps)++;
        *n_goal += term;
        *n_cliff += reward == -100;
        last_step = step;
    }
    *n_long += last_step >= 500;
    fclose(f);
    env_free(e);
}

static void test_rollouts_match_gymnasium(void **state)
{
    (void)state;
    long traj, steps, goal, cliff, full;
    replay("cliffwalking_rollouts_slippery.csv", 1, &traj, &steps, &goal, &cliff, &full);
    /* seeds 0..29, 2^32 - 1, 2^32, 2^53 - 2, 2^53 - 1: falls, goals and
     * trajectories that run to the 500th action */
    assert_int_equal(traj, 34);
    assert_true(steps > 14000 && goal >= 5 && cliff > 1000 && full >= 20);
    replay("cliffwalking_rollouts.csv", 0, &traj, &steps, &goal, &cliff, &full);
    assert_int_equal(traj, 10);
    assert_true(steps > 1000 && goal >= 5 && cliff > 10);

    /* bdrl env rollout prints the same rows: seed 7, slippery */
    FILE *f = open_ref("cliffwalking_rollouts_slippery.csv");
    char line[256], acts[8192] = "", want[65536] = "step,state,reward,terminated,truncated\n";
    size_t na = 0, nw = strlen(want);
    while (fgets(line, sizeof line, f)) {
        unsigned long long seed;
        long step, action;
        if (sscanf(line, "%llu,%ld,%ld", &seed, &step, &action) != 3 || seed != 7 || step == 0)
            continue;
        na += (size_t)snprintf(acts + na, sizeof acts - na, "%s%ld", na ? "," : "", action);
        const char *rest = strchr(strchr(strchr(line, ',') + 1, ',') + 1, ',') + 1;
        nw += (size_t)snprintf(want + nw, sizeof want - nw, "%ld,%s", step, rest);
    }
    fclose(f);
    assert_true(na > 0 && na < sizeof acts - 8 && nw < sizeof want - 8);
    tu_result r = tu_run("%s env rollout cliffwalking --set env.slippery=true --seed 7 --actions %s", tu_bdrl(), acts);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, want);
    tu_run_free(&r);
}

static void test_grid_terminals_and_limits(void **state)
{
    (void)state;
    env *e = make_cw(0, 0);
    const env_table *t = env_transition_table(e);
    assert_int_equal(env_get_kind(e), ENV_CLIFFWALKING);
    assert_string_equal(env_name(e), "cliffwalking");
    assert_string_equal(env_kind_describe(ENV_CLIFFWALKING)->gym_id, "CliffWalking-v1");
    assert_int_equal(env_n_states(e), 48);
    assert_int_equal(env_n_actions(e), 4);
    assert_int_equal(env_obs_dim(e), 1);
    assert_true(env_is_tabular(e));
    assert_string_equal(env_action_name(e, 0), "up");
    assert_string_equal(env_action_name(e, 3), "left");
    assert_int_equal(t->nrow, 4);
    assert_int_equal(t->ncol, 12);
    assert_memory_equal(t->desc, "FFFFFFFFFFFF" "FFFFFFFFFFFF" "FFFFFFFFFFFF" "SCCCCCCCCCCG", 48);
    for (int s = 0; s < 48; s++)
        assert_int_equal(t->terminal[s], s >= 37);
    /* no TimeLimit (Gymnasium registers none): 5,000 bumps into the corner */
    assert_int_equal(env_max_steps(e), ENV_NO_TIME_LIMIT);
    assert_true(env_reset(e, NULL)[0] == 36.0f);
    for (int i = 0; i < 5000; i++) {
        env_step st = env_do_step(e, 3);
        assert_true(st.obs[0] == 36.0f && st.reward == -1 && !st.terminated && !st.truncated);
    }
    /* the cliff: -100, back on S, the episode goes on; the goal ends it */
    env_step st = env_do_step(e, 1);
    assert_true(st.obs[0] == 36.0f && st.reward == -100 && !st.terminated);
    assert_false(env_step_success(e, &st));
    double v = 35;
    assert_int_equal(env_set_state(e, &v, NULL), 0);
    st = env_do_step(e, 2);
    assert_true(st.obs[0] == 47.0f && st.reward == -1 && st.terminated);
    assert_true(env_step_success(e, &st));
    v = 48;
    bdrl_err err;
    assert_int_equal(env_set_state(e, &v, &err), -1);
    assert_contains(err.msg, "CliffWalking-v1 state must be an integer in [0, 48)");
    env_free(e);

    /* env.max_episode_steps sets one */
    e = make_cw(1, 7);
    env_reset(e, NULL);
    for (int i = 1; i <= 7; i++) {
        st = env_do_step(e, 3);
        assert_int_equal(st.truncated, i == 7);
    }
    assert_true(env_do_step(e, 3).refused);
    env_free(e);
}

/* env.slippery's default is the environment's (Gymnasium's): CliffWalking
 * false, FrozenLake true; FrozenLake's keys are refused, not ignored;
 * training needs a time limit. */
static void test_config(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    char *cw[] = {"env.name=cliffwalking"}, *fl[] = {"env.name=frozenlake"};
    assert_int_equal(exp_load(&cfg, NULL, cw, 1, &e), 0);
    assert_int_equal(cfg.env.slippery, 0);
    assert_int_equal(exp_load(&cfg, NULL, fl, 1, &e), 0);
    assert_int_equal(cfg.env.slippery, 1);
    char *cws[] = {"env.name=cliffwalking", "env.slippery=true"};
    assert_int_equal(exp_load(&cfg, NULL, cws, 2, &e), 0);
    assert_int_equal(cfg.env.slippery, 1);
    char *bad[] = {"env.name=cliffwalking", "env.slippery=maybe"};
    assert_int_equal(exp_load(&cfg, NULL, bad, 2, &e), -1);
    assert_contains(e.msg, "expects true or false");

    const struct {
        const char *set, *msg;
    } refused[] = {
        {"env.map=8x8", "env.map is FrozenLake's"},
        {"env.success_rate=0.5", "env.success_rate is FrozenLake's"},
        {"env.reward_goal=2", "are FrozenLake's"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        char *sets[] = {"env.name=cliffwalking", (char *)refused[i].set};
        assert_int_equal(exp_load(&cfg, NULL, sets, 2, &e), 0);
        env *en = env_create(&cfg.env, &e);
        assert_null(en);
        assert_contains(e.msg, refused[i].msg);
    }

    assert_int_equal(exp_load(&cfg, NULL, cw, 1, &e), 0);
    assert_int_equal(exp_check(&cfg, &e), -1);
    assert_contains(e.msg, "cliffwalking has no time limit");
    assert_contains(e.msg, "set env.max_episode_steps");
    char *lim[] = {"env.name=cliffwalking", "env.max_episode_steps=200", "agent.kind=c51", "agent.v_min=-100",
                   "agent.v_max=0"};
    assert_int_equal(exp_load(&cfg, NULL, lim, 5, &e), 0);
    if (exp_check(&cfg, &e))
        fail_msg("%s", e.msg);

    tu_result r = tu_run("%s env info cliffwalking", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "max_episode_steps: none\n");
    assert_contains(r.out, "slippery: false\n");
    assert_contains(r.out, "  SCCCCCCCCCCG\n");
    tu_run_free(&r);
}

/* Exact truth: not slippery, the optimal walk is Sutton and Barto's 13
 * steps along the cliff's edge; slippery, the laws are proper and their
 * means are value iteration's Q; a terminal state's law is the atom 0. */
static void test_truth(void **state)
{
    (void)state;
    const double g = 0.99;
    env *e = make_cw(0, 0);
    const env_table *t = env_transition_table(e);
    double v[48], q[192];
    int pi[48];
    bdrl_err err;
    assert_int_equal(truth_tab_value_iteration(t, g, v, q, pi, &err), 0);
    assert_close(v[36], -(1 - pow(g, 13)) / (1 - g), 1e-9);
    assert_int_equal(pi[36], 0);                          /* up */
    for (int c = 0; c < 11; c++)
        assert_int_equal(pi[24 + c], 1);                  /* right along row 2 */
    assert_int_equal(pi[35], 2);                          /* down into the goal */
    truth_atoms d;
    assert_int_equal(truth_tab_distribution(t, g, pi, 36, 0, &d, &err), 0);
    assert_int_equal(d.n, 1);
    assert_close(d.value[0], v[36], 1e-9);
    truth_atoms_free(&d);
    /* right from the start: the cliff, then the 13 steps: -100 + γ V(36) */
    assert_int_equal(truth_tab_distribution(t, g, pi, 36, 1, &d, &err), 0);
    assert_int_equal(d.n, 1);
    assert_close(d.value[0], -100 + g * v[36], 1e-9);
    truth_atoms_free(&d);
    for (int s = 37; s < 48; s++) {
        assert_true(truth_tab_is_terminal(t, s));
        assert_true(v[s] == 0);
        assert_int_equal(truth_tab_distribution(t, g, pi, s, 2, &d, &err), 0);
        assert_true(d.n == 1 && d.value[0] == 0 && d.prob[0] == 1);
        truth_atoms_free(&d);
    }
    env_free(e);

    e = make_cw(1, 0);
    t = env_transition_table(e);
    assert_int_equal(truth_tab_value_iteration(t, g, v, q, pi, &err), 0);
    /* from S, left (2/3 stay, 1/3 up) is safer than up (1/3 into the cliff) */
    assert_int_equal(pi[36], 3);
    for (int s = 0; s < 37; s++)
        for (int a = 0; a < 4; a++) {
            if (truth_tab_distribution(t, g, pi, s, a, &d, &err))
                fail_msg("(%d, %d): %s", s, a, err.msg);
            double mass = 0;
            for (int i = 0; i < d.n; i++)
                mass += d.prob[i];
            assert_true(d.residual < TRUTH_TAB_MASS_TOL);
            assert_close(mass + d.residual, 1, 1e-12);
            assert_close(truth_atoms_mean(&d), q[s * 4 + a], 2e-5);
            truth_atoms_free(&d);
        }
    env_free(e);
}

/* Train, eval and truth on a run, as for FrozenLake: every non-terminal
 * (s, a) scored against the exact law, none of the cliff or the goal. */
static void test_run_eval_and_truth(void **state)
{
    (void)state;
    char run[600];
    snprintf(run, sizeof run, "%s/cw_run", tu_dir);
    tu_result r = tu_run("%s train %s/configs/cliffwalking_c51.yaml --out %s -q --set train.total_steps=300 "
                         "--set train.learning_starts=100 --set eval.interval=300 --set eval.episodes=4 "
                         "--set env.max_episode_steps=50 --set agent.mode=evaluate",
                         tu_bdrl(), tu_root(), run);
    if (r.status)
        fail_msg("train exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --episodes 4", tu_bdrl(), run);
    if (r.status)
        fail_msg("eval exited %d: %s", r.status, r.err);
    assert_contains(r.out, "\"truth\": \"exact\"");
    assert_contains(r.out, "\"truth_policy\": \"optimal\"");
    int rows = 0;
    for (const char *p = strstr(r.out, "\"state\": "); p; p = strstr(p + 1, "\"state\": ")) {
        int s = atoi(p + 9);
        assert_true(s >= 0 && s < 37);
        rows++;
    }
    assert_int_equal(rows, 37 * 4);
    tu_run_free(&r);
    r = tu_run("%s truth --policy %s --state 36 --action 3", tu_bdrl(), run);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "# policy optimal, gamma 0.99");
    assert_contains(r.err, "# state 36 action 3: 527 atoms, mean -46.35267");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_match_gymnasium),
        cmocka_unit_test(test_rollouts_match_gymnasium),
        cmocka_unit_test(test_grid_terminals_and_limits),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_truth),
        cmocka_unit_test(test_run_eval_and_truth),
    };
    return cmocka_run_group_tests_name("cliffwalking", tests, tu_group_setup, tu_group_teardown);
}
