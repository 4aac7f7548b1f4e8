/* Tests of the replay buffer: ring wrap-around, termination and truncation
 * kept apart, uniform sampling into caller arrays, save/load. */
#include "test_util.h"

#include "train/replay.h"

/* Transition k: obs (k, -k), action k % 3, reward k/2, next obs (k+1, -(k+1)),
 * terminated when k % 4 == 1, truncated when k % 4 >= 2 (k % 4 == 3: both). */
static void add_k(replay *r, int k)
{
    float o[2] = {(float)k, (float)-k}, n[2] = {(float)(k + 1), (float)-(k + 1)};
    replay_add(r, o, k % 3, k / 2.0, n, k % 4 == 1 || k % 4 == 3, k % 4 >= 2);
}

static void check_slot(const replay *r, int64_t i, int k)
{
    assert_true(r->obs[2 * i] == (float)k && r->obs[2 * i + 1] == (float)-k);
    assert_true(r->next_obs[2 * i] == (float)(k + 1));
    assert_int_equal(r->action[i], k % 3);
    assert_true(r->reward[i] == (float)(k / 2.0));
    assert_int_equal(r->terminated[i], k % 4 == 1 || k % 4 == 3);
    assert_int_equal(r->truncated[i], k % 4 >= 2);
}

static void test_wrap_around(void **state)
{
    (void)state;
    bdrl_err e;
    replay *r = replay_create(5, 2, &e);
    assert_non_null(r);
    for (int k = 0; k < 3; k++)
        add_k(r, k);
    assert_int_equal(r->size, 3);
    assert_int_equal(r->pos, 3);
    for (int k = 3; k < 8; k++)
        add_k(r, k);
    /* 8 added into 5 slots: slots 0..2 hold 5..7, slots 3, 4 hold 3, 4 */
    assert_int_equal(r->size, 5);
    assert_int_equal(r->pos, 3);
    assert_int_equal(r->added, 8);
    for (int i = 0; i < 5; i++)
        check_slot(r, i, i < 3 ? i + 5 : i);
    for (int k = 8; k < 12; k++)
        add_k(r, k);
    assert_int_equal(r->pos, 2);
    check_slot(r, 1, 11);
    check_slot(r, 2, 7);
    replay_free(r);
    assert_null(replay_create(0, 2, &e));
    assert_contains(e.msg, "capacity");
}

static void test_terminated_vs_truncated(void **state)
{
    (void)state;
    bdrl_err e;
    replay *r = replay_create(4, 2, &e);
    for (int k = 0; k < 4; k++)
        add_k(r, k);
    /* k = 0: neither; 1: terminated only; 2: truncated only; 3: both */
    assert_true(!r->terminated[0] && !r->truncated[0]);
    assert_true(r->terminated[1] && !r->truncated[1]);
    assert_true(!r->terminated[2] && r->truncated[2]);
    assert_true(r->terminated[3] && r->truncated[3]);
    /* and the batch carries both, the agent view only `terminated` */
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, 64, 2, &e), 0);
    rng *g = rng_create(1, RNG_STREAM_REPLAY);
    replay_sample(r, g, 64, &b);
    agent_batch v = replay_batch_view(&b, NULL);
    assert_int_equal(v.B, 64);
    assert_null(v.next_action);
    for (int i = 0; i < 64; i++) {
        int k = (int)b.index[i];
        assert_true(b.obs[2 * i] == (float)k);
        assert_int_equal(b.terminated[i], k % 4 == 1 || k % 4 == 3);
        assert_int_equal(b.truncated[i], k % 4 >= 2);
        assert_int_equal(v.terminated[i], b.terminated[i]);
        assert_int_equal(v.action[i], k % 3);
        assert_true(v.reward[i] == (float)(k / 2.0));
        assert_true(v.next_obs[2 * i] == (float)(k + 1));
    }
    v = replay_batch_view(&b, b.next_action);
    assert_ptr_equal(v.next_action, b.next_action);
    rng_free(g);
    replay_batch_free(&b);
    replay_free(r);
}

static void test_sampling_uniform_and_reproducible(void **state)
{
    (void)state;
    bdrl_err e;
    replay *r = replay_create(10, 2, &e);
    for (int k = 0; k < 7; k++)
        add_k(r, k);
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, 100, 2, &e), 0);
    rng *g = rng_create(4, RNG_STREAM_REPLAY);
    /* only the 7 filled slots are drawn */
    long count[10] = {0};
    const int rounds = 1400;
    for (int t = 0; t < rounds; t++) {
        replay_sample(r, g, 100, &b);
        for (int i = 0; i < 100; i++)
            count[b.index[i]]++;
    }
    double expect = rounds * 100 / 7.0, chi2 = 0;
    for (int i = 0; i < 10; i++) {
        if (i >= 7) {
            assert_int_equal(count[i], 0);
            continue;
        }
        chi2 += (count[i] - expect) * (count[i] - expect) / expect;
    }
    /* 6 degrees of freedom: P(chi2 > 22.5) = 0.001 */
    print_message("replay sampling: chi2 = %.2f (6 dof)\n", chi2);
    assert_true(chi2 < 22.5);
    /* same stream, same draws */
    rng *g1 = rng_create(9, RNG_STREAM_REPLAY), *g2 = rng_create(9, RNG_STREAM_REPLAY);
    int64_t first[32];
    replay_sample(r, g1, 32, &b);
    memcpy(first, b.index, sizeof first);
    replay_sample(r, g2, 32, &b);
    assert_memory_equal(first, b.index, sizeof first);
    rng_free(g);
    rng_free(g1);
    rng_free(g2);
    replay_batch_free(&b);
    replay_free(r);
}

static void test_save_load(void **state)
{
    (void)state;
    bdrl_err e;
    replay *r = replay_create(6, 2, &e), *s = replay_create(6, 2, &e), *t = replay_create(7, 2, &e);
    for (int k = 0; k < 9; k++)
        add_k(r, k);
    FILE *f = tmpfile();
    assert_int_equal(replay_save(r, f, &e), 0);
    long size = ftell(f);
    rewind(f);
    assert_int_equal(replay_load(s, f, &e), 0);
    assert_int_equal(s->size, r->size);
    assert_int_equal(s->pos, r->pos);
    assert_int_equal(s->added, 9);
    for (int i = 0; i < 6; i++)
        check_slot(s, i, i < 3 ? i + 6 : i);
    /* another capacity: refused with a message */
    rewind(f);
    assert_int_equal(replay_load(t, f, &e), -1);
    assert_contains(e.msg, "holds 6 transitions");
    /* a flipped byte: checksum; the buffer stays as it was */
    char *buf = malloc((size_t)size);
    rewind(f);
    assert_int_equal((long)fread(buf, 1, (size_t)size, f), size);
    buf[size / 2] ^= 0x10;
    FILE *g = tmpfile();
    fwrite(buf, 1, (size_t)size, g);
    rewind(g);
    add_k(s, 100);
    assert_int_equal(replay_load(s, g, &e), -1);
    assert_contains(e.msg, "corrupted");
    check_slot(s, 3, 100);
    /* a partly filled buffer round-trips too */
    replay *p = replay_create(6, 2, &e), *q = replay_create(6, 2, &e);
    add_k(p, 0);
    add_k(p, 1);
    rewind(f);
    assert_int_equal(replay_save(p, f, &e), 0);
    rewind(f);
    assert_int_equal(replay_load(q, f, &e), 0);
    assert_int_equal(q->size, 2);
    assert_int_equal(q->pos, 2);
    check_slot(q, 1, 1);
    free(buf);
    fclose(f);
    fclose(g);
    replay_free(p);
    replay_free(q);
    replay_free(r);
    replay_free(s);
    replay_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_around),
        cmocka_unit_test(test_terminated_vs_truncated),
        cmocka_unit_test(test_sampling_uniform_and_reproducible),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
