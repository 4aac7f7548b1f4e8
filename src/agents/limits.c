/* limits.c — memory estimates of a run's configuration; see limits.h. */
#include "agents/limits.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents/evaluate.h"
#include "agents/torso.h"
#include "fields/fourier.h"
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

static void torso_sizes(const exp_config *cfg, int in_dim, int *sizes, int *n)
{
    sizes[0] = in_dim;
    for (int i = 0; i < cfg->agent.hidden.n; i++)
        sizes[i + 1] = cfg->agent.hidden.w[i];
    *n = cfg->agent.hidden.n; /* layers so far */
}

void limits_estimate_experiment(const exp_config *cfg, const env *en, limits_estimate *out)
{
    memset(out, 0, sizeof *out);
    double D = env_obs_dim(en), A = env_n_actions(en), B = cfg->train.batch_size, rl = sizeof(real);
    torso_encoding te = torso_encoding_for(en);
    out->replay = (double)cfg->train.buffer_size * (2 * D * sizeof(float) + sizeof(int) + sizeof(float) + 2);
    int sizes[2 * EXP_MAX_HIDDEN + 4], n;
    double params = 0;
    torso_sizes(cfg, te.in_dim, sizes, &n);
    if (cfg->agent.kind == AGENT_C51) {
        double M = fmax(B, EVAL_MAX_ROWS), N = cfg->c51.atoms;
        sizes[n + 1] = (int)fmin(A * N, 2e9);
        for (int l = 0; l <= n; l++)
            params += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
        /* online, target, a scratch pair when loading; Adam m, v */
        out->networks = 2 * limits_mlp_bytes(n + 1, sizes, (int)M) + 2 * limits_mlp_bytes(n + 1, sizes, 1) +
                        2 * params * rl;
        out->scratch = M * te.in_dim * rl + 4 * N * 8 + M * A * N * 8;
    } else if (cfg->bd.field == BD_FIELD_BASIS) {
        /* two networks like C51's with A·K outputs: scalar (online, target,
         * average), gradient (online, average); scratch copies while a
         * checkpoint loads; Adam m, v of the two online ones */
        double M = fmax(2 * B, EVAL_MAX_ROWS), K = cfg->bd.basis, BQ = B * cfg->bd.queries;
        sizes[n + 1] = (int)fmin(A * K, 2e9);
        for (int l = 0; l <= n; l++)
            params += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
        out->networks = 3 * limits_mlp_bytes(n + 1, sizes, (int)M) + 7 * limits_mlp_bytes(n + 1, sizes, 1) +
                        4 * params * rl;
        params *= 2;
        out->scratch = M * te.in_dim * rl + (2 * B * K + 3 * BQ + 2 * A * K + 6 * K + 4 * B) * 8 +
                       fmax(K, cfg->bd.grid) * 16;
    } else {
        double E = sizes[n], Q = cfg->bd.queries, G = cfg->bd.grid, F = fourier_dim(cfg->bd.fourier_k);
        double QC = 2 * B, BQ = B * Q;
        int hs[EXP_MAX_HIDDEN + 2], hn = cfg->bd.head.n;
        hs[0] = (int)(E + F);
        for (int i = 0; i < hn; i++)
            hs[i + 1] = cfg->bd.head.w[i];
        hs[hn + 1] = (int)A;
        double tp = 0, hp = 0;
        for (int l = 0; l < n; l++)
            tp += (double)sizes[l] * sizes[l + 1] + sizes[l + 1];
        for (int l = 0; l <= hn; l++)
            hp += (double)hs[l] * hs[l + 1] + hs[l + 1];
        params = 2 * (tp + hp);
        double hmax = A;
        for (int i = 1; i <= hn; i++)
            hmax = fmax(hmax, hs[i]);
        /* two fields, each an online and a target torso and head (again as
         * scratch copies while a checkpoint loads); Adam m, v of the online ones */
        double per = n > 0 ? limits_mlp_bytes(n, sizes, (int)fmin(QC, 2e9)) : 0;
        per += limits_mlp_bytes(hn + 1, hs, (int)fmin(BQ, 2e9));
        out->networks = 2 * 2 * 2 * per + 2 * params * rl;
        out->scratch = (QC * (te.in_dim + 3 * E + G * A) + BQ * (4 + 2 * A + 2 * (E + F)) + 1024 * (hs[1] + F + 2 * hmax + A)) * rl +
                       BQ * 5 * 8 + QC * 12;
    }
    out->checkpoint = out->replay + 3 * params * rl;
    out->total = out->replay + out->networks + out->scratch + out->checkpoint;
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
    limits_estimate_experiment(cfg, en, &est);
    const char *part = "replay buffer", *hint = "train.buffer_size";
    double big = est.replay;
    if (est.networks + est.scratch > big) {
        part = "networks and their buffers";
        big = est.networks + est.scratch;
        hint = cfg->agent.kind == AGENT_C51    ? "agent.hidden, c51.atoms or train.batch_size"
               : cfg->bd.field == BD_FIELD_BASIS ? "agent.hidden, bd.basis, bd.queries or train.batch_size"
                                                 : "agent.hidden, bd.head, bd.grid, bd.queries or train.batch_size";
    }
    return limits_check_bytes("the configuration", est.total, part, big, hint, e);
}
