/* agent.c — creation by kind, and the helpers every agent shares. */
#include "agents/agent.h"

#include <math.h>
#include <stdlib.h>

#include "agents/bd.h"
#include "agents/c51.h"

agent *agent_create(const exp_config *cfg, const env *en, rng *init, bd_err *e)
{
    switch ((agent_kind)cfg->agent.kind) {
    case AGENT_C51:
        return agent_c51_create(cfg, en, init, e);
    case AGENT_BD:
        return agent_bd_create(cfg, en, init, e);
    }
    err_set(e, "unknown agent.kind %d", cfg->agent.kind);
    return NULL;
}

void agent_free(agent *a)
{
    if (a)
        a->ops->free(a);
}

int agent_greedy(agent *a, const float *obs, int *action, bd_err *e)
{
    double qs[16], *q = qs;
    if (a->n_actions > 16 && !(q = err_malloc(sizeof(double) * (size_t)a->n_actions, e)))
        return -1;
    int rc = agent_q_values(a, 1, obs, q, e);
    if (rc == 0) {
        int best = 0;
        for (int k = 1; k < a->n_actions; k++)
            if (q[k] > q[best])
                best = k;
        *action = best;
        for (int k = 0; k < a->n_actions; k++)
            if (isnan(q[k]))
                rc = err_set(e, "%s: Q value of action %d is NaN", a->ops->name, k);
    }
    if (q != qs)
        free(q);
    return rc;
}
