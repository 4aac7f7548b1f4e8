/* adam.h — Adam for the field networks, with global gradient-norm clipping
 * and learning-rate schedules.
 *
 * One optimizer per network (its state has the network's n_params entries),
 * so a checkpoint stores a network together with its own state (mlp_save).
 * Networks trained by one loss (a state torso and its head) are stepped
 * together by adam_step_mlps, which clips their *joint* gradient norm, as
 * torch.nn.utils.clip_grad_norm_ over both parameter lists would.
 *
 * The update is PyTorch's Adam (bias-corrected, eps added to sqrt(v̂)); a
 * non-zero weight_decay is decoupled (AdamW: p ← p − lr·wd·p). The adam owns
 * its moment buffers; the parameters and gradients belong to the caller.
 */
#ifndef BDRL_ADAM_H
#define BDRL_ADAM_H

#include <stddef.h>

#include "core/err.h"
#include "fields/mlp.h"
#include "fields/real.h"

typedef enum {
    ADAM_LR_CONST = 0,  /* lr at every step */
    ADAM_LR_LINEAR,     /* lr → lr_end linearly over decay_steps steps, then lr_end */
} adam_schedule;

typedef struct {
    double lr;           /* 1e-3 */
    double beta1, beta2; /* 0.9, 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 0 */
    double clip_norm;    /* > 0: clip the global gradient norm to this; 0: off */
    adam_schedule schedule;
    double lr_end;       /* ADAM_LR_LINEAR only */
    long decay_steps;    /* ADAM_LR_LINEAR only, >= 1 */
} adam_config;

typedef struct adam {
    adam_config cfg;
    size_t n;   /* number of parameters */
    long t;     /* steps taken so far */
    real *m, *v;/* (n) first and second moments */
} adam;

adam_config adam_defaults(void);

/* Checks the config (positive lr, betas in [0, 1), ...) and allocates zeroed
 * moments for n parameters. */
adam *adam_create(size_t n, const adam_config *cfg, bdrl_err *e);
void adam_free(adam *a);

/* dst's step count and moments from src (same n): restoring a saved state. */
void adam_copy_state(adam *dst, const adam *src);
/* Zero moments and step count (the config is kept). */
void adam_reset(adam *a);

/* Learning rate of step number t (1-based) under config c. */
double adam_lr_at(const adam_config *c, long t);

/* One step on a flat parameter vector p (a->n) with gradient g (a->n).
 * Clips g in place if cfg.clip_norm > 0 and returns the norm of g before
 * clipping. If that norm is not finite, nothing is updated (parameters,
 * moments and t stay as they were) and the non-finite norm is returned so the
 * caller can report it. */
double adam_step(adam *a, real *p, real *g);

/* One step on each of k networks, opts[i] stepping nets[i] (opts[i]->n must
 * equal nets[i]->n_params). Clipping (with opts[0]->cfg.clip_norm) and the
 * returned norm are over all k gradients together. Gradients are not zeroed. */
double adam_step_mlps(adam *const *opts, mlp *const *nets, int k);
static inline double adam_step_mlp(adam *a, mlp *m) { return adam_step_mlps(&a, &m, 1); }

/* Euclidean norm of a gradient vector, accumulated in double. */
double adam_grad_norm(const real *g, size_t n);

#endif
