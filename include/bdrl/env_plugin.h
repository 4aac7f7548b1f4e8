/* bdrl/env_plugin.h — the interface of an environment plugin for bdrl.
 *
 * A plugin is a shared object (built with -shared -fPIC; it needs nothing
 * from bdrl but this header) that bdrl loads with dlopen when a
 * configuration says
 *
 *     env:
 *       name: plugin
 *       plugin: path/to/libmyenv.so
 *       params: {length: 4, p_risky: 0.6}   # free-form, handed to the plugin
 *
 * It exports the functions below with C linkage. bdrl adds around them what
 * every environment gets: the time limit (Gymnasium's TimeLimit: truncated
 * once max_episode_steps steps were taken; env.max_episode_steps overrides
 * the plugin's), refusal of out-of-range actions and of steps after the end
 * of an episode (the plugin never sees them), and checks of what the plugin
 * returns. A plugin that breaks the contract is refused with one line and
 * exit status 2: at load time a missing file or symbol, another interface
 * version, a bad spec or an invalid transition table; at run time a
 * non-finite observation or reward, or a tabular observation that is not a
 * state index in range. A crash (SIGSEGV, SIGBUS, SIGFPE) inside any of the
 * functions below is reported on stderr naming the plugin's path and the
 * function, then the signal ends the process as it would have.
 *
 * Ownership and lifetimes:
 *   - bdrl_env_create returns an instance the plugin allocates; bdrl frees it
 *     with bdrl_env_destroy (exactly once, also after a failed check).
 *   - Everything the plugin points to from the spec (name, action_names,
 *     state_names, layout) must stay valid until bdrl_env_destroy.
 *   - The host, its params and their strings are valid for the call to
 *     bdrl_env_create only: copy what you keep. host->uniform and
 *     host->stream stay valid until bdrl_env_destroy.
 *   - bdrl owns every buffer it passes (obs: obs_dim floats; out: the
 *     outcomes; state: state_dim doubles); the plugin writes into them during
 *     the call and keeps no pointer to them.
 *   - No function is called concurrently on the same instance; different
 *     instances may be used from different threads at once, so keep no
 *     mutable global state (or guard it).
 *
 * Randomness: draw every random number with host->uniform(host->stream)
 * (uniform in [0, 1)). bdrl re-seeds that stream when it resets an episode
 * with a seed, exactly as for its built-in environments, so runs are
 * reproducible; a plugin that uses rand(), time() or its own unseeded
 * generator breaks that.
 */
#ifndef BDRL_ENV_PLUGIN_H
#define BDRL_ENV_PLUGIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this interface. bdrl_env_plugin_version() returns the
 * value the plugin was compiled with; bdrl refuses any other. Raised
 * whenever a struct or a signature below changes. */
#define BDRL_ENV_PLUGIN_VERSION 1

#define BDRL_ENV_OBS_MAX 64      /* largest obs_dim */
#define BDRL_ENV_STATE_MAX 8     /* largest state_dim */
#define BDRL_ENV_ACTIONS_MAX 256 /* largest n_actions */
#define BDRL_ENV_STATES_MAX 100000 /* largest n_states of a tabular plugin */

/* One entry of env.params, as written in the configuration. */
typedef struct {
    const char *key;
    const char *value;
} bdrl_env_param;

/* What bdrl hands to bdrl_env_create. */
typedef struct {
    int version;                 /* BDRL_ENV_PLUGIN_VERSION of the host */
    const bdrl_env_param *params;
    int n_params;
    double (*uniform)(void *stream); /* uniform in [0, 1) from the environment's stream */
    void *stream;
} bdrl_env_host;

/* What the plugin says about the instance it created (bdrl zeroes it before
 * the call). */
typedef struct {
    const char *name;            /* shown in messages; NULL: the file's name */
    int obs_dim;                 /* 1..BDRL_ENV_OBS_MAX floats per observation */
    int n_actions;               /* 1..BDRL_ENV_ACTIONS_MAX */
    const char *const *action_names; /* n_actions names, or NULL */
    /* > 0: tabular. obs_dim must be 1 and the observation is the state
     * index (a float holding an integer in [0, n_states)); agents one-hot
     * encode it. */
    int n_states;
    /* With bdrl_env_transitions (tabular only): the most outcomes one
     * (state, action) has. */
    int max_outcomes;
    /* Time limit in steps; 0: none. */
    int max_episode_steps;
    /* With bdrl_env_get_state/bdrl_env_set_state: the state's size
     * (1..BDRL_ENV_STATE_MAX) and its components' names, comma-separated. */
    int state_dim;
    const char *state_names;
    /* Optional drawing of a tabular plugin's states: n_states letters,
     * layout_rows rows; S start, G goal, H other terminal, F other. */
    const char *layout;
    int layout_rows;
} bdrl_env_spec;

/* One outcome of (state, action) for the exact truth. */
typedef struct {
    double prob;
    int next_state;
    double reward;
    int terminated;
} bdrl_env_outcome;

/* ---- required ---- */

/* Returns BDRL_ENV_PLUGIN_VERSION as the plugin saw it when compiled. */
int bdrl_env_plugin_version(void);

/* Creates an instance from host->params and fills spec. On bad params,
 * returns NULL with a one-line message in err (err_size bytes). */
void *bdrl_env_create(const bdrl_env_host *host, bdrl_env_spec *spec, char *err, size_t err_size);

/* Frees an instance. */
void bdrl_env_destroy(void *env);

/* Starts an episode and writes the first observation. */
void bdrl_env_reset(void *env, float *obs);

/* Takes action (always in [0, n_actions)); writes the next observation, the
 * reward and whether the episode terminated (not truncation: bdrl counts
 * the time limit). */
void bdrl_env_step(void *env, int action, float *obs, double *reward, int *terminated);

/* ---- optional (looked up with dlsym; absent = not provided) ---- */

/* Tabular plugins: writes the outcomes of (state, action) into out
 * (max_outcomes entries) and returns how many (1..max_outcomes). bdrl reads
 * the whole table once, after bdrl_env_create, and checks it (probabilities
 * summing to 1, next states in range, finite rewards). A terminal state is
 * one whose every outcome, under every action, is (1.0, itself, reward 0,
 * terminated). With a table, `bdrl eval` compares agents with the exact
 * return laws and agent.mode evaluate can follow the optimal policy. */
int bdrl_env_transitions(void *env, int state, int action, bdrl_env_outcome *out);

/* With spec.state_dim > 0: the current state, and setting it (writing the
 * observation of the new state into obs). set returns 0, or -1 for a state
 * the environment cannot be in (nothing changes then). */
void bdrl_env_get_state(void *env, double *state);
int bdrl_env_set_state(void *env, const double *state, float *obs);

/* Tabular plugins: a short label of a state for figures ("start", "fall"),
 * or NULL or "" for none; bdrl copies it at once (at most 63 bytes shown).
 * Without it, `bdrl plot dist` labels the layout's S and G and calls other
 * terminal states "terminal". */
const char *bdrl_env_state_label(void *env, int state);

#ifdef __cplusplus
}
#endif

#endif
