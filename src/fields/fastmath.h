/* fastmath.h — internal to src/fields: tanh, e^x (x <= 0) and log1p(t)
 * (0 <= t <= 1) as straight-line code that GCC can vectorize, for the
 * activations and the kernel sums. In the double build (gradient checks)
 * they are libm's functions, so finite differences see exact derivatives.
 * Include after any `#pragma GCC optimize` that should apply to them.
 */
#ifndef BDRL_FASTMATH_H
#define BDRL_FASTMATH_H

#include <math.h>
#include <stdint.h>

#include "fields/real.h"

#if REAL_IS_DOUBLE
/* The double build checks derivatives against finite differences: libm. */
static inline real tanh_r(real x) { return tanh(x); }
static inline real expneg_r(real x) { return exp(x); }
static inline real log1p_r(real x) { return log1p(x); }
#else
/* Float versions that vectorize. glibc's tanhf (through expm1f), expf and
 * log1pf are scalar calls costing more than the GEMMs of a 128-wide layer.
 * Accuracies below were measured against double libm on 2e5-point grids. */

/* tanh as a [13/6] rational function on [-7.9053, 7.9053] (the
 * approximation used by Eigen/TensorFlow), saturated outside. Absolute error
 * <= 4e-7 over [-10, 10] (largest near |x| = 5.8), relative error <= 1.5e-7
 * for |x| < 1; odd, exactly 0 at 0. */
static inline __attribute__((always_inline)) float tanh_r(float x)
{
    const float c = 7.90531110763549805f;
    x = x > c ? c : x;    /* written so that NaN passes through */
    x = x < -c ? -c : x;
    float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
}

/* e^x for x <= 0 (all the sigmoid and softplus need): Cody-Waite reduction
 * x = n ln2 + r, |r| <= ln2/2, Cephes' degree-7 polynomial, then 2^n through
 * the exponent bits. x is clamped at -87 (result 1.6e-38 instead of
 * underflow); NaN gives NaN. Relative error <= 2.5e-7. */
static inline __attribute__((always_inline)) float expneg_r(float x)
{
    x = x < -87.0f ? -87.0f : x;              /* NaN passes through ... */
    float xc = x > -87.0f ? x : -87.0f;       /* ... but not into the int conversion */
    /* n = round(x / ln2) by the 1.5·2^23 trick (exact in round-to-nearest) */
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } s;
    s.i = ((int32_t)n + 127) << 23;
    return p * s.f;
}

/* log(1 + t) for t in [0, 1] (softplus of e^{-|z|}): 2·atanh(s) with
 * s = t/(2 + t) <= 1/3, odd series to s^13 (next term < 5e-9). Relative
 * error <= 2e-7. */
static inline __attribute__((always_inline)) float log1p_r(float t)
{
    float s = t / (2.0f + t), s2 = s * s;
    float p = 1.0f / 13;
    p = p * s2 + 1.0f / 11;
    p = p * s2 + 1.0f / 9;
    p = p * s2 + 1.0f / 7;
    p = p * s2 + 1.0f / 5;
    p = p * s2 + 1.0f / 3;
    p = p * s2 + 1.0f;
    return 2.0f * s * p;
}
#endif

#endif
