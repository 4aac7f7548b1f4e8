/* trainer.h — the state of one training run, inside src/train only:
 * shared by the loop (train.c: the schedule, the steps of one training step,
 * train_run), the run's files (train_files.c: the CSVs in memory,
 * summary.json, writing them) and the trainer's section of a checkpoint
 * (train_state.c: writing it, and reading it back on resume). train.h is
 * the public interface.
 */
#ifndef BDRL_TRAINER_H
#define BDRL_TRAINER_H

#include <stdint.h>
#include <stdio.h>

#include "agents/agent.h"
#include "agents/experiment.h"
#include "train/replay.h"
#include "core/err.h"
#include "core/rng.h"
#include "envs/env.h"

/* A growing text buffer (the CSVs live in memory between flushes); bad
 * after a failed allocation, when it stops growing. */
typedef struct {
    char *p;
    size_t n, cap;
    int bad;
} sbuf;

/* One greedy evaluation: eval.csv's row and the confidence interval
 * summary.json reports for the last. */
typedef struct {
    int64_t step;
    double mean, std, success, ci_lo, ci_hi;
} eval_row;

/* Everything one training run holds while it trains. */
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
    rng *noise;            /* agent.noisy: the weight noise (RNG_STREAM_NOISE); NULL otherwise */
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
    int ep_carry;          /* env_carry at the episode's start (a resume sets it again) */
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
    char cpu[256];             /* this machine's CPU, read once for summary.json (core/provenance.h) */
    double last_flush, last_draw;
    int64_t last_ckpt;     /* step of the last checkpoint written (-1: none) */
    double (*clock)(void); /* the wall-time checkpoint rule's clock */
    double last_ckpt_time; /* its reading at the last checkpoint (or the start) */
    const char *fail_status; /* summary status if the run fails after starting */
} trainer;

/* ---- train_files.c: the run's files ---- */

/* Seconds on the monotonic clock. */
double trainer_now(void);

void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_free(sbuf *b);
/* A number for a CSV cell: "nan" for any NaN (printf may write "-nan"). */
void sbuf_num(sbuf *b, double x, const char *fmt);

/* Wall seconds of the whole run (earlier segments and this one). */
double trainer_wall_total(const trainer *T);
/* 1 if the threshold applies to the mean greedy return (every non-tabular
 * environment), 0 if to the success rate (FrozenLake). */
int trainer_on_return(const trainer *T);
/* The evaluation's figure the threshold applies to. */
double trainer_eval_metric(const trainer *T, const eval_row *r);
/* The step of the first evaluation at the threshold, or NaN. */
double trainer_steps_to_threshold(const trainer *T);

/* One row of eval.csv (RUN_EVAL_HEADER), as an evaluation writes it and a
 * resume rewrites it from the checkpoint's history. */
void trainer_eval_csv_row(sbuf *b, const eval_row *r);
/* metrics.csv's header and its rows up to step from the file at path, for
 * a checkpoint that does not hold metrics.csv (older ones). */
int trainer_load_csv_upto(sbuf *b, const char *path, const char *header, int64_t step, bdrl_err *e);

/* metrics.csv, eval.csv and summary.json (with status) written whole, and
 * the fatal hook armed with the summary a failure would leave. */
int trainer_flush_files(trainer *T, const char *status, bdrl_err *e);
/* The files of a run that ends in error: the CSVs if they can be written,
 * summary.json with T->fail_status and reason in any case. */
void trainer_fail_files(trainer *T, const char *reason);
/* Removes temporaries (NAME.tmp.XXXXXX) that a killed writer left in dir. */
void trainer_remove_stale_temporaries(const char *dir);

/* ---- train_state.c: the trainer's section of a checkpoint ---- */

/* DIR/checkpoint.bin from the agent, the replay and the trainer's state. */
int trainer_write_checkpoint(trainer *T, bdrl_err *e);
/* The agent, the replay and the trainer's state from the checkpoint at
 * path, every field checked; the current episode replayed to its
 * observation. */
int trainer_read_checkpoint(trainer *T, const char *path, bdrl_err *e);
/* Room for one more action of the current episode. */
int trainer_grow_actions(trainer *T, bdrl_err *e);
/* Appends an evaluation to the history. */
int trainer_push_eval(trainer *T, const eval_row *r, bdrl_err *e);

#endif
