/* Tests of the distribution evaluation (agents/evaldist.h) with fake agents
 * whose distributions are known: the exact truth gives W1 = 0, a shifted
 * truth gives W1 = the shift, a one-cell grid density gives the W1 of a
 * uniform cell to an atom, a dead field is reported and skipped, the truth
 * follows the run's own policy (optimal in evaluate mode, greedy in control),
 * and the JSON has the promised keys. The commands that need a trained run
 * (eval, dist, sample) are tested at the end, on a short training run. */
#include "test_util.h"

#include "train/evaldist.h"
#include "truth/truth.h"
#include "core/json.h"

enum { FAKE_EXACT, FAKE_SHIFT, FAKE_CELL, FAKE_DEAD };

typedef struct {
    agent base;
    int mode;
    double shift;          /* FAKE_SHIFT */
    double cell_h;         /* FAKE_CELL: grid spacing */
    double scale;          /* FAKE_CELL: density units */
    int dead_state;        /* FAKE_CELL: this state's field is 0 everywhere */
    env_config envc;
    const env_table *t;     /* FrozenLake */
    double gamma;
    int policy[64];        /* the policy the fake's distributions follow */
    double q[64 * 4];      /* FrozenLake: Q values the fake reports (greedy = q_policy) */
    double x[4096], w[4096];
} fake_agent;

/* CartPole: greedy of these Q values is a stabilizing controller. */
static void cp_q(const float *obs, double *q)
{
    q[0] = 0;
    q[1] = obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1];
}

static int fake_q(agent *a, int B, const float *obs, double *q, bdrl_err *e)
{
    (void)e;
    fake_agent *f = (fake_agent *)a;
    for (int b = 0; b < B; b++) {
        if (f->envc.kind == ENV_CARTPOLE)
            cp_q(obs + 4 * b, q + 2 * b);
        else
            memcpy(q + 4 * b, f->q + 4 * (int)obs[b], sizeof(double) * 4);
    }
    return 0;
}

static int fake_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    (void)a, (void)b, (void)st;
    return err_set(e, "fake agents do not learn");
}
static void fake_update_target(agent *a, double tau) { (void)a, (void)tau; }
static int fake_save(const agent *a, FILE *f, bdrl_err *e) { (void)a, (void)f; return err_set(e, "no"); }
static int fake_load(agent *a, FILE *f, bdrl_err *e) { (void)a, (void)f; return err_set(e, "no"); }
static void fake_free(agent *a) { (void)a; }

static int cp_greedy(void *ctx, const float *obs, int *action, bdrl_err *e)
{
    (void)ctx, (void)e;
    double q[2];
    cp_q(obs, q);
    *action = q[1] > q[0];
    return 0;
}

static int fake_dist(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    fake_agent *f = (fake_agent *)a;
    double v[4096], p[4096];
    int n;
    if (f->envc.kind == ENV_CARTPOLE) {
        double st[4] = {obs[0], obs[1], obs[2], obs[3]};
        if (truth_mc_returns(&f->envc, st, action, f->gamma, 0, cp_greedy, NULL, 1, v, NULL, e))
            return -1;
        p[0] = 1;
        n = 1;
    } else {
        truth_atoms d;
        if (truth_tab_distribution(f->t, f->gamma, f->policy, (int)obs[0], action, &d, e))
            return -1;
        assert_true(d.n <= 4096);
        n = d.n;
        memcpy(v, d.value, sizeof(double) * (size_t)n);
        memcpy(p, d.prob, sizeof(double) * (size_t)n);
        truth_atoms_free(&d);
    }
    if (f->mode == FAKE_EXACT || f->mode == FAKE_SHIFT) {
        for (int i = 0; i < n; i++) {
            f->x[i] = v[i] + (f->mode == FAKE_SHIFT ? f->shift : 0);
            f->w[i] = p[i];
        }
        *out = (agent_dist){.n = n, .x = f->x, .w = f->w, .is_density = 0, .mass = 1};
        return 0;
    }
    /* A grid of 301 points spaced h from -1, with the whole mass in the cell
     * nearest to the (single) atom. */
    assert_int_equal(n, 1);
    int G = 301, k = (int)lround((v[0] + 1) / f->cell_h);
    for (int i = 0; i < G; i++) {
        f->x[i] = -1 + i * f->cell_h;
        f->w[i] = (i == k && (int)obs[0] != f->dead_state) ? f->scale : (i % 7 == 0 ? -0.5 : 0);
    }
    *out = (agent_dist){.n = G, .x = f->x, .w = f->w, .is_density = 1, .mass = f->scale * f->cell_h};
    return 0;
}

static int fake_params(agent *a, agent_param_block *out)
{
    (void)a;
    (void)out;
    return 0;
}

static const char *fake_describe(const agent *a)
{
    (void)a;
    return "fake";
}

static const agent_ops fake_ops = {.name = "fake", .q_values = fake_q, .update = fake_update,
                                   .update_target = fake_update_target, .distribution = fake_dist,
                                   .save = fake_save, .load = fake_load, .free = fake_free,
                                   .params = fake_params, .describe = fake_describe};

static void fake_init(fake_agent *f, exp_config *cfg, env **en, const char *const *sets, int n_sets)
{
    memset(f, 0, sizeof *f);
    bdrl_err e;
    if (exp_load(cfg, NULL, (char *const *)sets, n_sets, &e))
        fail_msg("%s", e.msg);
    *en = env_create(&cfg->env, &e);
    assert_non_null(*en);
    f->base.ops = &fake_ops;
    f->base.obs_dim = env_obs_dim(*en);
    f->base.n_actions = env_n_actions(*en);
    f->envc = cfg->env;
    f->gamma = cfg->agent.gamma;
    f->dead_state = -1;
    f->scale = 1;
    if (cfg->env.kind == ENV_FROZENLAKE) {
        f->t = env_transition_table(*en);
        assert_int_equal(truth_tab_value_iteration(f->t, f->gamma, NULL, f->q, f->policy, &e), 0);
    }
}

static void test_exact_and_shifted_frozenlake(void **state)
{
    (void)state;
    const char *sets[] = {"env.name=frozenlake", "agent.mode=evaluate"};
    exp_config cfg;
    env *en;
    fake_agent f;
    fake_init(&f, &cfg, &en, sets, 2);
    evaldist_options o;
    evaldist_options_default(&o);
    evaldist_result r;
    bdrl_err e;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    assert_int_equal(r.n, 11 * 4); /* 11 non-terminal states */
    assert_string_equal(r.truth_policy, "optimal");
    assert_int_equal(r.entries[0].state, 0);
    assert_int_equal(r.entries[4].state, 1);
    assert_int_equal(r.entries[5 * 4].state, 6); /* 5 is a hole */
    for (int i = 0; i < r.n; i++) {
        assert_true(r.entries[i].w1 < 1e-12);
        assert_true(r.entries[i].cramer < 1e-9);
        assert_close(r.entries[i].mean_model, r.entries[i].mean_truth, 1e-12);
        assert_close(r.entries[i].mean_truth, f.q[r.entries[i].state * 4 + r.entries[i].action], 1e-6);
        assert_true(isnan(r.entries[i].w1_samples));
    }
    assert_true(r.mean_w1 < 1e-12);
    assert_true(isnan(r.mean_w1_samples));
    assert_int_equal(r.n_undefined, 0);
    evaldist_result_free(&r);

    f.mode = FAKE_SHIFT;
    f.shift = 0.1;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    for (int i = 0; i < r.n; i++) {
        assert_close(r.entries[i].w1, 0.1, 1e-12);
        assert_close(r.entries[i].mean_model - r.entries[i].mean_truth, 0.1, 1e-12);
        /* |F - G| <= 1, so Cramér^2 <= W1 */
        assert_true(r.entries[i].cramer > 0 && r.entries[i].cramer <= sqrt(0.1) + 1e-12);
    }
    assert_close(r.mean_w1, 0.1, 1e-12);
    evaldist_result_free(&r);
    env_free(en);
}

/* The truth follows the run's own policy: in control mode the agent's greedy
 * policy. A fake whose Q values and distributions follow "always down" scores
 * W1 = 0 in control mode, and not in evaluate mode (whose truth is optimal). */
static void test_truth_follows_the_runs_policy(void **state)
{
    (void)state;
    const char *sets[] = {"env.name=frozenlake"};
    exp_config cfg;
    env *en;
    fake_agent f;
    fake_init(&f, &cfg, &en, sets, 1);
    bdrl_err e;
    for (int s = 0; s < 16; s++)
        f.policy[s] = 1;
    assert_int_equal(truth_tab_policy_eval(f.t, f.gamma, f.policy, NULL, f.q, &e), 0);
    /* make "down" strictly greedy everywhere, terminal states included */
    for (int s = 0; s < 16; s++)
        f.q[s * 4 + 1] += 10;
    evaldist_options o;
    evaldist_options_default(&o);
    evaldist_result r;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    assert_string_equal(r.truth_policy, "greedy");
    for (int s = 0; s < 16; s++)
        assert_int_equal(r.policy[s], 1);
    assert_true(r.mean_w1 < 1e-12);
    evaldist_result_free(&r);

    cfg.agent.mode = AGENT_EVALUATE;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    assert_string_equal(r.truth_policy, "optimal");
    assert_true(r.mean_w1 > 0.01);
    evaldist_result_free(&r);
    env_free(en);
}

/* Samples at the truth's quantiles: W1 of the samples is small. */
static int quantile_sampler(void *ctx, agent *a, const float *obs, int action, int n, double *out,
                            bdrl_err *e)
{
    (void)ctx;
    fake_agent *f = (fake_agent *)a;
    truth_atoms d;
    if (truth_tab_distribution(f->t, f->gamma, f->policy, (int)obs[0], action, &d, e))
        return -1;
    for (int i = 0; i < n; i++) {
        double u = (i + 0.5) / n, c = 0;
        int k = 0;
        while (k < d.n - 1 && c + d.prob[k] < u)
            c += d.prob[k++];
        out[i] = d.value[k];
    }
    truth_atoms_free(&d);
    return 0;
}

/* Non-slippery map: every truth is one atom. A grid density whose mass sits in
 * the one cell [c - h/2, c + h/2] nearest the atom v has W1 = d^2/h + h/4,
 * d = |v - c|, whatever the density's units; negative values count as 0. */
static void test_grid_density_and_samples(void **state)
{
    (void)state;
    const char *sets[] = {"env.name=frozenlake", "env.slippery=false", "agent.mode=evaluate",
                          "agent.gamma=0.9"};
    exp_config cfg;
    env *en;
    fake_agent f;
    fake_init(&f, &cfg, &en, sets, 4);
    f.mode = FAKE_CELL;
    f.cell_h = 0.01;
    f.scale = 7;
    evaldist_options o;
    evaldist_options_default(&o);
    o.sample = quantile_sampler;
    o.sample_walkers = 200;
    evaldist_result r;
    bdrl_err e;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    assert_int_equal(r.is_density, 1);
    for (int i = 0; i < r.n; i++) {
        const evaldist_entry *en_ = &r.entries[i];
        double v = en_->mean_truth, h = f.cell_h;
        double c = -1 + lround((v + 1) / h) * h, d = fabs(v - c);
        assert_close(en_->w1, d * d / h + h / 4, 1e-12);
        assert_close(en_->mean_model, c, 1e-12);
        assert_close(en_->mass, 7 * h, 1e-15);
        assert_true(en_->w1_samples < 1e-12); /* one atom: every sample is exact */
    }
    assert_true(isfinite(r.mean_w1_samples));
    evaldist_result_free(&r);

    /* A dead field at state 4: its four entries are undefined, the rest count. */
    f.dead_state = 4;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    assert_int_equal(r.n_undefined, 4);
    double sum = 0;
    int n = 0;
    for (int i = 0; i < r.n; i++) {
        if (r.entries[i].state == 4) {
            assert_true(isnan(r.entries[i].w1) && isnan(r.entries[i].cramer));
            continue;
        }
        sum += r.entries[i].w1;
        n++;
    }
    assert_close(r.mean_w1, sum / n, 1e-15);

    /* JSON: the keys of bdrl eval, null for undefined values. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    json_writer w;
    json_init(&w, mf);
    json_object_begin(&w);
    evaldist_json(&w, &r);
    json_object_end(&w);
    fclose(mf);
    assert_contains(buf, "\"mean_w1\": ");
    assert_contains(buf, "\"mean_cramer\": ");
    assert_contains(buf, "\"mean_w1_samples\": ");
    assert_contains(buf, "\"n_undefined\": 4");
    assert_contains(buf, "\"per_state\": [");
    assert_contains(buf, "\"state\": 4,");
    assert_contains(buf, "\"w1\": null");
    assert_contains(buf, "\"mean_model\": ");
    assert_contains(buf, "\"mean_truth\": ");
    assert_contains(buf, "\"policy\": [");
    free(buf);
    evaldist_result_free(&r);
    env_free(en);
}

static void test_cartpole_probes_mc(void **state)
{
    (void)state;
    const char *sets[] = {"env.name=cartpole"};
    exp_config cfg;
    env *en;
    fake_agent f;
    fake_init(&f, &cfg, &en, sets, 1);
    evaldist_options o;
    evaldist_options_default(&o);
    evaldist_result r;
    bdrl_err e;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    assert_int_equal(r.n, env_kind_describe(ENV_CARTPOLE)->n_probes * 2);
    assert_int_equal(r.mc_horizon, 917);
    assert_int_equal(r.mc_rollouts, 1);
    int long_ones = 0;
    for (int i = 0; i < r.n; i++) {
        /* probes are float-exact: the fake's rollout is the truth's */
        assert_true(r.entries[i].w1 == 0);
        long_ones += r.entries[i].mean_truth > 99;
    }
    assert_true(long_ones >= 10); /* the controller balances from most probes */
    evaldist_result_free(&r);
    f.mode = FAKE_SHIFT;
    f.shift = -2.5;
    assert_int_equal(evaldist_run(&f.base, &cfg, &o, &r, &e), 0);
    assert_close(r.mean_w1, 2.5, 1e-12);
    assert_close(r.mean_cramer, sqrt(2.5), 1e-12); /* F - G = 1 on an interval of 2.5 */
    evaldist_result_free(&r);
    env_free(en);
}

/* ---- bdrl eval, dist, sample on short training runs ---- */

static char fl_run[700], cp_run[700], fl_cfg[700], cp_cfg[700];

/* Trains (once per group) a short C51 FrozenLake run in evaluate mode and a
 * short C51 CartPole run. */
static void ensure_c51_runs(void)
{
    if (fl_run[0])
        return;
    snprintf(fl_cfg, sizeof fl_cfg, "%s/fl.yaml", tu_dir);
    tu_write(fl_cfg, "env:\n  name: frozenlake\nagent:\n  kind: c51\n  mode: evaluate\n"
                     "train:\n  total_steps: 3000\neval:\n  interval: 3000\n  episodes: 5\n");
    snprintf(cp_cfg, sizeof cp_cfg, "%s/cp.yaml", tu_dir);
    tu_write(cp_cfg, "env:\n  name: cartpole\nagent:\n  kind: c51\n  v_max: 100\n"
                     "train:\n  total_steps: 1500\neval:\n  interval: 1500\n  episodes: 2\n");
    snprintf(fl_run, sizeof fl_run, "%s/fl_c51", tu_dir);
    snprintf(cp_run, sizeof cp_run, "%s/cp_c51", tu_dir);
    const char *pairs[2][2] = {{fl_cfg, fl_run}, {cp_cfg, cp_run}};
    for (int i = 0; i < 2; i++) {
        tu_result r = tu_run("%s train %s --out %s -q", tu_bdrl(), pairs[i][0], pairs[i][1]);
        if (r.status != 0)
            fail_msg("bdrl train exited %d: %s", r.status, r.err);
        tu_run_free(&r);
    }
}

static double json_number(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NAN;
    p += strlen(pat);
    if (!strncmp(p, "null", 4))
        return NAN;
    return strtod(p, NULL);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_cli_eval_frozenlake(void **state)
{
    (void)state;
    ensure_c51_runs();
    tu_result r = tu_run("%s eval %s --json --episodes 5", tu_bdrl(), fl_run);
    if (r.status != 0)
        fail_msg("bdrl eval exited %d: %s", r.status, r.err);
    const char *keys[] = {"greedy_return_mean", "success_rate", "mean_w1", "mean_cramer"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_true(isfinite(json_number(r.out, keys[i])));
    assert_contains(r.out, "\"mean_w1_samples\": null");
    assert_contains(r.out, "\"per_state\": [");
    assert_int_equal(count(r.out, "\"state\": "), 44);
    assert_int_equal(count(r.out, "\"cramer\": "), 44);
    assert_int_equal(count(r.out, "\"mean_model\": "), 44);
    /* The first entry is (0, 0); its truth is Q*(0, 0) = V*(0) = 0.5420. */
    const char *first = strstr(r.out, "\"per_state\": [");
    assert_close(json_number(first, "mean_truth"), 0.54202593, 1e-7);
    assert_true(json_number(r.out, "mean_w1") > 0 && json_number(r.out, "mean_w1") < 1);
    /* --episodes eval.episodes repeats the trainer's last evaluation */
    char p[800];
    snprintf(p, sizeof p, "%s/summary.json", fl_run);
    char *summary = tu_read(p);
    assert_non_null(summary);
    assert_close(json_number(r.out, "greedy_return_mean"), json_number(summary, "final_eval_return"), 1e-12);
    free(summary);
    snprintf(p, sizeof p, "%s/distributions.json", fl_run);
    char *saved = tu_read(p);
    assert_non_null(saved);
    assert_string_equal(saved, r.out);
    free(saved);
    tu_run_free(&r);

    r = tu_run("%s eval %s --episodes 5", tu_bdrl(), fl_run);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "greedy return");
    assert_contains(r.out, "mean W1");
    assert_contains(r.out, "policy: optimal");
    tu_run_free(&r);
}

static void test_cli_dist_and_truth_of_a_run(void **state)
{
    (void)state;
    ensure_c51_runs();
    tu_result r = tu_run("%s dist %s --state 0", tu_bdrl(), fl_run);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "action,return,prob\n", 19));
    double sum[4] = {0};
    int rows = 0;
    for (const char *p = strchr(r.out, '\n') + 1; *p; p = strchr(p, '\n') + 1, rows++) {
        int a;
        double x, w;
        assert_int_equal(sscanf(p, "%d,%lf,%lf", &a, &x, &w), 3);
        sum[a] += w;
    }
    assert_int_equal(rows, 4 * 51);
    for (int a = 0; a < 4; a++)
        assert_close(sum[a], 1, 1e-9);
    tu_run_free(&r);
    r = tu_run("%s dist %s --state 0,0,0.05,0 --action 1", tu_bdrl(), cp_run);
    assert_int_equal(r.status, 0);
    assert_int_equal(count(r.out, "\n1,"), 51);
    tu_run_free(&r);

    /* truth of the run's own policy: the optimal one for an evaluate-mode run */
    r = tu_run("%s truth %s --policy %s --state 0 --action 0", tu_bdrl(), fl_cfg, fl_run);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "policy optimal");
    assert_contains(r.err, "mean 0.54202593");
    tu_run_free(&r);
    r = tu_run("%s truth %s --policy %s --state 0,0,0,0 --summary -n 3", tu_bdrl(), cp_cfg, cp_run);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "action,n,mean,sd,min,max,mean_length\n0,3,", 41));
    assert_contains(r.out, "\n1,3,");
    tu_run_free(&r);
    /* without CONFIG the run's own config.yaml is used */
    r = tu_run("%s truth --policy %s --state 0,0,0,0 --action 1", tu_bdrl(), cp_run);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "action,return\n1,", 16));
    assert_int_equal(count(r.out, "\n"), 2);
    tu_run_free(&r);
    r = tu_run("%s truth --policy %s/nothing --state 0", tu_bdrl(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "not a run directory");
    tu_run_free(&r);
    r = tu_run("%s truth %s --policy %s --state 0", tu_bdrl(), cp_cfg, fl_run);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "the run is on frozenlake, CONFIG on cartpole");
    tu_run_free(&r);
}

static void test_cli_eval_cartpole(void **state)
{
    (void)state;
    ensure_c51_runs();
    tu_result r = tu_run("%s eval %s --json --episodes 2", tu_bdrl(), cp_run);
    if (r.status != 0)
        fail_msg("bdrl eval exited %d: %s", r.status, r.err);
    assert_int_equal(count(r.out, "\"state\": "), 40);
    assert_int_equal(count(r.out, "\"obs\": ["), 40);
    assert_true(json_number(r.out, "mc_horizon") == 917);
    assert_true(isfinite(json_number(r.out, "mean_w1")));
    assert_contains(r.out, "\"truth_policy\": \"greedy\"");
    tu_run_free(&r);
}

/* Tiny BD runs as BD ships (basis fields), one with the default readout
 * (atoms) and one reading the field as a density on bd.grid points:
 * formats and exit codes only, not quality. */
static char bd_run[700], bd_density_run[700];

static void ensure_bd_run(void)
{
    ensure_c51_runs();
    if (bd_run[0])
        return;
    snprintf(bd_run, sizeof bd_run, "%s/fl_bd", tu_dir);
    snprintf(bd_density_run, sizeof bd_density_run, "%s/fl_bd_density", tu_dir);
    const char *runs[2] = {bd_run, bd_density_run}, *extra[2] = {"", "--set bd.readout=density --set bd.grid=32"};
    for (int i = 0; i < 2; i++) {
        tu_result r = tu_run("%s train %s --out %s -q --set agent.kind=bd --set train.total_steps=300 "
                             "--set train.learning_starts=50 --set train.batch_size=16 --set bd.basis=21 "
                             "--set 'agent.hidden=[16]' --set eval.interval=300 --set eval.episodes=2 %s",
                             tu_bdrl(), fl_cfg, runs[i], extra[i]);
        if (r.status != 0)
            fail_msg("bdrl train (bd) exited %d: %s", r.status, r.err);
        tu_run_free(&r);
    }
}

static void test_cli_bd_dist_sample_eval(void **state)
{
    (void)state;
    ensure_bd_run();
    /* dist, the shipped readout: the coefficients' atoms on the 21 centres
     * over [v_min, v_max] = [0, 1], probabilities summing to 1 */
    tu_result r = tu_run("%s dist %s --state 0 --action 2", tu_bdrl(), bd_run);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "action,return,prob\n", 19));
    int na = 0;
    double psum = 0;
    for (const char *p = strchr(r.out, '\n') + 1; *p; p = strchr(p, '\n') + 1, na++) {
        int a;
        double x, pr;
        assert_int_equal(sscanf(p, "%d,%lf,%lf", &a, &x, &pr), 3);
        assert_int_equal(a, 2);
        assert_close(x, na / 20.0, 1e-12);
        assert_true(pr >= 0);
        psum += pr;
    }
    assert_int_equal(na, 21);
    assert_close(psum, 1, 1e-9);
    assert_contains(r.err, "# action 2: mean");
    tu_run_free(&r);

    /* dist, bd.readout density: a density on the grid that integrates to 1
     * (cells of the spacing) */
    r = tu_run("%s dist %s --state 0 --action 2", tu_bdrl(), bd_density_run);
    assert_int_equal(r.status, 0);
    assert_true(!strncmp(r.out, "action,return,density\n", 22));
    double x[64], w[64];
    int n = 0;
    for (const char *p = strchr(r.out, '\n') + 1; *p && n < 64; p = strchr(p, '\n') + 1, n++) {
        int a;
        assert_int_equal(sscanf(p, "%d,%lf,%lf", &a, &x[n], &w[n]), 3);
        assert_int_equal(a, 2);
        assert_true(w[n] >= 0);
    }
    assert_int_equal(n, 32);
    double h = (x[n - 1] - x[0]) / (n - 1), mass = 0;
    for (int i = 0; i < n; i++)
        mass += w[i] * h;
    assert_close(mass, 1, 1e-9);
    assert_contains(r.err, "grid mass before normalization");
    tu_run_free(&r);

    /* sample: N lines, diagnostics on stderr, reproducible with a seed */
    r = tu_run("%s sample %s --state 0 --action 1 -n 30 --steps 40 --seed 5", tu_bdrl(), bd_run);
    assert_int_equal(r.status, 0);
    assert_int_equal(count(r.out, "\n"), 30);
    assert_contains(r.err, "# sampler mala, 40 steps");
    assert_contains(r.err, "frozen walkers");
    assert_contains(r.err, "local acceptance");
    tu_result r2 = tu_run("%s sample %s --state 0 --action 1 -n 30 --steps 40 --seed 5", tu_bdrl(), bd_run);
    assert_string_equal(r.out, r2.out);
    tu_run_free(&r2);
    tu_run_free(&r);
    r = tu_run("%s sample %s --state 0 --action 1 -n 5 --steps 10 --sampler em --global-every 0", tu_bdrl(),
               bd_run);
    assert_int_equal(r.status, 0);
    assert_int_equal(count(r.out, "\n"), 5);
    assert_contains(r.err, "# sampler em, 10 steps");
    tu_run_free(&r);

    /* eval: the law's W1 for the shipped readout; the sample metric, which
     * evaldist measures against a density readout only, for the other */
    r = tu_run("%s eval %s --json --episodes 2 --no-samples", tu_bdrl(), bd_run);
    if (r.status != 0)
        fail_msg("bdrl eval exited %d: %s", r.status, r.err);
    assert_true(isfinite(json_number(r.out, "mean_w1")));
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --episodes 2 --walkers 10", tu_bdrl(), bd_density_run);
    if (r.status != 0)
        fail_msg("bdrl eval exited %d: %s", r.status, r.err);
    assert_true(isfinite(json_number(r.out, "mean_w1_samples")));
    assert_true(isfinite(json_number(r.out, "mean_w1_samples_model")));
    assert_true(json_number(r.out, "sample_walkers_total") == 440);
    assert_int_equal(count(r.out, "\"w1_samples\": null"), 0);
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --episodes 2 --no-samples", tu_bdrl(), bd_density_run);
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "\"mean_w1_samples\": null");
    tu_run_free(&r);
}

static void test_cli_bad_input(void **state)
{
    (void)state;
    ensure_bd_run();
    struct {
        const char *args, *msg;
    } bad[] = {
        {"eval", "expected one RUN"},
        {"eval /nonexistent/run", "not a run directory"},
        {"eval @FL --episodes 0", "--episodes must be in"},
        {"eval @FL --walkers x", "--walkers expects an integer"},
        {"eval @FL --bogus", "unknown option '--bogus'"},
        {"eval @FL @FL", "expected one RUN"},
        {"dist @FL", "--state is required"},
        {"dist /nonexistent/run --state 0", "not a run directory"},
        {"dist @FL --state 16", "state 16 is not in [0, 16)"},
        {"dist @FL --state 1.5", "expected a frozenlake state index"},
        {"dist @FL --state 0 --action 4", "--action must be in [0, 3]"},
        {"dist @CP --state 0,0,0", "expected 4 comma-separated numbers"},
        {"dist @CP --state 0,0,0,0,0", "expected 4 comma-separated numbers"},
        {"dist @CP --state 0,0,0,nan", "expected 4 comma-separated numbers"},
        {"sample @FL --state 0 --action 0 -n 10", "is a c51 run"},
        {"sample @BD --state 0 --action 0", "are required"},
        {"sample @BD --state 0 --action 4 -n 10", "--action must be in [0, 3]"},
        {"sample @BD --state 99 --action 0 -n 10", "state 99 is not in"},
        {"sample @BD --state 0 --action 0 -n 0", "-n must be in"},
        {"sample @BD --state 0 --action 0 -n 5 --sampler langevin", "--sampler must be em or mala"},
        {"sample @BD --state 0 --action 0 -n 5 --eta -1", "--eta expects a positive number"},
        {"sample /nonexistent/run --state 0 --action 0 -n 5", "not a run directory"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        /* @FL and @CP stand for the run directories */
        char args[4000];
        snprintf(args, sizeof args, "%s", bad[i].args);
        char *q;
        while ((q = strstr(args, "@FL")) || (q = strstr(args, "@CP")) || (q = strstr(args, "@BD"))) {
            char rest[4000];
            snprintf(rest, sizeof rest, "%s", q + 3);
            const char *dir = q[1] == 'F' ? fl_run : q[1] == 'C' ? cp_run : bd_run;
            snprintf(q, sizeof args - (size_t)(q - args), "%s%s", dir, rest);
        }
        tu_result r = tu_run("%s %s", tu_bdrl(), args);
        if (r.status != 2)
            fail_msg("'%s' exited %d, expected 2 (stderr: %s)", args, r.status, r.err);
        assert_contains(r.err, bad[i].msg);
        assert_int_equal(count(r.err, "\n"), 1);
        tu_run_free(&r);
    }
    const char *cmds[] = {"eval", "dist", "sample", "truth"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        tu_result r = tu_run("%s %s --help", tu_bdrl(), cmds[i]);
        assert_int_equal(r.status, 0);
        assert_contains(r.out, "usage: bdrl");
        tu_run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_and_shifted_frozenlake),
        cmocka_unit_test(test_truth_follows_the_runs_policy),
        cmocka_unit_test(test_grid_density_and_samples),
        cmocka_unit_test(test_cartpole_probes_mc),
        cmocka_unit_test(test_cli_eval_frozenlake),
        cmocka_unit_test(test_cli_dist_and_truth_of_a_run),
        cmocka_unit_test(test_cli_eval_cartpole),
        cmocka_unit_test(test_cli_bd_dist_sample_eval),
        cmocka_unit_test(test_cli_bad_input),
    };
    return cmocka_run_group_tests_name("evaldist", tests, tu_group_setup, tu_group_teardown);
}
