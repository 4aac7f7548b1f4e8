/* support.c — the support check; see support.h. */
#include "train/support.h"

#include <stdio.h>

int support_breached(const exp_config *cfg, double r, int terminated, char *why, size_t n)
{
    const double lo = cfg->agent.v_min, hi = cfg->agent.v_max, g = cfg->agent.gamma;
    const double tol = SUPPORT_TOL * (hi - lo);
    if (terminated) {
        if (r >= lo - tol && r <= hi + tol)
            return 0;
        snprintf(why, n, "returns leave the support [%g, %g]: a terminal reward %g lies outside it; targets "
                         "beyond agent.v_min/agent.v_max are clipped onto them", lo, hi, r);
        return 1;
    }
    if (r + g * hi > hi + tol) {
        snprintf(why, n, "returns leave the support [%g, %g]: a reward %g bootstraps to %g + %g x %g = %g > "
                         "agent.v_max; targets beyond it are clipped onto it", lo, hi, r, r, g, hi, r + g * hi);
        return 1;
    }
    if (r + g * lo < lo - tol) {
        snprintf(why, n, "returns leave the support [%g, %g]: a reward %g bootstraps to %g + %g x %g = %g < "
                         "agent.v_min; targets beyond it are clipped onto it", lo, hi, r, r, g, lo, r + g * lo);
        return 1;
    }
    return 0;
}

int support_breached_in(const exp_config *cfg, const replay *rb, char *why, size_t n)
{
    /* oldest first: a full ring's oldest transition is at pos */
    const int64_t first = rb->size == rb->capacity ? rb->pos : 0;
    for (int64_t k = 0; k < rb->size; k++) {
        int64_t i = (first + k) % rb->capacity;
        if (support_breached(cfg, rb->reward[i], rb->terminated[i], why, n))
            return 1;
    }
    return 0;
}
