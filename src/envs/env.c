/* env.c — what the environments share: their descriptions, creation, the
 * env's own random stream, the TimeLimit wrapper's step counting, the
 * registry of environment classes, and the checks on transition tables. */
#include "env_impl.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The registry: one line per environment class, in `bdrl env list` order;
 * the position is the env_kind (ENV_CARTPOLE... in env.h: append new
 * classes). Thresholds and limits are in each class (Gymnasium's
 * registrations). */
static const env_class *const REGISTRY[] = {
    &cartpole_class,
    &frozenlake_class,
    &acrobot_class,
    &mountaincar_class,
    &plugin_class,
    &cliffwalking_class,
    &minatar_asterix_class,
    &minatar_breakout_class,
    &minatar_freeway_class,
    &minatar_seaquest_class,
    &minatar_space_invaders_class,
    &python_class,
};

int env_n_kinds(void) { return (int)(sizeof REGISTRY / sizeof REGISTRY[0]); }

const env_kind_info *env_kind_describe(env_kind kind)
{
    return (int)kind >= 0 && (int)kind < ENV_N_KINDS ? &REGISTRY[kind]->info : NULL;
}

int env_kind_by_name(const char *name)
{
    if (!name)
        return -1;
    for (int k = 0; k < ENV_N_KINDS; k++)
        if (!strcmp(REGISTRY[k]->info.name, name))
            return k;
    return -1;
}

void env_config_defaults(env_config *c, const char *name)
{
    memset(c, 0, sizeof *c);
    c->kind = env_kind_by_name(name);
    c->max_episode_steps = 0;
    c->semi_implicit = 0;
    c->sutton_barto_reward = 0;
    strcpy(c->map_name, "4x4");
    c->nrow = c->ncol = 0;
    c->frozen_prob = 0.8;
    c->map_seed = 0;
    c->slippery = -1;
    c->success_rate = 1.0 / 3.0;
    c->reward_goal = 1.0;
    c->reward_hole = 0.0;
    c->reward_frozen = 0.0;
    c->sticky_action_prob = 0.1;
    c->difficulty_ramping = 1;
    c->minimal_actions = 1;
    env_config_resolve(c);
}

void env_config_resolve(env_config *c)
{
    if (c->slippery < 0)
        c->slippery = env_kind_describe(c->kind) && REGISTRY[c->kind]->not_slippery_by_default ? 0 : 1;
}

env *env_create(const env_config *cfg, bdrl_err *err)
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
    e->cls = REGISTRY[cfg->kind];
    /* Until the first seeded reset the stream is that of seed 0, so an
     * unseeded run is still reproducible (Gymnasium would use OS entropy). */
    e->r = e->cls->numpy_rng ? rng_create_numpy(0) : rng_create(0, RNG_STREAM_ENV);
    if (!e->r) {
        err_set(err, "out of memory creating the environment's random generator");
        free(e);
        return NULL;
    }
    e->max_steps = e->cls->info.default_max_steps;
    e->action_names = e->cls->action_names;
    e->state_names = e->cls->info.state_names;
    /* an image observation's shape, as the class declares it (an init may
     * set its own, e.g. a test's image env) */
    e->obs_h = e->cls->info.obs_shape[0];
    e->obs_w = e->cls->info.obs_shape[1];
    e->obs_c = e->cls->info.obs_shape[2];
    env_config c = *cfg; /* a hand-made config may leave slippery -1 */
    env_config_resolve(&c);
    if (e->cls->init(e, &c, err) != 0) {
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
    if (e->cls && e->cls->release)
        e->cls->release(e);
    rng_free(e->r);
    free(e);
}

const char *env_name(const env *e) { return e->cls->info.name; }

const char *env_display_name(const env *e)
{
    return e->cls->display_name ? e->cls->display_name(e) : e->cls->info.gym_id;
}

const char *env_state_label(const env *e, int s)
{
    if (!e->cls->state_label || s < 0 || s >= e->n_states)
        return "";
    const char *l = e->cls->state_label(e, s);
    return l ? l : "";
}
env_kind env_get_kind(const env *e) { return e->kind; }
int env_obs_dim(const env *e) { return e->obs_dim; }
int env_n_actions(const env *e) { return e->n_actions; }
int env_n_states(const env *e) { return e->n_states; }
int env_is_tabular(const env *e) { return e->tabular; }

int env_obs_shape(const env *e, int *h, int *w, int *c)
{
    int img = e->obs_h > 0;
    *h = img ? e->obs_h : 0;
    *w = img ? e->obs_w : 0;
    *c = img ? e->obs_c : 0;
    return img;
}
int env_obs_is_binary(const env *e) { return e->cls->info.obs_binary; }
int env_max_steps(const env *e) { return e->max_steps; }
int env_elapsed(const env *e) { return e->elapsed; }
int env_state_dim(const env *e) { return e->state_dim; }
const char *env_state_names(const env *e) { return e->state_names ? e->state_names : ""; }

const char *env_action_name(const env *e, int a)
{
    if (a < 0 || a >= e->n_actions || !e->action_names || !e->action_names[a])
        return "";
    return e->action_names[a];
}

void env_describe(const env *e, const env_config *c, FILE *f)
{
    if (e->cls->describe)
        e->cls->describe(e, c, f);
}

const float *env_reset(env *e, const uint64_t *seed)
{
    if (seed && e->cls->seed)
        e->cls->seed(e, *seed);
    else if (seed)
        rng_reseed(e->r, *seed, RNG_STREAM_ENV);
    e->reset_seeded = seed != NULL;
    e->reset_seed = seed ? *seed : 0;
    e->elapsed = 0;
    e->done = 0;
    e->cls->reset(e);
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
    st.truncated = 0; /* an env may truncate by itself (a Python env's truncated) */
    e->cls->step(e, action, &st);
    /* Gymnasium's TimeLimit: count the step, truncate once the count reaches
     * the limit, whatever the environment said about termination (both flags
     * can be true on the same step). */
    e->elapsed++;
    st.truncated = st.truncated || e->elapsed >= e->max_steps;
    e->done = st.terminated | st.truncated;
    return st;
}

int env_step_success(const env *e, const env_step *st)
{
    if (st->refused || !(st->terminated || st->truncated))
        return 0;
    return e->cls->success(e, st);
}

void env_get_state(const env *e, double *state)
{
    if (e->cls->get_state)
        e->cls->get_state(e, state);
}

int env_set_state(env *e, const double *state, bdrl_err *err)
{
    if (!e->cls->set_state || e->state_dim < 1)
        return err_set(err, "%s has no state that can be set", env_name(e));
    if (e->cls->set_state(e, state, err) != 0)
        return -1;
    /* A chosen state starts afresh as far as termination goes; the time
     * limit still counts from the last reset. */
    e->done = e->elapsed >= e->max_steps;
    return 0;
}

int env_carry_values(const env *e) { return e->cls->get_carry ? e->cls->carry_values : 1; }

int env_carry(const env *e) { return e->cls->get_carry ? e->cls->get_carry(e) : 0; }

void env_set_carry(env *e, int carry)
{
    if (e->cls->set_carry && carry >= 0 && carry < e->cls->carry_values)
        e->cls->set_carry(e, carry);
}

int env_observe_state(const env *e, const double *state, float *obs, bdrl_err *err)
{
    if (e->tabular) {
        double v = state[0];
        if (!(v >= 0 && v < e->n_states && v == (double)(int)v))
            return err_set(err, "%s state %g is not an index in [0, %d)", env_name(e), v, e->n_states);
        obs[0] = (float)v;
        return 0;
    }
    if (!e->plug && !e->py) {
        /* The continuous built-in envs' set_state touches only their own
         * fields and obs, so a shallow copy observes without changing e. */
        env tmp = *e;
        if (env_set_state(&tmp, state, err))
            return -1;
        for (int i = 0; i < e->obs_dim; i++)
            obs[i] = tmp.obs[i];
        return 0;
    }
    /* A plugin's state lives inside the plugin: set the chosen one, read its
     * observation, and set the previous state back (with its observation
     * and the episode's flags), so that e is as it was. */
    env *m = (env *)e;
    double prev[ENV_STATE_MAX];
    float prev_obs[ENV_OBS_MAX];
    int done = m->done;
    env_get_state(m, prev);
    memcpy(prev_obs, m->obs, sizeof(float) * (size_t)m->obs_dim);
    if (env_set_state(m, state, err))
        return -1;
    memcpy(obs, m->obs, sizeof(float) * (size_t)m->obs_dim);
    bdrl_err ignored;
    env_set_state(m, prev, &ignored);
    memcpy(m->obs, prev_obs, sizeof(float) * (size_t)m->obs_dim);
    m->done = done;
    return 0;
}

const env_table *env_transition_table(const env *e) { return e->table; }

const env_outcome *env_table_outcome(const env_table *t, int s, int a, int k)
{
    if (!t || s < 0 || s >= t->n_states || a < 0 || a >= t->n_actions)
        return NULL;
    int sa = s * t->n_actions + a;
    if (k < 0 || k >= t->n_outcomes[sa])
        return NULL;
    return &t->outcomes[(size_t)sa * (size_t)t->max_outcomes + (size_t)k];
}

void env_table_mark_terminal(env_table *t)
{
    for (int s = 0; s < t->n_states; s++) {
        int term = 1;
        for (int a = 0; a < t->n_actions && term; a++)
            for (int k = 0; k < t->n_outcomes[s * t->n_actions + a]; k++) {
                const env_outcome *o = env_table_outcome(t, s, a, k);
                if (o->next_state != s || !o->terminated)
                    term = 0;
            }
        t->terminal[s] = (unsigned char)term;
    }
}

int env_table_check(const env_table *t, bdrl_err *e)
{
    if (t->n_states < 1 || t->n_actions < 1 || t->max_outcomes < 1)
        return err_set(e, "transition table: %d states, %d actions, %d outcomes per pair (each must be >= 1)",
                       t->n_states, t->n_actions, t->max_outcomes);
    for (int s = 0; s < t->n_states; s++)
        for (int a = 0; a < t->n_actions; a++) {
            int n = t->n_outcomes[s * t->n_actions + a];
            if (n < 1 || n > t->max_outcomes)
                return err_set(e, "transition table: state %d, action %d has %d outcomes (expected 1 to %d)", s,
                               a, n, t->max_outcomes);
            double sum = 0;
            for (int k = 0; k < n; k++) {
                const env_outcome *o = env_table_outcome(t, s, a, k);
                if (!(o->prob >= 0 && o->prob <= 1))
                    return err_set(e, "transition table: state %d, action %d, outcome %d has probability %g",
                                   s, a, k, o->prob);
                if (o->next_state < 0 || o->next_state >= t->n_states)
                    return err_set(e, "transition table: state %d, action %d, outcome %d leads to state %d "
                                      "(outside [0, %d))", s, a, k, o->next_state, t->n_states);
                if (!isfinite(o->reward))
                    return err_set(e, "transition table: state %d, action %d, outcome %d has reward %g", s, a,
                                   k, o->reward);
                sum += o->prob;
            }
            if (!(fabs(sum - 1.0) <= 1e-9))
                return err_set(e, "transition table: state %d, action %d: probabilities sum to %.17g, not 1",
                               s, a, sum);
        }
    return 0;
}
