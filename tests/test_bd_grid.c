/* Tests of the Bellman Diffusion agent on a grid (bd.field grid,
 * src/agents/bd_grid.h, docs/design.md §1.4): the target formulas against hand values, the same targets through the
 * networks with weights set to known functions, Q against an independent
 * grid mean, the query law's independence of s', dL/dx flowing into the
 * torso (finite differences), checkpoints, and two small learning problems
 * with stochastic outcomes (0.8/0.2) trained by calling update directly. */
#include "test_util.h"

#include <malloc.h>

#include "agents/bd_grid.h"
#include "train/limits.h"
#include "fields/fourier.h"
#include "stats/metrics.h"

#define NS 16 /* FrozenLake 4x4 states: the one-hot torso input */

typedef struct {
    exp_config cfg;
    env *en;
    agent *a;
} fixture;

/* A grid BD agent on FrozenLake 4x4 (used only for its one-hot encoding
 * and four actions) with the defaults plus the given overrides. */
static void make(fixture *f, uint64_t seed, const char *const *extra, int n_extra)
{
    char *sets[32];
    int n = 0;
    sets[n++] = "env.name=frozenlake";
    sets[n++] = "agent.kind=bd";
    sets[n++] = "bd.field=grid";
    for (int i = 0; i < n_extra; i++)
        sets[n++] = (char *)extra[i];
    bdrl_err e;
    if (exp_load(&f->cfg, NULL, sets, n, &e))
        fail_msg("config: %s", e.msg);
    f->en = env_create(&f->cfg.env, &e);
    assert_non_null(f->en);
    rng *init = rng_create(seed, RNG_STREAM_INIT);
    f->a = agent_create(&f->cfg, f->en, init, &e);
    rng_free(init);
    if (!f->a)
        fail_msg("agent_create: %s", e.msg);
}

static void unmake(fixture *f)
{
    agent_free(f->a);
    env_free(f->en);
}

static double normal_pdf(double x, double m, double var)
{
    return exp(-0.5 * (x - m) * (x - m) / var) / sqrt(2 * M_PI * var);
}

/* ---------------------------------------------------------------------- */
/* pure formulas                                                           */

static void test_terminal_target(void **state)
{
    (void)state;
    double eps = 1e-3, ur = 0.3, v[3] = {0.3, 0.3 + sqrt(1e-3), 0.3 - 2 * sqrt(1e-3)}, t[3], dt[3];
    bd_grid_target_terminal(3, v, ur, eps, t, dt);
    double peak = 1 / sqrt(2 * M_PI * eps);
    assert_close(t[0], peak, 1e-12 * peak);
    assert_close(dt[0], 0, 1e-12);
    assert_close(t[1], peak * exp(-0.5), 1e-12 * peak);
    assert_close(dt[1], -1 / sqrt(eps) * peak * exp(-0.5), 1e-9 * peak);
    assert_close(t[2], peak * exp(-2.0), 1e-12 * peak);
    assert_close(dt[2], 2 / sqrt(eps) * peak * exp(-2.0), 1e-9 * peak);
}

static void test_bootstrap_target(void **state)
{
    (void)state;
    /* γ = 0.5, b = 0.1: w = (v − 0.1)/0.5. */
    double v[5] = {0.1, 0.6, 0.8, -0.5, 0.3};
    /* w = 0, 1, 1.4 (outside [−1.25, 1.25]), −1.2, 0.4 */
    double sn[5] = {2, 3, 5, 1, -1}, gn[5] = {4, -4, 4, 6, 4}, t[5], dt[5];
    /* t = s / (γ mass) = s; dt = g / (γ² mass) = 2 g; 0 outside; clamped:
     * also 0 where s <= 0, signed: the negative value passes through. */
    double te[2][5] = {{2, 3, 0, 1, -1}, {2, 3, 0, 1, 0}}, dte[2][5] = {{8, -8, 0, 12, 8}, {8, -8, 0, 12, 0}};
    for (int clamp = 0; clamp < 2; clamp++) {
        bd_grid_target_bootstrap(5, v, 0.1, 0.5, -1.25, 1.25, sn, gn, 2.0, 0.1, clamp, t, dt);
        for (int i = 0; i < 5; i++) {
            assert_close(t[i], te[clamp][i], 1e-12);
            assert_close(dt[i], dte[clamp][i], 1e-12);
        }
        /* Mass below the floor: divided by the floor, not the mass. */
        bd_grid_target_bootstrap(5, v, 0.1, 0.5, -1.25, 1.25, sn, gn, 0.02, 0.1, clamp, t, dt);
        for (int i = 0; i < 5; i++) {
            assert_close(t[i], te[clamp][i] * 2.0 / 0.1, 1e-10);
            assert_close(dt[i], dte[clamp][i] * 2.0 / 0.1, 1e-10);
        }
    }
}

static void test_kernel_target(void **state)
{
    (void)state;
    double eps = 2e-3, x2[2] = {0.1, -0.4}, v[2] = {0.12, -0.3}, t[2], dt[2];
    bd_grid_target_kernel(2, v, 2, x2, 0.5, eps, t, dt);
    for (int i = 0; i < 2; i++) {
        double k = 0, dk = 0;
        for (int j = 0; j < 2; j++) {
            k += normal_pdf(v[i], x2[j], eps);
            dk += -(v[i] - x2[j]) / eps * normal_pdf(v[i], x2[j], eps);
        }
        assert_close(t[i], 0.5 * k / 2, 1e-12 * (1 + k));
        assert_close(dt[i], 0.5 * dk / 2, 1e-9 * (1 + fabs(dk)));
    }
}

/* The grid mean is the mean of stat_dist_grid's law (cells around the grid
 * points), and the grid inverse CDF samples exactly that law. */
static void test_grid_mean_and_icdf(void **state)
{
    (void)state;
    enum { G = 40 };
    double lo = -1.25, hi = 1.25, du = (hi - lo) / (G - 1);
    real s[G];
    double sd[G], cum[G], c = 0;
    rng *r = rng_create(5, 1);
    for (int k = 0; k < G; k++) {
        s[k] = (real)(rng_uniform(r) * 2 - 0.6); /* some negative values: clamped */
        sd[k] = s[k];
        c += s[k] > 0 ? s[k] : 0;
        cum[k] = c;
    }
    double mass, mean = bd_grid_mean(G, lo, hi, s, 1, 1.0, &mass, NULL);
    double m2;
    bdrl_err e;
    stat_dist *d = stat_dist_grid(sd, G, lo, hi, &m2, &e);
    assert_non_null(d);
    assert_close(mean, stat_dist_mean(d), 1e-12);
    assert_close(mass, m2, 1e-12);
    assert_close(mass, du * c, 1e-12);
    /* Endpoints of the cell law. */
    int first = 0;
    while (!(s[first] > 0))
        first++;
    assert_close(bd_grid_icdf(G, lo, hi, cum, 0.0), lo + (first - 0.5) * du, 1e-12);
    enum { N = 20000 };
    double *x = malloc(sizeof(double) * N);
    for (int i = 0; i < N; i++)
        x[i] = bd_grid_icdf(G, lo, hi, cum, rng_uniform(r));
    stat_dist *emp = stat_dist_sample(x, N, &e);
    stat_cmp cmp;
    stat_dist_compare(emp, d, &cmp);
    print_message("grid icdf: KS %.4f over %d draws\n", cmp.ks, N);
    assert_true(cmp.ks < 0.015); /* 1.63/sqrt(N) = 0.0115 is the 1% point */
    stat_dist_free(emp);
    stat_dist_free(d);
    free(x);
    rng_free(r);
}

/* bd_grid_mean as the agent calls it: one action's column of a (G, A)
 * block (stride A), times the output scale, with the running sums behind
 * the query law and the target samples; and the search over those sums
 * (bd_grid_icdf's, and the basis agent's draw of a bump). Hand values. */
static void test_grid_column_and_cum_index(void **state)
{
    (void)state;
    /* G = 5 points over [−1, 1] (du = 0.5), A = 2; column 1 is
     * {0.5, −1, 1, 0.25, 0}, times scale 2: x₊ = {1, 0, 2, 0.5, 0}. Column 0
     * must not be read. */
    real gv[10] = {9, 0.5f, 9, -1, -9, 1, 9, 0.25f, 9, 0};
    double cum[5], mass;
    double mean = bd_grid_mean(5, -1, 1, gv + 1, 2, 2.0, &mass, cum);
    const double want_cum[5] = {1, 1, 3, 3.5, 3.5};
    for (int k = 0; k < 5; k++)
        assert_close(cum[k], want_cum[k], 1e-15);
    assert_close(mass, 3.5 * 0.5, 1e-15);
    assert_close(mean, (1 * -1.0 + 2 * 0.0 + 0.5 * 0.5) / 3.5, 1e-15); /* −3/14 */
    /* mass and cum are optional */
    assert_close(bd_grid_mean(5, -1, 1, gv + 1, 2, 2.0, NULL, NULL), mean, 0);
    /* no positive value: the range's midpoint, mass 0, sums 0 */
    real neg[3] = {-1, 0, -2};
    mean = bd_grid_mean(3, -1.25, 0.75, neg, 1, 1.0, &mass, cum);
    assert_close(mean, -0.25, 1e-15);
    assert_close(mass, 0, 0);
    assert_close(cum[0] + cum[1] + cum[2], 0, 0);

    /* First k with cum[k] > x: the bins of weight 0 (0 and 2) are never
     * chosen; x at or past the total gives the last bin. */
    const double c2[5] = {0, 1, 1, 3, 3.5};
    assert_int_equal(bd_grid_cum_index(5, c2, -1), 0);
    assert_int_equal(bd_grid_cum_index(5, c2, 0), 1);
    assert_int_equal(bd_grid_cum_index(5, c2, 0.999), 1);
    assert_int_equal(bd_grid_cum_index(5, c2, 1), 3);
    assert_int_equal(bd_grid_cum_index(5, c2, 3.4), 4);
    assert_int_equal(bd_grid_cum_index(5, c2, 3.5), 4);
    assert_int_equal(bd_grid_cum_index(1, want_cum, 7), 0);
}

/* ---------------------------------------------------------------------- */
/* networks set to known functions                                         */

/* field_a(u) = alpha_a relu(u + 2) + beta_a relu(u) for every state: the
 * head's first layer reads only the u column of its input (column E, after
 * the embedding), two hidden units carry relu(u + 2) and relu(u), and the
 * output layer mixes them (divided by the field's output scale). */
static void set_known(agent *a, bd_field f, int target, const double *alpha, const double *beta)
{
    mlp *h = bd_grid_net(a, f, 1, target), *t = bd_grid_net(a, f, 0, target);
    bd_geometry g;
    bd_grid_settings st;
    bd_grid_get_geometry(a, &g, &st);
    double scale = f == BD_FIELD_S ? st.out_scale_s : st.out_scale_g;
    int E = t->spec.sizes[t->spec.n_layers], nin = h->spec.sizes[0], H1 = h->spec.sizes[1];
    assert_int_equal(h->spec.n_layers, 3);
    assert_int_equal(h->spec.act, MLP_RELU);
    memset(h->params, 0, h->n_params * sizeof(real));
    h->W[0][0 * nin + E] = 1;
    h->b[0][0] = 2;
    h->W[0][1 * nin + E] = 1;
    h->W[1][0 * H1 + 0] = 1;
    h->W[1][1 * H1 + 1] = 1;
    int H2 = h->spec.sizes[2];
    for (int k = 0; k < mlp_n_out(h); k++) {
        h->W[2][k * H2 + 0] = (real)(alpha[k] / scale);
        h->W[2][k * H2 + 1] = (real)(beta[k] / scale);
    }
}

static double known(double u, double alpha, double beta)
{
    return alpha * fmax(u + 2, 0) + beta * fmax(u, 0);
}

/* Grid mass of max(field, 0) and the mean of that law. */
static double known_mass(const bd_geometry *g, double alpha, double beta, double *mean)
{
    double m = 0, mu = 0;
    for (int k = 0; k < g->G; k++) {
        double u = g->lo + k * g->du, s = fmax(known(u, alpha, beta), 0);
        m += s;
        mu += u * s;
    }
    if (mean)
        *mean = mu / m;
    return m * g->du;
}

static const double S_ALPHA[4] = {1, 1, 1, 1}, S_BETA[4] = {0, 0.5, 2, 1};
static const double G_ALPHA[4] = {3, 5, 7, 9}, G_BETA[4] = {0, 0, 0, 0};

/* The online scalar field of the agent.double cases: argmax Q is action 1
 * (the largest β), where the target field's is action 2. */
static const double ON_ALPHA[4] = {1, 1, 1, 1}, ON_BETA[4] = {0, 3, 0.5, 0};

/* The whole target pipeline with known next-state fields: a terminal
 * transition, bootstrapped ones with a' = argmax (control) and with a'
 * given (policy evaluation), one of them through a field whose mass is
 * below the floor. */
/* grad_scalar: bd.grad_target scalar, ∂p_T from the scalar target field's
 * derivative α + β·1[w > 0] (checked away from its kinks at w = 0, −2).
 * disc: the batch's discounts γ_i (NULL: γ), in b = (r − (1 − γ_i)c)/h,
 * w = (v − b)/γ_i and the factors γ_i^-1, γ_i^-2. dbl: agent.double, a' the
 * argmax of the ONLINE field (set to ON_*), the targets still the target
 * field's at it. */
static void targets_through_networks(int clamp, int grad_scalar, const double *disc, int dbl)
{
    const char *sets[] = {"agent.gamma=0.9", "train.batch_size=4",
                          clamp ? "bd.clamp_target=true" : "bd.clamp_target=false",
                          grad_scalar ? "bd.grad_target=scalar" : "bd.grad_target=gradient", "agent.double=true"};
    fixture f;
    make(&f, 3, sets, dbl ? 5 : 4);
    if (dbl)
        set_known(f.a, BD_FIELD_S, 0, ON_ALPHA, ON_BETA);
    bd_geometry g;
    bd_grid_settings st;
    bd_grid_get_geometry(f.a, &g, &st);
    assert_close(g.c, 0.5, 0);
    assert_close(g.h, 0.5, 0);
    double sa[4], sb[4];
    memcpy(sa, S_ALPHA, sizeof sa);
    memcpy(sb, S_BETA, sizeof sb);
    sa[3] = 0.001; /* action 3: mass 0.005, below the floor 0.1 */
    sb[3] = 0;
    sb[0] = -3;    /* action 0: negative above u = 1, so clamping matters */
    set_known(f.a, BD_FIELD_S, 1, sa, sb);
    set_known(f.a, BD_FIELD_G, 1, G_ALPHA, G_BETA);
    float obs[4] = {0, 1, 5, 9}, nobs[4] = {0, 2, 6, 10}, rew[4] = {1, 0, 1, 0};
    int act[4] = {1, 2, 3, 0}, nact[4] = {0, 0, 3, 2};
    unsigned char term[4] = {1, 0, 0, 0};
    int Q = st.queries;
    double u[4 * 64], t[4 * 64], dt[4 * 64];
    int an[4];
    for (int mode = 0; mode < 2; mode++) {
        agent_batch b = {4, obs, act, rew, nobs, term, mode ? nact : NULL, disc, NULL, NULL};
        bdrl_err e;
        if (bd_grid_debug_targets(f.a, &b, u, t, dt, an, &e))
            fail_msg("%s", e.msg);
        /* control: argmax_a of Q over the known fields is action 2 (largest
         * beta, so the largest mean); the online field's is action 1. */
        assert_int_equal(an[0], -1);
        for (int i = 1; i < 4; i++)
            assert_int_equal(an[i], mode ? nact[i] : dbl ? 1 : 2);
        int checked_inside = 0, checked_outside = 0, checked_negative = 0;
        for (int i = 0; i < 4; i++)
            for (int q = 0; q < Q; q++) {
                double uq = u[i * Q + q], te, dte;
                if (term[i]) {
                    double ur = (rew[i] - g.c) / g.h;
                    te = normal_pdf(uq, ur, st.eps);
                    dte = -(uq - ur) / st.eps * te;
                } else {
                    int a2 = an[i];
                    double gi = disc ? disc[i] : g.gamma;
                    double bb = (rew[i] - (1 - gi) * g.c) / g.h, w = (uq - bb) / gi;
                    /* Divided by the positive part's mass in both modes. */
                    double mass = known_mass(&g, sa[a2], sb[a2], NULL);
                    double m = fmax(mass, g.mass_floor), sw = known(w, sa[a2], sb[a2]);
                    if (w < g.lo || w > g.hi || (clamp && sw <= 0)) {
                        te = dte = 0;
                        checked_outside++;
                    } else {
                        te = sw / (gi * m);
                        double dw = grad_scalar ? sa[a2] + (w > 0 ? sb[a2] : 0.0) : known(w, G_ALPHA[a2], G_BETA[a2]);
                        dte = dw / (gi * gi * m);
                        if (grad_scalar && (fabs(w) < 2 * BD_FD_STEP || fabs(w + 2) < 2 * BD_FD_STEP)) {
                            /* a kink inside w ± δ/2: not checked */
                            dte = dt[i * Q + q];
                            te = t[i * Q + q];
                        }
                        checked_inside++;
                        checked_negative += sw < 0;
                    }
                }
                assert_close(t[i * Q + q], te, 2e-5 * (1 + fabs(te)));
                /* The central difference in float: 1e-7 · |s| / δ of rounding. */
                assert_close(dt[i * Q + q], dte, (grad_scalar ? 2e-3 : 2e-5) * (1 + fabs(dte)));
            }
        /* Transition 2 (b = 1.9) maps most of the range outside the grid. */
        assert_true(checked_outside > 0);
        assert_true(checked_inside > 10);
        /* Evaluation mode bootstraps transition 1 from action 0, negative
         * near the top of the grid: the signed targets were checked there
         * (at γ; its own discount maps the queries elsewhere). */
        if (mode && !clamp && !disc)
            assert_true(checked_negative > 0);
    }
    unmake(&f);
}

static void test_targets_through_networks(void **state)
{
    (void)state;
    /* γ_i ≠ γ (0.9): 0.81 = γ² for a two-step reward; row 0 is terminal */
    const double disc[4] = {0.3, 0.81, 0.6, 0.95};
    for (int k = 0; k < 4; k++) {
        targets_through_networks(k % 2, k / 2, NULL, 0);
        targets_through_networks(k % 2, k / 2, disc, 0);
    }
    targets_through_networks(0, 0, NULL, 1);
    targets_through_networks(1, 1, disc, 1);
}

/* Target mode samples with the batch's discounts γ_i ≠ γ: each transition's
 * kernel targets sit at γ_i u' + b, b = (r − (1 − γ_i)c)/h, u' drawn by the
 * grid inverse CDF of the known target field at (s', a') from the target
 * stream, replayed here from the same seed (no jitter: v = u, and the
 * stream's only draws are these). */
static void test_samples_targets_with_discount(void **state)
{
    (void)state;
    const char *sets[] = {"agent.gamma=0.9", "train.batch_size=4", "bd.target_mode=samples", "agent.eps_kernel=0.01"};
    fixture f;
    make(&f, 3, sets, 4);
    bd_geometry g;
    bd_grid_settings st;
    bd_grid_get_geometry(f.a, &g, &st);
    set_known(f.a, BD_FIELD_S, 1, S_ALPHA, S_BETA);
    float obs[4] = {0, 1, 5, 9}, nobs[4] = {0, 2, 6, 10}, rew[4] = {1, 0, 1, 0};
    int act[4] = {1, 2, 3, 0}, nact[4] = {0, 1, 3, 2};
    unsigned char term[4] = {1, 0, 0, 0};
    const double disc[4] = {0.5, 0.81, 0.3, 0.6}; /* 0.81 = γ²: a two-step reward */
    int Q = st.queries, G = g.G;
    double u[4 * 64], t[4 * 64], dt[4 * 64], x2[64], te[64], dte[64], cum[256];
    agent_batch b = {4, obs, act, rew, nobs, term, nact, disc, NULL, NULL};
    bdrl_err e;
    bd_grid_reseed(f.a, 11);
    if (bd_grid_debug_targets(f.a, &b, u, t, dt, NULL, &e))
        fail_msg("%s", e.msg);
    rng *rt = rng_create(11, RNG_STREAM_LOSS + 100);
    int checked = 0;
    for (int i = 1; i < 4; i++) {
        real sv[256];
        for (int k = 0; k < G; k++)
            sv[k] = (real)known(g.lo + k * g.du, S_ALPHA[nact[i]], S_BETA[nact[i]]);
        double mass;
        bd_grid_mean(G, g.lo, g.hi, sv, 1, 1.0, &mass, cum);
        double bb = (rew[i] - (1 - disc[i]) * g.c) / g.h;
        for (int q = 0; q < Q; q++)
            x2[q] = disc[i] * bd_grid_icdf(G, g.lo, g.hi, cum, rng_uniform(rt)) + bb;
        bd_grid_target_kernel(Q, u + i * Q, Q, x2, mass / fmax(mass, g.mass_floor), st.eps, te, dte);
        for (int q = 0; q < Q; q++) {
            assert_close(t[i * Q + q], te[q], 1e-4 * (1 + fabs(te[q])));
            assert_close(dt[i * Q + q], dte[q], 1e-3 * (1 + fabs(dte[q])));
            checked += te[q] > 0.1;
        }
    }
    assert_true(checked > 5); /* some queries sit near the samples */
    rng_free(rt);
    unmake(&f);
}

/* bd.scalar_output: with relu or softplus the scalar field is >= 0 at every
 * point and state (relu: exactly 0 on part of the range), through both the
 * fast and the reference path; the gradient field stays signed. The linear
 * default is negative somewhere at initialization. */
static void test_scalar_output(void **state)
{
    (void)state;
    const char *names[3] = {"bd.scalar_output=linear", "bd.scalar_output=relu", "bd.scalar_output=softplus"};
    enum { N = 101 };
    double u[N], s[N * 4], g[N * 4];
    for (int i = 0; i < N; i++)
        u[i] = -1.25 + 2.5 * i / (N - 1);
    for (int k = 0; k < 3; k++) {
        fixture f;
        make(&f, 11, &names[k], 1);
        double smin = INFINITY, gmin = INFINITY;
        int zeros = 0;
        for (int st = 0; st < 16; st++)
            for (int ref = 0; ref < 2; ref++) {
                float obs = (float)st;
                bdrl_err e;
                if (bd_grid_eval_fields(f.a, &obs, 0, ref, N, u, s, g, &e))
                    fail_msg("%s", e.msg);
                for (int i = 0; i < N * 4; i++) {
                    smin = fmin(smin, s[i]);
                    gmin = fmin(gmin, g[i]);
                    zeros += s[i] == 0;
                }
            }
        print_message("%s: min s %.3g (%d zeros), min g %.3g\n", names[k], smin, zeros, gmin);
        assert_true(gmin < 0);
        if (k == 0)
            assert_true(smin < 0);
        else
            assert_true(smin >= 0);
        if (k == 1)
            assert_true(zeros > 0);
        unmake(&f);
    }
}

/* Query points depend on (s, a) and the query stream only: the same stream
 * gives the same points whatever s', r and the termination are; and the
 * non-uniform share follows the target field's own grid law at (s, a). */
/* qgrid: bd.query_grid (0: the main grid). */
static void query_law(int qgrid)
{
    char qg[64];
    snprintf(qg, sizeof qg, "bd.query_grid=%d", qgrid);
    const char *sets[] = {"train.batch_size=64", qg};
    fixture f;
    make(&f, 4, sets, 2);
    bd_geometry g;
    bd_grid_settings st;
    bd_grid_get_geometry(f.a, &g, &st);
    int G = qgrid ? qgrid : g.G;
    double du = (g.hi - g.lo) / (G - 1);
    set_known(f.a, BD_FIELD_S, 1, S_ALPHA, S_BETA);
    int B = 64, Q = st.queries;
    float obs[64], n1[64], n2[64], r1[64], r2[64];
    int act[64], na[64];
    unsigned char t1[64], t2[64];
    for (int i = 0; i < B; i++) {
        obs[i] = (float)(i % NS);
        act[i] = 2;
        n1[i] = (float)((i * 7) % NS);
        n2[i] = (float)((i * 3 + 5) % NS);
        r1[i] = (float)(i % 2);
        r2[i] = (float)((i + 1) % 2);
        t1[i] = i % 3 == 0;
        t2[i] = i % 2 == 0;
        na[i] = i % 4;
    }
    double *u1 = malloc(sizeof(double) * B * Q), *u2 = malloc(sizeof(double) * B * Q);
    agent_batch b1 = {B, obs, act, r1, n1, t1, NULL, NULL, NULL, NULL}, b2 = {B, obs, act, r2, n2, t2, na, NULL, NULL, NULL};
    bdrl_err e;
    bd_grid_reseed(f.a, 77);
    assert_int_equal(bd_grid_debug_targets(f.a, &b1, u1, NULL, NULL, NULL, &e), 0);
    bd_grid_reseed(f.a, 77);
    assert_int_equal(bd_grid_debug_targets(f.a, &b2, u2, NULL, NULL, NULL, &e), 0);
    for (int i = 0; i < B * Q; i++)
        assert_true(u1[i] == u2[i]);

    /* The law: n_uniform uniform points on the grid range, the rest from
     * the cells of s⁻₊(·; s, a). */
    enum { REPS = 25 };
    int nu = st.n_uniform, nd = Q - nu;
    assert_int_equal(nu, 8);
    double *xs = malloc(sizeof(double) * REPS * B * nd), *xu = malloc(sizeof(double) * REPS * B * nu);
    int ks = 0, ku = 0;
    for (int rep = 0; rep < REPS; rep++) {
        assert_int_equal(bd_grid_debug_targets(f.a, &b1, u1, NULL, NULL, NULL, &e), 0);
        for (int i = 0; i < B; i++)
            for (int q = 0; q < Q; q++) {
                double x = u1[i * Q + q];
                if (q < nu)
                    xu[ku++] = x;
                else
                    xs[ks++] = x;
            }
    }
    /* the law on the query grid, and (for the test's own power) on the other grid */
    double dens[256], densf[256];
    for (int k = 0; k < G; k++)
        dens[k] = known(g.lo + k * du, S_ALPHA[2], S_BETA[2]);
    for (int k = 0; k < g.G; k++)
        densf[k] = known(g.lo + k * g.du, S_ALPHA[2], S_BETA[2]);
    stat_dist *law = stat_dist_grid(dens, (size_t)G, g.lo, g.hi, NULL, &e);
    stat_dist *fine = stat_dist_grid(densf, (size_t)g.G, g.lo, g.hi, NULL, &e);
    stat_dist *emp = stat_dist_sample(xs, (size_t)ks, &e);
    stat_cmp c, cf;
    stat_dist_compare(emp, law, &c);
    stat_dist_compare(emp, fine, &cf);
    double umin = 1e9, umax = -1e9, umean = 0;
    for (int i = 0; i < ku; i++) {
        umin = fmin(umin, xu[i]);
        umax = fmax(umax, xu[i]);
        umean += xu[i] / ku;
    }
    print_message("query law on %d points: KS %.4f of %d density draws (%.4f to the %d-point law); uniform "
                  "share in [%.3f, %.3f], mean %.4f\n", G, c.ks, ks, cf.ks, g.G, umin, umax, umean);
    assert_true(c.ks < 0.02);
    if (qgrid)
        assert_true(cf.ks > 2 * c.ks); /* the coarse grid's law, not the main grid's */
    assert_true(umin >= g.lo && umax <= g.hi);
    assert_close(umean, 0, 0.03);
    stat_dist_free(law);
    stat_dist_free(fine);
    stat_dist_free(emp);
    free(xs);
    free(xu);
    free(u1);
    free(u2);
    unmake(&f);
}

static void test_query_law(void **state)
{
    (void)state;
    query_law(0);
    query_law(8);
}

/* Q equals the mean of the agent's own grid density read independently
 * (stat_dist_grid over the distribution op), and, with known fields, the
 * analytic grid mean. */
static void test_q_is_grid_mean(void **state)
{
    (void)state;
    fixture f;
    make(&f, 5, NULL, 0);
    bdrl_err e;
    for (int known_fields = 0; known_fields < 2; known_fields++) {
        if (known_fields)
            set_known(f.a, BD_FIELD_S, 0, S_ALPHA, S_BETA);
        float obs[NS];
        double q[NS * 4];
        for (int s = 0; s < NS; s++)
            obs[s] = (float)s;
        assert_int_equal(agent_q_values(f.a, NS, obs, q, &e), 0);
        for (int s = 0; s < NS; s++)
            for (int a = 0; a < 4; a++) {
                agent_dist d;
                assert_int_equal(agent_distribution(f.a, &obs[s], a, &d, &e), 0);
                assert_true(d.is_density && d.n >= 8);
                double mass;
                stat_dist *sd = stat_dist_grid(d.w, (size_t)d.n, d.x[0], d.x[d.n - 1], &mass, &e);
                assert_non_null(sd);
                /* Float field values, summed in two orders: 1e-7. */
                assert_close(q[s * 4 + a], stat_dist_mean(sd), 1e-7);
                /* agent_dist.mass is the mass in u units; stat_dist_grid
                 * integrates w = s/h over x: the same number. */
                assert_close(d.mass, mass, 1e-9 * (1 + mass));
                if (known_fields) {
                    bd_geometry g;
                    bd_grid_get_geometry(f.a, &g, NULL);
                    double mean, km = known_mass(&g, S_ALPHA[a], S_BETA[a], &mean);
                    assert_close(q[s * 4 + a], g.c + g.h * mean, 1e-5);
                    assert_close(d.mass, km, 1e-5 * km);
                }
                stat_dist_free(sd);
            }
    }
    unmake(&f);
}

/* The forward-only head path (grids, targets, sampler) agrees with
 * mlp_forward on [emb, fourier(u)], for the online and the target nets. */
static void test_fast_path_matches_mlp(void **state)
{
    (void)state;
    const char *sets[] = {"agent.activation=tanh"};
    for (int v = 0; v < 2; v++) {
        fixture f;
        make(&f, 6, sets, v);
        enum { N = 300 };
        double u[N], s0[N * 4], s1[N * 4], g0[N * 4], g1[N * 4];
        rng *r = rng_create(1, 2);
        for (int i = 0; i < N; i++)
            u[i] = -1.4 + 2.8 * rng_uniform(r);
        float obs = 6;
        bdrl_err e;
        agent_update_target(f.a, 1);
        bd_geometry g;
        bd_grid_settings st;
        bd_grid_get_geometry(f.a, &g, &st);
        /* The fast path sums the first layer in two parts (embedding and
         * Fourier columns) and uses libm's tanh where mlp.c has a rational
         * approximation (4e-7 absolute): allow 2e-6 of the output scale
         * (measured: at most 5e-7 of it). A layout error would be off by O(scale). */
        for (int tgt = 0; tgt < 2; tgt++) {
            assert_int_equal(bd_grid_eval_fields(f.a, &obs, tgt, 0, N, u, s0, g0, &e), 0);
            assert_int_equal(bd_grid_eval_fields(f.a, &obs, tgt, 1, N, u, s1, g1, &e), 0);
            double ds = 0, dg = 0;
            for (int i = 0; i < N * 4; i++) {
                ds = fmax(ds, fabs(s0[i] - s1[i]));
                dg = fmax(dg, fabs(g0[i] - g1[i]));
                assert_close(s0[i], s1[i], 2e-6 * st.out_scale_s + 1e-6 * fabs(s1[i]));
                assert_close(g0[i], g1[i], 2e-6 * st.out_scale_g + 1e-6 * fabs(g1[i]));
            }
            print_message("%s, %s nets: fast path vs mlp_forward: max |ds| %.3g, max |dg| %.3g\n",
                          v ? "tanh" : "relu", tgt ? "target" : "online", ds, dg);
        }
        rng_free(r);
        unmake(&f);
    }
}

/* ---------------------------------------------------------------------- */
/* gradient into the torso                                                 */

/* The loss update() minimizes, recomputed here from the debug targets and
 * the reference forward: 1/(BQ) Σ w_i (field(u)[a] − target)² (λ for g;
 * w_i the batch's weights, 1 without); each transition's own mean over its
 * rows, unweighted, into rows (NULL: not). */
static double loss_of(agent *a, bd_field f, const agent_batch *b, const double *u, const double *tt, int Q,
                      double lambda, double *rows)
{
    double *y = malloc(sizeof(double) * Q * 4), L = 0, c = f ? lambda : 1.0;
    bdrl_err e;
    for (int i = 0; i < b->B; i++) {
        assert_int_equal(bd_grid_eval_fields(a, &b->obs[i], 0, 1, Q, u + i * Q, f ? NULL : y, f ? y : NULL, &e), 0);
        double Li = 0;
        for (int q = 0; q < Q; q++) {
            double r = y[q * 4 + b->action[i]] - tt[i * Q + q];
            Li += r * r;
        }
        L += (b->weight ? b->weight[i] : 1.0) * Li;
        if (rows)
            rows[i] = c * Li / Q;
    }
    free(y);
    return c * L / (b->B * Q);
}

/* The torso's gradient against finite differences of the loss recomputed
 * here, unweighted and with importance weights (weight NULL or not); each
 * transition's sample_loss is its rows' mean of the scalar field's terms. */
static void gradient_reaches_torso(const float *weight)
{
    const char *sets[] = {"train.clip=0", "train.batch_size=8", "bd.lambda_grad=0.5"};
    fixture f;
    make(&f, 7, sets, 3);
    bd_geometry g;
    bd_grid_settings st;
    bd_grid_get_geometry(f.a, &g, &st);
    int B = 8, Q = st.queries;
    float obs[8] = {0, 1, 2, 4, 6, 8, 9, 14}, nobs[8] = {1, 2, 3, 5, 10, 9, 13, 15};
    float rew[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    int act[8] = {0, 1, 2, 3, 0, 1, 2, 2};
    unsigned char term[8] = {0, 0, 0, 1, 0, 0, 0, 1};
    double sl[8], rows[8];
    agent_batch b = {B, obs, act, rew, nobs, term, NULL, NULL, weight, sl};
    double *u = malloc(sizeof(double) * B * Q), *t = malloc(sizeof(double) * B * Q),
           *dt = malloc(sizeof(double) * B * Q);
    bdrl_err e;
    bd_grid_reseed(f.a, 9);
    assert_int_equal(bd_grid_debug_targets(f.a, &b, u, t, dt, NULL, &e), 0);
    for (int fld = 0; fld < 2; fld++) {
        mlp *nets[4] = {bd_grid_net(f.a, 0, 0, 0), bd_grid_net(f.a, 0, 1, 0), bd_grid_net(f.a, 1, 0, 0), bd_grid_net(f.a, 1, 1, 0)};
        real *saved[4];
        for (int k = 0; k < 4; k++) {
            saved[k] = malloc(nets[k]->n_params * sizeof(real));
            memcpy(saved[k], nets[k]->params, nets[k]->n_params * sizeof(real));
        }
        bd_grid_reseed(f.a, 9);
        agent_stats st;
        assert_int_equal(agent_update(f.a, &b, &st, &e), 0);
        mlp *torso = nets[2 * fld];
        real *grad = malloc(torso->n_params * sizeof(real));
        memcpy(grad, torso->grads, torso->n_params * sizeof(real));
        for (int k = 0; k < 4; k++)
            memcpy(nets[k]->params, saved[k], nets[k]->n_params * sizeof(real));
        double L0 = loss_of(f.a, fld, &b, u, fld ? dt : t, Q, 0.5, rows);
        assert_close(L0, fld ? st.loss_grad : st.loss, 1e-4 * L0);
        if (!fld) {
            double m = 0;
            for (int i = 0; i < B; i++) {
                assert_close(sl[i], rows[i], 1e-4 * rows[i] + 1e-9);
                m += sl[i] / B;
            }
            if (!weight)
                assert_close(m, st.loss, 1e-9 * st.loss);
        }
        /* The three torso weights with the largest gradients, in the first
         * and the last layer. */
        int checked = 0;
        for (int layer = 0; layer < torso->spec.n_layers; layer += torso->spec.n_layers - 1) {
            size_t lo_i = (size_t)(torso->W[layer] - torso->params);
            size_t n_i = (size_t)torso->spec.sizes[layer] * torso->spec.sizes[layer + 1];
            for (int rep = 0; rep < 3; rep++) {
                size_t j = lo_i;
                for (size_t k = lo_i; k < lo_i + n_i; k++)
                    if (fabsf(grad[k]) > fabsf(grad[j]))
                        j = k;
                double h = 1e-3, th = torso->params[j];
                torso->params[j] = (real)(th + h);
                double Lp = loss_of(f.a, fld, &b, u, fld ? dt : t, Q, 0.5, NULL);
                torso->params[j] = (real)(th - h);
                double Lm = loss_of(f.a, fld, &b, u, fld ? dt : t, Q, 0.5, NULL);
                torso->params[j] = (real)th;
                double fd = (Lp - Lm) / (2 * h);
                print_message("%s torso%s layer %d weight %zu: backprop %.6g, finite difference %.6g\n",
                              fld ? "gradient" : "scalar", weight ? " (weighted)" : "", layer, j - lo_i, grad[j], fd);
                assert_true(fabs(grad[j]) > 1e-6);
                assert_close(grad[j], fd, 0.03 * fabs(fd) + 1e-6);
                grad[j] = 0; /* next-largest next time */
                checked++;
            }
        }
        assert_int_equal(checked, 6);
        free(grad);
        for (int k = 0; k < 4; k++)
            free(saved[k]);
    }
    free(u);
    free(t);
    free(dt);
    unmake(&f);
}

static void test_gradient_reaches_torso(void **state)
{
    (void)state;
    static const float wts[8] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f, 3.0f, 0.25f, 1.0f};
    gradient_reaches_torso(NULL);
    gradient_reaches_torso(wts);
}

/* ---------------------------------------------------------------------- */
/* checkpoints                                                             */

static void test_save_load(void **state)
{
    (void)state;
    fixture f1, f2;
    make(&f1, 8, NULL, 0);
    make(&f2, 9, NULL, 0);
    float obs[64], nobs[64], rew[64];
    int act[64];
    unsigned char term[64];
    for (int i = 0; i < 64; i++) {
        obs[i] = (float)(i % NS);
        nobs[i] = (float)((i + 1) % NS);
        rew[i] = (float)(i % 5 == 0);
        act[i] = i % 4;
        term[i] = i % 5 == 0;
    }
    agent_batch b = {64, obs, act, rew, nobs, term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    for (int k = 0; k < 3; k++)
        assert_int_equal(agent_update(f1.a, &b, &st, &e), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/bd.ckpt", tu_dir);
    FILE *fp = fopen(path, "wb");
    assert_int_equal(f1.a->ops->save(f1.a, fp, &e), 0);
    fclose(fp);
    /* A truncated file fails and leaves the agent as it was. */
    double q2a[NS * 4], q2b[NS * 4], q1[NS * 4];
    float all[NS];
    for (int s = 0; s < NS; s++)
        all[s] = (float)s;
    assert_int_equal(agent_q_values(f2.a, NS, all, q2a, &e), 0);
    fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(path, size - 8), 0);
    fp = fopen(path, "rb");
    assert_int_not_equal(f2.a->ops->load(f2.a, fp, &e), 0);
    fclose(fp);
    print_message("truncated checkpoint: %s\n", e.msg);
    assert_int_equal(agent_q_values(f2.a, NS, all, q2b, &e), 0);
    for (int i = 0; i < NS * 4; i++)
        assert_true(q2a[i] == q2b[i]);
    /* The whole file: identical Q values, and identical next updates
     * (optimizer states and random streams restored). */
    fp = fopen(path, "wb");
    assert_int_equal(f1.a->ops->save(f1.a, fp, &e), 0);
    fclose(fp);
    fp = fopen(path, "rb");
    assert_int_equal(f2.a->ops->load(f2.a, fp, &e), 0);
    fclose(fp);
    assert_int_equal(agent_q_values(f1.a, NS, all, q1, &e), 0);
    assert_int_equal(agent_q_values(f2.a, NS, all, q2b, &e), 0);
    for (int i = 0; i < NS * 4; i++)
        assert_true(q1[i] == q2b[i]);
    agent_stats s1, s2;
    assert_int_equal(agent_update(f1.a, &b, &s1, &e), 0);
    assert_int_equal(agent_update(f2.a, &b, &s2, &e), 0);
    assert_true(s1.loss == s2.loss && s1.loss_grad == s2.loss_grad && s1.grad_norm == s2.grad_norm);
    assert_int_equal(agent_q_values(f1.a, NS, all, q1, &e), 0);
    assert_int_equal(agent_q_values(f2.a, NS, all, q2b, &e), 0);
    for (int i = 0; i < NS * 4; i++)
        assert_true(q1[i] == q2b[i]);
    unmake(&f1);
    unmake(&f2);
}

/* agent.ema: after an update the reported networks are d·before + (1−d)·
 * online, the distribution op reads them (not the online networks), and a
 * checkpoint carries them. */
static void test_moving_average(void **state)
{
    (void)state;
    const char *sets[] = {"agent.ema=0.75", "train.batch_size=16"};
    fixture f;
    make(&f, 12, sets, 2);
    fixture off;
    make(&off, 12, NULL, 0);
    assert_null(bd_grid_net(off.a, BD_FIELD_S, 0, 2));
    unmake(&off);
    real *before[2][2];
    for (int k = 0; k < 2; k++)
        for (int part = 0; part < 2; part++) {
            mlp *on = bd_grid_net(f.a, (bd_field)k, part, 0), *avg = bd_grid_net(f.a, (bd_field)k, part, 2);
            assert_non_null(avg);
            assert_int_equal(memcmp(on->params, avg->params, sizeof(real) * on->n_params), 0);
            before[k][part] = malloc(sizeof(real) * on->n_params);
            memcpy(before[k][part], on->params, sizeof(real) * on->n_params);
        }
    float obs[16], nobs[16], rew[16];
    int act[16];
    unsigned char term[16];
    for (int i = 0; i < 16; i++) {
        obs[i] = (float)(i % NS);
        nobs[i] = (float)((i + 3) % NS);
        rew[i] = (float)(i % 4 == 0);
        act[i] = i % 4;
        term[i] = i % 4 == 0;
    }
    agent_batch b = {16, obs, act, rew, nobs, term, NULL, NULL, NULL, NULL};
    agent_stats st;
    bdrl_err e;
    assert_int_equal(agent_update(f.a, &b, &st, &e), 0);
    int moved = 0;
    for (int k = 0; k < 2; k++)
        for (int part = 0; part < 2; part++) {
            mlp *on = bd_grid_net(f.a, (bd_field)k, part, 0), *avg = bd_grid_net(f.a, (bd_field)k, part, 2);
            for (size_t j = 0; j < on->n_params; j++) {
                double want = 0.75 * before[k][part][j] + 0.25 * on->params[j];
                assert_close(avg->params[j], want, 1e-6 * (1 + fabs(want)));
                moved += on->params[j] != before[k][part][j];
            }
            free(before[k][part]);
        }
    assert_true(moved > 100);
    /* The reported law is the averaged scalar field's, set here to a known
     * function; the online networks stay as trained. */
    set_known(f.a, BD_FIELD_S, 2, S_ALPHA, S_BETA);
    bd_geometry g;
    bd_grid_get_geometry(f.a, &g, NULL);
    float o = 5;
    agent_dist d;
    assert_int_equal(agent_distribution(f.a, &o, 2, &d, &e), 0);
    double mean_known;
    known_mass(&g, S_ALPHA[2], S_BETA[2], &mean_known);
    double m = 0, mu = 0;
    for (int k = 0; k < d.n; k++) {
        m += d.w[k];
        mu += d.w[k] * d.x[k];
    }
    assert_close(mu / m, g.c + g.h * mean_known, 1e-4);
    /* Checkpoint round trip: a fresh agent reports the same law. */
    char path[512];
    snprintf(path, sizeof path, "%s/bd_ema.ckpt", tu_dir);
    FILE *fp = fopen(path, "wb");
    assert_int_equal(f.a->ops->save(f.a, fp, &e), 0);
    fclose(fp);
    fixture f2;
    make(&f2, 99, sets, 2);
    fp = fopen(path, "rb");
    assert_int_equal(f2.a->ops->load(f2.a, fp, &e), 0);
    fclose(fp);
    agent_dist d2;
    assert_int_equal(agent_distribution(f2.a, &o, 2, &d2, &e), 0);
    for (int k = 0; k < d.n; k++)
        assert_close(d2.w[k], d.w[k], 1e-12);
    /* An agent without the average refuses that checkpoint, saying why. */
    fixture f3;
    make(&f3, 99, sets + 1, 1);
    fp = fopen(path, "rb");
    assert_int_not_equal(f3.a->ops->load(f3.a, fp, &e), 0);
    fclose(fp);
    assert_non_null(strstr(e.msg, "moving average"));
    unmake(&f3);
    unmake(&f2);
    unmake(&f);
}

/* ---------------------------------------------------------------------- */
/* learning                                                                */

/* Weight of returns above `split` in the agent's grid law at (obs, a), and
 * its W1 to the atoms (values v, probabilities p). */
static void score(agent *a, float obs, int act, double split, const double *v, const double *p, int n,
                  double *w_hi, double *w1, double *mass)
{
    agent_dist d;
    bdrl_err e;
    assert_int_equal(agent_distribution(a, &obs, act, &d, &e), 0);
    stat_dist *m = stat_dist_grid(d.w, (size_t)d.n, d.x[0], d.x[d.n - 1], mass, &e);
    stat_dist *t = stat_dist_atoms(v, p, (size_t)n, &e);
    assert_non_null(m);
    *w_hi = 1 - stat_dist_cdf(m, split);
    *w1 = stat_w1(m, t);
    stat_dist_free(m);
    stat_dist_free(t);
}

/* Adds the agent's normalized grid density at (obs, act) to acc (G). */
static void accumulate(agent *a, float obs, int act, double *acc)
{
    agent_dist d;
    bdrl_err e;
    assert_int_equal(agent_distribution(a, &obs, act, &d, &e), 0);
    double m = 0;
    for (int k = 0; k < d.n; k++)
        m += d.w[k];
    for (int k = 0; k < d.n; k++)
        acc[k] += m > 0 ? d.w[k] / m : 0;
}

/* The same scores for an accumulated density. */
static void score_acc(agent *a, const double *acc, double split, const double *v, const double *p, int n,
                      double *w_hi, double *w1)
{
    agent_dist d;
    bdrl_err e;
    float o = 0;
    assert_int_equal(agent_distribution(a, &o, 0, &d, &e), 0); /* for the grid's x */
    stat_dist *m = stat_dist_grid(acc, (size_t)d.n, d.x[0], d.x[d.n - 1], NULL, &e);
    stat_dist *t = stat_dist_atoms(v, p, (size_t)n, &e);
    assert_non_null(m);
    *w_hi = 1 - stat_dist_cdf(m, split);
    *w1 = stat_w1(m, t);
    stat_dist_free(m);
    stat_dist_free(t);
}

/* One-step bandit: state 0, action 0, terminal reward 1 with probability
 * 0.8 and 0 otherwise. The learned law must give the outcomes their
 * probabilities (a μ that depended on the outcome would push them towards
 * 0.5/0.5) and be close in W1. Then the default sampler on the learned
 * fields must reproduce the grid law. */
static void test_learns_bandit(void **state)
{
    (void)state;
    fixture f;
    make(&f, 10, NULL, 0);
    int B = f.cfg.train.batch_size;
    float *obs = calloc(B, sizeof(float)), *rew = calloc(B, sizeof(float));
    int *act = calloc(B, sizeof(int));
    unsigned char *term = malloc(B);
    memset(term, 1, B);
    agent_batch b = {B, obs, act, rew, obs, term, NULL, NULL, NULL, NULL};
    rng *r = rng_create(10, 1);
    agent_stats st;
    bdrl_err e;
    double acc[256] = {0};
    for (int k = 1; k <= 1500; k++) {
        for (int i = 0; i < B; i++)
            rew[i] = rng_uniform(r) < 0.8 ? 1.0f : 0.0f;
        assert_int_equal(agent_update(f.a, &b, &st, &e), 0);
        if (k % 100 == 0)
            agent_update_target(f.a, 1);
        if (k > 1000 && k % 10 == 0)
            accumulate(f.a, 0, 0, acc);
    }
    double v[2] = {0, 1}, p[2] = {0.2, 0.8}, whi, w1, mass, awhi, aw1;
    score(f.a, 0, 0, 0.5, v, p, 2, &whi, &w1, &mass);
    score_acc(f.a, acc, 0.5, v, p, 2, &awhi, &aw1);
    /* Measured (seed 10): the weight of return 1 fluctuates by about 0.025
     * (sd) from update to update around 0.79: half of it follows the reward
     * frequency of the latest batches (sd 0.05 per batch of 64), half is
     * optimization noise; the small bias comes from a noise floor of the
     * clamped field between the outcomes. The 0.5/0.5 failure docs/design.md warns
     * about would be off by 0.3. The ε-smoothing alone costs W1 0.0126. */
    print_message("bandit 0.8/0.2 after 1500 updates: weight of return 1 = %.4f, W1 %.4f, grid mass %.3f; "
                  "averaged over the last 500 updates: weight %.4f, W1 %.4f\n", whi, w1, mass, awhi, aw1);
    assert_close(whi, 0.8, 0.06);
    assert_true(w1 < 0.06);
    assert_close(awhi, 0.8, 0.03);
    assert_true(aw1 < 0.04);
    assert_close(mass, 1.0, 0.2);

    /* Sampling the learned fields with the default sampler (fewer walkers).
     * Measured with 4000 walkers: 300 steps leave the uniform start's
     * imprint (weight 0.748 against the grid's 0.767), 1000 steps do not
     * (0.777, W1 to the grid law 0.009). */
    sde_config sc;
    agent_sampler_defaults(f.a, &sc);
    enum { N = 600 };
    double x[N];
    sde_result res;
    float o = 0;
    if (agent_sample(f.a, &o, 0, &sc, N, x, &res, r, &e))
        fail_msg("%s", e.msg);
    int hi = 0;
    for (int i = 0; i < N; i++)
        hi += x[i] > 0.5;
    stat_dist *sd = stat_dist_sample(x, N, &e);
    agent_dist d;
    assert_int_equal(agent_distribution(f.a, &o, 0, &d, &e), 0);
    stat_dist *gd = stat_dist_grid(d.w, (size_t)d.n, d.x[0], d.x[d.n - 1], NULL, &e);
    double w1s = stat_w1(sd, gd);
    print_message("BDD samples (mala + global moves): weight of return 1 = %.3f, W1 to the grid law %.4f, "
                  "local accept %.2f, global accept %.2f, frozen %d\n",
                  (double)hi / N, w1s, res.local_accept, res.global_accept, res.n_frozen);
    assert_close((double)hi / N, whi, 0.06);
    assert_true(w1s < 0.035);
    stat_dist_free(sd);
    stat_dist_free(gd);
    free(obs);
    free(rew);
    free(act);
    free(term);
    rng_free(r);
    unmake(&f);
}

/* A two-state chain with bootstrapping: state 0 moves to state 1 with
 * reward 0 (non-terminal); state 1 ends with reward 1 (p 0.8) or 0. With
 * γ = 0.9, Z(0) is 0.9 with probability 0.8 and 0 otherwise. Batches mix
 * both kinds of transitions; a' is given (policy evaluation). */
static void test_learns_chain(void **state)
{
    (void)state;
    const char *sets[] = {"agent.gamma=0.9"};
    fixture f;
    make(&f, 11, sets, 1);
    int B = f.cfg.train.batch_size;
    float *obs = calloc(B, sizeof(float)), *nobs = calloc(B, sizeof(float)), *rew = calloc(B, sizeof(float));
    int *act = calloc(B, sizeof(int)), *na = calloc(B, sizeof(int));
    unsigned char *term = malloc(B);
    agent_batch b = {B, obs, act, rew, nobs, term, na, NULL, NULL, NULL};
    rng *r = rng_create(11, 1);
    agent_stats st;
    bdrl_err e;
    double acc0[256] = {0}, acc1[256] = {0};
    for (int k = 1; k <= 2000; k++) {
        if (k > 1500 && k % 10 == 0) {
            accumulate(f.a, 0, 0, acc0);
            accumulate(f.a, 1, 0, acc1);
        }
        for (int i = 0; i < B; i++) {
            int s = i % 2;
            obs[i] = (float)s;
            nobs[i] = (float)(s + 1);
            term[i] = s == 1;
            rew[i] = s == 1 && rng_uniform(r) < 0.8 ? 1.0f : 0.0f;
        }
        assert_int_equal(agent_update(f.a, &b, &st, &e), 0);
        if (k % 100 == 0)
            agent_update_target(f.a, 1);
    }
    double v1[2] = {0, 1}, v0[2] = {0, 0.9}, p[2] = {0.2, 0.8}, whi0, w10, m0, whi1, w11, m1;
    score(f.a, 1, 0, 0.5, v1, p, 2, &whi1, &w11, &m1);
    score(f.a, 0, 0, 0.45, v0, p, 2, &whi0, &w10, &m0);
    double awhi0, aw10, awhi1, aw11;
    score_acc(f.a, acc1, 0.5, v1, p, 2, &awhi1, &aw11);
    score_acc(f.a, acc0, 0.45, v0, p, 2, &awhi0, &aw10);
    print_message("chain after 2000 updates: Z(1) weight %.4f W1 %.4f mass %.3f; Z(0) weight %.4f W1 %.4f "
                  "mass %.3f\n", whi1, w11, m1, whi0, w10, m0);
    print_message("chain, averaged over the last 500 updates: Z(1) weight %.4f W1 %.4f; Z(0) weight %.4f "
                  "W1 %.4f\n", awhi1, aw11, awhi0, aw10);
    assert_close(whi1, 0.8, 0.06);
    assert_close(whi0, 0.8, 0.06);
    assert_true(w11 < 0.06);
    assert_true(w10 < 0.06);
    assert_close(awhi1, 0.8, 0.03);
    assert_close(awhi0, 0.8, 0.03);
    assert_true(aw11 < 0.04);
    assert_true(aw10 < 0.045);
    free(obs);
    free(nobs);
    free(rew);
    free(act);
    free(na);
    free(term);
    rng_free(r);
    unmake(&f);
}

/* Weights of exactly 1 and discounts equal to agent.gamma are today's
 * arithmetic: two agents of one seed, one given them with every batch,
 * train to the same bits (sample_loss asked for or not). */
static void test_neutral_fields_are_bit_exact(void **state)
{
    (void)state;
    const char *sets[] = {"train.batch_size=4", "agent.gamma=0.95"};
    fixture f[2];
    make(&f[0], 31, sets, 2);
    make(&f[1], 31, sets, 2);
    tu_neutral_fields_bit_exact(f[0].a, f[1].a);
    unmake(&f[1]);
    unmake(&f[0]);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *sets[] = {"train.batch_size=4"};
    fixture f;
    make(&f, 12, sets, 1);
    float obs[8] = {0};
    int act[8] = {0}, bad[8] = {7};
    unsigned char term[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    agent_batch b = {8, obs, act, obs, obs, term, NULL, NULL, NULL, NULL};
    bdrl_err e;
    /* agent_check_batch's messages, prefixed by the agent */
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: batch of 8 rows (this agent was built for 1 to 4)");
    b.B = 2;
    b.action = bad;
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: action out of range in row 0 of the batch");
    float rew[2] = {0, NAN};
    b.action = act;
    b.reward = rew;
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: reward nan in row 1 of the batch is not finite");
    /* the grid's map divides by a non-terminal row's discount */
    rew[1] = 0;
    term[1] = 0;
    const double disc[2] = {0.5, 0.0};
    b.discount = disc;
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: discount 0 in row 1 of the batch (the grid's Bellman map divides by it)");
    agent_dist d;
    assert_int_not_equal(agent_distribution(f.a, obs, 4, &d, &e), 0);
    assert_non_null(strstr(agent_describe(f.a), "queries"));
    unmake(&f);
}

/* ---------------------------------------------------------------------- */
/* memory                                                                  */

/* Bytes glibc's heap statistics say creating the agent of c allocates. */
static double allocated_by_create(exp_config *c, const env *en)
{
    bdrl_err e;
    struct mallinfo2 m0 = mallinfo2();
    rng *init = rng_create(1, RNG_STREAM_INIT);
    agent *a = agent_create(c, en, init, &e);
    if (!a)
        fail_msg("agent_create: %s", e.msg);
    struct mallinfo2 m1 = mallinfo2();
    agent_free(a);
    rng_free(init);
    return (double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd);
}

/* The scratch table drives allocation: between configurations that differ
 * only in settings the networks do not see (bd.grad_target, bd.target_mode,
 * bd.query_grid, bd.grid), the bytes creating the agent allocates differ by
 * what bd_grid_scratch_bytes says, to malloc's per-block overhead. A buffer
 * allocated outside the table, a table row no allocation follows, or one
 * sized differently from its allocation shows up here. The memory estimate's
 * scratch part is the table's. */
static void test_scratch_table(void **state)
{
    (void)state;
    const char *variants[] = {"bd.grad_target=scalar", "bd.grad_target=gradient", "bd.target_mode=samples",
                              "bd.query_grid=16", "bd.grid=256"};
    enum { NV = 5 };
    double used[NV], table[NV];
    /* Pass 0 only warms malloc up: the first time a block this large is
     * freed, glibc raises its mmap threshold, so the first creation's large
     * blocks are mmapped (a page-rounded 430 KB more, measured) and later
     * ones come from the heap. Pass 1 measures. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < NV; i++) {
            exp_config c;
            bdrl_err e;
            char *sets[] = {"env.name=frozenlake", "agent.kind=bd", "bd.field=grid", "train.batch_size=256",
                            "bd.queries=32", (char *)variants[i]};
            assert_int_equal(exp_load(&c, NULL, sets, 6, &e), 0);
            env *en = env_create(&c.env, &e);
            assert_non_null(en);
            table[i] = bd_grid_scratch_bytes(&c, en);
            sizing_estimate est;
            limits_estimate_experiment(&c, en, &est);
            assert_true(est.scratch == table[i]);
            used[i] = UNDER_ASAN ? 0 : allocated_by_create(&c, en);
            env_free(en);
        }
    if (UNDER_ASAN) {
        /* AddressSanitizer's allocator keeps no glibc statistics */
        print_message("allocation check skipped under AddressSanitizer\n");
        return;
    }
    /* malloc's overhead: up to 64 bytes for each of the 46 rows at most,
     * and a page for each of a few blocks still large enough to be mmapped */
    const double slack = 64 * 46 + 4 * 4096;
    for (int i = 1; i < NV; i++) {
        double du = used[i] - used[0], dt = table[i] - table[0];
        print_message("%s against %s: allocated %.0f bytes more, the table says %.0f\n", variants[i],
                      variants[0], du, dt);
        assert_true(fabs(dt) > 4 * slack); /* a real difference to check */
        assert_true(fabs(du - dt) < slack);
    }
}

/* fields_at's reference path takes chunks of up to HEAD_CHUNK rows through
 * the moving-average head, which is built for that many whatever the batch:
 * its input rows X hold that many too (they were sized for train.batch_size
 * x bd.queries, here 16 rows, and the path wrote past them). */
static void test_reference_path_small_batch(void **state)
{
    (void)state;
    const char *sets[] = {"agent.ema=0.9", "train.batch_size=4", "bd.queries=4"};
    fixture f;
    make(&f, 3, sets, 3);
    enum { N = 300 };
    double u[N], s0[N * 4], s1[N * 4];
    for (int i = 0; i < N; i++)
        u[i] = -1.2 + 2.4 * i / (N - 1);
    float obs = 5;
    bdrl_err e;
    bd_geometry g;
    bd_grid_settings st;
    bd_grid_get_geometry(f.a, &g, &st);
    for (int tgt = 0; tgt < 2; tgt++) {
        assert_int_equal(bd_grid_eval_fields(f.a, &obs, tgt, 0, N, u, s0, NULL, &e), 0);
        assert_int_equal(bd_grid_eval_fields(f.a, &obs, tgt, 1, N, u, s1, NULL, &e), 0);
        for (int i = 0; i < N * 4; i++)
            assert_close(s0[i], s1[i], 2e-6 * st.out_scale_s + 1e-6 * fabs(s1[i]));
    }
    unmake(&f);
}

int main(void)
{
    /* Bit-for-bit results and no thread contention (as bdrl itself does). */
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terminal_target),
        cmocka_unit_test(test_bootstrap_target),
        cmocka_unit_test(test_kernel_target),
        cmocka_unit_test(test_grid_mean_and_icdf),
        cmocka_unit_test(test_grid_column_and_cum_index),
        cmocka_unit_test(test_targets_through_networks),
        cmocka_unit_test(test_samples_targets_with_discount),
        cmocka_unit_test(test_scalar_output),
        cmocka_unit_test(test_moving_average),
        cmocka_unit_test(test_query_law),
        cmocka_unit_test(test_q_is_grid_mean),
        cmocka_unit_test(test_fast_path_matches_mlp),
        cmocka_unit_test(test_gradient_reaches_torso),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_neutral_fields_are_bit_exact),
        cmocka_unit_test(test_learns_bandit),
        cmocka_unit_test(test_learns_chain),
        cmocka_unit_test(test_scratch_table),
        cmocka_unit_test(test_reference_path_small_batch),
    };
    return cmocka_run_group_tests_name("bd_grid", tests, tu_group_setup, tu_group_teardown);
}
