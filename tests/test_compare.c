/* Tests of `bdrl compare` and its statistics: steps to threshold (median,
 * IQR, seeds that reached it), bootstrap intervals, AUC and the ratio of
 * medians against hand-computed values on hand-written run directories; the
 * learning-curve aggregation; the process pool; a tiny end-to-end
 * comparison through the CLI (reproducible, resumable, bad input); and the
 * aggregate over environments (research/suite.h) on hand-made comparison
 * directories, through --aggregate, and at the end of a comparison over two
 * environments. */
#include "test_util.h"

#include <sys/stat.h>

#include "research/compare.h"
#include "research/curves.h"
#include "research/pool.h"
#include "research/rundir.h"
#include "research/suite.h"
#include "stats/aggregate.h"
#include "stats/metrics.h"

/* A fake finished run: eval.csv from (step, return) pairs, summary.json. */
static void fake_run(const char *dir, int n, const double *steps, const double *rets, double thr,
                     const char *status)
{
    char p[600], buf[4096];
    mkdir(dir, 0755);
    size_t k = (size_t)snprintf(buf, sizeof buf, "step,return_mean,return_std,success_rate\n");
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%g,%g,0,%g\n", steps[i], rets[i], rets[i] / 100);
    snprintf(p, sizeof p, "%s/eval.csv", dir);
    tu_write(p, buf);
    tu_summary su = {"c51", "cartpole", status, "return_mean", steps[n - 1], steps[n - 1], 2, 150, rets[n - 1],
                     0, thr, NAN, 0.5};
    tu_write_summary(dir, &su);
}

/* Fails naming the first of files (n) that is missing under dir. */
static void assert_files(const char *dir, const char *const *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        if (access(p, F_OK))
            fail_msg("missing %s", p);
    }
}

static void test_quantile_inf(void **state)
{
    (void)state;
    double a[] = {1, 2, 3, 4};
    /* numpy.quantile([1,2,3,4], q) */
    assert_close(compare_quantile_inf(a, 4, 0.5), 2.5, 1e-15);
    assert_close(compare_quantile_inf(a, 4, 0.25), 1.75, 1e-15);
    assert_close(compare_quantile_inf(a, 4, 0.75), 3.25, 1e-15);
    double b[] = {100, 200, 200, INFINITY};
    assert_close(compare_quantile_inf(b, 4, 0.5), 200, 0);
    assert_close(compare_quantile_inf(b, 4, 0.25), 175, 0);
    assert_true(isinf(compare_quantile_inf(b, 4, 0.75)));
    double c[] = {100, INFINITY, INFINITY};
    assert_true(isinf(compare_quantile_inf(c, 3, 0.5))); /* fewer than half reached: not reached */
    assert_close(compare_quantile_inf(c, 3, 0.0), 100, 0);
    double d[] = {100, 300, INFINITY};
    assert_close(compare_quantile_inf(d, 3, 0.5), 300, 0); /* the middle one exactly: no weight on inf */
}

static void test_summarize_hand_values(void **state)
{
    (void)state;
    char dirs[5][600];
    const char *dp[5];
    /* threshold 10 on return_mean */
    double st[] = {100, 200, 300};
    double r1[] = {5, 10, 12}, r2[] = {0, 5, 8}, r3[] = {10, 10, 10}, r4[] = {4, 11, 9};
    const double *rs[] = {r1, r2, r3, r4};
    for (int i = 0; i < 4; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/h%d", tu_dir, i);
        fake_run(dirs[i], 3, st, rs[i], 10, "finished");
        dp[i] = dirs[i];
    }
    /* an unfinished run is left out */
    snprintf(dirs[4], sizeof dirs[4], "%s/h4", tu_dir);
    fake_run(dirs[4], 3, st, r3, 10, "running");
    dp[4] = dirs[4];
    compare_stats s;
    bdrl_err e;
    if (compare_summarize(dp, 5, 0, &s, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(s.n_runs, 5);
    assert_int_equal(s.n_done, 4);
    /* steps to threshold 200, never, 100, 200: sorted 100, 200, 200, inf */
    assert_int_equal(s.stt_reached, 3);
    assert_close(s.stt_median, 200, 0);
    assert_close(s.stt_q25, 175, 0);
    assert_true(isinf(s.stt_q75));
    assert_true(isinf(s.stt_iqr));
    const double want_runs[] = {100, 200, 200, INFINITY}; /* kept, sorted, for the ratio's interval */
    assert_non_null(s.stt_runs);
    assert_memory_equal(s.stt_runs, want_runs, sizeof want_runs);
    /* final returns 12, 8, 10, 9: mean 9.75 */
    assert_int_equal(s.final_return.n, 4);
    assert_close(s.final_return.mean, 9.75, 1e-12);
    assert_true(s.final_return.lo >= 8 && s.final_return.lo < 9.75);
    assert_true(s.final_return.hi <= 12 && s.final_return.hi > 9.75);
    /* best returns 12, 8, 10, 11 */
    assert_close(s.best_return.mean, 10.25, 1e-12);
    /* AUC / span: (750 + 1100)/200, (250 + 650)/200, 10, (750 + 1000)/200 */
    assert_close(s.auc.mean, (9.25 + 4.5 + 10 + 8.75) / 4, 1e-12);
    assert_close(s.wall_mean, 2, 0);
    assert_close(s.sps_mean, 150, 0);
    assert_close(s.success.mean, 0.5, 0);
    assert_int_equal(s.w1.n, 0);
    assert_string_equal(s.threshold_on, "return_mean");
    /* the interval is reproducible (fixed seed) */
    compare_stats s2;
    assert_int_equal(compare_summarize(dp, 5, 0, &s2, &e), 0);
    assert_true(s2.final_return.lo == s.final_return.lo && s2.final_return.hi == s.final_return.hi);
    /* the bootstrap directly: by hand, with the same resampling */
    rng *r = rng_create(COMPARE_BOOT_SEED, 0);
    double fin[] = {12, 8, 10, 9}, lo, hi;
    assert_int_equal(stat_bootstrap_mean_ci(fin, 4, COMPARE_BOOT, 0.95, r, &lo, &hi, &e), 0);
    rng_free(r);
    assert_true(lo == s.final_return.lo && hi == s.final_return.hi);
    compare_stats_free(&s);
    compare_stats_free(&s2);
}

/* The end-of-budget statistics: the last quarter's evaluations and the
 * replay batches' Q of the episodes in the last 5% of the steps. */
static void test_summarize_last_quarter_and_q(void **state)
{
    (void)state;
    char d[3][600], p[700];
    const char *dp[3];
    double st[] = {100, 200, 300, 400, 500, 600, 700, 800};
    double r0[] = {1, 2, 3, 4, 5, 6, 7, 9}, r1[] = {0, 0, 0, 0, 0, 10, 20, 30}, r2[] = {5, 5, 5, 5, 5, 5, 5, 5};
    const double *rs[] = {r0, r1, r2};
    for (int i = 0; i < 3; i++) {
        snprintf(d[i], sizeof d[i], "%s/lq%d", tu_dir, i);
        fake_run(d[i], 8, st, rs[i], 100, "finished");
        dp[i] = d[i];
    }
    /* run 0: after 0.95 x 800 = 760 only 790 (7) and 800 (9) count; 770's nan is skipped */
    snprintf(p, sizeof p, "%s/metrics.csv", d[0]);
    tu_write(p, "step,episode,return,length,epsilon,loss,loss_grad,q_mean,sps\n"
                "100,0,10,100,1,nan,nan,nan,5\n700,1,10,600,0.1,0.5,0,5,5\n760,2,1,60,0.1,0.5,0,1000,5\n"
                "770,3,1,10,0.1,nan,nan,nan,5\n790,4,1,20,0.1,0.5,0,7,5\n800,5,1,10,0.1,0.5,0,9,5\n");
    /* run 1: 110; run 2 has no metrics.csv and is left out of the Q statistics */
    snprintf(p, sizeof p, "%s/metrics.csv", d[1]);
    tu_write(p, "step,episode,return,length,epsilon,loss,loss_grad,q_mean,sps\n"
                "780,0,1,780,0.1,0.5,0,100,5\n800,1,1,20,0.1,0.5,0,120,5\n");
    compare_stats s;
    bdrl_err e;
    if (compare_summarize(dp, 3, 0, &s, &e))
        fail_msg("%s", e.msg);
    /* evaluations after 600 of 800: (7 + 9)/2, (20 + 30)/2, 5 */
    assert_int_equal(s.last_quarter.n, 3);
    assert_close(s.last_quarter.mean, (8 + 25 + 5) / 3.0, 1e-12);
    assert_int_equal(s.q_end_n, 2);
    assert_close(s.q_end_mean, (8 + 110) / 2.0, 1e-12);
    assert_close(s.q_end_max, 110, 0);
    /* and both reach the table */
    const char *labels[] = {"g"}, *configs[] = {"g.yaml"};
    char out[600];
    snprintf(out, sizeof out, "%s/lq_out", tu_dir);
    mkdir(out, 0755);
    assert_int_equal(compare_write(out, 1, labels, configs, &s, 3, &e), 0);
    snprintf(p, sizeof p, "%s/comparison.md", out);
    char *md = tu_read(p);
    assert_non_null(strstr(md, "| 59 [110] |"));
    free(md);
    compare_stats_free(&s);
}

/* What counts as done: finished after the configured steps (or any, with
 * -1), or solved (ended at its threshold by eval.stop_at_threshold) after
 * any number; never running, interrupted, failed or diverged. */
static void test_rundir_done(void **state)
{
    (void)state;
    rundir_summary s = {0};
    s.total_steps = 5000;
    snprintf(s.status, sizeof s.status, "finished");
    assert_true(rundir_done(&s, 5000));
    assert_true(rundir_done(&s, -1));
    assert_false(rundir_done(&s, 6000));
    snprintf(s.status, sizeof s.status, "solved");
    assert_true(rundir_done(&s, 6000));
    const char *no[] = {"running", "interrupted", "failed", "diverged", ""};
    for (int i = 0; i < 5; i++) {
        snprintf(s.status, sizeof s.status, "%s", no[i]);
        assert_false(rundir_done(&s, 5000));
    }
}

/* A solved run (stopped at its threshold) is summarized like a finished one
 * and counted apart. */
static void test_summarize_solved(void **state)
{
    (void)state;
    char d0[600], d1[600];
    snprintf(d0, sizeof d0, "%s/sv0", tu_dir);
    snprintf(d1, sizeof d1, "%s/sv1", tu_dir);
    double st[] = {100, 200}, r0[] = {5, 12}, r1[] = {12, 12};
    fake_run(d0, 2, st, r0, 10, "finished");
    fake_run(d1, 1, st, r1, 10, "solved");
    const char *dp[] = {d0, d1};
    compare_stats s;
    bdrl_err e;
    if (compare_summarize(dp, 2, 0, &s, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(s.n_done, 2);
    assert_int_equal(s.n_solved, 1);
    assert_int_equal(s.stt_reached, 2);
    assert_close(s.stt_median, 150, 0);
    compare_stats_free(&s);
}

static void test_bootstrap_two_points(void **state)
{
    (void)state;
    /* finals 0 and 1: resampled means are 0, 1/2, 1 with probabilities
     * 1/4, 1/2, 1/4, so with 10,000 resamples the 2.5% and 97.5% quantiles
     * are exactly 0 and 1; one value: an interval of width 0. */
    char a[600], b[600], c[600];
    snprintf(a, sizeof a, "%s/b0", tu_dir);
    snprintf(b, sizeof b, "%s/b1", tu_dir);
    snprintf(c, sizeof c, "%s/b2", tu_dir);
    double st[] = {100, 200}, r0[] = {0, 0}, r1[] = {0, 1};
    fake_run(a, 2, st, r0, 475, "finished");
    fake_run(b, 2, st, r1, 475, "finished");
    const char *d2[] = {a, b};
    compare_stats s;
    bdrl_err e;
    assert_int_equal(compare_summarize(d2, 2, 0, &s, &e), 0);
    assert_close(s.final_return.mean, 0.5, 0);
    assert_close(s.final_return.lo, 0, 0);
    assert_close(s.final_return.hi, 1, 0);
    assert_int_equal(s.stt_reached, 0);
    assert_true(isinf(s.stt_median));
    compare_stats_free(&s);
    const char *d1[] = {b};
    assert_int_equal(compare_summarize(d1, 1, 0, &s, &e), 0);
    assert_close(s.final_return.lo, 1, 0);
    assert_close(s.final_return.hi, 1, 0);
    compare_stats_free(&s);
    (void)c;
}

static void test_write_ratio(void **state)
{
    (void)state;
    char d[4][600];
    const char *g1[2], *g2[2];
    double st[] = {100, 200, 300, 400};
    double fast[] = {10, 20, 20, 20}, slow[] = {0, 0, 0, 20};
    for (int i = 0; i < 4; i++) {
        snprintf(d[i], sizeof d[i], "%s/w%d", tu_dir, i);
        fake_run(d[i], 4, st, i < 2 ? fast : slow, 15, "finished");
    }
    g1[0] = d[0], g1[1] = d[1], g2[0] = d[2], g2[1] = d[3];
    compare_stats s[2];
    bdrl_err e;
    assert_int_equal(compare_summarize(g1, 2, 0, &s[0], &e), 0);
    assert_int_equal(compare_summarize(g2, 2, 0, &s[1], &e), 0);
    assert_close(s[0].stt_median, 200, 0);
    assert_close(s[1].stt_median, 400, 0);
    char out[600];
    snprintf(out, sizeof out, "%s/wout", tu_dir);
    mkdir(out, 0755);
    const char *labels[] = {"fast", "slow"}, *cfgs[] = {"a.yaml", "b.yaml"};
    if (compare_write(out, 2, labels, cfgs, s, 2, &e))
        fail_msg("%s", e.msg);
    assert_close(s[1].stt_ratio, 0.5, 0);
    char p[700];
    snprintf(p, sizeof p, "%s/comparison.csv", out);
    char *csv = tu_read(p);
    assert_non_null(csv);
    assert_contains(csv, "config,path,agent,env,runs,finished,threshold_on,threshold,stt_reached,stt_median");
    assert_contains(csv, "\nslow,b.yaml,c51,cartpole,2,2,return_mean,15,2,400,400,400,0,");
    assert_contains(csv, ",0.5,"); /* the ratio, then the last quarter and Q at the end */
    assert_contains(csv, "q_end_mean,q_end_max,stt_ratio_lo,stt_ratio_hi\n");
    /* every seed of each group at 200 and 400 steps: every resampled
     * ratio is 0.5, so is its interval */
    assert_true(s[1].stt_ratio_lo == 0.5 && s[1].stt_ratio_hi == 0.5);
    assert_true(isnan(s[0].stt_ratio_lo) && isnan(s[0].stt_ratio_hi));
    assert_contains(csv, ",0.5,0.5\n");
    free(csv);
    snprintf(p, sizeof p, "%s/comparison.json", out);
    char *js = tu_read(p);
    assert_non_null(js);
    assert_contains(js, "\"ratio_first_over_this\": 0.5");
    double v;
    assert_true(rundir_json_num(js, "median", &v)); /* the first config's */
    assert_close(v, 200, 0);
    free(js);
    snprintf(p, sizeof p, "%s/comparison.md", out);
    char *md = tu_read(p);
    assert_contains(md, "| slow | 400 | 0 [400, 400] | 2/2 |");
    assert_contains(md, " | 0.5 [0.5, 0.5] |\n");
    free(md);
    compare_stats_free(&s[0]);
    compare_stats_free(&s[1]);
}

/* compare_boot_interval against exact truth: each case's resampled
 * statistic takes few values, so the 2.5% and 97.5% percentiles of 10,000
 * resamples are known (every value below has probability >= 1/4). */
static void test_boot_interval(void **state)
{
    (void)state;
    rng *r = rng_create(1, 0);
    const double inf = INFINITY;
    double lo, hi;
    /* constant seeds: 50 / 100 */
    const double c50[] = {50, 50, 50}, c100[] = {100, 100};
    assert_int_equal(compare_boot_interval(1, c50, 3, c100, 2, r, &lo, &hi), 0);
    assert_true(lo == 0.5 && hi == 0.5);
    /* medians of {1, 2}: 1, 1.5, 2 (1/4, 1/2, 1/4) over 10: [0.1, 0.2]
     * (the other way round would give [5, 10]) */
    const double x12[] = {1, 2}, f10[] = {10};
    assert_int_equal(compare_boot_interval(1, x12, 2, f10, 1, r, &lo, &hi), 0);
    assert_true(lo == 0.1 && hi == 0.2);
    /* one unreached seed in four: the median is ∞ when two or more draws
     * are it (p = 0.26), else 100: [1, ∞] */
    const double x1inf[] = {100, 100, 100, inf}, f100[] = {100};
    assert_int_equal(compare_boot_interval(1, x1inf, 4, f100, 1, r, &lo, &hi), 0);
    assert_true(lo == 1 && isinf(hi));
    /* the first variant's median ∞ (p = 20/27) against a finite one: 0 */
    const double f2inf[] = {inf, inf, 100};
    assert_int_equal(compare_boot_interval(1, f100, 1, f2inf, 3, r, &lo, &hi), 0);
    assert_true(lo == 0 && hi == 1);
    /* both medians ∞ in some resample: no ratio, no interval */
    const double half[] = {100, inf};
    assert_int_equal(compare_boot_interval(1, half, 2, half, 2, r, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    /* means: {1, 3} resampled is 1, 2, 3 (1/4, 1/2, 1/4); minus 0 */
    const double x13[] = {1, 3}, zero[] = {0};
    assert_int_equal(compare_boot_interval(0, x13, 2, zero, 1, r, &lo, &hi), 0);
    assert_true(lo == 1 && hi == 3);
    assert_int_equal(compare_boot_interval(0, zero, 1, x13, 2, r, &lo, &hi), 0);
    assert_true(lo == -3 && hi == -1);
    /* no values on a side */
    assert_int_equal(compare_boot_interval(0, x13, 2, zero, 0, r, &lo, &hi), 0);
    assert_true(isnan(lo) && isnan(hi));
    rng_free(r);
}


static void test_curves_aggregate(void **state)
{
    (void)state;
    /* run a evaluates at 100, 200; run b at 150, 300: common grid 100, 150,
     * 200, 300 with linear interpolation, held at the ends */
    double sa[] = {100, 200}, va[] = {0, 10}, sb[] = {150, 300}, vb[] = {4, 4};
    curves_run runs[2] = {{2, sa, va, NULL}, {2, sb, vb, NULL}};
    curves_agg ag;
    bdrl_err e;
    assert_int_equal(curves_aggregate(runs, 2, &ag, &e), 0);
    assert_int_equal(ag.n, 4);
    double steps[] = {100, 150, 200, 300}, means[] = {2, 4.5, 7, 7};
    for (int i = 0; i < 4; i++) {
        assert_close(ag.step[i], steps[i], 0);
        assert_close(ag.mean[i], means[i], 1e-12);
        assert_true(ag.lo[i] <= ag.mean[i] && ag.mean[i] <= ag.hi[i]);
    }
    /* two values: the band spans them exactly (see the two-point bootstrap) */
    assert_close(ag.lo[0], 0, 0);
    assert_close(ag.hi[0], 4, 0);
    curves_agg_free(&ag);

    /* plot files from run directories */
    char d1[600], d2[600], pre[600], p[700];
    snprintf(d1, sizeof d1, "%s/c1", tu_dir);
    snprintf(d2, sizeof d2, "%s/c2", tu_dir);
    double st[] = {100, 200, 300}, r1[] = {1, 5, 9}, r2[] = {2, 2, 3};
    fake_run(d1, 3, st, r1, 5, "finished");
    fake_run(d2, 3, st, r2, 5, "finished");
    const char *g1[] = {d1}, *g2[] = {d2};
    const char *const *groups[] = {g1, g2};
    const char *labels[] = {"it's one", "two"};
    int n[] = {1, 1};
    snprintf(pre, sizeof pre, "%s/curves", tu_dir);
    if (curves_plot_dirs(pre, "title", 2, labels, n, groups, 5, &e))
        fail_msg("%s", e.msg);
    const char *ext[] = {"png", "svg", "dat", "gp"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s.%s", pre, ext[i]);
        struct stat sb2;
        assert_int_equal(stat(p, &sb2), 0);
        assert_true(sb2.st_size > 0);
    }
    snprintf(p, sizeof p, "%s.dat", pre);
    char *dat = tu_read(p);
    assert_contains(dat, "# group 2: two (1 of 1 runs)");
    assert_contains(dat, "300 9 9 9\n");
    free(dat);
    /* the .gp redraws on its own */
    tu_result r = tu_run("cd %s && gnuplot curves.gp", tu_dir);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
}

static void test_pool(void **state)
{
    (void)state;
    char log[600];
    snprintf(log, sizeof log, "%s/pool.log", tu_dir);
    char *ok[] = {"-c", "echo hello", NULL}, *bad[] = {"-c", "exit 3", NULL}, *sig[] = {"-c", "kill -9 $$", NULL};
    pool_job jobs[4] = {{.name = "a", .argv = ok, .log = log},
                        {.name = "b", .argv = bad, .log = log},
                        {.name = "c", .argv = sig, .log = log},
                        {.name = "d", .argv = ok, .log = log}};
    pool_options o = {.jobs = 2, .exe = "/bin/sh"};
    int failed = -1;
    bdrl_err e;
    assert_int_equal(pool_run(jobs, 4, &o, &failed, &e), 0);
    assert_int_equal(failed, 2);
    assert_int_equal(jobs[0].status, 0);
    assert_int_equal(jobs[1].status, 3);
    assert_int_equal(jobs[2].status, 256 + 9);
    assert_int_equal(jobs[3].status, 0);
    char *t = tu_read(log);
    assert_string_equal(t, "hello\nhello\n");
    free(t);
    char d[64];
    pool_describe_status(256 + 9, d, sizeof d);
    assert_string_equal(d, "killed by signal 9");
    /* a stop request before the start runs nothing */
    volatile sig_atomic_t stop = SIGINT;
    o.stop = &stop;
    assert_int_equal(pool_run(jobs, 4, &o, &failed, &e), 0);
    assert_int_equal(jobs[0].status, POOL_NOT_RUN);
    assert_int_equal(failed, 0);
}

static const char *TINY = "--set train.total_steps=300 --set eval.episodes=5 --set eval.interval=100 "
                          "--set train.learning_starts=100";

static void test_cli_compare(void **state)
{
    (void)state;
    char cfg2[600], out[600], p[700];
    snprintf(cfg2, sizeof cfg2, "%s/fl_lr.yaml", tu_dir);
    snprintf(out, sizeof out, "%s/cmp", tu_dir);
    /* a second config: the first with another learning rate */
    tu_result r = tu_run("sed 's/lr: 1.0e-3/lr: 3.0e-4/' %s/configs/frozenlake4_c51.yaml > %s", tu_root(), cfg2);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s --seeds 2 -j 2 --out %s %s", tu_bdrl(), tu_root(),
               cfg2, out, TINY);
    if (r.status)
        fail_msg("status %d: %s", r.status, r.err);
    assert_contains(r.err, "4 to run");
    tu_run_free(&r);
    const char *files[] = {"comparison.md", "comparison.csv", "comparison.json", "curves.png", "curves.svg",
                           "runs/frozenlake4_c51_s1/summary.json", "runs/fl_lr_s2/distributions.json",
                           "logs/fl_lr_s2.log"};
    assert_files(out, files, sizeof files / sizeof *files);
    snprintf(p, sizeof p, "%s/comparison.json", out);
    char *js = tu_read(p);
    assert_contains(js, "\"config\": \"fl_lr\"");
    assert_contains(js, "\"finished\": 2");
    char *w1 = strstr(js, "\"mean_w1\"");
    assert_non_null(w1);
    assert_contains(w1, "\"n\": 2"); /* FrozenLake: W1 to the truth of both runs */
    snprintf(p, sizeof p, "%s/comparison.md", out);
    char *md = tu_read(p);
    assert_contains(md, "| frozenlake4_c51 |");
    assert_contains(md, "mean W1 to truth");
    snprintf(p, sizeof p, "%s/aggregate.csv", out);
    assert_int_not_equal(access(p, F_OK), 0); /* one environment: no aggregate */
    /* again: nothing reruns, the same figures */
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s --seeds 2 -j 2 --out %s %s", tu_bdrl(), tu_root(),
               cfg2, out, TINY);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "0 to run");
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/comparison.json", out);
    char *js2 = tu_read(p);
    assert_string_equal(js, js2);
    free(js);
    free(js2);
    free(md);
    /* other settings into the same directory: refused, naming the key */
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s --seeds 2 --out %s %s --set agent.gamma=0.9",
               tu_bdrl(), tu_root(), cfg2, out, TINY);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "agent.gamma");
    tu_run_free(&r);
    /* --first-seed: held-out seeds 101, 102, in the run names and configs */
    snprintf(out, sizeof out, "%s/cmp101", tu_dir);
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml --seeds 2 --first-seed 101 --out %s %s", tu_bdrl(),
               tu_root(), out, TINY);
    if (r.status)
        fail_msg("status %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/runs/frozenlake4_c51_s102/config.yaml", out);
    char *cy = tu_read(p);
    assert_non_null(cy);
    assert_contains(cy, "seed: 102");
    free(cy);
    snprintf(p, sizeof p, "%s/runs/frozenlake4_c51_s1", out);
    assert_int_not_equal(access(p, F_OK), 0);
}

static void test_cli_compare_bad_input(void **state)
{
    (void)state;
    tu_result r = tu_run("%s compare --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "usage: bdrl compare");
    tu_run_free(&r);
    r = tu_run("%s compare", tu_bdrl());
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml --out %s/bad --set train.batch_sise=3", tu_bdrl(),
               tu_root(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "unknown key 'train.batch_sise' (did you mean 'train.batch_size'?)");
    tu_run_free(&r);
    r = tu_run("%s compare /nonexistent.yaml --out %s/bad2", tu_bdrl(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "/nonexistent.yaml: cannot open");
    tu_run_free(&r);
    r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml --seeds 0", tu_bdrl(), tu_root());
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
}

/* scripts/agents_table.sh (the every-agent table of the demo and the
 * README) on hand-made comparison.csv files: one row per agent in the order
 * first met, one column group per environment, the right csv column in each
 * cell, "–" for a missing pair, and a missing directory refused. */
static void test_agents_table(void **state)
{
    (void)state;
    char cp[600], fl[600];
    snprintf(cp, sizeof cp, "%s/at_cartpole", tu_dir);
    snprintf(fl, sizeof fl, "%s/at_fl", tu_dir);
    const char *hdr = "config,path,agent,env,runs,finished,threshold_on,threshold,stt_reached,stt_median,stt_q25,"
                      "stt_q75,stt_iqr,final_return_mean,final_return_lo,final_return_hi,best_return_mean,"
                      "best_return_lo,best_return_hi,auc_mean,auc_lo,auc_hi,wall_seconds_mean,sps_mean,"
                      "success_rate_mean,success_rate_lo,success_rate_hi,w1_mean,w1_lo,w1_hi,stt_ratio_first_over_this";
    tu_result r = tu_run("mkdir -p %s %s && printf '%%s\\n' '%s' "
                         "'a,p,c51,cartpole,10,10,r,475,10,17500,0,0,0,442.4,0,0,0,0,0,0,0,0,0,932.2,0,0,0,,,,1' "
                         "'b,p,dqn,cartpole,10,10,r,475,9,23750,0,0,0,201.9,0,0,0,0,0,0,0,0,0,1270,0,0,0,,,,1' > %s/comparison.csv && "
                         "printf '%%s\\n' '%s' "
                         "'c,p,c51,frozenlake,10,10,s,0.7,0,inf,0,0,0,0,0,0,0,0,0,0,0,0,0,3400,0.76,0,0,0.0223,0,0,1' "
                         "> %s/comparison.csv && %s/scripts/agents_table.sh %s %s",
                         cp, fl, hdr, cp, hdr, fl, tu_root(), cp, fl);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "| agent | cartpole: steps to threshold, median (reached) | final return | steps/s | "
                           "frozenlake: mean W1 to the truth | success rate | steps/s |");
    assert_contains(r.out, "| c51 | 17500 (10/10) | 442.4 | 932 | 0.0223 | 0.76 | 3400 |");
    assert_contains(r.out, "| dqn | 23750 (9/10) | 201.9 | 1270 | – | – | – |");
    assert_true(strstr(r.out, "| c51 |") < strstr(r.out, "| dqn |"));
    tu_run_free(&r);
    r = tu_run("%s/scripts/agents_table.sh %s/no_such_dir", tu_root(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "no_such_dir/comparison.csv: no such file");
    tu_run_free(&r);
}


/* A hand-made MinAtar comparison in dir d, as bdrl compare leaves it:
 * breakout_c51 with three finished runs (seeds 1, 2, 10, s1 with a
 * checkpoint and metrics.csv beside its files), breakout_rainbow with one
 * finished (solved) run and one still training (its summary.json says
 * running, as a run's does while it trains). */
static void make_minatar_comparison(const char *d)
{
    const char *hdr = "config,path,agent,env,runs,finished,threshold_on,threshold,stt_reached,stt_median,stt_q25,"
                      "stt_q75,stt_iqr,final_return_mean,final_return_lo,final_return_hi,best_return_mean,"
                      "best_return_lo,best_return_hi,auc_mean,auc_lo,auc_hi,wall_seconds_mean,sps_mean,"
                      "success_rate_mean,success_rate_lo,success_rate_hi,w1_mean,w1_lo,w1_hi,"
                      "stt_ratio_first_over_this,last_quarter_mean,last_quarter_lo,last_quarter_hi,q_end_mean,"
                      "q_end_max,stt_ratio_lo,stt_ratio_hi";
    tu_result r = tu_run(
        "mkdir -p %s && cd %s && printf '%%s\n' '%s' "
        "'breakout_c51,p,c51,minatar-breakout,3,3,r,,0,,,,,9,0,0,0,0,0,0,0,0,0,0,0,0,0,,,,,14.33,12.56,16.14,6.428,6.552,,' "
        "'breakout_rainbow,p,c51,minatar-breakout,2,1,r,,0,,,,,9,0,0,0,0,0,0,0,0,0,0,0,0,0,,,,,3.0,2.0,4.0,1.0,1.5,,' "
        "> comparison.csv && echo '# table' > comparison.md && "
        "for s in 1 2 10; do mkdir -p runs/breakout_c51_s$s && "
        "echo '\"status\": \"finished\",' > runs/breakout_c51_s$s/summary.json && "
        "printf 'env:\n  name: minatar-breakout\n' > runs/breakout_c51_s$s/config.yaml; done && "
        "printf 'step,return_mean\n1000000,11.6\n' > runs/breakout_c51_s1/eval.csv && "
        "echo weights > runs/breakout_c51_s1/checkpoint.bin && echo episodes > runs/breakout_c51_s1/metrics.csv && "
        "printf 'step,return_mean\n500000,3\n1000000,19.4\n' > runs/breakout_c51_s2/eval.csv && "
        "printf 'step,return_mean\n1000000,7.25\n' > runs/breakout_c51_s10/eval.csv && "
        "mkdir -p runs/breakout_rainbow_s1 runs/breakout_rainbow_s2 && "
        "echo '\"status\": \"solved\",' > runs/breakout_rainbow_s1/summary.json && "
        "echo '\"status\": \"running\",' > runs/breakout_rainbow_s2/summary.json && "
        "printf 'env:\n  name: minatar-breakout\n' | tee runs/breakout_rainbow_s1/config.yaml "
        "> runs/breakout_rainbow_s2/config.yaml && "
        "printf 'step,return_mean\n1000000,4\n' > runs/breakout_rainbow_s1/eval.csv && "
        "printf 'step,return_mean\n50000,99\n' > runs/breakout_rainbow_s2/eval.csv",
        d, d, hdr);
    if (r.status != 0)
        fail_msg("making %s: %s", d, r.err);
    tu_run_free(&r);
}

/* docs/minatar.md's table from make_minatar_comparison's directory. */
static const char *const minatar_table_rows[2] = {
    "| Breakout | C51 | 14.3 [12.6, 16.1] | 11.6, 19.4, 7.2 | 6.4 [6.6] | 0.41 |",
    "| Breakout | Rainbow (1 of 2 runs) | 3.0 (one seed) | 4.0 | 1.0 [1.5] | 0.41 |"};

/* scripts/minatar_table.sh (docs/minatar.md's table) on a hand-made
 * comparison: the interval and Q columns from the right csv columns, the
 * finals from each finished run's last eval.csv row in numeric seed order
 * (seed 10 after seed 2), an unfinished run left out and its config
 * marked, a Rainbow config named by its file and its one finished run
 * given no interval, the game's random score, and a missing directory
 * refused. */
static void test_minatar_table(void **state)
{
    (void)state;
    char d[600];
    snprintf(d, sizeof d, "%s/mt_breakout", tu_dir);
    make_minatar_comparison(d);
    tu_result r = tu_run("%s/scripts/minatar_table.sh %s", tu_root(), d);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, minatar_table_rows[0]);
    assert_contains(r.out, minatar_table_rows[1]);
    tu_run_free(&r);
    r = tu_run("%s/scripts/minatar_table.sh %s/no_such_dir", tu_root(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "no_such_dir/comparison.csv: no such file");
    tu_run_free(&r);
}

/* scripts/archive_comparison.sh: the finished runs' config.yaml,
 * summary.json and eval.csv and the comparison's tables are copied, the
 * checkpoint and metrics.csv are not, the run still training is left out
 * and named; the table drawn from the copy is the table drawn from the
 * original; archiving again over the copy replaces it (no .tmp left);
 * a directory that is not a comparison is refused. */
static void test_archive_comparison(void **state)
{
    (void)state;
    char d[600], a[600], p[800];
    snprintf(d, sizeof d, "%s/ac_breakout", tu_dir);
    snprintf(a, sizeof a, "%s/ac_archive/breakout", tu_dir);
    make_minatar_comparison(d);
    for (int k = 0; k < 2; k++) {
        tu_result r = tu_run("%s/scripts/archive_comparison.sh %s %s", tu_root(), d, a);
        assert_int_equal(r.status, 0);
        assert_contains(r.out, "breakout: 4 runs");
        assert_contains(r.err, "runs/breakout_rainbow_s2: not finished, left out");
        tu_run_free(&r);
    }
    const char *kept[] = {"comparison.csv", "comparison.md", "runs/breakout_c51_s1/config.yaml",
                          "runs/breakout_c51_s1/summary.json", "runs/breakout_c51_s10/eval.csv",
                          "runs/breakout_rainbow_s1/eval.csv"};
    for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
        snprintf(p, sizeof p, "%s/%s", a, kept[i]);
        assert_true(access(p, F_OK) == 0);
    }
    const char *left[] = {"runs/breakout_c51_s1/checkpoint.bin", "runs/breakout_c51_s1/metrics.csv",
                          "runs/breakout_rainbow_s2", "runs/.breakout_c51_s1.tmp"};
    for (size_t i = 0; i < sizeof left / sizeof *left; i++) {
        snprintf(p, sizeof p, "%s/%s", a, left[i]);
        assert_true(access(p, F_OK) != 0);
    }
    tu_result r = tu_run("%s/scripts/minatar_table.sh %s", tu_root(), a);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, minatar_table_rows[0]);
    assert_contains(r.out, minatar_table_rows[1]);
    tu_run_free(&r);
    r = tu_run("%s/scripts/archive_comparison.sh %s/no_such_dir %s", tu_root(), tu_dir, a);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "no_such_dir/comparison.csv: no such file");
    tu_run_free(&r);
}

/* ---- the aggregate over environments (research/suite.h) ---- */

/* A finished run CMP/runs/NAME: summary.json with the score as its final
 * evaluation (return and success rate alike), and a config.yaml naming env
 * (what the random policy is measured on). */
static void suite_run(const char *cmp, const char *name, const char *agent, const char *env, const char *on,
                      double score, double thr)
{
    char d[700], p[800], buf[2048];
    snprintf(d, sizeof d, "%s/runs", cmp);
    mkdir(cmp, 0755);
    mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/runs/%s", cmp, name);
    mkdir(d, 0755);
    tu_summary su = {agent, env, "finished", on, 100, 100, 2, 50, score, 0, thr, NAN, score};
    tu_write_summary(d, &su);
    snprintf(buf, sizeof buf, "env:\n  name: %s\n", env);
    snprintf(p, sizeof p, "%s/config.yaml", d);
    tu_write(p, buf);
}

/* Two agents on CartPole (random given as 25 with --random, reference the
 * threshold 475: normalized (x - 25)/450) and MountainCar (random measured:
 * the random policy never reaches the top in 200 steps, so exactly -200;
 * reference -110: normalized (x + 200)/90):
 *   bd:  cartpole 475, 250 -> 1, 0.5;  mountaincar -110, -155 -> 1, 0.5
 *   c51: cartpole 25, 475, 475 -> 0, 1, 1;  mountaincar -200, -200 -> 0, 0
 * bd: task means 0.75, 0.75: mean = median = 0.75; IQM of 1 .5 1 .5 (one
 *     cut from each end) 0.75; optimality gap 0, .5 per task -> 0.25.
 * c51: task means 2/3, 0: mean = median = 1/3; IQM of 0 0 0 1 1: 0 0 1 ->
 *     1/3; gap: cartpole (1 + 0 + 0)/3, mountaincar 1 -> 2/3.
 * P(bd > c51): cartpole {1, .5} vs {0, 1, 1}: 1 > 0, ties 1/2 twice, .5 > 0:
 *     U = 3 of 6 -> 1/2; mountaincar 4 of 4 -> 1; mean 0.75. */
static void make_suite(const char *cmp)
{
    suite_run(cmp, "cartpole_bd_s1", "bd", "cartpole", "return_mean", 475, 475);
    suite_run(cmp, "cartpole_bd_s2", "bd", "cartpole", "return_mean", 250, 475);
    suite_run(cmp, "mc_bd_s1", "bd", "mountaincar", "return_mean", -110, -110);
    suite_run(cmp, "mc_bd_s2", "bd", "mountaincar", "return_mean", -155, -110);
    suite_run(cmp, "cartpole_c51_s1", "c51", "cartpole", "return_mean", 25, 475);
    suite_run(cmp, "cartpole_c51_s2", "c51", "cartpole", "return_mean", 475, 475);
    suite_run(cmp, "cartpole_c51_s3", "c51", "cartpole", "return_mean", 475, 475);
    suite_run(cmp, "mc_c51_s1", "c51", "mountaincar", "return_mean", -200, -110);
    suite_run(cmp, "mc_c51_s2", "c51", "mountaincar", "return_mean", -200, -110);
    char p[700];
    snprintf(p, sizeof p, "%s/comparison.csv", cmp);
    tu_write(p, "config,path\ncartpole_bd,a\nmc_bd,b\ncartpole_c51,c\nmc_c51,d\n");
}

/* A finished MinAtar run for scripts/minatar_aggregate.sh: summary.json and
 * an eval.csv whose last row holds the final score. */
static void minatar_run(const char *cmp, const char *name, const char *agent, const char *env, double score)
{
    suite_run(cmp, name, agent, env, "return_mean", score, NAN);
    char p[800], buf[200];
    snprintf(p, sizeof p, "%s/runs/%s/eval.csv", cmp, name);
    snprintf(buf, sizeof buf, "step,return_mean,return_std,success_rate\n500000,99,0,0\n1000000,%g,1,0\n", score);
    tu_write(p, buf);
}

/* scripts/minatar_aggregate.sh: per game, 0 = the random score and
 * 1 = the best final evaluation among the finished runs (not an earlier
 * evaluation's 99, not an unfinished run's). Breakout: bd 10.41, 5.41;
 * c51 20.41 -> reference 20.41, normalized (x - 0.41)/20 = 0.5, 0.25, 1.
 * Asterix: bd 3.48, c51 6.48 -> reference 6.48, normalized 0.5, 1.
 * bd's IQM: all of 0.5, 0.25, 0.5 (fewer than 4 runs): 0.417; c51's
 * scores are all 1. P(bd > c51) = 0 on both games. */
static void test_minatar_aggregate(void **state)
{
    (void)state;
    char b[600], a[600], out[600];
    snprintf(b, sizeof b, "%s/ma_breakout", tu_dir);
    snprintf(a, sizeof a, "%s/ma_asterix", tu_dir);
    snprintf(out, sizeof out, "%s/ma_out", tu_dir);
    minatar_run(b, "breakout_bd_s1", "bd", "minatar-breakout", 10.41);
    minatar_run(b, "breakout_bd_s2", "bd", "minatar-breakout", 5.41);
    minatar_run(b, "breakout_c51_s1", "c51", "minatar-breakout", 20.41);
    char p[800];
    minatar_run(b, "breakout_c51_s2", "c51", "minatar-breakout", 40);   /* still training: */
    snprintf(p, sizeof p, "%s/runs/breakout_c51_s2/summary.json", b);
    tu_write(p, "{\n  \"status\": \"running\"\n}\n");
    minatar_run(a, "asterix_bd_s1", "bd", "minatar-asterix", 3.48);
    minatar_run(a, "asterix_c51_s1", "c51", "minatar-asterix", 6.48);
    const char *hdr = "config,path,agent,env\n";
    snprintf(p, sizeof p, "%s/comparison.csv", b);
    char buf[400];
    snprintf(buf, sizeof buf, "%sbreakout_bd,x,bd,minatar-breakout\nbreakout_c51,y,c51,minatar-breakout\n", hdr);
    tu_write(p, buf);
    snprintf(p, sizeof p, "%s/comparison.csv", a);
    snprintf(buf, sizeof buf, "%sasterix_bd,x,bd,minatar-asterix\nasterix_c51,y,c51,minatar-asterix\n", hdr);
    tu_write(p, buf);
    tu_result r = tu_run("BDRL=%s %s/scripts/minatar_aggregate.sh %s %s %s", tu_bdrl(), tu_root(), out, b, a);
    if (r.status != 0)
        fail_msg("minatar_aggregate.sh: %s", r.err);
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/aggregate.md", out);
    char *md = tu_read(p);
    assert_non_null(md);
    assert_contains(md, "| minatar-breakout | return_mean | 0.41 (--random) | 20.41 (--reference) |");
    assert_contains(md, "| minatar-asterix | return_mean | 0.48 (--random) | 6.48 (--reference) |");
    assert_contains(md, "| bd | 0.417 [");
    assert_contains(md, "| c51 | 1.000 [1.000, 1.000] | 1.000 [1.000, 1.000] | 1.000 [1.000, 1.000] |");
    assert_contains(md, "| bd | c51 | 0.000 [0.000, 0.000] |");
    free(md);
    /* A third comparison holding both games (as IQN's or the Rainbow rows'
     * do): IQN, and C51 with Rainbow's components, which is another agent
     * than C51 (its config.yaml says so). Its IQN run sets Asterix's
     * reference to 12.48: Asterix now normalizes (x - 0.48)/12, so
     * c51 6.48 -> 0.5, c51+rainbow 0.48 -> 0, iqn 12.48 -> 1; Breakout's
     * reference stays 20.41 (c51+rainbow ties c51 there at 1).
     * P(c51 > c51+rainbow): a tie (1/2) on Breakout, 1 on Asterix: 0.75. */
    char m[600], *sc;
    snprintf(m, sizeof m, "%s/ma_rows", tu_dir);
    minatar_run(m, "breakout_iqn_s1", "iqn", "minatar-breakout", 10.41);
    minatar_run(m, "asterix_iqn_s1", "iqn", "minatar-asterix", 12.48);
    minatar_run(m, "breakout_rainbow_s1", "c51", "minatar-breakout", 20.41);
    minatar_run(m, "asterix_rainbow_s1", "c51", "minatar-asterix", 0.48);
    const char *game[2] = {"breakout", "asterix"};
    for (int g = 0; g < 2; g++) {
        snprintf(p, sizeof p, "%s/runs/%s_rainbow_s1/config.yaml", m, game[g]);
        snprintf(buf, sizeof buf, "env:\n  name: minatar-%s\nagent:\n  kind: c51\n  n_step: 3\n  double: true\n"
                 "  dueling: true\n  noisy: true\nreplay:\n  prioritized: true\n", game[g]);
        tu_write(p, buf);
    }
    snprintf(p, sizeof p, "%s/comparison.csv", m);
    snprintf(buf, sizeof buf, "%sbreakout_iqn,x,iqn,minatar-breakout\nasterix_iqn,x,iqn,minatar-asterix\n"
             "breakout_rainbow,x,c51,minatar-breakout\nasterix_rainbow,x,c51,minatar-asterix\n", hdr);
    tu_write(p, buf);
    r = tu_run("BDRL=%s %s/scripts/minatar_aggregate.sh %s %s %s %s", tu_bdrl(), tu_root(), out, b, a, m);
    if (r.status != 0)
        fail_msg("minatar_aggregate.sh: %s", r.err);
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/aggregate.md", out);
    md = tu_read(p);
    assert_non_null(md);
    assert_contains(md, "| minatar-breakout | return_mean | 0.41 (--random) | 20.41 (--reference) |");
    assert_contains(md, "| minatar-asterix | return_mean | 0.48 (--random) | 12.48 (--reference) |");
    assert_contains(md, "| c51+rainbow | 0.500 [");
    assert_contains(md, "| c51 | c51+rainbow | 0.750 [");
    free(md);
    snprintf(p, sizeof p, "%s/scores.csv", out);
    sc = tu_read(p);
    assert_contains(sc, "\nc51,minatar-asterix,asterix_c51,asterix_c51_s1,6.48,0.48,12.48,0.5\n");
    assert_contains(sc, "\nc51+rainbow,minatar-asterix,asterix_rainbow,asterix_rainbow_s1,0.48,0.48,12.48,0\n");
    assert_contains(sc, "\niqn,minatar-breakout,breakout_iqn,breakout_iqn_s1,10.41,0.41,20.41,0.5\n");
    free(sc);
    /* --score last-quarter: breakout_bd_s1's evaluations after 750k are 40.41
     * and 10.41, a mean of 25.41, which becomes Breakout's reference (its
     * final, 10.41, is below c51's 20.41); the final scores' reference stays */
    snprintf(p, sizeof p, "%s/runs/breakout_bd_s1/eval.csv", b);
    tu_write(p, "step,return_mean,return_std,success_rate\n500000,99,0,0\n900000,40.41,1,0\n1000000,10.41,1,0\n");
    for (int h = 0; h < 2; h++) {
        r = tu_run("BDRL=%s %s/scripts/minatar_aggregate.sh --score %s %s %s %s", tu_bdrl(), tu_root(),
                   h ? "last-quarter" : "final", out, b, a);
        if (r.status != 0)
            fail_msg("minatar_aggregate.sh: %s", r.err);
        tu_run_free(&r);
        snprintf(p, sizeof p, "%s/aggregate.md", out);
        md = tu_read(p);
        assert_contains(md, h ? "| minatar-breakout | return_mean | 0.41 (--random) | 25.41 (--reference) |"
                              : "| minatar-breakout | return_mean | 0.41 (--random) | 20.41 (--reference) |");
        free(md);
    }
    snprintf(p, sizeof p, "%s/scores.csv", out);
    sc = tu_read(p);
    assert_contains(sc, "\nbd,minatar-breakout,breakout_bd,breakout_bd_s1,25.41,0.41,25.41,1\n");
    free(sc);
    r = tu_run("BDRL=%s %s/scripts/minatar_aggregate.sh --score best %s %s", tu_bdrl(), tu_root(), out, b);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "--score expects final or last-quarter");
    tu_run_free(&r);
    r = tu_run("BDRL=%s %s/scripts/minatar_aggregate.sh %s %s/no_such_dir", tu_bdrl(), tu_root(), out, tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "no_such_dir/comparison.csv: no such file");
    tu_run_free(&r);
}

static void test_suite_hand_values(void **state)
{
    (void)state;
    char cmp[600], p[700];
    snprintf(cmp, sizeof cmp, "%s/suite", tu_dir);
    make_suite(cmp);
    /* a run of a config the comparison no longer has, and an unfinished one:
     * both left out */
    suite_run(cmp, "old_config_s1", "dqn", "cartpole", "return_mean", 0, 475);
    suite_run(cmp, "mc_c51_s3", "c51", "mountaincar", "return_mean", -110, -110);
    snprintf(p, sizeof p, "%s/runs/mc_c51_s3/summary.json", cmp);
    tu_result r = tu_run("sed -i 's/\"finished\"/\"running\"/' %s", p);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    char **dirs;
    int n, bad;
    bdrl_err e;
    if (suite_scan(cmp, &dirs, &n, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(n, 10); /* old_config_s1 is not a config of the comparison */
    assert_int_equal(suite_n_envs((const char *const *)dirs, n), 2);
    suite_value rnd = {"cartpole", 25};
    suite_options o = {.random = &rnd, .n_random = 1, .reps = 2000, .profile_reps = 500};
    if (suite_write(cmp, (const char *const *)dirs, n, &o, &bad, &e))
        fail_msg("%s", e.msg);
    snprintf(p, sizeof p, "%s/aggregate.csv", cmp);
    char *csv = tu_read(p);
    assert_non_null(csv);
    assert_contains(csv, "agent,statistic,estimate,ci_lo,ci_hi\nbd,iqm,0.75,");
    assert_contains(csv, "\nbd,median,0.75,");
    assert_contains(csv, "\nbd,mean,0.75,");
    assert_contains(csv, "\nbd,optimality_gap,0.25,");
    assert_contains(csv, "\nc51,iqm,0.3333333333,");
    assert_contains(csv, "\nc51,median,0.3333333333,");
    assert_contains(csv, "\nc51,optimality_gap,0.6666666667,");
    /* every interval holds its estimate */
    const char *line = strchr(csv, '\n');
    int rows = 0;
    while (line && line[1]) {
        char agent[32], stat[32];
        double v, lo, hi;
        assert_int_equal(sscanf(line + 1, "%31[^,],%31[^,],%lf,%lf,%lf", agent, stat, &v, &lo, &hi), 5);
        assert_true(lo <= v + 1e-12 && v <= hi + 1e-12);
        rows++;
        line = strchr(line + 1, '\n');
    }
    assert_int_equal(rows, 2 * AGG_N_STATS);
    snprintf(p, sizeof p, "%s/improvement.csv", cmp);
    char *imp = tu_read(p);
    assert_contains(imp, "agent_x,agent_y,p_x_gt_y,ci_lo,ci_hi\nbd,c51,0.75,");
    assert_contains(imp, "\nc51,bd,0.25,");
    snprintf(p, sizeof p, "%s/scores.csv", cmp);
    char *sc = tu_read(p);
    assert_contains(sc, "agent,task,config,run,score,random,reference,normalized\n");
    assert_contains(sc, "\nbd,cartpole,cartpole_bd,cartpole_bd_s2,250,25,475,0.5\n");
    assert_contains(sc, "\nbd,mountaincar,mc_bd,mc_bd_s2,-155,-200,-110,0.5\n");
    assert_true(strstr(sc, "mc_c51_s3") == NULL && strstr(sc, "old_config") == NULL);
    snprintf(p, sizeof p, "%s/aggregate.md", cmp);
    char *md = tu_read(p);
    assert_contains(md, "| cartpole | return_mean | 25 (--random) | 475 (threshold) | cartpole_bd, 2 runs | "
                        "cartpole_c51, 3 runs |");
    assert_contains(md, "| mountaincar | return_mean | -200 (random policy, 10000 episodes) | -110 (threshold) |");
    assert_contains(md, "| bd | c51 | 0.750 [");
    assert_contains(md, "![performance profiles");
    snprintf(p, sizeof p, "%s/profile.dat", cmp);
    char *dat = tu_read(p);
    assert_contains(dat, "# agent 2: c51\n# tau fraction lo hi\n-0.1 1 1 1\n");
    const char *figs[] = {"profile.png", "profile.svg", "profile.gp"};
    assert_files(cmp, figs, 3);
    /* the same input gives the same files */
    assert_int_equal(suite_write(cmp, (const char *const *)dirs, n, &o, &bad, &e), 0);
    snprintf(p, sizeof p, "%s/aggregate.csv", cmp);
    char *csv2 = tu_read(p);
    assert_string_equal(csv, csv2);
    /* the profile redraws on its own */
    r = tu_run("cd %s && gnuplot profile.gp", cmp);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    free(csv);
    free(csv2);
    free(imp);
    free(sc);
    free(md);
    free(dat);
    suite_dirs_free(dirs, n);
}

/* What does not make a suite is refused with a reason (bad input). */
static void test_suite_refused(void **state)
{
    (void)state;
    char cmp[600], p[700];
    char **dirs;
    int n, bad;
    bdrl_err e;
    suite_value v;
    snprintf(cmp, sizeof cmp, "%s/suite_bad", tu_dir);
    make_suite(cmp);
    suite_run(cmp, "cartpole_bd2_s1", "bd", "cartpole", "return_mean", 300, 475);
    snprintf(p, sizeof p, "%s/comparison.csv", cmp);
    tu_write(p, "config,path\ncartpole_bd,a\nmc_bd,b\ncartpole_c51,c\nmc_c51,d\ncartpole_bd2,e\n");
    assert_int_equal(suite_scan(cmp, &dirs, &n, &e), 0);
    assert_int_equal(suite_write(cmp, (const char *const *)dirs, n, NULL, &bad, &e), -1);
    assert_int_equal(bad, 1);
    assert_contains(e.msg, "agent bd has two configs on cartpole (cartpole_bd2 and cartpole_bd)");
    suite_dirs_free(dirs, n);
    /* an agent missing an environment */
    tu_write(p, "config,path\ncartpole_bd,a\nmc_bd,b\ncartpole_c51,c\n");
    assert_int_equal(suite_scan(cmp, &dirs, &n, &e), 0);
    assert_int_equal(suite_write(cmp, (const char *const *)dirs, n, NULL, &bad, &e), -1);
    assert_int_equal(bad, 1);
    assert_contains(e.msg, "agent c51 has no finished run on mountaincar");
    suite_dirs_free(dirs, n);
    /* thresholds that disagree, unless a reference is given; a reference for
     * no environment of the suite */
    suite_run(cmp, "mc_c51_s2", "c51", "mountaincar", "return_mean", -200, -100);
    tu_write(p, "config,path\ncartpole_bd,a\nmc_bd,b\ncartpole_c51,c\nmc_c51,d\n");
    assert_int_equal(suite_scan(cmp, &dirs, &n, &e), 0);
    suite_value rnd = {"cartpole", 25};
    suite_options o = {.random = &rnd, .n_random = 1, .reps = 100, .profile_reps = 100};
    assert_int_equal(suite_write(cmp, (const char *const *)dirs, n, &o, &bad, &e), -1);
    assert_int_equal(bad, 1);
    assert_contains(e.msg, "mountaincar: runs have thresholds -110 and -100; give the reference with --reference "
                           "mountaincar=VALUE");
    suite_value ref = {"mountaincar", -110};
    o.reference = &ref;
    o.n_reference = 1;
    if (suite_write(cmp, (const char *const *)dirs, n, &o, &bad, &e))
        fail_msg("%s", e.msg);
    suite_value acro = {"acrobot", -100};
    o.reference = &acro;
    assert_int_equal(suite_write(cmp, (const char *const *)dirs, n, &o, &bad, &e), -1);
    assert_contains(e.msg, "--reference acrobot: no run on that environment");
    /* a reference equal to the random score */
    suite_value same = {"cartpole", 25}, r2 = {"cartpole", 25};
    o.reference = &same;
    o.random = &r2;
    suite_run(cmp, "mc_c51_s2", "c51", "mountaincar", "return_mean", -200, -110);
    assert_int_equal(suite_write(cmp, (const char *const *)dirs, n, &o, &bad, &e), -1);
    assert_contains(e.msg, "cartpole: the reference score 25 gives no scale");
    suite_dirs_free(dirs, n);
    /* not a comparison directory */
    assert_int_equal(suite_scan(tu_dir, &dirs, &n, &e), -1);
    assert_contains(e.msg, "no comparison.csv (not a bdrl compare output directory)");
    /* ENV=VALUE */
    assert_int_equal(suite_value_parse("cartpole=500", &v, &e), 0);
    assert_string_equal(v.env, "cartpole");
    assert_close(v.value, 500, 0);
    assert_int_equal(suite_value_parse("cartpol=500", &v, &e), -1);
    assert_contains(e.msg, "unknown environment 'cartpol'");
    assert_int_equal(suite_value_parse("cartpole=nan", &v, &e), -1);
    /* best: a reference only */
    assert_int_equal(suite_value_parse("cartpole=best", &v, &e), 0);
    assert_true(isnan(v.value));
    assert_int_equal(suite_scan(cmp, &dirs, &n, &e), 0);
    suite_options ob = {.random = &v, .n_random = 1, .reps = 100, .profile_reps = 100};
    assert_int_equal(suite_write(cmp, (const char *const *)dirs, n, &ob, &bad, &e), -1);
    assert_int_equal(bad, 1);
    assert_contains(e.msg, "--random cartpole=best: best is a reference");
    suite_dirs_free(dirs, n);
    assert_int_equal(suite_value_parse("cartpole", &v, &e), -1);
    assert_contains(e.msg, "expected ENV=VALUE");
}

/* --score last-quarter: each run scores the mean of its evaluations after
 * 3/4 of its steps (eval.csv), not its final one. CartPole, random 0 and
 * reference 100 (given): bd's evaluations end 40, 60, 80 (steps 80-100 of
 * 100: the last quarter), c51's 100, 100, 10. Final: bd 0.8, c51 0.1, so
 * P(bd > c51) = 1; last quarter: bd 0.6, c51 0.7, so P(bd > c51) = 0. A
 * run without eval.csv is refused, naming the file. */
static void test_suite_last_quarter(void **state)
{
    (void)state;
    char cmp[600], p[800], out[600];
    snprintf(cmp, sizeof cmp, "%s/suite_lq", tu_dir);
    const char *name[2] = {"cartpole_bd_s1", "cartpole_c51_s1"}, *agent[2] = {"bd", "c51"};
    const char *tail[2] = {"80,40,0,0\n90,60,0,0\n100,80,0,0\n", "80,100,0,0\n90,100,0,0\n100,10,0,0\n"};
    double final[2] = {80, 10};
    for (int i = 0; i < 2; i++) {
        suite_run(cmp, name[i], agent[i], "cartpole", "return_mean", final[i], NAN);
        snprintf(p, sizeof p, "%s/runs/%s/eval.csv", cmp, name[i]);
        char buf[400];
        snprintf(buf, sizeof buf, "step,return_mean,return_std,success_rate\n25,0,0,0\n50,5,0,0\n75,90,0,0\n%s",
                 tail[i]);
        tu_write(p, buf);
    }
    snprintf(p, sizeof p, "%s/comparison.csv", cmp);
    tu_write(p, "config,path\ncartpole_bd,a\ncartpole_c51,b\n");
    snprintf(out, sizeof out, "%s/suite_lq_out", tu_dir);
    const char *how[2] = {"final", "last-quarter"}, *want[2] = {"\nbd,c51,1,", "\nbd,c51,0,"};
    const char *score[2][2] = {{",80,0,100,0.8\n", ",10,0,100,0.1\n"}, {",60,0,100,0.6\n", ",70,0,100,0.7\n"}};
    for (int h = 0; h < 2; h++) {
        tu_result r = tu_run("%s compare --aggregate %s --out %s --random cartpole=0 --reference cartpole=100 "
                             "--score %s", tu_bdrl(), cmp, out, how[h]);
        if (r.status)
            fail_msg("--score %s: status %d: %s", how[h], r.status, r.err);
        tu_run_free(&r);
        snprintf(p, sizeof p, "%s/improvement.csv", out);
        char *imp = tu_read(p);
        assert_contains(imp, want[h]);
        free(imp);
        snprintf(p, sizeof p, "%s/scores.csv", out);
        char *sc = tu_read(p);
        assert_contains(sc, score[h][0]);
        assert_contains(sc, score[h][1]);
        free(sc);
        snprintf(p, sizeof p, "%s/aggregate.md", out);
        char *md = tu_read(p);
        assert_contains(md, h ? "Score of a run: the mean of its evaluations over the last quarter of its steps"
                              : "Score of a run: its final evaluation");
        free(md);
    }
    snprintf(p, sizeof p, "%s/runs/cartpole_c51_s1/eval.csv", cmp);
    remove(p);
    tu_result r = tu_run("%s compare --aggregate %s --out %s --random cartpole=0 --reference cartpole=100 "
                         "--score last-quarter", tu_bdrl(), cmp, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "cartpole_c51_s1/eval.csv");
    tu_run_free(&r);
}

/* On an environment thresholded on the success rate the score is the final
 * success rate, not the return (FrozenLake with reward_goal 10 here: the
 * returns are 10 times the rates), and the random policy's success rate is
 * its 0 (given: 0.1). */
static void test_suite_success_rate(void **state)
{
    (void)state;
    char cmp[600], p[700];
    snprintf(cmp, sizeof cmp, "%s/suite_fl", tu_dir);
    const char *agents[] = {"bd", "c51"};
    double rate[2][2] = {{0.4, 0.7}, {0.1, 0.1}};
    for (int a = 0; a < 2; a++)
        for (int k = 0; k < 2; k++) {
            char name[64];
            snprintf(name, sizeof name, "fl_%s_s%d", agents[a], k + 1);
            suite_run(cmp, name, agents[a], "frozenlake", "success_rate", rate[a][k], 0.7);
            tu_result r = tu_run("sed -i 's/\"final_eval_return\": [^,]*/\"final_eval_return\": %g/' %s/runs/%s/summary.json",
                                 10 * rate[a][k], cmp, name);
            assert_int_equal(r.status, 0);
            tu_run_free(&r);
            snprintf(name, sizeof name, "mc_%s_s%d", agents[a], k + 1);
            suite_run(cmp, name, agents[a], "mountaincar", "return_mean", -110, -110);
        }
    snprintf(p, sizeof p, "%s/comparison.csv", cmp);
    tu_write(p, "config\nfl_bd,\nfl_c51,\nmc_bd,\nmc_c51,\n");
    char **dirs;
    int n, bad;
    bdrl_err e;
    assert_int_equal(suite_scan(cmp, &dirs, &n, &e), 0);
    suite_value rnd = {"frozenlake", 0.1};
    suite_options o = {.random = &rnd, .n_random = 1, .reps = 100, .profile_reps = 100};
    if (suite_write(cmp, (const char *const *)dirs, n, &o, &bad, &e))
        fail_msg("%s", e.msg);
    snprintf(p, sizeof p, "%s/scores.csv", cmp);
    char *sc = tu_read(p);
    /* (0.4 - 0.1)/(0.7 - 0.1) = 0.5 */
    assert_contains(sc, "\nbd,frozenlake,fl_bd,fl_bd_s1,0.4,0.1,0.7,0.5\n");
    assert_contains(sc, "\nbd,frozenlake,fl_bd,fl_bd_s2,0.7,0.1,0.7,1\n");
    assert_contains(sc, "\nc51,frozenlake,fl_c51,fl_c51_s1,0.1,0.1,0.7,0\n");
    free(sc);
    suite_dirs_free(dirs, n);
}

static void test_cli_aggregate(void **state)
{
    (void)state;
    char cmp[600], out[600], p[700];
    snprintf(cmp, sizeof cmp, "%s/suite_cli", tu_dir);
    snprintf(out, sizeof out, "%s/suite_cli_out", tu_dir);
    make_suite(cmp);
    tu_result r = tu_run("%s compare --aggregate %s --out %s --random cartpole=25", tu_bdrl(), cmp, out);
    if (r.status)
        fail_msg("status %d: %s", r.status, r.err);
    assert_contains(r.err, "aggregate.md");
    tu_run_free(&r);
    snprintf(p, sizeof p, "%s/aggregate.csv", out);
    char *csv = tu_read(p);
    assert_non_null(csv);
    assert_contains(csv, "\nbd,iqm,0.75,");
    free(csv);
    /* bad input: exit 2 with a reason */
    const char *bad[][2] = {
        {"--aggregate %s --seeds 3", "--seeds does not apply"},
        {"--aggregate %s --set seed=2", "--set does not apply"},
        {"--aggregate %s %s", "needs --out"},
        {"--aggregate %s --reference cartpole", "expected ENV=VALUE"},
        {"--aggregate %s --random cartpole=25 --reference acrobot=-100", "--reference acrobot: no run on that"},
        {"--aggregate /nonexistent", "no comparison.csv"},
        {"--aggregate %s --random cartpole=25 --score best", "--score expects final or last-quarter, got 'best'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[2000];
        snprintf(args, sizeof args, bad[i][0], cmp, cmp);
        r = tu_run("%s compare %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("%s: status %d: %s", args, r.status, r.err);
        assert_contains(r.err, bad[i][1]);
        tu_run_free(&r);
    }
    /* --slurm: the summary job (and each run) is given the same values */
    r = tu_run("%s compare %s/configs/cartpole_c51.yaml %s/configs/frozenlake4_c51.yaml --seeds 2 --out %s/sl "
               "--slurm --dry-run --reference cartpole=500 --random frozenlake=0 --score last-quarter",
               tu_bdrl(), tu_root(), tu_root(), tu_dir);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "--random frozenlake=0 --reference cartpole=500 --score last-quarter -j 1\n");
    tu_run_free(&r);
    r = tu_run("%s compare --help", tu_bdrl());
    assert_contains(r.out, "--aggregate DIR...");
    assert_contains(r.out, "improvement.csv");
    tu_run_free(&r);
}

/* bdrl compare over FrozenLake and CartPole, C51 and DQN: the aggregate is
 * written beside the table, from the runs' own final evaluations. */
static void test_cli_compare_suite(void **state)
{
    (void)state;
    char out[600], p[700];
    snprintf(out, sizeof out, "%s/cmp_suite", tu_dir);
    tu_result r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s/configs/cartpole_c51.yaml "
                         "%s/configs/frozenlake4_eval_dqn.yaml %s/configs/twins/cartpole_dqn.yaml --seeds 2 -j 2 "
                         "--no-truth --out %s %s",
                         tu_bdrl(), tu_root(), tu_root(), tu_root(), tu_root(), out, TINY);
    if (r.status)
        fail_msg("status %d: %s", r.status, r.err);
    assert_true(strstr(r.err, "warning") == NULL);
    tu_run_free(&r);
    const char *files[] = {"comparison.md", "aggregate.md", "aggregate.csv", "improvement.csv", "scores.csv",
                           "profile.png", "profile.svg"};
    assert_files(out, files, sizeof files / sizeof *files);
    /* the scores are the runs' final evaluations: FrozenLake's success rate */
    snprintf(p, sizeof p, "%s/scores.csv", out);
    char *sc = tu_read(p);
    snprintf(p, sizeof p, "%s/runs/frozenlake4_c51_s2/summary.json", out);
    char *js = tu_read(p), want[200];
    double succ;
    assert_true(rundir_json_num(js, "final_success_rate", &succ));
    snprintf(want, sizeof want, "\nc51,frozenlake,frozenlake4_c51,frozenlake4_c51_s2,%.10g,0.0142,0.7,", succ);
    assert_contains(sc, want);
    assert_contains(sc, "\ndqn,cartpole,cartpole_dqn,cartpole_dqn_s1,");
    free(sc);
    free(js);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_inf),
        cmocka_unit_test(test_summarize_hand_values),
        cmocka_unit_test(test_summarize_last_quarter_and_q),
        cmocka_unit_test(test_rundir_done),
        cmocka_unit_test(test_summarize_solved),
        cmocka_unit_test(test_bootstrap_two_points),
        cmocka_unit_test(test_write_ratio),
        cmocka_unit_test(test_boot_interval),
        cmocka_unit_test(test_curves_aggregate),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_cli_compare),
        cmocka_unit_test(test_cli_compare_bad_input),
        cmocka_unit_test(test_agents_table),
        cmocka_unit_test(test_minatar_table),
        cmocka_unit_test(test_archive_comparison),
        cmocka_unit_test(test_minatar_aggregate),
        cmocka_unit_test(test_suite_hand_values),
        cmocka_unit_test(test_suite_refused),
        cmocka_unit_test(test_suite_success_rate),
        cmocka_unit_test(test_suite_last_quarter),
        cmocka_unit_test(test_cli_aggregate),
        cmocka_unit_test(test_cli_compare_suite),
    };
    return cmocka_run_group_tests_name("compare", tests, tu_group_setup, tu_group_teardown);
}
