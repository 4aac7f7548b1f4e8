/* Tests of the sum tree of prioritized replay (train/sumtree.h): every
 * inner node the sum of its leaves after updates, the search against hand
 * prefix values (including the rounding guard at empty subtrees and at the
 * total), draws proportional to the priorities, and a rebuild from the
 * leaves equal to the updated tree bit for bit. */
#include "test_util.h"

#include "core/rng.h"
#include "train/sumtree.h"

/* Every inner node against the sum of the leaves below it, added up
 * directly (in order, as a left-to-right tree adds them for these exact
 * binary fractions). */
static void check_sums(const sumtree *t, const double *p)
{
    for (int64_t k = 1; k < t->leaves; k++) {
        int64_t lo = k, hi = k;
        while (lo < t->leaves)
            lo *= 2, hi = 2 * hi + 1;
        double s = 0;
        for (int64_t i = lo - t->leaves; i <= hi - t->leaves; i++)
            s += i < t->n ? p[i] : 0;
        assert_true(t->node[k] == s);
    }
}

static void test_sums_after_updates(void **state)
{
    (void)state;
    bdrl_err e;
    sumtree *t = sumtree_create(5, &e);
    assert_non_null(t);
    assert_int_equal(t->leaves, 8);
    double p[5] = {0};
    check_sums(t, p);
    assert_true(sumtree_total(t) == 0);
    const double v[5] = {1, 0.5, 2, 0.25, 4};
    for (int i = 0; i < 5; i++) {
        sumtree_set(t, i, v[i]);
        p[i] = v[i];
        check_sums(t, p);
    }
    assert_true(sumtree_total(t) == 7.75);
    /* updates move the total by the difference, and a leaf back to 0 */
    sumtree_set(t, 2, 8);
    p[2] = 8;
    check_sums(t, p);
    assert_true(sumtree_total(t) == 13.75);
    sumtree_set(t, 4, 0);
    p[4] = 0;
    check_sums(t, p);
    assert_true(sumtree_total(t) == 9.75);
    assert_true(sumtree_get(t, 2) == 8 && sumtree_get(t, 1) == 0.5);
    assert_true(sumtree_bytes(5) == 16 * sizeof(double));
    sumtree_free(t);
    /* one leaf: the root is the leaf */
    t = sumtree_create(1, &e);
    assert_int_equal(t->leaves, 1);
    sumtree_set(t, 0, 3);
    assert_true(sumtree_total(t) == 3);
    assert_int_equal(sumtree_find(t, 2.5), 0);
    sumtree_free(t);
    assert_null(sumtree_create(0, &e));
    assert_contains(e.msg, "must be >= 1");
}

/* Priorities 1, 0, 2, 3, 0.5: the prefix intervals are [0, 1) -> 0, slot 1
 * none, [1, 3) -> 2, [3, 6) -> 3, [6, 6.5) -> 4. */
static void test_find_hand_prefixes(void **state)
{
    (void)state;
    bdrl_err e;
    sumtree *t = sumtree_create(5, &e);
    const double v[5] = {1, 0, 2, 3, 0.5};
    for (int i = 0; i < 5; i++)
        sumtree_set(t, i, v[i]);
    const struct {
        double u;
        int64_t leaf;
    } c[] = {{0, 0}, {0.999, 0}, {1, 2}, {2.999, 2}, {3, 3}, {5.999, 3}, {6, 4}, {6.49, 4},
             /* at or past the total (rounding): the last leaf with mass, never the empty ones after it */
             {6.5, 4}, {100, 4}};
    for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
        int64_t got = sumtree_find(t, c[k].u);
        if (got != c[k].leaf)
            fail_msg("find(%g) = %lld, want %lld", c[k].u, (long long)got, (long long)c[k].leaf);
    }
    /* a leading empty leaf is skipped: u = 0 lands on the first leaf with mass */
    sumtree_set(t, 0, 0);
    assert_int_equal(sumtree_find(t, 0), 2);
    assert_int_equal(sumtree_find(t, 1.999), 2);
    assert_int_equal(sumtree_find(t, 2), 3);
    sumtree_free(t);
}

/* u uniform on [0, total): leaf i drawn with probability p_i / total
 * (chi-square over 7 leaves with mass; the empty one never drawn). */
static void test_draws_proportional(void **state)
{
    (void)state;
    bdrl_err e;
    const int n = 9;
    const double v[9] = {1, 2, 3, 4, 0, 5, 6, 0.5, 2.5};
    sumtree *t = sumtree_create(n, &e);
    for (int i = 0; i < n; i++)
        sumtree_set(t, i, v[i]);
    rng *g = rng_create(3, RNG_STREAM_REPLAY);
    const int draws = 200000;
    long count[9] = {0};
    for (int k = 0; k < draws; k++)
        count[sumtree_find(t, rng_uniform(g) * sumtree_total(t))]++;
    double chi2 = 0;
    for (int i = 0; i < n; i++) {
        if (v[i] == 0) {
            assert_int_equal(count[i], 0);
            continue;
        }
        double ex = draws * v[i] / 24.0;
        chi2 += (count[i] - ex) * (count[i] - ex) / ex;
    }
    /* 7 degrees of freedom: P(chi2 > 24.3) = 0.001 */
    print_message("sum tree draws: chi2 = %.2f (7 dof)\n", chi2);
    assert_true(chi2 < 24.3);
    rng_free(g);
    sumtree_free(t);
}

/* Many updates with arbitrary doubles, then a tree made from the leaves
 * alone: the same bytes (each node the sum of its children, never a
 * running difference). */
static void test_rebuild_bit_for_bit(void **state)
{
    (void)state;
    bdrl_err e;
    const int64_t n = 1000;
    sumtree *t = sumtree_create(n, &e), *u = sumtree_create(n, &e);
    rng *g = rng_create(11, RNG_STREAM_REPLAY);
    for (int k = 0; k < 20000; k++)
        sumtree_set(t, (int64_t)rng_below(g, (unsigned long)n), pow(rng_uniform(g) * 7.3 + 1e-6, 0.6));
    memcpy(u->node + u->leaves, t->node + t->leaves, (size_t)n * sizeof(double));
    sumtree_rebuild(u);
    assert_memory_equal(t->node, u->node, 2 * (size_t)t->leaves * sizeof(double));
    rng_free(g);
    sumtree_free(t);
    sumtree_free(u);
}

/* The batched forms against one at a time: sumtree_set_many of batches
 * with repeated slots (the last value wins) gives the bytes of the same
 * sets in order; sumtree_find_many gives sumtree_find's leaves, on the
 * hand prefixes (boundaries, past the total, empty leaves) and on random
 * points of a large tree with empty slots; n = 1 and a one-leaf tree too. */
static void test_batched_forms(void **state)
{
    (void)state;
    bdrl_err e;
    const int64_t n = 3000;
    sumtree *t = sumtree_create(n, &e), *u = sumtree_create(n, &e);
    rng *g = rng_create(12, RNG_STREAM_REPLAY);
    int64_t idx[64], got[64];
    double p[64], x[64];
    for (int round = 0; round < 400; round++) {
        int B = 1 + (int)rng_below(g, 64);
        for (int k = 0; k < B; k++) {
            /* a narrow range some rounds: many repeats and merging paths */
            idx[k] = (int64_t)rng_below(g, round % 3 ? (unsigned long)n : 8);
            p[k] = round % 5 == 4 && k % 3 == 0 ? 0 : pow(rng_uniform(g) * 5.1 + 1e-6, 0.6);
        }
        for (int k = 0; k < B; k++)
            sumtree_set(t, idx[k], p[k]);
        sumtree_set_many(u, B, idx, p);
        assert_memory_equal(t->node, u->node, 2 * (size_t)t->leaves * sizeof(double));
        double tot = sumtree_total(t);
        for (int k = 0; k < B; k++)
            x[k] = ((double)k + rng_uniform(g)) * tot / B;
        x[0] = round % 7 == 0 ? tot : x[0]; /* at the total: rounding's guard */
        double y[64];
        memcpy(y, x, sizeof x);
        sumtree_find_many(t, B, y, got);
        for (int k = 0; k < B; k++)
            assert_int_equal(got[k], sumtree_find(t, x[k]));
    }
    sumtree_free(t);
    sumtree_free(u);
    t = sumtree_create(5, &e);
    const double v[5] = {0, 0, 2, 3, 0.5};
    const int64_t at[5] = {0, 1, 2, 3, 4};
    sumtree_set_many(t, 5, at, v);
    double hand[8] = {0, 1.999, 2, 4.999, 5, 5.49, 5.5, 100};
    const int64_t want[8] = {2, 2, 3, 3, 4, 4, 4, 4};
    sumtree_find_many(t, 8, hand, got);
    for (int k = 0; k < 8; k++)
        assert_int_equal(got[k], want[k]);
    sumtree_free(t);
    t = sumtree_create(1, &e);
    double one[1] = {0.7};
    sumtree_set_many(t, 1, at, (const double[]){3});
    assert_true(sumtree_total(t) == 3);
    sumtree_find_many(t, 1, one, got);
    assert_int_equal(got[0], 0);
    sumtree_free(t);
    rng_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sums_after_updates),
        cmocka_unit_test(test_find_hand_prefixes),
        cmocka_unit_test(test_draws_proportional),
        cmocka_unit_test(test_rebuild_bit_for_bit),
        cmocka_unit_test(test_batched_forms),
    };
    return cmocka_run_group_tests_name("sumtree", tests, NULL, NULL);
}
