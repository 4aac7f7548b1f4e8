#include "experiment.h"

#include "agents/registry.h"
#include "stats/risk.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OFF(field) offsetof(exp_config, field)
#define NO_LO (-INFINITY)
#define NO_HI INFINITY

/* env.map: "4x4", "8x8", "random", or a list of rows like ["SFFF", "FHFH", ...]. */
static int parse_map(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
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

/* env.name: a name in the environment registry (src/envs/env.c). */
static int parse_env_name(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
{
    if (v->is_seq || !v->scalar || !*v->scalar)
        return err_set(e, "'%s' expects an environment name (bdrl env list)", k->name);
    int kind = env_kind_by_name(v->scalar);
    if (kind < 0) {
        char list[512] = "";
        for (int i = 0; i < ENV_N_KINDS; i++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", i ? "," : "", env_kind_describe(i)->name);
        }
        return err_set(e, "'%s' must be one of {%s}, got '%s'", k->name, list, v->scalar);
    }
    *(env_kind *)field = kind;
    return 0;
}

static void print_env_name(const cfg_key *k, const void *field, FILE *f, int indent)
{
    (void)k;
    (void)indent;
    const env_kind_info *in = env_kind_describe(*(const env_kind *)field);
    fputs(in ? in->name : "?", f);
}

/* env.slippery: a bool, or "default" (-1): the environment's own, which
 * exp_load resolves (env_config_resolve: Gymnasium's FrozenLake true,
 * CliffWalking false). */
static int parse_slippery(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
{
    if (!v->is_seq && v->scalar && !strcmp(v->scalar, "default")) {
        *(int *)field = -1;
        return 0;
    }
    if (v->is_seq || !v->scalar || cfg_parse_bool(v->scalar, (int *)field))
        return err_set(e, "'%s' expects true or false (or default: the environment's own), got '%s'", k->name,
                       v->is_seq || !v->scalar ? "a list" : v->scalar);
    return 0;
}

static void print_slippery(const cfg_key *k, const void *field, FILE *f, int indent)
{
    (void)k;
    (void)indent;
    int v = *(const int *)field;
    fputs(v < 0 ? "default" : v ? "true" : "false", f);
}

/* agent.risk: a measure as `bdrl truth --risk` spells it (risk.h's parser). */
static int parse_risk(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
{
    if (v->is_seq || v->is_map || !v->scalar)
        return err_set(e, "'%s' expects a measure like mean, cvar:0.1 or wang:-0.75", k->name);
    bdrl_err pe = {0};
    if (risk_spec_parse(v->scalar, field, &pe))
        return err_set(e, "'%s': %s", k->name, pe.msg);
    return 0;
}

static void print_risk(const cfg_key *k, const void *field, FILE *f, int indent)
{
    (void)k;
    (void)indent;
    char buf[64];
    risk_spec_format(field, buf, sizeof buf);
    fputs(buf, f);
}

/* env.params: the one free-form mapping, handed to a plugin as strings. A
 * mapping merges into the entries already there (the file's, then each
 * --set's): a key given again replaces its entry, a new key is appended. */
static int parse_params(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
{
    env_config *c = field;
    if (v->is_seq || (!v->is_map && v->scalar && *v->scalar))
        return err_set(e, "'%s' expects a mapping of keys to values, like {length: 4, p_risky: 0.6}", k->name);
    int n = v->is_map ? v->n_items : 0;
    env_config merged = *c;
    for (int i = 0; i < n; i++) {
        const char *key = v->items[2 * i], *val = v->items[2 * i + 1];
        size_t kl = strlen(key);
        if (kl < 1 || kl >= ENV_PARAM_KEY_MAX || strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                "0123456789_-") != kl)
            return err_set(e, "'%s': key '%s' must be 1 to %d letters, digits, _ or -", k->name, key,
                           ENV_PARAM_KEY_MAX - 1);
        if (strlen(val) >= ENV_PARAM_VALUE_MAX)
            return err_set(e, "'%s.%s' is longer than %d characters", k->name, key, ENV_PARAM_VALUE_MAX - 1);
        for (int j = 0; j < i; j++)
            if (!strcmp(v->items[2 * j], key))
                return err_set(e, "'%s': duplicate key '%s'", k->name, key);
        int at = 0;
        while (at < merged.n_params && strcmp(merged.param_key[at], key))
            at++;
        if (at == ENV_PARAMS_MAX)
            return err_set(e, "'%s' would hold more than %d entries", k->name, ENV_PARAMS_MAX);
        snprintf(merged.param_key[at], ENV_PARAM_KEY_MAX, "%s", key);
        snprintf(merged.param_value[at], ENV_PARAM_VALUE_MAX, "%s", val);
        if (at == merged.n_params)
            merged.n_params++;
    }
    *c = merged;
    return 0;
}

static void print_params(const cfg_key *k, const void *field, FILE *f, int indent)
{
    (void)k;
    (void)indent;
    const env_config *c = field;
    fputc('{', f);
    for (int i = 0; i < c->n_params; i++) {
        fprintf(f, "%s%s: \"", i ? ", " : "", c->param_key[i]);
        for (const char *p = c->param_value[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                fputc('\\', f);
            fputc(*p, f);
        }
        fputc('"', f);
    }
    fputc('}', f);
}

/* env.python_path: a list of directories for a Python environment. */
static int parse_python_path(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
{
    env_config *c = field;
    if (!v->is_seq)
        return err_set(e, "'%s' expects a list of directories like [envs, ../lib]", k->name);
    if (v->n_items > ENV_PYTHON_PATH_MAX)
        return err_set(e, "'%s' holds %d directories; at most %d", k->name, v->n_items, ENV_PYTHON_PATH_MAX);
    for (int i = 0; i < v->n_items; i++) {
        size_t n = strlen(v->items[i]);
        if (n < 1 || n >= ENV_PLUGIN_PATH_MAX)
            return err_set(e, "'%s': entry %d must be 1 to %d characters", k->name, i, ENV_PLUGIN_PATH_MAX - 1);
        memcpy(c->python_path[i], v->items[i], n + 1);
    }
    c->n_python_path = v->n_items;
    return 0;
}

static void print_python_path(const cfg_key *k, const void *field, FILE *f, int indent)
{
    (void)k;
    (void)indent;
    const env_config *c = field;
    fputc('[', f);
    for (int i = 0; i < c->n_python_path; i++) {
        fputs(i ? ", \"" : "\"", f);
        for (const char *p = c->python_path[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                fputc('\\', f);
            fputc(*p, f);
        }
        fputc('"', f);
    }
    fputc(']', f);
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

/* The items of a list into w: integers in [1, hi], each a `what`. */
static int parse_counts(const cfg_key *k, const cfg_value *v, exp_widths *w, long hi, const char *what, bdrl_err *e)
{
    for (int i = 0; i < v->n_items; i++) {
        char *end;
        long x = strtol(v->items[i], &end, 10);
        if (!*v->items[i] || *end || x < 1 || x > hi)
            return err_set(e, "'%s': '%s' is not a %s in [1, %ld]", k->name, v->items[i], what, hi);
        w->w[i] = (int)x;
    }
    w->n = v->n_items;
    return 0;
}

/* agent.hidden, bd.head: a list of layer widths like [120, 84]. */
static int parse_widths(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
{
    if (!v->is_seq)
        return err_set(e, "'%s' expects a list of layer widths like [64, 64]", k->name);
    if (v->n_items < 1 || v->n_items > EXP_MAX_HIDDEN)
        return err_set(e, "'%s' needs 1 to %d widths, got %d", k->name, EXP_MAX_HIDDEN, v->n_items);
    return parse_counts(k, v, field, 8192, "width", e);
}

/* agent.conv: a list of channel counts like [16], possibly empty. */
static int parse_channels(const cfg_key *k, const cfg_value *v, void *field, bdrl_err *e)
{
    if (!v->is_seq)
        return err_set(e, "'%s' expects a list of channel counts like [16] ([] = no conv layers)", k->name);
    if (v->n_items > EXP_MAX_CONV)
        return err_set(e, "'%s' holds %d layers; at most %d", k->name, v->n_items, EXP_MAX_CONV);
    return parse_counts(k, v, field, 4096, "channel count", e);
}

static void print_widths(const cfg_key *k, const void *field, FILE *f, int indent)
{
    (void)k;
    (void)indent;
    const exp_widths *w = field;
    fputc('[', f);
    for (int i = 0; i < w->n; i++)
        fprintf(f, "%s%d", i ? ", " : "", w->w[i]);
    fputc(']', f);
}

#define MAXI 9007199254740991.0 /* 2^53 - 1: every integer a double holds */

static const cfg_key keys[] = {
    CFG_I64_KEY("seed", OFF(seed), "1", 0, MAXI,
                "seeds everything stochastic in the run (environment, init, exploration, replay)"),

    CFG_CUSTOM_KEY("env.name", OFF(env.kind), NULL, "env", parse_env_name, print_env_name,
                   "environment: a name from `bdrl env list` (the built-in ones have Gymnasium's or MinAtar 1.0.15's "
                   "semantics), or plugin (env.plugin), or python (env.python)"),
    CFG_STR_KEY("env.plugin", OFF(env.plugin), sizeof(((exp_config *)0)->env.plugin), "\"\"",
                "env.name plugin: path of the shared object implementing bdrl/env_plugin.h; a relative "
                "path is relative to the working directory and is resolved to an absolute one when "
                "the configuration is loaded, so a run's config.yaml works from anywhere"),
    CFG_STR_KEY("env.plugin_given", OFF(env.plugin_given), sizeof(((exp_config *)0)->env.plugin_given), "\"\"",
                "env.plugin as it was written, kept for messages when bdrl made it absolute (set by bdrl)"),
    {.name = "env.params", .type = CFG_CUSTOM, .offset = OFF(env), .def = "{}", .type_name = "mapping",
     .parse = parse_params, .print = print_params, .map_ok = 1,
     .help = "env.name plugin and python: free-form keys and values handed to the plugin as strings, to a Python environment as keyword arguments (the one mapping "
             "whose keys are not checked here); a mapping merges into the entries already there (a key "
             "given again replaces its entry), and --set env.params.KEY=VALUE sets one entry"},
    CFG_STR_KEY("env.python", OFF(env.python), sizeof(((exp_config *)0)->env.python), "\"\"",
                "env.name python: FILE.py:CLASS, MODULE:CLASS (on env.python_path) or gymnasium:ID, a "
                "Gymnasium-style environment run by embedded Python; env.params are its keyword arguments "
                "(integers, floats, true/false by their form, else strings)"),
    CFG_CUSTOM_KEY("env.python_path", OFF(env), "[]", "list", parse_python_path, print_python_path,
                   "env.name python: directories searched for env.python's file or module, before the "
                   "working directory"),
    CFG_INT_KEY("env.max_episode_steps", OFF(env.max_episode_steps), "0", 0, 1e9,
                "time limit (truncation); 0 = Gymnasium's (CartPole 500, FrozenLake 4x4 100, 8x8 200, "
                "Acrobot 500, MountainCar 200, CliffWalking none: training needs one set), and for the "
                "MinAtar games, which have none, 10000"),
    CFG_CHOICE_KEY("env.integrator", OFF(env.semi_implicit), "euler", "euler|semi_implicit",
                   "CartPole kinematics integrator"),
    CFG_BOOL_KEY("env.sutton_barto_reward", OFF(env.sutton_barto_reward), "false",
                 "CartPole: reward 0 per step and -1 on termination"),
    CFG_CUSTOM_KEY("env.map", OFF(env), "4x4", "map", parse_map, print_map,
                   "FrozenLake map: 4x4, 8x8, random, or a list of rows of S/F/H/G"),
    CFG_CUSTOM_KEY("env.slippery", OFF(env.slippery), "default", "boolean", parse_slippery, print_slippery,
                   "FrozenLake and CliffWalking is_slippery (FrozenLake: the intended move succeeds with "
                   "env.success_rate; CliffWalking: it and the two perpendicular moves 1/3 each); default = "
                   "Gymnasium's: FrozenLake true, CliffWalking false"),
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
    CFG_REAL_KEY("env.sticky_action_prob", OFF(env.sticky_action_prob), "0.1", 0, 1,
                 "MinAtar: probability that a step repeats the previous action instead of the one given "
                 "(drawn on every step, as MinAtar does)"),
    CFG_BOOL_KEY("env.difficulty_ramping", OFF(env.difficulty_ramping), "true",
                 "MinAtar: Asterix, Seaquest and Space Invaders speed up as they go (Breakout and Freeway do "
                 "not ramp)"),
    CFG_BOOL_KEY("env.minimal_actions", OFF(env.minimal_actions), "true",
                 "MinAtar: the agent's actions are the game's minimal action set (MinAtar/NAME-v1); false: "
                 "all 6 (noop, left, up, right, down, fire; -v0)"),

    CFG_CHOICE_KEY("agent.kind", OFF(agent.kind), "bd", AGENT_KIND_CHOICES, agent_kind_help),
    CFG_REAL_KEY("agent.gamma", OFF(agent.gamma), "0.99", 0, 1, "discount factor"),
    CFG_CHOICE_KEY("agent.mode", OFF(agent.mode), "control", "control|evaluate",
                   "control: bootstrap from argmax_a Q(s', a); evaluate: from a' ~ agent.policy, "
                   "behaving ε-greedily around it (agent.behaviour_eps) so that every action's "
                   "distribution is learned"),
    CFG_CHOICE_KEY("agent.policy", OFF(agent.policy), "optimal", "optimal",
                   "evaluate mode: the fixed policy (optimal = value iteration on the environment's transition "
                   "table: FrozenLake, or a plugin that exports bdrl_env_transitions)"),
    CFG_REAL_KEY("agent.behaviour_eps", OFF(agent.behaviour_eps), "1.0", 0, 1,
                 "evaluate mode: the data are collected ε-greedily around agent.policy with this ε "
                 "(1 = uniformly random actions; below 1 the policy's own states are visited more "
                 "and the replay's empirical transition table is closer to the true one)"),
    CFG_CUSTOM_KEY("agent.conv", OFF(agent.conv), "[]", "channels", parse_channels, print_widths,
                   "image observations (MinAtar): output channels of convolution layers in front of the torso's "
                   "agent.hidden layers (agent.conv_kernel square kernels, stride 1, no padding, "
                   "agent.activation; their output flattened), e.g. [16]; [] = none"),
    CFG_INT_KEY("agent.conv_kernel", OFF(agent.conv_kernel), "3", 1, 16,
                "side k of the k x k kernels of every agent.conv layer"),
    CFG_CUSTOM_KEY("agent.hidden", OFF(agent.hidden), "[64, 64]", "widths", parse_widths, print_widths,
                   "hidden widths of the state torso, shared by every agent (after agent.conv's, if any)"),
    CFG_CHOICE_KEY("agent.activation", OFF(agent.activation), "relu", "linear|tanh|silu|softplus|relu",
                   "torso activation"),
    CFG_REAL_KEY("agent.lr", OFF(agent.lr), "0.001", 1e-9, 10, "Adam learning rate"),
    CFG_REAL_KEY("agent.adam_eps", OFF(agent.adam_eps), "1e-8", 0, 1, "Adam epsilon"),
    CFG_REAL_KEY("agent.v_min", OFF(agent.v_min), "0.0", NO_LO, NO_HI, "lowest return of the support"),
    CFG_REAL_KEY("agent.v_max", OFF(agent.v_max), "1.0", NO_LO, NO_HI, "highest return of the support"),
    CFG_REAL_KEY("agent.eps_kernel", OFF(agent.eps_kernel), "0.001", 1e-9, 1,
                 "BD grid: kernel variance ε in normalized return units (u in [-1, 1]; basis fields split "
                 "targets onto their bumps and have no kernel)"),

    CFG_REAL_KEY("agent.ema", OFF(agent.ema), "0.0", 0, 0.999999,
                 "decay d of a moving average of the online weights (avg <- d avg + (1-d) online after "
                 "every update) from which the reported return distributions are read (dist, eval, "
                 "sample, plot); acting and targets keep the online and target networks; 0 = off"),
    CFG_CUSTOM_KEY("agent.risk", OFF(agent.risk), "mean", "measure", parse_risk, print_risk,
                   "the risk measure that ranks actions when acting (the greedy part of ε-greedy) and in "
                   "greedy evaluation: mean, cvar:α (mean of the lowest α), var:α, wang:η, cpw:η or pow:η "
                   "(stats/risk.h), computed from each agent's own law; mean = Q; needs a law (not dqn)"),
    CFG_BOOL_KEY("agent.risk_target", OFF(agent.risk_target), "false",
                 "also pick a* = argmax_a ρ(Z(s', a)) by agent.risk in the Bellman target (control mode; "
                 "false: a* maximizes the mean, the laws are those of the risk-greedy behaviour only "
                 "through the data)"),
    CFG_INT_KEY("agent.n_step", OFF(agent.n_step), "1", 1, 100,
                "N-step returns: the target of (s_t, a_t) is r_t + γ r_t+1 + ... + γ^(N-1) r_t+N-1 + γ^N Z(s_t+N), "
                "cut at a termination (no bootstrap) or a truncation (bootstrap from the last state); 1 = one-step"),
    CFG_BOOL_KEY("agent.double", OFF(agent.double_q), "false",
                 "double Q-learning: the target's a* = argmax of the online network at s' (its law or value "
                 "then read from the target network)"),
    CFG_BOOL_KEY("agent.dueling", OFF(agent.dueling), "false",
                 "dueling head: the output layer is a value stream and an advantage stream off the last hidden "
                 "layer, out(a) = V + A(a) - mean_a A per atom (C51: on the logits), quantile (QR-DQN), τ row "
                 "(IQN) or basis coefficient (BD) (Wang et al. 2016; Rainbow for distributional heads); not for "
                 "bd.field grid"),
    CFG_BOOL_KEY("agent.noisy", OFF(agent.noisy), "false",
                 "noisy nets: every dense layer of the torso and head is a factorised Gaussian noisy layer "
                 "(Fortunato et al. 2018; conv layers and IQN's τ embedding stay plain), the online noise "
                 "redrawn at every environment step and before every update, the target's independently before "
                 "every update; exploration by the noise replaces ε-greedy (ε = 0, train.eps_* unused); greedy "
                 "evaluation and eval/dist/plot/render use the mean weights; not for bd.field grid"),
    CFG_REAL_KEY("agent.noisy_sigma0", OFF(agent.noisy_sigma0), "0.5", 0, 10,
                 "noisy nets: initial σ of the noise, σ0/sqrt(fan_in) per weight"),

    CFG_INT_KEY("c51.atoms", OFF(c51.atoms), "51", 2, 10001, "C51: atoms on [v_min, v_max]"),

    CFG_CHOICE_KEY("dqn.loss", OFF(dqn.loss), "huber", "huber|mse",
                   "DQN: loss of the TD error δ = Q(s, a) - y: huber = δ²/2 for |δ| <= 1, |δ| - 1/2 beyond "
                   "(Dopamine, κ = 1); mse = δ² (CleanRL's dqn.py)"),

    CFG_INT_KEY("qrdqn.quantiles", OFF(qrdqn.quantiles), "51", 1, 10001,
                "QR-DQN: quantiles N per action, at the midpoints (2i - 1)/2N (51: the width of C51's head "
                "in the twins; the paper used 200 on Atari)"),
    CFG_REAL_KEY("qrdqn.kappa", OFF(qrdqn.kappa), "1.0", 0, 1e6,
                 "QR-DQN: threshold κ of the quantile Huber loss (0 = the plain quantile loss)"),

    CFG_INT_KEY("iqn.n", OFF(iqn.n), "64", 1, 4096, "IQN: sampled τ per transition for the online quantiles (N)"),
    CFG_INT_KEY("iqn.n_prime", OFF(iqn.n_prime), "64", 1, 4096,
                "IQN: sampled τ' per transition for the target quantiles (N')"),
    CFG_INT_KEY("iqn.k", OFF(iqn.k), "32", 1, 4096,
                "IQN: τ per state for Q = mean of the quantiles: sampled for the target's argmax a*, "
                "the fixed midpoints (2k - 1)/2K for acting and evaluation (deterministic)"),
    CFG_INT_KEY("iqn.embedding", OFF(iqn.embedding), "64", 1, 4096,
                "IQN: cosine features cos(π i τ), i = 0..n-1, of each τ"),
    CFG_REAL_KEY("iqn.kappa", OFF(iqn.kappa), "1.0", 0, 1e6,
                 "IQN: threshold κ of the quantile Huber loss (0 = the plain quantile loss)"),
    CFG_INT_KEY("iqn.law_points", OFF(iqn.law_points), "100", 1, 100000,
                "IQN: the reported return law (dist, eval, plot) is the quantile function at this many "
                "midpoints τ = (2i - 1)/2n, as equally weighted atoms"),

    CFG_CHOICE_KEY("bd.field", OFF(bd.field), "basis", "basis|grid",
                   "BD: form of the two fields in u: basis = s(u) = Σ_k w_k N(u; μ_k, σ²) and "
                   "g(u) = Σ_k d_k N'(u; μ_k, σ²), the coefficients a linear layer on the torso "
                   "(docs/basis.md): mass, Q and targets in closed form, no grid (every shipped config); "
                   "grid = docs/design.md §1.4's recipe, a light MLP head on [state embedding, Fourier features "
                   "of u] read on the bd.grid points (the reference, about a tenth of the speed)"),
    CFG_INT_KEY("bd.basis", OFF(bd.basis), "51", 3, 10001,
                "BD basis: number K of Gaussian bumps, centres evenly spaced over u in [-1, 1] (like C51's atoms)"),
    CFG_REAL_KEY("bd.basis_width", OFF(bd.basis_width), "1.0", 0.25, 4,
                 "BD basis: bump standard deviation σ in units of the centres' spacing"),
    CFG_CHOICE_KEY("bd.readout", OFF(bd.readout), "atoms", "atoms|density",
                   "BD basis: the reported law: atoms = the coefficients' law Σ_k w_k δ(μ_k) / Σ w (the field "
                   "with its known bump width σ removed); density = the field s on the bd.grid points"),
    CFG_INT_KEY("bd.grid", OFF(bd.grid), "64", 8, 100000, "BD: points over u in [-1-m, 1+m]: grid fields read Q values and laws on them; basis "
                "fields, the density readout and the sampler's grid start"),
    CFG_INT_KEY("bd.query_grid", OFF(bd.query_grid), "0", 0, 100000,
                "BD grid: points of the coarser grid on which the target density at (s, a) is read to draw "
                "query points (any law that ignores s' is unbiased; a coarse one is cheaper); 0 or more "
                "than bd.grid = bd.grid"),
    CFG_REAL_KEY("bd.grid_margin", OFF(bd.grid_margin), "0.25", 0, 10,
                 "BD: the fields live on u in [-1-m, 1+m] (the grid's range; the sampler's box)"),
    CFG_INT_KEY("bd.fourier_k", OFF(bd.fourier_k), "16", 0, 256, "BD grid: Fourier frequencies of u in the head"),
    CFG_CUSTOM_KEY("bd.head", OFF(bd.head), "[64, 64]", "widths", parse_widths, print_widths,
                   "BD grid: hidden widths of the light head on [state embedding, features(u)]"),
    CFG_INT_KEY("bd.queries", OFF(bd.queries), "16", 1, 4096, "BD grid: query points per transition"),
    CFG_REAL_KEY("bd.query_uniform", OFF(bd.query_uniform), "0.5", 0, 1,
                 "BD grid: share of query points uniform over the grid range (the rest from the target "
                 "net's own density at (s, a))"),
    CFG_CHOICE_KEY("bd.target_mode", OFF(bd.target_mode), "fields", "fields|samples",
                   "BD grid: regress onto the linear Bellman operator of the target fields, or onto kernels "
                   "around target return samples"),
    CFG_REAL_KEY("bd.lambda_grad", OFF(bd.lambda_grad), "1.0", 0, 1e6,
                 "BD: weight of the gradient-field regression"),
    CFG_REAL_KEY("bd.mass_floor", OFF(bd.mass_floor), "0.1", 1e-6, 1,
                 "BD: the next-state field is divided by its mass, clamped below at this"),
    CFG_CHOICE_KEY("bd.grad_target", OFF(bd.grad_target), "scalar", "gradient|scalar",
                   "BD grid: the gradient field's bootstrapped target is the u-derivative of the target "
                   "scalar field (central difference), or the target gradient field g(w) as docs/design.md "
                   "wrote it (unstable where episodes rarely end: g grew 40x too large on CartPole)"),
    CFG_CHOICE_KEY("bd.scalar_output", OFF(bd.scalar_output), "linear", "linear|relu|softplus",
                   "BD grid: output activation of the scalar field's head: linear (the density is read as "
                   "max(s, 0), so zero-mean noise where the density is 0 becomes positive mass), or relu / "
                   "softplus (s >= 0 by construction)"),
    CFG_BOOL_KEY("bd.clamp_target", OFF(bd.clamp_target), "true",
                 "BD grid: build targets from max(s, 0) of the next-state field instead of the signed field "
                 "(clamping biases the noise upward and the bias compounds through bootstrapping)"),
    CFG_REAL_KEY("bd.jitter", OFF(bd.jitter), "0.0", 0, 1,
                 "BD grid: variance of a jitter of the target's argument (deterministic environments "
                 "without terminations need it, e.g. 2e-4 on CartPole)"),
    CFG_REAL_KEY("bd.out_scale", OFF(bd.out_scale), "0.0", 0, 1e6,
                 "BD grid: scale of the network outputs; 0 = 0.25/sqrt(2π ε)"),

    CFG_BOOL_KEY("replay.prioritized", OFF(replay.prioritized), "false",
                 "proportional prioritized replay (Schaul et al. 2016): draw transition i with probability "
                 "p_i^α / Σ p^α, p_i = the agent's own loss on it + replay.eps (new ones get the largest p so "
                 "far), and weight its loss by (N P(i))^-β over the batch's largest such weight; false = uniform"),
    CFG_REAL_KEY("replay.alpha", OFF(replay.alpha), "0.5", 0, 10, "prioritized replay: priority exponent α"),
    CFG_REAL_KEY("replay.beta", OFF(replay.beta), "0.4", 0, 1,
                 "prioritized replay: importance-weight exponent β at the start, annealed linearly to 1 "
                 "over replay.beta_steps"),
    CFG_I64_KEY("replay.beta_steps", OFF(replay.beta_steps), "0", 0, EXP_MAX_TOTAL_STEPS,
                "prioritized replay: steps over which β reaches 1; 0 = train.total_steps, recorded in the "
                "run's config.yaml when it starts"),
    CFG_REAL_KEY("replay.eps", OFF(replay.eps), "1e-6", 0, 1, "prioritized replay: p_i = loss_i + eps"),
    CFG_I64_KEY("train.total_steps", OFF(train.total_steps), "100000", 1, EXP_MAX_TOTAL_STEPS,
                "environment steps of training"),
    CFG_INT_KEY("train.batch_size", OFF(train.batch_size), "64", 1, 65536, "transitions per gradient update"),
    CFG_I64_KEY("train.buffer_size", OFF(train.buffer_size), "100000", 1, EXP_MAX_BUFFER_SIZE,
                "replay buffer capacity"),
    CFG_I64_KEY("train.learning_starts", OFF(train.learning_starts), "1000", 0, 1e12,
                "environment steps before the first update"),
    CFG_INT_KEY("train.train_frequency", OFF(train.train_frequency), "1", 1, 1000000,
                "environment steps per gradient update"),
    CFG_INT_KEY("train.gradient_steps", OFF(train.gradient_steps), "1", 1, 1000000,
                "gradient updates in a row at each update step (every train_frequency steps), as "
                "Stable-Baselines3's gradient_steps; the target network moves only on its own schedule"),
    CFG_I64_KEY("train.target_update", OFF(train.target_update), "100", 1, 1e12,
                "environment steps between target-network updates"),
    CFG_REAL_KEY("train.tau", OFF(train.tau), "1.0", 1e-6, 1,
                 "target update: target <- (1 - tau) target + tau online; 1 = hard copy"),
    CFG_REAL_KEY("train.eps_start", OFF(train.eps_start), "1.0", 0, 1, "exploration ε at the start"),
    CFG_REAL_KEY("train.eps_end", OFF(train.eps_end), "0.05", 0, 1, "exploration ε after the decay"),
    CFG_REAL_KEY("train.eps_fraction", OFF(train.eps_fraction), "0.5", 0, 1,
                 "share of total_steps over which ε decays linearly"),
    CFG_I64_KEY("train.eps_decay_steps", OFF(train.eps_decay_steps), "0", 0, EXP_MAX_TOTAL_STEPS,
                "steps over which ε decays linearly; 0 = eps_fraction x total_steps, recorded in the run's "
                "config.yaml when it starts (a larger total_steps on resume keeps it)"),
    CFG_REAL_KEY("train.clip", OFF(train.clip), "10.0", 0, 1e9, "gradient-norm clip; 0 = off"),
    CFG_I64_KEY("train.checkpoint_interval", OFF(train.checkpoint_interval), "0", 0, 1e12,
                "environment steps between checkpoints; 0 = only at the end"),
    CFG_I64_KEY("train.checkpoint_seconds", OFF(train.checkpoint_seconds), "300", 0, 1e9,
                "also a checkpoint whenever this many seconds of wall time have passed since the last "
                "one, so a kill (preemption) loses at most that; 0 = off"),
    CFG_CHOICE_KEY("train.nonfinite", OFF(train.nonfinite), "stop", "stop|skip",
                   "a NaN/Inf loss, gradient norm or parameter after an update: stop the run with an "
                   "error (the last checkpoint stays intact), or skip = undo that update and count it"),

    CFG_I64_KEY("eval.interval", OFF(eval.interval), "5000", 1, 1e12, "environment steps between evaluations"),
    CFG_INT_KEY("eval.episodes", OFF(eval.episodes), "20", 1, 1000000, "greedy episodes per evaluation"),
    CFG_REAL_KEY("eval.epsilon", OFF(eval.epsilon), "0", 0, 1,
                 "evaluation episodes act ε-greedily: at each step a uniformly random action with this "
                 "probability (drawn from each episode's own stream, so results do not depend on how "
                 "episodes are batched); 0 = greedy. Dopamine evaluates Atari and MinAtar agents with "
                 "0.001, which keeps a greedy policy from stalling"),
    CFG_REAL_KEY("eval.threshold", OFF(eval.threshold), "-1e300", NO_LO, NO_HI,
                 "return_mean (CartPole, Acrobot, MountainCar, plugins) or success rate (FrozenLake) that "
                 "counts as solved; -1e300 = the environment's default (Gymnasium's reward_threshold: 475, "
                 "-100, -110; FrozenLake 0.7; plugins have none: no steps to threshold unless set)"),
    CFG_BOOL_KEY("eval.stop_at_threshold", OFF(eval.stop_at_threshold), "false",
                 "end the run at its first evaluation at or above eval.threshold (status solved, with a "
                 "checkpoint): measures steps to threshold cheaply, but final and best returns then say "
                 "nothing about what would have followed"),
    CFG_INT_KEY("eval.sample_walkers", OFF(eval.sample_walkers), "1000", 10, 1000000,
                "BD: Bellman Diffusion samples per (state, action) when bdrl eval scores samples"),

    CFG_STR_KEY("output.dir", OFF(output.dir), sizeof(((exp_config *)0)->output.dir), "runs",
                "directory under which each run's directory is created"),
};

/* Keys removed from the schema that older run directories still carry. */
static const cfg_retired retired[] = {
    {"bd.basis_loss", "projected",
     "removed (its closed and queries forms were never shipped; docs/basis.md names the last commit with them)"},
};

const cfg_schema exp_schema = {"experiment", keys, (int)(sizeof keys / sizeof keys[0]), retired,
                               (int)(sizeof retired / sizeof retired[0])};

double exp_threshold(const exp_config *cfg)
{
    if (cfg->eval.threshold > -1e299)
        return cfg->eval.threshold;
    return env_kind_describe(cfg->env.kind)->default_threshold;
}

/* A relative env.plugin made absolute (from the working directory, as dlopen
 * would read it now), so that a run's config.yaml loads the same file from
 * any directory (eval, dist, plot, --resume); the path as written goes to
 * env.plugin_given. A file that is not there keeps its name made absolute:
 * loading it fails later with a message naming it. */
static int resolve_plugin_path(env_config *c, const char *src, bdrl_err *e)
{
    if (!c->plugin[0] || c->plugin[0] == '/')
        return 0;
    char abs[PATH_MAX], cwd[PATH_MAX];
    if (!realpath(c->plugin, abs)) {
        if (!getcwd(cwd, sizeof cwd))
            return err_set(e, "%s: env.plugin %s: cannot read the working directory: %s", src, c->plugin,
                           strerror(errno));
        if (snprintf(abs, sizeof abs, "%s/%s", cwd, c->plugin) >= (int)sizeof abs)
            abs[0] = '\0';
    }
    if (!abs[0] || strlen(abs) >= sizeof c->plugin)
        return err_set(e, "%s: env.plugin %s: its absolute path is longer than %d characters", src, c->plugin,
                       (int)sizeof c->plugin - 1);
    snprintf(c->plugin_given, sizeof c->plugin_given, "%s", c->plugin);
    snprintf(c->plugin, sizeof c->plugin, "%s", abs);
    return 0;
}

int64_t exp_eps_decay_steps(const exp_config *cfg)
{
    if (cfg->train.eps_decay_steps > 0)
        return cfg->train.eps_decay_steps;
    double d = cfg->train.eps_fraction * (double)cfg->train.total_steps;
    return d > 0 && d < 1 ? 1 : llround(d);
}

void exp_record_eps_decay(exp_config *cfg) { cfg->train.eps_decay_steps = exp_eps_decay_steps(cfg); }

int64_t exp_beta_steps(const exp_config *cfg)
{
    return cfg->replay.beta_steps > 0 ? cfg->replay.beta_steps : cfg->train.total_steps;
}

void exp_record_beta_steps(exp_config *cfg) { cfg->replay.beta_steps = exp_beta_steps(cfg); }

int exp_load(exp_config *cfg, const char *path, char *const *sets, int n_sets, bdrl_err *e)
{
    memset(cfg, 0, sizeof *cfg);
    env_config_defaults(&cfg->env, "cartpole"); /* env.name is required; any registry name does */
    if (cfg_resolve(&exp_schema, cfg, path, sets, n_sets, e))
        return -1;
    env_config_resolve(&cfg->env);
    if (resolve_plugin_path(&cfg->env, path ? path : "configuration", e))
        return -1;
    if (!strcmp(cfg->env.map_name, "random")) {
        cfg->env.nrow = cfg->env.ncol = cfg->map_size;
        cfg->env.map_seed = (uint64_t)(cfg->map_seed < 0 ? cfg->seed : cfg->map_seed);
    }
    const char *src = path ? path : "configuration";
    if (!(cfg->agent.v_max > cfg->agent.v_min))
        return err_set(e, "%s: agent.v_max (%g) must be greater than agent.v_min (%g)", src,
                       cfg->agent.v_max, cfg->agent.v_min);
    if (cfg->train.eps_end > cfg->train.eps_start)
        return err_set(e, "%s: train.eps_end (%g) is above train.eps_start (%g)", src, cfg->train.eps_end,
                       cfg->train.eps_start);
    if (cfg->bd.query_grid == 1)
        return err_set(e, "%s: bd.query_grid must be 0 (= bd.grid) or at least 2 points", src);
    if (cfg->eval.stop_at_threshold && isnan(exp_threshold(cfg)))
        return err_set(e, "%s: eval.stop_at_threshold needs eval.threshold (%s has no default threshold)", src,
                       env_kind_describe(cfg->env.kind)->name);
    if (cfg->agent.mode == AGENT_EVALUATE && !env_kind_describe(cfg->env.kind)->table)
        return err_set(e, "%s: agent.mode evaluate needs a fixed policy (agent.policy optimal: value iteration "
                          "on a transition table), and %s has no transition table", src,
                       env_kind_describe(cfg->env.kind)->name);
    return 0;
}
