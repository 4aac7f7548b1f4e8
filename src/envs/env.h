/* env.h — the environment interface shared by CartPole, FrozenLake,
 * CliffWalking, Acrobot, MountainCar, MinAtar's five games and plugins.
 *
 * Environments reproduce Gymnasium's CartPole-v1, FrozenLake-v1,
 * CliffWalking-v1, Acrobot-v1 and MountainCar-v0 step for step (including
 * the TimeLimit wrapper's truncation, where Gymnasium registers one), and
 * MinAtar 1.0.15's Asterix, Breakout, Freeway, Seaquest and Space Invaders
 * (src/envs/minatar.h), and know nothing of learning. An env owns its random
 * generator, like a Gymnasium env owns its np_random: passing a seed to
 * env_reset re-seeds it, passing NULL continues the stream. It is bdrl's
 * stream RNG_STREAM_ENV of the seed, except for CliffWalking, whose
 * generator is numpy's as Gymnasium's reset(seed=S) makes it, so that its
 * seeded trajectories are Gymnasium's draw for draw, and the MinAtar games,
 * numpy's legacy RandomState of the seed's low 32 bits, as MinAtar seeds it.
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
#define ENV_PYTHON_PATH_MAX 8 /* env.python_path entries */

/* An index into the environment registry (env.c's REGISTRY, in the order of
 * `bdrl env list`). Code outside src/envs never compares it with a
 * particular environment: it asks the capabilities below. The constants are
 * for tests that exercise one environment (new classes are appended, so
 * they keep their values). */
typedef int env_kind;
enum {
    ENV_CARTPOLE = 0, ENV_FROZENLAKE = 1, ENV_ACROBOT = 2, ENV_MOUNTAINCAR = 3, ENV_PLUGIN = 4, ENV_CLIFFWALKING = 5,
    ENV_MINATAR_ASTERIX = 6, ENV_MINATAR_BREAKOUT = 7, ENV_MINATAR_FREEWAY = 8, ENV_MINATAR_SEAQUEST = 9,
    ENV_MINATAR_SPACE_INVADERS = 10
};
enum { ENV_PYTHON = 11 };

/* The time limit of an environment Gymnasium registers without one
 * (CliffWalking-v1): episodes end only by termination. */
#define ENV_NO_TIME_LIMIT 2147483647
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
    const char *summary;         /* one line (FrozenLake, CliffWalking: two) for `bdrl env list` */
    const char *state_names;     /* env_get_state's components, comma-separated (rollout's CSV header);
                                    NULL: the env's own (plugins: env_state_names) */
    const char *state_help;      /* what --state takes, e.g. "X,XDOT,THETA,THETADOT" */
    int default_max_steps;       /* Gymnasium's registration (FrozenLake: 4x4's 100; 8x8 gets 200;
                                    ENV_NO_TIME_LIMIT: none, CliffWalking) */
    int tabular;                 /* 1: the observation is a state index (FrozenLake, CliffWalking);
                                    plugins decide
                                    when loaded (env_is_tabular) */
    /* The default evaluation threshold: Gymnasium's reward_threshold on the
     * mean greedy return, or for tabular envs a success rate; NaN for none
     * (plugins: only eval.threshold gives one). */
    double default_threshold;
    /* 1: has an exact transition table (env_transition_table); 2: may have
     * one (a plugin: known once loaded); 0: never. */
    int table;
    /* Reference probe states for Monte Carlo truth (CartPole: 20), each
     * env_state_dim doubles; 0 and NULL when there are none. */
    int n_probes;
    const double *(*probe)(int i);
    const char *(*probe_name)(int i);
    /* 1: eval.threshold applies to the greedy success rate (FrozenLake,
     * whose mean return is that rate); 0: to the mean greedy return. */
    int threshold_on_success;
    /* Image observations: the observation is this (height, width, channels)
     * array flattened in C order (index (y * width + x) * channels + c),
     * obs_dim = their product; {0, 0, 0} for a flat vector. MinAtar:
     * {10, 10, C}, each cell 0 or 1. */
    int obs_shape[3];
    /* 32: only a seed's low 32 bits reach the generator (MinAtar's numpy
     * RandomState takes 0 .. 2^32 - 1 and refuses more), so `bdrl env
     * rollout --seed` refuses larger seeds; 0: all 64 bits count. */
    int seed_bits;
    /* 1: honours env.sticky_action_prob, env.difficulty_ramping and
     * env.minimal_actions (the MinAtar games), and `bdrl env rollout` takes
     * indices into the full action set. */
    int game_options;
    /* 1: the reference has no time limit of its own (MinAtar registers
     * none); default_max_steps is bdrl's choice, and `bdrl env rollout`
     * lifts it so a rollout ends only where the reference's would. */
    int reference_unlimited;
    /* 1: every observation component is 0 or 1 (the MinAtar games' cells),
     * so a replay may keep observations as packed bits (env_obs_is_binary). */
    int obs_binary;
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
                                    MountainCar 200, FrozenLake 100 for 4x4 and 200 for 8x8,
                                    CliffWalking none; MinAtar 10,000) */
    /* CartPole */
    int semi_implicit;           /* 0: explicit Euler (Gymnasium's default) */
    int sutton_barto_reward;     /* 0 per step, -1 on termination */
    /* FrozenLake */
    char map_name[16];           /* "4x4", "8x8", "random", or "custom" (rows below) */
    int nrow, ncol;              /* for "custom": the rows; for "random": the size (nrow == ncol) */
    char rows[ENV_MAP_MAX][ENV_MAP_MAX + 1];
    double frozen_prob;          /* random maps: probability of F (Gymnasium's p, default 0.8) */
    uint64_t map_seed;           /* random maps: generated from this seed */
    int slippery;                /* is_slippery, FrozenLake and CliffWalking: 1, 0, or -1 for the
                                    environment's default (Gymnasium's: FrozenLake 1, CliffWalking 0;
                                    env_config_resolve fills it in) */
    double success_rate;         /* probability of the intended direction (default 1/3) */
    double reward_goal, reward_hole, reward_frozen; /* default 1, 0, 0 */
    /* MinAtar (info->game_options) */
    double sticky_action_prob;   /* the previous action repeats with this probability (default 0.1) */
    int difficulty_ramping;      /* Asterix, Seaquest, Space Invaders speed up (default 1) */
    int minimal_actions;         /* 1: the game's minimal action set (MinAtar/NAME-v1); 0: all 6 (-v0) */
    /* Plugins (env.name plugin): the shared object and the free-form
     * env.params handed to it, in the order given. */
    char plugin[ENV_PLUGIN_PATH_MAX];
    char plugin_given[ENV_PLUGIN_PATH_MAX]; /* env.plugin as written, when the config module made it
                                               absolute (for messages); "" otherwise */
    int n_params;
    char param_key[ENV_PARAMS_MAX][ENV_PARAM_KEY_MAX];
    char param_value[ENV_PARAMS_MAX][ENV_PARAM_VALUE_MAX];
    /* Python environments (env.name python): FILE.py:CLASS, MODULE:CLASS or
     * gymnasium:ID, constructed with env.params as keyword arguments; the
     * directories searched for files and modules (besides the working one). */
    char python[ENV_PLUGIN_PATH_MAX];
    int n_python_path;
    char python_path[ENV_PYTHON_PATH_MAX][ENV_PLUGIN_PATH_MAX];
} env_config;

/* Defaults for the environment called name (a registry name such as
 * "cartpole"); an unknown name leaves kind -1, which env_create refuses.
 * Resolved (env_config_resolve) for that environment. */
void env_config_defaults(env_config *c, const char *name);
/* Fills in what c leaves to its environment (c->kind): slippery -1 becomes
 * Gymnasium's default for it (CliffWalking 0, every other kind 1). */
void env_config_resolve(env_config *c);

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
/* The name to show people (figure titles): a plugin's own (its spec.name,
 * else its file's name), else the kind's Gymnasium id ("FrozenLake-v1"). */
const char *env_display_name(const env *e);
/* A short label of state s of a tabular env for figures, "" for none:
 * FrozenLake its map letter and meaning ("S start", "H hole", "G goal"; ""
 * for F); a plugin its bdrl_env_state_label, else its layout's S and G ("S
 * start", "G goal"); "" out of range. */
const char *env_state_label(const env *e, int s);
env_kind env_get_kind(const env *e);
int env_obs_dim(const env *e);           /* CartPole 4, FrozenLake and CliffWalking 1 (the state index as a float),
                                            Acrobot 6, MountainCar 2, MinAtar 100 * channels */
int env_n_actions(const env *e);         /* CartPole 2, FrozenLake 4, CliffWalking 4, Acrobot 3, MountainCar 3,
                                            MinAtar its minimal set's size or 6 */
int env_n_states(const env *e);          /* FrozenLake: nrow*ncol; CliffWalking 48; tabular plugins theirs;
                                            the others: 0 (continuous) */
/* For an observation that is an image (MinAtar: 10 x 10 x C), its height,
 * width and channels, in the order the observation stores it (HWC:
 * obs[(y*w + x)*c + ch], h*w*c = env_obs_dim); returns 1. Returns 0 and
 * zeros for every other observation. */
int env_obs_shape(const env *e, int *h, int *w, int *c);
/* 1 if every component of every observation is exactly 0.0f or 1.0f (the
 * MinAtar games), so that it can be stored as bits; 0 otherwise (plugins
 * and Python environments declare nothing: 0). */
int env_obs_is_binary(const env *e);
/* 1 if the observation is one float holding a state index in [0,
 * env_n_states) that a network should one-hot encode (FrozenLake, CliffWalking, tabular
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

/* Starts an episode. seed != NULL re-seeds the env's generator first (the
 * MinAtar games: RandomState(low 32 bits of *seed), then reset, as MinAtar's
 * Gymnasium wrapper does on reset(seed=S)). */
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

/* Whether the episode that step st ended was a success: FrozenLake and
 * CliffWalking reached G, CartPole survived to the time limit, Acrobot and
 * MountainCar reached their goal (terminated); never for the MinAtar games,
 * which have no goal (their return is the measure). 0 for a step that did
 * not end an episode. */
int env_step_success(const env *e, const env_step *st);

/* The full internal state in doubles: CartPole (x, x_dot, theta,
 * theta_dot); FrozenLake and CliffWalking the state index; Acrobot (theta1,
 * theta2, dtheta1, dtheta2); MountainCar (position, velocity); the MinAtar
 * games have none (env_state_dim 0: their observation is all an agent sees).
 * set_state keeps the elapsed step count. */
#define ENV_STATE_MAX 8 /* the largest env_state_dim (CartPole, Acrobot 4; plugins up to this) */
#define ENV_OBS_MAX 1000 /* the largest env_obs_dim (MinAtar Seaquest's 10x10x10; plugins up to 64) */
int env_state_dim(const env *e);
void env_get_state(const env *e, double *state);
int env_set_state(env *e, const double *state, bdrl_err *err);
/* The observation (env_obs_dim floats) the env would give in state, without
 * changing e; the same checks as env_set_state (FrozenLake: an index in
 * range). A plugin's state is set and then set back. */
int env_observe_state(const env *e, const double *state, float *obs, bdrl_err *err);

/* What an environment keeps across env_reset, as a small integer. MinAtar
 * keeps its last action (a sticky draw on the next episode's first step
 * repeats it; MinAtar does not clear it on reset), so an episode depends on
 * the one before it. A run's checkpoint records the carry at the start of
 * the current episode so that a resume replays that episode exactly.
 * env_carry_values: how many values the carry takes (1: the environment
 * keeps nothing, and env_carry is 0); env_set_carry takes one in
 * [0, env_carry_values) and is called after env_reset. */
int env_carry_values(const env *e);
int env_carry(const env *e);
void env_set_carry(env *e, int carry);

/* ---- exact transition tables (tabular environments) ---- */

/* One outcome of (state, action), in the environment's order (FrozenLake,
 * CliffWalking: Gymnasium's, coinciding outcomes kept apart as in its P). */
typedef struct {
    double prob;
    int next_state;
    double reward;
    int terminated;
} env_outcome;

/* The exact dynamics of a tabular environment, what the truth code (src/truth)
 * computes return laws from. A terminal state is one no episode stands on
 * to act: its return is 0, it has no law to learn, and evaluation, truth
 * and plots skip it. env_table_mark_terminal marks the states whose every
 * outcome is (next_state = itself, terminated) under every action
 * (FrozenLake's H and G, plugins); an environment may mark more itself:
 * CliffWalking's goal (every move into it terminates) and cliff cells
 * (every move into one lands on the start), to which Gymnasium's P gives
 * ordinary moves that no episode takes. */
typedef struct {
    int n_states, n_actions;
    int max_outcomes;         /* stride: outcomes of (s, a) start at (s*A + a) * max_outcomes */
    int *n_outcomes;          /* (n_states * n_actions), each in [1, max_outcomes] */
    env_outcome *outcomes;    /* (n_states * n_actions * max_outcomes): the first n_outcomes[s*A+a] are used */
    unsigned char *terminal;  /* (n_states): 1 for a terminal state (the rule above) */
    /* A drawing of the states for plots and checks: nrow*ncol == n_states
     * letters, row-major, S start, G goal, H hole (or other terminal), C
     * cliff (never occupied: entering one sends the agent back to S), F
     * other (FrozenLake's map, CliffWalking's grid; a plugin's layout or a
     * row of F). */
    int nrow, ncol;
    const char *desc;
} env_table;

/* The transition table, or NULL if the environment has none (owned by the
 * env; valid until env_free). */
const env_table *env_transition_table(const env *e);

/* Outcome k of (s, a); NULL if out of range. */
const env_outcome *env_table_outcome(const env_table *t, int s, int a, int k);

/* Gymnasium's categorical_sample over the outcomes of (s, a) with the
 * uniform draw u in [0, 1): np.argmax(np.cumsum(p) > u), the cumulative sum
 * sequential, so the first outcome whose running sum exceeds u (ties go to
 * the next outcome), and outcome 0 if rounding leaves no sum above u. */
int env_table_sample(const env_table *t, int s, int a, double u);

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
