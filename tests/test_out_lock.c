/* Two drivers started at the same instant on one --out (research/rundir.h:
 * rundir_lock_output): one runs, the other exits 2 naming the holder's pid
 * and host, and every run ends finished. Without the lock both ran, each
 * found the other's `bdrl train` holding a run's lock, and marked that run
 * failed. */
#include "test_util.h"

#include <dirent.h>

#include "research/rundir.h"

/* Runs command lines a and b at once (two background shells), waits for
 * both, and returns their exit statuses and stderr. */
static void run_pair(const char *a, const char *b, int rc[2], char *err[2])
{
    char p[2][700];
    for (int i = 0; i < 2; i++)
        snprintf(p[i], sizeof p[i], "%s/pair%d", tu_dir, i);
    tu_result r = tu_run("( %s 2>%s.err; echo $? >%s.rc ) & ( %s 2>%s.err; echo $? >%s.rc ) & wait", a, p[0], p[0],
                         b, p[1], p[1]);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    for (int i = 0; i < 2; i++) {
        char f[1500];
        snprintf(f, sizeof f, "%s.rc", p[i]);
        char *t = tu_read(f);
        assert_non_null(t);
        rc[i] = atoi(t);
        free(t);
        snprintf(f, sizeof f, "%s.err", p[i]);
        err[i] = tu_read(f);
        assert_non_null(err[i]);
    }
}

/* Exactly one of the two ran (0), the other was refused (2) naming the
 * lock's holder. */
static void expect_one_refused(const int rc[2], char *err[2], const char *out)
{
    int loser = rc[0] == 2 ? 0 : 1;
    if (!(rc[loser] == 2 && rc[1 - loser] == 0))
        fail_msg("exit statuses %d and %d, expected 0 and 2:\n%s\n---\n%s", rc[0], rc[1], err[0], err[1]);
    char want[800];
    snprintf(want, sizeof want, "%s is in use (a bdrl compare or sweep writes there) by pid ", out);
    assert_contains(err[loser], want);
    assert_contains(err[loser], " on host ");
    free(err[0]);
    free(err[1]);
}

/* Every run directory under OUT/runs says finished. */
static void expect_all_finished(const char *out, int n)
{
    char runs[700];
    snprintf(runs, sizeof runs, "%s/runs", out);
    DIR *d = opendir(runs);
    assert_non_null(d);
    struct dirent *de;
    int k = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char dir[1000];
        snprintf(dir, sizeof dir, "%s/%s", runs, de->d_name);
        rundir_summary s;
        bdrl_err e;
        if (rundir_read_summary(dir, &s, &e))
            fail_msg("%s", e.msg);
        if (strcmp(s.status, "finished"))
            fail_msg("%s: status %s", dir, s.status);
        k++;
    }
    closedir(d);
    assert_int_equal(k, n);
}

/* Each driver must outlast the loser's wait for the lock (rundir.c's lock_dir
 * retries for about a second, for the instant a checker holds it): with
 * 2,500 steps a compare took 0.8 s on an idle machine, the loser got the
 * lock after the winner had finished, and both exited 0. 12,000 steps take
 * about 3 s. */
#define RUN_STEPS "12000"
#define RUN_SETS "--set train.total_steps=" RUN_STEPS " --set train.learning_starts=200 --set eval.interval=500 " \
                 "--set eval.episodes=5 --set agent.hidden=[32]"

static void test_two_compares(void **state)
{
    (void)state;
    char out[600], cmd[2000];
    snprintf(out, sizeof out, "%s/cmp", tu_dir);
    snprintf(cmd, sizeof cmd, "%s compare %s/configs/frozenlake4_c51.yaml --seeds 3 -j 1 --no-truth --out %s -q "
             RUN_SETS, tu_bdrl(), tu_root(), out);
    int rc[2];
    char *err[2];
    run_pair(cmd, cmd, rc, err);
    expect_one_refused(rc, err, out);
    expect_all_finished(out, 3);
}

static void test_two_sweeps(void **state)
{
    (void)state;
    char out[600], yaml[700], cmd[2000];
    snprintf(out, sizeof out, "%s/swp", tu_dir);
    snprintf(yaml, sizeof yaml, "%s/sweep.yaml", tu_dir);
    char body[2000];
    snprintf(body, sizeof body,
             "base: %s/configs/frozenlake4_c51.yaml\n"
             "set: {train.total_steps: " RUN_STEPS ", train.learning_starts: 200, eval.interval: 500, eval.episodes: 5}\n"
             "grid:\n  agent.lr: [1.0e-3, 3.0e-4]\nseeds: [1, 2]\n",
             tu_root());
    tu_write(yaml, body);
    snprintf(cmd, sizeof cmd, "%s sweep %s -j 1 -q --out %s", tu_bdrl(), yaml, out);
    int rc[2];
    char *err[2];
    run_pair(cmd, cmd, rc, err);
    expect_one_refused(rc, err, out);
    expect_all_finished(out, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_compares),
        cmocka_unit_test(test_two_sweeps),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
