/* fourier.c — Fourier features of u and their u-derivative. */
#include "fields/fourier.h"

#include <math.h>

void fourier_features(int B, const real *u, int K, double L, real *f, int ldf, real *df, int lddf)
{
    const double w = M_PI / L;
    for (int i = 0; i < B; i++) {
        double x = (double)u[i], th = w * x;
        /* sin/cos of kθ by the angle-addition recurrence from one sincos:
         * in double the drift after 16 steps is ~1e-15, far below float. */
        double s1 = sin(th), c1 = cos(th), s = s1, c = c1;
        real *fr = f ? f + (size_t)i * ldf : 0;
        real *dr = df ? df + (size_t)i * lddf : 0;
        if (fr)
            fr[0] = (real)x;
        if (dr)
            dr[0] = 1;
        for (int k = 1; k <= K; k++) {
            if (fr) {
                fr[k] = (real)s;
                fr[K + k] = (real)c;
            }
            if (dr) {
                dr[k] = (real)(k * w * c);
                dr[K + k] = (real)(-k * w * s);
            }
            double sn = s * c1 + c * s1;
            c = c * c1 - s * s1;
            s = sn;
        }
    }
}
