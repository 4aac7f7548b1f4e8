/* environment.c — include/bdrl/environment.h, libbdrl's public API, on top of
 * the experiment schema (the env.* settings) and the environment registry. */
#include <bdrl/environment.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/experiment.h"
#include "envs/env.h"
#include "core/provenance.h"

struct bdrl_environment {
    env *en;
};

const char *bdrl_library_version(void) { return provenance_version(); }

bdrl_environment *bdrl_environment_open(const char *const *settings, int n, char *err, size_t err_size)
{
    bdrl_err e;
    exp_config *cfg = NULL;
    bdrl_environment *out = NULL;
    if (n < 0 || (n > 0 && !settings)) {
        err_set(&e, "bdrl_environment_open: %d settings", n);
        goto fail;
    }
    for (int i = 0; i < n; i++)
        if (!settings[i] || strncmp(settings[i], "env.", 4)) {
            err_set(&e, "setting '%s' is not env.KEY=VALUE", settings[i] ? settings[i] : "(null)");
            goto fail;
        }
    /* exp_config is large (maps, params): not on a caller's thread stack */
    cfg = err_malloc(sizeof *cfg, &e);
    out = cfg ? err_malloc(sizeof *out, &e) : NULL;
    if (!out || exp_load(cfg, NULL, (char *const *)settings, n, &e) || !(out->en = env_create(&cfg->env, &e)))
        goto fail;
    free(cfg);
    return out;
fail:
    if (err && err_size)
        snprintf(err, err_size, "%s", e.msg);
    free(out);
    free(cfg);
    return NULL;
}

void bdrl_environment_close(bdrl_environment *e)
{
    if (!e)
        return;
    env_free(e->en);
    free(e);
}

int bdrl_environment_obs_dim(const bdrl_environment *e) { return env_obs_dim(e->en); }

int bdrl_environment_n_actions(const bdrl_environment *e) { return env_n_actions(e->en); }

const float *bdrl_environment_reset(bdrl_environment *e, uint64_t seed) { return env_reset(e->en, &seed); }

const float *bdrl_environment_step(bdrl_environment *e, int action, double *reward, int *terminated, int *truncated)
{
    env_step st = env_do_step(e->en, action);
    if (st.refused)
        return NULL;
    if (reward)
        *reward = st.reward;
    if (terminated)
        *terminated = st.terminated;
    if (truncated)
        *truncated = st.truncated;
    return st.obs;
}
