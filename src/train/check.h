/* check.h — a configuration checked whole: everything `bdrl train` refuses
 * at setup, before a step is taken, so `bdrl config`, `bdrl sweep` and
 * `bdrl compare` can refuse the same configurations with the same one-line
 * message before they start or submit anything.
 *
 * Checked (beyond what exp_load already checks key by key):
 *   - the environment can be built (FrozenLake maps: one S, a G, known map
 *     names; random-map sizes ...);
 *   - FrozenLake: some G can be reached from S (else every return is 0);
 *   - a time limit: CliffWalking has none by default (Gymnasium's), and a
 *     greedy evaluation episode that never reaches the goal would not end;
 *   - the memory estimate is within the limit (limits.h);
 *   - agent.mode evaluate: FrozenLake, and value iteration finds a policy;
 *   - the agent can be built (agent.gamma, v_min/v_max, atoms, layer counts).
 * The trainer's setup calls exp_check_env on its own environment, so the two
 * cannot drift apart.
 */
#ifndef BDRL_CHECK_H
#define BDRL_CHECK_H

#include "agents/experiment.h"
#include "core/err.h"
#include "envs/env.h"

/* The checks that need the environment (reachability, memory, evaluate
 * mode), on en built from cfg->env. 0 or -1 with the message. */
int exp_check_env(const exp_config *cfg, const env *en, bdrl_err *e);

/* Builds the environment and the agent of cfg and frees them: 0 if
 * `bdrl train` would get past its setup with cfg, else -1 with the message
 * train would print. */
int exp_check(const exp_config *cfg, bdrl_err *e);

/* A warning about cfg that is no reason to refuse it, into warn (n bytes;
 * "" when there is none); -1 with a message only when the environment
 * cannot be built. For an agent whose laws live on [agent.v_min,
 * agent.v_max] (agent_kind_uses_support) on an environment with a
 * transition table: the support does not cover the exact range of returns
 * (truth_tab_return_range), so the laws outside it cannot be learned (the
 * example chain on the default [0, 1]: W1 0.27, silently). */
int exp_check_warning(const exp_config *cfg, char *warn, size_t n, bdrl_err *e);

#endif
