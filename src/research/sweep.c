/* sweep.c — `bdrl sweep`'s sweep files and sweep directories (sweep.h):
 * reading and checking a sweep file (bases, set, variants, grid, random,
 * seeds), expanding it into runs, each run's overrides and configuration,
 * sweep.json, results.csv, summary.md/json, the per-parameter figures and
 * --status's counts. The per-variant tables and figure are sweep_variants.c's.
 */
#include "research/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "train/check.h"
#include "agents/experiment.h"
#include "core/cfg.h"
#include "core/io.h"
#include "core/json.h"
#include "core/plot.h"
#include "core/rng.h"
#include "research/curves.h"
#include "research/rundir.h"
#include "research/slurm.h"
#include "research/sweep_priv.h"
#include "research/sweep_variants.h"
#include "stats/metrics.h"

#define SWEEP_RNG_STREAM 0x7377656570ull /* "sweep" */

const char *const sweep_metrics[] = {"final_eval_return", "best_eval_return", "final_success_rate",
                                     "steps_to_threshold", "auc", "wall_seconds", "sps", NULL};

int sweep_metric_maximize(const char *metric)
{
    return strcmp(metric, "steps_to_threshold") && strcmp(metric, "wall_seconds");
}

/* ---------------- the sweep file ---------------- */

/* Names for closest-key suggestions, through cfg_suggest. */
static const cfg_key top_names[] = {{.name = "base"},   {.name = "set"},      {.name = "grid"},
                                    {.name = "random"}, {.name = "seeds"},    {.name = "metric"},
                                    {.name = "maximize"}, {.name = "out"},    {.name = "slurm"},
                                    {.name = "variants"}};
static const cfg_schema top_schema = {"sweep", top_names, (int)(sizeof top_names / sizeof *top_names), NULL, 0};
static const cfg_key dist_names[] = {{.name = "choice"}, {.name = "uniform"}, {.name = "uniform_int"},
                                     {.name = "log_uniform"}};
static const cfg_schema dist_schema = {"distribution", dist_names, 4, NULL, 0};

typedef struct {
    const char *path;
    yaml_document_t *doc;
    cfg_loader scratch;      /* validates keys and values one by one */
    exp_config *scratch_cfg;
} ctx;

static int at(const ctx *c, const yaml_node_t *n, bdrl_err *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int at(const ctx *c, const yaml_node_t *n, bdrl_err *e, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_set(e, "%s:%lu:%lu: %s", c->path, (unsigned long)n->start_mark.line + 1,
                   (unsigned long)n->start_mark.column + 1, msg);
}

static yaml_node_t *node(const ctx *c, int id) { return yaml_document_get_node(c->doc, id); }

static char *xstrdup(const char *s, bdrl_err *e)
{
    char *d = strdup(s);
    if (!d)
        err_set(e, "out of memory");
    return d;
}

/* A value node as YAML flow text: scalars as written (quoted ones quoted
 * again so they stay strings), sequences of scalars as [a, b]. */
static int value_text(const ctx *c, yaml_node_t *n, char *buf, size_t sz, bdrl_err *e)
{
    if (n->type == YAML_SCALAR_NODE) {
        const char *v = (const char *)n->data.scalar.value;
        if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            snprintf(buf, sz, "%s", v);
        else
            snprintf(buf, sz, "'%s'", v); /* single quotes: only ' needs care, and bdrl values have none */
        return 0;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        size_t k = (size_t)snprintf(buf, sz, "[");
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            yaml_node_t *x = node(c, *it);
            if (!x || x->type != YAML_SCALAR_NODE)
                return at(c, n, e, "a value may be a list of plain values, not deeper");
            k += (size_t)snprintf(buf + (k < sz ? k : sz), k < sz ? sz - k : 0, "%s%s",
                                  it > n->data.sequence.items.start ? ", " : "", (const char *)x->data.scalar.value);
        }
        if (k + 2 > sz)
            return at(c, n, e, "value too long");
        snprintf(buf + k, sz - k, "]");
        return 0;
    }
    return at(c, n, e, "expected a value, not a mapping");
}

/* Checks that key=text is a valid config setting; errors carry n's location. */
static int check_value(ctx *c, const char *key, const char *text, yaml_node_t *where, bdrl_err *e)
{
    char origin[4200];
    snprintf(origin, sizeof origin, "%s:%lu:%lu", c->path, (unsigned long)where->start_mark.line + 1,
             (unsigned long)where->start_mark.column + 1);
    return cfg_set_text(&c->scratch, key, text, origin, e);
}

static int check_key(ctx *c, const char *key, yaml_node_t *where, bdrl_err *e)
{
    if (cfg_find(&exp_schema, key))
        return 0;
    const char *sug = cfg_suggest(&exp_schema, key);
    if (sug)
        return at(c, where, e, "unknown key '%s' (did you mean '%s'?)", key, sug);
    return at(c, where, e, "unknown key '%s' (run 'bdrl config --schema' for the valid keys)", key);
}

/* Duplicate keys in a mapping. */
static int check_dups(const ctx *c, yaml_node_t *map, bdrl_err *e)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key);
        if (!k || k->type != YAML_SCALAR_NODE)
            return at(c, k ? k : map, e, "keys must be plain names");
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = node(c, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, (char *)k2->data.scalar.value))
                return at(c, k, e, "duplicate key '%s' (first at line %lu)", (char *)k->data.scalar.value,
                          (unsigned long)k2->start_mark.line + 1);
        }
    }
    return 0;
}

/* Appends "key=text" to a list of overrides. */
static int add_set(char ***list, int *n, const char *key, const char *text, bdrl_err *e)
{
    char **v = realloc(*list, (size_t)(*n + 1) * sizeof *v);
    if (!v)
        return err_set(e, "out of memory");
    *list = v;
    size_t len = strlen(key) + strlen(text) + 2;
    if (!(v[*n] = malloc(len)))
        return err_set(e, "out of memory");
    snprintf(v[(*n)++], len, "%s=%s", key, text);
    return 0;
}

/* Where parse_overrides puts what it reads: `set:` (variant NULL) or one
 * variant's overrides, which must not name a key that grid or random sweeps
 * (s) nor one key twice. */
typedef struct {
    const sweep_def *s;
    const char *variant;
    char ***list;
    int *n;
} overrides_dst;

static int has_set(char *const *list, int n, const char *key)
{
    size_t len = strlen(key);
    for (int i = 0; i < n; i++)
        if (!strncmp(list[i], key, len) && list[i][len] == '=')
            return 1;
    return 0;
}

/* A variant's key must be neither swept by grid or random (which value
 * would a run get?) nor given twice (once dotted, once nested). */
static int check_variant_key(const ctx *c, const overrides_dst *d, const char *key, yaml_node_t *k, bdrl_err *e)
{
    const sweep_param *ps[2] = {d->s->grid, d->s->random};
    int ns[2] = {d->s->n_grid, d->s->n_random};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < ns[t]; i++)
            if (!strcmp(ps[t][i].key, key))
                return at(c, k, e, "'%s' is both in variant '%s' and in %s (line %d): ambiguous, a run cannot "
                                   "take both", key, d->variant, t ? "random" : "grid", ps[t][i].line);
    if (has_set(*d->list, *d->n, key))
        return at(c, k, e, "'%s' is given twice in variant '%s'", key, d->variant);
    return 0;
}

/* {a.b: v} or nested {a: {b: v}}: config keys and values, each checked
 * against the schema where the file has it. */
static int parse_overrides(ctx *c, const overrides_dst *d, yaml_node_t *map, const char *prefix, bdrl_err *e)
{
    if (map->type != YAML_MAPPING_NODE) {
        if (d->variant)
            return at(c, map, e, "variant '%s' needs a mapping of config keys to values, e.g. {agent.n_step: 3}, "
                                 "or {} for none", d->variant);
        return at(c, map, e, "'set' needs a mapping of config keys to values, e.g. {train.total_steps: 20000}");
    }
    if (check_dups(c, map, e))
        return -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        char key[256], text[4096];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", (char *)k->data.scalar.value);
        if (v->type == YAML_MAPPING_NODE && !cfg_find(&exp_schema, key)) {
            if (parse_overrides(c, d, v, key, e))
                return -1;
            continue;
        }
        if (check_key(c, key, k, e) || (d->variant && check_variant_key(c, d, key, k, e)) ||
            value_text(c, v, text, sizeof text, e) || check_value(c, key, text, v, e) ||
            add_set(d->list, d->n, key, text, e))
            return -1;
    }
    return 0;
}

static int add_values(sweep_param *p, int n, bdrl_err *e)
{
    p->values = calloc((size_t)(n ? n : 1), sizeof *p->values);
    if (!p->values)
        return err_set(e, "out of memory");
    return 0;
}

static int parse_grid(ctx *c, sweep_def *s, yaml_node_t *map, bdrl_err *e)
{
    if (map->type != YAML_MAPPING_NODE)
        return at(c, map, e, "'grid' needs a mapping of config keys to lists of values, e.g. agent.lr: [1e-3, 3e-4]");
    if (check_dups(c, map, e))
        return -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *key = (const char *)k->data.scalar.value;
        if (check_key(c, key, k, e))
            return -1;
        if (s->n_grid >= SWEEP_MAX_KEYS)
            return at(c, k, e, "at most %d grid keys", SWEEP_MAX_KEYS);
        if (v->type != YAML_SEQUENCE_NODE)
            return at(c, v, e, "grid key '%s' needs a list of values, e.g. [1, 2]", key);
        int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (n < 1)
            return at(c, v, e, "grid key '%s' has an empty list", key);
        sweep_param *gp = &s->grid[s->n_grid++];
        gp->line = (int)k->start_mark.line + 1;
        if (!(gp->key = xstrdup(key, e)) || add_values(gp, n, e))
            return -1;
        for (int i = 0; i < n; i++) {
            yaml_node_t *x = node(c, v->data.sequence.items.start[i]);
            char text[4096];
            if (value_text(c, x, text, sizeof text, e) || check_value(c, key, text, x, e))
                return -1;
            if (!(gp->values[gp->n_values++] = xstrdup(text, e)))
                return -1;
        }
    }
    return 0;
}

/* A scalar as a finite real. */
static int scalar_real(const ctx *c, yaml_node_t *n, double *out, bdrl_err *e)
{
    if (n->type != YAML_SCALAR_NODE)
        return at(c, n, e, "expected a number");
    char *end;
    errno = 0;
    const char *t = (const char *)n->data.scalar.value;
    double v = strtod(t, &end);
    if (!*t || *end || !isfinite(v))
        return at(c, n, e, "'%s' is not a number", t);
    *out = v;
    return 0;
}

static int parse_random(ctx *c, sweep_def *s, yaml_node_t *map, bdrl_err *e)
{
    if (map->type != YAML_MAPPING_NODE)
        return at(c, map, e, "'random' needs a mapping: count, seed, and config keys with a distribution");
    if (check_dups(c, map, e))
        return -1;
    int have_count = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *key = (const char *)k->data.scalar.value;
        if (!strcmp(key, "count") || !strcmp(key, "seed")) {
            double x;
            if (scalar_real(c, v, &x, e))
                return -1;
            if (x != floor(x) || x < (key[0] == 'c' ? 1 : 0) || x > (key[0] == 'c' ? 1e6 : 9007199254740991.0))
                return at(c, v, e, "random %s must be an integer %s", key, key[0] == 'c' ? "in [1, 1000000]" : ">= 0");
            if (key[0] == 'c') {
                s->random_count = (int)x;
                have_count = 1;
            } else {
                s->random_seed = (uint64_t)x;
            }
            continue;
        }
        if (check_key(c, key, k, e))
            return -1;
        for (int g = 0; g < s->n_grid; g++)
            if (!strcmp(s->grid[g].key, key))
                return at(c, k, e, "'%s' is both in grid (line %d) and in random", key, s->grid[g].line);
        if (s->n_random >= SWEEP_MAX_KEYS)
            return at(c, k, e, "at most %d random keys", SWEEP_MAX_KEYS);
        if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top - v->data.mapping.pairs.start != 1)
            return at(c, v, e,
                      "random key '%s' needs one distribution: {choice: [...]}, {uniform: [lo, hi]}, "
                      "{uniform_int: [lo, hi]} or {log_uniform: [lo, hi]}",
                      key);
        yaml_node_t *dk = node(c, v->data.mapping.pairs.start->key), *dv = node(c, v->data.mapping.pairs.start->value);
        if (!dk || dk->type != YAML_SCALAR_NODE || !dv)
            return at(c, v, e, "malformed distribution");
        const char *dn = (const char *)dk->data.scalar.value;
        sweep_param *rp = &s->random[s->n_random++];
        rp->line = (int)k->start_mark.line + 1;
        if (!(rp->key = xstrdup(key, e)))
            return -1;
        if (!strcmp(dn, "choice"))
            rp->dist = SWEEP_CHOICE;
        else if (!strcmp(dn, "uniform"))
            rp->dist = SWEEP_UNIFORM;
        else if (!strcmp(dn, "uniform_int"))
            rp->dist = SWEEP_UNIFORM_INT;
        else if (!strcmp(dn, "log_uniform"))
            rp->dist = SWEEP_LOG_UNIFORM;
        else {
            const char *sug = cfg_suggest(&dist_schema, dn);
            return at(c, dk, e, "unknown distribution '%s'%s%s%s (choice, uniform, uniform_int, log_uniform)", dn,
                      sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
        }
        if (dv->type != YAML_SEQUENCE_NODE)
            return at(c, dv, e, "'%s' needs a list", dn);
        int n = (int)(dv->data.sequence.items.top - dv->data.sequence.items.start);
        if (rp->dist == SWEEP_CHOICE) {
            if (n < 1)
                return at(c, dv, e, "choice needs at least one value");
            if (add_values(rp, n, e))
                return -1;
            for (int i = 0; i < n; i++) {
                yaml_node_t *x = node(c, dv->data.sequence.items.start[i]);
                char text[4096];
                if (value_text(c, x, text, sizeof text, e) || check_value(c, key, text, x, e))
                    return -1;
                if (!(rp->values[rp->n_values++] = xstrdup(text, e)))
                    return -1;
            }
            continue;
        }
        if (n != 2)
            return at(c, dv, e, "%s needs [lo, hi]", dn);
        yaml_node_t *xa = node(c, dv->data.sequence.items.start[0]), *xb = node(c, dv->data.sequence.items.start[1]);
        if (scalar_real(c, xa, &rp->a, e) || scalar_real(c, xb, &rp->b, e))
            return -1;
        if (!(rp->a <= rp->b))
            return at(c, dv, e, "%s: lo (%g) must not exceed hi (%g)", dn, rp->a, rp->b);
        if (rp->dist == SWEEP_LOG_UNIFORM && !(rp->a > 0))
            return at(c, dv, e, "log_uniform needs lo > 0");
        if (rp->dist == SWEEP_UNIFORM_INT && (rp->a != floor(rp->a) || rp->b != floor(rp->b)))
            return at(c, dv, e, "uniform_int needs integer bounds");
        if (check_value(c, key, (const char *)xa->data.scalar.value, xa, e) ||
            check_value(c, key, (const char *)xb->data.scalar.value, xb, e))
            return -1;
    }
    if (s->n_random && !have_count)
        return at(c, map, e, "'random' needs count: the number of draws");
    if (!s->n_random && have_count)
        return at(c, map, e, "'random' has a count but no keys to draw");
    if (!s->n_random)
        s->random_count = 0;
    return 0;
}

static int parse_seeds(const ctx *c, sweep_def *s, yaml_node_t *v, bdrl_err *e)
{
    int n = v->type == YAML_SEQUENCE_NODE ? (int)(v->data.sequence.items.top - v->data.sequence.items.start)
            : v->type == YAML_SCALAR_NODE ? 1
                                         : -1;
    if (n < 1)
        return at(c, v, e, "'seeds' needs a list of integers, e.g. [1, 2, 3]");
    s->seeds = calloc((size_t)n, sizeof *s->seeds);
    if (!s->seeds)
        return err_set(e, "out of memory");
    for (int i = 0; i < n; i++) {
        yaml_node_t *x = v->type == YAML_SCALAR_NODE ? v : node(c, v->data.sequence.items.start[i]);
        double d;
        if (scalar_real(c, x, &d, e))
            return -1;
        if (d != floor(d) || d < 0 || d > 9007199254740991.0)
            return at(c, x, e, "seed %s must be an integer >= 0", (char *)x->data.scalar.value);
        for (int j = 0; j < s->n_seeds; j++)
            if (s->seeds[j] == (int64_t)d)
                return at(c, x, e, "seed %lld is listed twice", (long long)d);
        s->seeds[s->n_seeds++] = (int64_t)d;
    }
    return 0;
}

static const char *scalar_of(const ctx *c, yaml_node_t *v, const char *key, bdrl_err *e)
{
    if (v->type != YAML_SCALAR_NODE || !*(const char *)v->data.scalar.value) {
        at(c, v, e, "'%s' needs a value", key);
        return NULL;
    }
    return (const char *)v->data.scalar.value;
}

/* A config path of `base:` (node v) resolved into out: as given when it
 * exists from the cwd (or is absolute), else relative to the sweep file's
 * directory. */
static int resolve_path(const ctx *c, const char *sweep_path, yaml_node_t *v, char *out, size_t n, bdrl_err *e)
{
    const char *b = scalar_of(c, v, "base", e);
    if (!b)
        return -1;
    if (b[0] == '/' || io_exists(b)) {
        if (snprintf(out, n, "%s", b) >= (int)n)
            return at(c, v, e, "base path too long");
        if (io_exists(out))
            return 0;
        return at(c, v, e, "base config '%s' not found", b);
    }
    const char *slash = strrchr(sweep_path, '/');
    if (slash) {
        int k = snprintf(out, n, "%.*s/%s", (int)(slash - sweep_path), sweep_path, b);
        if (k > 0 && (size_t)k < n && io_exists(out))
            return 0;
    }
    return at(c, v, e, "base config '%s' not found (looked relative to the current directory, then to the sweep "
                       "file's directory)", b);
}

/* A path's file name without .yaml or .yml. */
static void path_stem(const char *path, char *out, size_t n)
{
    const char *b = strrchr(path, '/');
    snprintf(out, n, "%s", b ? b + 1 : path);
    char *dot = strrchr(out, '.');
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml")))
        *dot = '\0';
}

/* One base (item v) into s->bases[s->n_bases]; its stem must be new, since
 * the stem is what the `config` parameter tells the runs apart by. */
static int add_base(const ctx *c, sweep_def *s, yaml_node_t *v, bdrl_err *e)
{
    char path[4096], stem[512];
    if (resolve_path(c, s->path, v, path, sizeof path, e))
        return -1;
    path_stem(path, stem, sizeof stem);
    for (int i = 0; i < s->n_bases; i++)
        if (!strcmp(s->bases[i].stem, stem))
            return at(c, v, e, "base '%s' has the stem '%s' of line %d's base: the config parameter could not tell "
                               "their runs apart (rename one file)", (const char *)v->data.scalar.value, stem,
                      s->bases[i].line);
    sweep_base *b = &s->bases[s->n_bases++]; /* counted first: sweep_def_free frees what was copied */
    b->line = (int)v->start_mark.line + 1;
    b->col = (int)v->start_mark.column + 1;
    if (!(b->path = xstrdup(path, e)) || !(b->stem = xstrdup(stem, e)))
        return -1;
    return 0;
}

/* base: PATH, or base: [PATH, ...] (which adds the `config` parameter). */
static int parse_bases(const ctx *c, sweep_def *s, yaml_node_t *v, bdrl_err *e)
{
    int n = 1;
    if (v->type == YAML_SEQUENCE_NODE) {
        n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (n < 1)
            return at(c, v, e, "'base' needs a config path or a list of them");
        s->base_list = 1;
    }
    if (!(s->bases = calloc((size_t)n, sizeof *s->bases)))
        return err_set(e, "out of memory");
    for (int i = 0; i < n; i++)
        if (add_base(c, s, s->base_list ? node(c, v->data.sequence.items.start[i]) : v, e))
            return -1;
    snprintf(s->base, sizeof s->base, "%s", s->bases[0].path);
    return 0;
}

/* YAML's null (`name:` with nothing, ~ or null): a variant of no overrides. */
static int is_null(const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    const char *t = (const char *)v->data.scalar.value;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null");
}

/* A variant's name is a value of the `variant` column and of file names:
 * letters, digits and _ . + - only. */
static int check_variant_name(const ctx *c, yaml_node_t *k, bdrl_err *e)
{
    const char *name = (const char *)k->data.scalar.value;
    if (!*name)
        return at(c, k, e, "a variant needs a name");
    for (const char *q = name; *q; q++)
        if (!isalnum((unsigned char)*q) && !strchr("_.+-", *q))
            return at(c, k, e, "variant name '%s': only letters, digits and _ . + - may be used", name);
    return 0;
}

/* variants: {NAME: {overrides}, ...}, in file order; after grid and random,
 * whose keys a variant may not set. */
static int parse_variants(ctx *c, sweep_def *s, yaml_node_t *map, bdrl_err *e)
{
    if (map->type != YAML_MAPPING_NODE || map->data.mapping.pairs.top == map->data.mapping.pairs.start)
        return at(c, map, e, "'variants' needs a mapping of names to overrides, e.g. {none: {}, n_step: "
                             "{agent.n_step: 3}}");
    if (check_dups(c, map, e))
        return -1;
    int n = (int)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    if (!(s->variants = calloc((size_t)n, sizeof *s->variants)))
        return err_set(e, "out of memory");
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        if (check_variant_name(c, k, e))
            return -1;
        sweep_variant *va = &s->variants[s->n_variants++];
        va->line = (int)k->start_mark.line + 1;
        va->col = (int)k->start_mark.column + 1;
        if (!(va->name = xstrdup((const char *)k->data.scalar.value, e)))
            return -1;
        overrides_dst d = {s, va->name, &va->sets, &va->n_sets};
        if (!is_null(v) && parse_overrides(c, &d, v, "", e))
            return -1;
    }
    return 0;
}

static void fmt_real(char *buf, size_t n, double v) { snprintf(buf, n, "%.6g", v); }

/* Grid points x random draws: the settings per (base, variant). */
static int count_points(const sweep_def *s, long long *draws, bdrl_err *e)
{
    long long gpoints = 1;
    for (int g = 0; g < s->n_grid; g++) {
        gpoints *= s->grid[g].n_values;
        if (gpoints > 1000000)
            return err_set(e, "%s: the grid has more than 1,000,000 points", s->path);
    }
    *draws = s->n_random ? s->random_count : 1;
    long long outer = (long long)s->n_bases * (s->n_variants ? s->n_variants : 1);
    if (gpoints * *draws * outer * s->n_seeds > 10000000)
        return err_set(e, "%s: more than 10,000,000 runs", s->path);
    return (int)(gpoints * *draws);
}

/* The parameters' names: config, variant (when they vary), grid keys, random keys. */
static int name_params(sweep_def *s, bdrl_err *e)
{
    s->n_meta = s->base_list + (s->n_variants > 0);
    s->n_params = s->n_meta + s->n_grid + s->n_random;
    s->param_names = calloc((size_t)(s->n_params ? s->n_params : 1), sizeof *s->param_names);
    if (!s->param_names)
        return err_set(e, "out of memory");
    int j = 0;
    if (s->base_list && !(s->param_names[j++] = xstrdup("config", e)))
        return -1;
    if (s->n_variants && !(s->param_names[j++] = xstrdup("variant", e)))
        return -1;
    for (int g = 0; g < s->n_grid; g++)
        if (!(s->param_names[j++] = xstrdup(s->grid[g].key, e)))
            return -1;
    for (int r = 0; r < s->n_random; r++)
        if (!(s->param_names[j++] = xstrdup(s->random[r].key, e)))
            return -1;
    return 0;
}

/* The random draws (draws x n_random texts, draw-major, file order), from
 * the sweep's own seed: the same file expands identically on every machine. */
static char **draw_random(const sweep_def *s, long long draws, bdrl_err *e)
{
    char **drawn = calloc((size_t)(draws * (s->n_random ? s->n_random : 1)), sizeof *drawn);
    rng *r = rng_create(s->random_seed, SWEEP_RNG_STREAM);
    if (!drawn || !r) {
        free(drawn);
        if (r)
            rng_free(r);
        err_set(e, "out of memory");
        return NULL;
    }
    int rc = 0;
    for (long long d = 0; d < draws && s->n_random && !rc; d++)
        for (int k = 0; k < s->n_random && !rc; k++) {
            const sweep_param *p = &s->random[k];
            char buf[4096];
            switch (p->dist) {
            case SWEEP_CHOICE:
                snprintf(buf, sizeof buf, "%s", p->values[rng_below(r, (unsigned long)p->n_values)]);
                break;
            case SWEEP_UNIFORM:
                fmt_real(buf, sizeof buf, p->a + (p->b - p->a) * rng_uniform(r));
                break;
            case SWEEP_UNIFORM_INT:
                snprintf(buf, sizeof buf, "%lld",
                         (long long)p->a + (long long)rng_below(r, (unsigned long)(p->b - p->a + 1)));
                break;
            case SWEEP_LOG_UNIFORM:
                fmt_real(buf, sizeof buf, exp(log(p->a) + (log(p->b) - log(p->a)) * rng_uniform(r)));
                break;
            }
            if (!(drawn[d * s->n_random + k] = strdup(buf)))
                rc = err_set(e, "out of memory");
        }
    rng_free(r);
    if (rc) {
        for (long long i = 0; i < draws * s->n_random; i++)
            free(drawn[i]);
        free(drawn);
        return NULL;
    }
    return drawn;
}

/* Setting st's values: its base's stem and variant's name when they vary,
 * then its grid point (the last grid key fastest) and its draw. */
static int fill_setting(sweep_def *s, int st, char *const *drawn, long long draws, bdrl_err *e)
{
    char **vals = calloc((size_t)(s->n_params ? s->n_params : 1), sizeof *vals);
    if (!(s->setting_values[st] = vals))
        return err_set(e, "out of memory");
    int j = 0, point = st % s->n_points;
    if (s->base_list)
        vals[j++] = strdup(s->bases[sweep_setting_base(s, st)].stem);
    if (s->n_variants)
        vals[j++] = strdup(s->variants[sweep_setting_variant(s, st)].name);
    long long rest = point / draws, di = point % draws;
    for (int g = s->n_grid - 1; g >= 0; g--) {
        int n = s->grid[g].n_values;
        vals[j + g] = strdup(s->grid[g].values[rest % n]);
        rest /= n;
    }
    j += s->n_grid;
    for (int k = 0; k < s->n_random; k++)
        vals[j + k] = strdup(drawn[di * s->n_random + k]);
    for (int k = 0; k < s->n_params; k++)
        if (!vals[k])
            return err_set(e, "out of memory");
    return 0;
}

/* Expands bases x variants x grid x random into settings (see sweep.h). */
static int expand(sweep_def *s, bdrl_err *e)
{
    long long draws = 1;
    int points = count_points(s, &draws, e);
    if (points < 0)
        return -1;
    s->n_points = points;
    s->n_settings = s->n_bases * (s->n_variants ? s->n_variants : 1) * points;
    s->setting_values = calloc((size_t)s->n_settings, sizeof *s->setting_values);
    s->total_steps = calloc((size_t)s->n_settings, sizeof *s->total_steps);
    if (!s->setting_values || !s->total_steps)
        return err_set(e, "out of memory");
    if (name_params(s, e))
        return -1;
    char **drawn = draw_random(s, draws, e);
    if (!drawn)
        return -1;
    int rc = 0;
    for (int st = 0; st < s->n_settings && !rc; st++)
        rc = fill_setting(s, st, drawn, draws, e);
    for (long long i = 0; i < draws * s->n_random; i++)
        free(drawn[i]);
    free(drawn);
    return rc;
}

void sweep_def_free(sweep_def *s)
{
    sweep_free_sets(s->set, s->n_set);
    for (int i = 0; s->bases && i < s->n_bases; i++) {
        free(s->bases[i].path);
        free(s->bases[i].stem);
    }
    free(s->bases);
    for (int i = 0; s->variants && i < s->n_variants; i++) {
        free(s->variants[i].name);
        sweep_free_sets(s->variants[i].sets, s->variants[i].n_sets);
    }
    free(s->variants);
    sweep_param *ps[2] = {s->grid, s->random};
    int ns[2] = {s->n_grid, s->n_random};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < ns[t]; i++) {
            free(ps[t][i].key);
            for (int j = 0; j < ps[t][i].n_values; j++)
                free(ps[t][i].values[j]);
            free(ps[t][i].values);
        }
    for (int i = 0; s->setting_values && i < s->n_settings; i++) {
        for (int j = 0; s->setting_values[i] && j < s->n_params; j++)
            free(s->setting_values[i][j]);
        free(s->setting_values[i]);
    }
    free(s->setting_values);
    for (int i = 0; s->param_names && i < s->n_params; i++)
        free(s->param_names[i]);
    free(s->param_names);
    free(s->seeds);
    free(s->total_steps);
    memset(s, 0, sizeof *s);
}

int sweep_n_runs(const sweep_def *s) { return s->n_settings * s->n_seeds; }

int sweep_setting_base(const sweep_def *s, int setting)
{
    return setting / (s->n_points * (s->n_variants ? s->n_variants : 1));
}

int sweep_setting_variant(const sweep_def *s, int setting)
{
    return s->n_variants ? setting / s->n_points % s->n_variants : -1;
}

const char *sweep_run_base(const sweep_def *s, int i) { return s->bases[sweep_setting_base(s, i / s->n_seeds)].path; }

int sweep_run_dir(const sweep_def *s, int i, char *buf, size_t n, bdrl_err *e)
{
    int k = snprintf(buf, n, "%s/runs/%04d_s%lld", s->out, i / s->n_seeds, (long long)s->seeds[i % s->n_seeds]);
    if (k < 0 || (size_t)k >= n)
        return err_set(e, "run directory path too long");
    return 0;
}

void sweep_free_sets(char **sets, int n_sets)
{
    for (int i = 0; sets && i < n_sets; i++)
        free(sets[i]);
    free(sets);
}

int sweep_run_sets(const sweep_def *s, int i, char ***sets, int *n_sets, bdrl_err *e)
{
    int st = i / s->n_seeds, vi = sweep_setting_variant(s, st);
    const sweep_variant *va = vi >= 0 ? &s->variants[vi] : NULL;
    int n = s->n_set + (va ? va->n_sets : 0) + s->n_params - s->n_meta + 1;
    char **v = calloc((size_t)n, sizeof *v);
    if (!v)
        return err_set(e, "out of memory");
    int k = 0;
    for (int j = 0; j < s->n_set; j++)
        v[k++] = strdup(s->set[j]);
    for (int j = 0; va && j < va->n_sets; j++)
        v[k++] = strdup(va->sets[j]);
    for (int j = s->n_meta; j < s->n_params; j++) { /* config and variant are no config keys */
        size_t len = strlen(s->param_names[j]) + strlen(s->setting_values[st][j]) + 2;
        if ((v[k] = malloc(len)))
            snprintf(v[k], len, "%s=%s", s->param_names[j], s->setting_values[st][j]);
        k++;
    }
    char seed[64];
    snprintf(seed, sizeof seed, "seed=%lld", (long long)s->seeds[i % s->n_seeds]);
    v[k++] = strdup(seed);
    for (int j = 0; j < n; j++)
        if (!v[j]) {
            sweep_free_sets(v, n);
            return err_set(e, "out of memory");
        }
    *sets = v;
    *n_sets = n;
    return 0;
}

int sweep_describe(const sweep_def *s, int i, char *buf, size_t n)
{
    int st = i / s->n_seeds;
    size_t k = (size_t)snprintf(buf, n, "%d\t%s/runs/%04d_s%lld\t", i, s->out, st, (long long)s->seeds[i % s->n_seeds]);
    for (int j = 0; j < s->n_params && k < n; j++)
        k += (size_t)snprintf(buf + k, n - k, "%s=%s ", s->param_names[j], s->setting_values[st][j]);
    if (k < n)
        k += (size_t)snprintf(buf + k, n - k, "seed=%lld", (long long)s->seeds[i % s->n_seeds]);
    return (int)k;
}

int sweep_run_config(const sweep_def *s, int i, void *cfg, bdrl_err *e)
{
    char **sets;
    int n;
    if (sweep_run_sets(s, i, &sets, &n, e))
        return -1;
    int rc = exp_load(cfg, sweep_run_base(s, i), sets, n, e);
    sweep_free_sets(sets, n);
    return rc;
}

/* Where the sweep file gives a setting what its base lacks, for a run that
 * does not resolve: its variant's line when the variant overrides anything,
 * else its base's line in a list of bases, else just the file. */
static void setting_origin(const sweep_def *s, int st, char *buf, size_t n)
{
    int vi = sweep_setting_variant(s, st);
    const sweep_base *b = &s->bases[sweep_setting_base(s, st)];
    if (vi >= 0 && s->variants[vi].n_sets > 0)
        snprintf(buf, n, "%s:%d:%d: variant '%s'%s%s%s", s->path, s->variants[vi].line, s->variants[vi].col,
                 s->variants[vi].name, s->base_list ? " of config '" : "", s->base_list ? b->stem : "",
                 s->base_list ? "'" : "");
    else if (s->base_list)
        snprintf(buf, n, "%s:%d:%d: base '%s'", s->path, b->line, b->col, b->stem);
    else
        snprintf(buf, n, "%s", s->path);
}

static void default_out(const char *path, char *out, size_t n)
{
    char st[512];
    path_stem(path, st, sizeof st);
    snprintf(out, n, "runs/sweeps/%s", st);
}

/* slurm: {partition: short, time: "01:00:00", extra: [--qos=low], ...} */
static int parse_slurm(ctx *c, sweep_def *s, yaml_node_t *map, bdrl_err *e)
{
    if (map->type != YAML_MAPPING_NODE)
        return at(c, map, e, "'slurm' must be a mapping of sbatch options (partition:, time:, cpus_per_task:, mem:, "
                             "account:, max_parallel:, requeue:, extra:)");
    if (check_dups(c, map, e))
        return -1;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
        const char *key = (const char *)k->data.scalar.value;
        bdrl_err e2;
        int is_extra = !strcmp(key, "extra");
        if (is_extra && v->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
                yaml_node_t *x = node(c, *it);
                if (!x || x->type != YAML_SCALAR_NODE)
                    return at(c, v, e, "slurm.extra: a list of sbatch options such as --qos=low");
                if (slurm_option_set(&s->slurm, key, (const char *)x->data.scalar.value, &e2))
                    return at(c, x, e, "%s", e2.msg);
            }
            continue;
        }
        if (v->type != YAML_SCALAR_NODE)
            return at(c, v, e, "slurm.%s: expected a single value", key);
        if (slurm_option_set(&s->slurm, key, (const char *)v->data.scalar.value, &e2))
            return at(c, strncmp(e2.msg, "unknown", 7) ? v : k, e, "%s", e2.msg);
    }
    return 0;
}

int sweep_load(const char *path, const char *out_override, sweep_def *s, bdrl_err *e)
{
    memset(s, 0, sizeof *s);
    slurm_options_init(&s->slurm);
    if (snprintf(s->path, sizeof s->path, "%s", path) >= (int)sizeof s->path)
        return err_set(e, "sweep file path too long");
    snprintf(s->metric, sizeof s->metric, "final_eval_return");
    s->maximize = -1;
    yaml_document_t doc;
    if (cfg_yaml_read(path, &doc, e))
        return -1;
    ctx c = {.path = path, .doc = &doc};
    int rc = -1;
    c.scratch_cfg = malloc(sizeof *c.scratch_cfg);
    if (!c.scratch_cfg) {
        err_set(e, "out of memory");
        yaml_document_delete(&doc);
        return -1;
    }
    memset(c.scratch_cfg, 0, sizeof *c.scratch_cfg);
    env_config_defaults(&c.scratch_cfg->env, "cartpole");
    if (cfg_loader_init(&c.scratch, &exp_schema, c.scratch_cfg, e)) {
        free(c.scratch_cfg);
        yaml_document_delete(&doc);
        return -1;
    }
    if (cfg_apply_defaults(&c.scratch, e))
        goto out;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        err_set(e, "%s: empty sweep file", path);
        goto out;
    }
    if (root->type != YAML_MAPPING_NODE) {
        at(&c, root, e, "the top level must be a mapping (base:, set:, grid:, random:, seeds:, metric:)");
        goto out;
    }
    if (check_dups(&c, root, e))
        goto out;
    yaml_node_t *base = NULL, *grid = NULL, *random = NULL, *setn = NULL, *seeds = NULL, *variants = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(&c, pr->key), *v = node(&c, pr->value);
        const char *key = (const char *)k->data.scalar.value;
        if (!strcmp(key, "base"))
            base = v;
        else if (!strcmp(key, "set"))
            setn = v;
        else if (!strcmp(key, "grid"))
            grid = v;
        else if (!strcmp(key, "random"))
            random = v;
        else if (!strcmp(key, "seeds"))
            seeds = v;
        else if (!strcmp(key, "variants"))
            variants = v;
        else if (!strcmp(key, "metric")) {
            const char *m = scalar_of(&c, v, "metric", e);
            if (!m)
                goto out;
            int ok = 0;
            for (int i = 0; sweep_metrics[i]; i++)
                ok |= !strcmp(sweep_metrics[i], m);
            if (!ok) {
                static cfg_key mk[16];
                int nm = 0;
                for (; sweep_metrics[nm]; nm++)
                    mk[nm] = (cfg_key){.name = sweep_metrics[nm]};
                cfg_schema ms = {"metric", mk, nm, NULL, 0};
                const char *sug = cfg_suggest(&ms, m);
                at(&c, v, e, "unknown metric '%s'%s%s%s (final_eval_return, best_eval_return, final_success_rate, "
                             "steps_to_threshold, auc, wall_seconds, sps)",
                   m, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
                goto out;
            }
            snprintf(s->metric, sizeof s->metric, "%s", m);
        } else if (!strcmp(key, "maximize")) {
            const char *m = scalar_of(&c, v, "maximize", e);
            if (!m)
                goto out;
            if (!strcmp(m, "true") || !strcmp(m, "yes"))
                s->maximize = 1;
            else if (!strcmp(m, "false") || !strcmp(m, "no"))
                s->maximize = 0;
            else {
                at(&c, v, e, "'maximize' must be true or false");
                goto out;
            }
        } else if (!strcmp(key, "slurm")) {
            if (parse_slurm(&c, s, v, e))
                goto out;
        } else if (!strcmp(key, "out")) {
            const char *o = scalar_of(&c, v, "out", e);
            if (!o)
                goto out;
            snprintf(s->out, sizeof s->out, "%s", o);
        } else {
            const char *sug = cfg_suggest(&top_schema, key);
            at(&c, k, e, "unknown key '%s'%s%s%s (a sweep has base, set, variants, grid, random, seeds, metric, maximize, "
                         "out, slurm)",
               key, sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
            goto out;
        }
    }
    if (!base) {
        at(&c, root, e, "missing required key 'base' (the config every run starts from)");
        goto out;
    }
    overrides_dst set_dst = {s, NULL, &s->set, &s->n_set};
    if (parse_bases(&c, s, base, e))
        goto out;
    if (setn && parse_overrides(&c, &set_dst, setn, "", e))
        goto out;
    if (grid && parse_grid(&c, s, grid, e))
        goto out;
    if (random && parse_random(&c, s, random, e))
        goto out;
    if (variants && parse_variants(&c, s, variants, e))
        goto out;
    if (seeds ? parse_seeds(&c, s, seeds, e) : 0)
        goto out;
    if (!seeds) {
        if (!(s->seeds = calloc(1, sizeof *s->seeds))) {
            err_set(e, "out of memory");
            goto out;
        }
        s->seeds[0] = 1;
        s->n_seeds = 1;
    }
    if (s->maximize < 0)
        s->maximize = sweep_metric_maximize(s->metric);
    if (out_override)
        snprintf(s->out, sizeof s->out, "%s", out_override);
    else if (!s->out[0])
        default_out(path, s->out, sizeof s->out);
    if (expand(s, e))
        goto out;
    /* Every run's configuration resolves (cross-key checks included). */
    for (int i = 0; i < sweep_n_runs(s); i++) {
        if (sweep_run_config(s, i, c.scratch_cfg, e) || exp_check(c.scratch_cfg, e)) {
            char d[2048];
            sweep_describe(s, i, d, sizeof d);
            char msg[1024], where[4600];
            snprintf(msg, sizeof msg, "%s", e->msg);
            setting_origin(s, i / s->n_seeds, where, sizeof where);
            err_set(e, "%s: run %s: %s", where, d, msg);
            goto out;
        }
        if (i % s->n_seeds == 0)
            s->total_steps[i / s->n_seeds] = c.scratch_cfg->train.total_steps;
    }
    rc = 0;
out:
    cfg_loader_free(&c.scratch);
    free(c.scratch_cfg);
    yaml_document_delete(&doc);
    if (rc)
        sweep_def_free(s);
    return rc;
}

/* ---------------- state and summary ---------------- */

/* sweep.json's bases, configs and variants, only where the sweep has them
 * (a sweep with neither keeps the file it always had). */
static int write_state_lists(const sweep_def *s, json_writer *w, bdrl_err *e)
{
    int n = s->n_bases > s->n_variants ? s->n_bases : s->n_variants;
    const char **v = calloc((size_t)n, sizeof *v);
    if (!v)
        return err_set(e, "out of memory");
    if (s->base_list) {
        for (int i = 0; i < s->n_bases; i++)
            v[i] = s->bases[i].path;
        json_kv_strs(w, "bases", v, s->n_bases);
        for (int i = 0; i < s->n_bases; i++)
            v[i] = s->bases[i].stem;
        json_kv_strs(w, "configs", v, s->n_bases);
    }
    for (int i = 0; i < s->n_variants; i++)
        v[i] = s->variants[i].name;
    if (s->n_variants)
        json_kv_strs(w, "variants", v, s->n_variants);
    free(v);
    return 0;
}

int sweep_write_state(const sweep_def *s, bdrl_err *e)
{
    char path[4200];
    if (io_mkdirs(s->out, e) || io_join(path, sizeof path, s->out, "sweep.json", e))
        return -1;
    io_atomic a;
    if (io_atomic_open(&a, path, e))
        return -1;
    json_writer w;
    json_init(&w, a.f);
    json_object_begin(&w);
    json_kv_str(&w, "sweep", s->path);
    json_kv_str(&w, "base", s->base);
    json_kv_str(&w, "metric", s->metric);
    json_kv_bool(&w, "maximize", s->maximize);
    json_kv_int(&w, "settings", s->n_settings);
    json_kv_int(&w, "runs", sweep_n_runs(s));
    json_key(&w, "seeds");
    json_array_begin(&w);
    for (int i = 0; i < s->n_seeds; i++)
        json_int(&w, (long long)s->seeds[i]);
    json_array_end(&w);
    json_kv_strs(&w, "params", (const char *const *)s->param_names, s->n_params);
    json_kv_strs(&w, "set", (const char *const *)s->set, s->n_set);
    if (write_state_lists(s, &w, e)) {
        io_atomic_abort(&a);
        return -1;
    }
    json_object_end(&w);
    fputc('\n', a.f);
    return io_atomic_commit(&a, e);
}

void sweep_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void sweep_csv_num(FILE *f, double v)
{
    if (isnan(v))
        return;
    if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", f);
    else
        fprintf(f, "%.10g", v);
}

#define N_RESULT_METRICS 7
static const char *const result_cols[N_RESULT_METRICS] = {"final_eval_return", "best_eval_return",
                                                         "final_success_rate", "steps_to_threshold",
                                                         "auc", "wall_seconds", "sps"};

/* One finished run's figures, in result_cols order. */
static int run_figures(const char *dir, int64_t total, double *v, char *status, size_t sn)
{
    rundir_summary s;
    if (rundir_read_summary(dir, &s, NULL))
        return 0;
    int ok = rundir_done(&s, total) || !strcmp(s.status, "diverged");
    if (!ok)
        return 0;
    snprintf(status, sn, "%s", s.status);
    v[0] = s.final_eval_return;
    v[1] = s.best_eval_return;
    v[2] = s.final_success_rate;
    /* unreached: infinitely many steps (a finished run that never got there) */
    v[3] = isnan(s.steps_to_threshold) && !strcmp(s.status, "finished") ? INFINITY : s.steps_to_threshold;
    v[4] = NAN;
    curves_run c;
    if (curves_read_eval(dir, &c, NULL) == 0) {
        double a;
        if (c.n == 1)
            v[4] = c.ret[0];
        else if (c.n > 1 && stat_auc(c.step, c.ret, c.n, &a, NULL) == 0)
            v[4] = a / (c.step[c.n - 1] - c.step[0]);
        curves_run_free(&c);
    }
    v[5] = s.wall_seconds;
    v[6] = s.sps;
    return 1;
}

void sweep_mean_ci(const double *x, int n, rng *r, double *mean, double *lo, double *hi)
{
    *mean = stat_mean(x, (size_t)n);
    rng_reseed(r, SWEEP_BOOT_SEED, 0);
    if (n == 1)
        *lo = *hi = *mean;
    else if (stat_bootstrap_mean_ci(x, (size_t)n, SWEEP_BOOT, 0.95, r, lo, hi, NULL))
        *lo = *hi = NAN;
}

typedef struct {
    int setting, n, n_finite;
    double mean, lo, hi;
} setting_rank;

static int metric_index(const char *m)
{
    for (int i = 0; i < N_RESULT_METRICS; i++)
        if (!strcmp(result_cols[i], m))
            return i;
    return 0;
}

static int g_maximize;
static int cmp_rank(const void *pa, const void *pb)
{
    const setting_rank *a = pa, *b = pb;
    int ha = a->n_finite > 0 || isinf(a->mean), hb = b->n_finite > 0 || isinf(b->mean);
    if (ha != hb)
        return hb - ha;
    if (ha && a->mean != b->mean) {
        int less = a->mean < b->mean;
        return g_maximize ? (less ? 1 : -1) : (less ? -1 : 1);
    }
    return a->setting - b->setting;
}

static void fmt_v(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, "–");
    else if (isinf(v))
        snprintf(b, n, "not reached");
    else
        snprintf(b, n, "%.4g", v);
}

/* variants.md and variants.csv from the runs' figures (vals, R x
 * N_RESULT_METRICS) of metric mi. */
static int write_variants(const sweep_def *s, const double *vals, const unsigned char *have, int mi, bdrl_err *e)
{
    int R = sweep_n_runs(s);
    double *m = calloc((size_t)R, sizeof *m);
    if (!m)
        return err_set(e, "out of memory");
    for (int i = 0; i < R; i++)
        m[i] = vals[(size_t)i * N_RESULT_METRICS + mi];
    int rc = sweep_variants_write(s, m, have, e);
    free(m);
    return rc;
}

int sweep_summarize(const sweep_def *s, int *n_done, char *warn, size_t warn_n, bdrl_err *e)
{
    int R = sweep_n_runs(s), S = s->n_settings, mi = metric_index(s->metric);
    double *vals = calloc((size_t)R * N_RESULT_METRICS, sizeof *vals);
    char (*status)[32] = calloc((size_t)R, sizeof *status);
    unsigned char *have = calloc((size_t)R, 1);
    setting_rank *rk = calloc((size_t)S, sizeof *rk);
    double *buf = calloc((size_t)s->n_seeds, sizeof *buf);
    rng *r = rng_create(SWEEP_BOOT_SEED, 0);
    int rc = -1, done = 0;
    if (warn && warn_n)
        warn[0] = '\0';
    if (!vals || !status || !have || !rk || !buf || !r) {
        err_set(e, "out of memory");
        goto out;
    }
    for (int i = 0; i < R; i++) {
        char dir[4200];
        if (sweep_run_dir(s, i, dir, sizeof dir, e))
            goto out;
        have[i] = (unsigned char)run_figures(dir, s->total_steps[i / s->n_seeds], vals + (size_t)i * N_RESULT_METRICS,
                                             status[i], sizeof status[i]);
        done += have[i];
    }
    /* results.csv: rebuilt whole from the run directories */
    char path[4200];
    io_atomic a;
    if (io_join(path, sizeof path, s->out, "results.csv", e) || io_atomic_open(&a, path, e))
        goto out;
    fprintf(a.f, "run,setting,seed");
    for (int j = 0; j < s->n_params; j++) {
        fputc(',', a.f);
        sweep_csv_field(a.f, s->param_names[j]);
    }
    fprintf(a.f, ",status");
    for (int k = 0; k < N_RESULT_METRICS; k++)
        fprintf(a.f, ",%s", result_cols[k]);
    fprintf(a.f, ",dir\n");
    for (int i = 0; i < R; i++) {
        if (!have[i])
            continue;
        int st = i / s->n_seeds;
        fprintf(a.f, "%d,%d,%lld", i, st, (long long)s->seeds[i % s->n_seeds]);
        for (int j = 0; j < s->n_params; j++) {
            fputc(',', a.f);
            sweep_csv_field(a.f, s->setting_values[st][j]);
        }
        fprintf(a.f, ",%s", status[i]);
        for (int k = 0; k < N_RESULT_METRICS; k++) {
            fputc(',', a.f);
            sweep_csv_num(a.f, vals[(size_t)i * N_RESULT_METRICS + k]);
        }
        char dir[4200];
        sweep_run_dir(s, i, dir, sizeof dir, NULL);
        fputc(',', a.f);
        sweep_csv_field(a.f, dir);
        fputc('\n', a.f);
    }
    if (io_atomic_commit(&a, e))
        goto out;

    /* ranking */
    for (int st = 0; st < S; st++) {
        setting_rank *x = &rk[st];
        x->setting = st;
        x->mean = x->lo = x->hi = NAN;
        int n = 0, ninf = 0;
        for (int k = 0; k < s->n_seeds; k++) {
            int i = st * s->n_seeds + k;
            if (!have[i])
                continue;
            x->n++;
            double v = vals[(size_t)i * N_RESULT_METRICS + mi];
            if (isinf(v))
                ninf++;
            else if (isfinite(v))
                buf[n++] = v;
        }
        x->n_finite = n;
        if (ninf)
            x->mean = INFINITY; /* some seed never reached the threshold */
        else if (n > 0)
            sweep_mean_ci(buf, n, r, &x->mean, &x->lo, &x->hi);
    }
    g_maximize = s->maximize;
    qsort(rk, (size_t)S, sizeof *rk, cmp_rank);

    /* summary.md */
    if (io_join(path, sizeof path, s->out, "summary.md", e) || io_atomic_open(&a, path, e))
        goto out;
    FILE *f = a.f;
    fprintf(f, "# Sweep `%s`\n\n", s->path);
    fprintf(f, "Base config%s `%s`", s->base_list && s->n_bases > 1 ? "s" : "", s->base);
    for (int i = 1; i < s->n_bases; i++)
        fprintf(f, ", `%s`", s->bases[i].path);
    if (s->n_set) {
        fprintf(f, ", with");
        for (int i = 0; i < s->n_set; i++)
            fprintf(f, " `%s`", s->set[i]);
    }
    fprintf(f, ". %d settings x %d seeds = %d runs; %d finished.\n\n", S, s->n_seeds, R, done);
    fprintf(f, "Ranked by `%s` (%s is better): mean over seeds and 95%% percentile bootstrap interval "
               "(%d resamples).%s\n\n",
            s->metric, s->maximize ? "higher" : "lower", SWEEP_BOOT,
            mi == 3 ? " A seed that never reached the threshold makes the mean \"not reached\"." : "");
    const setting_rank *best = S > 0 && (rk[0].n_finite > 0 || isinf(rk[0].mean)) ? &rk[0] : NULL;
    if (best) {
        fprintf(f, "**Best: setting %d** (", best->setting);
        for (int j = 0; j < s->n_params; j++)
            fprintf(f, "%s`%s = %s`", j ? ", " : "", s->param_names[j], s->setting_values[best->setting][j]);
        char m[64], lo[64], hi[64];
        fmt_v(m, sizeof m, best->mean);
        fmt_v(lo, sizeof lo, best->lo);
        fmt_v(hi, sizeof hi, best->hi);
        fprintf(f, "%s): %s = %s [%s, %s] over %d seeds.\n\n", s->n_params ? "" : "no swept keys", s->metric, m, lo,
                hi, best->n);
    } else {
        fprintf(f, "No setting has a finished run yet.\n\n");
    }
    fprintf(f, "| rank | setting |");
    for (int j = 0; j < s->n_params; j++)
        fprintf(f, " `%s` |", s->param_names[j]);
    fprintf(f, " seeds done | %s mean | 95%% interval |\n| ---: | ---: |", s->metric);
    for (int j = 0; j < s->n_params; j++)
        fprintf(f, " ---: |");
    fprintf(f, " ---: | ---: | ---: |\n");
    for (int q = 0; q < S; q++) {
        const setting_rank *x = &rk[q];
        fprintf(f, "| %d | %d |", q + 1, x->setting);
        for (int j = 0; j < s->n_params; j++)
            fprintf(f, " %s |", s->setting_values[x->setting][j]);
        char m[64], lo[64], hi[64];
        fmt_v(m, sizeof m, x->mean);
        fmt_v(lo, sizeof lo, x->lo);
        fmt_v(hi, sizeof hi, x->hi);
        fprintf(f, " %d/%d | %s | [%s, %s] |\n", x->n, s->n_seeds, m, lo, hi);
    }
    if (s->n_params) {
        fprintf(f, "\n");
        for (int j = 0; j < s->n_params; j++) {
            char safe[256];
            snprintf(safe, sizeof safe, "%s", s->param_names[j]);
            fprintf(f, "![%s against %s](plots/%s.png)\n", s->metric, s->param_names[j], safe);
        }
    }
    if (s->n_variants)
        fprintf(f, "\nPer variant and config: [variants.md](variants.md).\n");
    if (io_atomic_commit(&a, e))
        goto out;

    /* summary.json */
    if (io_join(path, sizeof path, s->out, "summary.json", e) || io_atomic_open(&a, path, e))
        goto out;
    json_writer w;
    json_init(&w, a.f);
    json_object_begin(&w);
    json_kv_str(&w, "metric", s->metric);
    json_kv_bool(&w, "maximize", s->maximize);
    json_kv_int(&w, "runs", R);
    json_kv_int(&w, "finished", done);
    if (best)
        json_kv_int(&w, "best_setting", best->setting);
    else
        json_kv_num(&w, "best_setting", NAN);
    json_key(&w, "ranking");
    json_array_begin(&w);
    for (int q = 0; q < S; q++) {
        const setting_rank *x = &rk[q];
        json_object_begin(&w);
        json_kv_int(&w, "rank", q + 1);
        json_kv_int(&w, "setting", x->setting);
        json_key(&w, "params");
        json_object_begin(&w);
        for (int j = 0; j < s->n_params; j++)
            json_kv_str(&w, s->param_names[j], s->setting_values[x->setting][j]);
        json_object_end(&w);
        json_kv_int(&w, "seeds_done", x->n);
        if (isinf(x->mean))
            json_kv_str(&w, "mean", "not reached");
        else
            json_kv_num(&w, "mean", x->mean);
        json_kv_num(&w, "ci95_lo", x->lo);
        json_kv_num(&w, "ci95_hi", x->hi);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_object_end(&w);
    fputc('\n', a.f);
    if (io_atomic_commit(&a, e))
        goto out;
    if (s->n_variants && write_variants(s, vals, have, mi, e))
        goto out;
    if (s->n_params && done > 0) {
        bdrl_err pe;
        if (sweep_plot_dir(s->out, &pe) && warn)
            snprintf(warn, warn_n, "%s", pe.msg);
    }
    if (n_done)
        *n_done = done;
    rc = 0;
out:
    free(vals);
    free(status);
    free(have);
    free(rk);
    free(buf);
    if (r)
        rng_free(r);
    return rc;
}

/* ---------------- plots ---------------- */

/* Splits one CSV line (quotes allowed) into at most max fields, in place. */
static int csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *w = p, *start = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p)
                    break;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n')
                *w++ = *p++;
        }
        int end = *p != ',';
        *w = '\0';
        fields[n++] = start;
        if (end)
            break;
        p++;
    }
    return n;
}

int sweep_is_number(const char *t, double *v)
{
    char *end;
    if (!*t)
        return 0;
    *v = strtod(t, &end);
    return !*end && isfinite(*v);
}

void sweep_csv_free(sweep_csv *t)
{
    for (int i = 0; t->rows && i < t->n_rows; i++)
        free(t->rows[i]);
    free(t->rows);
    free(t->n_fields);
    free(t->text);
    memset(t, 0, sizeof *t);
}

int sweep_csv_read(const char *path, sweep_csv *t, bdrl_err *e)
{
    memset(t, 0, sizeof *t);
    if (!(t->text = io_read_file(path, NULL, e)))
        return -1;
    int lines = 0;
    for (const char *q = t->text; *q; q++)
        lines += *q == '\n';
    t->rows = calloc((size_t)lines + 1, sizeof *t->rows);
    t->n_fields = calloc((size_t)lines + 1, sizeof *t->n_fields);
    if (!t->rows || !t->n_fields) {
        sweep_csv_free(t);
        return err_set(e, "out of memory");
    }
    char *save = NULL, *ln = strtok_r(t->text, "\n", &save);
    if (!ln) {
        sweep_csv_free(t);
        return err_set(e, "%s: empty", path);
    }
    t->n_cols = csv_split(ln, t->hdr, SWEEP_CSV_MAX_COLS);
    while ((ln = strtok_r(NULL, "\n", &save))) {
        if (!(t->rows[t->n_rows] = calloc(SWEEP_CSV_MAX_COLS, sizeof **t->rows))) {
            sweep_csv_free(t);
            return err_set(e, "out of memory");
        }
        t->n_fields[t->n_rows] = csv_split(ln, t->rows[t->n_rows], SWEEP_CSV_MAX_COLS);
        t->n_rows++;
    }
    return 0;
}

int sweep_csv_col(const sweep_csv *t, const char *name)
{
    for (int i = 0; i < t->n_cols; i++)
        if (!strcmp(t->hdr[i], name))
            return i;
    return -1;
}

/* One swept parameter's values over the rows of results.csv: the distinct
 * ones in order of appearance (numeric when every one is a number), each
 * row's index among them (-1: a row too short), the metric's sum and count
 * per value. */
typedef struct {
    int nv, numeric, logx;
    const char **vals;
    double *sum;
    int *cnt, *vi;
} param_values;

static void param_values_free(param_values *pv)
{
    free(pv->vals);
    free(pv->sum);
    free(pv->cnt);
    free(pv->vi);
}

static int param_values_of(const sweep_csv *t, int c, int c_metric, param_values *pv, bdrl_err *err)
{
    size_t m = (size_t)(t->n_rows ? t->n_rows : 1);
    memset(pv, 0, sizeof *pv);
    pv->numeric = 1;
    pv->vals = calloc(m, sizeof *pv->vals);
    pv->sum = calloc(m, sizeof *pv->sum);
    pv->cnt = calloc(m, sizeof *pv->cnt);
    pv->vi = calloc(m, sizeof *pv->vi);
    if (!pv->vals || !pv->sum || !pv->cnt || !pv->vi) {
        param_values_free(pv);
        return err_set(err, "out of memory");
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < t->n_rows; i++) {
        pv->vi[i] = -1;
        if (t->n_fields[i] <= c_metric)
            continue;
        const char *v = t->rows[i][c];
        int k;
        for (k = 0; k < pv->nv && strcmp(pv->vals[k], v); k++)
            ;
        if (k == pv->nv)
            pv->vals[pv->nv++] = v;
        pv->vi[i] = k;
        double x;
        if (!sweep_is_number(v, &x))
            pv->numeric = 0;
        else {
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        double y;
        if (sweep_is_number(t->rows[i][c_metric], &y)) {
            pv->sum[k] += y;
            pv->cnt[k]++;
        }
    }
    pv->logx = pv->numeric && lo > 0 && hi / lo >= 30;
    return 0;
}

/* prefix.dat: one point per run (x y), then the mean per value in order of x
 * (numeric) or of appearance (categorical), with the value as a label. */
static int write_param_dat(const char *dat, const sweep_csv *t, int c, int c_metric, const char *metric,
                           const param_values *pv, bdrl_err *err)
{
    io_atomic a;
    if (io_atomic_open(&a, dat, err))
        return -1;
    fprintf(a.f, "# %s against %s: one point per run (x y), then the mean per value (x mean)\n", metric, t->hdr[c]);
    for (int i = 0; i < t->n_rows; i++) {
        double x = pv->vi[i], y;
        if (pv->vi[i] < 0 || !sweep_is_number(t->rows[i][c_metric], &y))
            continue;
        if (pv->numeric && !sweep_is_number(t->rows[i][c], &x))
            x = pv->vi[i];
        fprintf(a.f, "%.10g %.10g\n", x, y);
    }
    fprintf(a.f, "\n\n# means\n");
    int nv = pv->nv;
    int *ord = calloc((size_t)(nv ? nv : 1), sizeof *ord);
    double *xv = calloc((size_t)(nv ? nv : 1), sizeof *xv);
    for (int k = 0; ord && xv && k < nv; k++) {
        double x = k;
        if (pv->numeric && !sweep_is_number(pv->vals[k], &x))
            x = k;
        xv[k] = x;
        int j = k;
        while (j > 0 && pv->numeric && xv[ord[j - 1]] > x) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = k;
    }
    for (int q = 0; ord && xv && q < nv; q++) {
        int k = ord[q];
        if (!pv->cnt[k])
            continue;
        fprintf(a.f, "%.10g %.10g \"", xv[k], pv->sum[k] / pv->cnt[k]);
        for (const char *s = pv->vals[k]; *s; s++)
            if (*s != '"')
                fputc(*s, a.f);
        fprintf(a.f, "\"\n");
    }
    free(ord);
    free(xv);
    return io_atomic_commit(&a, err);
}

/* prefix.gp: the parameter, metric and axis kind for plots/sweep.gp, and
 * the load of it when run on its own. */
static int write_param_gp(const char *prefix, const char *key, const char *metric, const param_values *pv,
                          bdrl_err *err)
{
    char png[4700], gp[4700], dat[4700];
    snprintf(png, sizeof png, "%s.png", prefix);
    snprintf(gp, sizeof gp, "%s.gp", prefix);
    snprintf(dat, sizeof dat, "%s.dat", prefix);
    io_atomic a;
    if (io_atomic_open(&a, gp, err))
        return -1;
    fprintf(a.f, "# %s against %s, written by bdrl sweep. Redraw with: gnuplot %s\nparam = ", metric, key, gp);
    plot_write_quoted(a.f, key);
    fprintf(a.f, "\nmetric = ");
    plot_write_quoted(a.f, metric);
    fprintf(a.f, "\ncategorical = %d\nlogx = %d\ndatafile = ", !pv->numeric, pv->logx);
    plot_write_quoted(a.f, dat);
    fprintf(a.f, "\nif (!exists(\"dir\")) {\n  dir = ");
    plot_write_quoted(a.f, prefix);
    fprintf(a.f, "; out = ");
    plot_write_quoted(a.f, png);
    fprintf(a.f, "; term = 'png'; ttl = ''\n  load ");
    char script[PATH_MAX];
    if (plot_find_script("sweep.gp", script, sizeof script, NULL))
        snprintf(script, sizeof script, "sweep.gp");
    plot_write_quoted(a.f, script);
    fprintf(a.f, "\n}\n");
    return io_atomic_commit(&a, err);
}

/* plots/<key>.png and .svg: the metric against results.csv's column c. */
static int plot_param(const char *plots, const sweep_csv *t, int c, int c_metric, const char *metric, bdrl_err *err)
{
    const char *key = t->hdr[c];
    param_values pv;
    if (param_values_of(t, c, c_metric, &pv, err))
        return -1;
    int finite = 0;
    for (int k = 0; k < pv.nv; k++)
        finite += pv.cnt[k];
    if (!finite) { /* every run's metric infinite (never reached) or missing: no point to draw */
        param_values_free(&pv);
        return 0;
    }
    char prefix[4600], png[4700], dat[4700], safe[256];
    snprintf(safe, sizeof safe, "%s", key);
    for (char *q = safe; *q; q++)
        if (*q == '/' || *q == ' ')
            *q = '_';
    snprintf(prefix, sizeof prefix, "%s/%s", plots, safe);
    snprintf(png, sizeof png, "%s.png", prefix);
    snprintf(dat, sizeof dat, "%s.dat", prefix);
    char title[600];
    snprintf(title, sizeof title, "%s against %s", metric, key);
    int rc = write_param_dat(dat, t, c, c_metric, metric, &pv, err) || write_param_gp(prefix, key, metric, &pv, err) ||
                     plot_gnuplot("sweep.gp", prefix, png, title, err)
                 ? -1
                 : 0;
    param_values_free(&pv);
    return rc;
}

int sweep_plot_dir(const char *sweep_dir, bdrl_err *err)
{
    char path[4200], metric[64] = "final_eval_return";
    if (io_join(path, sizeof path, sweep_dir, "sweep.json", err))
        return -1;
    char *js = io_read_file(path, NULL, NULL);
    if (js) {
        rundir_json_str(js, "metric", metric, sizeof metric);
        free(js);
    }
    sweep_csv t;
    if (io_join(path, sizeof path, sweep_dir, "results.csv", err) || sweep_csv_read(path, &t, err))
        return -1;
    int c_seed = -1, c_status = -1, c_metric = -1;
    for (int i = 0; i < t.n_cols; i++) {
        if (!strcmp(t.hdr[i], "seed") && c_seed < 0)
            c_seed = i;
        else if (!strcmp(t.hdr[i], "status") && c_seed >= 0 && c_status < 0)
            c_status = i;
        else if (!strcmp(t.hdr[i], metric) && c_status >= 0)
            c_metric = i;
    }
    int rc = -1;
    char plots[4200];
    if (c_seed < 0 || c_status < 0 || c_metric < 0)
        err_set(err, "%s: not a sweep's results.csv (no seed, status or %s column)", path, metric);
    else if (io_join(plots, sizeof plots, sweep_dir, "plots", err) || io_mkdirs(plots, err))
        ;
    else {
        /* every figure is tried; the first failure is the error */
        bdrl_err e2;
        rc = 0;
        for (int c = c_seed + 1; c < c_status; c++)
            if (plot_param(plots, &t, c, c_metric, metric, rc ? &e2 : err))
                rc = -1;
        if (io_join(path, sizeof path, sweep_dir, "variants.csv", &e2) == 0 && io_exists(path) &&
            sweep_variants_plot(sweep_dir, &t, c_metric, metric, rc ? &e2 : err))
            rc = -1;
    }
    sweep_csv_free(&t);
    return rc;
}

/* ---------------- status ---------------- */

int sweep_status_of(const sweep_def *s, const char *queue, sweep_status *st, unsigned char *states, bdrl_err *e)
{
    int R = sweep_n_runs(s), mi = metric_index(s->metric);
    memset(st, 0, sizeof *st);
    st->best_setting = -1;
    st->best_mean = NAN;
    double *sum = calloc((size_t)s->n_settings, sizeof *sum);
    int *cnt = calloc((size_t)s->n_settings, sizeof *cnt);
    if (!sum || !cnt) {
        free(sum);
        free(cnt);
        return err_set(e, "out of memory");
    }
    double wall_done = 0, run_left = 0;
    int n_wall = 0;
    for (int i = 0; i < R; i++) {
        char dir[4200], status[32];
        int set = i / s->n_seeds;
        double v[N_RESULT_METRICS];
        rundir_summary su;
        if (sweep_run_dir(s, i, dir, sizeof dir, e)) {
            free(sum);
            free(cnt);
            return -1;
        }
        int state = rundir_state(dir, s->total_steps[set], queue ? queue[i] : 0, &su);
        if ((state == RUNDIR_FINISHED || state == RUNDIR_DIVERGED) &&
            run_figures(dir, s->total_steps[set], v, status, sizeof status)) {
            if (state == RUNDIR_FINISHED && !isnan(v[mi])) {
                sum[set] += v[mi];
                cnt[set]++;
            }
            if (isfinite(su.wall_seconds)) {
                wall_done += su.wall_seconds;
                n_wall++;
            }
        } else if (state == RUNDIR_RUNNING && su.sps > 0 && su.total_steps >= 0) {
            run_left += (double)(s->total_steps[set] - su.total_steps) / su.sps;
        }
        st->n[state]++;
        if (states)
            states[i] = (unsigned char)state;
    }
    for (int k = 0; k < s->n_settings; k++) {
        if (!cnt[k])
            continue;
        double m = sum[k] / cnt[k];
        if (st->best_setting < 0 || (s->maximize ? m > st->best_mean : m < st->best_mean)) {
            st->best_setting = k;
            st->best_mean = m;
            st->best_n = cnt[k];
        }
    }
    /* work left: what running runs still have to do at their own speed, and
     * a finished run's mean wall time for every pending one */
    st->work_left_s = st->n[RUNDIR_PENDING] == 0 ? run_left
                      : n_wall > 0                ? run_left + st->n[RUNDIR_PENDING] * (wall_done / n_wall)
                                                  : NAN;
    free(sum);
    free(cnt);
    return 0;
}
