/* Tests of the agent registry: every registered kind is reachable from the
 * config schema, creates an agent whose ops carry the registry's name and
 * the calls every caller relies on, estimates its memory and declares shape
 * keys that fit the checkpoint header; kinds 0 and 1 stay bd and c51 (the
 * numbers written in older checkpoints). */
#include "test_util.h"

#include "agents/agent.h"
#include "agents/experiment.h"
#include "train/limits.h"
#include "agents/registry.h"

static void test_old_kind_numbers_kept(void **state)
{
    (void)state;
    assert_string_equal(agent_kind_name(0), "bd");
    assert_string_equal(agent_kind_name(1), "c51");
    assert_int_equal(agent_kind_find("c51"), 1);
    assert_int_equal(agent_kind_find("nope"), -1);
    assert_null(agent_kind_name(agent_kind_count()));
    assert_null(agent_class_of(-1));
}

/* The schema's agent.kind choices are the registry's names, in order. */
static void test_schema_choices_are_the_registry(void **state)
{
    (void)state;
    char want[512] = "";
    for (int k = 0; k < agent_kind_count(); k++) {
        strcat(want, k ? "|" : "");
        strcat(want, agent_kind_name(k));
        assert_non_null(strstr(agent_kind_help, agent_kind_name(k)));
    }
    assert_string_equal(AGENT_KIND_CHOICES, want);
    for (int k = 0; k < agent_kind_count(); k++) {
        char set[64];
        snprintf(set, sizeof set, "agent.kind=%s", agent_kind_name(k));
        char *sets[] = {set, "env.name=cartpole"};
        exp_config cfg;
        bdrl_err e;
        if (exp_load(&cfg, NULL, sets, 2, &e))
            fail_msg("%s", e.msg);
        assert_int_equal(cfg.agent.kind, k);
    }
}

/* The aggregate's agent names: the kind alone, "+rainbow" only with all
 * five components, else each component on in a fixed order; truncated to
 * the buffer. */
static void test_variant_names(void **state)
{
    (void)state;
    struct {
        const char *sets[6];
        const char *kind, *want;
    } cases[] = {
        {{NULL}, "c51", "c51"},
        {{"agent.n_step=3", "replay.prioritized=true", "agent.double=true", "agent.dueling=true",
          "agent.noisy=true"}, "c51", "c51+rainbow"},
        {{"agent.n_step=3", "replay.prioritized=true", "agent.double=true", "agent.dueling=true"}, "bd",
         "bd+n3+per+double+dueling"},
        {{"agent.noisy=true", "agent.double=true"}, "dqn", "dqn+double+noisy"},
        {{"agent.n_step=10"}, "iqn", "iqn+n10"},
        {{"agent.n_step=1", "replay.prioritized=true"}, "qrdqn", "qrdqn+per"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *sets[7] = {"env.name=cartpole"};
        int n = 1;
        while (n < 7 && cases[i].sets[n - 1])
            sets[n] = (char *)cases[i].sets[n - 1], n++;
        exp_config cfg;
        bdrl_err e;
        if (exp_load(&cfg, NULL, sets, n, &e))
            fail_msg("%s", e.msg);
        char buf[64];
        assert_string_equal(agent_variant_name(cases[i].kind, &cfg, buf, sizeof buf), cases[i].want);
        if (i == 2) {
            char small[8];
            assert_string_equal(agent_variant_name(cases[i].kind, &cfg, small, sizeof small), "bd+n3+p");
        }
    }
}

/* Every kind, created through agent_create on CartPole: the ops name, the
 * parameter blocks, describe, a distribution whose weights are a law, a
 * memory estimate, shape keys inside the header's agent area. */
static void test_every_kind_is_complete(void **state)
{
    (void)state;
    for (int k = 0; k < agent_kind_count(); k++) {
        const agent_class *c = agent_class_of(k);
        char set[64];
        snprintf(set, sizeof set, "agent.kind=%s", agent_kind_name(k));
        char *sets[] = {set, "env.name=cartpole", "agent.hidden=[8]", "train.batch_size=4",
                        "train.buffer_size=100", "bd.field=basis", "agent.v_min=0", "agent.v_max=100"};
        exp_config cfg;
        bdrl_err e;
        if (exp_load(&cfg, NULL, sets, 8, &e))
            fail_msg("%s", e.msg);
        env *en = env_create(&cfg.env, &e);
        rng *init = rng_create(1, RNG_STREAM_INIT);
        agent *a = agent_create(&cfg, en, init, &e);
        if (!a)
            fail_msg("%s: %s", agent_kind_name(k), e.msg);
        assert_string_equal(a->ops->name, agent_kind_name(k));
        assert_int_equal(agent_kind_of(a), k);
        assert_non_null(c->label);
        assert_true(strlen(agent_describe(a)) > 0);
        /* optional capabilities come in pairs */
        assert_int_equal(a->ops->sample != NULL, a->ops->sampler_defaults != NULL);
        assert_int_equal(a->ops->fields != NULL, a->ops->field_range != NULL);
        agent_param_block b[AGENT_MAX_PARAM_BLOCKS];
        int nb = a->ops->params(a, b);
        assert_true(nb >= 1 && nb <= AGENT_MAX_PARAM_BLOCKS);
        char what[160];
        assert_int_equal(agent_params_nonfinite(a, what, sizeof what), 0);
        ((real *)b[nb - 1].p)[b[nb - 1].n - 1] = NAN;
        assert_int_equal(agent_params_nonfinite(a, what, sizeof what), 1);
        assert_non_null(strstr(what, b[nb - 1].name));
        ((real *)b[nb - 1].p)[b[nb - 1].n - 1] = 0;
        float obs[4] = {0.01f, 0, 0.02f, 0};
        agent_dist d;
        assert_int_equal(agent_distribution(a, obs, 1, &d, &e), 0);
        assert_true(d.n >= 1);
        if (!d.is_density) {
            double s = 0;
            for (int i = 0; i < d.n; i++)
                s += d.w[i];
            assert_close(s, 1.0, 1e-9);
        }
        sizing_estimate est;
        limits_estimate_experiment(&cfg, en, &est);
        assert_true(est.networks > 0 && est.scratch > 0 && est.checkpoint > est.replay);
        int used[AGENT_SHAPE_WORDS] = {0};
        for (int i = 0; i < c->n_shape; i++) {
            int n = c->shape[i].widths ? 1 + EXP_MAX_HIDDEN : 1;
            assert_true(c->shape[i].slot >= 0 && c->shape[i].slot + n <= AGENT_SHAPE_WORDS);
            for (int j = 0; j < n; j++)
                assert_int_equal(used[c->shape[i].slot + j]++, 0);
        }
        agent_free(a);
        rng_free(init);
        env_free(en);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_kind_numbers_kept),
        cmocka_unit_test(test_schema_choices_are_the_registry),
        cmocka_unit_test(test_variant_names),
        cmocka_unit_test(test_every_kind_is_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
