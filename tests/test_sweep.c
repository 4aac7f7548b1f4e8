/* Tests of `bdrl sweep`: expansion of grid x random (order, bounds,
 * reproducibility from the file's seed), validation errors with the sweep
 * file's line, the base path rule, and the state machine: a sweep killed
 * with SIGKILL half way and rerun with --resume ends with exactly one result
 * per run; partial runs are resumed from their checkpoint or rerun; --list
 * and --only. Runs are tiny (FrozenLake C51, 300 steps). */
#include "test_util.h"

#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "agents/experiment.h"
#include "agents/registry.h"
#include "core/cfg.h"
#include "research/rundir.h"
#include "research/sweep.h"

static const char *TINY_SET = "{train.total_steps: 300, eval.episodes: 5, eval.interval: 100, "
                              "train.learning_starts: 100, train.checkpoint_interval: 100}";

static void write_sweep(const char *path, const char *body)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "base: %s/configs/frozenlake4_c51.yaml\nset: %s\n%s", tu_root(), TINY_SET, body);
    tu_write(path, buf);
}

/* Loads path with sweep directory out (NULL: the file's), failing the test on an error. */
static void load_at(const char *path, const char *out, sweep_def *s)
{
    bdrl_err e;
    if (sweep_load(path, out, s, &e))
        fail_msg("%s", e.msg);
}

static void load_ok(const char *path, sweep_def *s) { load_at(path, NULL, s); }

static void expect_error(const char *body, const char *needle)
{
    char p[600];
    snprintf(p, sizeof p, "%s/bad.yaml", tu_dir);
    tu_write(p, body);
    sweep_def s;
    bdrl_err e;
    if (sweep_load(p, NULL, &s, &e) == 0) {
        sweep_def_free(&s);
        fail_msg("expected an error containing \"%s\" for:\n%s", needle, body);
    }
    assert_contains(e.msg, needle);
}

static void test_expand_grid_random(void **state)
{
    (void)state;
    char p[600];
    snprintf(p, sizeof p, "%s/s.yaml", tu_dir);
    write_sweep(p, "grid:\n  agent.lr: [1.0e-3, 3.0e-4]\n  train.batch_size: [16, 32, 64]\n"
                   "random:\n  count: 4\n  agent.gamma: {choice: [0.95, 0.99]}\n"
                   "  train.target_update: {uniform_int: [50, 150]}\n  agent.eps_kernel: {log_uniform: [1.0e-5, 1.0e-3]}\n"
                   "  agent.adam_eps: {uniform: [1.0e-8, 2.0e-8]}\n"
                   "seeds: [1, 2, 3]\nmetric: best_eval_return\n");
    sweep_def s;
    load_ok(p, &s);
    assert_int_equal(s.n_settings, 2 * 3 * 4);
    assert_int_equal(sweep_n_runs(&s), 72);
    assert_int_equal(s.n_params, 6);
    assert_string_equal(s.param_names[0], "agent.lr");
    assert_string_equal(s.param_names[5], "agent.adam_eps");
    assert_string_equal(s.metric, "best_eval_return");
    assert_true(s.maximize);
    /* grid point g = setting / 4 (last grid key fastest), draw = setting % 4 */
    assert_string_equal(s.setting_values[0][0], "1.0e-3");
    assert_string_equal(s.setting_values[0][1], "16");
    assert_string_equal(s.setting_values[4][1], "32");
    assert_string_equal(s.setting_values[12][0], "3.0e-4");
    assert_string_equal(s.setting_values[12][1], "16");
    for (int st = 0; st < s.n_settings; st++) {
        /* every grid point sees the same 4 draws */
        for (int k = 2; k < 6; k++)
            assert_string_equal(s.setting_values[st][k], s.setting_values[st % 4][k]);
        const char *g = s.setting_values[st][2];
        assert_true(!strcmp(g, "0.95") || !strcmp(g, "0.99"));
        char *end;
        long t = strtol(s.setting_values[st][3], &end, 10);
        assert_true(*end == '\0' && t >= 50 && t <= 150);
        double eps = atof(s.setting_values[st][4]);
        assert_true(eps >= 1e-5 * (1 - 1e-6) && eps <= 1e-3 * (1 + 1e-6));
        double ae = atof(s.setting_values[st][5]);
        assert_true(ae >= 1e-8 * (1 - 1e-6) && ae <= 2e-8 * (1 + 1e-6));
    }
    /* run i: setting i / 3, seed seeds[i % 3]; its overrides end with the seed */
    char dir[1024];
    assert_int_equal(sweep_run_dir(&s, 7, dir, sizeof dir, NULL), 0);
    assert_contains(dir, "/runs/0002_s2");
    char **sets;
    int ns;
    assert_int_equal(sweep_run_sets(&s, 7, &sets, &ns, NULL), 0);
    assert_int_equal(ns, 5 + 6 + 1);
    assert_string_equal(sets[0], "train.total_steps=300");
    assert_string_equal(sets[ns - 1], "seed=2");
    sweep_free_sets(sets, ns);
    exp_config cfg;
    assert_int_equal(sweep_run_config(&s, 7, &cfg, NULL), 0);
    assert_int_equal(cfg.seed, 2);
    assert_int_equal(cfg.train.total_steps, 300);
    assert_int_equal(cfg.train.batch_size, 16);
    assert_close(cfg.agent.lr, 1e-3, 0);

    /* reproducible: loading again expands identically (another machine
     * running --only I sees the same runs) */
    sweep_def s2;
    load_ok(p, &s2);
    for (int st = 0; st < s.n_settings; st++)
        for (int k = 0; k < s.n_params; k++)
            assert_string_equal(s.setting_values[st][k], s2.setting_values[st][k]);
    sweep_def_free(&s2);
    /* another draws' seed gives other draws */
    char p2[600];
    snprintf(p2, sizeof p2, "%s/s2.yaml", tu_dir);
    write_sweep(p2, "grid:\n  agent.lr: [1.0e-3, 3.0e-4]\n  train.batch_size: [16, 32, 64]\n"
                    "random:\n  count: 4\n  seed: 7\n  agent.gamma: {choice: [0.95, 0.99]}\n"
                    "  train.target_update: {uniform_int: [50, 150]}\n  agent.eps_kernel: {log_uniform: [1.0e-5, 1.0e-3]}\n"
                    "  agent.adam_eps: {uniform: [1.0e-8, 2.0e-8]}\n"
                    "seeds: [1, 2, 3]\nmetric: best_eval_return\n");
    load_ok(p2, &s2);
    int same = 1;
    for (int d = 0; d < 4; d++)
        same &= !strcmp(s.setting_values[d][4], s2.setting_values[d][4]);
    assert_false(same);
    sweep_def_free(&s2);
    sweep_def_free(&s);

    /* grid only, random only, neither */
    write_sweep(p, "grid:\n  agent.lr: [1.0e-3]\n");
    load_ok(p, &s);
    assert_int_equal(s.n_settings, 1);
    assert_int_equal(s.n_seeds, 1);
    assert_int_equal((int)s.seeds[0], 1);
    assert_string_equal(s.metric, "final_eval_return");
    sweep_def_free(&s);
    write_sweep(p, "random:\n  count: 5\n  agent.gamma: {choice: [0.9]}\nmetric: steps_to_threshold\n");
    load_ok(p, &s);
    assert_int_equal(s.n_settings, 5);
    assert_false(s.maximize); /* fewer steps is better */
    sweep_def_free(&s);
    write_sweep(p, "seeds: [4, 5]\n");
    load_ok(p, &s);
    assert_int_equal(s.n_settings, 1);
    assert_int_equal(sweep_n_runs(&s), 2);
    sweep_def_free(&s);
}

/* One line per run: sweep_describe's line, a tab, its overrides. */
static char *expansion_text(const sweep_def *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    for (int i = 0; i < sweep_n_runs(s); i++) {
        char d[8192], **sets;
        int n;
        sweep_describe(s, i, d, sizeof d);
        assert_int_equal(sweep_run_sets(s, i, &sets, &n, NULL), 0);
        fprintf(f, "%s\t", d);
        for (int k = 0; k < n; k++)
            fprintf(f, "%s%s", k ? " " : "", sets[k]);
        fprintf(f, "\n");
        sweep_free_sets(sets, n);
    }
    fclose(f);
    return buf;
}

/* A sweep with neither variants nor a list of bases expands exactly as
 * before they existed: tests/ref/sweep_expansion_*.txt were written by the
 * code before them (every run's --list line and overrides, --out
 * /nonexistent/golden), so run directories, --only indices and results.csv
 * rows of existing sweeps keep their meaning. */
static void test_expansion_unchanged(void **state)
{
    (void)state;
    const char *names[] = {"frozenlake4_bd", "cartpole_c51"};
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tu_root()), 0); /* the files' base: paths are relative to the tree */
    for (int k = 0; k < 2; k++) {
        char p[600], ref[600];
        snprintf(p, sizeof p, "configs/sweeps/%s.yaml", names[k]);
        snprintf(ref, sizeof ref, "tests/ref/sweep_expansion_%s.txt", names[k]);
        sweep_def s;
        bdrl_err e;
        if (sweep_load(p, "/nonexistent/golden", &s, &e))
            fail_msg("%s", e.msg);
        char *got = expansion_text(&s), *want = tu_read(ref);
        assert_non_null(want);
        assert_string_equal(got, want);
        free(got);
        free(want);
        sweep_def_free(&s);
    }
    assert_int_equal(chdir(cwd), 0);
}

static void test_validation_errors(void **state)
{
    (void)state;
    char base[600];
    snprintf(base, sizeof base, "base: %s/configs/frozenlake4_c51.yaml\n", tu_root());
    char b[2048];
    /* a misspelt key inside grid names the sweep file's line and the closest key */
    snprintf(b, sizeof b, "%sgrid:\n  agent.lrr: [1, 2]\n", base);
    expect_error(b, "bad.yaml:3:3: unknown key 'agent.lrr' (did you mean 'agent.lr'?)");
    snprintf(b, sizeof b, "%srandom:\n  count: 2\n  train.batch_sise: {uniform_int: [32, 128]}\n", base);
    expect_error(b, "bad.yaml:4:3: unknown key 'train.batch_sise' (did you mean 'train.batch_size'?)");
    snprintf(b, sizeof b, "%sset: {train.total_step: 100}\n", base);
    expect_error(b, "bad.yaml:2:7: unknown key 'train.total_step' (did you mean 'train.total_steps'?)");
    /* values: checked against the schema's range, at the value's line */
    snprintf(b, sizeof b, "%sgrid:\n  agent.gamma: [0.9,\n    1.5]\n", base);
    expect_error(b, "bad.yaml:4:5: 'agent.gamma' must be in [0, 1]");
    snprintf(b, sizeof b, "%srandom:\n  count: 2\n  agent.gamma: {uniform: [0.5, 2]}\n", base);
    expect_error(b, "'agent.gamma' must be in [0, 1]");
    snprintf(b, sizeof b, "%srandom:\n  count: 2\n  agent.lr: {loguniform: [1e-4, 1e-3]}\n", base);
    expect_error(b, "bad.yaml:4:14: unknown distribution 'loguniform' (did you mean 'log_uniform'?)");
    snprintf(b, sizeof b, "%srandom:\n  count: 2\n  agent.lr: {log_uniform: [0, 1e-3]}\n", base);
    expect_error(b, "log_uniform needs lo > 0");
    snprintf(b, sizeof b, "%srandom:\n  agent.lr: {log_uniform: [1e-4, 1e-3]}\n", base);
    expect_error(b, "'random' needs count");
    snprintf(b, sizeof b, "%sgrid:\n  agent.lr: [1e-3]\nrandom:\n  count: 2\n  agent.lr: {choice: [1e-3]}\n", base);
    expect_error(b, "'agent.lr' is both in grid (line 3) and in random");
    /* top level */
    snprintf(b, sizeof b, "%sseed: [1, 2]\n", base);
    expect_error(b, "bad.yaml:2:1: unknown key 'seed' (did you mean 'seeds'?)");
    snprintf(b, sizeof b, "%smetric: final_return\n", base);
    expect_error(b, "unknown metric 'final_return'");
    snprintf(b, sizeof b, "%sseeds: [1, 1]\n", base);
    expect_error(b, "seed 1 is listed twice");
    snprintf(b, sizeof b, "%sgrid:\n  agent.lr: [1e-3]\n  agent.lr: [1e-4]\n", base);
    expect_error(b, "bad.yaml:4:3: duplicate key 'agent.lr' (first at line 3)");
    expect_error("grid:\n  agent.lr: [1e-3]\n", "missing required key 'base'");
    expect_error("base: no/such.yaml\n", "bad.yaml:1:7: base config 'no/such.yaml' not found");
    expect_error("base: [\n", "malformed YAML");
    /* a cross-key problem of one setting names the run */
    snprintf(b, sizeof b, "%sgrid:\n  agent.v_max: [2, -1]\n", base);
    expect_error(b, "agent.v_max=-1");
    /* every run is checked whole, as bdrl train's setup checks it (here:
     * the memory limit), before anything starts */
    setenv("BDRL_MAX_MEMORY", "64M", 1);
    snprintf(b, sizeof b, "%sgrid:\n  train.buffer_size: [1000, 100000000]\n", base);
    expect_error(b, "train.buffer_size=100000000");
    expect_error(b, "more than the limit of 64.0 MiB");
    unsetenv("BDRL_MAX_MEMORY");

    /* base relative to the sweep file's directory when not found from the cwd */
    char sub[600], p[700];
    snprintf(sub, sizeof sub, "%s/sub", tu_dir);
    mkdir(sub, 0755);
    snprintf(p, sizeof p, "cp %s/configs/frozenlake4_c51.yaml %s/my_base_cfg.yaml", tu_root(), sub);
    tu_result r = tu_run("%s", p);
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/rel.yaml", sub);
    tu_write(p, "base: my_base_cfg.yaml\n");
    sweep_def s;
    load_ok(p, &s);
    assert_contains(s.base, "sub/my_base_cfg.yaml");
    sweep_def_free(&s);

    /* the CLI: exit 2 and the one line */
    snprintf(p, sizeof p, "%s/bad.yaml", tu_dir);
    snprintf(b, sizeof b, "%sgrid:\n  agent.lrr: [1, 2]\n", base);
    tu_write(p, b);
    r = tu_run("%s sweep %s --list", tu_bdrl(), p);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "bad.yaml:3:3: unknown key 'agent.lrr' (did you mean 'agent.lr'?)");
    tu_run_free(&r);
    r = tu_run("%s sweep --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "usage: bdrl sweep");
    assert_contains(r.out, "relative to the current directory");
    tu_run_free(&r);
}

/* "base: [FrozenLake C51, FrozenLake BD]" and body, written to path: the
 * two configs of the ablations below. */
static void write_two_bases(const char *path, const char *body)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "base: [%s/configs/frozenlake4_c51.yaml, %s/configs/frozenlake4_bd.yaml]\n%s",
             tu_root(), tu_root(), body);
    tu_write(path, buf);
}

/* The fake ablation of test_variants_tables, ranked by metric. */
static void write_fake_ablation(const char *path, const char *metric)
{
    char body[1024];
    snprintf(body, sizeof body,
             "set: {train.total_steps: 300}\n"
             "variants:\n  none: {}\n  a: {agent.n_step: 2}\n  b: {agent.n_step: 3}\n"
             "seeds: [1, 2, 3, 4]\nmetric: %s\n",
             metric);
    write_two_bases(path, body);
}

/* base: [a, b] x variants x grid: settings base-major, then variant, then
 * grid point; parameters config, variant, grid keys; a run's overrides are
 * set, its variant's, its grid values, its seed, in that order, and it
 * starts from its own base. */
static void test_variants_expand(void **state)
{
    (void)state;
    char p[600], b[4096];
    snprintf(p, sizeof p, "%s/v.yaml", tu_dir);
    write_two_bases(p, "set: {train.total_steps: 300, agent.n_step: 2, agent.gamma: 0.9}\n"
                       "variants:\n"
                       "  none: {}\n"
                       "  n_step: {agent.n_step: 3}\n"
                       "  two:\n"
                       "    agent: {double: true, gamma: 0.95}\n"
                       "grid:\n  agent.lr: [1.0e-3, 3.0e-4]\n"
                       "seeds: [1, 2]\n");
    sweep_def s;
    load_ok(p, &s);
    assert_int_equal(s.n_bases, 2);
    assert_int_equal(s.n_variants, 3);
    assert_int_equal(s.n_settings, 2 * 3 * 2);
    assert_int_equal(sweep_n_runs(&s), 24);
    assert_int_equal(s.n_params, 3);
    assert_string_equal(s.param_names[0], "config");
    assert_string_equal(s.param_names[1], "variant");
    assert_string_equal(s.param_names[2], "agent.lr");
    /* setting = (base * 3 + variant) * 2 + grid point */
    const char *want[12][3] = {
        {"frozenlake4_c51", "none", "1.0e-3"},   {"frozenlake4_c51", "none", "3.0e-4"},
        {"frozenlake4_c51", "n_step", "1.0e-3"}, {"frozenlake4_c51", "n_step", "3.0e-4"},
        {"frozenlake4_c51", "two", "1.0e-3"},    {"frozenlake4_c51", "two", "3.0e-4"},
        {"frozenlake4_bd", "none", "1.0e-3"},    {"frozenlake4_bd", "none", "3.0e-4"},
        {"frozenlake4_bd", "n_step", "1.0e-3"},  {"frozenlake4_bd", "n_step", "3.0e-4"},
        {"frozenlake4_bd", "two", "1.0e-3"},     {"frozenlake4_bd", "two", "3.0e-4"},
    };
    for (int st = 0; st < 12; st++) {
        for (int j = 0; j < 3; j++)
            assert_string_equal(s.setting_values[st][j], want[st][j]);
        assert_int_equal(sweep_setting_base(&s, st), st / 6);
        assert_int_equal(sweep_setting_variant(&s, st), st / 2 % 3);
    }
    /* run 21: setting 10 (frozenlake4_bd, two, lr 1e-3), seed 2 */
    assert_contains(sweep_run_base(&s, 21), "configs/frozenlake4_bd.yaml");
    assert_contains(sweep_run_base(&s, 9), "configs/frozenlake4_c51.yaml");
    char **sets;
    int ns;
    assert_int_equal(sweep_run_sets(&s, 21, &sets, &ns, NULL), 0);
    const char *order[] = {"train.total_steps=300", "agent.n_step=2", "agent.gamma=0.9", "agent.double=true",
                           "agent.gamma=0.95", "agent.lr=1.0e-3", "seed=2"};
    assert_int_equal(ns, 7);
    for (int k = 0; k < ns; k++)
        assert_string_equal(sets[k], order[k]);
    sweep_free_sets(sets, ns);
    /* the variant overrides set, grid values and the seed come after it */
    exp_config cfg;
    assert_int_equal(sweep_run_config(&s, 21, &cfg, NULL), 0);
    assert_string_equal(agent_kind_name(cfg.agent.kind), "bd");
    assert_true(cfg.agent.double_q);
    assert_close(cfg.agent.gamma, 0.95, 0);
    assert_int_equal(cfg.agent.n_step, 2);
    assert_int_equal(cfg.seed, 2);
    assert_int_equal(sweep_run_config(&s, 4, &cfg, NULL), 0); /* setting 2: c51, n_step, 1e-3 */
    assert_string_equal(agent_kind_name(cfg.agent.kind), "c51");
    assert_int_equal(cfg.agent.n_step, 3);
    assert_close(cfg.agent.gamma, 0.9, 0);
    char d[2048];
    sweep_describe(&s, 21, d, sizeof d);
    assert_contains(d, "21\t");
    assert_contains(d, "/runs/0010_s2\tconfig=frozenlake4_bd variant=two agent.lr=1.0e-3 seed=2");
    sweep_def_free(&s);

    /* a single base with variants: no config parameter; a list of one base
     * without variants: config alone */
    snprintf(b, sizeof b, "base: %s/configs/frozenlake4_c51.yaml\nvariants:\n  a: {agent.n_step: 2}\n  b: ~\n",
             tu_root());
    tu_write(p, b);
    load_ok(p, &s);
    assert_int_equal(s.n_params, 1);
    assert_string_equal(s.param_names[0], "variant");
    assert_string_equal(s.setting_values[1][0], "b");
    assert_int_equal(s.variants[1].n_sets, 0);
    sweep_def_free(&s);
    snprintf(b, sizeof b, "base:\n  - %s/configs/frozenlake4_c51.yaml\ngrid: {agent.lr: [1.0e-3]}\n", tu_root());
    tu_write(p, b);
    load_ok(p, &s);
    assert_int_equal(s.n_params, 2);
    assert_string_equal(s.param_names[0], "config");
    assert_string_equal(s.setting_values[0][0], "frozenlake4_c51");
    assert_string_equal(s.setting_values[0][1], "1.0e-3");
    sweep_def_free(&s);
}

/* Every error of list bases and variants names the sweep file's line and
 * column; exit 2 through the CLI. */
static void test_variants_errors(void **state)
{
    (void)state;
    char two[1400], b[4096];
    snprintf(two, sizeof two, "base: [%s/configs/frozenlake4_c51.yaml, %s/configs/frozenlake4_bd.yaml]\n",
             tu_root(), tu_root());
    snprintf(b, sizeof b, "%svariants:\n  none: {}\n  n: {agent.n_stepp: 3}\n", two);
    expect_error(b, "bad.yaml:4:7: unknown key 'agent.n_stepp' (did you mean 'agent.n_step'?)");
    snprintf(b, sizeof b, "%svariants:\n  n:\n    agent: {n_stepp: 3}\n", two);
    expect_error(b, "bad.yaml:4:13: unknown key 'agent.n_stepp' (did you mean 'agent.n_step'?)");
    snprintf(b, sizeof b, "%svariants:\n  n: {agent.n_step: 0}\n", two);
    expect_error(b, "bad.yaml:3:21: 'agent.n_step' must be in [1, 100]");
    snprintf(b, sizeof b, "%svariants:\n  none: {}\n  'a b': {}\n", two);
    expect_error(b, "bad.yaml:4:3: variant name 'a b': only letters, digits and _ . + - may be used");
    snprintf(b, sizeof b, "%svariants:\n  '': {}\n", two);
    expect_error(b, "bad.yaml:3:3: a variant needs a name");
    snprintf(b, sizeof b, "%svariants:\n  none: {}\n  none: {agent.n_step: 3}\n", two);
    expect_error(b, "bad.yaml:4:3: duplicate key 'none' (first at line 3)");
    snprintf(b, sizeof b, "%svariants:\n  n: [1]\n", two);
    expect_error(b, "bad.yaml:3:6: variant 'n' needs a mapping of config keys to values");
    snprintf(b, sizeof b, "%svariants: {}\n", two);
    expect_error(b, "bad.yaml:2:11: 'variants' needs a mapping of names to overrides");
    snprintf(b, sizeof b, "%svariants:\n  n: {agent.n_step: 3, agent: {n_step: 2}}\n", two);
    expect_error(b, "bad.yaml:3:32: 'agent.n_step' is given twice in variant 'n'");
    /* ambiguous: a variant's key also swept by grid or random (both lines) */
    snprintf(b, sizeof b, "%sgrid:\n  agent.n_step: [1, 3]\nvariants:\n  none: {}\n  n: {agent.n_step: 3}\n", two);
    expect_error(b, "bad.yaml:6:7: 'agent.n_step' is both in variant 'n' and in grid (line 3): ambiguous");
    snprintf(b, sizeof b, "%srandom:\n  count: 2\n  agent.n_step: {choice: [1, 3]}\nvariants:\n"
                          "  n: {agent: {n_step: 3}}\n", two);
    expect_error(b, "bad.yaml:6:15: 'agent.n_step' is both in variant 'n' and in random (line 4): ambiguous");
    /* bases */
    expect_error("base: []\n", "bad.yaml:1:7: 'base' needs a config path or a list of them");
    snprintf(b, sizeof b, "base: [%s/configs/frozenlake4_c51.yaml,\n       no/such.yaml]\n", tu_root());
    expect_error(b, "bad.yaml:2:8: base config 'no/such.yaml' not found");
    char dir[700], cp[2000];
    snprintf(dir, sizeof dir, "%s/other", tu_dir);
    mkdir(dir, 0755);
    snprintf(cp, sizeof cp, "cp %s/configs/frozenlake4_c51.yaml %s/", tu_root(), dir);
    tu_result r = tu_run("%s", cp);
    tu_run_free(&r);
    snprintf(b, sizeof b, "base:\n  - %s/configs/frozenlake4_c51.yaml\n  - %s/frozenlake4_c51.yml\n", tu_root(), dir);
    snprintf(cp, sizeof cp, "cp %s/configs/frozenlake4_c51.yaml %s/frozenlake4_c51.yml", tu_root(), dir);
    r = tu_run("%s", cp);
    tu_run_free(&r);
    expect_error(b, "bad.yaml:3:5: base '");
    expect_error(b, "has the stem 'frozenlake4_c51' of line 2's base");
    /* a variant that one base's agent refuses fails at load, at the
     * variant's line, naming the config and the run */
    snprintf(b, sizeof b, "%sset: {bd.field: grid}\nvariants:\n  none: {}\n  noisy: {agent.noisy: true}\n", two);
    expect_error(b, "bad.yaml:5:3: variant 'noisy' of config 'frozenlake4_bd': run 3 ");
    expect_error(b, "config=frozenlake4_bd variant=noisy seed=1: agent.noisy: bd.field grid");
    /* and a base that does not resolve in a list, at its own line */
    snprintf(b, sizeof b, "base:\n  - %s/configs/frozenlake4_c51.yaml\n  - %s/configs/frozenlake4_bd.yaml\n"
                          "set: {bd.field: grid, agent.dueling: true}\n", tu_root(), tu_root());
    expect_error(b, "bad.yaml:3:5: base 'frozenlake4_bd': run 1 ");

    /* the CLI: exit 2 and the line */
    char p[600];
    snprintf(p, sizeof p, "%s/bad.yaml", tu_dir);
    snprintf(b, sizeof b, "%svariants:\n  none: {}\n  n: {agent.n_stepp: 3}\n", two);
    tu_write(p, b);
    r = tu_run("%s sweep %s --list", tu_bdrl(), p);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "bad.yaml:4:7: unknown key 'agent.n_stepp' (did you mean 'agent.n_step'?)");
    tu_run_free(&r);
}

/* A finished run i of s: summary.json with steps to threshold stt
 * (INFINITY: never reached, null) and final evaluation return ret. */
static void fake_run(const sweep_def *s, int i, double stt, double ret)
{
    char d[1024];
    sweep_run_dir(s, i, d, sizeof d, NULL);
    tu_result r = tu_run("mkdir -p '%s'", d);
    tu_run_free(&r);
    tu_summary su = {"c51", "frozenlake", "finished", "success_rate", 300, 300, 2, 150, ret,
                     1, 0.7, isinf(stt) ? NAN : stt, 0.5};
    tu_write_summary(d, &su);
}

/* variants.md and variants.csv of a fake ablation (2 configs x 3 variants
 * x 4 seeds) against medians, quartiles and reached counts computed by
 * hand (numpy's linear quantiles, a seed that never reached = inf):
 *   c51/none  100 200 300 400  -> 250 [175, 325], 4/4, vs none 1
 *   c51/a     100 inf 200 300  -> 250 [175, inf], 3/4, 1
 *   c51/b     50 150 (2 of 4 finished) -> 100 [75, 125], 2/2, 0.4
 *   bd/none   inf inf inf 100  -> inf [inf, inf], 1/4
 *   bd/a      200 400 600 800  -> 500 [350, 650], 4/4, – (none's is inf)
 *   bd/b      none finished
 * then the same sweep ranked by final_eval_return: each cell's mean and
 * interval are summary.json's for its setting (one code computes both).
 * The figure is drawn when gnuplot is there, and `bdrl plot sweep` redraws it. */
static void test_variants_tables(void **state)
{
    (void)state;
    char p[600], out[600];
    snprintf(p, sizeof p, "%s/ab.yaml", tu_dir);
    snprintf(out, sizeof out, "%s/abl", tu_dir);
    write_fake_ablation(p, "steps_to_threshold");
    sweep_def s;
    bdrl_err e;
    load_at(p, out, &s);
    assert_int_equal(sweep_n_runs(&s), 24);
    const double inf = INFINITY, no = NAN; /* no: the run has not finished */
    const double stt[6][4] = {{100, 200, 300, 400}, {100, inf, 200, 300},  {50, 150, no, no},
                              {inf, inf, inf, 100}, {200, 400, 600, 800}, {no, no, no, no}};
    for (int st = 0; st < 6; st++)
        for (int k = 0; k < 4; k++)
            if (!isnan(stt[st][k]))
                fake_run(&s, st * 4 + k, stt[st][k], 0.1 * (st + 1) + 0.01 * k * k);
    assert_int_equal(sweep_write_state(&s, &e), 0);
    int done = 0;
    char warn[1024];
    if (sweep_summarize(&s, &done, warn, sizeof warn, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(done, 18);
    char f[800];
    snprintf(f, sizeof f, "%s/variants.csv", out);
    char *csv = tu_read(f);
    assert_non_null(csv);
    const char *C = "frozenlake4_c51:", *B = "frozenlake4_bd:";
    char want[2048];
    snprintf(want, sizeof want,
             "variant,%sruns,%sfinished,%smedian,%sq25,%sq75,%sreached,%svs_first,%svs_first_lo,%svs_first_hi,"
             "%sruns,%sfinished,%smedian,%sq25,%sq75,%sreached,%svs_first,%svs_first_lo,%svs_first_hi\n"
             "none,4,4,250,175,325,4,1,,,4,4,inf,inf,inf,1,,,\n"
             "a,4,4,250,175,inf,3,1,",
             C, C, C, C, C, C, C, C, C, B, B, B, B, B, B, B, B, B);
    assert_true(!strncmp(csv, want, strlen(want)));
    /* a's interval on c51: its resampled median is ∞ when two of four
     * draws are its unreached seed (p = 0.26 > 2.5%), so the top is ∞; the
     * bottom is at least 100 / 400 */
    char *end;
    double lo = strtod(csv + strlen(want), &end);
    assert_true(lo >= 0.25 && lo < 1);
    assert_true(!strncmp(end, ",inf,4,4,500,350,650,4,,,\nb,4,2,100,75,125,2,0.4,", 49));
    /* b on c51: medians of {50, 150} over medians of {100, ..., 400} */
    lo = strtod(end + 49, &end);
    double hi = strtod(end + 1, &end);
    assert_true(lo >= 50.0 / 400 && lo < 0.4 && hi > 0.4 && hi <= 150.0 / 100);
    assert_string_equal(end, ",4,0,,,,0,,,\n");
    free(csv);
    snprintf(f, sizeof f, "%s/variants.md", out);
    char *md = tu_read(f);
    assert_non_null(md);
    assert_contains(md, "| variant | `frozenlake4_c51` median | IQR [q25, q75] | reached | vs `none` [95% interval] "
                        "| finished | `frozenlake4_bd` median |");
    assert_contains(md, "| none | 250 | [175, 325] | 4/4 | 1 | 4/4 | not reached | [not reached, not reached] | 1/4 "
                        "| – | 4/4 |\n");
    assert_contains(md, "| a | 250 | [175, not reached] | 3/4 | 1 [0.");
    assert_contains(md, ", ∞] | 4/4 | 500 | [350, 650] | 4/4 | – | 4/4 |\n");
    assert_contains(md, "| b | 100 | [75, 125] | 2/2 | 0.4 [");
    assert_contains(md, "] | 2/4 | – | – | – | – | 0/4 |\n");
    free(md);
    /* the other files know the new parameters */
    snprintf(f, sizeof f, "%s/results.csv", out);
    char *res = tu_read(f);
    assert_true(!strncmp(res, "run,setting,seed,config,variant,status,", 39));
    assert_contains(res, "\n9,2,2,frozenlake4_c51,b,finished,");
    free(res);
    snprintf(f, sizeof f, "%s/sweep.json", out);
    char *js = tu_read(f);
    assert_contains(js, "\"params\": [\n    \"config\",\n    \"variant\"\n  ]");
    assert_contains(js, "\"configs\": [\n    \"frozenlake4_c51\",\n    \"frozenlake4_bd\"\n  ]");
    assert_contains(js, "\"variants\": [\n    \"none\",\n    \"a\",\n    \"b\"\n  ]");
    free(js);
    snprintf(f, sizeof f, "%s/summary.md", out);
    md = tu_read(f);
    assert_contains(md, "[variants.md](variants.md)");
    free(md);

    /* the figure: medians at each (config, variant), infinite ones (and
     * runs that never reached) in the band above the largest finite value */
    tu_result r = tu_run("command -v gnuplot");
    int have_gnuplot = r.status == 0;
    tu_run_free(&r);
    if (have_gnuplot) {
        if (warn[0])
            fail_msg("plot warning: %s", warn);
        snprintf(f, sizeof f, "%s/plots/variants.png", out);
        assert_int_equal(access(f, F_OK), 0);
        snprintf(f, sizeof f, "%s/plots/variants.svg", out);
        assert_int_equal(access(f, F_OK), 0);
        snprintf(f, sizeof f, "%s/plots/variants.gp", out);
        char *gp = tu_read(f);
        assert_contains(gp, "xtic_labels = '(\"none\" 0, \"a\" 1, \"b\" 2)'");
        assert_contains(gp, "has_band = 1\nband = 893.75\nband_half = 35.15625\nnumeric_tics = 1\n"); /* 800 + (800 - 50) / 8 */
        free(gp);
        snprintf(f, sizeof f, "%s/plots/variants.dat", out);
        char *dat = tu_read(f);
        assert_contains(dat, "\n-0.2 250 175 325\n0.8 250 175 893.75\n1.8 100 75 125\n"); /* c51, x = v - 0.2 */
        assert_contains(dat, "\n0.2 893.75 893.75 893.75\n1.2 500 350 650\n\n");                /* bd, x = v + 0.2 */
        free(dat);
        snprintf(f, sizeof f, "%s/plots/variants.png", out);
        unlink(f);
        r = tu_run("%s plot sweep %s", tu_bdrl(), out);
        assert_int_equal(r.status, 0);
        assert_contains(r.out, "variants.png");
        tu_run_free(&r);
        assert_int_equal(access(f, F_OK), 0);
    }
    sweep_def_free(&s);

    /* another metric: mean and interval, as summary.json has them */
    write_fake_ablation(p, "final_eval_return");
    load_at(p, out, &s);
    if (sweep_summarize(&s, &done, warn, sizeof warn, &e))
        fail_msg("%s", e.msg);
    snprintf(f, sizeof f, "%s/variants.csv", out);
    csv = tu_read(f);
    snprintf(f, sizeof f, "%s/summary.json", out);
    js = tu_read(f);
    /* c51/none: returns .1 .11 .14 .19 -> mean .135; a - none = .1 */
    assert_contains(csv, "variant,frozenlake4_c51:runs,frozenlake4_c51:finished,frozenlake4_c51:mean,"
                         "frozenlake4_c51:ci95_lo,frozenlake4_c51:ci95_hi,frozenlake4_c51:vs_first,"
                         "frozenlake4_c51:vs_first_lo,frozenlake4_c51:vs_first_hi,");
    char *row = strstr(csv, "\nnone,4,4,0.135,");
    assert_non_null(row);
    char *ranked = strstr(js, "\"setting\": 0,");
    assert_non_null(ranked);
    lo = tu_json_num(ranked, "ci95_lo");
    hi = tu_json_num(ranked, "ci95_hi");
    char cell[128];
    snprintf(cell, sizeof cell, "\nnone,4,4,0.135,%.10g,%.10g,0,,,", lo, hi);
    assert_contains(csv, cell);
    assert_true(lo < 0.135 && hi > 0.135);
    assert_non_null(strstr(csv, "\na,4,4,0.235,"));
    char *a_row = strstr(csv, "\na,4,4,0.235,");
    assert_non_null(strstr(a_row, ",0.1,")); /* a - none on c51, then its interval */
    lo = strtod(strstr(a_row, ",0.1,") + 5, &end);
    hi = strtod(end + 1, &end);
    assert_true(lo < 0.1 && hi > 0.1 && !strncmp(end, ",4,4,", 5)); /* then bd's group */
    free(csv);
    free(js);
    sweep_def_free(&s);

    /* no run reached the threshold: the per-key figures have no point to
     * draw and are skipped, the variants figure is the band alone */
    write_fake_ablation(p, "steps_to_threshold");
    snprintf(out, sizeof out, "%s/abl_none", tu_dir);
    load_at(p, out, &s);
    for (int i = 0; i < 8; i++)
        fake_run(&s, i, INFINITY, 0);
    assert_int_equal(sweep_write_state(&s, &e), 0);
    if (sweep_summarize(&s, &done, warn, sizeof warn, &e))
        fail_msg("%s", e.msg);
    if (have_gnuplot) {
        assert_string_equal(warn, "");
        snprintf(f, sizeof f, "%s/plots/variants.png", out);
        assert_int_equal(access(f, F_OK), 0);
        snprintf(f, sizeof f, "%s/plots/variant.png", out);
        assert_int_equal(access(f, F_OK), -1);
        snprintf(f, sizeof f, "%s/plots/variants.gp", out);
        char *gp = tu_read(f);
        assert_contains(gp, "has_band = 1\nband = 1\nband_half = 0.04166666667\nnumeric_tics = 0\n");
        free(gp);
    }
    sweep_def_free(&s);
}

/* The keys (exp_schema's names, space-separated into out) whose values
 * differ between two resolved configurations. */
static void config_diff(const exp_config *a, const exp_config *b, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < exp_schema.n_keys; i++) {
        char va[4096], vb[4096];
        const char *key = exp_schema.keys[i].name;
        assert_int_equal(cfg_format_value(&exp_schema, a, key, va, sizeof va, NULL), 0);
        assert_int_equal(cfg_format_value(&exp_schema, b, key, vb, sizeof vb, NULL), 0);
        if (strcmp(va, vb) && k < n)
            k += (size_t)snprintf(out + k, n - k, "%s%s", k ? " " : "", key);
    }
}

/* A resolved configuration as the config.yaml a run writes. */
static char *config_text(const exp_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    cfg_write_yaml(&exp_schema, c, f);
    fclose(f);
    return buf;
}

/* Fails naming the keys where run i of s and config path (with the sweep's
 * set and run i's seed) differ. */
static void assert_run_is_config(const sweep_def *s, int i, const char *path)
{
    exp_config got, want;
    bdrl_err e;
    if (sweep_run_config(s, i, &got, &e))
        fail_msg("%s", e.msg);
    char **sets = calloc((size_t)s->n_set + 1, sizeof *sets), seed[64];
    for (int k = 0; k < s->n_set; k++)
        sets[k] = s->set[k];
    snprintf(seed, sizeof seed, "seed=%lld", (long long)s->seeds[i % s->n_seeds]);
    sets[s->n_set] = seed;
    if (exp_load(&want, path, sets, s->n_set + 1, &e))
        fail_msg("%s", e.msg);
    free(sets);
    char diff[4096];
    config_diff(&got, &want, diff, sizeof diff);
    if (diff[0])
        fail_msg("run %d of %s is not %s: they differ in %s", i, s->path, path, diff);
    char *tg = config_text(&got), *tw = config_text(&want);
    assert_string_equal(tg, tw);
    free(tg);
    free(tw);
}

/* Run index of (base b, variant name) at the sweep's first seed. */
static int run_of(const sweep_def *s, int b, const char *variant)
{
    for (int v = 0; v < s->n_variants; v++)
        if (!strcmp(s->variants[v].name, variant))
            return (b * s->n_variants + v) * s->n_points * s->n_seeds;
    fail_msg("%s has no variant %s", s->path, variant);
    return -1;
}

/* The shipped ablations (issue 21): 2 configs x 12 variants x 10 seeds;
 * `all` is exactly the shipped Rainbow config of each agent (C51:
 * <env>_rainbow.yaml, BD: <env>_bd_rainbow.yaml) and `none` its base, both
 * under the sweep's set and seed; and each "all-X" drops from `all` exactly
 * the keys that X adds to `none`. */
static void test_ablation_sweeps(void **state)
{
    (void)state;
    static const char *const single[] = {"n_step", "per", "double", "dueling", "noisy"};
    const char *envs[] = {"cartpole", "acrobot"};
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tu_root()), 0); /* the files' paths are relative to the tree */
    for (int k = 0; k < 2; k++) {
        char p[600], rainbow[2][600], base[2][600];
        snprintf(p, sizeof p, "configs/sweeps/ablation_%s.yaml", envs[k]);
        snprintf(rainbow[0], sizeof rainbow[0], "configs/%s_rainbow.yaml", envs[k]);
        snprintf(rainbow[1], sizeof rainbow[1], "configs/%s_bd_rainbow.yaml", envs[k]);
        snprintf(base[0], sizeof base[0], "configs/%s_c51.yaml", envs[k]);
        snprintf(base[1], sizeof base[1], "configs/%s_bd.yaml", envs[k]);
        sweep_def s;
        bdrl_err e;
        if (sweep_load(p, NULL, &s, &e))
            fail_msg("%s", e.msg);
        assert_int_equal(sweep_n_runs(&s), 240);
        assert_int_equal(s.n_variants, 12);
        assert_int_equal(s.n_seeds, 10);
        assert_int_equal((int)s.seeds[0], 101);
        assert_string_equal(s.metric, "steps_to_threshold");
        for (int b = 0; b < 2; b++) {
            assert_string_equal(s.bases[b].path, base[b]);
            assert_run_is_config(&s, run_of(&s, b, "all"), rainbow[b]);
            assert_run_is_config(&s, run_of(&s, b, "none"), base[b]);
            exp_config none, all, x, all_x;
            assert_int_equal(sweep_run_config(&s, run_of(&s, b, "none"), &none, NULL), 0);
            assert_int_equal(sweep_run_config(&s, run_of(&s, b, "all"), &all, NULL), 0);
            for (int c = 0; c < 5; c++) {
                char name[64], added[4096], dropped[4096];
                snprintf(name, sizeof name, "all-%s", single[c]);
                assert_int_equal(sweep_run_config(&s, run_of(&s, b, single[c]), &x, NULL), 0);
                assert_int_equal(sweep_run_config(&s, run_of(&s, b, name), &all_x, NULL), 0);
                config_diff(&none, &x, added, sizeof added);
                config_diff(&all_x, &all, dropped, sizeof dropped);
                assert_true(added[0]);
                if (strcmp(added, dropped))
                    fail_msg("%s: %s adds %s, %s drops %s", p, single[c], added, name, dropped);
            }
        }
        sweep_def_free(&s);
        tu_result r = tu_run("%s sweep %s --list", tu_bdrl(), p);
        assert_int_equal(r.status, 0);
        assert_int_equal(tu_count_lines(r.out), 240);
        tu_run_free(&r);
    }
    assert_int_equal(chdir(cwd), 0);
}

/* Count of data rows in results.csv and checks that (setting, seed) pairs
 * are unique. */
static int result_rows(const char *out, int n_runs)
{
    char p[700];
    snprintf(p, sizeof p, "%s/results.csv", out);
    char *t = tu_read(p);
    assert_non_null(t);
    int *seen = calloc((size_t)n_runs, sizeof *seen), rows = 0;
    char *save = NULL;
    strtok_r(t, "\n", &save); /* header */
    for (char *ln = strtok_r(NULL, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        int run = atoi(ln);
        assert_true(run >= 0 && run < n_runs);
        if (seen[run]++)
            fail_msg("run %d appears twice in results.csv", run);
        rows++;
    }
    free(seen);
    free(t);
    return rows;
}

/* Evaluation rows of a run: exactly the steps 100, 200, 300. */
static void check_eval_rows(const char *dir)
{
    char p[700];
    snprintf(p, sizeof p, "%s/eval.csv", dir);
    char *t = tu_read(p);
    assert_non_null(t);
    char *a = strstr(t, "\n100,"), *b = strstr(t, "\n200,"), *c = strstr(t, "\n300,");
    if (!a || !b || !c || strstr(a + 1, "\n100,") || strstr(b + 1, "\n200,") || strstr(c + 1, "\n300,"))
        fail_msg("%s: expected one row for each of 100, 200, 300:\n%s", p, t);
    int lines = 0;
    for (char *q = t; *q; q++)
        lines += *q == '\n';
    assert_int_equal(lines, 4);
    free(t);
}

/* A tiny ablation through the CLI (2 configs x 2 variants x 1 seed,
 * FrozenLake, 300 steps): --list, --only, the sweep itself and --status;
 * every run trains its own base with its variant's overrides, and the
 * tables and figure come out. */
static void test_variants_cli(void **state)
{
    (void)state;
    char p[600], out[600], b[4096];
    snprintf(p, sizeof p, "%s/cli.yaml", tu_dir);
    snprintf(out, sizeof out, "%s/cliout", tu_dir);
    snprintf(b, sizeof b, "set: %s\nvariants:\n  none: {}\n  n3: {agent.n_step: 3}\nseeds: [5]\nmetric: final_eval_return\n",
             TINY_SET);
    write_two_bases(p, b);
    tu_result r = tu_run("%s sweep %s --out %s --list", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    assert_int_equal(tu_count_lines(r.out), 4);
    assert_contains(r.out, "3\tpending\t");
    assert_contains(r.out, "/runs/0003_s5\tconfig=frozenlake4_bd variant=n3 seed=5\n");
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --only 2", tu_bdrl(), p, out);
    if (r.status)
        fail_msg("--only 2: %d %s", r.status, r.err);
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --status", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "4 runs (4 settings x 1 seeds)");
    assert_contains(r.out, "best so far: setting 2 (config=frozenlake4_bd variant=none)");
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --resume -j 2", tu_bdrl(), p, out);
    if (r.status)
        fail_msg("sweep: %d %s", r.status, r.err);
    assert_contains(r.err, "1 finished, 3 to run");
    tu_run_free(&r);
    const char *kind[] = {"c51", "c51", "bd", "bd"};
    for (int i = 0; i < 4; i++) {
        char f[1200];
        snprintf(f, sizeof f, "%s/runs/%04d_s5/config.yaml", out, i);
        exp_config cfg;
        bdrl_err e;
        if (exp_load(&cfg, f, NULL, 0, &e))
            fail_msg("%s", e.msg);
        assert_string_equal(agent_kind_name(cfg.agent.kind), kind[i]);
        assert_int_equal(cfg.agent.n_step, i % 2 ? 3 : 1);
        assert_int_equal(cfg.seed, 5);
    }
    assert_int_equal(result_rows(out, 4), 4);
    char f[800];
    snprintf(f, sizeof f, "%s/variants.md", out);
    char *md = tu_read(f);
    assert_non_null(md);
    assert_contains(md, "| n3 |");
    free(md);
    r = tu_run("command -v gnuplot");
    int have_gnuplot = r.status == 0;
    tu_run_free(&r);
    snprintf(f, sizeof f, "%s/plots/variants.png", out);
    if (have_gnuplot)
        assert_int_equal(access(f, F_OK), 0);
}

static void test_sigkill_resume(void **state)
{
    (void)state;
    char p[600], out[600];
    snprintf(p, sizeof p, "%s/k.yaml", tu_dir);
    snprintf(out, sizeof out, "%s/kout", tu_dir);
    /* 3 grid points x 4 random draws = 12 settings, x 3 seeds = 36 runs */
    write_sweep(p, "grid:\n  agent.lr: [1.0e-3, 5.0e-4, 3.0e-4]\n"
                   "random:\n  count: 4\n  agent.gamma: {choice: [0.95, 0.99]}\n"
                   "  train.batch_size: {uniform_int: [32, 128]}\nseeds: [1, 2, 3]\n");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(tu_bdrl(), "bdrl", "sweep", p, "-j", "2", "--out", out, (char *)NULL);
        _exit(127);
    }
    /* wait until about half the runs have finished, then SIGKILL */
    sweep_def s;
    load_at(p, out, &s);
    assert_int_equal(sweep_n_runs(&s), 36);
    int done = 0;
    int st, exited = 0;
    for (int tries = 0; tries < 6000 && done < 16; tries++) {
        usleep(5000);
        if (waitpid(pid, &st, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        done = 0;
        for (int i = 0; i < 36; i++) {
            char d[1024];
            sweep_run_dir(&s, i, d, sizeof d, NULL);
            done += rundir_complete(d, 300);
        }
    }
    if (exited)
        fail_msg("the sweep ended before it was killed (status %d, %d runs done)", st, done);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    usleep(200000); /* its runs die with it (PR_SET_PDEATHSIG) */
    assert_true(done >= 16 && done < 36);
    /* what finished before the kill must not be rerun */
    char *before[36] = {0};
    int n_before = 0;
    for (int i = 0; i < 36; i++) {
        char d[1024], f[1100];
        sweep_run_dir(&s, i, d, sizeof d, NULL);
        snprintf(f, sizeof f, "%s/summary.json", d);
        if (rundir_complete(d, 300)) {
            before[i] = tu_read(f);
            n_before++;
        }
    }
    /* without --resume: refused */
    tu_result r = tu_run("%s sweep %s --out %s", tu_bdrl(), p, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "--resume");
    tu_run_free(&r);
    r = tu_run("%s sweep %s --out %s --list", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    int lines = 0, n_done_listed = 0;
    for (char *q = r.out; *q; q++)
        lines += *q == '\n';
    for (char *q = r.out; (q = strstr(q, "\tdone\t")); q++)
        n_done_listed++;
    assert_int_equal(lines, 36);
    assert_int_equal(n_done_listed, n_before);
    tu_run_free(&r);

    r = tu_run("%s sweep %s --out %s --resume -j 2", tu_bdrl(), p, out);
    if (r.status)
        fail_msg("resume: status %d: %s", r.status, r.err);
    tu_run_free(&r);
    assert_int_equal(result_rows(out, 36), 36);
    for (int i = 0; i < 36; i++) {
        char d[1024], f[1100];
        sweep_run_dir(&s, i, d, sizeof d, NULL);
        assert_true(rundir_complete(d, 300));
        check_eval_rows(d);
        if (before[i]) {
            snprintf(f, sizeof f, "%s/summary.json", d);
            char *now = tu_read(f);
            assert_string_equal(before[i], now); /* kept, not rerun */
            free(now);
            free(before[i]);
        }
    }
    /* a final --resume with nothing left: the same results, rebuilt */
    char rp[700];
    snprintf(rp, sizeof rp, "%s/results.csv", out);
    char *res1 = tu_read(rp);
    r = tu_run("%s sweep %s --out %s --resume", tu_bdrl(), p, out);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "36 finished, 0 to run");
    tu_run_free(&r);
    char *res2 = tu_read(rp);
    assert_string_equal(res1, res2);
    free(res1);
    free(res2);
    snprintf(rp, sizeof rp, "%s/summary.md", out);
    char *md = tu_read(rp);
    assert_contains(md, "**Best: setting ");
    assert_contains(md, "12 settings x 3 seeds = 36 runs; 36 finished");
    free(md);
    snprintf(rp, sizeof rp, "%s/plots/agent.lr.png", out);
    assert_int_equal(access(rp, F_OK), 0);
    snprintf(rp, sizeof rp, "%s/plots/train.batch_size.svg", out);
    assert_int_equal(access(rp, F_OK), 0);
    sweep_def_free(&s);
}

static void test_partial_runs_and_only(void **state)
{
    (void)state;
    char p[600], out[600];
    snprintf(p, sizeof p, "%s/o.yaml", tu_dir);
    snprintf(out, sizeof out, "%s/oout", tu_dir);
    write_sweep(p, "grid:\n  agent.gamma: [0.9, 0.99]\nseeds: [1, 2]\n");
    sweep_def s;
    load_at(p, out, &s);
    assert_int_equal(sweep_n_runs(&s), 4);
    /* run 0: interrupted at step 150 (checkpoint at 150); run 1: a partial
     * directory without checkpoint (killed before its first one) */
    char d0[1024], d1[1024], d3[1024];
    sweep_run_dir(&s, 0, d0, sizeof d0, NULL);
    sweep_run_dir(&s, 1, d1, sizeof d1, NULL);
    sweep_run_dir(&s, 3, d3, sizeof d3, NULL);
    char **sets;
    int ns;
    assert_int_equal(sweep_run_sets(&s, 0, &sets, &ns, NULL), 0);
    char cmd[8192];
    size_t k = (size_t)snprintf(cmd, sizeof cmd, "mkdir -p %s/runs && %s train %s", out, tu_bdrl(), s.base);
    for (int i = 0; i < ns; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " --set '%s'", sets[i]);
    snprintf(cmd + k, sizeof cmd - k, " --out %s --quiet --stop-after 150", d0);
    sweep_free_sets(sets, ns);
    tu_result r = tu_run("%s", cmd);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    assert_false(rundir_complete(d0, 300));
    char f[1100];
    mkdir(d1, 0755);
    snprintf(f, sizeof f, "%s/metrics.csv.tmp123", d1);
    tu_write(f, "torn");

    /* --only 3 on "another machine": just that run, no summary */
    r = tu_run("%s sweep %s --out %s --only 3", tu_bdrl(), p, out);
    if (r.status)
        fail_msg("--only: %d %s", r.status, r.err);
    tu_run_free(&r);
    assert_true(rundir_complete(d3, 300));
    snprintf(f, sizeof f, "%s/results.csv", out);
    assert_int_equal(access(f, F_OK), -1);
    r = tu_run("%s sweep %s --out %s --only 4", tu_bdrl(), p, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "runs 0 to 3");
    tu_run_free(&r);

    r = tu_run("%s sweep %s --out %s --resume", tu_bdrl(), p, out);
    if (r.status)
        fail_msg("resume: %d %s", r.status, r.err);
    assert_contains(r.err, "1 finished, 3 to run");
    tu_run_free(&r);
    assert_int_equal(result_rows(out, 4), 4);
    /* run 0 continued from its checkpoint, not from scratch */
    snprintf(f, sizeof f, "%s/logs/0000_s1.log", out);
    char *log = tu_read(f);
    assert_non_null(log);
    (void)log;
    free(log);
    check_eval_rows(d0);
    check_eval_rows(d1);
    snprintf(f, sizeof f, "%s/metrics.csv.tmp123", d1);
    assert_int_equal(access(f, F_OK), -1);
    /* the resumed run equals an uninterrupted one (the trainer's resume is
     * bit-exact): compare with a fresh run of the same config */
    char fresh[700];
    snprintf(fresh, sizeof fresh, "%s/fresh0", tu_dir);
    assert_int_equal(sweep_run_sets(&s, 0, &sets, &ns, NULL), 0);
    k = (size_t)snprintf(cmd, sizeof cmd, "%s train %s", tu_bdrl(), s.base);
    for (int i = 0; i < ns; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " --set '%s'", sets[i]);
    snprintf(cmd + k, sizeof cmd - k, " --out %s --quiet", fresh);
    sweep_free_sets(sets, ns);
    r = tu_run("%s", cmd);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    char a[800], b[1100];
    snprintf(a, sizeof a, "%s/eval.csv", fresh);
    snprintf(b, sizeof b, "%s/eval.csv", d0);
    char *ea = tu_read(a), *eb = tu_read(b);
    assert_string_equal(ea, eb);
    free(ea);
    free(eb);

    /* a run directory of another configuration: refused with the key */
    char p2[600];
    snprintf(p2, sizeof p2, "%s/o2.yaml", tu_dir);
    write_sweep(p2, "grid:\n  agent.gamma: [0.8, 0.99]\nseeds: [1, 2]\n");
    r = tu_run("%s sweep %s --out %s --resume", tu_bdrl(), p2, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "agent.gamma");
    tu_run_free(&r);
    sweep_def_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_grid_random),
        cmocka_unit_test(test_expansion_unchanged),
        cmocka_unit_test(test_validation_errors),
        cmocka_unit_test(test_variants_expand),
        cmocka_unit_test(test_variants_errors),
        cmocka_unit_test(test_variants_tables),
        cmocka_unit_test(test_ablation_sweeps),
        cmocka_unit_test(test_variants_cli),
        cmocka_unit_test(test_sigkill_resume),
        cmocka_unit_test(test_partial_runs_and_only),
    };
    return cmocka_run_group_tests_name("sweep", tests, tu_group_setup, tu_group_teardown);
}
