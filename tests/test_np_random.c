/* Tests of numpy's legacy RandomState in C (src/core/np_random.c): every
 * call of tests/ref/np_random.csv (what numpy 1.24 printed, written by
 * tests/ref/np_random_ref.py) replayed value for value, the scalar and
 * array forms agreeing, the MT19937 reference output, and the draws a
 * one-value randint does not make. */
#include "test_util.h"

#include "core/np_random.h"

/* Replays the table: seed rows re-seed, rand/randint rows make the call
 * (the array form when size > 0) and compare every value exactly. */
static void test_matches_numpy_table(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/ref/np_random.csv", tu_root());
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    static char line[65536];
    np_random r;
    np_random_seed(&r, 0);
    long lineno = 1, calls = 0, values = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char call[16];
        char *p = line;
        size_t n = strcspn(p, ",");
        if (n >= sizeof call)
            fail_msg("%s:%ld: malformed", path, lineno);
        memcpy(call, p, n);
        call[n] = '\0';
        p += n + 1;
        char *end;
        long long lo = strtoll(p, &end, 10);
        long long hi = strtoll(end + 1, &end, 10);
        long size = strtol(end + 1, &end, 10);
        p = end + 1;
        if (!strcmp(call, "seed")) {
            np_random_seed(&r, (uint32_t)lo);
            continue;
        }
        int k = size > 0 ? (int)size : 1;
        double d[1024];
        int64_t v[1024];
        assert_true(k <= 1024);
        if (!strcmp(call, "rand")) {
            if (size > 0)
                np_random_sample_fill(&r, d, k);
            else
                d[0] = np_random_sample(&r);
            for (int i = 0; i < k; i++) {
                double want = strtod(p, &end);
                p = end;
                if (memcmp(&want, &d[i], sizeof want))
                    fail_msg("%s:%ld: rand value %d: got %.17g, numpy %.17g", path, lineno, i, d[i], want);
            }
        } else if (!strcmp(call, "randint")) {
            if (size > 0)
                np_random_randint_fill(&r, lo, hi, v, k);
            else
                v[0] = np_random_randint(&r, lo, hi);
            for (int i = 0; i < k; i++) {
                long long want = strtoll(p, &end, 10);
                p = end;
                if (want != v[i])
                    fail_msg("%s:%ld: randint(%lld, %lld) value %d: got %lld, numpy %lld", path, lineno, lo, hi,
                             i, (long long)v[i], want);
            }
        } else {
            fail_msg("%s:%ld: unknown call '%s'", path, lineno, call);
        }
        calls++;
        values += k;
    }
    fclose(f);
    assert_true(calls > 200);
    assert_true(values > 5000); /* the 640-value rows cross the regeneration */
}

/* The MT19937 paper's check: init_genrand(5489), the 10000th output. */
static void test_mt19937_reference_output(void **state)
{
    (void)state;
    np_random r;
    np_random_seed(&r, 5489);
    uint32_t y = 0;
    for (int i = 0; i < 10000; i++)
        y = np_random_u32(&r);
    assert_int_equal(y, 4123659995u);
}

/* randint over one value draws nothing; over two it takes one 32-bit
 * output's low bit; the array forms are the scalar calls in order. */
static void test_draw_counts_and_array_forms(void **state)
{
    (void)state;
    np_random a, b;
    np_random_seed(&a, 7);
    np_random_seed(&b, 7);
    assert_int_equal(np_random_randint(&a, 3, 4), 3);
    assert_int_equal(np_random_randint(&a, -1, 0), -1);
    assert_true(memcmp(&a, &b, sizeof a) == 0);
    uint32_t u = np_random_u32(&b);
    assert_int_equal(np_random_randint(&a, 0, 2), (int64_t)(u & 1u));
    assert_true(memcmp(&a, &b, sizeof a) == 0);
    int64_t v[8];
    np_random_randint_fill(&a, 1, 6, v, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(v[i], np_random_randint(&b, 1, 6));
    double d[8];
    np_random_sample_fill(&a, d, 8);
    for (int i = 0; i < 8; i++)
        assert_true(d[i] == np_random_sample(&b));
    assert_true(memcmp(&a, &b, sizeof a) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_numpy_table),
        cmocka_unit_test(test_mt19937_reference_output),
        cmocka_unit_test(test_draw_counts_and_array_forms),
    };
    return cmocka_run_group_tests_name("np_random", tests, NULL, NULL);
}
