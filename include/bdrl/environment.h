/* bdrl/environment.h — libbdrl's public C API: an environment from bdrl's
 * registry (cartpole, frozenlake, acrobot, mountaincar, or a plugin), made
 * from the same env.* settings a configuration file or `--set` takes, and
 * stepped. Everything else in libbdrl.a is internal: its headers are not
 * installed and may change with any release.
 *
 *     #include <bdrl/environment.h>
 *     const char *settings[] = {"env.name=frozenlake", "env.map=8x8"};
 *     char err[512];
 *     bdrl_environment *e = bdrl_environment_open(settings, 2, err, sizeof err);
 *     const float *obs = bdrl_environment_reset(e, 42);
 *     double r; int term, trunc;
 *     obs = bdrl_environment_step(e, 1, &r, &term, &trunc);
 *     bdrl_environment_close(e);
 *
 * Build: cc prog.c $(pkg-config --cflags --libs bdrl) (libbdrl.a and what it
 * links: OpenBLAS, GSL, libyaml, libm, libdl).
 *
 * The environments behave exactly as in `bdrl env rollout` (Gymnasium's
 * dynamics and time limits; bdrl's random stream, re-seeded by reset).
 * Nothing here prints or exits: a failure returns NULL or -1 with one line
 * in err. A plugin that breaks its contract in the middle of a step still
 * ends the process (env_plugin.h). One environment must not be used from two
 * threads at once; different ones may.
 */
#ifndef BDRL_ENVIRONMENT_H
#define BDRL_ENVIRONMENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bdrl_environment bdrl_environment;

/* The version of the library ("git describe" of the tree it was built from,
 * or its release number), as `bdrl --version` prints it. */
const char *bdrl_library_version(void);

/* An environment from n settings "env.KEY=VALUE" (bdrl config --schema lists
 * the env.* keys; env.name is required, e.g. "env.name=cartpole",
 * "env.plugin=./libchain.so", "env.params.length=4"). NULL on bad settings
 * or a plugin that cannot be loaded, with the reason in err (err_size
 * bytes). */
bdrl_environment *bdrl_environment_open(const char *const *settings, int n, char *err, size_t err_size);
void bdrl_environment_close(bdrl_environment *e);

int bdrl_environment_obs_dim(const bdrl_environment *e);   /* floats per observation */
int bdrl_environment_n_actions(const bdrl_environment *e); /* actions are 0 .. n_actions - 1 */

/* Starts an episode with the random stream seeded by seed; returns the first
 * observation (obs_dim floats, valid until the next reset or step). */
const float *bdrl_environment_reset(bdrl_environment *e, uint64_t seed);

/* One step; returns the next observation and writes the reward, whether the
 * episode terminated, and whether the time limit truncated it. NULL (and
 * nothing changes) for an action out of range, or a step after the episode
 * ended without a reset. */
const float *bdrl_environment_step(bdrl_environment *e, int action, double *reward, int *terminated,
                                   int *truncated);

#ifdef __cplusplus
}
#endif

#endif
