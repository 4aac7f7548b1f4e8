/* train_state.c — the trainer's section of a checkpoint (checkpoint.h
 * holds the container): its layout, writing it, and reading it back on
 * resume with every field checked against the others. */
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/run.h"
#include "train/support.h"
#include "core/io.h"

static int put(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1; }

static int get(FILE *f, void *p, size_t n) { return n == 0 || fread(p, 1, n, f) == n ? 0 : -1; }

static int put_rng(FILE *f, const rng *r, bdrl_err *e)
{
    uint64_t n = rng_state_size(r);
    if (put(f, &n, sizeof n))
        return err_set(e, "write failed");
    return rng_save(r, f, e);
}

static int get_rng(FILE *f, rng *r, bdrl_err *e)
{
    uint64_t n;
    if (get(f, &n, sizeof n))
        return err_set(e, "truncated random-number state");
    if (n != rng_state_size(r))
        return err_set(e, "random-number state of %llu bytes, this build uses %zu", (unsigned long long)n,
                       rng_state_size(r));
    return rng_load(r, f, e);
}

/* The trainer's section of a checkpoint (checkpoint.h holds the rest):
 *   2 x     uint64 size + the state of the exploration and replay rngs
 *           (agent.noisy: 3 x, the noise rng third)
 *   int64   episodes, updates, target updates, evaluations, skipped updates
 *   double  wall seconds so far; loss, loss_grad, q sums and count since the
 *           last metrics row
 *   int64   current episode's length L; double its return; int32 the
 *           environment's carry at its start (env.h's env_carry; not in
 *           version 2 checkpoints); int32 its L actions; float the current
 *           observation (obs_dim)
 *   int64   n evaluations; n x (int64 step, double mean, std, success, ci_lo, ci_hi)
 *   uint64  bytes of metrics.csv, then the file itself (header and every row,
 *           all at or before the checkpoint's step)
 *   uint64  bytes of the support warning (support.h; 0: none), then its text
 * With the evaluation history and metrics.csv inside, a resume rewrites both
 * CSVs from the checkpoint: damaged files on disk are never carried forward.
 * Checkpoints written before metrics.csv was held here end after the
 * evaluation history; their resume keeps metrics.csv's rows up to the
 * step from the file, as it always did, and looks for the support warning
 * in the replay. */
static int put_trainer_state(const trainer *T, FILE *f, bdrl_err *e)
{
    if (put_rng(f, T->explore, e) || put_rng(f, T->rsample, e) || (T->noise && put_rng(f, T->noise, e)))
        return -1;
    int64_t c[5] = {T->episodes, T->updates, T->target_updates, T->evals, T->skipped};
    double d[5] = {trainer_wall_total(T), T->acc_loss, T->acc_loss_grad, T->acc_q, T->acc_n};
    int bad = put(f, c, sizeof c) || put(f, d, sizeof d) || put(f, &T->ep_len, sizeof T->ep_len) ||
              put(f, &T->ep_ret, sizeof T->ep_ret);
    int32_t carry = T->ep_carry;
    bad = bad || put(f, &carry, sizeof carry);
    for (int64_t i = 0; i < T->ep_len && !bad; i++) {
        int32_t a = T->ep_actions[i];
        bad = put(f, &a, sizeof a);
    }
    bad = bad || put(f, T->obs, sizeof(float) * (size_t)T->D) || put(f, &T->n_ev, sizeof T->n_ev);
    for (int64_t i = 0; i < T->n_ev && !bad; i++) {
        const eval_row *r = &T->ev[i];
        double v[5] = {r->mean, r->std, r->success, r->ci_lo, r->ci_hi};
        bad = put(f, &r->step, sizeof r->step) || put(f, v, sizeof v);
    }
    uint64_t mlen = T->metrics.n, wlen = strlen(T->support_warning);
    bad = bad || put(f, &mlen, sizeof mlen) || put(f, T->metrics.p, T->metrics.n) || put(f, &wlen, sizeof wlen) ||
          put(f, T->support_warning, wlen);
    return bad ? err_set(e, "out of memory") : 0;
}

int trainer_write_checkpoint(trainer *T, bdrl_err *e)
{
    char *mem = NULL, path[4096];
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return err_set(e, "checkpoint: out of memory");
    int rc = put_trainer_state(T, f, e);
    if (fclose(f) != 0 && !rc)
        rc = err_set(e, "out of memory");
    if (rc) {
        free(mem);
        return err_prefix(e, "checkpoint");
    }
    rc = io_join(path, sizeof path, T->dir, RUN_FILE_CHECKPOINT, e) ||
         ckpt_write(path, T->cfg, T->ag, T->rb, T->step, mem, len, e);
    free(mem);
    if (rc)
        return -1;
    T->last_ckpt = T->step;
    T->last_ckpt_time = T->clock ? T->clock() : trainer_now();
    return 0;
}

int trainer_grow_actions(trainer *T, bdrl_err *e)
{
    if (T->ep_len < T->ep_cap)
        return 0;
    int64_t cap = T->ep_cap ? 2 * T->ep_cap : 1024;
    int *p = realloc(T->ep_actions, sizeof(int) * (size_t)cap);
    if (!p)
        return err_set(e, "out of memory");
    T->ep_actions = p;
    T->ep_cap = cap;
    return 0;
}

int trainer_push_eval(trainer *T, const eval_row *r, bdrl_err *e)
{
    if (T->n_ev == T->cap_ev) {
        int64_t cap = T->cap_ev ? 2 * T->cap_ev : 64;
        eval_row *p = realloc(T->ev, sizeof *p * (size_t)cap);
        if (!p)
            return err_set(e, "out of memory");
        T->ev = p;
        T->cap_ev = cap;
    }
    T->ev[T->n_ev++] = *r;
    return 0;
}

/* metrics.csv as the checkpoint holds it into T->metrics (T->metrics_held
 * set), or nothing from a checkpoint that ends before it (older ones). It
 * must be the header and one row per episode counted. */
static int read_metrics_text(trainer *T, FILE *f, const char *path, uint64_t section, bdrl_err *e)
{
    int c = fgetc(f);
    if (c == EOF)
        return 0;
    ungetc(c, f);
    uint64_t n;
    if (get(f, &n, sizeof n) || n > section)
        return err_set(e, "%s: corrupted: truncated metrics.csv", path);
    char *text = malloc((size_t)n + 1);
    if (!text)
        return err_set(e, "%s: out of memory", path);
    if (get(f, text, (size_t)n)) {
        free(text);
        return err_set(e, "%s: corrupted: truncated metrics.csv", path);
    }
    text[n] = '\0';
    int64_t lines = 0;
    for (const char *q = text; (q = strchr(q, '\n')); q++)
        lines++;
    size_t hl = strlen(RUN_METRICS_HEADER);
    if (strlen(text) != n || n <= hl || memcmp(text, RUN_METRICS_HEADER "\n", hl + 1) || text[n - 1] != '\n' ||
        lines != T->episodes + 1) {
        free(text);
        return err_set(e, "%s: corrupted: metrics.csv is not its header and %lld rows", path,
                       (long long)T->episodes);
    }
    sbuf_free(&T->metrics);
    T->metrics.p = text;
    T->metrics.n = (size_t)n;
    T->metrics.cap = (size_t)n + 1;
    T->metrics_held = 1;
    return 0;
}

/* The support warning as the checkpoint holds it, or, from a checkpoint
 * that ends before it (older ones), as the replay's transitions give it. */
static int read_support_warning(trainer *T, FILE *f, const char *path, bdrl_err *e)
{
    T->support_warning[0] = '\0';
    uint64_t n;
    if (!T->metrics_held) {
        if (T->check_support)
            support_breached_in(T->cfg, T->rb, T->support_warning, sizeof T->support_warning);
        return 0;
    }
    if (get(f, &n, sizeof n) || n >= sizeof T->support_warning || get(f, T->support_warning, (size_t)n))
        return err_set(e, "%s: corrupted: truncated support warning", path);
    T->support_warning[n] = '\0';
    if (strlen(T->support_warning) != n)
        return err_set(e, "%s: corrupted support warning", path);
    return 0;
}

/* Rebuilds the current episode: the same seed, the environment's carry
 * from the episode before (env.h), the same actions; the observation
 * reached must be the saved one. */
static int replay_episode(trainer *T, int carry, const float *saved, const char *path, bdrl_err *e)
{
    uint64_t s = eval_episode_seed((uint64_t)T->cfg->seed, T->episodes);
    memcpy(T->obs, env_reset(T->en, &s), sizeof(float) * (size_t)T->D);
    env_set_carry(T->en, carry);
    T->ep_carry = carry;
    for (int64_t i = 0; i < T->ep_len; i++) {
        if (env_elapsed(T->en) >= env_max_steps(T->en))
            return err_set(e, "%s: the current episode does not replay (environment changed?)", path);
        env_step st = env_do_step(T->en, T->ep_actions[i]);
        if ((st.terminated || st.truncated) && i + 1 < T->ep_len)
            return err_set(e, "%s: the current episode does not replay (environment changed?)", path);
        memcpy(T->obs, st.obs, sizeof(float) * (size_t)T->D);
    }
    if (memcmp(saved, T->obs, sizeof(float) * (size_t)T->D))
        return err_set(e, "%s: the current episode replays to a different state (environment changed?)", path);
    return 0;
}

/* A version 2 checkpoint does not record the carry, so a MinAtar resume
 * from one used to fail whenever the episode's first step had repeated the
 * previous episode's last action. Each value is tried, the one a fresh
 * environment holds first, and the first that replays to the saved
 * observation is kept. Such a resume can still differ from the run it
 * continues where no observation tells the values apart: an episode
 * checkpointed before its first step, or (rarely) two values whose
 * replays look the same; version 3 records the value. */
static int replay_episode_find_carry(trainer *T, const float *saved, const char *path, bdrl_err *e)
{
    /* the resuming trainer's environment has not stepped: its carry is a
     * fresh one's (a reset leaves the carry as it is) */
    int first = env_carry(T->en), n = env_carry_values(T->en);
    if (replay_episode(T, first, saved, path, e) == 0)
        return 0;
    for (int c = 0; c < n; c++)
        if (c != first && replay_episode(T, c, saved, path, e) == 0)
            return 0;
    return -1; /* e: the last value's failure */
}

int trainer_read_checkpoint(trainer *T, const char *path, bdrl_err *e)
{
    ckpt_file ck;
    if (ckpt_open(&ck, path, T->ag, T->cfg, e))
        return -1;
    int rc = -1;
    int64_t c[5], len, n_ev;
    double d[5], ret;
    float *saved = NULL;
    FILE *f = NULL;
    if (ckpt_load_agent(&ck, T->ag, e) || ckpt_load_replay(&ck, T->rb, e) || !(f = ckpt_trainer_stream(&ck, e)))
        goto out;
    if (get_rng(f, T->explore, e) || get_rng(f, T->rsample, e) || (T->noise && get_rng(f, T->noise, e))) {
        err_prefix(e, "%s", path);
        goto out;
    }
    /* The step against what the replay and the counters say (one
     * transition, at most one update, target update, evaluation and
     * episode end per step): a header whose checksum holds may still lie. */
    if (T->rb->added != ck.step || T->rb->size != (ck.step < T->rb->capacity ? ck.step : T->rb->capacity)) {
        err_set(e, "%s: corrupted: step %lld, but the replay holds %lld of %lld transitions added", path,
                (long long)ck.step, (long long)T->rb->size, (long long)T->rb->added);
        goto out;
    }
    if (get(f, c, sizeof c) || get(f, d, sizeof d) || get(f, &len, sizeof len) || get(f, &ret, sizeof ret)) {
        err_set(e, "%s: corrupted: truncated trainer state", path);
        goto out;
    }
    static const char *const counter[5] = {"episodes", "updates", "target updates", "evaluations",
                                           "skipped updates"};
    for (int i = 0; i < 5; i++)
        if (c[i] < 0 || c[i] > ck.step) {
            err_set(e, "%s: corrupted: %lld %s at step %lld", path, (long long)c[i], counter[i], (long long)ck.step);
            goto out;
        }
    if (c[4] > c[1] || len < 0 || len > ck.step || len > (int64_t)ck.sec[2] / 4 || !(d[0] >= 0) ||
        !isfinite(d[0]) || !(d[4] >= 0 && d[4] <= (double)c[1])) {
        err_set(e, "%s: corrupted trainer state (skipped updates, episode length, wall time or update count out "
                   "of range)", path);
        goto out;
    }
    T->step = ck.step;
    T->episodes = c[0];
    T->updates = c[1];
    T->target_updates = c[2];
    T->evals = c[3];
    T->skipped = c[4];
    T->wall_prev = d[0];
    T->acc_loss = d[1];
    T->acc_loss_grad = d[2];
    T->acc_q = d[3];
    T->acc_n = d[4];
    /* version 2 has no carry: carry -1 asks replay_episode to find it */
    int32_t carry = -1;
    if (ck.version >= 3 && (get(f, &carry, sizeof carry) || carry < 0 || carry >= env_carry_values(T->en))) {
        err_set(e, "%s: corrupted episode state (environment carry)", path);
        goto out;
    }
    T->ep_len = 0;
    for (int64_t i = 0; i < len; i++) {
        int32_t a;
        if (trainer_grow_actions(T, e))
            goto out;
        if (get(f, &a, sizeof a) || a < 0 || a >= T->A) {
            err_set(e, "%s: corrupted episode state", path);
            goto out;
        }
        T->ep_actions[T->ep_len++] = a;
    }
    T->ep_ret = ret;
    saved = malloc(sizeof(float) * (size_t)T->D);
    if (!saved || get(f, saved, sizeof(float) * (size_t)T->D) || get(f, &n_ev, sizeof n_ev)) {
        err_set(e, "%s: corrupted episode state", path);
        goto out;
    }
    if (n_ev != T->evals || n_ev > (int64_t)ck.sec[2] / 48) {
        err_set(e, "%s: corrupted: %lld evaluations in the history, %lld counted", path, (long long)n_ev,
                (long long)T->evals);
        goto out;
    }
    T->n_ev = 0;
    for (int64_t i = 0; i < n_ev; i++) {
        eval_row r;
        double v[5];
        if (get(f, &r.step, sizeof r.step) || get(f, v, sizeof v)) {
            err_set(e, "%s: corrupted evaluation history", path);
            goto out;
        }
        /* at most one evaluation per step, none after the checkpoint's */
        if (r.step < 1 || r.step > ck.step || (i > 0 && r.step <= T->ev[i - 1].step)) {
            err_set(e, "%s: corrupted: evaluation %lld at step %lld (checkpoint at step %lld)", path,
                    (long long)i + 1, (long long)r.step, (long long)ck.step);
            goto out;
        }
        r.mean = v[0], r.std = v[1], r.success = v[2], r.ci_lo = v[3], r.ci_hi = v[4];
        if (trainer_push_eval(T, &r, e))
            goto out;
    }
    if (read_metrics_text(T, f, path, ck.sec[2], e) || read_support_warning(T, f, path, e))
        goto out;
    if (fgetc(f) != EOF) {
        err_set(e, "%s: corrupted: bytes after the trainer state", path);
        goto out;
    }
    rc = carry >= 0 ? replay_episode(T, carry, saved, path, e) : replay_episode_find_carry(T, saved, path, e);
out:
    free(saved);
    if (f)
        fclose(f);
    ckpt_close(&ck);
    return rc;
}
