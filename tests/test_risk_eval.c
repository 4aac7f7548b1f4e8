/* Tests of `bdrl eval` under agent.risk (train/evaldist.c): the states a
 * policy visits, by hand on FrozenLake 4x4; and on a C51 agent acting on
 * CVaR on slippery FrozenLake, that the truth follows the exact iterated
 * risk-greedy policy (truth/risk_policy.h), the agent's policy is its
 * greedy one on its risk values, and the differing states are counted
 * among all and among the visited. */
#include "test_util.h"

#include "agents/agent.h"
#include "agents/experiment.h"
#include "train/evaldist.h"
#include "truth/risk_policy.h"
#include "truth/truth.h"

static env *make_env(exp_config *cfg, char **sets, int n)
{
    bdrl_err e;
    if (exp_load(cfg, NULL, sets, n, &e))
        fail_msg("%s", e.msg);
    env *en = env_create(&cfg->env, &e);
    assert_non_null(en);
    return en;
}

/* SFFF / FHFH / FFFH / HFFG, not slippery: right from 0 walks 0-1-2-3 and
 * bumps the wall at 3 (4 states); down walks 0-4-8 into the hole 12 (3). */
static void test_visited_by_hand(void **state)
{
    (void)state;
    exp_config cfg;
    char *sets[] = {"env.name=frozenlake", "env.slippery=false"};
    env *en = make_env(&cfg, sets, 2);
    const env_table *t = env_transition_table(en);
    int pol[16];
    unsigned char vis[16];
    for (int s = 0; s < 16; s++)
        pol[s] = 2; /* right */
    assert_int_equal(evaldist_visited(t, pol, vis), 4);
    assert_true(vis[0] && vis[1] && vis[2] && vis[3] && !vis[4]);
    for (int s = 0; s < 16; s++)
        pol[s] = 1; /* down */
    assert_int_equal(evaldist_visited(t, pol, vis), 3);
    assert_true(vis[0] && vis[4] && vis[8] && !vis[12] && !vis[1]);
    env_free(en);
}

static void test_risk_eval(void **state)
{
    (void)state;
    exp_config cfg;
    char *sets[] = {"env.name=frozenlake", "agent.kind=c51", "agent.hidden=[8]", "agent.risk=cvar:0.25",
                    "agent.gamma=0.9", "c51.atoms=11", "seed=3"};
    env *en = make_env(&cfg, sets, 7);
    bdrl_err e;
    rng *init = rng_create(3, RNG_STREAM_INIT);
    agent *a = agent_create(&cfg, en, init, &e);
    rng_free(init);
    assert_non_null(a);
    evaldist_options o;
    evaldist_options_default(&o);
    evaldist_result r;
    assert_int_equal(evaldist_run(a, &cfg, &o, &r, &e), 0);
    assert_string_equal(r.truth_policy, "risk-greedy");
    assert_string_equal(r.risk, "cvar:0.25");
    const env_table *t = env_transition_table(en);
    risk_greedy g;
    assert_int_equal(truth_tab_risk_greedy(t, 0.9, &cfg.agent.risk, 0, &g, &e), 0);
    assert_memory_equal(r.policy, g.policy, sizeof(int) * 16);
    assert_int_equal(r.risk_converged, g.converged);
    risk_greedy_free(&g);
    unsigned char vis[16];
    int n_vis = evaldist_visited(t, r.policy, vis), differ = 0, differ_vis = 0, states = 0;
    for (int s = 0; s < 16; s++) {
        if (truth_tab_is_terminal(t, s))
            continue;
        float obs = (float)s;
        int act;
        assert_int_equal(agent_greedy(a, &obs, &act, &e), 0);
        assert_int_equal(r.agent_policy[s], act);
        states++;
        differ += act != r.policy[s];
        differ_vis += act != r.policy[s] && vis[s];
    }
    assert_int_equal(r.n_nonterminal, states);
    assert_int_equal(states, 11); /* 4 holes and the goal are terminal */
    assert_int_equal(r.n_visited, n_vis);
    assert_int_equal(r.n_differ, differ);
    assert_int_equal(r.n_differ_visited, differ_vis);
    assert_true(differ > 0); /* an untrained agent is not the exact policy */
    /* the truth laws follow that policy: the first entry's mean */
    truth_atoms ta;
    assert_int_equal(truth_tab_distribution(t, 0.9, r.policy, r.entries[0].state, r.entries[0].action, &ta, &e), 0);
    assert_close(r.entries[0].mean_truth, truth_atoms_mean(&ta), 1e-9);
    truth_atoms_free(&ta);
    evaldist_result_free(&r);
    /* the same agent under mean: the truth follows its greedy policy, no comparison */
    a->risk = (risk_spec){RISK_MEAN, 0};
    cfg.agent.risk = a->risk;
    assert_int_equal(evaldist_run(a, &cfg, &o, &r, &e), 0);
    assert_string_equal(r.truth_policy, "greedy");
    assert_null(r.agent_policy);
    evaldist_result_free(&r);
    agent_free(a);
    env_free(en);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visited_by_hand),
        cmocka_unit_test(test_risk_eval),
    };
    return cmocka_run_group_tests_name("risk_eval", tests, NULL, NULL);
}
