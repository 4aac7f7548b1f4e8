/* random_score.h — what the uniformly random policy scores on an
 * environment: the 0 of a normalized score (stats/aggregate.h), measured by
 * playing it rather than copied from a table, so it holds for whatever the
 * config sets (time limits, FrozenLake maps, rewards, plugins).
 *
 * Episode k is reset with eval_episode_seed(seed, k) (train/evaluate.h, the
 * evaluations' own episode seeds) and its actions are uniform over the
 * environment's actions, drawn from stream RNG_STREAM_EXPLORE of seed; an
 * episode ends at termination or at the time limit. Deterministic for a
 * given config, episode count and seed.
 */
#ifndef BDRL_RANDOM_SCORE_H
#define BDRL_RANDOM_SCORE_H

#include <stdint.h>

#include "core/err.h"
#include "envs/env.h"

#define RANDOM_SCORE_EPISODES 10000
#define RANDOM_SCORE_SEED 1

typedef struct {
    int episodes;
    double return_mean;  /* undiscounted episode return, as evaluations report it */
    double success_rate; /* env_step_success of the episode's last step */
} random_score;

int random_score_measure(const env_config *c, int episodes, uint64_t seed, random_score *out, bdrl_err *e);

#endif
