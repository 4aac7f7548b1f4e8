/* bad_plugin.c — environment plugins that break bdrl/env_plugin.h, one way
 * each, for tests/test_plugin.c. Compiled once per BAD_* macro (the
 * Makefile's $(BUILD)/plugins/bad_*.so); without one it is a valid
 * two-state, two-action tabular plugin (the control case). */
#include <bdrl/env_plugin.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int s, steps;
} bad;

int bdrl_env_plugin_version(void)
{
#ifdef BAD_VERSION
    return BDRL_ENV_PLUGIN_VERSION + 98;
#else
    return BDRL_ENV_PLUGIN_VERSION;
#endif
}

void *bdrl_env_create(const bdrl_env_host *host, bdrl_env_spec *spec, char *err, size_t err_size)
{
    for (int i = 0; i < host->n_params; i++) {
        snprintf(err, err_size, "bad: unknown param '%s'", host->params[i].key);
        return NULL;
    }
    spec->obs_dim = 1;
#ifdef BAD_ACTIONS
    spec->n_actions = 0;
#else
    spec->n_actions = 2;
#endif
    spec->n_states = 3;
    spec->max_outcomes = 1;
    spec->max_episode_steps = 10;
    return calloc(1, sizeof(bad));
}

void bdrl_env_destroy(void *env) { free(env); }

void bdrl_env_reset(void *env, float *obs)
{
    bad *b = env;
    b->s = 0;
    b->steps = 0;
    obs[0] = 0;
}

#ifndef BAD_NO_STEP
void bdrl_env_step(void *env, int action, float *obs, double *reward, int *terminated)
{
    bad *b = env;
    b->steps++;
#ifdef BAD_CRASH
    if (b->steps == 2)
        *(volatile int *)(uintptr_t)action = 1; /* a NULL write for action 0 */
#endif
    b->s = action ? 2 : 1;
    obs[0] = (float)b->s;
#ifdef BAD_NAN_OBS
    if (b->steps == 2)
        obs[0] = NAN;
#endif
#ifdef BAD_OBS_RANGE
    if (b->steps == 2)
        obs[0] = 7;
#endif
    *reward = action;
    *terminated = b->s == 2;
}
#endif

int bdrl_env_transitions(void *env, int s, int a, bdrl_env_outcome *out)
{
    (void)env;
    if (s == 2) {
        out[0] = (bdrl_env_outcome){1.0, 2, 0.0, 1};
        return 1;
    }
#ifdef BAD_TABLE
    out[0] = (bdrl_env_outcome){0.9, a ? 2 : 1, (double)a, a};
#else
    out[0] = (bdrl_env_outcome){1.0, a ? 2 : 1, (double)a, a};
#endif
    return 1;
}
