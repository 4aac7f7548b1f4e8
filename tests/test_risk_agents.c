/* Tests of agent.risk (agent_action_values and every agent's risk_values):
 * on the law each agent reports (its freshly initialized networks at a few
 * CartPole observations), ρ equals stats/risk's value on that law — C51's
 * atoms, QR-DQN's quantiles, IQN's quantiles at β(τ_k), BD's Gaussian
 * mixture, the grid agent's density on its grid; mean is q_values bit for
 * bit; the basis width pulls BD's CVaR below its atoms' by at most
 * hσ φ(Φ⁻¹(α))/α; DQN refuses any measure but mean, and agent.risk_target
 * is refused where the update cannot honour it (the grid agent) and, where
 * it is honoured (C51, QR-DQN, BD; IQN in test_iqn.c), picks the target's
 * a* by CVaR where the mean would pick another; the key parses and prints. */
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agents/agent.h"
#include "agents/bd.h"
#include "agents/experiment.h"
#include "agents/iqn.h"
#include "stats/risk.h"

#define NOBS 3
static const float OBS[NOBS * 4] = {0.01f, -0.2f, 0.03f, 0.1f, 1.2f, 0.5f, -0.1f, -0.7f, -1.5f, 2.0f, 0.15f, 1.1f};

/* An agent on CartPole with the given extra KEY=VALUEs (NULL-terminated);
 * NULL with the message in e when creation fails. */
static agent *make(exp_config *cfg, env **en, const char *const *extra, bdrl_err *e)
{
    char *sets[16] = {"env.name=cartpole", "agent.hidden=[8, 6]", "agent.v_min=-3", "agent.v_max=4",
                      "train.batch_size=5", "agent.gamma=0.9", "seed=7"};
    int n = 7;
    for (int i = 0; extra[i]; i++)
        sets[n++] = (char *)extra[i];
    if (exp_load(cfg, NULL, sets, n, e))
        fail_msg("%s", e->msg);
    *en = env_create(&cfg->env, e);
    assert_non_null(*en);
    rng *init = rng_create(7, RNG_STREAM_INIT);
    agent *a = agent_create(cfg, *en, init, e);
    rng_free(init);
    if (!a)
        env_free(*en);
    return a;
}

static const risk_spec SPECS[] = {{RISK_CVAR, 0.1}, {RISK_CVAR, 0.5}, {RISK_WANG, -0.75}, {RISK_POW, -2},
                                  {RISK_VAR, 0.3}};
#define NSPECS ((int)(sizeof SPECS / sizeof *SPECS))

/* ρ of the agent's distribution op at (obs, action), by stats/risk on its
 * atoms or on its grid density taken as atoms. */
static double risk_of_dist(agent *a, const float *obs, int action, const risk_spec *r)
{
    bdrl_err e;
    agent_dist d;
    assert_int_equal(agent_distribution(a, obs, action, &d, &e), 0);
    double v;
    assert_int_equal(risk_atoms(r, d.x, d.w, (size_t)d.n, &v, &e), 0);
    return v;
}

/* For every spec: risk_values at the NOBS observations equals ref(). */
typedef double (*ref_fn)(agent *a, const float *obs, int action, const risk_spec *r);

static void check_agent(const char *const *extra, ref_fn ref, double tol)
{
    exp_config cfg;
    env *en;
    bdrl_err e;
    agent *a = make(&cfg, &en, extra, &e);
    if (!a)
        fail_msg("%s", e.msg);
    int A = a->n_actions;
    double out[NOBS * 2], q[NOBS * 2], q2[NOBS * 2];
    assert_true(A == 2);
    /* mean: q_values, bit for bit */
    assert_int_equal(agent_q_values(a, NOBS, OBS, q, &e), 0);
    assert_int_equal(agent_action_values(a, NOBS, OBS, q2, &e), 0);
    assert_memory_equal(q, q2, sizeof q);
    int spread = 0;
    for (int s = 0; s < NSPECS; s++) {
        assert_int_equal(a->ops->risk_values(a, NOBS, OBS, &SPECS[s], out, &e), 0);
        for (int i = 0; i < NOBS; i++)
            for (int k = 0; k < A; k++) {
                double want = ref(a, OBS + 4 * i, k, &SPECS[s]);
                assert_close(out[i * A + k], want, tol * (1 + fabs(want)));
                if (SPECS[s].measure == RISK_CVAR && fabs(out[i * A + k] - q[i * A + k]) > 1e-3)
                    spread = 1; /* the laws are not points: CVaR is not the mean */
            }
    }
    assert_true(spread);
    agent_free(a);
    env_free(en);
}

static void test_c51(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=c51", "c51.atoms=11", NULL};
    check_agent(x, risk_of_dist, 1e-12);
}

static void test_qrdqn(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=qrdqn", "qrdqn.quantiles=9", NULL};
    check_agent(x, risk_of_dist, 1e-6); /* the law's atoms are the float outputs in double */
}

/* IQN: the mean of Z at the K distorted midpoints β((2k − 1)/2K). */
static double iqn_ref(agent *a, const float *obs, int action, const risk_spec *r)
{
    enum { K = 8 }; /* iqn.k below */
    double tau[K], z[K * 2];
    bdrl_err e;
    for (int k = 0; k < K; k++)
        tau[k] = risk_beta(r, (2.0 * k + 1) / (2.0 * K));
    assert_int_equal(iqn_quantiles(a, IQN_ONLINE, obs, K, tau, z, &e), 0);
    double s = 0;
    for (int k = 0; k < K; k++)
        s += z[k * 2 + action];
    return s / K;
}

static void test_iqn(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=iqn", "iqn.k=8", NULL};
    check_agent(x, iqn_ref, 1e-12);
}

/* BD: the mixture Σ w_k N(c + h μ_k, (hσ)²) whose centres and weights are
 * the atoms readout's law, σ = bd.basis_width · 2/(K − 1) in u units. */
static double bd_h, bd_sigma_u;
static double bd_ref(agent *a, const float *obs, int action, const risk_spec *r)
{
    bdrl_err e;
    agent_dist d;
    assert_int_equal(agent_distribution(a, obs, action, &d, &e), 0);
    assert_false(d.is_density);
    double v;
    assert_int_equal(risk_gauss_mixture(r, d.x, d.w, (size_t)d.n, bd_h * bd_sigma_u, &v, &e), 0);
    return v;
}

static void test_bd(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=bd", "bd.readout=atoms", "bd.basis=21", "bd.basis_width=1.5", NULL};
    exp_config cfg;
    env *en;
    bdrl_err e;
    agent *a = make(&cfg, &en, x, &e);
    assert_non_null(a);
    bd_geometry g;
    bd_get_geometry(a, &g);
    bd_h = g.h;
    bd_sigma_u = 1.5 * 2.0 / 20;
    /* CVaR of the mixture against its atoms: the bumps spread every atom,
     * a mean-preserving spread lowers CVaR, and by superadditivity of CVaR
     * (lower tail) by at most that of one N(0, (hσ)²): hσ φ(Φ⁻¹(α))/α. */
    const double alpha = 0.1, z = -1.2815515655446004; /* Φ⁻¹(0.1) */
    double bound = bd_h * bd_sigma_u * exp(-0.5 * z * z) / sqrt(2 * M_PI) / alpha, worst = 0;
    risk_spec cv = {RISK_CVAR, alpha};
    for (int i = 0; i < NOBS; i++)
        for (int k = 0; k < 2; k++) {
            double mix = bd_ref(a, OBS + 4 * i, k, &cv), at = risk_of_dist(a, OBS + 4 * i, k, &cv);
            assert_true(mix <= at + 1e-12);
            assert_true(mix >= at - bound - 1e-12);
            worst = fmax(worst, at - mix);
        }
    print_message("bd: CVaR(0.1) of the mixture is below its atoms' by at most %.4g (bound hσφ(z)/α %.4g)\n", worst,
                  bound);
    assert_true(worst > 0.1 * bound); /* the width matters: not a no-op */
    agent_free(a);
    env_free(en);
    check_agent(x, bd_ref, 1e-9);
}

static void test_bd_grid(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=bd", "bd.field=grid", "bd.grid=64", NULL};
    /* The law's grid densities are float network outputs, and risk_values
     * evaluates all observations in one batch where agent_distribution
     * takes one: OpenBLAS's kernels for some CPUs (Haswell's, Zen's) round
     * the two products differently in the last float bits (1.3e-9 relative
     * seen in the risk), SkylakeX's alike. A wrong formula is off by far
     * more than float rounding. */
    check_agent(x, risk_of_dist, 1e-6);
}

/* An agent created with agent.risk acts on ρ: agent_action_values and
 * agent_greedy follow risk_values, not Q. */
static void test_action_values_follow_risk(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=c51", "c51.atoms=11", "agent.risk=cvar:0.1", NULL};
    exp_config cfg;
    env *en;
    bdrl_err e;
    agent *a = make(&cfg, &en, x, &e);
    assert_non_null(a);
    assert_int_equal(a->risk.measure, RISK_CVAR);
    double v[NOBS * 2], r[NOBS * 2], q[NOBS * 2];
    assert_int_equal(agent_action_values(a, NOBS, OBS, v, &e), 0);
    assert_int_equal(a->ops->risk_values(a, NOBS, OBS, &cfg.agent.risk, r, &e), 0);
    assert_int_equal(agent_q_values(a, NOBS, OBS, q, &e), 0);
    assert_memory_equal(v, r, sizeof v);
    assert_true(memcmp(v, q, sizeof v) != 0);
    for (int i = 0; i < NOBS; i++) {
        int act;
        assert_int_equal(agent_greedy(a, OBS + 4 * i, &act, &e), 0);
        assert_int_equal(act, v[2 * i + 1] > v[2 * i] ? 1 : 0);
    }
    agent_free(a);
    env_free(en);
}

/* ---- agent.risk_target: the Bellman target's a* at s' by ρ ----
 *
 * For C51, QR-DQN and BD (whose updates draw nothing, so two agents made
 * alike update alike): with agent.risk cvar:0.1 and agent.risk_target, one
 * update with a* left to the agent leaves exactly the parameters of an
 * agent without agent.risk_target given a' = the CVaR-greedy action of the
 * target networks at s' (a batch's next_action: that action's law is the
 * target), and without agent.risk_target exactly those of a' = the
 * mean-greedy one; the s' are chosen so that the two choices differ. The
 * online parameters are perturbed first, so the target networks are not the
 * online ones: the target's ρ is a twin's, made alike and not perturbed
 * (its online networks are the others' target networks), and some s' has a
 * CVaR-greedy action of the online networks that is not the target's (so
 * ranking on the wrong networks fails too). With agent.double the ranking
 * networks are the online ones, and the roles swap. */

#define RT_B 5         /* train.batch_size of make() */
#define RT_TRIES 4000  /* random s' searched for rows whose a* differ */

static agent *rt_make(const char *const *kind, int risk_target, int dbl, int perturb, env **en)
{
    const char *x[12];
    int n = 0;
    for (int i = 0; kind[i]; i++)
        x[n++] = kind[i];
    x[n++] = "agent.risk=cvar:0.1";
    if (risk_target)
        x[n++] = "agent.risk_target=true";
    if (dbl)
        x[n++] = "agent.double=true";
    x[n] = NULL;
    exp_config cfg;
    bdrl_err e;
    agent *a = make(&cfg, en, x, &e);
    if (!a)
        fail_msg("%s", e.msg);
    if (perturb) { /* the online parameters only: the targets stay the twin's */
        agent_param_block blk[AGENT_MAX_PARAM_BLOCKS];
        int nb = a->ops->params(a, blk);
        rng *r = rng_create(31, 1);
        for (int k = 0; k < nb; k++)
            for (size_t i = 0; i < blk[k].n; i++)
                ((real *)blk[k].p)[i] += (real)(0.3 * rng_normal(r));
        rng_free(r);
    }
    return a;
}

static int argmax2(const double *v) { return v[1] > v[0] ? 1 : 0; }

/* The parameters after one update of a fresh (perturbed) agent on b, into
 * out (n reals, allocated here); returns n. */
static size_t rt_update(const char *const *kind, int risk_target, int dbl, const agent_batch *b, real **out)
{
    env *en;
    agent *a = rt_make(kind, risk_target, dbl, 1, &en);
    agent_stats st;
    bdrl_err e;
    if (agent_update(a, b, &st, &e))
        fail_msg("%s", e.msg);
    agent_param_block blk[AGENT_MAX_PARAM_BLOCKS];
    int nb = a->ops->params(a, blk);
    size_t n = 0;
    for (int k = 0; k < nb; k++)
        n += blk[k].n;
    *out = malloc(sizeof(real) * n);
    assert_non_null(*out);
    n = 0;
    for (int k = 0; k < nb; k++) {
        memcpy(*out + n, blk[k].p, sizeof(real) * blk[k].n);
        n += blk[k].n;
    }
    agent_free(a);
    env_free(en);
    return n;
}

static void risk_target_case(const char *const *kind, int dbl)
{
    env *en_t, *en_o;
    agent *twin = rt_make(kind, 0, 0, 0, &en_t); /* the target networks, as online ones */
    agent *on = rt_make(kind, 0, 0, 1, &en_o);   /* the perturbed online networks */
    agent *rank = dbl ? on : twin, *other = dbl ? twin : on;
    const risk_spec cv = {RISK_CVAR, 0.1};
    bdrl_err e;
    rng *r = rng_create(5, 1);
    float next_obs[RT_B * 4], obs[RT_B * 4], rew[RT_B];
    int act[RT_B], a_mean[RT_B], a_cvar[RT_B], rows = 0, apart = 0;
    unsigned char term[RT_B] = {0};
    /* rows 0 .. RT_B − 2: s' whose mean- and CVaR-greedy actions of the
     * ranking networks differ, the first of them one whose CVaR-greedy
     * action differs on the other networks; the last row terminal */
    for (int t = 0; t < RT_TRIES && rows < RT_B - 1; t++) {
        float o[4];
        for (int k = 0; k < 4; k++)
            o[k] = (float)(6 * rng_uniform(r) - 3);
        double q[2], c[2], co[2];
        assert_int_equal(agent_q_values(rank, 1, o, q, &e), 0);
        assert_int_equal(rank->ops->risk_values(rank, 1, o, &cv, c, &e), 0);
        assert_int_equal(other->ops->risk_values(other, 1, o, &cv, co, &e), 0);
        if (argmax2(q) == argmax2(c) || fabs(q[1] - q[0]) < 1e-6 || fabs(c[1] - c[0]) < 1e-6)
            continue;
        int away = argmax2(co) != argmax2(c);
        if (!apart && !away)
            continue;
        apart |= away;
        memcpy(next_obs + 4 * rows, o, sizeof o);
        a_mean[rows] = argmax2(q);
        a_cvar[rows] = argmax2(c);
        rows++;
    }
    if (rows < RT_B - 1)
        fail_msg("%s%s: found %d of %d s' whose mean and CVaR a* differ", kind[0], dbl ? ", double" : "", rows,
                 RT_B - 1);
    for (int i = 0; i < RT_B; i++) {
        for (int k = 0; k < 4; k++)
            obs[4 * i + k] = (float)(2 * rng_uniform(r) - 1);
        act[i] = (int)rng_below(r, 2);
        rew[i] = (float)rng_uniform(r);
    }
    for (int k = 0; k < 4; k++)
        next_obs[4 * (RT_B - 1) + k] = 0.5f;
    term[RT_B - 1] = 1;
    a_mean[RT_B - 1] = a_cvar[RT_B - 1] = 0; /* terminal: not read */
    agent_batch b = {RT_B, obs, act, rew, next_obs, term, NULL, NULL, NULL, NULL};
    real *p_risk, *p_mean, *p_given_cvar, *p_given_mean;
    size_t n = rt_update(kind, 1, dbl, &b, &p_risk);
    assert_true(rt_update(kind, 0, dbl, &b, &p_mean) == n);
    b.next_action = a_cvar;
    assert_true(rt_update(kind, 0, dbl, &b, &p_given_cvar) == n);
    b.next_action = a_mean;
    assert_true(rt_update(kind, 0, dbl, &b, &p_given_mean) == n);
    assert_true(memcmp(p_given_cvar, p_given_mean, sizeof(real) * n) != 0); /* the choice matters */
    print_message("%s%s: risk_target follows the CVaR a* (%s), without it the mean a* (%s)\n", kind[0],
                  dbl ? ", double" : "", memcmp(p_risk, p_given_cvar, sizeof(real) * n) ? "NO" : "yes",
                  memcmp(p_mean, p_given_mean, sizeof(real) * n) ? "NO" : "yes");
    assert_memory_equal(p_risk, p_given_cvar, sizeof(real) * n);
    assert_memory_equal(p_mean, p_given_mean, sizeof(real) * n);
    free(p_risk);
    free(p_mean);
    free(p_given_cvar);
    free(p_given_mean);
    rng_free(r);
    agent_free(twin);
    agent_free(on);
    env_free(en_t);
    env_free(en_o);
}

static void test_risk_target_c51(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=c51", "c51.atoms=11", NULL};
    risk_target_case(x, 0);
    risk_target_case(x, 1);
}

static void test_risk_target_qrdqn(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=qrdqn", "qrdqn.quantiles=9", NULL};
    risk_target_case(x, 0);
    risk_target_case(x, 1);
}

static void test_risk_target_bd(void **state)
{
    (void)state;
    const char *x[] = {"agent.kind=bd", "bd.basis=21", "bd.basis_width=1.5", NULL};
    risk_target_case(x, 0);
    risk_target_case(x, 1);
}

static void test_refusals(void **state)
{
    (void)state;
    exp_config cfg;
    env *en;
    bdrl_err e;
    const char *dqn[] = {"agent.kind=dqn", "agent.risk=cvar:0.1", NULL};
    assert_null(make(&cfg, &en, dqn, &e));
    assert_contains(e.msg, "agent.risk: cvar:0.1");
    assert_contains(e.msg, "dqn");
    const char *dqn_mean[] = {"agent.kind=dqn", "agent.risk=mean", NULL};
    agent *a = make(&cfg, &en, dqn_mean, &e);
    assert_non_null(a);
    agent_free(a);
    env_free(en);
    const char *grid_tgt[] = {"agent.kind=bd", "bd.field=grid", "bd.grid=64", "agent.risk=cvar:0.1",
                              "agent.risk_target=true", NULL};
    assert_null(make(&cfg, &en, grid_tgt, &e));
    assert_contains(e.msg, "agent.risk_target: the bd agent with bd.field grid picks a* by its mean only");
    const char *bd_tgt[] = {"agent.kind=bd", "agent.risk=cvar:0.1", "agent.risk_target=true", NULL};
    a = make(&cfg, &en, bd_tgt, &e);
    assert_non_null(a);
    agent_free(a);
    env_free(en);
    const char *c51_tgt[] = {"agent.kind=c51", "agent.risk=wang:-0.5", "agent.risk_target=true", NULL};
    a = make(&cfg, &en, c51_tgt, &e);
    assert_non_null(a);
    agent_free(a);
    env_free(en);
}

static void test_config_key(void **state)
{
    (void)state;
    exp_config cfg;
    bdrl_err e;
    char *ok[] = {"env.name=cartpole", "agent.risk=cvar:0.25"};
    assert_int_equal(exp_load(&cfg, NULL, ok, 2, &e), 0);
    assert_int_equal(cfg.agent.risk.measure, RISK_CVAR);
    assert_close(cfg.agent.risk.param, 0.25, 0);
    char buf[64];
    assert_int_equal(cfg_format_value(&exp_schema, &cfg, "agent.risk", buf, sizeof buf, &e), 0);
    assert_string_equal(buf, "cvar:0.25");
    assert_int_equal(exp_load(&cfg, NULL, ok, 1, &e), 0);
    assert_int_equal(cfg.agent.risk.measure, RISK_MEAN);
    assert_int_equal(cfg.agent.risk_target, 0);
    char *bad[] = {"env.name=cartpole", "agent.risk=cvar:2"};
    assert_int_equal(exp_load(&cfg, NULL, bad, 2, &e), -1);
    assert_contains(e.msg, "agent.risk");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c51),
        cmocka_unit_test(test_qrdqn),
        cmocka_unit_test(test_iqn),
        cmocka_unit_test(test_bd),
        cmocka_unit_test(test_bd_grid),
        cmocka_unit_test(test_action_values_follow_risk),
        cmocka_unit_test(test_risk_target_c51),
        cmocka_unit_test(test_risk_target_qrdqn),
        cmocka_unit_test(test_risk_target_bd),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_config_key),
    };
    return cmocka_run_group_tests_name("risk_agents", tests, NULL, NULL);
}
