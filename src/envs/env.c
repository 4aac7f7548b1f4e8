/* env.c — what CartPole and FrozenLake share: creation, the env's own random
 * stream, the TimeLimit wrapper's step counting, and dispatch by kind. */
#include "env_impl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

void env_config_defaults(env_config *c, env_kind kind)
{
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->max_episode_steps = 0;
    c->semi_implicit = 0;
    c->sutton_barto_reward = 0;
    strcpy(c->map_name, "4x4");
    c->nrow = c->ncol = 0;
    c->frozen_prob = 0.8;
    c->map_seed = 0;
    c->slippery = 1;
    c->success_rate = 1.0 / 3.0;
    c->reward_goal = 1.0;
    c->reward_hole = 0.0;
    c->reward_frozen = 0.0;
}

env *env_create(const env_config *cfg, bd_err *err)
{
    if (cfg->kind != ENV_CARTPOLE && cfg->kind != ENV_FROZENLAKE) {
        err_set(err, "unknown environment kind %d", (int)cfg->kind);
        return NULL;
    }
    if (cfg->max_episode_steps < 0) {
        err_set(err, "max_episode_steps must be >= 0 (0: the environment's default), got %d",
                cfg->max_episode_steps);
        return NULL;
    }
    env *e = err_calloc(1, sizeof *e, err);
    if (!e)
        return NULL;
    e->kind = cfg->kind;
    /* Until the first seeded reset the stream is that of seed 0, so an
     * unseeded run is still reproducible (Gymnasium would use OS entropy). */
    e->r = rng_create(0, RNG_STREAM_ENV);
    if (!e->r) {
        err_set(err, "out of memory creating the environment's random generator");
        free(e);
        return NULL;
    }
    int rc = cfg->kind == ENV_CARTPOLE ? cartpole_init(e, cfg, err) : frozenlake_init(e, cfg, err);
    if (rc != 0) {
        env_free(e);
        return NULL;
    }
    if (cfg->max_episode_steps > 0)
        e->max_steps = cfg->max_episode_steps;
    /* Not reset yet: stepping now is the caller's error, like Gymnasium's
     * OrderEnforcing wrapper. */
    e->done = 1;
    return e;
}

void env_free(env *e)
{
    if (!e)
        return;
    if (e->kind == ENV_FROZENLAKE)
        frozenlake_free(e);
    rng_free(e->r);
    free(e);
}

const char *env_name(const env *e) { return e->kind == ENV_CARTPOLE ? "cartpole" : "frozenlake"; }
env_kind env_get_kind(const env *e) { return e->kind; }
int env_obs_dim(const env *e) { return e->obs_dim; }
int env_n_actions(const env *e) { return e->n_actions; }
int env_n_states(const env *e) { return e->n_states; }
int env_max_steps(const env *e) { return e->max_steps; }
int env_elapsed(const env *e) { return e->elapsed; }
int env_state_dim(const env *e) { return e->state_dim; }

const float *env_reset(env *e, const uint64_t *seed)
{
    if (seed)
        rng_reseed(e->r, *seed, RNG_STREAM_ENV);
    e->elapsed = 0;
    e->done = 0;
    if (e->kind == ENV_CARTPOLE)
        cartpole_reset(e);
    else
        frozenlake_reset(e);
    return e->obs;
}

env_step env_do_step(env *e, int action)
{
    env_step st;
    if (e->done || action < 0 || action >= e->n_actions) {
        st.obs = e->obs;
        st.reward = 0;
        st.terminated = st.truncated = 1;
        st.refused = 1;
        return st;
    }
    st.refused = 0;
    if (e->kind == ENV_CARTPOLE)
        cartpole_step(e, action, &st);
    else
        frozenlake_step(e, action, &st);
    /* Gymnasium's TimeLimit: count the step, truncate once the count reaches
     * the limit, whatever the environment said about termination (both flags
     * can be true on the same step). */
    e->elapsed++;
    st.truncated = e->elapsed >= e->max_steps;
    e->done = st.terminated | st.truncated;
    return st;
}

void env_get_state(const env *e, double *state)
{
    if (e->kind == ENV_CARTPOLE)
        cartpole_get_state(e, state);
    else
        frozenlake_get_state(e, state);
}

int env_set_state(env *e, const double *state, bd_err *err)
{
    int rc = e->kind == ENV_CARTPOLE ? cartpole_set_state(e, state, err)
                                     : frozenlake_set_state(e, state, err);
    if (rc != 0)
        return rc;
    /* A chosen state starts afresh as far as termination goes; the time
     * limit still counts from the last reset. */
    e->done = e->elapsed >= e->max_steps;
    return 0;
}

const fl_table *env_frozenlake_table(const env *e)
{
    return e->kind == ENV_FROZENLAKE ? &e->fl->table : NULL;
}

const fl_outcome *fl_table_outcome(const fl_table *t, int s, int a, int k)
{
    if (!t || s < 0 || s >= t->n_states || a < 0 || a >= t->n_actions)
        return NULL;
    int sa = s * t->n_actions + a;
    if (k < 0 || k >= t->n_outcomes[sa])
        return NULL;
    return &t->outcomes[(size_t)sa * 3 + (size_t)k];
}
