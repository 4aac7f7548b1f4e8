/* End-to-end tests of the bdrl command line: exit codes (0 ok, 2 bad usage or
 * input, 1 a runtime failure such as an output that cannot be written),
 * one-line error messages, and the CSV formats of `bdrl env`. */
#include "test_util.h"

#include "agents/registry.h"

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

/* bdrl --version: one line "bdrl V", V the tree's `git describe --always`
 * (plus -dirty when it had changes at build time) or, outside a checkout,
 * the Makefile's VERSION; --help points to it. A plain build's `make test`
 * also leaves bin/bdrl, the same binary as the one under test. */
static void test_version(void **state)
{
    (void)state;
    tu_result r = tu_run("%s --version", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "bdrl ", 5) && strlen(r.out) > 6);
    int n;
    count_lines(r.out, &n);
    assert_int_equal(n, 1);
    tu_result g = tu_run("git -C %s describe --always", tu_root());
    if (g.status == 0) {
        char want[256];
        snprintf(want, sizeof want, "bdrl %.*s", (int)strcspn(g.out, "\n"), g.out);
        if (strncmp(r.out, want, strlen(want)))
            fail_msg("bdrl --version says %s, git describe %s", r.out, g.out);
    } else {
        tu_result m = tu_run("sed -n 's/^VERSION ?= *//p' %s/Makefile", tu_root());
        char want[256];
        snprintf(want, sizeof want, "bdrl %s", m.out);
        assert_string_equal(r.out, want);
        tu_run_free(&m);
    }
    tu_run_free(&g);
    tu_run_free(&r);
    r = tu_run("%s --help", tu_bdrl());
    assert_contains(r.out, "--version");
    tu_run_free(&r);
    if (!strcmp(tu_build_dir(), "build/rel")) {
        r = tu_run("cmp %s/bin/bdrl %s", tu_root(), tu_bdrl());
        if (r.status != 0)
            fail_msg("make test left no bin/bdrl equal to %s: %s%s", tu_bdrl(), r.out, r.err);
        tu_run_free(&r);
    }
}

/* Help that had gone stale as agents and plugins were added: dist --help
 * names every registered agent's output (not BD's and C51's alone); truth
 * --help and agent.policy's help speak of plugins' transition tables too;
 * no source says "both agents" of five. */
static void test_help_covers_every_agent_and_plugins(void **state)
{
    (void)state;
    tu_result r = tu_run("%s dist --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    for (int k = 0; k < agent_kind_count(); k++)
        assert_contains(r.out, agent_class_of(k)->label);
    assert_contains(r.out, "atoms: CSV action,return,prob");
    assert_contains(r.out, "density: CSV action,return,density");
    tu_run_free(&r);
    r = tu_run("%s truth --help", tu_bdrl());
    assert_contains(r.out, "tabular plugin's bdrl_env_transitions");
    assert_contains(r.out, "a plugin with bdrl_env_set_state");
    tu_run_free(&r);
    r = tu_run("%s config --schema | grep agent.policy", tu_bdrl());
    assert_contains(r.out, "a plugin that exports bdrl_env_transitions");
    tu_run_free(&r);
    r = tu_run("grep -rli 'both agents' %s/src", tu_root());
    if (r.status != 1)
        fail_msg("\"both agents\" (there are %d) in:\n%s", agent_kind_count(), r.out);
    tu_run_free(&r);
}

static void test_every_command_has_help(void **state)
{
    (void)state;
    const char *cmds[] = {"config", "env", "env list", "env info", "env rollout", "env table", "fit"};
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

/* docs/config.md is generated by `bdrl config --schema`; a schema change
 * without regenerating it fails here (make docs regenerates it). */
static void test_config_reference_is_current(void **state)
{
    (void)state;
    tu_result r = tu_run("%s config --schema", tu_bdrl());
    assert_int_equal(r.status, 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/config.md", tu_root());
    char *doc = tu_read(path);
    assert_non_null(doc);
    if (strcmp(doc, r.out))
        fail_msg("docs/config.md differs from 'bdrl config --schema': run 'make docs' and commit it");
    free(doc);
    tu_run_free(&r);
}

static void test_env_list_and_info(void **state)
{
    (void)state;
    tu_result r = tu_run("%s env list", tu_bdrl());
    assert_int_equal(r.status, 0);
    /* names in a column as wide as the longest (minatar-space_invaders) and 2 spaces */
    assert_contains(r.out, "cartpole                CartPole-v1: ");
    assert_contains(r.out, "frozenlake              FrozenLake-v1: ");
    assert_contains(r.out, "\n                        slippery or not");
    assert_contains(r.out, "acrobot                 Acrobot-v1: ");
    assert_contains(r.out, "mountaincar             MountainCar-v0: ");
    assert_contains(r.out, "minatar-asterix         MinAtar Asterix: ");
    assert_contains(r.out, "minatar-space_invaders  MinAtar Space Invaders: ");
    tu_run_free(&r);
    r = tu_run("%s env info acrobot", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "observation_dim: 6\nn_actions: 3\nmax_episode_steps: 500\n");
    assert_contains(r.out, "integrator: rk4");
    tu_run_free(&r);
    r = tu_run("%s env info mountaincar --set env.max_episode_steps=7", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "observation_dim: 2\nn_actions: 3\nmax_episode_steps: 7\n");
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
    assert_contains(r.err, "unknown environment 'pong' (cartpole, frozenlake, acrobot, mountaincar, plugin, "
                           "cliffwalking, minatar-asterix, minatar-breakout, minatar-freeway, minatar-seaquest, "
                           "minatar-space_invaders, python)");
    tu_run_free(&r);
}

/* The headers and row shapes of the two classic-control rollouts (the
 * values are checked bit for bit in test_acrobot and test_mountaincar). */
static void test_acrobot_mountaincar_rollout_csv(void **state)
{
    (void)state;
    tu_result r = tu_run("%s env rollout acrobot --state 0,0,0,0 --actions 1,1", tu_bdrl());
    assert_int_equal(r.status, 0);
    /* From rest without torque the chain should hang still, but the
     * reference's cos(theta1 - pi/2) is 6.1e-17, not 0, so it drifts; these
     * are the values of tests/ref/acrobot_ref.py (Gymnasium's arithmetic). */
    assert_string_equal(r.out, "step,theta1,theta2,dtheta1,dtheta2,reward,terminated,truncated\n"
                               "1,-7.6107318151889201e-18,5.8544090886068634e-18,-7.6107318151889207e-17,"
                               "5.8544090886068637e-17,-1,0,0\n"
                               "2,-3.044292726075568e-17,2.3417636354427453e-17,-1.5221463630377841e-16,"
                               "1.1708818177213727e-16,-1,0,0\n");
    tu_run_free(&r);
    r = tu_run("%s env rollout mountaincar --state -1.2,-0.01 --actions 0 --set env.max_episode_steps=1",
               tu_bdrl());
    assert_int_equal(r.status, 0);
    /* against the left wall: position clipped to -1.2, velocity zeroed; truncated at the limit of 1 */
    assert_string_equal(r.out, "step,position,velocity,reward,terminated,truncated\n1,-1.2,0,-1,0,1\n");
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
        {"env rollout acrobot --actions 0 --state 1,2", "needs 4 numbers for acrobot (THETA1,THETA2,DTHETA1,DTHETA2)"},
        {"env rollout mountaincar --actions 0 --state 1", "needs 2 numbers for mountaincar (POSITION,VELOCITY)"},
        {"env rollout mountaincar --actions 3", "out of range"},
        {"env rollout acrobot --actions 0 --state 0,0,nan,0", "expects comma-separated numbers"},
        {"env rollout frozenlake --actions 0 --state 16", "state"},
        {"env rollout cartpole --actions 0 --seed -1", "--seed must be in"},
        {"env rollout cartpole --actions 0 --set env.nam=x", "did you mean 'env.name'?"},
        {"env table cartpole", "cartpole has no transition table"},
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

/* An output that cannot be written — a read-only file system, a full disk —
 * is a runtime failure (exit 1), not bad input (2, which a file in the way
 * of --out stays): train and fit both. Tests run as root, which chmod does
 * not stop, so the outputs are tmpfs mounts (read-only, or 16 KiB filled to
 * the last page, or to all but one so that the lock fits and config.yaml
 * does not) in a mount namespace of their own that ends with the command. */
static void test_output_failures_exit_1(void **state)
{
    (void)state;
    char *d = tu_tmpdir();
    tu_result r = tu_run("unshare -m sh -c 'mount -t tmpfs -o ro tmpfs %s'", d);
    int can_mount = r.status == 0;
    tu_run_free(&r);
    if (!can_mount) {
        rmdir(d);
        free(d);
        skip(); /* needs root and mount namespaces */
    }
    static const struct {
        const char *mount_opts;
        int fill_pages; /* of 4 KiB, into a 16 KiB tmpfs */
        const char *cmd;
        const char *msg;
    } cases[] = {
        {"ro", 0, "train %s/configs/cartpole_c51.yaml --out %s/run -q", "Read-only file system"},
        {"size=16k", 3, "train %s/configs/cartpole_c51.yaml --out %s/run -q", "No space left on device"},
        {"ro", 0, "fit %s/configs/fit/mog1d.yaml --out %s/fit -q", "Read-only file system"},
        {"size=16k", 4, "fit %s/configs/fit/mog1d.yaml --out %s/fit -q", "No space left on device"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd, cases[i].cmd, tu_root(), d);
        r = tu_run("unshare -m sh -c 'mount -t tmpfs -o %s tmpfs %s && "
                   "{ [ %d -eq 0 ] || dd if=/dev/zero of=%s/fill bs=4096 count=%d 2>/dev/null; } && exec %s %s'",
                   cases[i].mount_opts, d, cases[i].fill_pages, d, cases[i].fill_pages, tu_bdrl(), cmd);
        int n;
        count_lines(r.err, &n);
        if (r.status != 1 || n != 1)
            fail_msg("bdrl %s on a %s tmpfs: exit %d (expected 1), stderr:\n%s", cmd, cases[i].mount_opts,
                     r.status, r.err);
        assert_contains(r.err, cases[i].msg);
        tu_run_free(&r);
    }
    rmdir(d);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_level_usage),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_help_covers_every_agent_and_plugins),
        cmocka_unit_test(test_every_command_has_help),
        cmocka_unit_test(test_config_schema_and_resolve),
        cmocka_unit_test(test_config_reference_is_current),
        cmocka_unit_test(test_env_list_and_info),
        cmocka_unit_test(test_acrobot_mountaincar_rollout_csv),
        cmocka_unit_test(test_cartpole_rollout_csv),
        cmocka_unit_test(test_frozenlake_rollout_and_table),
        cmocka_unit_test(test_env_bad_input_exits_2),
        cmocka_unit_test(test_output_failures_exit_1),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
