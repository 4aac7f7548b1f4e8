/* train.h — the training loop every agent shares (replay, ε-greedy
 * exploration, target updates, periodic evaluation, run directory,
 * checkpoints and resume), so a BD-versus-C51 comparison differs only in the
 * distribution model.
 *
 * Schedule. t counts environment steps taken (1-based: "after step t"):
 *   - the action of step t is ε-greedy with ε = train_epsilon(cfg, t - 1):
 *     eps_start + (eps_end - eps_start)·(t-1)/D, floored at eps_end
 *     (CleanRL's linear_schedule), D = exp_eps_decay_steps(cfg):
 *     train.eps_decay_steps, by default eps_fraction·total_steps, recorded
 *     in config.yaml when the run starts (a resume passes the recorded D, so
 *     a larger total_steps does not stretch the decay); agent.mode evaluate
 *     behaves uniformly at random instead (ε = 1) and bootstraps from
 *     a' = π*(s'), the optimal policy of the transition table (truth_env_optimal_policy);
 *   - after step t: one update if t > learning_starts and t % train_frequency
 *     == 0; then a target update (target <- (1-tau) target + tau online) if
 *     t > learning_starts and t % target_update == 0; then, if the episode
 *     ended, its metrics row and a reset; then a greedy evaluation if
 *     t % eval.interval == 0 or t == total_steps; then a checkpoint if
 *     checkpoint_interval > 0 and t % checkpoint_interval == 0, or
 *     t == total_steps, or checkpoint_seconds > 0 and at least that much
 *     wall time has passed since the last checkpoint (or the start of this
 *     process), so a SIGKILL loses at most that much work. A checkpoint
 *     changes no state: where it falls does not change the run.
 * Episode k (0-based) of training is reset with eval_episode_seed(seed, k);
 * evaluations use eval_greedy with seed train_eval_seed(cfg), the same
 * episodes every time, in their own environments.
 * Random streams: exploration RNG_STREAM_EXPLORE, minibatches
 * RNG_STREAM_REPLAY, network initialization RNG_STREAM_INIT.
 *
 * Run directory: see run.h. CSVs are kept in memory and rewritten whole
 * (io_atomic) at every evaluation, every checkpoint, every 30 s, and at the
 * end, so a kill at any moment leaves complete files. The checkpoint holds
 * both (the evaluation history and metrics.csv's text), and a resume
 * rebuilds them from it: the files always agree with the checkpoint, and a
 * damaged or deleted one is never carried forward.
 *
 * Checkpoint (checkpoint.bin): the container, its header and its checks are
 * checkpoint.h's; the trainer writes its own state (generators, counters,
 * the current episode's actions, the evaluation history, metrics.csv, the
 * support warning; train_state.c) into the trainer section.
 *
 * Numerical guard. After every update the trainer checks the loss, the
 * gradient-field loss and the gradient norm the agent reports, and every
 * parameter of its online networks (agent_params_nonfinite). With
 * train.nonfinite stop (the default) a non-finite one ends the run with an
 * error naming the step, the update and the quantity; nothing is written
 * after it, so the last checkpoint stays intact. With skip the agent is
 * saved in memory before each update and restored after a bad one, which is
 * counted (summary.json skipped_updates); TRAIN_MAX_SKIPS_IN_A_ROW bad
 * updates in a row still end the run.
 *
 * Resume rebuilds the current episode by resetting with its seed and
 * replaying its actions (the environment is deterministic given both), and
 * checks that the observation matches. A resumed run is bit-identical to an
 * uninterrupted one (same config) as long as the agent is deterministic
 * given its saved state.
 */
#ifndef BDRL_TRAIN_H
#define BDRL_TRAIN_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "agents/agent.h"
#include "agents/experiment.h"
#include "train/replay.h"
#include "core/err.h"
#include "envs/env.h"

typedef struct {
    FILE *log;                       /* progress and notes; NULL: quiet */
    volatile sig_atomic_t *stop;     /* non-zero (a signal handler sets it): stop cleanly; may be NULL */
    int64_t stop_after;              /* > 0: stop as if interrupted once this many steps are done (tests) */
    int resume;                      /* continue from run_dir/checkpoint.bin */
    /* NULL: agent_create. Tests substitute an agent (e.g. one that fails on
     * purpose) through this. */
    agent *(*make_agent)(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);
    /* NULL: the monotonic clock, in seconds. The wall-time checkpoint rule
     * (train.checkpoint_seconds) reads it once per step; tests substitute a
     * clock to put that checkpoint at a chosen step. */
    double (*clock)(void);
} train_options;

typedef struct {
    int64_t start_step;          /* steps already taken when this call began (resume) */
    int64_t steps;               /* environment steps taken in total */
    int64_t episodes;
    int stopped;                 /* stopped before total_steps (signal or stop_after) */
    int solved;                  /* ended at the threshold (eval.stop_at_threshold) */
    double final_eval_return;    /* NaN if no evaluation */
    double final_success_rate;
    double steps_to_threshold;   /* NaN if never reached */
    double wall_seconds;
    int64_t skipped_updates;     /* non-finite updates undone (train.nonfinite skip) */
    int setup_failed;            /* the error came before the first step: the configuration,
                                    the agent or the checkpoint (bad input, not a failed run) */
} train_result;

/* Trains the agent of cfg in run_dir (created if missing), writing the files
 * of run.h. With opt->resume, continues from run_dir/checkpoint.bin (the
 * caller checked the config against run_dir/config.yaml and passes its
 * recorded train.eps_decay_steps). Returns 0 when
 * finished or stopped (res->stopped), -1 on error (a non-finite loss or
 * gradient norm included: the files are flushed, the last checkpoint is left
 * as it was). */
int train_run(const exp_config *cfg, const char *run_dir, const train_options *opt, train_result *res,
              bdrl_err *e);

/* ---- the schedule, for the trainer and its tests ---- */

/* ε for the action chosen when `t` steps have been taken (t >= 0). */
double train_epsilon(const exp_config *cfg, int64_t t);
/* After step t (>= 1): 1 if an update / a target update / an evaluation /
 * a checkpoint happens. */
int train_is_update_step(const exp_config *cfg, int64_t t);
int train_is_target_step(const exp_config *cfg, int64_t t);
int train_is_eval_step(const exp_config *cfg, int64_t t);
int train_is_checkpoint_step(const exp_config *cfg, int64_t t);
/* Seed of the trainer's evaluations. */
uint64_t train_eval_seed(const exp_config *cfg);

/* Reads a whole checkpoint as a resume would (agent, replay, generators,
 * trainer state, the current episode replayed) into scratch objects built
 * from cfg, and frees them: 0 if `bdrl train --resume` would accept it.
 * *step (may be NULL) receives its step. */
int train_verify_checkpoint(const exp_config *cfg, const char *path, int64_t *step, bdrl_err *e);

#define TRAIN_MAX_SKIPS_IN_A_ROW 100

#endif
