/* risk.c — distortion risk measures on atoms and Gaussian mixtures (risk.h). */
#include "risk.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#define CPW_ETA_MIN 0.28 /* β is not monotone below about 0.279 */
#define CPW_ETA_MAX 100.0

static const struct {
    const char *name;
    risk_measure m;
} NAMES[] = {{"mean", RISK_MEAN}, {"cvar", RISK_CVAR}, {"wang", RISK_WANG},
             {"cpw", RISK_CPW},   {"pow", RISK_POW},   {"var", RISK_VAR}};

#define RISK_FORMS "mean, cvar:ALPHA, var:ALPHA, wang:ETA, cpw:ETA, pow:ETA"

int risk_spec_check(const risk_spec *r, bdrl_err *e)
{
    double p = r->param;
    switch (r->measure) {
    case RISK_MEAN:
        return 0;
    case RISK_CVAR:
        if (!(p > 0 && p <= 1))
            return err_set(e, "cvar:ALPHA needs ALPHA in (0, 1], got %g", p);
        return 0;
    case RISK_VAR:
        if (!(p > 0 && p < 1))
            return err_set(e, "var:ALPHA needs ALPHA in (0, 1), got %g", p);
        return 0;
    case RISK_WANG:
    case RISK_POW:
        if (!isfinite(p))
            return err_set(e, "%s:ETA needs a finite ETA, got %g", r->measure == RISK_WANG ? "wang" : "pow", p);
        return 0;
    case RISK_CPW:
        if (!(p >= CPW_ETA_MIN && p <= CPW_ETA_MAX))
            return err_set(e, "cpw:ETA needs ETA in [%g, %g] (below 0.279 its weighting is not monotone), got %g",
                           CPW_ETA_MIN, CPW_ETA_MAX, p);
        return 0;
    }
    return err_set(e, "unknown risk measure %d", (int)r->measure);
}

int risk_spec_parse(const char *text, risk_spec *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(text, ':');
    size_t len = colon ? (size_t)(colon - text) : strlen(text);
    int found = 0;
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES && !found; i++)
        if (strlen(NAMES[i].name) == len && !strncmp(text, NAMES[i].name, len)) {
            out->measure = NAMES[i].m;
            found = 1;
        }
    if (!found)
        return err_set(e, "'%s' is not a risk measure (" RISK_FORMS ")", text);
    if (out->measure == RISK_MEAN) {
        if (colon)
            return err_set(e, "'%s': mean takes no parameter", text);
        return 0;
    }
    if (!colon || !colon[1])
        return err_set(e, "'%s' lacks its parameter (" RISK_FORMS ")", text);
    char *end;
    errno = 0;
    double p = strtod(colon + 1, &end);
    if (*end || errno || end == colon + 1 || !isfinite(p))
        return err_set(e, "'%s': the parameter must be a finite number", text);
    out->param = p;
    if (risk_spec_check(out, e))
        return err_prefix(e, "'%s'", text);
    return 0;
}

void risk_spec_format(const risk_spec *r, char *buf, size_t n)
{
    const char *name = "?";
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        if (NAMES[i].m == r->measure)
            name = NAMES[i].name;
    if (r->measure == RISK_MEAN)
        snprintf(buf, n, "%s", name);
    else
        snprintf(buf, n, "%s:%.10g", name, r->param);
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

static double cpw(double eta, double t)
{
    if (t <= 0)
        return 0;
    if (t >= 1)
        return 1;
    double a = pow(t, eta), b = pow(1 - t, eta);
    return a / pow(a + b, 1 / eta);
}

double risk_beta(const risk_spec *r, double tau)
{
    double t = clamp01(tau), p = r->param;
    switch (r->measure) {
    case RISK_MEAN:
        return t;
    case RISK_CVAR:
        return p * t;
    case RISK_VAR:
        return p;
    case RISK_WANG:
        return t <= 0 ? 0 : t >= 1 ? 1 : gsl_cdf_ugaussian_P(gsl_cdf_ugaussian_Pinv(t) + p);
    case RISK_CPW:
        return cpw(p, t);
    case RISK_POW:
        return p >= 0 ? pow(t, 1 / (1 + p)) : 1 - pow(1 - t, 1 / (1 - p));
    }
    return NAN;
}

/* sup{τ in [0, 1] : cpw(τ) ≤ u} by bisection to adjacent doubles. */
static double cpw_inv(double eta, double u)
{
    if (u <= 0)
        return 0;
    if (u >= 1)
        return 1;
    double lo = 0, hi = 1;
    for (int i = 0; i < 2000; i++) {
        double mid = lo + 0.5 * (hi - lo);
        if (!(mid > lo && mid < hi))
            break;
        if (cpw(eta, mid) <= u)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* 1 − h(u), given u and s = 1 − u (the upper mass, accurate when u is near
 * 1). */
static double one_minus_h(const risk_spec *r, double u, double s)
{
    double p = r->param;
    u = clamp01(u);
    s = clamp01(s);
    switch (r->measure) {
    case RISK_MEAN:
        return s;
    case RISK_CVAR:
        return u >= p ? 0 : (p - u) / p;
    case RISK_VAR:
        return u >= p ? 0 : 1;
    case RISK_WANG: {
        if (u <= 0)
            return 1;
        if (s <= 0)
            return 0;
        double z = u <= 0.5 ? gsl_cdf_ugaussian_Pinv(u) : gsl_cdf_ugaussian_Qinv(s);
        return gsl_cdf_ugaussian_P(p - z); /* 1 − Φ(z − η) */
    }
    case RISK_POW:
        if (p >= 0) /* 1 − u^{1+η} */
            return u <= 0.5 ? 1 - pow(u, 1 + p) : -expm1((1 + p) * log1p(-s));
        return pow(s, 1 - p); /* (1 − u)^{1+|η|} */
    case RISK_CPW:
        return 1 - cpw_inv(p, u);
    }
    return NAN;
}

double risk_beta_inv(const risk_spec *r, double u)
{
    u = clamp01(u);
    if (r->measure == RISK_CPW)
        return cpw_inv(r->param, u);
    return 1 - one_minus_h(r, u, 1 - u);
}

typedef struct {
    double x, w;
} xw;

static int cmp_xw(const void *pa, const void *pb)
{
    const xw *a = pa, *b = pb;
    return (a->x > b->x) - (a->x < b->x);
}

int risk_atoms(const risk_spec *r, const double *x, const double *w, size_t n, double *out, bdrl_err *e)
{
    if (risk_spec_check(r, e))
        return -1;
    if (n < 1)
        return err_set(e, "risk measure of an empty law");
    xw *a = err_malloc(sizeof *a * n, e);
    if (!a)
        return -1;
    size_t m = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(w[i]) || w[i] < 0) {
            free(a);
            return err_set(e, "risk measure: atom %zu (value %g, weight %g) is not finite with weight >= 0", i, x[i],
                           w[i]);
        }
        if (w[i] > 0) {
            a[m++] = (xw){x[i], w[i]};
            total += w[i];
        }
    }
    if (!(total > 0) || !isfinite(total)) {
        free(a);
        return err_set(e, "risk measure of a law with zero mass");
    }
    qsort(a, m, sizeof *a, cmp_xw);
    /* upper masses S_i = Σ_{j>i} w_j, summed from the top */
    double *upper = err_malloc(sizeof(double) * m, e);
    if (!upper) {
        free(a);
        return -1;
    }
    double s = 0;
    for (size_t i = m; i-- > 0;) {
        upper[i] = s;
        s += a[i].w;
    }
    double v = a[0].x, F = 0;
    for (size_t i = 0; i + 1 < m; i++) {
        F += a[i].w;
        double gap = a[i + 1].x - a[i].x;
        if (gap > 0)
            v += one_minus_h(r, F / total, upper[i] / total) * gap;
    }
    free(upper);
    free(a);
    *out = v;
    return 0;
}

/* ---- Gaussian mixtures ---- */

typedef struct {
    const double *mu, *w; /* w normalized */
    size_t K;
    double sigma;
    const risk_spec *r;
} mix;

static void mix_cdf(const mix *m, double x, double *F, double *S)
{
    double f = 0, s = 0;
    for (size_t k = 0; k < m->K; k++) {
        double z = (x - m->mu[k]) / m->sigma;
        f += m->w[k] * gsl_cdf_ugaussian_P(z);
        s += m->w[k] * gsl_cdf_ugaussian_Q(z);
    }
    *F = f;
    *S = s;
}

/* F^{-1}(alpha) by bisection between the outermost components' quantiles. */
static double mix_quantile(const mix *m, double alpha)
{
    double z = gsl_cdf_ugaussian_Pinv(alpha), lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < m->K; k++) {
        lo = fmin(lo, m->mu[k] + m->sigma * z);
        hi = fmax(hi, m->mu[k] + m->sigma * z);
    }
    for (int i = 0; i < 2000; i++) {
        double mid = lo + 0.5 * (hi - lo), F, S;
        if (!(mid > lo && mid < hi))
            break;
        mix_cdf(m, mid, &F, &S);
        if (F < alpha)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

static double upper_integrand(double x, void *p) /* 1 − H(x) */
{
    const mix *m = p;
    double F, S;
    mix_cdf(m, x, &F, &S);
    return one_minus_h(m->r, F, S);
}

static double lower_integrand(double x, void *p) /* H(x) */
{
    const mix *m = p;
    double F, S;
    mix_cdf(m, x, &F, &S);
    return 1 - one_minus_h(m->r, F, S);
}

static int integrate(double (*f)(double, void *), mix *m, double a, double b, double *out, bdrl_err *e)
{
    if (!(b > a)) {
        *out = 0;
        return 0;
    }
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(2000);
    if (!ws)
        return err_set(e, "out of memory");
    gsl_function fn = {f, m};
    double err;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = gsl_integration_qag(&fn, a, b, 1e-13 * m->sigma, 1e-12, 2000, GSL_INTEG_GAUSS61, ws, out, &err);
    gsl_set_error_handler(old);
    gsl_integration_workspace_free(ws);
    /* roundoff limits are fine at this tolerance; anything else is not */
    if (st && st != GSL_EROUND)
        return err_set(e, "risk measure of a Gaussian mixture: quadrature failed (%s, error estimate %g)",
                       gsl_strerror(st), err);
    return 0;
}

int risk_gauss_mixture(const risk_spec *r, const double *mu, const double *w, size_t K, double sigma, double *out,
                       bdrl_err *e)
{
    if (risk_spec_check(r, e))
        return -1;
    if (K < 1)
        return err_set(e, "risk measure of an empty mixture");
    if (!(sigma > 0) || !isfinite(sigma))
        return err_set(e, "risk measure of a Gaussian mixture: sigma must be positive and finite, got %g", sigma);
    double total = 0;
    for (size_t k = 0; k < K; k++) {
        if (!isfinite(mu[k]) || !isfinite(w[k]) || w[k] < 0)
            return err_set(e, "risk measure: component %zu (mean %g, weight %g) is not finite with weight >= 0", k,
                           mu[k], w[k]);
        total += w[k];
    }
    if (!(total > 0) || !isfinite(total))
        return err_set(e, "risk measure of a mixture with zero weight");
    double *wn = err_malloc(sizeof(double) * K, e);
    if (!wn)
        return -1;
    double mean = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < K; k++) {
        wn[k] = w[k] / total;
        mean += wn[k] * mu[k];
        if (wn[k] > 0) {
            lo = fmin(lo, mu[k]);
            hi = fmax(hi, mu[k]);
        }
    }
    mix m = {mu, wn, K, sigma, r};
    int rc = 0;
    double p = r->param;
    if (r->measure == RISK_MEAN || (r->measure == RISK_CVAR && p == 1)) {
        *out = mean;
    } else if (r->measure == RISK_VAR) {
        *out = mix_quantile(&m, p);
    } else if (r->measure == RISK_CVAR) {
        double q = mix_quantile(&m, p), s = 0;
        for (size_t k = 0; k < K; k++) {
            double z = (q - mu[k]) / sigma;
            s += wn[k] * (mu[k] * gsl_cdf_ugaussian_P(z) - sigma * exp(-0.5 * z * z) / sqrt(2 * M_PI));
        }
        *out = s / p;
    } else {
        double cut = (40 + (r->measure == RISK_WANG ? fabs(p) : 0)) * sigma, up, down;
        rc = integrate(upper_integrand, &m, mean, hi + cut, &up, e) ||
             integrate(lower_integrand, &m, lo - cut, mean, &down, e);
        if (!rc)
            *out = mean + up - down;
        else
            rc = -1;
    }
    free(wn);
    return rc;
}
