/* Tests of src/core: errors, random streams, atomic files, the memory limit. */
#include "test_util.h"

#include <math.h>

#include "core/json.h"

#include "core/err.h"
#include "core/io.h"
#include "core/memlimit.h"
#include "core/rng.h"

static void test_err_set_returns_minus_one_and_formats(void **state)
{
    (void)state;
    bdrl_err e;
    assert_int_equal(err_set(&e, "bad %s at %d", "key", 7), -1);
    assert_string_equal(e.msg, "bad key at 7");
    assert_int_equal(err_prefix(&e, "file.yaml:%d", 3), -1);
    assert_string_equal(e.msg, "file.yaml:3: bad key at 7");
    assert_int_equal(err_set(NULL, "ignored"), -1);
}

static void test_rng_same_seed_same_stream(void **state)
{
    (void)state;
    rng *a = rng_create(42, RNG_STREAM_ENV), *b = rng_create(42, RNG_STREAM_ENV);
    rng *c = rng_create(42, RNG_STREAM_INIT), *d = rng_create(43, RNG_STREAM_ENV);
    int same_c = 0, same_d = 0;
    for (int i = 0; i < 100; i++) {
        double x = rng_uniform(a), y = rng_uniform(b), z = rng_uniform(c), w = rng_uniform(d);
        assert_true(x == y);
        same_c += (x == z);
        same_d += (x == w);
        assert_true(x >= 0.0 && x < 1.0);
    }
    assert_true(same_c < 3 && same_d < 3);
    rng_reseed(a, 42, RNG_STREAM_ENV);
    rng_reseed(b, 42, RNG_STREAM_ENV);
    assert_true(rng_u64(a) == rng_u64(b));
    rng_free(a); rng_free(b); rng_free(c); rng_free(d);
}

static void test_rng_moments(void **state)
{
    (void)state;
    rng *r = rng_create(7, 1);
    const int n = 200000;
    double s = 0, s2 = 0, rad = 0, below = 0;
    for (int i = 0; i < n; i++) {
        double z = rng_normal(r);
        s += z;
        s2 += z * z;
        rad += rng_rademacher(r);
        below += (double)rng_below(r, 10);
    }
    /* 5 standard errors: mean sd 1/sqrt(n), var sd sqrt(2/n). */
    assert_close(s / n, 0.0, 5.0 / sqrt(n));
    assert_close(s2 / n, 1.0, 5.0 * sqrt(2.0 / n));
    assert_close(rad / n, 0.0, 5.0 / sqrt(n));
    assert_close(below / n, 4.5, 5.0 * sqrt(8.25 / n));
    rng_free(r);
}

static void test_rng_save_load_roundtrip(void **state)
{
    (void)state;
    rng *a = rng_create(1, 2), *b = rng_create(9, 9);
    for (int i = 0; i < 10; i++) rng_uniform(a);
    FILE *f = tmpfile();
    assert_int_equal(rng_save(a, f, NULL), 0);
    rewind(f);
    assert_int_equal(rng_load(b, f, NULL), 0);
    for (int i = 0; i < 10; i++) assert_true(rng_uniform(a) == rng_uniform(b));
    fclose(f);
    rng_free(a); rng_free(b);
}

static void test_atomic_write_replaces_whole_file(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), p[512];
    snprintf(p, sizeof p, "%s/x.txt", d);
    assert_int_equal(io_write_file_atomic(p, "first", 5, NULL), 0);
    io_atomic a;
    assert_int_equal(io_atomic_open(&a, p, NULL), 0);
    fputs("second", a.f);
    /* Before commit the old content is still what a reader sees. */
    char *c = tu_read(p);
    assert_string_equal(c, "first");
    free(c);
    assert_int_equal(io_atomic_commit(&a, NULL), 0);
    c = tu_read(p);
    assert_string_equal(c, "second");
    free(c);
    /* Abort leaves the target and no temporary behind. */
    assert_int_equal(io_atomic_open(&a, p, NULL), 0);
    fputs("third", a.f);
    io_atomic_abort(&a);
    c = tu_read(p);
    assert_string_equal(c, "second");
    free(c);
    tu_result r = tu_run("ls %s | wc -l", d);
    assert_int_equal(atoi(r.out), 1);
    tu_run_free(&r);
    unlink(p);
    rmdir(d);
    free(d);
}

static void test_mkdirs_and_errors(void **state)
{
    (void)state;
    char *d = tu_tmpdir(), p[512];
    snprintf(p, sizeof p, "%s/a/b/c", d);
    assert_int_equal(io_mkdirs(p, NULL), 0);
    assert_int_equal(io_mkdirs(p, NULL), 0);
    assert_true(io_exists(p));
    snprintf(p, sizeof p, "%s/file", d);
    tu_write(p, "x");
    bdrl_err e;
    assert_int_equal(io_mkdirs(p, &e), -1);
    assert_contains(e.msg, "not a directory");
    assert_null(io_read_file("/nonexistent/bdrl", NULL, &e));
    assert_contains(e.msg, "cannot open /nonexistent/bdrl");
    tu_result r = tu_run("rm -rf %s", d);
    tu_run_free(&r);
    free(d);
}

/* Numbers: whole values as integers, others the shortest text that reads
 * back to the same double, non-finite as null. */
/* BDRL_MAX_MEMORY: sizes with suffixes; absurd ones (over 2^60 bytes, the
 * issue's 99999999999999999999G among them) refused with the reason. */
static void test_memory_limit_sizes(void **state)
{
    (void)state;
    double b;
    bdrl_err e;
    setenv("BDRL_MAX_MEMORY", "8G", 1);
    assert_int_equal(memlimit_max_bytes(&b, &e), 0);
    assert_close(b, 8.0 * 1024 * 1024 * 1024, 0);
    setenv("BDRL_MAX_MEMORY", "1024P", 1); /* no P suffix */
    assert_int_equal(memlimit_max_bytes(&b, &e), -1);
    setenv("BDRL_MAX_MEMORY", "1048576T", 1); /* exactly 2^60 */
    assert_int_equal(memlimit_max_bytes(&b, &e), 0);
    const char *absurd[] = {"99999999999999999999G", "1048577T", "2e18", "1e300"};
    for (size_t i = 0; i < sizeof absurd / sizeof *absurd; i++) {
        setenv("BDRL_MAX_MEMORY", absurd[i], 1);
        assert_int_equal(memlimit_max_bytes(&b, &e), -1);
        assert_contains(e.msg, "over 2^60 bytes");
        assert_contains(e.msg, absurd[i]);
    }
    unsetenv("BDRL_MAX_MEMORY");
    assert_int_equal(memlimit_max_bytes(&b, &e), 0);
    assert_true(b > 0);
    char *dir = tu_tmpdir();
    tu_result r = tu_run("BDRL_MAX_MEMORY=99999999999999999999G %s train %s/configs/cartpole_c51.yaml --out %s/absurd -q",
                         tu_bdrl(), tu_root(), dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "over 2^60 bytes");
    tu_run_free(&r);
    assert_int_equal(rmdir(dir), 0); /* nothing was created in it */
    free(dir);
}

static void test_json_numbers(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    json_writer w;
    json_init(&w, f);
    json_array_begin(&w);
    double v[] = {500, 0.1, -0.0, -3, 1e20, 0.30000000000000004, NAN, INFINITY, 2.5e-7};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        json_num(&w, v[i]);
    json_array_end(&w);
    fclose(f);
    /* The writer indents: compare without whitespace. */
    size_t k = 0;
    for (size_t i = 0; buf[i]; i++)
        if (buf[i] != ' ' && buf[i] != '\n')
            buf[k++] = buf[i];
    buf[k] = 0;
    assert_string_equal(buf, "[500,0.1,0,-3,1e+20,0.30000000000000004,null,null,2.5e-07]");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_set_returns_minus_one_and_formats),
        cmocka_unit_test(test_rng_same_seed_same_stream),
        cmocka_unit_test(test_rng_moments),
        cmocka_unit_test(test_rng_save_load_roundtrip),
        cmocka_unit_test(test_atomic_write_replaces_whole_file),
        cmocka_unit_test(test_mkdirs_and_errors),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_memory_limit_sizes),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
