/* Tests of `bdrl plot` (src/cli/cmd_plot.c) and the distribution figures
 * (src/research/distplot.h) on tiny runs trained here: every subcommand
 * writes a real PNG (signature and a nontrivial size), an SVG, its data and a
 * redraw script that works; the W1 in a figure's summary is the one `bdrl
 * eval` computes for the same state and action; panels follow the map
 * (holes have no data); bad input exits 2 with one line. */
#include "test_util.h"

#include <sys/stat.h>

#include "train/evaldist.h"
#include "train/run.h"
#include "research/distplot.h"

static char fl_c51[700], fl_bd[700], cp_c51[700], cp_bd[700], fl_cfg[700], cp_cfg[700];

static void train(const char *cfg, const char *out, const char *extra)
{
    tu_result r = tu_run("%s train %s --out %s -q %s", tu_bdrl(), cfg, out, extra);
    if (r.status != 0)
        fail_msg("bdrl train %s exited %d: %s", out, r.status, r.err);
    tu_run_free(&r);
}

/* Four tiny runs per group: C51 and BD (as it ships: basis fields) on
 * FrozenLake (policy evaluation) and CartPole. Formats and exit codes only,
 * not quality. */
static void ensure_runs(void)
{
    if (fl_c51[0])
        return;
    snprintf(fl_cfg, sizeof fl_cfg, "%s/fl.yaml", tu_dir);
    tu_write(fl_cfg, "env:\n  name: frozenlake\nagent:\n  kind: c51\n  mode: evaluate\n"
                     "train:\n  total_steps: 2000\neval:\n  interval: 1000\n  episodes: 5\n");
    snprintf(cp_cfg, sizeof cp_cfg, "%s/cp.yaml", tu_dir);
    tu_write(cp_cfg, "env:\n  name: cartpole\nagent:\n  kind: c51\n  v_max: 100\n"
                     "train:\n  total_steps: 1000\neval:\n  interval: 500\n  episodes: 2\n");
    const char *tiny_bd = "--set agent.kind=bd --set train.total_steps=300 --set train.learning_starts=50 "
                          "--set train.batch_size=16 --set bd.basis=21 --set 'agent.hidden=[16]' "
                          "--set eval.interval=150";
    snprintf(fl_c51, sizeof fl_c51, "%s/fl_c51_s1", tu_dir);
    snprintf(fl_bd, sizeof fl_bd, "%s/fl_bd_s1", tu_dir);
    snprintf(cp_c51, sizeof cp_c51, "%s/cp_c51_s1", tu_dir);
    snprintf(cp_bd, sizeof cp_bd, "%s/cp_bd_s1", tu_dir);
    train(fl_cfg, fl_c51, "");
    train(fl_cfg, fl_bd, tiny_bd);
    train(cp_cfg, cp_c51, "");
    train(cp_cfg, cp_bd, tiny_bd);
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* PREFIX.png is a PNG of at least min_bytes; PREFIX.svg is an SVG. */
static void assert_figure(const char *prefix, long min_bytes)
{
    char p[1024];
    snprintf(p, sizeof p, "%s.png", prefix);
    FILE *f = fopen(p, "rb");
    if (!f)
        fail_msg("no figure %s", p);
    unsigned char sig[8] = {0};
    size_t k = fread(sig, 1, 8, f);
    fclose(f);
    assert_int_equal(k, 8);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    long n = file_size(p);
    if (n < min_bytes)
        fail_msg("%s has %ld bytes, expected at least %ld", p, n, min_bytes);
    snprintf(p, sizeof p, "%s.svg", prefix);
    char *svg = tu_read(p);
    if (!svg)
        fail_msg("no %s", p);
    assert_contains(svg, "<svg");
    assert_true(strlen(svg) > 2000);
    free(svg);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_gnuplot_has_pngcairo(void **state)
{
    (void)state;
    tu_result r = tu_run("gnuplot -e \"set terminal pngcairo; set output '/dev/null'; plot x\"");
    if (r.status != 0)
        fail_msg("gnuplot cannot draw with pngcairo (install gnuplot-nox: 'make deps'): %s", r.err);
    tu_run_free(&r);
}

static void test_dist_frozenlake_bd_vs_c51(void **state)
{
    (void)state;
    ensure_runs();
    char prefix[800];
    snprintf(prefix, sizeof prefix, "%s/fl_dist", tu_dir);
    tu_result r = tu_run("%s plot dist %s %s --out %s -n 50", tu_bdrl(), fl_bd, fl_c51, prefix);
    if (r.status != 0)
        fail_msg("bdrl plot dist exited %d: %s", r.status, r.err);
    assert_contains(r.out, "fl_dist.png");
    assert_contains(r.out, "redraw: cd ");
    assert_contains(r.out, " && gnuplot fl_dist.gp\n");
    assert_contains(r.out, "BD: mean W1 to the truth over 11 panels");
    assert_contains(r.out, "(Bellman Diffusion samples: ");
    assert_contains(r.out, "C51: mean W1 to the truth over 11 panels");
    tu_run_free(&r);
    assert_figure(prefix, 60000);

    char p[1024];
    /* the map: 16 panels, holes and goal marked, one truth (both runs evaluate π*) */
    snprintf(p, sizeof p, "%s_data/meta.gp", prefix);
    char *meta = tu_read(p);
    assert_non_null(meta);
    assert_contains(meta, "nrow = 4; ncol = 4; npanels = 16");
    assert_contains(meta, "nruns = 2; ntruth = 1");
    assert_contains(meta, "mode = 'cdf'");
    assert_contains(meta, "cell[6] = 'H'");
    assert_contains(meta, "cell[16] = 'G'");
    assert_contains(meta, "state 0 (S start) · ");
    assert_contains(meta, "plabel[6] = \"H hole\""); /* FrozenLake's own labels */
    assert_contains(meta, "truth (exact, optimal policy)");
    free(meta);
    /* one row per non-terminal state and run */
    snprintf(p, sizeof p, "%s_data/summary.csv", prefix);
    char *sum = tu_read(p);
    assert_non_null(sum);
    assert_int_equal(count(sum, "\n"), 1 + 2 * 11);
    free(sum);
    /* a hole's block has no data */
    snprintf(p, sizeof p, "%s_data/truth1.dat", prefix);
    char *tr = tu_read(p);
    assert_non_null(tr);
    assert_contains(tr, "# panel 5: state 5, terminal (no distribution)\nNaN NaN\n");
    free(tr);
    /* the redraw script works from the figure's directory */
    snprintf(p, sizeof p, "%s.png", prefix);
    unlink(p);
    r = tu_run("cd %s && gnuplot fl_dist.gp", tu_dir);
    if (r.status != 0)
        fail_msg("gnuplot fl_dist.gp exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    assert_true(file_size(p) > 60000);
}

/* The W1 of each panel is the one of evaldist (what `bdrl eval` reports). */
static void test_dist_w1_matches_eval(void **state)
{
    (void)state;
    ensure_runs();
    char prefix[800];
    snprintf(prefix, sizeof prefix, "%s/fl_c51_only", tu_dir);
    const char *runs[1] = {fl_c51};
    distplot_options o;
    distplot_options_default(&o);
    o.mode = DISTPLOT_PDF;
    distplot_result res;
    bdrl_err e;
    if (distplot_dist(1, runs, prefix, &o, &res, &e))
        fail_msg("%s", e.msg);
    assert_figure(prefix, 40000);
    assert_int_equal(res.n_panels, 11);
    assert_true(isnan(res.mean_w1_samples[0]));
    assert_string_equal(res.label[0], "C51");

    exp_config cfg;
    env *en;
    agent *ag;
    if (run_load(fl_c51, &cfg, &en, &ag, &e))
        fail_msg("%s", e.msg);
    evaldist_options eo;
    evaldist_options_default(&eo);
    evaldist_result er;
    if (evaldist_run(ag, &cfg, &eo, &er, &e))
        fail_msg("%s", e.msg);
    char p[1024];
    snprintf(p, sizeof p, "%s_data/summary.csv", prefix);
    char *sum = tu_read(p);
    assert_non_null(sum);
    int rows = 0;
    double mean = 0;
    for (const char *line = strchr(sum, '\n') + 1; *line; line = strchr(line, '\n') + 1, rows++) {
        int panel, st, act, run;
        double w1;
        char label[64], agent[16];
        assert_int_equal(sscanf(line, "%d,%d,%d,%d,\"%63[^\"]\",%15[^,],%lf", &panel, &st, &act, &run, label,
                                agent, &w1),
                         7);
        assert_int_equal(act, er.policy[st]); /* the policy's action by default */
        int found = 0;
        for (int i = 0; i < er.n; i++)
            if (er.entries[i].state == st && er.entries[i].action == act) {
                assert_close(w1, er.entries[i].w1, 1e-9);
                found = 1;
            }
        assert_true(found);
        mean += w1;
    }
    assert_int_equal(rows, 11);
    assert_close(mean / rows, res.mean_w1[0], 1e-9);
    free(sum);
    evaldist_result_free(&er);
    agent_free(ag);
    env_free(en);

    /* --action fixes the action in every panel */
    o.action = 2;
    o.samples = 0;
    if (distplot_dist(1, runs, prefix, &o, &res, &e))
        fail_msg("%s", e.msg);
    sum = tu_read(p);
    assert_int_equal(count(sum, ",2,1,\"C51\""), 11);
    free(sum);
}

static void test_dist_cartpole_probes(void **state)
{
    (void)state;
    ensure_runs();
    char prefix[800];
    snprintf(prefix, sizeof prefix, "%s/cp_dist", tu_dir);
    tu_result r = tu_run("%s plot dist %s %s --out %s -n 20 --labels 'Bellman Diffusion,C51 baseline'", tu_bdrl(),
                         cp_bd, cp_c51, prefix);
    if (r.status != 0)
        fail_msg("bdrl plot dist exited %d: %s", r.status, r.err);
    assert_contains(r.out, "Bellman Diffusion: mean W1 to the truth over 20 panels");
    assert_contains(r.out, "C51 baseline: mean W1 to the truth over 20 panels");
    tu_run_free(&r);
    assert_figure(prefix, 60000);
    char p[1024];
    snprintf(p, sizeof p, "%s_data/meta.gp", prefix);
    char *meta = tu_read(p);
    assert_contains(meta, "nrow = 4; ncol = 5; npanels = 20");
    assert_contains(meta, "upright at rest · push ");
    assert_contains(meta, "Monte Carlo");
    free(meta);
    /* the PDF encoding and the default output prefix inside the run */
    r = tu_run("%s plot dist %s --pdf -n 10", tu_bdrl(), cp_bd);
    if (r.status != 0)
        fail_msg("bdrl plot dist --pdf exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/plots/dist", cp_bd);
    assert_figure(p, 40000);
    snprintf(p, sizeof p, "%s/plots/dist_data/meta.gp", cp_bd);
    meta = tu_read(p);
    assert_contains(meta, "mode = 'pdf'; binw = 5"); /* the bins: the 21 bumps' spacing on [0, 100] */
    assert_contains(meta, "pymax[20] = ");
    free(meta);
}

static void test_fields(void **state)
{
    (void)state;
    ensure_runs();
    tu_result r = tu_run("%s plot fields %s --state 0", tu_bdrl(), fl_bd);
    if (r.status != 0)
        fail_msg("bdrl plot fields exited %d: %s", r.status, r.err);
    assert_contains(r.out, "state 0, action ");
    tu_run_free(&r);
    char p[1024];
    snprintf(p, sizeof p, "%s/plots/fields_s0", fl_bd);
    assert_figure(p, 25000);
    /* columns: return u s g ds/du, over the grid range [-1.25, 1.25] in u */
    snprintf(p, sizeof p, "%s/plots/fields_s0_data/fields.dat", fl_bd);
    char *d = tu_read(p);
    assert_non_null(d);
    assert_int_equal(count(d, "\n"), 1 + 501);
    double x, u, s, g, fd;
    const char *first = strchr(d, '\n') + 1;
    assert_int_equal(sscanf(first, "%lf %lf %lf %lf %lf", &x, &u, &s, &g, &fd), 5);
    assert_close(u, -1.25, 1e-9);
    assert_close(x, 0.5 + 0.5 * u, 1e-9);
    free(d);

    char prefix[800];
    snprintf(prefix, sizeof prefix, "%s/cp_fields", tu_dir);
    r = tu_run("%s plot fields %s --state 0,0,0.05,0 --action 1 --out %s", tu_bdrl(), cp_bd, prefix);
    if (r.status != 0)
        fail_msg("bdrl plot fields exited %d: %s", r.status, r.err);
    assert_contains(r.out, "action 1");
    tu_run_free(&r);
    assert_figure(prefix, 25000);
}

static void test_curves(void **state)
{
    (void)state;
    ensure_runs();
    char prefix[1024], second[800];
    /* a second seed of fl_c51: grouped with the first */
    snprintf(second, sizeof second, "%s/fl_c51_s2", tu_dir);
    train(fl_cfg, second, "--set seed=2");
    snprintf(prefix, sizeof prefix, "%s/curves", tu_dir);
    tu_result r = tu_run("%s plot curves %s %s %s --out %s", tu_bdrl(), fl_c51, second, fl_bd, prefix);
    if (r.status != 0)
        fail_msg("bdrl plot curves exited %d: %s", r.status, r.err);
    assert_contains(r.out, "fl_c51: 2 runs");
    assert_contains(r.out, "fl_bd: 1 run\n");
    tu_run_free(&r);
    assert_figure(prefix, 15000);

    /* a comparison directory: runs/<label>_s<seed> */
    char cmp[900];
    snprintf(cmp, sizeof cmp, "%s/cmp", tu_dir);
    r = tu_run("mkdir -p %s/runs && cp -r %s %s %s/runs/", cmp, fl_c51, second, cmp);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    r = tu_run("%s plot curves %s --labels C51 --threshold none", tu_bdrl(), cmp);
    if (r.status != 0)
        fail_msg("bdrl plot curves exited %d: %s", r.status, r.err);
    assert_contains(r.out, "C51: 2 runs");
    tu_run_free(&r);
    snprintf(prefix, sizeof prefix, "%s/curves", cmp);
    assert_figure(prefix, 15000);

    /* --labels follow the order of the compared configs (comparison.csv),
     * not runs/'s alphabetical order (fl_bd < fl_c51); a compared config
     * with no run yet (fl_dqn) is no group */
    r = tu_run("cp -r %s %s/runs/ && printf 'config,path\nfl_c51,a.yaml\nfl_dqn,b.yaml\nfl_bd,c.yaml\n' "
               "> %s/comparison.csv", fl_bd, cmp, cmp);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    r = tu_run("%s plot curves %s --labels C51,BD --threshold none", tu_bdrl(), cmp);
    if (r.status != 0)
        fail_msg("bdrl plot curves exited %d: %s", r.status, r.err);
    assert_contains(r.out, "C51: 2 runs");
    assert_contains(r.out, "BD: 1 run\n");
    tu_run_free(&r);
}

static void test_sweep(void **state)
{
    (void)state;
    char sw[800], file[800];
    snprintf(sw, sizeof sw, "%s/sweep", tu_dir);
    snprintf(file, sizeof file, "%s/sw.yaml", tu_dir);
    char text[2000];
    ensure_runs();
    snprintf(text, sizeof text,
             "base: %s\nset: {train.total_steps: 300, eval.interval: 150, eval.episodes: 2}\n"
             "grid:\n  agent.lr: [1.0e-3, 3.0e-4]\nseeds: [1]\nout: %s\n",
             cp_cfg, sw);
    tu_write(file, text);
    tu_result r = tu_run("%s sweep %s -q -j 2", tu_bdrl(), file);
    if (r.status != 0)
        fail_msg("bdrl sweep exited %d: %s%s", r.status, r.out, r.err);
    tu_run_free(&r);
    char p[1024];
    snprintf(p, sizeof p, "rm -rf %s/plots", sw);
    assert_int_equal(system(p), 0);
    r = tu_run("%s plot sweep %s", tu_bdrl(), sw);
    if (r.status != 0)
        fail_msg("bdrl plot sweep exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/plots/agent.lr", sw);
    assert_figure(p, 10000);
}

static void test_help_and_bad_input(void **state)
{
    (void)state;
    ensure_runs();
    const char *helps[] = {"plot --help", "plot dist --help", "plot fields --help", "plot curves --help",
                           "plot sweep --help"};
    for (size_t i = 0; i < sizeof helps / sizeof *helps; i++) {
        tu_result r = tu_run("%s %s", tu_bdrl(), helps[i]);
        assert_int_equal(r.status, 0);
        assert_contains(r.out, "usage: bdrl plot");
        tu_run_free(&r);
    }
    struct {
        const char *args, *msg;
    } bad[] = {
        {"plot", "expected a subcommand"},
        {"plot draw", "unknown subcommand 'draw'"},
        {"plot dist", "expected 1 to 6 RUN"},
        {"plot dist @FLC @FLB @FLC @FLB @FLC @FLB @FLC", "expected 1 to 6 RUN"}, /* 7 */
        {"plot dist /nonexistent/run", "not a run directory"},
        {"plot dist @FLC @CPC", "plot runs of one environment"},
        {"plot dist @CPC --action 3", "action 3 is not in [0, 1]"},
        {"plot dist @FLC --samples -1", "--samples must be in"},
        {"plot dist @FLC @FLB --labels A", "one name per run"},
        {"plot dist @FLC --out /nonexistent/dir/x", "its directory does not exist"},
        {"plot fields @FLB", "--state is required"},
        {"plot fields @FLC --state 0", "only Bellman Diffusion runs have fields"},
        {"plot fields @FLB --state 5", "state 5 is terminal: its return is 0"},
        {"plot fields @FLB --state 16", "state 16 is not in [0, 16)"},
        {"plot fields @CPB --state 0,0", "expected 4 comma-separated numbers"},
        {"plot curves", "expected run or comparison directories"},
        {"plot curves /nonexistent", "neither a run directory"},
        {"plot curves @FLC @FLB", "--out PREFIX is required"},
        {"plot curves @FLC --threshold x", "--threshold expects a number"},
        {"plot sweep @FLC", "not a sweep directory"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[1200] = "";
        for (const char *p = bad[i].args; *p;) {
            const char *rep = NULL;
            if (!strncmp(p, "@FLC", 4))
                rep = fl_c51;
            else if (!strncmp(p, "@FLB", 4))
                rep = fl_bd;
            else if (!strncmp(p, "@CPC", 4))
                rep = cp_c51;
            else if (!strncmp(p, "@CPB", 4))
                rep = cp_bd;
            if (rep) {
                strcat(args, rep);
                p += 4;
            } else {
                strncat(args, p, 1);
                p++;
            }
        }
        tu_result r = tu_run("%s %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("'bdrl %s' exited %d (expected 2): %s", args, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(count(r.err, "\n"), 1);
        tu_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gnuplot_has_pngcairo),
        cmocka_unit_test(test_dist_frozenlake_bd_vs_c51),
        cmocka_unit_test(test_dist_w1_matches_eval),
        cmocka_unit_test(test_dist_cartpole_probes),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_curves),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_help_and_bad_input),
    };
    return cmocka_run_group_tests_name("plot", tests, tu_group_setup, tu_group_teardown);
}
