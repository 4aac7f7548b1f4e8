/* experiment.h — the configuration of one training run (`bdrl train`,
 * `bdrl env`, sweeps): the typed struct and its schema (keys, defaults,
 * ranges, help). The schema is the single source of the configuration
 * reference (`bdrl config --schema`). Later agent sections add keys here.
 */
#ifndef BDRL_EXPERIMENT_H
#define BDRL_EXPERIMENT_H

#include <stdint.h>

#include "core/cfg.h"
#include "envs/env.h"

typedef enum { AGENT_BD = 0, AGENT_C51 = 1 } agent_kind;

typedef struct {
    int64_t seed;
    env_config env;        /* env.*; map rows and kind are filled by the schema */
    int map_size;          /* env.map_size (random maps) */
    int64_t map_seed;      /* env.map_seed; -1 = use `seed` */
    struct {
        int kind;          /* agent_kind */
        double gamma;
    } agent;
    struct {
        int64_t total_steps;
        int batch_size;
    } train;
    struct {
        int64_t interval;
        int episodes;
    } eval;
    struct {
        char dir[1024];
    } output;
} exp_config;

extern const cfg_schema exp_schema;

/* Defaults, then the YAML file (may be NULL), then the overrides, then the
 * cross-key checks; fills cfg->env completely (random map size and seed). */
int exp_load(exp_config *cfg, const char *path, char *const *sets, int n_sets, bd_err *e);

#endif
