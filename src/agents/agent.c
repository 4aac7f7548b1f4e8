/* agent.c — creation through the registry, and the helpers every agent
 * shares. */
#include "agents/agent.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/registry.h"
#include "fields/mlp.h"

agent *agent_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    const agent_class *c = agent_class_of(cfg->agent.kind);
    if (!c) {
        err_set(e, "unknown agent.kind %d", cfg->agent.kind);
        return NULL;
    }
    agent *a = c->create(cfg, en, init, e);
    if (!a)
        return NULL;
    a->risk = cfg->agent.risk;
    if (a->risk.measure != RISK_MEAN && !a->ops->risk_values) {
        char name[64];
        risk_spec_format(&a->risk, name, sizeof name);
        err_set(e, "agent.risk: %s needs a learned return law; a %s agent learns only its mean (use mean)", name,
                a->ops->name);
        agent_free(a);
        return NULL;
    }
    if (cfg->agent.noisy && !a->ops->noise) {
        err_set(e, "agent.noisy: the %s agent has no noisy layers (set it false)", a->ops->name);
        agent_free(a);
        return NULL;
    }
    if (cfg->agent.risk_target && a->risk.measure != RISK_MEAN && !a->ops->risk_target) {
        /* The grid agent shares the name bd with the basis agent, which has it. */
        int grid = !strcmp(a->ops->name, "bd") && cfg->bd.field == BD_FIELD_GRID;
        err_set(e, "agent.risk_target: the %s agent%s picks a* by its mean only (set it false%s)", a->ops->name,
                grid ? " with bd.field grid" : "", grid ? ", or use bd.field basis" : "");
        agent_free(a);
        return NULL;
    }
    return a;
}

int agent_action_values(agent *a, int B, const float *obs, double *out, bdrl_err *e)
{
    if (a->risk.measure == RISK_MEAN)
        return a->ops->q_values(a, B, obs, out, e);
    if (!a->ops->risk_values) {
        char name[64];
        risk_spec_format(&a->risk, name, sizeof name);
        return err_set(e, "agent.risk: %s needs a learned return law; a %s agent learns only its mean", name,
                       a->ops->name);
    }
    return a->ops->risk_values(a, B, obs, &a->risk, out, e);
}

void agent_sampler_defaults(const agent *a, sde_config *sc)
{
    if (a->ops->sampler_defaults)
        a->ops->sampler_defaults(a, sc);
    else
        sde_config_default(sc);
}

int agent_sample(agent *a, const float *obs, int action, const sde_config *sc, int n, double *returns,
                 sde_result *res, rng *r, bdrl_err *e)
{
    if (!a->ops->sample)
        return err_set(e, "a %s agent has no fields to sample", a->ops->name);
    return a->ops->sample(a, obs, action, sc, n, returns, res, r, e);
}

void agent_noise_nets(mlp *const *online, int n_on, mlp *const *target, int n_tg, agent_noise mode, rng *r)
{
    for (int k = 0; k < n_on; k++)
        if (online[k]) {
            if (mode == AGENT_NOISE_OFF)
                mlp_noise_set(online[k], 0);
            else
                mlp_noise_sample(online[k], r);
        }
    for (int k = 0; k < n_tg; k++)
        if (target[k]) {
            if (mode == AGENT_NOISE_OFF)
                mlp_noise_set(target[k], 0);
            else if (mode == AGENT_NOISE_UPDATE)
                mlp_noise_sample(target[k], r);
        }
}

void agent_free(agent *a)
{
    if (a)
        a->ops->free(a);
}

int agent_greedy(agent *a, const float *obs, int *action, bdrl_err *e)
{
    double qs[16], *q = qs;
    if (a->n_actions > 16 && !(q = err_malloc(sizeof(double) * (size_t)a->n_actions, e)))
        return -1;
    int rc = agent_action_values(a, 1, obs, q, e);
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

/* The first non-finite entry of p (n), or -1. A float is non-finite when
 * its exponent bits are all ones: one integer mask-and-compare per entry,
 * OR-ed together, which vectorizes (integer operations reassociate
 * freely; the x·0 float sum this replaces was a chain of dependent
 * additions, 8% of C51's MinAtar training loop with an update every step:
 * 150k parameters after every update). Only a bad network is scanned twice. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("-ftree-vectorize", "-fvect-cost-model=dynamic")))
#endif
static long first_nonfinite(const real *p, size_t n)
{
    _Static_assert(sizeof(real) == sizeof(uint32_t) || sizeof(real) == sizeof(uint64_t), "real is float or double");
    int bad = 0;
    if (sizeof(real) == sizeof(uint32_t)) {
        uint32_t any = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, p + i, sizeof u);
            any |= (u & 0x7f800000u) == 0x7f800000u;
        }
        bad = any != 0;
    } else {
        uint64_t any = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t u;
            memcpy(&u, p + i, sizeof u);
            any |= (u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
        }
        bad = any != 0;
    }
    if (!bad)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return (long)i;
    return -1;
}

int agent_params_nonfinite(agent *a, char *what, size_t n)
{
    agent_param_block b[AGENT_MAX_PARAM_BLOCKS];
    int nb = a->ops->params(a, b);
    for (int k = 0; k < nb; k++) {
        long i = first_nonfinite(b[k].p, b[k].n);
        if (i < 0)
            continue;
        real x = b[k].p[i];
        snprintf(what, n, "%s parameter %ld (%s)", b[k].name, i, isnan(x) ? "nan" : x > 0 ? "+inf" : "-inf");
        return 1;
    }
    return 0;
}

int agent_check_batch(const char *who, const agent_batch *b, int max_batch, int n_actions, bdrl_err *e)
{
    if (b->B < 1 || b->B > max_batch)
        return err_set(e, "%s: batch of %d rows (this agent was built for 1 to %d)", who, b->B, max_batch);
    for (int i = 0; i < b->B; i++) {
        if (b->action[i] < 0 || b->action[i] >= n_actions ||
            (b->next_action && !b->terminated[i] && (b->next_action[i] < 0 || b->next_action[i] >= n_actions)))
            return err_set(e, "%s: action out of range in row %d of the batch", who, i);
        if (!isfinite(b->reward[i]))
            return err_set(e, "%s: reward %g in row %d of the batch is not finite", who, (double)b->reward[i], i);
        /* A terminal row never reads its discount; the others need a factor
         * of a contraction (the grid BD agent divides by it and refuses 0
         * itself). */
        if (b->discount && !b->terminated[i] && !(b->discount[i] >= 0 && b->discount[i] <= 1))
            return err_set(e, "%s: discount %g in row %d of the batch is not in [0, 1]", who, b->discount[i], i);
        if (b->weight && !(b->weight[i] >= 0 && isfinite(b->weight[i])))
            return err_set(e, "%s: weight %g in row %d of the batch is not finite and >= 0", who,
                           (double)b->weight[i], i);
    }
    return 0;
}
