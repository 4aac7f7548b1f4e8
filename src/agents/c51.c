/* c51.c — the C51 agent; see c51.h for the algorithm. */
#include "agents/c51.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/registry.h"
#include "agents/torso.h"
#include "fields/adam.h"

/* The softmax loops must vectorize (see src/fields/mlp.c for why -O2 needs
 * this). Elementwise IEEE operations give the same results either way. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#endif

/* expneg_r: e^x for x <= 0 as straight-line float code that vectorizes
 * (glibc's expf is a scalar call, and a 128-row batch needs ~40k of them). */
#include "fields/fastmath.h"

/* The build targets baseline x86-64 (SSE2); softmax_exp, a seventh of an
 * update at CleanRL's sizes, is also compiled for AVX2 and picked at load
 * time. Every operation in it is an elementwise IEEE one (no FMA:
 * -ffp-contract=off) and its reductions have a fixed 8-lane structure, so
 * both versions give bit-identical results (checked on a whole training
 * run's checkpoint); AVX2 only makes it faster (~9% of an update). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

typedef struct {
    int A, N, max_batch;
    double v_min, v_max, dz, gamma;
    int double_q;   /* agent.double: a* from the online network */
    torso_encoding te;
    mlp *net, *tgt;
    mlp *avg;       /* moving average of net (agent.ema > 0), else NULL */
    double ema;
    risk_spec risk; /* agent.risk when agent.risk_target picks a* by it; else mean */
    adam *opt;
    real *x;        /* (max_batch, in_dim) encoded observations */
    float *zf;      /* (N) atoms, float, for the Q sums */
    double *z;      /* (N) atoms */
    float *e;       /* (N) scratch: exponentials of one row */
    float *ea;      /* (A, N) scratch: exponentials of every action's row */
    double *p;      /* (N) scratch: one target distribution */
    int *lidx;      /* (N) scratch: the projection's lower atoms */
    double *frac;   /* (N) scratch: and the share of the upper one */
    double *m;      /* (max_batch, N) projected targets */
    int *astar;     /* (max_batch) a* by the online network (agent.double) */
    double *dist_w; /* (N) the distribution op's probabilities */
    char desc[224];
} c51;

static c51 *impl(agent *a) { return a->impl; }

/* ------------------------------------------------------------------------ */
/* the math                                                                 */

/* Position of return x on the support: clipped to [v_min, v_max], then
 * b = (x - v_min)/Δz in [0, n-1] written as l + frac with l <= n - 2, so its
 * mass goes (1 - frac) to atom l and frac to atom l + 1 (frac is 0 on an
 * atom, and 1 at v_max, which lands on atom n - 1 exactly). */
static inline void locate(int n, double v_min, double v_max, double dz, double x, int *l, double *frac)
{
    x = x < v_min ? v_min : x;
    x = x > v_max ? v_max : x;
    double b = (x - v_min) / dz;
    b = b > n - 1 ? n - 1 : b;
    int k = (int)b; /* b >= 0: truncation is floor (and needs no libm call) */
    k = k > n - 2 ? n - 2 : k;
    *l = k;
    *frac = b - k;
}

static inline void place(double *m, int n, double v_min, double v_max, double dz, double x, double w)
{
    int l;
    double f;
    locate(n, v_min, v_max, dz, x, &l, &f);
    m[l] += w * (1.0 - f);
    m[l + 1] += w * f;
}

/* In support coordinates the atom r + g z_j sits at
 *   b_j = (r + g z_j - v_min)/Δz = b_0 + g j,   b_0 = (r - (1 - g) v_min)/Δz,
 * clipped to [0, n-1] (clipping b is clipping the return to [v_min, v_max]).
 * Computing b_j this way is exact on the grid whenever b_0 is an integer and
 * g j is exact (e.g. g = 1 or g = 0), and its first loop vectorizes. */
static void project_into(int n, double v_min, double dz, double r, double g, const double *p, double *m,
                         int *lidx, double *frac)
{
    double b0 = (r - (1.0 - g) * v_min) / dz, top = n - 1;
    for (int j = 0; j < n; j++) {
        double b = b0 + g * j;
        b = b < 0 ? 0 : b;
        b = b > top ? top : b;
        int k = (int)b;
        k = k > n - 2 ? n - 2 : k;
        lidx[j] = k;
        frac[j] = b - k;
    }
    for (int j = 0; j < n; j++)
        m[j] = 0;
    for (int j = 0; j < n; j++) {
        m[lidx[j]] += p[j] * (1.0 - frac[j]);
        m[lidx[j] + 1] += p[j] * frac[j];
    }
}

void c51_project(int n, double v_min, double v_max, double r, double g, const double *p, double *m)
{
    int lb[256], *l = n <= 256 ? lb : malloc(sizeof(int) * (size_t)n);
    double fb[256], *f = n <= 256 ? fb : malloc(sizeof(double) * (size_t)n);
    if (l && f) {
        project_into(n, v_min, (v_max - v_min) / (n - 1), r, g, p, m, l, f);
    } else { /* no scratch: the same arithmetic one atom at a time */
        double dz = (v_max - v_min) / (n - 1);
        for (int j = 0; j < n; j++)
            m[j] = 0;
        for (int j = 0; j < n; j++)
            place(m, n, v_min, v_min + (n - 1) * dz, dz, r + g * (v_min + j * dz), p[j]);
    }
    if (l != lb)
        free(l);
    if (f != fb)
        free(f);
}

/* Reductions with 8 independent lanes, combined in a fixed order: the
 * compiler may not reorder a float sum itself, and one dependent chain of
 * 101 additions costs more than the exponentials. */
#define LANES 8

static inline float rowmax(int n, const real *x)
{
    float m[LANES];
    for (int k = 0; k < LANES; k++)
        m[k] = x[0];
    int j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++)
            m[k] = x[j + k] > m[k] ? x[j + k] : m[k];
    for (; j < n; j++)
        m[0] = x[j] > m[0] ? x[j] : m[0];
    float r = m[0];
    for (int k = 1; k < LANES; k++)
        r = m[k] > r ? m[k] : r;
    return r;
}

static inline float lanes_sum(const float *acc)
{
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

static inline float sumf(const float *x, int n)
{
    float acc[LANES] = {0};
    int j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] += x[j + k];
    for (; j < n; j++)
        acc[0] += x[j];
    return lanes_sum(acc);
}

static inline float dotf(const float *a, const float *b, int n)
{
    float acc[LANES] = {0};
    int j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int k = 0; k < LANES; k++)
            acc[k] += a[j + k] * b[j + k];
    for (; j < n; j++)
        acc[0] += a[j] * b[j];
    return lanes_sum(acc);
}

/* Exponentials of one row of logits shifted by their maximum: e (n);
 * returns their sum (>= 1); *mx receives the maximum if not NULL. */
CLONES static float softmax_exp(int n, const real *logits, float *e, float *mx_out)
{
    float mx = rowmax(n, logits);
    for (int j = 0; j < n; j++)
        e[j] = expneg_r(logits[j] - mx);
    if (mx_out)
        *mx_out = mx;
    return sumf(e, n);
}

double c51_cross_entropy(int n, const float *logits, const double *m, float *dlogits)
{
    float mx = logits[0];
    for (int j = 1; j < n; j++)
        mx = logits[j] > mx ? logits[j] : mx;
    double s = 0, msum = 0, ml = 0;
    for (int j = 0; j < n; j++)
        s += exp((double)logits[j] - mx);
    double logz = mx + log(s);
    for (int j = 0; j < n; j++) {
        msum += m[j];
        ml += m[j] * logits[j];
    }
    if (dlogits)
        for (int j = 0; j < n; j++)
            dlogits[j] = (float)(exp((double)logits[j] - logz) * msum - m[j]);
    return logz * msum - ml;
}

/* The same for the update's hot loop: float exponentials, gradient scaled by
 * `scale` (1/B), and Q = Σ z p of the row as a by-product. */
static double ce_fast(const c51 *c, const real *logits, const double *m, float *dl, float scale, double *q)
{
    int n = c->N;
    float *e = c->e, mx;
    float s = softmax_exp(n, logits, e, &mx);
    double logz = (double)mx + log((double)s);
    double ml = 0;
    for (int j = 0; j < n; j++)
        ml += m[j] * logits[j];
    float inv = 1.0f / s;
    for (int j = 0; j < n; j++)
        dl[j] = scale * (e[j] * inv - (float)m[j]);
    *q = (double)(dotf(e, c->zf, n) * inv);
    return logz - ml; /* Σ m = 1 for projected targets */
}

/* ------------------------------------------------------------------------ */
/* ops                                                                      */

/* The online network's outputs for observations [off, off + R) of obs
 * (R <= max_batch): what q_values and risk_values both read. */
static const real *online_rows(c51 *c, const float *obs, int off, int R)
{
    torso_encode(&c->te, R, obs + (size_t)off * c->te.obs_dim, c->x);
    return mlp_forward(c->net, R, c->x);
}

static int c51_q_values(agent *a, int B, const float *obs, double *q, bdrl_err *e)
{
    c51 *c = impl(a);
    int A = c->A, N = c->N;
    if (B < 1)
        return err_set(e, "c51: q_values of %d rows", B);
    for (int off = 0; off < B; off += c->max_batch) {
        int R = B - off < c->max_batch ? B - off : c->max_batch;
        const real *y = online_rows(c, obs, off, R);
        for (int i = 0; i < R; i++)
            for (int k = 0; k < A; k++) {
                float s = softmax_exp(N, y + ((size_t)i * A + k) * N, c->e, NULL);
                q[(size_t)(off + i) * A + k] = (double)(dotf(c->e, c->zf, N) / s);
            }
    }
    return 0;
}

/* ρ(Z(s, ·)) of the online network's histograms: exact on the atoms
 * (risk_atoms; the weights are the softmax, normalized there). */
static int c51_risk_values(agent *a, int B, const float *obs, const risk_spec *r, double *out, bdrl_err *e)
{
    c51 *c = impl(a);
    int A = c->A, N = c->N;
    if (B < 1)
        return err_set(e, "c51: risk_values of %d rows", B);
    for (int off = 0; off < B; off += c->max_batch) {
        int R = B - off < c->max_batch ? B - off : c->max_batch;
        const real *y = online_rows(c, obs, off, R);
        for (int i = 0; i < R; i++)
            for (int k = 0; k < A; k++) {
                const real *row = y + ((size_t)i * A + k) * N;
                float mx = row[0];
                for (int j = 1; j < N; j++)
                    mx = row[j] > mx ? row[j] : mx;
                for (int j = 0; j < N; j++)
                    c->p[j] = exp((double)row[j] - mx);
                if (risk_atoms(r, c->z, c->p, (size_t)N, out + (size_t)(off + i) * A + k, e))
                    return -1;
            }
    }
    return 0;
}

/* The greedy action of one state's logits row (A·N): the largest Q (or ρ
 * of agent.risk_target), ties to the lowest index, into *astar; every
 * action's exponentials stay in c->ea and the best one's sum goes to *s. */
static int rank_actions(c51 *c, const real *row, int *astar, float *s, bdrl_err *e)
{
    int A = c->A, N = c->N;
    double best = -INFINITY;
    for (int k = 0; k < A; k++) {
        float *ek = c->ea + (size_t)k * N;
        float sk = softmax_exp(N, row + (size_t)k * N, ek, NULL);
        double qk = dotf(ek, c->zf, N) / sk;
        if (c->risk.measure != RISK_MEAN) {
            for (int j = 0; j < N; j++)
                c->p[j] = ek[j];
            if (risk_atoms(&c->risk, c->z, c->p, (size_t)N, &qk, e))
                return -1;
        }
        if (qk > best || k == 0) {
            best = qk;
            *astar = k;
            *s = sk;
        }
    }
    return 0;
}

/* Loss and gradient (into net->grads) without the optimizer step. */
static int loss_grad(c51 *c, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    int B = b->B, A = c->A, N = c->N;
    if (agent_check_batch("c51", b, c->max_batch, A, e))
        return -1;

    /* agent.double: a* (B) by the online network at s', before its
     * forward on s, which backward needs last. */
    torso_encode(&c->te, B, b->next_obs, c->x);
    int online_pick = c->double_q && !b->next_action;
    if (online_pick) {
        const real *yo = mlp_forward(c->net, B, c->x); /* (B, A·N) */
        for (int i = 0; i < B; i++) {
            float s;
            if (!b->terminated[i] && rank_actions(c, yo + (size_t)i * A * N, &c->astar[i], &s, e))
                return -1;
        }
    }

    /* Targets m (B, N) from the target network at s': atoms r + γ_i z_j,
     * γ_i the row's discount. */
    const real *yt = mlp_forward(c->tgt, B, c->x); /* (B, A·N) */
    for (int i = 0; i < B; i++) {
        double *m = c->m + (size_t)i * N;
        double r = b->reward[i];
        if (b->terminated[i]) {
            memset(m, 0, sizeof(double) * (size_t)N);
            place(m, N, c->v_min, c->v_max, c->dz, r, 1.0);
            continue;
        }
        const real *row = yt + (size_t)i * A * N;
        int astar = 0;
        float s = 0;
        if (b->next_action || online_pick) {
            astar = b->next_action ? b->next_action[i] : c->astar[i];
            s = softmax_exp(N, row + (size_t)astar * N, c->ea + (size_t)astar * N, NULL);
        } else if (rank_actions(c, row, &astar, &s, e)) {
            return -1;
        }
        const float *ebest = c->ea + (size_t)astar * N;
        double inv = 1.0 / (double)s;
        for (int j = 0; j < N; j++)
            c->p[j] = ebest[j] * inv;
        project_into(N, c->v_min, c->dz, r, agent_row_discount(b, i, c->gamma), c->p, m, c->lidx, c->frac);
    }

    /* Online network at (s, a): loss (1/B) Σ_i w_i CE_i and dL/dlogits
     * (only the taken action's logits get a gradient), w_i the importance
     * weights; each row's CE is its sample_loss (as Rainbow's priority). */
    torso_encode(&c->te, B, b->obs, c->x);
    /* after the online forward on s' (double), nothing changed the weights */
    const real *y = online_pick ? mlp_forward_again(c->net, B, c->x) : mlp_forward(c->net, B, c->x); /* (B, A·N) */
    real *dy = c->net->dy;
    memset(dy, 0, sizeof(real) * (size_t)B * A * N);
    double loss = 0, qsum = 0;
    float scale = 1.0f / (float)B;
    for (int i = 0; i < B; i++) {
        size_t o = ((size_t)i * A + b->action[i]) * N;
        double q;
        float wscale = (float)(agent_row_weight(b, i) * scale);
        loss += agent_row_loss(b, i, ce_fast(c, y + o, c->m + (size_t)i * N, dy + o, wscale, &q));
        qsum += q;
    }
    mlp_zero_grad(c->net);
    mlp_backward(c->net, dy, NULL, NULL, NULL);
    st->loss = loss / B;
    st->loss_grad = 0;
    st->q_mean = qsum / B;
    st->grad_norm = NAN;
    return 0;
}

int c51_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    c51 *c = impl(a);
    if (loss_grad(c, b, st, e))
        return -1;
    st->grad_norm = adam_grad_norm(c->net->grads, c->net->n_params);
    return 0;
}

static int c51_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    c51 *c = impl(a);
    if (loss_grad(c, b, st, e))
        return -1;
    /* A non-finite norm leaves the parameters alone; the trainer reports it. */
    st->grad_norm = adam_step_mlp(c->opt, c->net);
    if (c->avg)
        mlp_polyak(c->avg, c->net, 1 - c->ema, NULL);
    return 0;
}

static void c51_update_target(agent *a, double tau)
{
    c51 *c = impl(a);
    if (tau >= 1.0)
        mlp_copy_params(c->tgt, c->net, NULL);
    else
        mlp_polyak(c->tgt, c->net, tau, NULL);
}

static int c51_distribution(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    c51 *c = impl(a);
    if (action < 0 || action >= c->A)
        return err_set(e, "c51: action %d out of range [0, %d)", action, c->A);
    torso_encode(&c->te, 1, obs, c->x);
    /* The reported law: the moving average when agent.ema > 0. */
    const real *y = mlp_forward(c->avg ? c->avg : c->net, 1, c->x);
    const real *row = y + (size_t)action * c->N;
    /* In double, so the probabilities sum to 1 to rounding. */
    float mx = row[0];
    for (int j = 1; j < c->N; j++)
        mx = row[j] > mx ? row[j] : mx;
    double s = 0;
    for (int j = 0; j < c->N; j++)
        s += c->dist_w[j] = exp((double)row[j] - mx);
    for (int j = 0; j < c->N; j++)
        c->dist_w[j] /= s;
    out->n = c->N;
    out->x = c->z;
    out->w = c->dist_w;
    out->is_density = 0;
    out->mass = 1.0;
    return 0;
}

/* Online network with its Adam state, target, average: mlp_save_all's order. */
static int c51_save(const agent *a, FILE *f, bdrl_err *e)
{
    const c51 *c = a->impl;
    mlp *nets[] = {c->net, c->tgt, c->avg};
    adam *opts[] = {c->opt, NULL, NULL};
    if (mlp_save_all(nets, opts, c->avg ? 3 : 2, f, e))
        return err_prefix(e, "c51");
    return 0;
}

/* All or nothing: a failure leaves the agent as it was (mlp_load_all). */
static int c51_load(agent *a, FILE *f, bdrl_err *e)
{
    c51 *c = impl(a);
    mlp *nets[] = {c->net, c->tgt, c->avg};
    adam *opts[] = {c->opt, NULL, NULL};
    if (mlp_load_all(nets, opts, c->avg ? 3 : 2, f, e))
        return err_prefix(e, "c51");
    return 0;
}

static void c51_free(agent *a)
{
    if (!a)
        return;
    c51 *c = a->impl;
    if (c) {
        mlp_free(c->net);
        mlp_free(c->tgt);
        mlp_free(c->avg);
        adam_free(c->opt);
        free(c->x);
        free(c->zf);
        free(c->z);
        free(c->e);
        free(c->ea);
        free(c->p);
        free(c->lidx);
        free(c->frac);
        free(c->m);
        free(c->astar);
        free(c->dist_w);
        free(c);
    }
    free(a);
}

static int c51_params(agent *a, agent_param_block *out)
{
    mlp *m = impl(a)->net;
    out[0] = (agent_param_block){"c51 network", m->params, m->n_params};
    return 1;
}

static const char *c51_describe(const agent *a) { return ((const c51 *)a->impl)->desc; }

static void c51_noise(agent *a, agent_noise mode, rng *r)
{
    c51 *c = impl(a);
    agent_noise_nets(&c->net, 1, &c->tgt, 1, mode, r);
}

static const agent_ops c51_ops = {
    .name = "c51",
    .q_values = c51_q_values,
    .risk_values = c51_risk_values,
    .risk_target = 1,
    .update = c51_update,
    .update_target = c51_update_target,
    .distribution = c51_distribution,
    .save = c51_save,
    .load = c51_load,
    .free = c51_free,
    .params = c51_params,
    .describe = c51_describe,
    .update_flops = c51_update_flops,
    .noise = c51_noise,
};

agent *agent_c51_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    if (!(cfg->agent.v_max > cfg->agent.v_min) || cfg->c51.atoms < 2) {
        err_set(e, "c51: needs v_max > v_min and at least 2 atoms");
        return NULL;
    }
    agent *a = err_calloc(1, sizeof *a, e);
    c51 *c = a ? err_calloc(1, sizeof *c, e) : NULL;
    if (!c) {
        free(a);
        return NULL;
    }
    a->ops = &c51_ops;
    a->obs_dim = env_obs_dim(en);
    a->n_actions = env_n_actions(en);
    a->impl = c;
    c->A = a->n_actions;
    c->N = cfg->c51.atoms;
    c->v_min = cfg->agent.v_min;
    c->v_max = cfg->agent.v_max;
    c->dz = (c->v_max - c->v_min) / (c->N - 1);
    c->gamma = cfg->agent.gamma;
    c->double_q = cfg->agent.double_q;
    c->max_batch = cfg->train.batch_size > EVAL_MAX_ROWS ? cfg->train.batch_size : EVAL_MAX_ROWS;
    c->te = torso_encoding_for(en);
    mlp_spec spec;
    adam_config ac = adam_defaults();
    ac.lr = cfg->agent.lr;
    ac.eps = cfg->agent.adam_eps;
    ac.clip_norm = cfg->train.clip;
    size_t N = (size_t)c->N;
    if (torso_spec(cfg, &c->te, c->A * c->N, &spec, e))
        goto fail;
    torso_components(cfg, c->A, &spec); /* dueling on the logits, before the softmax (Rainbow) */
    if (!(c->net = mlp_create(&spec, c->max_batch, init, e)) ||
        !(c->tgt = mlp_create(&spec, c->max_batch, NULL, e)) ||
        (cfg->agent.ema > 0 && !(c->avg = mlp_create(&spec, 1, NULL, e))) ||
        !(c->opt = adam_create(c->net->n_params, &ac, e)) ||
        !(c->x = err_calloc((size_t)c->max_batch * c->te.in_dim, sizeof(real), e)) ||
        !(c->zf = err_calloc(N, sizeof(float), e)) || !(c->z = err_calloc(N, sizeof(double), e)) ||
        !(c->e = err_calloc(N, sizeof(float), e)) || !(c->p = err_calloc(N, sizeof(double), e)) ||
        !(c->ea = err_calloc((size_t)c->A * N, sizeof(float), e)) ||
        !(c->lidx = err_calloc(N, sizeof(int), e)) || !(c->frac = err_calloc(N, sizeof(double), e)) ||
        !(c->m = err_calloc((size_t)c->max_batch * N, sizeof(double), e)) ||
        !(c->astar = err_calloc((size_t)c->max_batch, sizeof(int), e)) ||
        !(c->dist_w = err_calloc(N, sizeof(double), e)))
        goto fail;
    for (int j = 0; j < c->N; j++) {
        c->z[j] = j == c->N - 1 ? c->v_max : c->v_min + j * c->dz;
        c->zf[j] = (float)c->z[j];
    }
    mlp_copy_params(c->tgt, c->net, NULL);
    c->ema = cfg->agent.ema;
    if (cfg->agent.risk_target)
        c->risk = cfg->agent.risk; /* else mean: RISK_MEAN is 0 in the zeroed struct */
    if (c->avg)
        mlp_copy_params(c->avg, c->net, NULL);
    char comp[64];
    snprintf(c->desc, sizeof c->desc, "c51: network %d->...->%dx%d, %zu parameters; atoms on [%g, %g]%s%s",
             c->te.in_dim, c->A, c->N, c->net->n_params, c->v_min, c->v_max,
             c->double_q ? "; double" : "", torso_components_desc(cfg, comp, sizeof comp));
    return a;
fail:
    err_prefix(e, "c51");
    c51_free(a);
    return NULL;
}

mlp *c51_online(agent *a) { return impl(a)->net; }
mlp *c51_target(agent *a) { return impl(a)->tgt; }
mlp *c51_average(agent *a) { return impl(a)->avg; }

/* online, target, a scratch pair while a checkpoint loads; Adam m, v;
 * scratch: encoded rows, atom arrays, projected targets (M, A·N doubles),
 * the online a* (M). */
static const char *c51_memory(const exp_config *cfg, const env *en, sizing_estimate *out, double *params)
{
    torso_encoding te = torso_encoding_for(en);
    int sizes[EXP_MAX_HIDDEN + 3], n = sizing_torso_sizes(cfg, &te, sizes);
    double A = env_n_actions(en), N = cfg->c51.atoms, rl = sizeof(real);
    double M = fmax(cfg->train.batch_size, EVAL_MAX_ROWS);
    sizes[n + 1] = (int)fmin(A * N, 2e9);
    *params = sizing_head_params(cfg, &te, n + 1, sizes, (int)A);
    out->networks = 2 * sizing_head_bytes(cfg, &te, n + 1, sizes, (int)A, M) +
                    2 * sizing_head_bytes(cfg, &te, n + 1, sizes, (int)A, 1) + 2 * *params * rl;
    out->scratch = M * te.in_dim * rl + 4 * N * 8 + M * A * N * 8 + M * sizeof(int);
    return "agent.hidden, c51.atoms or train.batch_size";
}

static const agent_shape_key c51_shape[] = {
    {"c51.atoms", offsetof(exp_config, c51.atoms), 0, 0},
};

const agent_class agent_c51_class = {"C51", agent_c51_create, c51_memory, c51_shape, 1};

double c51_update_flops(const agent *a, int B)
{
    const mlp_spec *s = &((const c51 *)a->impl)->net->spec;
    /* target and online forwards, the backward (dW, dA of every layer but the first) */
    return mlp_flops(s, B, 0) + mlp_flops(s, B, 1);
}
