/* Tests of the iterated risk-greedy policy (truth/risk_policy.h) and of
 * `bdrl truth --risk`: a hand table whose iteration is worked out by hand,
 * slippery CliffWalking and FrozenLake 4x4 against the independent numpy
 * script (tests/ref/risk_ref.py, output in tests/ref/risk_ref.out; not run
 * here, it needs numpy and Gymnasium's source), cycles, and the command's
 * output and errors. */
#include "test_util.h"

#include "envs/env.h"
#include "stats/risk.h"
#include "truth/risk_policy.h"
#include "truth/truth.h"

static risk_spec spec(const char *text)
{
    risk_spec r;
    bdrl_err e;
    if (risk_spec_parse(text, &r, &e))
        fail_msg("%s", e.msg);
    return r;
}

/* State 1: safe (+1, end) or a coin (+4 or −1, end); state 0: walk to 1
 * (reward 0) or stop with 1.2; state 2 terminal; γ 0.9.
 *   mean-optimal: the coin at 1 (1.5 > 1), walking at 0 (0.9 · 1.5 > 1.2);
 *   cvar:0.5 on those laws: safe at 1 (1 > −1), stop at 0 (1.2 > cvar of
 *   0.9 · {4, −1} = −0.9);
 *   on the new laws: walking at 0 is 0.9 · 1 = 0.9 < 1.2: the same policy,
 *   so converged after 2 improvements with both states changed. */
static void test_hand_table(void **state)
{
    (void)state;
    int n_out[6] = {1, 1, 1, 2, 1, 1};
    env_outcome out[12] = {
        {1, 1, 0, 0}, {0, 0, 0, 0}, /* 0, walk */
        {1, 2, 1.2, 1}, {0, 0, 0, 0}, /* 0, stop */
        {1, 2, 1, 1}, {0, 0, 0, 0}, /* 1, safe */
        {0.5, 2, 4, 1}, {0.5, 2, -1, 1}, /* 1, coin */
        {1, 2, 0, 1}, {0, 0, 0, 0}, {1, 2, 0, 1}, {0, 0, 0, 0}, /* 2, terminal */
    };
    unsigned char term[3] = {0, 0, 1};
    env_table t = {.n_states = 3, .n_actions = 2, .max_outcomes = 2, .n_outcomes = n_out, .outcomes = out,
                   .terminal = term, .nrow = 1, .ncol = 3, .desc = "SFG"};
    risk_spec r = spec("cvar:0.5");
    risk_greedy g;
    bdrl_err e;
    assert_int_equal(truth_tab_risk_greedy(&t, 0.9, &r, 0, &g, &e), 0);
    assert_true(g.mean_policy[0] == 0 && g.mean_policy[1] == 1);
    assert_true(g.policy[0] == 1 && g.policy[1] == 0 && g.policy[2] == 0);
    assert_true(g.greedy[0] == 1 && g.greedy[1] == 0);
    assert_int_equal(g.iterations, 2);
    assert_true(g.converged);
    assert_int_equal(g.cycle_length, 1);
    assert_int_equal(g.cycle_start, 1);
    assert_false(risk_greedy_flips(&g, 0));
    assert_close(g.value[0 * 2 + 0], 0.9, 1e-12);
    assert_close(g.value[0 * 2 + 1], 1.2, 1e-12);
    assert_close(g.value[1 * 2 + 0], 1, 1e-12);
    assert_close(g.value[1 * 2 + 1], -1, 1e-12);
    assert_true(isnan(g.value[2 * 2 + 0]));
    risk_greedy_free(&g);

    /* mean: policy iteration from the optimum stays there at once */
    r = spec("mean");
    assert_int_equal(truth_tab_risk_greedy(&t, 0.9, &r, 0, &g, &e), 0);
    assert_true(g.converged && g.iterations == 1 && g.policy[0] == 0 && g.policy[1] == 1);
    assert_close(g.value[0], 1.35, 1e-12);
    risk_greedy_free(&g);
    /* a seeking measure keeps the coin and the walk */
    r = spec("wang:0.75");
    assert_int_equal(truth_tab_risk_greedy(&t, 0.9, &r, 0, &g, &e), 0);
    assert_true(g.converged && g.policy[0] == 0 && g.policy[1] == 1);
    risk_greedy_free(&g);
    /* too few improvements allowed: an error, nothing leaks */
    r = spec("cvar:0.5");
    assert_int_equal(truth_tab_risk_greedy(&t, 0.9, &r, 1, &g, &e), -1);
    assert_contains(e.msg, "no policy repeated within 1 improvements");
    assert_null(g.policy);
}

static env *make(const char *name)
{
    env_config c;
    env_config_defaults(&c, name);
    c.slippery = 1;
    bdrl_err e;
    env *en = env_create(&c, &e);
    if (!en)
        fail_msg("%s", e.msg);
    return en;
}

/* tests/ref/risk_ref.out: iterations, converged or the cycle's length, the
 * policy over the non-terminal states, how many differ from the
 * mean-optimal one, the start state's values and the mean value over every
 * non-terminal (s, a), 6 decimals. */
static void test_matches_reference(void **state)
{
    (void)state;
    static const struct {
        const char *env, *measure;
        int iterations, cycle; /* cycle 0: converged */
        const char *policy;
        int differ;
        double start[4], mean;
        const char *flips; /* states that flip in a cycle */
    } ref[] = {
        {"cliffwalking", "cvar:0.1", 1, 0, "0111111111110111111111110000000000013", 0,
         {-160.000682, -160.000682, -160.000682, -68.545877}, -79.185186, ""},
        {"cliffwalking", "cvar:0.25", 1, 0, "0111111111110111111111110000000000013", 0,
         {-150.561327, -150.561327, -150.561327, -62.111729}, -70.878235, ""},
        {"cliffwalking", "wang:-0.75", 1, 0, "0111111111110111111111110000000000013", 0,
         {-113.758276, -113.758276, -114.033176, -55.468788}, -56.032848, ""},
        {"cliffwalking", "cpw:0.71", 1, 0, "0111111111110111111111110000000000013", 0,
         {-78.541548, -78.541548, -79.054333, -47.015724}, -39.720234, ""},
        {"cliffwalking", "pow:-2", 1, 0, "0111111111110111111111110000000000013", 0,
         {-121.185792, -121.185792, -121.380928, -56.550785}, -58.615485, ""},
        {"cliffwalking", "var:0.1", 10, 10, "0011111111110011111011110000000000013", 3,
         {-152.877803, -152.877803, -152.877803, -63.762798}, -72.112170, "1,13,14,15,16,17,18,19,20"},
        {"frozenlake", "cvar:0.1", 3, 0, "00000000000", 7, {0, 0, 0, 0}, 0, ""},
        {"frozenlake", "cvar:0.25", 1, 0, "03330031021", 0, {0.072949, 0.069789, 0.069789, 0.069161}, 0.052216, ""},
        {"frozenlake", "wang:-0.75", 1, 0, "03330031021", 0, {0.319041, 0.308684, 0.308684, 0.305668}, 0.247245, ""},
        {"frozenlake", "cpw:0.71", 1, 0, "03330031021", 0, {0.542156, 0.524982, 0.524982, 0.519830}, 0.429526, ""},
        {"frozenlake", "pow:-2", 1, 0, "03330031021", 0, {0.270401, 0.260193, 0.260193, 0.257758}, 0.185067, ""},
        {"frozenlake", "wang:0.75", 2, 2, "03030031021", 1, {0.725164, 0.709677, 0.709677, 0.702351}, 0.673848, "2"},
    };
    for (size_t i = 0; i < sizeof ref / sizeof *ref; i++) {
        env *en = make(ref[i].env);
        const env_table *t = env_transition_table(en);
        int start = (int)env_reset(en, NULL)[0];
        risk_spec r = spec(ref[i].measure);
        risk_greedy g;
        bdrl_err e;
        if (truth_tab_risk_greedy(t, 0.99, &r, 0, &g, &e))
            fail_msg("%s %s: %s", ref[i].env, ref[i].measure, e.msg);
        char pol[64] = "", flips[256] = "";
        int n = 0, differ = 0, nf = 0;
        double sum = 0;
        for (int s = 0; s < t->n_states; s++) {
            if (truth_tab_is_terminal(t, s))
                continue;
            pol[n++] = (char)('0' + g.policy[s]);
            differ += g.policy[s] != g.mean_policy[s];
            for (int a = 0; a < 4; a++)
                sum += g.value[s * 4 + a];
            if (risk_greedy_flips(&g, s))
                nf += snprintf(flips + nf, sizeof flips - (size_t)nf, "%s%d", nf ? "," : "", s);
        }
        const char *what = ref[i].measure;
        if (strcmp(pol, ref[i].policy))
            fail_msg("%s %s: policy %s, reference %s", ref[i].env, what, pol, ref[i].policy);
        assert_int_equal(g.iterations, ref[i].iterations);
        assert_int_equal(g.converged, ref[i].cycle == 0);
        assert_int_equal(g.cycle_length, ref[i].cycle ? ref[i].cycle : 1);
        assert_int_equal(differ, ref[i].differ);
        assert_string_equal(flips, ref[i].flips);
        for (int a = 0; a < 4; a++)
            if (fabs(g.value[start * 4 + a] - ref[i].start[a]) > 6e-7)
                fail_msg("%s %s: start value of action %d %.9f, reference %.6f", ref[i].env, what, a,
                         g.value[start * 4 + a], ref[i].start[a]);
        if (fabs(sum / (4.0 * n) - ref[i].mean) > 6e-7)
            fail_msg("%s %s: mean value %.9f, reference %.6f", ref[i].env, what, sum / (4.0 * n), ref[i].mean);
        /* converged: the policy is greedy on its own values */
        if (g.converged)
            assert_memory_equal(g.policy, g.greedy, sizeof(int) * (size_t)t->n_states);
        risk_greedy_free(&g);
        env_free(en);
    }
}

static void test_cli(void **state)
{
    (void)state;
    char cw[600], fl[600], cp[600];
    snprintf(cw, sizeof cw, "%s/cw.yaml", tu_dir);
    tu_write(cw, "env:\n  name: cliffwalking\n  slippery: true\nagent:\n  gamma: 0.99\n");
    snprintf(fl, sizeof fl, "%s/fl.yaml", tu_dir);
    tu_write(fl, "env:\n  name: frozenlake\n");
    snprintf(cp, sizeof cp, "%s/cp.yaml", tu_dir);
    tu_write(cp, "env:\n  name: cartpole\n");

    tu_result r = tu_run("%s truth %s --risk cvar:0.25", tu_bdrl(), cw);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "state,action,mean_optimal,value_0,value_1,value_2,value_3\n", 58));
    assert_int_equal(tu_count_lines(r.out), 1 + 37); /* the cliff and the goal have no row */
    const char *row = strstr(r.out, "\n36,");
    assert_non_null(row);
    int s, a, m;
    double v[4];
    assert_int_equal(sscanf(row + 1, "%d,%d,%d,%lf,%lf,%lf,%lf", &s, &a, &m, &v[0], &v[1], &v[2], &v[3]), 7);
    assert_true(s == 36 && a == 3 && m == 3);
    assert_close(v[3], -62.111729, 6e-7);
    assert_contains(r.err, "# policy risk-greedy cvar:0.25 (from the mean-optimal policy), gamma 0.99");
    assert_contains(r.err, "# converged after 1 improvement: the policy is cvar:0.25-greedy on its own laws");
    assert_contains(r.err, "# 0 of 37 non-terminal states differ from the mean-optimal policy\n");
    assert_contains(r.err, "# largest dropped mass of a law");
    tu_run_free(&r);

    /* --state: the laws under the policy, as without --risk */
    r = tu_run("%s truth %s --risk cvar:0.1 --state 1 --action 0", tu_bdrl(), fl);
    assert_int_equal(r.status, 0);
    /* all-left never reaches the goal: one atom 0 (less the dropped mass) */
    double ret, prob;
    assert_int_equal(tu_count_lines(r.out), 2);
    assert_int_equal(sscanf(r.out, "action,return,prob\n%d,%lf,%lf", &a, &ret, &prob), 3);
    assert_true(a == 0 && ret == 0 && prob > 1 - 1e-11 && prob <= 1);
    assert_contains(r.err, "# state 1: action 0 (mean-optimal 3); cvar:0.1 per action: 0.0000000000");
    assert_contains(r.err, "# converged after 3 improvements");
    assert_contains(r.err, "# 7 of 11 non-terminal states differ from the mean-optimal policy: 1 (3 -> 0), 2 (3 -> 0)");
    tu_run_free(&r);

    /* a cycle is reported, not hidden */
    r = tu_run("%s truth %s --risk wang:0.75", tu_bdrl(), fl);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "# NOT CONVERGED: a cycle of 2 policies");
    assert_contains(r.err, "States that flip (their actions in the cycle): 2 (3,0)\n");
    tu_run_free(&r);

    struct {
        const char *args, *msg;
    } bad[] = {
        {"CP --risk cvar:0.25", "--risk needs an environment with a transition table (cartpole has none)"},
        {"CW --risk cvr:0.25", "--risk 'cvr:0.25' is not a risk measure"},
        {"CW --risk cvar:0", "ALPHA in (0, 1]"},
        {"CW --risk cpw:0.1", "not monotone"},
        {"CW --risk cvar:0.25 --projection quantile:5", "exclude each other"},
        {"CW --risk cvar:0.25 --policy optimal", "--policy does not apply"},
        {"CW --risk cvar:0.25 --action 1", "give --state"},
        {"CW --risk cvar:0.25 --state 48", "--state must be in [0, 47]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[1300];
        const char *p = bad[i].args;
        snprintf(args, sizeof args, "%s%s", !strncmp(p, "CP", 2) ? cp : cw, p + 2);
        r = tu_run("%s truth %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("'truth %s' exited %d, expected 2 (stderr: %s)", args, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
    r = tu_run("%s truth --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "--risk");
    assert_contains(r.out, "not the static policy that maximizes the");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_table),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests_name("risk_truth", tests, tu_group_setup, tu_group_teardown);
}
