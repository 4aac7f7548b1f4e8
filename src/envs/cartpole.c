/* cartpole.c — Gymnasium's CartPole-v1, bit for bit.
 *
 * Reference: gymnasium/envs/classic_control/cartpole.py (CartPoleEnv, the
 * 1.x version with sutton_barto_reward). Every expression below keeps the
 * reference's operands and left-to-right order, so with IEEE doubles, no FMA
 * contraction (the Makefile passes -ffp-contract=off) and the same libm sin
 * and cos, the state after each step is the reference's to the last bit.
 * Rewriting x / total_mass as x * (1 / total_mass), or a * b * c as
 * a * (b * c), would be faster and wrong.
 *
 * "The same sin and cos" is the platform's libm, which is what Python's math
 * module calls and what numpy calls on CPUs without AVX-512; numpy's AVX-512
 * (SVML) float64 sin/cos round differently in the last bit, so there the
 * reference itself drifts from libm. GCC fuses the two calls into sincos,
 * whose results equal glibc's separate sin and cos.
 */
#include "env_impl.h"

#include <math.h>

/* The reference's constants, derived the way it derives them. */
#define CP_GRAVITY 9.8
#define CP_MASSCART 1.0
#define CP_MASSPOLE 0.1
#define CP_TOTAL_MASS (CP_MASSPOLE + CP_MASSCART)
#define CP_LENGTH 0.5 /* half the pole's length */
#define CP_POLEMASS_LENGTH (CP_MASSPOLE * CP_LENGTH)
#define CP_FORCE_MAG 10.0
#define CP_TAU 0.02
/* 12 * 2 * math.pi / 360, evaluated left to right; 3.141592653589793 is
 * math.pi, the double nearest to pi. */
#define CP_THETA_THRESHOLD (12 * 2 * 3.141592653589793 / 360)
#define CP_X_THRESHOLD 2.4

static int cartpole_init(env *e, const env_config *c, bdrl_err *err)
{
    (void)err;
    e->n_actions = 2;
    e->obs_dim = 4;
    e->state_dim = 4;
    e->n_states = 0;
    e->max_steps = 500; /* CartPole-v1's registration */
    e->cp.semi_implicit = c->semi_implicit != 0;
    e->cp.sutton_barto = c->sutton_barto_reward != 0;
    return 0;
}

static void write_obs(env *e)
{
    /* np.array(self.state, dtype=np.float32): round to nearest. */
    e->obs[0] = (float)e->cp.x;
    e->obs[1] = (float)e->cp.x_dot;
    e->obs[2] = (float)e->cp.theta;
    e->obs[3] = (float)e->cp.theta_dot;
}

static void cartpole_reset(env *e)
{
    /* np_random.uniform(low=-0.05, high=0.05, size=(4,)) is
     * low + (high - low) * U, filled in state order. */
    const double low = -0.05, high = 0.05;
    e->cp.x = low + (high - low) * rng_uniform(e->r);
    e->cp.x_dot = low + (high - low) * rng_uniform(e->r);
    e->cp.theta = low + (high - low) * rng_uniform(e->r);
    e->cp.theta_dot = low + (high - low) * rng_uniform(e->r);
    write_obs(e);
}

static void cartpole_step(env *e, int action, env_step *out)
{
    cp_data *c = &e->cp;
    double x = c->x, x_dot = c->x_dot, theta = c->theta, theta_dot = c->theta_dot;
    double force = action == 1 ? CP_FORCE_MAG : -CP_FORCE_MAG;
    double costheta = cos(theta);
    double sintheta = sin(theta);

    /* np.square(v) is v * v. */
    double temp = (force + CP_POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / CP_TOTAL_MASS;
    double thetaacc = (CP_GRAVITY * sintheta - costheta * temp) /
                      (CP_LENGTH * (4.0 / 3.0 - CP_MASSPOLE * (costheta * costheta) / CP_TOTAL_MASS));
    double xacc = temp - CP_POLEMASS_LENGTH * thetaacc * costheta / CP_TOTAL_MASS;

    if (!c->semi_implicit) {
        x = x + CP_TAU * x_dot;
        x_dot = x_dot + CP_TAU * xacc;
        theta = theta + CP_TAU * theta_dot;
        theta_dot = theta_dot + CP_TAU * thetaacc;
    } else {
        /* Semi-implicit Euler: positions use the updated velocities. */
        x_dot = x_dot + CP_TAU * xacc;
        x = x + CP_TAU * x_dot;
        theta_dot = theta_dot + CP_TAU * thetaacc;
        theta = theta + CP_TAU * theta_dot;
    }
    c->x = x;
    c->x_dot = x_dot;
    c->theta = theta;
    c->theta_dot = theta_dot;

    /* Strict inequalities on the new state: exactly on a threshold is alive. */
    int terminated = x < -CP_X_THRESHOLD || x > CP_X_THRESHOLD ||
                     theta < -CP_THETA_THRESHOLD || theta > CP_THETA_THRESHOLD;
    /* +1 on every step including the terminating one; with
     * sutton_barto_reward, 0 per surviving step and -1 on the terminating
     * one. (Stepping past termination, where the reference gives 0 or -1
     * and warns, is not allowed here.) */
    if (c->sutton_barto)
        out->reward = terminated ? -1.0 : 0.0;
    else
        out->reward = 1.0;
    out->terminated = terminated;
    write_obs(e);
    out->obs = e->obs;
}

static void cartpole_get_state(const env *e, double *state)
{
    state[0] = e->cp.x;
    state[1] = e->cp.x_dot;
    state[2] = e->cp.theta;
    state[3] = e->cp.theta_dot;
}

static int cartpole_set_state(env *e, const double *state, bdrl_err *err)
{
    for (int i = 0; i < 4; i++)
        if (!isfinite(state[i]))
            return err_set(err, "CartPole state component %d is not finite (%g)", i, state[i]);
    e->cp.x = state[0];
    e->cp.x_dot = state[1];
    e->cp.theta = state[2];
    e->cp.theta_dot = state[3];
    write_obs(e);
    return 0;
}

static int cartpole_success(const env *e, const env_step *st)
{
    (void)e;
    return st->truncated && !st->terminated; /* survived to the time limit */
}

static void cartpole_describe(const env *e, const env_config *c, FILE *f)
{
    (void)e;
    fprintf(f, "actions: 0 push left, 1 push right\n");
    fprintf(f, "observation: x, x_dot, theta, theta_dot (float32 copies of the float64 state)\n");
    fprintf(f, "integrator: %s\n", c->semi_implicit ? "semi_implicit" : "euler");
    fprintf(f, "termination: |x| > 2.4 or |theta| > 12 degrees\n");
    fprintf(f, "reward: %s\n", c->sutton_barto_reward ? "0 per step, -1 on termination"
                                                      : "1 per step, including the terminating one");
}

/* Reference probe states for the Monte Carlo truth: hand-picked (0-7) and,
 * from 8, the states after steps 4 and 8 of episodes of uniformly random
 * actions (env_reset with seeds 2024..2029; actions rng_below(rng_create(seed,
 * 0), 2)), printed with %.17g. Every component is rounded to float, so the
 * observation an agent sees is the probe state itself (CartPole is chaotic
 * enough over 900 steps that a rounding of the start can flip a greedy
 * action). */
#define CP_N_PROBES 20
#define F(x) ((double)(float)(x))
static const double CP_PROBES[CP_N_PROBES][4] = {
    {F(0), F(0), F(0), F(0)},
    {F(0), F(0), F(0.1), F(0)},
    {F(0), F(0), F(-0.1), F(0)},
    {F(1.5), F(0), F(0), F(0)},
    {F(-1.5), F(0), F(0), F(0)},
    {F(0), F(1), F(0), F(0)},
    {F(0), F(0), F(0), F(1)},
    {F(2), F(1), F(0.15), F(1)},
    {F(-0.055896079057991606), F(-0.41946517951107287), F(0.0054981424073354823), F(0.62737795141470343)}, /* seed 2024 step 4 */
    {F(-0.066061022101079891), F(-0.030282132316980098), F(0.021058784302758218), F(0.065426068840263474)}, /* seed 2024 step 8 */
    {F(0.0089937434339588517), F(-0.024942791698775751), F(-0.014887033246050504), F(-0.055915251747221617)}, /* seed 2025 step 4 */
    {F(0.022636223201817067), F(-0.023648891128803973), F(-0.043401668667275795), F(-0.084526014552854856)}, /* seed 2025 step 8 */
    {F(-0.028881879748781758), F(-0.017440024488358491), F(-0.012723678889441278), F(-0.023891750998460082)}, /* seed 2026 step 4 */
    {F(-0.030252921440571717), F(-0.40673169082341798), F(-0.015166980408652239), F(0.54058594187748832)}, /* seed 2026 step 8 */
    {F(0.015168618148400334), F(0.024032615564885007), F(0.020964158236154898), F(0.02049090140389459)}, /* seed 2027 step 4 */
    {F(0.0092485204433315898), F(-0.36759639453285675), F(0.035148410665090481), F(0.6366761155551135)}, /* seed 2027 step 8 */
    {F(0.036653870995194765), F(0.34512542359568321), F(-0.043317482703214512), F(-0.60462909174938195)}, /* seed 2028 step 4 */
    {F(0.087758752225770079), F(0.7388270931001264), F(-0.12872728013738891), F(-1.2744676218484225)}, /* seed 2028 step 8 */
    {F(-0.032442770870085638), F(0.012990392499228648), F(0.020962597297931769), F(-0.034692935515780232)}, /* seed 2029 step 4 */
    {F(-0.023632404517019867), F(0.012010878609839321), F(0.0072220270051557194), F(-0.013077868268139559)}, /* seed 2029 step 8 */
};
#undef F

static const char *const CP_PROBE_NAMES[8] = {
    "upright at rest", "leaning right", "leaning left", "right of centre",
    "left of centre", "moving right", "pole falling right", "nearly failing",
};

static const double *cartpole_probe(int i) { return i >= 0 && i < CP_N_PROBES ? CP_PROBES[i] : NULL; }

static const char *cartpole_probe_name(int i)
{
    if (i < 0 || i >= CP_N_PROBES)
        return NULL;
    return i < 8 ? CP_PROBE_NAMES[i] : "random-policy state";
}

static const char *const CP_ACTIONS[2] = {"push left", "push right"};

const env_class cartpole_class = {
    .info = {"cartpole", "CartPole-v1",
             "CartPole-v1: balance a pole on a cart; 4 observations, 2 actions, 500-step limit",
             "x,x_dot,theta,theta_dot", "X,XDOT,THETA,THETADOT", 500, 0, 475.0, 0, CP_N_PROBES,
             cartpole_probe, cartpole_probe_name},
    .action_names = CP_ACTIONS,
    .init = cartpole_init,
    .reset = cartpole_reset,
    .step = cartpole_step,
    .get_state = cartpole_get_state,
    .set_state = cartpole_set_state,
    .success = cartpole_success,
    .describe = cartpole_describe,
};
