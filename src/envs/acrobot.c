/* acrobot.c — Gymnasium's Acrobot-v1, bit for bit.
 *
 * Reference: gymnasium/envs/classic_control/acrobot.py (AcrobotEnv with
 * book_or_nips = "book", torque_noise_max = 0, and its module helpers wrap,
 * bound and rk4). The dynamics run in float64 there (numpy scalars and
 * arrays), so every expression below keeps the reference's operands and
 * left-to-right order in doubles; with no FMA contraction (the Makefile
 * passes -ffp-contract=off) and the same libm, the state after each step is
 * the reference's to the last bit.
 *
 * Two details decide bit-exactness beyond the order of operations:
 * - `x**2` on a numpy float64 is C pow(x, 2.0), which in glibc is not always
 *   the correctly rounded x*x (about 1 square in 1,200 differs in the last
 *   bit). py_square (py_square_impl.h) returns pow's result, calling pow
 *   only for the few squares whose rounding it could change.
 * - numpy's cos/sin on float64 are libm's on CPUs without AVX-512; numpy's
 *   AVX-512 (SVML) versions can round differently in the last bit, and then
 *   the reference itself drifts from libm (the same caveat as CartPole).
 *
 * Resets draw the four state entries uniformly in [-0.1, 0.1) from the env's
 * own stream and round them to float32, as the reference's
 * uniform(...).astype(np.float32) does; the first step then widens them to
 * float64 (np.append with the torque).
 */
#include "env_impl.h"
#include "py_square_impl.h"

#include <math.h>

#define AC_PI 3.141592653589793 /* numpy.pi */
#define AC_DT 0.2
#define AC_LINK_LENGTH_1 1.0
#define AC_LINK_MASS_1 1.0
#define AC_LINK_MASS_2 1.0
#define AC_LINK_COM_POS_1 0.5
#define AC_LINK_COM_POS_2 0.5
#define AC_LINK_MOI 1.0
#define AC_G 9.8
#define AC_MAX_VEL_1 (4 * AC_PI)
#define AC_MAX_VEL_2 (9 * AC_PI)

static const double AC_TORQUE[3] = {-1.0, 0.0, +1.0};

/* The reference's _dsdt on (theta1, theta2, dtheta1, dtheta2, torque), given
 * sin and cos of theta2 (it calls cos(theta2) twice and sin(theta2) three
 * times, all equal); writes the four derivatives (the torque's is 0).
 * Squares of the constants (lc1**2, l1**2, lc2**2) are exact either way and
 * written as products. Inlined: a call per stage cost about 6% of a step. */
static inline __attribute__((always_inline)) void dsdt(const double y[5], double sin_theta2, double cos_theta2,
                                                       double dy[4])
{
    const double m1 = AC_LINK_MASS_1, m2 = AC_LINK_MASS_2, l1 = AC_LINK_LENGTH_1;
    const double lc1 = AC_LINK_COM_POS_1, lc2 = AC_LINK_COM_POS_2, I1 = AC_LINK_MOI, I2 = AC_LINK_MOI;
    const double g = AC_G;
    const double a = y[4], theta1 = y[0], theta2 = y[1], dtheta1 = y[2], dtheta2 = y[3];
    double d1 = m1 * (lc1 * lc1) + m2 * ((l1 * l1) + (lc2 * lc2) + 2 * l1 * lc2 * cos_theta2) + I1 + I2;
    double d2 = m2 * ((lc2 * lc2) + l1 * lc2 * cos_theta2) + I2;
    double phi2 = m2 * lc2 * g * cos(theta1 + theta2 - AC_PI / 2.0);
    double phi1 = -m2 * l1 * lc2 * py_square(dtheta2) * sin_theta2 -
                  2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin_theta2 +
                  (m1 * lc1 + m2 * l1) * g * cos(theta1 - AC_PI / 2) + phi2;
    /* "book" (and the Java implementation's) equation, not the NIPS paper's */
    double ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * py_square(dtheta1) * sin_theta2 - phi2) /
                      (m2 * (lc2 * lc2) + I2 - py_square(d2) / d1);
    double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    dy[0] = dtheta1;
    dy[1] = dtheta2;
    dy[2] = ddtheta1;
    dy[3] = ddtheta2;
}

/* dsdt computing sin and cos of theta2 itself. Written as two calls: GCC
 * (like Clang) turns them into one sincos call, which tests/test_acrobot.c
 * checks gives sin's and cos's results to the bit. */
static void dsdt_y(const double y[5], double dy[4])
{
    dsdt(y, sin(y[1]), cos(y[1]), dy);
}

/* The reference's rk4 over t = [0, dt]: one classical Runge-Kutta step on
 * the augmented state, elementwise in numpy's order. The torque entry's
 * derivative is 0, so it stays the torque (torque + h * 0.0 == torque).
 * sin_theta2 and cos_theta2 are those of y0[1] (kept from the last
 * observation). */
static void rk4(const double y0[5], double sin_theta2, double cos_theta2, double out[4])
{
    const double dt = AC_DT - 0; /* t[1] - t[0] */
    const double dt2 = dt / 2.0;
    double k1[4], k2[4], k3[4], k4[4], y[5];
    dsdt(y0, sin_theta2, cos_theta2, k1);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt2 * k1[i];
    y[4] = y0[4] + dt2 * 0.0;
    dsdt_y(y, k2);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt2 * k2[i];
    dsdt_y(y, k3);
    for (int i = 0; i < 4; i++)
        y[i] = y0[i] + dt * k3[i];
    y[4] = y0[4] + dt * 0.0;
    dsdt_y(y, k4);
    const double h6 = dt / 6.0;
    for (int i = 0; i < 4; i++)
        out[i] = y0[i] + h6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
}

/* wrap(x, -pi, pi): whole turns of diff = M - m, subtracted or added one at
 * a time like the reference's while loops (so the rounding is its). */
static double wrap_pi(double x)
{
    const double m = -AC_PI, M = AC_PI, diff = M - m;
    while (x > M)
        x = x - diff;
    while (x < m)
        x = x + diff;
    return x;
}

/* bound(x, m, M) = Python's min(max(x, m), M): max keeps x unless m > x,
 * min keeps that unless M < it. */
static double bound(double x, double m, double M)
{
    double y = m > x ? m : x;
    return M < y ? M : y;
}

/* The observation of e->ac.s, and sin/cos of theta2 in doubles for the next
 * step's first dsdt. Returns cos(theta1) (the termination test's). */
static double write_obs(env *e)
{
    ac_data *ac = &e->ac;
    const double *s = ac->s;
    const double c0 = cos(s[0]), s0 = sin(s[0]);
    ac->cos_theta2 = cos(s[1]);
    ac->sin_theta2 = sin(s[1]);
    e->obs[0] = (float)c0;
    e->obs[1] = (float)s0;
    e->obs[2] = (float)ac->cos_theta2;
    e->obs[3] = (float)ac->sin_theta2;
    e->obs[4] = (float)s[2];
    e->obs[5] = (float)s[3];
    return c0;
}

static int acrobot_init(env *e, const env_config *c, bdrl_err *err)
{
    (void)c;
    (void)err;
    e->n_actions = 3;
    e->obs_dim = 6;
    e->state_dim = 4;
    e->n_states = 0;
    e->max_steps = 500; /* Acrobot-v1's registration */
    return 0;
}

static void acrobot_reset(env *e)
{
    /* np_random.uniform(low=-0.1, high=0.1, size=(4,)).astype(np.float32) */
    const double low = -0.1, high = 0.1;
    for (int i = 0; i < 4; i++)
        e->ac.s[i] = (double)(float)(low + (high - low) * rng_uniform(e->r));
    write_obs(e);
}

static void acrobot_step(env *e, int action, env_step *out)
{
    double *s = e->ac.s;
    double y0[5] = {s[0], s[1], s[2], s[3], AC_TORQUE[action]};
    double ns[4];
    rk4(y0, e->ac.sin_theta2, e->ac.cos_theta2, ns);
    s[0] = wrap_pi(ns[0]);
    s[1] = wrap_pi(ns[1]);
    s[2] = bound(ns[2], -AC_MAX_VEL_1, AC_MAX_VEL_1);
    s[3] = bound(ns[3], -AC_MAX_VEL_2, AC_MAX_VEL_2);
    const double cos_theta1 = write_obs(e);
    /* The tip above the line one link length over the pivot:
     * -cos(s[0]) - cos(s[1] + s[0]) > 1. With cos(s[0]) >= 0 the exact
     * difference is at most -cos(s[1] + s[0]) <= 1 (libm's cos is never
     * below -1), and rounding cannot take a value at most 1 above 1: the
     * answer is no, so the second cos is called only while the first link
     * points above the horizontal (seldom under random play). */
    int terminated = cos_theta1 < 0 && -cos_theta1 - cos(s[1] + s[0]) > 1.0;
    out->terminated = terminated;
    out->reward = terminated ? 0.0 : -1.0;
    out->obs = e->obs;
}

static void acrobot_get_state(const env *e, double *state)
{
    for (int i = 0; i < 4; i++)
        state[i] = e->ac.s[i];
}

static int acrobot_set_state(env *e, const double *state, bdrl_err *err)
{
    for (int i = 0; i < 4; i++)
        if (!isfinite(state[i]))
            return err_set(err, "Acrobot state component %d is not finite (%g)", i, state[i]);
    for (int i = 0; i < 4; i++)
        e->ac.s[i] = state[i];
    write_obs(e);
    return 0;
}

static int acrobot_success(const env *e, const env_step *st)
{
    (void)e;
    return st->terminated; /* swung up */
}

static void acrobot_describe(const env *e, const env_config *c, FILE *f)
{
    (void)e;
    (void)c;
    fprintf(f, "actions: 0 torque -1, 1 torque 0, 2 torque +1 (on the joint between the links)\n");
    fprintf(f, "observation: cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2 (float32)\n");
    fprintf(f, "state: theta1, theta2 wrapped to [-pi, pi]; dtheta1 in [-4 pi, 4 pi], dtheta2 in [-9 pi, 9 pi]\n");
    fprintf(f, "integrator: rk4, dt 0.2 (the book's dynamics)\n");
    fprintf(f, "termination: -cos(theta1) - cos(theta2 + theta1) > 1\n");
    fprintf(f, "reward: -1 per step, 0 on the terminating one\n");
}

static const char *const AC_ACTIONS[3] = {"torque -1", "torque 0", "torque +1"};

const env_class acrobot_class = {
    .info = {"acrobot", "Acrobot-v1",
             "Acrobot-v1: swing a two-link chain's tip above a line; 6 observations, 3 actions, "
             "500-step limit",
             "theta1,theta2,dtheta1,dtheta2", "THETA1,THETA2,DTHETA1,DTHETA2", 500, 0, -100.0, 0, 0, NULL,
             NULL},
    .action_names = AC_ACTIONS,
    .init = acrobot_init,
    .reset = acrobot_reset,
    .step = acrobot_step,
    .get_state = acrobot_get_state,
    .set_state = acrobot_set_state,
    .success = acrobot_success,
    .describe = acrobot_describe,
};
