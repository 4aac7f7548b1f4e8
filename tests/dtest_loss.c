/* Tests of src/fields/loss.c in double precision: each loss's parameter
 * gradient against central finite differences, each loss value against a
 * direct O(B²) computation written here independently, and the U-statistic
 * (i = j excluded). Tolerances: dtest_util.h. */
#include "test_util.h"
#include "dtest_util.h"

#include "core/rng.h"
#include "fields/fourier.h"
#include "fields/loss.h"
#include "fields/mlp.h"

static mlp *net(int n_in, int n_out, mlp_act act, uint64_t seed)
{
    mlp_spec s;
    mlp_spec_make(&s, act, n_in, 6, 5, n_out, 0);
    rng *r = rng_create(seed, RNG_STREAM_INIT);
    mlp *m = mlp_create(&s, 16, r, NULL);
    mlp_init_params(m, MLP_INIT_TORCH, r);
    assert_non_null(m);
    rng_free(r);
    return m;
}

/* Evaluates a loss, leaving m->grads as they were. */
typedef double (*loss_fn)(void *ctx);

/* Compares m->grads (filled by the caller's analytic call) with FD of f. */
static double fd_check(mlp *m, loss_fn f, void *ctx)
{
    size_t P = m->n_params;
    real *keep_g = malloc(P * sizeof(real));
    double *fd = malloc(P * sizeof(double));
    memcpy(keep_g, m->grads, P * sizeof(real));
    fd_grad(m->params, P, f, ctx, fd);
    memcpy(m->grads, keep_g, P * sizeof(real));
    double e = max_err(m->grads, fd, P);
    free(fd);
    free(keep_g);
    return e;
}

typedef struct {
    field_batch *fb;
    mlp *m;
    const real *in, *in_dir;
} lctx;

static double call_id(void *c)
{
    lctx *l = c;
    return field_loss_id(l->fb, l->m, l->in, NULL);
}

static double call_grad(void *c)
{
    lctx *l = c;
    return field_loss_grad(l->fb, l->m, l->in, l->in_dir, NULL);
}

/* Independent reference for K_i: explicit double loops, i = j skipped,
 * the full kernel as a product of 1-D densities. */
static double ref_K(const real *x, const real *w, int B, int d, int i, field_kernel k, double eps)
{
    double s = 0;
    for (int j = 0; j < B; j++) {
        if (j == i)
            continue;
        if (k == FIELD_KERNEL_FULL) {
            double p = 1;
            for (int c = 0; c < d; c++) {
                double t = x[i * d + c] - x[j * d + c];
                p *= exp(-t * t / (2 * eps)) / sqrt(2 * M_PI * eps);
            }
            s += p;
        } else {
            double t = 0;
            for (int c = 0; c < d; c++)
                t += w[i * d + c] * (x[i * d + c] - x[j * d + c]);
            s += exp(-t * t / (2 * eps)) / sqrt(2 * M_PI * eps);
        }
    }
    return s / (B - 1);
}

/* For d in {1, 2}, both kernels and both probe laws: the loss values against
 * the reference (vᵀJv by finite differences of g along v, not by the JVP) and
 * the parameter gradients against finite differences. */
static void test_losses_value_and_gradient(void **state)
{
    (void)state;
    rng *r = rng_create(11, 100);
    const int B = 9;
    /* ε comparable to the spacing of the points, so K_i is O(1), not 0 */
    const double eps = 0.3;
    for (int d = 1; d <= 2; d++)
        for (int kern = 0; kern < 2; kern++)
            for (int probe = 0; probe < 2; probe++) {
                bdrl_err e;
                field_batch *fb = field_batch_create(16, d, (field_kernel)kern, (field_probe)probe, eps, &e);
                assert_non_null(fb);
                real x[32];
                for (int i = 0; i < B * d; i++)
                    x[i] = (real)rng_normal(r);
                assert_int_equal(field_batch_draw(fb, B, x, r, &e), 0);
                mlp *s = net(d, 1, MLP_TANH, 40 + d), *g = net(d, d, MLP_SOFTPLUS, 50 + d);
                /* reference values */
                double Lid = 0, Lgr = 0;
                const real *sy = mlp_forward(s, B, x);
                for (int i = 0; i < B; i++) {
                    double K = ref_K(x, fb->w, B, d, i, (field_kernel)kern, eps);
                    assert_close(fb->K[i], K, 1e-12 * fmax(1, K));
                    Lid += sy[i] * sy[i] - 2 * K * sy[i];
                }
                Lid /= B;
                real xp[32], xm[32], gp[32];
                for (int i = 0; i < B * d; i++) {
                    xp[i] = x[i] + FD_H * fb->v[i];
                    xm[i] = x[i] - FD_H * fb->v[i];
                }
                memcpy(gp, mlp_forward(g, B, xp), sizeof(real) * B * d);
                const real *gm = mlp_forward(g, B, xm);
                double jvfd[16];
                for (int i = 0; i < B; i++) {
                    jvfd[i] = 0;
                    for (int c = 0; c < d; c++)
                        jvfd[i] += fb->v[i * d + c] * (gp[i * d + c] - gm[i * d + c]) / (2 * FD_H);
                }
                const real *gy = mlp_forward(g, B, x);
                for (int i = 0; i < B; i++) {
                    double vg = 0;
                    for (int c = 0; c < d; c++)
                        vg += fb->v[i * d + c] * gy[i * d + c];
                    Lgr += vg * vg + ref_K(x, fb->w, B, d, i, (field_kernel)kern, eps) * jvfd[i];
                }
                Lgr /= B;
                /* analytic */
                mlp_zero_grad(s);
                mlp_zero_grad(g);
                double a_id = field_loss_id(fb, s, NULL, NULL);
                double a_gr = field_loss_grad(fb, g, NULL, NULL, NULL);
                assert_close(a_id, Lid, 1e-12);
                assert_close(a_gr, Lgr, 1e-8);
                lctx ci = {fb, s, NULL, NULL}, cg = {fb, g, NULL, NULL};
                double eid = fd_check(s, call_id, &ci), egr = fd_check(g, call_grad, &cg);
                if (getenv("BDRL_TEST_VERBOSE"))
                    printf("  d=%d %-6s %-10s L_id %+.4f (grad err %.1e)  L_grad %+.4f (grad err %.1e)\n",
                           d, field_kernel_name(kern), field_probe_name(probe), a_id, eid, a_gr, egr);
                if (!(eid <= TOL && egr <= TOL))
                    fail_msg("d=%d kernel %s probe %s: gradient errors id %.3g, grad %.3g", d,
                             field_kernel_name(kern), field_probe_name(probe), eid, egr);
                mlp_free(s);
                mlp_free(g);
                field_batch_free(fb);
            }
    rng_free(r);
}

/* The U-statistic: points far apart (relative to sqrt(ε)) see K_i = 0;
 * including i = j would give K_i ≥ (2πε)^{-1/2}/B ≈ 1.3 here. For two points
 * K is exactly N(x0; x1, ε), not the average with the self-term. */
static void test_u_statistic_excludes_self(void **state)
{
    (void)state;
    real x[3] = {0, 10, 20}, K[3], w[3] = {1, -1, 1};
    for (int kern = 0; kern < 2; kern++) {
        assert_int_equal(field_kernel_avg(3, 1, x, (field_kernel)kern, 0.01, w, K, NULL), 0);
        for (int i = 0; i < 3; i++)
            assert_true(K[i] < 1e-300);
    }
    real y[2] = {0.1, 0.4};
    field_kernel_avg(2, 1, y, FIELD_KERNEL_FULL, 0.05, NULL, K, NULL);
    double want = exp(-0.09 / 0.1) / sqrt(2 * M_PI * 0.05);
    assert_close(K[0], want, 1e-15);
    assert_close(K[1], want, 1e-15);
    bdrl_err e;
    assert_int_equal(field_kernel_avg(1, 1, y, FIELD_KERNEL_FULL, 0.05, NULL, K, &e), -1);
    assert_contains(e.msg, "B >= 2");
}

/* d = 2, full kernel: the 2-D density (2πε)^{-1}, not the 1-D one. Sliced
 * with w = e1 sees only the first coordinate. */
static void test_kernel_normalization_2d(void **state)
{
    (void)state;
    real x[4] = {0, 0, 0.3, -0.4}, w[4] = {1, 0, 1, 0}, K[2];
    double eps = 0.2;
    field_kernel_avg(2, 2, x, FIELD_KERNEL_FULL, eps, NULL, K, NULL);
    assert_close(K[0], exp(-0.25 / (2 * eps)) / (2 * M_PI * eps), 1e-15);
    field_kernel_avg(2, 2, x, FIELD_KERNEL_SLICED, eps, w, K, NULL);
    assert_close(K[0], exp(-0.09 / (2 * eps)) / sqrt(2 * M_PI * eps), 1e-15);
}

/* A network on Fourier features of x (d = 1): the JVP along in_dir = f'(x)·v
 * is d g(f(x))/dx · v, so L̂_grad equals the reference with the derivative
 * in x by finite differences; its parameter gradient matches FD. */
static void test_grad_loss_through_features(void **state)
{
    (void)state;
    rng *r = rng_create(12, 100);
    const int B = 8, K = 3, D = 1 + 2 * K;
    field_batch *fb = field_batch_create(16, 1, FIELD_KERNEL_SLICED, FIELD_PROBE_NORMAL, 0.2, NULL);
    real x[8], in[8 * 7], dir[8 * 7], fx[8 * 7], xp[8], xm[8];
    for (int i = 0; i < B; i++)
        x[i] = (real)(rng_uniform(r) * 2 - 1);
    field_batch_draw(fb, B, x, r, NULL);
    fourier_features(B, x, K, 1.25, in, D, fx, D);
    for (int i = 0; i < B; i++)
        for (int k = 0; k < D; k++)
            dir[i * D + k] = fx[i * D + k] * fb->v[i];
    mlp *g = net(D, 1, MLP_SILU, 60);
    mlp_zero_grad(g);
    double L = field_loss_grad(fb, g, in, dir, NULL);
    /* reference */
    for (int i = 0; i < B; i++) {
        xp[i] = x[i] + FD_H * fb->v[i];
        xm[i] = x[i] - FD_H * fb->v[i];
    }
    real inp[8 * 7], inm[8 * 7], gp[8];
    fourier_features(B, xp, K, 1.25, inp, D, NULL, 0);
    fourier_features(B, xm, K, 1.25, inm, D, NULL, 0);
    memcpy(gp, mlp_forward(g, B, inp), sizeof gp);
    const real *gm = mlp_forward(g, B, inm);
    double jv[8];
    for (int i = 0; i < B; i++)
        jv[i] = fb->v[i] * (gp[i] - gm[i]) / (2 * FD_H);
    const real *g0 = mlp_forward(g, B, in);
    double ref = 0;
    for (int i = 0; i < B; i++)
        ref += (fb->v[i] * g0[i]) * (fb->v[i] * g0[i]) + fb->K[i] * jv[i];
    assert_close(L, ref / B, 1e-8);
    lctx c = {fb, g, in, dir};
    double err = fd_check(g, call_grad, &c);
    if (!(err <= TOL))
        fail_msg("gradient error %.3g", err);
    mlp_free(g);
    field_batch_free(fb);
    rng_free(r);
}

typedef struct {
    mlp *m;
    int B;
    const real *in, *dir, *t, *dt, *w;
    const int *col;
    double lam;
} rctx;

static double call_regress(void *c)
{
    rctx *q = c;
    return field_loss_regress(q->m, q->B, q->in, q->col, q->t, q->w, q->lam, NULL);
}

static double call_regress_jvp(void *c)
{
    rctx *q = c;
    return field_loss_regress_jvp(q->m, q->B, q->in, q->dir, q->col, q->t, q->dt, q->w, q->lam, NULL);
}

/* Regression losses: value against a direct sum, gradient against FD, with
 * per-sample weights and a chosen output column per row. */
static void test_regression_losses(void **state)
{
    (void)state;
    rng *r = rng_create(13, 100);
    const int B = 7;
    mlp *m = net(3, 2, MLP_TANH, 70);
    real in[21], dir[21], t[7], dt[7], w[7];
    int col[7];
    for (int i = 0; i < 21; i++) {
        in[i] = (real)rng_normal(r);
        dir[i] = (real)rng_normal(r);
    }
    for (int i = 0; i < B; i++) {
        t[i] = (real)rng_normal(r);
        dt[i] = (real)rng_normal(r);
        w[i] = (real)(0.5 + rng_uniform(r));
        col[i] = (int)rng_below(r, 2);
    }
    rctx c = {m, B, in, dir, t, dt, w, col, 0.7};
    mlp_zero_grad(m);
    double L = call_regress(&c);
    const real *y = mlp_forward(m, B, in);
    double ref = 0;
    for (int i = 0; i < B; i++)
        ref += w[i] * (y[i * 2 + col[i]] - t[i]) * (y[i * 2 + col[i]] - t[i]);
    assert_close(L, 0.7 * ref / B, 1e-13);
    mlp_zero_grad(m);
    call_regress(&c);
    double e1 = fd_check(m, call_regress, &c);
    mlp_zero_grad(m);
    double Lj = call_regress_jvp(&c);
    mlp_forward_jvp(m, B, in, dir);
    const real *yd = mlp_ydot(m);
    y = mlp_y(m);
    ref = 0;
    for (int i = 0; i < B; i++) {
        double a = y[i * 2 + col[i]] - t[i], b = yd[i * 2 + col[i]] - dt[i];
        ref += w[i] * (a * a + 0.7 * b * b);
    }
    assert_close(Lj, ref / B, 1e-13);
    mlp_zero_grad(m);
    call_regress_jvp(&c);
    double e2 = fd_check(m, call_regress_jvp, &c);
    if (!(e1 <= TOL && e2 <= TOL))
        fail_msg("regression gradient errors %.3g, %.3g", e1, e2);
    /* the value-only helper agrees */
    real p[3] = {1, 2, 3}, tt[3] = {0, 2, 5}, dp[3];
    assert_close(field_sq_value(3, p, tt, NULL, 2.0, dp), 2.0 * (1 + 0 + 4) / 3, 1e-15);
    assert_close(dp[2], 2 * 2.0 * (-2) / 3, 1e-15);
    mlp_free(m);
    rng_free(r);
}

/* Slicing directions are unit vectors with E[w wᵀ] = I/d; probes have
 * E[v vᵀ] = I. */
static void test_slices_and_probes(void **state)
{
    (void)state;
    rng *r = rng_create(14, 100);
    enum { N = 20000, D = 3 };
    static real w[N * D], v[N * D];
    field_draw_slices(r, N, D, w);
    double c[D][D] = {{0}};
    for (int i = 0; i < N; i++) {
        double n2 = 0;
        for (int a = 0; a < D; a++) {
            n2 += w[i * D + a] * w[i * D + a];
            for (int b = 0; b < D; b++)
                c[a][b] += w[i * D + a] * w[i * D + b] / N;
        }
        assert_close(n2, 1.0, 1e-12);
    }
    /* sd of a diagonal entry of w wᵀ is ≈ sqrt(2/15)... ≤ 0.3/sqrt(N) */
    for (int a = 0; a < D; a++)
        for (int b = 0; b < D; b++)
            assert_close(c[a][b], a == b ? 1.0 / D : 0.0, 5 * 0.3 / sqrt(N));
    for (int q = 0; q < 2; q++) {
        field_draw_probes(r, N, D, (field_probe)q, v);
        double s2 = 0;
        for (int i = 0; i < N * D; i++) {
            s2 += v[i] * v[i];
            if (q == FIELD_PROBE_RADEMACHER)
                assert_true(v[i] == 1 || v[i] == -1);
        }
        assert_close(s2 / (N * D), 1.0, 5 * sqrt(2.0 / (N * D)));
    }
    rng_free(r);
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_losses_value_and_gradient),
        cmocka_unit_test(test_u_statistic_excludes_self),
        cmocka_unit_test(test_kernel_normalization_2d),
        cmocka_unit_test(test_grad_loss_through_features),
        cmocka_unit_test(test_regression_losses),
        cmocka_unit_test(test_slices_and_probes),
    };
    return cmocka_run_group_tests_name("fields_loss_double", tests, NULL, NULL);
}
