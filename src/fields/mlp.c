/* mlp.c — fully connected network: forward, input-JVP, backward with double
 * backprop; and the optional conv front (its layers are conv.c's, their
 * bias and activation applied here as a dense layer's). Each piece's
 * forward and backward sit side by side, llm.c style.
 *
 * Notation for one layer (B rows, `in` inputs, `out` outputs):
 *   a (B, in)   input, ȧ (B, in) its tangent (derivative along the input
 *               direction ẋ)
 *   z = a Wᵀ + b (B, out),   ż = ȧ Wᵀ            (the bias has no tangent)
 *   h = σ(z),                ḣ = σ'(z) ⊙ ż
 * Primal and tangent rows are stacked in one (2B, ·) buffer, [a; ȧ], so one
 * GEMM with M = 2B computes [z; ż] = [a; ȧ] Wᵀ.
 *
 * Double backprop. Given adjoints ḡ_h = dL/dh and ḡ_ḣ = dL/dḣ:
 *   dL/dż = ḡ_ḣ ⊙ σ'(z)
 *   dL/dz = ḡ_h ⊙ σ'(z) + ḡ_ḣ ⊙ σ''(z) ⊙ ż        (ḣ depends on z through σ')
 *   dL/dW = (dL/dz)ᵀ a + (dL/dż)ᵀ ȧ = [dL/dz; dL/dż]ᵀ [a; ȧ]   one GEMM, K = 2B
 *   dL/db = Σ_rows dL/dz
 *   [dL/da; dL/dȧ] = [dL/dz; dL/dż] W                          one GEMM, M = 2B
 * i.e. ordinary backprop on the stacked batch, plus one coupling term from the
 * tangent adjoint into the primal one. The forward pass stores σ'(z) (d1)
 * and σ''(z) ⊙ ż (e), so the backward elementwise step is two
 * multiply-adds per element and needs neither z nor ż again.
 *
 * A noisy layer (mlp.h) is this layer with W = W_eff = μ_W + σ_W ⊙ ε_W and
 * b = b_eff = μ_b + σ_b ⊙ ε_b, materialized once per forward (rows·in
 * multiply-adds, against the GEMM's B·rows·in). With D = dL/dW_eff and
 * D_b = dL/db_eff from the same GEMMs as above:
 *   dL/dμ_W = D,   dL/dσ_W = D ⊙ ε_W,   dL/dμ_b = D_b,   dL/dσ_b = D_b ⊙ ε_b,
 *   dL/da = G W_eff.
 * A dueling output combines the last layer's [Adv, V] rows per row r of the
 * batch (and tangent rows alike: the combine is linear):
 *   y[a, j] = V[j] + (Adv[a, j] − m[j]),   m[j] = Σ_a Adv[a, j] / A
 *   dL/dV[j] = Σ_a G[a, j],   dL/dAdv[a, j] = G[a, j] − Σ_a' G[a', j] / A.
 */
#include "fields/mlp.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fields/adam.h"

/* The elementwise loops below must vectorize: the build uses -O2, whose
 * cost model leaves them scalar, and FP comparisons (the clamp in tanh) are
 * not if-converted while traps are assumed. Elementwise IEEE operations give
 * the same results vectorized or not, so this changes speed only. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#endif

#include "fields/fastmath.h"

/* The passes over a noisy layer's weights (building W_eff, folding its
 * gradient into dμ and dσ) and the dueling combine are compiled also for
 * AVX2 and AVX-512 and picked at load time: the same elementwise
 * multiplies and adds (no FMA: -ffp-contract=off) in wider vectors, so
 * the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define MLP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MLP_CLONES
#endif

/* ------------------------------------------------------------------------ */
/* activations: value σ, first and second derivative, one element            */

static inline __attribute__((always_inline)) void eval_tanh(real z, real *s0, real *s1, real *s2)
{
    real t = tanh_r(z);
    real d = (real)1 - t * t;
    *s0 = t;
    *s1 = d;
    *s2 = (real)-2 * t * d;
}

/* sigmoid from t = exp(-|z|), without overflow for either sign */
static inline __attribute__((always_inline)) real sigmoid_t(real z, real t)
{
    return z >= 0 ? (real)1 / ((real)1 + t) : t / ((real)1 + t);
}

static inline __attribute__((always_inline)) void eval_silu(real z, real *s0, real *s1, real *s2)
{
    real s = sigmoid_t(z, expneg_r(-rfabs(z)));
    real q = s * ((real)1 - s);
    *s0 = z * s;
    *s1 = s + z * q;
    *s2 = q * ((real)2 + z * ((real)1 - (real)2 * s));
}

static inline __attribute__((always_inline)) void eval_softplus(real z, real *s0, real *s1, real *s2)
{
    real t = expneg_r(-rfabs(z));
    real s = sigmoid_t(z, t);
    *s0 = (z > 0 ? z : (real)0) + log1p_r(t);
    *s1 = s;
    *s2 = s * ((real)1 - s);
}

static inline __attribute__((always_inline)) void eval_relu(real z, real *s0, real *s1, real *s2)
{
    *s0 = z < 0 ? (real)0 : z;   /* NaN passes through, as in PyTorch */
    *s1 = z > 0 ? (real)1 : (real)0;
    *s2 = 0;
}

/* act_forward: Z (B, n) = a Wᵀ on entry, h = σ(Z + b) on exit; d1 = σ'.
 * act_forward_jvp: Z (2B, n) = [z − b; ż] on entry, [h; ḣ] on exit;
 * d1 = σ'(z), e = σ''(z) ⊙ ż (B, n). One instance per activation so the
 * inner loops carry no branch on the activation kind. */
#define DEFINE_ACT(NAME)                                                        \
    static void act_forward_##NAME(real *Z, real *d1, const real *b, int B, int n) \
    {                                                                           \
        for (int r = 0; r < B; r++) {                                           \
            real *z = Z + (size_t)r * n, *g = d1 + (size_t)r * n;               \
            for (int j = 0; j < n; j++) {                                       \
                real s0, s1, s2;                                                \
                eval_##NAME(z[j] + b[j], &s0, &s1, &s2);                        \
                z[j] = s0;                                                      \
                g[j] = s1;                                                      \
            }                                                                   \
        }                                                                       \
    }                                                                           \
    static void act_forward_jvp_##NAME(real *Z, real *d1, real *e, const real *b, int B, int n) \
    {                                                                           \
        for (int r = 0; r < B; r++) {                                           \
            real *z = Z + (size_t)r * n, *zd = Z + (size_t)(B + r) * n;         \
            real *g = d1 + (size_t)r * n, *ee = e + (size_t)r * n;              \
            for (int j = 0; j < n; j++) {                                       \
                real s0, s1, s2;                                                \
                eval_##NAME(z[j] + b[j], &s0, &s1, &s2);                        \
                z[j] = s0;                                                      \
                g[j] = s1;                                                      \
                ee[j] = s2 * zd[j];                                             \
                zd[j] = s1 * zd[j];                                             \
            }                                                                   \
        }                                                                       \
    }

DEFINE_ACT(tanh)
DEFINE_ACT(silu)
DEFINE_ACT(softplus)
DEFINE_ACT(relu)

/* The output layer is usually linear: only the bias, tangent rows untouched. */
static void bias_forward(real *Z, const real *b, int B, int n)
{
    for (int r = 0; r < B; r++) {
        real *z = Z + (size_t)r * n;
        for (int j = 0; j < n; j++)
            z[j] += b[j];
    }
}

static void act_forward(mlp_act a, real *Z, real *d1, const real *b, int B, int n)
{
    switch (a) {
    case MLP_TANH: act_forward_tanh(Z, d1, b, B, n); break;
    case MLP_SILU: act_forward_silu(Z, d1, b, B, n); break;
    case MLP_SOFTPLUS: act_forward_softplus(Z, d1, b, B, n); break;
    case MLP_RELU: act_forward_relu(Z, d1, b, B, n); break;
    default: bias_forward(Z, b, B, n); break;
    }
}

static void act_forward_jvp(mlp_act a, real *Z, real *d1, real *e, const real *b, int B, int n)
{
    switch (a) {
    case MLP_TANH: act_forward_jvp_tanh(Z, d1, e, b, B, n); break;
    case MLP_SILU: act_forward_jvp_silu(Z, d1, e, b, B, n); break;
    case MLP_SOFTPLUS: act_forward_jvp_softplus(Z, d1, e, b, B, n); break;
    case MLP_RELU: act_forward_jvp_relu(Z, d1, e, b, B, n); break;
    default: bias_forward(Z, b, B, n); break;
    }
}

/* G (B, n): dL/dh in, dL/dz out. */
static void act_backward(real *G, const real *d1, int B, int n)
{
    size_t N = (size_t)B * n;
    for (size_t i = 0; i < N; i++)
        G[i] *= d1[i];
}

/* G (2B, n): [dL/dh; dL/dḣ] in, [dL/dz; dL/dż] out (see the file comment). */
static void act_backward_jvp(real *G, const real *d1, const real *e, int B, int n)
{
    size_t N = (size_t)B * n;
    real *Gt = G + N;
    for (size_t i = 0; i < N; i++) {
        real gt = Gt[i];
        G[i] = G[i] * d1[i] + gt * e[i];
        Gt[i] = gt * d1[i];
    }
}

/* ------------------------------------------------------------------------ */
/* linear layer                                                              */

/* Z (R, out) = A (R, in) · Wᵀ, W (out, in). The bias is added by act_forward
 * (primal rows only). */
static void linear_forward(real *Z, const real *A, const real *W, int R, int in, int out)
{
    rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, out, in,
          1, A, in, W, in, 0, Z, out);
}

/* G (R, out) = dL/d[z; ż]; A (R, in) the layer's stacked input.
 * dW (out, in) += Gᵀ A; db (out) += Σ over the B primal rows of G;
 * dA (R, in) = G W, skipped when dA is NULL. */
static void linear_backward(real *dA, real *dW, real *db, const real *G, const real *A,
                            const real *W, int R, int B, int in, int out)
{
    rgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, R,
          1, G, out, A, in, 1, dW, in);
    for (int r = 0; r < B; r++) {
        const real *g = G + (size_t)r * out;
        for (int j = 0; j < out; j++)
            db[j] += g[j];
    }
    if (dA)
        rgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, in, out,
              1, G, out, W, in, 0, dA, in);
}

/* ------------------------------------------------------------------------ */
/* noisy layer: effective weights (forward), dμ and dσ (backward)            */

/* W_eff (out, in) = μ_W + σ_W ⊙ (fo fiᵀ), b_eff (out) = μ_b + σ_b ⊙ fo, in
 * PyTorch's NoisyLinear order (ε_W = fo ⊗ fi first). Inlined into
 * forward_weights, whose AVX2 and AVX-512 clones run it in wider vectors. */
static inline __attribute__((always_inline)) void noisy_weights(real *restrict Weff, real *restrict beff, const real *restrict mu,
                          const real *restrict mub, const real *restrict sw, const real *restrict sb,
                          const real *restrict fi, const real *restrict fo, int in, int out)
{
    for (int o = 0; o < out; o++) {
        const real eo = fo[o];
        const real *mr = mu + (size_t)o * in, *sr = sw + (size_t)o * in;
        real *wr = Weff + (size_t)o * in;
        for (int i = 0; i < in; i++)
            wr[i] = mr[i] + sr[i] * (eo * fi[i]);
        beff[o] = mub[o] + sb[o] * eo;
    }
}

/* D (out, in) = dL/dW_eff, Db (out) = dL/db_eff of one backward: dμ_W += D,
 * dσ_W += D ⊙ (fo fiᵀ), dμ_b += Db, dσ_b += Db ⊙ fo. With dmu NULL, D and
 * Db already are dμ_W, dμ_b (see mlp_backward) and only dσ is added to. */
MLP_CLONES static void noisy_fold(real *restrict dmu, real *restrict dmub, real *restrict dsw,
                                  real *restrict dsb, const real *restrict D, const real *restrict Db,
                                  const real *restrict fi, const real *restrict fo, int in, int out)
{
    for (int o = 0; o < out; o++) {
        const real eo = fo[o];
        const real *dr = D + (size_t)o * in;
        real *sr = dsw + (size_t)o * in;
        if (dmu) {
            real *mr = dmu + (size_t)o * in;
            for (int i = 0; i < in; i++)
                mr[i] += dr[i];
            dmub[o] += Db[o];
        }
        for (int i = 0; i < in; i++)
            sr[i] += dr[i] * (eo * fi[i]);
        dsb[o] += Db[o] * eo;
    }
}

/* 1 if every one of p (n) is +0 or -0. */
MLP_CLONES static int all_zero(const real *p, size_t n)
{
    int nz = 0;
    for (size_t i = 0; i < n; i++)
        nz |= p[i] != 0;
    return !nz;
}

/* ------------------------------------------------------------------------ */
/* dueling combine                                                           */

/* Z (R, (A + 1)·N) rows [Adv (A·N), V (N)] -> Y (R, A·N),
 * Y[a, j] = V[j] + (Adv[a, j] − Σ_a Adv[a, j] / A); mean (N) scratch. */
MLP_CLONES static void duel_forward(real *restrict Y, const real *restrict Z, real *restrict mean, int R, int A,
                                    int N)
{
    const real inv = (real)1 / (real)A;
    for (int r = 0; r < R; r++) {
        const real *adv = Z + (size_t)r * (A + 1) * N, *v = adv + (size_t)A * N;
        real *y = Y + (size_t)r * A * N;
        for (int j = 0; j < N; j++)
            mean[j] = 0;
        for (int a = 0; a < A; a++)
            for (int j = 0; j < N; j++)
                mean[j] += adv[a * N + j];
        for (int j = 0; j < N; j++)
            mean[j] *= inv;
        for (int a = 0; a < A; a++)
            for (int j = 0; j < N; j++)
                y[a * N + j] = v[j] + (adv[a * N + j] - mean[j]);
    }
}

/* G (R, A·N) = dL/dY -> Gz (R, (A + 1)·N) = dL/d[Adv, V]; s (N) scratch. */
MLP_CLONES static void duel_backward(real *restrict Gz, const real *restrict G, real *restrict s, int R, int A,
                                     int N)
{
    const real inv = (real)1 / (real)A;
    for (int r = 0; r < R; r++) {
        const real *g = G + (size_t)r * A * N;
        real *gadv = Gz + (size_t)r * (A + 1) * N, *gv = gadv + (size_t)A * N;
        for (int j = 0; j < N; j++)
            s[j] = 0;
        for (int a = 0; a < A; a++)
            for (int j = 0; j < N; j++)
                s[j] += g[a * N + j];
        for (int j = 0; j < N; j++) {
            gv[j] = s[j];
            s[j] *= inv;
        }
        for (int a = 0; a < A; a++)
            for (int j = 0; j < N; j++)
                gadv[a * N + j] = g[a * N + j] - s[j];
    }
}

/* ------------------------------------------------------------------------ */
/* the network                                                               */

static const char *const act_names[MLP_ACT_COUNT] = {"linear", "tanh", "silu", "softplus", "relu"};

const char *mlp_act_name(mlp_act a)
{
    return (unsigned)a < MLP_ACT_COUNT ? act_names[a] : "?";
}

int mlp_act_parse(const char *name, mlp_act *out, bdrl_err *e)
{
    for (int i = 0; i < MLP_ACT_COUNT; i++)
        if (strcmp(name, act_names[i]) == 0) {
            *out = (mlp_act)i;
            return 0;
        }
    return err_set(e, "unknown activation '%s' (expected linear, tanh, silu, softplus or relu)", name);
}

int mlp_spec_make(mlp_spec *s, mlp_act act, ...)
{
    memset(s, 0, sizeof *s);
    s->act = act;
    s->out_act = MLP_LINEAR;
    va_list ap;
    va_start(ap, act);
    int n = 0, v;
    while ((v = va_arg(ap, int)) != 0) {
        if (v < 0 || n > MLP_MAX_LAYERS) {
            va_end(ap);
            return -1;
        }
        s->sizes[n++] = v;
    }
    va_end(ap);
    s->n_layers = n - 1;
    return n >= 2 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* the conv front's shapes                                                   */

#define CONV_MAX_DIM 4096    /* image side, channels, kernel side */

conv_geom mlp_conv_layer(const mlp_conv *c, int i)
{
    int shrink = i * (c->kernel - 1);
    conv_geom g = {c->h - shrink, c->w - shrink, i ? c->channels[i - 1] : c->c, c->kernel, c->channels[i]};
    return g;
}

int mlp_conv_out(const mlp_conv *c)
{
    if (c->n < 1 || c->n > MLP_MAX_CONV)
        return 0;
    conv_geom g = mlp_conv_layer(c, c->n - 1);
    long out = (long)conv_oh(&g) * conv_ow(&g) * g.cout;
    return conv_oh(&g) < 1 || conv_ow(&g) < 1 || out > (1 << 20) ? 0 : (int)out;
}

static int conv_check(const mlp_spec *s, bdrl_err *e)
{
    const mlp_conv *c = &s->conv;
    if (c->n == 0)
        return 0;
    if (c->n < 0 || c->n > MLP_MAX_CONV)
        return err_set(e, "mlp: %d conv layers (expected 0..%d)", c->n, MLP_MAX_CONV);
    if (c->h < 1 || c->w < 1 || c->c < 1 || c->h > CONV_MAX_DIM || c->w > CONV_MAX_DIM || c->c > CONV_MAX_DIM ||
        (long)c->h * c->w * c->c > (1 << 20))
        return err_set(e, "mlp: conv input %dx%dx%d out of range", c->h, c->w, c->c);
    if (c->kernel < 1 || c->kernel > CONV_MAX_DIM)
        return err_set(e, "mlp: conv kernel %d out of range", c->kernel);
    for (int i = 0; i < c->n; i++)
        if (c->channels[i] < 1 || c->channels[i] > CONV_MAX_DIM)
            return err_set(e, "mlp: conv layer %d has %d channels (expected 1..%d)", i, c->channels[i],
                           CONV_MAX_DIM);
    int out = mlp_conv_out(c);
    if (out < 1)
        return err_set(e, "mlp: %d conv layers of %dx%d kernels leave no output of a %dx%d image", c->n,
                       c->kernel, c->kernel, c->h, c->w);
    if (s->sizes[0] != out)
        return err_set(e, "mlp: the conv front's output has %d numbers, the first dense layer takes %d", out,
                       s->sizes[0]);
    return 0;
}

static int conv_equal(const mlp_conv *a, const mlp_conv *b)
{
    if (a->n != b->n)
        return 0;
    if (a->n == 0)
        return 1;
    if (a->h != b->h || a->w != b->w || a->c != b->c || a->kernel != b->kernel)
        return 0;
    for (int i = 0; i < a->n; i++)
        if (a->channels[i] != b->channels[i])
            return 0;
    return 1;
}

int mlp_spec_make_conv(mlp_spec *s, mlp_act act, const mlp_conv *conv, int n_dense, const int *dense)
{
    memset(s, 0, sizeof *s);
    int out = mlp_conv_out(conv);
    if (out < 1 || n_dense < 1 || n_dense > MLP_MAX_LAYERS)
        return -1;
    s->conv = *conv;
    s->n_layers = n_dense;
    s->sizes[0] = out;
    for (int l = 0; l < n_dense; l++)
        s->sizes[l + 1] = dense[l];
    s->act = act;
    s->out_act = MLP_LINEAR;
    return 0;
}

static int spec_check(const mlp_spec *s, bdrl_err *e)
{
    if (s->n_layers < 1 || s->n_layers > MLP_MAX_LAYERS)
        return err_set(e, "mlp: %d layers (expected 1..%d)", s->n_layers, MLP_MAX_LAYERS);
    for (int l = 0; l <= s->n_layers; l++)
        if (s->sizes[l] < 1 || s->sizes[l] > (1 << 20))
            return err_set(e, "mlp: layer size %d at position %d out of range", s->sizes[l], l);
    if ((unsigned)s->act >= MLP_ACT_COUNT || (unsigned)s->out_act >= MLP_ACT_COUNT)
        return err_set(e, "mlp: invalid activation");
    if (s->dueling < 0 || (s->dueling > 0 && s->sizes[s->n_layers] % s->dueling))
        return err_set(e, "mlp: a dueling output of %d groups needs an output width (%d) divisible by them",
                       s->dueling, s->sizes[s->n_layers]);
    if (s->dueling > 0 && s->out_act != MLP_LINEAR)
        return err_set(e, "mlp: a dueling output combines linear streams (output activation %s)",
                       mlp_act_name(s->out_act));
    if ((s->noisy != 0 && s->noisy != 1) || (s->noisy && !(s->noisy_sigma0 >= 0 && s->noisy_sigma0 <= 1e6)))
        return err_set(e, "mlp: noisy %d with sigma0 %g (expected 0 or 1, sigma0 in [0, 1e6])", s->noisy,
                       s->noisy_sigma0);
    return conv_check(s, e);
}

static int spec_equal(const mlp_spec *a, const mlp_spec *b)
{
    if (a->n_layers != b->n_layers || a->act != b->act || a->out_act != b->out_act ||
        !conv_equal(&a->conv, &b->conv) || a->dueling != b->dueling || a->noisy != b->noisy)
        return 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->sizes[l] != b->sizes[l])
            return 0;
    return 1;
}

/* "3-8-2 tanh/linear"; with a conv front "conv 10x10x4 k3 [16] > 1024-128 relu/relu" */
static void spec_str(const mlp_spec *s, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    const mlp_conv *c = &s->conv;
    if (c->n > 0 && c->n <= MLP_MAX_CONV) {
        k += (size_t)snprintf(buf, n, "conv %dx%dx%d k%d [", c->h, c->w, c->c, c->kernel);
        for (int i = 0; i < c->n && k < n; i++)
            k += (size_t)snprintf(buf + k, n - k, "%s%d", i ? ", " : "", c->channels[i]);
        if (k < n)
            k += (size_t)snprintf(buf + k, n - k, "] > ");
    }
    for (int l = 0; l <= s->n_layers && k < n; l++)
        k += (size_t)snprintf(buf + k, n - k, "%s%d", l ? "-" : "", s->sizes[l]);
    if (k < n)
        k += (size_t)snprintf(buf + k, n - k, " %s/%s", mlp_act_name(s->act), mlp_act_name(s->out_act));
    if (k < n && s->noisy)
        k += (size_t)snprintf(buf + k, n - k, " noisy");
    if (k < n && s->dueling)
        snprintf(buf + k, n - k, " dueling %d", s->dueling);
}

void mlp_free(mlp *m)
{
    if (!m)
        return;
    int L = m->spec.n_layers;
    if (m->act)
        for (int l = 0; l <= L; l++)
            free(m->act[l]);
    if (m->d1)
        for (int l = 0; l <= L; l++)
            free(m->d1[l]);
    if (m->e)
        for (int l = 0; l <= L; l++)
            free(m->e[l]);
    free(m->act);
    free(m->d1);
    free(m->e);
    free(m->W);
    free(m->b);
    free(m->dW);
    free(m->db);
    free(m->params);
    free(m->grads);
    free(m->g0);
    free(m->g1);
    free(m->dy);
    free(m->dydot);
    for (int i = 0; i < m->spec.conv.n; i++) {
        free(m->col[i]);
        if (i < m->spec.conv.n - 1)
            free(m->ch[i]); /* the last one is act[0] */
        free(m->cd1[i]);
    }
    free(m->cdcol);
    free(m->zraw);
    free(m->dmean);
    if (m->fin)
        for (int l = 0; l < L; l++) {
            free(m->fin[l]);
            free(m->fout[l]);
            free(m->Weff[l]);
            free(m->beff[l]);
        }
    free(m->sW);
    free(m->sb);
    free(m->dsW);
    free(m->dsb);
    free(m->fin);
    free(m->fout);
    free(m->Weff);
    free(m->beff);
    free(m->dscr);
    free(m);
}

mlp *mlp_create(const mlp_spec *spec, int max_batch, rng *init, bdrl_err *e)
{
    if (spec_check(spec, e))
        return NULL;
    if (max_batch < 1) {
        err_set(e, "mlp: max_batch %d must be >= 1", max_batch);
        return NULL;
    }
    mlp *m = err_calloc(1, sizeof *m, e);
    if (!m)
        return NULL;
    m->spec = *spec;
    m->max_batch = max_batch;
    m->weff_draw = -1;
    int L = spec->n_layers, wmax = 0, nconv = spec->conv.n;
    size_t np = 0, colmax = 0;
    for (int i = 0; i < nconv; i++) {
        conv_geom g = mlp_conv_layer(&spec->conv, i);
        m->cg[i] = g;
        np += (size_t)g.cout * (conv_cols(&g) + 1);
        int w = conv_positions(&g) * g.cout; /* a row of its output, and of its adjoint in g0/g1 */
        wmax = w > wmax ? w : wmax;
        size_t nc = (size_t)max_batch * conv_positions(&g) * conv_cols(&g);
        colmax = nc > colmax ? nc : colmax;
    }
    int noisy = spec->noisy;
    size_t lmax = 0; /* the largest dense layer, W and b */
    for (int l = 0; l < L; l++) {
        size_t nl = (size_t)mlp_spec_layer_rows(spec, l) * (spec->sizes[l] + 1);
        np += noisy ? 2 * nl : nl;
        lmax = nl > lmax ? nl : lmax;
    }
    for (int l = 0; l <= L; l++)
        wmax = spec->sizes[l] > wmax ? spec->sizes[l] : wmax;
    int rowsL = mlp_spec_layer_rows(spec, L - 1);
    wmax = rowsL > wmax ? rowsL : wmax; /* a dueling layer's [Adv, V] adjoint */
    m->n_params = np;
    size_t rows2 = 2 * (size_t)max_batch;
    if (!(m->params = err_calloc(np, sizeof(real), e)) || !(m->grads = err_calloc(np, sizeof(real), e)) ||
        !(m->W = err_calloc(L, sizeof(real *), e)) || !(m->b = err_calloc(L, sizeof(real *), e)) ||
        !(m->dW = err_calloc(L, sizeof(real *), e)) || !(m->db = err_calloc(L, sizeof(real *), e)) ||
        !(m->act = err_calloc(L + 1, sizeof(real *), e)) || !(m->d1 = err_calloc(L + 1, sizeof(real *), e)) ||
        !(m->e = err_calloc(L + 1, sizeof(real *), e)) ||
        !(m->g0 = err_calloc(rows2 * wmax, sizeof(real), e)) ||
        !(m->g1 = err_calloc(rows2 * wmax, sizeof(real), e)) ||
        !(m->dy = err_calloc((size_t)max_batch * spec->sizes[L], sizeof(real), e)) ||
        !(m->dydot = err_calloc((size_t)max_batch * spec->sizes[L], sizeof(real), e)))
        goto fail;
    size_t off = 0;
    for (int i = 0; i < nconv; i++) {
        const conv_geom *g = &m->cg[i];
        size_t rows = (size_t)max_batch * conv_positions(g);
        m->K[i] = m->params + off;
        m->dK[i] = m->grads + off;
        off += (size_t)g->cout * conv_cols(g);
        m->kb[i] = m->params + off;
        m->dkb[i] = m->grads + off;
        off += (size_t)g->cout;
        if (!(m->col[i] = err_calloc(rows * conv_cols(g), sizeof(real), e)) ||
            !(m->cd1[i] = err_calloc(rows * g->cout, sizeof(real), e)) ||
            (i < nconv - 1 && !(m->ch[i] = err_calloc(rows * g->cout, sizeof(real), e))))
            goto fail;
    }
    if (nconv && !(m->cdcol = err_calloc(colmax, sizeof(real), e)))
        goto fail;
    if (noisy && (!(m->sW = err_calloc(L, sizeof(real *), e)) || !(m->sb = err_calloc(L, sizeof(real *), e)) ||
                  !(m->dsW = err_calloc(L, sizeof(real *), e)) || !(m->dsb = err_calloc(L, sizeof(real *), e)) ||
                  !(m->fin = err_calloc(L, sizeof(real *), e)) || !(m->fout = err_calloc(L, sizeof(real *), e)) ||
                  !(m->Weff = err_calloc(L, sizeof(real *), e)) || !(m->beff = err_calloc(L, sizeof(real *), e)) ||
                  !(m->dscr = err_calloc(lmax, sizeof(real), e))))
        goto fail;
    if (spec->dueling && (!(m->zraw = err_calloc(rows2 * rowsL, sizeof(real), e)) ||
                          !(m->dmean = err_calloc((size_t)(spec->sizes[L] / spec->dueling), sizeof(real), e))))
        goto fail;
    for (int l = 0; l < L; l++) {
        int in = spec->sizes[l], out = mlp_spec_layer_rows(spec, l);
        m->W[l] = m->params + off;
        m->dW[l] = m->grads + off;
        off += (size_t)out * in;
        m->b[l] = m->params + off;
        m->db[l] = m->grads + off;
        off += (size_t)out;
        if (!noisy)
            continue;
        m->sW[l] = m->params + off;
        m->dsW[l] = m->grads + off;
        off += (size_t)out * in;
        m->sb[l] = m->params + off;
        m->dsb[l] = m->grads + off;
        off += (size_t)out;
        if (!(m->fin[l] = err_calloc((size_t)in, sizeof(real), e)) ||
            !(m->fout[l] = err_calloc((size_t)out, sizeof(real), e)) ||
            !(m->Weff[l] = err_calloc((size_t)out * in, sizeof(real), e)) ||
            !(m->beff[l] = err_calloc((size_t)out, sizeof(real), e)))
            goto fail;
    }
    for (int l = 0; l <= L; l++) {
        size_t n = spec->sizes[l];
        if (!(m->act[l] = err_calloc(rows2 * n, sizeof(real), e)))
            goto fail;
        if (l > 0 && (!(m->d1[l] = err_calloc((size_t)max_batch * n, sizeof(real), e)) ||
                      !(m->e[l] = err_calloc((size_t)max_batch * n, sizeof(real), e))))
            goto fail;
    }
    if (nconv)
        m->ch[nconv - 1] = m->act[0]; /* the conv front's output is the dense layers' input */
    if (init)
        mlp_init_params(m, MLP_INIT_AUTO, init);
    return m;
fail:
    err_prefix(e, "mlp_create");
    mlp_free(m);
    return NULL;
}

/* One layer's weights W (out, in) and biases b (out) of fan-in `in`. */
static void init_layer(real *W, real *b, int in, int out, mlp_act a, mlp_init kind, rng *r)
{
    double wl, bl;
    if (kind == MLP_INIT_TORCH) {
        wl = bl = 1.0 / sqrt((double)in);
    } else {
        wl = sqrt(((a == MLP_RELU || a == MLP_SILU) ? 6.0 : 3.0) / in);
        bl = 0.0;
    }
    for (size_t i = 0; i < (size_t)out * in; i++)
        W[i] = (real)(wl * (2.0 * rng_uniform(r) - 1.0));
    for (int j = 0; j < out; j++)
        b[j] = (real)(bl * (2.0 * rng_uniform(r) - 1.0));
}

/* Conv layers first, with fan-in k·k·c (torch.nn.Conv2d's default init is
 * U(±1/sqrt(fan_in)) for both, like Linear's), then the dense layers: a
 * network without a conv front draws exactly what it drew before there was
 * one. Noisy layers take Fortunato et al.'s init whatever the kind: μ as
 * MLP_INIT_TORCH draws it (the same draws), σ = σ0/sqrt(fan_in), no draw. */
void mlp_init_params(mlp *m, mlp_init kind, rng *r)
{
    int L = m->spec.n_layers;
    m->weff_draw = -1;
    for (int i = 0; i < m->spec.conv.n; i++)
        init_layer(m->K[i], m->kb[i], conv_cols(&m->cg[i]), m->cg[i].cout, m->spec.act, kind, r);
    for (int l = 0; l < L; l++) {
        int in = m->spec.sizes[l], out = mlp_layer_rows(m, l);
        init_layer(m->W[l], m->b[l], in, out, l == L - 1 ? m->spec.out_act : m->spec.act,
                   m->spec.noisy ? MLP_INIT_TORCH : kind, r);
        if (!m->spec.noisy)
            continue;
        real s = (real)(m->spec.noisy_sigma0 / sqrt((double)in));
        for (size_t i = 0; i < (size_t)out * in; i++)
            m->sW[l][i] = s;
        for (int j = 0; j < out; j++)
            m->sb[l][j] = s;
    }
}

/* n draws of N(0, 1) from r, in order, into f (n) as f(x) = sgn(x) sqrt|x|,
 * the factorised noise's transform. The draws go to a block of doubles
 * first and are transformed a block at a time: copysign(sqrt|x|, x) is
 * sgn(x) sqrt|x| exactly (sqrt(-0) = -0 keeps the sign of a zero too) and,
 * without the branch on a random sign (mispredicted half the time) and the
 * scalar sqrt, it vectorizes; a Rainbow step draws ~2000 of them. */
static void noise_draw(real *restrict f, int n, rng *r)
{
    enum { BLK = 64 };
    double x[BLK];
    for (int k = 0; k < n; k += BLK) {
        int c = n - k < BLK ? n - k : BLK;
        for (int i = 0; i < c; i++)
            x[i] = rng_normal(r);
        for (int i = 0; i < c; i++)
            f[k + i] = (real)copysign(sqrt(fabs(x[i])), x[i]);
    }
}

void mlp_noise_sample(mlp *m, rng *r)
{
    if (!m->spec.noisy)
        return;
    for (int l = 0; l < m->spec.n_layers; l++) {
        noise_draw(m->fin[l], m->spec.sizes[l], r);
        noise_draw(m->fout[l], mlp_layer_rows(m, l), r);
    }
    m->draws++;
    m->noise = 1;
}

void mlp_noise_set(mlp *m, int on) { m->noise = on != 0; }

void mlp_zero_grad(mlp *m)
{
    memset(m->grads, 0, m->n_params * sizeof(real));
}

/* ------------------------------------------------------------------------ */
/* forward / backward of the whole network                                  */

/* The weights a forward uses and its backward differentiates: W_eff,
 * b_eff with the noise on (m->fwd_noise), else the parameters (μ). */
static inline const real *wcur(const mlp *m, int l) { return m->fwd_noise ? m->Weff[l] : m->W[l]; }
static inline const real *bcur(const mlp *m, int l) { return m->fwd_noise ? m->beff[l] : m->b[l]; }

/* Building W_eff reads μ_W, σ_W and writes W_eff: 3 x 146 KB for a Rainbow
 * CartPole network, three times per step. */
MLP_CLONES static void build_weights(mlp *m)
{
    for (int l = 0; l < m->spec.n_layers; l++)
        noisy_weights(m->Weff[l], m->beff[l], m->W[l], m->b[l], m->sW[l], m->sb[l], m->fin[l], m->fout[l],
                      m->spec.sizes[l], mlp_layer_rows(m, l));
}

/* At the start of every forward: whether it uses the noise, and then the
 * effective weights from the current μ, σ (they change at every step).
 * With keep set (mlp_forward_again) weights built for the current draw
 * are used as they are; m->weff_draw says which draw they were built for. */
static void forward_weights(mlp *m, int keep)
{
    m->fwd_noise = m->spec.noisy && m->noise;
    if (!m->fwd_noise || (keep && m->weff_draw == m->draws))
        return;
    build_weights(m);
    m->weff_draw = m->draws;
}

/* Where layer l writes [z; ż]: act[l + 1], or for a dueling last layer its
 * [Adv, V] rows in zraw, combined into act[L] by duel_out. */
static inline real *layer_z(mlp *m, int l)
{
    return l == m->spec.n_layers - 1 && m->spec.dueling ? m->zraw : m->act[l + 1];
}

static void duel_out(mlp *m, int R)
{
    int A = m->spec.dueling;
    duel_forward(m->act[m->spec.n_layers], m->zraw, m->dmean, R, A, mlp_n_out(m) / A);
}

/* Layers from..L-1 on act[from] (R = 2B rows with tangents, else B). */
static void layers_forward(mlp *m, int from, int B, int jvp)
{
    int L = m->spec.n_layers, R = jvp ? 2 * B : B;
    for (int l = from; l < L; l++) {
        int in = m->spec.sizes[l], out = mlp_layer_rows(m, l);
        mlp_act a = l == L - 1 ? m->spec.out_act : m->spec.act;
        real *Z = layer_z(m, l);
        linear_forward(Z, m->act[l], wcur(m, l), R, in, out);   /* [z; ż] (R, out) */
        if (jvp)
            act_forward_jvp(a, Z, m->d1[l + 1], m->e[l + 1], bcur(m, l), B, out);
        else
            act_forward(a, Z, m->d1[l + 1], bcur(m, l), B, out);
        if (Z == m->zraw)
            duel_out(m, R);
    }
}

/* The conv front on x (B, h·w·c): layer i turns its input into
 * h_i = σ(conv(in) + kb_i) (B·P_i, channels[i]) in ch[i], σ' in cd1[i];
 * the last h_i is act[0]. */
static void conv_front_forward(mlp *m, int B, const real *x)
{
    const real *in = x;
    for (int i = 0; i < m->spec.conv.n; i++) {
        const conv_geom *g = &m->cg[i];
        conv_forward(g, B, in, m->K[i], m->col[i], m->ch[i]);
        act_forward(m->spec.act, m->ch[i], m->cd1[i], m->kb[i], B * conv_positions(g), g->cout);
        in = m->ch[i];
    }
}

/* Backward through the conv front: G (B, sizes[0]) = dL/d act[0] on entry
 * (clobbered, as is Gn). dK, dkb += ...; dx (B, h·w·c) = dL/dx if non-NULL
 * (the first layer's input gradient is skipped otherwise). */
static void conv_front_backward(mlp *m, real *G, real *Gn, real *dx)
{
    int B = m->B;
    for (int i = m->spec.conv.n - 1; i >= 0; i--) {
        const conv_geom *g = &m->cg[i];
        if (m->spec.act != MLP_LINEAR)
            act_backward(G, m->cd1[i], B * conv_positions(g), g->cout);   /* dL/dh -> dL/dz */
        conv_backward(g, B, G, m->col[i], m->K[i], m->dK[i], m->dkb[i], m->cdcol, i > 0 ? Gn : dx);
        real *t = G;
        G = Gn;
        Gn = t;
    }
}

static const real *forward(mlp *m, int B, const real *x, const real *xdot, int keep)
{
    if (B < 1 || B > m->max_batch)
        abort(); /* contract violation: 1 <= B <= max_batch (see mlp.h) */
    int L = m->spec.n_layers, jvp = xdot != NULL;
    if (jvp && m->spec.conv.n)
        abort(); /* contract violation: no input-JVP through a conv front (see mlp.h) */
    size_t n0 = (size_t)m->spec.sizes[0];
    forward_weights(m, keep);
    if (m->spec.conv.n)
        conv_front_forward(m, B, x);
    else
        memcpy(m->act[0], x, (size_t)B * n0 * sizeof(real));
    if (jvp)
        memcpy(m->act[0] + (size_t)B * n0, xdot, (size_t)B * n0 * sizeof(real));
    layers_forward(m, 0, B, jvp);
    m->B = B;
    m->jvp = jvp;
    m->per = 0;
    return m->act[L];
}

/* Grouped forward. act[0] holds xr (B, nr) and, after it, xg (B/per, ng):
 * 2·max_batch·n_in entries are room enough. The group projection
 * P = xg W0[:, :ng]ᵀ (B/per, out) goes to the backward scratch g0. */
const real *mlp_forward_grouped(mlp *m, int B, int per, const real *xg, int ng, const real *xr)
{
    int L = m->spec.n_layers, n0 = m->spec.sizes[0], nr = n0 - ng, out0 = mlp_layer_rows(m, 0);
    if (B < 1 || B > m->max_batch || per < 1 || B % per || ng < 1 || nr < 1 || m->spec.conv.n)
        abort(); /* contract violation (see mlp.h) */
    int nG = B / per;
    forward_weights(m, 0);
    const real *W0 = wcur(m, 0);
    real *Xr = m->act[0], *Xg = m->act[0] + (size_t)B * nr, *P = m->g0;
    memcpy(Xr, xr, (size_t)B * nr * sizeof(real));
    memcpy(Xg, xg, (size_t)nG * ng * sizeof(real));
    rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nG, out0, ng, 1, Xg, ng, W0, n0, 0, P, out0);
    real *Z = layer_z(m, 0);
    rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, out0, nr, 1, Xr, nr, W0 + ng, n0, 0, Z, out0);
    for (int r = 0; r < B; r++)
        raxpy(out0, 1, P + (size_t)(r / per) * out0, 1, Z + (size_t)r * out0, 1);
    act_forward(L == 1 ? m->spec.out_act : m->spec.act, Z, m->d1[1], bcur(m, 0), B, out0);
    if (Z == m->zraw)
        duel_out(m, B);
    layers_forward(m, 1, B, 0);
    m->B = B;
    m->jvp = 0;
    m->per = per;
    m->ng = ng;
    return m->act[L];
}

/* The first layer's backward after a grouped forward: G (B, out) = dL/dz_1.
 * dW0[:, ng:] += Gᵀ xr; the group sums Gs (B/per, out) give
 * dW0[:, :ng] += Gsᵀ xg and dx = Gs W0[:, :ng]; db0 += Σ_r G, into dW, db
 * (the layer's gradients, or a noisy layer's dL/dW_eff scratch). Gs goes
 * to the free scratch buffer S. */
static void grouped_first_backward(mlp *m, const real *G, real *S, real *dx, real *dW, real *db)
{
    int B = m->B, per = m->per, ng = m->ng, n0 = m->spec.sizes[0], nr = n0 - ng, out = mlp_layer_rows(m, 0);
    int nG = B / per;
    const real *Xr = m->act[0], *Xg = m->act[0] + (size_t)B * nr;
    rgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, nr, B, 1, G, out, Xr, nr, 1, dW + ng, n0);
    memset(S, 0, (size_t)nG * out * sizeof(real));
    for (int r = 0; r < B; r++) {
        const real *g = G + (size_t)r * out;
        real *sg = S + (size_t)(r / per) * out;
        for (int j = 0; j < out; j++) {
            sg[j] += g[j];
            db[j] += g[j];
        }
    }
    rgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, ng, nG, 1, S, out, Xg, ng, 1, dW, n0);
    if (dx)
        rgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nG, ng, out, 1, S, out, wcur(m, 0), n0, 0, dx, ng);
}

const real *mlp_forward(mlp *m, int B, const real *x)
{
    return forward(m, B, x, NULL, 0);
}

const real *mlp_forward_again(mlp *m, int B, const real *x)
{
    return forward(m, B, x, NULL, 1);
}

const real *mlp_forward_jvp(mlp *m, int B, const real *x, const real *xdot)
{
    return forward(m, B, x, xdot, 0);
}

void mlp_backward(mlp *m, const real *dy, const real *dydot, real *dx, real *dxdot)
{
    int L = m->spec.n_layers, B = m->B;
    if (B < 1 || ((dydot || dxdot) && !m->jvp))
        abort(); /* contract violation: backward needs a forward, tangents a JVP forward */
    /* With dL/dẏ = 0 every tangent adjoint is 0: plain backprop on B rows. */
    if (m->per && (dydot || dxdot))
        abort(); /* contract violation: a grouped forward has no tangents */
    int tan = dydot != NULL;
    int R = tan ? 2 * B : B;
    size_t nout = (size_t)mlp_n_out(m);
    real *G = m->g0, *Gn = m->g1;   /* (R, width) adjoints, ping-pong */
    if (dy)
        memcpy(G, dy, (size_t)B * nout * sizeof(real));
    else
        memset(G, 0, (size_t)B * nout * sizeof(real));
    if (tan)
        memcpy(G + (size_t)B * nout, dydot, (size_t)B * nout * sizeof(real));
    if (m->spec.dueling) {   /* dL/dy -> dL/d[Adv, V] of the last layer */
        int A = m->spec.dueling;
        duel_backward(Gn, G, m->dmean, R, A, (int)nout / A);
        real *t = G;
        G = Gn;
        Gn = t;
    }
    for (int l = L - 1; l >= 0; l--) {
        int in = m->spec.sizes[l], out = mlp_layer_rows(m, l);
        mlp_act a = l == L - 1 ? m->spec.out_act : m->spec.act;
        if (a != MLP_LINEAR) {   /* dL/d[h; ḣ] -> dL/d[z; ż] */
            if (tan)
                act_backward_jvp(G, m->d1[l + 1], m->e[l + 1], B, out);
            else
                act_backward(G, m->d1[l + 1], B, out);
        }
        /* A noisy forward's weights are W_eff: their gradient D, D_b is
         * split into dμ and dσ (noisy_fold). It goes to zeroed scratch
         * first, to be added to dμ; but when dμ is still all zero (after
         * mlp_zero_grad, as in every agent's update) it goes straight
         * there: the GEMM then adds it to the same zeros at another
         * address, and D = 0 + D (either zero's sign gives the same sums),
         * so the bits are the same without the scratch's clearing and
         * a pass over it and dμ. */
        real *dW = m->dW[l], *db = m->db[l], *dmu = NULL, *dmub = NULL;
        if (m->fwd_noise && !(all_zero(dW, (size_t)out * in) && all_zero(db, (size_t)out))) {
            dmu = dW;
            dmub = db;
            dW = m->dscr;
            db = m->dscr + (size_t)out * in;
            memset(m->dscr, 0, ((size_t)out * in + (size_t)out) * sizeof(real));
        }
        if (l == 0 && m->per) {
            grouped_first_backward(m, G, Gn, dx, dW, db);
            if (m->fwd_noise)
                noisy_fold(dmu, dmub, m->dsW[0], m->dsb[0], dW, db, m->fin[0], m->fout[0], in, out);
            break;
        }
        /* the first layer's input adjoint only to go on into a conv front */
        linear_backward(l > 0 || m->spec.conv.n ? Gn : NULL, dW, db, G, m->act[l], wcur(m, l), R, B, in, out);
        if (m->fwd_noise)
            noisy_fold(dmu, dmub, m->dsW[l], m->dsb[l], dW, db, m->fin[l], m->fout[l], in, out);
        if (l == 0 && !m->spec.conv.n) {
            /* dL/dx and dL/dẋ straight from the first layer's adjoint. */
            if (dx)
                rgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, in, out,
                      1, G, out, wcur(m, 0), in, 0, dx, in);
            if (dxdot) {
                if (tan)
                    rgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, in, out,
                          1, G + (size_t)B * out, out, wcur(m, 0), in, 0, dxdot, in);
                else
                    memset(dxdot, 0, (size_t)B * in * sizeof(real));
            }
        }
        real *t = G;
        G = Gn;
        Gn = t;
    }
    if (m->spec.conv.n)
        conv_front_backward(m, G, Gn, dx);
}

/* ------------------------------------------------------------------------ */
/* target networks                                                           */

int mlp_copy_params(mlp *dst, const mlp *src, bdrl_err *e)
{
    if (!spec_equal(&dst->spec, &src->spec))
        return err_set(e, "mlp_copy_params: networks differ in shape or activation");
    memcpy(dst->params, src->params, src->n_params * sizeof(real));
    dst->weff_draw = -1;
    return 0;
}

int mlp_polyak(mlp *dst, const mlp *src, double tau, bdrl_err *e)
{
    if (!spec_equal(&dst->spec, &src->spec))
        return err_set(e, "mlp_polyak: networks differ in shape or activation");
    if (!(tau >= 0.0 && tau <= 1.0))
        return err_set(e, "mlp_polyak: tau %g outside [0, 1]", tau);
    real t = (real)tau;
    for (size_t i = 0; i < dst->n_params; i++)
        dst->params[i] += t * (src->params[i] - dst->params[i]);
    dst->weff_draw = -1;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* checkpoints
 *
 * One record, host byte order (little-endian on every platform bdrl targets):
 *   char     magic[8]      "BDRLMLP\0"
 *   uint32   version       1; 2 for a network with a conv front; 3 for one
 *                          with noisy layers or a dueling output
 *   uint32   real_bytes    sizeof(real): 4 (library) or 8 (double test build)
 *   uint32   n_layers      L
 *   uint32   act, out_act  mlp_act values
 *   uint32   sizes[L + 1]
 *   versions 2 and 3:
 *     uint32 conv[5]       n, h, w, c, kernel of the conv front (version 3: n may be 0)
 *     uint32 channels[n]
 *   version 3 only:
 *     uint32 noisy, dueling  spec.noisy (0, 1) and spec.dueling (0 or A)
 *   uint64   n_params      (the conv front's kernels and biases first)
 *   real     params[n_params]
 *   uint32   has_opt       0 or 1
 *   if has_opt:
 *     int64  t             Adam steps taken
 *     real   m[n_params], v[n_params]
 *   uint64   checksum      FNV-1a 64 of every byte above, from the magic on
 */

#define CKPT_MAGIC "BDRLMLP"
#define CKPT_VERSION 1u      /* a plain MLP: the bytes every earlier bdrl wrote */
#define CKPT_VERSION_CONV 2u /* with a conv front */
#define CKPT_VERSION_EXT 3u  /* with noisy layers or a dueling output (and a conv front or none) */

typedef struct {
    FILE *f;
    uint64_t h;
    int bad;
} hio;

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= c[i];
        *h *= 1099511628211ull;
    }
}

static void hw(hio *o, const void *p, size_t n)
{
    if (o->bad)
        return;
    hash_bytes(&o->h, p, n);
    if (fwrite(p, 1, n, o->f) != n)
        o->bad = 1;
}

static int hr(hio *o, void *p, size_t n)
{
    if (fread(p, 1, n, o->f) != n)
        return -1;
    hash_bytes(&o->h, p, n);
    return 0;
}

int mlp_save(const mlp *m, const adam *opt, FILE *f, bdrl_err *e)
{
    if (opt && opt->n != m->n_params)
        return err_set(e, "mlp_save: optimizer has %zu parameters, network %zu", opt->n, m->n_params);
    hio o = {f, 14695981039346656037ull, 0};
    char magic[8] = CKPT_MAGIC;
    const mlp_conv *cv = &m->spec.conv;
    int ext = m->spec.noisy || m->spec.dueling;
    uint32_t u[5] = {ext ? CKPT_VERSION_EXT : cv->n ? CKPT_VERSION_CONV : CKPT_VERSION, (uint32_t)sizeof(real),
                     (uint32_t)m->spec.n_layers, (uint32_t)m->spec.act, (uint32_t)m->spec.out_act};
    uint32_t flags[2] = {(uint32_t)m->spec.noisy, (uint32_t)m->spec.dueling};
    uint32_t sizes[MLP_MAX_LAYERS + 1];
    for (int l = 0; l <= m->spec.n_layers; l++)
        sizes[l] = (uint32_t)m->spec.sizes[l];
    uint32_t conv[5 + MLP_MAX_CONV] = {(uint32_t)cv->n, (uint32_t)cv->h, (uint32_t)cv->w, (uint32_t)cv->c,
                                       (uint32_t)cv->kernel};
    for (int i = 0; i < cv->n; i++)
        conv[5 + i] = (uint32_t)cv->channels[i];
    uint64_t np = m->n_params;
    uint32_t has_opt = opt != NULL;
    hw(&o, magic, 8);
    hw(&o, u, sizeof u);
    hw(&o, sizes, sizeof(uint32_t) * (size_t)(m->spec.n_layers + 1));
    if (cv->n || ext)
        hw(&o, conv, sizeof(uint32_t) * (size_t)(5 + cv->n));
    if (ext)
        hw(&o, flags, sizeof flags);
    hw(&o, &np, sizeof np);
    hw(&o, m->params, m->n_params * sizeof(real));
    hw(&o, &has_opt, sizeof has_opt);
    if (opt) {
        int64_t t = opt->t;
        hw(&o, &t, sizeof t);
        hw(&o, opt->m, opt->n * sizeof(real));
        hw(&o, opt->v, opt->n * sizeof(real));
    }
    uint64_t h = o.h;
    hw(&o, &h, sizeof h);
    if (o.bad)
        return err_set(e, "mlp_save: write failed");
    return 0;
}

int mlp_load(mlp *m, adam *opt, FILE *f, bdrl_err *e)
{
    hio o = {f, 14695981039346656037ull, 0};
    char magic[8];
    uint32_t u[5], sizes[MLP_MAX_LAYERS + 1];
    uint64_t np, h;
    uint32_t has_opt;
    int64_t t = 0;
    real *buf = NULL;
    int rc = -1;
    if (hr(&o, magic, 8)) {
        err_set(e, "network checkpoint truncated (no header)");
        goto out;
    }
    if (memcmp(magic, CKPT_MAGIC, 8) != 0) {
        err_set(e, "not a bdrl network checkpoint (bad magic)");
        goto out;
    }
    if (hr(&o, u, sizeof u)) {
        err_set(e, "network checkpoint truncated (in the header)");
        goto out;
    }
    if (u[0] != CKPT_VERSION && u[0] != CKPT_VERSION_CONV && u[0] != CKPT_VERSION_EXT) {
        err_set(e, "network checkpoint has version %u, this build reads versions %u to %u", u[0], CKPT_VERSION,
                CKPT_VERSION_EXT);
        goto out;
    }
    if (u[1] != sizeof(real)) {
        err_set(e, "network checkpoint stores %u-byte reals, this build uses %zu-byte reals", u[1],
                sizeof(real));
        goto out;
    }
    if (u[2] < 1 || u[2] > MLP_MAX_LAYERS) {
        err_set(e, "network checkpoint corrupted (%u layers)", u[2]);
        goto out;
    }
    if (hr(&o, sizes, sizeof(uint32_t) * (u[2] + 1))) {
        err_set(e, "network checkpoint truncated (in the header)");
        goto out;
    }
    mlp_spec fs = {0};
    fs.n_layers = (int)u[2];
    fs.act = u[3] < MLP_ACT_COUNT ? (mlp_act)u[3] : MLP_ACT_COUNT;
    fs.out_act = u[4] < MLP_ACT_COUNT ? (mlp_act)u[4] : MLP_ACT_COUNT;
    for (int l = 0; l <= fs.n_layers; l++)
        fs.sizes[l] = sizes[l] > (1u << 20) ? -1 : (int)sizes[l];
    if (u[0] == CKPT_VERSION_CONV || u[0] == CKPT_VERSION_EXT) {
        uint32_t cw[5 + MLP_MAX_CONV];
        if (hr(&o, cw, sizeof(uint32_t) * 5) || (cw[0] >= 1 && cw[0] <= MLP_MAX_CONV &&
                                                  hr(&o, cw + 5, sizeof(uint32_t) * cw[0]))) {
            err_set(e, "network checkpoint truncated (in the header)");
            goto out;
        }
        if (cw[0] < (u[0] == CKPT_VERSION_CONV) || cw[0] > MLP_MAX_CONV) {
            err_set(e, "network checkpoint corrupted (%u conv layers)", cw[0]);
            goto out;
        }
        for (uint32_t i = 0; i < 5 + cw[0]; i++)
            if (cw[i] > (1u << 20))
                cw[i] = 0; /* out of any range: a mismatch below */
        fs.conv.n = (int)cw[0];
        fs.conv.h = (int)cw[1];
        fs.conv.w = (int)cw[2];
        fs.conv.c = (int)cw[3];
        fs.conv.kernel = (int)cw[4];
        for (int i = 0; i < fs.conv.n; i++)
            fs.conv.channels[i] = (int)cw[5 + i];
        if (fs.conv.n == 0)
            memset(&fs.conv, 0, sizeof fs.conv);
    }
    if (u[0] == CKPT_VERSION_EXT) {
        uint32_t fl[2];
        if (hr(&o, fl, sizeof fl)) {
            err_set(e, "network checkpoint truncated (in the header)");
            goto out;
        }
        if (fl[0] > 1 || fl[1] > (1u << 20) || (!fl[0] && !fl[1])) {
            err_set(e, "network checkpoint corrupted (noisy %u, dueling %u)", fl[0], fl[1]);
            goto out;
        }
        fs.noisy = (int)fl[0];
        fs.dueling = (int)fl[1];
    }
    if (!spec_equal(&fs, &m->spec)) {
        char a[320], b[320];
        spec_str(&fs, a, sizeof a);
        spec_str(&m->spec, b, sizeof b);
        err_set(e, "network checkpoint shape mismatch: file has %s, network is %s", a, b);
        goto out;
    }
    if (hr(&o, &np, sizeof np)) {
        err_set(e, "network checkpoint truncated (in the header)");
        goto out;
    }
    if (np != m->n_params) {
        err_set(e, "network checkpoint corrupted (%llu parameters for a network of %zu)",
                (unsigned long long)np, m->n_params);
        goto out;
    }
    size_t n = m->n_params;
    if (!(buf = err_calloc(3 * n, sizeof(real), e)))
        goto out;
    if (hr(&o, buf, n * sizeof(real))) {
        err_set(e, "network checkpoint truncated (in the parameters)");
        goto out;
    }
    if (hr(&o, &has_opt, sizeof has_opt)) {
        err_set(e, "network checkpoint truncated (after the parameters)");
        goto out;
    }
    if (has_opt > 1) {
        err_set(e, "network checkpoint corrupted (optimizer flag %u)", has_opt);
        goto out;
    }
    if (has_opt && (hr(&o, &t, sizeof t) || hr(&o, buf + n, 2 * n * sizeof(real)))) {
        err_set(e, "network checkpoint truncated (in the optimizer state)");
        goto out;
    }
    uint64_t want = o.h;
    if (fread(&h, 1, sizeof h, f) != sizeof h) {
        err_set(e, "network checkpoint truncated (no checksum)");
        goto out;
    }
    if (h != want) {
        err_set(e, "network checkpoint corrupted (checksum mismatch)");
        goto out;
    }
    if (opt && !has_opt) {
        err_set(e, "network checkpoint has no optimizer state");
        goto out;
    }
    if (opt && opt->n != n) {
        err_set(e, "optimizer has %zu parameters, checkpointed network %zu", opt->n, n);
        goto out;
    }
    if (opt && t < 0) {
        err_set(e, "network checkpoint corrupted (optimizer step %lld)", (long long)t);
        goto out;
    }
    memcpy(m->params, buf, n * sizeof(real));
    m->weff_draw = -1;
    if (opt) {
        opt->t = (long)t;
        memcpy(opt->m, buf + n, n * sizeof(real));
        memcpy(opt->v, buf + 2 * n, n * sizeof(real));
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

int mlp_save_all(mlp *const *nets, adam *const *opts, int n, FILE *f, bdrl_err *e)
{
    for (int j = 0; j < n; j++)
        if (mlp_save(nets[j], opts ? opts[j] : NULL, f, e))
            return -1;
    return 0;
}

void mlp_stage_free(mlp_stage *st)
{
    for (int j = 0; j < st->n; j++) {
        mlp_free(st->net[j]);
        adam_free(st->opt[j]);
        st->net[j] = NULL;
        st->opt[j] = NULL;
    }
    st->n = 0;
}

int mlp_stage_load(mlp_stage *st, mlp *const *nets, adam *const *opts, int n, FILE *f, int *bad, bdrl_err *e)
{
    memset(st, 0, sizeof *st);
    if (n > MLP_STAGE_MAX)
        return err_set(e, "mlp_load_all: %d networks, at most %d", n, MLP_STAGE_MAX);
    st->n = n;
    for (int j = 0; j < n; j++) {
        adam *o = opts ? opts[j] : NULL;
        if (!(st->net[j] = mlp_create(&nets[j]->spec, 1, NULL, e)) ||
            (o && !(st->opt[j] = adam_create(nets[j]->n_params, &o->cfg, e))) ||
            mlp_load(st->net[j], st->opt[j], f, e)) {
            if (bad)
                *bad = j;
            mlp_stage_free(st);
            return -1;
        }
    }
    return 0;
}

void mlp_stage_commit(const mlp_stage *st, mlp *const *nets, adam *const *opts)
{
    for (int j = 0; j < st->n; j++) {
        mlp_copy_params(nets[j], st->net[j], NULL);
        if (st->opt[j])
            adam_copy_state(opts[j], st->opt[j]);
    }
}

int mlp_load_all(mlp *const *nets, adam *const *opts, int n, FILE *f, bdrl_err *e)
{
    mlp_stage st;
    if (mlp_stage_load(&st, nets, opts, n, f, NULL, e))
        return -1;
    mlp_stage_commit(&st, nets, opts);
    mlp_stage_free(&st);
    return 0;
}

double mlp_spec_params(const mlp_spec *s)
{
    double P = 0;
    for (int i = 0; i < s->conv.n; i++) {
        conv_geom g = mlp_conv_layer(&s->conv, i);
        P += (double)g.cout * (conv_cols(&g) + 1);
    }
    for (int l = 0; l < s->n_layers; l++) {
        double rows = mlp_spec_layer_rows(s, l);
        P += (s->noisy ? 2 : 1) * ((double)s->sizes[l] * rows + rows);
    }
    return P;
}

/* As mlp_create allocates: the dense part (mlp_memory_bytes) and the conv
 * front's parameters and gradients, col, ch (but the last, act[0]) and cd1
 * per layer, cdcol, and g0, g1 widened to its widest output row; a dueling
 * output's value rows (parameters and gradients), zraw and dmean; noisy
 * layers' σ (parameters and gradients), W_eff and b_eff, the noise and the
 * backward scratch dscr. */
double mlp_spec_memory_bytes(const mlp_spec *s, int max_batch)
{
    double M = max_batch, reals = 0, colmax = 0, wconv = 0, wdense = 0;
    for (int i = 0; i < s->conv.n; i++) {
        conv_geom g = mlp_conv_layer(&s->conv, i);
        double rows = M * conv_positions(&g), col = rows * conv_cols(&g);
        reals += 2 * (double)g.cout * (conv_cols(&g) + 1) + col + (i < s->conv.n - 1 ? 2 : 1) * rows * g.cout;
        colmax = fmax(colmax, col);
        wconv = fmax(wconv, (double)conv_positions(&g) * g.cout);
    }
    for (int l = 0; l <= s->n_layers; l++)
        wdense = fmax(wdense, s->sizes[l]);
    int L = s->n_layers;
    double rowsL = mlp_spec_layer_rows(s, L - 1), in_L = s->sizes[L - 1];
    double wide = fmax(wconv, rowsL); /* g0, g1 beyond the dense widths */
    reals += colmax + 4 * M * fmax(0, wide - wdense);
    double Pd = 0, noise = 0, lmax = 0; /* dense W and b (value rows included), ε, one layer */
    for (int l = 0; l < L; l++) {
        double rows = mlp_spec_layer_rows(s, l), nl = rows * (s->sizes[l] + 1);
        Pd += nl;
        noise += s->sizes[l] + rows;
        lmax = fmax(lmax, nl);
    }
    if (s->dueling > 0) {
        double N = s->sizes[L] / s->dueling;
        reals += 2 * N * (in_L + 1) + 2 * M * rowsL + N;
    }
    if (s->noisy)
        reals += 2 * Pd + Pd + noise + lmax;
    return reals * sizeof(real) + mlp_memory_bytes(s->n_layers, s->sizes, max_batch);
}

double mlp_flops(const mlp_spec *s, int B, int backward)
{
    double fw = 0, first = 0;
    for (int i = 0; i < s->conv.n; i++) {
        conv_geom g = mlp_conv_layer(&s->conv, i);
        double f = 2.0 * B * conv_positions(&g) * conv_cols(&g) * g.cout;
        fw += f;
        if (i == 0)
            first = f;
    }
    for (int l = 0; l < s->n_layers; l++) {
        double f = 2.0 * B * s->sizes[l] * mlp_spec_layer_rows(s, l);
        fw += f;
        if (l == 0 && !s->conv.n)
            first = f;
    }
    /* backward: dW of every layer (as its forward), the input adjoint of
     * every layer but the first (as its forward) */
    return backward ? 3 * fw - first : fw;
}

double mlp_memory_bytes(int n_layers, const int *sizes, int max_batch)
{
    double P = 0, sum = 0, maxw = 0, M = max_batch;
    for (int l = 0; l < n_layers; l++)
        P += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
    for (int l = 0; l <= n_layers; l++) {
        sum += sizes[l];
        maxw = fmax(maxw, sizes[l]);
    }
    /* params + grads; act (2M rows per layer), d1 and e (M rows per layer);
     * g0, g1 (2M x max width); dy, dydot (M x n_out) */
    double reals = 2 * P + 4 * M * sum + 4 * M * maxw + 2 * M * sizes[n_layers];
    return reals * sizeof(real);
}
