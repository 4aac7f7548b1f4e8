/* Python environments (env.name python, src/envs/python.c) with the small
 * environments of tests/python/: the chain's table P read as the exact
 * transition table (the same rows as the C chain plugin's) and scored by
 * `bdrl eval`; seeds reaching reset(seed=...); every agent kind trained on a
 * vector environment; a rerun bit for bit; a run that dies in Python and is
 * resumed to the uninterrupted run's results; each bad environment refused
 * with one line and exit status 2. No gymnasium needed. */
#include "test_util.h"

#include <math.h>

#include "agents/experiment.h"

static char pydir[1024];

static const char *py(const char *file_class)
{
    static char buf[4][1200];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", pydir, file_class);
    return buf[k];
}

static env *py_env(const char *file_class, const char *const *kv, int n_kv)
{
    env_config c;
    env_config_defaults(&c, "python");
    snprintf(c.python, sizeof c.python, "%s", py(file_class));
    for (int i = 0; i < n_kv; i++) {
        snprintf(c.param_key[i], sizeof c.param_key[i], "%s", kv[2 * i]);
        snprintf(c.param_value[i], sizeof c.param_value[i], "%s", kv[2 * i + 1]);
    }
    c.n_params = n_kv;
    bdrl_err e;
    env *en = env_create(&c, &e);
    if (!en)
        fail_msg("%s: %s", file_class, e.msg);
    return en;
}

/* Under LeakSanitizer: the embedded interpreter is never finalized (objects
 * of other envs may be alive until exit), so what CPython allocated for
 * itself is still held at exit and LSan reports it, with only libpython's
 * frames. Those reports alone are suppressed, here and in the bdrl
 * processes the tests start (LSAN_OPTIONS); leaks with a frame of bdrl's
 * own code outside libpython still fail. */
#if UNDER_ASAN
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libpython3\n"; }
#endif

static int setup(void **state)
{
    snprintf(pydir, sizeof pydir, "%s/tests/python", tu_root());
    int rc = tu_group_setup(state);
    if (UNDER_ASAN) {
        static char supp[1200], opts[1400];
        snprintf(supp, sizeof supp, "%s/lsan_python.supp", tu_dir);
        tu_write(supp, "leak:libpython3\n");
        snprintf(opts, sizeof opts, "suppressions=%s:print_suppressions=0", supp);
        setenv("LSAN_OPTIONS", opts, 1);
    }
    return rc;
}

/* The line of `# raise: tag` in a test environment's file. */
static int marker_line(const char *file, const char *tag)
{
    char *text = tu_read(py(file)), want[64];
    assert_non_null(text);
    snprintf(want, sizeof want, "# raise: %s", tag);
    const char *m = strstr(text, want);
    assert_non_null(m);
    int line = 1;
    for (const char *c = text; c < m; c++)
        line += *c == '\n';
    free(text);
    return line;
}

static void test_chain_table_is_p(void **state)
{
    (void)state;
    const env_kind_info *in = env_kind_describe(env_kind_by_name("python"));
    assert_non_null(in);
    assert_int_equal(env_kind_by_name("python"), ENV_PYTHON);
    assert_int_equal(in->table, 2);
    const char *kv[] = {"length", "3", "p_risky", "0.7"}; /* an int and a float: the chain asserts the types */
    env *en = py_env("chain_py.py:Chain", kv, 2);
    assert_true(env_is_tabular(en));
    assert_int_equal(env_n_states(en), 5);
    assert_int_equal(env_n_actions(en), 2);
    assert_int_equal(env_max_steps(en), 100);
    assert_string_equal(env_action_name(en, 1), "risky");
    const env_table *t = env_transition_table(en);
    assert_non_null(t);
    assert_int_equal(t->max_outcomes, 2);
    const unsigned char term[5] = {0, 0, 0, 1, 1};
    assert_memory_equal(t->terminal, term, 5);
    env_free(en);
    /* the rows, as `bdrl env table` prints them */
    tu_result r = tu_run("%s env table python --set env.python=%s", tu_bdrl(), py("chain_py.py:Chain"));
    assert_int_equal(r.status, 0);
    const char *want = "state,action,prob,next_state,reward,terminated\n"
                       "0,0,1,1,0,0\n0,1,0.69999999999999996,3,1,1\n0,1,0.30000000000000004,4,-1,1\n"
                       "1,0,1,2,0,0\n1,1,0.69999999999999996,3,1,1\n1,1,0.30000000000000004,4,-1,1\n"
                       "2,0,1,3,1,1\n2,1,0.69999999999999996,3,1,1\n2,1,0.30000000000000004,4,-1,1\n"
                       "3,0,1,3,0,1\n3,1,1,3,0,1\n4,0,1,4,0,1\n4,1,1,4,0,1\n";
    assert_string_equal(r.out, want);
    tu_run_free(&r);
    /* other params, other table: p_risky reaches P */
    r = tu_run("%s env table python --set env.python=%s --set 'env.params={p_risky: 0.25}'", tu_bdrl(),
               py("chain_py.py:Chain"));
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "0,1,0.25,3,1,1\n0,1,0.75,4,-1,1\n");
    tu_run_free(&r);
    r = tu_run("%s env info python --set env.python=%s", tu_bdrl(), py("chain_py.py:Chain"));
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "transition table: yes");
    tu_run_free(&r);
}

static void test_seeds_reach_reset(void **state)
{
    (void)state;
    env *a = py_env("cartpole_py.py:CartPole", NULL, 0), *b = py_env("cartpole_py.py:CartPole", NULL, 0);
    uint64_t s7 = 7, s8 = 8, s0 = 0;
    float o[4], o2[4];
    memcpy(o, env_reset(a, &s7), sizeof o);
    memcpy(o2, env_reset(b, &s7), sizeof o2);
    assert_memory_equal(o, o2, sizeof o); /* two objects, one seed */
    memcpy(o2, env_reset(b, &s8), sizeof o2);
    assert_memory_not_equal(o, o2, sizeof o);
    /* reset(NULL) continues the generator: seed=None, not the seed again */
    memcpy(o2, env_reset(a, NULL), sizeof o2);
    assert_memory_not_equal(o, o2, sizeof o);
    env_free(a);
    env_free(b);
    /* an object's first reset without a seed is seed 0's */
    a = py_env("cartpole_py.py:CartPole", NULL, 0);
    b = py_env("cartpole_py.py:CartPole", NULL, 0);
    memcpy(o, env_reset(a, NULL), sizeof o);
    memcpy(o2, env_reset(b, &s0), sizeof o2);
    assert_memory_equal(o, o2, sizeof o);
    /* get/set state, and the vector observation after a step */
    double st[4] = {0, 0, 0.2, 0}, got[4];
    bdrl_err e;
    assert_int_equal(env_state_dim(a), 4);
    assert_string_equal(env_state_names(a), "x,x_dot,theta,theta_dot");
    assert_int_equal(env_set_state(a, st, &e), 0);
    env_step s = env_do_step(a, 1);
    env_get_state(a, got);
    for (int i = 0; i < 4; i++)
        assert_true(s.obs[i] == (float)got[i]);
    assert_true(got[1] > 0.19 && got[1] < 0.2); /* native CartPole's 0.19177568620235158 */
    env_free(a);
    env_free(b);
}

/* Buffer protocol (array.array of doubles) and sequence protocol (tuples)
 * read the same numbers; spec.max_episode_steps is the time limit. */
static void test_vector_observations(void **state)
{
    (void)state;
    const char *kv[] = {"as_tuple", "true"};
    env *a = py_env("walk_py.py:Walk", NULL, 0), *b = py_env("walk_py.py:Walk", kv, 1);
    assert_int_equal(env_obs_dim(a), 3);
    assert_false(env_is_tabular(a));
    assert_int_equal(env_max_steps(a), 30);
    uint64_t s = 3;
    env_reset(a, &s);
    env_reset(b, &s);
    int n = 0;
    for (;;) {
        env_step x = env_do_step(a, 2), y = env_do_step(b, 2);
        assert_memory_equal(x.obs, y.obs, 3 * sizeof(float));
        assert_true(x.obs[2] == 1.0f && x.reward == y.reward);
        n++;
        if (x.terminated || x.truncated)
            break;
    }
    assert_true(n <= 30);
    env_free(a);
    env_free(b);
}

static void test_chain_eval_exact(void **state)
{
    (void)state;
    char run[1200];
    snprintf(run, sizeof run, "%s/chain_c51", tu_dir);
    tu_result r = tu_run("%s train %s/examples/envs/chain.yaml --quiet --set agent.kind=c51 --set env.name=python "
                         "--set env.python=%s --set train.total_steps=3000 --out %s",
                         tu_bdrl(), tu_root(), py("chain_py.py:Chain"), run);
    if (r.status != 0)
        fail_msg("train exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --no-samples", tu_bdrl(), run);
    assert_int_equal(r.status, 0);
    char *w = r.out;
    for (const char *c = r.out; *c; c++)
        if (*c != ' ' && *c != '\n')
            *w++ = *c;
    *w = '\0';
    assert_contains(r.out, "\"truth\":\"exact\"");
    const char *p = strstr(r.out, "\"mean_w1\":");
    assert_non_null(p);
    double w1 = strtod(p + 10, NULL);
    print_message("python chain, c51: mean W1 to the exact law %.4f\n", w1);
    assert_true(isfinite(w1) && w1 < 0.08);
    tu_run_free(&r);
}

static int agent_kinds(char kinds[][32], int max)
{
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/kinds.yaml", tu_dir);
    tu_write(cfg, "agent:\n  kind: no_such_agent\n");
    tu_result r = tu_run("%s config %s", tu_bdrl(), cfg);
    const char *p = strchr(r.err, '{'), *q = p ? strchr(p, '}') : NULL;
    int n = 0;
    for (const char *s = p ? p + 1 : NULL; s && s < q && n < max;) {
        size_t len = strcspn(s, ",}");
        snprintf(kinds[n++], 32, "%.*s", (int)len, s);
        s += len + 1;
    }
    tu_run_free(&r);
    return n;
}

static const char *WALK_YAML = "seed: 3\n"
                               "env:\n  name: python\n"
                               "agent:\n  hidden: [16]\n  v_min: -30\n  v_max: 0\n"
                               "train:\n  total_steps: 400\n  learning_starts: 100\n  batch_size: 16\n"
                               "  target_update: 50\n  checkpoint_interval: 100\n"
                               "eval:\n  interval: 200\n  episodes: 3\n";

static void test_every_agent_trains(void **state)
{
    (void)state;
    char kinds[16][32], cfg[700];
    int n = agent_kinds(kinds, 16);
    assert_true(n >= 5);
    snprintf(cfg, sizeof cfg, "%s/walk.yaml", tu_dir);
    tu_write(cfg, WALK_YAML);
    for (int i = 0; i < n; i++) {
        char run[1200];
        snprintf(run, sizeof run, "%s/walk_%s", tu_dir, kinds[i]);
        tu_result r = tu_run("%s train %s --quiet --set agent.kind=%s --set env.python=%s --out %s", tu_bdrl(), cfg,
                             kinds[i], py("walk_py.py:Walk"), run);
        if (r.status != 0)
            fail_msg("train %s on the Python walk exited %d: %s", kinds[i], r.status, r.err);
        tu_run_free(&r);
        char path[1300];
        snprintf(path, sizeof path, "%s/eval.csv", run);
        char *csv = tu_read(path);
        assert_non_null(csv);
        assert_int_equal(tu_count_lines(csv), 3); /* header, steps 200 and 400 */
        free(csv);
    }
}

static void test_rerun_bit_for_bit(void **state)
{
    (void)state;
    char cfg[700], run[3][1200], path[1300];
    snprintf(cfg, sizeof cfg, "%s/rerun.yaml", tu_dir);
    tu_write(cfg, WALK_YAML);
    char *csv[3];
    for (int i = 0; i < 3; i++) {
        snprintf(run[i], sizeof run[i], "%s/rerun_%d", tu_dir, i);
        tu_result r = tu_run("%s train %s --quiet --set agent.kind=c51 --set env.python=%s --set seed=%d --out %s",
                             tu_bdrl(), cfg, py("walk_py.py:Walk"), i < 2 ? 3 : 4, run[i]);
        assert_int_equal(r.status, 0);
        tu_run_free(&r);
        snprintf(path, sizeof path, "%.1199s/eval.csv", run[i]);
        csv[i] = tu_read(path);
        assert_non_null(csv[i]);
    }
    assert_string_equal(csv[0], csv[1]);
    assert_string_not_equal(csv[0], csv[2]); /* the seed matters: the comparison can fail */
    for (int i = 0; i < 3; i++)
        free(csv[i]);
}

/* A run whose environment raises mid-way ends with one line and status 2,
 * keeps its last checkpoint, and resumed (the current episode replayed from
 * its seeded reset) ends with the uninterrupted run's eval.csv. */
static void test_fail_then_resume(void **state)
{
    (void)state;
    char cfg[700], full[1200], cut[1200], path[1300];
    snprintf(cfg, sizeof cfg, "%s/fails.yaml", tu_dir);
    tu_write(cfg, WALK_YAML);
    snprintf(full, sizeof full, "%s/fails_full", tu_dir);
    snprintf(cut, sizeof cut, "%s/fails_cut", tu_dir);
    const char *target = py("bad_envs.py:FailsAt");
    tu_result r = tu_run("%s train %s --quiet --set agent.kind=qrdqn --set env.python=%s --out %s", tu_bdrl(), cfg,
                         target, full);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    r = tu_run("BDRL_TEST_FAIL_AT=250 %s train %s --quiet --set agent.kind=qrdqn --set env.python=%s --out %s",
               tu_bdrl(), cfg, target, cut);
    assert_int_equal(r.status, 2);
    assert_int_equal(tu_count_lines(r.err), 1);
    char want[1400];
    snprintf(want, sizeof want, "step: raised RuntimeError: failing on purpose (at %s/bad_envs.py:%d)", pydir,
             marker_line("bad_envs.py", "failsat"));
    assert_contains(r.err, want);
    tu_run_free(&r);
    snprintf(path, sizeof path, "%s/checkpoint.bin", cut);
    assert_int_equal(access(path, F_OK), 0);
    r = tu_run("%s train --resume %s --quiet", tu_bdrl(), cut);
    if (r.status != 0)
        fail_msg("resume exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(path, sizeof path, "%s/eval.csv", full);
    char *a = tu_read(path);
    snprintf(path, sizeof path, "%s/eval.csv", cut);
    char *b = tu_read(path);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_bad_environments(void **state)
{
    (void)state;
    char at_init[64], at_step[64], at_import[64];
    snprintf(at_init, sizeof at_init, "bad_envs.py:%d)", marker_line("bad_envs.py", "init"));
    snprintf(at_step, sizeof at_step, "bad_envs.py:%d)", marker_line("bad_envs.py", "step"));
    snprintf(at_import, sizeof at_import, "bad_import.py:%d)", marker_line("bad_import.py", "import"));
    struct {
        const char *target, *msg, *at;
    } bad[] = {
        {"bad_import.py:Env", "bad_import.py:Env: importing ", NULL},
        {"bad_import.py:Env", "ModuleNotFoundError: No module named 'bdrl_no_such_module' (at ", at_import},
        {"chain_py.py:Nope", "chain_py.py:Nope: ", NULL},
        {"chain_py.py:Nope", "chain_py.py has no class Nope", NULL},
        {"bad_envs.py:RaisesInInit", "constructing RaisesInInit: ValueError: length 3 is too short (at ", at_init},
        {"bad_envs.py:NoActionN", "bad_envs.py:NoActionN: action_space (Box) has no n", NULL},
        {"bad_envs.py:StepArity", "bad_envs.py:StepArity: step: returned 4 values, not (obs, reward, terminated, "
                                  "truncated, info) (after action 0)", NULL},
        {"bad_envs.py:ResetArity", "bad_envs.py:ResetArity: reset: returned a list, not the pair (obs, info)", NULL},
        {"bad_envs.py:NanObs", "bad_envs.py:NanObs: step: non-finite observation: obs[1] = nan (after action 0)",
         NULL},
        {"bad_envs.py:WrongShape", "bad_envs.py:WrongShape: step: wrong observation shape: 3 items, "
                                   "observation_space.shape says 2", NULL},
        {"bad_envs.py:StepRaises", "bad_envs.py:StepRaises: step: raised RuntimeError: the cart fell off the "
                                   "table (at ", at_step},
        {"no_such_file.py:Env", "no file ", NULL},
        {"no_colon", "env.python must be FILE.py:CLASS, MODULE:CLASS or gymnasium:ID", NULL},
        {"bdrl_no_such_package.mod:Env", "importing bdrl_no_such_package.mod: ModuleNotFoundError", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *t = strchr(bad[i].target, '.') && strstr(bad[i].target, ".py:") ? py(bad[i].target) : bad[i].target;
        tu_result r = tu_run("%s env rollout python --set env.python=%s --actions 0,0,0", tu_bdrl(), t);
        if (r.status != 2)
            fail_msg("case %zu (%s) exited %d, expected 2; stderr: %s", i, bad[i].target, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        if (bad[i].at)
            assert_contains(r.err, bad[i].at);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
    /* the control: the valid base class runs */
    tu_result r = tu_run("%s env rollout python --set env.python=%s --actions 0,0", tu_bdrl(), py("bad_envs.py:Ok"));
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    tu_run_free(&r);
    /* module:Class on env.python_path */
    r = tu_run("%s env info python --set env.python=walk_py:Walk --set 'env.python_path=[%s]'", tu_bdrl(), pydir);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "observation_dim: 3");
    tu_run_free(&r);
    /* through train: one line, status 2 */
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/bad.yaml", tu_dir);
    tu_write(cfg, WALK_YAML);
    r = tu_run("%s train %s --quiet --set env.python=%s --out %s/train_bad", tu_bdrl(), cfg,
               py("bad_envs.py:StepRaises"), tu_dir);
    assert_int_equal(r.status, 2);
    assert_int_equal(tu_count_lines(r.err), 1);
    assert_contains(r.err, at_step);
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_table_is_p),
        cmocka_unit_test(test_seeds_reach_reset),
        cmocka_unit_test(test_vector_observations),
        cmocka_unit_test(test_chain_eval_exact),
        cmocka_unit_test(test_every_agent_trains),
        cmocka_unit_test(test_rerun_bit_for_bit),
        cmocka_unit_test(test_fail_then_resume),
        cmocka_unit_test(test_bad_environments),
    };
    return cmocka_run_group_tests_name("python", tests, setup, tu_group_teardown);
}
