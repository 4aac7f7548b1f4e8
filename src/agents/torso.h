/* torso.h — the state torso every agent shares, so that a comparison of
 * agents differs only in the distribution head (docs/design.md §1.5).
 *
 * Observations are encoded the same way for every agent: FrozenLake's state
 * index becomes a one-hot vector of n_states; CartPole's four floats pass
 * through. The torso is an MLP [encoded obs] -> hidden widths (agent.hidden,
 * agent.activation) whose last hidden layer is the state embedding; heads
 * attach after it (C51: a linear layer to n_actions x atoms, as in CleanRL's
 * c51.py; BD: the light head on [embedding, features(u)]).
 * Image observations (env_obs_shape) can go first through convolution
 * layers (agent.conv, agent.conv_kernel: the mlp's conv front, mlp.h),
 * whose flattened output feeds agent.hidden; MinAtar's network is
 * agent.conv [16], agent.hidden [128].
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
    int img_h, img_w, img_c; /* an image observation's shape (env_obs_shape); 0 otherwise */
} torso_encoding;

torso_encoding torso_encoding_for(const env *en);

/* out (B, in_dim) from obs (B, obs_dim). An index outside [0, n_states)
 * gives an all-zero row (never read out of bounds). */
void torso_encode(const torso_encoding *te, int B, const float *obs, real *out);

/* The conv front agent.conv builds on te's image (out->n = 0 without
 * agent.conv). Refuses agent.conv on an observation that is not an image,
 * and kernels that leave no output, naming the key. */
int torso_conv(const exp_config *cfg, const torso_encoding *te, mlp_conv *out, bdrl_err *e);

/* Spec of [in_dim] (or the conv front and its flattened output) ->
 * agent.hidden... -> n_out (n_out = 0: the torso alone, its last hidden
 * layer as output, with the hidden activation applied). */
int torso_spec(const exp_config *cfg, const torso_encoding *te, int n_out, mlp_spec *spec, bdrl_err *e);

#endif
