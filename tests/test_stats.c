/* Tests of src/stats: every distance against exact truth (closed forms for
 * point masses, shifts, uniform laws and atoms-vs-cells), plus a brute-force
 * quadrature of the CDFs as an independent check; summaries against values
 * computed by hand with numpy's definitions. */
#include "test_util.h"

#include "core/rng.h"
#include "stats/metrics.h"

/* ---- helpers ---- */

static double u01(double x, void *ctx)
{
    (void)ctx;
    return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

/* Independent check: midpoint rule for W1, Cramér^2 and a sup over points. */
static void brute(const stat_dist *a, const stat_dist *b, double lo, double hi, size_t n, double *w1,
                  double *c2, double *ks)
{
    double h = (hi - lo) / (double)n;
    *w1 = *c2 = *ks = 0;
    for (size_t i = 0; i < n; i++) {
        double x = lo + ((double)i + 0.5) * h;
        double d = stat_dist_cdf(a, x) - stat_dist_cdf(b, x);
        *w1 += fabs(d) * h;
        *c2 += d * d * h;
        if (fabs(d) > *ks)
            *ks = fabs(d);
    }
}

static stat_dist *sample_dist(const double *x, size_t n)
{
    stat_dist *d = stat_dist_sample(x, n, NULL);
    assert_non_null(d);
    return d;
}

/* ---- 1-D distances ---- */

static void test_point_masses(void **state)
{
    (void)state;
    double a = 1.5, b = -0.25, w;
    assert_int_equal(stat_w1_samples(&a, 1, &b, 1, &w, NULL), 0);
    assert_close(w, 1.75, 1e-15);
    stat_dist *A = sample_dist(&a, 1), *B = sample_dist(&b, 1);
    stat_cmp c;
    stat_dist_compare(A, B, &c);
    assert_close(c.w1, 1.75, 1e-15);
    assert_close(c.cramer, sqrt(1.75), 1e-15);
    assert_close(c.ks, 1.0, 0);
    /* Cramér of point masses a, b is sqrt(|a - b|), through atoms too. */
    double va = 0.2, vb = 1.7, one = 1.0;
    stat_dist *P = stat_dist_atoms(&va, &one, 1, NULL), *Q = stat_dist_atoms(&vb, &one, 1, NULL);
    assert_close(stat_cramer(P, Q), sqrt(1.5), 1e-15);
    assert_close(stat_w1(P, Q), 1.5, 1e-15);
    assert_close(stat_w1(P, P), 0.0, 0);
    stat_dist_free(A); stat_dist_free(B); stat_dist_free(P); stat_dist_free(Q);
}

static void test_shift_and_sizes(void **state)
{
    (void)state;
    rng *r = rng_create(1, 1);
    enum { N = 1000 };
    double a[N], b[N];
    for (int i = 0; i < N; i++) {
        a[i] = rng_normal(r) * 2.0;
        b[i] = a[i] + 0.3;
    }
    double w;
    assert_int_equal(stat_w1_samples(a, N, b, N, &w, NULL), 0);
    assert_close(w, 0.3, 1e-12);
    stat_dist *A = sample_dist(a, N), *B = sample_dist(b, N);
    stat_cmp c;
    stat_dist_compare(A, B, &c);
    assert_close(c.w1, 0.3, 1e-12);
    stat_dist_free(A); stat_dist_free(B);

    /* Different sizes: F = 1/2 and G = 2/3 on [0, 1): W1 = Cramér = 1/6. */
    double x[2] = {1, 0}, y[3] = {0, 1, 0};
    assert_int_equal(stat_w1_samples(x, 2, y, 3, &w, NULL), 0);
    assert_close(w, 1.0 / 6.0, 1e-15);
    A = sample_dist(x, 2);
    B = sample_dist(y, 3);
    stat_dist_compare(A, B, &c);
    assert_close(c.w1, 1.0 / 6.0, 1e-15);
    assert_close(c.cramer, 1.0 / 6.0, 1e-15);
    assert_close(c.ks, 1.0 / 6.0, 1e-15);
    /* Inputs untouched. */
    assert_true(x[0] == 1 && y[1] == 1);
    stat_dist_free(A); stat_dist_free(B);
    rng_free(r);
}

static void test_symmetric_zero_and_brute_force(void **state)
{
    (void)state;
    rng *r = rng_create(2, 1);
    enum { NA = 500, NB = 333 };
    double a[NA], b[NB];
    for (int i = 0; i < NA; i++) a[i] = rng_normal(r);
    for (int i = 0; i < NB; i++) b[i] = 0.5 + 1.5 * rng_uniform(r);
    b[7] = b[8] = a[3]; /* ties across and within samples */
    double ab, ba, aa;
    assert_int_equal(stat_w1_samples(a, NA, b, NB, &ab, NULL), 0);
    assert_int_equal(stat_w1_samples(b, NB, a, NA, &ba, NULL), 0);
    assert_int_equal(stat_w1_samples(a, NA, a, NA, &aa, NULL), 0);
    assert_close(ab, ba, 1e-14);
    assert_true(aa == 0.0);
    assert_true(ab > 0.1);
    stat_dist *A = sample_dist(a, NA), *B = sample_dist(b, NB);
    stat_cmp c, c2;
    stat_dist_compare(A, B, &c);
    stat_dist_compare(B, A, &c2);
    assert_close(c.w1, ab, 1e-12); /* two implementations agree */
    assert_close(c.w1, c2.w1, 1e-14);
    assert_close(c.cramer, c2.cramer, 1e-14);
    assert_close(c.ks, c2.ks, 1e-15);
    double bw, bc2, bks;
    brute(A, B, -6, 6, 400000, &bw, &bc2, &bks);
    assert_close(c.w1, bw, 2e-4);
    assert_close(c.cramer, sqrt(bc2), 2e-4);
    assert_true(c.ks >= bks - 1e-12 && c.ks - bks < 0.01);
    stat_dist_compare(A, A, &c);
    assert_true(c.w1 == 0.0 && c.cramer == 0.0 && c.ks == 0.0);
    /* Errors: empty, non-finite. */
    bdrl_err e;
    double nan = NAN;
    assert_int_equal(stat_w1_samples(a, 0, b, NB, &ab, &e), -1);
    assert_int_equal(stat_w1_samples(a, NA, &nan, 1, &ab, &e), -1);
    assert_contains(e.msg, "finite");
    assert_null(stat_dist_sample(&nan, 1, &e));
    stat_dist_free(A); stat_dist_free(B);
    rng_free(r);
}

/* Samples at the centres of n equal cells of [0,1] vs the uniform law:
 * per cell an atom vs a uniform of width 1/n, so W1 = 1/(4n),
 * Cramér = 1/(n sqrt 12), KS = 1/(2n). */
static void test_quantile_sample_vs_uniform(void **state)
{
    (void)state;
    enum { N = 50, G = 37 };
    double x[N], dens[G];
    for (int i = 0; i < N; i++) x[i] = (i + 0.5) / N;
    for (int k = 0; k < G; k++) dens[k] = 2.5; /* any constant: normalized */
    double h = 1.0 / G, mass;
    stat_dist *U = stat_dist_grid(dens, G, h / 2, 1 - h / 2, &mass, NULL);
    assert_non_null(U);
    assert_close(mass, 2.5, 1e-12);
    stat_dist *S = sample_dist(x, N);
    stat_cmp c;
    stat_dist_compare(S, U, &c);
    assert_close(c.w1, 1.0 / (4 * N), 1e-13);
    assert_close(c.cramer, 1.0 / (N * sqrt(12.0)), 1e-13);
    assert_close(c.ks, 1.0 / (2 * N), 1e-13);
    /* The same uniform law from its CDF. */
    stat_dist *T = stat_dist_from_cdf(u01, NULL, 0, 1, 11, NULL);
    assert_non_null(T);
    stat_dist_compare(S, T, &c);
    assert_close(c.w1, 1.0 / (4 * N), 1e-13);
    assert_close(stat_w1(U, T), 0.0, 1e-14);
    assert_close(stat_dist_mean(U), 0.5, 1e-14);
    assert_close(stat_dist_cdf(U, 0.3), 0.3, 1e-14);
    /* KS of the same points against the uniform CDF. */
    double D;
    assert_int_equal(stat_ks(x, N, u01, NULL, &D, NULL), 0);
    assert_close(D, 1.0 / (2 * N), 1e-14);
    stat_dist_free(U); stat_dist_free(S); stat_dist_free(T);
}

/* U[0,1] vs U[s,1+s] as grid densities: W1 = s, Cramér^2 = s^2 - s^3/3. */
static void test_grid_shift(void **state)
{
    (void)state;
    enum { G = 40 };
    double dens[G];
    for (int k = 0; k < G; k++) dens[k] = 1.0;
    double h = 1.0 / G, s = 0.25;
    stat_dist *A = stat_dist_grid(dens, G, h / 2, 1 - h / 2, NULL, NULL);
    stat_dist *B = stat_dist_grid(dens, G, s + h / 2, s + 1 - h / 2, NULL, NULL);
    stat_cmp c;
    stat_dist_compare(A, B, &c);
    assert_close(c.w1, s, 1e-13);
    assert_close(c.cramer, sqrt(s * s - s * s * s / 3), 1e-13);
    assert_close(c.ks, s, 1e-13);
    stat_dist_free(A); stat_dist_free(B);
    /* A misaligned shift (not a multiple of the cell): still exact. */
    s = 0.1234;
    A = stat_dist_grid(dens, G, h / 2, 1 - h / 2, NULL, NULL);
    B = stat_dist_grid(dens, G, s + h / 2, s + 1 - h / 2, NULL, NULL);
    stat_dist_compare(A, B, &c);
    assert_close(c.w1, s, 1e-13);
    assert_close(c.cramer, sqrt(s * s - s * s * s / 3), 1e-13);
    stat_dist_free(A); stat_dist_free(B);
}

/* Atoms at the grid points with the cell masses vs the grid density: in each
 * cell an atom vs a uniform of width h, so W1 = h/4 and
 * Cramér^2 = (h/12) sum p_k^2 exactly. Negative grid values count as 0. */
static void test_atoms_vs_grid(void **state)
{
    (void)state;
    rng *r = rng_create(3, 1);
    enum { G = 20 };
    double dens[G], v[G], p[G], lo = -1, hi = 1, h = (hi - lo) / (G - 1), tot = 0, mean = 0;
    for (int k = 0; k < G; k++) {
        dens[k] = rng_uniform(r) * 3.0;
        if (k == 4)
            dens[k] = -0.7;
        v[k] = lo + k * h;
        p[k] = dens[k] > 0 ? dens[k] : 0;
        tot += p[k];
        mean += v[k] * p[k];
    }
    double mass, sp2 = 0;
    for (int k = 0; k < G; k++) sp2 += (p[k] / tot) * (p[k] / tot);
    stat_dist *Gd = stat_dist_grid(dens, G, lo, hi, &mass, NULL);
    stat_dist *At = stat_dist_atoms(v, p, G, NULL);
    assert_non_null(Gd);
    assert_non_null(At);
    assert_close(mass, tot * h, 1e-12);
    stat_cmp c;
    stat_dist_compare(Gd, At, &c);
    assert_close(c.w1, h / 4, 1e-13);
    assert_close(c.cramer, sqrt(h / 12 * sp2), 1e-13);
    /* Same mean: the docs/design.md Q formula sum x s+ / sum s+. */
    assert_close(stat_dist_mean(Gd), mean / tot, 1e-13);
    assert_close(stat_dist_mean(At), mean / tot, 1e-13);
    double bw, bc2, bks;
    brute(Gd, At, -2, 2, 400000, &bw, &bc2, &bks);
    assert_close(c.w1, bw, 1e-4);
    assert_close(c.cramer, sqrt(bc2), 1e-4);
    assert_true(c.ks >= bks - 1e-12);

    /* Atoms: unnormalized or permuted probabilities give the same law. */
    double p3[G], v3[G];
    for (int k = 0; k < G; k++) {
        v3[k] = v[G - 1 - k];
        p3[k] = 3 * p[G - 1 - k];
    }
    stat_dist *At3 = stat_dist_atoms(v3, p3, G, NULL);
    assert_close(stat_w1(At, At3), 0, 1e-14);
    stat_dist_free(At3);
    /* Repeated values merge. */
    double rv[3] = {1, 0, 1}, rp[3] = {0.25, 0.5, 0.25}, bv[2] = {0, 1}, bp[2] = {0.5, 0.5};
    stat_dist *R1 = stat_dist_atoms(rv, rp, 3, NULL), *R2 = stat_dist_atoms(bv, bp, 2, NULL);
    assert_int_equal(stat_dist_size(R1), 2);
    assert_close(stat_w1(R1, R2), 0, 0);
    /* Bernoulli(0.7) vs Bernoulli(0.4) on {0, 1}: W1 = Cramér = 0.3. */
    double q1[2] = {0.3, 0.7}, q2[2] = {0.6, 0.4};
    stat_dist *B1 = stat_dist_atoms(bv, q1, 2, NULL), *B2 = stat_dist_atoms(bv, q2, 2, NULL);
    stat_dist_compare(B1, B2, &c);
    assert_close(c.w1, 0.3, 1e-15);
    assert_close(c.cramer, 0.3, 1e-15);
    assert_close(stat_dist_cdf(B1, 0.0), 0.3, 1e-15);
    assert_close(stat_dist_cdf(B1, -1e-12), 0.0, 0);
    assert_close(stat_dist_cdf(B1, 1.0), 1.0, 0);

    bdrl_err e;
    double neg[2] = {0.5, -0.1}, zero[2] = {0, 0}, bad[2] = {NAN, 1};
    assert_null(stat_dist_atoms(bv, neg, 2, &e));
    assert_contains(e.msg, "negative");
    assert_null(stat_dist_atoms(bv, zero, 2, &e));
    assert_null(stat_dist_atoms(bv, bad, 2, &e));
    assert_null(stat_dist_grid(zero, 2, 0, 1, NULL, &e));
    assert_contains(e.msg, "no positive mass");
    assert_null(stat_dist_grid(bad, 2, 0, 1, NULL, &e));
    assert_null(stat_dist_grid(dens, 1, 0, 1, NULL, &e));
    assert_null(stat_dist_grid(dens, G, 1, 1, NULL, &e));
    stat_dist_free(Gd); stat_dist_free(At); stat_dist_free(R1); stat_dist_free(R2);
    stat_dist_free(B1); stat_dist_free(B2);
    rng_free(r);
}

static double nan_cdf(double x, void *ctx)
{
    (void)ctx;
    return x > 0.5 ? NAN : 0.0;
}

/* A CDF tabulated with its tails folded into end atoms. */
static void test_from_cdf_tails(void **state)
{
    (void)state;
    /* U[0,1] tabulated on [0.25, 1]: an atom of 1/4 at 0.25, exact elsewhere.
     * W1 to the truth = integral_0^0.25 x dx = 1/32. */
    stat_dist *T = stat_dist_from_cdf(u01, NULL, 0.25, 1, 7, NULL);
    stat_dist *U = stat_dist_from_cdf(u01, NULL, 0, 1, 2, NULL);
    assert_close(stat_w1(T, U), 1.0 / 32, 1e-14);
    assert_close(stat_dist_cdf(T, 0.25), 0.25, 1e-15);
    assert_close(stat_dist_cdf(T, 0.2499), 0.0, 0);
    bdrl_err e;
    assert_null(stat_dist_from_cdf(nan_cdf, NULL, 0, 1, 5, &e));
    assert_contains(e.msg, "NaN");
    stat_dist_free(T); stat_dist_free(U);
}

/* ---- d dimensions ---- */

/* y = x + s: every projection is shifted by w.s, so each slice has W1 = |w.s|
 * exactly and the mean over uniform directions in 2-D is 2|s|/pi. */
static void test_sliced_w1_shift(void **state)
{
    (void)state;
    rng *r = rng_create(4, 1);
    enum { N = 200, M = 4000 };
    double x[2 * N], y[2 * N];
    for (int i = 0; i < N; i++) {
        x[2 * i] = rng_normal(r);
        x[2 * i + 1] = rng_normal(r);
        y[2 * i] = x[2 * i] + 0.6;
        y[2 * i + 1] = x[2 * i + 1] - 0.8;
    }
    double w, se;
    rng *q = rng_create(5, 1);
    assert_int_equal(stat_sliced_w1(x, N, y, N, 2, M, q, &w, &se, NULL), 0);
    /* sd of |cos| over uniform angles: sqrt(1/2 - 4/pi^2) = 0.308. */
    assert_close(se, 0.308 / sqrt(M), 0.02 / sqrt(M));
    assert_close(w, 2.0 / M_PI, 4 * se);
    double w0;
    assert_int_equal(stat_sliced_w1(x, N, x, N, 2, 0, q, &w0, NULL, NULL), 0);
    assert_true(w0 == 0.0);
    /* Reproducible from the generator's state. */
    double wa, wb;
    rng_reseed(q, 9, 9);
    assert_int_equal(stat_sliced_w1(x, N, y, N, 2, 128, q, &wa, NULL, NULL), 0);
    rng_reseed(q, 9, 9);
    assert_int_equal(stat_sliced_w1(x, N, y, N, 2, 128, q, &wb, NULL, NULL), 0);
    assert_true(wa == wb);
    /* d = 1: exactly the 1-D W1. */
    double a[3] = {0, 1, 5}, b[2] = {2, 2.5}, exact, s1;
    assert_int_equal(stat_w1_samples(a, 3, b, 2, &exact, NULL), 0);
    assert_int_equal(stat_sliced_w1(a, 3, b, 2, 1, 7, q, &s1, &se, NULL), 0);
    assert_close(s1, exact, 1e-14);
    assert_close(se, 0, 1e-14);
    /* A 3-D shift along one axis: mean |w_1| over the sphere in 3-D is 1/2. */
    enum { N3 = 100 };
    double x3[3 * N3], y3[3 * N3];
    for (int i = 0; i < 3 * N3; i++) {
        x3[i] = rng_normal(r);
        y3[i] = x3[i] + (i % 3 == 0 ? 1.0 : 0.0);
    }
    assert_int_equal(stat_sliced_w1(x3, N3, y3, N3, 3, M, q, &w, &se, NULL), 0);
    assert_close(w, 0.5, 4 * se);
    bdrl_err e;
    assert_int_equal(stat_sliced_w1(x, 0, y, N, 2, 0, q, &w, NULL, &e), -1);
    rng_free(q);
    rng_free(r);
}

static void test_mmd_by_hand(void **state)
{
    (void)state;
    stat_mmd_result m;
    /* x = {0,1}, y = {3,4}, sigma = 1. */
    double x[2] = {0, 1}, y[2] = {3, 4};
    assert_int_equal(stat_mmd(x, 2, y, 2, 1, 1.0, &m, NULL), 0);
    double kxy = (exp(-4.5) + exp(-8.0) + exp(-2.0) + exp(-4.5)) / 4;
    double want = exp(-0.5) + exp(-0.5) - 2 * kxy;
    assert_close(m.mmd2, want, 1e-14);
    assert_close(m.mmd, sqrt(want), 1e-14);
    assert_close(m.bandwidth, 1.0, 0);
    /* Median heuristic: pooled {0,1,0,2} has pair distances 1,0,2,1,1,2 ->
     * median 1. The U-statistic is negative here and MMD clamps to 0. */
    double y2[2] = {0, 2};
    assert_int_equal(stat_mmd(x, 2, y2, 2, 1, 0, &m, NULL), 0);
    assert_close(m.bandwidth, 1.0, 1e-15);
    want = exp(-0.5) + exp(-2.0) - (1 + exp(-2.0) + 2 * exp(-0.5)) / 2;
    assert_close(m.mmd2, want, 1e-14);
    assert_true(m.mmd2 < 0 && m.mmd == 0.0);
    /* Median of an even count is the mean of the two middle values: pooled
     * {0,1,3,10,11} has distances 1,3,10,11,2,9,10,7,8,1 -> sorted
     * 1,1,2,3,7,8,9,10,10,11 -> (7 + 8)/2 = 7.5. */
    double a3[3] = {0, 1, 3}, b2[2] = {10, 11};
    assert_int_equal(stat_mmd(a3, 3, b2, 2, 1, 0, &m, NULL), 0);
    assert_close(m.bandwidth, 7.5, 1e-15);
    /* All points equal: bandwidth falls back to 1 and MMD2 = 0. */
    double z[2] = {3, 3};
    assert_int_equal(stat_mmd(z, 2, z, 2, 1, 0, &m, NULL), 0);
    assert_close(m.mmd2, 0, 1e-15);
    assert_close(m.bandwidth, 1.0, 0);
    bdrl_err e;
    assert_int_equal(stat_mmd(x, 1, y, 2, 1, 0, &m, &e), -1);
}

static void test_mmd_same_vs_shifted(void **state)
{
    (void)state;
    rng *r = rng_create(6, 1);
    enum { N = 300 };
    double x[2 * N], y[2 * N], s[2 * N];
    for (int i = 0; i < 2 * N; i++) {
        x[i] = rng_normal(r);
        y[i] = rng_normal(r);
        s[i] = rng_normal(r) + (i % 2 == 0 ? 1.0 : 0.0);
    }
    stat_mmd_result same, shifted;
    assert_int_equal(stat_mmd(x, N, y, N, 2, 0, &same, NULL), 0);
    assert_int_equal(stat_mmd(x, N, s, N, 2, 0, &shifted, NULL), 0);
    /* Over 40 seeds: null |MMD2| at most 0.004, shifted at least 0.076. */
    assert_true(fabs(same.mmd2) < 0.01);
    assert_true(shifted.mmd2 > 0.05);
    /* Median of |z1 - z2| for independent N(0, I_2): Rayleigh(sqrt 2) has
     * median 2 sqrt(ln 2) = 1.665. */
    assert_close(same.bandwidth, 2 * sqrt(log(2.0)), 0.15); /* sd ~0.03 */
    /* More than STAT_MMD_MEDIAN_POINTS points: the subset median. */
    enum { L = 700 };
    double *bx = malloc(2 * L * sizeof(double)), *by = malloc(2 * L * sizeof(double));
    for (int i = 0; i < 2 * L; i++) {
        bx[i] = rng_normal(r);
        by[i] = rng_normal(r);
    }
    stat_mmd_result big;
    assert_int_equal(stat_mmd(bx, L, by, L, 2, 0, &big, NULL), 0);
    assert_close(big.bandwidth, 2 * sqrt(log(2.0)), 0.12);
    assert_true(fabs(big.mmd2) < 0.005);
    free(bx);
    free(by);
    rng_free(r);
}

/* ---- goodness of fit ---- */

static void test_ks(void **state)
{
    (void)state;
    enum { N = 40 };
    double x[N];
    for (int i = 0; i < N; i++) x[i] = (double)(N - i) / N; /* i/n, reversed */
    double D;
    assert_int_equal(stat_ks(x, N, u01, NULL, &D, NULL), 0);
    assert_close(D, 1.0 / N, 1e-15);
    double one = 0.3;
    assert_int_equal(stat_ks(&one, 1, u01, NULL, &D, NULL), 0);
    assert_close(D, 0.7, 1e-15);
    /* Kolmogorov's distribution at its tabulated critical values. */
    assert_close(stat_kolmogorov_q(1.3581), 0.05, 2e-4);
    assert_close(stat_kolmogorov_q(1.2238), 0.10, 2e-4);
    assert_close(stat_kolmogorov_q(1.6276), 0.01, 1e-4);
    assert_close(stat_kolmogorov_q(0.8276), 0.50, 2e-4);
    assert_close(stat_kolmogorov_q(0.5), 0.9639452436648751, 1e-9);
    assert_close(stat_kolmogorov_q(1.18 - 1e-12), stat_kolmogorov_q(1.18), 1e-10);
    assert_close(stat_kolmogorov_q(0.0), 1.0, 0);
    assert_true(stat_kolmogorov_q(5.0) < 1e-20);
    assert_true(stat_ks_pvalue(1.0 / N, N) > 0.99);
    bdrl_err e;
    assert_int_equal(stat_ks(x, 0, u01, NULL, &D, &e), -1);
    assert_int_equal(stat_ks(x, N, nan_cdf, NULL, &D, &e), -1);
    assert_contains(e.msg, "NaN");
}

/* ---- summaries ---- */

static void test_quantiles_numpy(void **state)
{
    (void)state;
    double a[4] = {4, 1, 3, 2}, q;
    assert_int_equal(stat_median(a, 4, &q, NULL), 0);
    assert_close(q, 2.5, 0);
    assert_int_equal(stat_quantile(a, 4, 0.25, &q, NULL), 0);
    assert_close(q, 1.75, 0); /* np.quantile([1,2,3,4], .25) */
    assert_int_equal(stat_quantile(a, 4, 0.75, &q, NULL), 0);
    assert_close(q, 3.25, 0);
    assert_int_equal(stat_quantile(a, 4, 0.0, &q, NULL), 0);
    assert_close(q, 1, 0);
    assert_int_equal(stat_quantile(a, 4, 1.0, &q, NULL), 0);
    assert_close(q, 4, 0);
    assert_true(a[0] == 4 && a[1] == 1); /* input untouched */
    double b[3] = {3, 1, 2};
    assert_int_equal(stat_median(b, 3, &q, NULL), 0);
    assert_close(q, 2, 0);
    assert_int_equal(stat_quantile(b, 3, 0.25, &q, NULL), 0);
    assert_close(q, 1.5, 0);
    double c[10];
    for (int i = 0; i < 10; i++) c[i] = i + 1;
    assert_int_equal(stat_quantile(c, 10, 0.1, &q, NULL), 0);
    assert_close(q, 1.9, 1e-15);
    assert_int_equal(stat_quantile(c, 10, 0.9, &q, NULL), 0);
    assert_close(q, 9.1, 1e-15);
    double two[2] = {0, 10};
    assert_int_equal(stat_quantile(two, 2, 0.75, &q, NULL), 0);
    assert_close(q, 7.5, 0);
    double one = 7;
    assert_int_equal(stat_quantile(&one, 1, 0.3, &q, NULL), 0);
    assert_close(q, 7, 0);
    assert_int_equal(stat_median(&one, 1, &q, NULL), 0);
    assert_close(q, 7, 0);
    bdrl_err e;
    double bad[2] = {1, NAN};
    assert_int_equal(stat_quantile(a, 0, 0.5, &q, &e), -1);
    assert_int_equal(stat_quantile(bad, 2, 0.5, &q, &e), -1);
    assert_int_equal(stat_quantile(a, 4, 1.5, &q, &e), -1);
    assert_contains(e.msg, "[0, 1]");
}

static void test_bootstrap_and_summary(void **state)
{
    (void)state;
    rng *r = rng_create(7, 1);
    double lo, hi;
    /* {0, 1}: resampled means are 0, 1/2, 1 with probability 1/4, 1/2, 1/4,
     * so the 2.5% and 97.5% points are exactly 0 and 1. */
    double b01[2] = {0, 1};
    assert_int_equal(stat_bootstrap_mean_ci(b01, 2, 20000, 0.95, r, &lo, &hi, NULL), 0);
    assert_close(lo, 0, 0);
    assert_close(hi, 1, 0);
    /* A 40% interval: the 30% and 70% points, both 1/2. */
    assert_int_equal(stat_bootstrap_mean_ci(b01, 2, 20000, 0.4, r, &lo, &hi, NULL), 0);
    assert_close(lo, 0.5, 0);
    assert_close(hi, 0.5, 0);
    double cst[3] = {5, 5, 5};
    assert_int_equal(stat_bootstrap_mean_ci(cst, 3, 100, 0.95, r, &lo, &hi, NULL), 0);
    assert_true(lo == 5 && hi == 5);
    /* Width against the normal approximation 2 * 1.96 * sd / sqrt(n). */
    enum { N = 200 };
    double x[N];
    for (int i = 0; i < N; i++) x[i] = 3 + 2 * rng_normal(r);
    double m = stat_mean(x, N), v = 0;
    for (int i = 0; i < N; i++) v += (x[i] - m) * (x[i] - m);
    double sd = sqrt(v / N);
    assert_int_equal(stat_bootstrap_mean_ci(x, N, 4000, 0.95, r, &lo, &hi, NULL), 0);
    assert_true(lo < m && m < hi);
    assert_close(hi - lo, 2 * 1.96 * sd / sqrt(N), 0.1 * 2 * 1.96 * sd / sqrt(N));
    assert_close((lo + hi) / 2, m, 0.1 * sd / sqrt(N) + 0.02);
    /* Same seed, same interval. */
    double lo2, hi2;
    rng_reseed(r, 1, 2);
    assert_int_equal(stat_bootstrap_mean_ci(x, N, 500, 0.95, r, &lo, &hi, NULL), 0);
    rng_reseed(r, 1, 2);
    assert_int_equal(stat_bootstrap_mean_ci(x, N, 500, 0.95, r, &lo2, &hi2, NULL), 0);
    assert_true(lo == lo2 && hi == hi2);

    stat_summary s;
    double a[4] = {4, 1, 3, 2};
    assert_int_equal(stat_summarize(a, 4, 2000, r, &s, NULL), 0);
    assert_int_equal(s.n, 4);
    assert_close(s.mean, 2.5, 0);
    assert_close(s.median, 2.5, 0);
    assert_close(s.q25, 1.75, 0);
    assert_close(s.q75, 3.25, 0);
    assert_close(s.iqr, 1.5, 0);
    assert_true(s.min == 1 && s.max == 4);
    assert_true(s.ci_lo >= 1 && s.ci_lo < 2.5 && s.ci_hi > 2.5 && s.ci_hi <= 4);
    bdrl_err e;
    assert_int_equal(stat_summarize(a, 0, 10, r, &s, &e), -1);
    assert_int_equal(stat_bootstrap_mean_ci(a, 4, 0, 0.95, r, &lo, &hi, &e), -1);
    assert_int_equal(stat_bootstrap_mean_ci(a, 4, 10, 1.0, r, &lo, &hi, &e), -1);
    assert_true(isnan(stat_mean(a, 0)));
    rng_free(r);
}

static void test_steps_to_threshold(void **state)
{
    (void)state;
    double steps[5] = {1000, 2000, 3000, 4000, 5000};
    double never[5] = {1, 2, 3, 2, 1}, first[5] = {500, 0, 0, 0, 0};
    double exact[5] = {10, 475, 499.999, 500, 501}, withnan[5] = {NAN, NAN, 600, 0, 0};
    double st;
    assert_int_equal(stat_steps_to_threshold(steps, never, 5, 500, &st), 0);
    assert_true(isnan(st));
    assert_int_equal(stat_first_reach(never, 5, 500), -1);
    assert_int_equal(stat_steps_to_threshold(steps, first, 5, 500, &st), 1);
    assert_close(st, 1000, 0);
    assert_int_equal(stat_steps_to_threshold(steps, exact, 5, 500, &st), 1);
    assert_close(st, 4000, 0); /* equal counts as reached */
    assert_int_equal(stat_steps_to_threshold(steps, withnan, 5, 500, &st), 1);
    assert_close(st, 3000, 0);
    assert_int_equal(stat_steps_to_threshold(steps, never, 0, 0, &st), 0);
}

static void test_auc(void **state)
{
    (void)state;
    double s[3] = {0, 1, 3}, v[3] = {0, 2, 2}, a;
    assert_int_equal(stat_auc(s, v, 3, &a, NULL), 0);
    assert_close(a, 5, 0);
    /* Trapezoids are exact for a linear curve: v = 2s + 1 on [0, 2] -> 6. */
    double s2[4] = {0, 0.5, 1.25, 2}, v2[4];
    for (int i = 0; i < 4; i++) v2[i] = 2 * s2[i] + 1;
    assert_int_equal(stat_auc(s2, v2, 4, &a, NULL), 0);
    assert_close(a, 6, 1e-15);
    assert_int_equal(stat_auc(s, v, 1, &a, NULL), 0);
    assert_close(a, 0, 0);
    bdrl_err e;
    double bad[3] = {0, 1, 1};
    assert_int_equal(stat_auc(bad, v, 3, &a, &e), -1);
    assert_contains(e.msg, "increase");
    assert_int_equal(stat_auc(s, v, 0, &a, &e), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_point_masses),
        cmocka_unit_test(test_shift_and_sizes),
        cmocka_unit_test(test_symmetric_zero_and_brute_force),
        cmocka_unit_test(test_quantile_sample_vs_uniform),
        cmocka_unit_test(test_grid_shift),
        cmocka_unit_test(test_atoms_vs_grid),
        cmocka_unit_test(test_from_cdf_tails),
        cmocka_unit_test(test_sliced_w1_shift),
        cmocka_unit_test(test_mmd_by_hand),
        cmocka_unit_test(test_mmd_same_vs_shifted),
        cmocka_unit_test(test_ks),
        cmocka_unit_test(test_quantiles_numpy),
        cmocka_unit_test(test_bootstrap_and_summary),
        cmocka_unit_test(test_steps_to_threshold),
        cmocka_unit_test(test_auc),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
