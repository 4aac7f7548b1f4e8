/* check.c — a configuration checked whole; see check.h. */
#include "train/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent.h"
#include "agents/registry.h"
#include "train/limits.h"
#include "truth/truth.h"
#include "core/rng.h"

/* 1 if a G can be reached from S through outcomes of positive probability
 * (the table's drawing, t->desc); also 1 when the drawing has no S or no G
 * (a plugin without a layout): nothing to check. */
static int fl_goal_reachable(const env_table *t)
{
    int S = t->n_states, A = t->n_actions, start = -1, found = 0;
    for (int s = 0; s < S && start < 0; s++)
        if (t->desc[s] == 'S')
            start = s;
    if (start < 0 || !memchr(t->desc, 'G', (size_t)S))
        return 1;
    int *queue = malloc(sizeof(int) * (size_t)S);
    char *seen = calloc((size_t)S, 1);
    if (!queue || !seen) {
        free(queue);
        free(seen);
        return 1; /* cannot tell: let training find out */
    }
    int head = 0, tail = 0;
    queue[tail++] = start;
    seen[start] = 1;
    while (head < tail && !found) {
        int s = queue[head++];
        if (t->desc[s] == 'G') {
            found = 1;
            break;
        }
        if (t->desc[s] == 'H')
            continue;
        for (int a = 0; a < A; a++)
            for (int k = 0; k < t->n_outcomes[s * A + a]; k++) {
                const env_outcome *o = env_table_outcome(t, s, a, k);
                if (o->prob > 0 && !seen[o->next_state]) {
                    seen[o->next_state] = 1;
                    queue[tail++] = o->next_state;
                }
            }
    }
    free(queue);
    free(seen);
    return found;
}

int exp_check_env(const exp_config *cfg, const env *en, bdrl_err *e)
{
    const env_table *t = env_transition_table(en);
    if (t && !fl_goal_reachable(t))
        return err_set(e, "map: no G (goal) can be reached from S; every return would be 0");
    if (env_max_steps(en) == ENV_NO_TIME_LIMIT)
        return err_set(e, "%s has no time limit (Gymnasium registers none), so a greedy evaluation episode that "
                          "never reaches the goal would never end: set env.max_episode_steps",
                       env_name(en));
    if (limits_check_experiment(cfg, en, e))
        return -1;
    if (cfg->agent.mode == AGENT_EVALUATE && !t)
        return err_set(e, "agent.mode evaluate follows the optimal policy of a transition table, and %s has none%s",
                       env_name(en), env_kind_describe(env_get_kind(en))->table == 2
                                         ? " (the plugin does not export bdrl_env_transitions)" : "");
    if (cfg->agent.mode == AGENT_EVALUATE) {
        int *policy = t ? calloc((size_t)t->n_states, sizeof *policy) : NULL;
        int bad = !t || !policy || truth_env_optimal_policy(en, cfg->agent.gamma, policy);
        free(policy);
        if (bad)
            return err_set(e, "agent.mode evaluate: value iteration found no optimal policy (it needs a transition table; "
                              "γ = %g)",
                           cfg->agent.gamma);
    }
    return 0;
}

int exp_check(const exp_config *cfg, bdrl_err *e)
{
    env *en = env_create(&cfg->env, e);
    if (!en)
        return -1;
    int rc = exp_check_env(cfg, en, e);
    if (!rc) {
        rng *init = rng_create((uint64_t)cfg->seed, RNG_STREAM_INIT);
        agent *a = init ? agent_create(cfg, en, init, e) : NULL;
        if (!init)
            err_set(e, "out of memory");
        rc = a ? 0 : -1;
        agent_free(a);
        rng_free(init);
    }
    env_free(en);
    return rc;
}

int exp_check_warning(const exp_config *cfg, char *warn, size_t n, bdrl_err *e)
{
    warn[0] = '\0';
    if (!agent_kind_uses_support(cfg->agent.kind))
        return 0;
    env *en = env_create(&cfg->env, e);
    if (!en)
        return -1;
    const env_table *t = env_transition_table(en);
    double lo, hi, vmin = cfg->agent.v_min, vmax = cfg->agent.v_max;
    bdrl_err why;
    if (t && !truth_tab_return_range(t, cfg->agent.gamma, &lo, &hi, &why)) {
        double tol = 1e-9 * fmax(1.0, hi - lo);
        if (lo < vmin - tol || hi > vmax + tol)
            snprintf(warn, n, "%s's support [agent.v_min, agent.v_max] = [%g, %g] does not cover the returns of %s, "
                              "[%g, %g] (exact, from its transition table at gamma %g): laws outside it cannot be "
                              "learned; set agent.v_min and agent.v_max",
                     agent_kind_name(cfg->agent.kind), vmin, vmax, env_name(en), lo, hi, cfg->agent.gamma);
    }
    env_free(en);
    return 0;
}
