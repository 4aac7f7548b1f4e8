/* env_impl.h — private to src/envs: the layout of struct env, shared by the
 * dispatcher (env.c) and the environments (cartpole.c, frozenlake.c,
 * acrobot.c, mountaincar.c).
 * Nothing outside src/envs includes this; the public interface is env.h.
 *
 * Ownership: struct env owns its rng and, for FrozenLake, the fl_data block
 * (map letters and transition table), all released by env_free.
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
} ac_data;

typedef struct {
    double position, velocity;
} mc_data;

typedef struct {
    fl_table table;        /* the public view; its arrays live in this block */
    char *desc;            /* nrow*ncol letters + NUL */
    int start;             /* index of the S cell */
    int s;                 /* current state */
} fl_data;

struct env {
    env_kind kind;
    int n_actions, obs_dim, state_dim, n_states;
    int max_steps;
    int elapsed;
    int done;              /* terminated or truncated since the last reset */
    rng *r;                /* stream RNG_STREAM_ENV of the last seed given to env_reset */
    float obs[6];          /* obs_dim of them */
    cp_data cp;
    ac_data ac;
    mc_data mc;
    fl_data *fl;           /* NULL unless FrozenLake */
};

/* cartpole.c */
int cartpole_init(env *e, const env_config *c, bd_err *err);
void cartpole_reset(env *e);
void cartpole_step(env *e, int action, env_step *out);
void cartpole_get_state(const env *e, double *state);
int cartpole_set_state(env *e, const double *state, bd_err *err);

/* frozenlake.c */
int frozenlake_init(env *e, const env_config *c, bd_err *err);
void frozenlake_free(env *e);
void frozenlake_reset(env *e);
void frozenlake_step(env *e, int action, env_step *out);
void frozenlake_get_state(const env *e, double *state);
int frozenlake_set_state(env *e, const double *state, bd_err *err);

/* acrobot.c */
int acrobot_init(env *e, const env_config *c, bd_err *err);
void acrobot_reset(env *e);
void acrobot_step(env *e, int action, env_step *out);
void acrobot_get_state(const env *e, double *state);
int acrobot_set_state(env *e, const double *state, bd_err *err);

/* mountaincar.c */
int mountaincar_init(env *e, const env_config *c, bd_err *err);
void mountaincar_reset(env *e);
void mountaincar_step(env *e, int action, env_step *out);
void mountaincar_get_state(const env *e, double *state);
int mountaincar_set_state(env *e, const double *state, bd_err *err);

#endif
