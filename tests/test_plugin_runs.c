/* A new user's plugin runs, end to end through the bdrl command, on the
 * one-step gamble of tests/plugins/gamble.c (state 0 -> the end: gamble +3
 * or -1, or pass 0). Case families:
 *   - eval --truth replay: outcomes that share a next state keep their
 *     rewards (the data's own error is the sampling error of the wins);
 *   - a relative env.plugin: the run works from any directory afterwards
 *     (eval, dist, plot dist, --resume);
 *   - no default threshold: steps to threshold are none ("–") unless
 *     eval.threshold is set (summary.json, train's last line, compare);
 *   - a support [v_min, v_max] that misses the exact returns: config and
 *     train warn (one line), for the agents whose laws live on it;
 *   - a plugin without a transition table: eval gives the greedy return,
 *     and Monte Carlo laws at --state states; evaluate mode names the
 *     missing bdrl_env_transitions;
 *   - eval's line on BD's Bellman Diffusion samples says how many were
 *     drawn, and that none were with --no-samples;
 *   - plot dist: the title names the plugin by its own name, a terminal
 *     state's label comes from the env (not FrozenLake's "H hole"), more
 *     than two runs, one colour per agent kind whatever its slot; the env
 *     accessors behind them (env_display_name, env_state_label).
 */
#include "test_util.h"

#include "envs/env.h"

#include <limits.h>
#include <sys/stat.h>

/* Writes a config for the gamble plugin at `so` (a path as the config
 * should hold it) into path, with extra YAML lines appended. */
static void write_gamble_config(const char *path, const char *so, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text,
             "seed: 1\n"
             "env:\n  name: plugin\n  plugin: %s\n"
             "agent:\n  kind: c51\n  mode: evaluate\n  gamma: 0.9\n  hidden: [16]\n  v_min: -1\n  v_max: 3\n"
             "train:\n  total_steps: 2000\n  learning_starts: 100\n  batch_size: 32\n"
             "eval:\n  interval: 1000\n  episodes: 10\n%s",
             so, extra ? extra : "");
    tu_write(path, text);
}

/* The config tu_dir/NAME.yaml for the plugin build_dir/plugins/SO.so (gamble
 * or gamble_notable), its path into cfg. */
static void gamble_config(const char *so_name, const char *name, char *cfg, size_t n)
{
    char so[1200], rel[64];
    snprintf(rel, sizeof rel, "plugins/%s.so", so_name);
    tu_build_path(so, sizeof so, rel);
    snprintf(cfg, n, "%s/%s.yaml", tu_dir, name);
    write_gamble_config(cfg, so, NULL);
}

/* bdrl train CFG --out RUN -q SETS, which must succeed. */
static void train(const char *cfg, const char *run, const char *sets)
{
    tu_result r = tu_run("%s train %s --out %s -q %s", tu_bdrl(), cfg, run, sets);
    if (r.status != 0)
        fail_msg("train %s %s: exit %d: %s", cfg, sets, r.status, r.err);
    tu_run_free(&r);
}

/* The replay's empirical law of the gamble is +3 with the share of wins
 * among the gambles it holds; every episode is one step, so metrics.csv
 * (one row per episode, the buffer holds them all) has those returns. The
 * data's own error is then W1(empirical, exact) = 4 |p̂ - 1/2| at (start,
 * gamble) and 0 at (start, pass), 2 |p̂ - 1/2| on average. Keyed by next
 * state alone, every gamble read one reward and the error was about 1. */
static void test_replay_truth_keeps_rewards_apart(void **state)
{
    (void)state;
    char cfg[1200], run[1200];
    gamble_config("gamble", "gamble", cfg, sizeof cfg);
    snprintf(run, sizeof run, "%s/replay_run", tu_dir);
    train(cfg, run, "");
    char path[1300];
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    char *csv = tu_read(path);
    assert_non_null(csv);
    int wins = 0, losses = 0;
    for (const char *l = strchr(csv, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
        double ret;
        assert_int_equal(sscanf(l + 1, "%*[^,],%*[^,],%lf", &ret), 1);
        wins += ret == 3;
        losses += ret == -1;
    }
    free(csv);
    assert_true(wins > 100 && losses > 100);
    double p = (double)wins / (wins + losses);
    tu_result r = tu_run("%s eval %s --truth replay --json --no-samples", tu_bdrl(), run);
    if (r.status != 0)
        fail_msg("eval --truth replay: exit %d: %s", r.status, r.err);
    assert_close(tu_json_num(r.out, "mean_w1_truth_exact"), 2 * fabs(p - 0.5), 1e-9);
    tu_run_free(&r);
}

/* Trained with env.plugin relative to one directory, a run is then read
 * from another: eval, dist, plot dist and --resume all found the plugin
 * only from the first (config.yaml held the path as written). config.yaml
 * now holds the absolute path, and the path as written beside it. */
static void test_relative_plugin_path_works_anywhere(void **state)
{
    (void)state;
    char so[1200], home[1200], elsewhere[1200], bdrl[4096];
    if (!realpath(tu_bdrl(), bdrl))
        fail_msg("no bdrl at %s", tu_bdrl());
    tu_build_path(so, sizeof so, "plugins/gamble.so");
    snprintf(home, sizeof home, "%s/home", tu_dir);
    snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", tu_dir);
    assert_int_equal(mkdir(home, 0755), 0);
    assert_int_equal(mkdir(elsewhere, 0755), 0);
    tu_result r = tu_run("mkdir -p %s/lib && cp %s %s/lib/libgamble.so", home, so, home);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    char cfg[1300];
    snprintf(cfg, sizeof cfg, "%s/gamble.yaml", home);
    write_gamble_config(cfg, "lib/libgamble.so", NULL);
    r = tu_run("cd %s && %s train gamble.yaml --out run -q --stop-after 1000", home, bdrl);
    if (r.status != 0)
        fail_msg("train: exit %d: %s", r.status, r.err);
    tu_run_free(&r);
    char path[1300];
    snprintf(path, sizeof path, "%s/run/config.yaml", home);
    char *text = tu_read(path), want[1400];
    assert_non_null(text);
    snprintf(want, sizeof want, "plugin: %s/lib/libgamble.so\n", home);
    assert_contains(text, want);
    assert_contains(text, "plugin_given: lib/libgamble.so\n");
    free(text);
    const char *cmds[] = {"eval %s/run --no-samples", "dist %s/run --state 0",
                          "plot dist %s/run --out dist", "train --resume %s/run -q"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char cmd[1600];
        snprintf(cmd, sizeof cmd, cmds[i], home);
        r = tu_run("cd %s && %s %s", elsewhere, bdrl, cmd);
        if (r.status != 0)
            fail_msg("from another directory, bdrl %s: exit %d: %s", cmd, r.status, r.err);
        tu_run_free(&r);
    }
    snprintf(path, sizeof path, "%s/run/summary.json", home);
    text = tu_read(path);
    assert_non_null(text);
    assert_close(tu_json_num(text, "total_steps"), 2000, 0); /* the resume finished the run */
    free(text);
}

/* A plugin has no default threshold: it was a mean return of 0, which the
 * gamble "reached" at its first evaluation. Now summary.json's threshold
 * and steps to threshold are null, train says there is none, compare shows
 * "–" and says why, and eval.stop_at_threshold without eval.threshold is
 * refused; with eval.threshold set, all of it works as for the built-in
 * environments. */
static void test_no_default_threshold(void **state)
{
    (void)state;
    char cfg[1200], out[1200], path[1300];
    gamble_config("gamble", "thr", cfg, sizeof cfg);
    snprintf(out, sizeof out, "%s/thr_cmp", tu_dir);
    tu_result r = tu_run("%s compare %s --seeds 2 --out %s", tu_bdrl(), cfg, out);
    if (r.status != 0)
        fail_msg("compare: exit %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(path, sizeof path, "%s/runs/thr_s1/summary.json", out);
    char *text = tu_read(path);
    assert_non_null(text);
    assert_true(isnan(tu_json_num(text, "threshold")));
    assert_true(isnan(tu_json_num(text, "steps_to_threshold")));
    free(text);
    snprintf(path, sizeof path, "%s/comparison.md", out);
    text = tu_read(path);
    assert_non_null(text);
    assert_contains(text, "Steps to threshold: none (–): eval.threshold is not set, and plugin has no default");
    assert_contains(text, "| thr | – | – [–, –] | – |");
    free(text);

    snprintf(out, sizeof out, "%s/thr_run", tu_dir);
    r = tu_run("%s train %s --out %s", tu_bdrl(), cfg, out);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "threshold none (set eval.threshold: plugin has no default)");
    tu_run_free(&r);
    r = tu_run("%s train %s --out %s_stop --set eval.stop_at_threshold=true", tu_bdrl(), cfg, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "eval.stop_at_threshold needs eval.threshold");
    tu_run_free(&r);

    /* a threshold given: the first evaluation at 0.5 or above (the greedy
     * gamble's mean return is about 1, its evaluations are at 1000 and 2000) */
    r = tu_run("%s train %s --out %s_set -q --set eval.threshold=0.5", tu_bdrl(), cfg, out);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    snprintf(path, sizeof path, "%s_set/summary.json", out);
    text = tu_read(path);
    assert_close(tu_json_num(text, "threshold"), 0.5, 0);
    double stt = tu_json_num(text, "steps_to_threshold");
    free(text);
    snprintf(path, sizeof path, "%s_set/eval.csv", out);
    text = tu_read(path);
    double first = NAN;
    for (const char *l = strchr(text, '\n'); l && l[1] && isnan(first); l = strchr(l + 1, '\n')) {
        double step, mean;
        assert_int_equal(sscanf(l + 1, "%lf,%lf", &step, &mean), 2);
        if (mean >= 0.5)
            first = step;
    }
    free(text);
    assert_true(isfinite(first));
    assert_close(stt, first, 0);
}

/* The gamble returns -1 or +3; C51's and BD's laws live on [agent.v_min,
 * agent.v_max], so the default [0, 1] cannot hold them: config and train
 * warn (one line, exit 0) from the exact range; a support that covers it,
 * or an agent without a support (QR-DQN), gets no warning. The README's
 * chain example with its support left at the default warns too. */
static void test_support_warning(void **state)
{
    (void)state;
    char cfg[1200], out[1200];
    gamble_config("gamble", "support", cfg, sizeof cfg);
    static const struct {
        const char *sets;
        int warns;
    } cases[] = {
        {"--set agent.v_min=0 --set agent.v_max=1", 1},
        {"--set agent.v_min=-1 --set agent.v_max=2.5", 1},
        {"--set agent.kind=bd --set agent.v_min=0 --set agent.v_max=1", 1},
        {"", 0}, /* the config's [-1, 3] */
        {"--set agent.kind=qrdqn --set agent.v_min=0 --set agent.v_max=1", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_result r = tu_run("%s config %s %s", tu_bdrl(), cfg, cases[i].sets);
        assert_int_equal(r.status, 0);
        if (cases[i].warns) {
            assert_contains(r.err, "bdrl: warning: ");
            assert_contains(r.err, "does not cover the returns of");
            assert_contains(r.err, "[-1, 3]");
            assert_non_null(strchr(r.err, '\n'));
            assert_string_equal(strchr(r.err, '\n'), "\n"); /* one line */
        } else {
            assert_string_equal(r.err, "");
        }
        tu_run_free(&r);
    }
    snprintf(out, sizeof out, "%s/support_run", tu_dir);
    tu_result r = tu_run("%s train %s --out %s -q --set agent.v_min=0 --set agent.v_max=1", tu_bdrl(), cfg, out);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "does not cover the returns of");
    tu_run_free(&r);
    char chain[1200];
    tu_build_path(chain, sizeof chain, "examples/libchain.so");
    r = tu_run("%s config %s/examples/envs/chain.yaml --set env.plugin=%s --set agent.v_min=0 --set agent.v_max=1",
               tu_bdrl(), tu_root(), chain);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "[-1, 1] (exact");
    tu_run_free(&r);
}

/* The gamble without a transition table (gamble_notable.so; its state can
 * be set): eval exited 1 ("no reference return distributions"); it now
 * prints the greedy return alone (exit 0, JSON truth "none"), and with
 * --state the Monte Carlo laws of the greedy policy there (1000 rollouts:
 * the gamble is random). agent.mode evaluate names what is missing. */
static void test_eval_without_table(void **state)
{
    (void)state;
    char cfg[1200], run[1200];
    gamble_config("gamble_notable", "notable", cfg, sizeof cfg);
    snprintf(run, sizeof run, "%s/notable_run", tu_dir);
    train(cfg, run, "--set agent.mode=control");
    tu_result r = tu_run("%s eval %s --no-samples", tu_bdrl(), run);
    if (r.status != 0)
        fail_msg("eval without a table: exit %d: %s", r.status, r.err);
    assert_contains(r.out, "greedy return ");
    assert_contains(r.out, "give --state S");
    tu_run_free(&r);
    r = tu_run("%s eval %s --no-samples --json", tu_bdrl(), run);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "\"truth\": \"none\"");
    assert_true(isfinite(tu_json_num(r.out, "greedy_return_mean")));
    tu_run_free(&r);

    r = tu_run("%s eval %s --no-samples --json --state 0", tu_bdrl(), run);
    if (r.status != 0)
        fail_msg("eval --state 0: exit %d: %s", r.status, r.err);
    assert_contains(r.out, "\"truth\": \"monte carlo\"");
    assert_close(tu_json_num(r.out, "mc_rollouts"), 1000, 0);
    /* per_state: (0, gamble) then (0, pass); pass returns 0 exactly, the
     * gamble's mean is 1 within 5 standard errors (sd 2 over 1000 rollouts) */
    const char *p = strstr(r.out, "\"per_state\"");
    assert_non_null(p);
    double m0 = tu_json_num(p, "mean_truth");
    p = strstr(strstr(p, "\"mean_truth\"") + 1, "\"action\": 1");
    assert_non_null(p);
    double m1 = tu_json_num(p, "mean_truth");
    assert_true(fabs(m0 - 1) < 5 * 2 / sqrt(1000));
    assert_close(m1, 0, 0);
    assert_contains(r.out, "\"env_state\"");
    tu_run_free(&r);
    r = tu_run("%s eval %s --state 7", tu_bdrl(), run);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "refused that state");
    tu_run_free(&r);

    r = tu_run("%s train %s --out %s_eval -q", tu_bdrl(), cfg, run); /* the config's agent.mode evaluate */
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "does not export bdrl_env_transitions");
    tu_run_free(&r);
}

/* eval's sample line: BD draws --walkers samples per (state, action) and
 * says so; --no-samples says they were not drawn; an agent that cannot
 * sample (C51) has no such line. */
static void test_eval_sample_line(void **state)
{
    (void)state;
    char cfg[1200], run[1200];
    gamble_config("gamble", "samples", cfg, sizeof cfg);
    snprintf(run, sizeof run, "%s/samples_bd", tu_dir);
    train(cfg, run, "--set agent.kind=bd --set train.total_steps=300");
    tu_result r = tu_run("%s eval %s --walkers 40", tu_bdrl(), run);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "Bellman Diffusion samples (40 per (state, action), the agent's default sampler): mean W1 ");
    tu_run_free(&r);
    r = tu_run("%s eval %s --no-samples", tu_bdrl(), run);
    assert_contains(r.out, "Bellman Diffusion samples: not drawn (--no-samples)");
    tu_run_free(&r);
    snprintf(run, sizeof run, "%s/replay_run", tu_dir); /* C51, from the first case */
    r = tu_run("%s eval %s", tu_bdrl(), run);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, "Bellman Diffusion samples"));
    tu_run_free(&r);
}

/* The colour a plot dist figure gave the run labelled `label` (its meta.gp). */
static void run_colour(const char *meta_path, const char *label, char *out, size_t n)
{
    char *meta = tu_read(meta_path), want[64];
    assert_non_null(meta);
    snprintf(want, sizeof want, "= \"%s\";", label);
    const char *p = strstr(meta, want);
    if (!p)
        fail_msg("no run %s in %s", label, meta_path);
    p = strstr(p, "rcolor[");
    assert_non_null(p);
    p = strchr(p, '\'');
    snprintf(out, n, "%.7s", p + 1);
    free(meta);
}

/* plot dist on the gamble: titled "gamble" (the plugin's own name; it was
 * "plugin"), its terminal state labelled "end" by the plugin (it was "H
 * hole"), three runs at once (two was the most), and C51 the same colour in
 * the first slot as in the second (colours went by slot and by "BD or not").
 * Behind it, the env accessors: FrozenLake keeps its letters, the chain's
 * layout gives S and G and its bdrl_env_state_label the fall (a terminal
 * without a label is left to the figure's "terminal"). */
static void test_plot_dist_plugin(void **state)
{
    (void)state;
    char cfg[1200], runs[3][1300], out[1300], path[1400];
    gamble_config("gamble", "plot", cfg, sizeof cfg);
    const char *kinds[3] = {"c51", "bd", "qrdqn"};
    for (int i = 0; i < 3; i++) {
        char sets[128];
        snprintf(runs[i], sizeof runs[i], "%s/plot_%s", tu_dir, kinds[i]);
        snprintf(sets, sizeof sets, "--set agent.kind=%s --set train.total_steps=600", kinds[i]);
        train(cfg, runs[i], sets);
    }
    snprintf(out, sizeof out, "%s/three", tu_dir);
    tu_result r = tu_run("%s plot dist %s %s %s -n 100 --out %s", tu_bdrl(), runs[0], runs[1], runs[2], out);
    if (r.status != 0)
        fail_msg("plot dist of three runs: exit %d: %s", r.status, r.err);
    assert_contains(r.out, "QR-DQN: mean W1");
    tu_run_free(&r);
    snprintf(path, sizeof path, "%s.gp", out);
    char *text = tu_read(path);
    assert_contains(text, "ttl = \"gamble 1x2: return distribution");
    free(text);
    snprintf(path, sizeof path, "%s_data/meta.gp", out);
    text = tu_read(path);
    assert_contains(text, "plabel[2] = \"end\"");
    assert_contains(text, "nruns = 3");
    free(text);
    snprintf(path, sizeof path, "%s.png", out);
    assert_int_equal(access(path, F_OK), 0);
    char first[16], second[16], bd[16];
    snprintf(path, sizeof path, "%s_data/meta.gp", out);
    run_colour(path, "C51", first, sizeof first);
    run_colour(path, "BD", bd, sizeof bd);
    snprintf(out, sizeof out, "%s/swapped", tu_dir);
    r = tu_run("%s plot dist %s %s -n 100 --out %s", tu_bdrl(), runs[1], runs[0], out);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    snprintf(path, sizeof path, "%s_data/meta.gp", out);
    run_colour(path, "C51", second, sizeof second);
    assert_string_equal(first, second);
    assert_string_not_equal(first, bd);

    /* the accessors */
    env_config c;
    bdrl_err e;
    env_config_defaults(&c, "frozenlake");
    env *en = env_create(&c, &e);
    assert_string_equal(env_display_name(en), "FrozenLake-v1");
    assert_string_equal(env_state_label(en, 0), "S start");
    assert_string_equal(env_state_label(en, 1), "");
    assert_string_equal(env_state_label(en, 5), "H hole");
    assert_string_equal(env_state_label(en, 15), "G goal");
    assert_string_equal(env_state_label(en, 16), "");
    env_free(en);
    env_config_defaults(&c, "plugin");
    tu_build_path(c.plugin, sizeof c.plugin, "examples/libchain.so");
    en = env_create(&c, &e);
    assert_non_null(en);
    assert_string_equal(env_display_name(en), "chain");
    const char *chain[5] = {"S start", "", "", "G goal", "fall"}; /* layout SFFGH; its own label of the H */
    for (int s = 0; s < 5; s++)
        assert_string_equal(env_state_label(en, s), chain[s]);
    env_free(en);
    env_config_defaults(&c, "cartpole");
    en = env_create(&c, &e);
    assert_string_equal(env_display_name(en), "CartPole-v1");
    assert_string_equal(env_state_label(en, 0), "");
    env_free(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_truth_keeps_rewards_apart),
        cmocka_unit_test(test_relative_plugin_path_works_anywhere),
        cmocka_unit_test(test_no_default_threshold),
        cmocka_unit_test(test_support_warning),
        cmocka_unit_test(test_eval_without_table),
        cmocka_unit_test(test_eval_sample_line),
        cmocka_unit_test(test_plot_dist_plugin),
    };
    return cmocka_run_group_tests_name("plugin_runs", tests, tu_group_setup, tu_group_teardown);
}
