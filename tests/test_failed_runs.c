/* Tests of how a run that ends in error leaves its summary.json (run.h,
 * train/fatal.h): status failed (or diverged) and the reason in "error",
 * never "running" — for an agent's error, the non-finite guard, an I/O
 * error, and a plugin's non-finite observation (exit 2) or crash (signal). */
#include "test_util.h"
#include "train_util.h"

#include <signal.h>
#include <sys/stat.h>

#include "train/run.h"
#include "train/train.h"

static char *SETS[] = {"env.name=cartpole", "agent.kind=dqn", "agent.hidden=[16]", "train.total_steps=800",
                       "train.learning_starts=100", "train.batch_size=16", "eval.interval=400",
                       "eval.episodes=2"};
#define N_SETS ((int)(sizeof SETS / sizeof *SETS))

static void run_bad(const char *dir, int nan, bdrl_err *e)
{
    exp_config c;
    tu_load_cfg(&c, SETS, N_SETS);
    tu_fail_at = 50, tu_fail_nan = nan;
    train_options o = {NULL, NULL, 0, 0, tu_make_failing_agent, NULL};
    train_result res;
    assert_int_equal(train_run(&c, dir, &o, &res, e), -1);
    assert_false(res.setup_failed);
}

/* An error inside the loop (the agent's update) and the non-finite guard:
 * the summary says failed / diverged and why (it said failed alone). */
static void test_error_and_guard(void **state)
{
    (void)state;
    char dir[600];
    bdrl_err e;
    snprintf(dir, sizeof dir, "%s/agent_error", tu_dir);
    run_bad(dir, 0, &e);
    char *js = tu_read_in(dir, RUN_FILE_SUMMARY);
    assert_contains(js, "\"status\": \"failed\"");
    assert_contains(js, "\"error\": \"update at step 150: the agent's own error, on purpose\"");
    free(js);
    snprintf(dir, sizeof dir, "%s/diverged", tu_dir);
    run_bad(dir, 1, &e);
    js = tu_read_in(dir, RUN_FILE_SUMMARY);
    assert_contains(js, "\"status\": \"diverged\"");
    assert_contains(js, "\"error\": \"training diverged at step 150 (update 50): the loss is nan; no checkpoint");
    free(js);
}

/* An I/O error: eval.csv cannot be replaced (a directory took its name), so
 * the resumed run's first write of its files fails; the summary still says
 * failed, naming the file. */
static void test_io_error(void **state)
{
    (void)state;
    char dir[600], p[800];
    snprintf(dir, sizeof dir, "%s/io_error", tu_dir);
    exp_config c;
    tu_load_cfg(&c, SETS, N_SETS);
    train_options o = {NULL, NULL, 300, 0, NULL, NULL};
    train_result res;
    bdrl_err e;
    assert_int_equal(train_run(&c, dir, &o, &res, &e), 0);
    snprintf(p, sizeof p, "%s/%s", dir, RUN_FILE_EVAL);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkdir(p, 0755), 0);
    o.stop_after = 0;
    o.resume = 1;
    assert_int_equal(train_run(&c, dir, &o, &res, &e), -1);
    assert_false(res.setup_failed);
    char *js = tu_read_in(dir, RUN_FILE_SUMMARY);
    assert_contains(js, "\"status\": \"failed\"");
    assert_contains(js, "eval.csv: Is a directory\"");
    free(js);
}

/* Absolute path of a broken plugin built by the Makefile. */
static void plugin_path(char *out, size_t n, const char *name)
{
    const char *b = getenv("BUILD");
    b = b ? b : "build/rel";
    if (b[0] == '/')
        snprintf(out, n, "%s/plugins/%s", b, name);
    else
        snprintf(out, n, "%s/%s/plugins/%s", tu_root(), b, name);
}

/* A plugin's non-finite observation (the process exits 2 from inside the
 * environment) and a plugin's crash (SIGSEGV, re-raised): both used to leave
 * "running" behind. */
static void test_plugin_faults(void **state)
{
    (void)state;
    char cfg[600], so[1200], dir[700];
    snprintf(cfg, sizeof cfg, "%s/plugin.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: plugin\nagent:\n  kind: dqn\n  hidden: [8]\n"
                  "train:\n  total_steps: 300\n  learning_starts: 50\n  batch_size: 8\n");
    plugin_path(so, sizeof so, "bad_nan_obs.so");
    snprintf(dir, sizeof dir, "%s/plugin_nan", tu_dir);
    tu_result r = tu_run("%s train %s -q --set env.plugin=%s --out %s", tu_bdrl(), cfg, so, dir);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    char *js = tu_read_in(dir, RUN_FILE_SUMMARY);
    assert_contains(js, "\"status\": \"failed\"");
    assert_contains(js, "bad_nan_obs.so: bdrl_env_step returned a non-finite observation: obs[0] = nan");
    free(js);

    plugin_path(so, sizeof so, "bad_crash.so");
    snprintf(dir, sizeof dir, "%s/plugin_crash", tu_dir);
    r = tu_run("%s train %s -q --set env.plugin=%s --out %s", tu_bdrl(), cfg, so, dir);
    if (UNDER_ASAN) /* its handler, restored by the plugin module's, reports the SEGV and exits 1 */
        assert_int_not_equal(r.status, 0);
    else
        assert_int_equal(r.status, 128 + SIGSEGV);
    tu_run_free(&r);
    js = tu_read_in(dir, RUN_FILE_SUMMARY);
    assert_contains(js, "\"status\": \"failed\"");
    char want[1400];
    snprintf(want, sizeof want, "\"error\": \"environment plugin %s crashed (SIGSEGV) in bdrl_env_step\"", so);
    assert_contains(js, want);
    free(js);
    /* no temporary of the hook is left behind */
    char tmp[800];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp.failed", dir, RUN_FILE_SUMMARY);
    assert_false(access(tmp, F_OK) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_and_guard),
        cmocka_unit_test(test_io_error),
        cmocka_unit_test(test_plugin_faults),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
