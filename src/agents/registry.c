/* registry.c — the table of agent kinds; see registry.h.
 *
 * Adding an agent is one line here: X(name, support, "help for agent.kind"),
 * where the agent's source defines `const agent_class agent_<name>_class`
 * and support is 1 if its laws live on [agent.v_min, agent.v_max].
 * Append only: a line's position is the kind's number in checkpoints.
 */
#include "agents/registry.h"

#include <stdio.h>
#include <string.h>

#define AGENT_REGISTRY(X)                                                                         \
    X(bd, 1, "Bellman Diffusion fields (bd.*)")                                                    \
    X(c51, 1, "the C51 histogram (c51.*)")                                                         \
    X(dqn, 0, "DQN, Q-values without a distribution; its law is a point mass at Q (dqn.*)")       \
    X(qrdqn, 0, "QR-DQN quantiles at fixed levels (qrdqn.*)")                                      \
    X(iqn, 0, "IQN's implicit quantile function (iqn.*)")

#define DECLARE(name, support, help) extern const agent_class agent_##name##_class;
AGENT_REGISTRY(DECLARE)
#undef DECLARE

static const struct {
    const char *name;
    const agent_class *cls;
    int support;
} table[] = {
#define ENTRY(name, support, help) {#name, &agent_##name##_class, support},
    AGENT_REGISTRY(ENTRY)
#undef ENTRY
};

#define BARS(name, support, help) "|" #name
const char agent_kind_bars_[] = AGENT_REGISTRY(BARS);
#undef BARS

#define HELP(name, support, help) " " #name ": " help ";"
const char agent_kind_help[] = "the agent:" AGENT_REGISTRY(HELP) " all share the torso, optimizer, replay, "
                               "exploration and target schedule (train.*)";
#undef HELP

#define N_KINDS ((int)(sizeof table / sizeof table[0]))

int agent_kind_count(void) { return N_KINDS; }

const char *agent_kind_name(int k) { return k >= 0 && k < N_KINDS ? table[k].name : NULL; }

const agent_class *agent_class_of(int k) { return k >= 0 && k < N_KINDS ? table[k].cls : NULL; }

int agent_kind_uses_support(int k) { return k >= 0 && k < N_KINDS && table[k].support; }

int agent_kind_find(const char *name)
{
    for (int k = 0; k < N_KINDS; k++)
        if (name && !strcmp(table[k].name, name))
            return k;
    return -1;
}

int agent_kind_of(const agent *a) { return a ? agent_kind_find(a->ops->name) : -1; }

const char *agent_variant_name(const char *kind, const exp_config *cfg, char *buf, size_t n)
{
    int nstep = cfg->agent.n_step > 1, per = cfg->replay.prioritized, dbl = cfg->agent.double_q,
        duel = cfg->agent.dueling, noisy = cfg->agent.noisy;
    if (nstep && per && dbl && duel && noisy) {
        snprintf(buf, n, "%s+rainbow", kind);
        return buf;
    }
    char nn[16];
    snprintf(nn, sizeof nn, "+n%d", cfg->agent.n_step);
    snprintf(buf, n, "%s%s%s%s%s%s", kind, nstep ? nn : "", per ? "+per" : "",
             dbl ? "+double" : "", duel ? "+dueling" : "", noisy ? "+noisy" : "");
    return buf;
}
