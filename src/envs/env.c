/* env.c — what the environments share: their descriptions, creation, the
 * env's own random stream, the TimeLimit wrapper's step counting, and
 * dispatch by kind. */
#include "env_impl.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Thresholds and limits are Gymnasium's registrations (reward_threshold,
 * max_episode_steps); FrozenLake's 0.7 is a success rate of ours. */
static const env_kind_info KINDS[ENV_N_KINDS] = {
    [ENV_CARTPOLE] = {"cartpole", "CartPole-v1",
                      "CartPole-v1: balance a pole on a cart; 4 observations, 2 actions, 500-step limit",
                      "x,x_dot,theta,theta_dot", "X,XDOT,THETA,THETADOT", 500, 0, 475.0},
    [ENV_FROZENLAKE] = {"frozenlake", "FrozenLake-v1",
                        "FrozenLake-v1: cross a frozen lake to the goal; 4x4, 8x8, custom or random maps,\n"
                        "slippery or not; 4 actions, 100-step (4x4) or 200-step (8x8) limit",
                        "state", "an index", 100, 1, 0.7},
    [ENV_ACROBOT] = {"acrobot", "Acrobot-v1",
                     "Acrobot-v1: swing a two-link chain's tip above a line; 6 observations, 3 actions, "
                     "500-step limit",
                     "theta1,theta2,dtheta1,dtheta2", "THETA1,THETA2,DTHETA1,DTHETA2", 500, 0, -100.0},
    [ENV_MOUNTAINCAR] = {"mountaincar", "MountainCar-v0",
                         "MountainCar-v0: drive an underpowered car up a hill; 2 observations, 3 actions, "
                         "200-step limit",
                         "position,velocity", "POSITION,VELOCITY", 200, 0, -110.0},
};

const env_kind_info *env_kind_describe(env_kind kind)
{
    return (int)kind >= 0 && (int)kind < ENV_N_KINDS ? &KINDS[kind] : NULL;
}

int env_kind_by_name(const char *name)
{
    for (int k = 0; k < ENV_N_KINDS; k++)
        if (!strcmp(KINDS[k].name, name))
            return k;
    return -1;
}

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
    if (!env_kind_describe(cfg->kind)) {
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
    e->max_steps = KINDS[cfg->kind].default_max_steps;
    int rc;
    switch (cfg->kind) {
    case ENV_CARTPOLE: rc = cartpole_init(e, cfg, err); break;
    case ENV_FROZENLAKE: rc = frozenlake_init(e, cfg, err); break;
    case ENV_ACROBOT: rc = acrobot_init(e, cfg, err); break;
    default: rc = mountaincar_init(e, cfg, err); break;
    }
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

const char *env_name(const env *e) { return KINDS[e->kind].name; }
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
    switch (e->kind) {
    case ENV_CARTPOLE: cartpole_reset(e); break;
    case ENV_FROZENLAKE: frozenlake_reset(e); break;
    case ENV_ACROBOT: acrobot_reset(e); break;
    case ENV_MOUNTAINCAR: mountaincar_reset(e); break;
    }
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
    switch (e->kind) {
    case ENV_CARTPOLE: cartpole_step(e, action, &st); break;
    case ENV_FROZENLAKE: frozenlake_step(e, action, &st); break;
    case ENV_ACROBOT: acrobot_step(e, action, &st); break;
    case ENV_MOUNTAINCAR: mountaincar_step(e, action, &st); break;
    }
    /* Gymnasium's TimeLimit: count the step, truncate once the count reaches
     * the limit, whatever the environment said about termination (both flags
     * can be true on the same step). */
    e->elapsed++;
    st.truncated = e->elapsed >= e->max_steps;
    e->done = st.terminated | st.truncated;
    return st;
}

int env_step_success(const env *e, const env_step *st)
{
    if (st->refused || !(st->terminated || st->truncated))
        return 0;
    switch (e->kind) {
    case ENV_CARTPOLE: return st->truncated && !st->terminated;
    case ENV_FROZENLAKE: return st->terminated && e->fl->desc[e->fl->s] == 'G';
    default: return st->terminated;
    }
}

void env_get_state(const env *e, double *state)
{
    switch (e->kind) {
    case ENV_CARTPOLE: cartpole_get_state(e, state); break;
    case ENV_FROZENLAKE: frozenlake_get_state(e, state); break;
    case ENV_ACROBOT: acrobot_get_state(e, state); break;
    case ENV_MOUNTAINCAR: mountaincar_get_state(e, state); break;
    }
}

int env_set_state(env *e, const double *state, bd_err *err)
{
    int rc;
    switch (e->kind) {
    case ENV_CARTPOLE: rc = cartpole_set_state(e, state, err); break;
    case ENV_FROZENLAKE: rc = frozenlake_set_state(e, state, err); break;
    case ENV_ACROBOT: rc = acrobot_set_state(e, state, err); break;
    default: rc = mountaincar_set_state(e, state, err); break;
    }
    if (rc != 0)
        return rc;
    /* A chosen state starts afresh as far as termination goes; the time
     * limit still counts from the last reset. */
    e->done = e->elapsed >= e->max_steps;
    return 0;
}

int env_observe_state(const env *e, const double *state, float *obs, bd_err *err)
{
    if (e->kind == ENV_FROZENLAKE) {
        double v = state[0];
        if (!(v >= 0 && v < e->n_states && v == (double)(int)v))
            return err_set(err, "FrozenLake state %g is not an index in [0, %d)", v, e->n_states);
        obs[0] = (float)v;
        return 0;
    }
    /* The continuous envs' set_state touches only their own fields and obs,
     * so a shallow copy observes without changing e. */
    env tmp = *e;
    if (env_set_state(&tmp, state, err))
        return -1;
    for (int i = 0; i < e->obs_dim; i++)
        obs[i] = tmp.obs[i];
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
