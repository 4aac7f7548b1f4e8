/* Tests of the Bellman Diffusion agent that ships, basis fields
 * (src/agents/bd.h, docs/basis.md): `agent: {kind: bd}` alone resolves to
 * it, and it uses the grid agent's code only through the dispatch; the field and its derivative against direct sums, the split of an
 * atom onto the centres, the loss against quadrature of the fields
 * themselves (the targets built from the target network, a' its argmax or
 * given), Q against the reported law, the loss gradient against finite
 * differences, bad minibatches, checkpoints (and runs of main's binary,
 * format 1, resuming exactly), the sampler, the memory estimate and small
 * learning problems with stochastic outcomes trained by calling update
 * directly. */
#include "test_util.h"

#include <malloc.h>

#include "agents/bd.h"
#include "stats/metrics.h"
#include "train/checkpoint.h"
#include "train/limits.h"

#define NS 16 /* FrozenLake 4x4 states: the one-hot torso input */

typedef struct {
    exp_config cfg;
    env *en;
    agent *a;
} fixture;

static void make(fixture *f, uint64_t seed, const char *const *extra, int n_extra)
{
    char *sets[32];
    int n = 0;
    sets[n++] = "env.name=frozenlake";
    sets[n++] = "agent.kind=bd"; /* bd.field basis: the default */
    sets[n++] = "bd.basis=41";
    sets[n++] = "agent.eps_kernel=0.0025"; /* σ² with σ = the spacing 0.05 */
    for (int i = 0; i < n_extra; i++)
        sets[n++] = (char *)extra[i];
    bdrl_err e;
    if (exp_load(&f->cfg, NULL, sets, n, &e))
        fail_msg("config: %s", e.msg);
    f->en = env_create(&f->cfg.env, &e);
    assert_non_null(f->en);
    rng *init = rng_create(seed, RNG_STREAM_INIT);
    f->a = agent_create(&f->cfg, f->en, init, &e);
    rng_free(init);
    if (!f->a)
        fail_msg("agent_create: %s", e.msg);
    assert_non_null(strstr(agent_describe(f->a), "bd (basis)"));
}

static void unmake(fixture *f)
{
    agent_free(f->a);
    env_free(f->en);
}

static double npdf(double x, double m, double var) { return exp(-0.5 * (x - m) * (x - m) / var) / sqrt(2 * M_PI * var); }

/* Σ over every bump, no band: the reference for bd_field_at. */
static double direct(const bd_basis *bs, const double *w, double u)
{
    double s = 0;
    for (int k = 0; k < bs->K; k++)
        s += w[k] * npdf(u, bs->mu0 + k * bs->delta, bs->sigma * bs->sigma);
    return s;
}

/* `agent: {kind: bd}` with nothing about the fields is the basis agent,
 * the one every shipped config trains: `bdrl config` resolves bd.field to
 * basis, and the agent created is the basis agent. */
static void test_kind_bd_is_basis(void **state)
{
    (void)state;
    char path[600];
    snprintf(path, sizeof path, "%s/kind_bd.yaml", tu_dir);
    tu_write(path, "env: {name: cartpole}\nagent: {kind: bd}\n");
    tu_result r = tu_run("%s config %s", tu_bdrl(), path);
    if (r.status != 0)
        fail_msg("bdrl config exited %d: %s", r.status, r.err);
    assert_contains(r.out, "\nbd:\n  field: basis\n");
    tu_run_free(&r);
    exp_config c;
    bdrl_err e;
    if (exp_load(&c, path, NULL, 0, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(c.bd.field, BD_FIELD_BASIS);
    env *en = env_create(&c.env, &e);
    rng *init = rng_create(1, RNG_STREAM_INIT);
    agent *a = agent_create(&c, en, init, &e);
    assert_non_null(a);
    assert_non_null(strstr(agent_describe(a), "bd (basis)"));
    agent_free(a);
    rng_free(init);
    env_free(en);
}

/* The global symbols (nm -P) an object of the build under test defines
 * (defined 1) or uses undefined (0), one per line into out. */
static void symbols(const char *obj, int defined, char *out, size_t n)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", tu_bdrl());
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    tu_result r = tu_run("nm -P -g %s %s/src/agents/%s.o | cut -d' ' -f1", defined ? "--defined-only" : "-u", dir,
                         obj);
    if (r.status != 0)
        fail_msg("nm %s: exit %d: %s", obj, r.status, r.err);
    snprintf(out, n, "\n%s", r.out);
    tu_run_free(&r);
}

/* Whether the symbol sym (its first len characters) is a line of list b. */
static int listed(const char *b, const char *sym, size_t len)
{
    for (const char *p = strstr(b, "\n"); p; p = strstr(p + 1, "\n"))
        if (!strncmp(p + 1, sym, len) && p[1 + len] == '\n')
            return 1;
    return 0;
}

/* The two BD agents use each other's code only through bd_common and the
 * dispatch: of what the grid agent's objects define, the basis agent's
 * (bd.o) uses agent_bd_grid_create and bd_grid_memory alone, and the grid's
 * use nothing bd.o defines. */
static void test_agents_apart(void **state)
{
    (void)state;
    static char basis_def[1 << 16], basis_use[1 << 16], grid_def[1 << 16], use[1 << 16];
    symbols("bd", 1, basis_def, sizeof basis_def);
    symbols("bd", 0, basis_use, sizeof basis_use);
    const char *grid[] = {"bd_grid", "bd_grid_targets"};
    for (int g = 0; g < 2; g++) {
        symbols(grid[g], 1, grid_def, sizeof grid_def);
        symbols(grid[g], 0, use, sizeof use);
        for (const char *p = basis_use; (p = strchr(p, '\n')) && p[1]; p++) {
            size_t len = strcspn(p + 1, "\n");
            if (listed(grid_def, p + 1, len) && strncmp(p + 1, "agent_bd_grid_create\n", len + 1) &&
                strncmp(p + 1, "bd_grid_memory\n", len + 1))
                fail_msg("bd.o uses %.*s of %s.o beyond the dispatch", (int)len, p + 1, grid[g]);
        }
        for (const char *p = use; (p = strchr(p, '\n')) && p[1]; p++) {
            size_t len = strcspn(p + 1, "\n");
            if (listed(basis_def, p + 1, len))
                fail_msg("%s.o uses %.*s of bd.o", grid[g], (int)len, p + 1);
        }
    }
    /* the dispatch is there (the checks above see real symbol lists) */
    assert_true(listed(basis_use, "agent_bd_grid_create", 20));
    assert_true(listed(basis_def, "agent_bd_create", 15));
}

/* ---------------------------------------------------------------------- */
/* pure formulas                                                           */

static void test_field_and_derivative(void **state)
{
    (void)state;
    bd_basis bs = {21, -1, 0.1, 0.13};
    double w[21];
    rng *r = rng_create(1, 0);
    for (int k = 0; k < 21; k++)
        w[k] = rng_uniform(r);
    for (int i = 0; i < 200; i++) {
        double u = -1.6 + 3.2 * rng_uniform(r), s, ds, sp, sm;
        bd_field_at(&bs, w, u, &s, &ds);
        /* the band drops bumps below e^-18 of their peak */
        assert_close(s, direct(&bs, w, u), 1e-7 * (1 + s));
        double h = 1e-5;
        bd_field_at(&bs, w, u + h, &sp, NULL);
        bd_field_at(&bs, w, u - h, &sm, NULL);
        assert_close(ds, (sp - sm) / (2 * h), 1e-5 * (1 + fabs(ds)));
    }
    /* the band: bumps farther than 6σ are skipped, the rest are not */
    int k0, k1;
    bd_band(&bs, 0.0, &k0, &k1);
    assert_int_equal(k0, 3);  /* μ_2 = −0.8 is 6.15σ from 0, μ_3 = −0.7 5.4σ */
    assert_int_equal(k1, 18); /* μ_17 = 0.7 is in, μ_18 = 0.8 out */
    bd_band(&bs, -1.0, &k0, &k1);
    assert_int_equal(k0, 0);
    assert_int_equal(k1, 8);  /* μ_7 = −0.3 at 5.4σ, μ_8 = −0.2 at 6.15σ */
    rng_free(r);
}

/* ---------------------------------------------------------------------- */
/* through the agent                                                       */

/* Q is the mean of the reported law (atoms), which is the mean of the
 * density readout; the atoms sum to 1 and sit at the bump centres. */
static void test_q_is_mean_of_law(void **state)
{
    (void)state;
    fixture f;
    make(&f, 5, NULL, 0);
    float obs[NS];
    double q[NS * 4];
    bdrl_err e;
    for (int s = 0; s < NS; s++)
        obs[s] = (float)s;
    assert_int_equal(agent_q_values(f.a, NS, obs, q, &e), 0);
    const char *dens[] = {"bd.readout=density", "bd.grid=2001", "bd.grid_margin=0.5"};
    fixture fd;
    make(&fd, 5, dens, 3);
    for (int s = 0; s < NS; s++)
        for (int a = 0; a < 4; a++) {
            agent_dist d, dd;
            assert_int_equal(agent_distribution(f.a, &obs[s], a, &d, &e), 0);
            assert_false(d.is_density);
            assert_int_equal(d.n, 41);
            double sum = 0, mean = 0;
            for (int k = 0; k < d.n; k++) {
                sum += d.w[k];
                mean += d.w[k] * d.x[k];
            }
            assert_close(sum, 1, 1e-12);
            assert_close(d.x[0], 0, 1e-12);
            assert_close(d.x[40], 1, 1e-12);
            assert_close(q[s * 4 + a], mean, 1e-6); /* float outputs of 16 rows against 1 row */
            /* the same network read as a density on a fine grid */
            assert_int_equal(agent_distribution(fd.a, &obs[s], a, &dd, &e), 0);
            assert_true(dd.is_density);
            double mass;
            stat_dist *sd = stat_dist_grid(dd.w, (size_t)dd.n, dd.x[0], dd.x[dd.n - 1], &mass, &e);
            assert_non_null(sd);
            assert_close(stat_dist_mean(sd), mean, 1e-4);
            assert_close(mass, d.mass, 1e-4 * d.mass);
            stat_dist_free(sd);
        }
    unmake(&fd);
    unmake(&f);
}

/* The parameter gradient of both losses against central differences of
 * the loss, at the parameters with the largest gradients of each layer;
 * unweighted and with importance weights (weight NULL or not: the gradient
 * applied is that of the weighted loss reported). */
static void loss_gradient(const float *weight)
{
    const char *sets[] = {"train.batch_size=8", "bd.lambda_grad=0.5", "agent.hidden=[16]"};
    fixture f;
    make(&f, 9, sets, 3);
    float obs[8] = {0, 1, 2, 3, 4, 5, 6, 14}, nobs[8] = {1, 2, 3, 7, 8, 9, 10, 15}, rew[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    int act[8] = {0, 1, 2, 3, 0, 1, 2, 3};
    unsigned char term[8] = {0, 0, 0, 1, 0, 0, 0, 1};
    agent_batch b = {8, obs, act, rew, nobs, term, NULL, NULL, weight, NULL};
    bdrl_err e;
    /* a target network unlike the online one, so the loss is not 0-ish */
    mlp *tg = bd_net(f.a, BD_FIELD_S, 1);
    rng *r = rng_create(4, 0);
    for (size_t i = 0; i < tg->n_params; i++)
        tg->params[i] += (real)(0.3 * (rng_uniform(r) - 0.5));
    for (int fld = 0; fld < 2; fld++) {
        mlp *net = bd_net(f.a, (bd_field)fld, 0);
        double ls, lg;
        assert_int_equal(bd_debug_loss(f.a, &b, &ls, &lg, &e), 0);
        real *grad = malloc(sizeof(real) * net->n_params);
        memcpy(grad, net->grads, sizeof(real) * net->n_params);
        int checked = 0;
        for (int l = 0; l < net->spec.n_layers; l++) {
            /* the largest |gradient| of layer l's weights */
            size_t off = (size_t)(net->W[l] - net->params), n = (size_t)net->spec.sizes[l] * net->spec.sizes[l + 1];
            size_t best = off;
            for (size_t i = off; i < off + n; i++)
                if (fabs(grad[i]) > fabs(grad[best]))
                    best = i;
            real keep = net->params[best];
            double h = 2e-3 * fmax(1, fabs(keep)), lp, lm, ls2, lg2;
            net->params[best] = (real)(keep + h);
            assert_int_equal(bd_debug_loss(f.a, &b, &ls2, &lg2, &e), 0);
            lp = fld ? lg2 : ls2;
            net->params[best] = (real)(keep - h);
            assert_int_equal(bd_debug_loss(f.a, &b, &ls2, &lg2, &e), 0);
            lm = fld ? lg2 : ls2;
            net->params[best] = keep;
            double fd = (lp - lm) / (2 * ((double)(real)(keep + h) - (double)(real)(keep - h)) / 2);
            print_message("%s field%s, layer %d, parameter %zu: backprop %.6g, central difference %.6g\n",
                          fld ? "gradient" : "scalar", weight ? " (weighted)" : "", l, best, (double)grad[best], fd);
            assert_true(fabs(grad[best]) > 1e-6);
            assert_close(grad[best], fd, 0.02 * fabs(fd) + 1e-6);
            checked++;
        }
        assert_int_equal(checked, 2);
        free(grad);
    }
    rng_free(r);
    unmake(&f);
}

static void test_loss_gradient(void **state)
{
    (void)state;
    static const float wts[8] = {0.5f, 2.0f, 0.0f, 1.3f, 0.7f, 3.0f, 0.25f, 1.6f};
    loss_gradient(NULL);
    loss_gradient(wts);
}

/* The linear split: mass and mean kept, the two neighbours only, the ends
 * clamped. */
static void test_project_atom(void **state)
{
    (void)state;
    bd_basis bs = {11, -1, 0.2, 0.2};
    double a[11] = {0};
    bd_project_atom(&bs, 0.13, 0.7, a); /* t = 5.65: 0.35 of 0.7 to centre 5, 0.65 to 6 */
    assert_close(a[5], 0.7 * 0.35, 1e-12);
    assert_close(a[6], 0.7 * 0.65, 1e-12);
    bd_project_atom(&bs, -3, 0.1, a);
    bd_project_atom(&bs, 1.5, 0.2, a);
    bd_project_atom(&bs, 1.0, 0.3, a);
    assert_close(a[0], 0.1, 1e-15);
    assert_close(a[10], 0.5, 1e-15);
    double m = 0, mu = 0;
    for (int k = 0; k < 11; k++) {
        m += a[k];
        mu += a[k] * (-1 + 0.2 * k);
    }
    assert_close(m, 1.3, 1e-12);
    assert_close(mu, 0.7 * 0.13 - 0.1 + 0.2 + 0.3, 1e-12);
}

/* The argmax of Q over the coefficients w (A = 4, K) of one state, the
 * first of equals. */
static int argmax_q(const double *w, int K, double dlt)
{
    double best = -INFINITY;
    int an = 0;
    for (int a = 0; a < 4; a++) {
        double m = 0, mu = 0;
        for (int k = 0; k < K; k++) {
            m += w[a * K + k];
            mu += w[a * K + k] * (-1 + k * dlt);
        }
        if (mu / m > best) {
            best = mu / m;
            an = a;
        }
    }
    return an;
}

/* The losses are the integrals of (s − p_T)² and (g − ∂p_T)² with
 * p_T = Σ_k a'_k φ_k, a' the target's coefficient atoms (γ_i μ_j + b,
 * b = (r − (1 − γ_i)c)/h, with weight w⁻_j / max(M, floor) at (s', a'), or
 * u_r) split onto the centres: checked by quadrature with a' built here, a'
 * given by the batch (evaluation) or the argmax of the target network's Q
 * at s' (control), or of the online network's (dbl: agent.double); γ_i the
 * batch's discounts (disc; NULL: γ), the losses weighted means with the
 * batch's weights (wts; NULL: 1), each row's own scalar loss its
 * sample_loss. */
static void projected_loss_is_integral(int control, const double *disc, const float *wts, int dbl)
{
    const char *sets[] = {"train.batch_size=4", "bd.lambda_grad=0.7", "agent.double=true"};
    fixture f;
    make(&f, 13, sets, dbl ? 3 : 2);
    assert_true((strstr(agent_describe(f.a), "; double") != NULL) == dbl);
    bd_geometry g;
    bd_get_geometry(f.a, &g);
    float obs[4] = {0, 4, 9, 14}, nobs[4] = {1, 8, 10, 15}, rew[4] = {0, 0, 0, 1};
    int act[4] = {2, 1, 0, 3}, nact[4] = {1, 3, 2, 0};
    unsigned char term[4] = {0, 0, 0, 1};
    double sl[4];
    agent_batch b = {4, obs, act, rew, nobs, term, control ? NULL : nact, disc, wts, sl};
    bdrl_err e;
    double ls, lg;
    mlp *tg = bd_net(f.a, BD_FIELD_S, 1);
    for (size_t i = 0; i < tg->n_params; i++)
        tg->params[i] *= 1.2f;
    assert_int_equal(bd_debug_loss(f.a, &b, &ls, &lg, &e), 0);
    int K = f.cfg.bd.basis;
    double dlt = 2.0 / (K - 1), sig = dlt, S = 1 / (sqrt(2 * M_PI) * sig);
    enum { N = 6001 };
    double lo = -1.6, hi = 1.6, du = (hi - lo) / (N - 1);
    static double u[N], s[N * 4], gg[N * 4];
    for (int k = 0; k < N; k++)
        u[k] = lo + k * du;
    double qs = 0, qg = 0;
    int other = 0;  /* control: transitions whose argmax is not nact's a' */
    int differ = 0; /* dbl: transitions whose online and target argmax differ */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(bd_eval_fields(f.a, &obs[i], 0, N, u, s, gg, &e), 0);
        double ap[64] = {0}, wt[64 * 4], wo[64 * 4], M = 0, gi = disc ? disc[i] : g.gamma;
        double bb = (rew[i] - (1 - gi) * g.c) / g.h, ur = (rew[i] - g.c) / g.h;
        if (term[i]) {
            ap[K - 1] = 1; /* u_r = 1: the last centre */
            assert_close(ur, 1, 1e-12);
        } else {
            assert_int_equal(bd_coefficients(f.a, &nobs[i], 1, wt, NULL, &e), 0);
            assert_int_equal(bd_coefficients(f.a, &nobs[i], 0, wo, NULL, &e), 0);
            int an = nact[i];
            if (control) { /* argmax_a Q(s', a) of the target network, or the online one's */
                an = argmax_q(dbl ? wo : wt, K, dlt);
                other += an != nact[i];
                differ += argmax_q(wo, K, dlt) != argmax_q(wt, K, dlt);
            }
            for (int k = 0; k < K; k++)
                M += wt[an * K + k];
            for (int j = 0; j < K; j++) {
                double x = gi * (-1 + j * dlt) + bb, t = (x + 1) / dlt, p = wt[an * K + j] / fmax(M, g.mass_floor);
                int l = (int)floor(t);
                if (l < 0)
                    ap[0] += p;
                else if (l >= K - 1)
                    ap[K - 1] += p;
                else {
                    ap[l] += p * (l + 1 - t);
                    ap[l + 1] += p * (t - l);
                }
            }
        }
        double qsi = 0, qgi = 0, unit = sqrt((double)K) * 2 * sqrt(M_PI) * sig;
        for (int k = 0; k < N; k++) {
            double t = 0, dt = 0;
            for (int j = 0; j < K; j++) {
                double m = -1 + j * dlt, p = ap[j] * npdf(u[k], m, sig * sig);
                t += p;
                dt += -(u[k] - m) / (sig * sig) * p;
            }
            double rs = s[k * 4 + act[i]] - t, rg = gg[k * 4 + act[i]] - dt;
            qsi += rs * rs * du;
            qgi += rg * rg * du;
        }
        assert_close(sl[i], qsi * unit, 1e-6 * qsi * unit); /* the row's own scalar loss, unweighted */
        double w = wts ? wts[i] : 1.0;
        qs += w * qsi;
        qg += w * qgi;
    }
    double unit = sqrt((double)K) * 2 * sqrt(M_PI) * sig;
    (void)S;
    qs *= unit / 4;
    qg *= 0.7 * unit * 2 * sig * sig / 4;
    print_message("%s%s%s%s: losses scalar %.8g (quadrature %.8g), gradient %.8g (%.8g)\n",
                  control ? "control" : "evaluation", dbl ? ", double" : "", disc ? ", discounts" : "",
                  wts ? ", weights" : "", ls, qs, lg, qg);
    assert_close(ls, qs, 1e-6 * qs);
    assert_close(lg, qg, 1e-5 * qg);
    if (control) /* else the two cases would check the same a' */
        assert_true(other > 0);
    if (dbl) /* else the online choice would be the target's */
        assert_true(differ > 0);
    if (!wts) {
        double m = 0;
        for (int i = 0; i < 4; i++)
            m += sl[i] / 4;
        assert_close(m, ls, 1e-12 * ls);
    }
    unmake(&f);
}

static void test_projected_loss_is_integral(void **state)
{
    (void)state;
    /* γ_i ≠ γ (0.99): 0.9801 = γ² for a two-step reward (row 3 is terminal) */
    const double disc[4] = {0.9801, 0.5, 0.97, 0.2};
    const float wts[4] = {0.5f, 2.0f, 0.0f, 1.3f};
    projected_loss_is_integral(0, NULL, NULL, 0);
    projected_loss_is_integral(1, NULL, NULL, 0);
    projected_loss_is_integral(0, disc, NULL, 0);
    projected_loss_is_integral(1, disc, wts, 0);
    projected_loss_is_integral(1, NULL, NULL, 1);
}

static void test_save_load(void **state)
{
    (void)state;
    const char *sets[] = {"agent.ema=0.9"};
    fixture f, g2;
    make(&f, 21, sets, 1);
    make(&g2, 22, sets, 1);
    float obs[4] = {0, 1, 2, 3}, rew[4] = {0, 1, 0, 1};
    int act[4] = {0, 1, 2, 3};
    unsigned char term[4] = {0, 1, 0, 1};
    agent_batch b = {4, obs, act, rew, obs, term, NULL, NULL, NULL, NULL};
    bdrl_err e;
    for (int k = 0; k < 5; k++)
        assert_int_equal(agent_update(f.a, &b, NULL, &e), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/bdb.ckpt", tu_dir);
    FILE *fp = fopen(path, "wb");
    assert_int_equal(f.a->ops->save(f.a, fp, &e), 0);
    fclose(fp);
    fp = fopen(path, "rb");
    assert_int_equal(g2.a->ops->load(g2.a, fp, &e), 0);
    fclose(fp);
    /* the same next update, the same laws */
    agent_stats s1, s2;
    assert_int_equal(agent_update(f.a, &b, &s1, &e), 0);
    assert_int_equal(agent_update(g2.a, &b, &s2, &e), 0);
    assert_true(s1.loss == s2.loss && s1.loss_grad == s2.loss_grad);
    agent_dist d1, d2;
    assert_int_equal(agent_distribution(f.a, &obs[1], 2, &d1, &e), 0);
    double w1[64];
    memcpy(w1, d1.w, sizeof(double) * d1.n);
    assert_int_equal(agent_distribution(g2.a, &obs[1], 2, &d2, &e), 0);
    assert_memory_equal(w1, d2.w, sizeof(double) * d2.n);
    /* another basis size is refused, and the agent is unchanged */
    const char *other[] = {"agent.ema=0.9", "bd.basis=31"};
    fixture h;
    make(&h, 23, other, 2);
    fp = fopen(path, "rb");
    assert_int_not_equal(h.a->ops->load(h.a, fp, &e), 0);
    fclose(fp);
    assert_contains(e.msg, "basis 41");
    /* and so is a truncated file */
    fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(path, size / 2), 0);
    fp = fopen(path, "rb");
    assert_int_not_equal(g2.a->ops->load(g2.a, fp, &e), 0);
    fclose(fp);
    assert_int_equal(agent_distribution(g2.a, &obs[1], 2, &d2, &e), 0);
    assert_memory_equal(w1, d2.w, sizeof(double) * d2.n);
    unmake(&h);
    unmake(&g2);
    unmake(&f);
}

/* A run that main's binary wrote before the BD agents moved (commit ad9bbe6;
 * the basis agent's checkpoint format 1; tests/ref/bd_main/make.sh, under
 * OpenBLAS's Haswell kernels), resumed by this build, continues exactly as
 * that binary continued it:
 * the same evaluations and metrics, and at the end the same agent, byte for
 * byte (both read back and saved by this build). */
static void main_run_resumes(const char *form)
{
    char ref[1024], dir[1024], p[1200], q[1200];
    snprintf(ref, sizeof ref, "%s/tests/ref/bd_main/%s", tu_root(), form);
    snprintf(dir, sizeof dir, "%s/main_%s", tu_dir, form);
    /* OpenBLAS's kernel as make.sh's: kernels for different CPUs round
     * differently, and the fixtures are one kernel's arithmetic */
    tu_result r = tu_run("rm -rf %s && cp -r %s/run %s && OPENBLAS_CORETYPE=Haswell %s train --resume %s -q", dir,
                         ref, dir, tu_bdrl(), dir);
    if (r.status != 0)
        fail_msg("%s: resume exited %d: %s", form, r.status, r.err);
    tu_run_free(&r);
    const char *csv[] = {"eval", "metrics"};
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%s.csv", dir, csv[k]);
        snprintf(q, sizeof q, "%s/final_%s.csv", ref, csv[k]);
        char *have = tu_read(p), *want = tu_read(q);
        if (k == 1) { /* metrics.csv: all but the speed */
            char *h = tu_strip_sps(have), *w = tu_strip_sps(want);
            free(have);
            free(want);
            have = h;
            want = w;
        }
        assert_string_equal(have, want);
        free(have);
        free(want);
    }
    exp_config c;
    bdrl_err e;
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    if (exp_load(&c, p, NULL, 0, &e))
        fail_msg("%s", e.msg);
    env *en = env_create(&c.env, &e);
    assert_non_null(en);
    agent *a[2];
    char *bytes[2];
    size_t len[2];
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    snprintf(q, sizeof q, "%s/final.ckpt", ref);
    const char *ck[2] = {p, q};
    for (int k = 0; k < 2; k++) {
        rng *init = rng_create((uint64_t)k, RNG_STREAM_INIT);
        a[k] = agent_create(&c, en, init, &e);
        rng_free(init);
        assert_non_null(a[k]);
        int64_t step = 0;
        if (ckpt_read_agent(ck[k], &c, a[k], &step, &e))
            fail_msg("%s: %s", ck[k], e.msg);
        assert_int_equal(step, 300);
        bytes[k] = tu_agent_state(a[k], &len[k]);
    }
    print_message("%s: resumed like main's binary, agents of %zu bytes equal\n", form, len[0]);
    assert_true(len[0] == len[1] && !memcmp(bytes[0], bytes[1], len[0]));
    for (int k = 0; k < 2; k++) {
        free(bytes[k]);
        agent_free(a[k]);
    }
    env_free(en);
}

static void test_main_runs_resume(void **state)
{
    (void)state;
    main_run_resumes("basis");
    main_run_resumes("grid");
}

/* Weights of exactly 1 and discounts equal to agent.gamma are today's
 * arithmetic: two agents of one seed, one given them with every batch,
 * train to the same bits (sample_loss asked for or not). */
static void test_neutral_fields_are_bit_exact(void **state)
{
    (void)state;
    const char *sets[] = {"train.batch_size=4", "agent.gamma=0.95"};
    fixture f[2];
    make(&f[0], 31, sets, 2);
    make(&f[1], 31, sets, 2);
    tu_neutral_fields_bit_exact(f[0].a, f[1].a);
    unmake(&f[1]);
    unmake(&f[0]);
}

/* A bad minibatch is refused before anything changes, with
 * agent_check_batch's messages prefixed by the agent. */
static void test_bad_input(void **state)
{
    (void)state;
    const char *sets[] = {"train.batch_size=4"};
    fixture f;
    make(&f, 12, sets, 1);
    float obs[8] = {0}, rew[8] = {0};
    int act[8] = {0}, bad[8] = {0, 7}, nact[8] = {0, 4};
    unsigned char term[8] = {0};
    agent_batch b = {8, obs, act, rew, obs, term, NULL, NULL, NULL, NULL};
    bdrl_err e;
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: batch of 8 rows (this agent was built for 1 to 4)");
    b.B = 2;
    b.action = bad;
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: action out of range in row 1 of the batch");
    b.action = act;
    b.next_action = nact;
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: action out of range in row 1 of the batch");
    b.next_action = NULL;
    rew[1] = INFINITY;
    assert_int_not_equal(agent_update(f.a, &b, NULL, &e), 0);
    assert_string_equal(e.msg, "bd: reward inf in row 1 of the batch is not finite");
    unmake(&f);
}

/* The weight the reported atoms put above split, and their W1 to the
 * true atoms. */
static void score(agent *a, float obs, int act, double split, const double *v, const double *p, int n,
                  double *w_hi, double *w1)
{
    agent_dist d;
    bdrl_err e;
    assert_int_equal(agent_distribution(a, &obs, act, &d, &e), 0);
    stat_dist *m = stat_dist_atoms(d.x, d.w, (size_t)d.n, &e);
    stat_dist *t = stat_dist_atoms(v, p, (size_t)n, &e);
    assert_non_null(m);
    *w_hi = 1 - stat_dist_cdf(m, split);
    *w1 = stat_w1(m, t);
    stat_dist_free(m);
    stat_dist_free(t);
}

/* One-step bandit: terminal reward 1 with probability 0.8, else 0. The
 * atoms must give the outcomes their probabilities, and BDD samples of the
 * learned fields must give the field's own weights. */
static void test_learns_bandit(void **state)
{
    (void)state;
    fixture f;
    make(&f, 10, NULL, 0);
    int B = f.cfg.train.batch_size;
    float *obs = calloc(B, sizeof(float)), *rew = calloc(B, sizeof(float));
    int *act = calloc(B, sizeof(int));
    unsigned char *term = malloc(B);
    memset(term, 1, B);
    agent_batch b = {B, obs, act, rew, obs, term, NULL, NULL, NULL, NULL};
    rng *r = rng_create(10, 1);
    bdrl_err e;
    double wsum = 0;
    int nsum = 0;
    for (int k = 1; k <= 1500; k++) {
        for (int i = 0; i < B; i++)
            rew[i] = rng_uniform(r) < 0.8 ? 1.0f : 0.0f;
        assert_int_equal(agent_update(f.a, &b, NULL, &e), 0);
        if (k % 100 == 0)
            agent_update_target(f.a, 1);
        if (k > 1000 && k % 10 == 0) {
            double wh, w1;
            double v[2] = {0, 1}, p[2] = {0.2, 0.8};
            score(f.a, 0, 0, 0.5, v, p, 2, &wh, &w1);
            wsum += wh;
            nsum++;
        }
    }
    double v[2] = {0, 1}, p[2] = {0.2, 0.8}, whi, w1;
    score(f.a, 0, 0, 0.5, v, p, 2, &whi, &w1);
    agent_dist d;
    float o = 0;
    assert_int_equal(agent_distribution(f.a, &o, 0, &d, &e), 0);
    print_message("bandit 0.8/0.2 after 1500 updates: weight of return 1 = %.4f (mean over the last 500 "
                  "updates %.4f), W1 %.4f, mass %.3f\n", whi, wsum / nsum, w1, d.mass);
    assert_close(whi, 0.8, 0.06);
    assert_close(wsum / nsum, 0.8, 0.03);
    assert_true(w1 < 0.05);
    assert_close(d.mass, 1.0, 0.1);

    sde_config sc;
    agent_sampler_defaults(f.a, &sc);
    enum { N = 600 };
    double x[N];
    sde_result res;
    if (agent_sample(f.a, &o, 0, &sc, N, x, &res, r, &e))
        fail_msg("%s", e.msg);
    int hi = 0;
    for (int i = 0; i < N; i++)
        hi += x[i] > 0.5;
    print_message("BDD samples: weight of return 1 = %.3f, local accept %.2f, global accept %.2f, frozen %d\n",
                  (double)hi / N, res.local_accept, res.global_accept, res.n_frozen);
    assert_close((double)hi / N, whi, 0.06);
    free(obs);
    free(rew);
    free(act);
    free(term);
    rng_free(r);
    unmake(&f);
}

/* A two-state chain with bootstrapping: state 0 moves to state 1 with
 * reward 0; state 1 ends with reward 1 (p 0.8) or 0. With γ = 0.9, Z(0) is
 * 0.9 with probability 0.8, else 0; its mean 0.72 must be right, not only
 * the weights (a mean bias in the mapped targets would show here). */
static void test_learns_chain(void **state)
{
    (void)state;
    const char *sets[] = {"agent.gamma=0.9"};
    fixture f;
    make(&f, 11, sets, 1);
    int B = f.cfg.train.batch_size;
    float *obs = calloc(B, sizeof(float)), *nobs = calloc(B, sizeof(float)), *rew = calloc(B, sizeof(float));
    int *act = calloc(B, sizeof(int)), *na = calloc(B, sizeof(int));
    unsigned char *term = malloc(B);
    agent_batch b = {B, obs, act, rew, nobs, term, na, NULL, NULL, NULL};
    rng *r = rng_create(11, 1);
    bdrl_err e;
    double q0 = 0, q1 = 0;
    int nq = 0;
    for (int k = 1; k <= 2000; k++) {
        for (int i = 0; i < B; i++) {
            int s = i % 2;
            obs[i] = (float)s;
            nobs[i] = (float)(s + 1);
            term[i] = s == 1;
            rew[i] = s == 1 && rng_uniform(r) < 0.8 ? 1.0f : 0.0f;
        }
        assert_int_equal(agent_update(f.a, &b, NULL, &e), 0);
        if (k % 100 == 0)
            agent_update_target(f.a, 1);
        if (k > 1500 && k % 10 == 0) {
            float o[2] = {0, 1};
            double q[8];
            assert_int_equal(agent_q_values(f.a, 2, o, q, &e), 0);
            q0 += q[0];
            q1 += q[4];
            nq++;
        }
    }
    double v1[2] = {0, 1}, v0[2] = {0, 0.9}, p[2] = {0.2, 0.8}, whi0, w10, whi1, w11;
    score(f.a, 1, 0, 0.5, v1, p, 2, &whi1, &w11);
    score(f.a, 0, 0, 0.45, v0, p, 2, &whi0, &w10);
    print_message("chain after 2000 updates: Z(1) weight %.4f W1 %.4f, mean Q %.4f (0.8); Z(0) weight %.4f W1 "
                  "%.4f, mean Q %.4f (0.72)\n", whi1, w11, q1 / nq, whi0, w10, q0 / nq);
    assert_close(whi1, 0.8, 0.06);
    assert_close(whi0, 0.8, 0.06);
    assert_true(w11 < 0.05);
    assert_true(w10 < 0.05);
    assert_close(q1 / nq, 0.8, 0.02);
    assert_close(q0 / nq, 0.72, 0.02);
    free(obs);
    free(nobs);
    free(rew);
    free(act);
    free(na);
    free(term);
    rng_free(r);
    unmake(&f);
}

/* The memory estimate against what creating the agent really allocates
 * (glibc's heap statistics), and bd.basis named when it exceeds the limit. */
static void test_memory_estimate(void **state)
{
    (void)state;
    const char *sets[] = {"bd.basis=201", "agent.hidden=[256, 256]", "train.batch_size=256", "agent.ema=0.99"};
    exp_config c;
    bdrl_err e;
    char *all[8] = {"env.name=frozenlake", "agent.kind=bd", "bd.field=basis"};
    for (int i = 0; i < 4; i++)
        all[3 + i] = (char *)sets[i];
    assert_int_equal(exp_load(&c, NULL, all, 7, &e), 0);
    env *en = env_create(&c.env, &e);
    sizing_estimate est;
    limits_estimate_experiment(&c, en, &est);
    struct mallinfo2 m0 = mallinfo2();
    rng *init = rng_create(1, RNG_STREAM_INIT);
    agent *a = agent_create(&c, en, init, &e);
    assert_non_null(a);
    struct mallinfo2 m1 = mallinfo2();
    double used = (double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd);
    if (UNDER_ASAN) {
        /* AddressSanitizer's allocator keeps no glibc statistics */
        print_message("allocation check skipped under AddressSanitizer\n");
    } else {
        /* the estimate also counts the scratch copies a checkpoint load makes */
        print_message("basis agent: allocated %.3g bytes, estimated %.3g (networks %.3g, scratch %.3g)\n", used,
                      est.networks + est.scratch, est.networks, est.scratch);
        assert_true(est.networks + est.scratch >= used);
        assert_true(est.networks + est.scratch < 2 * used);
    }
    agent_free(a);
    rng_free(init);
    setenv("BDRL_MAX_MEMORY", "4M", 1);
    c.train.buffer_size = 10;
    assert_int_equal(limits_check_experiment(&c, en, &e), -1);
    unsetenv("BDRL_MAX_MEMORY");
    assert_contains(e.msg, "bd.basis");
    env_free(en);
}

/* The scratch table drives allocation: between configurations that differ
 * only in what the networks do not see (train.batch_size below
 * EVAL_MAX_ROWS / 2, the networks' row count; bd.grid, the density
 * readout's points), the bytes creating the agent allocates differ by what
 * bd_scratch_bytes says, to malloc's per-block overhead. A buffer sized by
 * either outside the table, or a table row no allocation follows, shows up
 * here. */
static double allocated_by_create(exp_config *c, const env *en)
{
    bdrl_err e;
    struct mallinfo2 m0 = mallinfo2();
    rng *init = rng_create(1, RNG_STREAM_INIT);
    agent *a = agent_create(c, en, init, &e);
    assert_non_null(a);
    struct mallinfo2 m1 = mallinfo2();
    agent_free(a);
    rng_free(init);
    return (double)(m1.uordblks + m1.hblkhd) - (double)(m0.uordblks + m0.hblkhd);
}

static void test_scratch_table(void **state)
{
    (void)state;
    if (UNDER_ASAN) {
        print_message("allocation check skipped under AddressSanitizer\n");
        return;
    }
    const char *other[] = {"bd.grid=64", "train.batch_size=16", "bd.grid=20001"};
    double used[3], table[3];
    for (int i = 0; i < 3; i++) {
        exp_config c;
        bdrl_err e;
        char *sets[] = {"env.name=frozenlake", "agent.kind=bd", "bd.field=basis", "bd.basis=301",
                        "train.batch_size=4", "bd.grid=64", (char *)other[i]};
        assert_int_equal(exp_load(&c, NULL, sets, 7, &e), 0);
        env *en = env_create(&c.env, &e);
        used[i] = allocated_by_create(&c, en);
        table[i] = bd_scratch_bytes(&c, en);
        env_free(en);
    }
    for (int i = 1; i < 3; i++) {
        double du = used[i] - used[0], dt = table[i] - table[0];
        print_message("%s: allocated %.0f bytes more, the table says %.0f\n", other[i], du, dt);
        assert_true(dt > 50000); /* a real difference to check */
        assert_true(fabs(du - dt) < 64 * 48); /* malloc overhead, up to 48 blocks of difference */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_bd_is_basis),
        cmocka_unit_test(test_agents_apart),
        cmocka_unit_test(test_field_and_derivative),
        cmocka_unit_test(test_q_is_mean_of_law),
        cmocka_unit_test(test_loss_gradient),
        cmocka_unit_test(test_project_atom),
        cmocka_unit_test(test_projected_loss_is_integral),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_main_runs_resume),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_neutral_fields_are_bit_exact),
        cmocka_unit_test(test_learns_bandit),
        cmocka_unit_test(test_learns_chain),
        cmocka_unit_test(test_memory_estimate),
        cmocka_unit_test(test_scratch_table),
    };
    return cmocka_run_group_tests_name("bd", tests, tu_group_setup, tu_group_teardown);
}
