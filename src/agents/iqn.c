/* iqn.c — the IQN agent; see iqn.h for the algorithm. */
#include "agents/iqn.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/quantile.h"
#include "agents/registry.h"
#include "agents/torso.h"
#include "fields/adam.h"

/* Let -O2 vectorize the elementwise loops over the τ rows (h = ψ ⊙ φ and
 * its backward, 8192 rows of E floats per pass at the reference settings):
 * IEEE products and sums give the same results in vector lanes, and no
 * reduction is reordered (that would need -fassociative-math). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#endif

typedef struct {
    int A, E, NC, n, np, k, L;
    int max_batch;  /* state rows */
    int max_rows;   /* τ rows of the online cos and head networks */
    double gamma, kappa, ema;
    int double_q;   /* agent.double: a* from the online networks */
    torso_encoding te;
    mlp *net[3][3]; /* [iqn_which][iqn_part]; averages NULL when ema is 0 */
    adam *opt[3];
    rng *r;         /* the τ stream */
    real *x;        /* (max_batch, in_dim) encoded observations */
    real *feat;     /* (max_rows, NC) cosine features */
    real *h;        /* (max_rows, E) ψ ⊙ φ */
    real *dh;       /* (max_rows, E) dL/dh */
    real *dphi;     /* (max_rows, E) */
    real *dpsi;     /* (max_batch, E) */
    double *tau_on, *tau_tg, *tau_k; /* (max_batch·N), (max_batch·N'), (max_batch·K): the last update's τ */
    int n_on, n_tg, n_k;
    double *tq;     /* (max_batch·N') target samples */
    int *astar;     /* (max_batch) */
    double *mid_k;  /* (max_batch·K) the K midpoints repeated per row */
    double *risk_k; /* (max_batch·K) β(mid_k) of risk_values' measure */
    risk_spec risk; /* agent.risk when agent.risk_target picks a* by it; else mean */
    double *law_tau;/* (L) midpoints of the reported law */
    double *dist_x, *dist_w; /* (L) */
    char desc[264];
} iqn;

static iqn *impl(agent *a) { return a->impl; }

/* Z at τ rows (R·per) given ψ (R, E) of the same networks: (R·per, A),
 * inside the head network. */
static const real *zvalues(iqn *q, mlp *const *nets, int R, const real *psi, int per, const double *tau)
{
    int rows = R * per, E = q->E;
    quantile_cos_features(rows, tau, q->NC, q->feat);
    const real *phi = mlp_forward(nets[IQN_COS], rows, q->feat);
    for (int r = 0; r < rows; r++) {
        const real *p = psi + (size_t)(r / per) * E, *f = phi + (size_t)r * E;
        real *h = q->h + (size_t)r * E;
        for (int j = 0; j < E; j++)
            h[j] = p[j] * f[j];
    }
    return mlp_forward(nets[IQN_HEAD], rows, q->h);
}

/* Q (R, A) = mean over the K midpoints, of R encoded states in q->x. */
static void q_of(iqn *q, mlp *const *nets, int R, double *out)
{
    int K = q->k, A = q->A;
    const real *psi = mlp_forward(nets[IQN_TORSO], R, q->x);
    const real *z = zvalues(q, nets, R, psi, K, q->mid_k);
    for (int i = 0; i < R; i++)
        for (int a = 0; a < A; a++) {
            double s = 0;
            for (int j = 0; j < K; j++)
                s += z[((size_t)i * K + j) * A + a];
            out[(size_t)i * A + a] = s / K;
        }
}

static int iqn_q_values(agent *a, int B, const float *obs, double *qv, bdrl_err *e)
{
    iqn *q = impl(a);
    if (B < 1)
        return err_set(e, "iqn: q_values of %d rows", B);
    for (int off = 0; off < B; off += q->max_batch) {
        int R = B - off < q->max_batch ? B - off : q->max_batch;
        torso_encode(&q->te, R, obs + (size_t)off * q->te.obs_dim, q->x);
        q_of(q, q->net[IQN_ONLINE], R, qv + (size_t)off * q->A);
    }
    return 0;
}

/* ρ(Z(s, a)) = ∫ Z_β(τ)(s, a) dτ by the same midpoint rule as Q, at the
 * distorted levels τ̃_k = β(τ_k) (the paper samples τ̃ = β(U) instead). */
static int iqn_risk_values(agent *a, int B, const float *obs, const risk_spec *r, double *out, bdrl_err *e)
{
    iqn *q = impl(a);
    if (B < 1)
        return err_set(e, "iqn: risk_values of %d rows", B);
    int K = q->k, A = q->A;
    for (int j = 0; j < q->max_batch * K; j++)
        q->risk_k[j] = risk_beta(r, q->mid_k[j]);
    mlp *const *nets = q->net[IQN_ONLINE];
    for (int off = 0; off < B; off += q->max_batch) {
        int R = B - off < q->max_batch ? B - off : q->max_batch;
        torso_encode(&q->te, R, obs + (size_t)off * q->te.obs_dim, q->x);
        const real *psi = mlp_forward(nets[IQN_TORSO], R, q->x);
        const real *z = zvalues(q, nets, R, psi, K, q->risk_k);
        for (int i = 0; i < R; i++)
            for (int k = 0; k < A; k++) {
                double s = 0;
                for (int j = 0; j < K; j++)
                    s += z[((size_t)i * K + j) * A + k];
                out[(size_t)(off + i) * A + k] = s / K;
            }
    }
    return 0;
}

static void draw(rng *r, int n, double *tau)
{
    for (int i = 0; i < n; i++)
        tau[i] = rng_uniform(r);
}

static int loss_grad(iqn *q, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    if (agent_check_batch("iqn", b, q->max_batch, q->A, e))
        return -1;
    int B = b->B, A = q->A, E = q->E, N = q->n, NP = q->np, K = q->k;
    mlp *const *tg = q->net[IQN_TARGET], *const *on = q->net[IQN_ONLINE];

    /* Targets. ψ' stays valid: only the target cos and head run after it. */
    torso_encode(&q->te, B, b->next_obs, q->x);
    const real *psi_t = mlp_forward(tg[IQN_TORSO], B, q->x); /* (B, E) */
    q->n_k = 0;
    if (!b->next_action) {
        q->n_k = B * K;
        draw(q->r, q->n_k, q->tau_k);
        if (q->risk.measure != RISK_MEAN) /* agent.risk_target: τ̃ = β(U), as the paper acts */
            for (int j = 0; j < q->n_k; j++)
                q->tau_k[j] = risk_beta(&q->risk, q->tau_k[j]);
        /* a* ranks Z (B·K, A) at these τ̃ of the target networks, or of the
         * online ones (agent.double: the same τ̃, so only the networks
         * differ; the online torso's forward on s comes later, last, as
         * backward needs). */
        const real *z;
        if (q->double_q) {
            const real *psi_o = mlp_forward(on[IQN_TORSO], B, q->x); /* (B, E) online ψ(s') */
            z = zvalues(q, on, B, psi_o, K, q->tau_k);
        } else {
            z = zvalues(q, tg, B, psi_t, K, q->tau_k);
        }
        for (int i = 0; i < B; i++) {
            double best = 0;
            for (int a = 0; a < A; a++) {
                double s = 0;
                for (int j = 0; j < K; j++)
                    s += z[((size_t)i * K + j) * A + a];
                if (a == 0 || s > best) {
                    best = s;
                    q->astar[i] = a;
                }
            }
        }
    } else {
        for (int i = 0; i < B; i++)
            q->astar[i] = b->next_action[i];
    }
    q->n_tg = B * NP;
    draw(q->r, q->n_tg, q->tau_tg);
    const real *zt = zvalues(q, tg, B, psi_t, NP, q->tau_tg);
    for (int i = 0; i < B; i++) { /* T_j = r + γ_i Z_τ'_j(s', a*), γ_i the row's discount */
        double r = b->reward[i], g = agent_row_discount(b, i, q->gamma);
        for (int j = 0; j < NP; j++)
            q->tq[(size_t)i * NP + j] =
                b->terminated[i] ? r : r + g * (double)zt[((size_t)i * NP + j) * A + q->astar[i]];
    }

    /* Online quantiles at (s, a) and the loss. */
    q->n_on = B * N;
    draw(q->r, q->n_on, q->tau_on);
    torso_encode(&q->te, B, b->obs, q->x);
    const real *psi = mlp_forward(on[IQN_TORSO], B, q->x);
    const real *z = zvalues(q, on, B, psi, N, q->tau_on);
    real *dy = on[IQN_HEAD]->dy;
    memset(dy, 0, sizeof(real) * (size_t)B * N * A);
    double loss = 0, qsum = 0;
    for (int i = 0; i < B; i++) { /* L = (1/B) Σ_i w_i L_i; L_i is the row's sample_loss */
        size_t o = (size_t)i * N * A + (size_t)b->action[i];
        double li = quantile_huber_loss(N, z + o, A, q->tau_on + (size_t)i * N, NP, q->tq + (size_t)i * NP,
                                        q->kappa, dy + o, agent_row_weight(b, i) * (1.0 / B));
        loss += agent_row_loss(b, i, li);
        double s = 0;
        for (int j = 0; j < N; j++)
            s += z[o + (size_t)j * A];
        qsum += s / N;
    }

    /* Backward: head -> dh; h = ψ[r/N] ⊙ φ[r], so dφ = dh ⊙ ψ and
     * dψ = Σ over the state's N rows of dh ⊙ φ. */
    for (int p = 0; p < 3; p++)
        mlp_zero_grad(on[p]);
    mlp_backward(on[IQN_HEAD], dy, NULL, q->dh, NULL);
    const real *phi = mlp_y(on[IQN_COS]);
    memset(q->dpsi, 0, sizeof(real) * (size_t)B * E);
    for (int r = 0; r < B * N; r++) {
        const real *dh = q->dh + (size_t)r * E, *f = phi + (size_t)r * E, *p = psi + (size_t)(r / N) * E;
        real *dp = q->dpsi + (size_t)(r / N) * E, *df = q->dphi + (size_t)r * E;
        for (int j = 0; j < E; j++) {
            df[j] = dh[j] * p[j];
            dp[j] += dh[j] * f[j];
        }
    }
    mlp_backward(on[IQN_COS], q->dphi, NULL, NULL, NULL);
    mlp_backward(on[IQN_TORSO], q->dpsi, NULL, NULL, NULL);
    st->loss = loss / B;
    st->loss_grad = 0;
    st->q_mean = qsum / B;
    st->grad_norm = NAN;
    return 0;
}

int iqn_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    iqn *q = impl(a);
    if (loss_grad(q, b, st, e))
        return -1;
    double s = 0;
    for (int p = 0; p < 3; p++) {
        double g = adam_grad_norm(q->net[IQN_ONLINE][p]->grads, q->net[IQN_ONLINE][p]->n_params);
        s += g * g;
    }
    st->grad_norm = sqrt(s);
    return 0;
}

static int iqn_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    iqn *q = impl(a);
    if (loss_grad(q, b, st, e))
        return -1;
    st->grad_norm = adam_step_mlps(q->opt, q->net[IQN_ONLINE], 3); /* non-finite: nothing changes */
    if (q->ema > 0)
        for (int p = 0; p < 3; p++)
            mlp_polyak(q->net[IQN_AVERAGE][p], q->net[IQN_ONLINE][p], 1 - q->ema, NULL);
    return 0;
}

static void iqn_update_target(agent *a, double tau)
{
    iqn *q = impl(a);
    for (int p = 0; p < 3; p++) {
        if (tau >= 1.0)
            mlp_copy_params(q->net[IQN_TARGET][p], q->net[IQN_ONLINE][p], NULL);
        else
            mlp_polyak(q->net[IQN_TARGET][p], q->net[IQN_ONLINE][p], tau, NULL);
    }
}

int iqn_quantiles(agent *a, iqn_which which, const float *obs, int R, const double *tau, double *z, bdrl_err *e)
{
    iqn *q = impl(a);
    mlp *const *nets = q->net[which];
    int cap = which == IQN_ONLINE ? q->max_rows : which == IQN_TARGET ? q->max_batch * (q->np > q->k ? q->np : q->k)
                                                                      : q->L;
    if (!nets[0] || R < 1 || R > cap)
        return err_set(e, "iqn: quantiles of %d levels (at most %d here)", R, cap);
    torso_encode(&q->te, 1, obs, q->x);
    const real *psi = mlp_forward(nets[IQN_TORSO], 1, q->x);
    const real *y = zvalues(q, nets, 1, psi, R, tau);
    for (int i = 0; i < R * q->A; i++)
        z[i] = y[i];
    return 0;
}

static int iqn_distribution(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    iqn *q = impl(a);
    if (action < 0 || action >= q->A)
        return err_set(e, "iqn: action %d out of range [0, %d)", action, q->A);
    mlp *const *nets = q->net[q->ema > 0 ? IQN_AVERAGE : IQN_ONLINE];
    torso_encode(&q->te, 1, obs, q->x);
    const real *psi = mlp_forward(nets[IQN_TORSO], 1, q->x);
    const real *z = zvalues(q, nets, 1, psi, q->L, q->law_tau);
    for (int j = 0; j < q->L; j++) {
        q->dist_x[j] = z[(size_t)j * q->A + action];
        q->dist_w[j] = 1.0 / q->L;
    }
    quantile_sort(q->L, q->dist_x);
    out->n = q->L;
    out->x = q->dist_x;
    out->w = q->dist_w;
    out->is_density = 0;
    out->mass = 1.0;
    return 0;
}

/* The networks in file order, online (with their Adam states), targets,
 * averages (when agent.ema is on); returns their number. */
static int nets_of(iqn *q, mlp **nets, adam **opts)
{
    int n = 0;
    for (int w = IQN_ONLINE; w <= IQN_AVERAGE; w++)
        for (int p = 0; p < 3; p++)
            if (q->net[w][p]) {
                opts[n] = w == IQN_ONLINE ? q->opt[p] : NULL;
                nets[n++] = q->net[w][p];
            }
    return n;
}

/* The networks (nets_of's order), then the τ stream. */
static int iqn_save(const agent *a, FILE *f, bdrl_err *e)
{
    mlp *nets[9];
    adam *opts[9];
    int n = nets_of(a->impl, nets, opts);
    if (mlp_save_all(nets, opts, n, f, e) || rng_save(((const iqn *)a->impl)->r, f, e))
        return err_prefix(e, "iqn");
    return 0;
}

/* All or nothing: the networks and the τ stream are read in full before any
 * of them replaces the agent's (mlp_stage_load). */
static int iqn_load(agent *a, FILE *f, bdrl_err *e)
{
    iqn *q = impl(a);
    mlp *nets[9];
    adam *opts[9];
    int n = nets_of(q, nets, opts);
    mlp_stage st;
    if (mlp_stage_load(&st, nets, opts, n, f, NULL, e))
        return err_prefix(e, "iqn");
    rng *r = rng_create(0, 0);
    if (!r || rng_load(r, f, e)) {
        if (!r)
            err_set(e, "out of memory");
        rng_free(r);
        mlp_stage_free(&st);
        return err_prefix(e, "iqn: tau generator");
    }
    mlp_stage_commit(&st, nets, opts);
    mlp_stage_free(&st);
    rng_free(q->r);
    q->r = r;
    return 0;
}

static void iqn_free(agent *a)
{
    if (!a)
        return;
    iqn *q = a->impl;
    if (q) {
        for (int w = 0; w < 3; w++)
            for (int p = 0; p < 3; p++)
                mlp_free(q->net[w][p]);
        for (int p = 0; p < 3; p++)
            adam_free(q->opt[p]);
        rng_free(q->r);
        free(q->x);
        free(q->feat);
        free(q->h);
        free(q->dh);
        free(q->dphi);
        free(q->dpsi);
        free(q->tau_on);
        free(q->tau_tg);
        free(q->tau_k);
        free(q->tq);
        free(q->astar);
        free(q->mid_k);
        free(q->risk_k);
        free(q->law_tau);
        free(q->dist_x);
        free(q->dist_w);
        free(q);
    }
    free(a);
}

static int iqn_params(agent *a, agent_param_block *out)
{
    static const char *names[3] = {"iqn torso", "iqn cosine embedding", "iqn head"};
    for (int p = 0; p < 3; p++) {
        mlp *m = impl(a)->net[IQN_ONLINE][p];
        out[p] = (agent_param_block){names[p], m->params, m->n_params};
    }
    return 3;
}

static const char *iqn_describe(const agent *a) { return ((const iqn *)a->impl)->desc; }

/* The torso and the head are noisy (agent.noisy); the cosine embedding of τ
 * stays plain (as in Rainbow-IQN): it draws nothing. */
static void iqn_noise(agent *a, agent_noise mode, rng *r)
{
    mlp *const *on = impl(a)->net[IQN_ONLINE], *const *tg = impl(a)->net[IQN_TARGET];
    mlp *online[2] = {on[IQN_TORSO], on[IQN_HEAD]}, *target[2] = {tg[IQN_TORSO], tg[IQN_HEAD]};
    agent_noise_nets(online, 2, target, 2, mode, r);
}

static const agent_ops iqn_ops = {
    .name = "iqn",
    .q_values = iqn_q_values,
    .risk_values = iqn_risk_values,
    .risk_target = 1,
    .update = iqn_update,
    .update_target = iqn_update_target,
    .distribution = iqn_distribution,
    .save = iqn_save,
    .load = iqn_load,
    .free = iqn_free,
    .params = iqn_params,
    .describe = iqn_describe,
    .noise = iqn_noise,
};

static int imax(int a, int b) { return a > b ? a : b; }

agent *agent_iqn_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    if (cfg->iqn.n < 1 || cfg->iqn.n_prime < 1 || cfg->iqn.k < 1 || cfg->iqn.embedding < 1 ||
        cfg->iqn.law_points < 1 || !(cfg->iqn.kappa >= 0)) {
        err_set(e, "iqn: iqn.n, iqn.n_prime, iqn.k, iqn.embedding and iqn.law_points must be at least 1, "
                   "iqn.kappa at least 0");
        return NULL;
    }
    agent *a = err_calloc(1, sizeof *a, e);
    iqn *q = a ? err_calloc(1, sizeof *q, e) : NULL;
    if (!q) {
        free(a);
        return NULL;
    }
    a->ops = &iqn_ops;
    a->obs_dim = env_obs_dim(en);
    a->n_actions = env_n_actions(en);
    a->impl = q;
    q->A = a->n_actions;
    q->NC = cfg->iqn.embedding;
    q->n = cfg->iqn.n;
    q->np = cfg->iqn.n_prime;
    q->k = cfg->iqn.k;
    q->L = cfg->iqn.law_points;
    q->gamma = cfg->agent.gamma;
    q->double_q = cfg->agent.double_q;
    q->kappa = cfg->iqn.kappa;
    q->ema = cfg->agent.ema;
    q->max_batch = imax(cfg->train.batch_size, EVAL_MAX_ROWS);
    q->te = torso_encoding_for(en);
    int MB = q->max_batch, tg_rows = MB * imax(q->np, q->k);
    q->max_rows = imax(MB * imax(q->n, imax(q->np, q->k)), q->L);

    mlp_spec ts, cs, hs;
    adam_config ac = adam_defaults();
    ac.lr = cfg->agent.lr;
    ac.eps = cfg->agent.adam_eps;
    ac.clip_norm = cfg->train.clip;
    if (torso_spec(cfg, &q->te, 0, &ts, e))
        goto fail;
    torso_components(cfg, 0, &ts);
    q->E = ts.sizes[ts.n_layers];
    memset(&cs, 0, sizeof cs);
    cs.n_layers = 1;
    cs.sizes[0] = q->NC;
    cs.sizes[1] = q->E;
    cs.act = MLP_RELU;
    cs.out_act = MLP_RELU;
    memset(&hs, 0, sizeof hs);
    hs.n_layers = 2;
    hs.sizes[0] = q->E;
    hs.sizes[1] = q->E;
    hs.sizes[2] = q->A;
    hs.act = (mlp_act)cfg->agent.activation;
    hs.out_act = MLP_LINEAR;
    torso_components(cfg, q->A, &hs); /* dueling per τ row: V and A advantages, N = 1 */
    const mlp_spec *specs[3] = {&ts, &cs, &hs};
    int rows_on[3] = {MB, q->max_rows, q->max_rows}, rows_tg[3] = {MB, tg_rows, tg_rows},
        rows_avg[3] = {1, q->L, q->L};
    for (int p = 0; p < 3; p++)
        if (!(q->net[IQN_ONLINE][p] = mlp_create(specs[p], rows_on[p], init, e)))
            goto fail;
    for (int p = 0; p < 3; p++) {
        if (!(q->net[IQN_TARGET][p] = mlp_create(specs[p], rows_tg[p], NULL, e)) ||
            (q->ema > 0 && !(q->net[IQN_AVERAGE][p] = mlp_create(specs[p], rows_avg[p], NULL, e))) ||
            !(q->opt[p] = adam_create(q->net[IQN_ONLINE][p]->n_params, &ac, e)))
            goto fail;
        mlp_copy_params(q->net[IQN_TARGET][p], q->net[IQN_ONLINE][p], NULL);
        if (q->net[IQN_AVERAGE][p])
            mlp_copy_params(q->net[IQN_AVERAGE][p], q->net[IQN_ONLINE][p], NULL);
    }
    if (!(q->r = rng_create(rng_u64(init), RNG_STREAM_LOSS))) {
        err_set(e, "out of memory");
        goto fail;
    }
    size_t R = (size_t)q->max_rows, E = (size_t)q->E, sr = sizeof(real), sd = sizeof(double);
    if (!(q->x = err_calloc((size_t)MB * q->te.in_dim, sr, e)) || !(q->feat = err_calloc(R * q->NC, sr, e)) ||
        !(q->h = err_calloc(R * E, sr, e)) || !(q->dh = err_calloc(R * E, sr, e)) ||
        !(q->dphi = err_calloc(R * E, sr, e)) || !(q->dpsi = err_calloc((size_t)MB * E, sr, e)) ||
        !(q->tau_on = err_calloc((size_t)MB * q->n, sd, e)) || !(q->tau_tg = err_calloc((size_t)MB * q->np, sd, e)) ||
        !(q->tau_k = err_calloc((size_t)MB * q->k, sd, e)) || !(q->tq = err_calloc((size_t)MB * q->np, sd, e)) ||
        !(q->astar = err_calloc((size_t)MB, sizeof(int), e)) ||
        !(q->mid_k = err_calloc((size_t)MB * q->k, sd, e)) ||
        !(q->risk_k = err_calloc((size_t)MB * q->k, sd, e)) || !(q->law_tau = err_calloc((size_t)q->L, sd, e)) ||
        !(q->dist_x = err_calloc((size_t)q->L, sd, e)) || !(q->dist_w = err_calloc((size_t)q->L, sd, e)))
        goto fail;
    for (int i = 0; i < MB; i++)
        quantile_midpoints(q->k, q->mid_k + (size_t)i * q->k);
    if (cfg->agent.risk_target)
        q->risk = cfg->agent.risk; /* else mean: RISK_MEAN is 0 in the zeroed struct */
    quantile_midpoints(q->L, q->law_tau);
    size_t np = 0;
    for (int p = 0; p < 3; p++)
        np += q->net[IQN_ONLINE][p]->n_params;
    char comp[64];
    snprintf(q->desc, sizeof q->desc,
             "iqn: torso %d->...->%d, cos %d->%d, head %d->%d->%d, %zu parameters; N %d, N' %d, K %d, kappa %g, "
             "law at %d midpoints%s%s",
             q->te.in_dim, q->E, q->NC, q->E, q->E, q->E, q->A, np, q->n, q->np, q->k, q->kappa, q->L,
             q->double_q ? "; double" : "", torso_components_desc(cfg, comp, sizeof comp));
    return a;
fail:
    err_prefix(e, "iqn");
    iqn_free(a);
    return NULL;
}

mlp *iqn_net(agent *a, iqn_which which, iqn_part part) { return impl(a)->net[which][part]; }

const double *iqn_last_taus(agent *a, int part, int *n)
{
    iqn *q = impl(a);
    *n = part == 0 ? q->n_on : part == 1 ? q->n_tg : q->n_k;
    return part == 0 ? q->tau_on : part == 1 ? q->tau_tg : q->tau_k;
}

void iqn_reseed(agent *a, uint64_t seed) { rng_reseed(impl(a)->r, seed, RNG_STREAM_LOSS); }

/* Online (torso at max_batch rows, cos and head at max_rows τ rows), target
 * (τ rows B·max(N', K)), average (one state, law_points rows) and a scratch
 * copy of each at one row while a checkpoint loads; Adam m, v; scratch: the
 * τ-row arrays (features, h, dh, dφ) and the τ arrays. */
static const char *iqn_memory(const exp_config *cfg, const env *en, sizing_estimate *out, double *params)
{
    torso_encoding te = torso_encoding_for(en);
    int ts[EXP_MAX_HIDDEN + 3], n = sizing_torso_sizes(cfg, &te, ts);
    double E = ts[n], A = env_n_actions(en), NC = cfg->iqn.embedding, rl = sizeof(real);
    double MB = fmax(cfg->train.batch_size, EVAL_MAX_ROWS), L = cfg->iqn.law_points;
    double per = fmax(cfg->iqn.n, fmax(cfg->iqn.n_prime, cfg->iqn.k)), MR = fmax(MB * per, L);
    double TR = MB * fmax(cfg->iqn.n_prime, cfg->iqn.k);
    int cs[2] = {(int)NC, (int)E};
    mlp_spec hs; /* the head, with agent.dueling's and agent.noisy's parts */
    memset(&hs, 0, sizeof hs);
    hs.n_layers = 2;
    hs.sizes[0] = hs.sizes[1] = (int)E;
    hs.sizes[2] = (int)A;
    torso_components(cfg, (int)A, &hs);
    *params = sizing_torso_params(cfg, &te, n, ts) + sizing_layers_params(1, cs) + mlp_spec_params(&hs);
    double rows[3][3] = {{MB, MR, MR}, {MB, TR, TR}, {1, L, L}};
    out->networks = 2 * *params * rl + 3 * (sizing_torso_bytes(cfg, &te, n, ts, 1) + mlp_memory_bytes(1, cs, 1) +
                                            mlp_spec_memory_bytes(&hs, 1));
    for (int w = 0; w < 3; w++)
        out->networks += sizing_torso_bytes(cfg, &te, n, ts, rows[w][0]) +
                         mlp_memory_bytes(1, cs, (int)fmin(rows[w][1], 2e9)) +
                         mlp_spec_memory_bytes(&hs, (int)fmin(rows[w][2], 2e9));
    out->scratch = (MB * te.in_dim + MR * (NC + 3 * E) + MB * E) * rl +
                   (MB * (cfg->iqn.n + 2 * cfg->iqn.n_prime + 2 * cfg->iqn.k) + 3 * L) * 8;
    return "agent.hidden, iqn.n, iqn.n_prime, iqn.k, iqn.embedding, iqn.law_points or train.batch_size";
}

/* What changes the saved networks' sizes: the cosine features (the torso's
 * widths are shared words; the head's follow from them). */
static const agent_shape_key iqn_shape[] = {
    {"iqn.embedding", offsetof(exp_config, iqn.embedding), 0, 0},
};

const agent_class agent_iqn_class = {"IQN", agent_iqn_create, iqn_memory, iqn_shape, 1};
