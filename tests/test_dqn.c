/* Tests of the DQN agent: the Huber and MSE losses and their derivatives on
 * hand-made TD errors, the targets an update builds (max over a', the given
 * next action, terminal and truncated rows) against a loss recomputed from
 * the two networks, the parameter gradient against finite differences, the
 * point-mass law and its W1 (the mean absolute deviation around Q), a
 * checkpoint round trip, and that updates move Q to a terminal reward. */
#include "test_util.h"

#include "agents/agent.h"
#include "agents/dqn.h"
#include "agents/experiment.h"
#include "agents/registry.h"
#include "stats/metrics.h"

/* ---- the loss ---- */

static void test_loss_hand_made(void **state)
{
    (void)state;
    double dl;
    /* Huber, κ = 1: δ²/2 inside, |δ| − 1/2 outside, derivative clamp(δ, ±1) */
    assert_close(dqn_loss(DQN_LOSS_HUBER, 0.5, &dl), 0.125, 1e-15);
    assert_close(dl, 0.5, 1e-15);
    assert_close(dqn_loss(DQN_LOSS_HUBER, -0.25, &dl), 0.03125, 1e-15);
    assert_close(dl, -0.25, 1e-15);
    assert_close(dqn_loss(DQN_LOSS_HUBER, 3.0, &dl), 2.5, 1e-15);
    assert_close(dl, 1.0, 1e-15);
    assert_close(dqn_loss(DQN_LOSS_HUBER, -2.0, &dl), 1.5, 1e-15);
    assert_close(dl, -1.0, 1e-15);
    assert_close(dqn_loss(DQN_LOSS_HUBER, 1.0, &dl), 0.5, 1e-15); /* both pieces meet */
    assert_close(dl, 1.0, 1e-15);
    assert_close(dqn_loss(DQN_LOSS_HUBER, 0.0, &dl), 0.0, 0);
    assert_close(dl, 0.0, 0);
    /* MSE (CleanRL): δ², derivative 2δ */
    assert_close(dqn_loss(DQN_LOSS_MSE, 3.0, &dl), 9.0, 1e-15);
    assert_close(dl, 6.0, 1e-15);
    assert_close(dqn_loss(DQN_LOSS_MSE, -0.5, &dl), 0.25, 1e-15);
    assert_close(dl, -1.0, 1e-15);
    assert_close(dqn_loss(DQN_LOSS_MSE, 0.5, NULL), 0.25, 1e-15);
}

/* The derivative against central differences away from Huber's joins, and
 * the two losses' relation: Huber = MSE/2 inside [-1, 1], smaller beyond. */
static void test_loss_derivative_and_huber_vs_mse(void **state)
{
    (void)state;
    const double ds[] = {-7.3, -1.6, -0.9, -0.2, 0.05, 0.4, 0.97, 1.03, 2.2, 40.0};
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < sizeof ds / sizeof *ds; i++) {
            double d = ds[i], dl, h = 1e-6;
            dqn_loss((dqn_loss_kind)k, d, &dl);
            double fd = (dqn_loss((dqn_loss_kind)k, d + h, NULL) - dqn_loss((dqn_loss_kind)k, d - h, NULL)) / (2 * h);
            assert_close(dl, fd, 1e-6 * (1 + fabs(fd)));
            double hu = dqn_loss(DQN_LOSS_HUBER, d, NULL), ms = dqn_loss(DQN_LOSS_MSE, d, NULL);
            if (fabs(d) <= 1)
                assert_close(hu, ms / 2, 1e-15);
            else
                assert_true(hu < ms / 2);
        }
}

/* ---- the agent ---- */

/* extra: one more KEY=VALUE, or NULL. */
static agent *make_agent_x(exp_config *cfg, env **en, const char *act, const char *loss, uint64_t seed,
                           const char *extra)
{
    char s_act[64], s_loss[64], s_seed[64];
    snprintf(s_act, sizeof s_act, "agent.activation=%s", act);
    snprintf(s_loss, sizeof s_loss, "dqn.loss=%s", loss);
    snprintf(s_seed, sizeof s_seed, "seed=%llu", (unsigned long long)seed);
    char *sets[] = {"env.name=cartpole", "agent.kind=dqn", "agent.hidden=[6, 5]", "train.batch_size=5",
                    "agent.gamma=0.9", s_act, s_loss, s_seed, (char *)extra};
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
    return a;
}
#define make_agent(cfg, en, act, loss, seed) make_agent_x(cfg, en, act, loss, seed, NULL)

typedef struct {
    float obs[5 * 4], next_obs[5 * 4], reward[5];
    int action[5], next_action[5];
    unsigned char term[5];
} raw_batch;

/* Rewards up to ±3 so that Huber rows fall on both sides of |δ| = 1. */
static void fill_batch(raw_batch *rb, rng *r)
{
    for (int i = 0; i < 5 * 4; i++) {
        rb->obs[i] = (float)(rng_uniform(r) - 0.5);
        rb->next_obs[i] = (float)(rng_uniform(r) - 0.5);
    }
    for (int i = 0; i < 5; i++) {
        rb->reward[i] = (float)(6 * rng_uniform(r) - 3);
        rb->action[i] = (int)rng_below(r, 2);
        rb->next_action[i] = (int)rng_below(r, 2);
        rb->term[i] = i == 1 || i == 4;
    }
}

/* What the reference loss takes beyond the batch: a* by the online network
 * (online_pick, agent.double), each row's discount (NULL: agent.gamma),
 * importance weights (NULL: 1); it writes each row's |δ| to absd (NULL: not). */
typedef struct {
    int online_pick;
    const double *discount;
    const float *weight;
    double *absd;
} ref_opts;

/* The loss recomputed in double from the two networks' outputs:
 * (1/B) Σ_i w_i ℓ(Q(s_i, a_i) − r_i − γ_i Q_target(s'_i, a*_i)). */
static double reference_loss_x(agent *a, const exp_config *cfg, const raw_batch *rb, const int *next_action,
                               dqn_loss_kind kind, const ref_opts *o)
{
    real x[5 * 4], qt[5 * 2], q[5 * 2], qo[5 * 2];
    for (int i = 0; i < 20; i++)
        x[i] = rb->next_obs[i];
    memcpy(qt, mlp_forward(dqn_target(a), 5, x), sizeof qt);
    memcpy(qo, mlp_forward(dqn_online(a), 5, x), sizeof qo);
    for (int i = 0; i < 20; i++)
        x[i] = rb->obs[i];
    memcpy(q, mlp_forward(dqn_online(a), 5, x), sizeof q);
    double loss = 0;
    for (int i = 0; i < 5; i++) {
        const real *rank = o && o->online_pick ? qo : qt;
        int an = next_action ? next_action[i] : (rank[2 * i + 1] > rank[2 * i] ? 1 : 0);
        double g = o && o->discount ? o->discount[i] : cfg->agent.gamma;
        double y = rb->reward[i] + (rb->term[i] ? 0.0 : g * qt[2 * i + an]), d = q[2 * i + rb->action[i]] - y;
        loss += (o && o->weight ? o->weight[i] : 1.0) * dqn_loss(kind, d, NULL);
        if (o && o->absd)
            o->absd[i] = fabs(d);
    }
    return loss / 5;
}

static double reference_loss(agent *a, const exp_config *cfg, const raw_batch *rb, const int *next_action,
                             dqn_loss_kind kind)
{
    return reference_loss_x(a, cfg, rb, next_action, kind, NULL);
}

static void perturb_target(agent *a, rng *r)
{
    mlp *tg = dqn_target(a);
    for (size_t i = 0; i < tg->n_params; i++)
        tg->params[i] += (real)(0.3 * rng_normal(r));
}

static void test_update_targets(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent(&cfg, &en, "relu", k ? "mse" : "huber", 4);
        rng *r = rng_create(9, 1);
        perturb_target(a, r);
        raw_batch rb;
        fill_batch(&rb, r);
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats st;
        bdrl_err e;
        /* control: max over a' of the target network */
        double want = reference_loss(a, &cfg, &rb, NULL, (dqn_loss_kind)k);
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        assert_close(st.loss, want, 1e-5 * fabs(want));
        /* evaluation: the given a', and flipping it changes the loss */
        b.next_action = rb.next_action;
        want = reference_loss(a, &cfg, &rb, rb.next_action, (dqn_loss_kind)k);
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        assert_close(st.loss, want, 1e-5 * fabs(want));
        int flipped[5];
        for (int i = 0; i < 5; i++)
            flipped[i] = 1 - rb.next_action[i];
        b.next_action = flipped;
        double want2 = reference_loss(a, &cfg, &rb, flipped, (dqn_loss_kind)k);
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        assert_close(st.loss, want2, 1e-5 * fabs(want2));
        assert_true(fabs(want2 - want) > 1e-4);
        /* terminated rows ignore s'; a truncated row (terminated 0) bootstraps */
        b.next_action = NULL;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        double base = st.loss;
        raw_batch rb2 = rb;
        for (int j = 0; j < 4; j++)
            rb2.next_obs[1 * 4 + j] += 0.7f, rb2.next_obs[4 * 4 + j] -= 0.7f;
        b.next_obs = rb2.next_obs;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        assert_true(st.loss == base);
        rb2.next_obs[0] += 0.7f;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        assert_true(st.loss != base);
        /* a bad action is refused */
        rb2.action[2] = 2;
        b.action = rb2.action;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), -1);
        assert_non_null(strstr(e.msg, "row 2"));
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

/* Every parameter of a tiny tanh network, for both losses, unweighted and
 * with importance weights (one of them 0): the gradient the agent applies
 * is the finite difference of the weighted loss it reports. */
static void test_parameter_gradient(void **state)
{
    (void)state;
    static const float wts[5] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f};
    for (int k = 0; k < 4; k++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent(&cfg, &en, "tanh", k % 2 ? "mse" : "huber", 7);
        rng *r = rng_create(11, 1);
        perturb_target(a, r);
        raw_batch rb;
        fill_batch(&rb, r);
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, k / 2 ? wts : NULL, NULL};
        agent_stats st;
        bdrl_err e;
        mlp *net = dqn_online(a);
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        real *grad = malloc(sizeof(real) * net->n_params);
        memcpy(grad, net->grads, sizeof(real) * net->n_params);
        double gn = 0;
        for (size_t i = 0; i < net->n_params; i++)
            gn += (double)grad[i] * grad[i];
        assert_close(st.grad_norm, sqrt(gn), 1e-5 * sqrt(gn));
        double worst = 0;
        for (size_t i = 0; i < net->n_params; i++) {
            real keep = net->params[i];
            const real h = 1e-2f;
            net->params[i] = keep + h;
            real up = net->params[i];
            assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
            double lp = st.loss;
            net->params[i] = keep - h;
            real dn = net->params[i];
            assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
            double lm = st.loss;
            net->params[i] = keep;
            double fd = (lp - lm) / ((double)up - (double)dn);
            double err = fabs(fd - grad[i]) / (1e-3 + fabs(grad[i]));
            worst = err > worst ? err : worst;
            if (fabs(fd - grad[i]) > 2e-4 + 2e-2 * fabs(grad[i]))
                fail_msg("%s%s, parameter %zu: backprop %.6g, finite difference %.6g", k % 2 ? "mse" : "huber",
                         k / 2 ? " weighted" : "", i, (double)grad[i], fd);
        }
        print_message("dqn %s%s gradient check: %zu parameters, worst relative error %.2e\n", k % 2 ? "mse" : "huber",
                      k / 2 ? " weighted" : "", net->n_params, worst);
        free(grad);
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

/* The batch's discounts, importance weights and sample_loss against the
 * loss recomputed here: y_i = r_i + γ_i Q_target(s'_i, a*) with γ_i ≠ γ
 * (γ² = 0.81 for a two-step reward, and others), the reported loss
 * (1/B) Σ w_i ℓ(δ_i), sample_loss |δ_i| (weights or not), and a discount
 * equal to γ giving today's bits. */
static void test_discount_weight_sample_loss(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent(&cfg, &en, "relu", k ? "mse" : "huber", 4);
        rng *r = rng_create(9, 1);
        perturb_target(a, r);
        raw_batch rb;
        fill_batch(&rb, r);
        const double disc[5] = {0.81, 0.5, 0.3, 0.0, 0.2}, same[5] = {0.9, 0.9, 0.9, 0.9, 0.9};
        const float wts[5] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f};
        double sl[5], absd[5];
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, sl};
        agent_stats st;
        bdrl_err e;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        double base = st.loss;
        /* sample_loss is |δ|, and the loss a function of it: mean ℓ(|δ|) */
        double want = reference_loss_x(a, &cfg, &rb, NULL, (dqn_loss_kind)k, &(ref_opts){0, NULL, NULL, absd}), m = 0;
        for (int i = 0; i < 5; i++) {
            assert_close(sl[i], absd[i], 1e-6 * (1 + absd[i]));
            m += dqn_loss((dqn_loss_kind)k, sl[i], NULL) / 5;
        }
        assert_close(base, want, 1e-5 * fabs(want));
        assert_close(m, base, 1e-12 * base);
        /* discounts ≠ γ: the hand targets, and not today's loss */
        b.discount = disc;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        want = reference_loss_x(a, &cfg, &rb, NULL, (dqn_loss_kind)k, &(ref_opts){0, disc, NULL, absd});
        assert_close(st.loss, want, 1e-5 * fabs(want));
        assert_true(fabs(st.loss - base) > 1e-3);
        for (int i = 0; i < 5; i++)
            assert_close(sl[i], absd[i], 1e-6 * (1 + absd[i]));
        /* and weights: the weighted mean; sample_loss stays unweighted */
        b.weight = wts;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        want = reference_loss_x(a, &cfg, &rb, NULL, (dqn_loss_kind)k, &(ref_opts){0, disc, wts, absd});
        assert_close(st.loss, want, 1e-5 * fabs(want));
        for (int i = 0; i < 5; i++)
            assert_close(sl[i], absd[i], 1e-6 * (1 + absd[i]));
        /* a discount of γ and weights of 1 are today's arithmetic, bit for bit */
        const float ones[5] = {1, 1, 1, 1, 1};
        b.discount = same;
        b.weight = ones;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        assert_true(st.loss == base);
        /* out-of-range discounts and weights are refused, naming the row */
        const double bad_d[5] = {0.9, 0.9, 1.5, 0.9, 0.9};
        const float bad_w[5] = {1, 1, 1, -1, 1};
        b.discount = bad_d;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), -1);
        assert_string_equal(e.msg, "dqn: discount 1.5 in row 2 of the batch is not in [0, 1]");
        b.discount = NULL;
        b.weight = bad_w;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), -1);
        assert_string_equal(e.msg, "dqn: weight -1 in row 3 of the batch is not finite and >= 0");
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

/* agent.double: a* is the ONLINE network's argmax at s', its value still
 * the target network's; with target and online nets that disagree on some
 * row's argmax, the loss is the online-picked reference and not the
 * target-picked one. Off, the same nets give the target-picked loss. */
static void test_double_q(void **state)
{
    (void)state;
    for (int dbl = 0; dbl < 2; dbl++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent_x(&cfg, &en, "relu", "huber", 4, dbl ? "agent.double=true" : NULL);
        assert_true((strstr(agent_describe(a), "; double") != NULL) == dbl);
        rng *r = rng_create(9, 1);
        raw_batch rb;
        fill_batch(&rb, r);
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats st;
        bdrl_err e;
        /* the target drifts from the online net until some row's argmax differs */
        real x[20], qo[10], qt[10];
        for (int i = 0; i < 20; i++)
            x[i] = rb.next_obs[i];
        int differ = 0;
        for (int t = 0; t < 20 && !differ; t++) {
            perturb_target(a, r);
            memcpy(qo, mlp_forward(dqn_online(a), 5, x), sizeof qo);
            memcpy(qt, mlp_forward(dqn_target(a), 5, x), sizeof qt);
            for (int i = 0; i < 5; i++)
                differ += !rb.term[i] && (qo[2 * i + 1] > qo[2 * i]) != (qt[2 * i + 1] > qt[2 * i]);
        }
        assert_true(differ > 0);
        double online = reference_loss_x(a, &cfg, &rb, NULL, DQN_LOSS_HUBER, &(ref_opts){1, NULL, NULL, NULL});
        double target = reference_loss(a, &cfg, &rb, NULL, DQN_LOSS_HUBER);
        assert_true(fabs(online - target) > 1e-3);
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        assert_close(st.loss, dbl ? online : target, 1e-5 * fabs(st.loss));
        /* a given a' wins over either argmax */
        b.next_action = rb.next_action;
        assert_int_equal(dqn_loss_grad(a, &b, &st, &e), 0);
        double given = reference_loss(a, &cfg, &rb, rb.next_action, DQN_LOSS_HUBER);
        assert_close(st.loss, given, 1e-5 * fabs(given));
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

/* The law is one atom at Q(s, a) with weight 1; its W1 to a law Z is
 * E|Z − Q|. */
static void test_point_mass_law(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", "huber", 3);
    float obs[4] = {0.02f, -0.1f, 0.03f, 0.2f};
    double q[2];
    bdrl_err e;
    assert_int_equal(agent_q_values(a, 1, obs, q, &e), 0);
    for (int act = 0; act < 2; act++) {
        agent_dist d;
        assert_int_equal(agent_distribution(a, obs, act, &d, &e), 0);
        assert_int_equal(d.n, 1);
        assert_false(d.is_density);
        assert_true(d.x[0] == q[act] && d.w[0] == 1.0 && d.mass == 1.0);
        /* against Z uniform on the atoms {Q - 1, Q + 0.5, Q + 2.5}: E|Z - Q| = 4/3 */
        double zv[3] = {q[act] - 1, q[act] + 0.5, q[act] + 2.5}, zp[3] = {1 / 3.0, 1 / 3.0, 1 / 3.0};
        stat_dist *m = stat_dist_atoms(d.x, d.w, 1, &e), *z = stat_dist_atoms(zv, zp, 3, &e);
        assert_non_null(m);
        assert_non_null(z);
        assert_close(stat_w1(m, z), 4 / 3.0, 1e-12);
        stat_dist_free(m);
        stat_dist_free(z);
    }
    agent_dist d;
    assert_int_equal(agent_distribution(a, obs, 2, &d, &e), -1);
    agent_free(a);
    env_free(en);
}

/* Save, load into an agent initialized differently: the same networks and
 * optimizer state (the next update is bit-identical); a truncated state is
 * refused and leaves the agent as it was. */
static void test_checkpoint_round_trip(void **state)
{
    (void)state;
    exp_config cfg;
    env *en, *en2;
    agent *a = make_agent(&cfg, &en, "relu", "huber", 5), *b2 = make_agent(&cfg, &en2, "relu", "huber", 6);
    rng *r = rng_create(2, 1);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    for (int i = 0; i < 3; i++)
        assert_int_equal(agent_update(a, &b, &st, &e), 0);
    agent_update_target(a, 0.5);
    size_t len;
    char *mem = tu_agent_state(a, &len);
    /* truncated: refused, nothing changed */
    size_t len2;
    char *before = tu_agent_state(b2, &len2);
    FILE *f = fmemopen(mem, len / 2, "rb");
    assert_int_equal(b2->ops->load(b2, f, &e), -1);
    fclose(f);
    size_t len3;
    char *after = tu_agent_state(b2, &len3);
    assert_true(len2 == len3 && !memcmp(before, after, len2));
    /* whole: identical */
    f = fmemopen(mem, len, "rb");
    assert_int_equal(b2->ops->load(b2, f, &e), 0);
    fclose(f);
    mlp *n1 = dqn_online(a), *n2 = dqn_online(b2);
    assert_memory_equal(n1->params, n2->params, sizeof(real) * n1->n_params);
    assert_memory_equal(dqn_target(a)->params, dqn_target(b2)->params, sizeof(real) * n1->n_params);
    assert_int_equal(agent_update(a, &b, &st, &e), 0);
    assert_int_equal(agent_update(b2, &b, &st, &e), 0);
    assert_memory_equal(n1->params, n2->params, sizeof(real) * n1->n_params);
    free(mem);
    free(before);
    free(after);
    rng_free(r);
    agent_free(a);
    agent_free(b2);
    env_free(en);
    env_free(en2);
}

/* Terminal transitions with reward 0.7 from a fixed state: Q of the taken
 * action goes to 0.7 (the update steps downhill), the other is untouched. */
static void test_update_learns_terminal_reward(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent(&cfg, &en, "relu", k ? "mse" : "huber", 8);
        raw_batch rb;
        memset(&rb, 0, sizeof rb);
        for (int i = 0; i < 5; i++) {
            rb.obs[4 * i] = 0.1f;
            rb.reward[i] = 0.7f;
            rb.action[i] = 1;
            rb.term[i] = 1;
        }
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
        agent_stats st;
        bdrl_err e;
        double q0[2], q[2];
        assert_int_equal(agent_q_values(a, 1, rb.obs, q0, &e), 0);
        for (int i = 0; i < 400; i++)
            assert_int_equal(agent_update(a, &b, &st, &e), 0);
        assert_int_equal(agent_q_values(a, 1, rb.obs, q, &e), 0);
        assert_close(q[1], 0.7, 0.02);
        assert_true(fabs(q0[1] - 0.7) > 0.05);
        agent_free(a);
        env_free(en);
    }
}

/* configs/twins/NAME_dqn.yaml (and FrozenLake's evaluation twin) are C51's
 * twins: every section but the agent kind and the agents' own sections
 * resolves to the same values. */
static void test_twin_configs(void **state)
{
    (void)state;
    const char *names[] = {"cartpole", "frozenlake4_eval", "acrobot"};
    for (int i = 0; i < 3; i++) {
        exp_config c[2];
        for (int k = 0; k < 2; k++) {
            char path[1024];
            bdrl_err e;
            snprintf(path, sizeof path, "%s/configs/%s%s_%s.yaml", tu_root(), k && i != 1 ? "twins/" : "", names[i],
                     k ? "dqn" : "c51");
            if (exp_load(&c[k], path, NULL, 0, &e))
                fail_msg("%s", e.msg);
        }
        assert_int_equal(c[1].agent.kind, agent_kind_find("dqn"));
        c[1].agent.kind = c[0].agent.kind;
        assert_memory_equal(&c[0].agent, &c[1].agent, sizeof c[0].agent);
        assert_memory_equal(&c[0].env, &c[1].env, sizeof c[0].env);
        assert_memory_equal(&c[0].train, &c[1].train, sizeof c[0].train);
        assert_memory_equal(&c[0].eval, &c[1].eval, sizeof c[0].eval);
        assert_true(c[0].seed == c[1].seed);
        assert_int_equal(c[1].dqn.loss, DQN_LOSS_HUBER);
    }
}

/* configs/minatar/<game>_<agent>.yaml (scripts/minatar_configs.sh) are
 * twins: every agent's file resolves, but for agent.kind and the agents'
 * own sections, to its game's C51 file; <game>_rainbow and _bd_rainbow are
 * C51's and BD's files plus Rainbow's five components at Rainbow's
 * settings and nothing else. */
static void minatar_load(exp_config *c, const char *game, const char *agent)
{
    char path[1024];
    bdrl_err e;
    snprintf(path, sizeof path, "%s/configs/minatar/%s_%s.yaml", tu_root(), game, agent);
    if (exp_load(c, path, NULL, 0, &e))
        fail_msg("%s", e.msg);
}

static void assert_same_shared(const exp_config *a, const exp_config *b)
{
    assert_memory_equal(&a->agent, &b->agent, sizeof a->agent);
    assert_memory_equal(&a->env, &b->env, sizeof a->env);
    assert_memory_equal(&a->train, &b->train, sizeof a->train);
    assert_memory_equal(&a->eval, &b->eval, sizeof a->eval);
    assert_memory_equal(&a->replay, &b->replay, sizeof a->replay);
    assert_true(a->seed == b->seed);
}

/* Checks rb's components are Rainbow's, then switches them off as in base. */
static void strip_rainbow(exp_config *rb, const exp_config *base)
{
    assert_int_equal(rb->agent.n_step, 3);
    assert_true(rb->agent.double_q && rb->agent.dueling && rb->agent.noisy);
    assert_close(rb->agent.noisy_sigma0, 0.5, 0);
    assert_true(rb->replay.prioritized);
    assert_close(rb->replay.alpha, 0.5, 0);
    assert_close(rb->replay.beta, 0.4, 0);
    assert_close(rb->replay.eps, 1e-6, 0);
    rb->agent.n_step = base->agent.n_step;
    rb->agent.double_q = base->agent.double_q;
    rb->agent.dueling = base->agent.dueling;
    rb->agent.noisy = base->agent.noisy;
    rb->agent.noisy_sigma0 = base->agent.noisy_sigma0;
    rb->replay = base->replay;
}

static void test_minatar_twin_configs(void **state)
{
    (void)state;
    const char *games[] = {"asterix", "breakout", "freeway", "seaquest", "space_invaders"};
    const char *agents[] = {"dqn", "qrdqn", "iqn", "bd"};
    for (int g = 0; g < 5; g++) {
        exp_config c51, bd, x;
        minatar_load(&c51, games[g], "c51");
        assert_int_equal(c51.agent.kind, agent_kind_find("c51"));
        assert_int_equal(c51.agent.n_step, 1);
        assert_false(c51.replay.prioritized);
        for (int a = 0; a < 4; a++) {
            minatar_load(&x, games[g], agents[a]);
            assert_int_equal(x.agent.kind, agent_kind_find(agents[a]));
            x.agent.kind = c51.agent.kind;
            assert_same_shared(&c51, &x);
        }
        minatar_load(&x, games[g], "rainbow");
        assert_int_equal(x.agent.kind, c51.agent.kind);
        strip_rainbow(&x, &c51);
        assert_same_shared(&c51, &x);
        assert_int_equal(x.c51.atoms, c51.c51.atoms);
        minatar_load(&bd, games[g], "bd");
        minatar_load(&x, games[g], "bd_rainbow");
        assert_int_equal(x.agent.kind, agent_kind_find("bd"));
        strip_rainbow(&x, &bd);
        assert_same_shared(&bd, &x);
        assert_memory_equal(&x.bd, &bd.bd, sizeof x.bd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_hand_made),
        cmocka_unit_test(test_loss_derivative_and_huber_vs_mse),
        cmocka_unit_test(test_update_targets),
        cmocka_unit_test(test_parameter_gradient),
        cmocka_unit_test(test_discount_weight_sample_loss),
        cmocka_unit_test(test_double_q),
        cmocka_unit_test(test_point_mass_law),
        cmocka_unit_test(test_checkpoint_round_trip),
        cmocka_unit_test(test_update_learns_terminal_reward),
        cmocka_unit_test(test_twin_configs),
        cmocka_unit_test(test_minatar_twin_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
