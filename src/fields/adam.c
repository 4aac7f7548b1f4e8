/* adam.c — Adam (PyTorch's formulation), clipping, schedules. */
#include "fields/adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* Let -O2 vectorize the elementwise loops; IEEE operations give the same
 * results either way. The two passes over all parameters (the gradient
 * norm and the update) are also compiled for AVX2 and AVX-512 and picked
 * at load time for the machine: the same operations in wider vectors (no
 * contraction into FMAs: -ffp-contract=off), so the same bits, and 1.3
 * times faster on a network as large as MinAtar's torso (132k parameters,
 * where these passes are a fifth of a training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define ADAM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ADAM_CLONES
#endif

adam_config adam_defaults(void)
{
    adam_config c = {
        .lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.0,
        .clip_norm = 0.0, .schedule = ADAM_LR_CONST, .lr_end = 0.0, .decay_steps = 1,
    };
    return c;
}

static int config_check(const adam_config *c, bdrl_err *e)
{
    if (!(c->lr > 0 && isfinite(c->lr)))
        return err_set(e, "adam: lr %g must be positive", c->lr);
    if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
        return err_set(e, "adam: betas (%g, %g) must be in [0, 1)", c->beta1, c->beta2);
    if (!(c->eps > 0))
        return err_set(e, "adam: eps %g must be positive", c->eps);
    if (!(c->weight_decay >= 0))
        return err_set(e, "adam: weight_decay %g must be >= 0", c->weight_decay);
    if (!(c->clip_norm >= 0))
        return err_set(e, "adam: clip_norm %g must be >= 0 (0 = off)", c->clip_norm);
    if (c->schedule != ADAM_LR_CONST && c->schedule != ADAM_LR_LINEAR)
        return err_set(e, "adam: unknown schedule %d", (int)c->schedule);
    if (c->schedule == ADAM_LR_LINEAR && (c->decay_steps < 1 || !(c->lr_end >= 0)))
        return err_set(e, "adam: linear schedule needs decay_steps >= 1 and lr_end >= 0");
    return 0;
}

adam *adam_create(size_t n, const adam_config *cfg, bdrl_err *e)
{
    if (config_check(cfg, e))
        return NULL;
    adam *a = err_calloc(1, sizeof *a, e);
    if (!a)
        return NULL;
    a->cfg = *cfg;
    a->n = n;
    if (!(a->m = err_calloc(n, sizeof(real), e)) || !(a->v = err_calloc(n, sizeof(real), e))) {
        adam_free(a);
        return NULL;
    }
    return a;
}

void adam_free(adam *a)
{
    if (!a)
        return;
    free(a->m);
    free(a->v);
    free(a);
}

void adam_reset(adam *a)
{
    a->t = 0;
    memset(a->m, 0, a->n * sizeof(real));
    memset(a->v, 0, a->n * sizeof(real));
}

double adam_lr_at(const adam_config *c, long t)
{
    if (c->schedule == ADAM_LR_LINEAR) {
        double f = t >= c->decay_steps ? 1.0 : (double)(t < 0 ? 0 : t) / (double)c->decay_steps;
        return c->lr + (c->lr_end - c->lr) * f;
    }
    return c->lr;
}

/* In 16 interleaved partial sums: one running sum is a chain of dependent
 * additions (4 cycles each), which made this loop take as long as the
 * whole Adam update of a MinAtar torso; these vectorize. Each square of a
 * float is exact in double, only the order of the additions differs. */
ADAM_CLONES double adam_grad_norm(const real *g, size_t n)
{
    enum { W = 16 };
    double s[W] = {0};
    size_t i = 0;
    for (; i + W <= n; i += W)
        for (int j = 0; j < W; j++)
            s[j] += (double)g[i + j] * (double)g[i + j];
    for (int j = 0; i < n; i++, j++)
        s[j] += (double)g[i] * (double)g[i];
    for (int w = W / 2; w >= 1; w /= 2)
        for (int j = 0; j < w; j++)
            s[j] += s[j + w];
    return sqrt(s[0]);
}

/* The update of one parameter block; coefficients from adam_coef. */
typedef struct {
    real b1, b2, one_b1, one_b2, step, inv_sqrt_bc2, eps, decay, gscale;
} coef;

static coef adam_coef(const adam *a, long t, double gscale)
{
    const adam_config *c = &a->cfg;
    double lr = adam_lr_at(c, t);
    double bc1 = 1.0 - pow(c->beta1, (double)t), bc2 = 1.0 - pow(c->beta2, (double)t);
    coef k = {
        .b1 = (real)c->beta1, .b2 = (real)c->beta2,
        .one_b1 = (real)(1.0 - c->beta1), .one_b2 = (real)(1.0 - c->beta2),
        .step = (real)(lr / bc1), .inv_sqrt_bc2 = (real)(1.0 / sqrt(bc2)), .eps = (real)c->eps,
        .decay = (real)(1.0 - lr * c->weight_decay), .gscale = (real)gscale,
    };
    return k;
}

/* Subnormal floats flushed to zero during the update (MXCSR FTZ and DAZ,
 * restored on return). Moments of parameters whose gradients are tiny or
 * fading (a noisy layer's σ, a unit that stopped firing: m shrinks by β1
 * per step) pass through the subnormal range, where each x86 operation on
 * them takes a microcode assist of ~100 cycles: perf showed Adam at 47% of
 * a Rainbow CartPole step. Flushed, such a moment contributes 0 instead of
 * step·m/(√v̂+ε) < 1e-30 to a parameter, which rounds away against any
 * parameter larger than ~1e-23 (checked: Rainbow and MinAtar runs train to
 * the same bits; test_adam checks a subnormal moment is flushed and a
 * normal one untouched). Other code keeps IEEE semantics. */
typedef struct {
    unsigned csr;
} fpflush;

static fpflush flush_begin(void)
{
    fpflush f = {0};
#if defined(__SSE__) || defined(__x86_64__)
    f.csr = _mm_getcsr();
    _mm_setcsr(f.csr | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
#endif
    return f;
}

static void flush_end(fpflush f)
{
#if defined(__SSE__) || defined(__x86_64__)
    _mm_setcsr(f.csr);
#else
    (void)f;
#endif
}

ADAM_CLONES static void update_flushed(const coef *k, real *restrict p, real *restrict g, real *restrict m,
                   real *restrict v, size_t n, int scale)
{
    if (scale)
        for (size_t i = 0; i < n; i++)
            g[i] *= k->gscale;
    const real b1 = k->b1, b2 = k->b2, c1 = k->one_b1, c2 = k->one_b2, step = k->step,
               ib = k->inv_sqrt_bc2, eps = k->eps, decay = k->decay;
    for (size_t i = 0; i < n; i++) {
        real gi = g[i];
        real mi = b1 * m[i] + c1 * gi;
        real vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - step * mi / (rsqrt(vi) * ib + eps);
    }
}

static void update(const coef *k, real *p, real *g, real *m, real *v, size_t n, int scale)
{
    fpflush f = flush_begin();
    update_flushed(k, p, g, m, v, n, scale);
    flush_end(f);
}

/* torch.nn.utils.clip_grad_norm_: coefficient max/(norm + 1e-6), capped at 1. */
static double clip_scale(double clip, double norm)
{
    if (clip > 0 && norm > clip)
        return clip / (norm + 1e-6);
    return 1.0;
}

double adam_step(adam *a, real *p, real *g)
{
    double norm = adam_grad_norm(g, a->n);
    if (!isfinite(norm))
        return norm;
    double s = clip_scale(a->cfg.clip_norm, norm);
    a->t++;
    coef k = adam_coef(a, a->t, s);
    update(&k, p, g, a->m, a->v, a->n, s != 1.0);
    return norm;
}

double adam_step_mlps(adam *const *opts, mlp *const *nets, int k)
{
    double ss = 0;
    for (int i = 0; i < k; i++) {
        double n = adam_grad_norm(nets[i]->grads, nets[i]->n_params);
        ss += n * n;
    }
    double norm = sqrt(ss);
    if (!isfinite(norm) || k < 1)
        return norm;
    double s = clip_scale(opts[0]->cfg.clip_norm, norm);
    for (int i = 0; i < k; i++) {
        adam *a = opts[i];
        if (a->n != nets[i]->n_params)
            abort(); /* contract violation: optimizer built for another network */
        a->t++;
        coef c = adam_coef(a, a->t, s);
        update(&c, nets[i]->params, nets[i]->grads, a->m, a->v, a->n, s != 1.0);
        nets[i]->weff_draw = -1; /* new parameters: mlp_forward_again must rebuild W_eff */
    }
    return norm;
}

void adam_copy_state(adam *dst, const adam *src)
{
    dst->t = src->t;
    memcpy(dst->m, src->m, sizeof(real) * src->n);
    memcpy(dst->v, src->v, sizeof(real) * src->n);
}
