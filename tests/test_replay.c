/* Tests of the replay buffer (train/replay.h): ring wrap-around,
 * termination and truncation kept apart, each observation stored once (the
 * successor's, the side store, the newest's aside), packed bits for binary
 * observations, uniform sampling exactly as the one-step buffer drew it,
 * n-step windows (termination, truncation, the newest slot, the ring's
 * wrap, against a reference over random episodes), prioritized draws and
 * weights with hand values, the β schedule, save/load (and the version-1
 * format's conversion), and Seaquest's memory bound. */
#include "test_util.h"

#include "envs/env.h"
#include "train/limits.h"
#include "train/replay.h"

/* ------------------------------------------------------------------------ */
/* one-step storage                                                         */

/* Transition k: obs (k, -k), action k % 3, reward k/2, next obs (k+1, -(k+1)),
 * terminated when k % 4 == 1, truncated when k % 4 >= 2 (k % 4 == 3: both). */
static void add_k(replay *r, int k)
{
    float o[2] = {(float)k, (float)-k}, n[2] = {(float)(k + 1), (float)-(k + 1)};
    bdrl_err e;
    if (replay_add(r, o, k % 3, k / 2.0, n, k % 4 == 1 || k % 4 == 3, k % 4 >= 2, &e))
        fail_msg("%s", e.msg);
}

static void check_slot(const replay *r, int64_t i, int k)
{
    float o[2], n[2];
    replay_obs(r, i, o);
    replay_next_obs(r, i, n);
    assert_true(o[0] == (float)k && o[1] == (float)-k);
    assert_true(n[0] == (float)(k + 1) && n[1] == (float)-(k + 1));
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
    /* add_k chains its observations: nothing was set aside */
    assert_int_equal(r->side_top, 0);
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

/* ------------------------------------------------------------------------ */
/* random episodes, and a reference that stores every transition whole      */

/* Transitions in time order, (s, a, r, s', terminated, truncated) whole, as
 * the one-step buffer of 4a193a3 kept them. */
typedef struct {
    int n, D;
    float *obs, *next;
    int *action;
    float *reward;
    unsigned char *term, *trunc;
} history;

/* n transitions of episodes in a D-dimensional world: each episode ends
 * with probability 1/6 per step, by termination or truncation (a quarter
 * of the ends both), and the next starts from a fresh observation; the
 * observations are binary (0/1) or arbitrary floats. Every one is added to
 * r (if not NULL) and to h. */
static void play(history *h, replay *r, int n, int D, int binary, uint64_t seed)
{
    rng *g = rng_create(seed, RNG_STREAM_ENV);
    h->n = n;
    h->D = D;
    h->obs = malloc(sizeof(float) * (size_t)n * D);
    h->next = malloc(sizeof(float) * (size_t)n * D);
    h->action = malloc(sizeof(int) * (size_t)n);
    h->reward = malloc(sizeof(float) * (size_t)n);
    h->term = malloc((size_t)n);
    h->trunc = malloc((size_t)n);
    float cur[64];
    for (int c = 0; c < D; c++)
        cur[c] = binary ? (float)rng_below(g, 2) : (float)(rng_uniform(g) - 0.5);
    for (int t = 0; t < n; t++) {
        float *o = h->obs + (size_t)t * D, *x = h->next + (size_t)t * D;
        memcpy(o, cur, sizeof(float) * (size_t)D);
        for (int c = 0; c < D; c++)
            x[c] = binary ? (float)rng_below(g, 2) : (float)(rng_uniform(g) - 0.5);
        h->action[t] = (int)rng_below(g, 4);
        h->reward[t] = (float)(rng_uniform(g) * 4 - 1);
        int end = rng_below(g, 6) == 0, kind = (int)rng_below(g, 4);
        h->term[t] = end && kind != 1;
        h->trunc[t] = end && kind >= 1 && kind != 2; /* kind 3: both */
        if (r) {
            bdrl_err e;
            if (replay_add(r, o, h->action[t], h->reward[t], x, h->term[t], h->trunc[t], &e))
                fail_msg("%s", e.msg);
        }
        if (end)
            for (int c = 0; c < D; c++)
                cur[c] = binary ? (float)rng_below(g, 2) : (float)(rng_uniform(g) - 0.5);
        else
            memcpy(cur, x, sizeof(float) * (size_t)D);
    }
    rng_free(g);
}

static void history_free(history *h)
{
    free(h->obs), free(h->next), free(h->action), free(h->reward), free(h->term), free(h->trunc);
}

/* The slot of transition t once n were added to a ring of capacity C. */
static int64_t slot_of(int t, int64_t C) { return t % C; }

/* Every filled slot's observation and next observation against the
 * history, bit for bit; and the side store holds exactly one entry per
 * slot (not the newest) whose next observation is not its successor's. */
static void check_against(const replay *r, const history *h)
{
    const int D = h->D, first = h->n > r->capacity ? h->n - (int)r->capacity : 0;
    float o[64], x[64];
    int64_t live = 0, want_live = 0;
    for (int t = first; t < h->n; t++) {
        int64_t i = slot_of(t, r->capacity);
        replay_obs(r, i, o);
        replay_next_obs(r, i, x);
        assert_memory_equal(o, h->obs + (size_t)t * D, sizeof(float) * (size_t)D);
        assert_memory_equal(x, h->next + (size_t)t * D, sizeof(float) * (size_t)D);
        assert_int_equal(r->action[i], h->action[t]);
        assert_true(r->reward[i] == h->reward[t]);
        live += r->aside[i] >= 0;
        want_live += t + 1 < h->n && memcmp(h->next + (size_t)t * D, h->obs + (size_t)(t + 1) * D,
                                            sizeof(float) * (size_t)D) != 0;
    }
    assert_int_equal(live, want_live);
    /* entries of overwritten slots were released and reused */
    assert_int_equal(r->side_top - r->n_free, live);
    assert_true(r->side_cap <= r->capacity);
}

/* Each observation once: 3000 transitions of short episodes through a ring
 * of 500, float and binary, every slot's next observation as it was given,
 * the side store one entry per episode end in the buffer. */
static void test_each_observation_once(void **state)
{
    (void)state;
    for (int binary = 0; binary <= 1; binary++) {
        bdrl_err e;
        replay_spec s = {.capacity = 500, .obs_dim = 13, .binary = binary, .n_step = 1, .gamma = 0.9};
        replay *r = replay_create_spec(&s, &e);
        assert_non_null(r);
        assert_int_equal(r->obs_bytes, binary ? 2 : 13 * sizeof(float));
        history h;
        play(&h, r, 3000, 13, binary, 7 + (uint64_t)binary);
        check_against(r, &h);
        print_message("%s: %d of 500 slots' next observations set aside, side store of %d\n",
                      binary ? "bits" : "floats", r->side_top - r->n_free, r->side_cap);
        /* far less than a second copy of every observation */
        assert_true(r->side_cap < 250);
        history_free(&h);
        replay_free(r);
    }
}

/* Binary observations: packed, unpacked to exactly 0.0f / 1.0f, and a
 * value other than 0 or 1 (-0.0f included) refused with nothing changed. */
static void test_binary_refuses_other_values(void **state)
{
    (void)state;
    bdrl_err e;
    replay_spec s = {.capacity = 4, .obs_dim = 10, .binary = 1, .n_step = 1, .gamma = 1};
    replay *r = replay_create_spec(&s, &e);
    float o[10] = {1, 0, 0, 1, 1, 1, 0, 0, 0, 1}, x[10] = {0, 1, 0, 0, 0, 0, 0, 0, 1, 1}, y[10];
    assert_int_equal(replay_add(r, o, 1, 0.5, x, 0, 0, &e), 0);
    /* bits 0, 3, 4, 5 of byte 0 and bit 1 of byte 1 */
    assert_int_equal(r->obs[0], 0x39);
    assert_int_equal(r->obs[1], 0x02);
    float bad[10];
    memcpy(bad, x, sizeof bad);
    bad[7] = 0.5f;
    assert_int_equal(replay_add(r, bad, 0, 0, o, 0, 0, &e), -1);
    assert_contains(e.msg, "observation component 7 is 0.5");
    bad[7] = -0.0f;
    assert_int_equal(replay_add(r, o, 0, 0, bad, 0, 0, &e), -1);
    assert_contains(e.msg, "next observation component 7 is -0");
    assert_int_equal(r->size, 1);
    replay_next_obs(r, 0, y);
    assert_memory_equal(y, x, sizeof y);
    replay_obs(r, 0, y);
    assert_memory_equal(y, o, sizeof y);
    replay_free(r);
}

/* ------------------------------------------------------------------------ */
/* N = 1 is the one-step buffer                                             */

/* With agent.n_step 1 and no priorities, every batch row is the stored
 * transition whole, the view hands no discount, weight or sample_loss,
 * and the generator drew exactly one rng_below(size) per row. */
static void test_one_step_is_the_old_buffer(void **state)
{
    (void)state;
    bdrl_err e;
    const int D = 5, B = 48;
    replay_spec s = {.capacity = 300, .obs_dim = D, .n_step = 1, .gamma = 0.99};
    replay *r = replay_create_spec(&s, &e);
    history h;
    play(&h, r, 1000, D, 0, 21);
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, B, D, &e), 0);
    rng *g = rng_create(5, RNG_STREAM_REPLAY), *ref = rng_create(5, RNG_STREAM_REPLAY);
    for (int round = 0; round < 20; round++) {
        replay_sample(r, g, B, &b);
        agent_batch v = replay_batch_view(&b, NULL);
        assert_null(v.discount);
        assert_null(v.weight);
        assert_null(v.sample_loss);
        for (int k = 0; k < B; k++) {
            int64_t i = (int64_t)rng_below(ref, 300);
            assert_int_equal(b.index[k], i);
            int t = 700; /* the transition in slot i: one of the last 300 */
            while (slot_of(t, 300) != i)
                t++;
            assert_memory_equal(b.obs + (size_t)k * D, h.obs + (size_t)t * D, sizeof(float) * D);
            assert_memory_equal(b.next_obs + (size_t)k * D, h.next + (size_t)t * D, sizeof(float) * D);
            assert_int_equal(b.action[k], h.action[t]);
            assert_true(b.reward[k] == h.reward[t]);
            assert_int_equal(b.terminated[k], h.term[t]);
            assert_int_equal(b.truncated[k], h.trunc[t]);
            assert_true(b.discount[k] == 0.99);
            assert_int_equal(b.steps[k], 1);
        }
    }
    /* the two generators are in the same state */
    assert_int_equal(rng_below(g, 1u << 30), rng_below(ref, 1u << 30));
    rng_free(g);
    rng_free(ref);
    replay_batch_free(&b);
    history_free(&h);
    replay_free(r);
}

/* ------------------------------------------------------------------------ */
/* n-step windows                                                           */

/* Adds (obs {t}, action t, reward rew, next {nx}) to r. */
static void add1(replay *r, float obs, double rew, float nx, int term, int trunc)
{
    bdrl_err e;
    float o[1] = {obs}, n[1] = {nx};
    if (replay_add(r, o, (int)obs, rew, n, term, trunc, &e))
        fail_msg("%s", e.msg);
}

/* A one-row batch whose draw landed on slot i: draws until one does, so
 * the row comes through replay_sample itself. */
static void draw_slot(const replay *r, int64_t i, replay_batch *b)
{
    rng *g = rng_create(1, RNG_STREAM_REPLAY);
    for (int tries = 0; tries < 100000; tries++) {
        replay_sample(r, g, 1, b);
        if (b->index[0] == i) {
            rng_free(g);
            return;
        }
    }
    fail_msg("slot %lld never drawn", (long long)i);
}

static void expect_row(const replay_batch *b, double R, double disc, int m, float next, int term, int trunc)
{
    if (!(b->reward[0] == (float)R && b->discount[0] == disc && b->steps[0] == m && b->next_obs[0] == next &&
          b->terminated[0] == term && b->truncated[0] == trunc))
        fail_msg("slot %lld: R %g disc %g m %d next %g term %d trunc %d; want %g %g %d %g %d %d",
                 (long long)b->index[0], (double)b->reward[0], b->discount[0], b->steps[0], (double)b->next_obs[0],
                 b->terminated[0], b->truncated[0], R, disc, m, (double)next, term, trunc);
}

/* γ = 0.5, rewards 1, 2, 4, 8, ...: every sum and power exact.
 *   episode A: t0 (0 -> 1, r 1), t1 (1 -> 2, r 2), t2 (2 -> 3, r 4, terminated)
 *   episode B: t3 (10 -> 11, r 8), t4 (11 -> 12, r 16, truncated: final obs 12)
 *   episode C: t5 (20 -> 21, r 32), t6 (21 -> 22, r 64), the newest. */
static void test_nstep_hand_windows(void **state)
{
    (void)state;
    bdrl_err e;
    replay_spec s = {.capacity = 16, .obs_dim = 1, .n_step = 3, .gamma = 0.5};
    replay *r = replay_create_spec(&s, &e);
    add1(r, 0, 1, 1, 0, 0);
    add1(r, 1, 2, 2, 0, 0);
    add1(r, 2, 4, 3, 1, 0);
    add1(r, 10, 8, 11, 0, 0);
    add1(r, 11, 16, 12, 0, 1);
    add1(r, 20, 32, 21, 0, 0);
    add1(r, 21, 64, 22, 0, 0);
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, 1, 1, &e), 0);
    /* a termination inside: 1 + 0.5 x 2 + 0.25 x 4, terminated */
    draw_slot(r, 0, &b);
    expect_row(&b, 3, 0.125, 3, 3, 1, 0);
    assert_true(b.obs[0] == 0 && b.action[0] == 0);
    /* a termination at the window's second step */
    draw_slot(r, 1, &b);
    expect_row(&b, 4, 0.25, 2, 3, 1, 0);
    /* the termination itself: one step */
    draw_slot(r, 2, &b);
    expect_row(&b, 4, 0.5, 1, 3, 1, 0);
    /* a truncation inside: 8 + 0.5 x 16, bootstrap from its final obs 12
     * (the side store), not from episode C's first obs 20 */
    draw_slot(r, 3, &b);
    expect_row(&b, 16, 0.25, 2, 12, 0, 1);
    /* at the newest slot: 32 + 0.5 x 64, bootstrap from its next obs */
    draw_slot(r, 5, &b);
    expect_row(&b, 64, 0.25, 2, 22, 0, 0);
    draw_slot(r, 6, &b);
    expect_row(&b, 64, 0.5, 1, 22, 0, 0);
    agent_batch v = replay_batch_view(&b, NULL);
    assert_ptr_equal(v.discount, b.discount);
    assert_null(v.weight);
    /* the window at slot 5 grows when the episode goes on: full N = 3 */
    add1(r, 22, 128, 23, 0, 0);
    draw_slot(r, 5, &b);
    expect_row(&b, 32 + 32 + 32, 0.125, 3, 23, 0, 0);
    /* a caller whose next transition does not continue from the last one's
     * next observation, with no end flagged: the window stops there, and
     * bootstraps from the observation it was given */
    add1(r, 30, 256, 31, 0, 0);
    add1(r, 40, 512, 41, 0, 0);
    add1(r, 41, 1024, 42, 0, 0);
    draw_slot(r, 8, &b);
    expect_row(&b, 256, 0.5, 1, 31, 0, 0);
    draw_slot(r, 9, &b);
    expect_row(&b, 512 + 512, 0.25, 2, 42, 0, 0);
    /* episodes that start where the last one ended (a one-state world):
     * the flags alone end the window, not a change of observation */
    add1(r, 50, 1, 51, 0, 1);
    add1(r, 51, 2, 52, 1, 0);
    add1(r, 52, 4, 53, 0, 0);
    add1(r, 53, 8, 54, 0, 0);
    draw_slot(r, 11, &b);
    expect_row(&b, 1, 0.5, 1, 51, 0, 1);
    draw_slot(r, 12, &b);
    expect_row(&b, 2, 0.5, 1, 52, 1, 0);
    assert_true(r->aside[11] < 0 && r->aside[12] < 0); /* nothing set aside for them */
    /* N = 5 stops at the termination all the same */
    replay_spec s5 = s;
    s5.n_step = 5;
    replay *r5 = replay_create_spec(&s5, &e);
    add1(r5, 0, 1, 1, 0, 0);
    add1(r5, 1, 2, 2, 0, 0);
    add1(r5, 2, 4, 3, 1, 0);
    add1(r5, 10, 8, 11, 0, 0);
    draw_slot(r5, 0, &b);
    expect_row(&b, 3, 0.125, 3, 3, 1, 0);
    replay_free(r5);
    replay_batch_free(&b);
    replay_free(r);
}

/* The ring's wrap: one long episode t0..t6 into 5 slots leaves t5, t6 in
 * slots 0, 1 and t2, t3, t4 in slots 2, 3, 4. A window at t3 runs through
 * slots 3, 4, 0 (consecutive in time); the newest, t6 in slot 1, is
 * followed in the ring by the oldest, t2 in slot 2: a window there stops. */
static void test_nstep_across_the_wrap(void **state)
{
    (void)state;
    bdrl_err e;
    replay_spec s = {.capacity = 5, .obs_dim = 1, .n_step = 3, .gamma = 0.5};
    replay *r = replay_create_spec(&s, &e);
    for (int t = 0; t < 7; t++)
        add1(r, (float)t, 1 << t, (float)(t + 1), 0, 0);
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, 1, 1, &e), 0);
    draw_slot(r, 3, &b); /* t3: 8 + 0.5 x 16 + 0.25 x 32 */
    expect_row(&b, 24, 0.125, 3, 6, 0, 0);
    draw_slot(r, 4, &b); /* t4, t5, t6 */
    expect_row(&b, 16 + 16 + 16, 0.125, 3, 7, 0, 0);
    draw_slot(r, 0, &b); /* t5, then the newest t6 */
    expect_row(&b, 32 + 32, 0.25, 2, 7, 0, 0);
    draw_slot(r, 1, &b); /* the newest alone, never t2 after it */
    expect_row(&b, 64, 0.5, 1, 7, 0, 0);
    draw_slot(r, 2, &b); /* the oldest, t2, t3, t4 */
    expect_row(&b, 4 + 4 + 4, 0.125, 3, 5, 0, 0);
    replay_batch_free(&b);
    replay_free(r);
}

/* Random episodes through a ring of 200, N = 4, γ = 0.9: every row of
 * every batch against the rule computed over the whole history (time
 * order, no ring). */
static void test_nstep_against_reference(void **state)
{
    (void)state;
    bdrl_err e;
    const int C = 200, D = 3, N = 4, B = 64, n = 1234;
    const double gam = 0.9;
    replay_spec s = {.capacity = C, .obs_dim = D, .n_step = N, .gamma = gam};
    replay *r = replay_create_spec(&s, &e);
    history h;
    play(&h, r, n, D, 0, 99);
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, B, D, &e), 0);
    rng *g = rng_create(2, RNG_STREAM_REPLAY);
    int lengths[5] = {0};
    for (int round = 0; round < 40; round++) {
        replay_sample(r, g, B, &b);
        for (int k = 0; k < B; k++) {
            int t = n - C;
            while (slot_of(t, C) != b.index[k])
                t++;
            double R = 0, d = 1;
            int m = 0, u = t;
            for (;;) {
                R += d * (double)h.reward[u];
                d *= gam;
                m++;
                if (m == N || h.term[u] || h.trunc[u] || u == n - 1)
                    break;
                u++;
            }
            assert_true(b.reward[k] == (float)R);
            assert_true(b.discount[k] == d);
            assert_int_equal(b.steps[k], m);
            assert_int_equal(b.terminated[k], h.term[u]);
            assert_int_equal(b.truncated[k], h.trunc[u]);
            assert_memory_equal(b.obs + (size_t)k * D, h.obs + (size_t)t * D, sizeof(float) * D);
            assert_memory_equal(b.next_obs + (size_t)k * D, h.next + (size_t)u * D, sizeof(float) * D);
            assert_int_equal(b.action[k], h.action[t]);
            lengths[m]++;
        }
    }
    print_message("window lengths 1..4: %d %d %d %d\n", lengths[1], lengths[2], lengths[3], lengths[4]);
    assert_true(lengths[1] > 0 && lengths[2] > 0 && lengths[3] > 0 && lengths[4] > 0);
    rng_free(g);
    replay_batch_free(&b);
    history_free(&h);
    replay_free(r);
}

/* ------------------------------------------------------------------------ */
/* prioritized replay                                                       */

static replay *prioritized(int64_t capacity, double alpha, double eps)
{
    bdrl_err e;
    replay_spec s = {.capacity = capacity, .obs_dim = 1, .n_step = 1, .gamma = 0.9, .prioritized = 1,
                     .alpha = alpha, .eps = eps};
    replay *r = replay_create_spec(&s, &e);
    assert_non_null(r);
    return r;
}

/* Sets slot i's priority from loss[i] for every i < n through a batch
 * naming those slots. */
static int set_losses(replay *r, int n, const double *loss, bdrl_err *e)
{
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, n, 1, e), 0);
    for (int i = 0; i < n; i++)
        b.index[i] = i;
    b.B = n;
    int rc = replay_update_priorities(r, &b, loss, e);
    replay_batch_free(&b);
    return rc;
}

/* p = (loss + eps)^α with α = 0.5, eps = 1: losses 3, 8, 0 and -1 (counts
 * as 0) give 2, 3, 1, 1; new transitions enter at the largest p so far. */
static void test_priorities_from_losses(void **state)
{
    (void)state;
    bdrl_err e;
    replay *r = prioritized(8, 0.5, 1);
    for (int t = 0; t < 4; t++)
        add1(r, (float)t, 0, (float)t + 1, 0, 0);
    /* new ones: 1 at the start */
    for (int i = 0; i < 4; i++)
        assert_true(sumtree_get(r->tree, i) == 1);
    const double loss[4] = {3, 8, 0, -1};
    assert_int_equal(set_losses(r, 4, loss, &e), 0);
    const double want[4] = {2, 3, 1, 1};
    for (int i = 0; i < 4; i++)
        assert_true(sumtree_get(r->tree, i) == want[i]);
    assert_true(sumtree_total(r->tree) == 7);
    assert_true(r->max_priority == 3);
    add1(r, 4, 0, 5, 0, 0);
    assert_true(sumtree_get(r->tree, 4) == 3);
    /* a smaller loss does not lower the largest */
    const double small[1] = {0};
    assert_int_equal(set_losses(r, 1, small, &e), 0);
    assert_true(r->max_priority == 3 && sumtree_get(r->tree, 0) == 1);
    /* a non-finite loss changes nothing */
    const double bad[2] = {15, NAN};
    assert_int_equal(set_losses(r, 2, bad, &e), -1);
    assert_contains(e.msg, "row 1's loss nan");
    assert_true(sumtree_get(r->tree, 0) == 1 && r->max_priority == 3);
    /* an overwritten slot enters at the largest again */
    for (int t = 5; t < 9; t++)
        add1(r, (float)t, 0, (float)t + 1, 0, 0);
    assert_true(sumtree_get(r->tree, 0) == 3);
    replay_free(r);
}

/* Priorities 2, 2, 4, 8 (α = 1, eps = 0) and B = 8: segments of 2 of the
 * total 16 land on slots 0, 1, 2, 2, 3, 3, 3, 3 whatever the uniform draw
 * in each. P = 1/8, 1/8, 1/4, 1/2, N = 4: (N P)^-β over the batch's largest
 * (slot 0's) is (P_0 / P_i)^β: 1, 1, 2^-β, 2^-β, 4^-β x 4. */
static void test_stratified_draws_and_weights(void **state)
{
    (void)state;
    bdrl_err e;
    replay *r = prioritized(4, 1, 0);
    for (int t = 0; t < 4; t++)
        add1(r, (float)t, 0, (float)t + 1, 0, 0);
    const double loss[4] = {2, 2, 4, 8};
    assert_int_equal(set_losses(r, 4, loss, &e), 0);
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, 8, 1, &e), 0);
    rng *g = rng_create(8, RNG_STREAM_REPLAY);
    const int64_t slots[8] = {0, 1, 2, 2, 3, 3, 3, 3};
    const double betas[3] = {0.5, 1, 0};
    const double w[3][8] = {{1, 1, 0.70710678118654752, 0.70710678118654752, 0.5, 0.5, 0.5, 0.5},
                            {1, 1, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25},
                            {1, 1, 1, 1, 1, 1, 1, 1}};
    for (int c = 0; c < 3; c++)
        for (int round = 0; round < 5; round++) {
            assert_int_equal(replay_sample_prioritized(r, g, 8, betas[c], &b, &e), 0);
            for (int k = 0; k < 8; k++) {
                assert_int_equal(b.index[k], slots[k]);
                assert_true(b.weight[k] == (float)w[c][k]);
                assert_true(b.obs[k] == (float)slots[k]);
            }
        }
    agent_batch v = replay_batch_view(&b, NULL);
    assert_ptr_equal(v.weight, b.weight);
    assert_ptr_equal(v.sample_loss, b.sample_loss);
    assert_null(v.discount); /* N = 1 */
    /* every priority 0 (eps 0, losses 0): refused, not a draw from nothing */
    const double zero[4] = {0, 0, 0, 0};
    assert_int_equal(set_losses(r, 4, zero, &e), 0);
    assert_int_equal(replay_sample_prioritized(r, g, 8, 0.5, &b, &e), -1);
    assert_contains(e.msg, "set replay.eps > 0");
    rng_free(g);
    replay_batch_free(&b);
    replay_free(r);
}

/* Draws proportional to the priorities: with B = 1 the one segment is the
 * whole total; over 6 slots with p 1..6 (chi-square), and a slot of p 0
 * (eps 0) never drawn. */
static void test_prioritized_frequencies(void **state)
{
    (void)state;
    bdrl_err e;
    replay *r = prioritized(7, 1, 0);
    for (int t = 0; t < 7; t++)
        add1(r, (float)t, 0, (float)t + 1, 0, 0);
    const double loss[7] = {1, 2, 3, 0, 4, 5, 6};
    assert_int_equal(set_losses(r, 7, loss, &e), 0);
    replay_batch b;
    assert_int_equal(replay_batch_create(&b, 16, 1, &e), 0);
    rng *g = rng_create(12, RNG_STREAM_REPLAY);
    long count[7] = {0};
    const int draws = 42000;
    for (int k = 0; k < draws; k++) {
        assert_int_equal(replay_sample_prioritized(r, g, 1, 0.4, &b, &e), 0);
        count[b.index[0]]++;
        assert_true(b.weight[0] == 1); /* one row: its own largest */
    }
    double chi2 = 0;
    for (int i = 0; i < 7; i++) {
        if (loss[i] == 0) {
            assert_int_equal(count[i], 0);
            continue;
        }
        double ex = draws * loss[i] / 21.0;
        chi2 += (count[i] - ex) * (count[i] - ex) / ex;
    }
    /* 5 degrees of freedom: P(chi2 > 20.5) = 0.001 */
    print_message("prioritized draws: chi2 = %.2f (5 dof)\n", chi2);
    assert_true(chi2 < 20.5);
    /* B = 16 segments: the same law overall */
    memset(count, 0, sizeof count);
    for (int k = 0; k < draws / 16; k++) {
        assert_int_equal(replay_sample_prioritized(r, g, 16, 0.4, &b, &e), 0);
        for (int j = 0; j < 16; j++)
            count[b.index[j]]++;
    }
    chi2 = 0;
    for (int i = 0; i < 7; i++)
        if (loss[i] > 0) {
            double ex = (draws / 16 * 16) * loss[i] / 21.0;
            chi2 += (count[i] - ex) * (count[i] - ex) / ex;
        }
    print_message("stratified draws: chi2 = %.2f (5 dof)\n", chi2);
    assert_true(chi2 < 20.5);
    rng_free(g);
    replay_batch_free(&b);
    replay_free(r);
}

static void test_beta_schedule(void **state)
{
    (void)state;
    assert_true(replay_beta(0.4, 1000, 0) == 0.4);
    assert_true(fabs(replay_beta(0.4, 1000, 250) - 0.55) < 1e-15);
    assert_true(fabs(replay_beta(0.4, 1000, 500) - 0.7) < 1e-15);
    assert_true(replay_beta(0.4, 1000, 1000) == 1);
    assert_true(replay_beta(0.4, 1000, 5000) == 1);
    assert_true(replay_beta(1, 1000, 3) == 1);
    assert_true(replay_beta(0, 4, 1) == 0.25);
}

/* ------------------------------------------------------------------------ */
/* save / load                                                              */

/* Bytes of replay_save(r). */
static char *saved(const replay *r, size_t *len)
{
    char *mem = NULL;
    FILE *f = open_memstream(&mem, len);
    bdrl_err e;
    assert_int_equal(replay_save(r, f, &e), 0);
    fclose(f);
    return mem;
}

static int load_bytes(replay *r, const char *b, size_t len, bdrl_err *e)
{
    FILE *f = fmemopen((void *)b, len, "rb");
    int rc = replay_load(r, f, e);
    fclose(f);
    return rc;
}

/* A binary, prioritized, 3-step replay that wrapped, with a side store and
 * priorities: load, then save again gives the same bytes; the tree is the
 * same bit for bit; batches drawn from both are the same. */
static void test_save_load_round_trip(void **state)
{
    (void)state;
    bdrl_err e;
    replay_spec s = {.capacity = 300, .obs_dim = 21, .binary = 1, .n_step = 3, .gamma = 0.9, .prioritized = 1,
                     .alpha = 0.6, .eps = 0.01};
    replay *r = replay_create_spec(&s, &e), *q = replay_create_spec(&s, &e);
    history h;
    play(&h, r, 700, 21, 1, 5);
    double loss[40];
    for (int i = 0; i < 40; i++)
        loss[i] = 0.1 * i;
    assert_int_equal(set_losses(r, 40, loss, &e), 0);
    size_t n1, n2;
    char *b1 = saved(r, &n1);
    assert_int_equal(load_bytes(q, b1, n1, &e), 0);
    char *b2 = saved(q, &n2);
    assert_true(n1 == n2 && !memcmp(b1, b2, n1));
    assert_memory_equal(r->tree->node, q->tree->node, 2 * (size_t)r->tree->leaves * sizeof(double));
    assert_true(r->max_priority == q->max_priority);
    check_against(q, &h);
    replay_batch x, y;
    assert_int_equal(replay_batch_create(&x, 32, 21, &e), 0);
    assert_int_equal(replay_batch_create(&y, 32, 21, &e), 0);
    rng *g1 = rng_create(3, RNG_STREAM_REPLAY), *g2 = rng_create(3, RNG_STREAM_REPLAY);
    assert_int_equal(replay_sample_prioritized(r, g1, 32, 0.5, &x, &e), 0);
    assert_int_equal(replay_sample_prioritized(q, g2, 32, 0.5, &y, &e), 0);
    assert_memory_equal(x.index, y.index, 32 * sizeof(int64_t));
    assert_memory_equal(x.next_obs, y.next_obs, 32 * 21 * sizeof(float));
    assert_memory_equal(x.reward, y.reward, 32 * sizeof(float));
    assert_memory_equal(x.weight, y.weight, 32 * sizeof(float));
    /* and adding to both keeps them equal (the side store's free entries
     * differ in layout, not in what they hold) */
    float o[21] = {0}, n[21] = {1};
    assert_int_equal(replay_add(r, o, 1, 1, n, 1, 0, &e), 0);
    assert_int_equal(replay_add(q, o, 1, 1, n, 1, 0, &e), 0);
    free(b1);
    free(b2);
    b1 = saved(r, &n1);
    b2 = saved(q, &n2);
    assert_true(n1 == n2 && !memcmp(b1, b2, n1));
    /* a damaged copy: refused, the buffer unchanged */
    b2[n2 / 3] ^= 0x04;
    assert_int_equal(load_bytes(q, b2, n2, &e), -1);
    assert_contains(e.msg, "corrupted");
    char *b3 = saved(q, &n2);
    assert_true(n1 == n2 && !memcmp(b1, b3, n1));
    /* another layout: refused naming it */
    replay_spec u = s;
    u.binary = 0;
    replay *f = replay_create_spec(&u, &e);
    assert_int_equal(load_bytes(f, b1, n1, &e), -1);
    assert_contains(e.msg, "as bits, this run's as floats");
    u.binary = 1;
    u.prioritized = 0;
    replay *un = replay_create_spec(&u, &e);
    assert_int_equal(load_bytes(un, b1, n1, &e), -1);
    assert_contains(e.msg, "replay.prioritized changed?");
    replay *t = replay_create(301, 21, &e);
    assert_int_equal(load_bytes(t, b1, n1, &e), -1);
    assert_contains(e.msg, "holds 300 transitions");
    free(b1), free(b2), free(b3);
    rng_free(g1), rng_free(g2);
    replay_batch_free(&x), replay_batch_free(&y);
    history_free(&h);
    replay_free(r), replay_free(q), replay_free(f), replay_free(un), replay_free(t);
}

/* The format of bdrl up to 4a193a3 (version 1), written here from a
 * history as that buffer held it: (s, a, r, s', terminated, truncated)
 * whole, ring order. */
static char *v1_bytes(const history *h, int64_t C, size_t *len)
{
    const int D = h->D;
    const int64_t size = h->n < C ? h->n : C, pos = h->n % C;
    char *mem = NULL;
    FILE *f = open_memstream(&mem, len);
    float *obs = calloc((size_t)size * D, sizeof(float)), *nobs = calloc((size_t)size * D, sizeof(float));
    int32_t *act = calloc((size_t)size, 4);
    float *rew = calloc((size_t)size, 4);
    unsigned char *te = calloc((size_t)size, 1), *tr = calloc((size_t)size, 1);
    for (int t = h->n > C ? h->n - (int)C : 0; t < h->n; t++) {
        int64_t i = t % C;
        memcpy(obs + i * D, h->obs + (size_t)t * D, sizeof(float) * D);
        memcpy(nobs + i * D, h->next + (size_t)t * D, sizeof(float) * D);
        act[i] = h->action[t], rew[i] = h->reward[t], te[i] = h->term[t], tr[i] = h->trunc[t];
    }
    uint32_t u[2] = {1, (uint32_t)D};
    int64_t c[4] = {C, size, pos, h->n};
    fwrite("BDRLRPL", 1, 8, f);
    fwrite(u, sizeof u, 1, f);
    fwrite(c, sizeof c, 1, f);
    fwrite(obs, sizeof(float), (size_t)size * D, f);
    fwrite(nobs, sizeof(float), (size_t)size * D, f);
    fwrite(act, 4, (size_t)size, f);
    fwrite(rew, 4, (size_t)size, f);
    fwrite(te, 1, (size_t)size, f);
    fwrite(tr, 1, (size_t)size, f);
    fclose(f);
    uint64_t hsh = tu_fnv1a(mem, *len);
    mem = realloc(mem, *len + 8);
    memcpy(mem + *len, &hsh, 8);
    *len += 8;
    free(obs), free(nobs), free(act), free(rew), free(te), free(tr);
    return mem;
}

/* An old run's replay loads into this layout: every slot as it was,
 * next observations included; one-step batches equal to the old buffer's;
 * binary observations packed, a prioritized replay at priority 1. */
static void test_loads_version_1(void **state)
{
    (void)state;
    bdrl_err e;
    for (int binary = 0; binary <= 1; binary++)
        for (int wrapped = 0; wrapped <= 1; wrapped++) {
            history h;
            const int64_t C = 256;
            play(&h, NULL, wrapped ? 600 : 200, 6, binary, 40 + (uint64_t)(2 * binary + wrapped));
            size_t len;
            char *b = v1_bytes(&h, C, &len);
            replay_spec s = {.capacity = C, .obs_dim = 6, .binary = binary, .n_step = 1, .gamma = 0.99,
                             .prioritized = wrapped, .alpha = 0.5, .eps = 1e-6};
            replay *r = replay_create_spec(&s, &e);
            if (load_bytes(r, b, len, &e))
                fail_msg("%s", e.msg);
            assert_int_equal(r->added, h.n);
            check_against(r, &h);
            if (wrapped) {
                assert_true(sumtree_total(r->tree) == (double)C && r->max_priority == 1);
            }
            /* and it continues like a buffer that was never saved */
            replay *fresh = replay_create_spec(&s, &e);
            history h2;
            play(&h2, NULL, h.n + 50, 6, binary, 40 + (uint64_t)(2 * binary + wrapped));
            for (int t = 0; t < h.n; t++)
                assert_int_equal(replay_add(fresh, h.obs + (size_t)t * 6, h.action[t], h.reward[t],
                                            h.next + (size_t)t * 6, h.term[t], h.trunc[t], &e), 0);
            for (int t = h.n; t < h2.n; t++) {
                assert_int_equal(replay_add(r, h2.obs + (size_t)t * 6, h2.action[t], h2.reward[t],
                                            h2.next + (size_t)t * 6, h2.term[t], h2.trunc[t], &e), 0);
                assert_int_equal(replay_add(fresh, h2.obs + (size_t)t * 6, h2.action[t], h2.reward[t],
                                            h2.next + (size_t)t * 6, h2.term[t], h2.trunc[t], &e), 0);
            }
            size_t n1, n2;
            char *s1 = saved(r, &n1), *s2 = saved(fresh, &n2);
            /* the same bytes (fresh's priorities are all still 1 too) */
            assert_true(n1 == n2);
            assert_memory_equal(s1, s2, n1);
            free(s1), free(s2);
            replay_free(fresh);
            history_free(&h2);
            /* a binary environment's old buffer with a value not 0 or 1 */
            if (binary) {
                h.obs[(size_t)(h.n - 1) * 6 + 3] = 0.5f; /* in the buffer, wrapped or not */
                free(b);
                b = v1_bytes(&h, C, &len);
                replay *q = replay_create_spec(&s, &e);
                assert_int_equal(load_bytes(q, b, len, &e), -1);
                assert_contains(e.msg, "not 0 or 1");
                replay_free(q);
            }
            free(b);
            history_free(&h);
            replay_free(r);
        }
}

/* ------------------------------------------------------------------------ */
/* memory                                                                   */

/* 100k transitions of minatar-seaquest (10 x 10 x 10 binary cells) under a
 * random policy, with prioritized replay: the whole replay within 20 MB
 * (floats for s and s' took 800 MB), the estimate the memory limit uses
 * within a factor 1.5 of it, and what was stored is what the game gave. */
static void test_seaquest_within_20mb(void **state)
{
    (void)state;
    bdrl_err e;
    exp_config cfg;
    char *sets[] = {"env.name=minatar-seaquest", "train.buffer_size=100000", "replay.prioritized=true",
                    "agent.n_step=3"};
    if (exp_load(&cfg, NULL, sets, 4, &e))
        fail_msg("%s", e.msg);
    env *en = env_create(&cfg.env, &e);
    assert_non_null(en);
    assert_int_equal(env_obs_dim(en), 1000);
    assert_int_equal(env_obs_is_binary(en), 1);
    env_config cp;
    env_config_defaults(&cp, "cartpole");
    env *other = env_create(&cp, &e);
    assert_int_equal(env_obs_is_binary(other), 0);
    env_free(other);
    replay_spec s;
    replay_spec_of(&s, &cfg, env_obs_dim(en), env_obs_is_binary(en));
    replay *r = replay_create_spec(&s, &e);
    assert_non_null(r);
    rng *g = rng_create(1, RNG_STREAM_EXPLORE);
    uint64_t seed = 3;
    float obs[1000], keep[4][1000], got[1000];
    const int64_t at[4] = {5, 777, 54321, 99999};
    memcpy(obs, env_reset(en, &seed), sizeof obs);
    int episodes = 0;
    for (int64_t t = 0; t < 100000; t++) {
        env_step st = env_do_step(en, (int)rng_below(g, (unsigned long)env_n_actions(en)));
        for (int k = 0; k < 4; k++)
            if (t == at[k])
                memcpy(keep[k], obs, sizeof obs);
        if (replay_add(r, obs, 0, st.reward, st.obs, st.terminated, st.truncated, &e))
            fail_msg("step %lld: %s", (long long)t, e.msg);
        if (st.terminated || st.truncated) {
            memcpy(obs, env_reset(en, NULL), sizeof obs);
            episodes++;
        } else {
            memcpy(obs, st.obs, sizeof obs);
        }
    }
    for (int k = 0; k < 4; k++) {
        replay_obs(r, at[k], got);
        assert_memory_equal(got, keep[k], sizeof got);
    }
    sizing_estimate est;
    limits_estimate_experiment(&cfg, en, &est);
    const double have = replay_bytes(r);
    print_message("seaquest: %d episodes; replay %.2f MB (estimate %.2f MB), %d observations set aside\n", episodes,
                  have / 1e6, est.replay / 1e6, r->side_top - r->n_free);
    assert_true(have <= 20e6);
    assert_true(est.replay <= 20e6);
    assert_true(est.replay == replay_estimate_bytes(&s));
    assert_true(est.replay >= have / 1.5 && est.replay <= have * 1.5);
    /* the checkpoint's replay section is about the replay, not 800 MB */
    size_t len;
    char *b = saved(r, &len);
    print_message("seaquest: replay section of a checkpoint %.2f MB\n", len / 1e6);
    assert_true((double)len <= have);
    free(b);
    rng_free(g);
    replay_free(r);
    env_free(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_around),
        cmocka_unit_test(test_terminated_vs_truncated),
        cmocka_unit_test(test_sampling_uniform_and_reproducible),
        cmocka_unit_test(test_each_observation_once),
        cmocka_unit_test(test_binary_refuses_other_values),
        cmocka_unit_test(test_one_step_is_the_old_buffer),
        cmocka_unit_test(test_nstep_hand_windows),
        cmocka_unit_test(test_nstep_across_the_wrap),
        cmocka_unit_test(test_nstep_against_reference),
        cmocka_unit_test(test_priorities_from_losses),
        cmocka_unit_test(test_stratified_draws_and_weights),
        cmocka_unit_test(test_prioritized_frequencies),
        cmocka_unit_test(test_beta_schedule),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_loads_version_1),
        cmocka_unit_test(test_seaquest_within_20mb),
    };
    return cmocka_run_group_tests_name("replay", tests, NULL, NULL);
}
