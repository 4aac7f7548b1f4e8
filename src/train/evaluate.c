/* evaluate.c — greedy (or ε-greedy, eval.epsilon) evaluation episodes,
 * batched across environments. */
#include "train/evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "stats/metrics.h"

uint64_t eval_episode_seed(uint64_t seed, int64_t k)
{
    return rng_mix64(rng_mix64(seed ^ 0x65706973u) + (uint64_t)k);
}

typedef struct {
    env *en;
    rng *explore;  /* eval.epsilon > 0: the episode's ε-greedy draws, reseeded per episode */
    int episode;   /* index being played, -1 when idle */
    double ret;    /* return so far */
    int len;
} slot;

/* Starts episode k in slot t: its environment reset with the episode's
 * seed (the first observation into row), its ε-greedy stream reseeded from
 * that same seed. */
static void slot_start(slot *t, float *row, int D, uint64_t seed, int k)
{
    uint64_t s = eval_episode_seed(seed, k);
    memcpy(row, env_reset(t->en, &s), sizeof(float) * (size_t)D);
    if (t->explore)
        rng_reseed(t->explore, s, RNG_STREAM_EVAL_EPS);
    t->episode = k;
}

int eval_greedy(const exp_config *cfg, agent *a, int episodes, uint64_t seed, eval_result *out, bdrl_err *e)
{
    if (episodes < 1)
        return err_set(e, "evaluation needs at least 1 episode, got %d", episodes);
    int P = episodes < EVAL_MAX_ROWS ? episodes : EVAL_MAX_ROWS;
    int A = a->n_actions, D = a->obs_dim;
    double eps = cfg->eval.epsilon;
    slot *sl = err_calloc((size_t)P, sizeof *sl, e);
    double *ret = err_calloc((size_t)episodes, sizeof(double), e);
    double *len = err_calloc((size_t)episodes, sizeof(double), e);
    unsigned char *ok = err_calloc((size_t)episodes, 1, e);
    float *obs = err_calloc((size_t)P * D, sizeof(float), e);
    double *q = err_calloc((size_t)P * A, sizeof(double), e);
    int *row_slot = err_calloc((size_t)P, sizeof(int), e);
    float *batch = err_calloc((size_t)P * D, sizeof(float), e);
    rng *boot = NULL;
    int rc = -1;
    if (!sl || !ret || !len || !ok || !obs || !q || !row_slot || !batch)
        goto out;
    for (int i = 0; i < P; i++) {
        if (!(sl[i].en = env_create(&cfg->env, e)))
            goto out;
        if (env_obs_dim(sl[i].en) != D || env_n_actions(sl[i].en) != A) {
            err_set(e, "evaluation environment has %d observations and %d actions, the agent %d and %d",
                    env_obs_dim(sl[i].en), env_n_actions(sl[i].en), D, A);
            goto out;
        }
        if (eps > 0 && !(sl[i].explore = rng_create(0, RNG_STREAM_EVAL_EPS))) {
            err_set(e, "out of memory");
            goto out;
        }
    }
    int next = 0, active = 0;
    /* Slot i's current observation lives in row i of cur. */
    float *cur = obs;
    for (int i = 0; i < P; i++) {
        slot_start(&sl[i], cur + (size_t)i * D, D, seed, next++);
        active++;
    }
    while (active > 0) {
        /* The observations of the episodes still running, as one batch. */
        int R = 0;
        for (int i = 0; i < P; i++)
            if (sl[i].episode >= 0) {
                memcpy(batch + (size_t)R * D, cur + (size_t)i * D, sizeof(float) * (size_t)D);
                row_slot[R++] = i;
            }
        if (agent_action_values(a, R, batch, q, e))
            goto out;
        for (int k = 0; k < R; k++) {
            slot *t = &sl[row_slot[k]];
            const double *qk = q + (size_t)k * A;
            int act = 0;
            for (int j = 1; j < A; j++)
                if (qk[j] > qk[act])
                    act = j;
            for (int j = 0; j < A; j++)
                if (isnan(qk[j])) {
                    err_set(e, "evaluation: Q value of action %d is NaN", j);
                    goto out;
                }
            /* ε-greedy: no draw at all when ε = 0, so greedy evaluations
             * are what they were before the key existed */
            if (t->explore && rng_uniform(t->explore) < eps)
                act = (int)rng_below(t->explore, (unsigned long)A);
            env_step st = env_do_step(t->en, act);
            t->ret += st.reward;
            t->len++;
            memcpy(cur + (size_t)row_slot[k] * D, st.obs, sizeof(float) * (size_t)D);
            if (!st.terminated && !st.truncated)
                continue;
            int ep = t->episode;
            ret[ep] = t->ret;
            len[ep] = t->len;
            ok[ep] = (unsigned char)env_step_success(t->en, &st);
            t->ret = 0;
            t->len = 0;
            if (next < episodes) {
                slot_start(t, cur + (size_t)row_slot[k] * D, D, seed, next++);
            } else {
                t->episode = -1;
                active--;
            }
        }
    }

    double mean = stat_mean(ret, (size_t)episodes), ss = 0, succ = 0;
    for (int i = 0; i < episodes; i++) {
        ss += (ret[i] - mean) * (ret[i] - mean);
        succ += ok[i];
    }
    out->episodes = episodes;
    out->return_mean = mean;
    out->return_std = sqrt(ss / episodes);
    out->success_rate = succ / episodes;
    out->length_mean = stat_mean(len, (size_t)episodes);
    if (!(boot = rng_create(seed, RNG_STREAM_EVAL_ENV + 100))) {
        err_set(e, "out of memory");
        goto out;
    }
    if (stat_bootstrap_mean_ci(ret, (size_t)episodes, 2000, 0.95, boot, &out->ci_lo, &out->ci_hi, e))
        goto out;
    rc = 0;
out:
    if (sl)
        for (int i = 0; i < P; i++) {
            env_free(sl[i].en);
            rng_free(sl[i].explore);
        }
    free(sl);
    free(ret);
    free(len);
    free(ok);
    free(obs);
    free(q);
    free(row_slot);
    free(batch);
    rng_free(boot);
    return rc;
}
