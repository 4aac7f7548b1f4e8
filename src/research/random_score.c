#include "research/random_score.h"

#include "core/rng.h"
#include "train/evaluate.h"

int random_score_measure(const env_config *c, int episodes, uint64_t seed, random_score *out, bdrl_err *e)
{
    if (episodes < 1)
        return err_set(e, "random policy: %d episodes (need at least 1)", episodes);
    env *en = env_create(c, e);
    if (!en)
        return -1;
    rng *r = rng_create(seed, RNG_STREAM_EXPLORE);
    if (!r) {
        env_free(en);
        return err_set(e, "out of memory");
    }
    unsigned long na = (unsigned long)env_n_actions(en);
    double total = 0;
    int success = 0;
    for (int k = 0; k < episodes; k++) {
        uint64_t s = eval_episode_seed(seed, k);
        env_reset(en, &s);
        for (;;) {
            env_step st = env_do_step(en, (int)rng_below(r, na));
            total += st.reward;
            if (st.terminated || st.truncated) {
                success += env_step_success(en, &st) != 0;
                break;
            }
        }
    }
    out->episodes = episodes;
    out->return_mean = total / episodes;
    out->success_rate = (double)success / episodes;
    rng_free(r);
    env_free(en);
    return 0;
}
