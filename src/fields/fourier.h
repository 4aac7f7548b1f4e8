/* fourier.h — features of the scalar return coordinate u for the fields'
 * heads (docs/design.md §1.4): [u, sin(kπu/L) for k = 1..K, cos(kπu/L) for k = 1..K],
 * 1 + 2K columns, and their derivative with respect to u, which is the JVP
 * direction ẋ of those columns when a network's ẏ must be ∂y/∂u.
 *
 * Both are written into caller-owned rows with a stride, so they can land
 * directly in the feature columns of a larger network input such as
 * [state embedding, features(u)]. No allocation.
 */
#ifndef BDRL_FOURIER_H
#define BDRL_FOURIER_H

#include "fields/real.h"

#define FOURIER_K_DEFAULT 16
#define FOURIER_L_DEFAULT 1.25

static inline int fourier_dim(int K) { return 1 + 2 * K; }

/* u (B). f: row i starts at f + i*ldf and gets fourier_dim(K) values;
 * df likewise (d/du of each column: 1, (kπ/L) cos, −(kπ/L) sin). Either f or
 * df may be NULL. K >= 0, L > 0. Computed in double, stored as real. */
void fourier_features(int B, const real *u, int K, double L, real *f, int ldf, real *df, int lddf);

#endif
