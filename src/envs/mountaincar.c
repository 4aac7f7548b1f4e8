/* mountaincar.c — Gymnasium's MountainCar-v0, bit for bit.
 *
 * Reference: gymnasium/envs/classic_control/mountain_car.py (MountainCarEnv,
 * goal_velocity = 0). The step keeps the reference's operands and order in
 * doubles (numpy float64 scalars and Python floats there; math.cos is libm's
 * cos), np.clip is max-then-min, and the velocity is zeroed when the car
 * stops against the left wall.
 */
#include "env_impl.h"

#include <math.h>

#define MC_MIN_POSITION (-1.2)
#define MC_MAX_POSITION 0.6
#define MC_MAX_SPEED 0.07
#define MC_GOAL_POSITION 0.5
#define MC_GOAL_VELOCITY 0.0
#define MC_FORCE 0.001
#define MC_GRAVITY 0.0025

/* np.clip(x, lo, hi) on a float64 scalar: max(x, lo) keeps x unless x is
 * not above lo, then min keeps that unless it is not below hi. */
static double clip(double x, double lo, double hi)
{
    double y = x > lo ? x : lo;
    return y < hi ? y : hi;
}

static void write_obs(env *e)
{
    e->obs[0] = (float)e->mc.position;
    e->obs[1] = (float)e->mc.velocity;
}

static int mountaincar_init(env *e, const env_config *c, bdrl_err *err)
{
    (void)c;
    (void)err;
    e->n_actions = 3;
    e->obs_dim = 2;
    e->state_dim = 2;
    e->n_states = 0;
    e->max_steps = 200; /* MountainCar-v0's registration */
    return 0;
}

static void mountaincar_reset(env *e)
{
    /* np_random.uniform(low=-0.6, high=-0.4) is low + (high - low) * U. */
    const double low = -0.6, high = -0.4;
    e->mc.position = low + (high - low) * rng_uniform(e->r);
    e->mc.velocity = 0.0;
    write_obs(e);
}

static void mountaincar_step(env *e, int action, env_step *out)
{
    double position = e->mc.position, velocity = e->mc.velocity;
    /* velocity += (action - 1) * force + math.cos(3 * position) * (-gravity) */
    velocity = velocity + ((double)(action - 1) * MC_FORCE + cos(3 * position) * (-MC_GRAVITY));
    velocity = clip(velocity, -MC_MAX_SPEED, MC_MAX_SPEED);
    position = position + velocity;
    position = clip(position, MC_MIN_POSITION, MC_MAX_POSITION);
    if (position == MC_MIN_POSITION && velocity < 0)
        velocity = 0.0;
    e->mc.position = position;
    e->mc.velocity = velocity;
    out->terminated = position >= MC_GOAL_POSITION && velocity >= MC_GOAL_VELOCITY;
    out->reward = -1.0;
    write_obs(e);
    out->obs = e->obs;
}

static void mountaincar_get_state(const env *e, double *state)
{
    state[0] = e->mc.position;
    state[1] = e->mc.velocity;
}

static int mountaincar_set_state(env *e, const double *state, bdrl_err *err)
{
    for (int i = 0; i < 2; i++)
        if (!isfinite(state[i]))
            return err_set(err, "MountainCar state component %d is not finite (%g)", i, state[i]);
    e->mc.position = state[0];
    e->mc.velocity = state[1];
    write_obs(e);
    return 0;
}

static int mountaincar_success(const env *e, const env_step *st)
{
    (void)e;
    return st->terminated; /* top of the hill */
}

static void mountaincar_describe(const env *e, const env_config *c, FILE *f)
{
    (void)e;
    (void)c;
    fprintf(f, "actions: 0 accelerate left, 1 none, 2 accelerate right\n");
    fprintf(f, "observation: position, velocity (float32 copies of the float64 state)\n");
    fprintf(f, "state: position in [-1.2, 0.6] (velocity zeroed at the left wall), velocity in [-0.07, 0.07]\n");
    fprintf(f, "termination: position >= 0.5 and velocity >= 0\n");
    fprintf(f, "reward: -1 per step, including the terminating one\n");
}

static const char *const MC_ACTIONS[3] = {"accelerate left", "none", "accelerate right"};

const env_class mountaincar_class = {
    .info = {"mountaincar", "MountainCar-v0",
             "MountainCar-v0: drive an underpowered car up a hill; 2 observations, 3 actions, "
             "200-step limit",
             "position,velocity", "POSITION,VELOCITY", 200, 0, -110.0, 0, 0, NULL, NULL},
    .action_names = MC_ACTIONS,
    .init = mountaincar_init,
    .reset = mountaincar_reset,
    .step = mountaincar_step,
    .get_state = mountaincar_get_state,
    .set_state = mountaincar_set_state,
    .success = mountaincar_success,
    .describe = mountaincar_describe,
};
