/* quantile.c — the quantile Huber loss and helpers; see quantile.h. */
#include "agents/quantile.h"

#include <math.h>
#include <stdlib.h>

double quantile_huber_rho(double tau, double u, double kappa)
{
    double w = fabs(tau - (u < 0 ? 1.0 : 0.0)), a = fabs(u);
    if (kappa <= 0)
        return w * a;
    double l = a <= kappa ? 0.5 * u * u : kappa * (a - 0.5 * kappa);
    return w * l / kappa;
}

double quantile_huber_drho_dtheta(double tau, double u, double kappa)
{
    double w = fabs(tau - (u < 0 ? 1.0 : 0.0));
    if (kappa <= 0)
        return -w * (u > 0 ? 1.0 : u < 0 ? -1.0 : 0.0);
    double c = u > kappa ? kappa : u < -kappa ? -kappa : u;
    return -w * c / kappa;
}

/* The loss runs B·N·M times per update (5.1M pairs for QR-DQN at 200
 * quantiles and batch 128), so its inner loop is written for the vector
 * units. Each θ_i's sums l_i and g_i are chains of dependent additions over
 * j; one θ_i at a time, a chain's latency (and, as branches, a mispredicted
 * |u| <= κ every few pairs) bounds the loop. Here QH_LANES predictions share
 * one pass over the targets: j outer, i inner, so the inner loop runs over
 * independent sums the compiler puts in vector lanes, and every l_i, g_i
 * still sees exactly the same double operations in the same order over j
 * as one scalar loop per i would (the same bits: IEEE operations, no
 * contraction into FMAs under -ffp-contract=off). The branches become
 * selects between values computed as the scalar branches computed them
 * (the pragma below lets the vectorizer evaluate both sides: its cost model
 * and no trapping math). The kernels are also compiled for AVX2 and AVX-512
 * and picked at load time: the same operations in wider vectors.
 * The terms are those of quantile_huber_rho and _drho_dtheta with the 1/κ
 * taken out of the sums over j (exact for κ = 1, the shipped value). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math")
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define QH_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define QH_CLONES
#endif

/* One AVX-512 vector of doubles: the sums stay in registers across j and
 * the loop is bound by its 15 vector operations per target, not by the
 * additions' latency (16 lanes, two vectors per sum, measured slower: GCC
 * keeps those sums in memory). A fixed count, so the inner loop has no
 * remainder: a last block of fewer predictions fills the other lanes with
 * placeholders whose sums are dropped. */
enum { QH_LANES = 8 };

/* One block's predictions θ_k (as double), τ_k and 1 − τ_k; l, g (out):
 * Σ_j of the loss terms and of the gradient terms (see the kernels). */
typedef struct {
    double th[QH_LANES], t[QH_LANES], tm[QH_LANES], l[QH_LANES], g[QH_LANES];
} qh_block;

/* One block's sums over the M targets, for κ > 0 or (plain) κ = 0, with
 * w = |τ_k − 1{u < 0}| (τ_k or 1 − τ_k, never a subtraction). The sums are
 * copied into local arrays so they live in registers.
 *   κ > 0: l_k += w · (|u| <= κ ? u²/2 : κ(|u| − κ/2)), g_k += w · clip(u, −κ, κ).
 * The scalar loop's terms were w·(u²/2) or w·(κ(|u| − κ/2)): the same one
 * product. Its g terms were w·u inside, w·κ or −(w·κ) outside; w·(−κ) is
 * −(w·κ) exactly (rounding is symmetric in sign), and the clip is
 * min(κ, u) then max(·, −κ) ordered so a NaN u gives −κ, as the scalar's
 * "u > 0 ? w·κ : −(w·κ)" did.
 *   κ = 0: l_k += w |u|, g_k += w, −w or 0 as u > 0, u < 0 or neither (the
 * scalar loop's nested choice as two selects, which SSE2 vectorizes too).
 * Inlined into one function per case, so `plain` is a constant there. */
static inline __attribute__((always_inline)) void qh_sums(qh_block *restrict b, int M, const double *restrict target,
                                                          double kappa, int plain)
{
    double th[QH_LANES], t[QH_LANES], tm[QH_LANES], l[QH_LANES], g[QH_LANES], hk = 0.5 * kappa, nk = -kappa;
    for (int k = 0; k < QH_LANES; k++) {
        th[k] = b->th[k];
        t[k] = b->t[k];
        tm[k] = b->tm[k];
        l[k] = g[k] = 0;
    }
    for (int j = 0; j < M; j++) {
        double T = target[j];
        for (int k = 0; k < QH_LANES; k++) {
            double u = T - th[k], a = fabs(u), w = u < 0 ? tm[k] : t[k];
            if (plain) {
                double s = u < 0 ? -w : 0.0;
                l[k] += w * a;
                g[k] += u > 0 ? w : s;
            } else {
                double m = kappa < u ? kappa : u, c = m > nk ? m : nk;
                l[k] += w * (a <= kappa ? 0.5 * u * u : kappa * (a - hk));
                g[k] += w * c;
            }
        }
    }
    for (int k = 0; k < QH_LANES; k++) {
        b->l[k] = l[k];
        b->g[k] = g[k];
    }
}

QH_CLONES static void qh_huber(qh_block *restrict b, int M, const double *restrict target, double kappa)
{
    qh_sums(b, M, target, kappa, 0);
}

QH_CLONES static void qh_plain(qh_block *restrict b, int M, const double *restrict target)
{
    qh_sums(b, M, target, 0.0, 1);
}

double quantile_huber_loss(int N, const real *theta, int stride, const double *tau, int M, const double *target,
                           double kappa, real *grad, double scale)
{
    double total = 0, invm = 1.0 / M;
    int plain = !(kappa > 0), divide = !plain && kappa != 1.0; /* x / 1 is x: no division at κ = 1 */
    qh_block b;
    for (int i0 = 0; i0 < N; i0 += QH_LANES) {
        int n = N - i0 < QH_LANES ? N - i0 : QH_LANES;
        for (int k = 0; k < QH_LANES; k++) {
            int i = i0 + (k < n ? k : 0); /* placeholders: copies of the block's first */
            b.th[k] = theta[(size_t)i * stride];
            b.t[k] = tau[i];
            b.tm[k] = 1.0 - tau[i];
        }
        if (plain)
            qh_plain(&b, M, target);
        else
            qh_huber(&b, M, target, kappa);
        for (int k = 0; k < n; k++) { /* in order of i: total's sum is the scalar loop's */
            double l = b.l[k], g = b.g[k];
            if (divide) {
                l /= kappa;
                g /= kappa;
            }
            total += l * invm;
            if (grad)
                grad[(size_t)(i0 + k) * stride] = (real)(scale * -g * invm);
        }
    }
    return total;
}

void quantile_midpoints(int N, double *tau)
{
    for (int i = 0; i < N; i++)
        tau[i] = (2.0 * i + 1.0) / (2.0 * N);
}

/* One row of the features from c1 = cos(πτ): the recurrence in double. */
static void cos_row(double c1, int n, real *o)
{
    double prev = 1.0, cur = c1;
    if (n > 0)
        o[0] = 1;
    if (n > 1)
        o[1] = (real)c1;
    for (int i = 2; i < n; i++) {
        double next = 2.0 * c1 * cur - prev;
        prev = cur;
        cur = next;
        o[i] = (real)cur;
    }
}

/* Each row's recurrence is a chain of dependent multiply-subtracts (~8
 * cycles a feature); four rows at a time interleave four chains. Every row
 * sees the operations of cos_row in the same order: 2.0·c1 is exact, so
 * hoisting it changes no bit. IQN computes B·(K + N' + N) rows per update
 * (20480 at the reference settings): 2.3 times faster so. */
void quantile_cos_features(int R, const double *tau, int n, real *out)
{
    int r = 0;
    for (; r + 4 <= R && n > 2; r += 4) {
        real *o0 = out + (size_t)r * n, *o1 = o0 + n, *o2 = o1 + n, *o3 = o2 + n;
        double a = cos(M_PI * tau[r]), b = cos(M_PI * tau[r + 1]), c = cos(M_PI * tau[r + 2]),
               d = cos(M_PI * tau[r + 3]);
        double a2 = 2.0 * a, b2 = 2.0 * b, c2 = 2.0 * c, d2 = 2.0 * d;
        double pa = 1.0, pb = 1.0, pc = 1.0, pd = 1.0, ca = a, cb = b, cc = c, cd = d;
        cos_row(a, 2, o0);
        cos_row(b, 2, o1);
        cos_row(c, 2, o2);
        cos_row(d, 2, o3);
        for (int i = 2; i < n; i++) {
            double na = a2 * ca - pa, nb = b2 * cb - pb, nc = c2 * cc - pc, nd = d2 * cd - pd;
            pa = ca;
            pb = cb;
            pc = cc;
            pd = cd;
            ca = na;
            cb = nb;
            cc = nc;
            cd = nd;
            o0[i] = (real)na;
            o1[i] = (real)nb;
            o2[i] = (real)nc;
            o3[i] = (real)nd;
        }
    }
    for (; r < R; r++)
        cos_row(cos(M_PI * tau[r]), n, out + (size_t)r * n);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void quantile_sort(int n, double *x) { qsort(x, (size_t)n, sizeof(double), cmp_double); }
