/* env_impl.h — private to src/envs: the layout of struct env, shared by the
 * dispatcher (env.c) and the environments (cartpole.c, frozenlake.c,
 * cliffwalking.c, acrobot.c, mountaincar.c, plugin.c, python.c, minatar.c and
 * its games), and what the tabular ones share (tabular.c).
 * Nothing outside src/envs includes this; the public interface is env.h.
 *
 * Ownership: struct env owns its rng and, for a tabular built-in env
 * (FrozenLake, CliffWalking), the tab_data block (drawing and transition
 * table), for a MinAtar game its minatar block, all released by env_free.
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

/* A tabular built-in environment (FrozenLake, CliffWalking): a Gymnasium
 * toy-text env whose dynamics are its table P, stepped by categorical_sample. */
typedef struct {
    env_table table;        /* the public view; its arrays live in this block */
    char *desc;            /* nrow*ncol letters + NUL */
    int start;             /* index of the S cell: the one state of the initial distribution */
    int s;                 /* current state */
} tab_data;

/* tabular.c: everything FrozenLake and CliffWalking do alike, as Gymnasium's
 * toy-text envs do it. tab_alloc allocates e->tab with an empty table of
 * these sizes (every (s, a) with max_outcomes slots) and a drawing of
 * nrow*ncol cells; the env fills the outcomes, desc and start, then calls
 * tab_finish (terminal states by env_table_mark_terminal unless
 * keep_terminal, sizes, the observation of the start). The others are
 * env_class operations. */
int tab_alloc(env *e, int nrow, int ncol, int n_actions, int max_outcomes, bdrl_err *err);
void tab_finish(env *e, int keep_terminal);
void tab_release(env *e);
void tab_reset(env *e);                          /* one draw, then the start */
void tab_step(env *e, int action, env_step *out); /* categorical_sample over P[s][a] */
void tab_get_state(const env *e, double *state);
int tab_set_state(env *e, const double *state, bdrl_err *err);
int tab_success(const env *e, const env_step *st); /* terminated on a G cell */
void tab_print_grid(const env *e, FILE *f);        /* the drawing, a row a line, indented by two */
/* A cell's label from its letter: "S start", "H hole", "G goal", "C cliff"; "" for F. */
const char *tab_state_label(const env *e, int s);

typedef struct plugin_data plugin_data; /* plugin.c */
typedef struct minatar minatar;         /* minatar.h */
typedef struct python_data python_data; /* python.c */

/* contract.c: ends the process on an environment that broke its contract at
 * run time (a plugin's or a Python env's bad observation, a Python
 * exception): "bdrl: " and the message on stderr, one line, then exit
 * status 2. The one exit of library code (the caller of env_do_step cannot
 * carry on); plugin.c and python.c both end runs here. */
_Noreturn void env_contract_exit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The hook env_set_fatal_hook set (NULL: none), for plugin.c's crash handler. */
env_fatal_hook env_fatal_hook_get(void);

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
    /* Optional (0 and NULL: nothing survives a reset; env.h's env_carry). */
    int carry_values;
    int (*get_carry)(const env *e);
    void (*set_carry)(env *e, int carry);
    int (*success)(const env *e, const env_step *st); /* the step ended an episode */
    void (*describe)(const env *e, const env_config *c, FILE *f);
    /* 1: the env's generator is numpy's, seeded as Gymnasium's
     * reset(seed=S) seeds it (rng_create_numpy), so seeded trajectories are
     * Gymnasium's draw for draw (CliffWalking); 0: bdrl's stream
     * RNG_STREAM_ENV of the seed (same laws, other numbers). */
    int numpy_rng;
    /* 1: env.slippery left at "default" means not slippery (Gymnasium's
     * CliffWalking); 0: slippery (FrozenLake; kept for every other env so
     * that older run directories resume with the same resolved config). */
    int not_slippery_by_default;
    /* Optional (NULL: the defaults of env_display_name, env_state_label). */
    const char *(*display_name)(const env *e);
    const char *(*state_label)(const env *e, int s);
} env_class;

struct env {
    const env_class *cls;
    env_kind kind;
    int n_actions, obs_dim, state_dim, n_states;
    int tabular;           /* the observation is a state index to one-hot encode */
    int obs_h, obs_w, obs_c; /* an image observation's shape (env_obs_shape); 0: not an image */
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
    tab_data *tab;         /* NULL unless a tabular built-in env (FrozenLake, CliffWalking) */
    plugin_data *plug;     /* NULL unless a plugin */
    minatar *mn;           /* NULL unless a MinAtar game */
    python_data *py;       /* NULL unless a Python environment (python.c) */
    int reset_seeded;      /* the last env_reset had a seed: reset_seed (python.c passes it on) */
    uint64_t reset_seed;
};

extern const env_class cartpole_class, frozenlake_class, acrobot_class, mountaincar_class, plugin_class,
    cliffwalking_class;
extern const env_class minatar_asterix_class, minatar_breakout_class, minatar_freeway_class,
    minatar_seaquest_class, minatar_space_invaders_class;
extern const env_class python_class;

#endif
