/* bd_grid_targets.c — the pure pieces of the grid agent's targets
 * (bd_grid.h): grid mean and mass, the running-sum search and the grid
 * inverse CDF, terminal, bootstrapped and kernel targets. No networks here,
 * so each formula is tested against hand values; bd_grid.c calls these very
 * functions (no copies), so what is tested is what runs. */
#include "agents/bd_grid.h"

#include <math.h>

double bd_grid_mean(int G, double lo, double hi, const real *s, int stride, double scale, double *mass,
                    double *cum)
{
    double du = (hi - lo) / (G - 1), m = 0, mu = 0;
    for (int k = 0; k < G; k++) {
        double v = (double)s[(size_t)k * stride];
        v = v > 0 ? v * scale : 0.0;
        m += v;
        mu += v * (lo + k * du);
        if (cum)
            cum[k] = m;
    }
    if (mass)
        *mass = m * du;
    return m > 0 ? mu / m : 0.5 * (lo + hi);
}

int bd_grid_cum_index(int n, const double *cum, double x)
{
    int a = 0, b = n - 1;
    while (a < b) {
        int mid = (a + b) / 2;
        if (cum[mid] > x)
            b = mid;
        else
            a = mid + 1;
    }
    return a;
}

double bd_grid_icdf(int G, double lo, double hi, const double *cum, double U)
{
    double du = (hi - lo) / (G - 1), target = U * cum[G - 1];
    int a = bd_grid_cum_index(G, cum, target);
    double below = a > 0 ? cum[a - 1] : 0.0, w = cum[a] - below;
    double frac = w > 0 ? (target - below) / w : 0.5;
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    return lo + (a - 0.5 + frac) * du;
}

void bd_grid_target_terminal(int n, const double *v, double u_r, double eps, double *t, double *dt)
{
    double norm = 1.0 / sqrt(2 * M_PI * eps);
    for (int i = 0; i < n; i++) {
        double d = v[i] - u_r, k = norm * exp(-0.5 * d * d / eps);
        t[i] = k;
        dt[i] = -d / eps * k;
    }
}

void bd_grid_target_bootstrap(int n, const double *v, double b, double gamma, double lo, double hi,
                              const double *s_next, const double *g_next, double mass, double floor,
                              int clamp, double *t, double *dt)
{
    double m = mass > floor ? mass : floor;
    double cs = 1.0 / (gamma * m), cg = 1.0 / (gamma * gamma * m);
    for (int i = 0; i < n; i++) {
        double w = (v[i] - b) / gamma;
        if (!(w >= lo && w <= hi) || (clamp && !(s_next[i] > 0))) {
            t[i] = dt[i] = 0;
            continue;
        }
        t[i] = cs * s_next[i];
        dt[i] = cg * g_next[i];
    }
}

void bd_grid_target_kernel(int n, const double *v, int m, const double *x2, double weight, double eps,
                           double *t, double *dt)
{
    double norm = weight / (m * sqrt(2 * M_PI * eps)), inv = 0.5 / eps;
    for (int i = 0; i < n; i++) {
        double k = 0, dk = 0;
        for (int j = 0; j < m; j++) {
            double d = v[i] - x2[j], q = exp(-d * d * inv);
            k += q;
            dk -= d * q;
        }
        t[i] = norm * k;
        dt[i] = norm * dk / eps;
    }
}
