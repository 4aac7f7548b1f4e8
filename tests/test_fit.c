/* End-to-end tests of `bdrl fit` (generative mode): a short fit must learn
 * (its samples beat those of an untrained field by a wide margin and meet an
 * absolute bound), every promised file appears, and bad input exits 2 with a
 * located message. */
#include "test_util.h"


/* Pulls a number out of metrics.json ("key": value); NAN if absent/null. */
static double json_number(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NAN;
    p += strlen(pat);
    if (!strncmp(p, "null", 4))
        return NAN;
    return strtod(p, NULL);
}

/* Small, fast settings: a few seconds per run. */
#define SMALL "--set data.n_train=4000 --set data.n_eval=600 --set field.width=48 " \
              "--set train.batch_size=128 --set sampler.steps=150 -q"

static char *run_fit(const char *name, const char *extra)
{
    char out[512], path[600];
    snprintf(out, sizeof out, "%s/%s", tu_dir, name);
    tu_result r = tu_run("%s fit %s/configs/fit/mog1d.yaml --out %s " SMALL " %s", tu_bdrl(), tu_root(),
                         out, extra);
    if (r.status != 0)
        fail_msg("bdrl fit exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    snprintf(path, sizeof path, "%s/metrics.json", out);
    char *json = tu_read(path);
    assert_non_null(json);
    return json;
}

static void test_short_fit_learns(void **state)
{
    (void)state;
    char *trained = run_fit("trained", "--set train.steps=1500");
    char *untrained = run_fit("untrained", "--set train.steps=1 --set train.ema=0");
    double w1 = json_number(trained, "w1"), w1_0 = json_number(untrained, "w1");
    double floor_ = json_number(trained, "w1_floor");
    print_message("short fit: W1 %.4f (floor %.4f), untrained W1 %.4f\n", w1, floor_, w1_0);
    assert_true(floor_ > 0 && floor_ < 0.2);
    /* Measured at these settings: W1 ~0.1-0.15, untrained ~1. */
    assert_true(w1 < 0.3);
    assert_true(w1 < 0.35 * w1_0);
    /* The main mode (weight 0.7) must hold most of the samples. */
    const char *mw = strstr(trained, "\"mode_weights\": [");
    assert_non_null(mw);
    double m0 = strtod(mw + strlen("\"mode_weights\": ["), NULL);
    assert_true(m0 > 0.55 && m0 < 0.85);
    /* The comparison samplers are reported too. */
    assert_contains(trained, "\"bdd_plain\": {");
    assert_contains(trained, "\"langevin\": {");
    assert_contains(trained, "\"frozen_walkers\": ");
    assert_contains(trained, "\"wall_seconds\": ");
    free(trained);
    free(untrained);
}

static void test_fit_writes_every_file(void **state)
{
    (void)state;
    const char *files[] = {"config.yaml", "metrics.json", "fields.csv", "samples.csv",
                           "samples_bdd_plain.csv", "samples_langevin.csv", "hist.csv", "fit.png", "fit.svg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/trained/%s", tu_dir, files[i]);
        char *c = tu_read(p);
        if (!c || !*c)
            fail_msg("missing or empty %s", p);
        if (!strcmp(files[i], "fit.png"))
            assert_memory_equal(c, "\x89PNG", 4);
        free(c);
    }
    /* The resolved config reads back. */
    tu_result r = tu_run("%s config %s/trained/config.yaml", tu_bdrl(), tu_dir);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "  steps: 1500\n");
    tu_run_free(&r);
}

static void test_fit_csv_and_bad_input(void **state)
{
    (void)state;
    char csv[600], cfg[600];
    snprintf(csv, sizeof csv, "%s/data.csv", tu_dir);
    FILE *f = fopen(csv, "w");
    fputs("value\n", f);
    for (int i = 0; i < 400; i++)
        fprintf(f, "%.6f\n", (i % 2 ? 1.0 : -1.0) + 0.001 * i);
    fclose(f);
    snprintf(cfg, sizeof cfg, "%s/csv.yaml", tu_dir);
    char text[1200];
    snprintf(text, sizeof text, "data:\n  name: csv\n  path: %s\ntrain:\n  steps: 50\n", csv);
    tu_write(cfg, text);
    tu_result r = tu_run("%s fit %s --out %s/csvfit -q --set sampler.steps=20", tu_bdrl(), cfg, tu_dir);
    if (r.status != 0)
        fail_msg("csv fit exited %d: %s", r.status, r.err);
    tu_run_free(&r);

    /* A bad row is named by file and line. */
    f = fopen(csv, "a");
    fputs("1.0,2.0\n", f);
    fclose(f);
    r = tu_run("%s fit %s --out %s/badcsv -q", tu_bdrl(), cfg, tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "data.csv:402:");
    tu_run_free(&r);

    tu_write(cfg, "data:\n  name: csv\n");
    r = tu_run("%s fit %s -q", tu_bdrl(), cfg);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "data.name is csv but data.path is not set");
    tu_run_free(&r);

    tu_write(cfg, "data:\n  name: mog3d\n");
    r = tu_run("%s fit %s -q", tu_bdrl(), cfg);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, ":2:9: 'data.name' must be one of");
    tu_run_free(&r);

    r = tu_run("%s fit %s/configs/fit/mog1d.yaml --set loss.kernal=full", tu_bdrl(), tu_root());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "did you mean 'loss.kernel'?");
    tu_run_free(&r);

    r = tu_run("%s fit", tu_bdrl());
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    r = tu_run("%s fit --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "usage: bdrl fit CONFIG");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_fit_learns),
        cmocka_unit_test(test_fit_writes_every_file),
        cmocka_unit_test(test_fit_csv_and_bad_input),
    };
    return cmocka_run_group_tests_name("fit", tests, tu_group_setup, tu_group_teardown);
}
