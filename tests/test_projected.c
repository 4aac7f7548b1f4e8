/* Tests of the projected fixed points (truth/projected.h) and of
 * `bdrl truth --projection`: both projections on hand laws, the quantile
 * fixed point on a deterministic map (the exact law), the categorical one's
 * means against policy evaluation (mean preservation), and the floors on
 * FrozenLake 4x4 slippery against an independent numpy implementation
 * (tests/ref/projected_ref.py; not run here, it needs numpy). */
#include "test_util.h"

#include "agents/c51.h"
#include "envs/env.h"
#include "stats/metrics.h"
#include "truth/projected.h"
#include "truth/truth.h"

static env *make_fl(int slippery)
{
    env_config c;
    env_config_defaults(&c, "frozenlake");
    c.slippery = slippery;
    bdrl_err e;
    env *en = env_create(&c, &e);
    if (!en)
        fail_msg("env_create: %s", e.msg);
    return en;
}

/* ---- the projections on hand laws ---- */

static void test_quantile_by_hand(void **state)
{
    (void)state;
    bdrl_err e;
    /* P(0) = 0.5, P(1) = 0.3, P(2) = 0.2 given out of order, 0 split in two
     * atoms, and the weights not normalized (twice the law). */
    const double v[] = {2, 0, 1, 0};
    const double p[] = {0.4, 0.5, 0.6, 0.5};
    double q[8];
    /* N = 4: τ = 1/8, 3/8, 5/8, 7/8 against F = 0.5, 0.8, 1 */
    assert_int_equal(proj_quantile(v, p, 4, 4, q, &e), 0);
    const double want4[] = {0, 0, 1, 2};
    for (int i = 0; i < 4; i++)
        assert_true(q[i] == want4[i]);
    /* N = 5: τ = 0.1, 0.3, 0.5, 0.7, 0.9; τ = 0.5 = F(0) exactly, and
     * F^{-1}(τ) = inf{x : F(x) ≥ τ} takes 0 there */
    assert_int_equal(proj_quantile(v, p, 4, 5, q, &e), 0);
    const double want5[] = {0, 0, 0, 1, 2};
    for (int i = 0; i < 5; i++)
        assert_true(q[i] == want5[i]);
    /* N = 1: the median */
    assert_int_equal(proj_quantile(v, p, 4, 1, q, &e), 0);
    assert_true(q[0] == 0);
    /* a single atom stays one atom */
    const double one = 0.7, w = 3;
    assert_int_equal(proj_quantile(&one, &w, 1, 3, q, &e), 0);
    for (int i = 0; i < 3; i++)
        assert_true(q[i] == 0.7);
    /* bad laws */
    const double neg[] = {1, -1};
    assert_int_equal(proj_quantile(v, neg, 2, 3, q, &e), -1);
    assert_non_null(strstr(e.msg, "probability"));
    const double zero[] = {0, 0};
    assert_int_equal(proj_quantile(v, zero, 2, 3, q, &e), -1);
    assert_non_null(strstr(e.msg, "zero mass"));
}

static void test_categorical_by_hand(void **state)
{
    (void)state;
    bdrl_err e;
    /* support 0, 0.25, 0.5, 0.75, 1: -0.3 is clipped to 0, 0.3 (b = 1.2)
     * gives 0.8 of its mass to 0.25 and 0.2 to 0.5, 1 sits on the top point,
     * 2 is clipped to it */
    const double v[] = {-0.3, 0.3, 1.0, 2.0};
    const double p[] = {0.1, 0.4, 0.2, 0.3};
    double m[5];
    assert_int_equal(proj_categorical(v, p, 4, 5, 0, 1, m, &e), 0);
    const double want[] = {0.1, 0.32, 0.08, 0, 0.5};
    for (int j = 0; j < 5; j++)
        assert_close(m[j], want[j], 1e-15);
    /* inside the support the mean is kept */
    const double vi[] = {0.1, 0.33, 0.9};
    const double pi[] = {0.2, 0.5, 0.3};
    assert_int_equal(proj_categorical(vi, pi, 3, 5, 0, 1, m, &e), 0);
    double mean = 0, mass = 0;
    for (int j = 0; j < 5; j++) {
        mean += m[j] * 0.25 * j;
        mass += m[j];
    }
    assert_close(mass, 1, 1e-15);
    assert_close(mean, 0.2 * 0.1 + 0.5 * 0.33 + 0.3 * 0.9, 1e-15);
    /* the same as C51's own projection of r + g z_j */
    enum { N = 11 };
    double z[N], pz[N], x[N], mc[N], mp[N];
    double lo = -1, hi = 2, dz = (hi - lo) / (N - 1), r = 0.3, g = 0.9, s = 0;
    for (int j = 0; j < N; j++) {
        z[j] = lo + j * dz;
        pz[j] = 1.0 + j % 3;
        s += pz[j];
    }
    for (int j = 0; j < N; j++) {
        pz[j] /= s;
        x[j] = r + g * z[j];
    }
    c51_project(N, lo, hi, r, g, pz, mc);
    assert_int_equal(proj_categorical(x, pz, N, N, lo, hi, mp, &e), 0);
    for (int j = 0; j < N; j++)
        assert_close(mp[j], mc[j], 1e-14);
    /* one support point is no support */
    assert_int_equal(proj_categorical(v, p, 4, 1, 0, 1, m, &e), -1);
    assert_non_null(strstr(e.msg, "N in [2,"));
    assert_int_equal(proj_categorical(v, p, 4, 5, 1, 1, m, &e), -1);
    assert_non_null(strstr(e.msg, "v_min < v_max"));
}

static void test_spec_parse(void **state)
{
    (void)state;
    proj_spec sp;
    bdrl_err e;
    assert_int_equal(proj_spec_parse("quantile:101", &sp, &e), 0);
    assert_int_equal(sp.kind, PROJ_QUANTILE);
    assert_int_equal(sp.n, 101);
    assert_int_equal(proj_spec_parse("categorical:51", &sp, &e), 0);
    assert_int_equal(sp.kind, PROJ_CATEGORICAL);
    assert_int_equal(sp.n, 51);
    assert_int_equal(proj_spec_parse("quantile:1", &sp, &e), 0);
    const char *bad[] = {"quantil:5", "quantile", "quantile:", "quantile:0", "quantile:-3", "quantile:5x",
                         "categorical:1", "quantile:1000001", "", ":5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (!proj_spec_parse(bad[i], &sp, &e))
            fail_msg("'%s' was accepted", bad[i]);
}

/* ---- fixed points on FrozenLake ---- */

static void policy_of(const env_table *t, double gamma, int *policy)
{
    bdrl_err e;
    if (truth_tab_value_iteration(t, gamma, NULL, NULL, policy, &e))
        fail_msg("%s", e.msg);
}

static stat_dist *exact_law(const env_table *t, double gamma, const int *policy, int s, int a)
{
    truth_atoms d;
    bdrl_err e;
    if (truth_tab_distribution(t, gamma, policy, s, a, &d, &e))
        fail_msg("%s", e.msg);
    stat_dist *sd = stat_dist_atoms(d.value, d.prob, (size_t)d.n, &e);
    truth_atoms_free(&d);
    assert_non_null(sd);
    return sd;
}

/* Mean over non-terminal (s, a) of W1 and of the mean's bias. */
static void floor_of(const env_table *t, double gamma, const int *policy, proj_spec sp, double *w1, double *bias)
{
    proj_fixed_point fp;
    bdrl_err e;
    if (truth_tab_projected(t, gamma, policy, &sp, 0, 0, &fp, &e))
        fail_msg("%s", e.msg);
    double sw = 0, sb = 0;
    int n = 0;
    for (int s = 0; s < t->n_states; s++) {
        if (truth_tab_is_terminal(t, s))
            continue;
        for (int a = 0; a < t->n_actions; a++) {
            stat_dist *tr = exact_law(t, gamma, policy, s, a);
            stat_dist *fd = stat_dist_atoms(proj_fp_value(&fp, s, a), proj_fp_prob(&fp, s, a), (size_t)fp.n, &e);
            assert_non_null(fd);
            sw += stat_w1(fd, tr);
            sb += stat_dist_mean(fd) - stat_dist_mean(tr);
            n++;
            stat_dist_free(fd);
            stat_dist_free(tr);
        }
    }
    proj_fixed_point_free(&fp);
    *w1 = sw / n;
    *bias = sb / n;
}

/* On the non-slippery map every return is one atom: the quantile fixed point
 * is exactly the law, whatever N. */
static void test_quantile_deterministic_is_exact(void **state)
{
    (void)state;
    env *en = make_fl(0);
    const env_table *t = env_transition_table(en);
    double gamma = 0.9;
    int policy[64];
    policy_of(t, gamma, policy);
    const int Ns[] = {1, 4, 51};
    for (int k = 0; k < 3; k++) {
        proj_fixed_point fp;
        bdrl_err e;
        proj_spec sp = {PROJ_QUANTILE, Ns[k], 0, 1};
        assert_int_equal(truth_tab_projected(t, gamma, policy, &sp, 0, 0, &fp, &e), 0);
        for (int s = 0; s < t->n_states; s++) {
            if (truth_tab_is_terminal(t, s))
                continue;
            for (int a = 0; a < 4; a++) {
                stat_dist *tr = exact_law(t, gamma, policy, s, a);
                stat_dist *fd = stat_dist_atoms(proj_fp_value(&fp, s, a), proj_fp_prob(&fp, s, a), (size_t)fp.n, &e);
                assert_non_null(fd);
                double w = stat_w1(fd, tr);
                if (!(w < 1e-12))
                    fail_msg("N %d (%d, %d): W1 %g to the exact law", Ns[k], s, a, w);
                stat_dist_free(fd);
                stat_dist_free(tr);
            }
        }
        proj_fixed_point_free(&fp);
    }
    env_free(en);
}

/* A hand table: from state 0, reward 1 and the end with probability 1/2,
 * else back to 0 with reward 0; γ = 1/2. The exact return is γ^k with
 * probability 2^-(k+1) (mean 2/3). By hand:
 *   quantile:2 — Z = {a, b}: the mixture 1 (1/2), a/2 (1/4), b/2 (1/4) has
 *     F^{-1}(1/4) = a/2 and F^{-1}(3/4) = 1, so the fixed point is {0, 1};
 *   categorical:3 on {0, 1/2, 1} — m' = (m0/2 + m1/4, m1/4 + m2/2, 1/2), so
 *     m = (1/6, 1/3, 1/2), mean 2/3. */
static void test_hand_table(void **state)
{
    (void)state;
    int n_out[2] = {2, 1};
    env_outcome out[4] = {
        {0.5, 1, 1.0, 1}, {0.5, 0, 0.0, 0}, /* state 0 */
        {1.0, 1, 0.0, 1}, {0, 0, 0, 0},     /* state 1: terminal */
    };
    unsigned char term[2] = {0, 1};
    env_table t = {.n_states = 2, .n_actions = 1, .max_outcomes = 2, .n_outcomes = n_out, .outcomes = out,
                   .terminal = term, .nrow = 1, .ncol = 2, .desc = "SG"};
    int policy[2] = {0, 0};
    bdrl_err e;
    proj_fixed_point fp;
    proj_spec q2 = {PROJ_QUANTILE, 2, 0, 1};
    assert_int_equal(truth_tab_projected(&t, 0.5, policy, &q2, 0, 0, &fp, &e), 0);
    assert_true(proj_fp_value(&fp, 0, 0)[0] == 0 && proj_fp_value(&fp, 0, 0)[1] == 1);
    assert_true(proj_fp_prob(&fp, 0, 0)[0] == 0.5 && proj_fp_prob(&fp, 0, 0)[1] == 0.5);
    assert_true(proj_fp_value(&fp, 1, 0)[0] == 0 && proj_fp_value(&fp, 1, 0)[1] == 0);
    /* against the exact law: below 1 the truth's CDF stays under 1/2, the
     * fixed point's is 1/2, so W1 is the difference of the means, 2/3 - 1/2 */
    stat_dist *tr = exact_law(&t, 0.5, policy, 0, 0);
    assert_close(stat_dist_mean(tr), 2.0 / 3, 1e-9);
    stat_dist *fd = stat_dist_atoms(proj_fp_value(&fp, 0, 0), proj_fp_prob(&fp, 0, 0), 2, &e);
    assert_close(stat_dist_mean(fd), 0.5, 1e-15);
    assert_close(stat_w1(fd, tr), 2.0 / 3 - 0.5, 1e-8);
    stat_dist_free(fd);
    stat_dist_free(tr);
    proj_fixed_point_free(&fp);

    proj_spec c3 = {PROJ_CATEGORICAL, 3, 0, 1};
    assert_int_equal(truth_tab_projected(&t, 0.5, policy, &c3, 0, 0, &fp, &e), 0);
    const double want[] = {1.0 / 6, 1.0 / 3, 0.5};
    for (int j = 0; j < 3; j++) {
        assert_close(proj_fp_prob(&fp, 0, 0)[j], want[j], 1e-12);
        assert_close(proj_fp_value(&fp, 0, 0)[j], 0.5 * j, 0);
    }
    assert_close(proj_fp_mean(&fp, 0, 0), 2.0 / 3, 1e-12);
    /* the terminal state: Π(δ0) */
    assert_close(proj_fp_prob(&fp, 1, 0)[0], 1, 0);
    proj_fixed_point_free(&fp);
}

/* C51's projection keeps the mean inside the support: its fixed point's means
 * are Q^π. */
static void test_categorical_means_are_q(void **state)
{
    (void)state;
    env *en = make_fl(1);
    const env_table *t = env_transition_table(en);
    double gamma = 0.99, q[64 * 4];
    int policy[64];
    bdrl_err e;
    policy_of(t, gamma, policy);
    assert_int_equal(truth_tab_policy_eval(t, gamma, policy, NULL, q, &e), 0);
    const int Ns[] = {2, 51, 101};
    for (int k = 0; k < 3; k++) {
        proj_fixed_point fp;
        proj_spec sp = {PROJ_CATEGORICAL, Ns[k], 0, 1};
        assert_int_equal(truth_tab_projected(t, gamma, policy, &sp, 0, 0, &fp, &e), 0);
        for (int s = 0; s < t->n_states; s++)
            for (int a = 0; a < 4; a++) {
                double m = proj_fp_mean(&fp, s, a);
                if (fabs(m - q[s * 4 + a]) > 1e-9)
                    fail_msg("categorical:%d (%d, %d): mean %.12f, Q^pi %.12f", Ns[k], s, a, m, q[s * 4 + a]);
            }
        proj_fixed_point_free(&fp);
    }
    env_free(en);
}

/* The floors measured by the independent numpy script
 * (/usr/bin/python3 tests/ref/projected_ref.py, 6 decimals): mean W1 and
 * mean bias over the 44 non-terminal (s, a) of FrozenLake 4x4 slippery,
 * γ 0.99, π*. */
static void test_floors_match_reference(void **state)
{
    (void)state;
    env *en = make_fl(1);
    const env_table *t = env_transition_table(en);
    double gamma = 0.99;
    int policy[64];
    policy_of(t, gamma, policy);
    const struct {
        proj_kind kind;
        int n;
        double w1, bias;
    } ref[] = {
        {PROJ_QUANTILE, 51, 0.086429, -0.081109},    {PROJ_QUANTILE, 101, 0.034913, -0.034298},
        {PROJ_QUANTILE, 200, 0.016242, -0.015815},   {PROJ_QUANTILE, 401, 0.006446, -0.005684},
        {PROJ_CATEGORICAL, 51, 0.004227, 0.0},       {PROJ_CATEGORICAL, 101, 0.001738, 0.0},
    };
    for (size_t i = 0; i < sizeof ref / sizeof *ref; i++) {
        double w1, bias;
        floor_of(t, gamma, policy, (proj_spec){ref[i].kind, ref[i].n, 0, 1}, &w1, &bias);
        /* the reference prints 6 decimals */
        if (fabs(w1 - ref[i].w1) > 1e-6 || fabs(bias - ref[i].bias) > 1e-6)
            fail_msg("%s:%d: mean W1 %.7f (reference %.6f), bias %+.7f (reference %+.6f)",
                     ref[i].kind == PROJ_QUANTILE ? "quantile" : "categorical", ref[i].n, w1, ref[i].w1, bias,
                     ref[i].bias);
    }
    env_free(en);
}

static void test_not_converging_is_an_error(void **state)
{
    (void)state;
    env *en = make_fl(1);
    const env_table *t = env_transition_table(en);
    int policy[64];
    policy_of(t, 0.99, policy);
    proj_fixed_point fp;
    bdrl_err e;
    proj_spec sp = {PROJ_CATEGORICAL, 51, 0, 1};
    assert_int_equal(truth_tab_projected(t, 0.99, policy, &sp, 0, 10, &fp, &e), -1);
    assert_non_null(strstr(e.msg, "did not converge in 10 sweeps"));
    assert_null(fp.value);
    int badpol[64] = {0};
    badpol[3] = 7;
    assert_int_equal(truth_tab_projected(t, 0.99, badpol, &sp, 0, 0, &fp, &e), -1);
    assert_non_null(strstr(e.msg, "state 3"));
    env_free(en);
}

/* ---- the command line ---- */

static void test_cli_projection(void **state)
{
    (void)state;
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/fl.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: frozenlake\n");
    tu_result r = tu_run("%s truth %s --projection quantile:101", tu_bdrl(), cfg);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "state,action,w1,cramer,mean_fixed_point,mean_truth\n", 51));
    /* 11 non-terminal states, 4 actions each */
    assert_int_equal(tu_count_lines(r.out), 1 + 44);
    double sw = 0, sb = 0;
    const char *p = strchr(r.out, '\n') + 1;
    int rows = 0, last_s = -1;
    while (*p) {
        int s, a;
        double w1, cr, mf, mt;
        assert_int_equal(sscanf(p, "%d,%d,%lf,%lf,%lf,%lf", &s, &a, &w1, &cr, &mf, &mt), 6);
        assert_true(s >= last_s && s < 16 && a >= 0 && a < 4);
        assert_true(s != 5 && s != 7 && s != 11 && s != 12 && s != 15);
        assert_true(w1 >= 0 && cr >= 0 && cr <= 1);
        last_s = s;
        sw += w1;
        sb += mf - mt;
        rows++;
        p = strchr(p, '\n') + 1;
    }
    assert_int_equal(rows, 44);
    assert_close(sw / rows, 0.0349, 1e-4);
    assert_close(sb / rows, -0.0343, 1e-4);
    assert_contains(r.err, "# policy optimal, gamma 0.99");
    assert_contains(r.err, "projection quantile:101");
    assert_contains(r.err, "44 (state, action) pairs: mean W1 0.0349");
    assert_contains(r.err, "mean bias -0.034");
    tu_run_free(&r);

    /* one (s, a); categorical on the config's support */
    r = tu_run("%s truth %s --projection categorical:101 --state 14 --action 1", tu_bdrl(), cfg);
    assert_int_equal(r.status, 0);
    assert_int_equal(tu_count_lines(r.out), 2);
    int s, a;
    double w1, cr, mf, mt;
    assert_int_equal(sscanf(strchr(r.out, '\n') + 1, "%d,%d,%lf,%lf,%lf,%lf", &s, &a, &w1, &cr, &mf, &mt), 6);
    assert_int_equal(s, 14);
    assert_int_equal(a, 1);
    assert_close(mf, mt, 1e-9);
    assert_true(w1 > 0 && w1 < 0.01);
    assert_contains(r.err, "categorical:101 on [0, 1]");
    tu_run_free(&r);

    /* a terminal state has no rows */
    r = tu_run("%s truth %s --projection quantile:5 --state 5", tu_bdrl(), cfg);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "state,action,w1,cramer,mean_fixed_point,mean_truth\n");
    tu_run_free(&r);
}

static void test_cli_projection_errors(void **state)
{
    (void)state;
    char cfg[600], cp[600];
    snprintf(cfg, sizeof cfg, "%s/fl.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: frozenlake\n");
    snprintf(cp, sizeof cp, "%s/cp.yaml", tu_dir);
    tu_write(cp, "env:\n  name: cartpole\n");
    struct {
        const char *args, *msg;
    } bad[] = {
        {"CFG --projection quantil:5", "is not quantile:N or categorical:N"},
        {"CFG --projection quantile", "lacks the number of atoms"},
        {"CFG --projection quantile:0", "N must be in [1,"},
        {"CFG --projection quantile:x", "N must be an integer"},
        {"CFG --projection categorical:1", "N must be in [2,"},
        {"CFG --projection quantile:5 --state 16", "--state must be in [0, 15]"},
        {"CFG --projection quantile:5 -n 3", "are for Monte Carlo truth"},
        {"CP --projection quantile:5", "needs an environment with a transition table"},
        {"CFG", "--state is required"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[1200];
        const char *s = bad[i].args;
        if (!strncmp(s, "CFG", 3))
            snprintf(args, sizeof args, "%s%s", cfg, s + 3);
        else
            snprintf(args, sizeof args, "%s%s", cp, s + 2);
        tu_result r = tu_run("%s truth %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("'truth %s' exited %d, expected 2 (stderr: %s)", args, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
    tu_result r = tu_run("%s truth --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "--projection");
    assert_contains(r.out, "perfect optimisation");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_by_hand),
        cmocka_unit_test(test_categorical_by_hand),
        cmocka_unit_test(test_spec_parse),
        cmocka_unit_test(test_quantile_deterministic_is_exact),
        cmocka_unit_test(test_hand_table),
        cmocka_unit_test(test_categorical_means_are_q),
        cmocka_unit_test(test_floors_match_reference),
        cmocka_unit_test(test_not_converging_is_an_error),
        cmocka_unit_test(test_cli_projection),
        cmocka_unit_test(test_cli_projection_errors),
    };
    return cmocka_run_group_tests_name("projected", tests, tu_group_setup, tu_group_teardown);
}
