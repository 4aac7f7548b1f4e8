#include "agents/torso.h"

#include <string.h>

torso_encoding torso_encoding_for(const env *en)
{
    torso_encoding te;
    te.obs_dim = env_obs_dim(en);
    te.one_hot = env_is_tabular(en);
    te.in_dim = te.one_hot ? env_n_states(en) : te.obs_dim;
    return te;
}

void torso_encode(const torso_encoding *te, int B, const float *obs, real *out)
{
    if (!te->one_hot) {
        for (int i = 0; i < B * te->obs_dim; i++)
            out[i] = (real)obs[i];
        return;
    }
    memset(out, 0, sizeof(real) * (size_t)B * te->in_dim);
    for (int i = 0; i < B; i++) {
        float v = obs[i * te->obs_dim];
        int s = (int)v;
        if (v >= 0 && s < te->in_dim && (float)s == v)
            out[(size_t)i * te->in_dim + s] = 1;
    }
}

int torso_spec(const exp_config *cfg, const torso_encoding *te, int n_out, mlp_spec *spec, bdrl_err *e)
{
    const exp_widths *h = &cfg->agent.hidden;
    if (h->n + 1 > MLP_MAX_LAYERS)
        return err_set(e, "agent.hidden has too many layers (at most %d)", MLP_MAX_LAYERS - 1);
    memset(spec, 0, sizeof *spec);
    spec->sizes[0] = te->in_dim;
    for (int i = 0; i < h->n; i++)
        spec->sizes[i + 1] = h->w[i];
    spec->act = (mlp_act)cfg->agent.activation;
    if (n_out > 0) {
        spec->n_layers = h->n + 1;
        spec->sizes[h->n + 1] = n_out;
        spec->out_act = MLP_LINEAR;
    } else {
        /* The embedding is the last hidden layer, activation included. */
        spec->n_layers = h->n;
        spec->out_act = spec->act;
    }
    return 0;
}
