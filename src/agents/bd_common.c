/* bd_common.c — what the two Bellman Diffusion agents share (bd_common.h). */
#include "agents/bd_common.h"

int bd_geometry_of(const exp_config *cfg, bd_geometry *g, bdrl_err *e)
{
    bd_geometry t;
    t.c = 0.5 * (cfg->agent.v_min + cfg->agent.v_max);
    t.h = 0.5 * (cfg->agent.v_max - cfg->agent.v_min);
    t.lo = -1 - cfg->bd.grid_margin;
    t.hi = 1 + cfg->bd.grid_margin;
    t.G = cfg->bd.grid;
    t.du = (t.hi - t.lo) / (t.G - 1);
    t.gamma = cfg->agent.gamma;
    t.mass_floor = cfg->bd.mass_floor;
    if (!(t.gamma > 0))
        return err_set(e, "bd: agent.gamma must be > 0 (the Bellman map divides by gamma)");
    if (!(t.h > 0))
        return err_set(e, "bd: agent.v_max must exceed agent.v_min");
    *g = t;
    return 0;
}

void bd_field_range_of(const bd_geometry *g, agent_field_range *r)
{
    *r = (agent_field_range){g->c, g->h, g->lo, g->hi};
}

void bd_sampler_defaults_for(const bd_geometry *g, double eta, sde_config *sc)
{
    sde_config_default(sc);
    sc->method = SDE_MALA;
    sc->eta = eta;
    sc->n_steps = 1000;
    sc->global_every = 10;
    sc->lo = g->lo;
    sc->hi = g->hi;
    sc->init = SDE_INIT_UNIFORM;
    sc->grid_points = g->G;
}

int bd_sample_in_u(const bd_geometry *g, const sde_config *sc, sde_field_fn fields, void *ctx, int n,
                   double *returns, sde_result *res, rng *r, bdrl_err *e)
{
    sde_config c = *sc;
    c.lo = g->lo;
    c.hi = g->hi;
    if (c.grid_points < 2)
        c.grid_points = g->G;
    if (sde_sample(&c, fields, ctx, n, 1, returns, NULL, res, r, e))
        return err_prefix(e, "bd sample");
    for (int i = 0; i < n; i++)
        returns[i] = g->c + g->h * returns[i];
    return 0;
}
