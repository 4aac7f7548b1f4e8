/* qrdqn.c — the QR-DQN agent; see qrdqn.h for the algorithm. */
#include "agents/qrdqn.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/quantile.h"
#include "agents/registry.h"
#include "agents/torso.h"
#include "fields/adam.h"

typedef struct {
    int A, N, max_batch;
    double gamma, kappa, ema;
    int double_q;         /* agent.double: a* from the online network */
    torso_encoding te;
    mlp *net, *tgt, *avg; /* avg: moving average (agent.ema > 0), else NULL */
    adam *opt;
    real *x;              /* (max_batch, in_dim) encoded observations */
    int *astar;           /* (max_batch) the target's action per row; -1: terminal */
    double *tau;          /* (N) midpoints */
    double *t;            /* (N) one row's target samples */
    double *dist_x, *dist_w; /* (N) the distribution op's law */
    double *rx, *rw;      /* (N) scratch of row_risk: one row's quantiles, weights 1 */
    risk_spec risk;       /* agent.risk when agent.risk_target picks a* by it; else mean */
    char desc[224];
} qrdqn;

static qrdqn *impl(agent *a) { return a->impl; }

static double row_mean(const real *v, int n)
{
    double s = 0;
    for (int j = 0; j < n; j++)
        s += v[j];
    return s / n;
}

/* ρ of one row's N quantiles as atoms of weight 1/N (risk_atoms). */
static int row_risk(qrdqn *c, const risk_spec *r, const real *v, double *out, bdrl_err *e)
{
    for (int j = 0; j < c->N; j++)
        c->rx[j] = v[j];
    return risk_atoms(r, c->rx, c->rw, (size_t)c->N, out, e);
}

/* The online network's outputs for observations [off, off + R) of obs
 * (R <= max_batch): what q_values and risk_values both read. */
static const real *online_rows(qrdqn *c, const float *obs, int off, int R)
{
    torso_encode(&c->te, R, obs + (size_t)off * c->te.obs_dim, c->x);
    return mlp_forward(c->net, R, c->x);
}

static int qr_risk_values(agent *a, int B, const float *obs, const risk_spec *r, double *out, bdrl_err *e)
{
    qrdqn *c = impl(a);
    if (B < 1)
        return err_set(e, "qrdqn: risk_values of %d rows", B);
    for (int off = 0; off < B; off += c->max_batch) {
        int R = B - off < c->max_batch ? B - off : c->max_batch;
        const real *y = online_rows(c, obs, off, R);
        for (int i = 0; i < R; i++)
            for (int k = 0; k < c->A; k++)
                if (row_risk(c, r, y + ((size_t)i * c->A + k) * c->N, out + (size_t)(off + i) * c->A + k, e))
                    return -1;
    }
    return 0;
}

static int qr_q_values(agent *a, int B, const float *obs, double *q, bdrl_err *e)
{
    qrdqn *c = impl(a);
    if (B < 1)
        return err_set(e, "qrdqn: q_values of %d rows", B);
    for (int off = 0; off < B; off += c->max_batch) {
        int R = B - off < c->max_batch ? B - off : c->max_batch;
        const real *y = online_rows(c, obs, off, R);
        for (int i = 0; i < R; i++)
            for (int k = 0; k < c->A; k++)
                q[(size_t)(off + i) * c->A + k] = row_mean(y + ((size_t)i * c->A + k) * c->N, c->N);
    }
    return 0;
}

/* The greedy action of one state's quantiles (A, N): the largest mean (or
 * ρ of agent.risk_target), ties to the lowest index. */
static int rank_actions(qrdqn *c, const real *rows, int *astar, bdrl_err *e)
{
    int best = 0, N = c->N;
    double bq = row_mean(rows, N);
    if (c->risk.measure != RISK_MEAN && row_risk(c, &c->risk, rows, &bq, e))
        return -1;
    for (int k = 1; k < c->A; k++) {
        double qk = row_mean(rows + (size_t)k * N, N);
        if (c->risk.measure != RISK_MEAN && row_risk(c, &c->risk, rows + (size_t)k * N, &qk, e))
            return -1;
        if (qk > bq) {
            bq = qk;
            best = k;
        }
    }
    *astar = best;
    return 0;
}

static int loss_grad(qrdqn *c, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    if (agent_check_batch("qrdqn", b, c->max_batch, c->A, e))
        return -1;
    int B = b->B, A = c->A, N = c->N;
    /* Target quantiles of every row, kept in the target network's output:
     * the online forward below does not touch it. a* ranks the target's
     * quantiles, or the online network's at s' (agent.double; its forward
     * on s comes after, last, as backward needs). */
    torso_encode(&c->te, B, b->next_obs, c->x);
    const real *yo = c->double_q && !b->next_action ? mlp_forward(c->net, B, c->x) : NULL; /* (B, A·N) */
    const real *yt = mlp_forward(c->tgt, B, c->x);                                         /* (B, A·N) */
    const real *yrank = yo ? yo : yt;
    int *astar = c->astar;
    for (int i = 0; i < B; i++) {
        if (b->terminated[i]) {
            astar[i] = -1;
            continue;
        }
        if (b->next_action) {
            astar[i] = b->next_action[i];
            continue;
        }
        if (rank_actions(c, yrank + (size_t)i * A * N, &astar[i], e))
            return -1;
    }
    /* yt stays valid: it lives in the target network, which the online
     * forward does not touch. */
    torso_encode(&c->te, B, b->obs, c->x);
    const real *y = mlp_forward(c->net, B, c->x);
    real *dy = c->net->dy;
    memset(dy, 0, sizeof(real) * (size_t)B * A * N);
    /* Per row: targets T_j = r + γ_i θ_target(s', a*)_j (γ_i the row's
     * discount), its loss L_i (the row's sample_loss) and dL/dθ with the
     * importance weight: L = (1/B) Σ_i w_i L_i. */
    double loss = 0, qsum = 0;
    for (int i = 0; i < B; i++) {
        double r = b->reward[i];
        if (astar[i] < 0) {
            for (int j = 0; j < N; j++)
                c->t[j] = r;
        } else {
            const real *tr = yt + ((size_t)i * A + astar[i]) * N;
            double g = agent_row_discount(b, i, c->gamma);
            for (int j = 0; j < N; j++)
                c->t[j] = r + g * (double)tr[j];
        }
        size_t o = ((size_t)i * A + b->action[i]) * N;
        double li = quantile_huber_loss(N, y + o, 1, c->tau, N, c->t, c->kappa, dy + o,
                                        agent_row_weight(b, i) * (1.0 / B));
        loss += agent_row_loss(b, i, li);
        qsum += row_mean(y + o, N);
    }
    mlp_zero_grad(c->net);
    mlp_backward(c->net, dy, NULL, NULL, NULL);
    st->loss = loss / B;
    st->loss_grad = 0;
    st->q_mean = qsum / B;
    st->grad_norm = NAN;
    return 0;
}

int qrdqn_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    qrdqn *c = impl(a);
    if (loss_grad(c, b, st, e))
        return -1;
    st->grad_norm = adam_grad_norm(c->net->grads, c->net->n_params);
    return 0;
}

static int qr_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    qrdqn *c = impl(a);
    if (loss_grad(c, b, st, e))
        return -1;
    st->grad_norm = adam_step_mlp(c->opt, c->net); /* a non-finite norm changes nothing */
    if (c->avg)
        mlp_polyak(c->avg, c->net, 1 - c->ema, NULL);
    return 0;
}

static void qr_update_target(agent *a, double tau)
{
    qrdqn *c = impl(a);
    if (tau >= 1.0)
        mlp_copy_params(c->tgt, c->net, NULL);
    else
        mlp_polyak(c->tgt, c->net, tau, NULL);
}

static int qr_distribution(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    qrdqn *c = impl(a);
    if (action < 0 || action >= c->A)
        return err_set(e, "qrdqn: action %d out of range [0, %d)", action, c->A);
    torso_encode(&c->te, 1, obs, c->x);
    const real *row = mlp_forward(c->avg ? c->avg : c->net, 1, c->x) + (size_t)action * c->N;
    for (int j = 0; j < c->N; j++) {
        c->dist_x[j] = row[j];
        c->dist_w[j] = 1.0 / c->N;
    }
    quantile_sort(c->N, c->dist_x);
    out->n = c->N;
    out->x = c->dist_x;
    out->w = c->dist_w;
    out->is_density = 0;
    out->mass = 1.0;
    return 0;
}

/* Online network with its Adam state, target, average: mlp_save_all's order. */
static int qr_save(const agent *a, FILE *f, bdrl_err *e)
{
    const qrdqn *c = a->impl;
    mlp *nets[] = {c->net, c->tgt, c->avg};
    adam *opts[] = {c->opt, NULL, NULL};
    if (mlp_save_all(nets, opts, c->avg ? 3 : 2, f, e))
        return err_prefix(e, "qrdqn");
    return 0;
}

/* All or nothing: a failure leaves the agent as it was (mlp_load_all). */
static int qr_load(agent *a, FILE *f, bdrl_err *e)
{
    qrdqn *c = impl(a);
    mlp *nets[] = {c->net, c->tgt, c->avg};
    adam *opts[] = {c->opt, NULL, NULL};
    if (mlp_load_all(nets, opts, c->avg ? 3 : 2, f, e))
        return err_prefix(e, "qrdqn");
    return 0;
}

static void qr_free(agent *a)
{
    if (!a)
        return;
    qrdqn *c = a->impl;
    if (c) {
        mlp_free(c->net);
        mlp_free(c->tgt);
        mlp_free(c->avg);
        adam_free(c->opt);
        free(c->x);
        free(c->astar);
        free(c->rx);
        free(c->rw);
        free(c->tau);
        free(c->t);
        free(c->dist_x);
        free(c->dist_w);
        free(c);
    }
    free(a);
}

static int qr_params(agent *a, agent_param_block *out)
{
    mlp *m = impl(a)->net;
    out[0] = (agent_param_block){"qrdqn network", m->params, m->n_params};
    return 1;
}

static const char *qr_describe(const agent *a) { return ((const qrdqn *)a->impl)->desc; }

static void qr_noise(agent *a, agent_noise mode, rng *r)
{
    qrdqn *c = impl(a);
    agent_noise_nets(&c->net, 1, &c->tgt, 1, mode, r);
}

static const agent_ops qrdqn_ops = {
    .name = "qrdqn",
    .q_values = qr_q_values,
    .risk_values = qr_risk_values,
    .risk_target = 1,
    .update = qr_update,
    .update_target = qr_update_target,
    .distribution = qr_distribution,
    .save = qr_save,
    .load = qr_load,
    .free = qr_free,
    .params = qr_params,
    .describe = qr_describe,
    .noise = qr_noise,
};

agent *agent_qrdqn_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    if (cfg->qrdqn.quantiles < 1 || !(cfg->qrdqn.kappa >= 0)) {
        err_set(e, "qrdqn: qrdqn.quantiles must be at least 1 and qrdqn.kappa at least 0");
        return NULL;
    }
    agent *a = err_calloc(1, sizeof *a, e);
    qrdqn *c = a ? err_calloc(1, sizeof *c, e) : NULL;
    if (!c) {
        free(a);
        return NULL;
    }
    a->ops = &qrdqn_ops;
    a->obs_dim = env_obs_dim(en);
    a->n_actions = env_n_actions(en);
    a->impl = c;
    c->A = a->n_actions;
    c->N = cfg->qrdqn.quantiles;
    c->gamma = cfg->agent.gamma;
    c->double_q = cfg->agent.double_q;
    c->kappa = cfg->qrdqn.kappa;
    c->ema = cfg->agent.ema;
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
    torso_components(cfg, c->A, &spec); /* dueling per quantile */
    if (!(c->net = mlp_create(&spec, c->max_batch, init, e)) ||
        !(c->tgt = mlp_create(&spec, c->max_batch, NULL, e)) ||
        (c->ema > 0 && !(c->avg = mlp_create(&spec, 1, NULL, e))) ||
        !(c->opt = adam_create(c->net->n_params, &ac, e)) ||
        !(c->x = err_calloc((size_t)c->max_batch * c->te.in_dim, sizeof(real), e)) ||
        !(c->astar = err_calloc((size_t)c->max_batch, sizeof(int), e)) ||
        !(c->tau = err_calloc(N, sizeof(double), e)) || !(c->t = err_calloc(N, sizeof(double), e)) ||
        !(c->dist_x = err_calloc(N, sizeof(double), e)) || !(c->dist_w = err_calloc(N, sizeof(double), e)) ||
        !(c->rx = err_calloc(N, sizeof(double), e)) || !(c->rw = err_calloc(N, sizeof(double), e)))
        goto fail;
    quantile_midpoints(c->N, c->tau);
    for (int j = 0; j < c->N; j++)
        c->rw[j] = 1;
    if (cfg->agent.risk_target)
        c->risk = cfg->agent.risk; /* else mean: RISK_MEAN is 0 in the zeroed struct */
    mlp_copy_params(c->tgt, c->net, NULL);
    if (c->avg)
        mlp_copy_params(c->avg, c->net, NULL);
    char comp[64];
    snprintf(c->desc, sizeof c->desc, "qrdqn: network %d->...->%dx%d, %zu parameters; %d quantiles, kappa %g%s%s",
             c->te.in_dim, c->A, c->N, c->net->n_params, c->N, c->kappa, c->double_q ? "; double" : "",
             torso_components_desc(cfg, comp, sizeof comp));
    return a;
fail:
    err_prefix(e, "qrdqn");
    qr_free(a);
    return NULL;
}

mlp *qrdqn_online(agent *a) { return impl(a)->net; }
mlp *qrdqn_target(agent *a) { return impl(a)->tgt; }
mlp *qrdqn_average(agent *a) { return impl(a)->avg; }

/* online, target, a scratch pair while a checkpoint loads, the average (at
 * one row); Adam m, v; scratch: encoded rows and a few N-arrays. */
static const char *qrdqn_memory(const exp_config *cfg, const env *en, sizing_estimate *out, double *params)
{
    torso_encoding te = torso_encoding_for(en);
    int sizes[EXP_MAX_HIDDEN + 3], n = sizing_torso_sizes(cfg, &te, sizes);
    double A = env_n_actions(en), N = cfg->qrdqn.quantiles, rl = sizeof(real);
    double M = fmax(cfg->train.batch_size, EVAL_MAX_ROWS);
    sizes[n + 1] = (int)fmin(A * N, 2e9);
    *params = sizing_head_params(cfg, &te, n + 1, sizes, (int)A);
    out->networks = 2 * sizing_head_bytes(cfg, &te, n + 1, sizes, (int)A, M) +
                    3 * sizing_head_bytes(cfg, &te, n + 1, sizes, (int)A, 1) + 2 * *params * rl;
    out->scratch = M * te.in_dim * rl + M * sizeof(int) + 4 * N * 8;
    return "agent.hidden, qrdqn.quantiles or train.batch_size";
}

static const agent_shape_key qrdqn_shape[] = {
    {"qrdqn.quantiles", offsetof(exp_config, qrdqn.quantiles), 0, 0},
};

const agent_class agent_qrdqn_class = {"QR-DQN", agent_qrdqn_create, qrdqn_memory, qrdqn_shape, 1};
