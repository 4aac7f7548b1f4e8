/* torso.h — the state torso every agent shares, so that a comparison of
 * agents differs only in the distribution head (DESIGN §1.5).
 *
 * Observations are encoded the same way for every agent: FrozenLake's state
 * index becomes a one-hot vector of n_states; CartPole's four floats pass
 * through. The torso is an MLP [encoded obs] -> hidden widths (agent.hidden,
 * agent.activation) whose last hidden layer is the state embedding; heads
 * attach after it (C51: a linear layer to n_actions x atoms, as in CleanRL's
 * c51.py; BD: the light head on [embedding, features(u)]).
 */
#ifndef BDRL_TORSO_H
#define BDRL_TORSO_H

#include "agents/experiment.h"
#include "envs/env.h"
#include "fields/mlp.h"

typedef struct {
    int obs_dim;    /* what the env returns */
    int in_dim;     /* encoded width: n_states (one-hot) or obs_dim */
    int one_hot;    /* 1 for FrozenLake */
} torso_encoding;

torso_encoding torso_encoding_for(const env *en);

/* out (B, in_dim) from obs (B, obs_dim). An index outside [0, n_states)
 * gives an all-zero row (never read out of bounds). */
void torso_encode(const torso_encoding *te, int B, const float *obs, real *out);

/* Spec of [in_dim] -> agent.hidden... -> n_out (n_out = 0: the torso alone,
 * its last hidden layer as output, with the hidden activation applied). */
int torso_spec(const exp_config *cfg, const torso_encoding *te, int n_out, mlp_spec *spec, bdrl_err *e);

#endif
