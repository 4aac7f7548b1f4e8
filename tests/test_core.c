/* Tests of src/core: errors, random streams, atomic files, the memory limit. */
#include "test_util.h"

#include <math.h>

#include "core/json.h"

#include "core/err.h"
#include "core/io.h"
#include "core/pcg64.h"
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

/* numpy's Generator(PCG64(SeedSequence(seed))), as Gymnasium seeds its
 * np_random: the numbers numpy 1.24 printed for these seeds
 * (SeedSequence(s).generate_state(4), bit_generator.state, random() x 3 and
 * the 1000th random()), seeds of one and two 32-bit words. */
static void test_numpy_pcg64_matches_numpy(void **state)
{
    (void)state;
    static const struct {
        uint64_t seed;
        uint32_t words[4];
        uint64_t st_hi, st_lo, inc_hi, inc_lo;
        double x[3], x1000;
    } ref[] = {
        {0, {0xb0f478be, 0xdb2cd7e7, 0x2c71ba49, 0xabf4641a}, 0x1aa1b5345996452dULL, 0x09585eb7a69561e3ULL,
         0x418ddadb3af71a82ULL, 0x588133bc447873a9ULL, {0x1.461fd79fb3850p-1, 0x1.1442f7e20b674p-2, 0x1.4fa7b529d9bd0p-5},
         0x1.8520ca410bdd0p-2},
        {1, {0x6d6791ff, 0x672d8ee5, 0x4eb1072c, 0x8ae19ca1}, 0x9c5b484bfedb756cULL, 0x2a6e7d6f320fbc7eULL,
         0x922af2da2645f895ULL, 0xa19857b95740937bULL, {0x1.060d7be6f245cp-1, 0x1.e6a32d7782a55p-1, 0x1.273d27b04760cp-3},
         0x1.ecc946878beb2p-1},
        {42, {0xcd540ab7, 0x9f1e2e6d, 0x79fb94b6, 0xd57873dc}, 0xcea44f6798798f2aULL, 0xacbc7c9d68860ac8ULL,
         0xfa505436c9a8416eULL, 0x66caf2e28d25abffULL, {0x1.8c43f79a2db24p-1, 0x1.c16959869e47ep-2, 0x1.b79a2584ddb42p-1},
         0x1.1fa34d5d1f600p-2},
        {4294967295ULL, {0x76c1fe08, 0x2a05c5e2, 0xc20e8198, 0x2032e40f}, 0x4c233832246aa48cULL, 0xc57a3ce19c86ba9aULL,
         0xda9580daf0fe872cULL, 0xad12d969e7b701fbULL, {0x1.01fd7ea4c363ep-2, 0x1.c0a59175cb424p-3, 0x1.262df73ba3636p-2},
         0x1.12db7ed281c8ap-1},
        {4294967296ULL, {0xec53f444, 0x50ff846c, 0xe8278562, 0x7a4918db}, 0x24d060cf1520dbddULL, 0x21bbf7fbff1ac5d4ULL,
         0x77ff3ed86c5c5633ULL, 0x7b62eea7340ca9c7ULL, {0x1.c78bd7c50b582p-1, 0x1.1d4132d1fc63bp-1, 0x1.9a109ff09b1bdp-1},
         0x1.8d2d3bb53308fp-1},
        {12345678901234567ULL, {0x7d5fc2f1, 0x16d146aa, 0xd6d1bdd1, 0x9b731296}, 0x1fe5d8dcaead774dULL,
         0x6edf07b8c4ce7ecbULL, 0x3a85f7734176fecbULL, 0xe11b8dd1ac295e89ULL,
         {0x1.5c2f7d0269a4cp-2, 0x1.cb2e25a2092dfp-1, 0x1.f9aac1ef20e52p-1}, 0x1.f4cdd9855d2f1p-1},
        {18446744073709551615ULL, {0x928cad0d, 0xaebca151, 0x8638dc7a, 0x119c3044}, 0xddc419442aebde79ULL,
         0x4d8b0a3b048acdb0ULL, 0x37762aacb3cc854fULL, 0x4ed623c7d18951edULL,
         {0x1.5c2c74f5188eap-1, 0x1.b0ccb3ebe6704p-1, 0x1.e52b195bc2d00p-8}, 0x1.db2c17c7c20c0p-1},
    };
    for (size_t k = 0; k < sizeof ref / sizeof *ref; k++) {
        uint32_t w[4];
        np_seed_sequence_words(ref[k].seed, w, 4);
        for (int i = 0; i < 4; i++)
            assert_true(w[i] == ref[k].words[i]);
        np_pcg64 g;
        np_pcg64_seed(&g, ref[k].seed);
        assert_true(g.state_hi == ref[k].st_hi && g.state_lo == ref[k].st_lo);
        assert_true(g.inc_hi == ref[k].inc_hi && g.inc_lo == ref[k].inc_lo);
        /* the same numbers through rng.h, after a reseed from another seed */
        rng *r = rng_create_numpy(ref[k].seed + 1);
        rng_uniform(r);
        rng_reseed(r, ref[k].seed, RNG_STREAM_ENV);
        for (int i = 0; i < 3; i++) {
            double x = np_pcg64_random(&g);
            if (x != ref[k].x[i])
                fail_msg("seed %llu draw %d: %a, numpy %a", (unsigned long long)ref[k].seed, i, x, ref[k].x[i]);
            assert_true(rng_uniform(r) == x);
        }
        for (int i = 3; i < 999; i++)
            assert_true(rng_uniform(r) == np_pcg64_random(&g));
        assert_true(np_pcg64_random(&g) == ref[k].x1000);
        assert_true(rng_uniform(r) == ref[k].x1000);
        rng_free(r);
    }
    /* its state saves and loads like any rng */
    rng *a = rng_create_numpy(5), *b = rng_create_numpy(6);
    FILE *f = tmpfile();
    assert_int_equal(rng_save(a, f, NULL), 0);
    rewind(f);
    assert_int_equal(rng_load(b, f, NULL), 0);
    for (int i = 0; i < 10; i++)
        assert_true(rng_uniform(a) == rng_uniform(b));
    fclose(f);
    rng_free(a);
    rng_free(b);
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
        cmocka_unit_test(test_numpy_pcg64_matches_numpy),
        cmocka_unit_test(test_atomic_write_replaces_whole_file),
        cmocka_unit_test(test_mkdirs_and_errors),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_memory_limit_sizes),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
