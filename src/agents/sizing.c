/* sizing.c — memory-estimate pieces for agents; see sizing.h. */
#include "agents/sizing.h"

int sizing_torso_sizes(const exp_config *cfg, int in_dim, int *sizes)
{
    sizes[0] = in_dim;
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
