/* Tests of the support warning (train/support.h): the criterion on single
 * transitions, and the trainer's warning, in summary.json and in the log,
 * for agents that use a support and only for them, kept across a resume. */
#include "test_util.h"
#include "train_util.h"

#include "train/run.h"
#include "train/support.h"
#include "train/train.h"

/* The Bellman image of [v_min, v_max] against the support itself. */
static void test_criterion(void **state)
{
    (void)state;
    exp_config c;
    char why[512];
    char *sets[] = {"env.name=cartpole", "agent.v_min=0", "agent.v_max=100", "agent.gamma=0.99"};
    tu_load_cfg(&c, sets, 4);
    /* CartPole's reward 1: 1 + 0.99 x 100 = 100 exactly fits */
    assert_false(support_breached(&c, 1, 0, why, sizeof why));
    assert_false(support_breached(&c, 1, 1, why, sizeof why));
    assert_false(support_breached(&c, 0, 0, why, sizeof why));
    /* a little more does not */
    assert_true(support_breached(&c, 1.01, 0, why, sizeof why));
    assert_contains(why, "> agent.v_max");
    assert_true(support_breached(&c, -0.01, 0, why, sizeof why));
    assert_contains(why, "< agent.v_min");
    assert_true(support_breached(&c, 100.5, 1, why, sizeof why));
    assert_contains(why, "terminal reward 100.5");
    assert_true(support_breached(&c, -1, 1, why, sizeof why));
    /* Acrobot's and MountainCar's shipped support: -1 + 0.99 x -100 = -100 */
    char *sets2[] = {"env.name=acrobot", "agent.v_min=-100", "agent.v_max=0", "agent.gamma=0.99"};
    tu_load_cfg(&c, sets2, 4);
    assert_false(support_breached(&c, -1, 0, why, sizeof why));
    assert_false(support_breached(&c, 0, 1, why, sizeof why));
    assert_true(support_breached(&c, -1.5, 0, why, sizeof why));
}

/* A short CartPole run of kind with support [0, v_max] in dir; returns its
 * summary.json (caller frees). */
static char *run(const char *name, const char *kind, const char *v_max, int64_t stop_after, int resume)
{
    char dir[600], k[64], v[64];
    snprintf(dir, sizeof dir, "%s/%s", tu_dir, name);
    snprintf(k, sizeof k, "agent.kind=%s", kind);
    snprintf(v, sizeof v, "agent.v_max=%s", v_max);
    char *sets[] = {"env.name=cartpole", k, "agent.v_min=0", v, "agent.gamma=0.99", "agent.hidden=[16]",
                    "train.total_steps=600", "train.learning_starts=200", "train.batch_size=16",
                    "eval.interval=300", "eval.episodes=2", "bd.field=basis", "bd.basis=11"};
    exp_config c;
    tu_load_cfg(&c, sets, (int)(sizeof sets / sizeof *sets));
    char logp[700];
    snprintf(logp, sizeof logp, "%s.log", dir);
    FILE *log = fopen(logp, resume ? "a" : "w");
    train_options o = {log, NULL, stop_after, resume, NULL, NULL};
    train_result res;
    bdrl_err e;
    if (train_run(&c, dir, &o, &res, &e))
        fail_msg("%s", e.msg);
    fclose(log);
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, RUN_FILE_SUMMARY);
    return tu_read(p);
}

static char *log_of(const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s.log", tu_dir, name);
    return tu_read(p);
}

/* C51 and BD with v_max = 50 on CartPole (returns reach 100): warned once,
 * in summary.json and the log. The shipped supports and an agent without
 * one (DQN, whose v_max means nothing) are not. */
static void test_trainer_warns(void **state)
{
    (void)state;
    const char *kinds[] = {"c51", "bd"};
    for (int i = 0; i < 2; i++) {
        char *js = run(kinds[i], kinds[i], "50", 0, 0);
        assert_contains(js, "\"support_warning\": \"returns leave the support [0, 50]: a reward 1 bootstraps "
                            "to 1 + 0.99 x 50 = 50.5 > agent.v_max");
        free(js);
        char *log = log_of(kinds[i]), *w = strstr(log, "train: warning at step 1: returns leave the support");
        assert_non_null(w);
        if (strstr(w + 1, "train: warning"))
            fail_msg("warned twice:\n%s", log);
        free(log);
    }
    char *js = run("c51_110", "c51", "110", 0, 0);
    assert_null(strstr(js, "support_warning"));
    free(js);
    js = run("c51_100", "c51", "100", 0, 0);
    assert_null(strstr(js, "support_warning"));
    free(js);
    js = run("dqn", "dqn", "50", 0, 0);
    assert_null(strstr(js, "support_warning"));
    free(js);
}

/* Interrupted and resumed, the run keeps the warning (the checkpoint holds
 * it) and the resumed process's log says it again. */
static void test_warning_survives_resume(void **state)
{
    (void)state;
    free(run("resumed", "c51", "50", 250, 0));
    char *js = run("resumed", "c51", "50", 0, 1);
    assert_contains(js, "\"support_warning\": \"returns leave the support [0, 50]");
    assert_contains(js, "\"status\": \"finished\"");
    free(js);
    char *log = log_of("resumed");
    assert_contains(log, "train: resuming");
    assert_contains(strstr(log, "train: resuming"), "train: warning: returns leave the support");
    free(log);
    /* without a warning, a resume's log says "resuming" and nothing of a
     * new run's start */
    free(run("resumed_dqn", "dqn", "50", 250, 0));
    js = run("resumed_dqn", "dqn", "50", 0, 1);
    free(js);
    log = log_of("resumed_dqn");
    char *again = strstr(log, "train: resuming");
    assert_non_null(again);
    assert_null(strstr(again, "train: dqn on cartpole"));
    assert_null(strstr(again, "warning"));
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_criterion),
        cmocka_unit_test(test_trainer_warns),
        cmocka_unit_test(test_warning_survives_resume),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
