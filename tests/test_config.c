/* Tests of the strict YAML configuration (src/core/cfg, experiment schema):
 * every error kind names its location and exits through an error code; the
 * resolved YAML reads back to the same struct. */
#include "test_util.h"

#include <time.h>

#include "agents/experiment.h"
#include "agents/registry.h"
#include "core/cfg.h"


/* Writes text to a config file and loads it; returns the load status and
 * leaves the message in e. */
static int load_text(const char *text, exp_config *cfg, bdrl_err *e, char *path_out)
{
    static int n;
    char path[512];
    snprintf(path, sizeof path, "%s/c%d.yaml", tu_dir, n++);
    tu_write(path, text);
    if (path_out)
        strcpy(path_out, path);
    return exp_load(cfg, path, NULL, 0, e);
}

static void expect_error(const char *text, const char *loc, const char *msg)
{
    exp_config cfg;
    bdrl_err e;
    char path[512], want[600];
    assert_int_equal(load_text(text, &cfg, &e, path), -1);
    snprintf(want, sizeof want, "%s:%s", path, loc);
    assert_contains(e.msg, want);
    assert_contains(e.msg, msg);
}

static void test_minimal_config_gets_defaults(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    assert_int_equal(load_text("env:\n  name: frozenlake\n", &cfg, &e, NULL), 0);
    assert_int_equal(cfg.env.kind, ENV_FROZENLAKE);
    assert_int_equal(cfg.seed, 1);
    assert_int_equal(cfg.train.batch_size, 64);
    assert_true(cfg.agent.gamma == 0.99);
    assert_string_equal(cfg.env.map_name, "4x4");
    assert_int_equal(cfg.env.slippery, 1);
    assert_true(cfg.env.success_rate == 1.0 / 3.0);
    assert_string_equal(cfg.output.dir, "runs");
}

/* Every env.name, its kind, Gymnasium's time limit and the default
 * evaluation threshold (reward_threshold on the return; FrozenLake's
 * success rate); eval.threshold overrides it. */
static void test_env_names_limits_and_thresholds(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        env_kind kind;
        int obs, actions, limit;
        double thr;
    } c[] = {
        {"cartpole", ENV_CARTPOLE, 4, 2, 500, 475.0},
        {"frozenlake", ENV_FROZENLAKE, 1, 4, 100, 0.7},
        {"acrobot", ENV_ACROBOT, 6, 3, 500, -100.0},
        {"mountaincar", ENV_MOUNTAINCAR, 2, 3, 200, -110.0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "env:\n  name: %s\n", c[i].name);
        exp_config cfg;
        bdrl_err e;
        assert_int_equal(load_text(text, &cfg, &e, NULL), 0);
        assert_int_equal(cfg.env.kind, c[i].kind);
        assert_int_equal(env_kind_by_name(c[i].name), (int)c[i].kind);
        assert_string_equal(env_kind_describe(c[i].kind)->name, c[i].name);
        assert_true(exp_threshold(&cfg) == c[i].thr);
        assert_int_equal(env_kind_describe(c[i].kind)->tabular, c[i].kind == ENV_FROZENLAKE);
        env *en = env_create(&cfg.env, &e);
        assert_non_null(en);
        assert_string_equal(env_name(en), c[i].name);
        assert_int_equal(env_obs_dim(en), c[i].obs);
        assert_int_equal(env_n_actions(en), c[i].actions);
        assert_int_equal(env_max_steps(en), c[i].limit);
        assert_int_equal(env_max_steps(en), env_kind_describe(c[i].kind)->default_max_steps);
        env_free(en);
        snprintf(text, sizeof text, "env:\n  name: %s\neval:\n  threshold: -5\n", c[i].name);
        assert_int_equal(load_text(text, &cfg, &e, NULL), 0);
        assert_true(exp_threshold(&cfg) == -5.0);
    }
    assert_int_equal(env_kind_by_name("pong"), -1);
    assert_null(env_kind_describe((env_kind)ENV_N_KINDS));
}

/* The shipped Acrobot and MountainCar configs load, and each pair differs
 * only in the agent's own keys. */
static void test_classic_control_configs(void **state)
{
    (void)state;
    const char *names[] = {"acrobot", "mountaincar"};
    for (int i = 0; i < 2; i++) {
        exp_config c[2];
        for (int k = 0; k < 2; k++) {
            char path[1024];
            bdrl_err e;
            snprintf(path, sizeof path, "%s/configs/%s_%s.yaml", tu_root(), names[i], k ? "bd" : "c51");
            if (exp_load(&c[k], path, NULL, 0, &e))
                fail_msg("%s", e.msg);
            assert_int_equal(c[k].env.kind, env_kind_by_name(names[i]));
            assert_string_equal(agent_kind_name(c[k].agent.kind), k ? "bd" : "c51");
            assert_true(c[k].agent.v_min == -100.0 && c[k].agent.v_max == 0.0);
        }
        assert_memory_equal(&c[0].train, &c[1].train, sizeof c[0].train);
        assert_memory_equal(&c[0].eval, &c[1].eval, sizeof c[0].eval);
        assert_true(c[0].agent.gamma == c[1].agent.gamma && c[0].agent.lr == c[1].agent.lr);
    }
}

static void test_values_of_every_type(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    const char *text = "seed: 1_000\n"
                       "env: {name: cartpole, integrator: semi_implicit, sutton_barto_reward: yes}\n"
                       "agent:\n  kind: c51\n  gamma: 9.5e-1\n"
                       "train:\n  total_steps: 2e5\n  batch_size: 32\n"
                       "output:\n  dir: \"my runs\"\n";
    assert_int_equal(load_text(text, &cfg, &e, NULL), 0);
    assert_int_equal(cfg.seed, 1000);
    assert_int_equal(cfg.env.semi_implicit, 1);
    assert_int_equal(cfg.env.sutton_barto_reward, 1);
    assert_string_equal(agent_kind_name(cfg.agent.kind), "c51");
    assert_true(cfg.agent.gamma == 0.95);
    assert_int_equal(cfg.train.total_steps, 200000);
    assert_string_equal(cfg.output.dir, "my runs");
}

static void test_unknown_key_suggests_closest(void **state)
{
    (void)state;
    expect_error("env:\n  name: cartpole\ntrain:\n  batch_sise: 3\n", "4:3",
                 "unknown key 'train.batch_sise' (did you mean 'train.batch_size'?)");
    expect_error("env:\n  name: cartpole\nbatch_size: 3\n", "3:1", "did you mean 'train.batch_size'?");
    expect_error("env:\n  name: cartpole\nzzzzqqq: 3\n", "3:1", "unknown key 'zzzzqqq'");
    expect_error("trian:\n  batch_size: 3\nenv:\n  name: cartpole\n", "1:1", "unknown key 'trian'");
}

/* A retired key (bd.basis_loss, gone with its unshipped forms) still loads
 * with the one value the code now always uses, so older run directories
 * resume; any other value, and an unretired unknown key, are refused. */
static void test_retired_key_loads_old_files(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    assert_int_equal(load_text("env:\n  name: cartpole\nbd:\n  basis_loss: projected\n  basis: 21\n", &cfg, &e, NULL),
                     0);
    assert_int_equal(cfg.bd.basis, 21);
    expect_error("env:\n  name: cartpole\nbd:\n  basis_loss: closed\n", "4:3",
                 "'bd.basis_loss' is removed");
    expect_error("env:\n  name: cartpole\nbd:\n  basis_loss: [projected]\n", "4:3", "only 'projected'");
    char *ok[] = {"env.name=cartpole", "bd.basis_loss=projected"};
    assert_int_equal(exp_load(&cfg, NULL, ok, 2, &e), 0);
    char *bad[] = {"env.name=cartpole", "bd.basis_loss=queries"};
    assert_int_equal(exp_load(&cfg, NULL, bad, 2, &e), -1);
    assert_contains(e.msg, "'bd.basis_loss' is removed");
    /* the resolved configuration no longer writes it */
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    cfg_write_yaml(&exp_schema, &cfg, f);
    fclose(f);
    assert_null(strstr(mem, "basis_loss"));
    free(mem);
}

static void test_wrong_type_and_range(void **state)
{
    (void)state;
    expect_error("env: {name: cartpole}\ntrain:\n  batch_size: many\n", "3:15",
                 "'train.batch_size' expects an integer, got 'many'");
    expect_error("env: {name: cartpole}\ntrain:\n  batch_size: 2.5\n", "3:15", "expects an integer");
    expect_error("env: {name: cartpole}\ntrain:\n  batch_size: 0\n", "3:15",
                 "'train.batch_size' must be in [1, 65536]");
    expect_error("env: {name: cartpole}\nagent:\n  gamma: 1.5\n", "3:10", "'agent.gamma' must be in [0, 1]");
    expect_error("env: {name: cartpole}\nagent:\n  gamma: .nan\n", "3:10", "expects a finite number");
    expect_error("env: {name: cartpole}\nenv.slippery: 1\n", "2:1", "write keys nested in files");
    expect_error("env: {name: cartpole, slippery: maybe}\n", "1:33", "expects true or false");
    expect_error("env: {name: pong}\n", "1:13",
                 "'env.name' must be one of {cartpole,frozenlake,acrobot,mountaincar,plugin,cliffwalking,"
                 "minatar-asterix,minatar-breakout,minatar-freeway,minatar-seaquest,minatar-space_invaders,python}");
    expect_error("env: {name: cartpole}\ntrain:\n  batch_size: [1, 2]\n", "3:15", "not a list");
    expect_error("env: {name: cartpole}\ntrain:\n  batch_size:\n", "3:14", "has no value");
    expect_error("env: {name: cartpole}\ntrain: 5\n", "2:1", "'train' is a section");
}

static void test_missing_required_duplicate_malformed(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    char path[512];
    assert_int_equal(load_text("train:\n  batch_size: 3\n", &cfg, &e, path), -1);
    assert_contains(e.msg, path);
    assert_contains(e.msg, "missing required key 'env.name'");
    expect_error("env:\n  name: cartpole\ntrain:\n  batch_size: 3\n  batch_size: 4\n", "5:3",
                 "duplicate key 'train.batch_size' (first at line 4)");
    expect_error("env:\n  name: cartpole\n  [oops\n", "", "malformed YAML");
    expect_error("- 1\n- 2\n", "1:1", "the top level must be a mapping");
    assert_int_equal(load_text("", &cfg, &e, path), -1);
    assert_contains(e.msg, "empty configuration file");
    assert_int_equal(load_text("env: {name: cartpole}\n---\nseed: 2\n", &cfg, &e, path), -1);
    assert_contains(e.msg, "more than one YAML document");
    assert_int_equal(exp_load(&cfg, "/nonexistent/x.yaml", NULL, 0, &e), -1);
    assert_contains(e.msg, "/nonexistent/x.yaml: cannot open");
}

static void test_set_overrides_and_errors(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    char *ok[] = {"env.name=frozenlake", "train.batch_size=128", "env.map=[SFF, FHF, FFG]",
                  "env.slippery=false"};
    assert_int_equal(exp_load(&cfg, NULL, ok, 4, &e), 0);
    assert_int_equal(cfg.train.batch_size, 128);
    assert_string_equal(cfg.env.map_name, "custom");
    assert_int_equal(cfg.env.nrow, 3);
    assert_string_equal(cfg.env.rows[2], "FFG");
    assert_int_equal(cfg.env.slippery, 0);

    char *bad1[] = {"env.name=cartpole", "train.batchsize=3"};
    assert_int_equal(exp_load(&cfg, NULL, bad1, 2, &e), -1);
    assert_string_equal(e.msg,
                        "--set train.batchsize=3: unknown key 'train.batchsize' (did you mean 'train.batch_size'?)");
    char *bad2[] = {"env.name=cartpole", "train.batch_size"};
    assert_int_equal(exp_load(&cfg, NULL, bad2, 2, &e), -1);
    assert_contains(e.msg, "expected KEY=VALUE");
    char *bad3[] = {"env.name=cartpole", "agent.gamma=-1"};
    assert_int_equal(exp_load(&cfg, NULL, bad3, 2, &e), -1);
    assert_contains(e.msg, "--set agent.gamma=-1: 'agent.gamma' must be in [0, 1]");
    char *bad4[] = {"env.name=frozenlake", "env.map=[SFF, FH, FFG]"};
    assert_int_equal(exp_load(&cfg, NULL, bad4, 2, &e), -1);
    assert_contains(e.msg, "row 2 has 2 cells");
    char *bad5[] = {"env.name=frozenlake", "env.map=[SFX]"};
    assert_int_equal(exp_load(&cfg, NULL, bad5, 2, &e), -1);
    assert_contains(e.msg, "row 1 has 'X'");
    char *bad6[] = {"env.name=frozenlake", "env.map=9x9"};
    assert_int_equal(exp_load(&cfg, NULL, bad6, 2, &e), -1);
    assert_contains(e.msg, "must be 4x4, 8x8, random");
    /* Without env.name anywhere, the required-key check fires. */
    assert_int_equal(exp_load(&cfg, NULL, NULL, 0, &e), -1);
    assert_contains(e.msg, "missing required key 'env.name'");
}

static void test_set_wins_over_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/base.yaml", tu_dir);
    tu_write(path, "env: {name: cartpole}\ntrain: {batch_size: 8}\n");
    exp_config cfg;
    bdrl_err e;
    char *sets[] = {"train.batch_size=16"};
    assert_int_equal(exp_load(&cfg, path, sets, 1, &e), 0);
    assert_int_equal(cfg.train.batch_size, 16);
}

static void test_resolved_yaml_roundtrips(void **state)
{
    (void)state;
    exp_config a, b;
    bdrl_err e;
    char *sets[] = {"env.name=frozenlake", "env.map=[SFFF, FHFH, FFFH, HFFG]", "agent.gamma=0.123456789012345",
                    "output.dir=\"a dir: with colon\"", "seed=77"};
    assert_int_equal(exp_load(&a, NULL, sets, 5, &e), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/resolved.yaml", tu_dir);
    assert_int_equal(cfg_save_yaml(&exp_schema, &a, path, &e), 0);
    assert_int_equal(exp_load(&b, path, NULL, 0, &e), 0);
    assert_memory_equal(&a, &b, sizeof a);
    char buf[64];
    assert_int_equal(cfg_format_value(&exp_schema, &a, "agent.gamma", buf, sizeof buf, &e), 0);
    assert_string_equal(buf, "0.123456789012345");
}

static void test_random_map_seed_follows_run_seed(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    char *s1[] = {"env.name=frozenlake", "env.map=random", "env.map_size=5", "seed=9"};
    assert_int_equal(exp_load(&cfg, NULL, s1, 4, &e), 0);
    assert_int_equal(cfg.env.nrow, 5);
    assert_int_equal(cfg.env.map_seed, 9);
    char *s2[] = {"env.name=frozenlake", "env.map=random", "env.map_seed=3", "seed=9"};
    assert_int_equal(exp_load(&cfg, NULL, s2, 4, &e), 0);
    assert_int_equal(cfg.env.map_seed, 3);
}

static void test_schema_table_lists_every_key(void **state)
{
    (void)state;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    cfg_print_schema_md(&exp_schema, f);
    fclose(f);
    for (int i = 0; i < exp_schema.n_keys; i++) {
        char want[128];
        snprintf(want, sizeof want, "| `%s` |", exp_schema.keys[i].name);
        assert_contains(mem, want);
    }
    assert_contains(mem, "**required**");
    free(mem);
    /* Every key has help and defaults that parse (checked by loading). */
    for (int i = 0; i < exp_schema.n_keys; i++)
        assert_true(exp_schema.keys[i].help && strlen(exp_schema.keys[i].help) > 10);
}

/* Times a call in wall-clock seconds. */
static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/* libyaml's loader is quadratic in the nesting depth (100,000 levels took
 * 25-61 s to be refused): a deep file, a deep --set value and a file over
 * 1 MiB are refused at once, naming the file and line (the column for a
 * --set value); 64 levels still parse. A directory given as the config says
 * so instead of "malformed YAML". */
static void test_size_depth_and_directory_refused(void **state)
{
    (void)state;
    enum { DEEP = 100000 };
    char *text = malloc(2 * DEEP + 64);
    assert_non_null(text);
    int n = sprintf(text, "env:\n  name: cartpole\nagent:\n  hidden: ");
    memset(text + n, '[', DEEP);
    memset(text + n + DEEP, ']', DEEP);
    strcpy(text + n + 2 * DEEP, "\n");
    exp_config cfg;
    bdrl_err e;
    char path[512];
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(load_text(text, &cfg, &e, path), -1);
    assert_true(seconds_since(&t0) < 1.0);
    char want[600];
    snprintf(want, sizeof want, "%s:4:", path);
    assert_contains(e.msg, want);
    assert_contains(e.msg, "nested more than 64 deep");

    /* the same through --set (a shorter value: one argument holds 128 KiB) */
    char *set = malloc(2 * 60000 + 32);
    n = sprintf(set, "agent.hidden=");
    memset(set + n, '[', 60000);
    memset(set + n + 60000, ']', 60000);
    set[n + 120000] = '\0';
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(exp_load(&cfg, NULL, (char *[]){"env.name=cartpole", set}, 2, &e), -1);
    assert_true(seconds_since(&t0) < 1.0);
    assert_contains(e.msg, "more than 64 deep");
    free(set);

    /* 64 levels are fine as YAML (the schema then refuses the value) */
    n = sprintf(text, "env:\n  name: cartpole\nagent:\n  hidden: ");
    memset(text + n, '[', 62); /* + the two mappings above */
    memset(text + n + 62, ']', 62);
    strcpy(text + n + 124, "\n");
    assert_int_equal(load_text(text, &cfg, &e, NULL), -1);
    assert_contains(e.msg, "list items must be plain values");

    /* 1 MiB and one byte: refused, naming the line where the cap falls */
    char *big = malloc((1 << 20) + 2);
    memset(big, '#', (1 << 20) + 1);
    for (int i = 1000; i < (1 << 20); i += 1000)
        big[i] = '\n'; /* comments of 999 characters: line 1049 holds byte 1 MiB */
    big[(1 << 20) + 1] = '\0';
    assert_int_equal(load_text(big, &cfg, &e, path), -1);
    snprintf(want, sizeof want, "%s:1049: the file goes on past 1048576 bytes", path);
    assert_contains(e.msg, want);
    big[1 << 20] = '\0'; /* exactly 1 MiB of comments: an empty configuration, not too big */
    assert_int_equal(load_text(big, &cfg, &e, NULL), -1);
    assert_contains(e.msg, "empty configuration file");
    free(big);
    free(text);

    assert_int_equal(exp_load(&cfg, tu_dir, NULL, 0, &e), -1);
    snprintf(want, sizeof want, "%s: is a directory, not a configuration file", tu_dir);
    assert_contains(e.msg, want);
    tu_result r = tu_run("%s train %s", tu_bdrl(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "is a directory");
    tu_run_free(&r);
}

/* env.params from the command line: --set env.params.KEY=VALUE sets one
 * entry (it was refused: "did you mean train.clip?"), and a mapping given
 * by --set merges into the file's (it replaced the whole map): a key given
 * again replaces its entry in place, a new one is appended. */
static void test_env_params_set_and_merge(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/params.yaml", tu_dir);
    tu_write(path, "env:\n  name: plugin\n  plugin: ./x.so\n  params: {length: 4, p_risky: 0.6}\n");
    exp_config cfg;
    bdrl_err e;
    char *sets[] = {"env.params.clip=2", "env.params={p_risky: 0.9, slip: 0.1}", "env.params.length=7"};
    assert_int_equal(exp_load(&cfg, path, sets, 3, &e), 0);
    assert_int_equal(cfg.env.n_params, 4);
    const char *want[4][2] = {{"length", "7"}, {"p_risky", "0.9"}, {"clip", "2"}, {"slip", "0.1"}};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(cfg.env.param_key[i], want[i][0]);
        assert_string_equal(cfg.env.param_value[i], want[i][1]);
    }
    char *bad[][2] = {{"env.params.length=[1, 2]", "expects a plain value"},
                      {"env.params.a b=1", "must be 1 to 63 letters"},
                      {"env.params={a: 1, a: 2}", "duplicate key 'a'"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(exp_load(&cfg, path, &bad[i][0], 1, &e), -1);
        assert_contains(e.msg, bad[i][1]);
    }
    char *many[ENV_PARAMS_MAX + 1];
    char text[ENV_PARAMS_MAX + 1][32];
    for (int i = 0; i < ENV_PARAMS_MAX - 1; i++) {
        snprintf(text[i], sizeof text[i], "env.params.k%d=%d", i, i);
        many[i] = text[i];
    }
    assert_int_equal(exp_load(&cfg, path, many, ENV_PARAMS_MAX - 2, &e), 0); /* 2 + 14 entries */
    assert_int_equal(cfg.env.n_params, ENV_PARAMS_MAX);
    assert_int_equal(exp_load(&cfg, path, many, ENV_PARAMS_MAX - 1, &e), -1);
    assert_contains(e.msg, "more than 16 entries");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_config_gets_defaults),
        cmocka_unit_test(test_env_names_limits_and_thresholds),
        cmocka_unit_test(test_classic_control_configs),
        cmocka_unit_test(test_values_of_every_type),
        cmocka_unit_test(test_unknown_key_suggests_closest),
        cmocka_unit_test(test_retired_key_loads_old_files),
        cmocka_unit_test(test_wrong_type_and_range),
        cmocka_unit_test(test_missing_required_duplicate_malformed),
        cmocka_unit_test(test_set_overrides_and_errors),
        cmocka_unit_test(test_set_wins_over_file),
        cmocka_unit_test(test_resolved_yaml_roundtrips),
        cmocka_unit_test(test_random_map_seed_follows_run_seed),
        cmocka_unit_test(test_schema_table_lists_every_key),
        cmocka_unit_test(test_size_depth_and_directory_refused),
        cmocka_unit_test(test_env_params_set_and_merge),
    };
    return cmocka_run_group_tests_name("config", tests, tu_group_setup, tu_group_teardown);
}
