#include "mixture.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

sde_mixture *sde_mixture_create(int k, int d, const double *w, const double *mu,
                                const double *sd, bdrl_err *e)
{
    if (k < 1 || d < 1) {
        err_set(e, "mixture needs k >= 1 components and d >= 1 dimensions (got k=%d, d=%d)", k, d);
        return NULL;
    }
    if (!w || !mu || !sd) {
        err_set(e, "mixture weights, means and sds must be given");
        return NULL;
    }
    double tot = 0.0;
    for (int j = 0; j < k; j++) {
        if (!isfinite(w[j]) || w[j] < 0.0) {
            err_set(e, "mixture weight %d is %g: weights must be finite and >= 0", j, w[j]);
            return NULL;
        }
        if (!isfinite(sd[j]) || sd[j] <= 0.0) {
            err_set(e, "mixture sd %d is %g: sds must be finite and > 0", j, sd[j]);
            return NULL;
        }
        for (int a = 0; a < d; a++)
            if (!isfinite(mu[(size_t)j * d + a])) {
                err_set(e, "mixture mean %d is not finite", j);
                return NULL;
            }
        tot += w[j];
    }
    if (!(tot > 0.0)) {
        err_set(e, "mixture weights sum to 0");
        return NULL;
    }
    sde_mixture *m = err_calloc(1, sizeof *m, e);
    if (!m)
        return NULL;
    m->k = k;
    m->d = d;
    m->w = err_calloc((size_t)k, sizeof *m->w, e);
    m->mu = m->w ? err_calloc((size_t)k * d, sizeof *m->mu, e) : NULL;
    m->sd = m->mu ? err_calloc((size_t)k, sizeof *m->sd, e) : NULL;
    m->cn = m->sd ? err_calloc((size_t)k, sizeof *m->cn, e) : NULL;
    if (!m->cn) {
        sde_mixture_free(m);
        return NULL;
    }
    for (int j = 0; j < k; j++) {
        m->w[j] = w[j] / tot;
        m->sd[j] = sd[j];
        m->cn[j] = m->w[j] * pow(2.0 * M_PI * sd[j] * sd[j], -0.5 * d);
    }
    memcpy(m->mu, mu, (size_t)k * d * sizeof *mu);
    return m;
}

void sde_mixture_free(sde_mixture *m)
{
    if (!m)
        return;
    free(m->w);
    free(m->mu);
    free(m->sd);
    free(m->cn);
    free(m);
}

double sde_mixture_eval(const sde_mixture *m, const double *x, double *grad)
{
    const int d = m->d;
    double p = 0.0;
    if (grad)
        for (int a = 0; a < d; a++)
            grad[a] = 0.0;
    for (int j = 0; j < m->k; j++) {
        const double *mu = m->mu + (size_t)j * d;
        const double v = m->sd[j] * m->sd[j];
        double r2 = 0.0;
        for (int a = 0; a < d; a++) {
            double t = x[a] - mu[a];
            r2 += t * t;
        }
        const double pj = m->cn[j] * exp(-0.5 * r2 / v);
        p += pj;
        if (grad)
            for (int a = 0; a < d; a++)
                grad[a] -= pj * (x[a] - mu[a]) / v;
    }
    return p;
}

int sde_mixture_field(void *ctx, int n, int d, const double *x, double *s, double *g,
                      bdrl_err *e)
{
    const sde_mixture *m = ctx;
    if (d != m->d)
        return err_set(e, "mixture field has d=%d, asked for d=%d", m->d, d);
    for (int i = 0; i < n; i++)
        s[i] = sde_mixture_eval(m, x + (size_t)i * d, g ? g + (size_t)i * d : NULL);
    return 0;
}

void sde_mixture_sample(const sde_mixture *m, rng *r, int n, double *x)
{
    const int d = m->d;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(r), c = 0.0;
        int j = m->k - 1; /* rounding in the cumulative sum falls on the last one */
        for (int t = 0; t < m->k; t++) {
            c += m->w[t];
            if (u < c) {
                j = t;
                break;
            }
        }
        for (int a = 0; a < d; a++)
            x[(size_t)i * d + a] = m->mu[(size_t)j * d + a] + m->sd[j] * rng_normal(r);
    }
}

double sde_mixture_cdf_proj(const sde_mixture *m, const double *w, double t)
{
    const int d = m->d;
    double nw = 0.0;
    for (int a = 0; a < d; a++)
        nw += w[a] * w[a];
    nw = sqrt(nw);
    double F = 0.0;
    for (int j = 0; j < m->k; j++) {
        double c = 0.0;
        for (int a = 0; a < d; a++)
            c += w[a] * m->mu[(size_t)j * d + a];
        F += m->w[j] * 0.5 * erfc(-(t - c) / (m->sd[j] * nw * M_SQRT2));
    }
    return F;
}

int sde_mixture_nearest(const sde_mixture *m, const double *x)
{
    int best = 0;
    double bd = INFINITY;
    for (int j = 0; j < m->k; j++) {
        double r2 = 0.0;
        for (int a = 0; a < m->d; a++) {
            double t = x[a] - m->mu[(size_t)j * m->d + a];
            r2 += t * t;
        }
        if (r2 < bd) {
            bd = r2;
            best = j;
        }
    }
    return best;
}

int sde_mixture_occupancy(const sde_mixture *m, int n, const double *x,
                          const unsigned char *skip, double *frac)
{
    int cnt = 0;
    for (int j = 0; j < m->k; j++)
        frac[j] = 0.0;
    for (int i = 0; i < n; i++) {
        if (skip && skip[i])
            continue;
        frac[sde_mixture_nearest(m, x + (size_t)i * m->d)] += 1.0;
        cnt++;
    }
    if (cnt)
        for (int j = 0; j < m->k; j++)
            frac[j] /= cnt;
    return cnt;
}
