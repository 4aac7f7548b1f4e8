/* real.h — the floating-point type of the fields module.
 *
 * Parameters, activations and gradients are float32 (`real` = float) in the
 * library. The fields sources are compiled a second time with
 * -DBDRL_REAL_DOUBLE for the tests that compare gradients with finite
 * differences (tests/dtest_*.c): there `real` = double and every BLAS call and
 * libm call below maps to its double version, so the same code is checked in
 * double precision. Code in src/fields must use only these names, never
 * cblas_s* / tanhf directly.
 */
#ifndef BDRL_REAL_H
#define BDRL_REAL_H

#include <cblas.h>
#include <math.h>

#ifdef BDRL_REAL_DOUBLE
typedef double real;
#define REAL_IS_DOUBLE 1
#define rgemm cblas_dgemm
#define rgemv cblas_dgemv
#define raxpy cblas_daxpy
#define rscal cblas_dscal
#define rdot cblas_ddot
#define rcopy cblas_dcopy
#define rtanh tanh
#define rexp exp
#define rlog1p log1p
#define rsqrt sqrt
#define rfabs fabs
#define rsin sin
#define rcos cos
#else
typedef float real;
#define REAL_IS_DOUBLE 0
#define rgemm cblas_sgemm
#define rgemv cblas_sgemv
#define raxpy cblas_saxpy
#define rscal cblas_sscal
#define rdot cblas_sdot
#define rcopy cblas_scopy
#define rtanh tanhf
#define rexp expf
#define rlog1p log1pf
#define rsqrt sqrtf
#define rfabs fabsf
#define rsin sinf
#define rcos cosf
#endif

#endif
