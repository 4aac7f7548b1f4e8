/* gamble.c — a one-step gamble, the smallest plugin on which the cases of
 * tests/test_plugin_runs.c show: two outcomes that share one next state
 * with different rewards, returns outside the default support [0, 1], a
 * terminal state that is no "hole" (its label, bdrl_env_state_label, is
 * "end"), and (built with -DGAMBLE_NO_TABLE) a plugin without a transition
 * table whose state can be set.
 *
 * State 0 is the start, state 1 the end (terminal). Actions:
 *   0 "gamble": to the end, reward win (default 3) with probability p_win
 *               (default 0.5), else lose (default -1);
 *   1 "pass":   to the end, reward 0.
 * Params: p_win, win, lose. Built by the Makefile as $(BUILD)/plugins/gamble.so
 * and gamble_notable.so against the in-tree header.
 */
#include <bdrl/env_plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int s;
    double p_win, win, lose;
    double (*uniform)(void *);
    void *stream;
} gamble;

static const char *const ACTIONS[2] = {"gamble", "pass"};

int bdrl_env_plugin_version(void) { return BDRL_ENV_PLUGIN_VERSION; }

void *bdrl_env_create(const bdrl_env_host *host, bdrl_env_spec *spec, char *err, size_t err_size)
{
    gamble *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, err_size, "gamble: out of memory");
        return NULL;
    }
    g->p_win = 0.5;
    g->win = 3;
    g->lose = -1;
    for (int i = 0; i < host->n_params; i++) {
        const char *k = host->params[i].key;
        char *end;
        double v = strtod(host->params[i].value, &end);
        double *dst = !strcmp(k, "p_win") ? &g->p_win : !strcmp(k, "win") ? &g->win : !strcmp(k, "lose") ? &g->lose : NULL;
        if (!dst || *end || !isfinite(v) || (dst == &g->p_win && !(v >= 0 && v <= 1))) {
            snprintf(err, err_size, "gamble: bad param %s=%s (p_win in [0, 1], win, lose)", k, host->params[i].value);
            free(g);
            return NULL;
        }
        *dst = v;
    }
    g->uniform = host->uniform;
    g->stream = host->stream;
    spec->name = "gamble";
    spec->obs_dim = 1;
    spec->n_actions = 2;
    spec->action_names = ACTIONS;
#ifndef GAMBLE_NO_TABLE
    spec->n_states = 2;
    spec->max_outcomes = 2;
#endif
    spec->max_episode_steps = 10;
    spec->state_dim = 1;
    spec->state_names = "state";
    return g;
}

void bdrl_env_destroy(void *env) { free(env); }

void bdrl_env_reset(void *env, float *obs)
{
    ((gamble *)env)->s = 0;
    obs[0] = 0;
}

#ifndef GAMBLE_NO_TABLE
int bdrl_env_transitions(void *env, int s, int a, bdrl_env_outcome *out)
{
    const gamble *g = env;
    if (s == 1 || a == 1) {
        out[0] = (bdrl_env_outcome){1.0, 1, 0.0, 1};
        return 1;
    }
    out[0] = (bdrl_env_outcome){g->p_win, 1, g->win, 1};
    out[1] = (bdrl_env_outcome){1.0 - g->p_win, 1, g->lose, 1};
    return 2;
}
#endif

void bdrl_env_step(void *env, int action, float *obs, double *reward, int *terminated)
{
    gamble *g = env;
    *reward = action == 1 ? 0.0 : g->uniform(g->stream) < g->p_win ? g->win : g->lose;
    g->s = 1;
    obs[0] = 1;
    *terminated = 1;
}

void bdrl_env_get_state(void *env, double *state) { state[0] = ((gamble *)env)->s; }

const char *bdrl_env_state_label(void *env, int state)
{
    (void)env;
    return state == 1 ? "end" : NULL; /* the start: no label */
}

int bdrl_env_set_state(void *env, const double *state, float *obs)
{
    if (state[0] != 0 && state[0] != 1)
        return -1;
    ((gamble *)env)->s = (int)state[0];
    obs[0] = (float)state[0];
    return 0;
}
