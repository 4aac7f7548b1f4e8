/* Tests of src/data: built-in laws (sizes, weights, moments, exact CDFs and
 * densities), nearest-component rules, splits, and the CSV loader on good
 * files and on every kind of bad one. */
#include "test_util.h"

#include "core/rng.h"
#include "data/dataset.h"
#include "stats/metrics.h"

/* ---- built-in laws ---- */

static void test_names_and_shapes(void **state)
{
    (void)state;
    const char *names[4] = {"uniform3", "mog1d", "mog2d", "moons"};
    const size_t dims[4] = {1, 1, 2, 2}, ks[4] = {3, 3, 3, 2};
    rng *r = rng_create(1, RNG_STREAM_DATA);
    for (int b = 0; b < 4; b++) {
        data_builtin k;
        assert_int_equal(data_builtin_parse(names[b], &k, NULL), 0);
        assert_int_equal(k, b);
        assert_string_equal(data_builtin_name(k), names[b]);
        assert_int_equal(data_builtin_dim(k), dims[b]);
        assert_int_equal(data_n_components(k), ks[b]);
        const double *w = data_component_weights(k);
        double s = 0;
        for (size_t c = 0; c < ks[b]; c++) s += w[c];
        assert_close(s, 1.0, 1e-15);
        data_set *ds = data_sample(k, 123, r, NULL, NULL);
        assert_non_null(ds);
        assert_int_equal(ds->n, 123);
        assert_int_equal(ds->d, dims[b]);
        assert_null(ds->names);
        for (size_t i = 0; i < ds->n * ds->d; i++) assert_true(isfinite(ds->x[i]));
        data_free(ds);
    }
    bdrl_err e;
    data_builtin k;
    assert_int_equal(data_builtin_parse("swissroll", &k, &e), -1);
    assert_contains(e.msg, "swissroll");
    assert_contains(e.msg, "moons");
    assert_null(data_builtin_name(DATA_N_BUILTIN));
    assert_close(data_component_weights(DATA_MOG1D)[0], 0.7, 0);
    assert_close(data_component_weights(DATA_MOG2D)[2], 0.1, 0);
    rng_free(r);
}

static void test_reproducible_and_fresh(void **state)
{
    (void)state;
    rng *a = rng_create(42, RNG_STREAM_DATA), *b = rng_create(42, RNG_STREAM_DATA);
    rng *c = rng_create(42, 1000);
    data_set *x = data_sample(DATA_MOONS, 500, a, NULL, NULL);
    data_set *y = data_sample(DATA_MOONS, 500, b, NULL, NULL);
    data_set *z = data_sample(DATA_MOONS, 500, c, NULL, NULL);
    assert_memory_equal(x->x, y->x, 1000 * sizeof(double));
    int same = 0;
    for (int i = 0; i < 1000; i++) same += x->x[i] == z->x[i];
    assert_true(same == 0);
    data_free(x); data_free(y); data_free(z);
    rng_free(a); rng_free(b); rng_free(c);
}

/* Component frequencies (from the generator's labels and from the
 * nearest-component rule) against the true weights. */
static void test_mixture_weights(void **state)
{
    (void)state;
    enum { N = 100000 };
    rng *r = rng_create(3, RNG_STREAM_DATA);
    int *lab = malloc(N * sizeof(int));
    for (int b = 0; b < DATA_N_BUILTIN; b++) {
        data_builtin k = (data_builtin)b;
        data_set *ds = data_sample(k, N, r, lab, NULL);
        size_t K = data_n_components(k), count[3] = {0}, agree = 0;
        const double *w = data_component_weights(k);
        for (int i = 0; i < N; i++) {
            count[lab[i]]++;
            agree += data_nearest_component(k, ds->x + (size_t)i * ds->d) == (size_t)lab[i];
        }
        double mw[3];
        data_mode_weights(k, ds->x, N, mw);
        double sum = 0;
        for (size_t c = 0; c < K; c++) {
            double se = sqrt(w[c] * (1 - w[c]) / N);
            assert_close((double)count[c] / N, w[c], 5 * se);
            /* Misassignment: 3.3 sd for mog (tiny), noise 0.1 vs gap 0.5 for moons. */
            assert_close(mw[c], w[c], 5 * se + (k == DATA_MOONS ? 0.01 : 0.002));
            sum += mw[c];
        }
        assert_close(sum, 1.0, 1e-12);
        assert_true(data_mode_tv(k, mw) < 0.01);
        /* Intervals are disjoint: uniform3's rule is always right. */
        if (k == DATA_UNIFORM3)
            assert_int_equal(agree, N);
        else
            assert_true((double)agree / N > (k == DATA_MOONS ? 0.98 : 0.998));
        data_free(ds);
    }
    double w3[3] = {0.5, 0.5, 0.0};
    assert_close(data_mode_tv(DATA_MOG1D, w3), 0.5 * (0.2 + 0.3 + 0.1), 1e-15);
    double none[3];
    data_mode_weights(DATA_MOG1D, NULL, 0, none);
    assert_true(none[0] == 0 && none[1] == 0 && none[2] == 0);
    free(lab);
    rng_free(r);
}

static void mean_var(const double *x, size_t n, size_t d, size_t j, double *m, double *v)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) s += x[i * d + j];
    *m = s / n;
    for (size_t i = 0; i < n; i++) s2 += (x[i * d + j] - *m) * (x[i * d + j] - *m);
    *v = s2 / n;
}

/* Means and variances against closed forms, within 5 standard errors; the
 * sample variance's sd is taken as sqrt(3 var^2 / n), above the Gaussian
 * sqrt(2 var^2 / n), which covers these mixtures' kurtosis. */
static void check_moment(const data_set *ds, size_t j, double mean, double var)
{
    double m, v, n = (double)ds->n;
    mean_var(ds->x, ds->n, ds->d, j, &m, &v);
    assert_close(m, mean, 5 * sqrt(var / n));
    assert_close(v, var, 5 * sqrt(3 * var * var / n));
}

static void test_moments(void **state)
{
    (void)state;
    enum { N = 200000 };
    rng *r = rng_create(4, RNG_STREAM_DATA);
    data_set *ds = data_sample(DATA_UNIFORM3, N, r, NULL, NULL);
    /* Each interval: variance 1/12, means -2.5, 0, 2.5. */
    check_moment(ds, 0, 0.0, 1.0 / 12 + 2 * 6.25 / 3);
    for (size_t i = 0; i < ds->n; i++) {
        double x = ds->x[i];
        assert_true((x >= -3 && x <= -2) || (x >= -0.5 && x <= 0.5) || (x >= 2 && x <= 3));
    }
    data_free(ds);
    ds = data_sample(DATA_MOG1D, N, r, NULL, NULL);
    check_moment(ds, 0, -1.2, 0.09 + 0.7 * 4 + 0.1 * 4 - 1.44);
    data_free(ds);
    ds = data_sample(DATA_MOG2D, N, r, NULL, NULL);
    double s3 = sqrt(3.0);
    double mx = 0.6 * 0 + 0.3 * -s3 + 0.1 * s3, my = 0.6 * 2 + 0.3 * -1 + 0.1 * -1;
    double vx = 0.09 + 0.3 * 3 + 0.1 * 3 - mx * mx, vy = 0.09 + 0.6 * 4 + 0.3 + 0.1 - my * my;
    check_moment(ds, 0, mx, vx);
    check_moment(ds, 1, my, vy);
    data_free(ds);
    ds = data_sample(DATA_MOONS, N, r, NULL, NULL);
    /* Upper (cos t, sin t), lower (1 - cos t, 0.5 - sin t), t ~ U[0, pi]:
     * E sin t = 2/pi, E cos^2 = E sin^2 = 1/2; the halves' means differ by 1 in
     * x and by 4/pi - 1/2 in y; noise variance 0.01. */
    double dy = 4 / M_PI - 0.5;
    check_moment(ds, 0, 0.5, 0.5 + 0.25 + 0.01);
    check_moment(ds, 1, 0.25, 0.5 - 4 / (M_PI * M_PI) + dy * dy / 4 + 0.01);
    data_free(ds);
    rng_free(r);
}

static void test_nearest_component_points(void **state)
{
    (void)state;
    struct { data_builtin b; double x[2]; size_t c; } cases[] = {
        {DATA_UNIFORM3, {-2.5, 0}, 0}, {DATA_UNIFORM3, {-1.25, 0}, 0}, /* tie -> lower */
        {DATA_UNIFORM3, {-1.2, 0}, 1}, {DATA_UNIFORM3, {1.3, 0}, 2},
        {DATA_UNIFORM3, {-9, 0}, 0}, {DATA_UNIFORM3, {0.5, 0}, 1},
        {DATA_MOG1D, {-1.01, 0}, 0}, {DATA_MOG1D, {-0.99, 0}, 1}, {DATA_MOG1D, {1.2, 0}, 2},
        {DATA_MOG2D, {0, 2}, 0}, {DATA_MOG2D, {-2, -1}, 1}, {DATA_MOG2D, {2, -1}, 2},
        {DATA_MOG2D, {0, 0.5}, 0},
        {DATA_MOONS, {0, 1}, 0}, {DATA_MOONS, {1, -0.5}, 1}, {DATA_MOONS, {-1, 0}, 0},
        {DATA_MOONS, {2, 0.5}, 1}, {DATA_MOONS, {0, 0.5}, 1}, {DATA_MOONS, {-1.5, -0.5}, 0},
        {DATA_MOONS, {2.5, 1.5}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (data_nearest_component(cases[i].b, cases[i].x) != cases[i].c)
            fail_msg("case %zu: (%g, %g) -> %zu, expected %zu", i, cases[i].x[0], cases[i].x[1],
                     data_nearest_component(cases[i].b, cases[i].x), cases[i].c);
}

/* CDFs: limits, monotone, derivative = density, density integrates to 1,
 * mean from the CDF, and a large sample passes KS against it. */
static void test_cdf_and_pdf(void **state)
{
    (void)state;
    data_builtin one_d[2] = {DATA_UNIFORM3, DATA_MOG1D};
    const double means[2] = {0.0, -1.2};
    rng *r = rng_create(5, RNG_STREAM_DATA);
    for (int t = 0; t < 2; t++) {
        data_builtin b = one_d[t];
        assert_close(data_cdf(b, -20), 0, 1e-15);
        assert_close(data_cdf(b, 20), 1, 1e-15);
        double prev = 0, integral = 0, mean = 0, h = 1e-3;
        for (double x = -6; x < 6; x += h) {
            double F = data_cdf(b, x), p;
            assert_true(F >= prev - 1e-15);
            prev = F;
            assert_int_equal(data_pdf(b, &x, &p, NULL), 0);
            integral += p * h;
            /* mean = int_0^inf (1 - F) - int_-inf^0 F */
            double Fm = data_cdf(b, x + h / 2);
            mean += (x + h / 2 >= 0 ? (1 - Fm) : -Fm) * h;
        }
        assert_close(integral, 1.0, 2e-3);
        assert_close(mean, means[t], 1e-5);
        /* F' = p away from uniform3's edges. */
        double pts[4] = {-2.7, -0.1, 0.3, 2.2};
        for (int i = 0; i < 4; i++) {
            double p, e = 1e-5;
            data_pdf(b, &pts[i], &p, NULL);
            assert_close((data_cdf(b, pts[i] + e) - data_cdf(b, pts[i] - e)) / (2 * e), p, 1e-6);
        }
        data_set *ds = data_sample(b, 20000, r, NULL, NULL);
        double D;
        assert_int_equal(stat_ks(ds->x, ds->n, data_cdf_cb, &b, &D, NULL), 0);
        assert_true(stat_ks_pvalue(D, ds->n) > 1e-4);
        /* ...and fails against the other law. */
        data_builtin other = one_d[1 - t];
        assert_int_equal(stat_ks(ds->x, ds->n, data_cdf_cb, &other, &D, NULL), 0);
        assert_true(D > 0.1);
        /* W1 of the sample to the exact law, tabulated. */
        stat_dist *S = stat_dist_sample(ds->x, ds->n, NULL);
        stat_dist *T = stat_dist_from_cdf(data_cdf_cb, &b, -5, 5, 2001, NULL);
        /* E W1 = int sqrt(2 F(1-F) / (pi n)) dx = 0.015 (uniform3), 0.010 (mog1d). */
        assert_true(stat_w1(S, T) < 0.06);
        stat_dist_free(S); stat_dist_free(T);
        data_free(ds);
    }
    /* uniform3's CDF is piecewise linear with kinks on the grid: tabulating
     * it is exact, and equals a grid density of 1/3 on the intervals. */
    data_builtin u3 = DATA_UNIFORM3;
    stat_dist *T = stat_dist_from_cdf(data_cdf_cb, &u3, -3, 3, 601, NULL);
    enum { G = 600 };
    double dens[G];
    for (int k = 0; k < G; k++) {
        double x = -3 + 0.01 * (k + 0.5);
        dens[k] = ((x > -3 && x < -2) || (x > -0.5 && x < 0.5) || (x > 2 && x < 3)) ? 1.0 : 0.0;
    }
    stat_dist *Gd = stat_dist_grid(dens, G, -3 + 0.005, 3 - 0.005, NULL, NULL);
    assert_close(stat_w1(T, Gd), 0, 1e-12);
    stat_dist_free(T); stat_dist_free(Gd);
    /* Two tabulations of mog1d agree: tails and interpolation are negligible. */
    data_builtin m1 = DATA_MOG1D;
    stat_dist *A = stat_dist_from_cdf(data_cdf_cb, &m1, -5, 5, 2001, NULL);
    stat_dist *B = stat_dist_from_cdf(data_cdf_cb, &m1, -7, 6, 8001, NULL);
    /* Interpolation error ~ h^2/12 * int |p'| = 2e-6 * 2.7 for h = 0.005. */
    assert_true(stat_w1(A, B) < 1e-5);
    stat_dist_free(A); stat_dist_free(B);
    assert_true(isnan(data_cdf(DATA_MOG2D, 0)));
    assert_true(isnan(data_cdf(DATA_MOONS, 0)));
    rng_free(r);
}

/* Density gradients against central differences; mog2d integrates to 1. */
static void test_pdf_gradients(void **state)
{
    (void)state;
    double x1[3] = {-2.2, -0.7, 1.9};
    for (int i = 0; i < 3; i++) {
        double p, g, pp, pm, e = 1e-6, a = x1[i] + e, b = x1[i] - e;
        assert_int_equal(data_pdf(DATA_MOG1D, &x1[i], &p, &g), 0);
        data_pdf(DATA_MOG1D, &a, &pp, NULL);
        data_pdf(DATA_MOG1D, &b, &pm, NULL);
        assert_close(g, (pp - pm) / (2 * e), 1e-6 * (fabs(g) + 1));
    }
    double x2[3][2] = {{0.1, 1.7}, {-1.5, -0.8}, {0.9, -0.4}};
    for (int i = 0; i < 3; i++) {
        double p, g[2];
        assert_int_equal(data_pdf(DATA_MOG2D, x2[i], &p, g), 0);
        for (int j = 0; j < 2; j++) {
            double a[2] = {x2[i][0], x2[i][1]}, b[2] = {x2[i][0], x2[i][1]}, pp, pm, e = 1e-6;
            a[j] += e;
            b[j] -= e;
            data_pdf(DATA_MOG2D, a, &pp, NULL);
            data_pdf(DATA_MOG2D, b, &pm, NULL);
            assert_close(g[j], (pp - pm) / (2 * e), 1e-6 * (fabs(g[j]) + 1));
        }
    }
    double h = 0.02, s = 0;
    for (double x = -5; x < 5; x += h)
        for (double y = -5; y < 5; y += h) {
            double pt[2] = {x + h / 2, y + h / 2}, p;
            data_pdf(DATA_MOG2D, pt, &p, NULL);
            s += p * h * h;
        }
    assert_close(s, 1.0, 1e-6);
    double u = 0.2, p, g = 7;
    assert_int_equal(data_pdf(DATA_UNIFORM3, &u, &p, &g), 0);
    assert_close(p, 1.0 / 3, 1e-15);
    assert_close(g, 0, 0);
    u = 1.0;
    data_pdf(DATA_UNIFORM3, &u, &p, NULL);
    assert_close(p, 0, 0);
    double m[2] = {0, 1};
    assert_int_equal(data_pdf(DATA_MOONS, m, &p, NULL), -1);
}

/* ---- splits ---- */

static void test_split(void **state)
{
    (void)state;
    enum { N = 101 };
    data_set *ds = data_create(N, 2, NULL);
    for (int i = 0; i < N; i++) {
        ds->x[2 * i] = i;
        ds->x[2 * i + 1] = -i;
    }
    rng *r = rng_create(6, RNG_STREAM_DATA);
    data_set *tr, *ho;
    assert_int_equal(data_split(ds, 0.2, r, &tr, &ho, NULL), 0);
    assert_int_equal(ho->n, 20);
    assert_int_equal(tr->n, 81);
    assert_int_equal(tr->d, 2);
    /* Every row lands in exactly one part, in its original order, intact. */
    int seen[N] = {0};
    data_set *parts[2] = {tr, ho};
    for (int p = 0; p < 2; p++)
        for (size_t i = 0; i < parts[p]->n; i++) {
            int v = (int)parts[p]->x[2 * i];
            assert_true(parts[p]->x[2 * i + 1] == -v);
            seen[v]++;
            if (i)
                assert_true(parts[p]->x[2 * i] > parts[p]->x[2 * (i - 1)]);
        }
    for (int i = 0; i < N; i++) assert_int_equal(seen[i], 1);
    /* Not just the last 20 rows. */
    assert_true(ho->x[0] < 80);
    rng *r2 = rng_create(6, RNG_STREAM_DATA);
    data_set *tr2, *ho2;
    assert_int_equal(data_split(ds, 0.2, r2, &tr2, &ho2, NULL), 0);
    assert_memory_equal(ho->x, ho2->x, 40 * sizeof(double));
    data_free(tr); data_free(ho); data_free(tr2); data_free(ho2);
    bdrl_err e;
    assert_int_equal(data_split(ds, 0.0, r, &tr, &ho, &e), -1);
    assert_int_equal(data_split(ds, 1.0, r, &tr, &ho, &e), -1);
    assert_int_equal(data_split(ds, 0.001, r, &tr, &ho, &e), -1);
    assert_contains(e.msg, "empty");
    assert_null(tr);
    data_free(ds);
    rng_free(r);
    rng_free(r2);
}

/* ---- CSV ---- */

static data_set *parse(const char *text, bdrl_err *e)
{
    return data_parse_csv(text, strlen(text), "f.csv", e);
}

static void test_csv_good(void **state)
{
    (void)state;
    bdrl_err e;
    data_set *ds = parse("x, y\n1,2\n3.5, -4e-1\r\n  5 ,\t6\n\n", &e);
    assert_non_null(ds);
    assert_int_equal(ds->n, 3);
    assert_int_equal(ds->d, 2);
    assert_string_equal(ds->names[0], "x");
    assert_string_equal(ds->names[1], "y");
    double want[6] = {1, 2, 3.5, -0.4, 5, 6};
    for (int i = 0; i < 6; i++) assert_close(ds->x[i], want[i], 0);
    data_free(ds);
    /* One column, no trailing newline, CRLF, BOM, quoted names. */
    ds = parse("\xEF\xBB\xBF\"return\"\r\n0.25\r\n-1e3", &e);
    assert_non_null(ds);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->d, 1);
    assert_string_equal(ds->names[0], "return");
    assert_close(ds->x[1], -1000, 0);
    data_free(ds);
    /* Several columns, several trailing blank lines; hex floats are numbers. */
    ds = parse("a,b,c,d\n1,2,3,4\n5,6,7,0x1p3\n\n\n  \n", &e);
    assert_non_null(ds);
    assert_int_equal(ds->n, 2);
    assert_int_equal(ds->d, 4);
    assert_close(ds->x[7], 8, 0);
    data_free(ds);
    /* Through a file, and a split keeps the names. */
    char *d = tu_tmpdir(), p[512];
    snprintf(p, sizeof p, "%s/good.csv", d);
    tu_write(p, "u\n1\n2\n3\n4\n");
    ds = data_load_csv(p, &e);
    assert_non_null(ds);
    assert_int_equal(ds->n, 4);
    rng *r = rng_create(1, 1);
    data_set *tr, *ho;
    assert_int_equal(data_split(ds, 0.5, r, &tr, &ho, NULL), 0);
    assert_string_equal(ho->names[0], "u");
    assert_string_equal(tr->names[0], "u");
    data_free(tr); data_free(ho); data_free(ds);
    rng_free(r);
    unlink(p);
    rmdir(d);
    free(d);
}

/* Each bad input names the file and the first bad line. */
static void test_csv_bad(void **state)
{
    (void)state;
    struct { const char *text, *where, *what; } cases[] = {
        {"x,y\n1,2\n3\n4,5\n", "f.csv:3: ", "wrong number of columns: 1 field, expected 2"},
        {"x,y\n1,2\n3,4,5\n", "f.csv:3: ", "3 fields"},
        {"x,y\n1,2\n3,abc\n", "f.csv:3: ", "field 2 'abc' is not a number"},
        {"x,y\n1,2\n3,4x\n", "f.csv:3: ", "not a number"},
        {"x,y\n1,\n", "f.csv:2: ", "field 2 is empty"},
        {"x\n1\nnan\n", "f.csv:3: ", "NaN"},
        {"x\n1\n-inf\n", "f.csv:3: ", "infinite"},
        {"x\nInfinity\n", "f.csv:2: ", "infinite"},
        {"x\n1e999\n", "f.csv:2: ", "out of range"},
        {"x,y\n1,\r2\n", "f.csv:2: ", "field 2 '?2' is not a number"},
        {"", "f.csv:1: ", "empty file"},
        {"\n\n  \r\n", "f.csv:1: ", "empty file"},
        {"x,y\n", "f.csv:2: ", "no data rows"},
        {"x,y", "f.csv:2: ", "no data rows"},
        {"x,y\n\n\n", "f.csv:2: ", "no data rows"},
        {"\nx\n1\n", "f.csv:1: ", "blank first line"},
        {"x\n1\n\n2\n", "f.csv:3: ", "blank line inside the data"},
        {"1,2\n3,4\n", "f.csv:1: ", "header row holds only numbers"},
        {"x,,z\n1,2,3\n", "f.csv:1: ", "header field 2 is empty"},
        {"x y\n1 2\n", "f.csv:2: ", "not a number"},
        {"x;y\n1;2\n", "f.csv:2: ", "not a number"},
        {"x,y\n1,2\n1\n,2\nfoo,1\n3,3,3\n1,2\n", "f.csv:3: ",
         "(4 bad lines in all; next at lines 4, 5, 6)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bdrl_err e;
        e.msg[0] = '\0';
        data_set *ds = parse(cases[i].text, &e);
        if (ds)
            fail_msg("case %zu parsed but should fail", i);
        if (strncmp(e.msg, cases[i].where, strlen(cases[i].where)) != 0)
            fail_msg("case %zu: expected message to start with \"%s\", got \"%s\"", i,
                     cases[i].where, e.msg);
        assert_contains(e.msg, cases[i].what);
    }
    /* Many bad lines: the list is cut with "...". */
    char big[4096] = "x\n";
    for (int i = 0; i < 20; i++) strcat(big, "a\n");
    bdrl_err e;
    assert_null(parse(big, &e));
    assert_contains(e.msg, "f.csv:2: ");
    assert_contains(e.msg, "20 bad lines in all; next at lines 3, 4, 5, 6, 7, ...)");
}

static void test_csv_binary_and_long(void **state)
{
    (void)state;
    bdrl_err e;
    /* NUL bytes and junk in a data line, and in the header. */
    const char bin[] = "x,y\n1,2\n3,\0\xff\n";
    assert_null(data_parse_csv(bin, sizeof bin - 1, "b.csv", &e));
    assert_contains(e.msg, "b.csv:3: ");
    assert_contains(e.msg, "NUL");
    const char hdr[] = "\x7f" "ELF\x02\x01\x01\0\0\0\n1\n";
    assert_null(data_parse_csv(hdr, sizeof hdr - 1, "b.csv", &e));
    assert_contains(e.msg, "b.csv:1: ");
    assert_contains(e.msg, "control characters");
    const char junk[] = "x\n\xff\xfe\x80\n";
    assert_null(data_parse_csv(junk, sizeof junk - 1, "b.csv", &e));
    assert_contains(e.msg, "b.csv:2: value '?\?\?' is not a number");
    /* A 1 MB field, a 1 MB line of commas, a 1 MB header. */
    size_t L = 1 << 20;
    char *t = malloc(L + 64);
    strcpy(t, "x\n");
    memset(t + 2, '1', L);
    strcpy(t + 2 + L, "\n");
    assert_null(parse(t, &e));
    assert_contains(e.msg, "f.csv:2: value is 1048576 characters long");
    memset(t + 2, ',', L);
    assert_null(parse(t, &e));
    assert_contains(e.msg, "f.csv:2: wrong number of columns: 1048577 fields, expected 1");
    for (size_t i = 0; i < L; i++) t[i] = i % 2 ? ',' : 'h';
    t[L - 1] = 'h';
    strcpy(t + L, "\n1\n");
    assert_null(parse(t, &e));
    assert_contains(e.msg, "f.csv:2: wrong number of columns: 1 field, expected 524288");
    free(t);
    /* Files: missing, a directory, binary on disk. */
    assert_null(data_load_csv("/nonexistent/x.csv", &e));
    assert_contains(e.msg, "cannot open /nonexistent/x.csv");
    char *d = tu_tmpdir(), p[512];
    assert_null(data_load_csv(d, &e));
    assert_true(e.msg[0] != '\0');
    snprintf(p, sizeof p, "%s/bin.csv", d);
    FILE *f = fopen(p, "wb");
    fwrite(bin, 1, sizeof bin - 1, f);
    fclose(f);
    assert_null(data_load_csv(p, &e));
    char want[600];
    snprintf(want, sizeof want, "%s:3: ", p);
    assert_contains(e.msg, want);
    unlink(p);
    rmdir(d);
    free(d);
}

/* Random byte strings from a CSV-ish alphabet: every input either parses to
 * finite values or fails with a located message. Run under SAN=1 this is a
 * small fuzz test of the parser. */
static void test_csv_fuzz(void **state)
{
    (void)state;
    static const char alpha[] = "0123456789.,,,e-+ \t\n\n\r\"naifxNAIF\xff\x01";
    rng *r = rng_create(8, 1);
    int ok = 0;
    for (int it = 0; it < 3000; it++) {
        size_t n = rng_below(r, 120);
        char buf[128];
        for (size_t i = 0; i < n; i++) buf[i] = alpha[rng_below(r, sizeof alpha)]; /* incl. NUL */
        if (it % 2 == 0) { /* a valid file with up to three bytes changed */
            static const char good[] = "a,b\n1.5,2\n-3,4e2\n0,0\n";
            n = sizeof good - 1;
            memcpy(buf, good, n);
            for (unsigned long k = rng_below(r, 4); k > 0; k--)
                buf[rng_below(r, n)] = alpha[rng_below(r, sizeof alpha)];
            if (rng_below(r, 4) == 0)
                n = rng_below(r, n + 1); /* truncated */
        }
        bdrl_err e;
        e.msg[0] = '\0';
        data_set *ds = data_parse_csv(buf, n, "z.csv", &e);
        if (ds) {
            assert_true(ds->n >= 1 && ds->d >= 1);
            for (size_t i = 0; i < ds->n * ds->d; i++) assert_true(isfinite(ds->x[i]));
            ok++;
            data_free(ds);
        } else {
            assert_true(strncmp(e.msg, "z.csv:", 6) == 0);
        }
    }
    assert_true(ok > 0);
    rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_shapes),
        cmocka_unit_test(test_reproducible_and_fresh),
        cmocka_unit_test(test_mixture_weights),
        cmocka_unit_test(test_moments),
        cmocka_unit_test(test_nearest_component_points),
        cmocka_unit_test(test_cdf_and_pdf),
        cmocka_unit_test(test_pdf_gradients),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_bad),
        cmocka_unit_test(test_csv_binary_and_long),
        cmocka_unit_test(test_csv_fuzz),
    };
    return cmocka_run_group_tests_name("data", tests, NULL, NULL);
}
