/* minatar.c — the wrapper that makes each MinAtar game a bdrl environment:
 * sticky actions, the action sets, seeding, the observation buffer, and
 * `bdrl env info`'s description. minatar.h says what it reproduces and
 * how; the games are in minatar_*.c. Written for bdrl (MIT) from MinAtar's
 * behaviour, not translated from its (GPL-3.0) code.
 */
#include "minatar.h"

#include <stdlib.h>
#include <string.h>

static const char *const FULL_NAMES[MN_N_FULL] = {"noop", "left", "up", "right", "down", "fire"};

int minatar_init(env *e, const env_config *c, bdrl_err *err)
{
    const minatar_game *g = e->cls->impl;
    if (!(c->sticky_action_prob >= 0 && c->sticky_action_prob <= 1))
        return err_set(err, "env.sticky_action_prob must be in [0, 1], got %g", c->sticky_action_prob);
    minatar *m = err_calloc(1, sizeof *m, err);
    if (!m)
        return -1;
    e->mn = m;
    m->g = g;
    m->sticky = c->sticky_action_prob;
    m->ramping = c->difficulty_ramping != 0;
    m->last_action = MN_NOOP;
    np_random_seed(&m->rng, 0);
    int n = c->minimal_actions ? g->n_minimal : MN_N_FULL;
    for (int a = 0; a < n; a++) {
        m->action_set[a] = c->minimal_actions ? g->minimal[a] : a;
        m->action_names[a] = FULL_NAMES[m->action_set[a]];
    }
    e->n_actions = n;
    e->action_names = m->action_names;
    e->obs_dim = 100 * g->channels;
    e->state_dim = 0;
    e->n_states = 0;
    m->obs = e->obs;
    return 0;
}

void minatar_release(env *e)
{
    free(e->mn);
    e->mn = NULL;
}

void minatar_seed(env *e, uint64_t seed)
{
    np_random_seed(&e->mn->rng, (uint32_t)seed);
}

/* Clears the last observation's ones and writes the current ones. */
static void observe(minatar *m)
{
    for (int i = 0; i < m->n_on; i++)
        m->obs[m->on[i]] = 0.0f;
    m->n_on = m->g->observe(m, m->obs, m->on);
}

void minatar_reset(env *e)
{
    minatar *m = e->mn;
    memset(m->state, 0, sizeof m->state);
    m->g->reset(m);
    observe(m);
}

void minatar_step(env *e, int action, env_step *out)
{
    minatar *m = e->mn;
    int a = m->action_set[action];
    /* MinAtar draws the sticky number on every step, whatever the probability. */
    if (np_random_sample(&m->rng) < m->sticky)
        a = m->last_action;
    m->last_action = a;
    int terminal = 0;
    out->reward = m->g->act(m, a, &terminal);
    out->terminated = terminal;
    observe(m);
    out->obs = e->obs;
}

int minatar_get_carry(const env *e) { return e->mn->last_action; }

void minatar_set_carry(env *e, int carry) { e->mn->last_action = carry; }

int minatar_success(const env *e, const env_step *st)
{
    (void)e;
    (void)st;
    return 0;
}

void minatar_describe(const env *e, const env_config *c, FILE *f)
{
    const minatar *m = e->mn;
    const minatar_game *g = m->g;
    fprintf(f, "game: MinAtar 1.0.15 %s, %s action set\n", g->name, c->minimal_actions ? "minimal" : "full");
    fprintf(f, "actions:");
    for (int a = 0; a < e->n_actions; a++)
        fprintf(f, " %d %s%s", a, m->action_names[a], a + 1 < e->n_actions ? "," : "\n");
    fprintf(f, "observation: 10x10x%d cells of 0/1 in C order, index (y*10 + x)*%d + c; channels:", g->channels,
            g->channels);
    for (int k = 0; k < g->channels; k++)
        fprintf(f, " %d %s%s", k, g->channel_names[k], k + 1 < g->channels ? "," : "\n");
    fprintf(f, "sticky actions: the previous action repeats with probability %g (drawn every step; the last "
               "episode's last action counts after a reset)\n",
            c->sticky_action_prob);
    if (g->ramps)
        fprintf(f, "difficulty ramping: %s\n", c->difficulty_ramping ? "on" : "off");
    fprintf(f, "seed: numpy RandomState(low 32 bits of the episode seed), then reset\n");
    fprintf(f, "time limit: MinAtar has none; bdrl truncates at env.max_episode_steps\n");
    fprintf(f, "%s\n", g->rules);
}
