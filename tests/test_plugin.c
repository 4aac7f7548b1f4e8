/* Environment plugins (include/bdrl/env_plugin.h, src/envs/plugin.c): the
 * example chain (examples/envs/chain.c, built by `make examples` against the
 * installed headers) through the env interface and its exact truth; every
 * broken plugin of tests/plugins/bad_plugin.c refused with one line and exit
 * status 2; a crash inside a plugin named; and the chain trained by every
 * agent kind the configuration accepts, scored by `bdrl eval` against its
 * exact laws. */
#include "test_util.h"

#include <math.h>

#include "agents/experiment.h"
#include "train/train.h"
#include "truth/truth.h"

static env *chain_env(const char *const *kv, int n_kv)
{
    env_config c;
    env_config_defaults(&c, "plugin");
    tu_build_path(c.plugin, sizeof c.plugin, "examples/libchain.so");
    for (int i = 0; i < n_kv; i++) {
        snprintf(c.param_key[i], sizeof c.param_key[i], "%s", kv[2 * i]);
        snprintf(c.param_value[i], sizeof c.param_value[i], "%s", kv[2 * i + 1]);
    }
    c.n_params = n_kv;
    bdrl_err e;
    env *en = env_create(&c, &e);
    if (!en)
        fail_msg("chain plugin: %s", e.msg);
    return en;
}

/* The registry: names unique and found again, the ENV_* constants where
 * they say, and what each built-in class declares (table, tabular, probes)
 * true of the environments it creates — what callers rely on instead of
 * names. */
static void test_registry_capabilities(void **state)
{
    (void)state;
    assert_int_equal(ENV_N_KINDS, 12);
    const char *names[] = {"cartpole", "frozenlake", "acrobot", "mountaincar", "plugin", "cliffwalking",
                           "minatar-asterix", "minatar-breakout", "minatar-freeway", "minatar-seaquest",
                           "minatar-space_invaders", "python"};
    const int consts[] = {ENV_CARTPOLE, ENV_FROZENLAKE, ENV_ACROBOT, ENV_MOUNTAINCAR, ENV_PLUGIN, ENV_CLIFFWALKING,
                          ENV_MINATAR_ASTERIX, ENV_MINATAR_BREAKOUT, ENV_MINATAR_FREEWAY, ENV_MINATAR_SEAQUEST,
                          ENV_MINATAR_SPACE_INVADERS, ENV_PYTHON};
    for (int k = 0; k < ENV_N_KINDS; k++) {
        const env_kind_info *in = env_kind_describe(k);
        assert_non_null(in);
        assert_string_equal(in->name, names[k]);
        assert_int_equal(consts[k], k);
        assert_int_equal(env_kind_by_name(in->name), k);
        if (k == ENV_PLUGIN || k == ENV_PYTHON)
            continue; /* needs a file; the chain tests (here, test_python.c) */
        env_config c;
        env_config_defaults(&c, in->name);
        assert_int_equal(c.kind, k);
        bdrl_err e;
        env *en = env_create(&c, &e);
        assert_non_null(en);
        assert_int_equal(in->table == 1, env_transition_table(en) != NULL);
        assert_int_equal(in->tabular, env_is_tabular(en));
        assert_int_equal(env_is_tabular(en), env_n_states(en) > 0);
        for (int a = 0; a < env_n_actions(en); a++)
            assert_true(env_action_name(en, a)[0] != '\0');
        /* a state to name, or an image observation (MinAtar) and no state */
        int ih, iw, ic;
        int img = env_obs_shape(en, &ih, &iw, &ic);
        assert_true(env_state_dim(en) > 0 ? env_state_names(en)[0] != '\0' : img && ih * iw * ic == env_obs_dim(en));
        for (int i = 0; i < in->n_probes; i++) {
            float obs[ENV_OBS_MAX];
            assert_int_equal(env_observe_state(en, in->probe(i), obs, &e), 0);
            assert_non_null(in->probe_name(i));
        }
        assert_null(in->n_probes ? in->probe(in->n_probes) : NULL);
        env_free(en);
    }
    assert_null(env_kind_describe(ENV_N_KINDS));
    assert_int_equal(env_kind_by_name("pong"), -1);
    assert_int_equal(env_kind_by_name(NULL), -1);
    env_config c;
    env_config_defaults(&c, "pong");
    bdrl_err e;
    assert_null(env_create(&c, &e));
    assert_contains(e.msg, "unknown environment kind");
}

static void test_chain_through_env_interface(void **state)
{
    (void)state;
    const env_kind_info *in = env_kind_describe(env_kind_by_name("plugin"));
    assert_non_null(in);
    assert_int_equal(in->table, 2); /* known once loaded */
    env *en = chain_env(NULL, 0);
    assert_int_equal(env_obs_dim(en), 1);
    assert_int_equal(env_n_actions(en), 2);
    assert_true(env_is_tabular(en));
    assert_int_equal(env_n_states(en), 5);
    assert_int_equal(env_max_steps(en), 100);
    assert_string_equal(env_action_name(en, 0), "safe");
    assert_string_equal(env_action_name(en, 1), "risky");
    assert_string_equal(env_action_name(en, 2), "");
    const env_table *t = env_transition_table(en);
    assert_non_null(t);
    assert_int_equal(t->n_states, 5);
    assert_int_equal(t->max_outcomes, 2);
    const unsigned char term[5] = {0, 0, 0, 1, 1};
    assert_memory_equal(t->terminal, term, 5);
    assert_string_equal(t->desc, "SFFGH");
    const env_outcome *o = env_table_outcome(t, 1, 1, 1);
    assert_non_null(o);
    assert_int_equal(o->next_state, 4);
    assert_true(o->reward == -1 && o->terminated);
    assert_close(o->prob, 0.3, 1e-15);

    /* safe, safe, safe: the goal on step 3 with reward 1 */
    uint64_t seed = 5;
    assert_true(env_reset(en, &seed)[0] == 0);
    for (int k = 1; k <= 3; k++) {
        env_step st = env_do_step(en, 0);
        assert_false(st.refused);
        assert_true(st.obs[0] == (float)k);
        assert_int_equal(st.terminated, k == 3);
        assert_true(st.reward == (k == 3 ? 1.0 : 0.0));
    }
    assert_true(env_do_step(en, 0).refused); /* after the end: refused by bdrl, not passed on */
    env_reset(en, NULL);
    assert_true(env_do_step(en, 2).refused); /* action out of range: never reaches the plugin */

    /* risky jumps: the host's stream, so a seed reproduces them */
    int a[64], b[64], differ = 0, wins = 0;
    env *en2 = chain_env(NULL, 0);
    for (int i = 0; i < 64; i++) {
        uint64_t s1 = 100 + (uint64_t)i, s2 = 100 + (uint64_t)i, s3 = 1000 + (uint64_t)i;
        env_reset(en, &s1);
        a[i] = (int)env_do_step(en, 1).obs[0];
        env_reset(en2, &s2);
        b[i] = (int)env_do_step(en2, 1).obs[0];
        assert_int_equal(a[i], b[i]);
        env_reset(en2, &s3);
        differ += (int)env_do_step(en2, 1).obs[0] != a[i];
        wins += a[i] == 3;
    }
    assert_true(differ > 0);
    assert_true(wins > 30 && wins < 60); /* p_risky 0.7 of 64 */

    /* the time limit: the plugin's 100, or env.max_episode_steps; bdrl truncates */
    env_config c;
    env_config_defaults(&c, "plugin");
    tu_build_path(c.plugin, sizeof c.plugin, "examples/libchain.so");
    c.max_episode_steps = 2;
    bdrl_err e;
    env *en3 = env_create(&c, &e);
    assert_non_null(en3);
    assert_int_equal(env_max_steps(en3), 2);
    env_reset(en3, NULL);
    env_step s1 = env_do_step(en3, 0), s2 = env_do_step(en3, 0);
    assert_false(s1.truncated);
    assert_true(s2.truncated && !s2.terminated);
    env_free(en3);

    double st = 2;
    assert_int_equal(env_set_state(en, &st, &e), 0);
    assert_true(env_do_step(en, 0).reward == 1.0);
    st = 9;
    assert_int_equal(env_set_state(en, &st, &e), -1);
    env_free(en);
    env_free(en2);
}

static void test_chain_exact_laws(void **state)
{
    (void)state;
    env *en = chain_env(NULL, 0);
    const env_table *t = env_transition_table(en);
    int pol[5];
    bdrl_err e;
    assert_int_equal(truth_tab_value_iteration(t, 0.9, NULL, NULL, pol, &e), 0);
    for (int s = 0; s < 5; s++)
        assert_int_equal(pol[s], 0); /* safe everywhere; terminal states 0 */
    for (int s = 0; s < 3; s++) {
        truth_atoms d;
        assert_int_equal(truth_tab_distribution(t, 0.9, pol, s, 0, &d, &e), 0);
        assert_int_equal(d.n, 1);
        assert_close(d.value[0], pow(0.9, 2 - s), 1e-15);
        truth_atoms_free(&d);
        assert_int_equal(truth_tab_distribution(t, 0.9, pol, s, 1, &d, &e), 0);
        assert_int_equal(d.n, 2);
        assert_true(d.value[0] == -1 && d.value[1] == 1);
        assert_close(d.prob[0], 0.3, 1e-15);
        assert_close(d.prob[1], 0.7, 1e-15);
        truth_atoms_free(&d);
    }
    env_free(en);
}

/* agent.mode evaluate follows truth_env_optimal_policy: it must be truth's value
 * iteration, on the plugin's table too. */
static void test_evaluate_policy_is_truths(void **state)
{
    (void)state;
    const char *kv[] = {"p_risky", "0.97", "length", "3"};
    env *en = chain_env(kv, 2);
    int a[5], b[5];
    bdrl_err e;
    assert_int_equal(truth_env_optimal_policy(en, 0.9, a), 0);
    assert_int_equal(truth_tab_value_iteration(env_transition_table(en), 0.9, NULL, NULL, b, &e), 0);
    assert_memory_equal(a, b, sizeof a);
    /* risky (0.94) beats safe from states 0 (0.81) and 1 (0.9), not from 2 (1) */
    const int want[5] = {1, 1, 0, 0, 0};
    assert_memory_equal(a, want, sizeof want);
    env_free(en);

    env_config c;
    env_config_defaults(&c, "cartpole");
    env *cp = env_create(&c, &e);
    assert_int_equal(truth_env_optimal_policy(cp, 0.9, a), -1); /* no table */
    env_free(cp);
}

static void test_bad_plugins_refused(void **state)
{
    (void)state;
    char dir[1200];
    tu_build_path(dir, sizeof dir, "plugins");
    struct {
        const char *so, *extra, *msg;
    } bad[] = {
        {"/nonexistent/libnothing.so", "", "env.plugin: cannot load /nonexistent/libnothing.so"},
        {"/etc/hostname", "", "env.plugin: cannot load /etc/hostname"},
        {"@/bad_no_step.so", "", "bad_no_step.so: missing symbol bdrl_env_step"},
        {"@/bad_version.so", "", "bad_version.so: interface version 99, but this bdrl loads version 1"},
        {"@/bad_actions.so", "", "bad_actions.so: spec.n_actions is 0 (expected 1 to 256)"},
        {"@/bad_table.so", "", "bad_table.so: transition table: state 0, action 0: probabilities sum to 0.9"},
        {"@/bad_ok.so", "--set 'env.params={x: 1}'", "bad_ok.so: bad: unknown param 'x'"},
        {"@/bad_nan_obs.so", "", "bad_nan_obs.so: bdrl_env_step returned a non-finite observation: obs[0] = nan "
                                 "(after action 0)"},
        {"@/bad_obs_range.so", "", "bad_obs_range.so: bdrl_env_step returned observation 7, not a state index "
                                   "in [0, 3)"},
        {"@/bad_ok.so --actions 0,5", "", "--actions"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char so[1400];
        if (bad[i].so[0] == '@')
            snprintf(so, sizeof so, "%s%s", dir, bad[i].so + 1);
        else
            snprintf(so, sizeof so, "%s", bad[i].so);
        tu_result r = tu_run("%s env rollout plugin --set env.plugin=%s %s %s", tu_bdrl(), so, bad[i].extra,
                             strstr(so, "--actions") ? "" : "--actions 0,0,0");
        if (r.status != 2)
            fail_msg("case %zu (%s) exited %d, expected 2; stderr: %s", i, bad[i].so, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
    /* the same through train: refused before or while training, one line, 2 */
    const char *train_cases[][2] = {
        {"bad_version.so", "interface version 99"},
        {"bad_nan_obs.so", "non-finite observation"},
    };
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/bad.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: plugin\ntrain:\n  total_steps: 300\n  learning_starts: 50\n");
    for (size_t i = 0; i < 2; i++) {
        tu_result r = tu_run("%s train %s --quiet --set env.plugin=%s/%s --out %s/train_bad_%zu", tu_bdrl(), cfg,
                             dir, train_cases[i][0], tu_dir, i);
        if (r.status != 2)
            fail_msg("train with %s exited %d, expected 2; stderr: %s", train_cases[i][0], r.status, r.err);
        assert_contains(r.err, train_cases[i][1]);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
    /* the control: the valid variant runs */
    tu_result r = tu_run("%s env rollout plugin --set env.plugin=%s/bad_ok.so --actions 0,0,1", tu_bdrl(), dir);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "step,state,reward,terminated,truncated\n1,1,0,0,0\n2,1,0,0,0\n3,2,1,1,0\n");
    tu_run_free(&r);
}

/* env.params is the one free-form mapping: anything but scalar keys and
 * values there, and a mapping anywhere else, is refused with file:line:col. */
static void test_params_config_errors(void **state)
{
    (void)state;
    struct {
        const char *yaml, *msg;
    } bad[] = {
        {"env:\n  name: plugin\n  params:\n    a: {b: 1}\n", ":4:5: 'env.params': a mapping here holds plain keys and values only"},
        {"env:\n  name: plugin\n  params: [1, 2]\n", ":3:11: 'env.params' expects a mapping of keys to values"},
        {"env:\n  name: plugin\n  params: {\"a b\": 1}\n", ":3:11: 'env.params': key 'a b' must be 1 to 63 letters"},
        {"env:\n  name: plugin\n  paramz: {a: 1}\n", ":3:3: unknown key 'env.paramz' (did you mean 'env.params'?)"},
        {"env:\n  name: cartpole\n  map: {a: 1}\n", ":3:8: 'env.map' expects a value, not a mapping"},
        {"env:\n  name: plugin\n", "env.plugin: env.name plugin needs env.plugin"},
    };
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/params.yaml", tu_dir);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_write(cfg, bad[i].yaml);
        tu_result r = tu_run("%s config %s", tu_bdrl(), cfg);
        if (r.status != 2)
            fail_msg("case %zu exited %d, expected 2; stderr: %s", i, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(tu_count_lines(r.err), 1);
        tu_run_free(&r);
    }
    /* params survive the round trip through a run's config.yaml, in order */
    tu_write(cfg, "env:\n  name: plugin\n  plugin: x.so\n  params: {b: 2, a: \"x \\\"y\\\"\"}\n");
    exp_config c;
    bdrl_err e;
    assert_int_equal(exp_load(&c, cfg, NULL, 0, &e), 0);
    assert_int_equal(c.env.n_params, 2);
    assert_string_equal(c.env.param_key[0], "b");
    assert_string_equal(c.env.param_value[1], "x \"y\"");
    char saved[700];
    snprintf(saved, sizeof saved, "%s/saved.yaml", tu_dir);
    assert_int_equal(cfg_save_yaml(&exp_schema, &c, saved, &e), 0);
    exp_config c2;
    assert_int_equal(exp_load(&c2, saved, NULL, 0, &e), 0);
    assert_int_equal(c2.env.n_params, 2);
    assert_string_equal(c2.env.param_key[1], "a");
    assert_string_equal(c2.env.param_value[1], "x \"y\"");
    /* the path made absolute when first loaded, and kept as written beside it */
    assert_true(c.env.plugin[0] == '/');
    assert_string_equal(c2.env.plugin, c.env.plugin);
    assert_string_equal(c2.env.plugin_given, "x.so");
}

static void test_crash_names_plugin(void **state)
{
    (void)state;
    char so[1200];
    tu_build_path(so, sizeof so, "plugins/bad_crash.so");
    tu_result r = tu_run("%s env rollout plugin --set env.plugin=%s --actions 0,0,0", tu_bdrl(), so);
    /* the signal ends the process; under AddressSanitizer its handler,
     * restored by ours, reports the SEGV next and exits 1 */
    if (UNDER_ASAN)
        assert_int_not_equal(r.status, 0);
    else
        assert_int_equal(r.status, 128 + SIGSEGV);
    char want[1400];
    snprintf(want, sizeof want, "bdrl: environment plugin %s crashed (SIGSEGV) in bdrl_env_step\n", so);
    assert_contains(r.err, want);
    if (UNDER_ASAN)
        assert_contains(r.err, "AddressSanitizer: SEGV"); /* the previous handler still ran */
    tu_run_free(&r);
}

/* The agent kinds the configuration accepts, from its own error message
 * ("'agent.kind' must be one of {bd,c51}"): new agents are covered as they
 * are registered. */
static int agent_kinds(char kinds[][32], int max)
{
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/kinds.yaml", tu_dir);
    tu_write(cfg, "env:\n  name: cartpole\n");
    tu_result r = tu_run("%s config %s --set agent.kind=no-such-agent", tu_bdrl(), cfg);
    const char *p = strstr(r.err, "{"), *q = p ? strchr(p, '}') : NULL;
    int n = 0;
    if (p && q) {
        char list[512];
        snprintf(list, sizeof list, "%.*s", (int)(q - p - 1), p + 1);
        for (char *tok = strtok(list, ", "); tok && n < max; tok = strtok(NULL, ", "))
            snprintf(kinds[n++], 32, "%s", tok);
    }
    tu_run_free(&r);
    return n;
}

static void test_chain_every_agent(void **state)
{
    (void)state;
    char kinds[16][32], so[1200];
    int n = agent_kinds(kinds, 16);
    assert_true(n >= 2);
    tu_build_path(so, sizeof so, "examples/libchain.so");
    for (int i = 0; i < n; i++) {
        char run[1200];
        snprintf(run, sizeof run, "%s/chain_%s", tu_dir, kinds[i]);
        tu_result r = tu_run("%s train %s/examples/envs/chain.yaml --quiet --set agent.kind=%s --set env.plugin=%s "
                             "--out %s", tu_bdrl(), tu_root(), kinds[i], so, run);
        if (r.status != 0)
            fail_msg("train %s on the chain exited %d: %s", kinds[i], r.status, r.err);
        tu_run_free(&r);
        r = tu_run("%s eval %s --json --no-samples", tu_bdrl(), run);
        if (r.status != 0)
            fail_msg("eval %s exited %d: %s", kinds[i], r.status, r.err);
        /* the JSON without whitespace */
        char *w = r.out;
        for (const char *c = r.out; *c; c++)
            if (*c != ' ' && *c != '\n')
                *w++ = *c;
        *w = '\0';
        assert_contains(r.out, "\"truth\":\"exact\"");
        assert_contains(r.out, "\"truth_policy\":\"optimal\"");
        assert_contains(r.out, "\"policy\":[0,0,0,0,0]");
        double w1 = tu_json_num(r.out, "mean_w1");
        print_message("chain, %s: mean W1 to the exact law %.4f\n", kinds[i], w1);
        /* every (state, action) of the chain scored: 3 states x 2 actions */
        int entries = 0;
        for (const char *p = r.out; (p = strstr(p, "\"mean_truth\":")); p++) {
            double mt = strtod(p + 13, NULL);
            entries++;
            assert_true(fabs(mt - 0.4) < 1e-12 || fabs(mt - 0.81) < 1e-12 || fabs(mt - 0.9) < 1e-12 ||
                        fabs(mt - 1.0) < 1e-12);
        }
        assert_int_equal(entries, 6);
        /* bd and c51 learn the laws; W1 of the law a point mass at the means
         * would get is 0.42 (the risky 0.3/0.7 coin), and an untrained net's
         * is larger still */
        if (!strcmp(kinds[i], "bd") || !strcmp(kinds[i], "c51"))
            assert_true(w1 < 0.08);
        else
            assert_true(isfinite(w1));
        tu_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_capabilities),
        cmocka_unit_test(test_chain_through_env_interface),
        cmocka_unit_test(test_chain_exact_laws),
        cmocka_unit_test(test_evaluate_policy_is_truths),
        cmocka_unit_test(test_bad_plugins_refused),
        cmocka_unit_test(test_params_config_errors),
        cmocka_unit_test(test_crash_names_plugin),
        cmocka_unit_test(test_chain_every_agent),
    };
    return cmocka_run_group_tests_name("plugin", tests, tu_group_setup, tu_group_teardown);
}
