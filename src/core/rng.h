/* rng.h — random numbers for everything stochastic in bdrl (GSL underneath).
 *
 * One config seed determines a whole run. Each consumer (environment,
 * network initialization, exploration, minibatch sampling, samplers...) gets
 * its own generator derived from (seed, stream), so adding draws in one place
 * never shifts the numbers another place sees. The caller owns the rng and
 * frees it with rng_free. State can be saved and restored for checkpoints.
 */
#ifndef BDRL_RNG_H
#define BDRL_RNG_H

#include <stdint.h>
#include <stdio.h>

#include <gsl/gsl_rng.h>

#include "err.h"

typedef struct rng rng;

/* Well-known stream numbers; any other value is allowed too. */
enum {
    RNG_STREAM_ENV = 1,
    RNG_STREAM_EVAL_ENV = 2,
    RNG_STREAM_INIT = 3,
    RNG_STREAM_EXPLORE = 4,
    RNG_STREAM_REPLAY = 5,
    RNG_STREAM_SAMPLER = 6,
    RNG_STREAM_DATA = 7,
    RNG_STREAM_LOSS = 8,
    RNG_STREAM_MAP = 9,
    RNG_STREAM_NOISE = 10, /* noisy nets' weight noise (agent.noisy), the trainer's */
    RNG_STREAM_EVAL_EPS = 11, /* evaluation episodes' ε-greedy draws (eval.epsilon) */
};

rng *rng_create(uint64_t seed, uint64_t stream);
/* numpy's Generator(PCG64(SeedSequence(seed))) as Gymnasium's reset(seed=S)
 * makes it (pcg64.h): rng_uniform is its random(), bit for bit. For an
 * environment whose seeded trajectories must be Gymnasium's; there are no
 * streams (rng_reseed ignores its stream argument for such an rng). */
rng *rng_create_numpy(uint64_t seed);
void rng_free(rng *r);
/* Re-seeds in place, as if freshly created with (seed, stream) (a numpy
 * rng: with seed alone). */
void rng_reseed(rng *r, uint64_t seed, uint64_t stream);

double rng_uniform(rng *r);          /* [0, 1) */
double rng_uniform_pos(rng *r);      /* (0, 1) */
double rng_normal(rng *r);           /* N(0, 1) */
unsigned long rng_below(rng *r, unsigned long n); /* uniform on {0..n-1}, n >= 1 */
double rng_rademacher(rng *r);       /* +1 or -1 with probability 1/2 */
uint64_t rng_u64(rng *r);            /* 64 random bits */

/* The underlying GSL generator, for gsl_ran_* distributions. */
gsl_rng *rng_gsl(rng *r);

/* Serialize the generator state (binary, fixed size for a given build). */
size_t rng_state_size(const rng *r);
int rng_save(const rng *r, FILE *f, bdrl_err *e);
int rng_load(rng *r, FILE *f, bdrl_err *e);

/* SplitMix64 finalizer: a good 64-bit mix, used to derive seeds. */
uint64_t rng_mix64(uint64_t x);

#endif
