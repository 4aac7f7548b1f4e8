#include "experiment.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define OFF(field) offsetof(exp_config, field)
#define NO_LO (-INFINITY)
#define NO_HI INFINITY

/* env.map: "4x4", "8x8", "random", or a list of rows like ["SFFF", "FHFH", ...]. */
static int parse_map(const cfg_key *k, const cfg_value *v, void *field, bd_err *e)
{
    env_config *c = field;
    if (!v->is_seq) {
        const char *s = v->scalar;
        if (strcmp(s, "4x4") && strcmp(s, "8x8") && strcmp(s, "random"))
            return err_set(e, "'%s' must be 4x4, 8x8, random or a list of rows of S/F/H/G, got '%s'",
                           k->name, s);
        snprintf(c->map_name, sizeof c->map_name, "%s", s);
        return 0;
    }
    if (v->n_items < 1 || v->n_items > ENV_MAP_MAX)
        return err_set(e, "'%s' needs 1 to %d rows, got %d", k->name, ENV_MAP_MAX, v->n_items);
    size_t w = strlen(v->items[0]);
    for (int i = 0; i < v->n_items; i++) {
        size_t len = strlen(v->items[i]);
        if (len != w)
            return err_set(e, "'%s': row %d has %zu cells, row 1 has %zu (maps are rectangular)",
                           k->name, i + 1, len, w);
        if (len < 1 || len > ENV_MAP_MAX)
            return err_set(e, "'%s': rows need 1 to %d cells", k->name, ENV_MAP_MAX);
        for (size_t j = 0; j < len; j++)
            if (!strchr("SFHG", v->items[i][j]))
                return err_set(e, "'%s': row %d has '%c'; cells are S, F, H or G", k->name, i + 1,
                               v->items[i][j]);
        memcpy(c->rows[i], v->items[i], len + 1);
    }
    c->nrow = v->n_items;
    c->ncol = (int)w;
    snprintf(c->map_name, sizeof c->map_name, "custom");
    return 0;
}

static void print_map(const cfg_key *k, const void *field, FILE *f, int indent)
{
    (void)k;
    const env_config *c = field;
    if (strcmp(c->map_name, "custom")) {
        fputs(c->map_name, f);
        return;
    }
    for (int i = 0; i < c->nrow; i++)
        fprintf(f, "\n%*s- %s", indent, "", c->rows[i]);
}

#define MAXI 9007199254740991.0 /* 2^53 - 1: every integer a double holds */

static const cfg_key keys[] = {
    CFG_I64_KEY("seed", OFF(seed), "1", 0, MAXI,
                "seeds everything stochastic in the run (environment, init, exploration, replay)"),

    CFG_CHOICE_KEY("env.name", OFF(env.kind), NULL, "cartpole|frozenlake",
                   "environment: CartPole-v1 or FrozenLake-v1 semantics"),
    CFG_INT_KEY("env.max_episode_steps", OFF(env.max_episode_steps), "0", 0, 1e9,
                "time limit (truncation); 0 = Gymnasium's (CartPole 500, FrozenLake 4x4 100, 8x8 200)"),
    CFG_CHOICE_KEY("env.integrator", OFF(env.semi_implicit), "euler", "euler|semi_implicit",
                   "CartPole kinematics integrator"),
    CFG_BOOL_KEY("env.sutton_barto_reward", OFF(env.sutton_barto_reward), "false",
                 "CartPole: reward 0 per step and -1 on termination"),
    CFG_CUSTOM_KEY("env.map", OFF(env), "4x4", "map", parse_map, print_map,
                   "FrozenLake map: 4x4, 8x8, random, or a list of rows of S/F/H/G"),
    CFG_BOOL_KEY("env.slippery", OFF(env.slippery), "true",
                 "FrozenLake is_slippery: the intended move succeeds with env.success_rate"),
    CFG_REAL_KEY("env.success_rate", OFF(env.success_rate), "0.3333333333333333", 0, 1,
                 "FrozenLake: probability of the intended direction when slippery"),
    CFG_REAL_KEY("env.reward_goal", OFF(env.reward_goal), "1.0", NO_LO, NO_HI, "FrozenLake reward for entering G"),
    CFG_REAL_KEY("env.reward_hole", OFF(env.reward_hole), "0.0", NO_LO, NO_HI, "FrozenLake reward for entering H"),
    CFG_REAL_KEY("env.reward_frozen", OFF(env.reward_frozen), "0.0", NO_LO, NO_HI,
                 "FrozenLake reward for any other step"),
    CFG_INT_KEY("env.map_size", OFF(map_size), "8", 2, ENV_MAP_MAX, "FrozenLake random maps: side length"),
    CFG_REAL_KEY("env.frozen_prob", OFF(env.frozen_prob), "0.8", 0.01, 1,
                 "FrozenLake random maps: probability that a cell is frozen (F)"),
    CFG_I64_KEY("env.map_seed", OFF(map_seed), "-1", -1, MAXI,
                "FrozenLake random maps: generator seed; -1 = the run's seed"),

    CFG_CHOICE_KEY("agent.kind", OFF(agent.kind), "bd", "bd|c51",
                   "distribution model: Bellman Diffusion fields or the C51 histogram"),
    CFG_REAL_KEY("agent.gamma", OFF(agent.gamma), "0.99", 0, 1, "discount factor"),

    CFG_I64_KEY("train.total_steps", OFF(train.total_steps), "100000", 1, 1e12,
                "environment steps of training"),
    CFG_INT_KEY("train.batch_size", OFF(train.batch_size), "64", 1, 65536, "transitions per gradient update"),

    CFG_I64_KEY("eval.interval", OFF(eval.interval), "5000", 1, 1e12, "environment steps between evaluations"),
    CFG_INT_KEY("eval.episodes", OFF(eval.episodes), "20", 1, 1000000, "greedy episodes per evaluation"),

    CFG_STR_KEY("output.dir", OFF(output.dir), sizeof(((exp_config *)0)->output.dir), "runs",
                "directory under which each run's directory is created"),
};

const cfg_schema exp_schema = {"experiment", keys, (int)(sizeof keys / sizeof keys[0])};

int exp_load(exp_config *cfg, const char *path, char *const *sets, int n_sets, bd_err *e)
{
    memset(cfg, 0, sizeof *cfg);
    env_config_defaults(&cfg->env, ENV_CARTPOLE);
    if (cfg_resolve(&exp_schema, cfg, path, sets, n_sets, e))
        return -1;
    if (!strcmp(cfg->env.map_name, "random")) {
        cfg->env.nrow = cfg->env.ncol = cfg->map_size;
        cfg->env.map_seed = (uint64_t)(cfg->map_seed < 0 ? cfg->seed : cfg->map_seed);
    }
    return 0;
}
