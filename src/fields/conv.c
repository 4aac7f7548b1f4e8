/* conv.c — a convolution layer as im2col + GEMM, forward and backward side
 * by side (see conv.h for the layouts and the formulas). */
#include "fields/conv.h"

#include <string.h>

/* Let -O2 vectorize the copy and sum loops (as in mlp.c: same results), and
 * keep im2col's short copies inline (no loop distribution into memcpy
 * calls: see im2col_body). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("-ftree-vectorize", "-fvect-cost-model=dynamic", "-fno-trapping-math", \
                     "-fno-tree-loop-distribute-patterns")
#endif

/* For a fixed sample b, output row oy and kernel row ky, the k·c numbers a
 * col row takes from the input are contiguous in HWC order
 * (x[b][oy + ky][ox .. ox + k − 1][0 .. c − 1]), so im2col is k copies of
 * k·c numbers per col row, and col2im k additions of as many. The loops
 * are inlined below with a constant kc for short copies, which become a few
 * straight-line vector moves (MinAtar's 4-channel games: kc = 12, 6,144
 * copies a batch; as memcpy calls im2col took twice as long); longer ones
 * (kc > 24) stay memcpy calls, whose wide moves are then faster. */
static inline __attribute__((always_inline)) void im2col_body(const conv_geom *g, int B, const real *x, real *col,
                                                              int kc)
{
    int oh = conv_oh(g), ow = conv_ow(g), k = g->k, nc = k * kc;
    size_t img = (size_t)g->h * g->w * g->c, line = (size_t)g->w * g->c;
    for (int b = 0; b < B; b++) {
        const real *xb = x + (size_t)b * img;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                real *restrict dst = col + ((size_t)(b * oh + oy) * ow + ox) * nc;
                const real *restrict src = xb + (size_t)oy * line + (size_t)ox * g->c;
                for (int ky = 0; ky < k; ky++) {
                    if (kc > 24) {
                        memcpy(dst + (size_t)ky * kc, src + (size_t)ky * line, sizeof(real) * (size_t)kc);
                    } else {
                        for (int j = 0; j < kc; j++)
                            dst[(size_t)ky * kc + j] = src[(size_t)ky * line + j];
                    }
                }
            }
    }
}

void conv_im2col(const conv_geom *g, int B, const real *x, real *col)
{
    /* 3x3 kernels on 4, 6 and 7 channels (MinAtar's asterix, breakout,
     * space invaders, freeway) */
    if (g->k == 3 && g->c == 4)
        im2col_body(g, B, x, col, 12);
    else if (g->k == 3 && g->c == 6)
        im2col_body(g, B, x, col, 18);
    else if (g->k == 3 && g->c == 7)
        im2col_body(g, B, x, col, 21);
    else
        im2col_body(g, B, x, col, g->k * g->c);
}

void conv_col2im(const conv_geom *g, int B, const real *dcol, real *dx)
{
    int oh = conv_oh(g), ow = conv_ow(g), k = g->k, kc = g->k * g->c, nc = conv_cols(g);
    size_t img = (size_t)g->h * g->w * g->c, line = (size_t)g->w * g->c;
    memset(dx, 0, sizeof(real) * img * (size_t)B);
    for (int b = 0; b < B; b++) {
        real *xb = dx + (size_t)b * img;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                const real *src = dcol + ((size_t)(b * oh + oy) * ow + ox) * nc;
                real *dst = xb + (size_t)oy * line + (size_t)ox * g->c;
                for (int ky = 0; ky < k; ky++) {
                    real *d = dst + (size_t)ky * line;
                    const real *s = src + (size_t)ky * kc;
                    for (int j = 0; j < kc; j++)
                        d[j] += s[j];
                }
            }
    }
}

/* z (R, cout) = col (R, nc) · Kᵀ, K (cout, nc); R = B·P. */
void conv_forward(const conv_geom *g, int B, const real *x, const real *K, real *col, real *z)
{
    int R = B * conv_positions(g), nc = conv_cols(g);
    conv_im2col(g, B, x, col);
    rgemm(CblasRowMajor, CblasNoTrans, CblasTrans, R, g->cout, nc, 1, col, nc, K, nc, 0, z, g->cout);
}

/* db (co) += Σ over the R rows of G (R, co) (restrict: the inner loop
 * vectorizes) */
static void column_sums(real *restrict db, const real *restrict G, int R, int co)
{
    for (int r = 0; r < R; r++) {
        const real *gr = G + (size_t)r * co;
        for (int o = 0; o < co; o++)
            db[o] += gr[o];
    }
}

void conv_backward(const conv_geom *g, int B, const real *G, const real *col, const real *K, real *dK,
                   real *db, real *dcol, real *dx)
{
    int R = B * conv_positions(g), nc = conv_cols(g), co = g->cout;
    /* dK (cout, nc) += Gᵀ (cout, R) · col (R, nc) */
    rgemm(CblasRowMajor, CblasTrans, CblasNoTrans, co, nc, R, 1, G, co, col, nc, 1, dK, nc);
    column_sums(db, G, R, co);
    if (!dx)
        return;
    /* dcol (R, nc) = G (R, cout) · K (cout, nc), then scattered back */
    rgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, R, nc, co, 1, G, co, K, nc, 0, dcol, nc);
    conv_col2im(g, B, dcol, dx);
}
