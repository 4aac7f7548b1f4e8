/* agent.c — creation by kind, and the helpers every agent shares. */
#include "agents/agent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "agents/bd.h"
#include "agents/c51.h"
#include "agents/iqn.h"
#include "agents/qrdqn.h"

agent *agent_create(const exp_config *cfg, const env *en, rng *init, bd_err *e)
{
    switch ((agent_kind)cfg->agent.kind) {
    case AGENT_C51:
        return agent_c51_create(cfg, en, init, e);
    case AGENT_BD:
        return agent_bd_create(cfg, en, init, e);
    case AGENT_QRDQN:
        return agent_qrdqn_create(cfg, en, init, e);
    case AGENT_IQN:
        return agent_iqn_create(cfg, en, init, e);
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

/* The first non-finite entry of p (n), or -1. x·0 is 0 for finite x and NaN
 * otherwise, so the sum vectorizes and only a bad network is scanned twice. */
static long first_nonfinite(const real *p, size_t n)
{
    real z = 0;
    for (size_t i = 0; i < n; i++)
        z += p[i] * (real)0;
    if (z == 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return (long)i;
    return -1;
}

static int check_net(const mlp *m, const char *name, char *what, size_t n)
{
    long i = m ? first_nonfinite(m->params, m->n_params) : -1;
    if (i < 0)
        return 0;
    snprintf(what, n, "%s parameter %ld (%s)", name, i, isnan(m->params[i]) ? "nan" : m->params[i] > 0 ? "+inf" : "-inf");
    return 1;
}

int agent_params_nonfinite(agent *a, char *what, size_t n)
{
    if (a->kind == AGENT_C51)
        return check_net(c51_online(a), "c51 network", what, n);
    if (a->kind == AGENT_QRDQN)
        return check_net(qrdqn_online(a), "qrdqn network", what, n);
    if (a->kind == AGENT_IQN) {
        static const char *parts[3] = {"iqn torso", "iqn cosine embedding", "iqn head"};
        for (int p = 0; p < 3; p++)
            if (check_net(iqn_net(a, IQN_ONLINE, (iqn_part)p), parts[p], what, n))
                return 1;
        return 0;
    }
    static const char *names[2][2] = {{"bd scalar-field torso", "bd scalar-field head"},
                                      {"bd gradient-field torso", "bd gradient-field head"}};
    for (int f = 0; f < 2; f++)
        for (int part = 0; part < 2; part++)
            if (check_net(bd_net(a, (bd_field)f, part, 0), names[f][part], what, n))
                return 1;
    return 0;
}
