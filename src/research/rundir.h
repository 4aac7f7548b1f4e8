/* rundir.h — reading what `bdrl train` left in a run directory (run.h):
 * summary.json's flat fields, and whether the run is finished. Also a tiny
 * reader of top-level numbers and strings in a flat JSON object (bdrl writes
 * its own JSON; no general parser is needed).
 */
#ifndef BDRL_RUNDIR_H
#define BDRL_RUNDIR_H

#include <stdint.h>

#include <stddef.h>

#include "agents/experiment.h"
#include "train/run.h"
#include "core/err.h"

typedef struct {
    char status[32];          /* running, interrupted, finished, solved, failed, diverged ("" if absent);
                                 summary.json's error says why a run failed or diverged */
    char agent[32], env[32];
    char threshold_on[32];    /* return_mean (CartPole) or success_rate */
    int64_t seed, total_steps, configured_steps;
    double wall_seconds, sps, final_eval_return, best_eval_return, threshold, steps_to_threshold,
        final_success_rate;  /* NaN where null or absent */
} rundir_summary;

/* Reads DIR/summary.json. Errors: missing or unreadable file. */
int rundir_read_summary(const char *dir, rundir_summary *s, bdrl_err *e);

/* 1 if s is a run that ended as configured: status finished after
 * total_steps steps (total_steps < 0: any), or solved (eval.stop_at_threshold
 * ended it early at its threshold). */
int rundir_done(const rundir_summary *s, int64_t total_steps);

/* rundir_done of DIR/summary.json (0 if unreadable). */
int rundir_complete(const char *dir, int64_t total_steps);

/* The value of "key" at any depth's first occurrence in js (flat objects):
 * 1 and *out (NaN for null), or 0 if absent / not a number. */
int rundir_json_num(const char *js, const char *key, double *out);
/* A string value, copied into buf (n); 1 if found, 0 otherwise. */
int rundir_json_str(const char *js, const char *key, char *buf, size_t n);

/* What a driver (compare, sweep) should do with a run directory that must
 * end up holding a finished run of cfg:
 *   RUNDIR_DONE    finished (rundir_done with cfg's total steps, or
 *                  diverged: a final outcome, not rerun);
 *   RUNDIR_RESUME  partial with a checkpoint: `bdrl train --resume DIR`;
 *   RUNDIR_FRESH   missing, empty, or partial without a checkpoint (its
 *                  files are removed here): `bdrl train ... --out DIR`.
 * A config.yaml that differs from cfg (any key but output.dir) is an error
 * naming the key: the directory belongs to another experiment; so is a
 * directory whose lock another process holds (it is being trained). */
typedef enum { RUNDIR_DONE = 0, RUNDIR_RESUME = 1, RUNDIR_FRESH = 2 } rundir_action;

int rundir_plan(const char *dir, const exp_config *cfg, rundir_action *act, bdrl_err *e);

/* 0 if DIR/config.yaml resolves to cfg on every key but output.dir, 1 if it
 * differs (key, and both values, described in why), -1 if unreadable.
 * train.eps_decay_steps is compared as each resolves it (the run records
 * it when it starts; cfg may leave it to eps_fraction). */
int rundir_config_differs(const char *dir, const exp_config *cfg, char *why, size_t n);

/* Removes the files of a run directory (and any subdirectories), keeping
 * the directory itself and its lock file. */
int rundir_clear(const char *dir, bdrl_err *e);

/* A lock per run directory: DIR/.lock, held with flock(2) by the process
 * that trains the run, so two processes never train one run. The file holds
 * "PID HOST" of the holder for the message; the kernel releases the lock
 * when the holder dies (SIGKILL included), so a stale file never blocks.
 * The file is never removed (removing it would let a third process lock a
 * new file while the second still holds the old one) and does not count as
 * content (rundir_plan, rundir_clear, bdrl train's empty check). Its name
 * is run.h's RUN_FILE_LOCK. */

/* Takes the lock of dir (which must exist): *fd receives the open lock
 * file (kept open, close-on-exec, for as long as the lock is needed). If
 * another process holds it: -1, *busy = 1 and "DIR is being trained by pid
 * P on host H"; other failures: -1, *busy = 0. */
int rundir_lock(const char *dir, int *fd, int *busy, bdrl_err *e);
/* The same lock on a driver's output directory (bdrl compare, bdrl sweep:
 * OUT/.lock), so two drivers started on one --out never run at once and
 * mark each other's runs failed: the second gets "OUT is in use (...) by
 * pid P on host H". Array tasks of --slurm (--only) do not take it: they
 * share OUT by design, each run under its own lock. */
int rundir_lock_output(const char *dir, int *fd, int *busy, bdrl_err *e);
void rundir_unlock(int fd);

/* 1 if another process holds dir's lock (who: "pid P on host H"), else 0. */
int rundir_locked(const char *dir, char *who, size_t n);

/* What a run directory says about its run right now (--status):
 * finished or diverged by its summary.json (finished: rundir_done with
 * total_steps), running when another process holds its lock or the batch
 * system says so (queue 'R'), failed when summary.json says failed and no
 * queued task will retry it (queue not 'P'), pending otherwise (not started,
 * queued, or interrupted with a checkpoint). queue: 'R', 'P' or 0. su (may
 * be NULL) receives summary.json (status "" if absent). */
enum { RUNDIR_PENDING = 0, RUNDIR_RUNNING, RUNDIR_FINISHED, RUNDIR_DIVERGED, RUNDIR_FAILED, RUNDIR_N_STATES };
extern const char *const rundir_state_names[RUNDIR_N_STATES];
int rundir_state(const char *dir, int64_t total_steps, char queue, rundir_summary *su);

/* 1 if name is the lock file (not run content). */
int rundir_is_lock_file(const char *name);

#endif
