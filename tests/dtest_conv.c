/* Tests of src/fields/conv.c and of the mlp's conv front in double
 * precision (real = double):
 *   - conv_forward (im2col + GEMM) against a direct convolution written as
 *     the definition's six nested loops, on random shapes (1..5 input
 *     channels, 1..16 output channels, kernels 1, 2, 3, non-square images);
 *   - col2im as the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>;
 *   - conv_backward's dK, db and dx against central finite differences;
 *   - an mlp with a conv front (one and two conv layers, every activation):
 *     its forward against conv, activation, flatten and dense layers done
 *     by hand, and every parameter and input gradient against finite
 *     differences; the input gradient skipped (dx NULL) leaves the
 *     parameter gradients unchanged.
 * Tolerances (dtest_util.h): 1e-7 relative to central differences; a wrong
 * index (a transposed kernel, a shifted window) is off by O(1). */
#include "test_util.h"
#include "dtest_util.h"

#include "core/rng.h"
#include "fields/conv.h"
#include "fields/mlp.h"

/* The definition: z[b][oy][ox][o] = Σ_{ky,kx,ch} x[b][oy+ky][ox+kx][ch] ·
 * K[o][ky][kx][ch] (+ bias[o] if bias), HWC images, K as in conv.h. */
static void naive_conv(const conv_geom *g, int B, const real *x, const real *K, const real *bias, double *z)
{
    int oh = conv_oh(g), ow = conv_ow(g), k = g->k, c = g->c;
    for (int b = 0; b < B; b++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int o = 0; o < g->cout; o++) {
                    double s = bias ? bias[o] : 0;
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                            for (int ch = 0; ch < c; ch++)
                                s += x[(((size_t)b * g->h + oy + ky) * g->w + ox + kx) * c + ch] *
                                     K[(((size_t)o * k + ky) * k + kx) * c + ch];
                    z[(((size_t)b * oh + oy) * ow + ox) * g->cout + o] = s;
                }
}

typedef struct {
    int h, w, c, k, cout, B;
} shape;

/* Random shapes: several channel counts, kernels 1, 2, 3, non-square. */
static shape random_shape(rng *r, int i)
{
    shape s;
    s.k = 1 + i % 3;
    s.h = s.k + (int)(rng_uniform(r) * 5);
    s.w = s.k + (int)(rng_uniform(r) * 6);
    if (s.h == s.w)
        s.w++;
    s.c = 1 + (int)(rng_uniform(r) * 5);
    s.cout = 1 + (int)(rng_uniform(r) * 16);
    s.B = 1 + (int)(rng_uniform(r) * 3);
    return s;
}

static void test_forward_matches_direct_convolution(void **state)
{
    (void)state;
    rng *r = rng_create(11, 3);
    for (int i = 0; i < 24; i++) {
        shape s = random_shape(r, i);
        conv_geom g = {s.h, s.w, s.c, s.k, s.cout};
        size_t nx = (size_t)s.B * s.h * s.w * s.c, R = (size_t)s.B * conv_positions(&g);
        size_t nK = (size_t)s.cout * conv_cols(&g), nz = R * s.cout;
        real *x = malloc(sizeof(real) * nx), *K = malloc(sizeof(real) * nK);
        real *col = malloc(sizeof(real) * R * conv_cols(&g)), *z = malloc(sizeof(real) * nz);
        double *want = malloc(sizeof(double) * nz);
        fill(r, x, nx, 1);
        fill(r, K, nK, 1);
        conv_forward(&g, s.B, x, K, col, z);
        naive_conv(&g, s.B, x, K, NULL, want);
        double err = max_err(z, want, nz);
        if (!(err <= 1e-12))
            fail_msg("conv %dx%dx%d k%d -> %d, B %d: relative error %.3g", s.h, s.w, s.c, s.k, s.cout, s.B, err);
        free(x), free(K), free(col), free(z), free(want);
    }
    rng_free(r);
}

/* col2im is im2col's adjoint: <im2col(x), y> = <x, col2im(y)> for random
 * x and y, which pins down every index of the scatter-add. */
static void test_col2im_is_adjoint_of_im2col(void **state)
{
    (void)state;
    rng *r = rng_create(12, 3);
    for (int i = 0; i < 12; i++) {
        shape s = random_shape(r, i);
        conv_geom g = {s.h, s.w, s.c, s.k, s.cout};
        size_t nx = (size_t)s.B * s.h * s.w * s.c, nc = (size_t)s.B * conv_positions(&g) * conv_cols(&g);
        real *x = malloc(sizeof(real) * nx), *y = malloc(sizeof(real) * nc);
        real *col = malloc(sizeof(real) * nc), *dx = malloc(sizeof(real) * nx);
        fill(r, x, nx, 1);
        fill(r, y, nc, 1);
        conv_im2col(&g, s.B, x, col);
        conv_col2im(&g, s.B, y, dx);
        double a = 0, b = 0;
        for (size_t j = 0; j < nc; j++)
            a += col[j] * y[j];
        for (size_t j = 0; j < nx; j++)
            b += x[j] * dx[j];
        assert_true(fabs(a - b) <= 1e-12 * fmax(1, fabs(a)));
        free(x), free(y), free(col), free(dx);
    }
    rng_free(r);
}

/* L(z) = Σ c·z + ½ Σ z², z = conv(x) + bias: dK, db and dx of
 * conv_backward against central differences of L. */
typedef struct {
    const conv_geom *g;
    int B;
    const real *x, *K, *bias;
    const double *c;
    double *z;
} layer_ctx;

static double layer_loss(void *ctx)
{
    const layer_ctx *l = ctx;
    size_t nz = (size_t)l->B * conv_positions(l->g) * l->g->cout;
    naive_conv(l->g, l->B, l->x, l->K, l->bias, l->z);
    double L = 0;
    for (size_t j = 0; j < nz; j++)
        L += l->c[j] * l->z[j] + 0.5 * l->z[j] * l->z[j];
    return L;
}

static void test_backward_matches_fd(void **state)
{
    (void)state;
    rng *r = rng_create(13, 3);
    for (int i = 0; i < 9; i++) {
        shape s = random_shape(r, i);
        conv_geom g = {s.h, s.w, s.c, s.k, s.cout};
        size_t nx = (size_t)s.B * s.h * s.w * s.c, R = (size_t)s.B * conv_positions(&g);
        size_t nK = (size_t)s.cout * conv_cols(&g), nz = R * s.cout, nc = R * conv_cols(&g);
        real *x = malloc(sizeof(real) * nx), *K = malloc(sizeof(real) * nK), *bias = malloc(sizeof(real) * s.cout);
        real *col = malloc(sizeof(real) * nc), *dcol = malloc(sizeof(real) * nc), *z = malloc(sizeof(real) * nz);
        real *G = malloc(sizeof(real) * nz), *dK = malloc(sizeof(real) * nK), *db = malloc(sizeof(real) * s.cout);
        real *dK0 = malloc(sizeof(real) * nK), *db0 = malloc(sizeof(real) * s.cout);
        real *dx = malloc(sizeof(real) * nx);
        double *c = malloc(sizeof(double) * nz), *zz = malloc(sizeof(double) * nz);
        double *fK = malloc(sizeof(double) * nK), *fb = malloc(sizeof(double) * s.cout);
        double *fx = malloc(sizeof(double) * nx);
        fill(r, x, nx, 1);
        fill(r, K, nK, 1);
        fill(r, bias, s.cout, 1);
        for (size_t j = 0; j < nz; j++)
            c[j] = 2 * rng_uniform(r) - 1;
        /* analytic: G = dL/dz = c + z */
        conv_forward(&g, s.B, x, K, col, z);
        for (size_t r2 = 0; r2 < R; r2++)
            for (int o = 0; o < s.cout; o++) {
                size_t j = r2 * s.cout + o;
                G[j] = (real)(c[j] + z[j] + bias[o]);
            }
        /* gradients are added to what dK and db hold */
        fill(r, dK0, nK, 1);
        fill(r, db0, s.cout, 1);
        memcpy(dK, dK0, sizeof(real) * nK);
        memcpy(db, db0, sizeof(real) * s.cout);
        conv_backward(&g, s.B, G, col, K, dK, db, dcol, dx);
        for (size_t j = 0; j < nK; j++)
            dK[j] -= dK0[j];
        for (int j = 0; j < s.cout; j++)
            db[j] -= db0[j];
        /* finite differences */
        layer_ctx lc = {&g, s.B, x, K, bias, c, zz};
        fd_grad(K, nK, layer_loss, &lc, fK);
        fd_grad(bias, (size_t)s.cout, layer_loss, &lc, fb);
        fd_grad(x, nx, layer_loss, &lc, fx);
        double eK = max_err(dK, fK, nK), eb = max_err(db, fb, s.cout), ex = max_err(dx, fx, nx);
        if (!(eK <= TOL && eb <= TOL && ex <= TOL))
            fail_msg("conv %dx%dx%d k%d -> %d: relative errors dK %.3g, db %.3g, dx %.3g", s.h, s.w, s.c, s.k,
                     s.cout, eK, eb, ex);
        free(x), free(K), free(bias), free(col), free(dcol), free(z), free(G), free(dK), free(db), free(dx);
        free(c), free(zz), free(fK), free(fb), free(fx), free(dK0), free(db0);
    }
    rng_free(r);
}

/* ------------------------------------------------------------------------ */
/* the mlp's conv front                                                      */

static const mlp_act all_acts[] = {MLP_TANH, MLP_SILU, MLP_SOFTPLUS, MLP_RELU, MLP_LINEAR};
#define N_ACTS ((int)(sizeof all_acts / sizeof all_acts[0]))

/* conv (h, w, c, kernel, channels...) then dense sizes (after the flatten). */
static mlp *make_conv_net(mlp_act act, int h, int w, int c, int k, int nconv, const int *ch, int ndense,
                          const int *dense, int max_batch, uint64_t seed)
{
    mlp_spec s;
    mlp_conv cv = {nconv, h, w, c, k, {0}};
    for (int i = 0; i < nconv; i++)
        cv.channels[i] = ch[i];
    assert_int_equal(mlp_spec_make_conv(&s, act, &cv, ndense, dense), 0);
    rng *r = rng_create(seed, RNG_STREAM_INIT);
    bdrl_err e;
    mlp *m = mlp_create(&s, max_batch, r, &e);
    if (!m)
        fail_msg("%s", e.msg);
    /* biases non-zero too, so a bias applied in the wrong place shows */
    mlp_init_params(m, MLP_INIT_TORCH, r);
    rng_free(r);
    return m;
}

static double act_value(mlp_act a, double z)
{
    switch (a) {
    case MLP_TANH: return tanh(z);
    case MLP_SILU: return z / (1 + exp(-z));
    case MLP_SOFTPLUS: return log1p(exp(z));
    case MLP_RELU: return z > 0 ? z : 0;
    default: return z;
    }
}

/* The network by hand: naive conv layers with bias and activation, the
 * flatten being the identity on HWC rows, then dense layers. y (B, n_out). */
static void naive_net(const mlp *m, int B, const real *x, double *y)
{
    const mlp_spec *s = &m->spec;
    int n = s->conv.n;
    real *in = malloc(sizeof(real) * (size_t)B * mlp_n_in(m));
    memcpy(in, x, sizeof(real) * (size_t)B * mlp_n_in(m));
    for (int i = 0; i < n; i++) {
        conv_geom g = mlp_conv_layer(&s->conv, i);
        size_t nz = (size_t)B * conv_positions(&g) * g.cout;
        double *z = malloc(sizeof(double) * nz);
        naive_conv(&g, B, in, m->K[i], m->kb[i], z);
        free(in);
        in = malloc(sizeof(real) * nz);
        for (size_t j = 0; j < nz; j++)
            in[j] = (real)act_value(s->act, z[j]);
        free(z);
    }
    for (int l = 0; l < s->n_layers; l++) {
        int ni = s->sizes[l], no = s->sizes[l + 1];
        mlp_act a = l == s->n_layers - 1 ? s->out_act : s->act;
        real *out = malloc(sizeof(real) * (size_t)B * no);
        for (int b = 0; b < B; b++)
            for (int o = 0; o < no; o++) {
                double t = m->b[l][o];
                for (int j = 0; j < ni; j++)
                    t += m->W[l][(size_t)o * ni + j] * in[(size_t)b * ni + j];
                out[(size_t)b * no + o] = (real)act_value(a, t);
            }
        free(in);
        in = out;
    }
    for (int j = 0; j < B * s->sizes[s->n_layers]; j++)
        y[j] = in[j];
    free(in);
}

/* L = Σ c·y + ½ Σ y² */
typedef struct {
    mlp *m;
    int B;
    const real *x;
    const double *c;
} net_ctx;

static double net_loss(void *ctx)
{
    const net_ctx *n = ctx;
    const real *y = mlp_forward(n->m, n->B, n->x);
    double L = 0;
    for (int j = 0; j < n->B * mlp_n_out(n->m); j++)
        L += n->c[j] * y[j] + 0.5 * y[j] * y[j];
    return L;
}

/* Forward against naive_net; dθ and dx against central differences; the
 * same dθ with dx NULL. */
static void check_net(mlp *m, int B, rng *r, const char *what)
{
    int ni = mlp_n_in(m), no = mlp_n_out(m);
    size_t P = m->n_params;
    real *x = malloc(sizeof(real) * (size_t)B * ni), *dx = malloc(sizeof(real) * (size_t)B * ni);
    real *dy = malloc(sizeof(real) * (size_t)B * no), *g1 = malloc(sizeof(real) * P);
    double *c = malloc(sizeof(double) * (size_t)B * no), *want = malloc(sizeof(double) * (size_t)B * no);
    double *fd = malloc(sizeof(double) * P), *fx = malloc(sizeof(double) * (size_t)B * ni);
    fill(r, x, (size_t)B * ni, 1);
    for (int j = 0; j < B * no; j++)
        c[j] = 2 * rng_uniform(r) - 1;
    const real *y = mlp_forward(m, B, x);
    naive_net(m, B, x, want);
    double ey = max_err(y, want, (size_t)B * no);
    mlp_zero_grad(m);
    y = mlp_forward(m, B, x);
    for (int j = 0; j < B * no; j++)
        dy[j] = (real)(c[j] + y[j]);
    mlp_backward(m, dy, NULL, dx, NULL);
    memcpy(g1, m->grads, sizeof(real) * P);
    /* the training path: no input gradient, the same parameter gradients */
    mlp_zero_grad(m);
    mlp_forward(m, B, x);
    mlp_backward(m, dy, NULL, NULL, NULL);
    assert_memory_equal(g1, m->grads, sizeof(real) * P);
    /* a second backward adds the same again */
    mlp_backward(m, dy, NULL, NULL, NULL);
    for (size_t p = 0; p < P; p++)
        assert_true(fabs(m->grads[p] - 2 * g1[p]) <= 1e-12 * fmax(1, fabs(g1[p])));
    net_ctx nc = {m, B, x, c};
    fd_grad(m->params, P, net_loss, &nc, fd);
    fd_grad(x, (size_t)B * ni, net_loss, &nc, fx);
    double ep = max_err(g1, fd, P), ex = max_err(dx, fx, (size_t)B * ni);
    if (getenv("BDRL_TEST_VERBOSE"))
        printf("  %-40s y %.1e  dθ %.1e  dx %.1e\n", what, ey, ep, ex);
    if (!(ey <= 1e-12 && ep <= TOL && ex <= TOL))
        fail_msg("%s: relative errors y %.3g, dθ %.3g, dx %.3g (tolerance %g)", what, ey, ep, ex, TOL);
    free(x), free(dx), free(dy), free(g1), free(c), free(want), free(fd), free(fx);
}

/* One conv layer, then dense layers: every activation, kernels 1..3,
 * non-square images, 1..4 input channels. */
static void test_conv_front_matches_naive_and_fd(void **state)
{
    (void)state;
    rng *r = rng_create(14, 3);
    for (int i = 0; i < N_ACTS; i++) {
        int k = 1 + i % 3, c = 1 + i % 4, ch[1] = {3 + i}, dense[2] = {5, 3};
        mlp *m = make_conv_net(all_acts[i], 4, 5, c, k, 1, ch, 2, dense, 3, 100 + (uint64_t)i);
        char what[96];
        snprintf(what, sizeof what, "conv 4x5x%d k%d [%d] > 5-3 %s", c, k, ch[0], mlp_act_name(all_acts[i]));
        check_net(m, 3, r, what);
        mlp_free(m);
    }
    rng_free(r);
}

/* Two conv layers (the second's input gradient goes through col2im into
 * the first), a single dense layer, and the MinAtar shape at a small
 * width. */
static void test_two_conv_layers_and_minatar_shape(void **state)
{
    (void)state;
    rng *r = rng_create(15, 3);
    int ch2[2] = {4, 3}, d1[1] = {2};
    for (int i = 0; i < N_ACTS; i++) {
        mlp *m = make_conv_net(all_acts[i], 6, 5, 2, 2, 2, ch2, 1, d1, 2, 200 + (uint64_t)i);
        char what[96];
        snprintf(what, sizeof what, "conv 6x5x2 k2 [4, 3] > 2 %s", mlp_act_name(all_acts[i]));
        check_net(m, 2, r, what);
        mlp_free(m);
    }
    int ch1[1] = {4}, d2[2] = {8, 3};
    mlp *m = make_conv_net(MLP_RELU, 10, 10, 4, 3, 1, ch1, 2, d2, 2, 300);
    assert_int_equal(m->spec.sizes[0], 8 * 8 * 4);
    check_net(m, 2, r, "conv 10x10x4 k3 [4] > 256-8-3 relu");
    mlp_free(m);
    rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_matches_direct_convolution),
        cmocka_unit_test(test_col2im_is_adjoint_of_im2col),
        cmocka_unit_test(test_backward_matches_fd),
        cmocka_unit_test(test_conv_front_matches_naive_and_fd),
        cmocka_unit_test(test_two_conv_layers_and_minatar_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
