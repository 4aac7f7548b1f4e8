/* bench_sde — throughput of the samplers on the analytic mixtures of
 * tests/test_sde.c (1-D 0.8/0.2 at ±2, 2-D 0.6/0.3/0.1 on a circle of radius
 * 2; sd 0.3), in walker-steps per second, with and without global moves.
 *
 *   build/rel/bench/bench_sde [walkers=4096] [steps=1000] [seed=1] [repeats=3]
 *
 * Each configuration runs `repeats` times (same seed, same work) and the
 * fastest run is reported: the machine is shared, and the minimum is the
 * figure least disturbed by other processes.
 * "field pts/step" is the number of points the callback evaluated per
 * walker-step (global moves and mala proposals cost extra evaluations), and
 * "field only" is the time the same number of evaluations takes alone, so the
 * remainder is the sampler's own overhead (random numbers, bookkeeping). The
 * analytic fields are cheap; with a network the field dominates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/rng.h"
#include "sdes/mixture.h"
#include "sdes/sampler.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Seconds for `points` field evaluations with gradient in batches of n. */
static double field_time(const sde_mixture *m, int n, long points, const double *x)
{
    double *s = malloc((size_t)n * sizeof *s), *g = malloc((size_t)n * m->d * sizeof *g);
    double t0 = now(), sink = 0.0;
    for (long done = 0; done < points; done += n) {
        int b = points - done < n ? (int)(points - done) : n;
        sde_mixture_field((void *)m, b, m->d, x, s, g, NULL);
        sink += s[0];
    }
    double t = now() - t0;
    if (sink == -1.0) /* keep the loop */
        printf("!");
    free(s);
    free(g);
    return t;
}

int main(int argc, char **argv)
{
    const int n = argc > 1 ? atoi(argv[1]) : 4096;
    const int steps = argc > 2 ? atoi(argv[2]) : 1000;
    const unsigned long seed = argc > 3 ? strtoul(argv[3], NULL, 10) : 1;
    const int reps = argc > 4 ? atoi(argv[4]) : 3;
    if (n < 1 || steps < 1 || reps < 1) {
        fprintf(stderr, "usage: bench_sde [walkers] [steps] [seed] [repeats]\n");
        return 2;
    }
    const double w1[2] = {0.8, 0.2}, mu1[2] = {-2.0, 2.0}, sd1[2] = {0.3, 0.3};
    const double w2[3] = {0.6, 0.3, 0.1}, sd2[3] = {0.3, 0.3, 0.3}, th[3] = {90, 210, 330};
    double mu2[6];
    for (int j = 0; j < 3; j++) {
        mu2[2 * j] = 2.0 * cos(th[j] * M_PI / 180.0);
        mu2[2 * j + 1] = 2.0 * sin(th[j] * M_PI / 180.0);
    }
    sde_mixture *mix[2] = {sde_mixture_create(2, 1, w1, mu1, sd1, NULL),
                           sde_mixture_create(3, 2, w2, mu2, sd2, NULL)};
    double *x = malloc((size_t)n * 2 * sizeof *x);
    if (!mix[0] || !mix[1] || !x)
        return 1;
    const sde_method methods[4] = {SDE_EM, SDE_MALA, SDE_LANGEVIN, SDE_BDD_SQRT2P};
    printf("%d walkers x %d steps, seed %lu, best of %d runs (single thread)\n", n, steps, seed,
           reps);
    printf("%-3s %-10s %3s %9s %14s %12s %15s %11s\n", "d", "method", "k", "seconds",
           "walker-steps/s", "ns/w-step", "field pts/step", "field only");
    for (int di = 0; di < 2; di++)
        for (int mi = 0; mi < 4; mi++)
            for (int k = 0; k <= 10; k += 10) {
                sde_config c;
                sde_config_default(&c);
                c.method = methods[mi];
                c.eta = 0.005;
                c.n_steps = steps;
                c.global_every = k;
                c.lo = di ? -3.5 : -4.0;
                c.hi = -c.lo;
                sde_result res;
                bdrl_err e;
                double t = INFINITY, tf = INFINITY;
                for (int rep = 0; rep < reps; rep++) {
                    rng *r = rng_create(seed, RNG_STREAM_SAMPLER);
                    double t0 = now();
                    int rc = sde_sample(&c, sde_mixture_field, mix[di], n, di + 1, x, NULL, &res,
                                        r, &e);
                    t = fmin(t, now() - t0);
                    rng_free(r);
                    if (rc) {
                        fprintf(stderr, "bench_sde: %s\n", e.msg);
                        return 1;
                    }
                    tf = fmin(tf, field_time(mix[di], n, res.field_points, x));
                }
                const double ws = (double)n * steps;
                printf("%-3d %-10s %3d %9.3f %14.3e %12.1f %15.3f %10.0f%%\n", di + 1,
                       sde_method_name(c.method), k, t, ws / t, 1e9 * t / ws,
                       res.field_points / ws, 100.0 * tf / t);
            }
    free(x);
    sde_mixture_free(mix[0]);
    sde_mixture_free(mix[1]);
    return 0;
}
