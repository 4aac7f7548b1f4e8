#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A CDF with breakpoints x[0] < ... < x[m-1]. At x[i] it jumps from fl[i]
 * (left limit) to fr[i] (value); between x[i] and x[i+1] it is linear from
 * fr[i] to fl[i+1]; it is 0 before x[0] and 1 after x[m-1] (fl[0] = 0 and
 * fr[m-1] = 1 make that continuous where there is no atom). */
struct stat_dist {
    size_t m;
    double *x, *fl, *fr;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static stat_dist *dist_alloc(size_t m, bdrl_err *e)
{
    stat_dist *d = err_calloc(1, sizeof *d, e);
    if (!d)
        return NULL;
    d->x = err_calloc(m, sizeof(double), e);
    d->fl = err_calloc(m, sizeof(double), e);
    d->fr = err_calloc(m, sizeof(double), e);
    if (!d->x || !d->fl || !d->fr) {
        stat_dist_free(d);
        return NULL;
    }
    d->m = m;
    return d;
}

void stat_dist_free(stat_dist *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->fl);
    free(d->fr);
    free(d);
}

size_t stat_dist_size(const stat_dist *d) { return d->m; }

static double *sorted_copy(const double *x, size_t n, const char *what, bdrl_err *e)
{
    if (n == 0) {
        err_set(e, "%s: no values", what);
        return NULL;
    }
    if (!all_finite(x, n)) {
        err_set(e, "%s: values must be finite", what);
        return NULL;
    }
    double *s = err_calloc(n, sizeof(double), e);
    if (!s)
        return NULL;
    memcpy(s, x, n * sizeof(double));
    qsort(s, n, sizeof(double), cmp_double);
    return s;
}

stat_dist *stat_dist_sample(const double *x, size_t n, bdrl_err *e)
{
    double *s = sorted_copy(x, n, "empirical distribution", e);
    if (!s)
        return NULL;
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        m += s[i] != s[i - 1];
    stat_dist *d = dist_alloc(m, e);
    if (d) {
        /* Counts, not running sums of 1/n, so F is exactly k/n. */
        size_t k = 0, j = 0;
        while (j < n) {
            size_t j2 = j;
            while (j2 < n && s[j2] == s[j])
                j2++;
            d->x[k] = s[j];
            d->fl[k] = (double)j / (double)n;
            d->fr[k] = (double)j2 / (double)n;
            k++;
            j = j2;
        }
    }
    free(s);
    return d;
}

typedef struct {
    double v, p;
} atom;

static int cmp_atom(const void *a, const void *b)
{
    double x = ((const atom *)a)->v, y = ((const atom *)b)->v;
    return (x > y) - (x < y);
}

stat_dist *stat_dist_atoms(const double *v, const double *p, size_t n, bdrl_err *e)
{
    if (n == 0) {
        err_set(e, "atoms: no atoms");
        return NULL;
    }
    if (!all_finite(v, n) || !all_finite(p, n)) {
        err_set(e, "atoms: values and probabilities must be finite");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0.0) {
            err_set(e, "atoms: probability %zu is negative (%g)", i, p[i]);
            return NULL;
        }
    atom *a = err_calloc(n, sizeof *a, e);
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        a[i].v = v[i];
        a[i].p = p[i];
    }
    qsort(a, n, sizeof *a, cmp_atom);
    double total = 0.0;
    size_t m = 1;
    for (size_t i = 0; i < n; i++) {
        total += a[i].p;
        if (i && a[i].v != a[i - 1].v)
            m++;
    }
    if (!(total > 0.0) || !isfinite(total)) {
        free(a);
        err_set(e, "atoms: probabilities must have a positive finite sum");
        return NULL;
    }
    stat_dist *d = dist_alloc(m, e);
    if (d) {
        double cum = 0.0;
        size_t k = 0, j = 0;
        while (j < n) {
            d->x[k] = a[j].v;
            d->fl[k] = cum / total;
            double vj = a[j].v;
            while (j < n && a[j].v == vj)
                cum += a[j++].p;
            d->fr[k] = cum / total;
            k++;
        }
        d->fr[m - 1] = 1.0;
        if (d->fl[m - 1] > 1.0)
            d->fl[m - 1] = 1.0;
    }
    free(a);
    return d;
}

stat_dist *stat_dist_grid(const double *dens, size_t n, double lo, double hi, double *mass, bdrl_err *e)
{
    if (n < 2 || !(lo < hi) || !isfinite(lo) || !isfinite(hi)) {
        err_set(e, "grid density: need n >= 2 points and finite lo < hi (got n = %zu, [%g, %g])", n,
                lo, hi);
        return NULL;
    }
    if (!all_finite(dens, n)) {
        err_set(e, "grid density: values must be finite");
        return NULL;
    }
    double h = (hi - lo) / (double)(n - 1), total = 0.0;
    for (size_t k = 0; k < n; k++)
        total += dens[k] > 0.0 ? dens[k] : 0.0;
    if (mass)
        *mass = total * h;
    if (!(total > 0.0) || !isfinite(total)) {
        err_set(e, "grid density: no positive mass");
        return NULL;
    }
    stat_dist *d = dist_alloc(n + 1, e);
    if (!d)
        return NULL;
    double cum = 0.0;
    for (size_t k = 0; k <= n; k++) {
        d->x[k] = lo + ((double)k - 0.5) * h;
        d->fl[k] = d->fr[k] = cum / total;
        if (k < n)
            cum += dens[k] > 0.0 ? dens[k] : 0.0;
        if (k && !(d->x[k] > d->x[k - 1])) {
            stat_dist_free(d);
            err_set(e, "grid density: cells too small to resolve around %g", lo);
            return NULL;
        }
    }
    d->fl[n] = d->fr[n] = 1.0;
    return d;
}

stat_dist *stat_dist_from_cdf(stat_cdf_fn cdf, void *ctx, double lo, double hi, size_t n, bdrl_err *e)
{
    if (n < 2 || !(lo < hi) || !isfinite(lo) || !isfinite(hi)) {
        err_set(e, "tabulated CDF: need n >= 2 points and finite lo < hi (got n = %zu, [%g, %g])",
                n, lo, hi);
        return NULL;
    }
    stat_dist *d = dist_alloc(n, e);
    if (!d)
        return NULL;
    double h = (hi - lo) / (double)(n - 1), run = 0.0;
    for (size_t k = 0; k < n; k++) {
        double x = k == n - 1 ? hi : lo + (double)k * h;
        double F = cdf(x, ctx);
        if (isnan(F)) {
            stat_dist_free(d);
            err_set(e, "tabulated CDF: the CDF is NaN at %g", x);
            return NULL;
        }
        F = F < 0.0 ? 0.0 : F > 1.0 ? 1.0 : F;
        if (F < run)
            F = run;
        run = F;
        d->x[k] = x;
        d->fl[k] = d->fr[k] = F;
        if (k && !(x > d->x[k - 1])) {
            stat_dist_free(d);
            err_set(e, "tabulated CDF: grid too fine to resolve around %g", x);
            return NULL;
        }
    }
    d->fl[0] = 0.0;       /* the mass below lo sits at lo */
    d->fr[n - 1] = 1.0;   /* the mass above hi sits at hi */
    return d;
}

double stat_dist_cdf(const stat_dist *d, double x)
{
    if (isnan(x))
        return NAN;
    if (x < d->x[0])
        return 0.0;
    /* Largest i with x[i] <= x. */
    size_t lo = 0, hi = d->m;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->x[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    if (x == d->x[lo])
        return d->fr[lo];
    if (lo == d->m - 1)
        return 1.0;
    double t = (x - d->x[lo]) / (d->x[lo + 1] - d->x[lo]);
    return d->fr[lo] + t * (d->fl[lo + 1] - d->fr[lo]);
}

double stat_dist_mean(const stat_dist *d)
{
    /* Atoms contribute x * jump, linear pieces (uniform mass) their midpoint. */
    double s = 0.0;
    for (size_t i = 0; i < d->m; i++) {
        s += d->x[i] * (d->fr[i] - d->fl[i]);
        if (i + 1 < d->m)
            s += 0.5 * (d->x[i] + d->x[i + 1]) * (d->fl[i + 1] - d->fr[i]);
    }
    return s;
}

/* Walks one CDF along increasing points z; i is the first breakpoint not yet
 * passed. Gives the left and right limits at z. */
typedef struct {
    const stat_dist *d;
    size_t i;
} walker;

static void limits(walker *w, double z, double *L, double *R)
{
    const stat_dist *d = w->d;
    if (w->i < d->m && d->x[w->i] == z) {
        *L = d->fl[w->i];
        *R = d->fr[w->i];
        w->i++;
        return;
    }
    double v;
    if (w->i == 0) {
        v = 0.0;
    } else if (w->i == d->m) {
        v = 1.0;
    } else {
        size_t k = w->i - 1;
        double t = (z - d->x[k]) / (d->x[k + 1] - d->x[k]);
        v = d->fr[k] + t * (d->fl[k + 1] - d->fr[k]);
    }
    *L = *R = v;
}

void stat_dist_compare(const stat_dist *a, const stat_dist *b, stat_cmp *out)
{
    walker wa = {a, 0}, wb = {b, 0};
    double w1 = 0.0, c2 = 0.0, ks = 0.0, zprev = 0.0, dprev = 0.0;
    int first = 1;
    while (wa.i < a->m || wb.i < b->m) {
        double z;
        if (wb.i >= b->m || (wa.i < a->m && a->x[wa.i] <= b->x[wb.i]))
            z = a->x[wa.i];
        else
            z = b->x[wb.i];
        double La, Ra, Lb, Rb;
        limits(&wa, z, &La, &Ra);
        limits(&wb, z, &Lb, &Rb);
        double d1 = La - Lb;
        if (!first) {
            /* F - G is linear on (zprev, z), from dprev to d1. */
            double L = z - zprev, d0 = dprev;
            if ((d0 >= 0.0 && d1 >= 0.0) || (d0 <= 0.0 && d1 <= 0.0))
                w1 += L * fabs(d0 + d1) * 0.5;
            else
                w1 += L * (d0 * d0 + d1 * d1) / (2.0 * (fabs(d0) + fabs(d1)));
            c2 += L * (d0 * d0 + d0 * d1 + d1 * d1) / 3.0;
        }
        double dr = Ra - Rb;
        if (fabs(d1) > ks)
            ks = fabs(d1);
        if (fabs(dr) > ks)
            ks = fabs(dr);
        dprev = dr;
        zprev = z;
        first = 0;
    }
    out->w1 = w1;
    out->cramer = sqrt(c2 > 0.0 ? c2 : 0.0);
    out->ks = ks;
}

double stat_w1(const stat_dist *a, const stat_dist *b)
{
    stat_cmp c;
    stat_dist_compare(a, b, &c);
    return c.w1;
}

double stat_cramer(const stat_dist *a, const stat_dist *b)
{
    stat_cmp c;
    stat_dist_compare(a, b, &c);
    return c.cramer;
}

double stat_w1_sorted(const double *a, size_t na, const double *b, size_t nb)
{
    /* Between consecutive merged points F = i/na and G = j/nb are constant;
     * |F - G| = |i nb - j na| / (na nb) is exact in integers. */
    size_t i = 0, j = 0;
    double s = 0.0, prev = a[0] < b[0] ? a[0] : b[0], nab = (double)na * (double)nb;
    while (i < na || j < nb) {
        int take_a = j >= nb || (i < na && a[i] <= b[j]);
        double z = take_a ? a[i] : b[j];
        double inb = (double)i * (double)nb, jna = (double)j * (double)na;
        s += fabs(inb - jna) * (z - prev);
        prev = z;
        if (take_a)
            i++;
        else
            j++;
    }
    return s / nab;
}

int stat_w1_samples(const double *a, size_t na, const double *b, size_t nb, double *out, bdrl_err *e)
{
    double *sa = sorted_copy(a, na, "W1", e);
    if (!sa)
        return -1;
    double *sb = sorted_copy(b, nb, "W1", e);
    if (!sb) {
        free(sa);
        return -1;
    }
    *out = stat_w1_sorted(sa, na, sb, nb);
    free(sa);
    free(sb);
    return 0;
}

int stat_sliced_w1(const double *x, size_t nx, const double *y, size_t ny, size_t d, size_t n_dirs,
                   rng *r, double *out, double *se, bdrl_err *e)
{
    if (nx == 0 || ny == 0 || d == 0)
        return err_set(e, "sliced W1: empty sample or zero dimension");
    if (!all_finite(x, nx * d) || !all_finite(y, ny * d))
        return err_set(e, "sliced W1: values must be finite");
    if (n_dirs == 0)
        n_dirs = STAT_SLICED_DIRS;
    double *px = err_calloc(nx, sizeof(double), e);
    double *py = err_calloc(ny, sizeof(double), e);
    double *w = err_calloc(d, sizeof(double), e);
    if (!px || !py || !w) {
        free(px);
        free(py);
        free(w);
        return -1;
    }
    double mean = 0.0, m2 = 0.0; /* Welford: no cancellation when all slices agree */
    for (size_t t = 0; t < n_dirs; t++) {
        double nrm;
        do {
            nrm = 0.0;
            for (size_t j = 0; j < d; j++) {
                w[j] = rng_normal(r);
                nrm += w[j] * w[j];
            }
        } while (!(nrm > 0.0));
        nrm = sqrt(nrm);
        for (size_t j = 0; j < d; j++)
            w[j] /= nrm;
        for (size_t i = 0; i < nx; i++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++)
                s += x[i * d + j] * w[j];
            px[i] = s;
        }
        for (size_t i = 0; i < ny; i++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++)
                s += y[i * d + j] * w[j];
            py[i] = s;
        }
        qsort(px, nx, sizeof(double), cmp_double);
        qsort(py, ny, sizeof(double), cmp_double);
        double v = stat_w1_sorted(px, nx, py, ny), dv = v - mean;
        mean += dv / (double)(t + 1);
        m2 += dv * (v - mean);
    }
    free(px);
    free(py);
    free(w);
    *out = mean;
    if (se) {
        if (n_dirs > 1) {
            double var = m2 / (double)(n_dirs - 1);
            *se = sqrt(var > 0.0 ? var : 0.0) / sqrt((double)n_dirs);
        } else {
            *se = 0.0;
        }
    }
    return 0;
}

static double sqdist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

static const double *pooled(const double *x, size_t nx, const double *y, size_t d, size_t i)
{
    return i < nx ? x + i * d : y + (i - nx) * d;
}

/* numpy.median of values (sorted in place). */
static double median_inplace(double *v, size_t n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

int stat_mmd(const double *x, size_t nx, const double *y, size_t ny, size_t d, double bandwidth,
             stat_mmd_result *out, bdrl_err *e)
{
    if (nx < 2 || ny < 2 || d == 0)
        return err_set(e, "MMD: need at least 2 samples on each side (got %zu and %zu)", nx, ny);
    if (!all_finite(x, nx * d) || !all_finite(y, ny * d))
        return err_set(e, "MMD: values must be finite");
    if (!isfinite(bandwidth))
        return err_set(e, "MMD: bandwidth must be finite");
    double sigma = bandwidth;
    if (!(sigma > 0.0)) {
        size_t N = nx + ny, K = N > STAT_MMD_MEDIAN_POINTS ? STAT_MMD_MEDIAN_POINTS : N;
        size_t np = K * (K - 1) / 2, k = 0;
        double *dist = err_calloc(np, sizeof(double), e);
        if (!dist)
            return -1;
        double mean = 0.0;
        for (size_t a = 0; a < K; a++) {
            size_t ia = K == N ? a : (size_t)((double)a * (double)N / (double)K);
            for (size_t b = a + 1; b < K; b++) {
                size_t ib = K == N ? b : (size_t)((double)b * (double)N / (double)K);
                dist[k] = sqrt(sqdist(pooled(x, nx, y, d, ia), pooled(x, nx, y, d, ib), d));
                mean += dist[k];
                k++;
            }
        }
        mean /= (double)np;
        sigma = median_inplace(dist, np);
        free(dist);
        if (!(sigma > 0.0))
            sigma = mean;
        if (!(sigma > 0.0))
            sigma = 1.0;
    }
    double g = 1.0 / (2.0 * sigma * sigma), kxx = 0.0, kyy = 0.0, kxy = 0.0;
    for (size_t i = 0; i < nx; i++)
        for (size_t j = i + 1; j < nx; j++)
            kxx += exp(-g * sqdist(x + i * d, x + j * d, d));
    for (size_t i = 0; i < ny; i++)
        for (size_t j = i + 1; j < ny; j++)
            kyy += exp(-g * sqdist(y + i * d, y + j * d, d));
    for (size_t i = 0; i < nx; i++)
        for (size_t j = 0; j < ny; j++)
            kxy += exp(-g * sqdist(x + i * d, y + j * d, d));
    double fx = (double)nx, fy = (double)ny;
    out->mmd2 = 2.0 * kxx / (fx * (fx - 1.0)) + 2.0 * kyy / (fy * (fy - 1.0)) - 2.0 * kxy / (fx * fy);
    out->mmd = sqrt(out->mmd2 > 0.0 ? out->mmd2 : 0.0);
    out->bandwidth = sigma;
    return 0;
}

int stat_ks(const double *x, size_t n, stat_cdf_fn cdf, void *ctx, double *D, bdrl_err *e)
{
    double *s = sorted_copy(x, n, "KS", e);
    if (!s)
        return -1;
    double dmax = 0.0, fn = (double)n;
    for (size_t i = 0; i < n; i++) {
        double F = cdf(s[i], ctx);
        if (isnan(F)) {
            err_set(e, "KS: the CDF is NaN at %g", s[i]);
            free(s);
            return -1;
        }
        double up = (double)(i + 1) / fn - F, down = F - (double)i / fn;
        if (up > dmax)
            dmax = up;
        if (down > dmax)
            dmax = down;
    }
    free(s);
    *D = dmax;
    return 0;
}

double stat_kolmogorov_q(double l)
{
    if (isnan(l))
        return NAN;
    if (l <= 0.0)
        return 1.0;
    if (l < 1.18) {
        /* The theta-function form converges fast for small l. */
        double y = exp(-M_PI * M_PI / (8.0 * l * l)), s = 0.0;
        for (int k = 1; k <= 8; k++)
            s += pow(y, (double)((2 * k - 1) * (2 * k - 1)));
        double q = 1.0 - sqrt(2.0 * M_PI) / l * s;
        return q < 0.0 ? 0.0 : q > 1.0 ? 1.0 : q;
    }
    double s = 0.0;
    for (int k = 1; k <= 100; k++) {
        double t = exp(-2.0 * k * k * l * l);
        s += (k % 2 ? 2.0 : -2.0) * t;
        if (t < 1e-300)
            break;
    }
    return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
}

double stat_ks_pvalue(double D, size_t n)
{
    double sn = sqrt((double)n);
    return stat_kolmogorov_q((sn + 0.12 + 0.11 / sn) * D);
}

/* ---- summaries ---- */

double stat_mean(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

double stat_quantile_sorted(const double *s, size_t n, double q)
{
    double h = (double)(n - 1) * q, f = floor(h);
    if (h >= (double)(n - 1))
        return s[n - 1];
    if (h < 0.0)
        return s[0];
    size_t i = (size_t)f;
    double g = h - f, a = s[i], b = s[i + 1], diff = b - a;
    return g >= 0.5 ? b - diff * (1.0 - g) : a + diff * g;
}

int stat_quantile(const double *x, size_t n, double q, double *out, bdrl_err *e)
{
    if (!(q >= 0.0 && q <= 1.0))
        return err_set(e, "quantile: q must be in [0, 1], got %g", q);
    double *s = sorted_copy(x, n, "quantile", e);
    if (!s)
        return -1;
    *out = stat_quantile_sorted(s, n, q);
    free(s);
    return 0;
}

int stat_median(const double *x, size_t n, double *out, bdrl_err *e)
{
    double *s = sorted_copy(x, n, "median", e);
    if (!s)
        return -1;
    *out = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    free(s);
    return 0;
}

int stat_bootstrap_mean_ci(const double *x, size_t n, size_t B, double level, rng *r, double *lo,
                           double *hi, bdrl_err *e)
{
    if (n == 0 || B == 0)
        return err_set(e, "bootstrap: need at least one value and one resample");
    if (!(level > 0.0 && level < 1.0))
        return err_set(e, "bootstrap: level must be in (0, 1), got %g", level);
    if (!all_finite(x, n))
        return err_set(e, "bootstrap: values must be finite");
    double *m = err_calloc(B, sizeof(double), e);
    if (!m)
        return -1;
    for (size_t b = 0; b < B; b++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += x[rng_below(r, (unsigned long)n)];
        m[b] = s / (double)n;
    }
    qsort(m, B, sizeof(double), cmp_double);
    *lo = stat_quantile_sorted(m, B, (1.0 - level) / 2.0);
    *hi = stat_quantile_sorted(m, B, (1.0 + level) / 2.0);
    free(m);
    return 0;
}

int stat_summarize(const double *x, size_t n, size_t B, rng *r, stat_summary *out, bdrl_err *e)
{
    double *s = sorted_copy(x, n, "summary", e);
    if (!s)
        return -1;
    out->n = n;
    out->mean = stat_mean(x, n);
    out->min = s[0];
    out->max = s[n - 1];
    out->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
    out->q25 = stat_quantile_sorted(s, n, 0.25);
    out->q75 = stat_quantile_sorted(s, n, 0.75);
    out->iqr = out->q75 - out->q25;
    free(s);
    return stat_bootstrap_mean_ci(x, n, B, 0.95, r, &out->ci_lo, &out->ci_hi, e);
}

long stat_first_reach(const double *values, size_t n, double threshold)
{
    for (size_t i = 0; i < n; i++)
        if (values[i] >= threshold)
            return (long)i;
    return -1;
}

int stat_steps_to_threshold(const double *steps, const double *values, size_t n, double threshold,
                            double *step)
{
    long i = stat_first_reach(values, n, threshold);
    *step = i < 0 ? NAN : steps[i];
    return i >= 0;
}

int stat_auc(const double *steps, const double *values, size_t n, double *out, bdrl_err *e)
{
    if (n == 0)
        return err_set(e, "area under curve: no points");
    if (!all_finite(steps, n) || !all_finite(values, n))
        return err_set(e, "area under curve: steps and values must be finite");
    double s = 0.0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!(steps[i + 1] > steps[i]))
            return err_set(e, "area under curve: steps must increase (step %zu is %g, step %zu is %g)",
                           i, steps[i], i + 1, steps[i + 1]);
        s += (steps[i + 1] - steps[i]) * (values[i] + values[i + 1]) * 0.5;
    }
    *out = s;
    return 0;
}
