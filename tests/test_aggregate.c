/* Tests of stats/aggregate.h: every statistic on small hand-made tables
 * worked out by hand in the comments (normalization, IQM with sizes that 4
 * does and does not divide, median and mean of per-task means, optimality
 * gap, the Mann-Whitney probability of improvement with ties, performance
 * profiles at a few thresholds), bootstrap intervals whose distribution is
 * known exactly, the stratification of the bootstrap, edge cases and
 * refused input, and the numbers of tests/ref/aggregate_ref.py. */
#include "test_util.h"

#include "stats/aggregate.h"

#define TAB(nr, xs) ((agg_table){(int)(sizeof(nr) / sizeof *(nr)), (nr), (xs)})

static double est(const agg_table *t, int which)
{
    double out[AGG_N_STATS];
    bdrl_err e;
    if (agg_estimates(t, AGG_GAMMA, out, &e))
        fail_msg("%s", e.msg);
    return out[which];
}

static void test_normalize(void **state)
{
    (void)state;
    /* task 1: random 20, reference 480: 250 -> 230/460 = 0.5, 20 -> 0,
     * 480 -> 1, 940 -> 2; task 2: random -500, reference -100 (a return that
     * rises toward 0): -300 -> 200/400 = 0.5, -600 -> -0.25 */
    int nr[] = {4, 2};
    double x[] = {250, 20, 480, 940, -300, -600}, rnd[] = {20, -500}, ref[] = {480, -100}, out[6];
    bdrl_err e;
    agg_table t = TAB(nr, x);
    assert_int_equal(agg_normalize(&t, rnd, ref, out, &e), 0);
    double want[] = {0.5, 0, 1, 2, 0.5, -0.25};
    for (int i = 0; i < 6; i++)
        assert_close(out[i], want[i], 1e-15);
    /* a reference equal to the random score gives no scale */
    double ref2[] = {480, -500};
    assert_int_equal(agg_normalize(&t, rnd, ref2, out, &e), -1);
    assert_contains(e.msg, "task 2: the reference score equals the random score (-500)");
    double rnd2[] = {NAN, -500};
    assert_int_equal(agg_normalize(&t, rnd2, ref, out, &e), -1);
    assert_contains(e.msg, "task 1");
}

static void test_iqm(void **state)
{
    (void)state;
    /* 8 numbers, two tasks pooled: 3 1 4 1 | 5 9 2 6, sorted 1 1 2 3 4 5 6 9;
     * floor(8/4) = 2 cut from each end leaves 2 3 4 5: IQM 14/4 = 3.5 */
    int n8[] = {4, 4};
    double x8[] = {3, 1, 4, 1, 5, 9, 2, 6};
    agg_table t = TAB(n8, x8);
    assert_close(est(&t, AGG_IQM), 3.5, 1e-15);
    /* the same 8 as one task: pooled all the same */
    int n1[] = {8};
    t = TAB(n1, x8);
    assert_close(est(&t, AGG_IQM), 3.5, 1e-15);
    /* 10 (not divisible by 4): int(0.25 * 10) = 2 cut each end, 6 kept:
     * 0 0 | 0 1 2 3 4 5 | 100 1000 -> 15/6 = 2.5 */
    int n10[] = {10};
    double x10[] = {1000, 0, 3, 0, 100, 5, 1, 4, 2, 0};
    t = TAB(n10, x10);
    assert_close(est(&t, AGG_IQM), 2.5, 1e-15);
    /* 5: 1 cut each end: 1 | 2 3 4 | 100 -> 3 */
    int n5[] = {5};
    double x5[] = {100, 2, 1, 4, 3};
    t = TAB(n5, x5);
    assert_close(est(&t, AGG_IQM), 3, 1e-15);
    /* 7: 1 cut each end: -5 | 0 1 2 3 4 | 50 -> 2 */
    int n7[] = {7};
    double x7[] = {50, 4, 3, 2, 1, 0, -5};
    t = TAB(n7, x7);
    assert_close(est(&t, AGG_IQM), 2, 1e-15);
    /* 3: int(0.75) = 0, nothing cut: the plain mean (1 + 2 + 30)/3 = 11 */
    int n3[] = {3};
    double x3[] = {1, 2, 30};
    t = TAB(n3, x3);
    assert_close(est(&t, AGG_IQM), 11, 1e-15);
    /* one score */
    int none[] = {1};
    double x1[] = {-7.25};
    t = TAB(none, x1);
    assert_close(est(&t, AGG_IQM), -7.25, 0);
}

/* A ragged table: task 1 {0.2, 0.4}, task 2 {1.0, 0.5, 0.0}, task 3 {2.0}. */
static int RN[] = {2, 3, 1};
static double RX[] = {0.2, 0.4, 1.0, 0.5, 0.0, 2.0};

static void test_mean_median_gap(void **state)
{
    (void)state;
    agg_table t = TAB(RN, RX);
    /* task means 0.3, 0.5, 2.0: mean 2.8/3, median 0.5 */
    assert_close(est(&t, AGG_MEAN), 2.8 / 3, 1e-15);
    assert_close(est(&t, AGG_MEDIAN), 0.5, 1e-15);
    /* IQM pools the 6 runs: 0 0.2 0.4 0.5 1 2, floor(6/4) = 1 cut each end:
     * (0.2 + 0.4 + 0.5 + 1)/4 = 0.525 */
    assert_close(est(&t, AGG_IQM), 0.525, 1e-15);
    /* optimality gap (gamma 1): max(1 - x, 0) per task: 0.8 0.6 -> 0.7;
     * 0 0.5 1 -> 0.5; 0 (2.0 is clipped) -> 0; mean 1.2/3 = 0.4 (not
     * 1 - mean: the 2.0 above gamma counts as 1) */
    assert_close(est(&t, AGG_OPTGAP), 0.4, 1e-15);
    double g;
    bdrl_err e;
    /* gamma 0.5: 0.3 0.1 -> 0.2; 0 0 0.5 -> 1/6; 0 -> mean (0.2 + 1/6)/3 */
    assert_int_equal(agg_optimality_gap(&t, 0.5, &g, &e), 0);
    assert_close(g, (0.2 + 1.0 / 6) / 3, 1e-15);
    /* four tasks, no score above gamma: {0.1, 0.3} {0.6, 1.0} {0.0}
     * {0.9, 0.9, 0.6}, task means 0.2 0.8 0 0.8: mean 1.8/4 = 0.45; the
     * median of an even count is the mean of the middle two of 0 0.2 0.8
     * 0.8: 0.5; the gap per task 0.8 0.2 1 0.2 -> 0.55 = 1 - mean */
    int n[] = {2, 2, 1, 3};
    double x[] = {0.1, 0.3, 0.6, 1.0, 0.0, 0.9, 0.9, 0.6};
    agg_table u = TAB(n, x);
    assert_close(est(&u, AGG_MEAN), 0.45, 1e-15);
    assert_close(est(&u, AGG_MEDIAN), 0.5, 1e-15);
    assert_close(est(&u, AGG_OPTGAP), 0.55, 1e-15);
    assert_close(est(&u, AGG_OPTGAP), 1 - est(&u, AGG_MEAN), 1e-15);
    /* the single-statistic entry points agree */
    double v;
    assert_int_equal(agg_iqm(&t, &v, &e), 0);
    assert_close(v, 0.525, 1e-15);
    assert_int_equal(agg_median(&t, &v, &e), 0);
    assert_close(v, 0.5, 1e-15);
    assert_int_equal(agg_mean(&t, &v, &e), 0);
    assert_close(v, 2.8 / 3, 1e-15);
}

static void test_improvement(void **state)
{
    (void)state;
    /* task 1: X = {1, 2, 2, 3}, Y = {2, 2, 1}. Pairs x > y count 1, ties 1/2:
     *   x = 1: vs 2, 2 -> 0, vs 1 -> 1/2        = 0.5
     *   x = 2: vs 2, 2 -> 1/2 + 1/2, vs 1 -> 1  = 2   (twice)
     *   x = 3: all three                         = 3
     * U = 7.5 (scipy.stats.mannwhitneyu says 7.5), P = 7.5/12 = 0.625.
     * task 2: X = {0}, Y = {1, 1}: U = 0. Mean over tasks 0.3125. */
    int nx[] = {4, 1}, ny[] = {3, 2};
    double x[] = {1, 2, 2, 3, 0}, y[] = {2, 2, 1, 1, 1};
    agg_table tx = TAB(nx, x), ty = TAB(ny, y);
    double p, q;
    bdrl_err e;
    assert_int_equal(agg_improvement(&tx, &ty, &p, &e), 0);
    assert_close(p, 0.3125, 0);
    /* the other way: 12 - 7.5 = 4.5 -> 0.375, and 1: 0.6875 = 1 - 0.3125 */
    assert_int_equal(agg_improvement(&ty, &tx, &q, &e), 0);
    assert_close(q, 0.6875, 0);
    /* all ties: 1/2 */
    int n2[] = {2}, n3[] = {3};
    double a[] = {1, 1}, b[] = {1, 1, 1};
    agg_table ta = TAB(n2, a), tb = TAB(n3, b);
    assert_int_equal(agg_improvement(&ta, &tb, &p, &e), 0);
    assert_close(p, 0.5, 0);
    /* an agent against itself: 1/2 */
    assert_int_equal(agg_improvement(&tx, &tx, &p, &e), 0);
    assert_close(p, 0.5, 0);
    /* different task counts are refused */
    assert_int_equal(agg_improvement(&tx, &ta, &p, &e), -1);
    assert_contains(e.msg, "X has 2 tasks and Y 1");
}

static void test_profile(void **state)
{
    (void)state;
    agg_table t = TAB(RN, RX);
    /* per task the fraction of runs > tau (strictly), averaged over tasks:
     *   tau -1:   1, 1, 1           -> 1
     *   tau 0:    1, 2/3, 1         -> 8/9  (0.0 is not > 0)
     *   tau 0.3:  1/2, 2/3, 1       -> 13/18
     *   tau 0.5:  0, 1/3, 1         -> 4/9  (0.5 is not > 0.5)
     *   tau 1:    0, 0, 1           -> 1/3
     *   tau 2:    0, 0, 0           -> 0 */
    double tau[] = {-1, 0, 0.3, 0.5, 1, 2}, want[] = {1, 8.0 / 9, 13.0 / 18, 4.0 / 9, 1.0 / 3, 0}, f[6];
    bdrl_err e;
    assert_int_equal(agg_profile(&t, tau, 6, f, &e), 0);
    for (int i = 0; i < 6; i++)
        assert_close(f[i], want[i], 1e-15);
    /* the area under the profile over tau >= 0 is the mean for scores >= 0:
     * a fine grid on [0, 2] gives the mean 2.8/3 to within the step */
    enum { G = 20001 };
    double *g = malloc(G * sizeof *g), *fg = malloc(G * sizeof *fg);
    for (int i = 0; i < G; i++)
        g[i] = 2.0 * i / (G - 1);
    assert_int_equal(agg_profile(&t, g, G, fg, &e), 0);
    double area = 0;
    for (int i = 0; i + 1 < G; i++)
        area += fg[i] * (g[i + 1] - g[i]);
    assert_close(area, 2.8 / 3, 1e-3);
    free(g);
    free(fg);
    double bad[] = {0, NAN};
    assert_int_equal(agg_profile(&t, bad, 2, f, &e), -1);
    assert_contains(e.msg, "threshold 2");
}

/* A one-task table {0, 1}: a resampled mean is 0, 1/2 or 1 with
 * probabilities 1/4, 1/2, 1/4, so the 2.5% and 97.5% quantiles of 50,000
 * resampled means are exactly 0 and 1; the median and IQM (N = 2: nothing
 * cut) are the mean, the gap 1 - mean. */
static void test_intervals_known_distribution(void **state)
{
    (void)state;
    int n[] = {2};
    double x[] = {0, 1}, lo[AGG_N_STATS], hi[AGG_N_STATS];
    agg_table t = TAB(n, x);
    rng *r = rng_create(7, 0);
    bdrl_err e;
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, AGG_REPS, AGG_LEVEL, r, lo, hi, &e), 0);
    for (int s = 0; s < AGG_N_STATS; s++) {
        assert_close(lo[s], 0, 0);
        assert_close(hi[s], 1, 0);
    }
    /* a 40% interval of the same: the 30% and 70% quantiles are both 1/2 */
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, AGG_REPS, 0.4, r, lo, hi, &e), 0);
    assert_close(lo[AGG_MEAN], 0.5, 0);
    assert_close(hi[AGG_MEAN], 0.5, 0);
    /* P(X > Y) with X = {0, 1}, Y = {0.5}: 0, 1/2 or 1 likewise */
    int n1[] = {1};
    double y[] = {0.5}, plo, phi;
    agg_table ty = TAB(n1, y);
    assert_int_equal(agg_improvement_interval(&t, &ty, AGG_REPS, AGG_LEVEL, r, &plo, &phi, &e), 0);
    assert_close(plo, 0, 0);
    assert_close(phi, 1, 0);
    /* profile at 0.5: the fraction of resampled runs above is 0, 1/2, 1 */
    double tau[] = {0.5, -1}, flo[2], fhi[2];
    assert_int_equal(agg_profile_intervals(&t, tau, 2, AGG_PROFILE_REPS, AGG_LEVEL, r, flo, fhi, &e), 0);
    assert_close(flo[0], 0, 0);
    assert_close(fhi[0], 1, 0);
    assert_close(flo[1], 1, 0); /* every run is above -1 in every resample */
    assert_close(fhi[1], 1, 0);
    rng_free(r);
}

/* The bootstrap resamples within tasks. Task 1's runs are all 0 and task
 * 2's all 1: every stratified resample has 5 zeros and 3 ones, so its mean
 * of task means is exactly 0.5 and its IQM (8 pooled: 0 0 | 0 0 0 1 | 1 1)
 * exactly 0.25, and both intervals have width 0. Resampling the 8 pooled
 * runs would change the count of ones from resample to resample (the IQM
 * would range from 0 to 1). */
static void test_stratified(void **state)
{
    (void)state;
    int n[] = {5, 3};
    double x[] = {0, 0, 0, 0, 0, 1, 1, 1}, lo[AGG_N_STATS], hi[AGG_N_STATS];
    agg_table t = TAB(n, x);
    rng *r = rng_create(11, 0);
    bdrl_err e;
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, 2000, AGG_LEVEL, r, lo, hi, &e), 0);
    assert_close(lo[AGG_MEAN], 0.5, 0);
    assert_close(hi[AGG_MEAN], 0.5, 0);
    assert_close(lo[AGG_IQM], 0.25, 0);
    assert_close(hi[AGG_IQM], 0.25, 0);
    assert_close(lo[AGG_OPTGAP], 0.5, 0);
    assert_close(hi[AGG_OPTGAP], 0.5, 0);

    /* agg_resample directly: tasks with values in [0, 1), [10, 11) and
     * [20, 21): each resample holds exactly n_t runs of task t, each one of
     * task t's own values; over many resamples every run is drawn, about
     * equally often. */
    int m[] = {3, 1, 4};
    double v[] = {0.1, 0.2, 0.3, 10.5, 20.1, 20.2, 20.3, 20.4}, out[8];
    agg_table u = TAB(m, v);
    int count[8] = {0};
    for (int b = 0; b < 4000; b++) {
        agg_resample(&u, r, out);
        for (int i = 0; i < 8; i++) {
            int task = i < 3 ? 0 : i < 4 ? 1 : 2, found = -1;
            for (int j = 0; j < 8; j++)
                if (v[j] == out[i])
                    found = j;
            assert_true(found >= 0);
            int ftask = found < 3 ? 0 : found < 4 ? 1 : 2;
            assert_int_equal(ftask, task);
            count[found]++;
        }
    }
    /* draws per value: task 1: 3 per resample over 3 values -> 4000 each;
     * task 2: 4000; task 3: 4 per resample over 4 values -> 4000 each */
    for (int j = 0; j < 8; j++)
        assert_true(count[j] > 3600 && count[j] < 4400);
    assert_int_equal(count[3], 4000);
    rng_free(r);
}

/* One run per task: every resample is the table itself, so each interval
 * is the point estimate; one task: median = mean = the task's mean. */
static void test_edge_cases(void **state)
{
    (void)state;
    int n[] = {1, 1, 1};
    double x[] = {0.25, 0.75, 2.0}, lo[AGG_N_STATS], hi[AGG_N_STATS], pt[AGG_N_STATS];
    agg_table t = TAB(n, x);
    rng *r = rng_create(3, 0);
    bdrl_err e;
    assert_int_equal(agg_estimates(&t, AGG_GAMMA, pt, &e), 0);
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, 500, AGG_LEVEL, r, lo, hi, &e), 0);
    for (int s = 0; s < AGG_N_STATS; s++) {
        assert_close(lo[s], pt[s], 1e-15);
        assert_close(hi[s], pt[s], 1e-15);
    }
    assert_close(pt[AGG_MEDIAN], 0.75, 0);
    assert_close(pt[AGG_MEAN], 1, 0);
    assert_close(pt[AGG_IQM], 1, 0); /* N = 3: nothing cut */
    assert_close(pt[AGG_OPTGAP], (0.75 + 0.25 + 0) / 3, 1e-15);
    int one[] = {4};
    double y[] = {0.5, 0.1, 0.9, 0.3};
    agg_table u = TAB(one, y);
    assert_int_equal(agg_estimates(&u, AGG_GAMMA, pt, &e), 0);
    assert_close(pt[AGG_MEDIAN], 0.45, 1e-15);
    assert_close(pt[AGG_MEAN], 0.45, 1e-15);
    assert_close(pt[AGG_IQM], 0.4, 1e-15); /* 0.1 | 0.3 0.5 | 0.9 */
    /* all ties: every statistic is the value, every interval of width 0 */
    int nt[] = {3, 2};
    double z[] = {0.6, 0.6, 0.6, 0.6, 0.6};
    agg_table w = TAB(nt, z);
    assert_int_equal(agg_estimates(&w, AGG_GAMMA, pt, &e), 0);
    assert_int_equal(agg_intervals(&w, AGG_GAMMA, 500, AGG_LEVEL, r, lo, hi, &e), 0);
    for (int s = 0; s < AGG_N_STATS; s++) {
        double want = s == AGG_OPTGAP ? 0.4 : 0.6;
        assert_close(pt[s], want, 1e-15);
        assert_close(lo[s], want, 1e-15);
        assert_close(hi[s], want, 1e-15);
    }
    double plo, phi;
    assert_int_equal(agg_improvement_interval(&w, &w, 500, AGG_LEVEL, r, &plo, &phi, &e), 0);
    assert_close(plo, 0.5, 0);
    assert_close(phi, 0.5, 0);
    rng_free(r);
}

static void test_refused(void **state)
{
    (void)state;
    int n[] = {2, 1};
    double x[] = {0.1, 0.2, NAN}, out[AGG_N_STATS], lo[AGG_N_STATS], hi[AGG_N_STATS], p;
    agg_table t = TAB(n, x);
    bdrl_err e;
    assert_int_equal(agg_estimates(&t, AGG_GAMMA, out, &e), -1);
    assert_contains(e.msg, "task 2, run 1: score nan is not a finite number");
    x[2] = INFINITY;
    assert_int_equal(agg_check(&t, &e), -1);
    assert_contains(e.msg, "task 2, run 1");
    rng *r = rng_create(1, 0);
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, 10, AGG_LEVEL, r, lo, hi, &e), -1);
    assert_int_equal(agg_improvement(&t, &t, &p, &e), -1);
    x[2] = 0.3;
    assert_int_equal(agg_check(&t, &e), 0);
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, 0, AGG_LEVEL, r, lo, hi, &e), -1);
    assert_contains(e.msg, "0 resamples");
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, 10, 1.0, r, lo, hi, &e), -1);
    assert_contains(e.msg, "level 1 is not between 0 and 1");
    int z[] = {2, 0};
    agg_table empty_task = TAB(z, x);
    assert_int_equal(agg_check(&empty_task, &e), -1);
    assert_contains(e.msg, "task 2 has no runs");
    agg_table none = {0, n, x};
    assert_int_equal(agg_check(&none, &e), -1);
    assert_contains(e.msg, "no tasks");
    rng_free(r);
}

/* The same seed gives the same intervals; another seed other ones. */
static void test_deterministic(void **state)
{
    (void)state;
    agg_table t = TAB(RN, RX);
    double lo1[AGG_N_STATS], hi1[AGG_N_STATS], lo2[AGG_N_STATS], hi2[AGG_N_STATS];
    bdrl_err e;
    rng *r = rng_create(42, 9);
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, 3000, AGG_LEVEL, r, lo1, hi1, &e), 0);
    rng_reseed(r, 42, 9);
    assert_int_equal(agg_intervals(&t, AGG_GAMMA, 3000, AGG_LEVEL, r, lo2, hi2, &e), 0);
    assert_memory_equal(lo1, lo2, sizeof lo1);
    assert_memory_equal(hi1, hi2, sizeof hi1);
    /* the interval holds the point estimate here, and lies within the range
     * the statistic can take (the task means lie in [0, 2]) */
    double pt[AGG_N_STATS];
    assert_int_equal(agg_estimates(&t, AGG_GAMMA, pt, &e), 0);
    for (int s = 0; s < AGG_N_STATS; s++) {
        assert_true(lo1[s] <= pt[s] && pt[s] <= hi1[s]);
        assert_true(lo1[s] < hi1[s]);
    }
    rng_free(r);
}

/* tests/ref/aggregate_ref.py's tables and printed numbers (%.12f). */
static double fa(int t, int r) { return ((37 * t + 11 * r * r + 5) % 23) / 10.0 - 0.2; }
static double fb(int t, int r) { return ((13 * t + 7 * r + 3) % 19) / 10.0 - 0.1; }

static void fill(double (*f)(int, int), const int *runs, double *x)
{
    int i = 0;
    for (int t = 0; t < 5; t++)
        for (int r = 0; r < runs[t]; r++)
            x[i++] = f(t, r);
}

static void check_ref(const agg_table *t, const double want[AGG_N_STATS], const double prof[5])
{
    double pt[AGG_N_STATS], tau[] = {-0.1, 0.0, 0.5, 1.0, 1.5}, f[5];
    bdrl_err e;
    assert_int_equal(agg_estimates(t, AGG_GAMMA, pt, &e), 0);
    for (int s = 0; s < AGG_N_STATS; s++)
        assert_close(pt[s], want[s], 5e-13);
    assert_int_equal(agg_profile(t, tau, 5, f, &e), 0);
    for (int i = 0; i < 5; i++)
        assert_close(f[i], prof[i], 5e-13);
}

static void test_python_reference(void **state)
{
    (void)state;
    int full[] = {10, 10, 10, 10, 10}, ragged[] = {10, 9, 8, 7, 6};
    double a[50], b[50], ar[40];
    fill(fa, full, a);
    fill(fb, full, b);
    fill(fa, ragged, ar);
    agg_table ta = TAB(full, a), tb = TAB(full, b), tr = TAB(ragged, ar);
    /* order: iqm, median, mean, optimality_gap; profile at -0.1 0 0.5 1 1.5 */
    check_ref(&ta, (double[]){0.919230769231, 0.890000000000, 0.916000000000, 0.330000000000},
              (double[]){0.920000000000, 0.880000000000, 0.660000000000, 0.440000000000, 0.220000000000});
    check_ref(&tb, (double[]){0.773076923077, 0.790000000000, 0.782000000000, 0.360000000000},
              (double[]){0.940000000000, 0.900000000000, 0.620000000000, 0.360000000000, 0.100000000000});
    check_ref(&tr, (double[]){0.955000000000, 1.033333333333, 0.943825396825, 0.316007936508},
              (double[]){0.920634920635, 0.895634920635, 0.673730158730, 0.457142857143, 0.216349206349});
    double p;
    bdrl_err e;
    assert_int_equal(agg_improvement(&ta, &tb, &p, &e), 0);
    assert_close(p, 0.563000000000, 5e-13);
    assert_int_equal(agg_improvement(&tr, &tb, &p, &e), 0);
    assert_close(p, 0.573968253968, 5e-13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_iqm),
        cmocka_unit_test(test_mean_median_gap),
        cmocka_unit_test(test_improvement),
        cmocka_unit_test(test_profile),
        cmocka_unit_test(test_intervals_known_distribution),
        cmocka_unit_test(test_stratified),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_python_reference),
    };
    return cmocka_run_group_tests_name("aggregate", tests, NULL, NULL);
}
