/* Tests of MinAtar's five games (src/envs/minatar*.c): every committed
 * rollout of the real MinAtar 1.0.15 (tests/ref/minatar/, written by
 * tests/ref/minatar_ref.py) replayed step for step, in-process and through
 * `bdrl env rollout`, failing on the first differing cell; episodes played
 * one after another in one env (the sticky action carried over, unseeded
 * resets); the minimal action sets; the traps the reference data is known
 * to exercise (each detected from the observations); the wrapper's rules
 * (sticky actions, seeds, time limit, shapes). */
#include "test_util.h"

#include "core/np_random.h"
#include "envs/env.h"

#define LINE_MAX_LEN 4096
#define MAX_CASES 64

typedef struct {
    char file[128], name[64];
    uint32_t seed;
    double sticky;
    int ramping;
} mn_case;

static int load_cases(mn_case *c)
{
    char path[1024], line[512];
    snprintf(path, sizeof path, "%s/tests/ref/minatar/cases.csv", tu_root());
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    int n = 0;
    assert_non_null(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        assert_true(n < MAX_CASES);
        unsigned long seed;
        if (sscanf(line, "%127[^,],%63[^,],%lu,%lf,%d", c[n].file, c[n].name, &seed, &c[n].sticky,
                   &c[n].ramping) != 5)
            fail_msg("%s: malformed line %s", path, line);
        c[n].seed = (uint32_t)seed;
        n++;
    }
    fclose(f);
    return n;
}

static env *make(const char *name, double sticky, int ramping, int minimal)
{
    env_config c;
    env_config_defaults(&c, name);
    c.sticky_action_prob = sticky;
    c.difficulty_ramping = ramping;
    c.minimal_actions = minimal;
    c.max_episode_steps = 1000000000; /* MinAtar has no time limit */
    bdrl_err err;
    env *e = env_create(&c, &err);
    if (!e)
        fail_msg("env_create %s: %s", name, err.msg);
    return e;
}

/* Fails naming the first cell where obs differs from the reference's 0/1
 * characters. */
static void check_obs(const char *where, const env *e, const float *obs, const char *cells)
{
    int H_, W_, C;
    env_obs_shape(e, &H_, &W_, &C);
    const int n = env_obs_dim(e);
    for (int i = 0; i < n; i++) {
        char want = cells[i];
        if (want != '0' && want != '1')
            fail_msg("%s: the reference has %d cells, expected %d", where, i, n);
        if ((obs[i] != 0.0f) != (want == '1') || (obs[i] != 0.0f && obs[i] != 1.0f))
            fail_msg("%s: cell (y %d, x %d, channel %d) is %g, MinAtar %c", where, i / (10 * C), i / C % 10, i % C,
                     (double)obs[i], want);
    }
    if (cells[n] != '\n' && cells[n] != '\0')
        fail_msg("%s: the reference has more than %d cells", where, n);
}

/* What the observations of a replay showed (the traps' detectors). */
typedef struct {
    long episodes, steps, terminated, reward;
    long asterix_rows_full;     /* an entity in each of rows 1-8 */
    long breakout_in_brick;     /* ball on a brick's cell: passed through it */
    long breakout_refills;      /* bricks went up */
    long seaquest_six;          /* surfaced with 6 divers */
    long seaquest_negative;     /* surfaced, not terminated, with an empty gauge: a negative count */
    long invaders_waves;        /* aliens went up: a new wave */
    long invaders_row9;         /* aliens on the cannon's row */
    long invaders_wrapped;      /* terminated with aliens on row 0 that came down from row 9 */
    long freeway_crossings;
    long freeway_2501;          /* terminated on step 2501 */
} mn_stats;

static int count_channel(const char *cells, int C, int c, int y0, int y1)
{
    int n = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = 0; x < 10; x++)
            n += cells[(y * 10 + x) * C + c] == '1';
    return n;
}

static int find_row(const char *cells, int C, int c)
{
    for (int y = 0; y < 10; y++)
        if (count_channel(cells, C, c, y, y))
            return y;
    return -1;
}

/* Updates st from one step: prev and cur are the observations before and
 * after it. */
static void detect(const char *game, mn_stats *st, const char *prev, const char *cur, long step, int reward, int term)
{
    if (!strcmp(game, "minatar-asterix")) {
        int full = 1;
        for (int y = 1; y <= 8; y++)
            full &= count_channel(cur, 4, 1, y, y) + count_channel(cur, 4, 3, y, y) > 0;
        st->asterix_rows_full += full;
    } else if (!strcmp(game, "minatar-breakout")) {
        for (int i = 0; i < 100; i++)
            st->breakout_in_brick += cur[i * 4 + 1] == '1' && cur[i * 4 + 3] == '1';
        st->breakout_refills += count_channel(cur, 4, 3, 0, 9) > count_channel(prev, 4, 3, 0, 9);
    } else if (!strcmp(game, "minatar-seaquest")) {
        int was = find_row(prev, 10, 0), now = find_row(cur, 10, 0);
        int gauge_before = count_channel(prev, 10, 8, 9, 9);
        if (was == 1 && now == 0 && gauge_before == 6)
            st->seaquest_six++;
        if (was == 1 && now == 0 && gauge_before == 0 && !term)
            st->seaquest_negative++;
    } else if (!strcmp(game, "minatar-space_invaders")) {
        int before = count_channel(prev, 6, 1, 0, 9), after = count_channel(cur, 6, 1, 0, 9);
        st->invaders_waves += after > before;
        st->invaders_row9 += count_channel(cur, 6, 1, 9, 9) > 0;
        st->invaders_wrapped += term && count_channel(prev, 6, 1, 9, 9) > 0 && count_channel(prev, 6, 1, 0, 0) == 0 &&
                                count_channel(cur, 6, 1, 0, 0) > 0;
    } else if (!strcmp(game, "minatar-freeway")) {
        st->freeway_crossings += reward > 0;
        st->freeway_2501 += term && step == 2501;
    }
}

/* Full-set action a as the index of an action with the same effect in the
 * game's minimal set (the actions a game ignores act as noop). */
static int minimal_index(const env *e, int a)
{
    static const char *const full[6] = {"noop", "left", "up", "right", "down", "fire"};
    for (int k = 0; k < env_n_actions(e); k++)
        if (!strcmp(env_action_name(e, k), full[a]))
            return k;
    return 0;
}

/* Replays one committed rollout; minimal: through the minimal action set. */
static void replay(const mn_case *c, int minimal, mn_stats *st)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/ref/minatar/%s", tu_root(), c->file);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    env *e = make(c->name, c->sticky, c->ramping, minimal);
    static char line[LINE_MAX_LEN], prev[LINE_MAX_LEN];
    long lineno = 1;
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "step,action,reward,terminated,obs\n");
    const float *obs = NULL;
    int done = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char where[1200];
        long step, action, reward, term;
        int off;
        if (sscanf(line, "%ld,%ld,%ld,%ld,%n", &step, &action, &reward, &term, &off) != 4)
            fail_msg("%s:%ld: malformed row", path, lineno);
        snprintf(where, sizeof where, "%s:%ld (step %ld)", c->file, lineno, step);
        if (done)
            fail_msg("%s: a row after the episode ended", where);
        if (step == 0) {
            uint64_t seed = c->seed;
            obs = env_reset(e, &seed);
            st->episodes++;
        } else {
            int a = minimal ? minimal_index(e, (int)action) : (int)action;
            env_step s = env_do_step(e, a);
            if (s.refused)
                fail_msg("%s: the step was refused", where);
            if (s.reward != (double)reward || s.terminated != (int)term)
                fail_msg("%s: reward %g, terminated %d; MinAtar %ld, %ld", where, s.reward, s.terminated, reward,
                         term);
            obs = s.obs;
            st->steps++;
            st->terminated += term;
            st->reward += reward;
            done = (int)term;
            detect(c->name, st, strrchr(prev, ',') + 1, line + off, step, (int)reward, (int)term);
        }
        check_obs(where, e, obs, line + off);
        memcpy(prev, line, sizeof line);
    }
    fclose(f);
    env_free(e);
}

static void replay_game(const char *name, int minimal, mn_stats *st)
{
    static mn_case cases[MAX_CASES];
    int n = load_cases(cases);
    memset(st, 0, sizeof *st);
    for (int i = 0; i < n; i++)
        if (!name || !strcmp(cases[i].name, name))
            replay(&cases[i], minimal, st);
}

/* Every committed rollout, every cell of every step, and enough of them:
 * thousands of steps per game with episodes played to their end. */
static void test_reference_rollouts(void **state)
{
    (void)state;
    const char *games[5] = {"minatar-asterix", "minatar-breakout", "minatar-freeway", "minatar-seaquest",
                            "minatar-space_invaders"};
    for (int g = 0; g < 5; g++) {
        mn_stats st;
        replay_game(games[g], 0, &st);
        fprintf(stderr, "%s: %ld episodes, %ld steps, %ld terminated, return %ld\n", games[g], st.episodes, st.steps,
                st.terminated, st.reward);
        assert_true(st.episodes >= 8);
        assert_true(st.steps >= 3000);
        assert_true(st.terminated >= (g == 2 ? 1 : 4)); /* Freeway's episodes last 2501 steps */
    }
}

/* The same rollouts with the agent's actions in the minimal action set
 * (each full action as its equivalent there): the same observations. */
static void test_minimal_action_sets(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int n;
        const char *actions;
    } sets[5] = {
        {"minatar-asterix", 5, "noop,left,up,right,down"},
        {"minatar-breakout", 3, "noop,left,right"},
        {"minatar-freeway", 3, "noop,up,down"},
        {"minatar-seaquest", 6, "noop,left,up,right,down,fire"},
        {"minatar-space_invaders", 4, "noop,left,right,fire"},
    };
    for (int g = 0; g < 5; g++) {
        env *e = make(sets[g].name, 0.1, 1, 1);
        assert_int_equal(env_n_actions(e), sets[g].n);
        char names[128] = "";
        for (int a = 0; a < env_n_actions(e); a++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", a ? "," : "", env_action_name(e, a));
        assert_string_equal(names, sets[g].actions);
        env_free(e);
        e = make(sets[g].name, 0.1, 1, 0);
        assert_int_equal(env_n_actions(e), 6);
        env_free(e);
        mn_stats st;
        replay_game(sets[g].name, 1, &st);
        assert_true(st.steps >= 3000);
    }
}

/* `bdrl env rollout` prints every committed file byte for byte. */
static void test_cli_rollouts(void **state)
{
    (void)state;
    static mn_case cases[MAX_CASES];
    int n = load_cases(cases);
    for (int i = 0; i < n; i++) {
        char file[1200];
        snprintf(file, sizeof file, "%.1000s/tests/ref/minatar/%.127s", tu_root(), cases[i].file);
        tu_result r = tu_run("%s env rollout %s --seed %lu --sticky %.17g %s --actions \"$(tail -n +3 '%s' | cut -d, "
                             "-f2 | paste -sd, -)\" | cmp - '%s'",
                             tu_bdrl(), cases[i].name, (unsigned long)cases[i].seed, cases[i].sticky,
                             cases[i].ramping ? "" : "--no-ramping", file, file);
        if (r.status != 0)
            fail_msg("bdrl env rollout differs from %s: %s%s", cases[i].file, r.out, r.err);
        tu_run_free(&r);
    }
}

/* Episodes one after another in one env (sticky 0.5): seeded resets, an
 * unseeded one continuing the generator, and the previous episode's last
 * action carried into the next one's first sticky step. */
static void test_episode_chains(void **state)
{
    (void)state;
    const char *games[5] = {"asterix", "breakout", "freeway", "seaquest", "space_invaders"};
    for (int g = 0; g < 5; g++) {
        char path[1024], name[64];
        snprintf(path, sizeof path, "%s/tests/ref/minatar/%s_chain.csv", tu_root(), games[g]);
        snprintf(name, sizeof name, "minatar-%s", games[g]);
        FILE *f = fopen(path, "r");
        if (!f)
            fail_msg("cannot open %s", path);
        env *e = make(name, 0.5, 1, 0);
        static char line[LINE_MAX_LEN];
        long lineno = 1, episodes = 0, unseeded = 0;
        assert_non_null(fgets(line, sizeof line, f));
        while (fgets(line, sizeof line, f)) {
            lineno++;
            char where[1200], seed_text[32];
            long ep, step, action, reward, term;
            int off;
            if (sscanf(line, "%ld,%31[^,],%ld,%ld,%ld,%ld,%n", &ep, seed_text, &step, &action, &reward, &term, &off) != 6)
                fail_msg("%s:%ld: malformed row", path, lineno);
            snprintf(where, sizeof where, "%s_chain.csv:%ld (episode %ld, step %ld)", games[g], lineno, ep, step);
            const float *obs;
            if (step == 0) {
                uint64_t seed = strtoull(seed_text, NULL, 10);
                obs = env_reset(e, strcmp(seed_text, "-") ? &seed : NULL);
                episodes++;
                unseeded += !strcmp(seed_text, "-");
            } else {
                env_step s = env_do_step(e, (int)action);
                if (s.reward != (double)reward || s.terminated != (int)term)
                    fail_msg("%s: reward %g, terminated %d; MinAtar %ld, %ld", where, s.reward, s.terminated, reward,
                             term);
                obs = s.obs;
            }
            check_obs(where, e, obs, line + off);
        }
        fclose(f);
        env_free(e);
        assert_int_equal(episodes, 5);
        assert_int_equal(unseeded, 2);
    }
}

/* Seaquest: surfacing with 6 divers leaves the count at -1 (0, then one
 * taken off), so the sub surfaces again with no diver without the episode
 * ending. */
static void test_trap_seaquest_negative_divers(void **state)
{
    (void)state;
    mn_stats st;
    replay_game("minatar-seaquest", 0, &st);
    fprintf(stderr, "seaquest: %ld surfacings with 6 divers, %ld with a negative count\n", st.seaquest_six,
            st.seaquest_negative);
    assert_true(st.seaquest_six >= 2);
    assert_true(st.seaquest_negative >= 2);
}

/* Asterix: spawns while every row is taken still draw their two numbers. */
static void test_trap_asterix_full_rows(void **state)
{
    (void)state;
    mn_stats st;
    replay_game("minatar-asterix", 0, &st);
    fprintf(stderr, "asterix: %ld steps with every row taken\n", st.asterix_rows_full);
    assert_true(st.asterix_rows_full >= 1);
}

/* Breakout: right after breaking a brick the ball passes into the next
 * brick's cell; a cleared wall comes back. */
static void test_trap_breakout_pass_through_and_refill(void **state)
{
    (void)state;
    mn_stats st;
    replay_game("minatar-breakout", 0, &st);
    fprintf(stderr, "breakout: %ld steps with the ball inside a brick, %ld refills\n", st.breakout_in_brick,
            st.breakout_refills);
    assert_true(st.breakout_in_brick >= 10);
    assert_true(st.breakout_refills >= 1);
}

/* Space Invaders: new waves, aliens on the cannon's row, and the roll that
 * carries row 9 to row 0 when they turn there. */
static void test_trap_space_invaders_waves_and_wrap(void **state)
{
    (void)state;
    mn_stats st;
    replay_game("minatar-space_invaders", 0, &st);
    fprintf(stderr, "space invaders: %ld new waves, %ld steps with aliens on row 9, %ld wraps\n", st.invaders_waves,
            st.invaders_row9, st.invaders_wrapped);
    assert_true(st.invaders_waves >= 3);
    assert_true(st.invaders_row9 >= 1);
    assert_true(st.invaders_wrapped >= 1);
}

/* Freeway: an episode lasts exactly 2501 steps whatever is played. */
static void test_freeway_length(void **state)
{
    (void)state;
    mn_stats st;
    replay_game("minatar-freeway", 0, &st);
    assert_true(st.freeway_2501 >= 1);
    assert_true(st.freeway_crossings >= 10);
    env *e = make("minatar-freeway", 0.1, 1, 1);
    for (int run = 0; run < 2; run++) {
        uint64_t seed = 5 + (uint64_t)run;
        env_reset(e, &seed);
        for (int t = 1; t <= 2501; t++) {
            env_step s = env_do_step(e, t % 3);
            assert_int_equal(s.terminated, t == 2501);
        }
    }
    env_free(e);
}

/* The wrapper: shapes, time limit, seeds' low 32 bits, sticky draws. */
static void test_wrapper_rules(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int kind, channels;
    } g[5] = {{"minatar-asterix", ENV_MINATAR_ASTERIX, 4},
              {"minatar-breakout", ENV_MINATAR_BREAKOUT, 4},
              {"minatar-freeway", ENV_MINATAR_FREEWAY, 7},
              {"minatar-seaquest", ENV_MINATAR_SEAQUEST, 10},
              {"minatar-space_invaders", ENV_MINATAR_SPACE_INVADERS, 6}};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(env_kind_by_name(g[k].name), g[k].kind);
        const env_kind_info *in = env_kind_describe(g[k].kind);
        assert_int_equal(in->obs_shape[0], 10);
        assert_int_equal(in->obs_shape[1], 10);
        assert_int_equal(in->obs_shape[2], g[k].channels);
        assert_int_equal(in->seed_bits, 32);
        assert_int_equal(in->default_max_steps, 10000);
        env_config c;
        env_config_defaults(&c, g[k].name);
        assert_true(c.sticky_action_prob == 0.1 && c.difficulty_ramping && c.minimal_actions);
        bdrl_err err;
        env *e = env_create(&c, &err);
        assert_non_null(e);
        assert_int_equal(env_obs_dim(e), 100 * g[k].channels);
        int h_, w_, c_;
        assert_int_equal(env_obs_shape(e, &h_, &w_, &c_), 1);
        assert_int_equal(c_, g[k].channels);
        assert_int_equal(env_max_steps(e), 10000);
        assert_int_equal(env_state_dim(e), 0);
        /* the seed's low 32 bits are numpy's seed */
        uint64_t s1 = 77, s2 = 77 + (UINT64_C(5) << 32);
        float a[ENV_OBS_MAX], b[ENV_OBS_MAX];
        env *e2 = env_create(&c, &err);
        memcpy(a, env_reset(e, &s1), sizeof(float) * (size_t)env_obs_dim(e));
        memcpy(b, env_reset(e2, &s2), sizeof(float) * (size_t)env_obs_dim(e));
        for (int t = 0; t < 300; t++) {
            assert_memory_equal(a, b, sizeof(float) * (size_t)env_obs_dim(e));
            env_step x = env_do_step(e, t % env_n_actions(e)), y = env_do_step(e2, t % env_n_actions(e));
            assert_int_equal(x.terminated, y.terminated);
            memcpy(a, x.obs, sizeof(float) * (size_t)env_obs_dim(e));
            memcpy(b, y.obs, sizeof(float) * (size_t)env_obs_dim(e));
            if (x.terminated)
                break;
        }
        env_free(e2);
        env_free(e);
        /* a time limit truncates like any other env's */
        c.max_episode_steps = 3;
        e = env_create(&c, &err);
        env_reset(e, &s1);
        env_step st = {0};
        int t = 0;
        while (!st.terminated && !st.truncated)
            st = env_do_step(e, 0), t++;
        assert_true(st.truncated ? t == 3 : t <= 3);
        env_free(e);
        c.sticky_action_prob = 1.5;
        assert_null(env_create(&c, &err));
        assert_contains(err.msg, "sticky_action_prob");
    }
    /* Breakout's reset draws randint(2) after RandomState(seed); with sticky
     * probability 1 every step repeats the first action, noop, so the paddle
     * (row 9, channel 0) never leaves column 4. */
    env *e = make("minatar-breakout", 1.0, 1, 0);
    for (uint64_t seed = 0; seed < 20; seed++) {
        np_random r;
        np_random_seed(&r, (uint32_t)seed);
        int right = (int)np_random_randint(&r, 0, 2);
        const float *o = env_reset(e, &seed);
        assert_true(o[(3 * 10 + (right ? 9 : 0)) * 4 + 1] == 1.0f);
        for (int t = 0; t < 8; t++) {
            env_step s = env_do_step(e, 3);
            assert_true(s.obs[(9 * 10 + 4) * 4 + 0] == 1.0f);
        }
    }
    env_free(e);
}

/* The CLI: MinAtar's seed range, the MinAtar-only options, and info. */
static void test_cli_options(void **state)
{
    (void)state;
    tu_result r = tu_run("%s env rollout minatar-breakout --seed 4294967296 --actions 0", tu_bdrl());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "seeds from 0 to 2^32 - 1");
    tu_run_free(&r);
    r = tu_run("%s env rollout minatar-breakout --seed 4294967295 --actions 5,5 --no-ramping --sticky 0", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "step,action,reward,terminated,obs\n0,-1,0,0,");
    assert_contains(r.out, "\n2,5,0,0,");
    tu_run_free(&r);
    r = tu_run("%s env rollout minatar-breakout --seed 1 --actions 6", tu_bdrl());
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    r = tu_run("%s env rollout cartpole --sticky 0.2 --actions 0", tu_bdrl());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "--sticky is for the MinAtar games");
    tu_run_free(&r);
    r = tu_run("%s env info minatar-space_invaders --set env.minimal_actions=false", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "observation_dim: 600\nn_actions: 6\nmax_episode_steps: 10000\n");
    assert_contains(r.out, "5 enemy_bullet");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_rollouts),
        cmocka_unit_test(test_minimal_action_sets),
        cmocka_unit_test(test_cli_rollouts),
        cmocka_unit_test(test_episode_chains),
        cmocka_unit_test(test_trap_seaquest_negative_divers),
        cmocka_unit_test(test_trap_asterix_full_rows),
        cmocka_unit_test(test_trap_breakout_pass_through_and_refill),
        cmocka_unit_test(test_trap_space_invaders_waves_and_wrap),
        cmocka_unit_test(test_freeway_length),
        cmocka_unit_test(test_wrapper_rules),
        cmocka_unit_test(test_cli_options),
    };
    return cmocka_run_group_tests_name("minatar", tests, NULL, NULL);
}
