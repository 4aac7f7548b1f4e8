/* bd_common.h — what the two Bellman Diffusion agents share, and nothing
 * else: the basis agent (bd.h, bd.field basis, what every shipped config
 * trains) and the grid agent (bd_grid.h, bd.field grid, docs/design.md §1.4's
 * recipe kept as the reference) use each other's code only through this
 * module and bd.c's dispatch on bd.field.
 *
 * Shared: which of the two fields (scalar s ≈ the density, gradient g ≈ its
 * derivative) a network learns; the return range and its normalisation
 * u = (x − c)/h with the range the fields live on, [−1 − m, 1 + m]; the
 * Bellman map's constants; and the default sampler of fields in u units.
 */
#ifndef BDRL_BD_COMMON_H
#define BDRL_BD_COMMON_H

#include "agents/agent.h"
#include "agents/experiment.h"
#include "sdes/sampler.h"

typedef enum { BD_FIELD_S = 0, BD_FIELD_G = 1 } bd_field;

typedef struct {
    double c, h;       /* return = c + h u: centre and half-width of [agent.v_min, agent.v_max] */
    double lo, hi;     /* the fields' range in u: [−1 − m, 1 + m], m = bd.grid_margin */
    int G;             /* bd.grid points u_k = lo + k du over it */
    double du;
    double gamma;      /* agent.gamma: the Bellman map u -> γ u + b */
    double mass_floor; /* bd.mass_floor: next-state fields are divided by max(mass, floor) */
} bd_geometry;

/* The geometry of cfg; an error (nothing else written) unless agent.gamma > 0
 * (the Bellman map divides by it) and agent.v_max > agent.v_min. */
int bd_geometry_of(const exp_config *cfg, bd_geometry *g, bdrl_err *e);

/* The agent's field_range op (agent.h) for geometry g. */
void bd_field_range_of(const bd_geometry *g, agent_field_range *r);

/* docs/design.md §1.4's default sampler for fields on g's range: Metropolis-adjusted
 * BDD with step eta (u units), 1000 steps, a global independence move every
 * 10, walkers starting uniform over [g->lo, g->hi] (the sampler, not a grid,
 * has to find the mode weights), g->G points for a grid start. */
void bd_sampler_defaults_for(const bd_geometry *g, double eta, sde_config *sc);

/* n return samples from fields in u units (fields(ctx, ...), taken to be 0
 * outside [g->lo, g->hi], as in src/gen/fit.c: an extrapolated positive s
 * there would pull walkers away for good): sc with its box replaced by g's
 * range and grid_points defaulting to g->G when below 2; returns (n) in
 * return units c + h u. */
int bd_sample_in_u(const bd_geometry *g, const sde_config *sc, sde_field_fn fields, void *ctx, int n,
                   double *returns, sde_result *res, rng *r, bdrl_err *e);

#endif
