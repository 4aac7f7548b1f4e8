/* bench_env.c — environment steps per second under uniformly random actions,
 * resetting (unseeded, continuing the stream) at every episode end.
 *
 *   build/rel/bench/bench_env [steps per environment, default 10000000]
 *
 * Actions come from 64-bit words of our rng, a few bits per action, so the
 * figure measures the environment rather than the action generator. Rates
 * are per second of this thread's CPU time, which is what one core delivers
 * even when other processes share the machine; wall time is shown beside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rng.h"
#include "envs/env.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const char *label;
    const char *name; /* registry name */
    int semi_implicit;
    const char *map;
} bench_case;

int main(int argc, char **argv)
{
    long steps = 10000000;
    if (argc > 1) {
        char *end;
        steps = strtol(argv[1], &end, 10);
        if (*end || steps <= 0) {
            fprintf(stderr, "usage: %s [steps per environment]\n", argv[0]);
            return 2;
        }
    }
    const bench_case cases[] = {
        {"cartpole (euler)", "cartpole", 0, NULL},
        {"cartpole (semi-implicit)", "cartpole", 1, NULL},
        {"frozenlake 4x4 slippery", "frozenlake", 0, "4x4"},
        {"frozenlake 8x8 slippery", "frozenlake", 0, "8x8"},
        {"acrobot", "acrobot", 0, NULL},
        {"mountaincar", "mountaincar", 0, NULL},
    };
    printf("%-26s %11s %9s %8s %8s %9s %8s %8s\n", "env", "steps", "episodes", "cpu s", "wall s", "Msteps/s",
           "ns/step", "return");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        env_config c;
        env_config_defaults(&c, cases[k].name);
        c.semi_implicit = cases[k].semi_implicit;
        if (cases[k].map)
            snprintf(c.map_name, sizeof c.map_name, "%s", cases[k].map);
        bdrl_err err;
        env *e = env_create(&c, &err);
        if (!e) {
            fprintf(stderr, "bench_env: %s\n", err.msg);
            return 1;
        }
        rng *ar = rng_create(1, 1000);
        /* 2 actions: one bit each; 4: two bits; 3: two bits, redrawn
         * when they read 3 (uniform over 0..2). */
        const int na = env_n_actions(e), bits = na == 2 ? 1 : 2;
        const uint64_t mask = (1u << bits) - 1;
        uint64_t seed = 1, word = 0;
        int left = 0;
        long episodes = 0;
        double ret = 0;
        env_reset(e, &seed);
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
        for (long i = 0; i < steps; i++) {
            if (left < bits) {
                word = rng_u64(ar);
                left = 64;
            }
            int a = (int)(word & mask);
            word >>= bits;
            left -= bits;
            if (a >= na) {
                i--;
                continue;
            }
            env_step st = env_do_step(e, a);
            ret += st.reward;
            if (st.terminated || st.truncated) {
                episodes++;
                env_reset(e, NULL);
            }
        }
        double dc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0, dw = clock_s(CLOCK_MONOTONIC) - w0;
        /* The mean episode return keeps the loop honest and is a sanity
         * check (random policy: CartPole ~22, FrozenLake 4x4 ~0.014, Acrobot
         * and MountainCar near their limits' -500 and -200). */
        printf("%-26s %11ld %9ld %8.3f %8.3f %9.2f %8.2f %8.4f\n", cases[k].label, steps, episodes, dc, dw,
               (double)steps / dc / 1e6, dc / (double)steps * 1e9, episodes ? ret / (double)episodes : 0.0);
        rng_free(ar);
        env_free(e);
    }
    return 0;
}
