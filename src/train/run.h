/* run.h — a training run's directory: every file `bdrl train` writes there,
 * named once here (other code uses these names, never the literals), and
 * opening a run for `bdrl eval`, `bdrl dist`, `bdrl sample` and
 * `bdrl truth --policy RUN`.
 *
 *   config.yaml      the resolved configuration (exp_schema), rewritten at
 *                    every start and resume; train.eps_decay_steps is
 *                    recorded in it when the run starts
 *   metrics.csv      one row per episode: RUN_METRICS_HEADER
 *   eval.csv         one row per greedy evaluation: RUN_EVAL_HEADER; on
 *                    resume both CSVs are rebuilt from the checkpoint, so
 *                    they always agree with it
 *   summary.json     agent, env, seed, total_steps, wall_seconds, sps,
 *                    final_eval_return, best_eval_return, threshold,
 *                    steps_to_threshold (null if never), final_success_rate;
 *                    status (running, interrupted, finished, solved, failed,
 *                    diverged) and, for failed and diverged, error (the
 *                    reason, one line; a plugin's fault that ends the
 *                    process too: train/fatal.h); support_warning when the
 *                    returns can leave [agent.v_min, agent.v_max] of an
 *                    agent with a support (train/support.h);
 *                    train_files.c writes it
 *   checkpoint.bin   the agent, the replay and the trainer's state
 *                    (checkpoint.h); opened only when it is a regular file
 *   .lock            the lock of the process training the run (research/
 *                    rundir.h: flock, "PID HOST"); never removed, not content
 *   NAME.tmp.XXXXXX  a temporary of an atomic write (core/io.h; the fatal
 *                    hook's is summary.json.tmp.failed); a killed writer
 *                    may leave one, which a resume removes
 * Every file but the lock is written atomically (io_atomic).
 */
#ifndef BDRL_RUN_H
#define BDRL_RUN_H

#include "agents/agent.h"
#include "agents/experiment.h"
#include "core/err.h"
#include "envs/env.h"

#define RUN_FILE_CONFIG "config.yaml"
#define RUN_FILE_METRICS "metrics.csv"
#define RUN_FILE_EVAL "eval.csv"
#define RUN_FILE_SUMMARY "summary.json"
#define RUN_FILE_CHECKPOINT "checkpoint.bin"
#define RUN_FILE_LOCK ".lock"

#define RUN_METRICS_HEADER "step,episode,return,length,epsilon,loss,loss_grad,q_mean,sps"
#define RUN_EVAL_HEADER "step,return_mean,return_std,success_rate"

/* Loads DIR/config.yaml into cfg, creates the environment and the agent and
 * restores the agent's networks from DIR/checkpoint.bin. The caller frees
 * both. Errors name the file and what is wrong with it. */
int run_load(const char *dir, exp_config *cfg, env **en, agent **a, bdrl_err *e);

#endif
