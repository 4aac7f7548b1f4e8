/* py_square_impl.h — private to src/envs (and its tests): Python's x**2 on a
 * float64, i.e. libm's pow(x, 2.0), bit for bit, calling pow only when its
 * rounding could differ from x*x. Header-only so that acrobot.c inlines it
 * and tests/test_acrobot.c checks the very same code against pow. */
#ifndef BDRL_PY_SQUARE_IMPL_H
#define BDRL_PY_SQUARE_IMPL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Read at every use so that pow(x, py_two) stays a call to libm's pow (GCC
 * would rewrite pow(x, 2.0) as x*x). */
static volatile double py_two = 2.0;

/* hi = x*x is the double nearest x^2 and lo its exact error, |lo| <= u/2
 * where u is the spacing of doubles at hi. lo comes from Dekker's exact
 * square (Veltkamp's split of x into two halves of at most 26 bits, whose
 * products and sums are then exact; Shewchuk's Square), which equals
 * fma(x, x, -hi) without a call to libm's fma (x86-64 without -mfma): with
 * dsdt inlined, Acrobot's step is about 5% faster this way. It is exact
 * while nothing overflows or underflows: |x| in [2^-32, 2^32] here.
 *
 * When hi is not a power of two its neighbours lie u away on both sides, so
 * if |lo| <= 0.48 u they are at least 0.52 u from x^2. glibc's pow (e_pow.c
 * since 2.28) errs by at most ulperr_exp + |y log x| * relerr_log * 2^53
 * ulp, with ulperr_exp = 0.511 and relerr_log = 1.5 * 2^-68 (the figures
 * without FMA; 0.509 and 1.3 * 2^-68 with it). With hi in [2^-64, 2^64],
 * |y log x| <= 64 ln 2 and that is 0.511 + 0.002 < 0.52 ulp: pow can only
 * return hi. Measured, pow(x, 2) differs from x*x only when |lo| >= 0.4915 u
 * (about 1 square in 1,200). Otherwise (zero, tiny or huge squares, powers
 * of two, |lo| > 0.48 u: about 4% of squares) pow decides. (The bound was
 * 0.4 u, from pow's 0.54 ulp over all arguments: 1 square in 5 then went to
 * pow, behind a branch taken at random, and 0.48 made Acrobot's step about
 * 1.35 times faster.)
 * tests/test_acrobot.c compares this with pow(x, 2.0) on millions of x,
 * among them thousands that pow rounds away from x*x. */
static inline double py_square(double x)
{
    double hi = x * x;
    if (!(hi >= 0x1p-64 && hi <= 0x1p64))
        return pow(x, py_two);
    uint64_t b;
    memcpy(&b, &hi, sizeof b);
    if ((b & 0x000fffffffffffffULL) == 0) /* a power of two */
        return pow(x, py_two);
    uint64_t ub = (b & 0x7ff0000000000000ULL) - (52ULL << 52);
    double u;
    memcpy(&u, &ub, sizeof u);
    const double split = 134217729.0; /* 2^27 + 1 */
    double t = split * x;
    double xh = t - (t - x);
    double xl = x - xh;
    double lo = ((xh * xh - hi) + 2.0 * xh * xl) + xl * xl;
    return fabs(lo) <= 0.48 * u ? hi : pow(x, py_two);
}

#endif
