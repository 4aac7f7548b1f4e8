/* chain.c — an example bdrl environment plugin: a chain with a safe and a
 * risky route, small enough that its return law is known exactly.
 *
 * States 0 .. L-1 are the chain (start 0), L the goal, L+1 the fall; the
 * observation is the state index (a tabular plugin). Two actions:
 *   0 "safe":  move one state on with probability 1 - slip (stay with slip);
 *              entering the goal pays 1, every other step 0;
 *   1 "risky": jump to the goal with probability p_risky (reward 1), else
 *              fall (reward reward_fall); both end the episode.
 * The goal and the fall are terminal (every outcome: probability 1, the
 * state itself, reward 0, terminated).
 *
 * Exact law with slip = 0, under the optimal policy (safe everywhere while
 * gamma^(L-1-i) > p_risky + (1 - p_risky) reward_fall, true for the
 * defaults):
 *   Z(i, safe)  = the atom gamma^(L-1-i)           (i = 0 .. L-1)
 *   Z(i, risky) = 1 w.p. p_risky, reward_fall w.p. 1 - p_risky.
 * With the defaults (L 3, p_risky 0.7, reward_fall -1) and gamma 0.9:
 * Z(0, safe) = 0.81, Z(1, safe) = 0.9, Z(2, safe) = 1, and every
 * Z(i, risky) is -1 w.p. 0.3, +1 w.p. 0.7.
 *
 * Params (env.params): length (L, 1..1000), p_risky, slip, reward_fall.
 * Build: cc -std=c11 -shared -fPIC -I$PREFIX/include chain.c -o libchain.so
 */
#include <bdrl/env_plugin.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int length, s;
    double p_risky, slip, reward_fall;
    double (*uniform)(void *);
    void *stream;
    char layout[1003];
} chain;

static const char *const ACTIONS[2] = {"safe", "risky"};

int bdrl_env_plugin_version(void) { return BDRL_ENV_PLUGIN_VERSION; }

static int read_real(const char *key, const char *text, double lo, double hi, double *out, char *err,
                     size_t n)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !(v >= lo && v <= hi)) {
        snprintf(err, n, "chain: param %s must be a number in [%g, %g], got '%s'", key, lo, hi, text);
        return -1;
    }
    *out = v;
    return 0;
}

void *bdrl_env_create(const bdrl_env_host *host, bdrl_env_spec *spec, char *err, size_t err_size)
{
    chain *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_size, "chain: out of memory");
        return NULL;
    }
    c->length = 3;
    c->p_risky = 0.7;
    c->slip = 0.0;
    c->reward_fall = -1.0;
    for (int i = 0; i < host->n_params; i++) {
        const char *k = host->params[i].key, *v = host->params[i].value;
        double x;
        int bad = 0;
        if (!strcmp(k, "length")) {
            bad = read_real(k, v, 1, 1000, &x, err, err_size) || x != floor(x);
            if (bad && x != floor(x))
                snprintf(err, err_size, "chain: param length must be an integer in [1, 1000], got '%s'", v);
            c->length = (int)x;
        } else if (!strcmp(k, "p_risky")) {
            bad = read_real(k, v, 0, 1, &c->p_risky, err, err_size);
        } else if (!strcmp(k, "slip")) {
            bad = read_real(k, v, 0, 0.99, &c->slip, err, err_size);
        } else if (!strcmp(k, "reward_fall")) {
            bad = read_real(k, v, -1e6, 1e6, &c->reward_fall, err, err_size);
        } else {
            snprintf(err, err_size, "chain: unknown param '%s' (length, p_risky, slip, reward_fall)", k);
            bad = 1;
        }
        if (bad) {
            free(c);
            return NULL;
        }
    }
    c->uniform = host->uniform;
    c->stream = host->stream;
    int L = c->length;
    c->layout[0] = 'S';
    for (int i = 1; i < L; i++)
        c->layout[i] = 'F';
    c->layout[L] = 'G';
    c->layout[L + 1] = 'H';
    c->layout[L + 2] = '\0';
    spec->name = "chain";
    spec->obs_dim = 1;
    spec->n_actions = 2;
    spec->action_names = ACTIONS;
    spec->n_states = L + 2;
    spec->max_outcomes = 2;
    spec->max_episode_steps = 100;
    spec->state_dim = 1;
    spec->state_names = "state";
    spec->layout = c->layout;
    spec->layout_rows = 1;
    return c;
}

void bdrl_env_destroy(void *env) { free(env); }

void bdrl_env_reset(void *env, float *obs)
{
    chain *c = env;
    c->s = 0;
    obs[0] = 0.0f;
}

/* The outcomes of (s, a), in a fixed order; returns how many. */
int bdrl_env_transitions(void *env, int s, int a, bdrl_env_outcome *out)
{
    const chain *c = env;
    int L = c->length;
    if (s >= L) { /* goal or fall: terminal */
        out[0] = (bdrl_env_outcome){1.0, s, 0.0, 1};
        return 1;
    }
    if (a == 1) {
        out[0] = (bdrl_env_outcome){c->p_risky, L, 1.0, 1};
        out[1] = (bdrl_env_outcome){1.0 - c->p_risky, L + 1, c->reward_fall, 1};
        return 2;
    }
    int goal = s + 1 == L;
    out[0] = (bdrl_env_outcome){1.0 - c->slip, s + 1, goal ? 1.0 : 0.0, goal};
    if (c->slip > 0) {
        out[1] = (bdrl_env_outcome){c->slip, s, 0.0, 0};
        return 2;
    }
    return 1;
}

void bdrl_env_step(void *env, int action, float *obs, double *reward, int *terminated)
{
    chain *c = env;
    bdrl_env_outcome o[2];
    int n = bdrl_env_transitions(c, c->s, action, o);
    /* sample an outcome with one uniform draw, in the table's order */
    double u = c->uniform(c->stream), cum = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        cum += o[i].prob;
        if (u < cum) {
            k = i;
            break;
        }
        k = i;
    }
    c->s = o[k].next_state;
    obs[0] = (float)c->s;
    *reward = o[k].reward;
    *terminated = o[k].terminated;
}

void bdrl_env_get_state(void *env, double *state) { state[0] = ((chain *)env)->s; }

/* Labels for figures (bdrl plot dist): the layout's letters say start and
 * goal; the fall, a terminal state, would otherwise be just "terminal". */
const char *bdrl_env_state_label(void *env, int state)
{
    const chain *c = env;
    return state == c->length + 1 ? "fall" : NULL;
}

int bdrl_env_set_state(void *env, const double *state, float *obs)
{
    chain *c = env;
    double v = state[0];
    if (!(v >= 0 && v < c->length + 2) || v != floor(v))
        return -1;
    c->s = (int)v;
    obs[0] = (float)c->s;
    return 0;
}
