/* Tests of Acrobot-v1 (src/envs/acrobot.c + env.c): bit-exactness against
 * the Python transcription of Gymnasium's step (committed trajectories, and
 * live through bdrl env rollout when python3 is there), termination and its
 * reward, truncation at 500, angle wrapping, velocity bounds, resets; and the
 * two equivalences the step's speed rests on: sincos gives sin's and cos's
 * results to the bit, and py_square gives pow(x, 2.0)'s. */
#define _GNU_SOURCE /* sincos */
#include "test_util.h"

#include "core/rng.h"
#include "envs/env.h"
#include "envs/py_square_impl.h"
#include "ref_csv.h"

#define PI_D 3.141592653589793

static env *make_ac(int max_steps)
{
    env_config c;
    env_config_defaults(&c, "acrobot");
    c.max_episode_steps = max_steps;
    bdrl_err err;
    env *e = env_create(&c, &err);
    if (!e)
        fail_msg("env_create: %s", err.msg);
    return e;
}

static void set4(env *e, double a, double b, double c, double d)
{
    double s[4] = {a, b, c, d};
    bdrl_err err;
    if (env_set_state(e, s, &err) != 0)
        fail_msg("env_set_state: %s", err.msg);
}

/* The observation is float32 of (cos θ1, sin θ1, cos θ2, sin θ2, dθ1, dθ2). */
static void check_obs(const env *e, const float *obs)
{
    double s[4];
    env_get_state(e, s);
    const float want[6] = {(float)cos(s[0]), (float)sin(s[0]), (float)cos(s[1]),
                           (float)sin(s[1]), (float)s[2],      (float)s[3]};
    if (memcmp(obs, want, sizeof want) != 0)
        fail_msg("observation differs from float32(cos/sin of the angles, velocities)");
}

static void test_accessors_and_errors(void **state)
{
    (void)state;
    env *e = make_ac(0);
    assert_string_equal(env_name(e), "acrobot");
    assert_int_equal(env_get_kind(e), ENV_ACROBOT);
    assert_int_equal(env_obs_dim(e), 6);
    assert_int_equal(env_state_dim(e), 4);
    assert_int_equal(env_n_actions(e), 3);
    assert_int_equal(env_n_states(e), 0);
    assert_int_equal(env_max_steps(e), 500);
    assert_null(env_transition_table(e));
    bdrl_err err;
    double bad[4] = {0, 0, INFINITY, 0};
    assert_int_equal(env_set_state(e, bad, &err), -1);
    assert_contains(err.msg, "not finite");
    /* env_observe_state: the observation of a state, e unchanged */
    uint64_t seed = 3;
    env_reset(e, &seed);
    double before[4], after[4], probe[4] = {0.5, -1.0, 2.0, -3.0};
    env_get_state(e, before);
    float obs[ENV_OBS_MAX];
    assert_int_equal(env_observe_state(e, probe, obs, &err), 0);
    const float want[6] = {(float)cos(0.5), (float)sin(0.5), (float)cos(-1.0), (float)sin(-1.0), 2.0f, -3.0f};
    assert_memory_equal(obs, want, sizeof want);
    env_get_state(e, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(env_observe_state(e, bad, obs, &err), -1);
    /* action 3 is refused */
    env_reset(e, NULL);
    env_step st = env_do_step(e, 3);
    assert_true(st.refused);
    env_free(e);
}

/* Every step of tests/ref/acrobot_ref.csv, bit for bit. */
static void test_reference_trajectories_bit_for_bit(void **state)
{
    (void)state;
    env_config c;
    env_config_defaults(&c, "acrobot");
    ref_stats s = ref_replay("acrobot", &c, 4 * PI_D, check_obs);
    fprintf(stderr, "acrobot: %ld reference steps in %ld trajectories identical (%ld terminated, "
                    "%ld truncated, %ld at the dtheta1 bound)\n",
            s.steps, s.trajectories, s.terminated, s.truncated, s.at_bound);
    assert_true(s.steps > 3000);
    assert_true(s.terminated > 5);
    assert_true(s.truncated > 3);
    assert_true(s.at_bound > 0);
}

static void test_reference_live_through_cli(void **state)
{
    (void)state;
    ref_python_check("acrobot", 300, 24);
}

/* Pointing straight up the tip is 2 above the pivot: terminated, reward 0.
 * Hanging down it is -2: reward -1. The condition is on the new state. */
static void test_termination_and_reward(void **state)
{
    (void)state;
    for (int a = 0; a < 3; a++) {
        env *e = make_ac(0);
        env_reset(e, NULL);
        set4(e, PI_D, 0, 0, 0);
        env_step st = env_do_step(e, a);
        assert_true(st.terminated);
        assert_false(st.truncated);
        assert_true(st.reward == 0.0);
        assert_true(env_step_success(e, &st));
        env_free(e);
        e = make_ac(0);
        env_reset(e, NULL);
        set4(e, 0, 0, 0, 0);
        st = env_do_step(e, a);
        assert_false(st.terminated);
        assert_true(st.reward == -1.0);
        assert_false(env_step_success(e, &st));
        env_free(e);
    }
    /* On random states the flag is exactly -cos(θ1) - cos(θ2 + θ1) > 1 of
     * the state after the step, and the reward follows it. */
    rng *r = rng_create(5, 9);
    env *e = make_ac(1 << 30);
    env_reset(e, NULL);
    int term = 0;
    for (int i = 0; i < 5000; i++) {
        set4(e, 2 * PI_D * (rng_uniform(r) - 0.5), 2 * PI_D * (rng_uniform(r) - 0.5),
             8 * (rng_uniform(r) - 0.5), 8 * (rng_uniform(r) - 0.5));
        env_step st = env_do_step(e, (int)rng_below(r, 3));
        double s[4];
        env_get_state(e, s);
        int want = -cos(s[0]) - cos(s[1] + s[0]) > 1.0;
        assert_int_equal(st.terminated, want);
        assert_true(st.reward == (want ? 0.0 : -1.0));
        term += want;
    }
    assert_true(term > 100 && term < 4900);
    env_free(e);
    rng_free(r);
}

/* 499 steps hanging down, then the 500th truncates; if that step also swings
 * up, both flags are set. A configured limit replaces 500. */
static void test_truncation_at_500(void **state)
{
    (void)state;
    for (int both = 0; both <= 1; both++) {
        env *e = make_ac(0);
        uint64_t seed = 4;
        env_reset(e, &seed);
        env_step st;
        for (int t = 1; t < 500; t++) {
            set4(e, 0, 0, 0, 0);
            st = env_do_step(e, t % 3);
            assert_false(st.terminated);
            assert_false(st.truncated);
            assert_int_equal(env_elapsed(e), t);
        }
        set4(e, both ? PI_D : 0, 0, 0, 0);
        st = env_do_step(e, 1);
        assert_int_equal(env_elapsed(e), 500);
        assert_true(st.truncated);
        assert_int_equal(st.terminated, both);
        assert_true(st.reward == (both ? 0.0 : -1.0));
        assert_true(env_do_step(e, 1).refused);
        env_free(e);
    }
    env *e = make_ac(2);
    env_reset(e, NULL);
    assert_false(env_do_step(e, 0).truncated);
    assert_true(env_do_step(e, 0).truncated);
    env_free(e);
}

/* Angles come back in [-π, π] whatever the integration gives, including
 * several turns away (wrap subtracts 2π one turn at a time, after rk4). */
static void test_wrapping(void **state)
{
    (void)state;
    const double starts[][4] = {
        {3.1, -3.1, 4.0, -4.0},   /* crosses ±π within the step */
        {20.0, -20.0, 0, 0},      /* three turns out */
        {-7.0, 7.0, 1.0, -1.0},
        {PI_D, -PI_D, 0, 0},      /* exactly ±π stay */
    };
    for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
        env *e = make_ac(0);
        env_reset(e, NULL);
        set4(e, starts[k][0], starts[k][1], starts[k][2], starts[k][3]);
        env_do_step(e, 1);
        double s[4];
        env_get_state(e, s);
        for (int i = 0; i < 2; i++)
            if (!(s[i] >= -PI_D && s[i] <= PI_D))
                fail_msg("start %zu: angle %d = %.17g outside [-pi, pi]", k, i, s[i]);
        env_free(e);
    }
    /* 3.1 + 0.2 * 4 goes past π and comes back near 3.9 - 2π. */
    env *e = make_ac(0);
    env_reset(e, NULL);
    set4(e, 3.1, 0, 4.0, 0);
    env_do_step(e, 1);
    double s[4];
    env_get_state(e, s);
    assert_true(s[0] < -2.0);
    env_free(e);
}

/* Velocities are clipped to exactly ±4π and ±9π. */
static void test_velocity_bounds(void **state)
{
    (void)state;
    const double v1 = 4 * PI_D, v2 = 9 * PI_D;
    env *e = make_ac(0);
    env_reset(e, NULL);
    set4(e, 0, 0, 100.0, -200.0);
    env_do_step(e, 1);
    double s[4];
    env_get_state(e, s);
    assert_true(s[2] == v1);
    assert_true(s[3] == -v2);
    set4(e, 0, 0, -100.0, 200.0);
    env_do_step(e, 1);
    env_get_state(e, s);
    assert_true(s[2] == -v1);
    assert_true(s[3] == v2);
    env_free(e);
    /* random play never leaves the box */
    e = make_ac(0);
    rng *r = rng_create(3, 4);
    uint64_t seed = 8;
    env_reset(e, &seed);
    for (int i = 0; i < 20000; i++) {
        env_step st = env_do_step(e, (int)rng_below(r, 3));
        env_get_state(e, s);
        assert_true(fabs(s[0]) <= PI_D && fabs(s[1]) <= PI_D);
        assert_true(fabs(s[2]) <= v1 && fabs(s[3]) <= v2);
        if (st.terminated || st.truncated)
            env_reset(e, NULL);
    }
    rng_free(r);
    env_free(e);
}

/* Starts are uniform in [-0.1, 0.1) in every entry, rounded to float32 (the
 * reference's astype), from stream RNG_STREAM_ENV of the seed. */
static void test_reset(void **state)
{
    (void)state;
    env *e = make_ac(0);
    double lo = 1, hi = -1;
    for (int i = 0; i < 5000; i++) {
        uint64_t seed = (uint64_t)i;
        const float *obs = env_reset(e, i % 2 ? &seed : NULL);
        double s[4];
        env_get_state(e, s);
        for (int k = 0; k < 4; k++) {
            assert_true(s[k] >= -0.1 && s[k] <= 0.1);
            assert_true(s[k] == (double)(float)s[k]);
            lo = fmin(lo, s[k]);
            hi = fmax(hi, s[k]);
        }
        check_obs(e, obs);
    }
    assert_true(lo < -0.099 && hi > 0.099);
    uint64_t s7 = 7;
    double a[4], b[4];
    env_reset(e, &s7);
    env_get_state(e, a);
    env_reset(e, &s7);
    env_get_state(e, b);
    assert_memory_equal(a, b, sizeof a);
    rng *r = rng_create(7, RNG_STREAM_ENV);
    for (int k = 0; k < 4; k++)
        assert_true(a[k] == (double)(float)(-0.1 + (0.1 - -0.1) * rng_uniform(r)));
    rng_free(r);
    env_free(e);
}

/* Random play almost never swings up within 500 steps; pumping energy
 * (torque along dθ2) does, and counts as success. */
static void test_episodes(void **state)
{
    (void)state;
    env *e = make_ac(0);
    rng *r = rng_create(1, 2);
    uint64_t seed = 1;
    long steps = 0;
    int eps = 0, solved = 0;
    env_reset(e, &seed);
    while (eps < 20) {
        env_step st = env_do_step(e, (int)rng_below(r, 3));
        steps++;
        if (st.terminated || st.truncated) {
            eps++;
            env_reset(e, NULL);
        }
    }
    assert_true((double)steps / eps > 300);
    for (int k = 0; k < 20; k++) {
        env_reset(e, NULL);
        env_step st;
        double s[4];
        int n = 0;
        do {
            env_get_state(e, s);
            st = env_do_step(e, s[3] > 0 ? 2 : 0);
            n++;
        } while (!st.terminated && !st.truncated);
        solved += env_step_success(e, &st);
        assert_true(st.terminated == env_step_success(e, &st));
    }
    assert_true(solved >= 18);
    rng_free(r);
    env_free(e);
}

/* A double from 64 random bits with the exponent drawn in [lo, hi]
 * (binary exponents, unbiased) and a random sign: every significand, log-
 * uniform magnitudes. */
static double rand_double(rng *r, int lo, int hi)
{
    uint64_t b = rng_u64(r);
    uint64_t ex = (uint64_t)(1023 + lo + (int)rng_below(r, (unsigned long)(hi - lo + 1)));
    b = (b & 0x800fffffffffffffULL) | ex << 52;
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* GCC at -O2 (and Clang) turn sin(x) and cos(x) of one argument into one
 * call to sincos: in acrobot.c's dsdt_y and write_obs (and in every step
 * before they were written so); the reference calls sin and cos. glibc's
 * sincos runs the same do_sin/do_cos kernels on the same reduction, so the
 * results should be those of sin and cos to the bit: checked here on 1.6
 * million arguments over the ranges the dynamics see (angles and angle sums
 * within a few turns), all of glibc's argument ranges (below 2^-27, below
 * 0.855469, below 2.426265, the simple reduction below 105414350, the big
 * one above; near multiples of pi/2) and the special values. sin and cos
 * are called through volatile pointers, so that the compiler cannot fuse
 * them into sincos here. */
static double (*volatile sin_fn)(double) = sin;
static double (*volatile cos_fn)(double) = cos;

static void test_sincos_is_sin_and_cos(void **state)
{
    (void)state;
    rng *r = rng_create(11, 3);
    const double specials[] = {0.0,     -0.0,     0x1p-1074, -0x1p-1074, 0x1p-1022, 0x1p-28, 0x1p-27,
                               0.855469, 2.426265, PI_D,      -PI_D,      PI_D / 2,  105414350.0, 0x1p1023,
                               INFINITY, -INFINITY, NAN};
    long n = 0, differ = 0;
    double first = 0;
    for (long i = 0; i < 1600000 + (long)(sizeof specials / sizeof specials[0]); i++) {
        double x;
        long k = i - (long)(sizeof specials / sizeof specials[0]);
        if (k < 0)
            x = specials[i];
        else
            switch (k % 8) {
            case 0: x = 4 * PI_D * (2 * rng_uniform(r) - 1); break;        /* angles, RK stages */
            case 1: x = 2.5 * PI_D * (2 * rng_uniform(r) - 1); break;      /* theta1 + theta2 - pi/2 */
            case 2: x = 0.855469 * (2 * rng_uniform(r) - 1); break;
            case 3: x = (0.855469 + (2.426265 - 0.855469) * rng_uniform(r)) * (k % 16 < 8 ? 1 : -1); break;
            case 4: x = rand_double(r, -60, 26); break;                     /* up to 105414350 */
            case 5: x = rand_double(r, 27, 1023); break;                    /* the big reduction */
            case 6: x = (double)(long)rng_below(r, 1u << 20) * (PI_D / 2) * (k % 16 < 8 ? 1 : -1) +
                        rand_double(r, -60, -20); break;                  /* near k pi/2 */
            default: x = rand_double(r, -1022, 1023); break;
            }
        double s, c;
        sincos(x, &s, &c);
        double s1 = sin_fn(x), c1 = cos_fn(x);
        n++;
        if (memcmp(&s, &s1, sizeof s) != 0 || memcmp(&c, &c1, sizeof c) != 0) {
            if (!differ++)
                first = x;
        }
    }
    rng_free(r);
    if (differ)
        fail_msg("sincos differs from sin/cos on %ld of %ld arguments, first %a", differ, n, first);
}

/* py_square (py_square_impl.h) is pow(x, 2.0) to the bit: on 6 million x
 * (velocities and d2 as the dynamics see them, log-uniform magnitudes over
 * the fast path's range and beyond it, any finite double, special values),
 * among them thousands whose pow differs from x*x (the case the shortcut
 * must leave to pow) and hundreds of thousands whose exact error is between
 * 0.4 and 0.48 ulp (the band the shortcut takes). */
static void test_py_square_is_pow(void **state)
{
    (void)state;
    rng *r = rng_create(12, 3);
    const double specials[] = {0.0,        -0.0,     1.0,       -1.0,      0.5,       3.0,        0x1p-32,
                               0x1p32,     0x1p-33,  0x1p33,    0x1.8p-32, 0x1.fffffffffffffp31, 0x1p-1074,
                               0x1p-600,   0x1p600,  0x1p1023,  INFINITY,  -INFINITY, NAN};
    long n = 0, differ = 0, pow_not_product = 0, band = 0;
    double first = 0, closest = 0.5; /* the least |lo|/u at which pow rounds away from x*x */
    for (long i = 0; i < 6000000 + (long)(sizeof specials / sizeof specials[0]); i++) {
        double x;
        long k = i - (long)(sizeof specials / sizeof specials[0]);
        if (k < 0)
            x = specials[i];
        else
            switch (k % 6) {
            case 0: x = 9 * PI_D * (2 * rng_uniform(r) - 1); break;  /* dtheta2 (dtheta1 within) */
            case 1: x = 30 * (2 * rng_uniform(r) - 1); break;        /* RK stages past the bounds */
            case 2: x = 0.75 + rng_uniform(r); break;                /* d2 in [0.75, 1.75] */
            case 3: x = rand_double(r, -32, 31); break;              /* the fast path's range */
            case 4: x = rand_double(r, -40, 40); break;              /* and across its edges */
            default: x = rand_double(r, -1022, 1023); break;
            }
        double want = pow(x, py_two), got = py_square(x), hi = x * x;
        n++;
        if (memcmp(&want, &got, sizeof want) != 0 && !differ++)
            first = x;
        if (want != hi)
            pow_not_product++;
        double u = hi >= 0x1p-64 && hi <= 0x1p64 ? ldexp(1.0, ilogb(hi) - 52) : 0;
        double lo = fma(x, x, -hi);
        if (u > 0 && fabs(lo) > 0.4 * u && fabs(lo) <= 0.48 * u)
            band++;
        if (u > 0 && want != hi && fabs(lo) / u < closest)
            closest = fabs(lo) / u;
    }
    rng_free(r);
    if (differ)
        fail_msg("py_square differs from pow(x, 2) on %ld of %ld x, first %a", differ, n, first);
    fprintf(stderr, "py_square: %ld x equal to pow's (%ld where pow(x, 2) != x*x, none with |lo| below %.4f ulp; "
                    "%ld with |lo| in (0.4, 0.48] ulp)\n", n, pow_not_product, closest, band);
    assert_true(pow_not_product > 2000);
    assert_true(band > 300000);
    /* the margin the 0.48 threshold relies on (0.52 ulp from glibc's bound) */
    assert_true(closest > 0.48);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accessors_and_errors),
        cmocka_unit_test(test_reference_trajectories_bit_for_bit),
        cmocka_unit_test(test_reference_live_through_cli),
        cmocka_unit_test(test_termination_and_reward),
        cmocka_unit_test(test_truncation_at_500),
        cmocka_unit_test(test_wrapping),
        cmocka_unit_test(test_velocity_bounds),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_episodes),
        cmocka_unit_test(test_sincos_is_sin_and_cos),
        cmocka_unit_test(test_py_square_is_pow),
    };
    return cmocka_run_group_tests_name("acrobot", tests, NULL, NULL);
}
