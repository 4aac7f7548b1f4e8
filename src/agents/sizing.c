/* sizing.c — memory-estimate pieces for agents; see sizing.h. */
#include "agents/sizing.h"

#include <string.h>

#include "fields/mlp.h"

/* The conv front agent.conv puts on te's image; none when it does not fit
 * (creating the agent then says why). */
static mlp_conv conv_of(const exp_config *cfg, const torso_encoding *te)
{
    mlp_conv c;
    if (torso_conv(cfg, te, &c, NULL))
        memset(&c, 0, sizeof c);
    return c;
}

int sizing_torso_sizes(const exp_config *cfg, const torso_encoding *te, int *sizes)
{
    mlp_conv c = conv_of(cfg, te);
    sizes[0] = c.n ? mlp_conv_out(&c) : te->in_dim;
    for (int i = 0; i < cfg->agent.hidden.n; i++)
        sizes[i + 1] = cfg->agent.hidden.w[i];
    return cfg->agent.hidden.n;
}

double sizing_layers_params(int n_layers, const int *sizes)
{
    double P = 0;
    for (int l = 0; l < n_layers; l++)
        P += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
    return P;
}

/* The torso network of layers sizes[0..n_layers] behind its conv front,
 * with the components torso_components gives a network of n_actions
 * groups (0: none, the torso alone). */
static mlp_spec torso_of(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes,
                         int n_actions)
{
    mlp_spec s;
    memset(&s, 0, sizeof s);
    s.conv = conv_of(cfg, te);
    s.n_layers = n_layers;
    for (int l = 0; l <= n_layers && l <= MLP_MAX_LAYERS; l++)
        s.sizes[l] = sizes[l];
    torso_components(cfg, n_actions, &s);
    return s;
}

double sizing_torso_params(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes)
{
    return sizing_head_params(cfg, te, n_layers, sizes, 0);
}

double sizing_torso_bytes(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes,
                          double rows)
{
    return sizing_head_bytes(cfg, te, n_layers, sizes, 0, rows);
}

double sizing_head_params(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes,
                          int n_actions)
{
    mlp_spec s = torso_of(cfg, te, n_layers, sizes, n_actions);
    return mlp_spec_params(&s);
}

double sizing_head_bytes(const exp_config *cfg, const torso_encoding *te, int n_layers, const int *sizes,
                         int n_actions, double rows)
{
    mlp_spec s = torso_of(cfg, te, n_layers, sizes, n_actions);
    return mlp_spec_memory_bytes(&s, (int)(rows < 2e9 ? rows : 2e9));
}
