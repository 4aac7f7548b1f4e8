/* conv.h — one 2-D convolution layer as a GEMM (im2col), forward and
 * backward, for the optional convolutional front of an mlp (mlp.h).
 *
 * Stride 1, valid padding (no padding): an input image of h × w × c gives
 * oh × ow × cout with oh = h − k + 1, ow = w − k + 1. Images are stored in
 * HWC order, one row of h·w·c numbers per sample, x[(y·w + x)·c + ch]
 * (numpy's C order of an (h, w, c) array: the MinAtar observation as it
 * comes), and the output has the same order, so layers chain and the last
 * one's output is already the flattened (B, oh·ow·cout) input of a dense
 * layer.
 *
 *   im2col   x (B, h, w, c)                -> col (B·P, k·k·c)   P = oh·ow
 *            col[(b·oh + oy)·ow + ox][(ky·k + kx)·c + ch] = x[b][oy + ky][ox + kx][ch]
 *   forward  z (B·P, cout) = col · Kᵀ,  K (cout, k·k·c)           one GEMM
 *   backward G = dL/dz (B·P, cout):
 *            dK (cout, k·k·c) += Gᵀ · col                         one GEMM
 *            db (cout)        += Σ_rows G
 *            dcol (B·P, k·k·c) = G · K                            one GEMM
 *            dx = col2im(dcol) (the adjoint of im2col: a scatter-add)
 * K's row for output channel o is the kernel in (ky, kx, ch) order, i.e.
 * PyTorch's Conv2d weight (cout, c, k, k) permuted to (cout, k, k, c).
 * All B samples go through one GEMM of B·P rows, so the GEMMs are large
 * even when the image and the channel counts are small. The bias and the
 * activation are the caller's (mlp.c applies them like a dense layer's, per
 * output channel, on the B·P rows of z).
 *
 * Nothing here allocates: the caller owns x, col, z, G, dcol, dx.
 */
#ifndef BDRL_CONV_H
#define BDRL_CONV_H

#include "fields/real.h"

typedef struct {
    int h, w, c; /* input image */
    int k;       /* k × k kernel */
    int cout;    /* output channels */
} conv_geom;

static inline int conv_oh(const conv_geom *g) { return g->h - g->k + 1; }
static inline int conv_ow(const conv_geom *g) { return g->w - g->k + 1; }
/* output positions per sample, P = oh·ow */
static inline int conv_positions(const conv_geom *g) { return conv_oh(g) * conv_ow(g); }
/* columns of col (and of K): k·k·c */
static inline int conv_cols(const conv_geom *g) { return g->k * g->k * g->c; }

/* col (B·P, k·k·c) from x (B, h·w·c). */
void conv_im2col(const conv_geom *g, int B, const real *x, real *col);
/* dx (B, h·w·c) = the adjoint of im2col applied to dcol (B·P, k·k·c):
 * overwritten, every input element the sum of the col entries it fed. */
void conv_col2im(const conv_geom *g, int B, const real *dcol, real *dx);

/* z (B·P, cout) = im2col(x) · Kᵀ, the im2col written to col (kept for
 * conv_backward). No bias. */
void conv_forward(const conv_geom *g, int B, const real *x, const real *K, real *col, real *z);

/* G (B·P, cout) = dL/dz of the last conv_forward, whose col is passed back.
 * dK (cout, k·k·c) and db (cout) are ADDED to. With dx non-NULL, dL/dx
 * (B, h·w·c) is written to it, dcol (B·P, k·k·c) serving as scratch;
 * with dx NULL (a first layer in training) neither is touched and that
 * GEMM is skipped. */
void conv_backward(const conv_geom *g, int B, const real *G, const real *col, const real *K, real *dK,
                   real *db, real *dcol, real *dx);

#endif
