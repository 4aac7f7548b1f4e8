/* env_impl.h — private to src/envs: the layout of struct env, shared by the
 * dispatcher (env.c) and the environments (cartpole.c, frozenlake.c,
 * acrobot.c, mountaincar.c, plugin.c, minatar.c and its games).
 * Nothing outside src/envs includes this; the public interface is env.h.
 *
 * Ownership: struct env owns its rng and, for FrozenLake, the fl_data block
 * (map letters and transition table), for a MinAtar game its minatar block,
 * all released by env_free.
 */
#ifndef BDRL_ENV_IMPL_H
#define BDRL_ENV_IMPL_H

#include "env.h"

#include "../core/rng.h"

typedef struct {
    double x, x_dot, theta, theta_dot;
    int semi_implicit;
    int sutton_barto;
} cp_data;

typedef struct {
    double s[4];           /* theta1, theta2, dtheta1, dtheta2 */
    double sin_theta2, cos_theta2; /* sin(s[1]), cos(s[1]): set with s (acrobot.c's write_obs) */
} ac_data;

typedef struct {
    double position, velocity;
} mc_data;

typedef struct {
    env_table table;        /* the public view; its arrays live in this block */
    char *desc;            /* nrow*ncol letters + NUL */
    int start;             /* index of the S cell */
    int s;                 /* current state */
} fl_data;

typedef struct plugin_data plugin_data; /* plugin.c */
typedef struct minatar minatar;         /* minatar.h */

/* One environment class: its description and operations. env.c's REGISTRY
 * lists one per kind; adding a built-in environment is one file defining a
 * class and one line there. */
typedef struct {
    env_kind_info info;
    const char *const *action_names;           /* info-level names (NULL: the env's own, e->action_names) */
    const void *impl;                          /* the class's own data (a MinAtar game), or NULL */
    int (*init)(env *e, const env_config *c, bdrl_err *err);   /* sets n_actions, obs_dim, ... */
    void (*release)(env *e);                   /* NULL: nothing beyond struct env */
    void (*seed)(env *e, uint64_t seed);       /* NULL: env_reset re-seeds e->r, which the env draws from */
    void (*reset)(env *e);
    void (*step)(env *e, int action, env_step *out);
    void (*get_state)(const env *e, double *state);
    int (*set_state)(env *e, const double *state, bdrl_err *err);
    int (*success)(const env *e, const env_step *st); /* the step ended an episode */
    void (*describe)(const env *e, const env_config *c, FILE *f);
} env_class;

struct env {
    const env_class *cls;
    env_kind kind;
    int n_actions, obs_dim, state_dim, n_states;
    int tabular;           /* the observation is a state index to one-hot encode */
    int max_steps;
    int elapsed;
    int done;              /* terminated or truncated since the last reset */
    rng *r;                /* stream RNG_STREAM_ENV of the last seed given to env_reset */
    float obs[ENV_OBS_MAX];/* obs_dim of them */
    const char *const *action_names; /* n_actions; set by init */
    const char *state_names;
    const env_table *table;/* NULL: no exact transition table */
    cp_data cp;
    ac_data ac;
    mc_data mc;
    fl_data *fl;           /* NULL unless FrozenLake */
    plugin_data *plug;     /* NULL unless a plugin */
    minatar *mn;           /* NULL unless a MinAtar game */
};

extern const env_class cartpole_class, frozenlake_class, acrobot_class, mountaincar_class, plugin_class;
extern const env_class minatar_asterix_class, minatar_breakout_class, minatar_freeway_class,
    minatar_seaquest_class, minatar_space_invaders_class;

#endif
