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
 * Rainbow's network components apply to every network built here
 * (torso_components): agent.noisy makes every dense layer of the torso and
 * the head a noisy layer (the conv front stays plain), and agent.dueling
 * turns a head's output layer into value and advantage streams, one group
 * of N outputs per action.
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

/* agent.noisy and agent.dueling on a network spec of an agent: every dense
 * layer noisy with σ0 = agent.noisy_sigma0 (agent.noisy); with n_actions > 0
 * (a head whose output is n_actions groups of N = sizes[L]/n_actions: an
 * action's atoms, quantiles or coefficients, N = 1 for a Q-value) its
 * output layer as agent.dueling's value and advantage streams. Nothing
 * changes when both keys are false. */
void torso_components(const exp_config *cfg, int n_actions, mlp_spec *spec);

/* "; dueling; noisy σ0=0.5" (the parts that are on) for an agent's
 * describe line, or "" when both are off. */
const char *torso_components_desc(const exp_config *cfg, char *buf, size_t n);

#endif
