/* train.c — the shared training loop, run directory, and the trainer's
 * section of checkpoints; see train.h for the schedule, checkpoint.h for the
 * checkpoint container, run.h for the files. */
#include "train/train.h"
#include "truth/truth.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train/check.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/replay.h"
#include "train/run.h"
#include "train/support.h"
#include "train/fatal.h"
#include "agents/registry.h"
#include "core/io.h"
#include "core/json.h"
#include "core/rng.h"
#include "fields/mlp.h"
#include "stats/metrics.h"

/* ------------------------------------------------------------------------ */
/* schedule                                                                 */

double train_epsilon(const exp_config *cfg, int64_t t)
{
    double dur = (double)exp_eps_decay_steps(cfg);
    double s = cfg->train.eps_start, f = cfg->train.eps_end;
    if (!(dur > 0))
        return f;
    double eps = s + (f - s) * (double)t / dur;
    return eps > f ? eps : f;
}

int train_is_update_step(const exp_config *cfg, int64_t t)
{
    return t > cfg->train.learning_starts && t % cfg->train.train_frequency == 0;
}

int train_is_target_step(const exp_config *cfg, int64_t t)
{
    return t > cfg->train.learning_starts && t % cfg->train.target_update == 0;
}

int train_is_eval_step(const exp_config *cfg, int64_t t)
{
    return t % cfg->eval.interval == 0 || t == cfg->train.total_steps;
}

int train_is_checkpoint_step(const exp_config *cfg, int64_t t)
{
    int64_t k = cfg->train.checkpoint_interval;
    return (k > 0 && t % k == 0) || t == cfg->train.total_steps;
}

uint64_t train_eval_seed(const exp_config *cfg)
{
    return rng_mix64((uint64_t)cfg->seed ^ 0x6576616c5f736565ull);
}

/* ------------------------------------------------------------------------ */
/* small helpers                                                            */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A growing text buffer (the CSVs live in memory between flushes). */
typedef struct {
    char *p;
    size_t n, cap;
    int bad;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    if (b->bad)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->bad = 1;
            return;
        }
        if (b->p && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n <= (size_t)k)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->bad = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

static void sb_free(sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* A number for a CSV cell: "nan" for any NaN (printf may write "-nan"). */
static void sb_num(sbuf *b, double x, const char *fmt)
{
    if (isnan(x))
        sb_printf(b, "nan");
    else
        sb_printf(b, fmt, x);
}

/* Keeps the header and the rows whose first field (a step) is <= step:
 * metrics.csv on resuming a checkpoint that does not hold it (older ones). */
static int load_csv_upto(sbuf *b, const char *path, const char *header, int64_t step, bdrl_err *e)
{
    sb_printf(b, "%s\n", header);
    if (!io_exists(path))
        return 0;
    size_t len;
    char *text = io_read_regular_file(path, &len, e);
    if (!text)
        return -1;
    char *line = strchr(text, '\n');
    line = line ? line + 1 : text + len;
    while (*line) {
        char *end = strchr(line, '\n');
        if (!end)
            break; /* a last line without a newline cannot come from us */
        long long s = strtoll(line, NULL, 10);
        if (s <= step)
            sb_printf(b, "%.*s\n", (int)(end - line), line);
        line = end + 1;
    }
    free(text);
    return b->bad ? err_set(e, "out of memory reading %s", path) : 0;
}

/* ------------------------------------------------------------------------ */
/* the trainer's state                                                      */

typedef struct {
    int64_t step;
    double mean, std, success, ci_lo, ci_hi;
} eval_row;

typedef struct {
    const exp_config *cfg;
    const char *dir;
    FILE *log;
    int tty;
    env *en;
    agent *ag;
    replay *rb;
    replay_batch batch;
    rng *explore, *rsample;
    int *policy;           /* evaluate mode: π*(s) */
    int evaluate_mode;     /* agent.mode evaluate */
    int A, D;
    double eps;            /* ε of the last action (its episode's metrics row) */
    /* counters */
    int64_t step, episodes, updates, target_updates, evals;
    int64_t skipped;       /* updates undone because something became non-finite (train.nonfinite skip) */
    int64_t skipped_run;   /* ... of them in a row */
    char *snap;            /* skip mode: the agent as saved before the update in progress */
    size_t snap_len;
    double wall_prev;      /* wall seconds of earlier segments */
    double t_start;        /* this segment's start */
    int64_t step_start;    /* step at this segment's start */
    /* since the last metrics row */
    double acc_loss, acc_loss_grad, acc_q, acc_n;
    /* current episode */
    double ep_ret;
    int64_t ep_len;
    int *ep_actions;
    int64_t ep_cap;
    float *obs;            /* (D) current observation */
    /* history */
    eval_row *ev;
    int64_t n_ev, cap_ev;
    double recent[10];     /* last episode returns, for the progress line */
    int n_recent;
    sbuf metrics, evalcsv;
    int metrics_held;      /* metrics came from the checkpoint (resume) */
    int check_support;     /* the agent uses a support (agent_class.uses_support) */
    char support_warning[512]; /* why returns leave it (support.h); "" until they do */
    double last_flush, last_draw;
    int64_t last_ckpt;     /* step of the last checkpoint written (-1: none) */
    double (*clock)(void); /* the wall-time checkpoint rule's clock */
    double last_ckpt_time; /* its reading at the last checkpoint (or the start) */
    const char *fail_status; /* summary status if the run fails after starting */
} trainer;

static double segment_sps(const trainer *T)
{
    double dt = now_s() - T->t_start;
    return dt > 0 ? (double)(T->step - T->step_start) / dt : NAN;
}

static double wall_total(const trainer *T) { return T->wall_prev + (now_s() - T->t_start); }

/* Whether the threshold applies to the mean greedy return (every
 * non-tabular environment) rather than the success rate (FrozenLake). */
static int on_return(const trainer *T) { return !env_kind_describe(env_get_kind(T->en))->tabular; }

static double eval_metric(const trainer *T, const eval_row *r)
{
    return on_return(T) ? r->mean : r->success;
}

static double steps_to_threshold(const trainer *T)
{
    if (T->n_ev == 0)
        return NAN;
    double thr = exp_threshold(T->cfg);
    for (int64_t i = 0; i < T->n_ev; i++)
        if (eval_metric(T, &T->ev[i]) >= thr)
            return (double)T->ev[i].step;
    return NAN;
}

/* ------------------------------------------------------------------------ */
/* files                                                                    */

/* summary.json's text into f: status, and for a failed or diverged run the
 * reason (error; NULL: none). */
static void render_summary(const trainer *T, FILE *f, const char *status, const char *reason)
{
    const exp_config *c = T->cfg;
    double best = NAN, wall = wall_total(T);
    for (int64_t i = 0; i < T->n_ev; i++)
        if (isnan(best) || T->ev[i].mean > best)
            best = T->ev[i].mean;
    const eval_row *last = T->n_ev ? &T->ev[T->n_ev - 1] : NULL;
    json_writer w;
    json_init(&w, f);
    json_object_begin(&w);
    json_kv_str(&w, "agent", T->ag->ops->name);
    json_kv_str(&w, "env", env_name(T->en));
    json_kv_int(&w, "seed", (long long)c->seed);
    json_kv_int(&w, "total_steps", (long long)T->step);
    json_kv_num(&w, "wall_seconds", wall);
    json_kv_num(&w, "sps", wall > 0 ? (double)T->step / wall : NAN);
    json_kv_num(&w, "final_eval_return", last ? last->mean : NAN);
    json_kv_num(&w, "best_eval_return", best);
    json_kv_num(&w, "threshold", exp_threshold(c));
    json_kv_num(&w, "steps_to_threshold", steps_to_threshold(T));
    json_kv_num(&w, "final_success_rate", last ? last->success : NAN);
    /* beyond run.h's list */
    json_kv_str(&w, "status", status);
    if (reason)
        json_kv_str(&w, "error", reason);
    json_kv_str(&w, "threshold_on", on_return(T) ? "return_mean" : "success_rate");
    json_kv_int(&w, "configured_steps", (long long)c->train.total_steps);
    json_kv_int(&w, "episodes", (long long)T->episodes);
    json_kv_int(&w, "updates", (long long)T->updates);
    json_kv_int(&w, "target_updates", (long long)T->target_updates);
    json_kv_int(&w, "evaluations", (long long)T->evals);
    json_kv_int(&w, "skipped_updates", (long long)T->skipped);
    if (T->support_warning[0])
        json_kv_str(&w, "support_warning", T->support_warning);
    json_kv_num(&w, "final_eval_return_std", last ? last->std : NAN);
    json_key(&w, "final_eval_return_ci95");
    json_array_begin(&w);
    json_num(&w, last ? last->ci_lo : NAN);
    json_num(&w, last ? last->ci_hi : NAN);
    json_array_end(&w);
    json_object_end(&w);
}

static int write_summary(trainer *T, const char *status, const char *reason, bdrl_err *e)
{
    char path[4096];
    io_atomic a;
    if (io_join(path, sizeof path, T->dir, RUN_FILE_SUMMARY, e) || io_atomic_open(&a, path, e))
        return -1;
    render_summary(T, a.f, status, reason);
    return io_atomic_commit(&a, e);
}

/* Arms fatal.h's hook with summary.json as it would read had the run
 * failed now, for a plugin's fault that ends the process. */
static int arm_fatal(const trainer *T, bdrl_err *e)
{
    char path[4096], *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return err_set(e, "out of memory");
    render_summary(T, f, "failed", FATAL_REASON_MARK);
    int rc = fclose(f) ? err_set(e, "out of memory")
                       : io_join(path, sizeof path, T->dir, RUN_FILE_SUMMARY, e) || fatal_arm(path, mem, e);
    free(mem);
    return rc ? -1 : 0;
}

static int flush_files(trainer *T, const char *status, bdrl_err *e)
{
    char path[4096];
    if (T->metrics.bad || T->evalcsv.bad)
        return err_set(e, "out of memory holding the metrics");
    if (io_join(path, sizeof path, T->dir, RUN_FILE_METRICS, e) ||
        io_write_file_atomic(path, T->metrics.p, T->metrics.n, e))
        return -1;
    if (io_join(path, sizeof path, T->dir, RUN_FILE_EVAL, e) ||
        io_write_file_atomic(path, T->evalcsv.p, T->evalcsv.n, e))
        return -1;
    if (write_summary(T, status, NULL, e) || arm_fatal(T, e))
        return -1;
    T->last_flush = now_s();
    return 0;
}

/* The files of a run that ends in error, as far as it got (rows past the
 * last checkpoint are dropped again on resume): the CSVs if they can be
 * written, summary.json with status and reason in any case. */
static void fail_files(trainer *T, const char *reason)
{
    char path[4096];
    bdrl_err e2;
    if (!T->metrics.bad && !T->evalcsv.bad) {
        if (!io_join(path, sizeof path, T->dir, RUN_FILE_METRICS, &e2))
            io_write_file_atomic(path, T->metrics.p, T->metrics.n, &e2);
        if (!io_join(path, sizeof path, T->dir, RUN_FILE_EVAL, &e2))
            io_write_file_atomic(path, T->evalcsv.p, T->evalcsv.n, &e2);
    }
    write_summary(T, T->fail_status, reason, &e2);
}

/* ------------------------------------------------------------------------ */
/* checkpoints                                                              */

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
 *   int64   episodes, updates, target updates, evaluations, skipped updates
 *   double  wall seconds so far; loss, loss_grad, q sums and count since the
 *           last metrics row
 *   int64   current episode's length L; double its return; int32 its L
 *           actions; float the current observation (obs_dim)
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
    if (put_rng(f, T->explore, e) || put_rng(f, T->rsample, e))
        return -1;
    int64_t c[5] = {T->episodes, T->updates, T->target_updates, T->evals, T->skipped};
    double d[5] = {wall_total(T), T->acc_loss, T->acc_loss_grad, T->acc_q, T->acc_n};
    int bad = put(f, c, sizeof c) || put(f, d, sizeof d) || put(f, &T->ep_len, sizeof T->ep_len) ||
              put(f, &T->ep_ret, sizeof T->ep_ret);
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

static int write_checkpoint(trainer *T, bdrl_err *e)
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
    T->last_ckpt_time = T->clock ? T->clock() : now_s();
    return 0;
}

static int grow_actions(trainer *T, bdrl_err *e)
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

/* One row of eval.csv (RUN_EVAL_HEADER), as an evaluation writes it and
 * a resume rewrites it from the checkpoint's history. */
static void eval_csv_row(sbuf *b, const eval_row *r)
{
    sb_printf(b, "%lld,%.10g,%.10g,%.10g\n", (long long)r->step, r->mean, r->std, r->success);
}

static int push_eval(trainer *T, const eval_row *r, bdrl_err *e)
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
    sb_free(&T->metrics);
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

static int read_checkpoint(trainer *T, const char *path, bdrl_err *e)
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
    if (get_rng(f, T->explore, e) || get_rng(f, T->rsample, e)) {
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
    T->ep_len = 0;
    for (int64_t i = 0; i < len; i++) {
        int32_t a;
        if (grow_actions(T, e))
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
        if (push_eval(T, &r, e))
            goto out;
    }
    if (read_metrics_text(T, f, path, ck.sec[2], e) || read_support_warning(T, f, path, e))
        goto out;
    if (fgetc(f) != EOF) {
        err_set(e, "%s: corrupted: bytes after the trainer state", path);
        goto out;
    }
    /* Rebuild the current episode: same seed, same actions. */
    uint64_t s = eval_episode_seed((uint64_t)T->cfg->seed, T->episodes);
    memcpy(T->obs, env_reset(T->en, &s), sizeof(float) * (size_t)T->D);
    for (int64_t i = 0; i < T->ep_len; i++) {
        if (env_elapsed(T->en) >= env_max_steps(T->en)) {
            err_set(e, "%s: the current episode does not replay (environment changed?)", path);
            goto out;
        }
        env_step st = env_do_step(T->en, T->ep_actions[i]);
        if ((st.terminated || st.truncated) && i + 1 < T->ep_len) {
            err_set(e, "%s: the current episode does not replay (environment changed?)", path);
            goto out;
        }
        memcpy(T->obs, st.obs, sizeof(float) * (size_t)T->D);
    }
    rc = memcmp(saved, T->obs, sizeof(float) * (size_t)T->D)
             ? err_set(e, "%s: the current episode replays to a different state (environment changed?)", path)
             : 0;
out:
    free(saved);
    if (f)
        fclose(f);
    ckpt_close(&ck);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* progress                                                                 */

static void fmt_count(char *b, size_t n, double x)
{
    if (x >= 1e6)
        snprintf(b, n, "%.2fM", x / 1e6);
    else if (x >= 1e4)
        snprintf(b, n, "%.1fk", x / 1e3);
    else
        snprintf(b, n, "%.0f", x);
}

static void fmt_time(char *b, size_t n, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(b, n, "?");
    else if (s >= 3600)
        snprintf(b, n, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
    else
        snprintf(b, n, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

static double recent_mean(const trainer *T)
{
    if (T->n_recent == 0)
        return NAN;
    int k = T->n_recent < 10 ? T->n_recent : 10;
    double s = 0;
    for (int i = 0; i < k; i++)
        s += T->recent[i];
    return s / k;
}

static void progress(trainer *T, int force)
{
    if (!T->log || !T->tty)
        return;
    double t = now_s();
    if (!force && t - T->last_draw < 0.2)
        return;
    T->last_draw = t;
    char st[32], tot[32], sps[32], eta[32];
    double rate = segment_sps(T);
    fmt_count(st, sizeof st, (double)T->step);
    fmt_count(tot, sizeof tot, (double)T->cfg->train.total_steps);
    fmt_count(sps, sizeof sps, rate);
    fmt_time(eta, sizeof eta, (double)(T->cfg->train.total_steps - T->step) / rate);
    const eval_row *ev = T->n_ev ? &T->ev[T->n_ev - 1] : NULL;
    char evs[64] = "-";
    if (ev && on_return(T))
        snprintf(evs, sizeof evs, "%.1f", ev->mean);
    else if (ev)
        snprintf(evs, sizeof evs, "%.2f (success %.2f)", ev->mean, ev->success);
    fprintf(T->log, "\r\033[Ktrain: step %s/%s (%.0f%%)  ep %lld  return %.2f  eval %s  %s steps/s  ETA %s", st,
            tot, 100.0 * (double)T->step / (double)T->cfg->train.total_steps, (long long)T->episodes,
            recent_mean(T), evs, sps, eta);
    fflush(T->log);
}

/* A plain line (log file or pipe), or a line above the progress bar. */
static void note(trainer *T, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(trainer *T, const char *fmt, ...)
{
    if (!T->log)
        return;
    if (T->tty)
        fputs("\r\033[K", T->log);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(T->log, fmt, ap);
    va_end(ap);
    fputc('\n', T->log);
    fflush(T->log);
}

/* ------------------------------------------------------------------------ */
/* the loop                                                                 */

static void trainer_free(trainer *T)
{
    agent_free(T->ag);
    env_free(T->en);
    replay_free(T->rb);
    replay_batch_free(&T->batch);
    rng_free(T->explore);
    rng_free(T->rsample);
    free(T->policy);
    free(T->ep_actions);
    free(T->obs);
    free(T->ev);
    free(T->snap);
    sb_free(&T->metrics);
    sb_free(&T->evalcsv);
}

static int start_episode(trainer *T)
{
    uint64_t s = eval_episode_seed((uint64_t)T->cfg->seed, T->episodes);
    memcpy(T->obs, env_reset(T->en, &s), sizeof(float) * (size_t)T->D);
    T->ep_len = 0;
    T->ep_ret = 0;
    return 0;
}

static int do_eval(trainer *T, bdrl_err *e)
{
    eval_result r;
    if (eval_greedy(T->cfg, T->ag, T->cfg->eval.episodes, train_eval_seed(T->cfg), &r, e))
        return err_prefix(e, "evaluation at step %lld", (long long)T->step);
    eval_row row = {T->step, r.return_mean, r.return_std, r.success_rate, r.ci_lo, r.ci_hi};
    if (push_eval(T, &row, e))
        return -1;
    T->evals++;
    eval_csv_row(&T->evalcsv, &row);
    if (T->log && !T->tty) {
        char succ[48] = "";
        if (!on_return(T))
            snprintf(succ, sizeof succ, "  success %.3f", r.success_rate);
        note(T, "train: step %lld/%lld  episodes %lld  recent return %.3g  eval %.4g ± %.3g%s  %.0f steps/s",
             (long long)T->step, (long long)T->cfg->train.total_steps, (long long)T->episodes, recent_mean(T),
             r.return_mean, r.return_std, succ, segment_sps(T));
    }
    return 0;
}

static void diverged(trainer *T, const char *what, double v, bdrl_err *e)
{
    char ck[128] = "no checkpoint was written";
    if (T->last_ckpt >= 0)
        snprintf(ck, sizeof ck, "the checkpoint of step %lld is intact", (long long)T->last_ckpt);
    if (isnan(v) || isinf(v))
        err_set(e, "training diverged at step %lld (update %lld): the %s is %s; %s", (long long)T->step,
                (long long)T->updates, what, isnan(v) ? "nan" : v > 0 ? "+inf" : "-inf", ck);
    else /* what names the quantity and its value */
        err_set(e, "training diverged at step %lld (update %lld): %s; %s", (long long)T->step,
                (long long)T->updates, what, ck);
    T->fail_status = "diverged";
}

/* train.nonfinite skip: the agent's state before an update, to undo it. */
static int snapshot_agent(trainer *T, bdrl_err *e)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return err_set(e, "out of memory");
    int rc = T->ag->ops->save(T->ag, f, e);
    if (fclose(f) != 0 && !rc)
        rc = err_set(e, "out of memory");
    if (rc) {
        free(mem);
        return -1;
    }
    free(T->snap);
    T->snap = mem;
    T->snap_len = len;
    return 0;
}

static int restore_agent(trainer *T, bdrl_err *e)
{
    FILE *f = fmemopen(T->snap, T->snap_len, "rb");
    if (!f)
        return err_set(e, "out of memory");
    int rc = T->ag->ops->load(T->ag, f, e);
    fclose(f);
    return rc;
}

/* Removes temporaries (NAME.tmp.XXXXXX) that a killed writer left behind. */
static void remove_stale_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!io_is_temporary(de->d_name))
            continue;
        char p[4096];
        if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < (int)sizeof p)
            unlink(p);
    }
    closedir(d);
}

/* Everything but the files: generators, environment, agent, replay, scratch. */
static int trainer_setup(trainer *T, const exp_config *cfg, const train_options *opt, bdrl_err *e)
{
    T->cfg = cfg;
    T->evaluate_mode = cfg->agent.mode == AGENT_EVALUATE;
    T->last_ckpt = -1;
    rng *init = rng_create((uint64_t)cfg->seed, RNG_STREAM_INIT);
    T->explore = rng_create((uint64_t)cfg->seed, RNG_STREAM_EXPLORE);
    T->rsample = rng_create((uint64_t)cfg->seed, RNG_STREAM_REPLAY);
    if (!init || !T->explore || !T->rsample) {
        rng_free(init);
        return err_set(e, "out of memory");
    }
    if (!(T->en = env_create(&cfg->env, e))) {
        rng_free(init);
        return -1;
    }
    T->A = env_n_actions(T->en);
    T->D = env_obs_dim(T->en);
    /* Refuse what `bdrl config` refuses (unreachable goal, absurd sizes,
     * evaluate mode without a policy) before anything big is allocated. */
    if (exp_check_env(cfg, T->en, e)) {
        rng_free(init);
        return -1;
    }
    T->ag = opt && opt->make_agent ? opt->make_agent(cfg, T->en, init, e) : agent_create(cfg, T->en, init, e);
    rng_free(init);
    if (!T->ag)
        return -1;
    const agent_class *cls = agent_class_of(agent_kind_of(T->ag));
    T->check_support = cls && cls->uses_support;
    if (!(T->rb = replay_create(cfg->train.buffer_size, T->D, e)) ||
        replay_batch_create(&T->batch, cfg->train.batch_size, T->D, e) ||
        !(T->obs = err_calloc((size_t)T->D, sizeof(float), e)) || grow_actions(T, e))
        return -1;
    if (cfg->agent.mode == AGENT_EVALUATE) {
        if (!(T->policy = err_calloc((size_t)env_n_states(T->en), sizeof(int), e)))
            return -1;
        if (truth_env_optimal_policy(T->en, cfg->agent.gamma, T->policy))
            return err_set(e, "agent.mode evaluate: value iteration found no optimal policy (FrozenLake only; "
                              "γ = %g)",
                           cfg->agent.gamma);
    }
    return 0;
}

int train_verify_checkpoint(const exp_config *cfg, const char *path, int64_t *step, bdrl_err *e)
{
    trainer T;
    memset(&T, 0, sizeof T);
    int rc = trainer_setup(&T, cfg, NULL, e) || read_checkpoint(&T, path, e) ? -1 : 0;
    if (!rc && step)
        *step = T.step;
    trainer_free(&T);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* one training step: act, store, learn (with its guard), sync the target,   */
/* log the episode, evaluate, checkpoint, keep the files fresh               */

/* Act: the action of step T->step + 1. Reads the observation, the step (for
 * ε), the exploration generator (one or two draws) and, for agent.mode
 * evaluate, the policy π*; writes *a and T->eps, the ε behind it (the
 * episode's metrics row reports it). The agent's greedy action costs a
 * forward pass, so it is asked only when the draw says exploit. */
static int act(trainer *T, int *a, bdrl_err *e)
{
    if (T->evaluate_mode) {
        const double eps_b = T->cfg->agent.behaviour_eps;
        T->eps = eps_b;
        /* ε = 1 draws one number per step, as before the option existed. */
        if (eps_b >= 1 || rng_uniform(T->explore) < eps_b)
            *a = (int)rng_below(T->explore, (unsigned long)T->A);
        else
            *a = T->policy[(int)T->obs[0]];
        return 0;
    }
    T->eps = train_epsilon(T->cfg, T->step);
    if (rng_uniform(T->explore) < T->eps)
        *a = (int)rng_below(T->explore, (unsigned long)T->A);
    else if (agent_greedy(T->ag, T->obs, a, e))
        return err_prefix(e, "step %lld", (long long)T->step + 1);
    return 0;
}

/* Store: takes action a in the environment (*st: what it returned), adds
 * the transition to the replay (and, for an agent with a support, sets the
 * support warning the first time one leaves it), the action and reward to
 * the current episode (a resume replays its actions), and moves T->obs and
 * T->step on. */
static int store(trainer *T, int a, env_step *st, bdrl_err *e)
{
    *st = env_do_step(T->en, a);
    replay_add(T->rb, T->obs, a, st->reward, st->obs, st->terminated, st->truncated);
    /* the reward as the replay keeps it (a float), as a resume would see it */
    if (T->check_support && !T->support_warning[0] &&
        support_breached(T->cfg, (float)st->reward, st->terminated, T->support_warning, sizeof T->support_warning))
        note(T, "train: warning at step %lld: %s", (long long)T->step + 1, T->support_warning);
    if (grow_actions(T, e))
        return -1;
    T->ep_actions[T->ep_len++] = a;
    T->ep_ret += st->reward;
    memcpy(T->obs, st->obs, sizeof(float) * (size_t)T->D);
    T->step++;
    return 0;
}

/* The guard's verdict on the update just made: the reported loss,
 * gradient-field loss and gradient norm, then the parameters themselves.
 * Returns the first non-finite quantity's name (*v its value, 0 for a
 * parameter, whose name already says where), or NULL when all are finite. */
static const char *nonfinite_quantity(trainer *T, const agent_stats *ss, double *v, char *buf, size_t n)
{
    if (!isfinite(ss->loss))
        return *v = ss->loss, "loss";
    if (!isfinite(ss->loss_grad))
        return *v = ss->loss_grad, "gradient-field loss";
    if (!isfinite(ss->grad_norm))
        return *v = ss->grad_norm, "gradient norm";
    *v = 0;
    return agent_params_nonfinite(T->ag, buf, n) ? buf : NULL;
}

/* The guard (train.nonfinite): after a non-finite update, skip mode restores
 * the snapshot and counts it (T->skipped, T->skipped_run) until
 * TRAIN_MAX_SKIPS_IN_A_ROW in a row; otherwise the run ends (-1, e names
 * the step and the quantity, T->fail_status "diverged"). A finite update
 * adds its statistics to the sums of the next metrics row. */
static int guard_update(trainer *T, const agent_stats *ss, bdrl_err *e)
{
    char pwhat[160];
    double bad_v;
    const char *bad_what = nonfinite_quantity(T, ss, &bad_v, pwhat, sizeof pwhat);
    const int skip_mode = T->cfg->train.nonfinite == TRAIN_NONFINITE_SKIP;
    if (!bad_what) {
        T->skipped_run = 0;
        T->acc_loss += ss->loss;
        T->acc_loss_grad += ss->loss_grad;
        T->acc_q += ss->q_mean;
        T->acc_n += 1;
        return 0;
    }
    if (skip_mode && T->skipped_run < TRAIN_MAX_SKIPS_IN_A_ROW) {
        if (restore_agent(T, e))
            return err_prefix(e, "update at step %lld: undoing a non-finite update", (long long)T->step);
        T->skipped++;
        T->skipped_run++;
        /* the first ten, then at powers of two: a flood would bury the log */
        if (T->skipped <= 10 || (T->skipped & (T->skipped - 1)) == 0)
            note(T, "train: step %lld: update skipped, %s%s%s (%lld skipped so far)", (long long)T->step,
                 bad_v == 0 ? "" : "the ", bad_what,
                 bad_v == 0 ? "" : isnan(bad_v) ? " is nan" : bad_v > 0 ? " is +inf" : " is -inf",
                 (long long)T->skipped);
        return 0;
    }
    if (skip_mode) {
        char w2[300];
        snprintf(w2, sizeof w2, "%lld updates in a row were non-finite (last: %s%s)", (long long)T->skipped_run,
                 bad_what, bad_v == 0 ? "" : isnan(bad_v) ? " nan" : " inf");
        diverged(T, w2, 0, e);
    } else {
        diverged(T, bad_what, bad_v, e);
    }
    return -1;
}

/* Learn: one update on a minibatch of the replay (the replay generator
 * draws it; agent.mode evaluate bootstraps from a' = π*(s')), then the
 * guard. Reads the replay; writes the agent, T->updates and, in skip mode,
 * the snapshot. */
static int learn(trainer *T, bdrl_err *e)
{
    replay_sample(T->rb, T->rsample, T->cfg->train.batch_size, &T->batch);
    const int *na = NULL;
    if (T->evaluate_mode) {
        for (int i = 0; i < T->batch.B; i++) {
            int s = (int)T->batch.next_obs[(size_t)i * T->D];
            T->batch.next_action[i] = T->policy[s];
        }
        na = T->batch.next_action;
    }
    agent_batch b = replay_batch_view(&T->batch, na);
    agent_stats ss;
    if (T->cfg->train.nonfinite == TRAIN_NONFINITE_SKIP && snapshot_agent(T, e))
        return err_prefix(e, "update at step %lld: snapshot", (long long)T->step);
    if (agent_update(T->ag, &b, &ss, e))
        return err_prefix(e, "update at step %lld", (long long)T->step);
    T->updates++;
    return guard_update(T, &ss, e);
}

/* Target: the target networks move toward the online ones (train.tau). */
static void sync_target(trainer *T)
{
    agent_update_target(T->ag, T->cfg->train.tau);
    T->target_updates++;
}

/* Log the episode that just ended: its metrics row (return, length, the ε
 * of its last action, the update statistics summed since the last row),
 * then the next episode's reset. Clears the sums; counts the episode. */
static void end_episode(trainer *T)
{
    double n = T->acc_n;
    sb_printf(&T->metrics, "%lld,%lld,%.10g,%lld,%.6g,", (long long)T->step, (long long)T->episodes, T->ep_ret,
              (long long)T->ep_len, T->eps);
    sb_num(&T->metrics, n > 0 ? T->acc_loss / n : NAN, "%.8g");
    sb_printf(&T->metrics, ",");
    sb_num(&T->metrics, n > 0 ? T->acc_loss_grad / n : NAN, "%.8g");
    sb_printf(&T->metrics, ",");
    sb_num(&T->metrics, n > 0 ? T->acc_q / n : NAN, "%.8g");
    sb_printf(&T->metrics, ",%.1f\n", segment_sps(T));
    T->acc_loss = T->acc_loss_grad = T->acc_q = T->acc_n = 0;
    T->recent[T->n_recent++ % 10] = T->ep_ret;
    T->episodes++;
    start_episode(T);
}

/* Evaluate on evaluation steps: a greedy evaluation (its own environments;
 * the training state is untouched), its eval.csv row, then the files. Sets
 * *solved when eval.stop_at_threshold ends the run here (the caller writes
 * the files), *flushed when the files were written. */
static int evaluate_if_due(trainer *T, int *solved, int *flushed, bdrl_err *e)
{
    if (!train_is_eval_step(T->cfg, T->step))
        return 0;
    if (do_eval(T, e))
        return -1;
    if (T->cfg->eval.stop_at_threshold && eval_metric(T, &T->ev[T->n_ev - 1]) >= exp_threshold(T->cfg)) {
        *solved = 1;
        return 0;
    }
    if (flush_files(T, "running", e))
        return -1;
    *flushed = 1;
    return 0;
}

/* Checkpoint on checkpoint steps, or when train.checkpoint_seconds of wall
 * time have passed (every step asks the clock, a few ns), after the files
 * (the checkpoint holds the CSVs too; a resume rebuilds them from it). A
 * checkpoint changes no state: wherever it falls, the run is the same. */
static int checkpoint_if_due(trainer *T, int *flushed, bdrl_err *e)
{
    const double every = (double)T->cfg->train.checkpoint_seconds;
    int time_due = every > 0 && T->clock() - T->last_ckpt_time >= every;
    if (!train_is_checkpoint_step(T->cfg, T->step) && !time_due)
        return 0;
    if ((!*flushed && flush_files(T, "running", e)) || write_checkpoint(T, e))
        return -1;
    *flushed = 1;
    return 0;
}

/* Every 256 steps: the files when 30 s have passed since they were last
 * written (a kill then loses at most that much of the CSVs), and the
 * progress bar. */
static int keep_fresh(trainer *T, int flushed, bdrl_err *e)
{
    if ((T->step & 255) != 0)
        return 0;
    if (!flushed && now_s() - T->last_flush > 30 && flush_files(T, "running", e))
        return -1;
    progress(T, 0);
    return 0;
}

/* 1 when the caller asked the run to stop before the next step (a signal's
 * flag, or --stop-after's step count). */
static int stop_requested(const trainer *T, const train_options *opt)
{
    return opt && ((opt->stop && *opt->stop) || (opt->stop_after > 0 && T->step >= opt->stop_after));
}

/* The trainer's state from run_dir's checkpoint, the CSVs as they were at
 * its step, rebuilt from it (whatever the files on disk now hold: the
 * first flush replaces them), and no temporaries left by a killed writer. */
static int resume_run(trainer *T, bdrl_err *e)
{
    char path[4096];
    if (io_join(path, sizeof path, T->dir, RUN_FILE_CHECKPOINT, e) || read_checkpoint(T, path, e))
        return -1;
    sb_printf(&T->evalcsv, "%s\n", RUN_EVAL_HEADER);
    for (int64_t i = 0; i < T->n_ev; i++)
        eval_csv_row(&T->evalcsv, &T->ev[i]);
    if (!T->metrics_held && (io_join(path, sizeof path, T->dir, RUN_FILE_METRICS, e) ||
                             load_csv_upto(&T->metrics, path, RUN_METRICS_HEADER, T->step, e)))
        return -1;
    T->last_ckpt = T->step;
    remove_stale_temporaries(T->dir);
    return 0;
}

/* A new run: the CSVs' headers and the first episode's reset. */
static void start_run(trainer *T)
{
    sb_printf(&T->metrics, "%s\n", RUN_METRICS_HEADER);
    sb_printf(&T->evalcsv, "%s\n", RUN_EVAL_HEADER);
    start_episode(T);
}

static void fill_result(const trainer *T, int stopped, int solved, train_result *res)
{
    res->steps = T->step;
    res->episodes = T->episodes;
    res->stopped = stopped;
    res->solved = solved;
    res->skipped_updates = T->skipped;
    if (T->n_ev) {
        res->final_eval_return = T->ev[T->n_ev - 1].mean;
        res->final_success_rate = T->ev[T->n_ev - 1].success;
    }
    res->steps_to_threshold = steps_to_threshold(T);
    res->wall_seconds = wall_total(T);
}

int train_run(const exp_config *cfg, const char *run_dir, const train_options *opt, train_result *res,
              bdrl_err *e)
{
    trainer T;
    memset(&T, 0, sizeof T);
    T.dir = run_dir;
    T.log = opt ? opt->log : NULL;
    T.tty = T.log && isatty(fileno(T.log));
    int resume = opt && opt->resume;
    int rc = -1;
    char path[4096];
    memset(res, 0, sizeof *res);
    res->final_eval_return = res->final_success_rate = res->steps_to_threshold = NAN;
    res->setup_failed = 1;
    /* The run's own copy, with the ε decay length recorded: config.yaml
     * keeps it, so a resume with a larger budget decays ε as before. */
    exp_config *run_cfg = malloc(sizeof *run_cfg);
    if (!run_cfg) {
        err_set(e, "out of memory");
        goto out;
    }
    *run_cfg = *cfg;
    exp_record_eps_decay(run_cfg);
    cfg = run_cfg;

    /* Set up (and refuse absurd sizes) before the run directory exists. */
    if (trainer_setup(&T, cfg, opt, e) || io_mkdirs(run_dir, e))
        goto out;
    if (resume ? resume_run(&T, e) : (start_run(&T), 0))
        goto out;
    if (io_join(path, sizeof path, run_dir, RUN_FILE_CONFIG, e) || cfg_save_yaml(&exp_schema, cfg, path, e))
        goto out;

    T.t_start = now_s();
    T.clock = opt && opt->clock ? opt->clock : now_s;
    T.last_ckpt_time = T.clock();
    T.step_start = T.step;
    res->start_step = T.step;
    res->setup_failed = 0;
    T.fail_status = "failed";
    T.last_flush = T.t_start;
    const int64_t total = cfg->train.total_steps;
    if (resume) {
        note(&T, "train: resuming %s at step %lld of %lld", run_dir, (long long)T.step, (long long)total);
        if (T.support_warning[0]) /* this process's log has not said it yet */
            note(&T, "train: warning: %s", T.support_warning);
    } else {
        note(&T, "train: %s on %s, seed %lld, %lld steps -> %s", T.ag->ops->name, env_name(T.en),
             (long long)cfg->seed, (long long)total, run_dir);
    }
    if (flush_files(&T, "running", e))
        goto out;

    int stopped = 0, solved = 0;
    while (T.step < total) {
        if (stop_requested(&T, opt)) {
            stopped = 1;
            break;
        }
        int a, flushed = 0;
        env_step st;
        if (act(&T, &a, e) || store(&T, a, &st, e))
            goto out;
        if (train_is_update_step(cfg, T.step) && learn(&T, e))
            goto out;
        if (train_is_target_step(cfg, T.step))
            sync_target(&T);
        if (st.terminated || st.truncated)
            end_episode(&T);
        if (evaluate_if_due(&T, &solved, &flushed, e))
            goto out;
        if (solved)
            break;
        if (checkpoint_if_due(&T, &flushed, e) || keep_fresh(&T, flushed, e))
            goto out;
    }

    /* The files, then the checkpoint, as at every checkpoint: a resume
     * rebuilds the CSVs from the checkpoint, so a death between the two
     * loses nothing the checkpoint has. */
    if (flush_files(&T, stopped ? "interrupted" : solved ? "solved" : "finished", e))
        goto out;
    if ((stopped || solved) && T.last_ckpt != T.step && write_checkpoint(&T, e))
        goto out;
    progress(&T, 1);
    if (T.log && T.tty)
        fputc('\n', T.log);
    fill_result(&T, stopped, solved, res);
    rc = 0;
out:
    fatal_disarm();
    if (rc && T.t_start > 0) {
        fail_files(&T, e->msg);
        if (T.log && T.tty)
            fputc('\n', T.log);
    }
    trainer_free(&T);
    free(run_cfg);
    return rc;
}
