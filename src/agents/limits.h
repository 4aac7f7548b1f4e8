/* limits.h — refusing configurations that would need absurd memory, before
 * anything is allocated.
 *
 * The estimate counts what the big allocations of a run are made of: the
 * replay buffer (train.buffer_size transitions), every network with its
 * gradients, optimizer moments, target copy and the forward caches for the
 * largest batch it sees (train.batch_size; BD: batch_size x bd.queries head
 * rows and bd.grid grid points), the largest scratch arrays, and the copy of
 * the agent and the replay a checkpoint is assembled in. Small things
 * (environments, evaluation episodes) are left out; the estimate is meant to
 * be right within a factor of about 1.5, not to the byte.
 *
 * The limit is BDRL_MAX_MEMORY (bytes, or with a suffix K, M, G or T, powers
 * of 1024) if set, else the machine's physical memory. A configuration
 * above it is refused with the estimate, its largest part and the key to
 * change. Allocations below the limit can still fail (other processes,
 * ulimit -v); those failures are reported as "out of memory" errors.
 */
#ifndef BDRL_LIMITS_H
#define BDRL_LIMITS_H

#include <stdint.h>

#include "agents/experiment.h"
#include "core/err.h"
#include "envs/env.h"

typedef struct {
    double replay;    /* the replay buffer */
    double networks;  /* parameters, gradients, optimizer moments, targets, caches */
    double scratch;   /* the agent's other work arrays */
    double checkpoint;/* the in-memory copy a checkpoint is written from */
    double total;
} limits_estimate;

/* The limit in bytes; -1 with a message if BDRL_MAX_MEMORY is malformed. */
int limits_max_bytes(double *bytes, bd_err *e);

/* Bytes of one network of sizes[0..n_layers] for batches of max_batch rows:
 * parameters, gradients and forward/backward caches (mlp.h), not the
 * optimizer. */
double limits_mlp_bytes(int n_layers, const int *sizes, int max_batch);

/* The shared torso's layer sizes: sizes[0] = in_dim, then agent.hidden;
 * returns the number of layers so far (agent.hidden.n). sizes needs
 * EXP_MAX_HIDDEN + 2 entries (one more for the caller's head). */
int limits_torso_sizes(const exp_config *cfg, int in_dim, int *sizes);
/* Parameters (weights and biases) of layers sizes[0..n_layers]. */
double limits_layers_params(int n_layers, const int *sizes);

/* The estimate for a training run of cfg on en: the replay and checkpoint
 * here, the networks and scratch from the agent's registry entry. */
void limits_estimate_experiment(const exp_config *cfg, const env *en, limits_estimate *out);

/* 0 if the estimate is within the limit; else -1 with a message such as
 * "the configuration needs about 41.0 GiB (replay buffer 40.2 GiB), more than
 * the limit of 23.4 GiB (physical memory; set BDRL_MAX_MEMORY to change it):
 * lower train.buffer_size". */
int limits_check_experiment(const exp_config *cfg, const env *en, bd_err *e);

/* The same for any job whose estimate the caller computed: `what` names it
 * ("bdrl fit"), `largest` its biggest part, `hint` the keys to lower. */
int limits_check_bytes(const char *what, double bytes, const char *largest, double largest_bytes,
                       const char *hint, bd_err *e);

#endif
