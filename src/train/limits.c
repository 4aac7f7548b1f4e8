/* limits.c — memory estimates of a run's configuration; see limits.h. */
#include "train/limits.h"

#include <string.h>

#include "agents/registry.h"
#include "core/memlimit.h"
#include "fields/real.h"
#include "train/replay.h"

/* The replay and checkpoint parts here (the replay's from its own layout,
 * replay.h: bits for binary observations, each observation once, the
 * priorities' tree; a checkpoint's replay section is about as large), the
 * agent's own parts from its registry entry; returns the keys that size
 * the agent's parts. */
static const char *estimate(const exp_config *cfg, const env *en, sizing_estimate *out)
{
    memset(out, 0, sizeof *out);
    double params = 0;
    replay_spec rs;
    replay_spec_of(&rs, cfg, env_obs_dim(en), env_obs_is_binary(en));
    out->replay = replay_estimate_bytes(&rs);
    const agent_class *c = agent_class_of(cfg->agent.kind);
    const char *hint = c ? c->memory(cfg, en, out, &params) : "agent.kind";
    out->checkpoint = out->replay + 3 * params * sizeof(real);
    out->total = out->replay + out->networks + out->scratch + out->checkpoint;
    return hint;
}

void limits_estimate_experiment(const exp_config *cfg, const env *en, sizing_estimate *out)
{
    estimate(cfg, en, out);
}

int limits_check_experiment(const exp_config *cfg, const env *en, bdrl_err *e)
{
    sizing_estimate est;
    const char *agent_keys = estimate(cfg, en, &est);
    const char *part = "replay buffer", *hint = "train.buffer_size";
    double big = est.replay;
    if (est.networks + est.scratch > big) {
        part = "networks and their buffers";
        big = est.networks + est.scratch;
        hint = agent_keys;
    }
    return memlimit_check_bytes("the configuration", est.total, part, big, hint, e);
}
