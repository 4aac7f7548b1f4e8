#include "sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sde_sampler {
    sde_config cfg;
    int n, d;
    double *mean;            /* (d) copy of cfg.init_mean */
    double *s, *g;           /* (n), (n, d): field at the current positions */
    double *y, *sy, *gy;     /* (n, d), (n), (n, d): proposals and the field there */
    double *zz;              /* (n) ||z||² of each mala proposal */
    double *xg, *sg, *gg;    /* (n, d), (n), (n, d): gathered batch for the callback */
    double *grid_x, *grid_s; /* (G), (G): grid start */
    double *cum;             /* (G-1) cumulative grid mass */
    int *idx;                /* (n) walkers in the current batch */
    unsigned char *have_s;   /* s[i] is the field at the current x[i] */
    unsigned char *have_g;   /* g[i] likewise */
    unsigned char *bad;      /* the field is non-finite at the current x[i] */
    unsigned char *live;     /* s > frozen_s seen at some step */
    unsigned char *flags;    /* (n) SDE_WALKER_* */
};

void sde_config_default(sde_config *c)
{
    memset(c, 0, sizeof *c);
    c->method = SDE_EM;
    c->eta = 1e-3;
    c->n_steps = 1000;
    c->global_every = 0;
    c->lo = -1.0;
    c->hi = 1.0;
    c->init = SDE_INIT_UNIFORM;
    c->init_mean = NULL;
    c->init_sd = 1.0;
    c->grid_points = 256;
    c->frozen_s = 1e-6;
    c->langevin_min_s = 1e-12;
    c->a = 1.0;
    c->c = 1.0;
}

static const char *const method_names[] = {"em", "mala", "langevin", "em_ac", "bdd_sqrt2p"};
static const char *const init_names[] = {"uniform", "normal", "points", "grid_icdf"};
#define N_METHODS ((int)(sizeof method_names / sizeof *method_names))
#define N_INITS ((int)(sizeof init_names / sizeof *init_names))

const char *sde_method_name(sde_method m)
{
    return (int)m >= 0 && (int)m < N_METHODS ? method_names[m] : "?";
}

const char *sde_init_name(sde_init i)
{
    return (int)i >= 0 && (int)i < N_INITS ? init_names[i] : "?";
}

int sde_method_parse(const char *name, sde_method *m, bdrl_err *e)
{
    for (int k = 0; name && k < N_METHODS; k++)
        if (!strcmp(name, method_names[k])) {
            *m = (sde_method)k;
            return 0;
        }
    return err_set(e, "unknown sampler method '%s' (em, mala, langevin, em_ac, bdd_sqrt2p)",
                   name ? name : "");
}

int sde_init_parse(const char *name, sde_init *i, bdrl_err *e)
{
    for (int k = 0; name && k < N_INITS; k++)
        if (!strcmp(name, init_names[k])) {
            *i = (sde_init)k;
            return 0;
        }
    return err_set(e, "unknown sampler init '%s' (uniform, normal, points, grid_icdf)",
                   name ? name : "");
}

static int check_config(const sde_config *c, int n, int d, bdrl_err *e)
{
    if (n < 1 || d < 1)
        return err_set(e, "sampler needs n >= 1 walkers and d >= 1 (got n=%d, d=%d)", n, d);
    if ((int)c->method < 0 || (int)c->method >= N_METHODS)
        return err_set(e, "sampler method %d is unknown", (int)c->method);
    if ((int)c->init < 0 || (int)c->init >= N_INITS)
        return err_set(e, "sampler init %d is unknown", (int)c->init);
    if (!isfinite(c->eta) || c->eta <= 0.0)
        return err_set(e, "sampler step eta must be finite and > 0 (got %g)", c->eta);
    if (c->n_steps < 0)
        return err_set(e, "sampler n_steps must be >= 0 (got %d)", c->n_steps);
    if (c->global_every < 0)
        return err_set(e, "sampler global_every must be >= 0 (got %d)", c->global_every);
    if (!isfinite(c->lo) || !isfinite(c->hi) || !(c->lo < c->hi))
        return err_set(e, "sampler box needs finite lo < hi (got [%g, %g])", c->lo, c->hi);
    if (c->init == SDE_INIT_NORMAL) {
        if (!isfinite(c->init_sd) || c->init_sd <= 0.0)
            return err_set(e, "sampler init_sd must be finite and > 0 (got %g)", c->init_sd);
        if (c->init_mean)
            for (int a = 0; a < d; a++)
                if (!isfinite(c->init_mean[a]))
                    return err_set(e, "sampler init_mean[%d] is not finite", a);
    }
    if (c->init == SDE_INIT_GRID_ICDF) {
        if (d != 1)
            return err_set(e, "sampler init grid_icdf needs d = 1 (got d=%d)", d);
        if (c->grid_points < 2)
            return err_set(e, "sampler grid_points must be >= 2 (got %d)", c->grid_points);
    }
    if (!(c->frozen_s >= 0.0) || !isfinite(c->frozen_s))
        return err_set(e, "sampler frozen_s must be finite and >= 0 (got %g)", c->frozen_s);
    if (!(c->langevin_min_s >= 0.0) || !isfinite(c->langevin_min_s))
        return err_set(e, "sampler langevin_min_s must be finite and >= 0 (got %g)",
                       c->langevin_min_s);
    if (c->method == SDE_EM_AC &&
        (!isfinite(c->a) || !isfinite(c->c) || c->a <= 0.0 || c->c <= 0.0))
        return err_set(e, "sampler em_ac needs finite a > 0 and c > 0 (got a=%g, c=%g)",
                       c->a, c->c);
    return 0;
}

void sde_sampler_free(sde_sampler *S)
{
    if (!S)
        return;
    free(S->mean);
    free(S->s);
    free(S->g);
    free(S->y);
    free(S->sy);
    free(S->gy);
    free(S->zz);
    free(S->xg);
    free(S->sg);
    free(S->gg);
    free(S->grid_x);
    free(S->grid_s);
    free(S->cum);
    free(S->idx);
    free(S->have_s);
    free(S->have_g);
    free(S->bad);
    free(S->live);
    free(S->flags);
    free(S);
}

sde_sampler *sde_sampler_create(const sde_config *c, int n, int d, bdrl_err *e)
{
    if (!c) {
        err_set(e, "sampler config missing");
        return NULL;
    }
    if (check_config(c, n, d, e))
        return NULL;
    sde_sampler *S = err_calloc(1, sizeof *S, e);
    if (!S)
        return NULL;
    S->cfg = *c;
    S->n = n;
    S->d = d;
    const size_t N = (size_t)n, ND = (size_t)n * d, D = (size_t)d;
    int ok = (S->mean = err_calloc(D, sizeof(double), e)) &&
             (S->s = err_calloc(N, sizeof(double), e)) &&
             (S->g = err_calloc(ND, sizeof(double), e)) &&
             (S->y = err_calloc(ND, sizeof(double), e)) &&
             (S->sy = err_calloc(N, sizeof(double), e)) &&
             (S->gy = err_calloc(ND, sizeof(double), e)) &&
             (S->zz = err_calloc(N, sizeof(double), e)) &&
             (S->xg = err_calloc(ND, sizeof(double), e)) &&
             (S->sg = err_calloc(N, sizeof(double), e)) &&
             (S->gg = err_calloc(ND, sizeof(double), e)) &&
             (S->idx = err_calloc(N, sizeof(int), e)) &&
             (S->have_s = err_calloc(N, 1, e)) && (S->have_g = err_calloc(N, 1, e)) &&
             (S->bad = err_calloc(N, 1, e)) && (S->live = err_calloc(N, 1, e)) &&
             (S->flags = err_calloc(N, 1, e));
    if (ok && c->init == SDE_INIT_GRID_ICDF)
        ok = (S->grid_x = err_calloc((size_t)c->grid_points, sizeof(double), e)) &&
             (S->grid_s = err_calloc((size_t)c->grid_points, sizeof(double), e)) &&
             (S->cum = err_calloc((size_t)c->grid_points - 1, sizeof(double), e));
    if (!ok) {
        sde_sampler_free(S);
        return NULL;
    }
    if (c->init_mean)
        memcpy(S->mean, c->init_mean, D * sizeof(double));
    S->cfg.init_mean = NULL; /* the copy in S->mean is used */
    return S;
}

const unsigned char *sde_sampler_flags(const sde_sampler *S) { return S->flags; }
const double *sde_sampler_s(const sde_sampler *S) { return S->s; }

/* Evaluates the field at rows idx[0..m) of src (n, d) (idx NULL: all n rows,
 * m = n), writing s into sdst[idx[j]] and, if gdst is not NULL, g into the
 * matching rows of gdst. Rows are gathered into one contiguous batch so the
 * callback always sees a single batched call. */
static int eval_rows(sde_sampler *S, sde_field_fn f, void *ctx, int m, const int *idx,
                     const double *src, double *sdst, double *gdst, sde_result *res, bdrl_err *e)
{
    if (m == 0)
        return 0;
    const int d = S->d;
    res->field_calls++;
    res->field_points += m;
    if (!idx) {
        if (f(ctx, m, d, src, sdst, gdst, e))
            return err_prefix(e, "sampler field");
        return 0;
    }
    for (int j = 0; j < m; j++)
        memcpy(S->xg + (size_t)j * d, src + (size_t)idx[j] * d, (size_t)d * sizeof(double));
    if (f(ctx, m, d, S->xg, S->sg, gdst ? S->gg : NULL, e))
        return err_prefix(e, "sampler field");
    for (int j = 0; j < m; j++) {
        sdst[idx[j]] = S->sg[j];
        if (gdst)
            memcpy(gdst + (size_t)idx[j] * d, S->gg + (size_t)j * d, (size_t)d * sizeof(double));
    }
    return 0;
}

static int row_finite(const double *v, int d)
{
    for (int a = 0; a < d; a++)
        if (!isfinite(v[a]))
            return 0;
    return 1;
}

/* Makes s (and g if need_g) known at every walker's current position,
 * evaluating only the walkers that lack them, and marks walkers where the
 * field is non-finite. */
static int ensure_field(sde_sampler *S, sde_field_fn f, void *ctx, const double *x, int need_g,
                        sde_result *res, bdrl_err *e)
{
    const int n = S->n, d = S->d;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!S->have_s[i] || (need_g && !S->have_g[i]))
            S->idx[m++] = i;
    if (m == 0)
        return 0;
    if (eval_rows(S, f, ctx, m, m == n ? NULL : S->idx, x, S->s, need_g ? S->g : NULL, res, e))
        return -1;
    for (int j = 0; j < m; j++) {
        int i = S->idx[j];
        S->have_s[i] = 1;
        if (need_g)
            S->have_g[i] = 1;
        S->bad[i] = !isfinite(S->s[i]) || (S->have_g[i] && !row_finite(S->g + (size_t)i * d, d));
        if (S->bad[i])
            S->flags[i] |= SDE_WALKER_NONFINITE;
    }
    return 0;
}

static void note_live(sde_sampler *S)
{
    for (int i = 0; i < S->n; i++)
        if (S->have_s[i] && !S->bad[i] && S->s[i] > S->cfg.frozen_s)
            S->live[i] = 1;
}

/* Euler–Maruyama family and score Langevin: one step for every walker. */
static void step_explicit(sde_sampler *S, double *x, rng *r, sde_result *res)
{
    const int n = S->n, d = S->d;
    const sde_config *c = &S->cfg;
    const double eta = c->eta;
    double a = 1.0, cn = 1.0;
    if (c->method == SDE_EM_AC) {
        a = c->a;
        cn = c->c;
    } else if (c->method == SDE_BDD_SQRT2P) {
        cn = 2.0;
    }
    for (int i = 0; i < n; i++) {
        double *xi = x + (size_t)i * d, *yi = S->y + (size_t)i * d;
        const double *gi = S->g + (size_t)i * d;
        /* Draw first so a walker's numbers do not depend on other walkers' fate. */
        for (int k = 0; k < d; k++)
            yi[k] = rng_normal(r);
        if (S->bad[i]) {
            res->nonfinite_steps++;
            continue;
        }
        const double si = S->s[i];
        if (c->method == SDE_LANGEVIN) {
            const double sn = sqrt(2.0 * eta);
            if (si > c->langevin_min_s) {
                for (int k = 0; k < d; k++)
                    yi[k] = xi[k] + eta * gi[k] / si + sn * yi[k];
            } else {
                res->guard_steps++;
                S->flags[i] |= SDE_WALKER_GUARDED;
                for (int k = 0; k < d; k++)
                    yi[k] = xi[k] + sn * yi[k];
            }
        } else {
            const double sn = sqrt(cn * eta * (si > 0.0 ? si : 0.0));
            for (int k = 0; k < d; k++)
                yi[k] = xi[k] + a * eta * gi[k] + sn * yi[k];
        }
        if (!row_finite(yi, d)) {
            S->flags[i] |= SDE_WALKER_NONFINITE;
            res->nonfinite_steps++;
            continue;
        }
        memcpy(xi, yi, (size_t)d * sizeof(double));
        S->have_s[i] = S->have_g[i] = 0;
    }
}

/* Metropolis-adjusted BDD: y ~ N(x + η g(x), η s(x) I), target ∝ max(s, 0). */
static int step_mala(sde_sampler *S, sde_field_fn f, void *ctx, double *x, rng *r,
                     sde_result *res, bdrl_err *e)
{
    const int n = S->n, d = S->d;
    const double eta = S->cfg.eta;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (S->bad[i] || !(S->s[i] > 0.0)) {
            res->local_skipped++;
            if (S->bad[i])
                res->nonfinite_steps++;
            continue;
        }
        const double *xi = x + (size_t)i * d, *gi = S->g + (size_t)i * d;
        double *yi = S->y + (size_t)i * d;
        const double sd = sqrt(eta * S->s[i]);
        double z2 = 0.0;
        for (int k = 0; k < d; k++) {
            double z = rng_normal(r);
            z2 += z * z;
            yi[k] = xi[k] + eta * gi[k] + sd * z;
        }
        S->zz[i] = z2;
        res->local_proposed++;
        if (!row_finite(yi, d)) {
            res->nonfinite_proposals++;
            continue;
        }
        S->idx[m++] = i;
    }
    if (eval_rows(S, f, ctx, m, m == n ? NULL : S->idx, S->y, S->sy, S->gy, res, e))
        return -1;
    for (int j = 0; j < m; j++) {
        const int i = S->idx[j];
        const double u = rng_uniform_pos(r);
        const double *xi = x + (size_t)i * d, *yi = S->y + (size_t)i * d;
        const double *gyi = S->gy + (size_t)i * d;
        const double sx = S->s[i], sy = S->sy[i];
        if (!isfinite(sy) || !row_finite(gyi, d)) {
            res->nonfinite_proposals++;
            continue;
        }
        if (!(sy > 0.0))
            continue;
        /* log α = log s(y) − log s(x) + log q(x|y) − log q(y|x), with
         * log q(y|x) = −(d/2) log(2π η s(x)) − ||z||²/2. */
        double r2 = 0.0;
        for (int k = 0; k < d; k++) {
            double t = xi[k] - yi[k] - eta * gyi[k];
            r2 += t * t;
        }
        const double la = (1.0 - 0.5 * d) * (log(sy) - log(sx)) - r2 / (2.0 * eta * sy) +
                          0.5 * S->zz[i];
        if (log(u) < la) {
            res->local_accepted++;
            memcpy(x + (size_t)i * d, yi, (size_t)d * sizeof(double));
            memcpy(S->g + (size_t)i * d, gyi, (size_t)d * sizeof(double));
            S->s[i] = sy;
            S->have_s[i] = S->have_g[i] = 1;
            S->bad[i] = 0;
        }
    }
    return 0;
}

/* Independence MH: y ~ U([lo, hi]^d), accepted with min(1, s(y)/s(x)). A
 * position outside the box has q(x) = 0, so leaving it would break detailed
 * balance unless s(x) is itself 0 (outside the target's support). */
static int global_move(sde_sampler *S, sde_field_fn f, void *ctx, double *x, rng *r,
                       sde_result *res, bdrl_err *e)
{
    const int n = S->n, d = S->d;
    const double lo = S->cfg.lo, hi = S->cfg.hi;
    /* Only s(x) is needed here, but every method needs g(x) at the next
     * local step and most proposals are rejected: fetch both now. */
    if (ensure_field(S, f, ctx, x, 1, res, e))
        return -1;
    for (size_t k = 0; k < (size_t)n * d; k++)
        S->y[k] = lo + (hi - lo) * rng_uniform(r);
    if (eval_rows(S, f, ctx, n, NULL, S->y, S->sy, NULL, res, e))
        return -1;
    for (int i = 0; i < n; i++) {
        const double u = rng_uniform(r), sy = S->sy[i];
        const double *xi = x + (size_t)i * d;
        res->global_proposed++;
        if (!isfinite(sy)) {
            res->nonfinite_proposals++;
            continue;
        }
        if (!(sy > 0.0))
            continue;
        const double px = (S->bad[i] || !(S->s[i] > 0.0)) ? 0.0 : S->s[i];
        int accept;
        if (px == 0.0) {
            accept = 1;
        } else {
            int inside = 1;
            for (int k = 0; k < d; k++)
                inside &= xi[k] >= lo && xi[k] <= hi;
            accept = inside && u * px < sy;
        }
        if (accept) {
            res->global_accepted++;
            memcpy(x + (size_t)i * d, S->y + (size_t)i * d, (size_t)d * sizeof(double));
            S->s[i] = sy;
            S->have_s[i] = 1;
            S->have_g[i] = 0;
            S->bad[i] = 0;
        }
    }
    return 0;
}

static void icdf_draw(double lo, double hi, int G, const double *s, const double *cum, int n,
                      double *x, rng *r)
{
    const double h = (hi - lo) / (G - 1), tot = cum[G - 2];
    for (int i = 0; i < n; i++) {
        const double u = rng_uniform(r) * tot;
        int a = 0, b = G - 2; /* first cell j with cum[j] > u */
        while (a < b) {
            int mid = a + (b - a) / 2;
            if (cum[mid] > u)
                b = mid;
            else
                a = mid + 1;
        }
        const int j = a;
        const double pa = s[j] > 0.0 ? s[j] : 0.0, pb = s[j + 1] > 0.0 ? s[j + 1] : 0.0;
        const double rem = u - (j ? cum[j - 1] : 0.0);
        /* Solve pa t + (pb − pa) t² / (2h) = rem for t in [0, h], in the form
         * without cancellation. */
        double t = 0.0;
        if (rem > 0.0) {
            double disc = pa * pa + 2.0 * (pb - pa) * rem / h;
            if (disc < 0.0)
                disc = 0.0;
            const double den = pa + sqrt(disc);
            t = den > 0.0 ? 2.0 * rem / den : 0.0;
        }
        if (t > h)
            t = h;
        x[i] = lo + j * h + t;
        if (x[i] > hi)
            x[i] = hi;
    }
}

static int icdf_prepare(double lo, double hi, int G, const double *s, double *cum, bdrl_err *e)
{
    const double h = (hi - lo) / (G - 1);
    double c = 0.0;
    for (int j = 0; j < G; j++)
        if (!isfinite(s[j]))
            return err_set(e, "grid density is not finite at x=%g", lo + j * h);
    for (int j = 0; j + 1 < G; j++) {
        const double pa = s[j] > 0.0 ? s[j] : 0.0, pb = s[j + 1] > 0.0 ? s[j + 1] : 0.0;
        c += 0.5 * h * (pa + pb);
        cum[j] = c;
    }
    if (!(c > 0.0) || !isfinite(c))
        return err_set(e, "grid density has no positive mass on [%g, %g]", lo, hi);
    return 0;
}

int sde_grid_icdf(double lo, double hi, int G, const double *s, int n, double *x, rng *r,
                  bdrl_err *e)
{
    if (G < 2 || !isfinite(lo) || !isfinite(hi) || !(lo < hi) || n < 0)
        return err_set(e, "grid inverse CDF needs G >= 2 points over finite lo < hi");
    double *cum = err_calloc((size_t)G - 1, sizeof *cum, e);
    if (!cum)
        return -1;
    int rc = icdf_prepare(lo, hi, G, s, cum, e);
    if (!rc)
        icdf_draw(lo, hi, G, s, cum, n, x, r);
    free(cum);
    return rc;
}

static int init_walkers(sde_sampler *S, sde_field_fn f, void *ctx, double *x, rng *r,
                        sde_result *res, bdrl_err *e)
{
    const int n = S->n, d = S->d;
    const sde_config *c = &S->cfg;
    const size_t nd = (size_t)n * d;
    switch (c->init) {
    case SDE_INIT_UNIFORM:
        for (size_t k = 0; k < nd; k++)
            x[k] = c->lo + (c->hi - c->lo) * rng_uniform(r);
        return 0;
    case SDE_INIT_NORMAL:
        for (size_t k = 0; k < nd; k++)
            x[k] = S->mean[k % d] + c->init_sd * rng_normal(r);
        return 0;
    case SDE_INIT_POINTS:
        for (size_t k = 0; k < nd; k++)
            if (!isfinite(x[k]))
                return err_set(e, "sampler start point %zu is not finite", k / d);
        return 0;
    case SDE_INIT_GRID_ICDF: {
        const int G = c->grid_points;
        const double h = (c->hi - c->lo) / (G - 1);
        for (int j = 0; j < G; j++)
            S->grid_x[j] = c->lo + j * h;
        S->grid_x[G - 1] = c->hi;
        res->field_calls++;
        res->field_points += G;
        if (f(ctx, G, 1, S->grid_x, S->grid_s, NULL, e))
            return err_prefix(e, "sampler field");
        if (icdf_prepare(c->lo, c->hi, G, S->grid_s, S->cum, e))
            return err_prefix(e, "sampler grid_icdf start");
        icdf_draw(c->lo, c->hi, G, S->grid_s, S->cum, n, x, r);
        return 0;
    }
    }
    return err_set(e, "sampler init %d is unknown", (int)c->init);
}

int sde_sampler_run(sde_sampler *S, sde_field_fn f, void *ctx, double *x, rng *r,
                    sde_result *res_out, bdrl_err *e)
{
    const int n = S->n;
    const sde_config *c = &S->cfg;
    sde_result res;
    memset(&res, 0, sizeof res);
    memset(S->have_s, 0, (size_t)n);
    memset(S->have_g, 0, (size_t)n);
    memset(S->bad, 0, (size_t)n);
    memset(S->live, 0, (size_t)n);
    memset(S->flags, 0, (size_t)n);
    int rc = 0;
    if (!f || !x || !r) {
        rc = err_set(e, "sampler needs a field, walkers and an rng");
        goto done;
    }
    if ((rc = init_walkers(S, f, ctx, x, r, &res, e)))
        goto done;
    for (int t = 0; t < c->n_steps; t++) {
        if ((rc = ensure_field(S, f, ctx, x, 1, &res, e)))
            goto done;
        note_live(S);
        if (c->method == SDE_MALA) {
            if ((rc = step_mala(S, f, ctx, x, r, &res, e)))
                goto done;
        } else {
            step_explicit(S, x, r, &res);
        }
        res.steps++;
        if (c->global_every > 0 && (t + 1) % c->global_every == 0)
            if ((rc = global_move(S, f, ctx, x, r, &res, e)))
                goto done;
    }
    if ((rc = ensure_field(S, f, ctx, x, 0, &res, e)))
        goto done;
    note_live(S);
    for (int i = 0; i < n; i++) {
        if (!S->live[i]) {
            S->flags[i] |= SDE_WALKER_FROZEN;
            res.n_frozen++;
        }
        if (S->flags[i] & SDE_WALKER_NONFINITE)
            res.n_nonfinite++;
        if (S->flags[i] & SDE_WALKER_GUARDED)
            res.n_guarded++;
    }
done:
    res.local_accept = res.local_proposed ? (double)res.local_accepted / res.local_proposed : NAN;
    res.global_accept =
        res.global_proposed ? (double)res.global_accepted / res.global_proposed : NAN;
    if (res_out)
        *res_out = res;
    return rc;
}

int sde_sample(const sde_config *c, sde_field_fn f, void *ctx, int n, int d, double *x,
               unsigned char *flags, sde_result *res, rng *r, bdrl_err *e)
{
    sde_sampler *S = sde_sampler_create(c, n, d, e);
    if (!S)
        return -1;
    int rc = sde_sampler_run(S, f, ctx, x, r, res, e);
    if (flags)
        memcpy(flags, S->flags, (size_t)n);
    sde_sampler_free(S);
    return rc;
}

int sde_compact(int n, int d, double *x, const unsigned char *flags, unsigned drop)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (flags[i] & drop)
            continue;
        if (k != i)
            memmove(x + (size_t)k * d, x + (size_t)i * d, (size_t)d * sizeof(double));
        k++;
    }
    return k;
}
