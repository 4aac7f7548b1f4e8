/* env.h — the environment interface shared by CartPole, FrozenLake, Acrobot
 * and MountainCar.
 *
 * Environments reproduce Gymnasium's CartPole-v1, FrozenLake-v1, Acrobot-v1
 * and MountainCar-v0 step for step (including the TimeLimit wrapper's
 * truncation), and know nothing of
 * learning. An env owns its random generator (stream RNG_STREAM_ENV of the
 * seed passed to env_reset), like a Gymnasium env owns its np_random: passing
 * a seed to env_reset re-seeds it, passing NULL continues the stream.
 *
 * Ownership: env_create returns an env the caller frees with env_free; the
 * observation buffer inside an env_step belongs to the env and is valid until
 * the next reset/step.
 */
#ifndef BDRL_ENV_H
#define BDRL_ENV_H

#include <stdint.h>
#include <stdio.h>

#include "../core/err.h"

#define ENV_MAP_MAX 64 /* largest FrozenLake side */
#define ENV_PARAMS_MAX 16    /* env.params entries */
#define ENV_PARAM_KEY_MAX 64
#define ENV_PARAM_VALUE_MAX 256
#define ENV_PLUGIN_PATH_MAX 1024

/* An index into the environment registry (env.c's REGISTRY, in the order of
 * `bdrl env list`). Code outside src/envs never compares it with a
 * particular environment: it asks the capabilities below. The constants are
 * for tests that exercise one environment (new classes are appended, so
 * they keep their values). */
typedef int env_kind;
enum { ENV_CARTPOLE = 0, ENV_FROZENLAKE = 1, ENV_ACROBOT = 2, ENV_MOUNTAINCAR = 3, ENV_PLUGIN = 4 };
/* How many classes the registry holds (its length: adding one is one line). */
int env_n_kinds(void);
#define ENV_N_KINDS (env_n_kinds())

/* What an environment kind says about itself, without creating one: callers
 * outside src/envs read names, sizes, defaults and capabilities here (or,
 * for what a plugin decides when it is loaded, from an env: env_is_tabular,
 * env_transition_table, ...) instead of switching on the kind. */
typedef struct {
    const char *name;            /* env.name: "cartpole", ... */
    const char *gym_id;          /* "CartPole-v1", ... ("plugin" for plugins) */
    const char *summary;         /* one line (FrozenLake: two) for `bdrl env list` */
    const char *state_names;     /* env_get_state's components, comma-separated (rollout's CSV header);
                                    NULL: the env's own (plugins: env_state_names) */
    const char *state_help;      /* what --state takes, e.g. "X,XDOT,THETA,THETADOT" */
    int default_max_steps;       /* Gymnasium's registration (FrozenLake: 4x4's 100; 8x8 gets 200) */
    int tabular;                 /* 1: the observation is a state index (FrozenLake); plugins decide
                                    when loaded (env_is_tabular) */
    /* The default evaluation threshold: Gymnasium's reward_threshold on the
     * mean greedy return, or for tabular envs a success rate. */
    double default_threshold;
    /* 1: has an exact transition table (env_transition_table); 2: may have
     * one (a plugin: known once loaded); 0: never. */
    int table;
    /* Reference probe states for Monte Carlo truth (CartPole: 20), each
     * env_state_dim doubles; 0 and NULL when there are none. */
    int n_probes;
    const double *(*probe)(int i);
    const char *(*probe_name)(int i);
} env_kind_info;

/* NULL for a kind outside [0, ENV_N_KINDS). */
const env_kind_info *env_kind_describe(env_kind kind);
/* The kind called name, or -1. */
int env_kind_by_name(const char *name);

/* Everything that configures an environment. Filled by the config module
 * (keys env.*) or by hand; env_config_defaults gives Gymnasium's defaults. */
typedef struct {
    env_kind kind;
    int max_episode_steps;       /* 0: the environment's default (CartPole and Acrobot 500,
                                    MountainCar 200, FrozenLake 100 for 4x4 and 200 for 8x8) */
    /* CartPole */
    int semi_implicit;           /* 0: explicit Euler (Gymnasium's default) */
    int sutton_barto_reward;     /* 0 per step, -1 on termination */
    /* FrozenLake */
    char map_name[16];           /* "4x4", "8x8", "random", or "custom" (rows below) */
    int nrow, ncol;              /* for "custom": the rows; for "random": the size (nrow == ncol) */
    char rows[ENV_MAP_MAX][ENV_MAP_MAX + 1];
    double frozen_prob;          /* random maps: probability of F (Gymnasium's p, default 0.8) */
    uint64_t map_seed;           /* random maps: generated from this seed */
    int slippery;                /* is_slippery (default 1) */
    double success_rate;         /* probability of the intended direction (default 1/3) */
    double reward_goal, reward_hole, reward_frozen; /* default 1, 0, 0 */
    /* Plugins (env.name plugin): the shared object and the free-form
     * env.params handed to it, in the order given. */
    char plugin[ENV_PLUGIN_PATH_MAX];
    int n_params;
    char param_key[ENV_PARAMS_MAX][ENV_PARAM_KEY_MAX];
    char param_value[ENV_PARAMS_MAX][ENV_PARAM_VALUE_MAX];
} env_config;

/* Defaults for the environment called name (a registry name such as
 * "cartpole"); an unknown name leaves kind -1, which env_create refuses. */
void env_config_defaults(env_config *c, const char *name);

typedef struct env env;

typedef struct {
    const float *obs;   /* obs_dim floats, owned by the env */
    double reward;
    int terminated;     /* reached a terminal state (pole fell, hole or goal, swung up, top of the hill) */
    int truncated;      /* step count reached max_episode_steps; may coincide with terminated */
    int refused;        /* 1: the step was refused and nothing changed (see env_do_step) */
} env_step;

/* Creates an env. For random FrozenLake maps the map is generated here from
 * cfg->map_seed. Validates the config (custom maps: rectangular, one S, at
 * least one G, only SFHG). */
env *env_create(const env_config *cfg, bdrl_err *e);
void env_free(env *e);

const char *env_name(const env *e);      /* env_kind_describe(kind)->name */
env_kind env_get_kind(const env *e);
int env_obs_dim(const env *e);           /* CartPole 4, FrozenLake 1 (the state index as a float),
                                            Acrobot 6, MountainCar 2 */
int env_n_actions(const env *e);         /* CartPole 2, FrozenLake 4, Acrobot 3, MountainCar 3 */
int env_n_states(const env *e);          /* FrozenLake: nrow*ncol; the others: 0 (continuous) */
/* 1 if the observation is one float holding a state index in [0,
 * env_n_states) that a network should one-hot encode (FrozenLake, tabular
 * plugins). */
int env_is_tabular(const env *e);
/* Action a's name ("left", "push right", ...); "" for an unnamed one. */
const char *env_action_name(const env *e, int a);
/* env_get_state's components, comma-separated ("x,x_dot,theta,theta_dot"). */
const char *env_state_names(const env *e);
/* Writes what `bdrl env info` shows beyond name, sizes and limit. */
void env_describe(const env *e, const env_config *c, FILE *f);
int env_max_steps(const env *e);         /* the resolved time limit */
int env_elapsed(const env *e);           /* steps since the last reset */

/* Starts an episode. seed != NULL re-seeds the env's generator first. */
const float *env_reset(env *e, const uint64_t *seed);
/* One step. Stepping after terminated/truncated without a reset (or before
 * the first reset), or with an action outside [0, n_actions), is a caller's
 * error: the step is refused, nothing changes, and the result has refused = 1,
 * reward 0, terminated = truncated = 1 (so loops end) and the current
 * observation. */
env_step env_do_step(env *e, int action);

/* A plugin's fault ends the process: a non-finite observation or reward
 * exits 2, a crash signal (SIGSEGV, SIGBUS, SIGFPE) is re-raised. Just
 * before, the environment layer calls the hook set here (NULL: none; one
 * per process) with a one-line reason, so whoever owns the process's
 * results (the trainer: summary.json) can record it. The hook may run in a
 * signal handler: it must be async-signal-safe, and must return. */
typedef void (*env_fatal_hook)(const char *reason);
void env_set_fatal_hook(env_fatal_hook hook);

/* Whether the episode that step st ended was a success: FrozenLake reached
 * G, CartPole survived to the time limit, Acrobot and MountainCar reached
 * their goal (terminated). 0 for a step that did not end an episode. */
int env_step_success(const env *e, const env_step *st);

/* The full internal state in doubles: CartPole (x, x_dot, theta,
 * theta_dot); FrozenLake the state index; Acrobot (theta1, theta2, dtheta1,
 * dtheta2); MountainCar (position, velocity). set_state keeps the elapsed
 * step count. */
#define ENV_STATE_MAX 8 /* the largest env_state_dim (CartPole, Acrobot 4; plugins up to this) */
#define ENV_OBS_MAX 64 /* the largest env_obs_dim (Acrobot 6; plugins up to this) */
int env_state_dim(const env *e);
void env_get_state(const env *e, double *state);
int env_set_state(env *e, const double *state, bdrl_err *err);
/* The observation (env_obs_dim floats) the env would give in state, without
 * changing e; the same checks as env_set_state (FrozenLake: an index in
 * range). */
int env_observe_state(const env *e, const double *state, float *obs, bdrl_err *err);

/* ---- exact transition tables (tabular environments) ---- */

/* One outcome of (state, action), in the environment's order (FrozenLake:
 * Gymnasium's). */
typedef struct {
    double prob;
    int next_state;
    double reward;
    int terminated;
} env_outcome;

/* The exact dynamics of a tabular environment, what the truth code (src/truth)
 * computes return laws from. A terminal state is one whose every outcome is
 * (next_state = itself, terminated) under every action: its return is 0. */
typedef struct {
    int n_states, n_actions;
    int max_outcomes;         /* stride: outcomes of (s, a) start at (s*A + a) * max_outcomes */
    int *n_outcomes;          /* (n_states * n_actions), each in [1, max_outcomes] */
    env_outcome *outcomes;    /* (n_states * n_actions * max_outcomes): the first n_outcomes[s*A+a] are used */
    unsigned char *terminal;  /* (n_states): 1 for a terminal state (the rule above) */
    /* A drawing of the states for plots and checks: nrow*ncol == n_states
     * letters, row-major, S start, G goal, H hole (or other terminal), F
     * other (FrozenLake's map; a plugin's layout or a row of F). */
    int nrow, ncol;
    const char *desc;
} env_table;

/* The transition table, or NULL if the environment has none (owned by the
 * env; valid until env_free). */
const env_table *env_transition_table(const env *e);

/* Outcome k of (s, a); NULL if out of range. */
const env_outcome *env_table_outcome(const env_table *t, int s, int a, int k);

/* Fills t->terminal from the outcomes (the rule above). */
void env_table_mark_terminal(env_table *t);

/* Checks a table: sizes, each (s, a) with 1..max_outcomes outcomes of finite
 * probability in [0, 1] summing to 1 (within 1e-9), next states in range,
 * finite rewards. The message names the first bad (s, a). */
int env_table_check(const env_table *t, bdrl_err *e);

/* Gymnasium's generate_random_map: size x size, each cell F with probability
 * p (else H), S at the top left and G at the bottom right, resampled until a
 * path from S to G exists. Writes size rows into rows. */
int frozenlake_random_map(int size, double p, uint64_t seed,
                          char rows[][ENV_MAP_MAX + 1], bdrl_err *e);

#endif
