/* dtest_util.h — what the double-precision tests of src/fields
 * (tests/dtest_*.c, real = double) share: random fills and the relative
 * error against finite differences, with the step and tolerance they use.
 *
 * Central differences with step FD_H = 1e-5 have truncation error
 * ~h²·|f'''|/6 and rounding error ~1e-16·|f|/h, both below 1e-9 on the
 * O(1) quantities of these tests; TOL = 1e-7 relative leaves room for that,
 * while a wrong formula is off by 1e-2 or more. */
#ifndef BDRL_DTEST_UTIL_H
#define BDRL_DTEST_UTIL_H

#include <math.h>
#include <stddef.h>

#include "core/rng.h"
#include "fields/real.h"

#define FD_H 1e-5
#define TOL 1e-7

/* a (n) uniform in [-scale, scale] */
static inline void fill(rng *r, real *a, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        a[i] = (real)(scale * (2 * rng_uniform(r) - 1));
}

/* max |a − b| relative to max(1, max |b|) */
static inline double max_err(const real *a, const double *b, size_t n)
{
    double e = 0, s = 1;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs(a[i] - b[i]));
        s = fmax(s, fabs(b[i]));
    }
    return e / s;
}

/* Central differences: fd[i] = (L(v_i + h) − L(v_i − h)) / 2h for the n
 * values at v, L = loss(ctx) evaluated with v_i changed in place (and
 * restored). */
static inline void fd_grad(real *v, size_t n, double (*loss)(void *ctx), void *ctx, double *fd)
{
    for (size_t i = 0; i < n; i++) {
        real keep = v[i];
        v[i] = keep + FD_H;
        double lp = loss(ctx);
        v[i] = keep - FD_H;
        double lm = loss(ctx);
        v[i] = keep;
        fd[i] = (lp - lm) / (2 * FD_H);
    }
}

#endif
