/* quantile.c — the quantile Huber loss and helpers; see quantile.h. */
#include "agents/quantile.h"

#include <math.h>
#include <stdlib.h>

double quantile_huber_rho(double tau, double u, double kappa)
{
    double w = fabs(tau - (u < 0 ? 1.0 : 0.0)), a = fabs(u);
    if (kappa <= 0)
        return w * a;
    double l = a <= kappa ? 0.5 * u * u : kappa * (a - 0.5 * kappa);
    return w * l / kappa;
}

double quantile_huber_drho_dtheta(double tau, double u, double kappa)
{
    double w = fabs(tau - (u < 0 ? 1.0 : 0.0));
    if (kappa <= 0)
        return -w * (u > 0 ? 1.0 : u < 0 ? -1.0 : 0.0);
    double c = u > kappa ? kappa : u < -kappa ? -kappa : u;
    return -w * c / kappa;
}

/* The same terms as quantile_huber_rho and _drho_dtheta, with the 1/κ
 * taken out of the sums over j (exact for κ = 1, the shipped value) and no
 * calls or divisions in the inner loop: it runs B·N·M times per update. */
double quantile_huber_loss(int N, const real *theta, int stride, const double *tau, int M, const double *target,
                           double kappa, real *grad, double scale)
{
    double total = 0, invm = 1.0 / M, hk = 0.5 * kappa;
    int plain = !(kappa > 0);
    for (int i = 0; i < N; i++) {
        double th = theta[(size_t)i * stride], t = tau[i], tm = 1.0 - t, l = 0, g = 0;
        for (int j = 0; j < M; j++) {
            double u = target[j] - th, a = fabs(u), w = u < 0 ? tm : t;
            if (plain) {
                l += w * a;
                g += u > 0 ? w : u < 0 ? -w : 0.0;
            } else if (a <= kappa) {
                l += w * (0.5 * u * u);
                g += w * u;
            } else {
                l += w * (kappa * (a - hk));
                g += u > 0 ? w * kappa : -(w * kappa);
            }
        }
        if (!plain) {
            l /= kappa;
            g /= kappa;
        }
        total += l * invm;
        if (grad)
            grad[(size_t)i * stride] = (real)(scale * -g * invm);
    }
    return total;
}

void quantile_midpoints(int N, double *tau)
{
    for (int i = 0; i < N; i++)
        tau[i] = (2.0 * i + 1.0) / (2.0 * N);
}

void quantile_cos_features(int R, const double *tau, int n, real *out)
{
    for (int r = 0; r < R; r++) {
        real *o = out + (size_t)r * n;
        double c1 = cos(M_PI * tau[r]), prev = 1.0, cur = c1;
        if (n > 0)
            o[0] = 1;
        if (n > 1)
            o[1] = (real)c1;
        for (int i = 2; i < n; i++) {
            double next = 2.0 * c1 * cur - prev;
            prev = cur;
            cur = next;
            o[i] = (real)cur;
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void quantile_sort(int n, double *x) { qsort(x, (size_t)n, sizeof(double), cmp_double); }
