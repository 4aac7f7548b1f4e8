/* Tests of the quantile Huber loss (src/agents/quantile.c) on hand-computed
 * cases and of the QR-DQN agent: its targets (control, policy evaluation,
 * terminal, truncated) against a loss recomputed here in double, the
 * parameter gradient against finite differences, Q as the mean of the law,
 * the law sorted ascending, checkpoints, and what the loss converges to. */
#include "test_util.h"

#include "agents/agent.h"
#include "agents/experiment.h"
#include "agents/qrdqn.h"
#include "agents/quantile.h"

/* ---- the loss, by hand ---- */

static void test_rho_by_hand(void **state)
{
    (void)state;
    /* κ = 1, τ = 0.25; u = T − θ. Inside |u| <= κ: |τ − 1{u<0}| u²/2. */
    assert_close(quantile_huber_rho(0.25, 0.5, 1.0), 0.25 * 0.125, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, 0.5, 1.0), -0.25 * 0.5, 1e-15);
    assert_close(quantile_huber_rho(0.25, -0.5, 1.0), 0.75 * 0.125, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, -0.5, 1.0), 0.75 * 0.5, 1e-15);
    /* outside: |τ − 1{u<0}| κ(|u| − κ/2)/κ, gradient ∓|τ − 1{u<0}| */
    assert_close(quantile_huber_rho(0.25, 3.0, 1.0), 0.25 * 2.5, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, 3.0, 1.0), -0.25, 1e-15);
    assert_close(quantile_huber_rho(0.25, -3.0, 1.0), 0.75 * 2.5, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, -3.0, 1.0), 0.75, 1e-15);
    /* κ = 2: the division by κ matters: u = 3 -> 0.25·2(3 − 1)/2, u = 1.5 -> 0.25·1.125/2 */
    assert_close(quantile_huber_rho(0.25, 3.0, 2.0), 0.5, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, 3.0, 2.0), -0.25, 1e-15);
    assert_close(quantile_huber_rho(0.25, 1.5, 2.0), 0.140625, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, 1.5, 2.0), -0.1875, 1e-15);
    /* κ = 0: the plain quantile loss |τ − 1{u<0}| |u| */
    assert_close(quantile_huber_rho(0.25, -2.0, 0.0), 1.5, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, -2.0, 0.0), 0.75, 1e-15);
    assert_close(quantile_huber_rho(0.25, 2.0, 0.0), 0.5, 1e-15);
    assert_close(quantile_huber_drho_dtheta(0.25, 2.0, 0.0), -0.25, 1e-15);
    /* continuous at |u| = κ and at 0 */
    assert_close(quantile_huber_rho(0.3, 1.0 + 1e-9, 1.0), quantile_huber_rho(0.3, 1.0 - 1e-9, 1.0), 1e-8);
    assert_close(quantile_huber_rho(0.3, 1e-9, 1.0), 0.0, 1e-15);
}

static void test_loss_by_hand(void **state)
{
    (void)state;
    /* θ = (0, 1) at τ = (0.25, 0.75) against T = (−2, 0.5, 1.5), κ = 1:
     * i = 0: u = −2, 0.5, 1.5 -> 0.75·1.5 + 0.25·0.125 + 0.25·1 = 1.40625; /3
     *        dθ: 0.75 − 0.125 − 0.25 = 0.375; /3
     * i = 1: u = −3, −0.5, 0.5 -> 0.25·2.5 + 0.25·0.125 + 0.75·0.125 = 0.75; /3
     *        dθ: 0.25 + 0.125 − 0.375 = 0; /3
     * sum over i, mean over j: 0.46875 + 0.25. */
    real th[2] = {0, 1}, g[2];
    double tau[2] = {0.25, 0.75}, T[3] = {-2, 0.5, 1.5};
    assert_close(quantile_huber_loss(2, th, 1, tau, 3, T, 1.0, g, 1.0), 0.71875, 1e-12);
    assert_close(g[0], 0.125, 1e-7);
    assert_close(g[1], 0.0, 1e-7);
    /* stride and scale: the same two predictions 3 apart, gradient halved,
     * the entries between untouched */
    real ths[4] = {0, 7, 7, 1}, gs[4] = {9, 9, 9, 9};
    assert_close(quantile_huber_loss(2, ths, 3, tau, 3, T, 1.0, gs, 0.5), 0.71875, 1e-12);
    assert_close(gs[0], 0.0625, 1e-7);
    assert_close(gs[3], 0.0, 1e-7);
    assert_true(gs[1] == 9 && gs[2] == 9);
    /* N = 1, M = 1, τ = 0.5 is half the Huber loss */
    real one = 0.0f;
    double half = 0.5, t4 = 4.0;
    assert_close(quantile_huber_loss(1, &one, 1, &half, 1, &t4, 1.0, NULL, 1.0), 0.5 * 3.5, 1e-12);
}

/* The gradient of the whole loss against central differences in double
 * arithmetic on θ (float θ, so steps are exact floats). */
static void test_loss_gradient_fd(void **state)
{
    (void)state;
    rng *r = rng_create(4, 1);
    const double kappas[3] = {1.0, 0.5, 3.0};
    for (int t = 0; t < 3; t++) {
        real th[5], g[5];
        double tau[5], T[7];
        quantile_midpoints(5, tau);
        for (int i = 0; i < 5; i++)
            th[i] = (real)(4 * rng_uniform(r) - 2);
        for (int j = 0; j < 7; j++)
            T[j] = 4 * rng_uniform(r) - 2;
        quantile_huber_loss(5, th, 1, tau, 7, T, kappas[t], g, 1.0);
        for (int i = 0; i < 5; i++) {
            real keep = th[i];
            th[i] = keep + 1.0f / 1024;
            double lp = quantile_huber_loss(5, th, 1, tau, 7, T, kappas[t], NULL, 1.0);
            th[i] = keep - 1.0f / 1024;
            double lm = quantile_huber_loss(5, th, 1, tau, 7, T, kappas[t], NULL, 1.0);
            th[i] = keep;
            assert_close(g[i], (lp - lm) / (2.0 / 1024), 1e-3);
        }
    }
    rng_free(r);
}

/* The loss against quantile_huber_rho and _drho_dtheta summed naively,
 * one θ_i at a time over j in order: bit for bit. The loss takes 1/κ out
 * of its sums, which is exact for κ a power of two (0.5, 1, 2) and κ = 0,
 * the values here. N runs over every shape of quantile_huber_loss's blocks
 * of predictions (one partial block, exactly one, full ones and a partial
 * one after them, and the sizes at the reference settings: 64 and 200),
 * M over short and long target lists; targets fall exactly on θ_i and on
 * θ_i ± κ (the branches' edges); strides 1 and 3, with a gradient and
 * without. The gradient's sum runs over −∂ρ/∂θ, as the loss's does, so
 * that a sum of zeros has the loss's sign too (0 + (−0) is +0). */
static void test_loss_bits_naive(void **state)
{
    (void)state;
    enum { NMAX = 200, MMAX = 64, ST = 3 };
    static const int Ns[] = {1, 5, 7, 8, 9, 13, 16, 23, 64, 200}, Ms[] = {1, 6, 64};
    static const double kappas[] = {0.0, 1.0, 0.5, 2.0};
    static real th[NMAX * ST], g[NMAX * ST], gwant[NMAX];
    static double tau[NMAX], T[MMAX];
    const double scale = 0.375;
    rng *r = rng_create(11, 1);
    int cases = 0;
    for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
        for (size_t mi = 0; mi < sizeof Ms / sizeof *Ms; mi++)
            for (size_t ki = 0; ki < sizeof kappas / sizeof *kappas; ki++)
                for (int st = 1; st <= ST; st += ST - 1) {
                    int N = Ns[ni], M = Ms[mi];
                    double kappa = kappas[ki];
                    for (int i = 0; i < N * st; i++) {
                        th[i] = (real)(6 * rng_uniform(r) - 3);
                        g[i] = 9;
                    }
                    for (int i = 0; i < N; i++) /* midpoints (QR-DQN) and uniform draws (IQN) */
                        tau[i] = i % 2 ? rng_uniform(r) : (2.0 * i + 1) / (2.0 * N);
                    for (int j = 0; j < M; j++) {
                        double on = th[(size_t)rng_below(r, (uint64_t)N) * st];
                        int kind = (int)rng_below(r, 5);
                        T[j] = kind == 0 ? on : kind == 1 ? on + kappa : kind == 2 ? on - kappa : 6 * rng_uniform(r) - 3;
                    }
                    double want = 0;
                    for (int i = 0; i < N; i++) {
                        double thi = th[(size_t)i * st], l = 0, d = 0;
                        for (int j = 0; j < M; j++) {
                            l += quantile_huber_rho(tau[i], T[j] - thi, kappa);
                            d += -quantile_huber_drho_dtheta(tau[i], T[j] - thi, kappa);
                        }
                        want += l * (1.0 / M);
                        gwant[i] = (real)(scale * -d * (1.0 / M));
                    }
                    double got = quantile_huber_loss(N, th, st, tau, M, T, kappa, g, scale);
                    double got_nograd = quantile_huber_loss(N, th, st, tau, M, T, kappa, NULL, scale);
                    if (memcmp(&got, &want, sizeof got) || memcmp(&got_nograd, &want, sizeof got))
                        fail_msg("N %d M %d kappa %g stride %d: loss %.17g (%.17g without the gradient), naive %.17g",
                                 N, M, kappa, st, got, got_nograd, want);
                    for (int i = 0; i < N * st; i++) {
                        if (i % st) { /* the entries between untouched */
                            assert_true(g[i] == 9);
                            continue;
                        }
                        if (memcmp(&g[i], &gwant[i / st], sizeof(real)))
                            fail_msg("N %d M %d kappa %g stride %d: gradient %d %.9g, naive %.9g", N, M, kappa, st,
                                     i / st, (double)g[i], (double)gwant[i / st]);
                    }
                    cases++;
                }
    assert_int_equal(cases, 10 * 3 * 4 * 2);
    rng_free(r);
}

static void test_midpoints_and_sort(void **state)
{
    (void)state;
    double tau[4];
    quantile_midpoints(4, tau);
    assert_close(tau[0], 0.125, 1e-15);
    assert_close(tau[1], 0.375, 1e-15);
    assert_close(tau[2], 0.625, 1e-15);
    assert_close(tau[3], 0.875, 1e-15);
    double x[6] = {3, -1, 2, 2, -5, 0};
    quantile_sort(6, x);
    const double want[6] = {-5, -1, 0, 2, 2, 3};
    for (int i = 0; i < 6; i++)
        assert_true(x[i] == want[i]);
}

/* ---- the agent ---- */

static agent *make_agent_x(exp_config *cfg, env **en, const char *act, int nq, uint64_t seed, const char *extra)
{
    char s_act[64], s_n[64], s_seed[64];
    snprintf(s_act, sizeof s_act, "agent.activation=%s", act);
    snprintf(s_n, sizeof s_n, "qrdqn.quantiles=%d", nq);
    snprintf(s_seed, sizeof s_seed, "seed=%llu", (unsigned long long)seed);
    char *sets[] = {"env.name=cartpole", "agent.kind=qrdqn", "agent.hidden=[6, 5]", "train.batch_size=5",
                    "agent.gamma=0.9", s_act, s_n, s_seed, (char *)extra};
    int n = (int)(sizeof sets / sizeof *sets) - (extra ? 0 : 1);
    bdrl_err e;
    if (exp_load(cfg, NULL, sets, n, &e))
        fail_msg("%s", e.msg);
    *en = env_create(&cfg->env, &e);
    assert_non_null(*en);
    rng *init = rng_create(seed, RNG_STREAM_INIT);
    agent *a = agent_create(cfg, *en, init, &e);
    rng_free(init);
    if (!a)
        fail_msg("%s", e.msg);
    assert_string_equal(a->ops->name, "qrdqn");
    return a;
}
#define make_agent(cfg, en, act, nq, seed) make_agent_x(cfg, en, act, nq, seed, NULL)

typedef struct {
    float obs[5 * 4], next_obs[5 * 4], reward[5];
    int action[5], next_action[5];
    unsigned char term[5];
} raw_batch;

static void fill_batch(raw_batch *rb, rng *r)
{
    for (int i = 0; i < 5 * 4; i++) {
        rb->obs[i] = (float)(rng_uniform(r) - 0.5);
        rb->next_obs[i] = (float)(rng_uniform(r) - 0.5);
    }
    for (int i = 0; i < 5; i++) {
        rb->reward[i] = (float)(2 * rng_uniform(r) - 0.5);
        rb->action[i] = (int)rng_below(r, 2);
        rb->next_action[i] = (int)rng_below(r, 2);
        rb->term[i] = i == 1 || i == 4;
    }
}

/* What the reference loss takes beyond the batch: a* by the online
 * network's means (online_pick, agent.double), each row's discount (NULL:
 * agent.gamma), importance weights (NULL: 1); each row's own loss goes to
 * rows (NULL: not). */
typedef struct {
    int online_pick;
    const double *discount;
    const float *weight;
    double *rows;
} ref_opts;

/* The loss recomputed in double from the two networks' outputs:
 * (1/B) Σ_b w_b Σ_i (1/N) Σ_j ρ_τi(r + γ_b θ'_j(s', a*) − θ_i(s, a)). */
static double reference_loss_x(agent *a, const exp_config *cfg, const raw_batch *rb, const int *next_action,
                               const ref_opts *o)
{
    int A = 2, N = cfg->qrdqn.quantiles, B = 5;
    real x[20], yt[5 * 2 * 16], yo[5 * 2 * 16], y[5 * 2 * 16];
    for (int i = 0; i < 20; i++)
        x[i] = rb->next_obs[i];
    memcpy(yt, mlp_forward(qrdqn_target(a), B, x), sizeof(real) * B * A * N);
    memcpy(yo, mlp_forward(qrdqn_online(a), B, x), sizeof(real) * B * A * N);
    for (int i = 0; i < 20; i++)
        x[i] = rb->obs[i];
    memcpy(y, mlp_forward(qrdqn_online(a), B, x), sizeof(real) * B * A * N);
    double loss = 0;
    for (int i = 0; i < B; i++) {
        double q[2] = {0, 0};
        const real *rank = o && o->online_pick ? yo : yt;
        for (int k = 0; k < A; k++)
            for (int j = 0; j < N; j++)
                q[k] += rank[(i * A + k) * N + j] / (double)N;
        int astar = next_action ? next_action[i] : (q[1] > q[0] ? 1 : 0);
        double g = o && o->discount ? o->discount[i] : cfg->agent.gamma, l = 0;
        for (int ii = 0; ii < N; ii++) {
            double tau = (2.0 * ii + 1) / (2.0 * N), th = y[(i * A + rb->action[i]) * N + ii];
            for (int j = 0; j < N; j++) {
                double T = rb->reward[i] + (rb->term[i] ? 0.0 : g * yt[(i * A + astar) * N + j]);
                double u = T - th, w = fabs(tau - (u < 0)), au = fabs(u);
                l += w * (au <= 1 ? 0.5 * u * u : au - 0.5) / N;
            }
        }
        loss += (o && o->weight ? o->weight[i] : 1.0) * l;
        if (o && o->rows)
            o->rows[i] = l;
    }
    return loss / B;
}

static double reference_loss(agent *a, const exp_config *cfg, const raw_batch *rb, const int *next_action)
{
    return reference_loss_x(a, cfg, rb, next_action, NULL);
}

static void test_update_targets(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 7, 4);
    rng *r = rng_create(9, 1);
    mlp *tg = qrdqn_target(a);
    for (size_t i = 0; i < tg->n_params; i++)
        tg->params[i] += (real)(0.5 * rng_normal(r));
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    double want = reference_loss(a, &cfg, &rb, NULL);
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    assert_close(st.loss, want, 1e-5 * fabs(want));
    b.next_action = rb.next_action;
    want = reference_loss(a, &cfg, &rb, rb.next_action);
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    assert_close(st.loss, want, 1e-5 * fabs(want));
    int flipped[5];
    for (int i = 0; i < 5; i++)
        flipped[i] = 1 - rb.next_action[i];
    b.next_action = flipped;
    double want2 = reference_loss(a, &cfg, &rb, flipped);
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    assert_close(st.loss, want2, 1e-5 * fabs(want2));
    assert_true(fabs(want2 - want) > 1e-4);
    /* terminal rows ignore s'; a truncated row (terminated 0) bootstraps */
    b.next_action = NULL;
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    double base = st.loss;
    raw_batch rb2 = rb;
    for (int k = 0; k < 4; k++)
        rb2.next_obs[1 * 4 + k] += 0.7f, rb2.next_obs[4 * 4 + k] -= 0.7f;
    b.next_obs = rb2.next_obs;
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss == base);
    rb2.next_obs[0] += 0.7f;
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss != base);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* Unweighted and with importance weights (one of them 0): the gradient
 * applied is the finite difference of the weighted loss reported. */
static void gradient_fd(const float *weight)
{
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "tanh", 5, 5);
    rng *r = rng_create(11, 1);
    mlp *tg = qrdqn_target(a);
    for (size_t i = 0; i < tg->n_params; i++) /* targets spread over |u| < κ and > κ */
        tg->params[i] += (real)(0.8 * rng_normal(r));
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, weight, NULL};
    agent_stats st;
    bdrl_err e;
    mlp *net = qrdqn_online(a);
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    real *grad = malloc(sizeof(real) * net->n_params);
    memcpy(grad, net->grads, sizeof(real) * net->n_params);
    double worst = 0, gmax = 0;
    for (size_t i = 0; i < net->n_params; i++) {
        real keep = net->params[i];
        const real h = 1e-2f;
        net->params[i] = keep + h;
        real up = net->params[i];
        assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
        double lp = st.loss;
        net->params[i] = keep - h;
        real dn = net->params[i];
        assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
        double lm = st.loss;
        net->params[i] = keep;
        double fd = (lp - lm) / ((double)up - (double)dn);
        worst = fmax(worst, fabs(fd - grad[i]) / (1e-3 + fabs(grad[i])));
        gmax = fmax(gmax, fabs(grad[i]));
        if (fabs(fd - grad[i]) > 2e-4 + 2e-2 * fabs(grad[i]))
            fail_msg("parameter %zu: backprop %.6g, finite difference %.6g", i, (double)grad[i], fd);
    }
    assert_true(gmax > 1e-2); /* the check compared something */
    print_message("qrdqn%s gradient check: %zu parameters, worst relative error %.2e\n", weight ? " weighted" : "",
                  net->n_params, worst);
    free(grad);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

static void test_gradient_fd(void **state)
{
    (void)state;
    static const float wts[5] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f};
    gradient_fd(NULL);
    gradient_fd(wts);
}

/* The batch's discounts, importance weights and sample_loss against the
 * reference: T_j = r + γ_i θ'_j with γ_i ≠ γ (γ² = 0.81 for a two-step
 * reward, and others), the weighted mean, each row's quantile Huber loss as
 * its sample_loss (their mean the unweighted loss), a discount of γ and
 * weights of 1 giving today's bits. Then by hand: one quantile, networks
 * of constant outputs. */
static void test_discount_weight_sample_loss(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 7, 4);
    rng *r = rng_create(9, 1);
    mlp *tg = qrdqn_target(a);
    for (size_t i = 0; i < tg->n_params; i++)
        tg->params[i] += (real)(0.5 * rng_normal(r));
    raw_batch rb;
    fill_batch(&rb, r);
    const double disc[5] = {0.81, 0.5, 0.3, 0.0, 0.2}, same[5] = {0.9, 0.9, 0.9, 0.9, 0.9};
    const float wts[5] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f}, ones[5] = {1, 1, 1, 1, 1};
    double sl[5], rows[5];
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, sl};
    agent_stats st;
    bdrl_err e;
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    double base = st.loss, want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, NULL, NULL, rows}), m = 0;
    assert_close(base, want, 1e-5 * want);
    for (int i = 0; i < 5; i++) {
        assert_close(sl[i], rows[i], 1e-5 * rows[i]);
        m += sl[i] / 5;
    }
    assert_close(m, base, 1e-12 * base);
    b.discount = disc;
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, disc, NULL, rows});
    assert_close(st.loss, want, 1e-5 * want);
    assert_true(fabs(st.loss - base) > 1e-3);
    b.weight = wts;
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, disc, wts, rows});
    assert_close(st.loss, want, 1e-5 * want);
    for (int i = 0; i < 5; i++)
        assert_close(sl[i], rows[i], 1e-5 * rows[i]); /* unweighted */
    b.discount = same;
    b.weight = ones;
    assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss == base);
    rng_free(r);
    agent_free(a);
    env_free(en);

    /* By hand: one quantile (τ = 1/2), a network whose every output is the
     * bias c (weights 0), online c = 0 and target c' = 2, rewards 1:
     * T = 1 + 2γ_i, u = T, ρ = 0.5·(|u| − 1/2) for |u| > 1. With γ_i = 0.81
     * (two steps at γ 0.9): T = 2.62, loss 1.06; with γ_i = 0.9: T = 2.8,
     * loss 1.15; terminal: T = 1, loss 0.25. */
    agent *h = make_agent(&cfg, &en, "relu", 1, 4);
    mlp *on = qrdqn_online(h), *tgh = qrdqn_target(h);
    memset(on->params, 0, sizeof(real) * on->n_params);
    memset(tgh->params, 0, sizeof(real) * tgh->n_params);
    int L = tgh->spec.n_layers;
    for (int k = 0; k < 2; k++)
        tgh->b[L - 1][k] = 2;
    float hobs[12] = {0}, hrew[3] = {1, 1, 1};
    int hact[3] = {0, 1, 0};
    unsigned char hterm[3] = {0, 0, 1};
    const double hdisc[3] = {0.81, 0.9, 0.5};
    double hsl[3];
    agent_batch hb = {3, hobs, hact, hrew, hobs, hterm, NULL, hdisc, NULL, hsl};
    assert_int_equal(qrdqn_loss_grad(h, &hb, &st, &e), 0);
    assert_close(hsl[0], 1.06, 1e-12);
    assert_close(hsl[1], 1.15, 1e-12);
    assert_close(hsl[2], 0.25, 1e-12);
    assert_close(st.loss, (1.06 + 1.15 + 0.25) / 3, 1e-12);
    agent_free(h);
    env_free(en);
}

/* agent.double: a* by the ONLINE network's quantile means at s', the
 * quantiles still the target's; with networks whose a* differ on a row,
 * the loss is the online-picked reference and not the target-picked one
 * (which it is with agent.double off). */
static void test_double_q(void **state)
{
    (void)state;
    for (int dbl = 0; dbl < 2; dbl++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent_x(&cfg, &en, "relu", 7, 4, dbl ? "agent.double=true" : NULL);
        assert_true((strstr(agent_describe(a), "; double") != NULL) == dbl);
        rng *r = rng_create(9, 1);
        raw_batch rb;
        fill_batch(&rb, r);
        double online = 0, target = 0;
        mlp *tg = qrdqn_target(a);
        for (int t = 0; t < 20 && fabs(online - target) < 1e-4; t++) {
            for (size_t i = 0; i < tg->n_params; i++)
                tg->params[i] += (real)(0.5 * rng_normal(r));
            online = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){1, NULL, NULL, NULL});
            target = reference_loss(a, &cfg, &rb, NULL);
        }
        assert_true(fabs(online - target) > 1e-4); /* some row's a* differs */
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats st;
        bdrl_err e;
        assert_int_equal(qrdqn_loss_grad(a, &b, &st, &e), 0);
        assert_close(st.loss, dbl ? online : target, 1e-5 * st.loss);
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

static void test_law_sorted_and_q_is_its_mean(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 9, 6);
    /* random output weights: the raw quantiles cross */
    rng *r = rng_create(2, 1);
    mlp *net = qrdqn_online(a);
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = (real)rng_normal(r);
    bdrl_err e;
    float obs[40 * 4];
    for (int i = 0; i < 40 * 4; i++)
        obs[i] = (float)(2 * rng_uniform(r) - 1);
    double q[40 * 2];
    assert_int_equal(agent_q_values(a, 40, obs, q, &e), 0); /* > max batch: chunks */
    int crossed = 0;
    for (int i = 0; i < 40; i++)
        for (int k = 0; k < 2; k++) {
            real x[4];
            for (int c = 0; c < 4; c++)
                x[c] = obs[4 * i + c];
            double raw[9];
            const real *y = mlp_forward(net, 1, x) + k * 9;
            for (int j = 0; j < 9; j++)
                raw[j] = y[j];
            for (int j = 1; j < 9; j++)
                crossed += raw[j] < raw[j - 1];
            agent_dist d;
            assert_int_equal(agent_distribution(a, obs + 4 * i, k, &d, &e), 0);
            assert_int_equal(d.n, 9);
            assert_false(d.is_density);
            double mean = 0, sw = 0;
            for (int j = 0; j < 9; j++) {
                if (j)
                    assert_true(d.x[j] >= d.x[j - 1]);
                assert_close(d.w[j], 1.0 / 9, 1e-15);
                mean += d.x[j] * d.w[j];
                sw += d.w[j];
            }
            quantile_sort(9, raw);
            for (int j = 0; j < 9; j++)
                assert_true(d.x[j] == raw[j]); /* the same values, sorted */
            assert_close(sw, 1.0, 1e-12);
            assert_close(q[i * 2 + k], mean, 1e-5 * (1 + fabs(mean)));
        }
    assert_true(crossed > 0); /* the sort was exercised */
    rng_free(r);
    agent_free(a);
    env_free(en);
}

static void test_target_update_and_save_load(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent_x(&cfg, &en, "relu", 7, 7, "agent.ema=0.9");
    mlp *net = qrdqn_online(a), *tg = qrdqn_target(a);
    assert_memory_equal(net->params, tg->params, sizeof(real) * net->n_params);
    rng *r = rng_create(1, 1);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    real *avg0 = malloc(sizeof(real) * net->n_params);
    for (int k = 0; k < 3; k++) {
        memcpy(avg0, qrdqn_average(a)->params, sizeof(real) * net->n_params);
        assert_int_equal(agent_update(a, &b, &st, &e), 0);
        for (size_t i = 0; i < net->n_params; i++)
            assert_close(qrdqn_average(a)->params[i], 0.9 * avg0[i] + 0.1 * net->params[i], 1e-6);
    }
    free(avg0);
    assert_true(isfinite(st.loss) && st.grad_norm > 0);
    assert_true(memcmp(net->params, tg->params, sizeof(real) * net->n_params) != 0);
    agent_update_target(a, 1.0);
    assert_memory_equal(net->params, tg->params, sizeof(real) * net->n_params);

    agent_update(a, &b, &st, &e);
    FILE *f = tmpfile();
    assert_int_equal(a->ops->save(a, f, &e), 0);
    long size = ftell(f);
    double q0[2], q1[2];
    assert_int_equal(agent_q_values(a, 1, rb.obs, q0, &e), 0);
    for (int k = 0; k < 3; k++)
        agent_update(a, &b, &st, &e);
    double loss3 = st.loss;
    agent_update_target(a, 1.0);
    rewind(f);
    assert_int_equal(a->ops->load(a, f, &e), 0);
    assert_int_equal(agent_q_values(a, 1, rb.obs, q1, &e), 0);
    assert_true(q0[0] == q1[0] && q0[1] == q1[1]);
    for (int k = 0; k < 3; k++)
        agent_update(a, &b, &st, &e);
    assert_true(st.loss == loss3); /* networks, target, Adam state came back */

    /* into an agent of another seed; a truncated file changes nothing */
    exp_config cfg2;
    env *en2;
    agent *a2 = make_agent_x(&cfg2, &en2, "relu", 7, 99, "agent.ema=0.9");
    double q2[2], q3[2];
    assert_int_equal(agent_q_values(a2, 1, rb.obs, q2, &e), 0);
    char *buf = malloc((size_t)size);
    rewind(f);
    assert_int_equal((long)fread(buf, 1, (size_t)size, f), size);
    FILE *g = tmpfile();
    fwrite(buf, 1, (size_t)size - 9, g);
    rewind(g);
    assert_int_equal(a2->ops->load(a2, g, &e), -1);
    assert_int_equal(agent_q_values(a2, 1, rb.obs, q3, &e), 0);
    assert_true(q2[0] == q3[0] && q2[1] == q3[1]);
    rewind(f);
    assert_int_equal(a2->ops->load(a2, f, &e), 0);
    assert_int_equal(agent_q_values(a2, 1, rb.obs, q3, &e), 0);
    assert_true(q0[0] == q3[0] && q0[1] == q3[1]);
    /* another number of quantiles is refused */
    exp_config cfg3;
    env *en3;
    agent *a3 = make_agent_x(&cfg3, &en3, "relu", 9, 7, "agent.ema=0.9");
    rewind(f);
    assert_int_equal(a3->ops->load(a3, f, &e), -1);
    assert_contains(e.msg, "shape mismatch");
    free(buf);
    fclose(f);
    fclose(g);
    agent_free(a3);
    env_free(en3);
    agent_free(a2);
    env_free(en2);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* Terminal rewards 0 and 1 with probability 1/2 each at one (s, a). With
 * κ = 1 and both targets within κ of θ, the loss's minimizer is θ_i = τ_i
 * (the two weights (1 − τ)θ and τ(1 − θ) balance), not the quantile 0 or
 * 1: the quantile Huber loss's known bias, which a wrong weight or a wrong
 * sign of u would move. With κ = 0 (the plain quantile loss) θ_i goes to the
 * true quantiles: 0 below τ = 1/2, 1 above. */
static void test_converges(void **state)
{
    (void)state;
    const char *kap[2] = {"qrdqn.kappa=1", "qrdqn.kappa=0"};
    for (int t = 0; t < 2; t++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent_x(&cfg, &en, "relu", 4, 8, kap[t]);
        raw_batch rb;
        rng *r = rng_create(5, 1);
        fill_batch(&rb, r);
        for (int i = 0; i < 5; i++) {
            memcpy(rb.obs + 4 * i, rb.obs, 4 * sizeof(float));
            rb.action[i] = 1;
            rb.term[i] = 1;
        }
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats st;
        bdrl_err e;
        for (int k = 0; k < 3000; k++) {
            for (int i = 0; i < 5; i++)
                rb.reward[i] = (float)rng_below(r, 2);
            assert_int_equal(agent_update(a, &b, &st, &e), 0);
        }
        agent_dist d;
        assert_int_equal(agent_distribution(a, rb.obs, 1, &d, &e), 0);
        const double want[2][4] = {{0.125, 0.375, 0.625, 0.875}, {0, 0, 1, 1}};
        for (int j = 0; j < 4; j++)
            assert_close(d.x[j], want[t][j], 0.08);
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 5, 8);
    raw_batch rb;
    rng *r = rng_create(5, 1);
    fill_batch(&rb, r);
    agent_batch b = {33, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    assert_int_equal(agent_update(a, &b, &st, &e), -1);
    assert_contains(e.msg, "batch of 33 rows");
    b.B = 5;
    rb.action[2] = 2;
    assert_int_equal(agent_update(a, &b, &st, &e), -1);
    assert_contains(e.msg, "action out of range");
    assert_int_equal(agent_distribution(a, rb.obs, 5, &(agent_dist){0}, &e), -1);
    /* the configuration names the field */
    exp_config c2;
    char *bad[] = {"agent.kind=qrdqn", "qrdqn.quantiles=0"};
    assert_int_equal(exp_load(&c2, NULL, bad, 2, &e), -1);
    assert_contains(e.msg, "qrdqn.quantiles");
    char *bad2[] = {"agent.kind=qrdqn", "qrdqn.kappa=-1"};
    assert_int_equal(exp_load(&c2, NULL, bad2, 2, &e), -1);
    assert_contains(e.msg, "qrdqn.kappa");
    rng_free(r);
    agent_free(a);
    env_free(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rho_by_hand),
        cmocka_unit_test(test_loss_by_hand),
        cmocka_unit_test(test_loss_gradient_fd),
        cmocka_unit_test(test_loss_bits_naive),
        cmocka_unit_test(test_midpoints_and_sort),
        cmocka_unit_test(test_update_targets),
        cmocka_unit_test(test_gradient_fd),
        cmocka_unit_test(test_discount_weight_sample_loss),
        cmocka_unit_test(test_double_q),
        cmocka_unit_test(test_law_sorted_and_q_is_its_mean),
        cmocka_unit_test(test_target_update_and_save_load),
        cmocka_unit_test(test_converges),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests_name("qrdqn", tests, NULL, NULL);
}
