/* Tests of the distortion risk measures (stats/risk.h): parsing, β and its
 * inverse, exact values on hand laws (two atoms; a uniform law of many
 * atoms; Gaussians and a Gaussian mixture) against closed forms written
 * here, and the edges (α → 0 is the minimum, α = 1 and η = 0 the mean,
 * ties, zero weights, any order). */
#include "test_util.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_integration.h>

#include "stats/risk.h"

static risk_spec spec(const char *text)
{
    risk_spec r;
    bdrl_err e;
    if (risk_spec_parse(text, &r, &e))
        fail_msg("parse '%s': %s", text, e.msg);
    return r;
}

static double atoms(const char *text, const double *x, const double *w, size_t n)
{
    risk_spec r = spec(text);
    double v;
    bdrl_err e;
    if (risk_atoms(&r, x, w, n, &v, &e))
        fail_msg("%s: %s", text, e.msg);
    return v;
}

static void test_spec_parse(void **state)
{
    (void)state;
    risk_spec r = spec("cvar:0.25");
    assert_int_equal(r.measure, RISK_CVAR);
    assert_true(r.param == 0.25);
    r = spec("wang:-0.75");
    assert_int_equal(r.measure, RISK_WANG);
    assert_true(r.param == -0.75);
    assert_int_equal(spec("mean").measure, RISK_MEAN);
    assert_int_equal(spec("cpw:0.71").measure, RISK_CPW);
    assert_int_equal(spec("pow:-2").measure, RISK_POW);
    assert_int_equal(spec("var:0.1").measure, RISK_VAR);
    assert_int_equal(spec("cvar:1").measure, RISK_CVAR);
    char buf[64];
    r = spec("wang:-0.75");
    risk_spec_format(&r, buf, sizeof buf);
    assert_string_equal(buf, "wang:-0.75");
    r = spec("mean");
    risk_spec_format(&r, buf, sizeof buf);
    assert_string_equal(buf, "mean");
    const struct {
        const char *text, *msg;
    } bad[] = {
        {"cvr:0.2", "is not a risk measure (mean, cvar:ALPHA"},
        {"", "is not a risk measure"},
        {"cvar", "lacks its parameter"},
        {"cvar:", "lacks its parameter"},
        {"cvar:x", "must be a finite number"},
        {"cvar:0.2x", "must be a finite number"},
        {"cvar:nan", "must be a finite number"},
        {"wang:inf", "must be a finite number"},
        {"cvar:0", "ALPHA in (0, 1], got 0"},
        {"cvar:1.5", "ALPHA in (0, 1]"},
        {"var:1", "ALPHA in (0, 1), got 1"},
        {"cpw:0.2", "not monotone"},
        {"cpw:101", "ETA in [0.28, 100]"},
        {"mean:1", "mean takes no parameter"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        bdrl_err e;
        if (!risk_spec_parse(bad[i].text, &r, &e))
            fail_msg("'%s' parsed", bad[i].text);
        assert_contains(e.msg, bad[i].msg);
        assert_null(strchr(e.msg, '\n'));
    }
}

/* β as defined, its range, and h(β(τ)) = τ where β is strictly increasing. */
static void test_beta_and_inverse(void **state)
{
    (void)state;
    const char *strict[] = {"mean", "wang:-0.75", "wang:1.5", "cpw:0.71", "cpw:0.28", "cpw:3", "pow:-2", "pow:1.5",
                            "cvar:0.25"};
    for (size_t i = 0; i < sizeof strict / sizeof *strict; i++) {
        risk_spec r = spec(strict[i]);
        assert_true(risk_beta(&r, 0) == 0);
        double prev = 0;
        for (int k = 1; k < 1000; k++) {
            double t = k / 1000.0, b = risk_beta(&r, t);
            if (!(b >= prev && b <= 1))
                fail_msg("%s: β(%g) = %g after %g", strict[i], t, b, prev);
            prev = b;
            if (fabs(risk_beta_inv(&r, b) - t) > 1e-9)
                fail_msg("%s: h(β(%g)) = %.17g", strict[i], t, risk_beta_inv(&r, b));
        }
    }
    risk_spec r = spec("wang:0.5");
    assert_close(risk_beta(&r, 0.3), gsl_cdf_ugaussian_P(gsl_cdf_ugaussian_Pinv(0.3) + 0.5), 1e-15);
    r = spec("cpw:0.71");
    double t = 0.2, a = pow(t, 0.71), b = pow(0.8, 0.71);
    assert_close(risk_beta(&r, t), a / pow(a + b, 1 / 0.71), 1e-15);
    r = spec("pow:-2");
    assert_close(risk_beta(&r, 0.3), 1 - pow(0.7, 1.0 / 3), 1e-15);
    r = spec("pow:2");
    assert_close(risk_beta(&r, 0.3), pow(0.3, 1.0 / 3), 1e-15);
    r = spec("cvar:0.1");
    assert_close(risk_beta(&r, 0.5), 0.05, 1e-17);
    assert_true(risk_beta_inv(&r, 0.2) == 1); /* β never exceeds α */
    r = spec("var:0.3");
    assert_true(risk_beta(&r, 0.9) == 0.3);
    assert_true(risk_beta_inv(&r, 0.29) == 0 && risk_beta_inv(&r, 0.3) == 1);
}

/* Atoms 0 and 1 with probabilities 0.7 and 0.3: ρ = 1 − h(0.7). */
static void test_two_atoms(void **state)
{
    (void)state;
    const double x[2] = {1, 0}, w[2] = {0.3, 0.7}; /* any order */
    assert_close(atoms("mean", x, w, 2), 0.3, 1e-15);
    assert_close(atoms("cvar:0.25", x, w, 2), 0, 1e-15);
    assert_close(atoms("cvar:0.7", x, w, 2), 0, 1e-15);
    assert_close(atoms("cvar:0.8", x, w, 2), 0.1 / 0.8, 1e-15);
    assert_close(atoms("cvar:1", x, w, 2), 0.3, 1e-15);
    assert_close(atoms("var:0.5", x, w, 2), 0, 0);
    assert_close(atoms("var:0.75", x, w, 2), 1, 0);
    const double etas[] = {-0.75, 0.75, 2};
    for (int i = 0; i < 3; i++) {
        char t[32];
        snprintf(t, sizeof t, "wang:%g", etas[i]);
        assert_close(atoms(t, x, w, 2), 1 - gsl_cdf_ugaussian_P(gsl_cdf_ugaussian_Pinv(0.7) - etas[i]), 1e-14);
    }
    assert_close(atoms("pow:1.5", x, w, 2), 1 - pow(0.7, 2.5), 1e-15);
    assert_close(atoms("pow:-2", x, w, 2), pow(0.3, 3), 1e-15);
    /* cpw: the value v is the τ-mass above h(0.7): β(1 − v) = 0.7 */
    risk_spec r = spec("cpw:0.71");
    double v = atoms("cpw:0.71", x, w, 2);
    assert_close(risk_beta(&r, 1 - v), 0.7, 1e-14);
    /* β(τ) < τ above about 1/3: the upper 0.3 is underweighted */
    assert_true(v < 0.3);
}

static double cpw_integrand(double t, void *p)
{
    risk_spec *r = p;
    return risk_beta(r, t);
}

/* U[0, 1] as 200,000 equally weighted atoms at the cell midpoints against
 * the closed forms ∫_0^1 β(τ) dτ (F^{-1}(v) = v). */
static void test_uniform_law(void **state)
{
    (void)state;
    const size_t n = 200000;
    double *x = malloc(sizeof(double) * n), *w = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
        x[i] = (i + 0.5) / n;
        w[i] = 1;
    }
    const double tol = 1e-6;
    assert_close(atoms("mean", x, w, n), 0.5, 1e-12);
    assert_close(atoms("cvar:0.25", x, w, n), 0.125, tol);
    assert_close(atoms("cvar:0.01", x, w, n), 0.005, tol);
    assert_close(atoms("var:0.3", x, w, n), 0.3, 1.0 / n);
    assert_close(atoms("wang:-0.75", x, w, n), gsl_cdf_ugaussian_P(-0.75 / sqrt(2)), tol); /* P(Z' ≤ Z + η) */
    assert_close(atoms("wang:0.75", x, w, n), gsl_cdf_ugaussian_P(0.75 / sqrt(2)), tol);
    assert_close(atoms("pow:-2", x, w, n), 1.0 / 4, tol);    /* 1/(2 + |η|) */
    assert_close(atoms("pow:1.5", x, w, n), 2.5 / 3.5, tol); /* (1 + η)/(2 + η) */
    /* cpw: ∫ β by GSL's adaptive quadrature of β itself */
    risk_spec r = spec("cpw:0.71");
    gsl_integration_workspace *ws = gsl_integration_workspace_alloc(1000);
    gsl_function f = {cpw_integrand, &r};
    double want, err;
    assert_int_equal(gsl_integration_qags(&f, 0, 1, 1e-13, 1e-12, 1000, ws, &want, &err), 0);
    gsl_integration_workspace_free(ws);
    assert_close(atoms("cpw:0.71", x, w, n), want, tol);
    free(x);
    free(w);
}

/* α → 0 is the minimum, α = 1, wang:0, pow:0 and cpw:1 the mean; ties and
 * zero weights change nothing; order does not matter. */
static void test_edges(void **state)
{
    (void)state;
    const double x[6] = {3, -2, 5, -2, 7, 3}, w[6] = {0.1, 0.2, 0.3, 0.1, 0, 0.3};
    const double xm[4] = {-2, 3, 5, 7}, wm[4] = {0.3, 0.4, 0.3, 0}; /* merged, sorted */
    double mean = -2 * 0.3 + 3 * 0.4 + 5 * 0.3;
    const char *all[] = {"mean", "cvar:0.1", "cvar:0.5", "wang:-0.75", "cpw:0.71", "pow:-2", "var:0.3", "var:0.7"};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        assert_close(atoms(all[i], x, w, 6), atoms(all[i], xm, wm, 4), 1e-14);
    assert_close(atoms("mean", x, w, 6), mean, 1e-14);
    assert_close(atoms("cvar:1", x, w, 6), mean, 1e-14);
    assert_close(atoms("wang:0", x, w, 6), mean, 1e-14);
    assert_close(atoms("pow:0", x, w, 6), mean, 1e-14);
    assert_close(atoms("cpw:1", x, w, 6), mean, 1e-12);
    assert_close(atoms("cvar:1e-12", x, w, 6), -2, 1e-14); /* the minimum, not the zero-weight 7 */
    assert_close(atoms("cvar:0.3", x, w, 6), -2, 1e-14);
    assert_close(atoms("cvar:0.5", x, w, 6), (-2 * 0.3 + 3 * 0.2) / 0.5, 1e-14);
    assert_close(atoms("var:0.3", x, w, 6), -2, 0);
    assert_close(atoms("var:0.31", x, w, 6), 3, 0);
    assert_close(atoms("wang:50", x, w, 6), 5, 1e-12);   /* → the maximum with mass */
    assert_close(atoms("wang:-50", x, w, 6), -2, 1e-12); /* → the minimum */
    /* averse measures sit below the mean, seeking ones above */
    assert_true(atoms("wang:-0.75", x, w, 6) < mean && atoms("wang:0.75", x, w, 6) > mean);
    assert_true(atoms("pow:-2", x, w, 6) < mean && atoms("pow:2", x, w, 6) > mean);
    /* one atom: every measure is it */
    const double one = 4.25, wone = 2;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        assert_close(atoms(all[i], &one, &wone, 1), 4.25, 0);

    risk_spec r = spec("mean");
    double v;
    bdrl_err e;
    const double wz[2] = {0, 0}, wneg[2] = {1, -1}, xn[2] = {0, NAN};
    assert_int_equal(risk_atoms(&r, x, wz, 2, &v, &e), -1);
    assert_contains(e.msg, "zero mass");
    assert_int_equal(risk_atoms(&r, x, wneg, 2, &v, &e), -1);
    assert_contains(e.msg, "weight >= 0");
    assert_int_equal(risk_atoms(&r, xn, w, 2, &v, &e), -1);
    assert_int_equal(risk_atoms(&r, x, w, 0, &v, &e), -1);
    r.measure = RISK_CVAR;
    r.param = 2;
    assert_int_equal(risk_atoms(&r, x, w, 2, &v, &e), -1);
    assert_contains(e.msg, "ALPHA in (0, 1]");
}

static double mixture(const char *text, const double *mu, const double *w, size_t K, double sigma)
{
    risk_spec r = spec(text);
    double v;
    bdrl_err e;
    if (risk_gauss_mixture(&r, mu, w, K, sigma, &v, &e))
        fail_msg("%s: %s", text, e.msg);
    return v;
}

/* One Gaussian N(μ, σ²): mean μ; cvar μ − σ φ(Φ^{-1}(α))/α; var μ + σ Φ^{-1}(α);
 * wang:η shifts the law to N(μ + ησ, σ²); pow:1 and pow:-1 are the max and
 * min of two draws (μ ± σ/√π), pow:±2 of three (μ ± 3σ/(2√π)). */
static void test_gaussian(void **state)
{
    (void)state;
    const double mu = 1.5, s = 0.7, w = 1, tol = 1e-9;
    const double phi = exp(-0.5 * pow(gsl_cdf_ugaussian_Pinv(0.25), 2)) / sqrt(2 * M_PI);
    assert_close(mixture("mean", &mu, &w, 1, s), mu, 1e-15);
    assert_close(mixture("cvar:0.25", &mu, &w, 1, s), mu - s * phi / 0.25, tol);
    assert_close(mixture("cvar:1", &mu, &w, 1, s), mu, 1e-15);
    assert_close(mixture("var:0.1", &mu, &w, 1, s), mu + s * gsl_cdf_ugaussian_Pinv(0.1), tol);
    assert_close(mixture("wang:-0.75", &mu, &w, 1, s), mu - 0.75 * s, tol);
    assert_close(mixture("wang:2", &mu, &w, 1, s), mu + 2 * s, tol);
    assert_close(mixture("wang:0", &mu, &w, 1, s), mu, tol);
    assert_close(mixture("pow:1", &mu, &w, 1, s), mu + s / sqrt(M_PI), tol);
    assert_close(mixture("pow:-1", &mu, &w, 1, s), mu - s / sqrt(M_PI), tol);
    assert_close(mixture("pow:2", &mu, &w, 1, s), mu + 1.5 * s / sqrt(M_PI), tol);
    assert_close(mixture("pow:-2", &mu, &w, 1, s), mu - 1.5 * s / sqrt(M_PI), tol);
    assert_close(mixture("cpw:1", &mu, &w, 1, s), mu, tol);
    /* cpw:0.71 (no closed form; test_gaussian_mixture checks it against
     * atoms) underweights the middle-upper levels: below the mean */
    assert_true(mixture("cpw:0.71", &mu, &w, 1, s) < mu);
    /* α → 0: far into the tail */
    assert_true(mixture("cvar:1e-6", &mu, &w, 1, s) < mu - 4.8 * s);

    risk_spec r = spec("mean");
    double v;
    bdrl_err e;
    assert_int_equal(risk_gauss_mixture(&r, &mu, &w, 1, 0, &v, &e), -1);
    assert_contains(e.msg, "sigma must be positive");
}

/* An unbalanced three-component mixture against the same law as 1.2
 * million atoms (the mass of each cell of width σ/4000 at its midpoint:
 * errors of order (σ/4000)² ≈ 1e-8), every measure; and the cvar closed
 * form against the mean of the lowest α of those atoms. */
static void test_gaussian_mixture(void **state)
{
    (void)state;
    const double mu[3] = {-1, 0.5, 2.5}, w[3] = {0.2, 0.5, 0.3}, s = 0.4;
    const double lo = -1 - 12 * s, hi = 2.5 + 12 * s, h = s / 4000;
    size_t n = (size_t)((hi - lo) / h);
    double *x = malloc(sizeof(double) * n), *p = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
        double a = lo + i * h, b = a + h;
        x[i] = a + h / 2;
        p[i] = 0;
        for (int k = 0; k < 3; k++)
            p[i] += w[k] * (gsl_cdf_ugaussian_P((b - mu[k]) / s) - gsl_cdf_ugaussian_P((a - mu[k]) / s));
    }
    const char *all[] = {"mean", "cvar:0.1", "cvar:0.25", "wang:-0.75", "wang:0.75", "cpw:0.71", "pow:-2", "pow:1.5"};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        double m = mixture(all[i], mu, w, 3, s), a = atoms(all[i], x, p, n);
        if (fabs(m - a) > 2e-7)
            fail_msg("%s: mixture %.12f, atoms %.12f", all[i], m, a);
    }
    assert_close(mixture("mean", mu, w, 3, s), -0.2 + 0.25 + 0.75, 1e-14);
    /* var: F(q) = α */
    double q = mixture("var:0.1", mu, w, 3, s), F = 0;
    for (int k = 0; k < 3; k++)
        F += w[k] * gsl_cdf_ugaussian_P((q - mu[k]) / s);
    assert_close(F, 0.1, 1e-12);
    /* zero-weight components are ignored, as in the atoms */
    const double mu4[4] = {-1, 0.5, 2.5, 40}, w4[4] = {0.2, 0.5, 0.3, 0};
    assert_close(mixture("wang:-0.75", mu4, w4, 4, s), mixture("wang:-0.75", mu, w, 3, s), 1e-10);
    free(x);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_parse),     cmocka_unit_test(test_beta_and_inverse),
        cmocka_unit_test(test_two_atoms),      cmocka_unit_test(test_uniform_law),
        cmocka_unit_test(test_edges),          cmocka_unit_test(test_gaussian),
        cmocka_unit_test(test_gaussian_mixture),
    };
    return cmocka_run_group_tests_name("risk", tests, NULL, NULL);
}
