/* evaluate.h — greedy evaluation of an agent: the trainer's periodic
 * evaluation and `bdrl eval` use the same function, so both report the same
 * numbers for the same agent and seed.
 *
 * Episode i (0-based) of an evaluation with seed S is reset with
 * eval_episode_seed(S, i), so an evaluation is a fixed set of episodes:
 * two agents (or two checkpoints) evaluated with the same seed face the same
 * initial states and, on FrozenLake, the same slips. Up to EVAL_MAX_ROWS
 * episodes run side by side, each in its own environment, and their
 * observations go through the agent's q_values as one batch (actions are
 * the argmax, ties to the lowest index). With cfg->eval.epsilon > 0 each
 * step first draws u from the episode's own stream (seeded by its reset
 * seed, stream RNG_STREAM_EVAL_EPS) and takes a uniformly random action
 * instead when u < ε (Dopamine's evaluation protocol: ε = 0.001 on Atari
 * and MinAtar); at ε = 0 nothing is drawn. The result is deterministic for
 * a given agent, seed, ε and episode count, however the episodes are
 * batched.
 *
 * Success (success_rate):
 *   FrozenLake: the episode entered the goal, i.e. it terminated in a cell
 *               marked G (whatever the rewards are set to);
 *   CartPole:   the episode reached the time limit without the pole falling
 *               (truncated and not terminated);
 *   Acrobot, MountainCar: the episode reached the goal (terminated).
 * (env_step_success decides.)
 */
#ifndef BDRL_EVALUATE_H
#define BDRL_EVALUATE_H

#include <stdint.h>

#include "agents/agent.h"
#include "agents/experiment.h"
#include "core/err.h"

/* eval_greedy never passes more than EVAL_MAX_ROWS (agent.h) rows to q_values. */

typedef struct {
    int episodes;
    double return_mean;
    double return_std;          /* population standard deviation (numpy's default, ddof 0) */
    double ci_lo, ci_hi;        /* 95% percentile-bootstrap interval of the mean (2000 resamples) */
    double success_rate;        /* see above */
    double length_mean;         /* steps per episode */
} eval_result;

/* Runs `episodes` greedy (cfg->eval.epsilon: ε-greedy) episodes of the
 * agent on a fresh environment built from cfg->env, with episode seeds
 * derived from `seed`. */
int eval_greedy(const exp_config *cfg, agent *a, int episodes, uint64_t seed, eval_result *out, bdrl_err *e);

/* The reset seed of episode k of a stream of episodes with base seed
 * `seed`. Training episodes use the run's seed; the trainer's evaluations
 * use train_eval_seed (train.h). */
uint64_t eval_episode_seed(uint64_t seed, int64_t k);

#endif
