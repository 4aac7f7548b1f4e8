/* registry.c — the table of agent kinds; see registry.h.
 *
 * Adding an agent is one line here: X(name, "help for agent.kind"), where
 * the agent's source defines `const agent_class agent_<name>_class`.
 * Append only: a line's position is the kind's number in checkpoints.
 */
#include "agents/registry.h"

#include <string.h>

#define AGENT_REGISTRY(X)                                                                         \
    X(bd, "Bellman Diffusion fields (bd.*)")                                                       \
    X(c51, "the C51 histogram (c51.*)")                                                            \
    X(dqn, "DQN, Q-values without a distribution; its law is a point mass at Q (dqn.*)") \
    X(qrdqn, "QR-DQN quantiles at fixed levels (qrdqn.*)")                                         \
    X(iqn, "IQN's implicit quantile function (iqn.*)")

#define DECLARE(name, help) extern const agent_class agent_##name##_class;
AGENT_REGISTRY(DECLARE)
#undef DECLARE

static const struct {
    const char *name;
    const agent_class *cls;
} table[] = {
#define ENTRY(name, help) {#name, &agent_##name##_class},
    AGENT_REGISTRY(ENTRY)
#undef ENTRY
};

#define BARS(name, help) "|" #name
const char agent_kind_bars_[] = AGENT_REGISTRY(BARS);
#undef BARS

#define HELP(name, help) " " #name ": " help ";"
const char agent_kind_help[] = "the agent:" AGENT_REGISTRY(HELP) " all share the torso, optimizer, replay, "
                               "exploration and target schedule (train.*)";
#undef HELP

#define N_KINDS ((int)(sizeof table / sizeof table[0]))

int agent_kind_count(void) { return N_KINDS; }

const char *agent_kind_name(int k) { return k >= 0 && k < N_KINDS ? table[k].name : NULL; }

const agent_class *agent_class_of(int k) { return k >= 0 && k < N_KINDS ? table[k].cls : NULL; }

int agent_kind_find(const char *name)
{
    for (int k = 0; k < N_KINDS; k++)
        if (name && !strcmp(table[k].name, name))
            return k;
    return -1;
}

int agent_kind_of(const agent *a) { return a ? agent_kind_find(a->ops->name) : -1; }
