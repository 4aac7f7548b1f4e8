/* pcg64.h — numpy's random generator as Gymnasium seeds it, bit for bit.
 *
 * Gymnasium's Env.reset(seed=S) makes its np_random as
 * numpy.random.Generator(numpy.random.PCG64(numpy.random.SeedSequence(S)))
 * (gymnasium/utils/seeding.py), and the toy-text environments draw
 * np_random.random() (categorical_sample). This module reproduces that
 * chain for every S in [0, 2^64): SeedSequence's entropy pool (numpy's
 * bit_generator.pyx: hashmix/mix over the 32-bit words of S, pool size 4),
 * generate_state(4, uint64), PCG64's seeding (pcg_setseq_128_srandom_r with
 * state = words 0-1 and increment = words 2-3) and its XSL-RR 128/64
 * output, and Generator.random() = (next64 >> 11) · 2^-53. Checked against
 * numpy 1.24 in tests/test_core.c (numbers printed by numpy).
 *
 * Why: an environment whose seeded trajectories must be Gymnasium's
 * (CliffWalking) draws from this instead of bdrl's own streams (rng.h).
 * rng_create_numpy (rng.h) wraps it as an rng; this header is the
 * arithmetic, for that and for tests.
 */
#ifndef BDRL_PCG64_H
#define BDRL_PCG64_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* The 128-bit state and increment as 64-bit halves. */
typedef struct {
    uint64_t state_hi, state_lo;
    uint64_t inc_hi, inc_lo;
} np_pcg64;

/* numpy.random.SeedSequence(seed).generate_state(n, numpy.uint32) into out. */
void np_seed_sequence_words(uint64_t seed, uint32_t *out, int n);

/* The state of numpy.random.PCG64(numpy.random.SeedSequence(seed)). */
void np_pcg64_seed(np_pcg64 *g, uint64_t seed);
/* The next 64-bit output (PCG64's next_uint64). */
uint64_t np_pcg64_next64(np_pcg64 *g);
/* numpy.random.Generator.random(): a double in [0, 1). */
double np_pcg64_random(np_pcg64 *g);

/* The same generator as a GSL type ("numpy-pcg64"): set() seeds as above,
 * get() returns the upper 32 bits of next64, get_double() is random(). */
extern const gsl_rng_type *const np_gsl_rng_pcg64;

#endif
