/* sizing.h — the pieces an agent's memory estimate is built from (its
 * registry entry's `memory` function): the estimate's parts, the shared
 * torso's layer sizes and parameter counts (a network's bytes with its
 * caches: mlp_memory_bytes, fields/mlp.h).
 * The whole run's estimate and the limit it is checked against are the
 * trainer's (train/limits.h, core/memlimit.h).
 */
#ifndef BDRL_SIZING_H
#define BDRL_SIZING_H

#include "agents/experiment.h"
#include "agents/torso.h"

typedef struct {
    double replay;    /* the replay buffer */
    double networks;  /* parameters, gradients, optimizer moments, targets, caches */
    double scratch;   /* the agent's other work arrays */
    double checkpoint;/* the in-memory copy a checkpoint is written from */
    double total;
} sizing_estimate;

/* The shared torso's dense layer sizes: sizes[0] = te->in_dim (or the
 * width of agent.conv's flattened output), then agent.hidden; returns the
 * number of layers so far (agent.hidden.n). sizes needs EXP_MAX_HIDDEN + 2
 * entries (one more for the caller's head). */
int sizing_torso_sizes(const exp_config *cfg, const torso_encoding *te, int *sizes);
/* Parameters (weights and biases) of layers sizes[0..n_layers]. */
double sizing_layers_params(int n_layers, const int *sizes);
/* The same for a network of the torso's layers sizes[0..n_layers] (a head
 * included or not) behind agent.conv's front, with agent.noisy's layers:
 * its parameters, and its bytes for batches of `rows` rows
 * (mlp_spec_memory_bytes: the front's im2col buffers, σ and the noise
 * included). */
double sizing_torso_params(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes);
double sizing_torso_bytes(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes,
                          double rows);
/* The same for a network whose last layer is a head of n_actions groups
 * (sizes[n_layers] = n_actions·N), agent.dueling's value rows included
 * (torso_components). */
double sizing_head_params(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes,
                          int n_actions);
double sizing_head_bytes(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes,
                         int n_actions, double rows);

#endif
