/* sampler.h — Bellman Diffusion Dynamics and related samplers (docs/design.md §1.3).
 *
 * A batch of n walkers in d dimensions is moved by one of:
 *   em        Euler–Maruyama of Eq. 13:  x ← x + η g + sqrt(η max(s,0)) z
 *   mala      Metropolis-adjusted BDD: y ~ N(x + η g(x), η s(x) I), accepted
 *             with min(1, s(y) q(x|y) / (s(x) q(y|x))); target ∝ max(s, 0)
 *   langevin  score Langevin: x ← x + η g/s + sqrt(2η) z (guarded where s is tiny)
 *   em_ac     x ← x + a η g + sqrt(c η max(s,0)) z, stationary law ∝ p^(2a/c − 1):
 *             for experiments and tests of that formula, right only when a = c
 *   bdd_sqrt2p  the WRONG SDE ∇p dt + sqrt(2p) dW (= em_ac with a=1, c=2,
 *             stationary law flat): kept so tests can prove they tell it apart
 * optionally interleaved, every k local steps, with a global independence
 * Metropolis–Hastings move: y ~ U([lo, hi]^d), accepted with min(1, s(y)/s(x)).
 * The box should cover the support: a walker outside it with s(x) > 0 has
 * q(x) = 0, so for detailed balance a global move never moves it (local steps
 * still do).
 *
 * Samplers know nothing of networks or RL: they see the fields through one
 * batched callback (sde_field_fn). Everything random comes from the caller's
 * rng, in a fixed order, so a seed reproduces a run bit for bit.
 *
 * Non-finite values. A non-finite number is never written into a walker's
 * position. Where the field is non-finite at a walker's own position (or the
 * step would make it non-finite) the walker keeps its previous position for
 * that step and is flagged SDE_WALKER_NONFINITE; a proposal (mala or global)
 * landing where the field is non-finite is rejected and counted in
 * nonfinite_proposals. MH moves treat a non-finite s at the current position as
 * zero density, so a global move can still rescue such a walker, but the flag
 * stays: the caller decides whether to drop flagged walkers (sde_compact).
 *
 * s <= 0. The target of mala and of global moves is max(s, 0). A proposal with
 * s(y) <= 0 is rejected. At a position with s(x) <= 0 mala has no proposal
 * (its variance η s(x) is not positive), so the walker stays for that local
 * step (counted in local_skipped, not as a rejection); a global move from there
 * accepts any y with s(y) > 0, which is the MH rule outside the support.
 *
 * Memory: sde_sampler_create allocates all scratch for (n, d) once, so an agent
 * can sample many states without allocating; the caller owns the sampler and
 * frees it with sde_sampler_free. The walker positions x (n, d) belong to the
 * caller; the per-walker flags and final s values are owned by the sampler and
 * stay valid until the next run or free.
 */
#ifndef BDRL_SDE_SAMPLER_H
#define BDRL_SDE_SAMPLER_H

#include "core/err.h"
#include "core/rng.h"

/* The fields, batched: at the n points x (n, d) write s (n) ≈ p and, when g is
 * not NULL, g (n, d) ≈ ∇p. Return 0, or -1 with a message in e. Conditioning
 * (a state, an action) lives in ctx. */
typedef int (*sde_field_fn)(void *ctx, int n, int d, const double *x, double *s, double *g,
                            bdrl_err *e);

typedef enum {
    SDE_EM = 0,
    SDE_MALA,
    SDE_LANGEVIN,
    SDE_EM_AC,
    SDE_BDD_SQRT2P,
} sde_method;

typedef enum {
    SDE_INIT_UNIFORM = 0, /* uniform on [lo, hi]^d */
    SDE_INIT_NORMAL,      /* N(init_mean, init_sd² I) */
    SDE_INIT_POINTS,      /* the positions already in x (must be finite) */
    SDE_INIT_GRID_ICDF,   /* d = 1: inverse CDF of max(s, 0) on grid_points over [lo, hi] */
} sde_init;

typedef struct {
    sde_method method;
    double eta;            /* step size η (time step), > 0 */
    int n_steps;           /* local steps, >= 0 */
    int global_every;      /* k: a global move after every k-th local step; 0 = never */
    double lo, hi;         /* box [lo, hi]^d: global proposals, uniform start, 1-D grid */
    sde_init init;
    const double *init_mean; /* (d), SDE_INIT_NORMAL; NULL means 0. Copied at create. */
    double init_sd;        /* SDE_INIT_NORMAL, > 0 */
    int grid_points;       /* G >= 2, SDE_INIT_GRID_ICDF */
    double frozen_s;       /* a walker is frozen if s(x) <= frozen_s at every step */
    double langevin_min_s; /* langevin: where s <= this the score g/s is not used
                              (the step is pure diffusion) and the guard is counted */
    double a, c;           /* SDE_EM_AC only: drift and noise scales, > 0 */
} sde_config;

/* Defaults: em, η = 1e-3, 1000 steps, no global moves, uniform on [-1, 1],
 * init_sd 1, G = 256, frozen_s = 1e-6, langevin_min_s = 1e-12, a = c = 1. */
void sde_config_default(sde_config *c);

/* Per-walker flags (bits). */
enum {
    SDE_WALKER_FROZEN = 1,    /* s <= frozen_s at every step and at the end */
    SDE_WALKER_NONFINITE = 2, /* the field was non-finite at its position, or a
                                 step would have made it non-finite, at least once */
    SDE_WALKER_GUARDED = 4,   /* langevin: took at least one guarded (s tiny) step */
};

typedef struct {
    long steps;               /* local steps per walker that were run */
    /* mala: proposals made, accepted, and steps with no proposal (s(x) <= 0
     * or non-finite). local_accept = accepted / proposed, NAN if none. */
    long local_proposed, local_accepted, local_skipped;
    double local_accept;
    /* global moves: proposals, accepted; global_accept NAN if none. */
    long global_proposed, global_accepted;
    double global_accept;
    int n_frozen;             /* walkers flagged SDE_WALKER_FROZEN */
    int n_nonfinite;          /* walkers flagged SDE_WALKER_NONFINITE */
    long nonfinite_steps;     /* walker-steps blocked by a non-finite value */
    long nonfinite_proposals; /* proposals rejected because the field was non-finite there */
    int n_guarded;            /* walkers flagged SDE_WALKER_GUARDED */
    long guard_steps;         /* langevin walker-steps taken without the score */
    long field_calls;         /* callback invocations */
    long field_points;        /* points evaluated in total (with or without g) */
} sde_result;

typedef struct sde_sampler sde_sampler;

/* Checks the config and allocates scratch for n walkers in d dimensions. */
sde_sampler *sde_sampler_create(const sde_config *c, int n, int d, bdrl_err *e);
void sde_sampler_free(sde_sampler *S);

/* Initializes x (n, d) according to the config (SDE_INIT_POINTS: x is input)
 * and runs n_steps local steps with the global moves. On success x holds the
 * samples (always finite) and res (may be NULL) the diagnostics. Returns -1 on
 * a bad argument, a failing callback or a zero-mass grid; x is then
 * unspecified. */
int sde_sampler_run(sde_sampler *S, sde_field_fn f, void *ctx, double *x, rng *r,
                    sde_result *res, bdrl_err *e);

/* After a run: per-walker flags (n) and s at the final positions (n). */
const unsigned char *sde_sampler_flags(const sde_sampler *S);
const double *sde_sampler_s(const sde_sampler *S);

/* One-shot: create, run, copy flags into flags (n, may be NULL), free. */
int sde_sample(const sde_config *c, sde_field_fn f, void *ctx, int n, int d, double *x,
               unsigned char *flags, sde_result *res, rng *r, bdrl_err *e);

/* Moves the rows of x (n, d) whose flags have none of the bits in drop to the
 * front, keeping their order (flags, if the caller needs them afterwards, are
 * not moved). Returns how many rows were kept. */
int sde_compact(int n, int d, double *x, const unsigned char *flags, unsigned drop);

/* Inverse-CDF sampling of the 1-D density max(s, 0) given at G >= 2 equally
 * spaced grid points over [lo, hi] (s (G), s[0] at lo, s[G-1] at hi),
 * interpolated linearly between grid points: n samples into x (n). Fails if
 * the grid mass is 0 or a value is not finite. */
int sde_grid_icdf(double lo, double hi, int G, const double *s, int n, double *x, rng *r,
                  bdrl_err *e);

/* Names as used in configs: "em", "mala", "langevin", "em_ac", "bdd_sqrt2p";
 * "uniform", "normal", "points", "grid_icdf". Parsers return -1 on unknown names. */
const char *sde_method_name(sde_method m);
int sde_method_parse(const char *name, sde_method *m, bdrl_err *e);
const char *sde_init_name(sde_init i);
int sde_init_parse(const char *name, sde_init *i, bdrl_err *e);

#endif
