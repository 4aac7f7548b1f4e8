/* Tests of src/fields/mlp.c and fourier.c in double precision (real = double):
 * every derivative the network computes is compared with central finite
 * differences of the forward pass, for every activation, also through a
 * dueling output and noisy layers (gradients of μ, σ and the input with a
 * fixed draw of the noise).
 *
 * Tolerances (dtest_util.h): max |analytic − FD| <= 1e-7·max(1, max |FD|);
 * a wrong formula (a missing σ'' term, a transposed W, a bias on the tangent
 * rows) is off by 1e-2 or more. */
#include "test_util.h"
#include "dtest_util.h"

#include "core/rng.h"
#include "fields/fourier.h"
#include "fields/mlp.h"

static const mlp_act all_acts[] = {MLP_TANH, MLP_SILU, MLP_SOFTPLUS, MLP_RELU, MLP_LINEAR};
#define N_ACTS ((int)(sizeof all_acts / sizeof all_acts[0]))

/* The test loss: L = Σ c1·y + ½Σ y² + Σ c2·ẏ + Σ ẏ². Quadratic terms make the
 * adjoints depend on the outputs, so errors cannot cancel. */
typedef struct {
    int B, no;
    double c1[64], c2[64];
    int use_ydot;
} tloss;

static double tloss_value(const tloss *t, const real *y, const real *yd)
{
    double L = 0;
    for (int i = 0; i < t->B * t->no; i++) {
        L += t->c1[i] * y[i] + 0.5 * y[i] * y[i];
        if (t->use_ydot)
            L += t->c2[i] * yd[i] + yd[i] * yd[i];
    }
    return L;
}

static void tloss_adjoint(const tloss *t, const real *y, const real *yd, real *dy, real *dyd)
{
    for (int i = 0; i < t->B * t->no; i++) {
        dy[i] = t->c1[i] + y[i];
        if (t->use_ydot)
            dyd[i] = t->c2[i] + 2 * yd[i];
    }
}

static double eval(mlp *m, const tloss *t, const real *x, const real *xd)
{
    const real *y = t->use_ydot ? mlp_forward_jvp(m, t->B, x, xd) : mlp_forward(m, t->B, x);
    return tloss_value(t, y, t->use_ydot ? mlp_ydot(m) : NULL);
}

typedef struct {
    mlp *m;
    const tloss *t;
    const real *x, *xd;
} eval_ctx;

static double eval_of(void *c)
{
    eval_ctx *k = c;
    return eval(k->m, k->t, k->x, k->xd);
}

static mlp *make_net(mlp_act act, mlp_act out_act, int max_batch, uint64_t seed)
{
    mlp_spec s;
    assert_int_equal(mlp_spec_make(&s, act, 3, 5, 4, 2, 0), 0);
    s.out_act = out_act;
    rng *r = rng_create(seed, RNG_STREAM_INIT);
    bdrl_err e;
    mlp *m = mlp_create(&s, max_batch, r, &e);
    assert_non_null(m);
    /* Non-zero biases, so a bias wrongly added to tangent rows would show. */
    mlp_init_params(m, MLP_INIT_TORCH, r);
    rng_free(r);
    return m;
}

/* 3 -> 5 -> 4 -> 6 with a dueling output of A = 3 actions x N = 2 (or a
 * plain one), noisy layers or not; every parameter (μ and σ alike) set at
 * random so no symmetry of the init can hide a swapped index, and, with
 * noise, one draw of it switched on. */
enum { XA = 3, XN = 2, XOUT = XA * XN };

static mlp *make_x(mlp_act act, int dueling, int noisy, int noise_on, int max_batch, uint64_t seed)
{
    mlp_spec s;
    assert_int_equal(mlp_spec_make(&s, act, 3, 5, 4, XOUT, 0), 0);
    s.dueling = dueling ? XA : 0;
    s.noisy = noisy;
    s.noisy_sigma0 = 0.5;
    rng *r = rng_create(seed, RNG_STREAM_INIT);
    bdrl_err e;
    mlp *m = mlp_create(&s, max_batch, r, &e);
    if (!m)
        fail_msg("%s", e.msg);
    fill(r, m->params, m->n_params, 0.6);
    if (noise_on)
        mlp_noise_sample(m, r);
    rng_free(r);
    return m;
}

/* Checks dL/dθ, dL/dx and (with tangents) dL/dẋ against finite differences
 * for one network and loss. */
static void check_grads(mlp *m, tloss *t, real *x, real *xd, const char *what)
{
    int B = t->B, ni = mlp_n_in(m), no = mlp_n_out(m);
    size_t P = m->n_params;
    real dy[64], dyd[64], dx[64], dxd[64];
    /* analytic */
    mlp_zero_grad(m);
    const real *y = t->use_ydot ? mlp_forward_jvp(m, B, x, xd) : mlp_forward(m, B, x);
    tloss_adjoint(t, y, t->use_ydot ? mlp_ydot(m) : NULL, dy, dyd);
    mlp_backward(m, dy, t->use_ydot ? dyd : NULL, dx, t->use_ydot ? dxd : NULL);
    (void)no;
    /* parameters, inputs and input directions */
    double *fd = malloc(P * sizeof(double));
    eval_ctx k = {m, t, x, xd};
    fd_grad(m->params, P, eval_of, &k, fd);
    double ep = max_err(m->grads, fd, (int)P);
    double fx[64], fxd[64];
    fd_grad(x, (size_t)(B * ni), eval_of, &k, fx);
    if (t->use_ydot)
        fd_grad(xd, (size_t)(B * ni), eval_of, &k, fxd);
    double ex = max_err(dx, fx, B * ni);
    double exd = t->use_ydot ? max_err(dxd, fxd, B * ni) : 0;
    free(fd);
    if (getenv("BDRL_TEST_VERBOSE"))
        printf("  %-34s dθ %.1e  dx %.1e  dẋ %.1e\n", what, ep, ex, exd);
    if (!(ep <= TOL && ex <= TOL && exd <= TOL))
        fail_msg("%s: relative errors dθ %.3g, dx %.3g, dxdot %.3g (tolerance %g)", what, ep, ex, exd,
                 TOL);
}

static void setup_batch(rng *r, tloss *t, real *x, real *xd, int B)
{
    t->B = B;
    t->no = 2;
    for (int i = 0; i < 64; i++) {
        t->c1[i] = 2 * rng_uniform(r) - 1;
        t->c2[i] = 2 * rng_uniform(r) - 1;
    }
    fill(r, x, B * 3, 1.5);
    fill(r, xd, B * 3, 1.0);
}

/* dL/dθ and dL/dx for a loss of y alone, plain forward (no tangents). */
static void test_backward_matches_fd(void **state)
{
    (void)state;
    rng *r = rng_create(1, 100);
    for (int a = 0; a < N_ACTS; a++) {
        mlp *m = make_net(all_acts[a], MLP_LINEAR, 6, 10 + a);
        tloss t = {0};
        real x[64], xd[64];
        setup_batch(r, &t, x, xd, 4);   /* B = 4 < max_batch = 6 */
        t.use_ydot = 0;
        char what[64];
        snprintf(what, sizeof what, "y-loss %s", mlp_act_name(all_acts[a]));
        check_grads(m, &t, x, xd, what);
        mlp_free(m);
    }
    rng_free(r);
}

/* ẏ = J(x)ẋ against (f(x + hẋ) − f(x − hẋ)) / 2h. */
static void test_jvp_matches_fd(void **state)
{
    (void)state;
    rng *r = rng_create(2, 100);
    for (int a = 0; a < N_ACTS; a++) {
        for (int oa = 0; oa < 2; oa++) {
            mlp *m = make_net(all_acts[a], oa ? MLP_SOFTPLUS : MLP_LINEAR, 5, 20 + a);
            int B = 5;
            real x[15], xd[15], xp[15], xm[15], yd[10], y0[10];
            fill(r, x, 15, 1.5);
            fill(r, xd, 15, 1.0);
            const real *y = mlp_forward_jvp(m, B, x, xd);
            memcpy(y0, y, sizeof y0);
            memcpy(yd, mlp_ydot(m), sizeof yd);
            /* the primal output of a JVP forward is the plain forward's */
            y = mlp_forward(m, B, x);
            for (int i = 0; i < 10; i++)
                assert_close(y0[i], y[i], 1e-14);
            for (int i = 0; i < 15; i++) {
                xp[i] = x[i] + FD_H * xd[i];
                xm[i] = x[i] - FD_H * xd[i];
            }
            double fd[10], yp[10];
            y = mlp_forward(m, B, xp);
            for (int i = 0; i < 10; i++)
                yp[i] = y[i];
            y = mlp_forward(m, B, xm);
            for (int i = 0; i < 10; i++)
                fd[i] = (yp[i] - y[i]) / (2 * FD_H);
            double err = max_err(yd, fd, 10);
            if (!(err <= TOL))
                fail_msg("JVP %s/%s: relative error %.3g", mlp_act_name(all_acts[a]),
                         mlp_act_name(m->spec.out_act), err);
            mlp_free(m);
        }
    }
    rng_free(r);
}

/* The parameter gradient of a loss containing ẏ (double backprop), plus
 * dL/dx and dL/dẋ, for every hidden activation and a non-linear output. */
static void test_double_backprop_matches_fd(void **state)
{
    (void)state;
    rng *r = rng_create(3, 100);
    for (int a = 0; a < N_ACTS; a++) {
        for (int oa = 0; oa < 2; oa++) {
            mlp_act out = oa ? MLP_TANH : MLP_LINEAR;
            mlp *m = make_net(all_acts[a], out, 6, 30 + a);
            tloss t = {0};
            real x[64], xd[64];
            setup_batch(r, &t, x, xd, 6);
            t.use_ydot = 1;
            char what[64];
            snprintf(what, sizeof what, "ẏ-loss %s/%s", mlp_act_name(all_acts[a]), mlp_act_name(out));
            check_grads(m, &t, x, xd, what);
            mlp_free(m);
        }
    }
    rng_free(r);
}

/* A deeper, wider net: 4 -> 7 -> 6 -> 5 -> 3, SiLU, B = 3. */
static void test_deeper_net(void **state)
{
    (void)state;
    mlp_spec s;
    assert_int_equal(mlp_spec_make(&s, MLP_SILU, 3, 7, 6, 5, 2, 0), 0);
    rng *r = rng_create(4, 100);
    mlp *m = mlp_create(&s, 3, r, NULL);
    mlp_init_params(m, MLP_INIT_TORCH, r);
    tloss t = {0};
    real x[64], xd[64];
    setup_batch(r, &t, x, xd, 3);
    t.use_ydot = 1;
    check_grads(m, &t, x, xd, "deeper silu");
    mlp_free(m);
    rng_free(r);
}

/* Gradients accumulate; a JVP forward with dL/dẏ = NULL gives the same
 * gradients as a plain forward; dy = NULL means 0. */
static void test_accumulate_and_paths(void **state)
{
    (void)state;
    rng *r = rng_create(5, 100);
    mlp *m = make_net(MLP_TANH, MLP_LINEAR, 4, 50);
    size_t P = m->n_params;
    real x[12], xd[12], dy[8], dx1[12], dx2[12];
    fill(r, x, 12, 1);
    fill(r, xd, 12, 1);
    fill(r, dy, 8, 1);
    double *g1 = malloc(P * sizeof(double));
    mlp_zero_grad(m);
    mlp_forward(m, 4, x);
    mlp_backward(m, dy, NULL, dx1, NULL);
    for (size_t p = 0; p < P; p++)
        g1[p] = m->grads[p];
    mlp_forward_jvp(m, 4, x, xd);
    real dxd[12];
    mlp_backward(m, dy, NULL, dx2, dxd);
    for (size_t p = 0; p < P; p++)
        assert_close(m->grads[p], 2 * g1[p], 1e-13);
    for (int i = 0; i < 12; i++) {
        assert_close(dx1[i], dx2[i], 1e-14);
        assert_true(dxd[i] == 0);
    }
    mlp_zero_grad(m);
    mlp_backward(m, NULL, NULL, dx2, NULL);
    for (size_t p = 0; p < P; p++)
        assert_true(m->grads[p] == 0);
    free(g1);
    mlp_free(m);
    rng_free(r);
}

/* A state torso feeding a head: head([torso(s), features]) with the JVP along
 * the feature columns only. The torso's parameter gradient, obtained by
 * passing the head's dL/dx (embedding columns) to the torso's backward, must
 * match finite differences of the composite loss. */
static double compose_eval(mlp *torso, mlp *head, int B, const real *st, const real *f,
                           const real *fd, const tloss *t, real *x, real *xd)
{
    const real *emb = mlp_forward(torso, B, st);   /* (B, 4) */
    for (int i = 0; i < B; i++) {
        for (int k = 0; k < 4; k++) {
            x[i * 6 + k] = emb[i * 4 + k];
            xd[i * 6 + k] = 0;
        }
        for (int k = 0; k < 2; k++) {
            x[i * 6 + 4 + k] = f[i * 2 + k];
            xd[i * 6 + 4 + k] = fd[i * 2 + k];
        }
    }
    const real *y = mlp_forward_jvp(head, B, x, xd);
    return tloss_value(t, y, mlp_ydot(head));
}

static void test_torso_head_composition(void **state)
{
    (void)state;
    rng *r = rng_create(6, 100);
    mlp_spec ts, hs;
    mlp_spec_make(&ts, MLP_RELU, 3, 5, 4, 0);
    ts.out_act = MLP_TANH;
    mlp_spec_make(&hs, MLP_SILU, 6, 5, 2, 0);
    mlp *torso = mlp_create(&ts, 4, r, NULL), *head = mlp_create(&hs, 4, r, NULL);
    mlp_init_params(torso, MLP_INIT_TORCH, r);
    int B = 4;
    real st[12], f[8], fdir[8], x[24], xd[24], dy[8], dyd[8], dx[24], demb[16];
    fill(r, st, 12, 1);
    fill(r, f, 8, 1);
    fill(r, fdir, 8, 1);
    tloss t = {0};
    t.B = B;
    t.no = 2;
    t.use_ydot = 1;
    for (int i = 0; i < 8; i++) {
        t.c1[i] = 2 * rng_uniform(r) - 1;
        t.c2[i] = 2 * rng_uniform(r) - 1;
    }
    mlp_zero_grad(torso);
    mlp_zero_grad(head);
    compose_eval(torso, head, B, st, f, fdir, &t, x, xd);
    tloss_adjoint(&t, mlp_y(head), mlp_ydot(head), dy, dyd);
    mlp_backward(head, dy, dyd, dx, NULL);
    for (int i = 0; i < B; i++)
        for (int k = 0; k < 4; k++)
            demb[i * 4 + k] = dx[i * 6 + k];
    /* the torso's cache is still that of this forward */
    mlp_backward(torso, demb, NULL, NULL, NULL);
    size_t P = torso->n_params;
    double *fd = malloc(P * sizeof(double));
    for (size_t p = 0; p < P; p++) {
        real keep = torso->params[p];
        torso->params[p] = keep + FD_H;
        double lp = compose_eval(torso, head, B, st, f, fdir, &t, x, xd);
        torso->params[p] = keep - FD_H;
        double lm = compose_eval(torso, head, B, st, f, fdir, &t, x, xd);
        torso->params[p] = keep;
        fd[p] = (lp - lm) / (2 * FD_H);
    }
    double err = max_err(torso->grads, fd, (int)P);
    if (!(err <= TOL))
        fail_msg("torso gradient through the head: relative error %.3g", err);
    free(fd);
    mlp_free(torso);
    mlp_free(head);
    rng_free(r);
}

/* mlp_forward_grouped against mlp_forward on the concatenated rows: the
 * same y, the same parameter gradients, and dx = the group sums of the
 * plain dL/dx's leading columns. Plain backward is checked against finite
 * differences above, so this pins the grouped path to the same truth. */
static void test_grouped_matches_plain(void **state)
{
    (void)state;
    rng *r = rng_create(7, 100);
    enum { B = 6, PER = 3, NG = 2, NR = 1, NI = 3 };
    for (int a = 0; a < N_ACTS; a++) {
        mlp *m = make_net(all_acts[a], all_acts[(a + 1) % N_ACTS], B, 30 + a);
        real xg[(B / PER) * NG], xr[B * NR], x[B * NI], dy[B * 2], dx[B * NI], dxg[(B / PER) * NG];
        fill(r, xg, (B / PER) * NG, 1.5);
        fill(r, xr, B * NR, 1.5);
        fill(r, dy, B * 2, 1.0);
        for (int i = 0; i < B; i++) {
            for (int k = 0; k < NG; k++)
                x[i * NI + k] = xg[(i / PER) * NG + k];
            for (int k = 0; k < NR; k++)
                x[i * NI + NG + k] = xr[i * NR + k];
        }
        size_t P = m->n_params;
        double yp[B * 2], *gp = malloc(P * sizeof(double));
        mlp_zero_grad(m);
        const real *y = mlp_forward(m, B, x);
        for (int i = 0; i < B * 2; i++)
            yp[i] = y[i];
        mlp_backward(m, dy, NULL, dx, NULL);
        for (size_t p = 0; p < P; p++)
            gp[p] = m->grads[p];
        mlp_zero_grad(m);
        y = mlp_forward_grouped(m, B, PER, xg, NG, xr);
        double ey = max_err(y, yp, B * 2);
        mlp_backward(m, dy, NULL, dxg, NULL);
        double eg = max_err(m->grads, gp, (int)P);
        double sums[(B / PER) * NG] = {0};
        for (int i = 0; i < B; i++)
            for (int k = 0; k < NG; k++)
                sums[(i / PER) * NG + k] += dx[i * NI + k];
        double ex = max_err(dxg, sums, (B / PER) * NG);
        if (!(ey <= 1e-12 && eg <= 1e-12 && ex <= 1e-12))
            fail_msg("grouped %s: y %.3g, dθ %.3g, dx %.3g off the plain pass", mlp_act_name(all_acts[a]), ey,
                     eg, ex);
        /* a plain forward afterwards is plain again */
        mlp_forward(m, B, x);
        mlp_backward(m, dy, NULL, dx, NULL);
        free(gp);
        mlp_free(m);
    }
    rng_free(r);
}

/* The same for a network with noisy layers (noise on) and a dueling output
 * (make_x's, n_in = 3 = NG + NR). */
static void test_grouped_noisy_dueling_matches_plain(void **state)
{
    (void)state;
    rng *r = rng_create(11, 100);
    enum { B = 6, PER = 3, NG = 2, NR = 1, NI = 3 };
    mlp *m = make_x(MLP_SILU, 1, 1, 1, B, 95);
    real xg[(B / PER) * NG], xr[B * NR], x[B * NI], dy[B * XOUT], dx[B * NI], dxg[(B / PER) * NG];
    fill(r, xg, (B / PER) * NG, 1.5);
    fill(r, xr, B * NR, 1.5);
    fill(r, dy, B * XOUT, 1.0);
    for (int i = 0; i < B; i++) {
        for (int k = 0; k < NG; k++)
            x[i * NI + k] = xg[(i / PER) * NG + k];
        for (int k = 0; k < NR; k++)
            x[i * NI + NG + k] = xr[i * NR + k];
    }
    size_t P = m->n_params;
    double yp[B * XOUT], *gp = malloc(P * sizeof(double));
    mlp_zero_grad(m);
    const real *y = mlp_forward(m, B, x);
    for (int i = 0; i < B * XOUT; i++)
        yp[i] = y[i];
    mlp_backward(m, dy, NULL, dx, NULL);
    for (size_t p = 0; p < P; p++)
        gp[p] = m->grads[p];
    mlp_zero_grad(m);
    y = mlp_forward_grouped(m, B, PER, xg, NG, xr);
    double ey = max_err(y, yp, B * XOUT);
    mlp_backward(m, dy, NULL, dxg, NULL);
    double eg = max_err(m->grads, gp, (int)P);
    double sums[(B / PER) * NG] = {0};
    for (int i = 0; i < B; i++)
        for (int k = 0; k < NG; k++)
            sums[(i / PER) * NG + k] += dx[i * NI + k];
    double ex = max_err(dxg, sums, (B / PER) * NG);
    if (!(ey <= 1e-12 && eg <= 1e-12 && ex <= 1e-12))
        fail_msg("grouped noisy dueling: y %.3g, dθ %.3g, dx %.3g off the plain pass", ey, eg, ex);
    free(gp);
    mlp_free(m);
    rng_free(r);
}

/* ---- dueling outputs and noisy layers ---- */

/* check_grads on make_x's networks: dθ (μ and σ), dx and, through the JVP
 * and double backprop, dẋ, for every hidden activation, with the noise on
 * (a fixed draw: the loss is then a function of μ, σ and x) and off (σ
 * then has no effect and must get a zero gradient, which FD confirms). */
static void test_dueling_and_noisy_match_fd(void **state)
{
    (void)state;
    rng *r = rng_create(8, 100);
    for (int a = 0; a < N_ACTS; a++)
        for (int v = 0; v < 4; v++) { /* dueling; noisy, noise on; both; noisy, noise off */
            int duel = v == 0 || v == 2, noisy = v >= 1, on = v == 1 || v == 2;
            for (int tan = 0; tan < 2; tan++) {
                mlp *m = make_x(all_acts[a], duel, noisy, on, 5, 80 + (uint64_t)(a * 8 + v));
                tloss t = {0};
                real x[64], xd[64];
                t.B = 4;
                t.no = XOUT;
                t.use_ydot = tan;
                for (int i = 0; i < 64; i++) {
                    t.c1[i] = 2 * rng_uniform(r) - 1;
                    t.c2[i] = 2 * rng_uniform(r) - 1;
                }
                fill(r, x, 12, 1.5);
                fill(r, xd, 12, 1.0);
                char what[96];
                snprintf(what, sizeof what, "%s%s%s %s %s", duel ? "dueling " : "", noisy ? "noisy" : "",
                         noisy ? (on ? " (on)" : " (off)") : "", mlp_act_name(all_acts[a]), tan ? "ẏ-loss" : "y-loss");
                check_grads(m, &t, x, xd, what);
                if (noisy && !on) /* σ gets nothing when the forward used μ alone */
                    for (int l = 0; l < 3; l++)
                        for (int i = 0; i < mlp_layer_rows(m, l) * m->spec.sizes[l]; i++)
                            assert_true(m->dsW[l][i] == 0);
                mlp_free(m);
            }
        }
    rng_free(r);
}

/* A conv front before noisy dense layers with a dueling output (MinAtar's
 * shape, small): the conv kernels stay plain, their gradient goes through
 * the first dense layer's W_eff. */
static void test_conv_noisy_dueling_matches_fd(void **state)
{
    (void)state;
    rng *r = rng_create(9, 100);
    mlp_conv cv = {1, 4, 4, 1, 2, {2}};
    int dense[2] = {5, XOUT};
    mlp_spec s;
    assert_int_equal(mlp_spec_make_conv(&s, MLP_RELU, &cv, 2, dense), 0);
    s.dueling = XA;
    s.noisy = 1;
    s.noisy_sigma0 = 0.5;
    mlp *m = mlp_create(&s, 2, r, NULL);
    assert_non_null(m);
    assert_true(m->n_params == (size_t)(2 * 4 + 2) + 2 * (size_t)(5 * 19 + (XOUT + XN) * 6));
    fill(r, m->params, m->n_params, 0.6);
    mlp_noise_sample(m, r);
    tloss t = {0};
    real x[64], xd[64] = {0};
    t.B = 2;
    t.no = XOUT;
    for (int i = 0; i < 64; i++)
        t.c1[i] = 2 * rng_uniform(r) - 1;
    fill(r, x, 32, 1.0);
    check_grads(m, &t, x, xd, "conv > noisy dueling");
    mlp_free(m);
    rng_free(r);
}

/* The combine's identities, in double: mean_a y[a, j] = V[j] (computed by
 * hand from the value rows and the last hidden layer); a constant added to
 * every advantage of a column j (the advantage rows' biases) changes no
 * output; one added to V[j] moves y[·, j] by exactly it. */
static void test_dueling_combine_identities(void **state)
{
    (void)state;
    rng *r = rng_create(10, 100);
    for (int noisy = 0; noisy < 2; noisy++) {
        mlp *m = make_x(MLP_TANH, 1, noisy, noisy, 4, 90 + (uint64_t)noisy);
        enum { B = 4 };
        real x[B * 3], y0[B * XOUT];
        fill(r, x, B * 3, 1.5);
        const real *y = mlp_forward(m, B, x);
        memcpy(y0, y, sizeof y0);
        const real *h = m->act[2]; /* (B, 4): the last hidden layer */
        const real *W = noisy ? m->Weff[2] : m->W[2], *b = noisy ? m->beff[2] : m->b[2];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < XN; j++) {
                double v = b[XOUT + j], mean = 0;
                for (int k = 0; k < 4; k++)
                    v += W[(XOUT + j) * 4 + k] * h[i * 4 + k];
                for (int a = 0; a < XA; a++)
                    mean += y0[i * XOUT + a * XN + j] / XA;
                assert_close(mean, v, 1e-13);
            }
        /* + 0.7 to every advantage of column 1 (the μ bias: with the noise
         * on, b_eff = μ_b + σ_b ε_b moves with it) */
        for (int a = 0; a < XA; a++)
            m->b[2][a * XN + 1] += 0.7;
        y = mlp_forward(m, B, x);
        for (int i = 0; i < B * XOUT; i++)
            assert_close(y[i], y0[i], 1e-13);
        m->b[2][XOUT + 1] += 0.25; /* V[1] */
        y = mlp_forward(m, B, x);
        for (int i = 0; i < B * XOUT; i++)
            assert_close(y[i], y0[i] + ((i % XN) == 1 ? 0.25 : 0), 1e-13);
        mlp_free(m);
    }
    rng_free(r);
}

/* d/du of the Fourier features against finite differences, and their values
 * against direct sin/cos. */
static void test_fourier_features(void **state)
{
    (void)state;
    const int K = 16, D = 1 + 2 * K, B = 5;
    real u[5] = {-1.2, -0.3, 0.0, 0.77, 1.25}, f[5 * 33], df[5 * 33], fp[5 * 33], fm[5 * 33];
    fourier_features(B, u, K, 1.25, f, D, df, D);
    for (int i = 0; i < B; i++) {
        assert_close(f[i * D], u[i], 0);
        for (int k = 1; k <= K; k++) {
            assert_close(f[i * D + k], sin(k * M_PI * u[i] / 1.25), 1e-13);
            assert_close(f[i * D + K + k], cos(k * M_PI * u[i] / 1.25), 1e-13);
        }
    }
    real up[5], um[5];
    for (int i = 0; i < B; i++) {
        up[i] = u[i] + FD_H;
        um[i] = u[i] - FD_H;
    }
    fourier_features(B, up, K, 1.25, fp, D, NULL, 0);
    fourier_features(B, um, K, 1.25, fm, D, NULL, 0);
    /* derivatives reach 16π/1.25 ≈ 40, third derivatives ≈ 6.6e4: FD error
     * ≈ h²·6.6e4/6 ≈ 1e-6 absolute, i.e. 3e-8 relative to the scale 40 */
    double fdv[5 * 33];
    for (int i = 0; i < B * D; i++)
        fdv[i] = (fp[i] - fm[i]) / (2 * FD_H);
    double err = max_err(df, fdv, B * D);
    if (!(err <= TOL))
        fail_msg("fourier derivative relative error %.3g", err);
    /* strided output into a wider row, f only */
    real wide[5 * 40];
    memset(wide, 0, sizeof wide);
    fourier_features(B, u, K, 1.25, wide + 7, 40, NULL, 0);
    for (int i = 0; i < B; i++) {
        assert_true(wide[i * 40 + 6] == 0);
        for (int k = 0; k < D; k++)
            assert_true(wide[i * 40 + 7 + k] == f[i * D + k]);
    }
}

int main(void)
{
    openblas_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backward_matches_fd),
        cmocka_unit_test(test_jvp_matches_fd),
        cmocka_unit_test(test_double_backprop_matches_fd),
        cmocka_unit_test(test_deeper_net),
        cmocka_unit_test(test_accumulate_and_paths),
        cmocka_unit_test(test_torso_head_composition),
        cmocka_unit_test(test_grouped_matches_plain),
        cmocka_unit_test(test_grouped_noisy_dueling_matches_plain),
        cmocka_unit_test(test_dueling_and_noisy_match_fd),
        cmocka_unit_test(test_conv_noisy_dueling_matches_fd),
        cmocka_unit_test(test_dueling_combine_identities),
        cmocka_unit_test(test_fourier_features),
    };
    return cmocka_run_group_tests_name("fields_mlp_double", tests, NULL, NULL);
}
