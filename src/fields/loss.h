/* loss.h — field-matching losses (docs/design.md §1.2, Eqs. 10–11) and the
 * regression of fields onto given targets (docs/design.md §1.4, target mode `fields`).
 *
 * On a batch x (B, d) of data, with the kernel average
 *     K_i = 1/(B−1) Σ_{j≠i} N(x_i; x_j, ε)                      (full)
 *     K_i = 1/(B−1) Σ_{j≠i} N(w_iᵀx_i; w_iᵀx_j, ε)              (sliced)
 * (a U-statistic: the i = j term (2πε)^{-d/2} is excluded; w_i uniform on
 * the unit sphere, one per sample; N(·; m, ε) the Gaussian density of
 * variance ε), the losses are
 *     L̂_id(ψ)   = 1/B Σ_i [ s(x_i)² − 2 K_i s(x_i) ]
 *     L̂_grad(φ) = 1/B Σ_i [ (v_iᵀg(x_i))² + K_i v_iᵀ J_g(x_i) v_i ]
 * with v_i Rademacher or standard normal; v_iᵀJ_g v_i = v_iᵀ∇(v_iᵀg) is one
 * JVP of g along v_i. K_i depends only on the data and the w's, so one
 * field_batch computes it once and both losses read it: they share ε and w by
 * construction.
 *
 * Usage (generative fit; s: R^d → R, g: R^d → R^d):
 *     field_batch *fb = field_batch_create(B_max, d, FIELD_KERNEL_SLICED,
 *                                          FIELD_PROBE_RADEMACHER, eps, &e);
 *     field_batch_draw(fb, B, x, rng);                // w, v, K for this batch
 *     mlp_zero_grad(s); Ls = field_loss_id(fb, s, NULL, NULL);
 *     mlp_zero_grad(g); Lg = field_loss_grad(fb, g, NULL, NULL, NULL);
 * A network that sees features of x (or conditioning columns) instead of x
 * itself gets its input `in` (B, n_in) and, for L̂_grad, the derivative of
 * that input along v_i, `in_dir` (B, n_in) (zero on conditioning columns).
 *
 * Memory: the field_batch owns its arrays (allocated once, for max_batch
 * rows); the networks' own scratch (mlp.dy, mlp.dydot) carries the adjoints.
 * Each network-level loss runs one forward and one backward of its network,
 * ADDS the parameter gradient to the network's grads and returns the loss.
 * Shapes that do not fit (n_out, n_in, a column out of range) abort, as in
 * mlp.h: they are programming errors.
 */
#ifndef BDRL_LOSS_H
#define BDRL_LOSS_H

#include "core/err.h"
#include "core/rng.h"
#include "fields/mlp.h"
#include "fields/real.h"

typedef enum { FIELD_KERNEL_FULL = 0, FIELD_KERNEL_SLICED } field_kernel;
typedef enum { FIELD_PROBE_RADEMACHER = 0, FIELD_PROBE_NORMAL } field_probe;

/* "full"/"sliced", "rademacher"/"normal" */
const char *field_kernel_name(field_kernel k);
int field_kernel_parse(const char *name, field_kernel *out, bdrl_err *e);
const char *field_probe_name(field_probe q);
int field_probe_parse(const char *name, field_probe *out, bdrl_err *e);

/* w (B, d): rows uniform on the unit sphere S^{d−1} (±1 when d = 1). */
void field_draw_slices(rng *r, int B, int d, real *w);
/* v (B, d): Rademacher or N(0, 1) entries, so E[v vᵀ] = I. */
void field_draw_probes(rng *r, int B, int d, field_probe q, real *v);

/* K (B) from x (B, d) as above; w (B, d) is read for the sliced kernel only
 * (may be NULL for full). Needs B >= 2 and eps > 0. O(B²d), double sums. */
int field_kernel_avg(int B, int d, const real *x, field_kernel kern, double eps, const real *w,
                     real *K, bdrl_err *e);

typedef struct {
    int max_batch, d;
    field_kernel kernel;
    field_probe probe;
    double eps;
    int B;     /* rows of the current batch */
    real *x;   /* (B, d) copy of the current batch */
    real *w;   /* (B, d) slicing directions (drawn for the sliced kernel only) */
    real *v;   /* (B, d) probe directions */
    real *K;   /* (B) kernel averages */
} field_batch;

field_batch *field_batch_create(int max_batch, int d, field_kernel kern, field_probe probe,
                                double eps, bdrl_err *e);
void field_batch_free(field_batch *fb);
/* Copies x (B, d), draws w (sliced kernel) and v from r, computes K.
 * 2 <= B <= max_batch. */
int field_batch_draw(field_batch *fb, int B, const real *x, rng *r, bdrl_err *e);
/* Recomputes K from fb->x and fb->w (after a caller set them by hand). */
int field_batch_update(field_batch *fb, bdrl_err *e);

/* Values and adjoints alone, for networks the caller runs itself.
 *   field_id_value:   s (B) → L̂_id; ds (B) = dL/ds (optional)
 *   field_grad_value: vg (B) = v_iᵀg_i, jv (B) = v_iᵀJ v_i → L̂_grad;
 *                     dvg, djv (B) optional adjoints
 *   field_sq_value:   p, t (n) → scale/n Σ w_i (p_i − t_i)² (w NULL: all 1);
 *                     dp (n) optional. Importance weights are not
 *                     renormalized, so the weighted mean stays unbiased. */
double field_id_value(int B, const real *s, const real *K, real *ds);
double field_grad_value(int B, const real *vg, const real *jv, const real *K, real *dvg, real *djv);
double field_sq_value(int n, const real *p, const real *t, const real *w, double scale, real *dp);

/* L̂_id for s (n_out 1). in (B, n_in) or NULL for fb->x; din (B, n_in) gets
 * dL/din if non-NULL (to backprop into a torso). */
double field_loss_id(field_batch *fb, mlp *s, const real *in, real *din);

/* L̂_grad for g (n_out d). in (B, n_in) or NULL for fb->x; in_dir (B, n_in)
 * or NULL for fb->v (then in must be NULL too). din as above. */
double field_loss_grad(field_batch *fb, mlp *g, const real *in, const real *in_dir, real *din);

/* Regression onto targets: L = scale/B Σ_i w_i (y_i[c_i] − t_i)², where
 * y = net(in) (B, n_out), c_i = col[i] (col NULL: column 0) and w NULL means
 * all 1. Train s with (t = p_T, scale 1) and g with (t = ∂p_T, scale λ). */
double field_loss_regress(mlp *net, int B, const real *in, const int *col, const real *t,
                          const real *w, double scale, real *din);

/* The same loss on the outputs of net's last forward (B = its rows), e.g.
 * after mlp_forward_grouped; din then follows that forward's dx. */
double field_loss_regress_last(mlp *net, const int *col, const real *t, const real *w, double scale,
                               real *din);

/* The same for one network whose input-derivative serves as its gradient
 * field: L = 1/B Σ_i w_i [ (y_i[c_i] − t_i)² + λ (ẏ_i[c_i] − dt_i)² ],
 * ẏ = J(in)·in_dir (double backprop). */
double field_loss_regress_jvp(mlp *net, int B, const real *in, const real *in_dir, const int *col,
                              const real *t, const real *dt, const real *w, double lambda,
                              real *din);

#endif
