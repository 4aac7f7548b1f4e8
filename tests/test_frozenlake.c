/* Tests of FrozenLake-v1 (src/envs/frozenlake.c + env.c): maps, the
 * transition table against the reference's rules, sampling, rewards,
 * terminal states, time limits, custom-map validation and random maps. */
#include "test_util.h"

#include "core/rng.h"
#include "envs/env.h"

static env *make_fl(const char *map, int slippery, double success, int max_steps)
{
    env_config c;
    env_config_defaults(&c, "frozenlake");
    snprintf(c.map_name, sizeof c.map_name, "%s", map);
    c.slippery = slippery;
    c.success_rate = success;
    c.max_episode_steps = max_steps;
    bdrl_err err;
    env *e = env_create(&c, &err);
    if (!e)
        fail_msg("env_create: %s", err.msg);
    return e;
}

static env *make_custom(const char *const *rows, int nrow, bdrl_err *err)
{
    env_config c;
    env_config_defaults(&c, "frozenlake");
    strcpy(c.map_name, "custom");
    for (int i = 0; i < nrow; i++)
        snprintf(c.rows[i], sizeof c.rows[i], "%s", rows[i]);
    return env_create(&c, err);
}

static void set_s(env *e, int s)
{
    double v = s;
    bdrl_err err;
    if (env_set_state(e, &v, &err) != 0)
        fail_msg("env_set_state: %s", err.msg);
}

/* Where action a leads from cell (r, c), clamped at the edges; written
 * independently of the library. 0 LEFT, 1 DOWN, 2 RIGHT, 3 UP. */
static int expect_move(int r, int c, int a, int nrow, int ncol)
{
    static const int dr[4] = {0, 1, 0, -1}, dc[4] = {-1, 0, 1, 0};
    int rn = r + dr[a], cn = c + dc[a];
    if (rn < 0) rn = 0;
    if (rn >= nrow) rn = nrow - 1;
    if (cn < 0) cn = 0;
    if (cn >= ncol) cn = ncol - 1;
    return rn * ncol + cn;
}

static void test_builtin_maps(void **state)
{
    (void)state;
    env *e = make_fl("4x4", 1, 1.0 / 3.0, 0);
    const env_table *t = env_transition_table(e);
    assert_non_null(t);
    assert_string_equal(env_name(e), "frozenlake");
    assert_int_equal(env_get_kind(e), ENV_FROZENLAKE);
    assert_int_equal(t->nrow, 4);
    assert_int_equal(t->ncol, 4);
    assert_int_equal(t->n_actions, 4);
    assert_int_equal(env_n_states(e), 16);
    assert_int_equal(env_obs_dim(e), 1);
    assert_int_equal(env_state_dim(e), 1);
    assert_int_equal(env_n_actions(e), 4);
    assert_int_equal(env_max_steps(e), 100);
    assert_memory_equal(t->desc, "SFFF" "FHFH" "FFFH" "HFFG", 16);
    const float *obs = env_reset(e, NULL);
    assert_true(obs[0] == 0.0f);
    env_free(e);

    e = make_fl("8x8", 1, 1.0 / 3.0, 0);
    t = env_transition_table(e);
    assert_int_equal(t->nrow, 8);
    assert_int_equal(t->ncol, 8);
    assert_int_equal(env_n_states(e), 64);
    assert_int_equal(env_max_steps(e), 200);
    assert_memory_equal(t->desc,
                        "SFFFFFFF" "FFFFFFFF" "FFFHFFFF" "FFFFFHFF"
                        "FFFHFFFF" "FHHFFFHF" "FHFFHFHF" "FFFHFFFG", 64);
    env_free(e);
}

/* Non-slippery: one outcome per (s, a), the clamped move, for every cell
 * that is not terminal. */
static void test_moves_clamp_at_edges(void **state)
{
    (void)state;
    const char *maps[] = {"4x4", "8x8"};
    for (int m = 0; m < 2; m++) {
        env *e = make_fl(maps[m], 0, 1.0 / 3.0, 0);
        const env_table *t = env_transition_table(e);
        for (int s = 0; s < t->n_states; s++) {
            char l = t->desc[s];
            if (l == 'H' || l == 'G')
                continue;
            for (int a = 0; a < 4; a++) {
                assert_int_equal(t->n_outcomes[s * 4 + a], 1);
                const env_outcome *o = env_table_outcome(t, s, a, 0);
                assert_true(o->prob == 1.0);
                assert_int_equal(o->next_state, expect_move(s / t->ncol, s % t->ncol, a, t->nrow, t->ncol));
                assert_null(env_table_outcome(t, s, a, 1));
            }
        }
        assert_null(env_table_outcome(t, -1, 0, 0));
        assert_null(env_table_outcome(t, t->n_states, 0, 0));
        assert_null(env_table_outcome(t, 0, 4, 0));
        env_free(e);
    }
    /* And through steps: corner 0 stays put going left or up. */
    env *e = make_fl("4x4", 0, 1.0 / 3.0, 0);
    env_reset(e, NULL);
    env_step st = env_do_step(e, 0);
    assert_true(st.obs[0] == 0.0f);
    st = env_do_step(e, 3);
    assert_true(st.obs[0] == 0.0f);
    set_s(e, 3);
    assert_true(env_do_step(e, 2).obs[0] == 3.0f);
    set_s(e, 14);
    assert_true(env_do_step(e, 1).obs[0] == 14.0f);
    env_free(e);
}

static void test_holes_and_goal_terminate(void **state)
{
    (void)state;
    env_config c;
    env_config_defaults(&c, "frozenlake");
    c.slippery = 0;
    bdrl_err err;
    env *e = env_create(&c, &err);
    assert_non_null(e);
    env_reset(e, NULL);
    env_step st = env_do_step(e, 2); /* 0 -> 1 */
    assert_true(st.obs[0] == 1.0f && st.reward == 0.0 && !st.terminated);
    st = env_do_step(e, 1); /* 1 -> 5, a hole */
    assert_true(st.obs[0] == 5.0f && st.reward == 0.0 && st.terminated && !st.truncated);
    env_reset(e, NULL);
    const int path[] = {1, 1, 2, 1, 2, 2}; /* 4, 8, 9, 13, 14, 15 */
    for (int i = 0; i < 6; i++) {
        st = env_do_step(e, path[i]);
        assert_int_equal(st.terminated, i == 5);
        assert_true(st.reward == (i == 5 ? 1.0 : 0.0));
    }
    assert_true(st.obs[0] == 15.0f);
    env_free(e);

    /* A reward schedule (goal, hole, frozen); S counts as frozen. */
    c.reward_goal = 2.0;
    c.reward_hole = -1.0;
    c.reward_frozen = 0.25;
    e = env_create(&c, &err);
    assert_non_null(e);
    env_reset(e, NULL);
    st = env_do_step(e, 1); /* 0 -> 4, F */
    assert_true(st.reward == 0.25);
    st = env_do_step(e, 3); /* 4 -> 0, S */
    assert_true(st.reward == 0.25 && st.obs[0] == 0.0f);
    st = env_do_step(e, 0); /* bumping the wall on S */
    assert_true(st.reward == 0.25);
    st = env_do_step(e, 2);
    st = env_do_step(e, 1); /* into the hole at 5 */
    assert_true(st.reward == -1.0 && st.terminated);
    set_s(e, 14);
    st = env_do_step(e, 2);
    assert_true(st.reward == 2.0 && st.terminated && st.obs[0] == 15.0f);
    env_free(e);
}

/* Terminal cells have one outcome: (1.0, s, 0, True), whatever the reward
 * schedule and slipperiness. */
static void test_terminal_self_loops(void **state)
{
    (void)state;
    for (int slippery = 0; slippery <= 1; slippery++) {
        env_config c;
        env_config_defaults(&c, "frozenlake");
        strcpy(c.map_name, "8x8");
        c.slippery = slippery;
        c.reward_goal = 5.0;
        c.reward_hole = -3.0;
        c.reward_frozen = 0.5;
        env *e = env_create(&c, NULL);
        const env_table *t = env_transition_table(e);
        int terminals = 0;
        for (int s = 0; s < t->n_states; s++) {
            if (t->desc[s] != 'H' && t->desc[s] != 'G')
                continue;
            terminals++;
            for (int a = 0; a < 4; a++) {
                assert_int_equal(t->n_outcomes[s * 4 + a], 1);
                const env_outcome *o = env_table_outcome(t, s, a, 0);
                assert_true(o->prob == 1.0 && o->next_state == s && o->reward == 0.0 && o->terminated);
            }
        }
        assert_int_equal(terminals, 11); /* 10 holes and the goal */
        env_reset(e, NULL);
        set_s(e, 19); /* the hole at row 2, column 3 */
        env_step st = env_do_step(e, 2);
        assert_true(st.obs[0] == 19.0f && st.reward == 0.0 && st.terminated);
        env_free(e);
    }
}

/* Slippery: outcomes [(a-1)%4, a, (a+1)%4] with success_rate for a and
 * (1.0 - success_rate) / 2.0 for the others, to the last bit. */
static void test_slippery_probabilities(void **state)
{
    (void)state;
    /* The reference's printed values (Python, '%.17g'). */
    struct {
        double rate;
        const char *p_intended, *p_other;
    } cases[] = {
        {1.0 / 3.0, "0.33333333333333331", "0.33333333333333337"},
        {0.8, "0.80000000000000004", "0.099999999999999978"},
        {0.75, "0.75", "0.125"},
        {0.9, "0.90000000000000002", "0.049999999999999989"},
        {1.0, "1", "0"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const char *maps[] = {"4x4", "8x8"};
        for (int m = 0; m < 2; m++) {
            env *e = make_fl(maps[m], 1, cases[k].rate, 0);
            const env_table *t = env_transition_table(e);
            for (int s = 0; s < t->n_states; s++) {
                if (t->desc[s] == 'H' || t->desc[s] == 'G')
                    continue;
                for (int a = 0; a < 4; a++) {
                    assert_int_equal(t->n_outcomes[s * 4 + a], 3);
                    const int dirs[3] = {(a + 3) % 4, a, (a + 1) % 4};
                    double sum = 0;
                    for (int j = 0; j < 3; j++) {
                        const env_outcome *o = env_table_outcome(t, s, a, j);
                        char buf[40];
                        snprintf(buf, sizeof buf, "%.17g", o->prob);
                        assert_string_equal(buf, j == 1 ? cases[k].p_intended : cases[k].p_other);
                        int next = expect_move(s / t->ncol, s % t->ncol, dirs[j], t->nrow, t->ncol);
                        assert_int_equal(o->next_state, next);
                        char l = t->desc[next];
                        assert_int_equal(o->terminated, l == 'H' || l == 'G');
                        assert_true(o->reward == (l == 'G' ? 1.0 : 0.0));
                        sum += o->prob;
                    }
                    assert_close(sum, 1.0, 1e-15);
                }
            }
            env_free(e);
        }
    }
    /* success_rate outside [0, 1] is refused. */
    env_config c;
    env_config_defaults(&c, "frozenlake");
    c.success_rate = 1.5;
    bdrl_err err;
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "success_rate");
}

/* Each step draws one uniform U from the env's stream and takes the first
 * outcome whose cumulative probability exceeds U (categorical_sample); a
 * reset draws one too. Replaying the stream here must predict every step. */
static void test_steps_follow_categorical_sample(void **state)
{
    (void)state;
    env *e = make_fl("8x8", 1, 0.6, 0);
    const env_table *t = env_transition_table(e);
    uint64_t seed = 123;
    rng *mirror = rng_create(seed, RNG_STREAM_ENV), *act = rng_create(9, 9);
    env_reset(e, &seed);
    rng_uniform(mirror);
    int s = 0, episodes = 0;
    for (int i = 0; i < 20000; i++) {
        int a = (int)rng_below(act, 4);
        double u = rng_uniform(mirror), cum = 0;
        int k = 0, n = t->n_outcomes[s * 4 + a];
        for (int j = 0; j < n; j++) {
            cum += env_table_outcome(t, s, a, j)->prob;
            if (cum > u) {
                k = j;
                break;
            }
        }
        const env_outcome *o = env_table_outcome(t, s, a, k);
        env_step st = env_do_step(e, a);
        assert_true(st.obs[0] == (float)o->next_state);
        assert_true(st.reward == o->reward);
        assert_int_equal(st.terminated, o->terminated);
        s = o->next_state;
        if (st.terminated || st.truncated) {
            env_reset(e, NULL);
            rng_uniform(mirror);
            s = 0;
            episodes++;
        }
    }
    assert_true(episodes > 50);
    rng_free(mirror);
    rng_free(act);
    env_free(e);
}

/* A draw equal to a cumulative probability is not "exceeded": the outcome
 * after it is taken (np.argmax(cumsum > U) is strict). The seeds were found
 * by searching stream RNG_STREAM_ENV for draws of exactly 0.25 and 0.875,
 * which tie with the dyadic cumulative sums of success rates 0.5
 * (0.25, 0.75, 1) and 0.75 (0.125, 0.875, 1). */
static void test_sampling_ties_take_the_next_outcome(void **state)
{
    (void)state;
    const struct {
        uint64_t seed;
        int draw;
        double u, rate;
        int k;
    } ties[] = {{1734582, 311, 0.25, 0.5, 1}, {3750572, 426, 0.875, 0.75, 2}};
    for (size_t q = 0; q < sizeof ties / sizeof ties[0]; q++) {
        rng *mirror = rng_create(ties[q].seed, RNG_STREAM_ENV);
        double u = 0;
        for (int i = 0; i <= ties[q].draw; i++)
            u = rng_uniform(mirror);
        rng_free(mirror);
        if (u != ties[q].u)
            fail_msg("draw %d of seed %llu is %.17g, not %g: the rng stream changed, search new seeds",
                     ties[q].draw, (unsigned long long)ties[q].seed, u, ties[q].u);
        env *e = make_fl("8x8", 1, ties[q].rate, 1 << 30);
        const env_table *t = env_transition_table(e);
        env_reset(e, &ties[q].seed); /* draw 0 */
        env_step st = {0};
        for (int i = 1; i <= ties[q].draw; i++) {
            set_s(e, 9); /* DOWN from 9: LEFT 8, DOWN 17, RIGHT 10, all frozen */
            st = env_do_step(e, 1);
        }
        assert_true(st.obs[0] == (float)env_table_outcome(t, 9, 1, ties[q].k)->next_state);
        env_free(e);
    }
}

/* Observed next-state frequencies against the table: a chi-square test per
 * (s, a) over the distinct next states. */
static void test_step_frequencies_match_table(void **state)
{
    (void)state;
    const double rates[] = {1.0 / 3.0, 0.7};
    for (int r = 0; r < 2; r++) {
        env *e = make_fl("8x8", 1, rates[r], 1 << 30);
        const env_table *t = env_transition_table(e);
        uint64_t seed = 77;
        env_reset(e, &seed);
        const int pairs[][2] = {{0, 0}, {9, 1}, {10, 2}, {27, 3}, {62, 2}, {7, 1}};
        const int n = 30000;
        for (size_t q = 0; q < sizeof pairs / sizeof pairs[0]; q++) {
            int s = pairs[q][0], a = pairs[q][1];
            double p[64] = {0};
            long count[64] = {0};
            for (int j = 0; j < t->n_outcomes[s * 4 + a]; j++) {
                const env_outcome *o = env_table_outcome(t, s, a, j);
                p[o->next_state] += o->prob;
            }
            for (int i = 0; i < n; i++) {
                set_s(e, s);
                env_step st = env_do_step(e, a);
                count[(int)st.obs[0]]++;
            }
            double chi2 = 0;
            int cells = 0;
            for (int x = 0; x < 64; x++) {
                if (p[x] == 0) {
                    assert_int_equal(count[x], 0);
                    continue;
                }
                cells++;
                double ex = p[x] * n;
                chi2 += (count[x] - ex) * (count[x] - ex) / ex;
            }
            /* df = cells - 1 <= 2; P(chi2_2 > 25) = 3.7e-6. */
            if (chi2 > 25.0)
                fail_msg("rate %g (s=%d, a=%d): chi-square %g over %d cells", rates[r], s, a, chi2, cells);
        }
        env_free(e);
    }
}

static void test_truncation(void **state)
{
    (void)state;
    struct {
        const char *map;
        int max, limit;
    } cases[] = {{"4x4", 0, 100}, {"8x8", 0, 200}, {"random", 0, 100}, {"4x4", 7, 7}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        env *e = make_fl(cases[k].map, 0, 1.0 / 3.0, cases[k].max);
        assert_int_equal(env_max_steps(e), cases[k].limit);
        env_reset(e, NULL);
        env_step st;
        for (int i = 1; i <= cases[k].limit; i++) {
            st = env_do_step(e, 0); /* LEFT from S at the corner: never moves */
            assert_false(st.terminated);
            assert_int_equal(st.truncated, i == cases[k].limit);
            assert_int_equal(env_elapsed(e), i);
        }
        env_free(e);
    }
    /* Terminated and truncated together on the last allowed step. */
    env *e = make_fl("4x4", 0, 1.0 / 3.0, 2);
    env_reset(e, NULL);
    assert_false(env_do_step(e, 2).truncated); /* 0 -> 1 */
    env_step st = env_do_step(e, 1);           /* 1 -> 5, a hole */
    assert_true(st.terminated && st.truncated);
    env_free(e);
    /* Custom maps take FrozenLake-v1's 100. */
    const char *rows[] = {"SFG"};
    e = make_custom(rows, 1, NULL);
    assert_int_equal(env_max_steps(e), 100);
    env_free(e);
}

static void test_custom_maps(void **state)
{
    (void)state;
    bdrl_err err;
    const char *ok[] = {"SFFFF", "FHFHF", "FFFFG"};
    env *e = make_custom(ok, 3, &err);
    if (!e)
        fail_msg("%s", err.msg);
    const env_table *t = env_transition_table(e);
    assert_int_equal(t->nrow, 3);
    assert_int_equal(t->ncol, 5);
    assert_string_equal(t->desc, "SFFFFFHFHFFFFFG");
    assert_int_equal(env_n_states(e), 15);
    env_free(e);

    /* S need not be at the corner: reset puts the agent on it. */
    const char *mid[] = {"FFF", "FSF", "HFG"};
    e = make_custom(mid, 3, &err);
    assert_non_null(e);
    assert_true(env_reset(e, NULL)[0] == 4.0f);
    env_free(e);

    struct {
        const char *rows[4];
        int nrow;
        const char *msg;
    } bad[] = {
        {{"SFF", "FF", "FFG"}, 3, "not rectangular: row 1 has 2 columns, expected 3"},
        {{"SFF", "FFF", "FFGF"}, 3, "not rectangular: row 2 has 4 columns, expected 3"},
        {{"SFF", "FXF", "FFG"}, 3, "row 1, column 1 is 'X'"},
        {{"SFF", "FfF", "FFG"}, 3, "only S, F, H and G are allowed"},
        {{"FFF", "FFF", "FFG"}, 3, "exactly one S (start), found 0"},
        {{"SFF", "FSF", "FFG"}, 3, "exactly one S (start), found 2"},
        {{"SFF", "FFF", "FFH"}, 3, "at least one G (goal)"},
        {{"", "", ""}, 0, "has 0 rows"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        e = make_custom(bad[k].rows, bad[k].nrow, &err);
        if (e)
            fail_msg("case %zu accepted", k);
        assert_contains(err.msg, bad[k].msg);
    }

    /* Too many rows, and a row too long for the buffer. */
    env_config c;
    env_config_defaults(&c, "frozenlake");
    strcpy(c.map_name, "custom");
    c.nrow = ENV_MAP_MAX + 1;
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "it needs 1 to 64");
    env_config_defaults(&c, "frozenlake");
    strcpy(c.map_name, "custom");
    memset(c.rows[0], 'F', sizeof c.rows[0]); /* 65 letters, no terminator */
    c.rows[0][0] = 'S';
    strcpy(c.rows[1], "G");
    c.nrow = 2;
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "65 columns");
    /* Given sizes are checked against the rows. */
    env_config_defaults(&c, "frozenlake");
    strcpy(c.map_name, "custom");
    strcpy(c.rows[0], "SFG");
    c.nrow = 1;
    c.ncol = 4;
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "row 0 has 3 columns, expected 4");

    strcpy(c.map_name, "9x9");
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "unknown FrozenLake map \"9x9\"");
}

/* Solvable by an independent breadth-first search over non-hole cells. */
static int solvable(const char *d, int n)
{
    int queue[ENV_MAP_MAX * ENV_MAP_MAX], head = 0, tail = 0;
    char seen[ENV_MAP_MAX * ENV_MAP_MAX] = {0};
    queue[tail++] = 0;
    seen[0] = 1;
    while (head < tail) {
        int v = queue[head++];
        if (d[v] == 'G')
            return 1;
        int r = v / n, c = v % n;
        int nb[4][2] = {{r - 1, c}, {r + 1, c}, {r, c - 1}, {r, c + 1}};
        for (int k = 0; k < 4; k++) {
            int rr = nb[k][0], cc = nb[k][1];
            if (rr < 0 || rr >= n || cc < 0 || cc >= n)
                continue;
            int w = rr * n + cc;
            if (!seen[w] && d[w] != 'H') {
                seen[w] = 1;
                queue[tail++] = w;
            }
        }
    }
    return 0;
}

static void test_random_maps(void **state)
{
    (void)state;
    char rows[ENV_MAP_MAX][ENV_MAP_MAX + 1], again[ENV_MAP_MAX][ENV_MAP_MAX + 1], d[ENV_MAP_MAX * ENV_MAP_MAX];
    bdrl_err err;
    const struct {
        int size;
        double p;
    } kinds[] = {{8, 0.8}, {4, 0.6}, {12, 0.7}, {2, 0.5}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int n = kinds[k].size, distinct = 0;
        long holes = 0;
        char prev[ENV_MAP_MAX * ENV_MAP_MAX] = {0};
        for (uint64_t seed = 0; seed < 400; seed++) {
            if (frozenlake_random_map(n, kinds[k].p, seed, rows, &err) != 0)
                fail_msg("%s", err.msg);
            for (int i = 0; i < n; i++) {
                assert_int_equal((int)strlen(rows[i]), n);
                memcpy(d + i * n, rows[i], (size_t)n);
            }
            assert_true(d[0] == 'S' && d[n * n - 1] == 'G');
            for (int i = 1; i < n * n - 1; i++) {
                assert_true(d[i] == 'F' || d[i] == 'H');
                holes += d[i] == 'H';
            }
            assert_true(solvable(d, n));
            assert_int_equal(frozenlake_random_map(n, kinds[k].p, seed, again, NULL), 0);
            for (int i = 0; i < n; i++)
                assert_string_equal(rows[i], again[i]);
            distinct += memcmp(prev, d, (size_t)(n * n)) != 0;
            memcpy(prev, d, (size_t)(n * n));
        }
        if (n >= 4) {
            assert_true(distinct > 350);
            /* Conditioning on solvability removes some holes, never adds. */
            double frac = (double)holes / (400.0 * (n * n - 2));
            assert_true(frac < 1 - kinds[k].p + 0.02 && frac > (1 - kinds[k].p) * 0.5);
        }
    }
    /* env_create with "random" builds the same map from map_seed. */
    env_config c;
    env_config_defaults(&c, "frozenlake");
    strcpy(c.map_name, "random");
    c.map_seed = 42;
    env *e = env_create(&c, &err);
    assert_non_null(e);
    assert_int_equal(frozenlake_random_map(8, 0.8, 42, rows, NULL), 0);
    const env_table *t = env_transition_table(e);
    assert_int_equal(t->nrow, 8);
    for (int i = 0; i < 8; i++)
        assert_memory_equal(t->desc + i * 8, rows[i], 8);
    env_free(e);
    c.nrow = c.ncol = 5;
    e = env_create(&c, &err);
    assert_non_null(e);
    assert_int_equal(env_n_states(e), 25);
    env_free(e);
    c.ncol = 6;
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "square");

    /* Errors. */
    assert_int_equal(frozenlake_random_map(1, 0.8, 0, rows, &err), -1);
    assert_contains(err.msg, "size must be 2 to 64");
    assert_int_equal(frozenlake_random_map(65, 0.8, 0, rows, &err), -1);
    assert_int_equal(frozenlake_random_map(8, 0.0, 0, rows, &err), -1);
    assert_contains(err.msg, "frozen_prob");
    assert_int_equal(frozenlake_random_map(8, NAN, 0, rows, &err), -1);
    assert_int_equal(frozenlake_random_map(2, 1e-9, 0, rows, &err), -1);
    assert_contains(err.msg, "no 2x2 map with a path");
    /* p above 1 is clamped as the reference does: all frozen. */
    assert_int_equal(frozenlake_random_map(3, 1.5, 0, rows, &err), 0);
    assert_string_equal(rows[0], "SFF");
    assert_string_equal(rows[2], "FFG");
}

static void test_set_state_and_reproducible_episodes(void **state)
{
    (void)state;
    env *e = make_fl("4x4", 1, 1.0 / 3.0, 0);
    bdrl_err err;
    double v = 16;
    assert_int_equal(env_set_state(e, &v, &err), -1);
    assert_contains(err.msg, "integer in [0, 16)");
    v = 2.5;
    assert_int_equal(env_set_state(e, &v, &err), -1);
    v = 6;
    assert_int_equal(env_set_state(e, &v, &err), 0);
    double got;
    env_get_state(e, &got);
    assert_true(got == 6.0);

    /* Same seed, same trajectory; the NULL-seed episode after it too. */
    float traj[2][400];
    for (int rep = 0; rep < 2; rep++) {
        uint64_t seed = 2024;
        env_reset(e, &seed);
        for (int i = 0; i < 400; i++) {
            env_step st = env_do_step(e, i % 4);
            traj[rep][i] = st.obs[0];
            if (st.terminated || st.truncated)
                env_reset(e, NULL);
        }
    }
    assert_memory_equal(traj[0], traj[1], sizeof traj[0]);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_maps),
        cmocka_unit_test(test_moves_clamp_at_edges),
        cmocka_unit_test(test_holes_and_goal_terminate),
        cmocka_unit_test(test_terminal_self_loops),
        cmocka_unit_test(test_slippery_probabilities),
        cmocka_unit_test(test_steps_follow_categorical_sample),
        cmocka_unit_test(test_sampling_ties_take_the_next_outcome),
        cmocka_unit_test(test_step_frequencies_match_table),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_custom_maps),
        cmocka_unit_test(test_random_maps),
        cmocka_unit_test(test_set_state_and_reproducible_episodes),
    };
    return cmocka_run_group_tests_name("frozenlake", tests, NULL, NULL);
}
