/* bd.c — the Bellman Diffusion agent with basis fields and the bd registry
 * class (see bd.h for the algorithm, docs/basis.md for the derivation). */
/* The softplus row loop must vectorize (as in c51.c and mlp.c). */
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#include "agents/bd.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/bd_grid.h"
#include "agents/registry.h"
#include "agents/scratch.h"
#include "agents/torso.h"
#include "fields/adam.h"
#include "fields/fastmath.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

/* Bumps farther than this many sd from a point are skipped: e^-18 = 1.5e-8
 * of the peak, below the float resolution of the network outputs that
 * weight them. */
#define BAND_SD 6.0

typedef struct {
    mlp *net;  /* online: encoded obs -> (A, K) raw coefficients */
    mlp *tgt;  /* target copy (scalar field only: ∂p_T comes from the scalar target) */
    mlp *avg;  /* moving average (agent.ema > 0), else NULL */
    adam *opt;
} bd_fnet;

/* Everything the scratch sizes depend on, from the configuration alone. */
typedef struct {
    int MB, in, B, K, A, G; /* rows per pass, encoded width, batch, bumps, actions, bd.grid */
    int Rg;                 /* radius of the overlap kernels G, G' in centres */
} bd_sizes;

typedef struct {
    torso_encoding te;
    bd_sizes z;             /* what the scratch table sizes from (scratch_table) */
    int A, K, Bmax, MB;      /* actions, bumps, batch, rows per network pass */
    bd_basis bs;
    bd_geometry geo;
    double cw;               /* coefficient scale 1/(K ln 2): initial mass about 1 */
    double S;                /* one bump's height 1/(sqrt(2π) σ) */
    double unit_s, unit_g;   /* loss = unit · ∫ (residual)² du (see create) */
    double lambda, ema;
    int readout;
    int double_q;            /* agent.double: a' from the online scalar field */
    risk_spec risk;          /* agent.risk when agent.risk_target picks a' by it; else mean */
    bd_fnet f[2];
    char desc[576];

    /* scratch, all sized at create */
    real *enc;               /* (MB, in_dim) */
    double *wq, *wn;         /* (Bmax, K) online coefficients at (s, a), target ones at (s', a') */
    float *spf, *sgf;        /* (K) one row's softplus and sigmoid */
    double *sq;              /* (Bmax, K) sigmoid of the online outputs behind wq: dw/dz / cw */
    double *mass_next, *qsa, *b_off, *u_r; /* (Bmax) */
    int *a_next;             /* (Bmax) */
    double *wk;              /* (K) one row's coefficients */
    double *ap;              /* (K) one transition's target coefficients */
    double *cs;              /* (2K) one transition's residuals w − a', d − a' */
    double *gs;              /* (2K) G and G' times them: ½ dL/dw, ½ dL/dd */
    double *gk, *gkd;        /* (z.Rg + 1) the overlap kernels of G and G' */
    double *w1, *d1;         /* (A, K) one state's coefficients (sampler, eval_fields) */
    int sample_action;
    double *dist_x, *dist_w; /* (max(K, G)) */
    double *rmu;             /* (K) the bumps' centres in return units c + h μ_k (set at create) */
} bd_agent;

static bd_agent *impl(const agent *a) { return (bd_agent *)a->impl; }

/* ---------------------------------------------------------------------- */
/* the scratch table                                                       */


/* Half-width in centres of the overlap kernel N(d·dm; 0, V), cut at BAND_SD sd. */
static int kernel_radius(double dm, double V) { return (int)ceil(BAND_SD * sqrt(V) / dm); }

static bd_sizes sizes_of(const exp_config *cfg, const env *en)
{
    bd_sizes z = {0};
    z.in = torso_encoding_for(en).in_dim;
    z.A = env_n_actions(en);
    z.K = cfg->bd.basis;
    z.B = cfg->train.batch_size;
    z.MB = 2 * z.B > EVAL_MAX_ROWS ? 2 * z.B : EVAL_MAX_ROWS;
    z.G = cfg->bd.grid;
    double delta = 2.0 / (z.K - 1), sigma = cfg->bd.basis_width * delta, var = sigma * sigma;
    z.Rg = kernel_radius(delta, 2 * var);
    return z;
}

#define BD_MAX_SCRATCH 22 /* the rows of scratch_table */
#define ROW(field, type, n) SCRATCH_ROW(bd_agent, field, type, n)

/* The scratch buffers for sizes z into t (BD_MAX_SCRATCH rows); returns
 * their number. This table alone drives allocation (create), release
 * (free) and the scratch part of the memory estimate (bd_scratch_bytes),
 * so the three cannot drift apart (scratch.h). */
static int scratch_table(const bd_sizes *z, scratch_row *t)
{
    size_t B = (size_t)z->B, K = (size_t)z->K, BK = B * K, AK = (size_t)z->A * K;
    size_t nd = z->K > z->G ? K : (size_t)z->G;
    int n = 0;
    t[n++] = ROW(enc, real, (size_t)z->MB * z->in);
    t[n++] = ROW(wq, double, BK);
    t[n++] = ROW(wn, double, BK);
    t[n++] = ROW(sq, double, BK);
    t[n++] = ROW(spf, float, K);
    t[n++] = ROW(sgf, float, K);
    t[n++] = ROW(mass_next, double, B);
    t[n++] = ROW(qsa, double, B);
    t[n++] = ROW(b_off, double, B);
    t[n++] = ROW(u_r, double, B);
    t[n++] = ROW(a_next, int, B);
    t[n++] = ROW(wk, double, K);
    t[n++] = ROW(ap, double, K);
    t[n++] = ROW(cs, double, 2 * K);
    t[n++] = ROW(gs, double, 2 * K);
    t[n++] = ROW(gk, double, z->Rg + 1);
    t[n++] = ROW(gkd, double, z->Rg + 1);
    t[n++] = ROW(w1, double, AK);
    t[n++] = ROW(d1, double, AK);
    t[n++] = ROW(dist_x, double, nd);
    t[n++] = ROW(dist_w, double, nd);
    t[n++] = ROW(rmu, double, K);
    return n;
}
#undef ROW

double bd_scratch_bytes(const exp_config *cfg, const env *en)
{
    bd_sizes z = sizes_of(cfg, en);
    scratch_row t[BD_MAX_SCRATCH];
    return scratch_bytes(t, scratch_table(&z, t));
}

/* ---------------------------------------------------------------------- */
/* pure pieces                                                             */

/* Bumps with centres mu0 + k delta (k in [0, K)) within half-width r of x. */
static void band_of(int K, double mu0, double delta, double x, double r, int *k0, int *k1)
{
    /* k0 = ceil(lo), k1 = floor(hi) + 1, clamped to [0, K]; by truncation,
     * which is floor for the non-negative values that remain */
    double lo = (x - r - mu0) / delta, hi = (x + r - mu0) / delta;
    if (!(lo > 0)) {
        *k0 = 0;
    } else if (lo >= K) {
        *k0 = K;
    } else {
        int t = (int)lo;
        *k0 = t + (t < lo);
    }
    *k1 = !(hi >= 0) ? 0 : hi >= K - 1 ? K : (int)hi + 1;
}

/* A family of K bumps N(·; m0 + k dm, var), with what every evaluation
 * needs precomputed. */
typedef struct {
    int K;
    double m0, dm, var, half_inv_var, norm, radius, ratio_step;
} bump_family;

static bump_family family_of(int K, double m0, double dm, double var)
{
    bump_family f = {K, m0, dm, var, 0.5 / var, 1 / sqrt(2 * M_PI * var), BAND_SD * sqrt(var), exp(-dm * dm / var)};
    return f;
}

/* The band of the basis family itself, the one bd_field_at sums over (the
 * same radius BAND_SD sqrt(σ²), not a recomputation of it). */
void bd_band(const bd_basis *bs, double u, int *k0, int *k1)
{
    bump_family f = family_of(bs->K, bs->mu0, bs->delta, bs->sigma * bs->sigma);
    band_of(f.K, f.m0, f.dm, u, f.radius, k0, k1);
}

/* The family's bumps within BAND_SD sd of u into phi[0 .. k1 − k0);
 * returns k0 and sets *k1. Two exps for the whole band: consecutive bumps
 * differ by the factor ρ_k = exp((2 d_k dm − dm²) / 2var) (d_k = u − m_k),
 * and ρ_{k+1} = ρ_k exp(−dm²/var). */
static int bumps(const bump_family *f, double u, double *phi, int *k1)
{
    int k0;
    band_of(f->K, f->m0, f->dm, u, f->radius, &k0, k1);
    if (k0 >= *k1)
        return k0;
    double d = u - (f->m0 + k0 * f->dm);
    double p = f->norm * exp(-d * d * f->half_inv_var);
    double rho = exp((2 * d - f->dm) * f->dm * f->half_inv_var), c = f->ratio_step;
    for (int k = k0; k < *k1; k++) {
        phi[k - k0] = p;
        p *= rho;
        rho *= c;
    }
    return k0;
}

/* Σ_k w_k φ_k(u) and its u-derivative over the band (phi: scratch of the
 * band's length). */
static void mixture_at(const bump_family *f, const double *w, double u, double *phi, double *s, double *ds)
{
    int k1, k0 = bumps(f, u, phi, &k1);
    double sv = 0, dv = 0;
    for (int k = k0; k < k1; k++) {
        double p = w[k] * phi[k - k0];
        sv += p;
        dv -= (u - (f->m0 + k * f->dm)) * p;
    }
    *s = sv;
    *ds = dv / f->var;
}

void bd_field_at(const bd_basis *bs, const double *w, double u, double *s, double *ds)
{
    double phi[bs->K], sv, dv; /* a band has at most K bumps (K <= 10001: 80 kB) */
    bump_family f = family_of(bs->K, bs->mu0, bs->delta, bs->sigma * bs->sigma);
    mixture_at(&f, w, u, phi, &sv, &dv);
    if (s)
        *s = sv;
    if (ds)
        *ds = dv;
}

void bd_project_atom(const bd_basis *bs, double x, double p, double *a)
{
    double t = (x - bs->mu0) / bs->delta;
    if (!(t > 0)) { /* below the first centre (or NaN): all to it */
        a[0] += p;
        return;
    }
    if (t >= bs->K - 1) {
        a[bs->K - 1] += p;
        return;
    }
    int l = (int)t;
    double f = t - l;
    a[l] += p * (1 - f);
    a[l + 1] += p * f;
}

/* softplus(z) (K) into sp: max(z, 0) + log1p(e^{-|z|}), straight-line
 * float code (fastmath.h) that vectorizes, compiled for AVX2 too, as C51's
 * softmax is: the coefficients of every action are read at every step.
 * Two passes: fused into one loop, GCC's vector code ran 4x slower
 * (measured: 5.7 against 1.35 ns per element). */
CLONES static void softplus_row(int K, const real *restrict z, float *restrict sp)
{
    for (int k = 0; k < K; k++) {
        float x = z[k], ax = x < 0 ? -x : x;
        sp[k] = expneg_r(-ax);
    }
    for (int k = 0; k < K; k++) {
        float x = z[k];
        sp[k] = (x > 0 ? x : 0.0f) + log1p_r(sp[k]);
    }
}

/* Its derivative sigmoid(z) = exp(z − softplus(z)) (the exponent is <= 0,
 * so no division), from sp. */
CLONES static void sigmoid_row(int K, const real *z, const float *sp, float *sig)
{
    for (int k = 0; k < K; k++) {
        float t = z[k] - sp[k];
        sig[k] = expneg_r(t < 0 ? t : 0.0f);
    }
}

/* Coefficients of one action's row of raw outputs z (K) into w (K) and,
 * if sig is not NULL, dw/dz / cw into sig (K); returns the mass Σ w and
 * writes the mean Σ w_k μ_k / Σ w (u units; 0 if the mass is 0) to *mean. */
static double coefs_row(const bd_agent *ba, const real *z, double *w, double *sig, double *mean)
{
    int K = ba->K;
    softplus_row(K, z, ba->spf);
    double m = 0, mu = 0;
    for (int k = 0; k < K; k++) {
        w[k] = ba->cw * (double)ba->spf[k];
        m += w[k];
        mu += w[k] * (ba->bs.mu0 + k * ba->bs.delta);
    }
    if (sig) {
        sigmoid_row(K, z, ba->spf, ba->sgf);
        for (int k = 0; k < K; k++)
            sig[k] = (double)ba->sgf[k];
    }
    *mean = m > 0 && isfinite(m) ? mu / m : 0.0;
    return m;
}

/* ---------------------------------------------------------------------- */
/* ops                                                                      */

static mlp *reported(const bd_fnet *N) { return N->avg ? N->avg : N->net; }

static int bd_q_values(agent *a, int B, const float *obs, double *q, bdrl_err *e)
{
    bd_agent *ba = impl(a);
    if (B < 0)
        return err_set(e, "bd q_values: negative batch %d", B);
    int A = ba->A, K = ba->K;
    for (int off = 0; off < B; off += ba->MB) {
        int n = B - off < ba->MB ? B - off : ba->MB;
        torso_encode(&ba->te, n, obs + (size_t)off * ba->te.obs_dim, ba->enc);
        const real *z = mlp_forward(ba->f[BD_FIELD_S].net, n, ba->enc);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < A; k++) {
                double mean;
                coefs_row(ba, z + ((size_t)i * A + k) * K, ba->wk, NULL, &mean);
                q[(size_t)(off + i) * A + k] = ba->geo.c + ba->geo.h * mean;
            }
    }
    return 0;
}

/* ρ of one row's law Σ_k w_k N(c + h μ_k, (h σ)²) / M (risk_gauss_mixture)
 * for coefficients w (K) of mass M: the bumps' width counts, unlike in the
 * atoms readout. A row without mass has the value c, as its Q. What
 * risk_values reports and what agent.risk_target ranks a' by. */
static int row_risk(const bd_agent *ba, const risk_spec *r, const double *w, double M, double *out, bdrl_err *e)
{
    if (!(M > 0) || !isfinite(M)) {
        *out = ba->geo.c;
        return 0;
    }
    return risk_gauss_mixture(r, ba->rmu, w, (size_t)ba->K, ba->geo.h * ba->bs.sigma, out, e);
}

static int bd_risk_values(agent *a, int B, const float *obs, const risk_spec *r, double *out, bdrl_err *e)
{
    bd_agent *ba = impl(a);
    if (B < 0)
        return err_set(e, "bd risk_values: negative batch %d", B);
    int A = ba->A, K = ba->K;
    for (int off = 0; off < B; off += ba->MB) {
        int n = B - off < ba->MB ? B - off : ba->MB;
        torso_encode(&ba->te, n, obs + (size_t)off * ba->te.obs_dim, ba->enc);
        const real *z = mlp_forward(ba->f[BD_FIELD_S].net, n, ba->enc);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < A; k++) {
                double mean, M = coefs_row(ba, z + ((size_t)i * A + k) * K, ba->wk, NULL, &mean);
                if (row_risk(ba, r, ba->wk, M, out + (size_t)(off + i) * A + k, e))
                    return -1;
            }
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* the targets of an update, step by step (bd.h)                          */
/*
 * prepare_targets runs the steps below in this order. A step's parameters
 * are the arrays passed from one step to the next (const: read, else
 * written); the scratch only that step uses stays in ba and its comment
 * names it. Nothing here draws random numbers: the loss is integrated over
 * u, so there are no query points to draw.
 */

/* Reads b->obs, b->next_obs; writes enc (2B, in_dim), the encoded [s; s']. */
static void encode_batch(bd_agent *ba, const agent_batch *b, real *enc)
{
    torso_encode(&ba->te, b->B, b->obs, enc);
    torso_encode(&ba->te, b->B, b->next_obs, enc + (size_t)b->B * ba->te.in_dim);
}

/* Reads the encoded s (enc_s: B rows) and b->action; writes wq and sq
 * (B, K), the online scalar coefficients at (s, a) and their sigmoid
 * factors, and qsa (B), their Q(s, a). Leaves the online scalar network's
 * forward on s in place for the losses. */
static void online_at_s(bd_agent *ba, const agent_batch *b, const real *enc_s, double *wq, double *sq, double *qsa)
{
    const bd_geometry *g = &ba->geo;
    int B = b->B, A = ba->A, K = ba->K;
    const real *z = mlp_forward(ba->f[BD_FIELD_S].net, B, enc_s); /* (B, A·K) */
    for (int i = 0; i < B; i++) {
        double mean;
        coefs_row(ba, z + ((size_t)i * A + b->action[i]) * K, wq + (size_t)i * K, sq + (size_t)i * K, &mean);
        qsa[i] = g->c + g->h * mean;
    }
}

/* What a' at s' is ranked by, for one action's coefficients w (K) with
 * mass M and mean (u units), as coefs_row gives them: the mean itself, or
 * with agent.risk_target ρ of agent.risk on the row's law, the very value
 * risk_values reports (row_risk, in return units; only values of one kind
 * are ever compared). */
static int rank_value(const bd_agent *ba, const double *w, double M, double mean, double *v, bdrl_err *e)
{
    if (ba->risk.measure == RISK_MEAN) {
        *v = mean;
        return 0;
    }
    return row_risk(ba, &ba->risk, w, M, v, e);
}

/* agent.double: reads the encoded s' (enc_n: B rows); writes a_next (B),
 * argmax_a of the ONLINE scalar field's Q(s', a) (or ρ, rank_value; ties to
 * the lowest index), which next_state then bootstraps from with the target
 * network's field. Runs before online_at_s, whose forward on s the losses
 * need last. Scratch: wk. */
static int online_next_actions(bd_agent *ba, const agent_batch *b, const real *enc_n, int *a_next, bdrl_err *e)
{
    int B = b->B, A = ba->A, K = ba->K;
    const real *z = mlp_forward(ba->f[BD_FIELD_S].net, B, enc_n); /* (B, A·K) */
    for (int i = 0; i < B; i++) {
        double best = -INFINITY, mean, v;
        int an = 0;
        for (int k = 0; k < A; k++) {
            double M = coefs_row(ba, z + ((size_t)i * A + k) * K, ba->wk, NULL, &mean);
            if (rank_value(ba, ba->wk, M, mean, &v, e))
                return -1;
            if (k == 0 || v > best) {
                best = v;
                an = k;
            }
        }
        a_next[i] = an;
    }
    return 0;
}

/* Reads the encoded s' (enc_n: B rows), b's rewards, terminations, next
 * actions and discounts, and a_next when `picked` (online_next_actions);
 * writes u_r and b_off (B; the reward in u units and the offset b =
 * (r − (1 − γ_i)c)/h of the Bellman map u -> γ_i u + b, γ_i the row's
 * discount), a_next (B; −1 if terminal: argmax of the target Q, or ρ with
 * agent.risk_target (rank_value), unless the batch gives it or it was
 * picked), mass_next (B; 0 if terminal) and wn (B, K), the mass and the
 * coefficients of the target scalar field at (s', a') (wn unwritten for
 * terminal transitions). Scratch: wk. */
static int next_state(bd_agent *ba, const agent_batch *b, const real *enc_n, int picked, double *u_r,
                      double *b_off, int *a_next, double *mass_next, double *wn_all, bdrl_err *e)
{
    const bd_geometry *g = &ba->geo;
    int B = b->B, A = ba->A, K = ba->K;
    const real *zt = mlp_forward(ba->f[BD_FIELD_S].tgt, B, enc_n); /* the target network at s' only */
    for (int i = 0; i < B; i++) {
        double r = b->reward[i];
        u_r[i] = (r - g->c) / g->h;
        b_off[i] = (r - (1 - agent_row_discount(b, i, g->gamma)) * g->c) / g->h;
        if (b->terminated[i]) {
            a_next[i] = -1;
            mass_next[i] = 0;
            continue;
        }
        const real *zn = zt + (size_t)i * A * K;
        double *wn = wn_all + (size_t)i * K, mean;
        int an = 0;
        if (b->next_action || picked) {
            an = b->next_action ? b->next_action[i] : a_next[i];
            mass_next[i] = coefs_row(ba, zn + (size_t)an * K, wn, NULL, &mean);
        } else {
            /* argmax_a Q(s', a) (or ρ); the best row's coefficients stay in wn */
            double best = -INFINITY, v;
            for (int k = 0; k < A; k++) {
                double Mk = coefs_row(ba, zn + (size_t)k * K, ba->wk, NULL, &mean);
                if (rank_value(ba, ba->wk, Mk, mean, &v, e))
                    return -1;
                if (k == 0 || v > best) {
                    best = v;
                    an = k;
                    mass_next[i] = Mk;
                    memcpy(wn, ba->wk, sizeof(double) * K);
                }
            }
        }
        a_next[i] = an;
    }
    return 0;
}

/* What an update regresses onto for batch b: the coefficients ba->wq,
 * ba->sq at (s, a) and ba->wn, ba->mass_next at (s', a'), with ba->qsa (the
 * stats' q_mean), ba->u_r, ba->b_off and ba->a_next; ba->enc holds [s; s']
 * afterwards and the online scalar network's last forward is on s, ready
 * for the losses. */
static int prepare_targets(bd_agent *ba, const agent_batch *b, bdrl_err *e)
{
    if (agent_check_batch("bd", b, ba->Bmax, ba->A, e))
        return -1;
    const real *enc_n = ba->enc + (size_t)b->B * ba->te.in_dim;
    encode_batch(ba, b, ba->enc);
    int picked = ba->double_q && !b->next_action;
    if (picked && online_next_actions(ba, b, enc_n, ba->a_next, e))
        return -1;
    online_at_s(ba, b, ba->enc, ba->wq, ba->sq, ba->qsa);
    return next_state(ba, b, enc_n, picked, ba->u_r, ba->b_off, ba->a_next, ba->mass_next, ba->wn, e);
}

/* ---- the loss (docs/basis.md) ----
 *
 * Every field here is a Gaussian mixture, so the regression integrated
 * over u has a closed form. The target's coefficient atoms (γ μ_j + b with
 * weight w⁻_j / max(M⁻, floor), or u_r for a terminal transition) are split
 * onto the centres by C51's rule (bd_project_atom): a' (K), and
 *   ∫ (s − p_T)² du = rᵀ G r,  r = w − a',  G_kl = N(μ_k − μ_l; 0, 2σ²)
 * (a convolution: kernel gk[|k − l|]), and for the gradient field with
 * φ' the same with d − a' and G', from
 *   ∫ N'(u; m1, v1) N'(u; m2, v2) du = N(Δ; 0, V)(1/V − Δ²/V²), V = v1 + v2.
 * An update costs a split and one banded convolution per field and
 * transition. */

/* The derivative form of a Gaussian overlap: N(d; 0, V)(1/V − d²/V²). */
static double dd_overlap(double n, double d, double V) { return n * (1 / V - d * d / (V * V)); }

/* Symmetric kernel k[0..R] of N(d·dm; 0, V) (and its derivative form),
 * R = kernel_radius(dm, V). */
static void kernel_of(double dm, double V, int R, double *k, double *kd)
{
    for (int d = 0; d <= R; d++) {
        double x = d * dm, n = exp(-0.5 * x * x / V) / sqrt(2 * M_PI * V);
        k[d] = n;
        kd[d] = dd_overlap(n, x, V);
    }
}

/* y = G x for the symmetric banded convolution kernel k (R) on K points:
 * y_i = Σ_{|d| <= R} k_|d| x_{i+d} (terms outside [0, K) dropped), one
 * diagonal pair at a time so the inner loops vectorize. */
CLONES static void conv_sym(int K, const double *k, int R, const double *x, double *y)
{
    for (int i = 0; i < K; i++)
        y[i] = k[0] * x[i];
    for (int d = 1; d <= R && d < K; d++) {
        double kd = k[d];
        for (int i = 0; i < K - d; i++) /* the upper diagonal: x_{i+d} */
            y[i] += kd * x[i + d];
        for (int i = d; i < K; i++)     /* the lower one: x_{i−d} */
            y[i] += kd * x[i - d];
    }
}

/* Both fields' losses, after prepare_targets: the gradient network's
 * forward on s, the losses in their units (means over u in [−1, 1] in bump
 * heights S (s) and slopes S/σ (g, times λ), see create), dL/dz into each
 * network's dy, then backward (the optimizer steps are the caller's).
 * With importance weights both losses are (1/B) Σ_i w_i L_i and each row's
 * gradient is scaled by w_i; b->sample_loss gets each row's own scalar-field
 * loss L_i (unit_s · rᵀGr: its share, so their mean is loss_s unweighted). */
static void projected_losses(bd_agent *ba, const agent_batch *b, double *loss_s, double *loss_g)
{
    const bd_basis *bs = &ba->bs;
    const bd_geometry *g = &ba->geo;
    int B = b->B, A = ba->A, K = ba->K;
    double us = ba->unit_s / B, ug = ba->lambda * ba->unit_g / B;
    mlp *ns = ba->f[BD_FIELD_S].net, *ng = ba->f[BD_FIELD_G].net;
    const real *zg = mlp_forward(ng, B, ba->enc);
    mlp_zero_grad(ns);
    mlp_zero_grad(ng);
    memset(ns->dy, 0, sizeof(real) * (size_t)B * A * K);
    memset(ng->dy, 0, sizeof(real) * (size_t)B * A * K);
    real *dys = ns->dy, *dyg = ng->dy;
    /* per transition: r = w − a', r' = d − a'; hs = ½ dL/dw = G r, hg = G' r' */
    double *wd = ba->wk, *c = ba->cs, *cd = ba->cs + K, *hs = ba->gs, *hg = ba->gs + K, *ap = ba->ap;
    double Ls = 0, Lg = 0;
    for (int i = 0; i < B; i++) {
        size_t off = ((size_t)i * A + b->action[i]) * K;
        const double *w = ba->wq + (size_t)i * K, *sig = ba->sq + (size_t)i * K;
        for (int k = 0; k < K; k++)
            wd[k] = ba->cw * (double)zg[off + k];
        memset(ap, 0, sizeof(double) * K);
        if (b->terminated[i]) {
            bd_project_atom(bs, ba->u_r[i], 1.0, ap);
        } else { /* the atoms γ_i μ_j + b of the row's Bellman map */
            const double *wn = ba->wn + (size_t)i * K;
            double M = ba->mass_next[i], inv = 1 / (M > g->mass_floor ? M : g->mass_floor);
            double gi = agent_row_discount(b, i, g->gamma);
            for (int j = 0; j < K; j++)
                bd_project_atom(bs, gi * (bs->mu0 + j * bs->delta) + ba->b_off[i], wn[j] * inv, ap);
        }
        for (int k = 0; k < K; k++) {
            c[k] = w[k] - ap[k];
            cd[k] = wd[k] - ap[k];
        }
        conv_sym(K, ba->gk, ba->z.Rg, c, hs);
        conv_sym(K, ba->gkd, ba->z.Rg, cd, hg);
        double qs = 0, qg = 0;
        for (int k = 0; k < K; k++) {
            qs += c[k] * hs[k];
            qg += cd[k] * hg[k];
        }
        double wi = agent_row_weight(b, i), usi = wi * us, ugi = wi * ug;
        for (int k = 0; k < K; k++) {
            dys[off + k] = (real)(usi * 2 * hs[k] * ba->cw * sig[k]); /* dw/dz = cw · sigmoid(z) */
            dyg[off + k] = (real)(ugi * 2 * hg[k] * ba->cw);
        }
        Ls += wi * qs;
        Lg += wi * qg;
        if (b->sample_loss)
            b->sample_loss[i] = ba->unit_s * qs;
    }
    for (int f = 0; f < 2; f++)
        mlp_backward(ba->f[f].net, ba->f[f].net->dy, NULL, NULL, NULL);
    *loss_s = Ls * us;
    *loss_g = Lg * ug;
}

static int bd_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    bd_agent *ba = impl(a);
    if (prepare_targets(ba, b, e))
        return -1;
    double norm[2], L[2];
    projected_losses(ba, b, &L[0], &L[1]);
    for (int f = 0; f < 2; f++)
        norm[f] = adam_step_mlp(ba->f[f].opt, ba->f[f].net);
    if (ba->ema > 0)
        for (int f = 0; f < 2; f++)
            mlp_polyak(ba->f[f].avg, ba->f[f].net, 1 - ba->ema, NULL);
    if (!isfinite(L[0]) || !isfinite(L[1]) || !isfinite(norm[0]) || !isfinite(norm[1]))
        return err_set(e, "bd update: non-finite loss or gradient (scalar field loss %g, gradient "
                          "norm %g; gradient field loss %g, norm %g); lower agent.lr or check the "
                          "return range agent.v_min/v_max", L[0], norm[0], L[1], norm[1]);
    if (st) {
        double qm = 0;
        for (int i = 0; i < b->B; i++)
            qm += ba->qsa[i];
        st->loss = L[0];
        st->loss_grad = L[1];
        st->q_mean = qm / b->B;
        st->grad_norm = norm[0];
    }
    return 0;
}

int bd_debug_loss(agent *a, const agent_batch *b, double *loss_s, double *loss_g, bdrl_err *e)
{
    bd_agent *ba = impl(a);
    if (prepare_targets(ba, b, e))
        return -1;
    double ls, lg;
    projected_losses(ba, b, &ls, &lg);
    if (loss_s)
        *loss_s = ls;
    if (loss_g)
        *loss_g = lg;
    return 0;
}

static void bd_update_target(agent *a, double tau)
{
    bd_fnet *N = &impl(a)->f[BD_FIELD_S];
    if (tau >= 1)
        mlp_copy_params(N->tgt, N->net, NULL);
    else
        mlp_polyak(N->tgt, N->net, tau, NULL);
}

int bd_coefficients(agent *a, const float *obs, int target, double *w, double *d, bdrl_err *e)
{
    (void)e;
    bd_agent *ba = impl(a);
    int AK = ba->A * ba->K;
    torso_encode(&ba->te, 1, obs, ba->enc);
    for (int f = 0; f < 2; f++) {
        double *out = f == BD_FIELD_S ? w : d;
        if (!out)
            continue;
        bd_fnet *N = &ba->f[f];
        mlp *net = target && N->tgt ? N->tgt : reported(N);
        const real *z = mlp_forward(net, 1, ba->enc);
        for (int k = 0; k < AK; k++)
            out[k] = ba->cw * (double)z[k];
        if (f == BD_FIELD_S)
            for (int a2 = 0; a2 < ba->A; a2++) {
                double mean;
                coefs_row(ba, z + (size_t)a2 * ba->K, out + (size_t)a2 * ba->K, NULL, &mean);
            }
    }
    return 0;
}

static int bd_distribution(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    bd_agent *ba = impl(a);
    const bd_geometry *g = &ba->geo;
    if (action < 0 || action >= ba->A)
        return err_set(e, "bd distribution: action %d out of range [0, %d)", action, ba->A);
    bd_coefficients(a, obs, 0, ba->w1, NULL, e);
    const double *w = ba->w1 + (size_t)action * ba->K;
    double M = 0;
    for (int k = 0; k < ba->K; k++)
        M += w[k];
    if (ba->readout == BD_READOUT_ATOMS) {
        /* The coefficients' law: the field is this law convolved with
         * N(0, σ²), a blur the representation adds and the readout removes. */
        for (int k = 0; k < ba->K; k++) {
            ba->dist_x[k] = g->c + g->h * (ba->bs.mu0 + k * ba->bs.delta);
            ba->dist_w[k] = M > 0 && isfinite(M) ? w[k] / M : 0.0;
        }
        out->n = ba->K;
        out->is_density = 0;
    } else {
        for (int k = 0; k < g->G; k++) {
            double u = g->lo + k * g->du, s;
            bd_field_at(&ba->bs, w, u, &s, NULL);
            ba->dist_x[k] = g->c + g->h * u;
            ba->dist_w[k] = s / g->h; /* p(x) = p~(u)/h */
        }
        out->n = g->G;
        out->is_density = 1;
    }
    out->x = ba->dist_x;
    out->w = ba->dist_w;
    out->mass = M;
    return 0;
}

/* ---------------------------------------------------------------------- */
/* checkpoints                                                             */

/* Format 2: the header, then the networks (n_nets_of's order). Format 1
 * (up to commit ad9bbe6) had bd.queries in the header's unused word and the
 * state of the query stream of the since removed bd.basis_loss queries after
 * the networks; it still loads (the stream is read and dropped: with the
 * integrated loss it was never drawn). */
#define BD_MAGIC "BDRLBDB"
#define BD_VERSION 2u

typedef struct {
    char magic[8];
    uint32_t version, n_actions, basis, unused, has_ema, pad;
    double sigma;
} bd_header;

static void header_of(const bd_agent *ba, bd_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, BD_MAGIC, sizeof BD_MAGIC);
    h->version = BD_VERSION;
    h->n_actions = (uint32_t)ba->A;
    h->basis = (uint32_t)ba->K;
    h->has_ema = ba->ema > 0;
    h->sigma = ba->bs.sigma;
}

/* The networks in file order: online (with Adam state), target, average. */
static int n_nets_of(const bd_agent *ba, mlp **nets, adam **opts)
{
    int n = 0;
    for (int f = 0; f < 2; f++) {
        const bd_fnet *N = &ba->f[f];
        nets[n] = N->net, opts[n++] = N->opt;
        if (N->tgt)
            nets[n] = N->tgt, opts[n++] = NULL;
        if (N->avg)
            nets[n] = N->avg, opts[n++] = NULL;
    }
    return n;
}

static int bd_save(const agent *a, FILE *f, bdrl_err *e)
{
    const bd_agent *ba = impl(a);
    bd_header h;
    header_of(ba, &h);
    if (fwrite(&h, sizeof h, 1, f) != 1)
        return err_set(e, "bd checkpoint: write failed");
    mlp *nets[6];
    adam *opts[6];
    int n = n_nets_of(ba, nets, opts);
    for (int j = 0; j < n; j++)
        if (mlp_save(nets[j], opts[j], f, e))
            return err_prefix(e, "bd checkpoint (network %d)", j);
    return 0;
}

/* Everything is read into fresh copies first, so a failure leaves the
 * agent as it was; then the parameters and states are copied over. */
static int bd_load(agent *a, FILE *f, bdrl_err *e)
{
    bd_agent *ba = impl(a);
    bd_header h, want;
    header_of(ba, &want);
    if (fread(&h, sizeof h, 1, f) != 1)
        return err_set(e, "bd checkpoint: truncated header");
    if (memcmp(h.magic, want.magic, sizeof h.magic))
        return err_set(e, "bd checkpoint: not a basis-field Bellman Diffusion agent (bad magic)");
    if (h.version != 1 && h.version != want.version)
        return err_set(e, "bd checkpoint: version %u, this build reads 1 to %u", h.version, want.version);
    if (h.n_actions != want.n_actions || h.basis != want.basis || h.has_ema != want.has_ema ||
        h.sigma != want.sigma)
        return err_set(e, "bd checkpoint: saved with %u actions, basis %u (sd %g), moving average %s; "
                          "this agent has %u, %u (sd %g), %s",
                       h.n_actions, h.basis, h.sigma, h.has_ema ? "on" : "off", want.n_actions, want.basis,
                       want.sigma, want.has_ema ? "on" : "off");
    mlp *nets[6];
    adam *opts[6];
    int n = n_nets_of(ba, nets, opts), bad = 0;
    mlp_stage st;
    if (mlp_stage_load(&st, nets, opts, n, f, &bad, e))
        return err_prefix(e, "bd checkpoint (network %d)", bad);
    if (h.version == 1) {
        rng *r = rng_create(0, 0);
        int rc = !r ? err_set(e, "bd checkpoint: out of memory") : rng_load(r, f, e);
        rng_free(r);
        if (rc) {
            mlp_stage_free(&st);
            return err_prefix(e, "bd checkpoint (format 1)");
        }
    }
    mlp_stage_commit(&st, nets, opts);
    mlp_stage_free(&st);
    return 0;
}

static void bd_free(agent *a)
{
    if (!a)
        return;
    bd_agent *ba = impl(a);
    if (ba) {
        for (int f = 0; f < 2; f++) {
            mlp_free(ba->f[f].net);
            mlp_free(ba->f[f].tgt);
            mlp_free(ba->f[f].avg);
            adam_free(ba->f[f].opt);
        }
        scratch_row t[BD_MAX_SCRATCH];
        scratch_free(ba, t, scratch_table(&ba->z, t));
        free(ba);
    }
    free(a);
}

static int bd_params(agent *a, agent_param_block *out)
{
    bd_agent *ba = impl(a);
    out[0] = (agent_param_block){"bd scalar-field network", ba->f[0].net->params, ba->f[0].net->n_params};
    out[1] = (agent_param_block){"bd gradient-field network", ba->f[1].net->params, ba->f[1].net->n_params};
    return 2;
}

static const char *bd_describe(const agent *a);
static void bd_field_range(const agent *a, agent_field_range *r) { bd_field_range_of(&impl(a)->geo, r); }
/* Both fields' online networks are noisy, and the scalar field's target. */
static void bd_noise(agent *a, agent_noise mode, rng *r)
{
    bd_agent *ba = impl(a);
    mlp *online[2] = {ba->f[BD_FIELD_S].net, ba->f[BD_FIELD_G].net}, *target[1] = {ba->f[BD_FIELD_S].tgt};
    agent_noise_nets(online, 2, target, 1, mode, r);
}
static int bd_fields(agent *a, const float *obs, int n, const double *u, double *s, double *g, bdrl_err *e)
{
    return bd_eval_fields(a, obs, 0, n, u, s, g, e);
}
static void bd_sampler_defaults(const agent *a, sde_config *sc);
static int bd_sample(agent *a, const float *obs, int action, const sde_config *sc, int n, double *returns,
                      sde_result *res, rng *r, bdrl_err *e);

/* agent.kind bd with bd.field basis (agent_bd_create). */
static const agent_ops bd_ops = {
    .name = "bd",
    .q_values = bd_q_values,
    .risk_values = bd_risk_values,
    .risk_target = 1,
    .update = bd_update,
    .update_target = bd_update_target,
    .distribution = bd_distribution,
    .save = bd_save,
    .load = bd_load,
    .free = bd_free,
    .params = bd_params,
    .describe = bd_describe,
    .sampler_defaults = bd_sampler_defaults,
    .sample = bd_sample,
    .field_range = bd_field_range,
    .fields = bd_fields,
    .noise = bd_noise,
};

/* ---------------------------------------------------------------------- */
/* create                                                                  */

static agent *basis_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    agent *a = err_calloc(1, sizeof *a, e);
    if (!a)
        return NULL;
    a->ops = &bd_ops;
    bd_agent *ba = err_calloc(1, sizeof *ba, e);
    if (!ba) {
        free(a);
        return NULL;
    }
    a->impl = ba;
    ba->te = torso_encoding_for(en);
    ba->z = sizes_of(cfg, en);
    ba->A = env_n_actions(en);
    a->obs_dim = ba->te.obs_dim;
    a->n_actions = ba->A;
    ba->K = cfg->bd.basis;
    ba->Bmax = cfg->train.batch_size;
    ba->MB = 2 * ba->Bmax > EVAL_MAX_ROWS ? 2 * ba->Bmax : EVAL_MAX_ROWS;
    ba->bs.K = ba->K;
    ba->bs.mu0 = -1;
    ba->bs.delta = 2.0 / (ba->K - 1);
    ba->bs.sigma = cfg->bd.basis_width * ba->bs.delta;
    ba->cw = 1 / (ba->K * log(2.0));
    ba->S = 1 / (sqrt(2 * M_PI) * ba->bs.sigma);
    /* Loss units: √K / ∫φ_0² for s and √K / ∫φ_0'² for g (∫φ_0² = 1/(2√π σ),
     * ∫φ_0'² = that / 2σ²). Adam is blind to a loss's scale except through
     * its ε and the gradient clip, and twins share both: with these units
     * BD's gradient norms at the start of training are within a factor of 2
     * of C51's on the CartPole and CleanRL configs (docs/basis.md), where
     * the raw integral left them 300-1000 times smaller and CleanRL's
     * ε = 7.8e-5 froze the BD agent. */
    ba->unit_s = sqrt((double)ba->K) * 2 * sqrt(M_PI) * ba->bs.sigma;
    ba->unit_g = ba->unit_s * 2 * ba->bs.sigma * ba->bs.sigma;
    ba->lambda = cfg->bd.lambda_grad;
    ba->ema = cfg->agent.ema;
    ba->readout = cfg->bd.readout;
    ba->double_q = cfg->agent.double_q;
    if (cfg->agent.risk_target)
        ba->risk = cfg->agent.risk; /* else mean: RISK_MEAN is 0 in the zeroed struct */

    if (bd_geometry_of(cfg, &ba->geo, e))
        goto fail;
    if (cfg->bd.target_mode != TARGET_FIELDS) {
        err_set(e, "bd.field basis supports bd.target_mode fields only");
        goto fail;
    }

    mlp_spec spec;
    adam_config ac = adam_defaults();
    ac.lr = cfg->agent.lr;
    ac.eps = cfg->agent.adam_eps;
    ac.clip_norm = cfg->train.clip;
    if (torso_spec(cfg, &ba->te, ba->A * ba->K, &spec, e))
        goto fail;
    /* agent.dueling: each network's raw outputs z (A, K) combine per bump k,
     * z[a, k] = V[k] + Adv[a, k] − mean_a Adv[a, k], before the scalar
     * field's softplus (w = cw softplus(z_s)) and the gradient field's
     * scale (d = cw z_g), as C51's logits before the softmax. */
    torso_components(cfg, ba->A, &spec);
    for (int f = 0; f < 2; f++) {
        bd_fnet *N = &ba->f[f];
        if (!(N->net = mlp_create(&spec, ba->MB, init, e)) || !(N->opt = adam_create(N->net->n_params, &ac, e)))
            goto fail;
        if (f == BD_FIELD_S && (!(N->tgt = mlp_create(&spec, ba->MB, NULL, e)) || mlp_copy_params(N->tgt, N->net, e)))
            goto fail;
        if (ba->ema > 0 && (!(N->avg = mlp_create(&spec, 1, NULL, e)) || mlp_copy_params(N->avg, N->net, e)))
            goto fail;
    }

    scratch_row t[BD_MAX_SCRATCH];
    if (scratch_alloc(ba, t, scratch_table(&ba->z, t), e))
        goto fail;
    int in = ba->te.in_dim, K = ba->K, A = ba->A;
    double var = ba->bs.sigma * ba->bs.sigma;
    kernel_of(ba->bs.delta, 2 * var, ba->z.Rg, ba->gk, ba->gkd);
    for (int k = 0; k < K; k++)
        ba->rmu[k] = ba->geo.c + ba->geo.h * (ba->bs.mu0 + k * ba->bs.delta);
    size_t np = ba->f[0].net->n_params + ba->f[1].net->n_params;
    char comp[64];
    snprintf(ba->desc, sizeof ba->desc,
             "bd (basis): two networks %d->...->%dx%d (scalar, gradient coefficients), %zu parameters online; "
             "%d Gaussian bumps on u in [-1, 1], sd %g; loss: targets projected onto the centres, regressions "
             "integrated over u; readout %s%s%s",
             in, A, K, np, K, ba->bs.sigma, ba->readout == BD_READOUT_ATOMS ? "atoms" : "density",
             ba->double_q ? "; double" : "", torso_components_desc(cfg, comp, sizeof comp));
    return a;
fail:
    bd_free(a);
    return NULL;
}

/* ---------------------------------------------------------------------- */
/* introspection and sampling                                              */

static const char *bd_describe(const agent *a) { return impl(a)->desc; }
void bd_get_geometry(const agent *a, bd_geometry *g) { *g = impl(a)->geo; }

mlp *bd_net(agent *a, bd_field f, int target)
{
    bd_fnet *N = &impl(a)->f[f];
    return target == 2 ? N->avg : target ? N->tgt : N->net;
}


int bd_eval_fields(agent *a, const float *obs, int target, int n, const double *u, double *s, double *g,
                    bdrl_err *e)
{
    bd_agent *ba = impl(a);
    int A = ba->A, K = ba->K;
    bd_coefficients(a, obs, target, ba->w1, ba->d1, e);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < A; k++) {
            if (s)
                bd_field_at(&ba->bs, ba->w1 + (size_t)k * K, u[i], &s[(size_t)i * A + k], NULL);
            if (g)
                bd_field_at(&ba->bs, ba->d1 + (size_t)k * K, u[i], NULL, &g[(size_t)i * A + k]);
        }
    return 0;
}

/* The sampler's view of one (state, action): s and g in u units, 0 outside
 * [lo, hi] as for the grid agent. */
static int sample_fields(void *vctx, int n, int d, const double *x, double *s, double *g, bdrl_err *e)
{
    (void)d;
    (void)e;
    bd_agent *ba = vctx;
    const double *w = ba->w1 + (size_t)ba->sample_action * ba->K;
    const double *dd = ba->d1 + (size_t)ba->sample_action * ba->K;
    for (int i = 0; i < n; i++) {
        int inside = x[i] >= ba->geo.lo && x[i] <= ba->geo.hi;
        if (s) {
            s[i] = 0;
            if (inside)
                bd_field_at(&ba->bs, w, x[i], &s[i], NULL);
        }
        if (g) {
            g[i] = 0;
            if (inside)
                bd_field_at(&ba->bs, dd, x[i], NULL, &g[i]);
        }
    }
    return 0;
}

static void bd_sampler_defaults(const agent *a, sde_config *sc)
{
    const bd_agent *ba = impl(a);
    bd_sampler_defaults_for(&ba->geo, 0.02 * ba->bs.sigma * ba->bs.sigma, sc);
}

static int bd_sample(agent *a, const float *obs, int action, const sde_config *sc, int n, double *returns,
                      sde_result *res, rng *r, bdrl_err *e)
{
    bd_agent *ba = impl(a);
    if (action < 0 || action >= ba->A)
        return err_set(e, "bd sample: action %d out of range [0, %d)", action, ba->A);
    if (n < 1)
        return err_set(e, "bd sample: %d walkers; need at least 1", n);
    bd_coefficients(a, obs, 0, ba->w1, ba->d1, e);
    ba->sample_action = action;
    return bd_sample_in_u(&ba->geo, sc, sample_fields, ba, n, returns, res, r, e);
}

/* ---------------------------------------------------------------------- */
/* the registry entry                                                      */

agent *agent_bd_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    if (cfg->bd.field == BD_FIELD_GRID)
        return agent_bd_grid_create(cfg, en, init, e);
    return basis_create(cfg, en, init, e);
}

/* Basis fields: two networks like C51's with A·K outputs: scalar (online,
 * target, average), gradient (online, average); scratch copies while a
 * checkpoint loads; Adam m, v of the two online ones; the scratch from the
 * agent's own table. Grid fields: bd_grid.c's. */
static const char *bd_memory(const exp_config *cfg, const env *en, sizing_estimate *out, double *params)
{
    if (cfg->bd.field == BD_FIELD_GRID)
        return bd_grid_memory(cfg, en, out, params);
    torso_encoding te = torso_encoding_for(en);
    int sizes[EXP_MAX_HIDDEN + 3], n = sizing_torso_sizes(cfg, &te, sizes);
    double A = env_n_actions(en), B = cfg->train.batch_size, rl = sizeof(real);
    double M = fmax(2 * B, EVAL_MAX_ROWS), K = cfg->bd.basis;
    sizes[n + 1] = (int)fmin(A * K, 2e9);
    double p = sizing_head_params(cfg, &te, n + 1, sizes, (int)A);
    out->networks = 3 * sizing_head_bytes(cfg, &te, n + 1, sizes, (int)A, M) +
                    7 * sizing_head_bytes(cfg, &te, n + 1, sizes, (int)A, 1) + 4 * p * rl;
    *params = 2 * p;
    out->scratch = bd_scratch_bytes(cfg, en);
    return "agent.hidden, bd.basis or train.batch_size";
}

/* The grid agent's keys, in the slots of every checkpoint written before the
 * registry (format 2), for both field forms: a checkpoint's shape words
 * stay those of the files already written. The basis agent's own header
 * checks bd.basis. */
static const agent_shape_key bd_shape[] = {
    {"bd.grid", offsetof(exp_config, bd.grid), 0, 1},
    {"bd.fourier_k", offsetof(exp_config, bd.fourier_k), 0, 2},
    {"bd.head", offsetof(exp_config, bd.head), 1, 3},
    {"bd.queries", offsetof(exp_config, bd.queries), 0, 12},
};

const agent_class agent_bd_class = {"BD", agent_bd_create, bd_memory, bd_shape, 4};
