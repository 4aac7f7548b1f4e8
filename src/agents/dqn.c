/* dqn.c — the DQN agent; see dqn.h for the algorithm. */
#include "agents/dqn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agents/registry.h"
#include "agents/torso.h"
#include "fields/adam.h"

typedef struct {
    int A, max_batch;
    double gamma;
    int double_q;    /* agent.double: a* from the online network */
    dqn_loss_kind loss;
    torso_encoding te;
    mlp *net, *tgt;
    mlp *avg;        /* moving average of net (agent.ema > 0), else NULL */
    double ema;
    adam *opt;
    real *x;         /* (max_batch, in_dim) encoded observations */
    double *y;       /* (max_batch) TD targets */
    int *astar;      /* (max_batch) a* of each row by the online network (agent.double) */
    double dist_x, dist_w; /* the distribution op's one atom */
    char desc[224];
} dqn;

static dqn *impl(const agent *a) { return (dqn *)a->impl; }

double dqn_loss(dqn_loss_kind kind, double delta, double *dl)
{
    if (kind == DQN_LOSS_MSE) {
        if (dl)
            *dl = 2 * delta;
        return delta * delta;
    }
    double ad = fabs(delta);
    if (dl)
        *dl = ad <= 1 ? delta : (delta > 0 ? 1.0 : -1.0);
    return ad <= 1 ? 0.5 * delta * delta : ad - 0.5;
}

/* Index of the largest of q[0..A), ties to the lowest. */
static int argmax(const real *q, int A)
{
    int best = 0;
    for (int k = 1; k < A; k++)
        if (q[k] > q[best])
            best = k;
    return best;
}

/* y (B) = r + γ_i Q_target(s', a*), γ_i the row's discount: a* is the
 * batch's a', or argmax_a of the target network's Q at s', or of the online
 * network's (agent.double: the online net picks, the target net values). */
static void td_targets(dqn *d, const agent_batch *b)
{
    int B = b->B, A = d->A;
    torso_encode(&d->te, B, b->next_obs, d->x);
    int online_pick = d->double_q && !b->next_action;
    if (online_pick) {
        /* before the forward on s, which backward needs last */
        const real *qo = mlp_forward(d->net, B, d->x); /* (B, A) */
        for (int i = 0; i < B; i++)
            d->astar[i] = argmax(qo + (size_t)i * A, A);
    }
    const real *qt = mlp_forward(d->tgt, B, d->x); /* (B, A) */
    for (int i = 0; i < B; i++) {
        const real *row = qt + (size_t)i * A;
        if (b->terminated[i]) {
            d->y[i] = b->reward[i];
            continue;
        }
        int an = b->next_action ? b->next_action[i] : online_pick ? d->astar[i] : argmax(row, A);
        d->y[i] = b->reward[i] + agent_row_discount(b, i, d->gamma) * (double)row[an];
    }
}

int dqn_loss_grad(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    dqn *d = impl(a);
    if (agent_check_batch("dqn", b, d->max_batch, d->A, e))
        return -1;
    td_targets(d, b);
    int B = b->B, A = d->A;
    torso_encode(&d->te, B, b->obs, d->x);
    /* after td_targets' online forward on s' (double), nothing changed the weights */
    const real *q = d->double_q && !b->next_action ? mlp_forward_again(d->net, B, d->x) : mlp_forward(d->net, B, d->x);
    real *dy = d->net->dy;
    memset(dy, 0, sizeof(real) * (size_t)B * A);
    double loss = 0, qsum = 0;
    for (int i = 0; i < B; i++) {
        size_t o = (size_t)i * A + b->action[i];
        double dl, delta = (double)q[o] - d->y[i], w = agent_row_weight(b, i);
        loss += w * dqn_loss(d->loss, delta, &dl); /* L = (1/B) Σ w_i ℓ(δ_i) */
        dy[o] = (real)(w * dl / B);                /* dL/dQ(s_i, a_i) */
        /* The priority of proportional replay is |δ| (Schaul et al.), not
         * ℓ(δ); ℓ is a function of |δ|, so the loss follows from it. */
        if (b->sample_loss)
            b->sample_loss[i] = fabs(delta);
        qsum += q[o];
    }
    mlp_zero_grad(d->net);
    mlp_backward(d->net, dy, NULL, NULL, NULL);
    st->loss = loss / B;
    st->loss_grad = 0;
    st->q_mean = qsum / B;
    st->grad_norm = adam_grad_norm(d->net->grads, d->net->n_params);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* ops                                                                      */

static int dqn_q_values(agent *a, int B, const float *obs, double *q, bdrl_err *e)
{
    dqn *d = impl(a);
    if (B < 1)
        return err_set(e, "dqn: q_values of %d rows", B);
    for (int off = 0; off < B; off += d->max_batch) {
        int R = B - off < d->max_batch ? B - off : d->max_batch;
        torso_encode(&d->te, R, obs + (size_t)off * d->te.obs_dim, d->x);
        const real *y = mlp_forward(d->net, R, d->x);
        for (size_t i = 0; i < (size_t)R * d->A; i++)
            q[(size_t)off * d->A + i] = y[i];
    }
    return 0;
}

static int dqn_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    dqn *d = impl(a);
    if (dqn_loss_grad(a, b, st, e))
        return -1;
    /* A non-finite norm leaves the parameters alone; the trainer reports it. */
    st->grad_norm = adam_step_mlp(d->opt, d->net);
    if (d->avg)
        mlp_polyak(d->avg, d->net, 1 - d->ema, NULL);
    return 0;
}

static void dqn_update_target(agent *a, double tau)
{
    dqn *d = impl(a);
    if (tau >= 1.0)
        mlp_copy_params(d->tgt, d->net, NULL);
    else
        mlp_polyak(d->tgt, d->net, tau, NULL);
}

/* A point mass at Q(s, a) of the reported network (the average if agent.ema > 0). */
static int dqn_distribution(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    dqn *d = impl(a);
    if (action < 0 || action >= d->A)
        return err_set(e, "dqn: action %d out of range [0, %d)", action, d->A);
    torso_encode(&d->te, 1, obs, d->x);
    const real *q = mlp_forward(d->avg ? d->avg : d->net, 1, d->x);
    d->dist_x = q[action];
    d->dist_w = 1.0;
    *out = (agent_dist){.n = 1, .x = &d->dist_x, .w = &d->dist_w, .is_density = 0, .mass = 1.0};
    return 0;
}

/* Online network with its Adam state, target, average: mlp_save_all's order. */
static int dqn_save(const agent *a, FILE *f, bdrl_err *e)
{
    const dqn *d = a->impl;
    mlp *nets[] = {d->net, d->tgt, d->avg};
    adam *opts[] = {d->opt, NULL, NULL};
    if (mlp_save_all(nets, opts, d->avg ? 3 : 2, f, e))
        return err_prefix(e, "dqn");
    return 0;
}

/* All or nothing: a failure leaves the agent as it was (mlp_load_all). */
static int dqn_load(agent *a, FILE *f, bdrl_err *e)
{
    dqn *d = impl(a);
    mlp *nets[] = {d->net, d->tgt, d->avg};
    adam *opts[] = {d->opt, NULL, NULL};
    if (mlp_load_all(nets, opts, d->avg ? 3 : 2, f, e))
        return err_prefix(e, "dqn");
    return 0;
}

static void dqn_free(agent *a)
{
    if (!a)
        return;
    dqn *d = a->impl;
    if (d) {
        mlp_free(d->net);
        mlp_free(d->tgt);
        mlp_free(d->avg);
        adam_free(d->opt);
        free(d->x);
        free(d->y);
        free(d->astar);
        free(d);
    }
    free(a);
}

static int dqn_params(agent *a, agent_param_block *out)
{
    mlp *m = impl(a)->net;
    out[0] = (agent_param_block){"dqn network", m->params, m->n_params};
    return 1;
}

static const char *dqn_describe(const agent *a) { return impl(a)->desc; }

static void dqn_noise(agent *a, agent_noise mode, rng *r)
{
    dqn *d = impl(a);
    agent_noise_nets(&d->net, 1, &d->tgt, 1, mode, r);
}

/* 2·M·N·K per GEMM: target forward, online forward, backward without the
 * input gradient (as c51_update_flops). */
static double dqn_update_flops(const agent *a, int B)
{
    const mlp_spec *s = &impl(a)->net->spec;
    return mlp_flops(s, B, 0) + mlp_flops(s, B, 1);
}

static const agent_ops dqn_ops = {
    .name = "dqn",
    .q_values = dqn_q_values,
    .update = dqn_update,
    .update_target = dqn_update_target,
    .distribution = dqn_distribution,
    .save = dqn_save,
    .load = dqn_load,
    .free = dqn_free,
    .params = dqn_params,
    .describe = dqn_describe,
    .update_flops = dqn_update_flops,
    .noise = dqn_noise,
};

agent *agent_dqn_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    agent *a = err_calloc(1, sizeof *a, e);
    dqn *d = a ? err_calloc(1, sizeof *d, e) : NULL;
    if (!d) {
        free(a);
        return NULL;
    }
    a->ops = &dqn_ops;
    a->obs_dim = env_obs_dim(en);
    a->n_actions = env_n_actions(en);
    a->impl = d;
    d->A = a->n_actions;
    d->gamma = cfg->agent.gamma;
    d->double_q = cfg->agent.double_q;
    d->loss = (dqn_loss_kind)cfg->dqn.loss;
    d->ema = cfg->agent.ema;
    d->max_batch = cfg->train.batch_size > EVAL_MAX_ROWS ? cfg->train.batch_size : EVAL_MAX_ROWS;
    d->te = torso_encoding_for(en);
    mlp_spec spec;
    adam_config ac = adam_defaults();
    ac.lr = cfg->agent.lr;
    ac.eps = cfg->agent.adam_eps;
    ac.clip_norm = cfg->train.clip;
    if (torso_spec(cfg, &d->te, d->A, &spec, e))
        goto fail;
    torso_components(cfg, d->A, &spec); /* dueling: V and A advantages, N = 1 */
    if (!(d->net = mlp_create(&spec, d->max_batch, init, e)) ||
        !(d->tgt = mlp_create(&spec, d->max_batch, NULL, e)) ||
        (d->ema > 0 && !(d->avg = mlp_create(&spec, 1, NULL, e))) ||
        !(d->opt = adam_create(d->net->n_params, &ac, e)) ||
        !(d->x = err_calloc((size_t)d->max_batch * d->te.in_dim, sizeof(real), e)) ||
        !(d->y = err_calloc((size_t)d->max_batch, sizeof(double), e)) ||
        !(d->astar = err_calloc((size_t)d->max_batch, sizeof(int), e)))
        goto fail;
    mlp_copy_params(d->tgt, d->net, NULL);
    if (d->avg)
        mlp_copy_params(d->avg, d->net, NULL);
    char comp[64];
    snprintf(d->desc, sizeof d->desc, "dqn: network %d->...->%d Q-values, %zu parameters; %s loss%s%s", d->te.in_dim,
             d->A, d->net->n_params, d->loss == DQN_LOSS_MSE ? "mse" : "huber",
             d->double_q ? "; double" : "", torso_components_desc(cfg, comp, sizeof comp));
    return a;
fail:
    err_prefix(e, "dqn");
    dqn_free(a);
    return NULL;
}

mlp *dqn_online(agent *a) { return impl(a)->net; }
mlp *dqn_target(agent *a) { return impl(a)->tgt; }

/* online, target, a scratch pair while a checkpoint loads; Adam m, v;
 * scratch: encoded rows, targets and the online a*. */
static const char *dqn_memory(const exp_config *cfg, const env *en, sizing_estimate *out, double *params)
{
    torso_encoding te = torso_encoding_for(en);
    int sizes[EXP_MAX_HIDDEN + 3], n = sizing_torso_sizes(cfg, &te, sizes);
    double M = fmax(cfg->train.batch_size, EVAL_MAX_ROWS), rl = sizeof(real);
    int A = env_n_actions(en);
    sizes[n + 1] = A;
    *params = sizing_head_params(cfg, &te, n + 1, sizes, A);
    out->networks = 2 * sizing_head_bytes(cfg, &te, n + 1, sizes, A, M) +
                    2 * sizing_head_bytes(cfg, &te, n + 1, sizes, A, 1) + 2 * *params * rl;
    out->scratch = M * te.in_dim * rl + M * 8 + M * sizeof(int);
    return "agent.hidden or train.batch_size";
}

/* No shape keys of its own: the torso and the action count fix its network. */
const agent_class agent_dqn_class = {"DQN", agent_dqn_create, dqn_memory, NULL, 0};
