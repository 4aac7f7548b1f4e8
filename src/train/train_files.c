/* train_files.c — a training run's files as the trainer writes them (run.h
 * names them): the CSVs held in memory, summary.json, writing them whole,
 * the fatal hook's armed summary, and what a failed run leaves. */
#include "train/trainer.h"

#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train/fatal.h"
#include "train/run.h"
#include "core/io.h"
#include "core/json.h"
#include "core/provenance.h"

double trainer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
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

void sbuf_free(sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* A number for a CSV cell: "nan" for any NaN (printf may write "-nan"). */
void sbuf_num(sbuf *b, double x, const char *fmt)
{
    if (isnan(x))
        sbuf_printf(b, "nan");
    else
        sbuf_printf(b, fmt, x);
}

/* Keeps the header and the rows whose first field (a step) is <= step:
 * metrics.csv on resuming a checkpoint that does not hold it (older ones). */
int trainer_load_csv_upto(sbuf *b, const char *path, const char *header, int64_t step, bdrl_err *e)
{
    sbuf_printf(b, "%s\n", header);
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
            sbuf_printf(b, "%.*s\n", (int)(end - line), line);
        line = end + 1;
    }
    free(text);
    return b->bad ? err_set(e, "out of memory reading %s", path) : 0;
}

double trainer_wall_total(const trainer *T) { return T->wall_prev + (trainer_now() - T->t_start); }

/* Whether the threshold applies to the mean greedy return (every
 * non-tabular environment) rather than the success rate (FrozenLake). */
int trainer_on_return(const trainer *T) { return !env_kind_describe(env_get_kind(T->en))->threshold_on_success; }

double trainer_eval_metric(const trainer *T, const eval_row *r)
{
    return trainer_on_return(T) ? r->mean : r->success;
}

double trainer_steps_to_threshold(const trainer *T)
{
    if (T->n_ev == 0)
        return NAN;
    double thr = exp_threshold(T->cfg);
    for (int64_t i = 0; i < T->n_ev; i++)
        if (trainer_eval_metric(T, &T->ev[i]) >= thr)
            return (double)T->ev[i].step;
    return NAN;
}

/* summary.json's text into f: status, and for a failed or diverged run the
 * reason (error; NULL: none). */
static void render_summary(const trainer *T, FILE *f, const char *status, const char *reason)
{
    const exp_config *c = T->cfg;
    double best = NAN, wall = trainer_wall_total(T);
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
    json_kv_num(&w, "steps_to_threshold", trainer_steps_to_threshold(T));
    json_kv_num(&w, "final_success_rate", last ? last->success : NAN);
    /* beyond run.h's list */
    json_kv_str(&w, "status", status);
    if (reason)
        json_kv_str(&w, "error", reason);
    json_kv_str(&w, "threshold_on", trainer_on_return(T) ? "return_mean" : "success_rate");
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
    /* the build and machine of the process writing this (a resumed run's
     * last): one seed repeats bit for bit only on the same ones (I34) */
    json_key(&w, "machine");
    json_object_begin(&w);
    json_kv_str(&w, "bdrl", provenance_version());
    json_kv_str(&w, "cpu", T->cpu);
    json_kv_str(&w, "blas_core", provenance_blas_core());
    json_kv_str(&w, "blas", provenance_blas_config());
    json_object_end(&w);
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

int trainer_flush_files(trainer *T, const char *status, bdrl_err *e)
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
    T->last_flush = trainer_now();
    return 0;
}

/* The files of a run that ends in error, as far as it got (rows past the
 * last checkpoint are dropped again on resume): the CSVs if they can be
 * written, summary.json with status and reason in any case. */
void trainer_fail_files(trainer *T, const char *reason)
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

/* One row of eval.csv (RUN_EVAL_HEADER), as an evaluation writes it and
 * a resume rewrites it from the checkpoint's history. */
void trainer_eval_csv_row(sbuf *b, const eval_row *r)
{
    sbuf_printf(b, "%lld,%.10g,%.10g,%.10g\n", (long long)r->step, r->mean, r->std, r->success);
}

/* Removes temporaries (NAME.tmp.XXXXXX) that a killed writer left behind. */
void trainer_remove_stale_temporaries(const char *dir)
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
