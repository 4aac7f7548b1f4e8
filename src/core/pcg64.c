/* pcg64.c — numpy's SeedSequence, PCG64 and Generator.random(), bit for bit
 * (pcg64.h). */
#include "pcg64.h"

#include <string.h>

__extension__ typedef unsigned __int128 u128;

/* numpy/random/bit_generator.pyx */
#define SS_POOL 4
#define SS_INIT_A 0x43b0d7e5u
#define SS_MULT_A 0x931e8875u
#define SS_INIT_B 0x8b51f9ddu
#define SS_MULT_B 0x58f38dedu
#define SS_MIX_MULT_L 0xca01f9ddu
#define SS_MIX_MULT_R 0x4973f715u
#define SS_XSHIFT 16

static uint32_t hashmix(uint32_t value, uint32_t *hash_const)
{
    value ^= *hash_const;
    *hash_const *= SS_MULT_A;
    value *= *hash_const;
    value ^= value >> SS_XSHIFT;
    return value;
}

static uint32_t mix(uint32_t x, uint32_t y)
{
    uint32_t result = SS_MIX_MULT_L * x - SS_MIX_MULT_R * y;
    result ^= result >> SS_XSHIFT;
    return result;
}

/* SeedSequence(seed).pool: the entropy is seed's 32-bit words, least
 * significant first ([0] for 0), no spawn key. */
static void seed_pool(uint64_t seed, uint32_t pool[SS_POOL])
{
    uint32_t ent[2];
    int n = 0;
    if (seed == 0)
        ent[n++] = 0;
    while (seed) {
        ent[n++] = (uint32_t)(seed & 0xffffffffu);
        seed >>= 32;
    }
    uint32_t hc = SS_INIT_A;
    for (int i = 0; i < SS_POOL; i++)
        pool[i] = hashmix(i < n ? ent[i] : 0u, &hc);
    for (int s = 0; s < SS_POOL; s++)
        for (int d = 0; d < SS_POOL; d++)
            if (s != d)
                pool[d] = mix(pool[d], hashmix(pool[s], &hc));
    /* entropy beyond the pool size: none (at most two words) */
}

void np_seed_sequence_words(uint64_t seed, uint32_t *out, int n)
{
    uint32_t pool[SS_POOL];
    seed_pool(seed, pool);
    uint32_t hc = SS_INIT_B;
    for (int i = 0; i < n; i++) {
        uint32_t v = pool[i % SS_POOL];
        v ^= hc;
        hc *= SS_MULT_B;
        v *= hc;
        v ^= v >> SS_XSHIFT;
        out[i] = v;
    }
}

/* PCG_DEFAULT_MULTIPLIER_128 */
#define PCG_MULT (((u128)2549297995355413924ULL << 64) | (u128)4865540595714422341ULL)

static u128 get_state(const np_pcg64 *g) { return ((u128)g->state_hi << 64) | g->state_lo; }
static u128 get_inc(const np_pcg64 *g) { return ((u128)g->inc_hi << 64) | g->inc_lo; }
static void put_state(np_pcg64 *g, u128 s)
{
    g->state_hi = (uint64_t)(s >> 64);
    g->state_lo = (uint64_t)s;
}

void np_pcg64_seed(np_pcg64 *g, uint64_t seed)
{
    /* generate_state(4, uint64): eight 32-bit words read as little-endian
     * pairs; pcg64_set_seed(state = val[0]:val[1], inc = val[2]:val[3]) */
    uint32_t w[8];
    np_seed_sequence_words(seed, w, 8);
    uint64_t v[4];
    for (int i = 0; i < 4; i++)
        v[i] = (uint64_t)w[2 * i] | ((uint64_t)w[2 * i + 1] << 32);
    u128 initstate = ((u128)v[0] << 64) | v[1], initseq = ((u128)v[2] << 64) | v[3];
    /* pcg_setseq_128_srandom_r */
    u128 inc = (initseq << 1) | 1u;
    g->inc_hi = (uint64_t)(inc >> 64);
    g->inc_lo = (uint64_t)inc;
    u128 s = 0;
    s = s * PCG_MULT + inc;
    s += initstate;
    s = s * PCG_MULT + inc;
    put_state(g, s);
}

uint64_t np_pcg64_next64(np_pcg64 *g)
{
    u128 s = get_state(g) * PCG_MULT + get_inc(g);
    put_state(g, s);
    /* XSL-RR: the halves xored, rotated right by the top 6 bits */
    uint64_t v = (uint64_t)(s >> 64) ^ (uint64_t)s;
    unsigned rot = (unsigned)(s >> 122);
    return (v >> rot) | (v << ((64u - rot) & 63u));
}

double np_pcg64_random(np_pcg64 *g) { return (double)(np_pcg64_next64(g) >> 11) * (1.0 / 9007199254740992.0); }

/* ---- as a GSL generator ---- */

static void gsl_set(void *state, unsigned long seed) { np_pcg64_seed(state, (uint64_t)seed); }
static unsigned long gsl_get(void *state) { return (unsigned long)(np_pcg64_next64(state) >> 32); }
static double gsl_get_double(void *state) { return np_pcg64_random(state); }

static const gsl_rng_type np_pcg64_type = {"numpy-pcg64", 0xffffffffUL, 0, sizeof(np_pcg64), gsl_set, gsl_get,
                                           gsl_get_double};
const gsl_rng_type *const np_gsl_rng_pcg64 = &np_pcg64_type;
