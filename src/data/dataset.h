/* dataset.h — point clouds for the generative mode: built-in laws and CSV files.
 *
 * A data_set is n samples in d dimensions, stored row-major as x[i*d + j],
 * shape (n, d). It owns x and its column names; free it with data_free.
 *
 * Built-in laws (all drawn from a caller-owned rng, one sample at a time in
 * a fixed order: component first, then coordinates, so a seed reproduces a
 * data set bit for bit):
 *   uniform3  1-D, uniform on [-3,-2] U [-0.5,0.5] U [2,3], mass 1/3 each
 *   mog1d     1-D, weights 0.7, 0.2, 0.1 at -2, 0, 2; sd 0.3
 *   mog2d     2-D, weights 0.6, 0.3, 0.1 at 2(cos t, sin t), t = 90, 210, 330
 *             degrees; isotropic sd 0.3
 *   moons     2-D, scikit-learn's make_moons curves with noise sd 0.1:
 *             upper (cos t, sin t) and lower (1 - cos t, 0.5 - sin t),
 *             t ~ U[0, pi]. Samples are i.i.d.: each picks a half with
 *             probability 1/2 (make_moons instead splits n exactly and spaces
 *             t evenly, which is not an i.i.d. sample of any law).
 * Each is a mixture (uniform3 of three intervals, moons of two curves); the
 * component weights and a nearest-component rule let callers report mode
 * weights. A "fresh independent sample" for noise-floor metrics is simply
 * another data_sample call with a generator on a different stream.
 *
 * CSV files: one header row naming the d >= 1 columns, then rows of d numbers
 * separated by commas. See data_parse_csv for the exact rules.
 */
#ifndef BDRL_DATASET_H
#define BDRL_DATASET_H

#include <stddef.h>

#include "../core/err.h"
#include "../core/rng.h"

typedef struct {
    size_t n;      /* samples */
    size_t d;      /* dimensions */
    double *x;     /* (n, d) row-major, owned */
    char **names;  /* (d) column names from a CSV header, owned; NULL otherwise */
} data_set;

/* A zero-filled (n, d) data set without names. n may be 0; d >= 1. */
data_set *data_create(size_t n, size_t d, bdrl_err *e);
/* Copies rows (n, d) into a new data set. */
data_set *data_from_rows(const double *x, size_t n, size_t d, bdrl_err *e);
void data_free(data_set *ds);

/* ---- built-in laws ---- */

typedef enum {
    DATA_UNIFORM3 = 0,
    DATA_MOG1D = 1,
    DATA_MOG2D = 2,
    DATA_MOONS = 3,
    DATA_N_BUILTIN = 4
} data_builtin;

#define DATA_MAX_COMPONENTS 3

/* "uniform3", "mog1d", "mog2d", "moons"; NULL for an invalid value. */
const char *data_builtin_name(data_builtin b);
/* Parses one of the names above; the error lists the valid names. */
int data_builtin_parse(const char *name, data_builtin *out, bdrl_err *e);
size_t data_builtin_dim(data_builtin b);            /* 1 or 2 */
size_t data_n_components(data_builtin b);           /* 3, or 2 for moons */
/* True component weights (static storage, data_n_components entries). */
const double *data_component_weights(data_builtin b);

/* Draws n samples into x (n, d) and, if labels is not NULL, the component each
 * was drawn from into labels (n). */
void data_sample_into(data_builtin b, size_t n, rng *r, double *x, int *labels);
/* The same into a new data set (labels optional, as above). */
data_set *data_sample(data_builtin b, size_t n, rng *r, int *labels, bdrl_err *e);

/* Index of the component nearest to the point x (d values):
 *   uniform3  the nearest interval (distance 0 inside it);
 *   mog1d/2d  the nearest centre in Euclidean distance (not the largest
 *             posterior: the rule must not depend on the weights it is used
 *             to estimate);
 *   moons     the nearest of the two half-circle arcs (distance to the arc,
 *             endpoints included).
 * Ties go to the lower index. */
size_t data_nearest_component(data_builtin b, const double *x);
/* Fraction of the n points (n, d) nearest to each component, into
 * w (data_n_components). All zero when n == 0. */
void data_mode_weights(data_builtin b, const double *x, size_t n, double *w);
/* Total-variation distance between mode weights w and the true weights:
 * 0.5 * sum_k |w_k - w*_k|. */
double data_mode_tv(data_builtin b, const double *w);

/* Exact CDF of the 1-D built-ins (uniform3, mog1d); NaN for 2-D ones. */
double data_cdf(data_builtin b, double x);
/* The same as a callback for stat_ks and stat_dist_from_cdf: ctx points to a
 * data_builtin. */
double data_cdf_cb(double x, void *ctx);

/* Exact density p(x) and, if grad is not NULL, its gradient (d values) for
 * uniform3 (gradient 0, density 1/3 on the closed intervals), mog1d and
 * mog2d. Returns 0, or -1 for moons, whose density has no closed form. */
int data_pdf(data_builtin b, const double *x, double *p, double *grad);

/* ---- CSV ---- */

/* Parses CSV text (len bytes, need not be NUL-terminated, may hold any bytes).
 * `name` is used in messages ("name:line: ..."). Rules:
 *  - an optional UTF-8 byte-order mark; lines end in \n or \r\n; the last
 *    line may lack its newline; blank lines are allowed only at the end;
 *  - line 1 is a header of d >= 1 comma-separated non-empty names (a pair of
 *    surrounding double quotes is removed; quoted commas are not supported).
 *    A header whose fields are all numbers is rejected: the file most likely
 *    has no header, and its first sample would be silently lost;
 *  - every other line holds exactly d fields, each a finite decimal number
 *    as strtod reads it (spaces and tabs around it, and a pair of double
 *    quotes, are ignored); NaN, Inf and values too large for a double are
 *    errors (values too small to represent become 0 or subnormal, as in strtod);
 *  - at least one data row.
 * On error returns NULL; the message names the first bad line and what is
 * wrong with it, then how many bad lines there are and where the next few are.
 * strtod follows the C locale unless the program called setlocale. */
data_set *data_parse_csv(const char *text, size_t len, const char *name, bdrl_err *e);
/* Reads a file and parses it as above, with the path as the name. */
data_set *data_load_csv(const char *path, bdrl_err *e);

/* ---- splits ---- */

/* Splits ds at random into train and held-out parts. The held-out part has
 * round(heldout_frac * n) rows, and both parts must be non-empty. Rows keep
 * their original order within each part; names are copied. */
int data_split(const data_set *ds, double heldout_frac, rng *r,
               data_set **train, data_set **heldout, bdrl_err *e);

#endif
