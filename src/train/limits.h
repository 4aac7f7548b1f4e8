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
 * The limit is core/memlimit.h's (BDRL_MAX_MEMORY, else the physical
 * memory). A configuration above it is refused with the estimate, its
 * largest part and the key to change. Allocations below the limit can still
 * fail (other processes, ulimit -v); those failures are reported as "out of
 * memory" errors. The agents' own parts come from their registry entries,
 * built from agents/sizing.h.
 */
#ifndef BDRL_LIMITS_H
#define BDRL_LIMITS_H

#include <stdint.h>

#include "agents/experiment.h"
#include "agents/sizing.h"
#include "core/err.h"
#include "envs/env.h"

/* The estimate for a training run of cfg on en: the replay and checkpoint
 * here, the networks and scratch from the agent's registry entry. */
void limits_estimate_experiment(const exp_config *cfg, const env *en, sizing_estimate *out);

/* 0 if the estimate is within the limit; else -1 with a message such as
 * "the configuration needs about 41.0 GiB (replay buffer 40.2 GiB), more than
 * the limit of 23.4 GiB (physical memory; set BDRL_MAX_MEMORY to change it):
 * lower train.buffer_size". */
int limits_check_experiment(const exp_config *cfg, const env *en, bdrl_err *e);

#endif
