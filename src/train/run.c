/* run.c — opening a finished (or checkpointed) run directory; see run.h. */
#include "train/run.h"

#include <stdlib.h>

#include "train/checkpoint.h"
#include "train/train.h"
#include "core/io.h"
#include "core/rng.h"

int run_load(const char *dir, exp_config *cfg, env **en, agent **a, bdrl_err *e)
{
    char path[4096];
    *en = NULL;
    *a = NULL;
    if (io_join(path, sizeof path, dir, RUN_FILE_CONFIG, e))
        return -1;
    if (!io_exists(path))
        return err_set(e, "%s: not a run directory (no " RUN_FILE_CONFIG ")", dir);
    if (exp_load(cfg, path, NULL, 0, e))
        return -1;
    if (io_join(path, sizeof path, dir, RUN_FILE_CHECKPOINT, e))
        return -1;
    if (!io_exists(path))
        return err_set(e, "%s: no " RUN_FILE_CHECKPOINT " (the run has not reached its first checkpoint)", dir);
    if (!(*en = env_create(&cfg->env, e)))
        return err_prefix(e, "%s/" RUN_FILE_CONFIG, dir);
    rng *init = rng_create((uint64_t)cfg->seed, RNG_STREAM_INIT);
    if (!init) {
        env_free(*en);
        *en = NULL;
        return err_set(e, "out of memory");
    }
    *a = agent_create(cfg, *en, init, e);
    rng_free(init);
    if (!*a || ckpt_read_agent(path, cfg, *a, NULL, e)) {
        agent_free(*a);
        env_free(*en);
        *a = NULL;
        *en = NULL;
        return -1;
    }
    return 0;
}
