/* fit.h — generative mode: fit a scalar field s ≈ p and a gradient field
 * g ≈ ∇p to a point cloud with the field-matching losses (docs/design.md §1.2), sample
 * them with Bellman Diffusion Dynamics (docs/design.md §1.3), and score the samples
 * against held-out data (`bdrl fit`).
 *
 * This is where the method is proven on known laws before it carries RL.
 * Data are standardized (per-dimension mean, one common scale so kernels stay
 * isotropic); the networks, ε and the samplers all work in standardized
 * units, and everything written out is in the data's own units.
 */
#ifndef BDRL_FIT_H
#define BDRL_FIT_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/err.h"

#define FIT_DATA_CSV 4 /* data.name choice index after the four built-ins */

typedef struct {
    int64_t seed;
    struct {
        int name;           /* data_builtin, or FIT_DATA_CSV */
        char path[1024];    /* CSV file when name is csv */
        int n_train;        /* built-ins: training samples */
        int n_eval;         /* built-ins: held-out samples = samples drawn */
        double heldout_frac;/* CSV: share of rows held out */
    } data;
    struct {
        int hidden_layers, width;
        int act;            /* mlp_act */
        int fourier_k;      /* Fourier frequencies per coordinate; 0 = raw x */
    } field;
    struct {
        double eps;         /* kernel variance, standardized units */
        int kernel;         /* field_kernel */
        int probe;          /* field_probe */
        double uniform_share; /* share of query points uniform over the box */
    } loss;
    struct {
        int steps, batch_size;
        double lr, lr_end, clip;
        double ema;         /* decay of the weight average the samplers use; 0 = off */
    } train;
    struct {
        int method;         /* sde_method: the default sampler */
        double eta;
        int steps, global_every;
        int init;           /* sde_init */
        double margin;      /* box = data range ± margin (standardized units) */
        double plain_eta;   /* plain BDD (em, no global moves) for comparison */
        double langevin_eta;
    } sampler;
    struct {
        char dir[1024];
    } output;
} fit_config;

extern const cfg_schema fit_schema;

/* Defaults, file, overrides, then cross-key checks (csv needs data.path). */
int fit_load(fit_config *cfg, const char *path, char *const *sets, int n_sets, bdrl_err *e);

/* Runs the whole fit and writes into out_dir (created): config.yaml,
 * metrics.json, fields.csv, samples*.csv, hist.csv and fit.png. Progress
 * lines go to log (may be NULL). On failure *bad_input (may be NULL) says
 * whose it was: 1 the user's input (the data, a key that does not fit them,
 * a size over the memory limit), 0 a runtime failure (writing the output —
 * a full disk, a read-only directory —, divergence, memory). */
int fit_run(const fit_config *cfg, const char *out_dir, FILE *log, int *bad_input, bdrl_err *e);

#endif
