/* Tests of CartPole-v1 (src/envs/cartpole.c + the shared env.c): the step
 * against hand-derived values and against the reference's formulas written
 * out here, both integrators, thresholds, rewards, the time limit, resets. */
#include "test_util.h"

#include "core/rng.h"
#include "envs/env.h"

static env *make_cp(int semi, int sutton, int max_steps)
{
    env_config c;
    env_config_defaults(&c, "cartpole");
    c.semi_implicit = semi;
    c.sutton_barto_reward = sutton;
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

/* Separate, non-inlined calls: the expected values must come from libm's
 * sin and cos as Python's math module calls them, one at a time. */
__attribute__((noinline)) static double ref_cos(double t) { return cos(t); }
__attribute__((noinline)) static double ref_sin(double t) { return sin(t); }

/* Gymnasium's CartPoleEnv.step written out term by term, in its order. */
static void ref_step(const double in[4], int action, int semi, double out[4])
{
    const double gravity = 9.8, masscart = 1.0, masspole = 0.1;
    const double total_mass = masspole + masscart, length = 0.5;
    const double polemass_length = masspole * length, force_mag = 10.0, tau = 0.02;
    double x = in[0], x_dot = in[1], theta = in[2], theta_dot = in[3];
    double force = action == 1 ? force_mag : -force_mag;
    double costheta = ref_cos(theta), sintheta = ref_sin(theta);
    double a = polemass_length * (theta_dot * theta_dot);
    double b = a * sintheta;
    double temp = (force + b) / total_mass;
    double num = gravity * sintheta - costheta * temp;
    double c2 = masspole * (costheta * costheta);
    double den = length * (4.0 / 3.0 - c2 / total_mass);
    double thetaacc = num / den;
    double xacc = temp - ((polemass_length * thetaacc) * costheta) / total_mass;
    if (!semi) {
        out[0] = x + tau * x_dot;
        out[1] = x_dot + tau * xacc;
        out[2] = theta + tau * theta_dot;
        out[3] = theta_dot + tau * thetaacc;
    } else {
        out[1] = x_dot + tau * xacc;
        out[0] = x + tau * out[1];
        out[3] = theta_dot + tau * thetaacc;
        out[2] = theta + tau * out[3];
    }
}

/* The same dynamics in long double with the textbook (not the reference's)
 * grouping: catches a wrong formula that ref_step might share. */
static void ld_step(const double in[4], int action, int semi, long double out[4])
{
    long double x = in[0], xd = in[1], th = in[2], thd = in[3];
    long double f = action == 1 ? 10.0L : -10.0L, mp = 0.1L, mc = 1.0L, l = 0.5L, g = 9.8L, tau = 0.02L;
    long double M = mp + mc, c = cosl(th), s = sinl(th);
    long double temp = (f + mp * l * thd * thd * s) / M;
    long double tacc = (g * s - c * temp) / (l * (4.0L / 3.0L - mp * c * c / M));
    long double xacc = temp - mp * l * tacc * c / M;
    if (!semi) {
        out[0] = x + tau * xd; out[1] = xd + tau * xacc;
        out[2] = th + tau * thd; out[3] = thd + tau * tacc;
    } else {
        out[1] = xd + tau * xacc; out[0] = x + tau * out[1];
        out[3] = thd + tau * tacc; out[2] = th + tau * out[3];
    }
}

static void test_accessors_and_errors(void **state)
{
    (void)state;
    env *e = make_cp(0, 0, 0);
    assert_string_equal(env_name(e), "cartpole");
    assert_int_equal(env_get_kind(e), ENV_CARTPOLE);
    assert_int_equal(env_obs_dim(e), 4);
    assert_int_equal(env_state_dim(e), 4);
    assert_int_equal(env_n_actions(e), 2);
    assert_int_equal(env_n_states(e), 0);
    assert_int_equal(env_max_steps(e), 500);
    assert_null(env_transition_table(e));
    bdrl_err err;
    double bad[4] = {0, NAN, 0, 0};
    assert_int_equal(env_set_state(e, bad, &err), -1);
    assert_contains(err.msg, "not finite");
    env_free(e);

    env_config c;
    env_config_defaults(&c, "cartpole");
    c.max_episode_steps = -1;
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "max_episode_steps");
    c.max_episode_steps = 0;
    c.kind = (env_kind)ENV_N_KINDS; /* one past the registry */
    assert_null(env_create(&c, &err));
    assert_contains(err.msg, "unknown environment kind");
}

/* From rest, sin = 0 and cos = 1, so the step has closed forms:
 * temp = F/1.1, thetaacc = -temp / (0.5 (4/3 - 0.1/1.1)) = -(600/41) F/10,
 * xacc = temp - 0.05 thetaacc / 1.1 = (4400/451) F/10. */
static void test_hand_worked_step_from_rest(void **state)
{
    (void)state;
    for (int semi = 0; semi <= 1; semi++) {
        for (int action = 0; action <= 1; action++) {
            env *e = make_cp(semi, 0, 0);
            uint64_t seed = 1;
            env_reset(e, &seed);
            set4(e, 0, 0, 0, 0);
            env_step st = env_do_step(e, action);
            double sgn = action == 1 ? 1.0 : -1.0, s[4];
            env_get_state(e, s);
            double xd = sgn * 0.02 * 4400.0 / 451.0, thd = sgn * 0.02 * -600.0 / 41.0;
            assert_close(s[1], xd, 4e-16);
            assert_close(s[3], thd, 4e-16);
            if (!semi) {
                assert_true(s[0] == 0.0 && s[2] == 0.0); /* positions use the old velocities */
            } else {
                assert_close(s[0], 0.02 * xd, 1e-17);
                assert_close(s[2], 0.02 * thd, 1e-17);
            }
            assert_false(st.terminated);
            assert_false(st.truncated);
            assert_true(st.reward == 1.0);
            for (int i = 0; i < 4; i++)
                assert_true(st.obs[i] == (float)s[i]);
            env_free(e);
        }
    }
}

static void test_step_matches_reference_bit_for_bit(void **state)
{
    (void)state;
    const double starts[][4] = {
        {0.01, -0.02, 0.03, -0.04},
        {-0.0437, 0.0123, -0.0311, 0.0489},
        {1.3, -0.7, 0.15, 1.9},
        {-2.1, 1.4, -0.2, -2.5},
        {0.3, 0.2, 0.1, 0.0},
    };
    for (int semi = 0; semi <= 1; semi++) {
        for (size_t k = 0; k < sizeof starts / sizeof starts[0]; k++) {
            for (int action = 0; action <= 1; action++) {
                env *e = make_cp(semi, 0, 1000);
                env_reset(e, NULL);
                set4(e, starts[k][0], starts[k][1], starts[k][2], starts[k][3]);
                /* A few steps in a row, alternating actions, to also
                 * exercise states the env produced itself. */
                double cur[4], want[4], got[4];
                memcpy(cur, starts[k], sizeof cur);
                for (int t = 0; t < 5; t++) {
                    int a = (action + t) % 2;
                    ref_step(cur, a, semi, want);
                    long double ld[4];
                    ld_step(cur, a, semi, ld);
                    env_step st = env_do_step(e, a);
                    env_get_state(e, got);
                    for (int i = 0; i < 4; i++) {
                        if (memcmp(&got[i], &want[i], sizeof(double)) != 0)
                            fail_msg("semi=%d start %zu step %d component %d: got %a want %a", semi, k, t, i,
                                     got[i], want[i]);
                        assert_close(got[i], (double)ld[i], 1e-13);
                        assert_true(st.obs[i] == (float)want[i]);
                    }
                    memcpy(cur, got, sizeof cur);
                    if (st.terminated)
                        break;
                }
                env_free(e);
            }
        }
    }
}

/* Many random states over the whole range an episode can visit, both
 * actions, both integrators: every component bit-identical. */
static void test_step_matches_reference_on_random_states(void **state)
{
    (void)state;
    rng *r = rng_create(2718, 31);
    for (int semi = 0; semi <= 1; semi++) {
        env *e = make_cp(semi, 0, 1 << 30);
        env_reset(e, NULL);
        long differ = 0;
        for (int i = 0; i < 20000; i++) {
            double s[4] = {4.8 * (rng_uniform(r) - 0.5), 6.0 * (rng_uniform(r) - 0.5),
                           0.84 * (rng_uniform(r) - 0.5), 8.0 * (rng_uniform(r) - 0.5)};
            int a = (int)rng_below(r, 2);
            double want[4], got[4];
            ref_step(s, a, semi, want);
            set4(e, s[0], s[1], s[2], s[3]);
            env_do_step(e, a);
            env_get_state(e, got);
            differ += memcmp(got, want, sizeof got) != 0;
        }
        if (differ)
            fail_msg("semi=%d: %ld of 20000 steps differ from the reference in some bit", semi, differ);
        env_free(e);
    }
    rng_free(r);
}

/* Termination uses strict inequalities on the new state. With zero
 * velocities the explicit Euler step leaves x and theta exactly where they
 * are, so the thresholds themselves can be probed. */
static void test_threshold_edges(void **state)
{
    (void)state;
    const double thr = 12 * 2 * M_PI / 360;
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", thr);
    assert_string_equal(buf, "0.20943951023931953"); /* Python: 12 * 2 * math.pi / 360 */
    struct {
        double x, th;
        int term;
    } cases[] = {
        {2.4, 0, 0},
        {-2.4, 0, 0},
        {0, thr, 0},
        {0, -thr, 0},
        {nextafter(2.4, 3.0), 0, 1},
        {nextafter(-2.4, -3.0), 0, 1},
        {0, nextafter(thr, 1.0), 1},
        {0, nextafter(-thr, -1.0), 1},
        {nextafter(2.4, 0.0), nextafter(thr, 0.0), 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int action = 0; action <= 1; action++) {
            env *e = make_cp(0, 0, 0);
            env_reset(e, NULL);
            set4(e, cases[k].x, 0, cases[k].th, 0);
            env_step st = env_do_step(e, action);
            double s[4];
            env_get_state(e, s);
            assert_true(s[0] == cases[k].x && s[2] == cases[k].th);
            if (st.terminated != cases[k].term)
                fail_msg("case %zu (x %a, theta %a): terminated %d, want %d", k, cases[k].x, cases[k].th,
                         st.terminated, cases[k].term);
            assert_true(st.reward == 1.0); /* also on the terminating step */
            env_free(e);
        }
    }
}

static void test_rewards_and_sutton_barto(void **state)
{
    (void)state;
    for (int sutton = 0; sutton <= 1; sutton++) {
        env *e = make_cp(0, sutton, 0);
        uint64_t seed = 3;
        env_reset(e, &seed);
        /* Always pushing right: the pole falls within a few dozen steps. */
        env_step st;
        int n = 0;
        do {
            st = env_do_step(e, 1);
            n++;
            if (!st.terminated)
                assert_true(st.reward == (sutton ? 0.0 : 1.0));
        } while (!st.terminated && n < 500);
        assert_true(st.terminated);
        assert_true(n > 3 && n < 100);
        assert_true(st.reward == (sutton ? -1.0 : 1.0));
        env_free(e);
    }
}

static void test_truncation_at_500(void **state)
{
    (void)state;
    for (int both = 0; both <= 1; both++) {
        env *e = make_cp(0, 0, 0);
        uint64_t seed = 11;
        env_reset(e, &seed);
        env_step st;
        for (int t = 1; t < 500; t++) {
            set4(e, 0, 0, 0, 0); /* cannot fall in one step from rest */
            st = env_do_step(e, t % 2);
            assert_false(st.terminated);
            assert_false(st.truncated);
            assert_int_equal(env_elapsed(e), t);
        }
        if (both)
            set4(e, 2.4, 1.0, 0, 0); /* x + 0.02 * 1.0 > 2.4 */
        else
            set4(e, 0, 0, 0, 0);
        st = env_do_step(e, 0);
        assert_int_equal(env_elapsed(e), 500);
        assert_true(st.truncated);
        assert_int_equal(st.terminated, both);
        assert_true(st.reward == 1.0);
        /* A reset starts the count again. */
        env_reset(e, NULL);
        assert_int_equal(env_elapsed(e), 0);
        st = env_do_step(e, 0);
        assert_false(st.truncated);
        env_free(e);
    }
    /* A configured limit replaces 500. */
    env *e = make_cp(0, 0, 3);
    assert_int_equal(env_max_steps(e), 3);
    env_reset(e, NULL);
    set4(e, 0, 0, 0, 0);
    assert_false(env_do_step(e, 1).truncated);
    assert_false(env_do_step(e, 0).truncated);
    assert_true(env_do_step(e, 1).truncated);
    env_free(e);
}

static void test_reset_range_and_seed(void **state)
{
    (void)state;
    env *e = make_cp(0, 0, 0);
    double lo[4] = {1, 1, 1, 1}, hi[4] = {-1, -1, -1, -1}, sum[4] = {0};
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        uint64_t seed = (uint64_t)i;
        const float *obs = env_reset(e, i % 2 ? &seed : NULL);
        double s[4];
        env_get_state(e, s);
        for (int k = 0; k < 4; k++) {
            assert_true(s[k] >= -0.05 && s[k] < 0.05);
            assert_true(obs[k] == (float)s[k]);
            lo[k] = fmin(lo[k], s[k]);
            hi[k] = fmax(hi[k], s[k]);
            sum[k] += s[k];
        }
    }
    for (int k = 0; k < 4; k++) {
        assert_true(lo[k] < -0.0499 && hi[k] > 0.0499);
        /* uniform on +-0.05: sd 0.1/sqrt(12) */
        assert_close(sum[k] / n, 0.0, 5 * 0.1 / sqrt(12.0 * n));
    }
    /* Same seed, same start; another seed, another start. */
    double a[4], b[4], c[4];
    uint64_t s7 = 7, s8 = 8;
    env_reset(e, &s7);
    env_get_state(e, a);
    env_reset(e, &s8);
    env_get_state(e, c);
    env_reset(e, &s7);
    env_get_state(e, b);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
    /* The start is low + (high - low) * U from stream RNG_STREAM_ENV. */
    rng *r = rng_create(7, RNG_STREAM_ENV);
    for (int k = 0; k < 4; k++) {
        double want = -0.05 + (0.05 - -0.05) * rng_uniform(r);
        assert_true(a[k] == want);
    }
    rng_free(r);
    env_free(e);
}

static void test_null_seed_continues_stream(void **state)
{
    (void)state;
    env *e = make_cp(0, 0, 0);
    uint64_t seed = 5;
    double s1[4], s2[4], t1[4], t2[4];
    env_reset(e, &seed);
    env_get_state(e, s1);
    /* Steps draw nothing from the stream, so the next unseeded reset takes
     * the next four numbers however long the episode was. */
    for (int i = 0; i < 10; i++)
        env_do_step(e, i % 2);
    env_reset(e, NULL);
    env_get_state(e, s2);
    assert_memory_not_equal(s1, s2, sizeof s1);
    env_reset(e, &seed);
    env_get_state(e, t1);
    env_reset(e, NULL);
    env_get_state(e, t2);
    assert_memory_equal(s1, t1, sizeof s1);
    assert_memory_equal(s2, t2, sizeof s2);
    rng *r = rng_create(5, RNG_STREAM_ENV);
    for (int k = 0; k < 8; k++) {
        double want = -0.05 + 0.1 * rng_uniform(r);
        assert_true((k < 4 ? s1[k] : s2[k - 4]) == want);
    }
    rng_free(r);
    env_free(e);
}

/* Whole episodes: the integrators differ and the returns are plausible for a
 * random policy (about 22 steps on average). */
static void test_random_policy_episodes(void **state)
{
    (void)state;
    double mean[2];
    for (int semi = 0; semi <= 1; semi++) {
        env *e = make_cp(semi, 0, 0);
        rng *ar = rng_create(1, 77);
        uint64_t seed = 2;
        env_reset(e, &seed);
        long steps = 0, episodes = 0;
        while (episodes < 2000) {
            env_step st = env_do_step(e, (int)rng_below(ar, 2));
            steps++;
            if (st.terminated || st.truncated) {
                episodes++;
                env_reset(e, NULL);
            }
        }
        mean[semi] = (double)steps / (double)episodes;
        assert_true(mean[semi] > 15 && mean[semi] < 30);
        rng_free(ar);
        env_free(e);
    }
    assert_true(mean[0] != mean[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accessors_and_errors),
        cmocka_unit_test(test_hand_worked_step_from_rest),
        cmocka_unit_test(test_step_matches_reference_bit_for_bit),
        cmocka_unit_test(test_step_matches_reference_on_random_states),
        cmocka_unit_test(test_threshold_edges),
        cmocka_unit_test(test_rewards_and_sutton_barto),
        cmocka_unit_test(test_truncation_at_500),
        cmocka_unit_test(test_reset_range_and_seed),
        cmocka_unit_test(test_null_seed_continues_stream),
        cmocka_unit_test(test_random_policy_episodes),
    };
    return cmocka_run_group_tests_name("cartpole", tests, NULL, NULL);
}
