/* projected.c — fixed points of the quantile- and categorical-projected
 * distributional Bellman operators on a transition table (projected.h). */
#include "truth/projected.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "truth/truth.h"

int proj_spec_check(const proj_spec *p, bdrl_err *e)
{
    if (p->kind == PROJ_QUANTILE) {
        if (p->n < 1 || p->n > PROJ_MAX_N)
            return err_set(e, "quantile:N needs N in [1, %d], got %d", PROJ_MAX_N, p->n);
        return 0;
    }
    if (p->n < 2 || p->n > PROJ_MAX_N)
        return err_set(e, "categorical:N needs N in [2, %d] (two support points at least), got %d", PROJ_MAX_N,
                       p->n);
    if (!(isfinite(p->v_min) && isfinite(p->v_max) && p->v_max > p->v_min))
        return err_set(e, "categorical projection: the support [%g, %g] needs finite v_min < v_max", p->v_min,
                       p->v_max);
    return 0;
}

int proj_spec_parse(const char *text, proj_spec *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(text, ':');
    size_t len = colon ? (size_t)(colon - text) : strlen(text);
    if (len == 8 && !strncmp(text, "quantile", 8))
        out->kind = PROJ_QUANTILE;
    else if (len == 11 && !strncmp(text, "categorical", 11))
        out->kind = PROJ_CATEGORICAL;
    else
        return err_set(e, "'%s' is not quantile:N or categorical:N", text);
    if (!colon || !colon[1])
        return err_set(e, "'%s' lacks the number of atoms (quantile:N or categorical:N)", text);
    char *end;
    errno = 0;
    long n = strtol(colon + 1, &end, 10);
    if (*end || errno || end == colon + 1)
        return err_set(e, "'%s': N must be an integer", text);
    int lo = out->kind == PROJ_QUANTILE ? 1 : 2;
    if (n < lo || n > PROJ_MAX_N)
        return err_set(e, "'%s': N must be in [%d, %d]", text, lo, PROJ_MAX_N);
    out->n = (int)n;
    out->v_min = 0;
    out->v_max = 1;
    return 0;
}

typedef struct {
    double v, p;
} vp;

static int cmp_vp(const void *pa, const void *pb)
{
    const vp *a = pa, *b = pb;
    return (a->v > b->v) - (a->v < b->v);
}

/* The projection proper on scratch pairs x (sorted here in place). */
static void quantile_sorted(vp *x, int n, int N, double *out)
{
    qsort(x, (size_t)n, sizeof *x, cmp_vp);
    /* cumulative weights in place, then F^{-1}(τ_i) = first atom whose
     * cumulative weight reaches τ_i times the total (numpy's searchsorted
     * side='left' on the cumulative sum) */
    double c = 0;
    for (int j = 0; j < n; j++) {
        c += x[j].p;
        x[j].p = c;
    }
    double total = c;
    int j = 0;
    for (int i = 0; i < N; i++) {
        double target = (2.0 * i + 1) / (2.0 * N) * total;
        while (j < n - 1 && x[j].p < target)
            j++;
        out[i] = x[j].v;
    }
}

static int check_law(const double *v, const double *p, int n, bdrl_err *e)
{
    if (n < 1)
        return err_set(e, "projection of an empty law");
    double s = 0;
    for (int j = 0; j < n; j++) {
        if (!isfinite(v[j]) || !isfinite(p[j]) || p[j] < 0)
            return err_set(e, "projection: atom %d (value %g, probability %g) is not finite with probability >= 0",
                           j, v[j], p[j]);
        s += p[j];
    }
    if (!(s > 0))
        return err_set(e, "projection of a law with zero mass");
    return 0;
}

int proj_quantile(const double *v, const double *p, int n, int N, double *out, bdrl_err *e)
{
    if (check_law(v, p, n, e))
        return -1;
    if (N < 1)
        return err_set(e, "quantile projection onto %d atoms", N);
    vp *x = err_malloc(sizeof *x * (size_t)n, e);
    if (!x)
        return -1;
    for (int j = 0; j < n; j++)
        x[j] = (vp){v[j], p[j]};
    quantile_sorted(x, n, N, out);
    free(x);
    return 0;
}

/* Adds mass w of an atom at x to m (N support points from v_min, step dz). */
static void place(double *m, int N, double v_min, double v_max, double dz, double x, double w)
{
    x = x < v_min ? v_min : x > v_max ? v_max : x;
    double b = (x - v_min) / dz, top = N - 1;
    b = b > top ? top : b;
    int k = (int)b;
    k = k > N - 2 ? N - 2 : k;
    double f = b - k;
    m[k] += w * (1.0 - f);
    m[k + 1] += w * f;
}

int proj_categorical(const double *v, const double *p, int n, int N, double v_min, double v_max, double *m,
                     bdrl_err *e)
{
    if (check_law(v, p, n, e))
        return -1;
    proj_spec sp = {PROJ_CATEGORICAL, N, v_min, v_max};
    if (proj_spec_check(&sp, e))
        return -1;
    double dz = (v_max - v_min) / (N - 1);
    for (int j = 0; j < N; j++)
        m[j] = 0;
    for (int j = 0; j < n; j++)
        place(m, N, v_min, v_max, dz, v[j], p[j]);
    return 0;
}

void proj_fixed_point_free(proj_fixed_point *fp)
{
    free(fp->value);
    free(fp->prob);
    fp->value = fp->prob = NULL;
}

const double *proj_fp_value(const proj_fixed_point *fp, int s, int a)
{
    return fp->value + ((size_t)s * (size_t)fp->n_actions + (size_t)a) * (size_t)fp->n;
}

const double *proj_fp_prob(const proj_fixed_point *fp, int s, int a)
{
    return fp->prob + ((size_t)s * (size_t)fp->n_actions + (size_t)a) * (size_t)fp->n;
}

double proj_fp_mean(const proj_fixed_point *fp, int s, int a)
{
    const double *v = proj_fp_value(fp, s, a), *p = proj_fp_prob(fp, s, a);
    double m = 0, z = 0;
    for (int j = 0; j < fp->n; j++) {
        m += v[j] * p[j];
        z += p[j];
    }
    return z > 0 ? m / z : NAN;
}

/* The iteration's state: per state the law of Z(s, π(s)) as N positions
 * (quantile) or N masses on the support (categorical). */
typedef struct {
    const env_table *t;
    double gamma;
    proj_spec sp;
    int N;
    double *z;  /* categorical support (N) */
    double dz;
    vp *mix;    /* scratch: max_outcomes · N atoms */
} ctx;

/* Π of the mixture of (s, a)'s outcomes over the laws cur (per state, N
 * numbers); terminal outcomes are the atom r, a terminal s gives Π(δ0). */
static void backup(ctx *c, const double *cur, int s, int a, double *out)
{
    const env_table *t = c->t;
    int N = c->N, n = 0;
    int quant = c->sp.kind == PROJ_QUANTILE;
    if (truth_tab_is_terminal(t, s)) {
        if (quant)
            for (int i = 0; i < N; i++)
                out[i] = 0;
        else {
            for (int i = 0; i < N; i++)
                out[i] = 0;
            place(out, N, c->sp.v_min, c->sp.v_max, c->dz, 0.0, 1.0);
        }
        return;
    }
    int no = t->n_outcomes[s * t->n_actions + a];
    if (!quant)
        for (int i = 0; i < N; i++)
            out[i] = 0;
    for (int k = 0; k < no; k++) {
        const env_outcome *o = &t->outcomes[(size_t)(s * t->n_actions + a) * (size_t)t->max_outcomes + (size_t)k];
        if (o->prob == 0)
            continue;
        if (o->terminated) {
            if (quant)
                c->mix[n++] = (vp){o->reward, o->prob};
            else
                place(out, N, c->sp.v_min, c->sp.v_max, c->dz, o->reward, o->prob);
            continue;
        }
        const double *zn = cur + (size_t)o->next_state * (size_t)N;
        if (quant) {
            double w = o->prob / N;
            for (int j = 0; j < N; j++)
                c->mix[n++] = (vp){o->reward + c->gamma * zn[j], w};
        } else {
            for (int j = 0; j < N; j++)
                if (zn[j] != 0)
                    place(out, N, c->sp.v_min, c->sp.v_max, c->dz, o->reward + c->gamma * c->z[j], o->prob * zn[j]);
        }
    }
    if (quant)
        quantile_sorted(c->mix, n, N, out);
}

int truth_tab_projected(const env_table *t, double gamma, const int *policy, const proj_spec *spec, double tol,
                        int max_iter, proj_fixed_point *out, bdrl_err *e)
{
    memset(out, 0, sizeof *out);
    if (!(gamma >= 0 && gamma <= 1))
        return err_set(e, "discount factor %g is outside [0, 1]", gamma);
    if (proj_spec_check(spec, e))
        return -1;
    int S = t->n_states, A = t->n_actions, N = spec->n;
    for (int s = 0; s < S; s++)
        if (policy[s] < 0 || policy[s] >= A)
            return err_set(e, "policy: action %d in state %d is not in [0, %d)", policy[s], s, A);
    if (tol <= 0)
        tol = PROJ_TOL;
    if (max_iter <= 0)
        max_iter = PROJ_MAX_ITER;
    int quant = spec->kind == PROJ_QUANTILE;
    ctx c = {.t = t, .gamma = gamma, .sp = *spec, .N = N};
    c.dz = (spec->v_max - spec->v_min) / (N > 1 ? N - 1 : 1);
    double *cur = err_calloc((size_t)S * (size_t)N, sizeof(double), e);
    double *nxt = err_calloc((size_t)S * (size_t)N, sizeof(double), e);
    c.z = err_malloc(sizeof(double) * (size_t)N, e);
    c.mix = err_malloc(sizeof(vp) * ((size_t)t->max_outcomes * (size_t)N + 1), e);
    int rc = -1;
    if (!cur || !nxt || !c.z || !c.mix)
        goto done;
    for (int j = 0; j < N; j++)
        c.z[j] = quant ? 0 : (j == N - 1 ? spec->v_max : spec->v_min + j * c.dz);
    /* Z_0 = δ0 (projected) everywhere */
    if (!quant)
        for (int s = 0; s < S; s++)
            place(cur + (size_t)s * N, N, spec->v_min, spec->v_max, c.dz, 0.0, 1.0);
    int it = 0;
    double change = INFINITY;
    while (it < max_iter) {
        change = 0;
        for (int s = 0; s < S; s++) {
            double *o = nxt + (size_t)s * N, *p = cur + (size_t)s * N;
            backup(&c, cur, s, policy[s], o);
            for (int j = 0; j < N; j++) {
                double d = fabs(o[j] - p[j]);
                if (quant)
                    d /= fmax(1.0, fabs(o[j]));
                change = fmax(change, d);
            }
        }
        double *tmp = cur;
        cur = nxt;
        nxt = tmp;
        it++;
        if (!isfinite(change)) {
            err_set(e, "projected Bellman iteration diverged after %d sweeps", it);
            goto done;
        }
        if (change <= tol)
            break;
    }
    if (change > tol) {
        err_set(e, "projected Bellman iteration did not converge in %d sweeps (last change %.3g > %.3g)", max_iter,
                change, tol);
        goto done;
    }
    out->spec = *spec;
    out->n_states = S;
    out->n_actions = A;
    out->n = N;
    out->iterations = it;
    out->change = change;
    out->value = err_malloc(sizeof(double) * (size_t)S * A * N, e);
    out->prob = err_malloc(sizeof(double) * (size_t)S * A * N, e);
    if (!out->value || !out->prob)
        goto done;
    for (int s = 0; s < S; s++)
        for (int a = 0; a < A; a++) {
            double *v = out->value + ((size_t)s * A + a) * N, *p = out->prob + ((size_t)s * A + a) * N;
            if (quant) {
                backup(&c, cur, s, a, v);
                for (int j = 0; j < N; j++)
                    p[j] = 1.0 / N;
            } else {
                backup(&c, cur, s, a, p);
                memcpy(v, c.z, sizeof(double) * (size_t)N);
            }
        }
    rc = 0;
done:
    if (rc)
        proj_fixed_point_free(out);
    free(cur);
    free(nxt);
    free(c.z);
    free(c.mix);
    return rc;
}
