#include "rng.h"

#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "pcg64.h"

struct rng {
    gsl_rng *g;
    int numpy; /* numpy's PCG64 (rng_create_numpy): seeded by the seed alone */
};

uint64_t rng_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* mt19937 only uses 32 bits of its seed, so fold the mixed 64-bit value. */
static unsigned long derive_seed(uint64_t seed, uint64_t stream)
{
    uint64_t m = rng_mix64(seed ^ rng_mix64(stream + 0x1234567ULL));
    unsigned long s = (unsigned long)((m >> 32) ^ (m & 0xffffffffULL));
    return s ? s : 4357UL; /* gsl maps 0 to its default seed; keep that explicit */
}

rng *rng_create(uint64_t seed, uint64_t stream)
{
    rng *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->g = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r->g) {
        free(r);
        return NULL;
    }
    r->numpy = 0;
    gsl_rng_set(r->g, derive_seed(seed, stream));
    return r;
}

rng *rng_create_numpy(uint64_t seed)
{
    rng *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    r->g = gsl_rng_alloc(np_gsl_rng_pcg64);
    if (!r->g) {
        free(r);
        return NULL;
    }
    r->numpy = 1;
    /* directly, not through gsl_rng_set: its seed is an unsigned long */
    np_pcg64_seed(gsl_rng_state(r->g), seed);
    return r;
}

void rng_reseed(rng *r, uint64_t seed, uint64_t stream)
{
    if (r->numpy)
        np_pcg64_seed(gsl_rng_state(r->g), seed);
    else
        gsl_rng_set(r->g, derive_seed(seed, stream));
}

void rng_free(rng *r)
{
    if (!r)
        return;
    gsl_rng_free(r->g);
    free(r);
}

double rng_uniform(rng *r) { return gsl_rng_uniform(r->g); }
double rng_uniform_pos(rng *r) { return gsl_rng_uniform_pos(r->g); }
double rng_normal(rng *r) { return gsl_ran_gaussian_ziggurat(r->g, 1.0); }
unsigned long rng_below(rng *r, unsigned long n) { return gsl_rng_uniform_int(r->g, n); }
double rng_rademacher(rng *r) { return (gsl_rng_get(r->g) & 1UL) ? 1.0 : -1.0; }

uint64_t rng_u64(rng *r)
{
    uint64_t hi = gsl_rng_get(r->g) & 0xffffffffULL;
    uint64_t lo = gsl_rng_get(r->g) & 0xffffffffULL;
    return (hi << 32) | lo;
}

gsl_rng *rng_gsl(rng *r) { return r->g; }

size_t rng_state_size(const rng *r) { return gsl_rng_size(r->g); }

int rng_save(const rng *r, FILE *f, bdrl_err *e)
{
    size_t n = gsl_rng_size(r->g);
    if (fwrite(gsl_rng_state(r->g), 1, n, f) != n)
        return err_set(e, "cannot write random-number state");
    return 0;
}

int rng_load(rng *r, FILE *f, bdrl_err *e)
{
    size_t n = gsl_rng_size(r->g);
    if (fread(gsl_rng_state(r->g), 1, n, f) != n)
        return err_set(e, "truncated random-number state");
    return 0;
}
