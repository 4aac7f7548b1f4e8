/* tabular.c — what FrozenLake and CliffWalking share: a Gymnasium toy-text
 * env is its table P (state -> action -> [(prob, next, reward, terminated)])
 * and an initial state distribution, and
 *   reset: s = categorical_sample(initial_state_distrib, np_random)
 *   step:  i = categorical_sample([p for p in P[s][a]], np_random)
 * with categorical_sample(p) = argmax(cumsum(p) > np_random.random())
 * (gymnasium/envs/toy_text/utils.py). Both have one start state, so a reset
 * draws once and lands there whatever the draw. */
#include "env_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tab_alloc(env *e, int nrow, int ncol, int n_actions, int max_outcomes, bdrl_err *err)
{
    const int ns = nrow * ncol;
    tab_data *t = err_calloc(1, sizeof *t, err);
    if (!t)
        return -1;
    e->tab = t;
    t->desc = err_calloc((size_t)ns + 1, 1, err);
    t->table.n_outcomes = err_calloc((size_t)ns * (size_t)n_actions, sizeof *t->table.n_outcomes, err);
    t->table.outcomes = err_calloc((size_t)ns * (size_t)n_actions * (size_t)max_outcomes, sizeof *t->table.outcomes,
                                   err);
    t->table.terminal = err_calloc((size_t)ns, 1, err);
    if (!t->desc || !t->table.n_outcomes || !t->table.outcomes || !t->table.terminal)
        return -1; /* env_free releases the parts */
    t->table.nrow = nrow;
    t->table.ncol = ncol;
    t->table.n_states = ns;
    t->table.n_actions = n_actions;
    t->table.max_outcomes = max_outcomes;
    t->table.desc = t->desc;
    return 0;
}

void tab_finish(env *e, int keep_terminal)
{
    tab_data *t = e->tab;
    if (!keep_terminal)
        env_table_mark_terminal(&t->table);
    e->table = &t->table;
    e->tabular = 1;
    e->n_actions = t->table.n_actions;
    e->obs_dim = 1;
    e->state_dim = 1;
    e->n_states = t->table.n_states;
    t->s = t->start;
    e->obs[0] = (float)t->s;
}

void tab_release(env *e)
{
    tab_data *t = e->tab;
    if (!t)
        return;
    free(t->desc);
    free(t->table.n_outcomes);
    free(t->table.outcomes);
    free(t->table.terminal);
    free(t);
    e->tab = NULL;
}

void tab_reset(env *e)
{
    /* categorical_sample over the initial distribution: one start state,
     * so the result is fixed, but the draw is made and the stream advances
     * as Gymnasium's does. */
    (void)rng_uniform(e->r);
    e->tab->s = e->tab->start;
    e->obs[0] = (float)e->tab->s;
}

/* Here rather than in env.c so that tab_step inlines it (FrozenLake's step
 * was 11% slower through two calls). */
int env_table_sample(const env_table *t, int s, int a, double u)
{
    int sa = s * t->n_actions + a, n = t->n_outcomes[sa];
    const env_outcome *o = t->outcomes + (size_t)sa * (size_t)t->max_outcomes;
    double cum = 0.0;
    for (int i = 0; i < n; i++) {
        cum += o[i].prob;
        if (cum > u)
            return i;
    }
    return 0; /* argmax of an all-false array */
}

void tab_step(env *e, int action, env_step *out)
{
    tab_data *t = e->tab;
    const env_table *tb = &t->table;
    const env_outcome *o = tb->outcomes + (size_t)(t->s * tb->n_actions + action) * (size_t)tb->max_outcomes;
    int k = env_table_sample(tb, t->s, action, rng_uniform(e->r));
    t->s = o[k].next_state;
    e->obs[0] = (float)t->s;
    out->obs = e->obs;
    out->reward = o[k].reward;
    out->terminated = o[k].terminated;
}

void tab_get_state(const env *e, double *state) { state[0] = (double)e->tab->s; }

int tab_set_state(env *e, const double *state, bdrl_err *err)
{
    double v = state[0];
    if (!(v >= 0.0 && v < (double)e->n_states) || v != floor(v))
        return err_set(err, "%s state must be an integer in [0, %d), got %g", e->cls->info.gym_id, e->n_states, v);
    e->tab->s = (int)v;
    e->obs[0] = (float)e->tab->s;
    return 0;
}

int tab_success(const env *e, const env_step *st) { return st->terminated && e->tab->desc[e->tab->s] == 'G'; }

const char *tab_state_label(const env *e, int s)
{
    switch (e->tab->desc[s]) {
    case 'S': return "S start";
    case 'H': return "H hole";
    case 'G': return "G goal";
    case 'C': return "C cliff";
    default: return "";
    }
}

void tab_print_grid(const env *e, FILE *f)
{
    const env_table *t = &e->tab->table;
    for (int r = 0; r < t->nrow; r++)
        fprintf(f, "  %.*s\n", t->ncol, t->desc + r * t->ncol);
}
