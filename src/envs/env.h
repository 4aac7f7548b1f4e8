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

#include "../core/err.h"

#define ENV_MAP_MAX 64 /* largest FrozenLake side */

/* The values are the positions of the names in the config key env.name. */
typedef enum { ENV_CARTPOLE = 0, ENV_FROZENLAKE = 1, ENV_ACROBOT = 2, ENV_MOUNTAINCAR = 3 } env_kind;
#define ENV_N_KINDS 4

/* What an environment kind says about itself, without creating one: callers
 * outside src/envs read names, sizes and defaults here instead of switching
 * on the kind. */
typedef struct {
    const char *name;            /* env.name: "cartpole", ... */
    const char *gym_id;          /* "CartPole-v1", ... */
    const char *summary;         /* one line (FrozenLake: two) for `bdrl env list` */
    const char *state_names;     /* env_get_state's components, comma-separated (rollout's CSV header) */
    const char *state_help;      /* what --state takes, e.g. "X,XDOT,THETA,THETADOT" */
    int default_max_steps;       /* Gymnasium's registration (FrozenLake: 4x4's 100; 8x8 gets 200) */
    int tabular;                 /* 1: the observation is a state index (FrozenLake) */
    /* The default evaluation threshold: Gymnasium's reward_threshold on the
     * mean greedy return, or for tabular envs a success rate. */
    double default_threshold;
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
} env_config;

void env_config_defaults(env_config *c, env_kind kind);

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
env *env_create(const env_config *cfg, bd_err *e);
void env_free(env *e);

const char *env_name(const env *e);      /* env_kind_describe(kind)->name */
env_kind env_get_kind(const env *e);
int env_obs_dim(const env *e);           /* CartPole 4, FrozenLake 1 (the state index as a float),
                                            Acrobot 6, MountainCar 2 */
int env_n_actions(const env *e);         /* CartPole 2, FrozenLake 4, Acrobot 3, MountainCar 3 */
int env_n_states(const env *e);          /* FrozenLake: nrow*ncol; the others: 0 (continuous) */
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

/* Whether the episode that step st ended was a success: FrozenLake reached
 * G, CartPole survived to the time limit, Acrobot and MountainCar reached
 * their goal (terminated). 0 for a step that did not end an episode. */
int env_step_success(const env *e, const env_step *st);

/* The full internal state in doubles: CartPole (x, x_dot, theta,
 * theta_dot); FrozenLake the state index; Acrobot (theta1, theta2, dtheta1,
 * dtheta2); MountainCar (position, velocity). set_state keeps the elapsed
 * step count. */
#define ENV_STATE_MAX 4
#define ENV_OBS_MAX 6 /* the largest env_obs_dim (Acrobot) */
int env_state_dim(const env *e);
void env_get_state(const env *e, double *state);
int env_set_state(env *e, const double *state, bd_err *err);
/* The observation (env_obs_dim floats) the env would give in state, without
 * changing e; the same checks as env_set_state (FrozenLake: an index in
 * range). */
int env_observe_state(const env *e, const double *state, float *obs, bd_err *err);

/* ---- FrozenLake specifics (NULL / -1 for other environments) ---- */

/* One outcome of (state, action), in Gymnasium's order. */
typedef struct {
    double prob;
    int next_state;
    double reward;
    int terminated;
} fl_outcome;

typedef struct {
    int nrow, ncol, n_states, n_actions;
    const char *desc;        /* nrow*ncol letters, row-major, of S F H G */
    int *n_outcomes;         /* (n_states * n_actions) */
    fl_outcome *outcomes;    /* (n_states * n_actions * 3): the first n_outcomes[s*A+a] are used */
} fl_table;

/* The transition table (owned by the env; valid until env_free). */
const fl_table *env_frozenlake_table(const env *e);

/* Outcome k of (s, a); NULL if out of range. */
const fl_outcome *fl_table_outcome(const fl_table *t, int s, int a, int k);

/* Gymnasium's generate_random_map: size x size, each cell F with probability
 * p (else H), S at the top left and G at the bottom right, resampled until a
 * path from S to G exists. Writes size rows into rows. */
int frozenlake_random_map(int size, double p, uint64_t seed,
                          char rows[][ENV_MAP_MAX + 1], bd_err *e);

#endif
