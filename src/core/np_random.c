/* np_random.c — numpy's legacy RandomState: MT19937 seeding and state
 * regeneration, and the legacy bounded-integer draws (np_random.h says
 * what each reproduces). */
#include "np_random.h"

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

void np_random_seed(np_random *r, uint32_t seed)
{
    /* init_genrand: each word from the previous by Knuth's multiplier
     * 1812433253 and the word's index, modulo 2^32. */
    r->key[0] = seed;
    for (int i = 1; i < NP_MT_N; i++) {
        uint32_t prev = r->key[i - 1];
        r->key[i] = 1812433253u * (prev ^ (prev >> 30)) + (uint32_t)i;
    }
    r->pos = NP_MT_N;
}

/* Word i of the next block: the upper bit of word i and the lower 31 of
 * word i + 1, shifted and conditionally xored with the twist matrix,
 * combined with word i + M (indices mod N; words below i are already new,
 * as the recurrence requires). */
static inline uint32_t twist_word(const uint32_t *k, int i)
{
    uint32_t y = (k[i] & MT_UPPER) | (k[(i + 1) % NP_MT_N] & MT_LOWER);
    uint32_t mag = (y & 1u) ? MT_MATRIX_A : 0u;
    return k[(i + MT_M) % NP_MT_N] ^ (y >> 1) ^ mag;
}

void np_random_twist(np_random *r)
{
    uint32_t *k = r->key;
    int i = 0;
    /* the same recurrence, split so that the hot loops need no modulo */
    for (; i < NP_MT_N - MT_M; i++) {
        uint32_t y = (k[i] & MT_UPPER) | (k[i + 1] & MT_LOWER);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
    }
    for (; i < NP_MT_N - 1; i++) {
        uint32_t y = (k[i] & MT_UPPER) | (k[i + 1] & MT_LOWER);
        k[i] = k[i + MT_M - NP_MT_N] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
    }
    k[NP_MT_N - 1] = twist_word(k, NP_MT_N - 1);
    r->pos = 0;
}

/* The smallest 2^k - 1 that is >= v. */
static uint64_t all_ones_above(uint64_t v)
{
    for (int s = 1; s < 64; s <<= 1)
        v |= v >> s;
    return v;
}

/* One value in [0, span] (span = high - low - 1) by numpy's legacy rule. */
static uint64_t bounded(np_random *r, uint64_t span)
{
    if (span == 0)
        return 0; /* a single value: numpy draws nothing */
    if (span == 0xffffffffu)
        return np_random_u32(r);
    uint64_t mask = all_ones_above(span), v;
    if (span < 0xffffffffu) {
        do
            v = np_random_u32(r) & mask;
        while (v > span);
        return v;
    }
    if (span == UINT64_MAX) {
        uint64_t hi = np_random_u32(r);
        return hi << 32 | np_random_u32(r);
    }
    do {
        uint64_t hi = np_random_u32(r);
        v = (hi << 32 | np_random_u32(r)) & mask;
    } while (v > span);
    return v;
}

int64_t np_random_randint(np_random *r, int64_t low, int64_t high)
{
    if (high <= low)
        return low;
    uint64_t span = (uint64_t)high - (uint64_t)low - 1u;
    return (int64_t)((uint64_t)low + bounded(r, span));
}

void np_random_sample_fill(np_random *r, double *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = np_random_sample(r);
}

void np_random_randint_fill(np_random *r, int64_t low, int64_t high, int64_t *out, int n)
{
    for (int i = 0; i < n; i++)
        out[i] = np_random_randint(r, low, high);
}
