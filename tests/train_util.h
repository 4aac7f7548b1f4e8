/* train_util.h — helpers of the trainer's tests (test_train, test_resume,
 * test_support, test_failed_runs): a configuration from --set lines, a run
 * directory's files, and an agent that fails on purpose at a chosen
 * update. Include after test_util.h. */
#ifndef BDRL_TRAIN_UTIL_H
#define BDRL_TRAIN_UTIL_H

#include "agents/agent.h"
#include "agents/experiment.h"

static inline void tu_load_cfg(exp_config *cfg, char **sets, int n)
{
    bdrl_err e;
    if (exp_load(cfg, NULL, sets, n, &e))
        fail_msg("%s", e.msg);
}

/* DIR/NAME's text (caller frees); fails the test if it is missing. */
static inline char *tu_read_in(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *t = tu_read(p);
    if (!t)
        fail_msg("missing %s", p);
    return t;
}

/* A number from summary.json ("key": value); NAN if null or absent. */
static inline double tu_json_number(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NAN;
    p += strlen(pat);
    return strncmp(p, "null", 4) ? strtod(p, NULL) : NAN;
}

/* An agent whose update number tu_fail_at (from 1) reports a NaN loss
 * (tu_fail_nan) or fails with an error: train_options.make_agent. */
static int tu_fail_at, tu_fail_nan, tu_fail_updates;
static const agent_ops *tu_real_ops;
static agent_ops tu_failing_ops;

static inline int tu_failing_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    int rc = tu_real_ops->update(a, b, st, e);
    if (++tu_fail_updates == tu_fail_at) {
        if (!tu_fail_nan)
            return err_set(e, "the agent's own error, on purpose");
        st->loss = NAN;
    }
    return rc;
}

/* An agent of cfg for en with its networks initialized from stream
 * RNG_STREAM_INIT of seed, as a run seeds them; fails the test naming who. */
static inline agent *tu_agent_seeded(const exp_config *cfg, const env *en, uint64_t seed, const char *who)
{
    bdrl_err e;
    rng *init = rng_create(seed, RNG_STREAM_INIT);
    agent *a = agent_create(cfg, en, init, &e);
    rng_free(init);
    if (!a)
        fail_msg("%s: %s", who, e.msg);
    return a;
}

static inline agent *tu_make_failing_agent(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    agent *a = agent_create(cfg, en, init, e);
    if (!a)
        return NULL;
    tu_real_ops = a->ops;
    tu_failing_ops = *a->ops;
    tu_failing_ops.update = tu_failing_update;
    a->ops = &tu_failing_ops;
    tu_fail_updates = 0;
    return a;
}

#endif
