/* limits.c — memory estimates of a run's configuration; see limits.h. */
#include "agents/limits.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents/registry.h"
#include "fields/real.h"

int limits_max_bytes(double *bytes, bd_err *e)
{
    const char *s = getenv("BDRL_MAX_MEMORY");
    if (s && *s) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        double mul = 1;
        switch (*end) {
        case 'k': case 'K': mul = 1024.0; end++; break;
        case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
        case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
        case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
        default: break;
        }
        if (*end == 'B' || *end == 'b')
            end++;
        if (end == s || *end || errno || !(v > 0) || !isfinite(v))
            return err_set(e, "BDRL_MAX_MEMORY='%s': expected a size such as 8G, 512M or 1000000000", s);
        *bytes = v * mul;
        return 0;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    *bytes = pages > 0 && page > 0 ? (double)pages * (double)page : 16.0 * 1024 * 1024 * 1024;
    return 0;
}

double limits_mlp_bytes(int n_layers, const int *sizes, int max_batch)
{
    double P = 0, sum = 0, maxw = 0, M = max_batch;
    for (int l = 0; l < n_layers; l++)
        P += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
    for (int l = 0; l <= n_layers; l++) {
        sum += sizes[l];
        maxw = fmax(maxw, sizes[l]);
    }
    /* params + grads; act (2M rows per layer), d1 and e (M rows per layer);
     * g0, g1 (2M x max width); dy, dydot (M x n_out) */
    double reals = 2 * P + 4 * M * sum + 4 * M * maxw + 2 * M * sizes[n_layers];
    return reals * sizeof(real);
}

int limits_torso_sizes(const exp_config *cfg, int in_dim, int *sizes)
{
    sizes[0] = in_dim;
    for (int i = 0; i < cfg->agent.hidden.n; i++)
        sizes[i + 1] = cfg->agent.hidden.w[i];
    return cfg->agent.hidden.n;
}

double limits_layers_params(int n_layers, const int *sizes)
{
    double P = 0;
    for (int l = 0; l < n_layers; l++)
        P += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
    return P;
}

/* The replay and checkpoint parts here, the agent's own parts from its
 * registry entry; returns the keys that size the agent's parts. */
static const char *estimate(const exp_config *cfg, const env *en, limits_estimate *out)
{
    memset(out, 0, sizeof *out);
    double D = env_obs_dim(en), params = 0;
    out->replay = (double)cfg->train.buffer_size * (2 * D * sizeof(float) + sizeof(int) + sizeof(float) + 2);
    const agent_class *c = agent_class_of(cfg->agent.kind);
    const char *hint = c ? c->memory(cfg, en, out, &params) : "agent.kind";
    out->checkpoint = out->replay + 3 * params * sizeof(real);
    out->total = out->replay + out->networks + out->scratch + out->checkpoint;
    return hint;
}

void limits_estimate_experiment(const exp_config *cfg, const env *en, limits_estimate *out)
{
    estimate(cfg, en, out);
}

static void fmt_bytes(double b, char *buf, size_t n)
{
    if (b >= 1024.0 * 1024 * 1024)
        snprintf(buf, n, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        snprintf(buf, n, "%.1f MiB", b / (1024.0 * 1024));
    else
        snprintf(buf, n, "%.0f KiB", b / 1024.0);
}

int limits_check_bytes(const char *what, double bytes, const char *largest, double largest_bytes,
                       const char *hint, bd_err *e)
{
    double lim;
    if (limits_max_bytes(&lim, e))
        return -1;
    if (bytes <= lim)
        return 0;
    char need[32], big[32], lm[32];
    fmt_bytes(bytes, need, sizeof need);
    fmt_bytes(largest_bytes, big, sizeof big);
    fmt_bytes(lim, lm, sizeof lm);
    const char *env = getenv("BDRL_MAX_MEMORY");
    return err_set(e, "%s needs about %s (%s %s), more than the limit of %s (%s): lower %s", what, need, largest,
                   big, lm, env && *env ? "BDRL_MAX_MEMORY" : "physical memory; set BDRL_MAX_MEMORY to change it",
                   hint);
}

int limits_check_experiment(const exp_config *cfg, const env *en, bd_err *e)
{
    limits_estimate est;
    const char *agent_keys = estimate(cfg, en, &est);
    const char *part = "replay buffer", *hint = "train.buffer_size";
    double big = est.replay;
    if (est.networks + est.scratch > big) {
        part = "networks and their buffers";
        big = est.networks + est.scratch;
        hint = agent_keys;
    }
    return limits_check_bytes("the configuration", est.total, part, big, hint, e);
}
