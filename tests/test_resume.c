/* Tests of resuming a run from what its directory holds (train.h, run.h,
 * checkpoint.h): the CSVs are rebuilt from the checkpoint whatever state
 * the files are in; a checkpoint whose header lies behind a valid checksum
 * is refused; a FIFO in checkpoint.bin's place is refused at once; ε keeps
 * the decay length the run recorded when the budget grows. */
#include "test_util.h"
#include "train_util.h"

#include <sys/stat.h>
#include <unistd.h>

#include "train/checkpoint.h"
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

/* ------------------------------------------------------------------------ */
/* n-step returns and prioritized replay                                    */

/* The agent under test with each row's own loss written as agent.h asks
 * (agent_batch.sample_loss): a function of the batch and the update's
 * loss, so that the priorities, and through them the draws, depend on
 * what the agent learned. pl_mode 1 leaves row 3 unwritten; pl_mode 2
 * makes update pl_bad_at report a NaN loss (train.nonfinite skip undoes
 * it) with huge row losses, and every other update's rows the loss 4. */
static const agent_ops *pl_real_ops;
static agent_ops pl_ops;
static int pl_mode, pl_bad_at, pl_updates;

static int pl_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    int rc = pl_real_ops->update(a, b, st, e);
    pl_updates++;
    if (rc || !b->sample_loss)
        return rc;
    for (int i = 0; i < b->B; i++) {
        if (pl_mode == 1 && i == 3) { /* as if the agent had not written it: the trainer's NaN fill */
            b->sample_loss[i] = NAN;
            continue;
        }
        b->sample_loss[i] = pl_mode == 2 ? 4 : fabs((double)b->reward[i]) + st->loss * (1 + (double)b->weight[i]);
    }
    if (pl_mode == 2 && pl_updates == pl_bad_at) {
        st->loss = NAN;
        for (int i = 0; i < b->B; i++)
            b->sample_loss[i] = 1e6;
    }
    return 0;
}

static agent *pl_make_agent(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    agent *a = agent_create(cfg, en, init, e);
    if (!a)
        return NULL;
    pl_real_ops = a->ops;
    pl_ops = *a->ops;
    pl_ops.update = pl_update;
    a->ops = &pl_ops;
    return a;
}

/* SETS with 3-step returns and prioritized replay in a ring of 700 (it
 * wraps), plus extra settings. */
static int train_pl(const char *dir, int64_t stop_after, int resume, char **extra, int n_extra, train_result *res,
                    bdrl_err *e)
{
    char *sets[N_SETS + 8];
    memcpy(sets, SETS, sizeof SETS);
    int n = N_SETS;
    sets[n++] = "agent.n_step=3";
    sets[n++] = "replay.prioritized=true";
    sets[n++] = "train.buffer_size=700";
    for (int i = 0; i < n_extra; i++)
        sets[n++] = extra[i];
    exp_config c;
    tu_load_cfg(&c, sets, n);
    train_options o = {NULL, NULL, stop_after, resume, pl_make_agent, NULL};
    return train_run(&c, dir, &o, res, e);
}

/* A run's checkpoint: the agent's state and, unless replay_bytes is NULL,
 * the (prioritized) replay as saved bytes (caller frees both), and the
 * replay's largest priority. */
static void read_state(const char *dir, char **agent_bytes, size_t *alen, char **replay_bytes, size_t *rlen,
                       double *max_priority)
{
    char p[800];
    exp_config c;
    bdrl_err e;
    snprintf(p, sizeof p, "%s/%s", dir, RUN_FILE_CONFIG);
    if (exp_load(&c, p, NULL, 0, &e))
        fail_msg("%s", e.msg);
    env *en = env_create(&c.env, &e);
    rng *init = rng_create(1, RNG_STREAM_INIT);
    agent *a = agent_create(&c, en, init, &e);
    rng_free(init);
    assert_non_null(a);
    snprintf(p, sizeof p, "%s/%s", dir, RUN_FILE_CHECKPOINT);
    if (ckpt_read_agent(p, &c, a, NULL, &e))
        fail_msg("%s", e.msg);
    *agent_bytes = tu_agent_state(a, alen);
    if (replay_bytes) {
        replay *rb;
        if (ckpt_read_replay(p, &c, a, &rb, &e))
            fail_msg("%s", e.msg);
        assert_non_null(rb->tree);
        FILE *f = open_memstream(replay_bytes, rlen);
        assert_int_equal(replay_save(rb, f, &e), 0);
        fclose(f);
        *max_priority = rb->max_priority;
        replay_free(rb);
    }
    agent_free(a);
    env_free(en);
}

/* Two runs' eval.csv equal, and their metrics.csv but for the speed column. */
static void assert_same_csvs(const char *a_dir, const char *b_dir)
{
    char *ea = tu_read_in(a_dir, RUN_FILE_EVAL), *eb = tu_read_in(b_dir, RUN_FILE_EVAL);
    assert_string_equal(ea, eb);
    char *ma = tu_read_in(a_dir, RUN_FILE_METRICS), *mb = tu_read_in(b_dir, RUN_FILE_METRICS);
    char *sa = tu_strip_sps(ma), *sb = tu_strip_sps(mb);
    assert_string_equal(sa, sb);
    free(ea), free(eb), free(ma), free(mb), free(sa), free(sb);
}

/* With n-step returns and prioritized replay on, a run stopped at step
 * 1777 and resumed ends exactly as the uninterrupted one: the same CSVs,
 * the same agent, the same replay (slots, side store, priorities, sum
 * tree, largest priority) byte for byte. β's annealing length is recorded
 * in config.yaml as ε's is. */
static void test_nstep_prioritized_resume_is_bit_exact(void **state)
{
    (void)state;
    char a_dir[600], b_dir[600];
    snprintf(a_dir, sizeof a_dir, "%s/pl_whole", tu_dir);
    snprintf(b_dir, sizeof b_dir, "%s/pl_resumed", tu_dir);
    train_result res;
    bdrl_err e;
    pl_mode = 0;
    if (train_pl(a_dir, 0, 0, NULL, 0, &res, &e) || train_pl(b_dir, 1777, 0, NULL, 0, &res, &e) ||
        train_pl(b_dir, 0, 1, NULL, 0, &res, &e))
        fail_msg("%s", e.msg);
    assert_same_csvs(a_dir, b_dir);
    char *ag[2], *rp[2];
    size_t al[2], rl[2];
    double mp[2];
    read_state(a_dir, &ag[0], &al[0], &rp[0], &rl[0], &mp[0]);
    read_state(b_dir, &ag[1], &al[1], &rp[1], &rl[1], &mp[1]);
    print_message("n-step + prioritized: agents of %zu bytes, replays of %zu bytes equal; largest priority %g\n",
                  al[0], rl[0], mp[0]);
    assert_true(al[0] == al[1] && !memcmp(ag[0], ag[1], al[0]));
    assert_true(rl[0] == rl[1] && !memcmp(rp[0], rp[1], rl[0]));
    assert_true(mp[0] > 1); /* the agent's losses did set priorities */
    char *cy = tu_read_in(b_dir, RUN_FILE_CONFIG);
    assert_contains(cy, "beta_steps: 2500");
    assert_contains(cy, "n_step: 3");
    free(cy);
    for (int k = 0; k < 2; k++)
        free(ag[k]), free(rp[k]);
}

/* An agent that leaves a row's loss unwritten cannot set its priority: the
 * run stops at the first update, naming the agent and the row. */
static void test_unwritten_sample_loss_refused(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/pl_unwritten", tu_dir);
    train_result res;
    bdrl_err e;
    pl_mode = 1;
    assert_int_equal(train_pl(dir, 0, 0, NULL, 0, &res, &e), -1);
    pl_mode = 0;
    assert_contains(e.msg, "update at step 304: prioritized replay needs each row's loss, and the c51 agent left "
                           "row 3 of 16 at nan");
}

/* An update the non-finite guard undoes sets no priorities: its rows'
 * losses of 1e6 would have made the largest priority 1000, and the kept
 * updates' losses of 4 make it (4 + 1e-6)^0.5. */
static void test_skipped_update_sets_no_priorities(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/pl_skipped", tu_dir);
    train_result res;
    bdrl_err e;
    char *extra[] = {"train.nonfinite=skip", "train.total_steps=600"};
    pl_mode = 2;
    pl_bad_at = 20;
    pl_updates = 0;
    if (train_pl(dir, 0, 0, extra, 2, &res, &e))
        fail_msg("%s", e.msg);
    pl_mode = 0;
    assert_int_equal(res.skipped_updates, 1);
    char *ag, *rp;
    size_t al, rl;
    double mp;
    read_state(dir, &ag, &al, &rp, &rl, &mp);
    assert_true(mp == pow(4 + 1e-6, 0.5));
    free(ag);
    free(rp);
}

/* ------------------------------------------------------------------------ */
/* an environment that keeps something across resets                       */

/* MinAtar keeps its last action across a reset, and a sticky draw on the
 * next episode's first step repeats it (env.h's env_carry). A resume
 * replays the current episode from its seed and actions; it used to start
 * that replay from a fresh environment's last action, so a run stopped
 * inside an episode whose first step had repeated the previous episode's
 * last action did not resume at all ("does not replay"). With stickiness
 * 0.9 and four stops in about sixty episodes, that happened at least once
 * before the checkpoint recorded the carry; now the stopped run ends as the
 * uninterrupted one: the same episodes (metrics.csv), evaluations and
 * agent. */
static char *MN_SETS[] = {"env.name=minatar-breakout", "env.sticky_action_prob=0.9", "agent.kind=dqn",
                          "agent.hidden=[16]", "train.total_steps=3000", "train.learning_starts=500",
                          "train.train_frequency=4", "train.target_update=200", "train.batch_size=16",
                          "train.buffer_size=3000", "eval.interval=1000", "eval.episodes=2"};

static int train_mn(const char *dir, int64_t stop_after, int resume, bdrl_err *e)
{
    exp_config c;
    tu_load_cfg(&c, MN_SETS, (int)(sizeof MN_SETS / sizeof *MN_SETS));
    train_options o = {NULL, NULL, stop_after, resume, NULL, NULL};
    train_result res;
    return train_run(&c, dir, &o, &res, e);
}

/* The uninterrupted MN_SETS run (trained once, shared by the tests) in
 * a_dir, and a run stopped at step 333 in tu_dir/b_name (b_dir). */
static void mn_whole_and_stopped(const char *b_name, char *a_dir, char *b_dir, size_t n)
{
    static int whole_done;
    bdrl_err e;
    snprintf(a_dir, n, "%s/mn_whole", tu_dir);
    snprintf(b_dir, n, "%s/%s", tu_dir, b_name);
    if ((!whole_done && train_mn(a_dir, 0, 0, &e)) || train_mn(b_dir, 333, 0, &e))
        fail_msg("%s", e.msg);
    whole_done = 1;
}

static void test_minatar_sticky_resume_is_bit_exact(void **state)
{
    (void)state;
    char a_dir[600], b_dir[600];
    mn_whole_and_stopped("mn_resumed", a_dir, b_dir, sizeof a_dir);
    bdrl_err e;
    const int64_t stops[] = {777, 1234, 1888, 2500, 0};
    for (int k = 0; k < 5; k++)
        if (train_mn(b_dir, stops[k], 1, &e))
            fail_msg("resume %d: %s", k + 1, e.msg);
    assert_same_csvs(a_dir, b_dir);
    size_t la, lb;
    char *aa, *ab;
    read_state(a_dir, &aa, &la, NULL, NULL, NULL);
    read_state(b_dir, &ab, &lb, NULL, NULL, NULL);
    assert_true(la == lb && !memcmp(aa, ab, la));
    free(aa), free(ab);
}

/* checkpoint.bin as format version 2 wrote it: the trainer section
 * without the carry (the int32 after the episode's length and return,
 * train_state.c), the header's version and section size and the checksum
 * set to match. */
static void downgrade_to_version_2(const char *dir)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, RUN_FILE_CHECKPOINT);
    size_t n = 0;
    char *m = tu_read_len(p, &n);
    enum { OFF_SECTIONS = 16 + 4 * 28 + 8 + 8, HEADER = OFF_SECTIONS + 24 };
    uint64_t sec[3];
    memcpy(sec, m + OFF_SECTIONS, sizeof sec);
    size_t t = HEADER + sec[0] + sec[1]; /* the trainer section: two rngs, each a size and its state */
    for (int k = 0; k < 2; k++) {
        uint64_t rn;
        memcpy(&rn, m + t, 8);
        t += 8 + rn;
    }
    size_t carry_at = t + 5 * 8 + 5 * 8 + 8 + 8;
    memmove(m + carry_at, m + carry_at + 4, n - carry_at - 4);
    n -= 4;
    sec[2] -= 4;
    memcpy(m + OFF_SECTIONS, sec, sizeof sec);
    uint32_t v = 2;
    memcpy(m + 8, &v, 4);
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64, as checkpoint.c */
    for (size_t i = 0; i + 8 < n; i++)
        h = (h ^ (unsigned char)m[i]) * 1099511628211ull;
    memcpy(m + n - 8, &h, 8);
    tu_write_bytes(p, m, n);
    free(m);
}

/* A version 2 checkpoint (no carry recorded) of the same run, stopped where
 * the resume above first failed, still resumes: the carry is found by
 * trying each value, and here the run then ends as the uninterrupted one. */
static void test_version_2_checkpoint_finds_the_carry(void **state)
{
    (void)state;
    char a_dir[600], b_dir[600];
    mn_whole_and_stopped("mn_v2", a_dir, b_dir, sizeof a_dir);
    bdrl_err e;
    downgrade_to_version_2(b_dir);
    if (train_mn(b_dir, 0, 1, &e))
        fail_msg("resume from version 2: %s", e.msg);
    assert_same_csvs(a_dir, b_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_damaged_csvs_rebuilt),
        cmocka_unit_test(test_crafted_step_refused),
        cmocka_unit_test(test_fifo_checkpoint),
        cmocka_unit_test(test_larger_budget_keeps_eps),
        cmocka_unit_test(test_nstep_prioritized_resume_is_bit_exact),
        cmocka_unit_test(test_unwritten_sample_loss_refused),
        cmocka_unit_test(test_skipped_update_sets_no_priorities),
        cmocka_unit_test(test_minatar_sticky_resume_is_bit_exact),
        cmocka_unit_test(test_version_2_checkpoint_finds_the_carry),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
