/* loss.c — field-matching and regression losses (see loss.h for the maths). */
#include "fields/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#endif

#include "fields/fastmath.h"

const char *field_kernel_name(field_kernel k)
{
    return k == FIELD_KERNEL_SLICED ? "sliced" : k == FIELD_KERNEL_FULL ? "full" : "?";
}

int field_kernel_parse(const char *name, field_kernel *out, bdrl_err *e)
{
    if (strcmp(name, "full") == 0)
        *out = FIELD_KERNEL_FULL;
    else if (strcmp(name, "sliced") == 0)
        *out = FIELD_KERNEL_SLICED;
    else
        return err_set(e, "unknown kernel '%s' (expected full or sliced)", name);
    return 0;
}

const char *field_probe_name(field_probe q)
{
    return q == FIELD_PROBE_NORMAL ? "normal" : q == FIELD_PROBE_RADEMACHER ? "rademacher" : "?";
}

int field_probe_parse(const char *name, field_probe *out, bdrl_err *e)
{
    if (strcmp(name, "rademacher") == 0)
        *out = FIELD_PROBE_RADEMACHER;
    else if (strcmp(name, "normal") == 0)
        *out = FIELD_PROBE_NORMAL;
    else
        return err_set(e, "unknown probe distribution '%s' (expected rademacher or normal)", name);
    return 0;
}

void field_draw_slices(rng *r, int B, int d, real *w)
{
    for (int i = 0; i < B; i++) {
        real *wi = w + (size_t)i * d;
        if (d == 1) {
            wi[0] = (real)rng_rademacher(r);
            continue;
        }
        double n2;
        double z[64], *zp = d <= 64 ? z : NULL;
        do {   /* a normal vector, normalized (redrawn in the null event n2 = 0) */
            n2 = 0;
            for (int k = 0; k < d; k++) {
                double g = rng_normal(r);
                if (zp)
                    zp[k] = g;
                else
                    wi[k] = (real)g;
                n2 += g * g;
            }
        } while (n2 == 0);
        double inv = 1.0 / sqrt(n2);
        for (int k = 0; k < d; k++)
            wi[k] = (real)((zp ? zp[k] : (double)wi[k]) * inv);
    }
}

void field_draw_probes(rng *r, int B, int d, field_probe q, real *v)
{
    size_t n = (size_t)B * d;
    for (size_t i = 0; i < n; i++)
        v[i] = (real)(q == FIELD_PROBE_NORMAL ? rng_normal(r) : rng_rademacher(r));
}

/* The kernel sum is O(B²) exponentials, more than the small networks' GEMMs
 * for B in the hundreds, so it runs in chunks of KCHUNK partners: squared
 * distances (double) → exponent (real) → e^· (vectorized, fastmath.h) →
 * double sum. The self term is zeroed, not subtracted (1 − 1 would leave
 * rounding noise where the true sum is ~0). */
#define KCHUNK 256

int field_kernel_avg(int B, int d, const real *x, field_kernel kern, double eps, const real *w,
                     real *K, bdrl_err *e)
{
    if (B < 2)
        return err_set(e, "field kernel: batch of %d (the U-statistic needs B >= 2)", B);
    if (!(eps > 0))
        return err_set(e, "field kernel: eps %g must be positive", eps);
    if (kern == FIELD_KERNEL_SLICED && !w)
        return err_set(e, "field kernel: sliced kernel without slicing directions");
    const double inv2e = 0.5 / eps;
    const int sliced = kern == FIELD_KERNEL_SLICED;
    const double norm = pow(2.0 * M_PI * eps, -0.5 * (sliced ? 1 : d)) / (double)(B - 1);
    real t[KCHUNK];
    for (int i = 0; i < B; i++) {
        const real *xi = x + (size_t)i * d, *wi = sliced ? w + (size_t)i * d : NULL;
        double pi = 0;
        if (sliced)
            for (int k = 0; k < d; k++)
                pi += (double)wi[k] * xi[k];
        double sum = 0;
        for (int j0 = 0; j0 < B; j0 += KCHUNK) {
            int n = B - j0 < KCHUNK ? B - j0 : KCHUNK;
            const real *xj = x + (size_t)j0 * d;
            if (d == 1) {
                double a = sliced ? (double)wi[0] : 1.0, ci = sliced ? pi : (double)xi[0];
                for (int j = 0; j < n; j++) {
                    double r = ci - a * xj[j];
                    t[j] = (real)(-r * r * inv2e);
                }
            } else {
                for (int j = 0; j < n; j++) {
                    const real *xr = xj + (size_t)j * d;
                    double r2 = 0;
                    if (sliced) {
                        double pj = 0;
                        for (int k = 0; k < d; k++)
                            pj += (double)wi[k] * xr[k];
                        r2 = (pi - pj) * (pi - pj);
                    } else {
                        for (int k = 0; k < d; k++) {
                            double r = (double)xi[k] - xr[k];
                            r2 += r * r;
                        }
                    }
                    t[j] = (real)(-r2 * inv2e);
                }
            }
            for (int j = 0; j < n; j++)
                t[j] = expneg_r(t[j]);
            if (i >= j0 && i < j0 + n)
                t[i - j0] = 0;   /* the U-statistic leaves out j = i */
            for (int j = 0; j < n; j++)
                sum += t[j];
        }
        K[i] = (real)(sum * norm);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

void field_batch_free(field_batch *fb)
{
    if (!fb)
        return;
    free(fb->x);
    free(fb->w);
    free(fb->v);
    free(fb->K);
    free(fb);
}

field_batch *field_batch_create(int max_batch, int d, field_kernel kern, field_probe probe,
                                double eps, bdrl_err *e)
{
    if (max_batch < 2 || d < 1) {
        err_set(e, "field_batch: max_batch %d (>= 2) and d %d (>= 1)", max_batch, d);
        return NULL;
    }
    if (!(eps > 0)) {
        err_set(e, "field_batch: eps %g must be positive", eps);
        return NULL;
    }
    if (kern != FIELD_KERNEL_FULL && kern != FIELD_KERNEL_SLICED) {
        err_set(e, "field_batch: unknown kernel %d", (int)kern);
        return NULL;
    }
    if (probe != FIELD_PROBE_RADEMACHER && probe != FIELD_PROBE_NORMAL) {
        err_set(e, "field_batch: unknown probe distribution %d", (int)probe);
        return NULL;
    }
    field_batch *fb = err_calloc(1, sizeof *fb, e);
    if (!fb)
        return NULL;
    *fb = (field_batch){.max_batch = max_batch, .d = d, .kernel = kern, .probe = probe, .eps = eps};
    size_t n = (size_t)max_batch * d;
    if (!(fb->x = err_calloc(n, sizeof(real), e)) || !(fb->w = err_calloc(n, sizeof(real), e)) ||
        !(fb->v = err_calloc(n, sizeof(real), e)) ||
        !(fb->K = err_calloc((size_t)max_batch, sizeof(real), e))) {
        field_batch_free(fb);
        return NULL;
    }
    return fb;
}

int field_batch_update(field_batch *fb, bdrl_err *e)
{
    return field_kernel_avg(fb->B, fb->d, fb->x, fb->kernel, fb->eps, fb->w, fb->K, e);
}

int field_batch_draw(field_batch *fb, int B, const real *x, rng *r, bdrl_err *e)
{
    if (B < 2 || B > fb->max_batch)
        return err_set(e, "field_batch: batch of %d rows (expected 2..%d)", B, fb->max_batch);
    fb->B = B;
    memcpy(fb->x, x, (size_t)B * fb->d * sizeof(real));
    if (fb->kernel == FIELD_KERNEL_SLICED)
        field_draw_slices(r, B, fb->d, fb->w);
    field_draw_probes(r, B, fb->d, fb->probe, fb->v);
    return field_batch_update(fb, e);
}

/* ------------------------------------------------------------------------ */
/* values and adjoints                                                       */

double field_id_value(int B, const real *s, const real *K, real *ds)
{
    double L = 0;
    for (int i = 0; i < B; i++) {
        double si = s[i], ki = K[i];
        L += si * si - 2.0 * ki * si;
        if (ds)
            ds[i] = (real)(2.0 * (si - ki) / B);
    }
    return L / B;
}

double field_grad_value(int B, const real *vg, const real *jv, const real *K, real *dvg, real *djv)
{
    double L = 0;
    for (int i = 0; i < B; i++) {
        double a = vg[i], ki = K[i];
        L += a * a + ki * (double)jv[i];
        if (dvg)
            dvg[i] = (real)(2.0 * a / B);
        if (djv)
            djv[i] = (real)(ki / B);
    }
    return L / B;
}

double field_sq_value(int n, const real *p, const real *t, const real *w, double scale, real *dp)
{
    double L = 0;
    for (int i = 0; i < n; i++) {
        double r = (double)p[i] - t[i], wi = w ? w[i] : 1.0;
        L += wi * r * r;
        if (dp)
            dp[i] = (real)(2.0 * scale * wi * r / n);
    }
    return scale * L / n;
}

/* ------------------------------------------------------------------------ */
/* network-level losses                                                      */

double field_loss_id(field_batch *fb, mlp *s, const real *in, real *din)
{
    int B = fb->B;
    if (mlp_n_out(s) != 1 || (!in && mlp_n_in(s) != fb->d))
        abort(); /* contract violation: s maps R^d (or its input features) to R */
    const real *y = mlp_forward(s, B, in ? in : fb->x);   /* (B, 1) */
    double L = field_id_value(B, y, fb->K, s->dy);
    mlp_backward(s, s->dy, NULL, din, NULL);
    return L;
}

double field_loss_grad(field_batch *fb, mlp *g, const real *in, const real *in_dir, real *din)
{
    int B = fb->B, d = fb->d;
    if ((!in_dir && in) || mlp_n_out(g) != d || (!in && mlp_n_in(g) != d))
        abort(); /* contract violation: g maps R^d (or features, with in_dir) to R^d */
    const real *y = mlp_forward_jvp(g, B, in ? in : fb->x, in_dir ? in_dir : fb->v); /* (B, d) */
    const real *yd = mlp_ydot(g);                                                   /* (B, d) */
    double L = 0;
    for (int i = 0; i < B; i++) {
        const real *vi = fb->v + (size_t)i * d, *gi = y + (size_t)i * d, *ji = yd + (size_t)i * d;
        double vg = 0, jv = 0;
        for (int k = 0; k < d; k++) {
            vg += (double)vi[k] * gi[k];
            jv += (double)vi[k] * ji[k];
        }
        double ki = fb->K[i];
        L += vg * vg + ki * jv;
        /* dL/dg_ik = 2 (vᵀg) v_ik / B,  dL/dẏ_ik = K_i v_ik / B */
        double a = 2.0 * vg / B, c = ki / B;
        for (int k = 0; k < d; k++) {
            g->dy[(size_t)i * d + k] = (real)(a * vi[k]);
            g->dydot[(size_t)i * d + k] = (real)(c * vi[k]);
        }
    }
    mlp_backward(g, g->dy, g->dydot, din, NULL);
    return L / B;
}

double field_loss_regress(mlp *net, int B, const real *in, const int *col, const real *t,
                          const real *w, double scale, real *din)
{
    mlp_forward(net, B, in);
    return field_loss_regress_last(net, col, t, w, scale, din);
}

double field_loss_regress_last(mlp *net, const int *col, const real *t, const real *w, double scale,
                               real *din)
{
    int no = mlp_n_out(net), B = net->B;
    const real *y = mlp_y(net);
    memset(net->dy, 0, (size_t)B * no * sizeof(real));
    double L = 0;
    for (int i = 0; i < B; i++) {
        int c = col ? col[i] : 0;
        if (c < 0 || c >= no)
            abort(); /* contract violation: output column out of range */
        double r = (double)y[(size_t)i * no + c] - t[i], wi = w ? w[i] : 1.0;
        L += wi * r * r;
        net->dy[(size_t)i * no + c] = (real)(2.0 * scale * wi * r / B);
    }
    mlp_backward(net, net->dy, NULL, din, NULL);
    return scale * L / B;
}

double field_loss_regress_jvp(mlp *net, int B, const real *in, const real *in_dir, const int *col,
                              const real *t, const real *dt, const real *w, double lambda,
                              real *din)
{
    int no = mlp_n_out(net);
    const real *y = mlp_forward_jvp(net, B, in, in_dir), *yd = mlp_ydot(net);
    memset(net->dy, 0, (size_t)B * no * sizeof(real));
    memset(net->dydot, 0, (size_t)B * no * sizeof(real));
    double L = 0;
    for (int i = 0; i < B; i++) {
        if (col && (col[i] < 0 || col[i] >= no))
            abort(); /* contract violation: output column out of range */
        size_t c = (size_t)i * no + (col ? col[i] : 0);
        double r = (double)y[c] - t[i], rd = (double)yd[c] - dt[i], wi = w ? w[i] : 1.0;
        L += wi * (r * r + lambda * rd * rd);
        net->dy[c] = (real)(2.0 * wi * r / B);
        net->dydot[c] = (real)(2.0 * lambda * wi * rd / B);
    }
    mlp_backward(net, net->dy, net->dydot, din, NULL);
    return L / B;
}
