/* Tests of MountainCar-v0 (src/envs/mountaincar.c + env.c): bit-exactness
 * against the Python transcription of Gymnasium's step (committed
 * trajectories, and live through bdrl env rollout when python3 is there),
 * the step's formula, velocity and position clipping, the left wall,
 * termination, reward, truncation at 200, resets. */
#include "test_util.h"

#include "core/rng.h"
#include "envs/env.h"
#include "ref_csv.h"

static env *make_mc(int max_steps)
{
    env_config c;
    env_config_defaults(&c, "mountaincar");
    c.max_episode_steps = max_steps;
    bdrl_err err;
    env *e = env_create(&c, &err);
    if (!e)
        fail_msg("env_create: %s", err.msg);
    return e;
}

static void set2(env *e, double p, double v)
{
    double s[2] = {p, v};
    bdrl_err err;
    if (env_set_state(e, s, &err) != 0)
        fail_msg("env_set_state: %s", err.msg);
}

static env_step step_from(env *e, double p, double v, int a, double *np, double *nv)
{
    set2(e, p, v);
    env_step st = env_do_step(e, a);
    double s[2];
    env_get_state(e, s);
    *np = s[0];
    *nv = s[1];
    return st;
}

static void check_obs(const env *e, const float *obs)
{
    double s[2];
    env_get_state(e, s);
    if (obs[0] != (float)s[0] || obs[1] != (float)s[1])
        fail_msg("observation differs from float32(position, velocity)");
}

static void test_accessors_and_errors(void **state)
{
    (void)state;
    env *e = make_mc(0);
    assert_string_equal(env_name(e), "mountaincar");
    assert_int_equal(env_get_kind(e), ENV_MOUNTAINCAR);
    assert_int_equal(env_obs_dim(e), 2);
    assert_int_equal(env_state_dim(e), 2);
    assert_int_equal(env_n_actions(e), 3);
    assert_int_equal(env_n_states(e), 0);
    assert_int_equal(env_max_steps(e), 200);
    assert_null(env_transition_table(e));
    bdrl_err err;
    double bad[2] = {NAN, 0};
    assert_int_equal(env_set_state(e, bad, &err), -1);
    assert_contains(err.msg, "not finite");
    env_reset(e, NULL);
    assert_true(env_do_step(e, -1).refused);
    env_free(e);
}

static void test_reference_trajectories_bit_for_bit(void **state)
{
    (void)state;
    env_config c;
    env_config_defaults(&c, "mountaincar");
    ref_stats s = ref_replay("mountaincar", &c, 0.07, check_obs);
    fprintf(stderr, "mountaincar: %ld reference steps in %ld trajectories identical (%ld terminated, "
                    "%ld truncated, %ld at the velocity clip)\n",
            s.steps, s.trajectories, s.terminated, s.truncated, s.at_bound);
    assert_true(s.steps > 3000);
    assert_true(s.terminated > 5);
    assert_true(s.truncated > 3);
    assert_true(s.at_bound > 0);
}

static void test_reference_live_through_cli(void **state)
{
    (void)state;
    ref_python_check("mountaincar", 400, 40);
}

/* velocity += (a - 1) * 0.001 + cos(3 p) * (-0.0025); p += velocity. */
static void test_step_formula(void **state)
{
    (void)state;
    env *e = make_mc(0);
    env_reset(e, NULL);
    const double ps[] = {-0.5, -0.9, 0.1, -0.3};
    const double vs[] = {0.0, 0.01, -0.02, 0.005};
    for (int k = 0; k < 4; k++)
        for (int a = 0; a < 3; a++) {
            double p, v;
            env_step st = step_from(e, ps[k], vs[k], a, &p, &v);
            double wv = vs[k] + ((a - 1) * 0.001 + cos(3 * ps[k]) * (-0.0025));
            assert_true(v == wv);
            assert_true(p == ps[k] + wv);
            assert_true(st.reward == -1.0);
            assert_false(st.terminated);
            check_obs(e, st.obs);
        }
    env_free(e);
}

/* Velocity is clipped to exactly ±0.07, position to [-1.2, 0.6]. */
static void test_clipping(void **state)
{
    (void)state;
    env *e = make_mc(0);
    env_reset(e, NULL);
    double p, v;
    /* at p = -1 gravity pushes right (cos(-3) < 0) */
    step_from(e, -1.0, 0.07, 2, &p, &v);
    assert_true(v == 0.07);
    assert_true(p == -1.0 + 0.07);
    /* at p = 0 it pushes left */
    step_from(e, 0.0, -0.07, 0, &p, &v);
    assert_true(v == -0.07);
    /* past the right end: position 0.6, which is also the goal */
    env_step st = step_from(e, 0.59, 0.05, 2, &p, &v);
    assert_true(p == 0.6);
    assert_true(v > 0);
    assert_true(st.terminated);
    env_free(e);
}

/* Reaching -1.2 while moving left stops the car (velocity 0); at the wall
 * moving right it leaves again. */
static void test_left_wall(void **state)
{
    (void)state;
    env *e = make_mc(0);
    env_reset(e, NULL);
    double p, v;
    step_from(e, -1.19, -0.05, 0, &p, &v);
    assert_true(p == -1.2);
    assert_true(v == 0.0 && !signbit(v));
    /* exactly at the wall with no velocity, gravity (cos(-3.6) < 0) pulls
     * right: no reset */
    step_from(e, -1.2, 0.0, 1, &p, &v);
    assert_true(v > 0);
    assert_true(p > -1.2);
    step_from(e, -1.2, 0.03, 2, &p, &v);
    assert_true(p > -1.2 && v > 0);
    /* a step that ends just right of the wall keeps its negative velocity */
    step_from(e, -1.1, -0.05, 0, &p, &v);
    assert_true(p > -1.2 && v < 0);
    env_free(e);
}

/* Terminated when position >= 0.5 and velocity >= 0; the reward is -1 on
 * every step, the terminating one included. */
static void test_termination_and_reward(void **state)
{
    (void)state;
    env *e = make_mc(0);
    env_reset(e, NULL);
    double p, v;
    env_step st = step_from(e, 0.49, 0.02, 2, &p, &v);
    assert_true(p >= 0.5 && v >= 0);
    assert_true(st.terminated);
    assert_true(st.reward == -1.0);
    assert_true(env_step_success(e, &st));
    /* beyond 0.5 but rolling back: not terminated */
    env_reset(e, NULL);
    st = step_from(e, 0.56, -0.03, 0, &p, &v);
    assert_true(p >= 0.5 && v < 0);
    assert_false(st.terminated);
    /* just short of the goal */
    st = step_from(e, 0.45, 0.01, 1, &p, &v);
    assert_true(p < 0.5);
    assert_false(st.terminated);
    env_free(e);
}

/* At the bottom of the valley (3p = -π/2) with no push the car barely
 * moves: 199 steps pass, the 200th truncates; a configured limit replaces
 * 200; both flags when the 200th step reaches the goal. */
static void test_truncation_at_200(void **state)
{
    (void)state;
    for (int both = 0; both <= 1; both++) {
        env *e = make_mc(0);
        uint64_t seed = 2;
        env_reset(e, &seed);
        env_step st;
        for (int t = 1; t < 200; t++) {
            set2(e, -0.5235987755982988, 0);
            st = env_do_step(e, 1);
            assert_false(st.terminated || st.truncated);
        }
        set2(e, both ? 0.55 : -0.5, both ? 0.01 : 0);
        st = env_do_step(e, 1);
        assert_int_equal(env_elapsed(e), 200);
        assert_true(st.truncated);
        assert_int_equal(st.terminated, both);
        assert_true(st.reward == -1.0);
        env_free(e);
    }
    env *e = make_mc(3);
    env_reset(e, NULL);
    assert_false(env_do_step(e, 1).truncated);
    assert_false(env_do_step(e, 1).truncated);
    env_step st = env_do_step(e, 1);
    assert_true(st.truncated);
    assert_false(env_step_success(e, &st));
    env_free(e);
}

static void test_reset(void **state)
{
    (void)state;
    env *e = make_mc(0);
    double lo = 0, hi = -1;
    for (int i = 0; i < 5000; i++) {
        uint64_t seed = (uint64_t)i;
        const float *obs = env_reset(e, i % 2 ? &seed : NULL);
        double s[2];
        env_get_state(e, s);
        assert_true(s[0] >= -0.6 && s[0] < -0.4);
        assert_true(s[1] == 0.0);
        check_obs(e, obs);
        lo = fmin(lo, s[0]);
        hi = fmax(hi, s[0]);
    }
    assert_true(lo < -0.599 && hi > -0.401);
    uint64_t s7 = 7;
    double a[2];
    env_reset(e, &s7);
    env_get_state(e, a);
    rng *r = rng_create(7, RNG_STREAM_ENV);
    assert_true(a[0] == -0.6 + (-0.4 - -0.6) * rng_uniform(r));
    rng_free(r);
    env_free(e);
}

/* Random play never reaches the flag in 200 steps; pushing along the
 * velocity does. */
static void test_episodes(void **state)
{
    (void)state;
    env *e = make_mc(0);
    rng *r = rng_create(1, 2);
    uint64_t seed = 1;
    env_reset(e, &seed);
    int eps = 0, solved = 0;
    while (eps < 20) {
        env_step st = env_do_step(e, (int)rng_below(r, 3));
        if (st.terminated || st.truncated) {
            eps++;
            solved += st.terminated;
            env_reset(e, NULL);
        }
    }
    assert_int_equal(solved, 0);
    for (int k = 0; k < 20; k++) {
        env_reset(e, NULL);
        env_step st;
        double s[2];
        do {
            env_get_state(e, s);
            st = env_do_step(e, s[1] >= 0 ? 2 : 0);
        } while (!st.terminated && !st.truncated);
        solved += env_step_success(e, &st);
    }
    assert_int_equal(solved, 20);
    rng_free(r);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accessors_and_errors),
        cmocka_unit_test(test_reference_trajectories_bit_for_bit),
        cmocka_unit_test(test_reference_live_through_cli),
        cmocka_unit_test(test_step_formula),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_left_wall),
        cmocka_unit_test(test_termination_and_reward),
        cmocka_unit_test(test_truncation_at_200),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_episodes),
    };
    return cmocka_run_group_tests_name("mountaincar", tests, NULL, NULL);
}
