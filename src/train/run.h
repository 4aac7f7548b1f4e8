/* run.h — a training run's directory, as `bdrl train` writes it and
 * `bdrl eval`, `bdrl dist`, `bdrl sample`, `bdrl truth --policy RUN` read it.
 *
 *   config.yaml      the resolved configuration (exp_schema)
 *   metrics.csv      one row per episode: step,episode,return,length,epsilon,
 *                    loss,loss_grad,q_mean,sps
 *   eval.csv         step,return_mean,return_std,success_rate
 *   summary.json     agent, env, seed, total_steps, wall_seconds, sps,
 *                    final_eval_return, best_eval_return, threshold,
 *                    steps_to_threshold (null if never), final_success_rate
 *   checkpoint.bin   the agent and the trainer's state (see train.c)
 * Every file is written atomically (io_atomic).
 */
#ifndef BDRL_RUN_H
#define BDRL_RUN_H

#include "agents/agent.h"
#include "agents/experiment.h"
#include "core/err.h"
#include "envs/env.h"

/* Loads DIR/config.yaml into cfg, creates the environment and the agent and
 * restores the agent's networks from DIR/checkpoint.bin. The caller frees
 * both. Errors name the file and what is wrong with it. */
int run_load(const char *dir, exp_config *cfg, env **en, agent **a, bdrl_err *e);

#endif
