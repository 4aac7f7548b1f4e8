/* Tests of the convolutional torso (agent.conv, agent.conv_kernel) through
 * the agents, on a test-only image environment until the MinAtar games
 * land: "catch", a 5 x 4 image of 2 channels (the falling ball, the
 * paddle on the bottom row), 3 actions (left, stay, right), +1 for catching
 * the ball when it reaches the bottom row and -1 for missing it. It is
 * built by hand around a test env_class (env_impl.h), so the agents and the
 * checkpoint container see it through env.h exactly as they will see
 * MinAtar (env_obs_shape). Checked:
 *   - agent.conv on a non-image observation and kernels that leave nothing
 *     of the image are refused naming the key;
 *   - every registered agent builds with a conv front, makes finite
 *     updates, and its memory estimate covers what it allocates;
 *   - C51 with agent.conv [8] learns catch from random play (greedy catch
 *     rate from 25% to 90% and more), the whole network training through
 *     the conv front;
 *   - checkpoints: a round trip, and one of another conv shape refused
 *     naming agent.conv or agent.conv_kernel. */
#include "test_util.h"
#include "train_util.h"

#include <malloc.h>

#include "agents/agent.h"
#include "agents/c51.h"
#include "agents/experiment.h"
#include "agents/registry.h"
#include "envs/env_impl.h"
#include "train/checkpoint.h"
#include "train/limits.h"
#include "train/replay.h"

/* ---- the test-only image environment ---- */

enum { CH = 5, CW = 4, CC = 2, COBS = CH * CW * CC };
static struct {
    int by, bx, px; /* ball row and column, paddle column (one catch env at a time) */
} cs;

static void catch_obs(env *e)
{
    memset(e->obs, 0, sizeof(float) * COBS);
    e->obs[(cs.by * CW + cs.bx) * CC + 0] = 1;
    e->obs[((CH - 1) * CW + cs.px) * CC + 1] = 1;
}

static void catch_reset(env *e)
{
    cs.by = 0;
    cs.bx = (int)(rng_uniform(e->r) * CW);
    cs.px = (int)(rng_uniform(e->r) * CW);
    catch_obs(e);
}

static void catch_step(env *e, int action, env_step *out)
{
    cs.px += action - 1;
    cs.px = cs.px < 0 ? 0 : cs.px >= CW ? CW - 1 : cs.px;
    cs.by++;
    out->terminated = cs.by == CH - 1;
    out->reward = out->terminated ? (cs.px == cs.bx ? 1 : -1) : 0;
    catch_obs(e);
    out->obs = e->obs;
}

static int catch_success(const env *e, const env_step *st)
{
    (void)e;
    return st->reward > 0;
}

static const env_class catch_class = {
    .info = {.name = "catch", .summary = "test-only image env", .default_max_steps = 100},
    .reset = catch_reset,
    .step = catch_step,
    .success = catch_success,
};

static env *catch_env(void)
{
    _Static_assert(COBS <= ENV_OBS_MAX, "catch's image fits an observation");
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->cls = &catch_class;
    e->kind = -1;
    e->n_actions = 3;
    e->obs_dim = COBS;
    e->obs_h = CH;
    e->obs_w = CW;
    e->obs_c = CC;
    e->max_steps = 100;
    e->done = 1;
    e->r = rng_create(0, RNG_STREAM_ENV);
    return e;
}

/* ---- helpers ---- */

static int load_cfg(exp_config *cfg, const char *kind, char **extra, int n_extra, bdrl_err *e)
{
    char s_kind[64];
    snprintf(s_kind, sizeof s_kind, "agent.kind=%s", kind);
    /* env.name is required; the agents see the hand-built env passed to them */
    char *sets[16] = {"env.name=cartpole", "agent.hidden=[32]", "train.batch_size=32", "agent.v_min=-1",
                      "agent.v_max=1",     "agent.gamma=0.9",   "c51.atoms=11",        "bd.field=basis",
                      "bd.basis=11",       s_kind};
    int n = 10;
    for (int i = 0; i < n_extra; i++)
        sets[n++] = extra[i];
    return exp_load(cfg, NULL, sets, n, e);
}

static agent *make(exp_config *cfg, const env *en, const char *kind, char **extra, int n_extra, uint64_t seed)
{
    bdrl_err e;
    if (load_cfg(cfg, kind, extra, n_extra, &e))
        fail_msg("%s", e.msg);
    return tu_agent_seeded(cfg, en, seed, kind);
}

/* n transitions of uniformly random play. */
typedef struct {
    int n;
    float *obs, *next, *reward;
    int *action;
    unsigned char *term;
} transitions;

static void play_random(env *en, int n, uint64_t seed, transitions *t)
{
    t->n = n;
    t->obs = malloc(sizeof(float) * (size_t)n * COBS);
    t->next = malloc(sizeof(float) * (size_t)n * COBS);
    t->reward = malloc(sizeof(float) * (size_t)n);
    t->action = malloc(sizeof(int) * (size_t)n);
    t->term = malloc((size_t)n);
    rng *r = rng_create(seed, 5);
    uint64_t ep = seed;
    const float *o = env_reset(en, &ep);
    for (int i = 0; i < n; i++) {
        memcpy(t->obs + (size_t)i * COBS, o, sizeof(float) * COBS);
        t->action[i] = (int)(rng_uniform(r) * 3);
        env_step st = env_do_step(en, t->action[i]);
        memcpy(t->next + (size_t)i * COBS, st.obs, sizeof(float) * COBS);
        t->reward[i] = (float)st.reward;
        t->term[i] = (unsigned char)st.terminated;
        if (st.terminated || st.truncated) {
            ep++;
            o = env_reset(en, &ep);
        } else {
            o = st.obs;
        }
    }
    rng_free(r);
}

static void transitions_free(transitions *t)
{
    free(t->obs), free(t->next), free(t->reward), free(t->action), free(t->term);
}

/* A minibatch of B rows drawn from t into the buffers of bt. */
typedef struct {
    float obs[64 * COBS], next[64 * COBS], reward[64];
    int action[64];
    unsigned char term[64];
} batch_buf;

static agent_batch draw(const transitions *t, int B, rng *r, batch_buf *bb)
{
    for (int i = 0; i < B; i++) {
        int j = (int)(rng_uniform(r) * t->n);
        memcpy(bb->obs + (size_t)i * COBS, t->obs + (size_t)j * COBS, sizeof(float) * COBS);
        memcpy(bb->next + (size_t)i * COBS, t->next + (size_t)j * COBS, sizeof(float) * COBS);
        bb->reward[i] = t->reward[j];
        bb->action[i] = t->action[j];
        bb->term[i] = t->term[j];
    }
    agent_batch b = {B, bb->obs, bb->action, bb->reward, bb->next, bb->term, NULL, NULL, NULL, NULL};
    return b;
}

/* Share of n greedy episodes that catch the ball. */
static double greedy_catch_rate(agent *a, env *en, int n)
{
    int caught = 0;
    bdrl_err e;
    for (int k = 0; k < n; k++) {
        uint64_t seed = 1000 + (uint64_t)k;
        const float *o = env_reset(en, &seed);
        for (;;) {
            int act;
            assert_int_equal(agent_greedy(a, o, &act, &e), 0);
            env_step st = env_do_step(en, act);
            if (st.terminated || st.truncated) {
                caught += st.reward > 0;
                break;
            }
            o = st.obs;
        }
    }
    return (double)caught / n;
}

/* ---- tests ---- */

static void test_conv_refused_where_it_cannot_apply(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    char *conv[] = {"agent.conv=[16]", "env.name=cartpole"};
    assert_int_equal(load_cfg(&cfg, "c51", conv, 2, &e), 0);
    env *cp = env_create(&cfg.env, &e);
    int h, w, c;
    assert_int_equal(env_obs_shape(cp, &h, &w, &c), 0);
    rng *init = rng_create(1, RNG_STREAM_INIT);
    assert_null(agent_create(&cfg, cp, init, &e));
    assert_contains(e.msg, "agent.conv: the observation (4 numbers) is not an image");
    assert_null(strchr(e.msg, '\n'));
    env_free(cp);
    /* 2 layers of 3x3 kernels leave 1x0 of a 5x4 image */
    env *en = catch_env();
    assert_int_equal(env_obs_shape(en, &h, &w, &c), 1);
    assert_true(h == CH && w == CW && c == CC);
    char *big[] = {"agent.conv=[4, 4]", "agent.conv_kernel=3"};
    assert_int_equal(load_cfg(&cfg, "dqn", big, 2, &e), 0);
    assert_null(agent_create(&cfg, en, init, &e));
    assert_contains(e.msg, "agent.conv_kernel: 2 layers (agent.conv) of 3x3 kernels leave nothing of the 5x4");
    rng_free(init);
    env_free(en);
}

/* Every agent kind (BD with both field forms: the grid one runs its head
 * on its own, grouped, after the torso): built with a conv front (C51's
 * network checked in detail), finite updates that move the conv kernels,
 * and a memory estimate that covers the allocation (within a factor 2, as
 * test_bd_basis's). */
static void test_every_agent_builds_and_updates(void **state)
{
    (void)state;
    env *en = catch_env();
    transitions t;
    play_random(en, 200, 3, &t);
    rng *r = rng_create(4, 6);
    batch_buf bb;
    char *conv[] = {"agent.conv=[8]", "agent.conv_kernel=2", "bd.field=grid", "bd.queries=4"};
    for (int k = 0; k <= agent_kind_count(); k++) {
        int grid = k == agent_kind_count(); /* BD once more, with grid fields */
        const char *kind = grid ? "bd" : agent_kind_name(k);
        exp_config cfg;
        struct mallinfo2 m0 = mallinfo2();
        agent *a = make(&cfg, en, kind, conv, grid ? 4 : 2, 1);
        struct mallinfo2 m1 = mallinfo2();
        double used = (double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd);
        if (!strcmp(kind, "c51")) {
            const mlp *net = c51_online(a);
            const mlp_conv *cv = &net->spec.conv;
            assert_true(cv->n == 1 && cv->h == CH && cv->w == CW && cv->c == CC && cv->kernel == 2 &&
                        cv->channels[0] == 8);
            assert_int_equal(net->spec.sizes[0], 4 * 3 * 8);
            assert_int_equal(net->spec.sizes[1], 32);
            assert_int_equal(mlp_n_in(net), COBS);
        }
        agent_param_block pb[AGENT_MAX_PARAM_BLOCKS];
        int nb = a->ops->params(a, pb);
        real *before = malloc(sizeof(real) * pb[0].n);
        memcpy(before, pb[0].p, sizeof(real) * pb[0].n);
        agent_stats st;
        bdrl_err e;
        for (int u = 0; u < 3; u++) {
            agent_batch b = draw(&t, 32, r, &bb);
            if (agent_update(a, &b, &st, &e))
                fail_msg("%s: %s", kind, e.msg);
        }
        assert_true(isfinite(st.loss) && isfinite(st.grad_norm) && st.grad_norm > 0);
        /* the first parameters of the first network: its conv kernels */
        int moved = 0;
        for (int i = 0; i < 8 * 2 * 2 * CC; i++)
            moved += ((const real *)pb[0].p)[i] != before[i];
        assert_true(nb >= 1 && moved > 0);
        free(before);
        sizing_estimate est;
        limits_estimate_experiment(&cfg, en, &est);
        if (!UNDER_ASAN) {
            if (getenv("BDRL_TEST_VERBOSE"))
                printf("  %-6s allocated %.3g bytes, estimated %.3g\n", grid ? "bd grid" : kind, used,
                       est.networks + est.scratch);
            assert_true(est.networks + est.scratch >= used);
            assert_true(est.networks + est.scratch < 2 * used);
        }
        agent_free(a);
    }
    rng_free(r);
    transitions_free(&t);
    env_free(en);
}

/* C51 through a conv front learns catch from random play: the greedy
 * policy of the untrained network catches about a quarter of the balls, the
 * trained one at least 90% (it needs the ball's and the paddle's columns,
 * which only the image holds). */
static void test_c51_learns_catch(void **state)
{
    (void)state;
    env *en = catch_env();
    transitions t;
    play_random(en, 4000, 7, &t);
    exp_config cfg;
    char *conv[] = {"agent.conv=[8]", "agent.conv_kernel=2", "agent.lr=0.003"};
    agent *a = make(&cfg, en, "c51", conv, 3, 2);
    double before = greedy_catch_rate(a, en, 200);
    rng *r = rng_create(8, 6);
    batch_buf bb;
    agent_stats st;
    bdrl_err e;
    for (int u = 1; u <= 1500; u++) {
        agent_batch b = draw(&t, 32, r, &bb);
        assert_int_equal(agent_update(a, &b, &st, &e), 0);
        if (u % 50 == 0)
            agent_update_target(a, 1.0);
    }
    double after = greedy_catch_rate(a, en, 200);
    if (getenv("BDRL_TEST_VERBOSE"))
        printf("  greedy catch rate %.2f before, %.2f after 1500 updates (loss %.3f)\n", before, after, st.loss);
    assert_true(before < 0.6);
    assert_true(after >= 0.9);
    rng_free(r);
    agent_free(a);
    transitions_free(&t);
    env_free(en);
}

/* A checkpoint of a conv agent comes back exactly; one written with
 * another conv front is refused before anything is read, naming the key;
 * the header's conv word is 0 without agent.conv (as before it existed). */
static void test_checkpoints_name_the_conv_keys(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), path[512];
    snprintf(path, sizeof path, "%s/conv.bin", dir);
    env *en = catch_env();
    transitions t;
    play_random(en, 50, 9, &t);
    bdrl_err e;
    replay *rb = replay_create(64, COBS, &e);
    for (int i = 0; i < t.n; i++)
        assert_int_equal(replay_add(rb, t.obs + (size_t)i * COBS, t.action[i], t.reward[i], t.next + (size_t)i * COBS,
                                    t.term[i], 0, &e), 0);
    exp_config cfg, c2;
    char *conv[] = {"agent.conv=[8]", "agent.conv_kernel=2", "train.buffer_size=64"};
    agent *a = make(&cfg, en, "c51", conv, 3, 3), *b = make(&c2, en, "c51", conv, 3, 4);
    if (ckpt_write(path, &cfg, a, rb, 10, "", 0, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(ckpt_read_agent(path, &c2, b, NULL, &e), 0);
    assert_memory_equal(c51_online(a)->params, c51_online(b)->params, sizeof(real) * c51_online(a)->n_params);
    struct {
        const char *set[2];
        const char *msg;
    } other[] = {
        {{"agent.conv=[8]", "agent.conv_kernel=1"}, "agent.conv_kernel is 2 in the checkpoint, 1 in the config"},
        {{"agent.conv=[8, 4]", "agent.conv_kernel=2"}, "agent.conv has 1 layers in the checkpoint, 2 in the config"},
        {{"agent.conv=[7]", "agent.conv_kernel=2"}, "agent.conv has other channel counts in the checkpoint"},
        {{"agent.conv=[]", "agent.conv_kernel=2"}, "agent.conv has 1 layers in the checkpoint, 0 in the config"},
    };
    for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
        exp_config c3;
        char *sets[] = {(char *)other[i].set[0], (char *)other[i].set[1], "train.buffer_size=64"};
        agent *x = make(&c3, en, "c51", sets, 3, 5);
        assert_int_equal(ckpt_read_agent(path, &c3, x, NULL, &e), -1);
        if (!strstr(e.msg, other[i].msg))
            fail_msg("expected '%s' in: %s", other[i].msg, e.msg);
        /* without a configuration the network record itself refuses it */
        assert_int_equal(ckpt_read_agent(path, NULL, x, NULL, &e), -1);
        assert_contains(e.msg, "shape mismatch");
        agent_free(x);
    }
    /* the conv word sits where format 2 had its reserved word: 0 there
     * without agent.conv */
    size_t len;
    char *bytes = tu_read_len(path, &len);
    uint32_t word;
    memcpy(&word, bytes + 16 + 4 * 27, 4);
    assert_true(word == (2u | 1u << 8 | (word & 0xfffff000u)) && (word >> 12) != 0);
    free(bytes);
    exp_config c4;
    char *plain[] = {"train.buffer_size=64", "agent.conv_kernel=2"};
    agent *p = make(&c4, en, "c51", plain, 2, 6);
    if (ckpt_write(path, &c4, p, rb, 10, "", 0, &e))
        fail_msg("%s", e.msg);
    bytes = tu_read_len(path, &len);
    memcpy(&word, bytes + 16 + 4 * 27, 4);
    assert_int_equal(word, 0);
    free(bytes);
    agent_free(p);
    agent_free(a);
    agent_free(b);
    replay_free(rb);
    transitions_free(&t);
    env_free(en);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_refused_where_it_cannot_apply),
        cmocka_unit_test(test_every_agent_builds_and_updates),
        cmocka_unit_test(test_c51_learns_catch),
        cmocka_unit_test(test_checkpoints_name_the_conv_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
