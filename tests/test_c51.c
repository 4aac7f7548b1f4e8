/* Tests of the C51 agent: the categorical projection on hand-made cases,
 * the targets the update builds (terminal, truncated, given next action),
 * the cross-entropy gradient against finite differences, Q = Σ z p, target
 * updates and save/load. */
#include "test_util.h"

#include "agents/agent.h"
#include "agents/c51.h"
#include "agents/experiment.h"
#include "stats/risk.h"

#define TOL 1e-12

static double sum(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += x[i];
    return s;
}

/* ---- projection ---- */

static void test_project_mass_conserved(void **state)
{
    (void)state;
    rng *r = rng_create(3, 1);
    double p[51], m[51];
    for (int t = 0; t < 200; t++) {
        double s = 0;
        for (int j = 0; j < 51; j++)
            s += p[j] = rng_uniform(r);
        for (int j = 0; j < 51; j++)
            p[j] /= s;
        double rew = 4 * rng_uniform(r) - 2, g = t % 3 == 0 ? 0.0 : rng_uniform(r);
        c51_project(51, -1.0, 1.0, rew, g, p, m);
        assert_close(sum(m, 51), 1.0, TOL);
        for (int j = 0; j < 51; j++)
            assert_true(m[j] >= 0);
        /* the mean moves by the projection only where it clips */
        double mean_in = 0, mean_out = 0;
        for (int j = 0; j < 51; j++) {
            double z = -1.0 + j * 0.04, x = rew + g * z;
            x = x < -1 ? -1 : x > 1 ? 1 : x;
            mean_in += p[j] * x;
            mean_out += m[j] * z;
        }
        assert_close(mean_out, mean_in, 1e-12);
    }
    rng_free(r);
}

static void test_project_exact_on_grid(void **state)
{
    (void)state;
    /* 11 atoms on [0, 1] (Δz = 0.1), γ = 1, r = 2Δz: a shift by two atoms. */
    double p[11], m[11];
    for (int j = 0; j < 11; j++)
        p[j] = (j + 1) / 66.0;
    c51_project(11, 0.0, 1.0, 0.2, 1.0, p, m);
    assert_close(m[0], 0.0, TOL);
    assert_close(m[1], 0.0, TOL);
    for (int j = 2; j < 10; j++)
        assert_close(m[j], p[j - 2], TOL);
    /* the top two atoms' mass clips onto the last one */
    assert_close(m[10], p[8] + p[9] + p[10], TOL);

    /* Atoms on [-2, 2] (z = -2..2), r = 0.5, γ = 0.5: targets -0.5, 0, 0.5, 1, 1.5,
     * uniform p: half-way atoms split, the others land exactly. */
    double q[5] = {0.2, 0.2, 0.2, 0.2, 0.2}, mq[5];
    c51_project(5, -2.0, 2.0, 0.5, 0.5, q, mq);
    const double want[5] = {0.0, 0.1, 0.4, 0.4, 0.1};
    for (int j = 0; j < 5; j++)
        assert_close(mq[j], want[j], TOL);
}

static void test_project_clips_both_ends(void **state)
{
    (void)state;
    double p[21], m[21];
    for (int j = 0; j < 21; j++)
        p[j] = 1.0 / 21;
    c51_project(21, -1.0, 1.0, 5.0, 0.9, p, m); /* every target above v_max */
    assert_close(m[20], 1.0, TOL);
    assert_close(sum(m, 20), 0.0, TOL);
    c51_project(21, -1.0, 1.0, -5.0, 0.9, p, m); /* every target below v_min */
    assert_close(m[0], 1.0, TOL);
    assert_close(sum(m + 1, 20), 0.0, TOL);
    /* partly clipped: r = 0.5, γ = 1 on [-1, 1]: atoms above 0.5 pile on v_max */
    c51_project(21, -1.0, 1.0, 0.5, 1.0, p, m);
    assert_close(m[20], 6.0 / 21, 1e-12);
    for (int j = 0; j < 15; j++)
        assert_close(m[j], j < 5 ? 0.0 : 1.0 / 21, 1e-12);
}

static void test_project_terminal_and_gamma0(void **state)
{
    (void)state;
    double p[11], m[11];
    for (int j = 0; j < 11; j++)
        p[j] = j == 10 ? 1.0 : 0.0; /* whatever the next distribution is ... */
    /* ... γ' = 0 (terminal, or γ = 0) puts all mass at r: on an atom exactly */
    c51_project(11, 0.0, 1.0, 0.7, 0.0, p, m);
    for (int j = 0; j < 11; j++)
        assert_close(m[j], j == 7 ? 1.0 : 0.0, 1e-12);
    /* between two atoms, by proximity: 0.73 -> 0.7 gets 0.7, 0.8 gets 0.3 */
    for (int j = 0; j < 11; j++)
        p[j] = 1.0 / 11;
    c51_project(11, 0.0, 1.0, 0.73, 0.0, p, m);
    assert_close(m[7], 0.7, 1e-12);
    assert_close(m[8], 0.3, 1e-12);
    assert_close(sum(m, 11), 1.0, TOL);
}

static void test_project_halfway_splits_evenly(void **state)
{
    (void)state;
    /* atoms 0, 0.5, 1: a return of 0.25 is exactly between the first two */
    double p[3] = {0.25, 0.5, 0.25}, m[3];
    c51_project(3, 0.0, 1.0, 0.25, 0.0, p, m);
    assert_true(m[0] == 0.5 && m[1] == 0.5 && m[2] == 0.0);
    /* and with γ > 0: r = 0.125, γ = 0.5 -> 0.125, 0.375, 0.625: each halfway
     * between atoms in quarters... 0.125 -> (0.75, 0.25) of atoms 0, 0.5 */
    c51_project(3, 0.0, 1.0, 0.125, 0.5, p, m);
    /* 0.125: b = 0.25 -> atom0 .75, atom1 .25 (mass .25)
     * 0.375: b = 0.75 -> atom0 .25, atom1 .75 (mass .5)
     * 0.625: b = 1.25 -> atom1 .75, atom2 .25 (mass .25) */
    assert_close(m[0], 0.25 * 0.75 + 0.5 * 0.25, TOL);
    assert_close(m[1], 0.25 * 0.25 + 0.5 * 0.75 + 0.25 * 0.75, TOL);
    assert_close(m[2], 0.25 * 0.25, TOL);
}

/* ---- the agent ---- */

/* A small CartPole C51 agent; activation tanh for smooth finite differences. */
/* extra: one more KEY=VALUE, or NULL. */
static agent *make_agent_x(exp_config *cfg, env **en, const char *act, int atoms, uint64_t seed,
                           const char *extra)
{
    char s_act[64], s_atoms[64], s_seed[64];
    snprintf(s_act, sizeof s_act, "agent.activation=%s", act);
    snprintf(s_atoms, sizeof s_atoms, "c51.atoms=%d", atoms);
    snprintf(s_seed, sizeof s_seed, "seed=%llu", (unsigned long long)seed);
    char *sets[] = {"env.name=cartpole", "agent.kind=c51", "agent.hidden=[6, 5]", "agent.v_min=-2",
                    "agent.v_max=3", "train.batch_size=5", "agent.gamma=0.9", s_act, s_atoms, s_seed,
                    (char *)extra};
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

#define make_agent(cfg, en, act, atoms, seed) make_agent_x(cfg, en, act, atoms, seed, NULL)

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

/* What the reference loss takes beyond the batch: a* ranked on the online
 * network (online_pick, agent.double), by ρ of risk instead of the mean
 * (NULL: the mean), each row's discount (NULL: agent.gamma), importance
 * weights (NULL: 1); each row's cross-entropy goes to ce (NULL: not). */
typedef struct {
    int online_pick;
    const risk_spec *risk;
    const double *discount;
    const float *weight;
    double *ce;
} ref_opts;

/* Softmax of every action's logits row of one state (A·N) into p (A, 64),
 * and each action's value: Q = Σ z p, or ρ(Z) of risk. */
static void laws_of(const real *rows, int A, int N, double vmin, double dz, const risk_spec *risk, double p[][64],
                    double *v)
{
    for (int k = 0; k < A; k++) {
        double mx = -INFINITY, s = 0, z[64];
        for (int j = 0; j < N; j++)
            mx = fmax(mx, rows[k * N + j]);
        for (int j = 0; j < N; j++)
            s += p[k][j] = exp(rows[k * N + j] - mx);
        v[k] = 0;
        for (int j = 0; j < N; j++) {
            p[k][j] /= s;
            z[j] = vmin + j * dz;
            v[k] += p[k][j] * z[j];
        }
        bdrl_err e;
        if (risk && risk_atoms(risk, z, p[k], (size_t)N, &v[k], &e))
            fail_msg("%s", e.msg);
    }
}

/* The loss recomputed independently in double from the two networks:
 * (1/B) Σ_i w_i CE(m_i, p_θ(s_i, a_i)), m_i the projection of r_i + γ_i z
 * under the target's law at a*. */
static double reference_loss_x(agent *a, const exp_config *cfg, const raw_batch *rb, const int *next_action,
                               const ref_opts *o)
{
    int A = 2, N = cfg->c51.atoms, B = 5;
    double vmin = cfg->agent.v_min, vmax = cfg->agent.v_max, dz = (vmax - vmin) / (N - 1);
    real x[5 * 4];
    for (int i = 0; i < 20; i++)
        x[i] = rb->next_obs[i];
    real yt[5 * 2 * 64], yo[5 * 2 * 64], y[5 * 2 * 64];
    memcpy(yt, mlp_forward(c51_target(a), B, x), sizeof(real) * B * A * N);
    memcpy(yo, mlp_forward(c51_online(a), B, x), sizeof(real) * B * A * N);
    for (int i = 0; i < 20; i++)
        x[i] = rb->obs[i];
    memcpy(y, mlp_forward(c51_online(a), B, x), sizeof(real) * B * A * N);
    double loss = 0;
    for (int i = 0; i < B; i++) {
        double p[2][64], po[2][64], m[64], q[2], qo[2];
        const risk_spec *risk = o ? o->risk : NULL;
        laws_of(yt + i * A * N, A, N, vmin, dz, risk, p, q);
        laws_of(yo + i * A * N, A, N, vmin, dz, risk, po, qo);
        const double *rank = o && o->online_pick ? qo : q;
        int astar = next_action ? next_action[i] : (rank[1] > rank[0] ? 1 : 0);
        double g = o && o->discount ? o->discount[i] : cfg->agent.gamma;
        c51_project(N, vmin, vmax, rb->reward[i], rb->term[i] ? 0.0 : g, p[astar], m);
        double ce = c51_cross_entropy(N, y + (i * A + rb->action[i]) * N, m, NULL);
        loss += (o && o->weight ? o->weight[i] : 1.0) * ce;
        if (o && o->ce)
            o->ce[i] = ce;
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
    agent *a = make_agent(&cfg, &en, "relu", 11, 4);
    /* Let the online and target networks differ. */
    rng *r = rng_create(9, 1);
    mlp *tg = c51_target(a);
    for (size_t i = 0; i < tg->n_params; i++)
        tg->params[i] += (real)(0.3 * rng_normal(r));
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    /* control: a* = argmax Q_target(s', .) */
    double want = reference_loss(a, &cfg, &rb, NULL);
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    assert_close(st.loss, want, 1e-5 * fabs(want));
    /* policy evaluation: the given a' (two choices, to be sure it matters) */
    b.next_action = rb.next_action;
    want = reference_loss(a, &cfg, &rb, rb.next_action);
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    assert_close(st.loss, want, 1e-5 * fabs(want));
    int flipped[5];
    for (int i = 0; i < 5; i++)
        flipped[i] = 1 - rb.next_action[i];
    b.next_action = flipped;
    double want2 = reference_loss(a, &cfg, &rb, flipped);
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    assert_close(st.loss, want2, 1e-5 * fabs(want2));
    assert_true(fabs(want2 - want) > 1e-4);
    /* Terminated rows ignore s' entirely; truncated rows (terminated 0)
     * bootstrap, so changing s' changes their target. */
    b.next_action = NULL;
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    double base = st.loss;
    raw_batch rb2 = rb;
    for (int k = 0; k < 4; k++)
        rb2.next_obs[1 * 4 + k] += 0.7f, rb2.next_obs[4 * 4 + k] -= 0.7f; /* terminal rows */
    b.next_obs = rb2.next_obs;
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss == base);
    rb2.next_obs[0] += 0.7f; /* row 0 is not terminal */
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss != base);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

static void test_cross_entropy_gradient(void **state)
{
    (void)state;
    /* On the logits, in closed form: p Σm − m. */
    float l[7] = {0.3f, -1.2f, 2.0f, 0.0f, 0.7f, -0.4f, 1.1f}, g[7];
    double m[7] = {0.1, 0.0, 0.5, 0.1, 0.2, 0.0, 0.1};
    c51_cross_entropy(7, l, m, g);
    for (int j = 0; j < 7; j++) {
        float lp[7], lm[7];
        memcpy(lp, l, sizeof l);
        memcpy(lm, l, sizeof l);
        lp[j] += 1e-2f;
        lm[j] -= 1e-2f;
        double fd = (c51_cross_entropy(7, lp, m, NULL) - c51_cross_entropy(7, lm, m, NULL)) /
                    ((double)lp[j] - (double)lm[j]);
        assert_close(g[j], fd, 2e-4);
    }

    /* Through the network: every parameter of a tiny tanh net, unweighted
     * and with importance weights (one of them 0): the gradient applied is
     * the finite difference of the weighted loss reported. */
    static const float wts[5] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f};
    for (int wt = 0; wt < 2; wt++) {
        exp_config cfg;
        env *en;
        agent *a = make_agent(&cfg, &en, "tanh", 7, 5);
        rng *r = rng_create(11, 1);
        raw_batch rb;
        fill_batch(&rb, r);
        agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, wt ? wts : NULL, NULL};
        agent_stats st;
        bdrl_err e;
        mlp *net = c51_online(a);
        assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
        real *grad = malloc(sizeof(real) * net->n_params);
        memcpy(grad, net->grads, sizeof(real) * net->n_params);
        double worst = 0;
        for (size_t i = 0; i < net->n_params; i++) {
            real keep = net->params[i];
            const real h = 1e-2f;
            net->params[i] = keep + h;
            real up = net->params[i];
            assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
            double lp = st.loss;
            net->params[i] = keep - h;
            real dn = net->params[i];
            assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
            double lm = st.loss;
            net->params[i] = keep;
            double fd = (lp - lm) / ((double)up - (double)dn);
            double err = fabs(fd - grad[i]) / (1e-3 + fabs(grad[i]));
            worst = err > worst ? err : worst;
            if (fabs(fd - grad[i]) > 2e-4 + 2e-2 * fabs(grad[i]))
                fail_msg("parameter %zu: backprop %.6g, finite difference %.6g", i, (double)grad[i], fd);
        }
        print_message("c51%s gradient check: %zu parameters, worst relative error %.2e\n", wt ? " weighted" : "",
                      net->n_params, worst);
        free(grad);
        rng_free(r);
        agent_free(a);
        env_free(en);
    }
}

/* Lets the target network drift from the online one until some
 * non-terminal row's a* differs between them (by Q, or ρ of risk). */
static void make_argmax_differ(agent *a, const exp_config *cfg, const raw_batch *rb, const risk_spec *risk, rng *r)
{
    int N = cfg->c51.atoms;
    double dz = (cfg->agent.v_max - cfg->agent.v_min) / (N - 1);
    real x[20], yo[5 * 2 * 64], yt[5 * 2 * 64];
    for (int i = 0; i < 20; i++)
        x[i] = rb->next_obs[i];
    mlp *tg = c51_target(a);
    for (int t = 0; t < 20; t++) {
        for (size_t i = 0; i < tg->n_params; i++)
            tg->params[i] += (real)(0.3 * rng_normal(r));
        memcpy(yo, mlp_forward(c51_online(a), 5, x), sizeof(real) * 5 * 2 * N);
        memcpy(yt, mlp_forward(tg, 5, x), sizeof(real) * 5 * 2 * N);
        for (int i = 0; i < 5; i++) {
            double p[2][64], qo[2], qt[2];
            laws_of(yo + i * 2 * N, 2, N, cfg->agent.v_min, dz, risk, p, qo);
            laws_of(yt + i * 2 * N, 2, N, cfg->agent.v_min, dz, risk, p, qt);
            if (!rb->term[i] && (qo[1] > qo[0]) != (qt[1] > qt[0]))
                return;
        }
    }
    fail_msg("the online and target networks' a* never differed");
}

/* The batch's discounts, importance weights and sample_loss against the
 * reference: targets r + γ_i z with γ_i ≠ γ (γ² = 0.81 for a two-step
 * reward, and others), the weighted mean, each row's cross-entropy as its
 * sample_loss (their mean the unweighted loss), a discount of γ and
 * weights of 1 giving today's bits. */
static void test_discount_weight_sample_loss(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 11, 4);
    rng *r = rng_create(9, 1);
    mlp *tg = c51_target(a);
    for (size_t i = 0; i < tg->n_params; i++)
        tg->params[i] += (real)(0.3 * rng_normal(r));
    raw_batch rb;
    fill_batch(&rb, r);
    const double disc[5] = {0.81, 0.5, 0.3, 0.0, 0.2}, same[5] = {0.9, 0.9, 0.9, 0.9, 0.9};
    const float wts[5] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f}, ones[5] = {1, 1, 1, 1, 1};
    double sl[5], ce[5];
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, sl};
    agent_stats st;
    bdrl_err e;
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    double base = st.loss, want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, NULL, NULL, NULL, ce}), m = 0;
    assert_close(base, want, 1e-5 * want);
    for (int i = 0; i < 5; i++) {
        assert_close(sl[i], ce[i], 1e-5 * ce[i]);
        m += sl[i] / 5;
    }
    assert_close(m, base, 1e-12 * base);
    b.discount = disc;
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, NULL, disc, NULL, ce});
    assert_close(st.loss, want, 1e-5 * want);
    assert_true(fabs(st.loss - base) > 1e-3);
    b.weight = wts;
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    want = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, NULL, disc, wts, ce});
    assert_close(st.loss, want, 1e-5 * want);
    for (int i = 0; i < 5; i++)
        assert_close(sl[i], ce[i], 1e-5 * ce[i]); /* unweighted */
    b.discount = same;
    b.weight = ones;
    assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
    assert_true(st.loss == base);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* agent.double: a* ranks the ONLINE network's Q (or ρ with
 * agent.risk_target) at s', the law still the target's; with networks
 * whose a* differ on a row, the loss is the online-picked reference and not
 * the target-picked one (which is what it is with agent.double off). */
static void test_double_q(void **state)
{
    (void)state;
    const char *sets[2][3] = {{"agent.double=true", NULL, NULL},
                              {"agent.double=true", "agent.risk=cvar:0.3", "agent.risk_target=true"}};
    for (int rk = 0; rk < 2; rk++)
        for (int dbl = 0; dbl < 2; dbl++) {
            exp_config cfg;
            env *en;
            char *extra[3];
            int n = 0;
            for (int k = 0; k < 3; k++)
                if (sets[rk][k] && (k > 0 || dbl))
                    extra[n++] = (char *)sets[rk][k];
            char *base[] = {"env.name=cartpole", "agent.kind=c51", "agent.hidden=[6, 5]", "agent.v_min=-2",
                            "agent.v_max=3", "train.batch_size=5", "agent.gamma=0.9", "c51.atoms=11", "seed=4",
                            NULL, NULL, NULL};
            for (int k = 0; k < n; k++)
                base[9 + k] = extra[k];
            bdrl_err e;
            if (exp_load(&cfg, NULL, base, 9 + n, &e))
                fail_msg("%s", e.msg);
            en = env_create(&cfg.env, &e);
            rng *init = rng_create(4, RNG_STREAM_INIT);
            agent *a = agent_create(&cfg, en, init, &e);
            rng_free(init);
            if (!a)
                fail_msg("%s", e.msg);
            assert_true((strstr(agent_describe(a), "; double") != NULL) == dbl);
            const risk_spec *risk = rk ? &cfg.agent.risk : NULL;
            rng *r = rng_create(9, 1);
            raw_batch rb;
            fill_batch(&rb, r);
            make_argmax_differ(a, &cfg, &rb, risk, r);
            agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
            agent_stats st;
            double online = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){1, risk, NULL, NULL, NULL});
            double target = reference_loss_x(a, &cfg, &rb, NULL, &(ref_opts){0, risk, NULL, NULL, NULL});
            assert_true(fabs(online - target) > 1e-4);
            assert_int_equal(c51_loss_grad(a, &b, &st, &e), 0);
            assert_close(st.loss, dbl ? online : target, 1e-5 * st.loss);
            rng_free(r);
            agent_free(a);
            env_free(en);
        }
}

static void test_q_is_mean_of_distribution(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 51, 6);
    rng *r = rng_create(2, 1);
    bdrl_err e;
    float obs[40 * 4];
    for (int i = 0; i < 40 * 4; i++)
        obs[i] = (float)(2 * rng_uniform(r) - 1);
    double q[40 * 2];
    /* 40 rows > max batch (32): q_values works in chunks */
    assert_int_equal(agent_q_values(a, 40, obs, q, &e), 0);
    for (int i = 0; i < 40; i++)
        for (int k = 0; k < 2; k++) {
            agent_dist d;
            assert_int_equal(agent_distribution(a, obs + 4 * i, k, &d, &e), 0);
            assert_int_equal(d.n, 51);
            assert_false(d.is_density);
            assert_close(d.x[0], -2.0, 1e-12);
            assert_close(d.x[50], 3.0, 1e-12);
            double s = 0, mean = 0;
            for (int j = 0; j < d.n; j++) {
                s += d.w[j];
                mean += d.x[j] * d.w[j];
            }
            assert_close(s, 1.0, 1e-12);
            assert_close(q[i * 2 + k], mean, 2e-5 * (1 + fabs(mean)));
        }
    /* greedy = argmax Q */
    int act;
    assert_int_equal(agent_greedy(a, obs, &act, &e), 0);
    assert_int_equal(act, q[1] > q[0] ? 1 : 0);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

static void test_target_update_and_save_load(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 11, 7);
    mlp *net = c51_online(a), *tg = c51_target(a);
    assert_memory_equal(net->params, tg->params, sizeof(real) * net->n_params);
    rng *r = rng_create(1, 1);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    for (int k = 0; k < 5; k++)
        assert_int_equal(agent_update(a, &b, &st, &e), 0);
    assert_true(isfinite(st.loss) && isfinite(st.grad_norm) && st.grad_norm > 0);
    assert_true(memcmp(net->params, tg->params, sizeof(real) * net->n_params) != 0);
    real *old = malloc(sizeof(real) * tg->n_params);
    memcpy(old, tg->params, sizeof(real) * tg->n_params);
    agent_update_target(a, 0.5);
    for (size_t i = 0; i < tg->n_params; i++)
        assert_close(tg->params[i], old[i] + 0.5f * (net->params[i] - old[i]), 1e-6);
    agent_update_target(a, 1.0);
    assert_memory_equal(net->params, tg->params, sizeof(real) * net->n_params);
    free(old);

    /* Save, keep training, load: back to the saved networks and optimizer. */
    agent_update_target(a, 1.0);
    agent_update(a, &b, &st, &e);
    FILE *f = tmpfile();
    assert_int_equal(a->ops->save(a, f, &e), 0);
    long size = ftell(f);
    double q0[2], q1[2];
    assert_int_equal(agent_q_values(a, 1, rb.obs, q0, &e), 0);
    agent_update(a, &b, &st, &e);
    agent_update(a, &b, &st, &e);
    agent_update(a, &b, &st, &e);
    double loss3 = st.loss; /* depends on the Adam moments saved above */
    agent_update_target(a, 1.0);
    rewind(f);
    assert_int_equal(a->ops->load(a, f, &e), 0);
    assert_int_equal(agent_q_values(a, 1, rb.obs, q1, &e), 0);
    assert_true(q0[0] == q1[0] && q0[1] == q1[1]);
    agent_update(a, &b, &st, &e);
    agent_update(a, &b, &st, &e);
    agent_update(a, &b, &st, &e);
    assert_true(st.loss == loss3); /* the same steps again: networks and Adam state came back */

    /* Into a fresh agent of another seed; a truncated file changes nothing. */
    exp_config cfg2;
    env *en2;
    agent *a2 = make_agent(&cfg2, &en2, "relu", 11, 99);
    double q2[2], q3[2];
    assert_int_equal(agent_q_values(a2, 1, rb.obs, q2, &e), 0);
    FILE *g = tmpfile();
    char *buf = malloc((size_t)size);
    rewind(f);
    assert_int_equal((long)fread(buf, 1, (size_t)size, f), size);
    fwrite(buf, 1, (size_t)size - 9, g);
    rewind(g);
    assert_int_equal(a2->ops->load(a2, g, &e), -1);
    assert_int_equal(agent_q_values(a2, 1, rb.obs, q3, &e), 0);
    assert_true(q2[0] == q3[0] && q2[1] == q3[1]);
    rewind(f);
    assert_int_equal(a2->ops->load(a2, f, &e), 0);
    assert_int_equal(agent_q_values(a2, 1, rb.obs, q3, &e), 0);
    assert_true(q0[0] == q3[0] && q0[1] == q3[1]);
    /* a different shape is refused with a message */
    exp_config cfg3;
    env *en3;
    agent *a3 = make_agent(&cfg3, &en3, "relu", 13, 7);
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

/* agent.ema: the average follows d·before + (1−d)·online after each update,
 * the distribution op reads it, and checkpoints carry it. */
static void test_moving_average(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent_x(&cfg, &en, "relu", 11, 7, "agent.ema=0.9");
    mlp *net = c51_online(a), *avg = c51_average(a);
    assert_non_null(avg);
    assert_memory_equal(net->params, avg->params, sizeof(real) * net->n_params);
    rng *r = rng_create(1, 1);
    raw_batch rb;
    fill_batch(&rb, r);
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    real *old = malloc(sizeof(real) * avg->n_params);
    for (int k = 0; k < 3; k++) {
        memcpy(old, avg->params, sizeof(real) * avg->n_params);
        assert_int_equal(agent_update(a, &b, &st, &e), 0);
        for (size_t i = 0; i < avg->n_params; i++)
            assert_close(avg->params[i], 0.9 * old[i] + 0.1 * net->params[i], 1e-6);
    }
    assert_true(memcmp(net->params, avg->params, sizeof(real) * net->n_params) != 0);
    /* The reported law: softmax of the average's logits. */
    agent_dist d;
    assert_int_equal(agent_distribution(a, rb.obs, 1, &d, &e), 0);
    real x[4];
    for (int i = 0; i < 4; i++)
        x[i] = rb.obs[i];
    const real *y = mlp_forward(avg, 1, x) + 11;
    double mx = -INFINITY, sum = 0;
    for (int j = 0; j < 11; j++)
        mx = fmax(mx, y[j]);
    for (int j = 0; j < 11; j++)
        sum += exp(y[j] - mx);
    for (int j = 0; j < 11; j++)
        assert_close(d.w[j], exp(y[j] - mx) / sum, 1e-6);
    /* Round trip through a checkpoint into an agent of another seed. */
    FILE *f = tmpfile();
    assert_int_equal(a->ops->save(a, f, &e), 0);
    exp_config cfg2;
    env *en2;
    agent *a2 = make_agent_x(&cfg2, &en2, "relu", 11, 99, "agent.ema=0.9");
    rewind(f);
    assert_int_equal(a2->ops->load(a2, f, &e), 0);
    assert_memory_equal(c51_average(a2)->params, avg->params, sizeof(real) * avg->n_params);
    fclose(f);
    free(old);
    agent_free(a2);
    env_free(en2);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

/* A single terminal transition, learned: the distribution becomes the
 * projection of its reward (0.35 on atoms 0, 0.5, ... is 30%/70%... here
 * -2..3 in 11 atoms of 0.5: r = 0.35 splits 0.3/0.7 between 0 and 0.5). */
static void test_learns_a_terminal_reward(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 11, 8);
    raw_batch rb;
    rng *r = rng_create(5, 1);
    fill_batch(&rb, r);
    for (int i = 0; i < 5; i++) {
        memcpy(rb.obs + 4 * i, rb.obs, 4 * sizeof(float));
        rb.action[i] = 1;
        rb.reward[i] = 0.35f;
        rb.term[i] = 1;
    }
    agent_batch b = {5, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    for (int k = 0; k < 1500; k++)
        assert_int_equal(agent_update(a, &b, &st, &e), 0);
    agent_dist d;
    assert_int_equal(agent_distribution(a, rb.obs, 1, &d, &e), 0);
    /* atoms -2, -1.5, ..., 3: 0.35 = 0 + 0.7·0.5 -> atom 4 (0.0) gets 0.3, atom 5 (0.5) 0.7 */
    assert_close(d.w[4], 0.3, 0.02);
    assert_close(d.w[5], 0.7, 0.02);
    double q[2];
    agent_q_values(a, 1, rb.obs, q, &e);
    assert_close(q[1], (float)0.35f, 0.02);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

static void test_bad_batches(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    agent *a = make_agent(&cfg, &en, "relu", 11, 8);
    raw_batch rb;
    rng *r = rng_create(5, 1);
    fill_batch(&rb, r);
    agent_batch b = {33, rb.obs, rb.action, rb.reward, rb.next_obs, rb.term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    assert_int_equal(agent_update(a, &b, &st, &e), -1); /* max batch is max(5, 32) */
    assert_contains(e.msg, "batch of 33 rows");
    b.B = 5;
    rb.action[2] = 2;
    assert_int_equal(agent_update(a, &b, &st, &e), -1);
    assert_contains(e.msg, "action out of range");
    assert_int_equal(agent_distribution(a, rb.obs, 5, &(agent_dist){0}, &e), -1);
    rng_free(r);
    agent_free(a);
    env_free(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_mass_conserved),
        cmocka_unit_test(test_project_exact_on_grid),
        cmocka_unit_test(test_project_clips_both_ends),
        cmocka_unit_test(test_project_terminal_and_gamma0),
        cmocka_unit_test(test_project_halfway_splits_evenly),
        cmocka_unit_test(test_update_targets),
        cmocka_unit_test(test_cross_entropy_gradient),
        cmocka_unit_test(test_discount_weight_sample_loss),
        cmocka_unit_test(test_double_q),
        cmocka_unit_test(test_q_is_mean_of_distribution),
        cmocka_unit_test(test_target_update_and_save_load),
        cmocka_unit_test(test_moving_average),
        cmocka_unit_test(test_learns_a_terminal_reward),
        cmocka_unit_test(test_bad_batches),
    };
    return cmocka_run_group_tests_name("c51", tests, NULL, NULL);
}
