/* Tests of the checkpoint container (checkpoint.h): a round trip of every
 * section, the header's layout (what keeps older checkpoints readable), and
 * each refusal — truncated file, bad checksum, another configuration's
 * shape named by its key, another agent kind, a crafted header whose
 * checksum holds, a FIFO — leaving the agent as it was. */
#include "test_util.h"

#include "agents/agent.h"
#include "train/checkpoint.h"
#include "agents/experiment.h"
#include "agents/registry.h"
#include "train/replay.h"

#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    exp_config cfg;
    env *en;
    agent *a;
    replay *rb;
} fixture;

/* A small agent of the given kind on CartPole, plus extra settings. */
static void fx_make(fixture *f, const char *kind, uint64_t seed, const char *extra)
{
    char s_kind[64], s_seed[64];
    snprintf(s_kind, sizeof s_kind, "agent.kind=%s", kind);
    snprintf(s_seed, sizeof s_seed, "seed=%llu", (unsigned long long)seed);
    char *sets[] = {"env.name=cartpole", "agent.hidden=[8]", "train.batch_size=4", "train.buffer_size=50",
                    "c51.atoms=11", "bd.field=basis", "bd.basis=11", s_kind, s_seed, (char *)extra};
    int n = (int)(sizeof sets / sizeof *sets) - (extra ? 0 : 1);
    bdrl_err e;
    if (exp_load(&f->cfg, NULL, sets, n, &e))
        fail_msg("%s", e.msg);
    f->en = env_create(&f->cfg.env, &e);
    rng *init = rng_create(seed, RNG_STREAM_INIT);
    f->a = agent_create(&f->cfg, f->en, init, &e);
    rng_free(init);
    if (!f->a)
        fail_msg("%s", e.msg);
    f->rb = replay_create(f->cfg.train.buffer_size, 4, &e);
    assert_non_null(f->rb);
    for (int i = 0; i < 7; i++) {
        float o[4] = {0.1f * i, 0, 0, 0}, o2[4] = {0.1f * i + 0.05f, 0, 0, 0};
        assert_int_equal(replay_add(f->rb, o, i % 2, 1.0, o2, i == 6, 0, &e), 0);
    }
}

static void fx_free(fixture *f)
{
    agent_free(f->a);
    replay_free(f->rb);
    env_free(f->en);
}

static char *bytes_of_agent(agent *a, size_t *len)
{
    char *mem = NULL;
    FILE *m = open_memstream(&mem, len);
    bdrl_err e;
    assert_int_equal(a->ops->save(a, m, &e), 0);
    fclose(m);
    return mem;
}

static char *bytes_of_replay(const replay *rb, size_t *len)
{
    char *mem = NULL;
    FILE *m = open_memstream(&mem, len);
    bdrl_err e;
    assert_int_equal(replay_save(rb, m, &e), 0);
    fclose(m);
    return mem;
}

static void write_ckpt(const fixture *f, const char *path, int64_t step)
{
    bdrl_err e;
    if (ckpt_write(path, &f->cfg, f->a, f->rb, step, "trainer!", 8, &e))
        fail_msg("%s", e.msg);
}

/* Every registered kind: agent, replay and trainer bytes come back exactly. */
static void test_round_trip(void **state)
{
    (void)state;
    for (int k = 0; k < agent_kind_count(); k++) {
        fixture f, g;
        fx_make(&f, agent_kind_name(k), 3, NULL);
        fx_make(&g, agent_kind_name(k), 4, NULL); /* other initial weights */
        char path[512];
        snprintf(path, sizeof path, "%s/rt_%s.bin", tu_dir, agent_kind_name(k));
        write_ckpt(&f, path, 1234);
        ckpt_file c;
        bdrl_err e;
        if (ckpt_open(&c, path, g.a, &g.cfg, &e))
            fail_msg("%s", e.msg);
        assert_int_equal(c.step, 1234);
        replay *rb2 = replay_create(g.cfg.train.buffer_size, 4, &e);
        assert_int_equal(ckpt_load_agent(&c, g.a, &e), 0);
        assert_int_equal(ckpt_load_replay(&c, rb2, &e), 0);
        FILE *t = ckpt_trainer_stream(&c, &e);
        char tb[16];
        assert_int_equal(fread(tb, 1, sizeof tb, t), 8);
        assert_memory_equal(tb, "trainer!", 8);
        fclose(t);
        ckpt_close(&c);
        size_t n1, n2, r1, r2;
        char *a1 = bytes_of_agent(f.a, &n1), *a2 = bytes_of_agent(g.a, &n2);
        char *b1 = bytes_of_replay(f.rb, &r1), *b2 = bytes_of_replay(rb2, &r2);
        assert_true(n1 == n2 && !memcmp(a1, a2, n1));
        assert_true(r1 == r2 && !memcmp(b1, b2, r1));
        /* the conveniences agree */
        int64_t step = 0;
        assert_int_equal(ckpt_read_agent(path, NULL, g.a, &step, &e), 0);
        assert_int_equal(step, 1234);
        replay *rb3;
        assert_int_equal(ckpt_read_replay(path, &g.cfg, g.a, &rb3, &e), 0);
        replay_free(rb3);
        free(a1), free(a2), free(b1), free(b2);
        replay_free(rb2);
        fx_free(&f);
        fx_free(&g);
    }
}

/* The header (formats 2 and 3 alike), byte for byte where it matters: checkpoints written
 * before the registry have the same words at the same places. */
static void test_header_layout(void **state)
{
    (void)state;
    fixture f;
    fx_make(&f, "c51", 3, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/layout.bin", tu_dir);
    write_ckpt(&f, path, 77);
    size_t len = 0;
    char *b = tu_read_len(path, &len);
    assert_non_null(b);
    uint32_t w[2 + 27];
    assert_memory_equal(b, "BDRLCKPT", 8);
    memcpy(w, b + 8, sizeof w);
    assert_int_equal(w[0], 3);     /* version */
    assert_int_equal(w[1], 168);   /* header bytes */
    uint32_t *sh = w + 2;
    assert_int_equal(sh[0], 1);    /* kind c51 = 1, as before the registry */
    assert_int_equal(sh[1], 4);    /* obs_dim */
    assert_int_equal(sh[2], 2);    /* actions */
    assert_int_equal(sh[3], 1);    /* agent.hidden count */
    assert_int_equal(sh[4], 8);    /* its width */
    assert_int_equal(sh[13], 11);  /* c51.atoms */
    assert_int_equal(sh[26], 4);   /* train.batch_size */
    int64_t buf, step;
    memcpy(&buf, b + 16 + 4 * 27 + 4, 8);
    memcpy(&step, b + 16 + 4 * 27 + 12, 8);
    assert_int_equal(buf, 50);
    assert_int_equal(step, 77);
    free(b);
    fx_free(&f);
    /* BD's keys in their old slots: bd.grid 14, bd.fourier_k 15, bd.head 16.., bd.queries 25 */
    fx_make(&f, "bd", 3, "bd.queries=5");
    write_ckpt(&f, path, 1);
    b = tu_read_len(path, &len);
    assert_non_null(b);
    memcpy(w, b + 8, sizeof w);
    assert_int_equal(sh[0], 0);
    assert_int_equal(sh[13], 0);
    assert_int_equal(sh[14], 64);
    assert_int_equal(sh[15], 16);
    assert_int_equal(sh[16], 2);
    assert_int_equal(sh[17], 64);
    assert_int_equal(sh[25], 5);
    free(b);
    fx_free(&f);
}

/* A refusal changes nothing and says why. */
static void expect_refused(fixture *g, const char *path, const exp_config *cfg, const char *why)
{
    size_t n1, n2;
    char *before = bytes_of_agent(g->a, &n1);
    bdrl_err e;
    assert_int_equal(ckpt_read_agent(path, cfg, g->a, NULL, &e), -1);
    if (!strstr(e.msg, why))
        fail_msg("expected '%s' in: %s", why, e.msg);
    assert_non_null(strstr(e.msg, path));
    char *after = bytes_of_agent(g->a, &n2);
    assert_true(n1 == n2 && !memcmp(before, after, n1));
    free(before);
    free(after);
}

static void test_truncated_and_corrupted(void **state)
{
    (void)state;
    fixture f, g;
    fx_make(&f, "c51", 3, NULL);
    fx_make(&g, "c51", 4, NULL);
    char path[512], bad[600];
    snprintf(path, sizeof path, "%s/good.bin", tu_dir);
    snprintf(bad, sizeof bad, "%s/bad.bin", tu_dir);
    write_ckpt(&f, path, 5);
    size_t len = 0;
    char *b = tu_read_len(path, &len);
    assert_non_null(b);
    tu_write_bytes(bad, b, len - 100);
    expect_refused(&g, bad, &g.cfg, "truncated");
    tu_write_bytes(bad, b, 100);
    expect_refused(&g, bad, &g.cfg, "truncated");
    b[400] ^= 0x10; /* inside the agent section */
    tu_write_bytes(bad, b, len);
    expect_refused(&g, bad, &g.cfg, "checksum mismatch");
    b[400] ^= 0x10;
    b[0] = 'X';
    tu_write_bytes(bad, b, len);
    expect_refused(&g, bad, &g.cfg, "bad magic");
    b[0] = 'B';
    b[8] = 1; /* version 1 */
    tu_write_bytes(bad, b, len);
    expect_refused(&g, bad, &g.cfg, "format version 1");
    free(b);
    fx_free(&f);
    fx_free(&g);
}

/* b with the 8 bytes at off set to v, re-signed, written to path. */
static void write_signed(const char *path, char *b, size_t len, size_t off, int64_t v)
{
    int64_t old;
    memcpy(&old, b + off, 8);
    memcpy(b + off, &v, 8);
    uint64_t h = tu_fnv1a(b, len - 8);
    memcpy(b + len - 8, &h, 8);
    tu_write_bytes(path, b, len);
    memcpy(b + off, &old, 8);
}

/* Headers with valid checksums but fields no run can write: each refused
 * with one line naming the field (the step 2^62 was accepted). */
static void test_crafted_header_ranges(void **state)
{
    (void)state;
    fixture f, g;
    fx_make(&f, "c51", 3, NULL);
    fx_make(&g, "c51", 4, NULL);
    char path[512], bad[600];
    snprintf(path, sizeof path, "%s/good.bin", tu_dir);
    snprintf(bad, sizeof bad, "%s/crafted.bin", tu_dir);
    write_ckpt(&f, path, 5);
    size_t len = 0;
    char *b = tu_read_len(path, &len);
    assert_non_null(b);
    const size_t off_buffer = 16 + 4 * 27 + 4, off_step = off_buffer + 8, off_sec = off_step + 8;
    write_signed(bad, b, len, off_step, (int64_t)1 << 62);
    expect_refused(&g, bad, &g.cfg, "step 4611686018427387904 is outside [0, 1000000000000]");
    write_signed(bad, b, len, off_step, -1);
    expect_refused(&g, bad, &g.cfg, "step -1 is outside");
    /* without a configuration (bdrl eval of a lone file) the buffer size
     * is still checked */
    write_signed(bad, b, len, off_buffer, 0);
    expect_refused(&g, bad, NULL, "train.buffer_size 0 is outside [1, 1000000000]");
    write_signed(bad, b, len, off_buffer, (int64_t)1 << 40);
    expect_refused(&g, bad, NULL, "train.buffer_size 1099511627776 is outside");
    /* the agent section's bytes moved to the replay's: sizes still add up */
    int64_t sec[2];
    memcpy(sec, b + off_sec, sizeof sec);
    memcpy(b + off_sec + 8, &(int64_t){sec[0] + sec[1]}, 8);
    write_signed(bad, b, len, off_sec, 0);
    expect_refused(&g, bad, &g.cfg, "empty agent section");
    free(b);
    fx_free(&f);
    fx_free(&g);
}

/* A FIFO named like a checkpoint is refused at once, never waited on (an
 * open for reading would block until a writer came). The alarm turns the
 * old behaviour into a failure instead of a hung test. */
static void test_fifo_refused(void **state)
{
    (void)state;
    fixture g;
    fx_make(&g, "c51", 4, NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/fifo.bin", tu_dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    alarm(10);
    expect_refused(&g, path, &g.cfg, "not a regular file");
    alarm(0);
    unlink(path);
    fx_free(&g);
}

/* Another configuration: the first key that differs is named with both
 * values; another kind is named with and without a configuration. */
static void test_wrong_shape_and_kind(void **state)
{
    (void)state;
    fixture f, g;
    char path[512];
    snprintf(path, sizeof path, "%s/shape.bin", tu_dir);
    fx_make(&f, "c51", 3, NULL);
    write_ckpt(&f, path, 5);
    fx_make(&g, "c51", 4, "c51.atoms=21");
    expect_refused(&g, path, &g.cfg, "c51.atoms is 11 in the checkpoint, 21 in the config");
    fx_free(&g);
    fx_make(&g, "c51", 4, "agent.hidden=[8, 8]");
    expect_refused(&g, path, &g.cfg, "agent.hidden is [8] in the checkpoint, [8, 8] in the config");
    fx_free(&g);
    fx_make(&g, "c51", 4, "train.buffer_size=60");
    expect_refused(&g, path, &g.cfg, "train.buffer_size is 50 in the checkpoint, 60 in the config");
    fx_free(&g);
    fx_make(&g, "dqn", 4, NULL);
    expect_refused(&g, path, &g.cfg, "agent.kind is c51 in the checkpoint, dqn in the config");
    expect_refused(&g, path, NULL, "checkpoint of a c51 agent");
    fx_free(&g);
    fx_free(&f);
    /* BD's own keys */
    fx_make(&f, "bd", 3, NULL);
    write_ckpt(&f, path, 5);
    fx_make(&g, "bd", 4, "bd.head=[32]");
    expect_refused(&g, path, &g.cfg, "bd.head is [64, 64] in the checkpoint, [32] in the config");
    fx_free(&g);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_header_layout),
        cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_wrong_shape_and_kind),
        cmocka_unit_test(test_crafted_header_ranges),
        cmocka_unit_test(test_fifo_refused),
    };
    return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}
