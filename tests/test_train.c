/* Tests of the trainer and `bdrl train`: the schedule's arithmetic, the run
 * directory's files, learning (C51 on CartPole beats the random policy after
 * a few thousand steps; FrozenLake policy evaluation approaches the true
 * values), bit-exact resume after an interruption, signals and kills,
 * divergence, and bad command lines. */
#include "test_util.h"
#include "train_util.h"

#include <signal.h>
#include <sys/stat.h>

#include "agents/agent.h"
#include "agents/c51.h"
#include "train/run.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "train/evaluate.h"
#include "stats/metrics.h"
#include "core/rng.h"
#include "truth/truth.h"
#include "research/rundir.h"
#include "core/provenance.h"
#include "bdrl/environment.h"

/* ---- the schedule ---- */

static void test_schedule(void **state)
{
    (void)state;
    exp_config c;
    char *sets[] = {"env.name=cartpole", "train.total_steps=1000", "train.eps_start=1",
                    "train.eps_end=0.05", "train.eps_fraction=0.5", "train.learning_starts=100",
                    "train.train_frequency=4", "train.target_update=50", "eval.interval=300",
                    "train.checkpoint_interval=400"};
    tu_load_cfg(&c, sets, 10);
    /* ε falls linearly from 1 to 0.05 over 0.5·1000 steps, then stays */
    assert_close(train_epsilon(&c, 0), 1.0, 1e-15);
    assert_close(train_epsilon(&c, 250), 0.525, 1e-15);
    assert_close(train_epsilon(&c, 499), 1.0 - 0.95 * 499 / 500.0, 1e-15);
    assert_close(train_epsilon(&c, 500), 0.05, 1e-15);
    assert_close(train_epsilon(&c, 900), 0.05, 1e-15);
    /* updates after step t > 100 with t % 4 == 0 */
    assert_false(train_is_update_step(&c, 100));
    assert_false(train_is_update_step(&c, 101));
    assert_true(train_is_update_step(&c, 104));
    assert_false(train_is_update_step(&c, 96));
    /* target updates every 50 steps once learning has started */
    assert_false(train_is_target_step(&c, 50));
    assert_false(train_is_target_step(&c, 100));
    assert_true(train_is_target_step(&c, 150));
    assert_false(train_is_target_step(&c, 151));
    /* evaluations every 300 steps and at the end */
    int n_eval = 0, n_ckpt = 0, n_upd = 0, n_tgt = 0;
    for (int64_t t = 1; t <= 1000; t++) {
        n_eval += train_is_eval_step(&c, t);
        n_ckpt += train_is_checkpoint_step(&c, t);
        n_upd += train_is_update_step(&c, t);
        n_tgt += train_is_target_step(&c, t);
    }
    assert_true(train_is_eval_step(&c, 300) && train_is_eval_step(&c, 900) && train_is_eval_step(&c, 1000));
    assert_int_equal(n_eval, 4);
    /* checkpoints every 400 steps and at the end */
    assert_true(train_is_checkpoint_step(&c, 800) && !train_is_checkpoint_step(&c, 600));
    assert_int_equal(n_ckpt, 3);
    assert_int_equal(n_upd, 225); /* 104, 108, ..., 1000 */
    assert_int_equal(n_tgt, 18);  /* 150, 200, ..., 1000 */
    /* no decay at all: ε = eps_end; checkpoint_interval 0: only the end */
    char *sets2[] = {"env.name=cartpole", "train.eps_fraction=0", "train.eps_end=0.1"};
    tu_load_cfg(&c, sets2, 3);
    assert_close(train_epsilon(&c, 0), 0.1, 0);
    assert_true(train_is_checkpoint_step(&c, c.train.total_steps));
    assert_false(train_is_checkpoint_step(&c, c.train.total_steps / 2));
}

static void test_optimal_policy(void **state)
{
    (void)state;
    env_config ec;
    env_config_defaults(&ec, "frozenlake");
    bdrl_err e;
    env *en = env_create(&ec, &e);
    int pol[16];
    assert_int_equal(truth_env_optimal_policy(en, 0.99, pol), 0);
    /* The well-known optimal policy of slippery 4x4 (0 left, 1 down, 2 right,
     * 3 up); holes and the goal get 0; state 6's left and right tie and go to
     * the lower index. */
    const int want[16] = {0, 3, 3, 3, 0, 0, 0, 0, 3, 1, 0, 0, 0, 2, 1, 0};
    assert_memory_equal(pol, want, sizeof want);
    env_free(en);
    env_config_defaults(&ec, "cartpole");
    en = env_create(&ec, &e);
    assert_int_equal(truth_env_optimal_policy(en, 0.99, pol), -1);
    env_free(en);
}

/* ---- files of a run ---- */

/* Every line ends with '\n' and has `fields` comma-separated numbers (the
 * header first). Returns the number of data rows. */
static int check_csv(const char *path, const char *header, int fields)
{
    char *t = tu_read(path);
    if (!t)
        fail_msg("missing %s", path);
    size_t n = strlen(t);
    assert_true(n > 0 && t[n - 1] == '\n');
    assert_true(!strncmp(t, header, strlen(header)) && t[strlen(header)] == '\n');
    int rows = 0;
    for (char *line = t + strlen(header) + 1; *line;) {
        char *end = strchr(line, '\n');
        int k = 0;
        for (char *p = line; p < end; k++) {
            char *q;
            strtod(p, &q);
            if (q == p)
                fail_msg("%s: row %d field %d is not a number: %.*s", path, rows + 1, k + 1, (int)(end - line),
                         line);
            p = q < end ? q + 1 : q;
        }
        if (k != fields)
            fail_msg("%s: row %d has %d fields, expected %d", path, rows + 1, k, fields);
        rows++;
        line = end + 1;
    }
    free(t);
    return rows;
}

/* A number from summary.json ("key": value); NAN if null or absent. */
static double json_number(const char *json, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    if (!p)
        return NAN;
    p += strlen(pat);
    return strncmp(p, "null", 4) ? strtod(p, NULL) : NAN;
}

/* train.gradient_steps: K updates in a row at each update step (SB3's
 * gradient_steps), the target's schedule unchanged: 3 x 625 updates over
 * the schedule of test_run_directory, 13 target copies. */
/* C51 on FrozenLake 4x4 for 3000 steps on a fixed schedule (updates after
 * step 500 every 4 steps, target copies every 200), with the extra sets,
 * into tu_dir/NAME (dir, n: receives the path). */
static train_result train_on_schedule(const char *name, char *const *extra, int n_extra, char *dir, size_t n)
{
    char *sets[16] = {"env.name=frozenlake", "agent.kind=c51", "agent.v_min=0", "agent.v_max=1",
                      "train.total_steps=3000", "train.learning_starts=500", "train.train_frequency=4",
                      "train.target_update=200", "train.batch_size=16"};
    int k = 9;
    for (int i = 0; i < n_extra && k < 16; i++)
        sets[k++] = extra[i];
    exp_config c;
    tu_load_cfg(&c, sets, k);
    snprintf(dir, n, "%s/%s", tu_dir, name);
    train_options o = {NULL, NULL, 0, 0, NULL, NULL};
    train_result res;
    bdrl_err e;
    if (train_run(&c, dir, &o, &res, &e))
        fail_msg("%s", e.msg);
    return res;
}

static void test_gradient_steps(void **state)
{
    (void)state;
    char dir[600];
    char *extra[] = {"eval.interval=3000", "eval.episodes=2", "train.gradient_steps=3"};
    train_on_schedule("gsteps", extra, 3, dir, sizeof dir);
    char *js = tu_read_in(dir, "summary.json");
    assert_close(json_number(js, "updates"), 3 * 625, 0);
    assert_close(json_number(js, "target_updates"), 13, 0);
    free(js);
}

static void test_run_directory(void **state)
{
    (void)state;
    char dir[600];
    char *extra[] = {"eval.interval=1000", "eval.episodes=10", "train.checkpoint_interval=1500"};
    train_result res = train_on_schedule("files", extra, 3, dir, sizeof dir);
    bdrl_err e;
    assert_int_equal(res.steps, 3000);
    assert_false(res.stopped);

    char p[800];
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    int episodes = check_csv(p, "step,episode,return,length,epsilon,loss,loss_grad,q_mean,sps", 9);
    assert_int_equal(episodes, res.episodes);
    /* episodes are contiguous: their lengths add up to the step of the last one */
    char *m = tu_read_in(dir, "metrics.csv");
    long long sum_len = 0, last_step = 0, ep = -1;
    for (char *l = strchr(m, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        long long s, k, len;
        double ret;
        assert_int_equal(sscanf(l, "%lld,%lld,%lf,%lld", &s, &k, &ret, &len), 4);
        assert_int_equal(k, ep + 1);
        ep = k;
        sum_len += len;
        assert_int_equal(s, sum_len);
        last_step = s;
        assert_true(ret == 0 || ret == 1);
    }
    assert_true(last_step <= 3000 && last_step > 2900);
    free(m);
    snprintf(p, sizeof p, "%s/eval.csv", dir);
    assert_int_equal(check_csv(p, "step,return_mean,return_std,success_rate", 4), 3);
    char *ev = tu_read_in(dir, "eval.csv");
    assert_contains(ev, "\n1000,");
    assert_contains(ev, "\n2000,");
    assert_contains(ev, "\n3000,");
    free(ev);

    char *js = tu_read_in(dir, "summary.json");
    const char *keys[] = {"agent", "env", "seed", "total_steps", "wall_seconds", "sps", "final_eval_return",
                          "best_eval_return", "threshold", "steps_to_threshold", "final_success_rate"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char k[64];
        snprintf(k, sizeof k, "\"%s\": ", keys[i]);
        assert_contains(js, k);
    }
    assert_contains(js, "\"agent\": \"c51\"");
    assert_contains(js, "\"env\": \"frozenlake\"");
    assert_contains(js, "\"status\": \"finished\"");
    assert_close(json_number(js, "total_steps"), 3000, 0);
    assert_close(json_number(js, "threshold"), 0.7, 1e-12);
    /* updates after t > 500 with t % 4 == 0; target copies at 600, 800, ..., 3000 */
    assert_close(json_number(js, "updates"), 625, 0);
    assert_close(json_number(js, "target_updates"), 13, 0);
    assert_close(json_number(js, "evaluations"), 3, 0);
    assert_close(json_number(js, "final_success_rate"), res.final_success_rate, 1e-12);
    /* the build and machine that wrote it: the library's version, the CPU
     * as the shell reads /proc/cpuinfo, OpenBLAS's kernel as it names it */
    char want[600];
    snprintf(want, sizeof want, "\"machine\": {\n    \"bdrl\": \"%s\",", bdrl_library_version());
    assert_contains(js, want);
    tu_result cpu = tu_run("grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//'");
    assert_int_equal(cpu.status, 0);
    cpu.out[strcspn(cpu.out, "\n")] = '\0';
    snprintf(want, sizeof want, "\"cpu\": \"%s\",", cpu.out[0] ? cpu.out : "unknown");
    assert_contains(js, want);
    tu_run_free(&cpu);
    snprintf(want, sizeof want, "\"blas_core\": \"%s\",", provenance_blas_core());
    assert_contains(js, want);
    assert_true(strlen(provenance_blas_core()) > 0);
    assert_contains(js, "\"blas\": \"OpenBLAS ");
    free(js);

    /* config.yaml resolves to the same configuration; the checkpoint loads */
    exp_config c2;
    env *en;
    agent *a;
    if (run_load(dir, &c2, &en, &a, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(c2.train.total_steps, 3000);
    assert_int_equal(c2.train.batch_size, 16);
    assert_string_equal(a->ops->name, "c51");
    agent_free(a);
    env_free(en);
    /* a run directory without a checkpoint is named as such */
    assert_int_equal(run_load(tu_dir, &c2, &en, &a, &e), -1);
    assert_contains(e.msg, "not a run directory");
}

/* ---- divergence ---- */

static void test_divergence_stops_with_step(void **state)
{
    (void)state;
    exp_config c;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/nan", tu_dir);
    char *sets[] = {"env.name=cartpole", "agent.kind=c51", "agent.hidden=[16]", "agent.v_max=100",
                    "train.total_steps=2000", "train.learning_starts=100", "train.checkpoint_interval=500",
                    "eval.interval=500", "eval.episodes=2"};
    tu_load_cfg(&c, sets, 9);
    tu_fail_at = 700, tu_fail_nan = 1;
    train_options o = {NULL, NULL, 0, 0, tu_make_failing_agent, NULL};
    train_result res;
    bdrl_err e;
    assert_int_equal(train_run(&c, dir, &o, &res, &e), -1);
    /* update 700 happens after step 800 */
    assert_contains(e.msg, "diverged at step 800");
    assert_contains(e.msg, "the loss is nan");
    assert_contains(e.msg, "checkpoint of step 500 is intact");
    char *js = tu_read_in(dir, "summary.json");
    assert_contains(js, "\"status\": \"diverged\"");
    free(js);
    exp_config c2;
    env *en;
    agent *a;
    int64_t step = 0;
    char p[700];
    if (run_load(dir, &c2, &en, &a, &e))
        fail_msg("%s", e.msg);
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    assert_int_equal(ckpt_read_agent(p, NULL, a, &step, &e), 0);
    assert_int_equal(step, 500);
    agent_free(a);
    env_free(en);
}

/* ---- learning ---- */

/* Mean return of the uniformly random policy on CartPole (about 22). */
static double random_cartpole_return(void)
{
    env_config ec;
    env_config_defaults(&ec, "cartpole");
    env *en = env_create(&ec, NULL);
    rng *r = rng_create(1, 1);
    double total = 0;
    for (int ep = 0; ep < 500; ep++) {
        uint64_t s = (uint64_t)ep;
        env_reset(en, &s);
        for (;;) {
            env_step st = env_do_step(en, (int)rng_below(r, 2));
            total += st.reward;
            if (st.terminated || st.truncated)
                break;
        }
    }
    rng_free(r);
    env_free(en);
    return total / 500;
}

/* 5000 steps of configs/cartpole_AGENT.yaml with exploration over the first
 * 1500, seeds 1-3: at least min_above of the 3 final greedy returns (20
 * episodes) above 2.5 times the random policy's (~22), their mean above 4
 * times. */
static void cartpole_beats_random(const char *agent, int min_above)
{
    double rnd = random_cartpole_return();
    double sum = 0;
    int above = 0;
    for (int seed = 1; seed <= 3; seed++) {
        char dir[700];
        snprintf(dir, sizeof dir, "%s/cp_%s%d", tu_dir, agent, seed);
        tu_result r = tu_run("%s train %s/configs/cartpole_%s.yaml --out %s -q --set seed=%d "
                             "--set train.total_steps=5000 --set train.learning_starts=500 "
                             "--set train.eps_fraction=0.3 --set eval.interval=1000",
                             tu_bdrl(), tu_root(), agent, dir, seed);
        if (r.status != 0)
            fail_msg("bdrl train exited %d: %s", r.status, r.err);
        tu_run_free(&r);
        char *js = tu_read_in(dir, "summary.json");
        double fin = json_number(js, "final_eval_return");
        free(js);
        print_message("cartpole %s seed %d: final eval return %.1f (random policy %.1f)\n", agent, seed, fin, rnd);
        above += fin > 2.5 * rnd;
        sum += fin;
    }
    assert_true(rnd > 15 && rnd < 30);
    assert_true(above >= min_above);
    assert_true(sum / 3 > 4 * rnd);
}

/* Measured: seeds 1-3 133.8, 106.1, 104.6. */
static void test_cartpole_c51_beats_random(void **state)
{
    (void)state;
    cartpole_beats_random("c51", 3);
}

/* Measured: seeds 1-3 29.5, 136.7, 156.8 (seeds 4-6: 490.1, 115.6, 144.3):
 * BD learns later than C51, and one seed of three may still be near random
 * at 5k steps. */
static void test_cartpole_bd_beats_random(void **state)
{
    (void)state;
    cartpole_beats_random("bd", 2);
}

/* V^π of a FrozenLake policy by iterating its Bellman equation. */
static void policy_values(const env_table *t, double gamma, const int *pol, double *v)
{
    int S = t->n_states;
    for (int s = 0; s < S; s++)
        v[s] = 0;
    for (int it = 0; it < 5000; it++)
        for (int s = 0; s < S; s++) {
            double q = 0;
            int a = pol[s], sa = s * t->n_actions + a;
            if (t->desc[s] == 'H' || t->desc[s] == 'G')
                continue;
            for (int k = 0; k < t->n_outcomes[sa]; k++) {
                const env_outcome *o = &t->outcomes[sa * 3 + k];
                q += o->prob * (o->reward + (o->terminated ? 0 : gamma * v[o->next_state]));
            }
            v[s] = q;
        }
}

static void test_frozenlake_policy_evaluation(void **state)
{
    (void)state;
    char dir[700];
    snprintf(dir, sizeof dir, "%s/fle", tu_dir);
    tu_result r = tu_run("%s train %s/configs/frozenlake4_eval_c51.yaml --out %s -q "
                         "--set train.total_steps=15000 --set eval.interval=5000 --set eval.episodes=50",
                         tu_bdrl(), tu_root(), dir);
    if (r.status != 0)
        fail_msg("bdrl train exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    exp_config c;
    env *en;
    agent *a;
    bdrl_err e;
    if (run_load(dir, &c, &en, &a, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(c.agent.mode, AGENT_EVALUATE);
    const env_table *t = env_transition_table(en);
    int pol[16];
    double v[16], err_sum = 0, worst = 0;
    int n = 0;
    assert_int_equal(truth_env_optimal_policy(en, c.agent.gamma, pol), 0);
    policy_values(t, c.agent.gamma, pol, v);
    for (int s = 0; s < 16; s++) {
        if (t->desc[s] == 'H' || t->desc[s] == 'G')
            continue;
        float o = (float)s;
        double q[4];
        assert_int_equal(agent_q_values(a, 1, &o, q, &e), 0);
        double err = fabs(q[pol[s]] - v[s]);
        err_sum += err;
        worst = err > worst ? err : worst;
        n++;
    }
    /* Measured after 15k steps: mean |Q(s, π*(s)) − V*(s)| 0.023, worst 0.043
     * (uniformly random behaviour, before agent.behaviour_eps 0.5: 0.05 and
     * 0.09). */
    print_message("frozenlake policy evaluation: mean |Q - V*| %.3f, worst %.3f (V*(0) = %.3f)\n",
                  err_sum / n, worst, v[0]);
    assert_true(err_sum / n < 0.06);
    assert_true(worst < 0.12);
    agent_free(a);
    env_free(en);

    /* bdrl eval --truth replay: the truth under the replay's empirical table,
     * in its own file; 15k random steps leave a data error of a few
     * hundredths (60k: 0.010 to 0.063 over 10 seeds). */
    r = tu_run("%s eval %s --truth replay --json --episodes 5", tu_bdrl(), dir);
    if (r.status != 0)
        fail_msg("bdrl eval --truth replay exited %d: %s", r.status, r.err);
    assert_non_null(strstr(r.out, "\"truth\": \"replay\""));
    double data_err = json_number(r.out, "mean_w1_truth_exact"), w1 = json_number(r.out, "mean_w1");
    print_message("--truth replay: data error %.4f, C51 to the data's fixed point %.4f\n", data_err, w1);
    assert_true(data_err > 0.003 && data_err < 0.2);
    assert_true(w1 > 0 && w1 < 0.2);
    tu_run_free(&r);
    char *dj = tu_read_in(dir, "distributions_replay.json");
    free(dj);
    r = tu_run("%s eval %s --truth bogus", tu_bdrl(), dir);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--truth must be exact or replay"));
    tu_run_free(&r);
}

/* Policy evaluation's behaviour: with agent.behaviour_eps = 0 the data are
 * π*'s own episodes (success about 0.74 within the 100-step limit), with 1
 * uniformly random ones (about 0.015), 0.5 lies between (a random action
 * half of the time ends most episodes in a hole). Read from the
 * episode returns of metrics.csv; no updates (learning never starts). */
static double behaviour_success(double eps_b)
{
    char dir[700];
    snprintf(dir, sizeof dir, "%s/beh%g", tu_dir, eps_b);
    tu_result r = tu_run("%s train %s/configs/frozenlake4_eval_c51.yaml --out %s -q --set agent.behaviour_eps=%g "
                         "--set train.total_steps=15000 --set train.learning_starts=1000000 "
                         "--set eval.interval=1000000 --set eval.episodes=1",
                         tu_bdrl(), tu_root(), dir, eps_b);
    if (r.status != 0)
        fail_msg("bdrl train exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    char *m = tu_read_in(dir, "metrics.csv");
    int n = 0, wins = 0;
    for (char *line = strchr(m, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        double step, ep, ret;
        if (sscanf(line, "%lf,%lf,%lf", &step, &ep, &ret) != 3)
            fail_msg("metrics.csv: bad row %.40s", line);
        n++;
        wins += ret > 0;
    }
    free(m);
    assert_true(n > 100);
    return (double)wins / n;
}

static void test_behaviour_eps(void **state)
{
    (void)state;
    double s0 = behaviour_success(0), s5 = behaviour_success(0.5), s1 = behaviour_success(1);
    print_message("behaviour success rate: eps 0 %.3f, 0.5 %.3f, 1 %.3f\n", s0, s5, s1);
    /* Measured: 0.761, 0.070, 0.015 over about 130, 800 and 1900 episodes
     * (binomial sd 0.04, 0.009, 0.003). */
    assert_true(s0 > 0.62 && s0 < 0.9);
    assert_true(s5 > 0.04 && s5 < 0.2);
    assert_true(s1 < 0.03);
}

/* eval.epsilon: with ε = 1 every step is a uniformly random action, so
 * the evaluation must equal episodes played by hand: episode k reset with
 * eval_episode_seed(S, k) and its draws from stream RNG_STREAM_EVAL_EPS of
 * that reset seed (one uniform, then the action, each step). More episodes
 * than EVAL_MAX_ROWS, so slots are reused and reseeded. At ε = 0 (the
 * default) the untrained agent's greedy episodes are something else, and
 * the same call twice gives the same result. */
static void test_eval_epsilon(void **state)
{
    (void)state;
    char *sets[] = {"env.name=cartpole", "agent.kind=c51", "agent.hidden=[8]", "eval.epsilon=1"};
    exp_config cfg;
    tu_load_cfg(&cfg, sets, 4);
    bdrl_err e;
    env *en = env_create(&cfg.env, &e);
    assert_non_null(en);
    agent *ag = tu_agent_seeded(&cfg, en, 5, "eval epsilon");
    const int N = EVAL_MAX_ROWS + 3;
    const uint64_t S = 777;
    eval_result r1, r0, r0b;
    assert_int_equal(eval_greedy(&cfg, ag, N, S, &r1, &e), 0);

    double ret[EVAL_MAX_ROWS + 3], len[EVAL_MAX_ROWS + 3];
    rng *draw = rng_create(0, RNG_STREAM_EVAL_EPS);
    for (int k = 0; k < N; k++) {
        uint64_t s = eval_episode_seed(S, k);
        env_reset(en, &s);
        rng_reseed(draw, s, RNG_STREAM_EVAL_EPS);
        ret[k] = 0;
        len[k] = 0;
        for (;;) {
            (void)rng_uniform(draw); /* the ε test's draw: at ε = 1 it always picks a random action */
            env_step st = env_do_step(en, (int)rng_below(draw, (unsigned long)env_n_actions(en)));
            ret[k] += st.reward;
            len[k]++;
            if (st.terminated || st.truncated)
                break;
        }
    }
    rng_free(draw);
    assert_true(r1.episodes == N);
    assert_true(r1.return_mean == stat_mean(ret, (size_t)N));
    assert_true(r1.length_mean == stat_mean(len, (size_t)N));

    cfg.eval.epsilon = 0;
    assert_int_equal(eval_greedy(&cfg, ag, N, S, &r0, &e), 0);
    assert_int_equal(eval_greedy(&cfg, ag, N, S, &r0b, &e), 0);
    assert_true(r0.return_mean == r0b.return_mean);
    assert_true(r0.length_mean != r1.length_mean);
    print_message("eval.epsilon: mean length greedy %.2f, epsilon 1 %.2f\n", r0.length_mean, r1.length_mean);
    agent_free(ag);
    env_free(en);

    /* bdrl eval --epsilon: checked before the run is read */
    tu_result r = tu_run("%s eval %s/no_such_run --epsilon 1.5", tu_bdrl(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "--epsilon must be in [0, 1], got '1.5'");
    tu_run_free(&r);
}

/* eval.stop_at_threshold: the run ends at its first evaluation at or above
 * the threshold, with status solved, a checkpoint, and total_steps = that
 * evaluation's step (C51 on FrozenLake passes success 0.3 within 5k). */
static void test_stop_at_threshold(void **state)
{
    (void)state;
    char dir[700];
    snprintf(dir, sizeof dir, "%s/solved", tu_dir);
    tu_result r = tu_run("%s train %s/configs/frozenlake4_c51.yaml --out %s -q --set eval.stop_at_threshold=true "
                         "--set eval.threshold=0.3 --set eval.interval=1000 --set eval.episodes=50 "
                         "--set train.total_steps=50000",
                         tu_bdrl(), tu_root(), dir);
    if (r.status != 0)
        fail_msg("bdrl train exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    char *sum = tu_read_in(dir, "summary.json");
    assert_non_null(strstr(sum, "\"status\": \"solved\""));
    double steps = json_number(sum, "total_steps"), stt = json_number(sum, "steps_to_threshold");
    print_message("stop at threshold 0.3: ended at step %.0f\n", steps);
    assert_true(steps < 50000 && steps == stt);
    assert_true(json_number(sum, "final_success_rate") >= 0.3);
    free(sum);
    char p[800];
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    assert_true(access(p, F_OK) == 0);
    /* without the option the same run goes on past that step */
    snprintf(dir, sizeof dir, "%s/unsolved", tu_dir);
    r = tu_run("%s train %s/configs/frozenlake4_c51.yaml --out %s -q --set eval.threshold=0.3 "
               "--set eval.interval=1000 --set eval.episodes=50 --set train.total_steps=%.0f",
               tu_bdrl(), tu_root(), dir, steps + 1000);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    sum = tu_read_in(dir, "summary.json");
    assert_non_null(strstr(sum, "\"status\": \"finished\""));
    assert_close(json_number(sum, "total_steps"), steps + 1000, 0);
    assert_close(json_number(sum, "steps_to_threshold"), stt, 0);
    free(sum);
}

/* BD policy evaluation, short: 10k steps of configs/frozenlake4_eval_bd.yaml.
 * Every (state, action) has a law, the mean W1 to the exact laws is below
 * 0.1 (an untrained agent: 0.24; measured at 10k steps 0.061, at 60k 0.023
 * to 0.035 over 10 seeds) and the start state's mean is within 0.1 of the
 * exact 0.5420 (0.496 at 10k). */
static void test_frozenlake_bd_policy_evaluation(void **state)
{
    (void)state;
    char dir[700];
    snprintf(dir, sizeof dir, "%s/flbd", tu_dir);
    tu_result r = tu_run("%s train %s/configs/frozenlake4_eval_bd.yaml --out %s -q "
                         "--set train.total_steps=10000 --set eval.interval=10000 --set eval.episodes=20",
                         tu_bdrl(), tu_root(), dir);
    if (r.status != 0)
        fail_msg("bdrl train exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    r = tu_run("%s eval %s --json --no-samples --episodes 5", tu_bdrl(), dir);
    if (r.status != 0)
        fail_msg("bdrl eval exited %d: %s", r.status, r.err);
    double w1 = json_number(r.out, "mean_w1"), undef = json_number(r.out, "n_undefined");
    const char *first = strstr(r.out, "\"per_state\": [");
    assert_non_null(first);
    double m0 = json_number(first, "mean_model"), t0 = json_number(first, "mean_truth");
    print_message("frozenlake bd policy evaluation, 10k steps: mean W1 %.4f, start state %.4f (exact %.4f)\n", w1,
                  m0, t0);
    assert_true(undef == 0);
    assert_true(w1 < 0.1);
    assert_close(t0, 0.54202593, 1e-7);
    assert_true(fabs(m0 - t0) < 0.1);
    tu_run_free(&r);
}

/* ---- interruption and resume ---- */

#define RESUME_ARGS "--set train.total_steps=3000 --set train.learning_starts=300 --set eval.interval=1000 " \
                    "--set eval.episodes=5 --set agent.hidden=[32,32] -q"

/* configs/CONFIG.yaml (RESUME_ARGS) trained straight into a_dir, and into
 * b_dir stopped at step 1777 (mid-episode, after an evaluation and before
 * the next) and resumed: the same evaluations, the same metrics but for
 * their speed, and the same agent at the end, byte for byte (its own save:
 * networks, targets, optimizer states, random streams). */
static void straight_and_resumed(const char *config, char *a_dir, char *b_dir, size_t n)
{
    snprintf(a_dir, n, "%s/%s_straight", tu_dir, config);
    snprintf(b_dir, n, "%s/%s_interrupted", tu_dir, config);
    tu_result r = tu_run("%s train %s/configs/%s.yaml --out %s " RESUME_ARGS, tu_bdrl(), tu_root(), config, a_dir);
    if (r.status != 0)
        fail_msg("straight run exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    r = tu_run("%s train %s/configs/%s.yaml --out %s --stop-after 1777 " RESUME_ARGS, tu_bdrl(), tu_root(), config,
               b_dir);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "stopped (--stop-after) at step 1777 of 3000");
    assert_contains(r.err, "--resume");
    tu_run_free(&r);
    char *js = tu_read_in(b_dir, "summary.json");
    assert_contains(js, "\"status\": \"interrupted\"");
    assert_close(json_number(js, "total_steps"), 1777, 0);
    free(js);
    /* resume with the same command line (CONFIG and --set included) */
    r = tu_run("%s train %s/configs/%s.yaml --resume %s " RESUME_ARGS, tu_bdrl(), tu_root(), config, b_dir);
    if (r.status != 0)
        fail_msg("resume exited %d: %s", r.status, r.err);
    tu_run_free(&r);

    char *ea = tu_read_in(a_dir, "eval.csv"), *eb = tu_read_in(b_dir, "eval.csv");
    assert_string_equal(ea, eb);
    char *ma = tu_read_in(a_dir, "metrics.csv"), *mb = tu_read_in(b_dir, "metrics.csv");
    char *sa = tu_strip_sps(ma), *sb = tu_strip_sps(mb);
    assert_string_equal(sa, sb);
    exp_config c;
    env *en[2];
    agent *ag[2];
    char *st[2];
    size_t len[2];
    bdrl_err e;
    const char *dirs[2] = {a_dir, b_dir};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(run_load(dirs[k], &c, &en[k], &ag[k], &e), 0);
        st[k] = tu_agent_state(ag[k], &len[k]);
    }
    assert_true(len[0] == len[1] && !memcmp(st[0], st[1], len[0]));
    for (int k = 0; k < 2; k++) {
        free(st[k]);
        agent_free(ag[k]);
        env_free(en[k]);
    }
    free(ea);
    free(eb);
    free(ma);
    free(mb);
    free(sa);
    free(sb);
}

static void test_resume_is_bit_exact(void **state)
{
    (void)state;
    char a_dir[700], b_dir[700];
    straight_and_resumed("cartpole_c51", a_dir, b_dir, sizeof a_dir);
    char *js = tu_read_in(b_dir, "summary.json");
    assert_contains(js, "\"status\": \"finished\"");
    assert_close(json_number(js, "total_steps"), 3000, 0);
    free(js);
    /* resuming a finished run does nothing, and says so */
    tu_result r = tu_run("%s train --resume %s -q", tu_bdrl(), b_dir);
    assert_int_equal(r.status, 0);
    assert_contains(r.err, "nothing to do");
    tu_run_free(&r);
    /* ... unless the run is extended */
    r = tu_run("%s train --resume %s -q --set train.total_steps=3300", tu_bdrl(), b_dir);
    if (r.status != 0)
        fail_msg("extension exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    js = tu_read_in(b_dir, "summary.json");
    assert_close(json_number(js, "total_steps"), 3300, 0);
    free(js);
}

/* The same for BD as it ships (basis fields, CartPole's config). */
static void test_bd_resume_is_bit_exact(void **state)
{
    (void)state;
    char a_dir[700], b_dir[700];
    straight_and_resumed("cartpole_bd", a_dir, b_dir, sizeof a_dir);
}

/* Starts bdrl train in the background; returns its pid. 300k steps take
 * well over the second the tests wait, and end on their own (a minute or
 * two) should a failing test leave the process behind. */
static pid_t spawn_train(const char *dir, const char *extra)
{
    char cmd[2000];
    snprintf(cmd, sizeof cmd,
             "exec %s train %s/configs/frozenlake4_c51.yaml --out %s -q --set train.total_steps=300000 "
             "--set eval.interval=300000 %s",
             tu_bdrl(), tu_root(), dir, extra);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char errp[800];
        snprintf(errp, sizeof errp, "%s.err", dir);
        if (!freopen("/dev/null", "w", stdout) || !freopen(errp, "w", stderr))
            _exit(126);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Waits until path exists (at most ~20 s). */
static void wait_for(const char *path)
{
    for (int i = 0; i < 2000 && access(path, F_OK) != 0; i++)
        usleep(10000);
}

static void test_sigint_checkpoints_and_resumes(void **state)
{
    (void)state;
    char dir[700], p[800];
    snprintf(dir, sizeof dir, "%s/sigint", tu_dir);
    pid_t pid = spawn_train(dir, "");
    snprintf(p, sizeof p, "%s/summary.json", dir);
    wait_for(p);
    usleep(300000);
    kill(pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 130);
    snprintf(p, sizeof p, "%s.err", dir);
    char *err = tu_read(p);
    assert_contains(err, "interrupted (SIGINT) at step");
    free(err);
    char *js = tu_read_in(dir, "summary.json");
    assert_contains(js, "\"status\": \"interrupted\"");
    double steps = json_number(js, "total_steps");
    free(js);
    assert_true(steps > 0);
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    check_csv(p, "step,episode,return,length,epsilon,loss,loss_grad,q_mean,sps", 9);
    /* resume for 500 more steps */
    tu_result r = tu_run("%s train --resume %s -q --set train.total_steps=%.0f", tu_bdrl(), dir, steps + 500);
    if (r.status != 0)
        fail_msg("resume exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    js = tu_read_in(dir, "summary.json");
    assert_close(json_number(js, "total_steps"), steps + 500, 0);
    assert_contains(js, "\"status\": \"finished\"");
    free(js);
    /* SIGTERM: 143 */
    char dir2[700];
    snprintf(dir2, sizeof dir2, "%s/sigterm", tu_dir);
    pid = spawn_train(dir2, "");
    snprintf(p, sizeof p, "%s/summary.json", dir2);
    wait_for(p);
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 143);
}

static void test_kill_leaves_parseable_files(void **state)
{
    (void)state;
    char dir[700], p[800];
    snprintf(dir, sizeof dir, "%s/killed", tu_dir);
    /* checkpoints and flushes every 300 steps: many chances to be caught mid-write */
    pid_t pid = spawn_train(dir, "--set train.checkpoint_interval=300 --set eval.episodes=1");
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    wait_for(p);
    usleep(700000);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    check_csv(p, "step,episode,return,length,epsilon,loss,loss_grad,q_mean,sps", 9);
    snprintf(p, sizeof p, "%s/eval.csv", dir);
    check_csv(p, "step,return_mean,return_std,success_rate", 4);
    char *js = tu_read_in(dir, "summary.json");
    size_t n = strlen(js);
    while (n > 0 && (js[n - 1] == '\n' || js[n - 1] == ' '))
        n--;
    assert_true(n > 2 && js[0] == '{' && js[n - 1] == '}');
    free(js);
    /* the last checkpoint resumes */
    exp_config c;
    env *en;
    agent *a;
    bdrl_err e;
    int64_t step;
    assert_int_equal(run_load(dir, &c, &en, &a, &e), 0);
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    assert_int_equal(ckpt_read_agent(p, NULL, a, &step, &e), 0);
    assert_true(step > 0 && step % 300 == 0);
    agent_free(a);
    env_free(en);
    tu_result r = tu_run("%s train --resume %s -q --set train.total_steps=%lld", tu_bdrl(), dir,
                         (long long)step + 300);
    if (r.status != 0)
        fail_msg("resume after kill exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    /* no rows past the checkpoint survive from the killed run: steps increase */
    char *m = tu_read_in(dir, "metrics.csv");
    long long prev = 0;
    for (char *l = strchr(m, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
        long long s = strtoll(l, NULL, 10);
        assert_true(s > prev);
        prev = s;
    }
    free(m);
}

/* ---- the command line ---- */

/* ---- preemption: wall-time checkpoints, resume without one, the lock ---- */

#define RESUME_SETS "--set train.total_steps=3000 --set train.learning_starts=300 --set eval.interval=1000 " \
                    "--set eval.episodes=5 --set agent.hidden=[32,32]"

/* A clock that advances one "second" per reading (one reading per step), and
 * SIGKILLs its process at reading kill_at: a preemption at a known step. */
static long fake_calls, fake_kill_at;
static double fake_clock(void)
{
    if (++fake_calls == fake_kill_at)
        raise(SIGKILL);
    return (double)fake_calls;
}

/* The same networks and files (but steps/s) in two run directories. */
static void assert_same_run(const char *a_dir, const char *b_dir)
{
    char *ea = tu_read_in(a_dir, "eval.csv"), *eb = tu_read_in(b_dir, "eval.csv");
    assert_string_equal(ea, eb);
    char *ma = tu_read_in(a_dir, "metrics.csv"), *mb = tu_read_in(b_dir, "metrics.csv");
    char *sa = tu_strip_sps(ma), *sb = tu_strip_sps(mb);
    assert_string_equal(sa, sb);
    exp_config c;
    env *en1, *en2;
    agent *a1, *a2;
    bdrl_err e;
    assert_int_equal(run_load(a_dir, &c, &en1, &a1, &e), 0);
    assert_int_equal(run_load(b_dir, &c, &en2, &a2, &e), 0);
    mlp *n1 = c51_online(a1), *n2 = c51_online(a2);
    assert_memory_equal(n1->params, n2->params, sizeof(real) * n1->n_params);
    assert_memory_equal(c51_target(a1)->params, c51_target(a2)->params, sizeof(real) * n1->n_params);
    agent_free(a1);
    agent_free(a2);
    env_free(en1);
    env_free(en2);
    free(ea);
    free(eb);
    free(ma);
    free(mb);
    free(sa);
    free(sb);
}

static void test_time_checkpoint_survives_sigkill(void **state)
{
    (void)state;
    char a_dir[700], b_dir[700], p[800];
    snprintf(a_dir, sizeof a_dir, "%s/time_straight", tu_dir);
    snprintf(b_dir, sizeof b_dir, "%s/time_killed", tu_dir);
    tu_result r = tu_run("%s train %s/configs/cartpole_c51.yaml --out %s -q " RESUME_SETS
                         " --set train.checkpoint_seconds=0", tu_bdrl(), tu_root(), a_dir);
    if (r.status != 0)
        fail_msg("straight run exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    /* The preempted run: checkpoints every 1234 "seconds" of its clock only,
     * i.e. after step 1234 (mid-episode, between evaluations), and is killed
     * at step ~1900 with nothing written since. */
    exp_config cfg;
    char cfgp[700];
    snprintf(cfgp, sizeof cfgp, "%s/configs/cartpole_c51.yaml", tu_root());
    char *sets[] = {"train.total_steps=3000", "train.learning_starts=300", "eval.interval=1000",
                    "eval.episodes=5",        "agent.hidden=[32,32]",     "train.checkpoint_seconds=1234"};
    bdrl_err e;
    if (exp_load(&cfg, cfgp, sets, 6, &e))
        fail_msg("%s", e.msg);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        fake_calls = 0;
        fake_kill_at = 1900;
        train_options o = {NULL, NULL, 0, 0, NULL, fake_clock};
        train_result res;
        train_run(&cfg, b_dir, &o, &res, &e);
        _exit(3); /* not reached: the clock kills the run first */
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    int64_t step = -1;
    snprintf(p, sizeof p, "%s/checkpoint.bin", b_dir);
    if (train_verify_checkpoint(&cfg, p, &step, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(step, 1234);
    char *js = tu_read_in(b_dir, "summary.json");
    assert_contains(js, "\"status\": \"running\"");
    free(js);
    r = tu_run("%s train --resume %s -q", tu_bdrl(), b_dir);
    if (r.status != 0)
        fail_msg("resume exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    assert_same_run(a_dir, b_dir);

    /* The real clock: with checkpoint_seconds 1 a run of a few seconds
     * writes checkpoints on its way (the default interval is 0: only at the
     * end); the kill below finds one before the end. */
    char c_dir[700];
    snprintf(c_dir, sizeof c_dir, "%s/time_real", tu_dir);
    pid = spawn_train(c_dir, "--set train.checkpoint_seconds=1");
    snprintf(p, sizeof p, "%s/checkpoint.bin", c_dir);
    wait_for(p);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    assert_int_equal(access(p, F_OK), 0);
    js = tu_read_in(c_dir, "summary.json");
    assert_contains(js, "\"status\": \"running\""); /* killed before its end: the checkpoint was a timed one */
    free(js);
}

static void test_resume_without_checkpoint_starts_again(void **state)
{
    (void)state;
    char a_dir[700], b_dir[700];
    snprintf(a_dir, sizeof a_dir, "%s/time_straight", tu_dir); /* from the test above */
    snprintf(b_dir, sizeof b_dir, "%s/no_checkpoint", tu_dir);
    /* killed before its first checkpoint: config.yaml and partial files */
    tu_result r = tu_run("mkdir -p %s && %s config %s/configs/cartpole_c51.yaml " RESUME_SETS
                         " > %s/config.yaml && echo step > %s/metrics.csv",
                         b_dir, tu_bdrl(), tu_root(), b_dir, b_dir);
    assert_int_equal(r.status, 0);
    tu_run_free(&r);
    r = tu_run("%s train --resume %s", tu_bdrl(), b_dir);
    if (r.status != 0)
        fail_msg("resume without a checkpoint exited %d: %s", r.status, r.err);
    assert_contains(r.err, "has no checkpoint yet; starting it again from step 0");
    tu_run_free(&r);
    assert_same_run(a_dir, b_dir);
}

static void test_one_process_per_run(void **state)
{
    (void)state;
    char dir[700], p[800], want[200];
    snprintf(dir, sizeof dir, "%s/locked", tu_dir);
    pid_t pid = spawn_train(dir, "");
    snprintf(p, sizeof p, "%s/summary.json", dir);
    wait_for(p);
    snprintf(want, sizeof want, "is being trained by pid %ld on host ", (long)pid);
    tu_result r = tu_run("%s train --resume %s -q", tu_bdrl(), dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, want);
    tu_run_free(&r);
    /* a driver (sweep, compare) refuses to plan it, rather than clear it */
    exp_config cfg;
    char *sets[] = {"env.name=frozenlake"};
    tu_load_cfg(&cfg, sets, 1);
    rundir_action act;
    bdrl_err e;
    assert_int_equal(rundir_plan(dir, &cfg, &act, &e), -1);
    assert_contains(e.msg, want);
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    assert_int_equal(access(p, F_OK), 0);
    r = tu_run("%s train %s/configs/frozenlake4_c51.yaml --out %s -q", tu_bdrl(), tu_root(), dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, want);
    tu_run_free(&r);
    /* the holder dies: its lock goes with it (the file stays) */
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    snprintf(p, sizeof p, "%s/.lock", dir);
    assert_int_equal(access(p, F_OK), 0);
    r = tu_run("%s train --resume %s -q --set train.total_steps=1000", tu_bdrl(), dir);
    if (r.status != 0)
        fail_msg("resume after the holder died exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    char *js = tu_read_in(dir, "summary.json");
    assert_contains(js, "\"status\": \"finished\"");
    free(js);
}

/* `bdrl config` refuses what `bdrl train` refuses at setup, with the same
 * line and exit 2; train makes no directory for it. */
static void test_config_checked_whole(void **state)
{
    (void)state;
    const char *bad[][2] = {
        {"", "--set 'env.map=[FFF, FFG]'"},            /* no start */
        {"", "--set 'env.map=[SFF, FFF]'"},            /* no goal */
        {"", "--set 'env.map=[SFH, FHF, HFG]'"},       /* goal walled off by holes */
        {"BDRL_MAX_MEMORY=1M", ""},                    /* over the memory limit */
    };
    const char *need[] = {"needs exactly one S", "needs at least one G", "no G (goal) can be reached from S",
                          "more than the limit of 1.0 MiB"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char dir[700], cfgp[700];
        snprintf(dir, sizeof dir, "%s/refused_%zu", tu_dir, i);
        snprintf(cfgp, sizeof cfgp, "%s/configs/frozenlake4_c51.yaml", tu_root());
        tu_result c = tu_run("%s %s config %s %s", bad[i][0], tu_bdrl(), cfgp, bad[i][1]);
        tu_result t = tu_run("%s %s train %s %s --out %s -q", bad[i][0], tu_bdrl(), cfgp, bad[i][1], dir);
        assert_int_equal(c.status, 2);
        assert_int_equal(t.status, 2);
        assert_contains(c.err, need[i]);
        assert_string_equal(c.err, t.err);
        assert_true(strchr(c.err, '\n') == c.err + strlen(c.err) - 1); /* one line */
        assert_int_equal(access(dir, F_OK), -1);
        tu_run_free(&c);
        tu_run_free(&t);
    }
    /* compare checks every configuration before it starts anything */
    char badcfg[700], out[700];
    snprintf(badcfg, sizeof badcfg, "%s/walled.yaml", tu_dir);
    tu_write(badcfg, "env:\n  name: frozenlake\n  map: [SFH, FHF, HFG]\nagent:\n  kind: c51\n");
    snprintf(out, sizeof out, "%s/cmp_refused", tu_dir);
    tu_result r = tu_run("%s compare %s/configs/frozenlake4_c51.yaml %s --seeds 2 --out %s -q", tu_bdrl(),
                         tu_root(), badcfg, out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "no G (goal) can be reached from S");
    assert_int_equal(access(out, F_OK), -1);
    tu_run_free(&r);
}

static void test_bad_command_lines(void **state)
{
    (void)state;
    const char *cp = "configs/cartpole_c51.yaml";
    tu_result r = tu_run("%s train", tu_bdrl());
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "expected a CONFIG file or --resume DIR");
    tu_run_free(&r);
    r = tu_run("%s train %s/%s %s/%s", tu_bdrl(), tu_root(), cp, tu_root(), cp);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    r = tu_run("%s train %s/%s --set train.batch_sise=3", tu_bdrl(), tu_root(), cp);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "did you mean 'train.batch_size'?");
    tu_run_free(&r);
    r = tu_run("%s train %s/nonexistent.yaml", tu_bdrl(), tu_root());
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    r = tu_run("%s train %s/%s --frobnicate", tu_bdrl(), tu_root(), cp);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    r = tu_run("%s train %s/%s --stop-after abc", tu_bdrl(), tu_root(), cp);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    /* a non-empty run directory is never overwritten */
    char dir[700], f[800];
    snprintf(dir, sizeof dir, "%s/occupied", tu_dir);
    mkdir(dir, 0755);
    snprintf(f, sizeof f, "%s/notes.txt", dir);
    tu_write(f, "mine\n");
    r = tu_run("%s train %s/%s --out %s -q", tu_bdrl(), tu_root(), cp, dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "already exists and is not empty");
    assert_contains(r.err, "--resume");
    tu_run_free(&r);
    char *t = tu_read(f);
    assert_string_equal(t, "mine\n");
    free(t);
    /* --resume of something that is not a run */
    r = tu_run("%s train --resume %s -q", tu_bdrl(), dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "not a run directory");
    tu_run_free(&r);
    r = tu_run("%s train %s/%s --out %s --resume %s", tu_bdrl(), tu_root(), cp, dir, dir);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    /* --resume with a changed learning key is refused; the default run dir name */
    char outdir[700];
    snprintf(outdir, sizeof outdir, "%s/runs", tu_dir);
    r = tu_run("%s train %s/%s -q --set output.dir=%s --set train.total_steps=300 --set seed=7 "
               "--set eval.episodes=2",
               tu_bdrl(), tu_root(), cp, outdir);
    if (r.status != 0)
        fail_msg("short run exited %d: %s", r.status, r.err);
    assert_contains(r.err, "cartpole_c51_s7");
    tu_run_free(&r);
    r = tu_run("%s train --resume %s/cartpole_c51_s7 -q --set agent.lr=0.5", tu_bdrl(), outdir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "cannot resume");
    assert_contains(r.err, "agent.lr");
    tu_run_free(&r);
    /* the same command again: refused, the directory is not empty */
    r = tu_run("%s train %s/%s -q --set output.dir=%s --set train.total_steps=300 --set seed=7", tu_bdrl(),
               tu_root(), cp, outdir);
    assert_int_equal(r.status, 2);
    tu_run_free(&r);
    r = tu_run("%s train --help", tu_bdrl());
    assert_int_equal(r.status, 0);
    assert_contains(r.out, "usage: bdrl train CONFIG");
    tu_run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_optimal_policy),
        cmocka_unit_test(test_run_directory),
        cmocka_unit_test(test_gradient_steps),
        cmocka_unit_test(test_divergence_stops_with_step),
        cmocka_unit_test(test_cartpole_c51_beats_random),
        cmocka_unit_test(test_cartpole_bd_beats_random),
        cmocka_unit_test(test_frozenlake_policy_evaluation),
        cmocka_unit_test(test_frozenlake_bd_policy_evaluation),
        cmocka_unit_test(test_behaviour_eps),
        cmocka_unit_test(test_eval_epsilon),
        cmocka_unit_test(test_stop_at_threshold),
        cmocka_unit_test(test_resume_is_bit_exact),
        cmocka_unit_test(test_bd_resume_is_bit_exact),
        cmocka_unit_test(test_sigint_checkpoints_and_resumes),
        cmocka_unit_test(test_kill_leaves_parseable_files),
        cmocka_unit_test(test_time_checkpoint_survives_sigkill),
        cmocka_unit_test(test_resume_without_checkpoint_starts_again),
        cmocka_unit_test(test_one_process_per_run),
        cmocka_unit_test(test_config_checked_whole),
        cmocka_unit_test(test_bad_command_lines),
    };
    return cmocka_run_group_tests_name("train", tests, tu_group_setup, tu_group_teardown);
}
