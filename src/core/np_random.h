/* np_random.h — numpy's legacy numpy.random.RandomState, the generator the
 * MinAtar games draw from, reproduced number for number.
 *
 * Written from numpy 1.24's documented behaviour and the Mersenne Twister
 * paper (Matsumoto & Nishimura 1998), checked against values numpy itself
 * printed (tests/ref/np_random_ref.py, tests/test_np_random.c):
 *
 *   RandomState(seed), seed an int in [0, 2^32 - 1]
 *       MT19937 seeded by the paper's init_genrand (numpy refuses any other
 *       int; arrays of seeds, init_by_array, are not reproduced here);
 *   rand(), random_sample()
 *       53 bits from two 32-bit outputs a, b:
 *       ((a >> 5) * 2^26 + (b >> 6)) / 2^53;
 *   randint(low, high) (default dtype int64)
 *       numpy's legacy bounded integers: with r = high - low - 1, nothing is
 *       drawn when r == 0; for r < 2^32 - 1, 32-bit outputs are masked with
 *       the smallest 2^k - 1 >= r and redrawn while above r; r == 2^32 - 1
 *       takes one output as it is; wider ranges do the same masking on
 *       64-bit words (first output in the high half);
 *   rand(n), randint(low, high, n)
 *       the scalar draws, n times in order.
 *
 * The state is plain data (a struct the caller owns, about 2.5 KB): copy it
 * to fork a stream, compare it to test equality.
 */
#ifndef BDRL_NP_RANDOM_H
#define BDRL_NP_RANDOM_H

#include <stdint.h>

#define NP_MT_N 624

typedef struct {
    uint32_t key[NP_MT_N];
    int pos; /* next word of key to temper; NP_MT_N: regenerate first */
} np_random;

/* RandomState(seed) for a seed numpy accepts as an int (0 .. 2^32 - 1). */
void np_random_seed(np_random *r, uint32_t seed);

/* Regenerates the 624 words (the "twist"); np_random_u32 calls it. */
void np_random_twist(np_random *r);

/* The next tempered 32-bit output. */
static inline uint32_t np_random_u32(np_random *r)
{
    if (r->pos >= NP_MT_N)
        np_random_twist(r);
    uint32_t y = r->key[r->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* rand(): a double in [0, 1) with 53 random bits. */
static inline double np_random_sample(np_random *r)
{
    uint32_t a = np_random_u32(r) >> 5, b = np_random_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

/* randint(low, high): uniform on [low, high); high > low (numpy raises
 * otherwise; here the caller's error, and low is returned). */
int64_t np_random_randint(np_random *r, int64_t low, int64_t high);

/* rand(n) and randint(low, high, n) into out[0..n). */
void np_random_sample_fill(np_random *r, double *out, int n);
void np_random_randint_fill(np_random *r, int64_t low, int64_t high, int64_t *out, int n);

#endif
