/* Tests of resuming a run from what its directory holds (train.h, run.h,
 * checkpoint.h): the CSVs are rebuilt from the checkpoint whatever state
 * the files are in; a checkpoint whose header lies behind a valid checksum
 * is refused; a FIFO in checkpoint.bin's place is refused at once; ε keeps
 * the decay length the run recorded when the budget grows. */
#include "test_util.h"
#include "train_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include "train/run.h"
#include "train/train.h"

static void write_in(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    tu_write(p, text);
}

/* A small C51 run on FrozenLake: evaluations every 250 steps, so there are
 * rows to damage before the interruption at step 1777. */
static char *SETS[] = {"env.name=frozenlake", "agent.kind=c51", "agent.v_min=0", "agent.v_max=1",
                       "train.total_steps=2500", "train.learning_starts=300", "train.train_frequency=4",
                       "train.target_update=200", "eval.interval=250", "eval.episodes=5",
                       "train.batch_size=16", "agent.hidden=[16]"};
#define N_SETS ((int)(sizeof SETS / sizeof *SETS))

/* train_run of SETS in dir: its return value, res and e for the caller. */
static int try_train(const char *dir, int64_t stop_after, int resume, train_result *res, bdrl_err *e)
{
    exp_config c;
    tu_load_cfg(&c, SETS, N_SETS);
    train_options o = {NULL, NULL, stop_after, resume, NULL, NULL};
    return train_run(&c, dir, &o, res, e);
}

static void train_in(const char *dir, int64_t stop_after, int resume)
{
    train_result res;
    bdrl_err e;
    if (try_train(dir, stop_after, resume, &res, &e))
        fail_msg("%s: %s", dir, e.msg);
}

/* Lines of text with line k (0-based) removed. */
static void drop_line(char *text, int k)
{
    char *p = text;
    for (int i = 0; i < k; i++)
        p = strchr(p, '\n') + 1;
    char *end = strchr(p, '\n') + 1;
    memmove(p, end, strlen(end) + 1);
}

/* eval.csv and metrics.csv damaged as a disk, an editor or a script might:
 * a row deleted, garbage appended, the last line cut short. A resume used
 * to carry all of it forward (and `bdrl compare` to read it); now the files
 * come out as an uninterrupted run's, byte for byte. */
static void test_damaged_csvs_rebuilt(void **state)
{
    (void)state;
    char a_dir[600], b_dir[600];
    snprintf(a_dir, sizeof a_dir, "%s/whole", tu_dir);
    snprintf(b_dir, sizeof b_dir, "%s/damaged", tu_dir);
    train_in(a_dir, 0, 0);
    train_in(b_dir, 1777, 0);
    char *ev = tu_read_in(b_dir, RUN_FILE_EVAL), *me = tu_read_in(b_dir, RUN_FILE_METRICS);
    assert_int_equal(strncmp(ev, RUN_EVAL_HEADER "\n250,", strlen(RUN_EVAL_HEADER) + 5), 0);
    drop_line(ev, 2);
    drop_line(me, 3);
    size_t n = strlen(ev), m = strlen(me);
    char *ev2 = malloc(n + 64), *me2 = malloc(m + 64);
    /* the last line cut in the middle (no newline), then garbage */
    snprintf(ev2, n + 64, "%.*sxx,\xff garbage\n1500,1e9,0", (int)(n - 7), ev);
    snprintf(me2, m + 64, "%snot,a,row\n99", me);
    write_in(b_dir, RUN_FILE_EVAL, ev2);
    write_in(b_dir, RUN_FILE_METRICS, me2);
    train_in(b_dir, 0, 1);

    char *ea = tu_read_in(a_dir, RUN_FILE_EVAL), *eb = tu_read_in(b_dir, RUN_FILE_EVAL);
    assert_string_equal(ea, eb);
    char *ma = tu_read_in(a_dir, RUN_FILE_METRICS), *mb = tu_read_in(b_dir, RUN_FILE_METRICS);
    char *sa = tu_strip_sps(ma), *sb = tu_strip_sps(mb);
    assert_string_equal(sa, sb);
    /* and a file deleted outright comes back too */
    char p[800];
    snprintf(p, sizeof p, "%s/%s", b_dir, RUN_FILE_EVAL);
    unlink(p);
    train_in(b_dir, 0, 1);
    free(eb);
    eb = tu_read_in(b_dir, RUN_FILE_EVAL);
    assert_string_equal(ea, eb);
    free(ev), free(me), free(ev2), free(me2), free(ea), free(eb), free(ma), free(mb), free(sa), free(sb);
}

/* A checkpoint whose step was rewritten (and the checksum recomputed) to a
 * value inside the schema's range: the replay and the counters give it
 * away, and the resume is refused naming the step. */
static void test_crafted_step_refused(void **state)
{
    (void)state;
    char dir[600], p[800];
    snprintf(dir, sizeof dir, "%s/crafted", tu_dir);
    train_in(dir, 1000, 0);
    snprintf(p, sizeof p, "%s/%s", dir, RUN_FILE_CHECKPOINT);
    size_t len = 0;
    char *b = tu_read_len(p, &len);
    assert_non_null(b);
    const size_t off_step = 16 + 4 * 27 + 4 + 8;
    int64_t step = 900;
    memcpy(b + off_step, &step, 8);
    uint64_t h = tu_fnv1a(b, len - 8);
    memcpy(b + len - 8, &h, 8);
    tu_write_bytes(p, b, len);
    free(b);
    train_result res;
    bdrl_err e;
    assert_int_equal(try_train(dir, 0, 1, &res, &e), -1);
    assert_true(res.setup_failed);
    assert_contains(e.msg, "corrupted: step 900, but the replay holds 1000 of 1000 transitions added");
}

/* A FIFO named checkpoint.bin: `bdrl train --resume` exits 2 at once
 * naming it (it used to wait for a writer forever, deaf to SIGTERM: its
 * open restarts; timeout -s KILL turns that into exit 137). */
static void test_fifo_checkpoint(void **state)
{
    (void)state;
    char dir[600], p[800];
    snprintf(dir, sizeof dir, "%s/fifo", tu_dir);
    train_in(dir, 600, 0);
    snprintf(p, sizeof p, "%s/%s", dir, RUN_FILE_CHECKPOINT);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkfifo(p, 0600), 0);
    tu_result r = tu_run("timeout -s KILL 20 %s train --resume %s -q", tu_bdrl(), dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "checkpoint.bin: not a regular file");
    tu_run_free(&r);
}

/* Rows of metrics.csv (sps stripped) up to step `upto`. */
static char *rows_upto(const char *dir, long long upto)
{
    char *m = tu_read_in(dir, RUN_FILE_METRICS), *s = tu_strip_sps(m);
    free(m);
    char *l = strchr(s, '\n') + 1;
    while (*l && strtoll(l, NULL, 10) <= upto)
        l = strchr(l, '\n') + 1;
    *l = '\0';
    return s;
}

#define EPS_ARGS "--set env.name=frozenlake --set agent.kind=dqn --set agent.hidden=[16] " \
                 "--set train.learning_starts=300 --set train.batch_size=16 --set eval.interval=500 " \
                 "--set eval.episodes=5 --set train.eps_fraction=0.5 -q"

/* train.total_steps has one meaning: a larger budget given on resume
 * extends the run, and ε keeps the decay length the run recorded when it
 * started (0.5 x 2000 = 1000 steps), so the extended run takes the very
 * steps of the 2000-step one up to its end. It used to stretch the decay
 * to 0.5 x 4000 mid-run. */
static void test_larger_budget_keeps_eps(void **state)
{
    (void)state;
    char a_dir[600], b_dir[600];
    snprintf(a_dir, sizeof a_dir, "%s/eps_whole", tu_dir);
    snprintf(b_dir, sizeof b_dir, "%s/eps_extended", tu_dir);
    tu_result r = tu_run("%s train %s/configs/frozenlake4_c51.yaml --out %s --set train.total_steps=2000 " EPS_ARGS,
                         tu_bdrl(), tu_root(), a_dir);
    if (r.status)
        fail_msg("%s", r.err);
    tu_run_free(&r);
    r = tu_run("%s train %s/configs/frozenlake4_c51.yaml --out %s --set train.total_steps=2000 --stop-after 600 "
               EPS_ARGS, tu_bdrl(), tu_root(), b_dir);
    if (r.status)
        fail_msg("%s", r.err);
    tu_run_free(&r);
    char *cy = tu_read_in(b_dir, RUN_FILE_CONFIG);
    assert_contains(cy, "eps_decay_steps: 1000");
    free(cy);
    r = tu_run("%s train --resume %s --set train.total_steps=4000 -q", tu_bdrl(), b_dir);
    if (r.status)
        fail_msg("%s", r.err);
    tu_run_free(&r);
    cy = tu_read_in(b_dir, RUN_FILE_CONFIG);
    assert_contains(cy, "total_steps: 4000");
    assert_contains(cy, "eps_decay_steps: 1000");
    free(cy);
    char *ra = rows_upto(a_dir, 2000), *rb = rows_upto(b_dir, 2000);
    assert_true(strlen(ra) > 200);
    assert_string_equal(ra, rb);
    free(ra);
    free(rb);
    /* the decay length itself is no resumable key */
    r = tu_run("%s train --resume %s --set train.eps_decay_steps=5 -q", tu_bdrl(), b_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "train.eps_decay_steps");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damaged_csvs_rebuilt),
        cmocka_unit_test(test_crafted_step_refused),
        cmocka_unit_test(test_fifo_checkpoint),
        cmocka_unit_test(test_larger_budget_keeps_eps),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
