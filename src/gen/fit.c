#include "gen/fit.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/io.h"
#include "core/json.h"
#include "core/plot.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "core/memlimit.h"
#include "fields/adam.h"
#include "fields/fourier.h"
#include "fields/loss.h"
#include "fields/mlp.h"
#include "sdes/sampler.h"
#include "stats/metrics.h"

#define OFF(f) offsetof(fit_config, f)
#define NO_LO (-INFINITY)
#define NO_HI INFINITY
#define GRID_1D 512
#define GRID_2D 64
#define HIST_BINS 80

static const cfg_key keys[] = {
    CFG_I64_KEY("seed", OFF(seed), "1", 0, 9007199254740991.0, "seeds data, initialization, losses and samplers"),
    CFG_CHOICE_KEY("data.name", OFF(data.name), NULL, "uniform3|mog1d|mog2d|moons|csv",
                   "data set: a built-in law or a CSV file (data.path)"),
    CFG_STR_KEY("data.path", OFF(data.path), sizeof(((fit_config *)0)->data.path), "\"\"",
                "CSV file (header row, numeric columns) when data.name is csv"),
    CFG_INT_KEY("data.n_train", OFF(data.n_train), "20000", 16, 10000000, "built-ins: training samples"),
    CFG_INT_KEY("data.n_eval", OFF(data.n_eval), "2000", 16, 200000,
                "built-ins: held-out samples, and as many samples are drawn from the fields"),
    CFG_REAL_KEY("data.heldout_frac", OFF(data.heldout_frac), "0.2", 0.01, 0.9,
                 "CSV: share of rows held out (split in two halves: one to score, one for the floor)"),
    CFG_INT_KEY("field.hidden_layers", OFF(field.hidden_layers), "3", 1, 8, "hidden layers of each field network"),
    CFG_INT_KEY("field.width", OFF(field.width), "128", 4, 4096, "units per hidden layer"),
    CFG_CHOICE_KEY("field.activation", OFF(field.act), "silu", "linear|tanh|silu|softplus|relu",
                   "hidden activation (smooth ones: the gradient loss differentiates the network)"),
    CFG_INT_KEY("field.fourier_k", OFF(field.fourier_k), "16", 0, 256,
                "networks see [u, sin(kπu/L), cos(kπu/L)], k = 1..K, of each coordinate u scaled to "
                "[-1, 1] over the box (L = 1.25); 0 = the raw coordinates. Plain MLPs cannot make "
                "sharp edges (uniform3) in a few thousand steps"),
    CFG_REAL_KEY("loss.eps", OFF(loss.eps), "0.005", 1e-8, 10,
                 "kernel variance ε in standardized units; the fields learn p smoothed by N(0, ε)"),
    CFG_CHOICE_KEY("loss.kernel", OFF(loss.kernel), "full", "full|sliced",
                   "N(x1; x2, εI) or the sliced N(wᵀx1; wᵀx2, ε) (for d > 1 the sliced minimizer is not p)"),
    CFG_CHOICE_KEY("loss.probe", OFF(loss.probe), "rademacher", "rademacher|normal",
                   "law of the probe v in the sliced gradient loss"),
    CFG_REAL_KEY("loss.uniform_share", OFF(loss.uniform_share), "0.5", 0, 0.9,
                 "share of query points drawn uniformly over the box, regressed onto the kernel "
                 "estimate of p*N(0,ε) and its gradient; 0 = the paper's losses alone, which leave s "
                 "unconstrained where data are scarce"),
    CFG_INT_KEY("train.steps", OFF(train.steps), "6000", 1, 100000000, "gradient steps"),
    CFG_INT_KEY("train.batch_size", OFF(train.batch_size), "256", 2, 65536,
                "samples per step (kernel pairs i != j within the batch)"),
    CFG_REAL_KEY("train.lr", OFF(train.lr), "0.001", 1e-9, 10, "Adam learning rate at the start"),
    CFG_REAL_KEY("train.lr_end", OFF(train.lr_end), "0.00005", 0, 10,
                 "learning rate reached linearly at the last step (averages out kernel noise)"),
    CFG_REAL_KEY("train.clip", OFF(train.clip), "10.0", 0, 1e9, "global gradient-norm clip; 0 = off"),
    CFG_REAL_KEY("train.ema", OFF(train.ema), "0.999", 0, 0.999999,
                 "decay of an exponential moving average of the weights; the samplers use the "
                 "average, which removes most of the noise the kernel estimates leave; 0 = off"),
    CFG_CHOICE_KEY("sampler.method", OFF(sampler.method), "mala", "em|mala|langevin",
                   "default sampler: Euler-Maruyama BDD, Metropolis-adjusted BDD, or score Langevin"),
    CFG_REAL_KEY("sampler.eta", OFF(sampler.eta), "0.002", 1e-12, 10, "step size of the default sampler"),
    CFG_INT_KEY("sampler.steps", OFF(sampler.steps), "600", 0, 10000000, "local steps per walker"),
    CFG_INT_KEY("sampler.global_every", OFF(sampler.global_every), "10", 0, 10000000,
                "a global independence-MH move (uniform over the box) every k local steps; 0 = never"),
    CFG_CHOICE_KEY("sampler.init", OFF(sampler.init), "uniform", "uniform|normal|points|grid_icdf",
                   "walkers start uniform over the box, N(0, 1), or (1-D) by inverse CDF of the grid s+"),
    CFG_REAL_KEY("sampler.margin", OFF(sampler.margin), "0.5", 0, 100,
                 "box = training-data range widened by this much (standardized units)"),
    CFG_REAL_KEY("sampler.plain_eta", OFF(sampler.plain_eta), "0.0001", 1e-12, 10,
                 "step of the plain BDD comparison (em, same steps, no global moves)"),
    CFG_REAL_KEY("sampler.langevin_eta", OFF(sampler.langevin_eta), "0.0001", 1e-12, 10,
                 "step of the score-Langevin comparison (same steps, no global moves)"),
    CFG_STR_KEY("output.dir", OFF(output.dir), sizeof(((fit_config *)0)->output.dir), "runs/fit",
                "directory the results are written into (bdrl fit --out overrides)"),
};

const cfg_schema fit_schema = {"fit", keys, (int)(sizeof keys / sizeof keys[0]), NULL, 0};

int fit_load(fit_config *cfg, const char *path, char *const *sets, int n_sets, bdrl_err *e)
{
    memset(cfg, 0, sizeof *cfg);
    if (cfg_resolve(&fit_schema, cfg, path, sets, n_sets, e))
        return -1;
    const char *src = path ? path : "configuration";
    if (cfg->data.name == FIT_DATA_CSV && !cfg->data.path[0])
        return err_set(e, "%s: data.name is csv but data.path is not set", src);
    if (cfg->data.name != FIT_DATA_CSV && cfg->data.path[0])
        return err_set(e, "%s: data.path is set but data.name is not csv", src);
    if (cfg->sampler.init == SDE_INIT_POINTS)
        return err_set(e, "%s: sampler.init 'points' needs given points; use uniform, normal or grid_icdf",
                       src);
    return 0;
}

/* ---------- input features ---------- */

/* x (d per row, standardized units) → network input: per coordinate either
 * x itself (K = 0) or Fourier features of u = (x − c)/h, which maps the box
 * onto [−1, 1]. */
typedef struct {
    int d, K, nf;       /* nf = network input width */
    double c, h;
    real *ucol;         /* (max_batch) one coordinate, scaled */
    real *df;           /* (max_batch, nf) ∂feature/∂(its own coordinate) */
} feature_map;

static int feature_map_init(feature_map *fm, int d, int K, double lo, double hi, int max_batch, bdrl_err *e)
{
    fm->d = d;
    fm->K = K;
    fm->nf = K > 0 ? d * fourier_dim(K) : d;
    fm->c = 0.5 * (lo + hi);
    fm->h = 0.5 * (hi - lo);
    fm->ucol = err_malloc(sizeof(real) * max_batch, e);
    fm->df = fm->ucol ? err_malloc(sizeof(real) * max_batch * fm->nf, e) : NULL;
    return fm->df ? 0 : -1;
}

static void feature_map_free(feature_map *fm)
{
    free(fm->ucol);
    free(fm->df);
}

/* f (B, nf) = features of x (B, d). With v (B, d) non-NULL, also fdir
 * (B, nf) = the derivative of the features along v_i (the JVP direction). */
static void featurize(feature_map *fm, int B, const real *x, const real *v, real *f, real *fdir)
{
    int d = fm->d, nf = fm->nf;
    if (fm->K == 0) {
        memcpy(f, x, sizeof(real) * B * d);
        if (fdir)
            memcpy(fdir, v, sizeof(real) * B * d);
        return;
    }
    int w = fourier_dim(fm->K);
    for (int j = 0; j < d; j++) {
        for (int i = 0; i < B; i++)
            fm->ucol[i] = (real)((x[i * d + j] - fm->c) / fm->h);
        fourier_features(B, fm->ucol, fm->K, FOURIER_L_DEFAULT, f + j * w, nf, fdir ? fm->df + j * w : NULL, nf);
    }
    if (fdir)
        for (int i = 0; i < B; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < w; k++) {
                    size_t at = (size_t)i * nf + j * w + k;
                    fdir[at] = (real)(fm->df[at] / fm->h * v[i * d + j]);
                }
}

/* ---------- the fields as the samplers see them ---------- */

typedef struct {
    mlp *s, *g;
    int d;
    real *buf;      /* (max_batch, d) */
    double lo, hi;  /* the sampling box; the fields are 0 outside it */
    feature_map *fm;
    real *fbuf;     /* (max_batch, nf) */
} field_ctx;

/* Evaluates s (and g) at n points, in chunks of the networks' max batch.
 * Outside the box the networks only extrapolate (they never saw data there),
 * and a positive extrapolation would pull walkers away for good: the target
 * density is taken to be 0 there, so MH moves reject it and walkers that
 * land there stop (and are reported frozen). */
static int eval_fields(void *vctx, int n, int d, const double *x, double *s, double *g, bdrl_err *e)
{
    field_ctx *c = vctx;
    (void)e;
    int mb = c->s->max_batch;
    for (int off = 0; off < n; off += mb) {
        int B = n - off < mb ? n - off : mb;
        for (int i = 0; i < B * d; i++)
            c->buf[i] = (real)x[(size_t)off * d + i];
        featurize(c->fm, B, c->buf, NULL, c->fbuf, NULL);
        const real *ys = mlp_forward(c->s, B, c->fbuf);
        for (int i = 0; i < B; i++)
            s[off + i] = ys[i];
        if (g) {
            const real *yg = mlp_forward(c->g, B, c->fbuf);
            for (int i = 0; i < B * d; i++)
                g[(size_t)off * d + i] = yg[i];
        }
        for (int i = 0; i < B; i++) {
            const double *xi = x + (size_t)(off + i) * d;
            int inside = 1;
            for (int j = 0; j < d; j++)
                inside &= xi[j] >= c->lo && xi[j] <= c->hi;
            if (!inside) {
                s[off + i] = 0;
                if (g)
                    for (int j = 0; j < d; j++)
                        g[(size_t)(off + i) * d + j] = 0;
            }
        }
    }
    return 0;
}

/* ---------- data ---------- */

typedef struct {
    int d;
    int builtin;            /* data_builtin or -1 for CSV */
    data_set *train;        /* standardized */
    double *eval, *floor_;  /* (n_eval, d) each, original units */
    int n_eval;
    double *mean;           /* (d) */
    double scale;
    double lo, hi;          /* sampler box, standardized */
} fit_data;

static void fit_data_free(fit_data *D)
{
    data_free(D->train);
    free(D->eval);
    free(D->floor_);
    free(D->mean);
}

static int load_data(const fit_config *cfg, fit_data *D, bdrl_err *e)
{
    memset(D, 0, sizeof *D);
    if (cfg->data.name != FIT_DATA_CSV) {
        data_builtin b = (data_builtin)cfg->data.name;
        D->builtin = b;
        D->d = (int)data_builtin_dim(b);
        rng *r = rng_create((uint64_t)cfg->seed, RNG_STREAM_DATA);
        rng *rev = rng_create((uint64_t)cfg->seed, RNG_STREAM_DATA + 100);
        rng *rfl = rng_create((uint64_t)cfg->seed, RNG_STREAM_DATA + 200);
        D->n_eval = cfg->data.n_eval;
        D->train = data_sample(b, (size_t)cfg->data.n_train, r, NULL, e);
        D->eval = err_malloc(sizeof(double) * D->n_eval * D->d, e);
        D->floor_ = err_malloc(sizeof(double) * D->n_eval * D->d, e);
        if (D->eval && D->floor_) {
            data_sample_into(b, (size_t)D->n_eval, rev, D->eval, NULL);
            data_sample_into(b, (size_t)D->n_eval, rfl, D->floor_, NULL);
        }
        rng_free(r);
        rng_free(rev);
        rng_free(rfl);
        if (!D->train || !D->eval || !D->floor_)
            return -1;
    } else {
        D->builtin = -1;
        data_set *all = data_load_csv(cfg->data.path, e);
        if (!all)
            return -1;
        data_set *held = NULL;
        rng *r = rng_create((uint64_t)cfg->seed, RNG_STREAM_DATA);
        int rc = data_split(all, cfg->data.heldout_frac, r, &D->train, &held, e);
        rng_free(r);
        data_free(all);
        if (rc)
            return err_prefix(e, "%s", cfg->data.path);
        if (held->n < 4) {
            data_free(held);
            return err_set(e, "%s: only %zu held-out rows; need at least 4 (raise data.heldout_frac or add rows)",
                           cfg->data.path, held->n);
        }
        if (D->train->n < 2) {
            data_free(held);
            return err_set(e, "%s: fewer than 2 training rows", cfg->data.path);
        }
        D->d = (int)held->d;
        /* One half of the held-out rows is scored against the samples, the
         * other half against the first for the noise floor. */
        D->n_eval = (int)(held->n / 2);
        D->eval = err_malloc(sizeof(double) * D->n_eval * D->d, e);
        D->floor_ = err_malloc(sizeof(double) * D->n_eval * D->d, e);
        if (D->eval && D->floor_) {
            memcpy(D->eval, held->x, sizeof(double) * D->n_eval * D->d);
            memcpy(D->floor_, held->x + (size_t)D->n_eval * D->d, sizeof(double) * D->n_eval * D->d);
        }
        data_free(held);
        if (!D->eval || !D->floor_)
            return -1;
    }
    /* Standardize: per-dimension mean, one common scale. */
    int d = D->d;
    size_t n = D->train->n;
    D->mean = err_calloc((size_t)d, sizeof(double), e);
    if (!D->mean)
        return -1;
    double var = 0;
    for (int j = 0; j < d; j++) {
        double m = 0, v = 0;
        for (size_t i = 0; i < n; i++)
            m += D->train->x[i * d + j];
        m /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double t = D->train->x[i * d + j] - m;
            v += t * t;
        }
        D->mean[j] = m;
        var += v / (double)n;
    }
    D->scale = sqrt(var / d);
    if (!(D->scale > 0))
        return err_set(e, "the training data have zero spread; nothing to fit");
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < d; j++) {
            double z = (D->train->x[i * d + j] - D->mean[j]) / D->scale;
            D->train->x[i * d + j] = z;
            lo = fmin(lo, z);
            hi = fmax(hi, z);
        }
    D->lo = lo;
    D->hi = hi;
    return 0;
}

/* ---------- metrics ---------- */

typedef struct {
    double w1, w1_floor, mmd, mmd_floor;
    double mode[DATA_MAX_COMPONENTS];
    int n_modes;
    sde_result res;
    int n_samples;
} sample_metrics;

static int score_samples(const fit_config *cfg, const fit_data *D, const double *x, int n,
                         sample_metrics *m, bdrl_err *e)
{
    int d = D->d;
    /* The same directions for every comparison: a fresh generator each time. */
    rng *r = rng_create((uint64_t)cfg->seed, 77);
    int rc = stat_sliced_w1(x, (size_t)n, D->eval, (size_t)D->n_eval, (size_t)d, STAT_SLICED_DIRS, r,
                            &m->w1, NULL, e);
    rng_free(r);
    if (rc)
        return -1;
    stat_mmd_result mr;
    if (stat_mmd(x, (size_t)n, D->eval, (size_t)D->n_eval, (size_t)d, 0, &mr, e))
        return -1;
    m->mmd = mr.mmd;
    m->n_modes = 0;
    if (D->builtin >= 0) {
        m->n_modes = (int)data_n_components((data_builtin)D->builtin);
        data_mode_weights((data_builtin)D->builtin, x, (size_t)n, m->mode);
    }
    m->n_samples = n;
    return 0;
}

static int score_floor(const fit_config *cfg, const fit_data *D, double *w1, double *mmd, bdrl_err *e)
{
    rng *r = rng_create((uint64_t)cfg->seed, 77);
    int rc = stat_sliced_w1(D->floor_, (size_t)D->n_eval, D->eval, (size_t)D->n_eval, (size_t)D->d,
                            STAT_SLICED_DIRS, r, w1, NULL, e);
    rng_free(r);
    stat_mmd_result mr;
    if (rc || stat_mmd(D->floor_, (size_t)D->n_eval, D->eval, (size_t)D->n_eval, (size_t)D->d, 0, &mr, e))
        return -1;
    *mmd = mr.mmd;
    return 0;
}

/* ---------- output ---------- */

static void json_metrics(json_writer *w, const fit_data *D, const sample_metrics *m, double w1_floor,
                         double mmd_floor, int top)
{
    json_kv_num(w, D->d == 1 ? "w1" : "sliced_w1", m->w1);
    if (top) {
        json_kv_num(w, "w1_floor", w1_floor);
        json_kv_num(w, "mmd", m->mmd);
        json_kv_num(w, "mmd_floor", mmd_floor);
    } else {
        json_kv_num(w, "w1_over_floor", m->w1 / w1_floor);
        json_kv_num(w, "mmd", m->mmd);
    }
    if (m->n_modes) {
        json_kv_nums(w, "mode_weights", m->mode, m->n_modes);
        if (top)
            json_kv_nums(w, "true_mode_weights", data_component_weights((data_builtin)D->builtin), m->n_modes);
    }
    json_kv_int(w, "frozen_walkers", m->res.n_frozen);
    json_kv_int(w, "nonfinite_walkers", m->res.n_nonfinite);
    json_kv_num(w, "local_accept", m->res.local_accept);
    json_kv_num(w, "global_accept", m->res.global_accept);
}

static int write_samples(const char *dir, const char *name, const fit_data *D, const double *z, int n,
                         bdrl_err *e)
{
    char path[4200];
    if (io_join(path, sizeof path, dir, name, e))
        return -1;
    io_atomic a;
    if (io_atomic_open(&a, path, e))
        return -1;
    fputs(D->d == 1 ? "x\n" : D->d == 2 ? "x,y\n" : "", a.f);
    if (D->d > 2) {
        for (int j = 0; j < D->d; j++)
            fprintf(a.f, "%sx%d", j ? "," : "", j + 1);
        fputc('\n', a.f);
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < D->d; j++)
            fprintf(a.f, "%.9g%c", z[(size_t)i * D->d + j] * D->scale + D->mean[j], j + 1 < D->d ? ',' : '\n');
    return io_atomic_commit(&a, e);
}

/* fields.csv: the fields on a grid in data units (density p_x = p_z / σ^d,
 * gradient ∇p_x = ∇p_z / σ^(d+1)), with the true density where known. */
static int write_fields(const char *dir, const fit_data *D, field_ctx *fc, bdrl_err *e)
{
    int d = D->d;
    if (d > 2)
        return 0;
    int n = d == 1 ? GRID_1D : GRID_2D * GRID_2D;
    double *z = malloc(sizeof(double) * n * d), *s = malloc(sizeof(double) * n),
           *g = malloc(sizeof(double) * n * d);
    char path[4200];
    int rc = -1;
    io_atomic a = {0};
    if (!z || !s || !g) {
        err_set(e, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (d == 1) {
            z[i] = D->lo + (D->hi - D->lo) * i / (GRID_1D - 1.0);
        } else {
            z[2 * i] = D->lo + (D->hi - D->lo) * (i % GRID_2D) / (GRID_2D - 1.0);
            z[2 * i + 1] = D->lo + (D->hi - D->lo) * (i / GRID_2D) / (GRID_2D - 1.0);
        }
    }
    eval_fields(fc, n, d, z, s, g, e);
    if (io_join(path, sizeof path, dir, "fields.csv", e) || io_atomic_open(&a, path, e))
        goto done;
    double sd = pow(D->scale, d), sg = pow(D->scale, d + 1);
    int known = D->builtin >= 0 && D->builtin != DATA_MOONS;
    fputs(d == 1 ? "x,s,g,p_true,dp_true\n" : "x,y,s,gx,gy,p_true\n", a.f);
    for (int i = 0; i < n; i++) {
        double x[2], pt = NAN, dpt[2] = {NAN, NAN};
        for (int j = 0; j < d; j++)
            x[j] = z[i * d + j] * D->scale + D->mean[j];
        if (known)
            data_pdf((data_builtin)D->builtin, x, &pt, dpt);
        if (d == 1)
            fprintf(a.f, "%.9g,%.9g,%.9g,%.9g,%.9g\n", x[0], s[i] / sd, g[i] / sg, pt, dpt[0]);
        else {
            fprintf(a.f, "%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", x[0], x[1], s[i] / sd, g[2 * i] / sg,
                    g[2 * i + 1] / sg, pt);
            if (i % GRID_2D == GRID_2D - 1)
                fputc('\n', a.f); /* gnuplot grid blocks */
        }
    }
    rc = io_atomic_commit(&a, e);
done:
    free(z);
    free(s);
    free(g);
    return rc;
}

/* hist.csv (1-D): density histogram of the default sampler's samples. */
static int write_hist(const char *dir, const fit_data *D, const double *z, int n, bdrl_err *e)
{
    double lo = D->lo * D->scale + D->mean[0], hi = D->hi * D->scale + D->mean[0];
    double w = (hi - lo) / HIST_BINS;
    int count[HIST_BINS] = {0};
    for (int i = 0; i < n; i++) {
        int b = (int)floor((z[i] * D->scale + D->mean[0] - lo) / w);
        if (b >= 0 && b < HIST_BINS)
            count[b]++;
        else if (b == HIST_BINS)
            count[HIST_BINS - 1]++;
    }
    char path[4200];
    io_atomic a;
    if (io_join(path, sizeof path, dir, "hist.csv", e) || io_atomic_open(&a, path, e))
        return -1;
    fputs("x,density\n", a.f);
    for (int b = 0; b < HIST_BINS; b++)
        fprintf(a.f, "%.9g,%.9g\n", lo + (b + 0.5) * w, count[b] / (n * w));
    return io_atomic_commit(&a, e);
}

/* ---------- the uniform anchor ---------- */

/* Both divergences of docs/design.md §1.2 weight the error by p, so nothing holds s
 * and g where data are scarce, and a sampler targeting s+ puts mass there.
 * Query points u uniform over the box, regressed onto the kernel estimates
 *     K(u) = 1/B Σ_j N(u; x_j, εI),   ∇K(u) = 1/B Σ_j −(u − x_j)/ε N(u; x_j, εI),
 * which are unbiased for p∗N_ε and its gradient, keep the same minimizer
 * while weighting errors by the box's uniform law as well. */
static void kernel_targets(int Bu, int B, int d, const real *u, const real *x, double eps, real *K,
                           real *dK)
{
    double norm = pow(2 * M_PI * eps, -0.5 * d);
    for (int i = 0; i < Bu; i++) {
        double k = 0, dk[8] = {0};
        for (int j = 0; j < B; j++) {
            double r2 = 0;
            for (int c = 0; c < d; c++) {
                double t = (double)u[i * d + c] - x[j * d + c];
                r2 += t * t;
            }
            double nk = norm * exp(-0.5 * r2 / eps);
            k += nk;
            for (int c = 0; c < d && c < 8; c++)
                dk[c] -= ((double)u[i * d + c] - x[j * d + c]) / eps * nk;
        }
        K[i] = (real)(k / B);
        for (int c = 0; c < d && c < 8; c++)
            dK[i * d + c] = (real)(dk[c] / B);
    }
}

/* Adds the gradient of scale/Bu Σ_i ||net(u_i) − t_i||² to net's grads and
 * returns that loss. */
static double regress_net(mlp *net, int Bu, const real *u, const real *t, double scale)
{
    int m = mlp_n_out(net);
    const real *y = mlp_forward(net, Bu, u);
    double L = 0;
    for (int i = 0; i < Bu * m; i++) {
        double r = (double)y[i] - t[i];
        L += r * r;
        net->dy[i] = (real)(2 * scale * r / Bu);
    }
    mlp_backward(net, net->dy, NULL, NULL, NULL);
    return scale * L / Bu;
}

/* ---------- the run ---------- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int run_sampler(const fit_config *cfg, const fit_data *D, field_ctx *fc, sde_method method,
                       double eta, int global_every, sde_init init, uint64_t stream, double *z,
                       sample_metrics *m, bdrl_err *e)
{
    sde_config sc;
    sde_config_default(&sc);
    sc.method = method;
    sc.eta = eta;
    sc.n_steps = cfg->sampler.steps;
    sc.global_every = global_every;
    sc.lo = D->lo - cfg->sampler.margin;
    sc.hi = D->hi + cfg->sampler.margin;
    sc.init = init;
    sc.grid_points = 256;
    rng *r = rng_create((uint64_t)cfg->seed, stream);
    unsigned char *flags = malloc((size_t)D->n_eval);
    int rc = flags ? sde_sample(&sc, eval_fields, fc, D->n_eval, D->d, z, flags, &m->res, r, e)
                   : err_set(e, "out of memory");
    rng_free(r);
    free(flags);
    if (rc)
        return -1;
    /* Scored in data units. */
    double *x = malloc(sizeof(double) * D->n_eval * D->d);
    if (!x)
        return err_set(e, "out of memory");
    for (int i = 0; i < D->n_eval; i++)
        for (int j = 0; j < D->d; j++)
            x[i * D->d + j] = z[i * D->d + j] * D->scale + D->mean[j];
    rc = score_samples(cfg, D, x, D->n_eval, m, e);
    free(x);
    return rc;
}

int fit_run(const fit_config *cfg, const char *out_dir, FILE *log, int *bad_input, bdrl_err *e)
{
    int bad_ignored;
    if (!bad_input)
        bad_input = &bad_ignored;
    *bad_input = 0;
    double t0 = now();
    fit_data D;
    mlp *s = NULL, *g = NULL, *s_avg = NULL, *g_avg = NULL;
    adam *os = NULL, *og = NULL;
    field_batch *fb = NULL;
    real *xb = NULL, *buf = NULL, *ub = NULL, *uK = NULL, *udK = NULL, *fin = NULL, *fdir = NULL;
    feature_map fm = {0};
    double *z_main = NULL, *z_plain = NULL, *z_lang = NULL;
    rng *rinit = NULL, *rloss = NULL, *rbatch = NULL;
    int rc = -1;
    char path[4200];

    if (io_mkdirs(out_dir, e))
        return -1;
    if (io_join(path, sizeof path, out_dir, "config.yaml", e) || cfg_save_yaml(&fit_schema, cfg, path, e))
        return -1;
    /* the user's input: the data, keys that do not fit them, the memory limit */
    *bad_input = 1;
    if (load_data(cfg, &D, e))
        goto done;
    int d = D.d, B = cfg->train.batch_size;
    if ((size_t)B > D.train->n)
        B = (int)D.train->n;
    if (log)
        fprintf(log, "fit: %zu training points in %d-D, %d held out; standardized by scale %.4g\n",
                D.train->n, d, D.n_eval, D.scale);

    double share = cfg->loss.uniform_share;
    int Bu = share > 0 ? (int)ceil(B * share / (1 - share)) : 0;
    if (d > 8 && Bu > 0) {
        err_set(e, "loss.uniform_share works for up to 8 dimensions; set it to 0 for %d-D data", d);
        goto done;
    }
    int max_batch = B > 1024 ? B : 1024;
    if (Bu > max_batch)
        max_batch = Bu;
    {
        /* Refuse absurd sizes before the networks are allocated (limits.h):
         * s, g and their averages with caches for max_batch rows, Adam
         * moments, the feature buffers, and the samplers' walkers. */
        int K = cfg->field.fourier_k, nf = K > 0 ? d * fourier_dim(K) : d, sz[10], L = cfg->field.hidden_layers + 1;
        sz[0] = nf;
        for (int l = 1; l < L; l++)
            sz[l] = cfg->field.width;
        sz[L] = 1;
        double net = 2 * mlp_memory_bytes(L, sz, max_batch);
        sz[L] = d;
        net += 2 * mlp_memory_bytes(L, sz, max_batch);
        double feats = 2.0 * max_batch * nf * sizeof(real) + 4.0 * max_batch * d * sizeof(real);
        double walkers = 12.0 * D.n_eval * d * sizeof(double);
        if (memlimit_check_bytes("this fit", net + feats + walkers, "networks and their buffers", net,
                               "field.width, field.hidden_layers, field.fourier_k or train.batch_size", e))
            goto done;
    }
    *bad_input = 0;
    double box_lo = D.lo - cfg->sampler.margin, box_hi = D.hi + cfg->sampler.margin;
    if (feature_map_init(&fm, d, cfg->field.fourier_k, box_lo, box_hi, max_batch, e))
        goto done;
    fin = malloc(sizeof(real) * max_batch * fm.nf);
    fdir = malloc(sizeof(real) * max_batch * fm.nf);
    if (!fin || !fdir) {
        err_set(e, "out of memory");
        goto done;
    }
    mlp_spec ss, gs;
    memset(&ss, 0, sizeof ss);
    ss.n_layers = cfg->field.hidden_layers + 1;
    ss.sizes[0] = fm.nf;
    for (int l = 1; l <= cfg->field.hidden_layers; l++)
        ss.sizes[l] = cfg->field.width;
    ss.sizes[ss.n_layers] = 1;
    ss.act = (mlp_act)cfg->field.act;
    ss.out_act = MLP_LINEAR;
    gs = ss;
    gs.sizes[gs.n_layers] = d;
    rinit = rng_create((uint64_t)cfg->seed, RNG_STREAM_INIT);
    rloss = rng_create((uint64_t)cfg->seed, RNG_STREAM_LOSS);
    rbatch = rng_create((uint64_t)cfg->seed, RNG_STREAM_REPLAY);
    if (!rinit || !rloss || !rbatch) {
        err_set(e, "out of memory");
        goto done;
    }
    s = mlp_create(&ss, max_batch, rinit, e);
    g = s ? mlp_create(&gs, max_batch, rinit, e) : NULL;
    s_avg = g ? mlp_create(&ss, max_batch, NULL, e) : NULL;
    g_avg = s_avg ? mlp_create(&gs, max_batch, NULL, e) : NULL;
    if (!g_avg || mlp_copy_params(s_avg, s, e) || mlp_copy_params(g_avg, g, e))
        goto done;
    adam_config ac = adam_defaults();
    ac.lr = cfg->train.lr;
    ac.clip_norm = cfg->train.clip;
    ac.schedule = ADAM_LR_LINEAR;
    ac.lr_end = cfg->train.lr_end;
    ac.decay_steps = cfg->train.steps;
    os = adam_create(s->n_params, &ac, e);
    og = os ? adam_create(g->n_params, &ac, e) : NULL;
    fb = og ? field_batch_create(B, d, (field_kernel)cfg->loss.kernel, (field_probe)cfg->loss.probe,
                                 cfg->loss.eps, e)
            : NULL;
    xb = malloc(sizeof(real) * B * d);
    buf = malloc(sizeof(real) * max_batch * d);
    ub = malloc(sizeof(real) * (Bu + 1) * d);
    uK = malloc(sizeof(real) * (Bu + 1));
    udK = malloc(sizeof(real) * (Bu + 1) * d);
    if (!fb || !xb || !buf || !ub || !uK || !udK) {
        if (fb)
            err_set(e, "out of memory");
        goto done;
    }

    double ls = 0, lg = 0;
    int report = cfg->train.steps / 10 > 0 ? cfg->train.steps / 10 : 1;
    for (int step = 1; step <= cfg->train.steps; step++) {
        for (int i = 0; i < B; i++) {
            size_t k = rng_below(rbatch, D.train->n);
            for (int j = 0; j < d; j++)
                xb[i * d + j] = (real)D.train->x[k * d + j];
        }
        if (field_batch_draw(fb, B, xb, rloss, e))
            goto done;
        featurize(&fm, B, fb->x, fb->v, fin, fdir);
        mlp_zero_grad(s);
        double l1 = field_loss_id(fb, s, fin, NULL);
        mlp_zero_grad(g);
        double l2 = field_loss_grad(fb, g, fin, fdir, NULL);
        if (Bu > 0) {
            for (int i = 0; i < Bu * d; i++)
                ub[i] = (real)(box_lo + (box_hi - box_lo) * rng_uniform(rloss));
            kernel_targets(Bu, B, d, ub, xb, cfg->loss.eps, uK, udK);
            featurize(&fm, Bu, ub, NULL, fin, NULL);
            /* Weights: (1 − share) on the data losses, share on the anchor. */
            double w = share / (1 - share);
            l1 += regress_net(s, Bu, fin, uK, w);
            l2 += regress_net(g, Bu, fin, udK, w);
        }
        double n1 = adam_step_mlp(os, s), n2 = adam_step_mlp(og, g);
        if (!isfinite(l1) || !isfinite(l2) || !isfinite(n1) || !isfinite(n2)) {
            err_set(e, "training diverged at step %d: L_id %g, L_grad %g, gradient norms %g, %g "
                       "(lower train.lr or raise loss.eps)", step, l1, l2, n1, n2);
            goto done;
        }
        if (cfg->train.ema > 0) {
            /* The usual warm-up: early averages do not remember the init. */
            double decay = fmin(cfg->train.ema, (1.0 + step) / (10.0 + step));
            mlp_polyak(s_avg, s, 1 - decay, NULL);
            mlp_polyak(g_avg, g, 1 - decay, NULL);
        }
        ls += l1;
        lg += l2;
        if (log && step % report == 0) {
            fprintf(log, "fit: step %d/%d  L_id %.5g  L_grad %.5g  (%.1fs)\n", step, cfg->train.steps,
                    ls / report, lg / report, now() - t0);
            ls = lg = 0;
        }
    }
    double t_train = now() - t0;

    if (cfg->train.ema <= 0 && (mlp_copy_params(s_avg, s, e) || mlp_copy_params(g_avg, g, e)))
        goto done;
    field_ctx fc = {s_avg, g_avg, d, buf, box_lo, box_hi, &fm, fin};
    sample_metrics mm = {0}, mp = {0}, ml = {0};
    double w1_floor, mmd_floor;
    z_main = malloc(sizeof(double) * D.n_eval * d);
    z_plain = malloc(sizeof(double) * D.n_eval * d);
    z_lang = malloc(sizeof(double) * D.n_eval * d);
    if (!z_main || !z_plain || !z_lang) {
        err_set(e, "out of memory");
        goto done;
    }
    sde_init init = (sde_init)cfg->sampler.init;
    if (init == SDE_INIT_GRID_ICDF && d != 1) {
        err_set(e, "sampler.init grid_icdf works in 1-D only; this data set is %d-D", d);
        goto done;
    }
    if (score_floor(cfg, &D, &w1_floor, &mmd_floor, e) ||
        run_sampler(cfg, &D, &fc, (sde_method)cfg->sampler.method, cfg->sampler.eta,
                    cfg->sampler.global_every, init, RNG_STREAM_SAMPLER, z_main, &mm, e) ||
        run_sampler(cfg, &D, &fc, SDE_EM, cfg->sampler.plain_eta, 0, SDE_INIT_UNIFORM,
                    RNG_STREAM_SAMPLER + 1, z_plain, &mp, e) ||
        run_sampler(cfg, &D, &fc, SDE_LANGEVIN, cfg->sampler.langevin_eta, 0, SDE_INIT_UNIFORM,
                    RNG_STREAM_SAMPLER + 2, z_lang, &ml, e))
        goto done;
    double wall = now() - t0;
    if (log)
        fprintf(log, "fit: %s %.4g (floor %.4g, x%.2f); plain BDD %.4g; Langevin %.4g; %.1fs\n",
                d == 1 ? "W1" : "sliced W1", mm.w1, w1_floor, mm.w1 / w1_floor, mp.w1, ml.w1, wall);

    if (write_samples(out_dir, "samples.csv", &D, z_main, D.n_eval, e) ||
        write_samples(out_dir, "samples_bdd_plain.csv", &D, z_plain, D.n_eval, e) ||
        write_samples(out_dir, "samples_langevin.csv", &D, z_lang, D.n_eval, e) ||
        write_fields(out_dir, &D, &fc, e) || (d == 1 && write_hist(out_dir, &D, z_main, D.n_eval, e)))
        goto done;

    /* The plot last: a missing gnuplot must not cost the numbers. */
    char png[4200];
    int plotted = 0;
    if (d <= 2 && !io_join(png, sizeof png, out_dir, "fit.png", e)) {
        char title[256];
        snprintf(title, sizeof title, "%s: %s %.3g (floor %.3g)",
                 D.builtin >= 0 ? data_builtin_name((data_builtin)D.builtin) : "csv",
                 d == 1 ? "W1" : "sliced W1", mm.w1, w1_floor);
        bdrl_err pe;
        if (plot_gnuplot(d == 1 ? "fit1d.gp" : "fit2d.gp", out_dir, png, title, &pe) == 0)
            plotted = 1;
        else if (log)
            fprintf(log, "fit: warning: no plot: %s\n", pe.msg);
    }

    io_atomic a;
    if (io_join(path, sizeof path, out_dir, "metrics.json", e) || io_atomic_open(&a, path, e))
        goto done;
    json_writer w;
    json_init(&w, a.f);
    json_object_begin(&w);
    json_kv_str(&w, "data", D.builtin >= 0 ? data_builtin_name((data_builtin)D.builtin) : cfg->data.path);
    json_kv_int(&w, "dim", d);
    json_kv_int(&w, "n_samples", D.n_eval);
    json_kv_str(&w, "sampler", sde_method_name((sde_method)cfg->sampler.method));
    json_metrics(&w, &D, &mm, w1_floor, mmd_floor, 1);
    json_key(&w, "bdd_plain");
    json_object_begin(&w);
    json_metrics(&w, &D, &mp, w1_floor, mmd_floor, 0);
    json_object_end(&w);
    json_key(&w, "langevin");
    json_object_begin(&w);
    json_metrics(&w, &D, &ml, w1_floor, mmd_floor, 0);
    json_object_end(&w);
    json_kv_num(&w, "train_seconds", t_train);
    json_kv_num(&w, "wall_seconds", now() - t0);
    json_kv_bool(&w, "plot", plotted);
    json_object_end(&w);
    rc = io_atomic_commit(&a, e);
done:
    fit_data_free(&D);
    mlp_free(s);
    mlp_free(g);
    mlp_free(s_avg);
    mlp_free(g_avg);
    adam_free(os);
    adam_free(og);
    field_batch_free(fb);
    free(xb);
    free(buf);
    free(ub);
    free(uK);
    free(udK);
    free(fin);
    free(fdir);
    feature_map_free(&fm);
    free(z_main);
    free(z_plain);
    free(z_lang);
    rng_free(rinit);
    rng_free(rloss);
    rng_free(rbatch);
    return rc;
}
