/* Tests of agent.risk (agent_action_values and every agent's risk_values):
 * on the law each agent reports (its freshly initialized networks at a few
 * CartPole observations), ρ equals stats/risk's value on that law — C51's
 * atoms, QR-DQN's quantiles, IQN's quantiles at β(τ_k), BD's Gaussian
 * mixture, the grid agent's density on its grid; mean is q_values bit for
 * bit; the basis width pulls BD's CVaR below its atoms' by at most
 * hσ φ(Φ⁻¹(α))/α; DQN refuses any measure but mean, and agent.risk_target
 * is refused where the update cannot honour it; the key parses and prints. */
#include "test_util.h"

#include <math.h>
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
    check_agent(x, risk_of_dist, 1e-9);
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
    const char *bd_tgt[] = {"agent.kind=bd", "agent.risk=cvar:0.1", "agent.risk_target=true", NULL};
    assert_null(make(&cfg, &en, bd_tgt, &e));
    assert_contains(e.msg, "agent.risk_target");
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
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_config_key),
    };
    return cmocka_run_group_tests_name("risk_agents", tests, NULL, NULL);
}
