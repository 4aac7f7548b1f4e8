/* End-to-end tests of the bdrl command line: exit codes (0 ok, 2 bad usage or
 * input), one-line error messages, and the CSV formats of `bdrl env`. */
#include "test_util.h"

static void count_lines(const char *s, int *n)
{
    *n = 0;
    for (; *s; s++)
        *n += *s == '\n';
}

static void test_top_level_usage(void **state)
{
    (void)state;
    tu_result r = tu_run("%s", tu_bdrl());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "usage: bdrl COMMAND");
    tu_run_free(&r);
    r = tu_run("%s --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "config");
    assert_contains(r.out, "env");
    tu_run_free(&r);
    r = tu_run("%s frobnicate", tu_bdrl());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "unknown command 'frobnicate'");
    tu_run_free(&r);
}

static void test_every_command_has_help(void **state)
{
    (void)state;
    const char *cmds[] = {"config", "env", "env list", "env info", "env rollout", "env table"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        tu_result r = tu_run("%s %s --help", tu_bdrl(), cmds[i]);
        assert_int_equal(r.status, 0);
        assert_contains(r.out, "usage: bdrl");
        tu_run_free(&r);
    }
}

static void test_config_schema_and_resolve(void **state)
{
    (void)state;
    tu_result r = tu_run("%s config --schema", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "| `train.batch_size` | integer | `64` |");
    tu_run_free(&r);

    char *d = tu_tmpdir(), p[512];
    snprintf(p, sizeof p, "%s/c.yaml", d);
    tu_write(p, "env:\n  name: frozenlake\ntrain:\n  batch_sze: 3\n");
    r = tu_run("%s config %s", tu_bdrl(), p);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, ":4:3: unknown key 'train.batch_sze' (did you mean 'train.batch_size'?)");
    assert_string_equal(r.out, "");
    tu_run_free(&r);

    tu_write(p, "env:\n  name: frozenlake\n");
    r = tu_run("%s config %s --set train.batch_size=7 --set env.map=8x8", tu_bdrl(), p);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "  batch_size: 7\n");
    assert_contains(r.out, "  map: 8x8\n");
    tu_run_free(&r);

    r = tu_run("%s config %s --set agent.gamma=2", tu_bdrl(), p);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "--set agent.gamma=2: 'agent.gamma' must be in [0, 1]");
    tu_run_free(&r);

    r = tu_run("%s config /nonexistent.yaml", tu_bdrl());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "/nonexistent.yaml: cannot open");
    tu_run_free(&r);
    r = tu_run("rm -rf %s", d);
    tu_run_free(&r);
    free(d);
}

static void test_env_list_and_info(void **state)
{
    (void)state;
    tu_result r = tu_run("%s env list", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "cartpole");
    assert_contains(r.out, "frozenlake");
    tu_run_free(&r);
    r = tu_run("%s env info frozenlake --set env.map=8x8", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "n_states: 64");
    assert_contains(r.out, "max_episode_steps: 200");
    assert_contains(r.out, "  SFFFFFFF\n");
    tu_run_free(&r);
    r = tu_run("%s env info cartpole", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "max_episode_steps: 500");
    tu_run_free(&r);
    r = tu_run("%s env info pong", tu_bdrl());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "unknown environment 'pong'");
    tu_run_free(&r);
}

static void test_cartpole_rollout_csv(void **state)
{
    (void)state;
    tu_result r = tu_run("%s env rollout cartpole --state 0,0,0,0 --actions 1,1,0", tu_bdrl());
    assert_int_equal(r.status, 0);
    int n;
    count_lines(r.out, &n);
    assert_int_equal(n, 4);
    assert_true(!strncmp(r.out, "step,x,x_dot,theta,theta_dot,reward,terminated,truncated\n", 57));
    /* Step 1 from rest with force +10 (explicit Euler): x stays 0, x_dot =
     * 0.02 * xacc, with xacc = temp - polemass_length*thetaacc/total_mass. */
    double temp = 10.0 / 1.1;
    double thetaacc = (0.0 - 1.0 * temp) / (0.5 * (4.0 / 3.0 - 0.1 * 1.0 / 1.1));
    double xacc = temp - 0.05 * thetaacc * 1.0 / 1.1;
    char want[256];
    snprintf(want, sizeof want, "\n1,0,%.17g,0,%.17g,1,0,0\n", 0.02 * xacc, 0.02 * thetaacc);
    assert_contains(r.out, want);
    tu_run_free(&r);
    /* A pole that is already past the threshold ends the episode at step 1. */
    r = tu_run("%s env rollout cartpole --state 0,0,0.3,0 --actions 1,1,1", tu_bdrl());
    assert_int_equal(r.status, 0);
    count_lines(r.out, &n);
    assert_int_equal(n, 2);
    assert_contains(r.out, ",1,1,0\n");
    tu_run_free(&r);
}

static void test_frozenlake_rollout_and_table(void **state)
{
    (void)state;
    tu_result r = tu_run("%s env rollout frozenlake --set env.slippery=false --state 0 "
                         "--actions 1,1,2,2,1,2,0,0 --seed 3", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "step,state,reward,terminated,truncated\n"
                               "1,4,0,0,0\n2,8,0,0,0\n3,9,0,0,0\n4,10,0,0,0\n5,14,0,0,0\n6,15,1,1,0\n");
    tu_run_free(&r);
    r = tu_run("%s env table frozenlake --set env.slippery=false", tu_bdrl());
    assert_int_equal(r.status, 0);
    int n;
    count_lines(r.out, &n);
    assert_int_equal(n, 1 + 16 * 4);
    assert_contains(r.out, "state,action,prob,next_state,reward,terminated\n0,0,1,0,0,0\n");
    assert_contains(r.out, "\n14,2,1,15,1,1\n");
    assert_contains(r.out, "\n5,3,1,5,0,1\n"); /* a hole's self-loop */
    tu_run_free(&r);
    r = tu_run("%s env table frozenlake", tu_bdrl());
    assert_int_equal(r.status, 0);
    count_lines(r.out, &n);
    /* 11 non-terminal states x 4 actions x 3 outcomes + 5 terminal (4 holes,
     * the goal) x 4 actions x 1 self-loop */
    assert_int_equal(n, 1 + 11 * 4 * 3 + 5 * 4);
    assert_contains(r.out, "\n0,0,0.33333333333333337,0,0,0\n0,0,0.33333333333333331,0,0,0\n");
    tu_run_free(&r);
}

static void test_env_bad_input_exits_2(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"env rollout cartpole --bogus 1", "unknown option '--bogus'"},
        {"env rollout cartpole", "--actions is required"},
        {"env rollout cartpole --actions 0,2", "out of range"},
        {"env rollout cartpole --actions 0,x", "expects comma-separated integers"},
        {"env rollout cartpole --actions 0 --state 1,2", "needs 4 numbers"},
        {"env rollout frozenlake --actions 0 --state 16", "state"},
        {"env rollout cartpole --actions 0 --seed -1", "--seed must be in"},
        {"env rollout cartpole --actions 0 --set env.nam=x", "did you mean 'env.name'?"},
        {"env table cartpole", "only 'frozenlake'"},
        {"env dance", "unknown subcommand 'dance'"},
        {"env info frozenlake --set env.map=[SFF,FFF]", "G"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_result r = tu_run("%s %s", tu_bdrl(), bad[i][0]);
        if (r.status != 2)
            fail_msg("'%s' exited %d, expected 2 (stderr: %s)", bad[i][0], r.status, r.err);
        assert_contains(r.err, bad[i][1]);
        tu_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level_usage),
        cmocka_unit_test(test_every_command_has_help),
        cmocka_unit_test(test_config_schema_and_resolve),
        cmocka_unit_test(test_env_list_and_info),
        cmocka_unit_test(test_cartpole_rollout_csv),
        cmocka_unit_test(test_frozenlake_rollout_and_table),
        cmocka_unit_test(test_env_bad_input_exits_2),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
