/* torso.c — the shared state torso: observation encoding and its network's spec; see torso.h. */
#include "agents/torso.h"

#include <stdio.h>
#include <string.h>

torso_encoding torso_encoding_for(const env *en)
{
    torso_encoding te;
    te.obs_dim = env_obs_dim(en);
    te.one_hot = env_is_tabular(en);
    te.in_dim = te.one_hot ? env_n_states(en) : te.obs_dim;
    env_obs_shape(en, &te.img_h, &te.img_w, &te.img_c);
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

_Static_assert(EXP_MAX_CONV <= MLP_MAX_CONV, "agent.conv fits the mlp's conv front");

int torso_conv(const exp_config *cfg, const torso_encoding *te, mlp_conv *out, bdrl_err *e)
{
    const exp_widths *cv = &cfg->agent.conv;
    memset(out, 0, sizeof *out);
    if (cv->n == 0)
        return 0;
    if (te->img_h < 1)
        return err_set(e, "agent.conv: the observation (%d numbers) is not an image; convolution layers need one "
                          "(height x width x channels, e.g. MinAtar's 10x10xC)",
                       te->obs_dim);
    out->n = cv->n;
    out->h = te->img_h;
    out->w = te->img_w;
    out->c = te->img_c;
    out->kernel = cfg->agent.conv_kernel;
    for (int i = 0; i < cv->n; i++)
        out->channels[i] = cv->w[i];
    if (mlp_conv_out(out) < 1)
        return err_set(e, "agent.conv_kernel: %d layers (agent.conv) of %dx%d kernels leave nothing of the %dx%d "
                          "observation",
                       cv->n, out->kernel, out->kernel, out->h, out->w);
    return 0;
}

int torso_spec(const exp_config *cfg, const torso_encoding *te, int n_out, mlp_spec *spec, bdrl_err *e)
{
    const exp_widths *h = &cfg->agent.hidden;
    if (h->n + 1 > MLP_MAX_LAYERS)
        return err_set(e, "agent.hidden has too many layers (at most %d)", MLP_MAX_LAYERS - 1);
    memset(spec, 0, sizeof *spec);
    if (torso_conv(cfg, te, &spec->conv, e))
        return -1;
    spec->sizes[0] = spec->conv.n ? mlp_conv_out(&spec->conv) : te->in_dim;
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

void torso_components(const exp_config *cfg, int n_actions, mlp_spec *spec)
{
    if (cfg->agent.noisy) {
        spec->noisy = 1;
        spec->noisy_sigma0 = cfg->agent.noisy_sigma0;
    }
    if (cfg->agent.dueling && n_actions > 0)
        spec->dueling = n_actions;
}

const char *torso_components_desc(const exp_config *cfg, char *buf, size_t n)
{
    snprintf(buf, n, "%s", cfg->agent.dueling ? "; dueling" : "");
    if (cfg->agent.noisy)
        snprintf(buf + strlen(buf), n - strlen(buf), "; noisy σ0=%g", cfg->agent.noisy_sigma0);
    return buf;
}
