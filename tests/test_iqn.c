/* Tests of the IQN agent: the cosine features and the cosine embedding
 * (forward by hand, backward by finite differences), the network's
 * composition Z_τ(s) = head(ψ(s) ⊙ φ(τ)), the loss against a reference
 * recomputed here in double from the τ the update drew (control, policy
 * evaluation, terminal, truncated), the parameter gradient of all three
 * networks against finite differences, the τ stream (reproducible from the
 * seed, in the documented order), Q at the K midpoints, the sorted law,
 * checkpoints (with the τ stream) and configuration errors. */
#include "test_util.h"

#include "agents/agent.h"
#include "agents/experiment.h"
#include "agents/iqn.h"
#include "agents/quantile.h"

#define A_ 2
#define B_ 5
#define N_ 3
#define NP_ 4
#define K_ 2

static agent *make_agent_x(exp_config *cfg, env **en, const char *act, uint64_t seed, const char *extra)
{
    char s_act[64], s_seed[64];
    snprintf(s_act, sizeof s_act, "agent.activation=%s", act);
    snprintf(s_seed, sizeof s_seed, "seed=%llu", (unsigned long long)seed);
    char *sets[] = {"env.name=cartpole", "agent.kind=iqn", "agent.hidden=[6, 5]", "train.batch_size=5",
                    "agent.gamma=0.9", "iqn.n=3", "iqn.n_prime=4", "iqn.k=2", "iqn.embedding=7",
                    "iqn.law_points=10", s_act, s_seed, (char *)extra};
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
    assert_string_equal(a->ops->name, "iqn");
    return a;
}
#define make_agent(cfg, en, act, seed) make_agent_x(cfg, en, act, seed, NULL)

typedef struct {
    float obs[B_ * 4], next_obs[B_ * 4], reward[B_];
    int action[B_], next_action[B_];
    unsigned char term[B_];
} raw_batch;

static void fill_batch(raw_batch *rb, rng *r)
{
    for (int i = 0; i < B_ * 4; i++) {
        rb->obs[i] = (float)(rng_uniform(r) - 0.5);
        rb->next_obs[i] = (float)(rng_uniform(r) - 0.5);
    }
    for (int i = 0; i < B_; i++) {
        rb->reward[i] = (float)(2 * rng_uniform(r) - 0.5);
        rb->action[i] = (int)rng_below(r, 2);
        rb->next_action[i] = (int)rng_below(r, 2);
        rb->term[i] = i == 1 || i == 4;
    }
}

static void perturb(agent *a, iqn_which w, double sd, rng *r)
{
    for (int p = 0; p < 3; p++) {
        mlp *m = iqn_net(a, w, (iqn_part)p);
        for (size_t i = 0; i < m->n_params; i++)
            m->params[i] += (real)(sd * rng_normal(r));
    }
}

/* ---- cosine features and embedding ---- */

static void test_cos_features(void **state)
{
    (void)state;
    double tau[5] = {0.0, 0.1234, 0.5, 0.77, 0.999};
    real f[5 * 256];
    quantile_cos_features(5, tau, 256, f);
    for (int r = 0; r < 5; r++)
        for (int i = 0; i < 256; i++)
            assert_close(f[r * 256 + i], cos(M_PI * i * tau[r]), 1e-6);
    /* the recurrence's error stays below float rounding over 256 terms */
}

/* quantile_cos_features runs four rows' recurrences interleaved, the rest
 * (R mod 4, or every row when n <= 2) one at a time: both against the
 * recurrence written out per row, bit for bit, over R and n that take
 * every one of these paths. */
static void test_cos_features_bits(void **state)
{
    (void)state;
    static const int Rs[] = {1, 3, 4, 5, 8, 11}, ns[] = {0, 1, 2, 3, 7, 64};
    static real got[11 * 64 + 1], want[11 * 64 + 1];
    double tau[11];
    rng *r = rng_create(5, 1);
    for (size_t a = 0; a < sizeof Rs / sizeof *Rs; a++)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++) {
            int R = Rs[a], n = ns[b];
            for (int k = 0; k < R; k++)
                tau[k] = k == 1 ? 0.5 : rng_uniform(r);
            for (int i = 0; i <= R * n; i++)
                got[i] = want[i] = -7; /* the entry after the last untouched */
            for (int k = 0; k < R; k++) {
                real *o = want + (size_t)k * n;
                double c1 = cos(M_PI * tau[k]), prev = 1.0, cur = c1;
                for (int i = 0; i < n; i++) {
                    if (i >= 2) {
                        double next = 2.0 * c1 * cur - prev;
                        prev = cur;
                        cur = next;
                    }
                    o[i] = i == 0 ? 1 : (real)cur;
                }
            }
            quantile_cos_features(R, tau, n, got);
            if (memcmp(got, want, sizeof(real) * (size_t)(R * n + 1)))
                fail_msg("R %d n %d: the features differ from the recurrence's", R, n);
        }
    rng_free(r);
}

/* φ(τ)_j = ReLU(Σ_i cos(π i τ) w_ij + b_j) by hand, and the embedding's
 * parameter gradient of a scalar Σ_j g_j φ_j by finite differences. */
static void test_cos_embedding(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "tanh", 3);
    mlp *c = iqn_net(a, IQN_ONLINE, IQN_COS);
    assert_int_equal(mlp_n_in(c), 7);
    assert_int_equal(mlp_n_out(c), 5); /* = the torso's last width */
    rng *r = rng_create(3, 1);
    for (size_t i = 0; i < c->n_params; i++)
        c->params[i] = (real)(rng_normal(r) * 0.5);
    double tau[4] = {0.05, 0.3, 0.62, 0.91};
    real feat[4 * 7];
    quantile_cos_features(4, tau, 7, feat);
    const real *phi = mlp_forward(c, 4, feat);
    int pos = 0, zero = 0;
    for (int t = 0; t < 4; t++)
        for (int j = 0; j < 5; j++) {
            double s = c->b[0][j];
            for (int i = 0; i < 7; i++)
                s += cos(M_PI * i * tau[t]) * c->W[0][j * 7 + i];
            assert_close(phi[t * 5 + j], s > 0 ? s : 0, 1e-5);
            pos += s > 0.02;
            zero += s < -0.02;
        }
    assert_true(pos > 0 && zero > 0); /* both sides of the ReLU seen */
    /* backward */
    real g[4 * 5];
    for (int i = 0; i < 20; i++)
        g[i] = (real)rng_normal(r);
    mlp_zero_grad(c);
    mlp_backward(c, g, NULL, NULL, NULL);
    for (size_t p = 0; p < c->n_params; p++) {
        real keep = c->params[p];
        double l[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            c->params[p] = keep + (sgn ? -1.0f : 1.0f) / 256;
            const real *y = mlp_forward(c, 4, feat);
            l[sgn] = 0;
            for (int i = 0; i < 20; i++)
                l[sgn] += (double)g[i] * y[i];
        }
        c->params[p] = keep;
        assert_close(c->grads[p], (l[0] - l[1]) / (2.0 / 256), 2e-3 * (1 + fabs(c->grads[p])));
    }
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* Z_τ(s, ·) = head(ψ(s) ⊙ φ(τ)) with the three networks run separately. */
static void composed(agent *a, iqn_which w, const float *obs, double tau, double *z)
{
    real x[4], feat[7], h[5];
    for (int i = 0; i < 4; i++)
        x[i] = obs[i];
    real psi[5], phi[5];
    memcpy(psi, mlp_forward(iqn_net(a, w, IQN_TORSO), 1, x), sizeof psi);
    quantile_cos_features(1, &tau, 7, feat);
    memcpy(phi, mlp_forward(iqn_net(a, w, IQN_COS), 1, feat), sizeof phi);
    for (int j = 0; j < 5; j++)
        h[j] = psi[j] * phi[j];
    const real *y = mlp_forward(iqn_net(a, w, IQN_HEAD), 1, h);
    z[0] = y[0];
    z[1] = y[1];
}

static void test_composition(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 4);
    rng *r = rng_create(5, 1);
    perturb(a, IQN_ONLINE, 0.3, r);
    float obs[4] = {0.1f, -0.2f, 0.03f, 0.4f};
    double tau[6] = {0.01, 0.2, 0.4, 0.5, 0.8, 0.99}, z[12], want[2];
    bdrl_err e;
    assert_int_equal(iqn_quantiles(a, IQN_ONLINE, obs, 6, tau, z, &e), 0);
    for (int t = 0; t < 6; t++) {
        composed(a, IQN_ONLINE, obs, tau[t], want);
        assert_close(z[t * 2], want[0], 1e-5);
        assert_close(z[t * 2 + 1], want[1], 1e-5);
    }
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* ---- the loss ---- */

/* What the reference loss takes beyond the batch: a* by the online networks
 * at the same τ̃ (online_pick, agent.double), each row's discount (NULL:
 * agent.gamma), importance weights (NULL: 1); each row's own loss goes to
 * rows (NULL: not); astar (not NULL): the a* of each row of an update that
 * ranked (the τ̃ drawn), given here instead of ranked again. */
typedef struct {
    int online_pick;
    const double *discount;
    const float *weight;
    double *rows;
    const int *astar;
} ref_opts;

/* The loss recomputed in double from the τ the update drew:
 * (1/B) Σ_b w_b Σ_i (1/N') Σ_j ρ_τi(r + γ_b Z'_τ'j(s', a*) − Z_τi(s, a)). */
static double reference_loss_x(agent *a, const exp_config *cfg, const raw_batch *rb, const int *next_action,
                               const ref_opts *o)
{
    int n;
    const double *t_on = iqn_last_taus(a, 0, &n);
    assert_int_equal(n, B_ * N_);
    const double *t_tg = iqn_last_taus(a, 1, &n);
    assert_int_equal(n, B_ * NP_);
    const double *t_k = iqn_last_taus(a, 2, &n);
    assert_int_equal(n, next_action ? 0 : B_ * K_);
    double loss = 0;
    for (int i = 0; i < B_; i++) {
        int astar = 0;
        if (next_action) {
            astar = next_action[i];
        } else if (o && o->astar) {
            astar = o->astar[i];
        } else {
            double q[2] = {0, 0}, z[2];
            for (int k = 0; k < K_; k++) {
                composed(a, o && o->online_pick ? IQN_ONLINE : IQN_TARGET, rb->next_obs + 4 * i, t_k[i * K_ + k], z);
                q[0] += z[0];
                q[1] += z[1];
            }
            astar = q[1] > q[0];
        }
        double T[NP_], z[2], g = o && o->discount ? o->discount[i] : cfg->agent.gamma, l = 0;
        for (int j = 0; j < NP_; j++) {
            composed(a, IQN_TARGET, rb->next_obs + 4 * i, t_tg[i * NP_ + j], z);
            T[j] = rb->reward[i] + (rb->term[i] ? 0.0 : g * z[astar]);
        }
        for (int ii = 0; ii < N_; ii++) {
            double tau = t_on[i * N_ + ii];
            composed(a, IQN_ONLINE, rb->obs + 4 * i, tau, z);
            double th = z[rb->action[i]];
            for (int j = 0; j < NP_; j++) {
                double u = T[j] - th, w = fabs(tau - (u < 0)), au = fabs(u);
                l += w * (au <= 1 ? 0.5 * u * u : au - 0.5) / NP_;
            }
        }
        loss += (o && o->weight ? o->weight[i] : 1.0) * l;
        if (o && o->rows)
            o->rows[i] = l;
    }
    return loss / B_;
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
    agent *a = make_agent(&cfg, &en, "relu", 4);
    rng *r = rng_create(9, 1);
    perturb(a, IQN_ONLINE, 0.4, r);
    perturb(a, IQN_TARGET, 0.8, r);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    double want = reference_loss(a, &cfg, &rb, NULL);
    assert_close(st.loss, want, 1e-5 * (1 + fabs(want)));
    b.next_action = rb.next_action;
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    want = reference_loss(a, &cfg, &rb, rb.next_action);
    assert_close(st.loss, want, 1e-5 * (1 + fabs(want)));
    int flipped[B_];
    for (int i = 0; i < B_; i++)
        flipped[i] = 1 - rb.next_action[i];
    b.next_action = flipped;
    iqn_reseed(a, 77);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    double want2 = reference_loss(a, &cfg, &rb, flipped);
    assert_close(st.loss, want2, 1e-5 * (1 + fabs(want2)));
    iqn_reseed(a, 77);
    b.next_action = rb.next_action;
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    assert_true(fabs(st.loss - want2) > 1e-4); /* the given a' matters */
    /* terminal rows ignore s'; a truncated row bootstraps (same τ each time) */
    b.next_action = NULL;
    iqn_reseed(a, 5);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    double base = st.loss;
    raw_batch rb2 = rb;
    for (int k = 0; k < 4; k++)
        rb2.next_obs[1 * 4 + k] += 0.7f, rb2.next_obs[4 * 4 + k] -= 0.7f;
    b.next_obs = rb2.next_obs;
    iqn_reseed(a, 5);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss == base);
    rb2.next_obs[0] += 0.7f;
    iqn_reseed(a, 5);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss != base);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* Every parameter of the torso, the cosine embedding and the head against
 * central differences, with the same τ for every evaluation. The cosine
 * layer's ReLU has kinks and the loss's second derivative jumps at |u| = κ:
 * a step may cross one, so a parameter that disagrees at h = 1e-2 is tried
 * again at h/4; at most 1% may disagree at both. Unweighted and with
 * importance weights (weight NULL or not): the gradient applied is the
 * finite difference of the weighted loss reported. */
static void gradient_fd(const float *weight)
{
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "tanh", 5);
    rng *r = rng_create(11, 1);
    perturb(a, IQN_ONLINE, 0.3, r);
    perturb(a, IQN_TARGET, 0.8, r);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, weight, NULL};
    agent_stats st;
    bdrl_err e;
    iqn_reseed(a, 3);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    size_t total = 0, bad = 0, retried = 0;
    double worst = 0;
    for (int p = 0; p < 3; p++) {
        mlp *net = iqn_net(a, IQN_ONLINE, (iqn_part)p);
        real *grad = malloc(sizeof(real) * net->n_params);
        memcpy(grad, net->grads, sizeof(real) * net->n_params);
        double gmax = 0;
        for (size_t i = 0; i < net->n_params; i++) {
            real keep = net->params[i];
            double fd = 0;
            int ok = 0;
            /* h = 1e-2, then a quarter of it: a kink within h of the
             * parameter spoils one step but rarely both */
            for (int s = 0; s < 2 && !ok; s++) {
                const real h = s ? 2.5e-3f : 1e-2f;
                net->params[i] = keep + h;
                real up = net->params[i];
                iqn_reseed(a, 3);
                assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
                double lp = st.loss;
                net->params[i] = keep - h;
                real dn = net->params[i];
                iqn_reseed(a, 3);
                assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
                double lm = st.loss;
                net->params[i] = keep;
                fd = (lp - lm) / ((double)up - (double)dn);
                ok = fabs(fd - grad[i]) <= (s ? 5e-4 : 2e-4) + 2e-2 * fabs(grad[i]);
                retried += s && ok;
            }
            gmax = fmax(gmax, fabs(grad[i]));
            total++;
            if (!ok) {
                bad++;
                print_message("iqn part %d parameter %zu: backprop %.6g, finite difference %.6g\n", p, i,
                              (double)grad[i], fd);
            } else {
                worst = fmax(worst, fabs(fd - grad[i]) / (1e-3 + fabs(grad[i])));
            }
        }
        assert_true(gmax > 1e-3); /* each network got a gradient */
        free(grad);
    }
    print_message("iqn%s gradient check: %zu parameters, %zu matched only at the smaller step, %zu at neither; "
                  "worst relative error of the rest %.2e\n", weight ? " weighted" : "", total, retried, bad, worst);
    assert_true(bad * 100 <= total);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

static void test_gradient_fd(void **state)
{
    (void)state;
    static const float wts[B_] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f};
    gradient_fd(NULL);
    gradient_fd(wts);
}

/* The batch's discounts, importance weights and sample_loss against the
 * reference at the τ the update drew: T_j = r + γ_i Z'_τ'j with γ_i ≠ γ
 * (γ² = 0.81 for a two-step reward, and others), the weighted mean, each
 * row's quantile Huber loss as its sample_loss (their mean the unweighted
 * loss), a discount of γ and weights of 1 giving today's bits (same τ). */
static void test_discount_weight_sample_loss(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 4);
    rng *r = rng_create(9, 1);
    perturb(a, IQN_ONLINE, 0.4, r);
    perturb(a, IQN_TARGET, 0.8, r);
    raw_batch rb;
    fill_batch(&rb, r);
    const double disc[B_] = {0.81, 0.5, 0.3, 0.0, 0.2}, same[B_] = {0.9, 0.9, 0.9, 0.9, 0.9};
    const float wts[B_] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f}, ones[B_] = {1, 1, 1, 1, 1};
    double sl[B_], rows[B_];
    agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, sl};
    agent_stats st;
    bdrl_err e;
    iqn_reseed(a, 5);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    double base = st.loss, want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, NULL, NULL, rows, NULL}), m = 0;
    assert_close(base, want, 1e-5 * want);
    for (int i = 0; i < B_; i++) {
        assert_close(sl[i], rows[i], 1e-5 * (1 + rows[i]));
        m += sl[i] / B_;
    }
    assert_close(m, base, 1e-12 * base);
    b.discount = disc;
    iqn_reseed(a, 5);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, disc, NULL, rows, NULL});
    assert_close(st.loss, want, 1e-5 * want);
    assert_true(fabs(st.loss - base) > 1e-3);
    b.weight = wts;
    iqn_reseed(a, 5);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, disc, wts, rows, NULL});
    assert_close(st.loss, want, 1e-5 * want);
    for (int i = 0; i < B_; i++)
        assert_close(sl[i], rows[i], 1e-5 * (1 + rows[i])); /* unweighted */
    b.discount = same;
    b.weight = ones;
    iqn_reseed(a, 5);
    assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss == base);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* agent.double: a* ranks the ONLINE networks' Z at the τ̃ the update drew
 * (the very τ̃ the target would have been ranked at: the τ stream is drawn
 * as without it), the quantiles still the target's; with networks whose a*
 * differ on a row, the loss is the online-picked reference and not the
 * target-picked one (which it is with agent.double off), and both draw the
 * same τ. */
static void test_double_q(void **state)
{
    (void)state;
    double taus[2][B_ * (K_ + NP_ + N_)];
    for (int dbl = 0; dbl < 2; dbl++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent_x(&cfg, &en, "relu", 4, dbl ? "agent.double=true" : NULL);
        assert_true((strstr(agent_describe(a), "; double") != NULL) == dbl);
        rng *r = rng_create(9, 1);
        perturb(a, IQN_ONLINE, 0.4, r);
        raw_batch rb;
        fill_batch(&rb, r);
        agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats st;
        bdrl_err e;
        double online = 0, target = 0;
        for (int t = 0; t < 20 && fabs(online - target) < 1e-4; t++) {
            perturb(a, IQN_TARGET, 0.8, r);
            iqn_reseed(a, 5);
            assert_int_equal(iqn_loss_grad(a, &b, &st, &e), 0); /* draws the τ the references read */
            online = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){1, NULL, NULL, NULL, NULL});
            target = reference_loss(a, &cfg, &rb, NULL);
        }
        assert_true(fabs(online - target) > 1e-4); /* some row's a* differs */
        assert_close(st.loss, dbl ? online : target, 1e-5 * (1 + st.loss));
        int at = 0;
        for (int part = 2; part >= 0; part--) {
            int n;
            const double *t = iqn_last_taus(a, part, &n);
            memcpy(taus[dbl] + at, t, sizeof(double) * (size_t)n);
            at += n;
        }
        assert_int_equal(at, B_ * (K_ + NP_ + N_));
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
    assert_memory_equal(taus[0], taus[1], sizeof taus[0]);
}

/* ---- τ, Q, the law ---- */

/* agent.risk_target with agent.risk cvar:0.1: a* ranks the target
 * networks' Z(s', ·) at τ̃ = β(U) = 0.1 U, the U of the agent without it
 * (the same τ stream), which ranks at U; on a batch where the two choices
 * differ on some row, each loss is the reference with its own a* and not
 * with the other's. */
static agent *make_risk(exp_config *cfg, env **en, int risk_target, uint64_t pseed)
{
    char *sets[] = {"env.name=cartpole", "agent.kind=iqn", "agent.hidden=[6, 5]", "train.batch_size=5",
                    "agent.gamma=0.9", "iqn.n=3", "iqn.n_prime=4", "iqn.k=2", "iqn.embedding=7",
                    "iqn.law_points=10", "agent.activation=relu", "seed=4", "agent.risk=cvar:0.1",
                    risk_target ? "agent.risk_target=true" : "agent.risk_target=false"};
    bdrl_err e;
    if (exp_load(cfg, NULL, sets, (int)(sizeof sets / sizeof *sets), &e))
        fail_msg("%s", e.msg);
    *en = env_create(&cfg->env, &e);
    rng *init = rng_create(4, RNG_STREAM_INIT);
    agent *a = agent_create(cfg, *en, init, &e);
    rng_free(init);
    if (!a)
        fail_msg("%s", e.msg);
    rng *r = rng_create(pseed, 1); /* the same perturbation for both */
    perturb(a, IQN_ONLINE, 0.4, r);
    perturb(a, IQN_TARGET, 0.8, r);
    rng_free(r);
    return a;
}

static void test_risk_target(void **state)
{
    (void)state;
    const risk_spec cv = {RISK_CVAR, 0.1};
    rng *r = rng_create(3, 1);
    bdrl_err e;
    for (int t = 0; t < 100; t++) { /* perturbations until the choices differ on some row */
        exp_config cfg;
        env *en_m, *en_r;
        agent *am = make_risk(&cfg, &en_m, 0, 9 + t), *ar = make_risk(&cfg, &en_r, 1, 9 + t);
        raw_batch rb;
        fill_batch(&rb, r);
        agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats sm, sr;
        iqn_reseed(am, 100 + t);
        iqn_reseed(ar, 100 + t);
        assert_int_equal(iqn_loss_grad(am, &b, &sm, &e), 0);
        assert_int_equal(iqn_loss_grad(ar, &b, &sr, &e), 0);
        int n, nr;
        const double *u = iqn_last_taus(am, 2, &n), *tk = iqn_last_taus(ar, 2, &nr);
        assert_int_equal(n, B_ * K_);
        assert_int_equal(nr, B_ * K_);
        for (int j = 0; j < n; j++)
            assert_true(tk[j] == risk_beta(&cv, u[j]));
        int a_mean[B_], a_cvar[B_], differ = 0;
        for (int i = 0; i < B_; i++) {
            double qm[2] = {0, 0}, qc[2] = {0, 0}, z[2];
            for (int k = 0; k < K_; k++) {
                composed(am, IQN_TARGET, rb.next_obs + 4 * i, u[i * K_ + k], z);
                qm[0] += z[0], qm[1] += z[1];
                composed(am, IQN_TARGET, rb.next_obs + 4 * i, tk[i * K_ + k], z);
                qc[0] += z[0], qc[1] += z[1];
            }
            a_mean[i] = qm[1] > qm[0];
            a_cvar[i] = qc[1] > qc[0];
            differ += !rb.term[i] && a_mean[i] != a_cvar[i] && fabs(qm[1] - qm[0]) > 1e-5 &&
                      fabs(qc[1] - qc[0]) > 1e-5;
        }
        if (differ) {
            double lm = reference_loss_x(am, &cfg, &rb, NULL, &(ref_opts){0, NULL, NULL, NULL, a_mean});
            double lm_other = reference_loss_x(am, &cfg, &rb, NULL, &(ref_opts){0, NULL, NULL, NULL, a_cvar});
            double lr = reference_loss_x(ar, &cfg, &rb, NULL, &(ref_opts){0, NULL, NULL, NULL, a_cvar});
            double lr_other = reference_loss_x(ar, &cfg, &rb, NULL, &(ref_opts){0, NULL, NULL, NULL, a_mean});
            print_message("risk_target: loss %.8g (CVaR a* %.8g, mean a* %.8g); without: %.8g (mean a* %.8g, "
                          "CVaR a* %.8g); %d row(s) differ, try %d\n",
                          sr.loss, lr, lr_other, sm.loss, lm, lm_other, differ, t);
            assert_true(fabs(lm - lm_other) > 1e-4 && fabs(lr - lr_other) > 1e-4);
            assert_close(sm.loss, lm, 1e-5 * (1 + fabs(lm)));
            assert_close(sr.loss, lr, 1e-5 * (1 + fabs(lr)));
        }
        agent_free(am);
        agent_free(ar);
        env_free(en_m);
        env_free(en_r);
        if (differ) {
            rng_free(r);
            return;
        }
    }
    fail_msg("no batch whose mean and CVaR a* differ");
}

static void test_tau_stream(void **state)
{
    (void)state;
    exp_config c1, c2, c3;
    env *e1, *e2, *e3;
    agent *a1 = make_agent(&c1, &e1, "relu", 21), *a2 = make_agent(&c2, &e2, "relu", 21),
          *a3 = make_agent(&c3, &e3, "relu", 22);
    rng *r = rng_create(1, 1);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats s1, s2, s3;
    bdrl_err e;
    for (int k = 0; k < 3; k++) {
        assert_int_equal(agent_update(a1, &b, &s1, &e), 0);
        assert_int_equal(agent_update(a2, &b, &s2, &e), 0);
        assert_int_equal(agent_update(a3, &b, &s3, &e), 0);
        assert_true(s1.loss == s2.loss);
    }
    for (int part = 0; part < 3; part++) {
        int n1, n2, n3;
        const double *t1 = iqn_last_taus(a1, part, &n1), *t2 = iqn_last_taus(a2, part, &n2),
                     *t3 = iqn_last_taus(a3, part, &n3);
        assert_int_equal(n1, n2);
        assert_memory_equal(t1, t2, sizeof(double) * (size_t)n1); /* same seed, same τ */
        assert_true(memcmp(t1, t3, sizeof(double) * (size_t)n1) != 0); /* another seed, others */
        for (int i = 0; i < n1; i++)
            assert_true(t1[i] >= 0 && t1[i] < 1);
    }
    /* the documented order from a reseeded stream: τ̃ (B·K), τ' (B·N'), τ (B·N) */
    iqn_reseed(a1, 1234);
    assert_int_equal(agent_update(a1, &b, &s1, &e), 0);
    rng *ref = rng_create(1234, RNG_STREAM_LOSS);
    const int parts[3] = {2, 1, 0};
    for (int p = 0; p < 3; p++) {
        int n;
        const double *t = iqn_last_taus(a1, parts[p], &n);
        for (int i = 0; i < n; i++)
            assert_true(t[i] == rng_uniform(ref));
    }
    rng_free(ref);
    /* acting draws nothing: q_values between updates leaves the stream alone */
    iqn_reseed(a1, 99);
    iqn_reseed(a2, 99);
    double q[2];
    for (int k = 0; k < 5; k++)
        assert_int_equal(agent_q_values(a1, 1, rb.obs, q, &e), 0);
    agent_update(a1, &b, &s1, &e);
    agent_update(a2, &b, &s2, &e);
    int n;
    const double *t1 = iqn_last_taus(a1, 0, &n), *t2 = iqn_last_taus(a2, 0, &n);
    assert_memory_equal(t1, t2, sizeof(double) * (size_t)n);
    rng_free(r);
    agent_free(a1);
    agent_free(a2);
    agent_free(a3);
    env_free(e1);
    env_free(e2);
    env_free(e3);
}

static void test_q_and_law(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 6);
    rng *r = rng_create(2, 1);
    perturb(a, IQN_ONLINE, 1.0, r);
    bdrl_err e;
    float obs[40 * 4];
    for (int i = 0; i < 40 * 4; i++)
        obs[i] = (float)(2 * rng_uniform(r) - 1);
    double q[40 * 2];
    assert_int_equal(agent_q_values(a, 40, obs, q, &e), 0); /* > max batch 32: chunks */
    int crossed = 0;
    for (int i = 0; i < 40; i++) {
        /* Q = mean of Z at the K = 2 midpoints 1/4, 3/4 */
        double za[2], zb[2];
        composed(a, IQN_ONLINE, obs + 4 * i, 0.25, za);
        composed(a, IQN_ONLINE, obs + 4 * i, 0.75, zb);
        for (int k = 0; k < 2; k++) {
            assert_close(q[i * 2 + k], 0.5 * (za[k] + zb[k]), 1e-5 * (1 + fabs(q[i * 2 + k])));
            /* the law: Z at the 10 midpoints, sorted, weight 1/10 */
            double raw[10], z[2];
            for (int j = 0; j < 10; j++) {
                composed(a, IQN_ONLINE, obs + 4 * i, (2.0 * j + 1) / 20, z);
                raw[j] = z[k];
                crossed += j > 0 && raw[j] < raw[j - 1];
            }
            agent_dist d;
            assert_int_equal(agent_distribution(a, obs + 4 * i, k, &d, &e), 0);
            assert_int_equal(d.n, 10);
            assert_false(d.is_density);
            quantile_sort(10, raw);
            for (int j = 0; j < 10; j++) {
                assert_close(d.x[j], raw[j], 1e-5 * (1 + fabs(raw[j])));
                assert_close(d.w[j], 0.1, 1e-15);
                if (j)
                    assert_true(d.x[j] >= d.x[j - 1]);
            }
        }
    }
    assert_true(crossed > 0); /* the sort was exercised */
    int act;
    assert_int_equal(agent_greedy(a, obs, &act, &e), 0);
    assert_int_equal(act, q[1] > q[0] ? 1 : 0);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

static void test_save_load(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent_x(&cfg, &en, "relu", 7, "agent.ema=0.9");
    rng *r = rng_create(1, 1);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    for (int k = 0; k < 3; k++)
        assert_int_equal(agent_update(a, &b, &st, &e), 0);
    /* the average follows the online networks; target updates copy */
    mlp *on = iqn_net(a, IQN_ONLINE, IQN_HEAD), *av = iqn_net(a, IQN_AVERAGE, IQN_HEAD),
        *tg = iqn_net(a, IQN_TARGET, IQN_HEAD);
    real *old = malloc(sizeof(real) * av->n_params);
    memcpy(old, av->params, sizeof(real) * av->n_params);
    agent_update(a, &b, &st, &e);
    for (size_t i = 0; i < av->n_params; i++)
        assert_close(av->params[i], 0.9 * old[i] + 0.1 * on->params[i], 1e-6);
    free(old);
    assert_true(memcmp(on->params, tg->params, sizeof(real) * on->n_params) != 0);
    agent_update_target(a, 1.0);
    for (int p = 0; p < 3; p++)
        assert_memory_equal(iqn_net(a, IQN_ONLINE, (iqn_part)p)->params, iqn_net(a, IQN_TARGET, (iqn_part)p)->params,
                            sizeof(real) * iqn_net(a, IQN_ONLINE, (iqn_part)p)->n_params);
    agent_update(a, &b, &st, &e);

    FILE *f = tmpfile();
    assert_int_equal(a->ops->save(a, f, &e), 0);
    long size = ftell(f);
    double q0[2], q1[2];
    assert_int_equal(agent_q_values(a, 1, rb.obs, q0, &e), 0);
    for (int k = 0; k < 3; k++)
        agent_update(a, &b, &st, &e);
    double loss3 = st.loss; /* depends on networks, Adam state and the τ stream */
    agent_update_target(a, 1.0);
    rewind(f);
    assert_int_equal(a->ops->load(a, f, &e), 0);
    assert_int_equal(agent_q_values(a, 1, rb.obs, q1, &e), 0);
    assert_true(q0[0] == q1[0] && q0[1] == q1[1]);
    for (int k = 0; k < 3; k++)
        agent_update(a, &b, &st, &e);
    assert_true(st.loss == loss3);

    /* into an agent of another seed; a truncated file changes nothing */
    exp_config cfg2;
    env *en2;
    agent *a2 = make_agent_x(&cfg2, &en2, "relu", 99, "agent.ema=0.9");
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
    /* another embedding width is refused */
    exp_config cfg3;
    env *en3;
    agent *a3 = make_agent_x(&cfg3, &en3, "relu", 7, "iqn.embedding=8");
    rewind(f);
    assert_int_equal(a3->ops->load(a3, f, &e), -1);
    assert_contains(e.msg, "iqn");
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

/* Terminal rewards 0 and 1 with probability 1/2 at one (s, a), κ = 0 (the
 * plain quantile loss): Z_τ goes to the true quantile function, 0 below
 * τ = 1/2 and 1 above; with κ = 1 (both targets within κ) to τ itself. */
static void test_converges(void **state)
{
    (void)state;
    const char *kap[2] = {"iqn.kappa=0", "iqn.kappa=1"};
    for (int t = 0; t < 2; t++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent_x(&cfg, &en, "relu", 8, kap[t]);
        raw_batch rb;
        rng *r = rng_create(5, 1);
        fill_batch(&rb, r);
        for (int i = 0; i < B_; i++) {
            memcpy(rb.obs + 4 * i, rb.obs, 4 * sizeof(float));
            rb.action[i] = 1;
            rb.term[i] = 1;
        }
        agent_batch b = {B_, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats st;
        bdrl_err e;
        for (int k = 0; k < 4000; k++) {
            for (int i = 0; i < B_; i++)
                rb.reward[i] = (float)rng_below(r, 2);
            assert_int_equal(agent_update(a, &b, &st, &e), 0);
        }
        double tau[4] = {0.1, 0.3, 0.7, 0.9}, z[8];
        assert_int_equal(iqn_quantiles(a, IQN_ONLINE, rb.obs, 4, tau, z, &e), 0);
        for (int j = 0; j < 4; j++)
            assert_close(z[j * 2 + 1], t == 0 ? (tau[j] > 0.5) : tau[j], 0.1);
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

static void test_bad_config(void **state)
{
    (void)state;
    exp_config c;
    bdrl_err e;
    const char *keys[5] = {"iqn.n=0", "iqn.n_prime=0", "iqn.k=0", "iqn.embedding=0", "iqn.kappa=-0.5"};
    const char *names[5] = {"iqn.n", "iqn.n_prime", "iqn.k", "iqn.embedding", "iqn.kappa"};
    for (int i = 0; i < 5; i++) {
        char *sets[2] = {"agent.kind=iqn", (char *)keys[i]};
        assert_int_equal(exp_load(&c, NULL, sets, 2, &e), -1);
        assert_contains(e.msg, names[i]);
    }
    char *sets[2] = {"agent.kind=iqn", "iqn.law_points=0"};
    assert_int_equal(exp_load(&c, NULL, sets, 2, &e), -1);
    assert_contains(e.msg, "iqn.law_points");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cos_features),
        cmocka_unit_test(test_cos_features_bits),
        cmocka_unit_test(test_cos_embedding),
        cmocka_unit_test(test_composition),
        cmocka_unit_test(test_update_targets),
        cmocka_unit_test(test_gradient_fd),
        cmocka_unit_test(test_discount_weight_sample_loss),
        cmocka_unit_test(test_double_q),
        cmocka_unit_test(test_risk_target),
        cmocka_unit_test(test_tau_stream),
        cmocka_unit_test(test_q_and_law),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_converges),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests_name("iqn", tests, NULL, NULL);
}
