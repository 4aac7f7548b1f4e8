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

int cartpole_init(env *e, const env_config *c, bd_err *err)
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

void cartpole_reset(env *e)
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

void cartpole_step(env *e, int action, env_step *out)
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

void cartpole_get_state(const env *e, double *state)
{
    state[0] = e->cp.x;
    state[1] = e->cp.x_dot;
    state[2] = e->cp.theta;
    state[3] = e->cp.theta_dot;
}

int cartpole_set_state(env *e, const double *state, bd_err *err)
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
