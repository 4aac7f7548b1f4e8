/* sweep.h — hyper-parameter sweeps and ablations (`bdrl sweep`): a sweep
 * file, its expansion into runs, the state of a sweep directory and its
 * summary.
 *
 * Sweep file (YAML, validated like every config; errors "file:line:col: ..."):
 *   base: configs/frozenlake4_bd.yaml   # relative to the cwd, else to the sweep file's dir;
 *                                       # or a list of configs: [a.yaml, b.yaml]
 *   set: {train.total_steps: 20000}     # overrides for every run
 *   variants:                           # named sets of overrides (ablations), in order
 *     none: {}
 *     n_step: {agent.n_step: 3}
 *   grid:                               # every combination (cartesian product)
 *     agent.lr: [1.0e-3, 3.0e-4]
 *   random:                             # `count` draws, each key drawn independently
 *     count: 4
 *     seed: 0                           # draws' seed (default 0): reproducible expansion
 *     agent.gamma: {choice: [0.95, 0.99]}
 *     train.batch_size: {uniform_int: [32, 128]}     # inclusive
 *     agent.eps_kernel: {log_uniform: [1.0e-5, 1.0e-3]}
 *     agent.lr: {uniform: [1e-4, 1e-3]}
 *   seeds: [1, 2, 3]                    # the config's `seed` of every run
 *   metric: final_eval_return           # summary.json field to rank by
 *   maximize: true                      # default true
 *   out: runs/sweeps/NAME               # default runs/sweeps/<file stem>
 *   slurm: {partition: short, time: "01:00:00", max_parallel: 8}   # --slurm (slurm.h)
 * Settings = every base x every variant x every grid point x every random
 * draw, in that order (the last grid key varying fastest among the grid's);
 * runs = settings x seeds, run i being setting i / n_seeds, seed
 * i % n_seeds. Each run lives in OUT/runs/NNNN_sK where NNNN is its setting
 * and K its seed. The swept parameters are, in order: `config` (the base's
 * file stem; only for a list of bases), `variant` (its name; only with
 * variants:), the grid keys, the random keys; so a sweep with one base and
 * no variants expands as it did before either existed. A run's overrides
 * are `set`, then its variant's, then its grid and random values, then
 * seed=K; a key both in a variant and in grid or random is refused.
 *
 * State survives SIGKILL at any instant: a run is complete when its
 * summary.json exists with total_steps equal to the configured one; results.csv
 * and summary.md (and, with variants, variants.md and variants.csv:
 * sweep_variants.h) are rebuilt from the run directories, never appended.
 *
 * Memory: sweep_def owns everything it points to (sweep_def_free).
 */
#ifndef BDRL_SWEEP_H
#define BDRL_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "research/rundir.h"
#include "research/slurm.h"

#define SWEEP_MAX_KEYS 32

typedef enum { SWEEP_CHOICE = 0, SWEEP_UNIFORM, SWEEP_UNIFORM_INT, SWEEP_LOG_UNIFORM } sweep_dist;

typedef struct {
    char *key;          /* dotted config key, validated against exp_schema */
    int line;           /* line in the sweep file (errors) */
    int n_values;       /* grid values / choice values (YAML text) */
    char **values;
    sweep_dist dist;    /* random keys */
    double a, b;        /* uniform bounds */
} sweep_param;

/* One config of `base:`. */
typedef struct {
    char *path;                 /* resolved path */
    char *stem;                 /* its file name without .yaml/.yml: the `config` parameter's value */
    int line, col;              /* where the sweep file names it (errors) */
} sweep_base;

/* One entry of `variants:`: a name and its overrides. */
typedef struct {
    char *name;                 /* the `variant` parameter's value */
    int line, col;              /* where the sweep file names it (errors) */
    int n_sets;                 /* overrides as "key=value", file order */
    char **sets;
} sweep_variant;

typedef struct {
    char path[4096];            /* the sweep file */
    char base[4096];            /* resolved path of the (first) base config */
    int base_list;              /* 1: `base:` is a list, which adds the `config` parameter */
    int n_bases;
    sweep_base *bases;
    int n_variants;             /* 0 without a variants: block */
    sweep_variant *variants;
    char out[4096];             /* sweep directory */
    int n_set;                  /* overrides for every run, as "key=value" */
    char **set;
    int n_grid;
    sweep_param grid[SWEEP_MAX_KEYS];
    int n_random;
    sweep_param random[SWEEP_MAX_KEYS];
    int random_count;           /* draws (0 without a random block) */
    uint64_t random_seed;
    int n_seeds;
    int64_t *seeds;
    char metric[64];
    int maximize;
    slurm_options slurm;        /* the file's slurm: section (defaults without one) */
    /* expansion */
    int n_settings;
    int n_points;               /* settings per (base, variant): grid points x random draws */
    int n_meta;                 /* leading parameters that are no config keys: config, variant */
    int n_params;               /* swept parameters: config, variant, grid keys, random keys (names) */
    char **param_names;
    char ***setting_values;     /* [n_settings][n_params] YAML text */
    int64_t *total_steps;       /* [n_settings] train.total_steps of the resolved config */
} sweep_def;

/* Reads, validates and expands a sweep file. out_override (may be NULL)
 * replaces `out`. Every run's configuration is resolved once, so a bad value
 * fails here with the sweep file's line. */
int sweep_load(const char *path, const char *out_override, sweep_def *s, bdrl_err *e);
void sweep_def_free(sweep_def *s);

int sweep_n_runs(const sweep_def *s);
/* A setting's base (index into bases) and variant (index into variants, -1
 * without variants). */
int sweep_setting_base(const sweep_def *s, int setting);
int sweep_setting_variant(const sweep_def *s, int setting);
/* The config file run i starts from. */
const char *sweep_run_base(const sweep_def *s, int i);
/* Run i's directory (OUT/runs/NNNN_sK) and its overrides: the sweep's `set`,
 * then its variant's, then the setting's grid and random values, then
 * seed=K; *n_sets receives the count and the strings are malloc'ed (free
 * with sweep_free_sets). */
int sweep_run_dir(const sweep_def *s, int i, char *buf, size_t n, bdrl_err *e);
int sweep_run_sets(const sweep_def *s, int i, char ***sets, int *n_sets, bdrl_err *e);
void sweep_free_sets(char **sets, int n_sets);
/* One line describing run i: "I  DIR  key=value ... seed=K". */
int sweep_describe(const sweep_def *s, int i, char *buf, size_t n);

/* Resolves run i's configuration (its base + its overrides) into cfg. */
int sweep_run_config(const sweep_def *s, int i, void *cfg /* exp_config * */, bdrl_err *e);

/* Writes OUT/sweep.json: metric, maximize, parameter names, settings, seeds;
 * with a list of bases also their paths (bases) and stems (configs), with
 * variants their names (variants). */
int sweep_write_state(const sweep_def *s, bdrl_err *e);

/* The metrics a sweep can rank by (NULL-terminated), and whether larger is
 * better by default. */
extern const char *const sweep_metrics[];
int sweep_metric_maximize(const char *metric);

/* Rebuilds OUT/results.csv (one row per finished run: status finished with
 * the configured steps, or diverged), OUT/summary.md and OUT/summary.json
 * (settings ranked by the metric's mean over seeds with a 95% bootstrap
 * interval; the best named), with variants OUT/variants.md and .csv
 * (sweep_variants.h), and the plots (a failed plot is a warning written to
 * *warn, which may be NULL). *n_done (may be NULL) receives the number of
 * rows. */
int sweep_summarize(const sweep_def *s, int *n_done, char *warn, size_t warn_n, bdrl_err *e);

/* The state of every run right now (bdrl sweep --status; rundir_state).
 * queue (may be NULL): per run 'R' if Slurm runs it, 'P' if it is queued,
 * else 0. */
typedef struct {
    int n[RUNDIR_N_STATES]; /* runs in each state (rundir.h) */
    int best_setting;       /* best mean of the metric over finished seeds; -1: none finished */
    double best_mean;
    int best_n;             /* finished seeds behind it */
    double work_left_s;     /* seconds of one-process work left: running runs at their
                               steps/s, pending ones at the mean wall time of finished
                               ones (NaN when none has finished yet) */
} sweep_status;

/* states (may be NULL) receives each run's state (R entries). */
int sweep_status_of(const sweep_def *s, const char *queue, sweep_status *st, unsigned char *states, bdrl_err *e);

/* Re-plots the metric against each swept parameter from sweep_dir/results.csv
 * (columns: run,setting,seed,<params...>,<metrics...>): OUT/plots/<key>.png
 * and .svg, one point per run and the mean per value, via plots/sweep.gp (a
 * key with no finite value has none); when sweep_dir/variants.csv exists,
 * also OUT/plots/variants.png (sweep_variants.h). Every figure is tried; the
 * first failure is the error. */
int sweep_plot_dir(const char *sweep_dir, bdrl_err *err);

#endif
