/* bench_agents — the agents' training throughput, BD against C51 side by
 * side in one run (single thread, CPU time: the machine is shared), and
 * C51's update against the machine's own large-SGEMM rate:
 *   - sgemm 2048³;
 *   - at CleanRL's c51.py settings (configs/bench/cleanrl_{c51,bd}.yaml:
 *     CartPole, torso 4-120-84 ReLU, batch 128, Adam, an update every 10
 *     steps): each agent's update on random CartPole transitions (replay
 *     sample + target forward + online forward + backward + Adam), and the
 *     full training loop (train_run: ε-greedy acting with a B = 1 forward,
 *     environment, replay, updates, target copies) in environment steps
 *     per second at ε = 0.05 throughout (the loop's steady state);
 *   - on FrozenLake 4x4 policy evaluation (configs/frozenlake4_eval_*.yaml,
 *     an update every step): the full loop of both;
 *   - the grid fields (bd.field grid, docs/design.md §1.4's prototype recipe) at
 *     CleanRL's settings, for reference.
 * Target (issue 11): BD's loop at least 1/2 of C51's steps/s in both pairs,
 * with the shipped configs.
 *
 * MinAtar (issue 22 §4): every agent (dqn, c51, qrdqn, iqn, bd) on
 * minatar-breakout and minatar-seaquest with configs/minatar/<game>_<agent>.yaml
 * (MinAtar's network: conv [16] 3x3 valid -> dense 128 -> the agent's head;
 * batch 32; Adam), its whole training loop (train_run, ε = 0.05 throughout,
 * updates from step 33 on) with an update every step and with the shipped
 * one every 4 steps. Steps/s is CPU time over a window of steady-state steps
 * (from the trainer's per-step clock, train_options.clock: no set-up, no
 * evaluation, no final checkpoint inside it). FLOPs per step are GEMM
 * multiply-adds as above: the update's (agent_ops.update_flops where the
 * agent has it, else counted by the GEMM counter below on one update) per
 * train_frequency steps, plus the acting forward (one B = 1 greedy action,
 * counted). Every cblas_sgemm call of this program goes through
 * __wrap_cblas_sgemm (the Makefile links bench_agents with
 * -Wl,--wrap=cblas_sgemm), which adds 2·M·N·K while counting is on; the
 * counted total over the loop's window is printed beside it as a check.
 * The fraction of SGEMM is (steps/s · FLOPs/step) / the sgemm 2048³ rate of
 * this same process. The bar: C51's every-step loop at >= 1/2 of SGEMM.
 * When a python3 that imports torch is found (BDRL_TORCH_PYTHON, else
 * python3, else /usr/bin/python3), bench/torch_minatar.py runs afterwards
 * in this same run (one thread, the same network, batch and update) and its
 * steps/s are set against bdrl's: the bar is bdrl >= 2.5x torch's for C51.
 *
 * FLOP counts: only the GEMMs' multiply-adds, 2·M·N·K per GEMM. With layer
 * sizes n_0..n_L and S = Σ_l n_l·n_{l+1}, one C51 update at batch B is
 *   target forward 2BS + online forward 2BS + dW 2BS + dA (all layers but
 *   the first) 2B(S − n_0 n_1)  =  8BS − 2B n_0 n_1
 * (c51_update_flops). Softmax, projection, Adam and sampling are real time
 * but no counted FLOPs, so they can only lower the reported rate. Each
 * update figure is the median over short chunks.
 *
 * Components (issue 21 §5): on CartPole at configs/cartpole_c51.yaml's
 * settings, the training loop's steps/s of C51 plain, with each of
 * Rainbow's components alone (agent.n_step 3; replay.prioritized, α 0.5,
 * β 0.4; agent.double; agent.dueling; agent.noisy, σ0 0.5) and with all
 * five (configs/cartpole_rainbow.yaml), and of dqn, qrdqn, iqn and bd
 * (configs/twins/cartpole_<agent>.yaml, configs/cartpole_bd.yaml: every key
 * shared with C51 at C51's value) plain and with all five; each against
 * plain C51 in the same rounds (components_section: every variant one long
 * run with the replay half full, the runs interleaved as coroutines). An
 * agent that refuses a component is listed with its error. The lines
 * checked: prioritized >= 0.87 of plain C51's steps/s, Rainbow >= 0.6.
 *
 * QR-DQN and IQN at Dopamine's agent keys (`quantile`): the training
 * loops of QR-DQN with 200 quantiles and IQN with N = N' = 64, K = 32, both
 * at configs/bench/cleanrl_c51.yaml's shared keys, batch 128, with an
 * update every step, against C51 at the same keys in the same rounds.
 *
 * Usage: bench_agents [seconds per measurement, default 2] [minatar] [notorch]
 * [c51-only] [components] [quantile]; run from the source tree (it reads the
 * configs above). `components`: only the components section (no sgemm probe);
 * `quantile`: only the QR-DQN and IQN section (no sgemm probe).
 * `minatar`: only the sgemm probe and the MinAtar section; `notorch`: no
 * PyTorch reference; `c51-only`: of the MinAtar agents, c51 alone (for
 * profiling its loop).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <cblas.h>

#include "agents/agent.h"
#include "agents/c51.h"
#include "agents/registry.h"
#include "train/replay.h"
#include "train/train.h"
#include "core/rng.h"

#include "bench_util.h"

/* cpu_now, wall_now, median and sgemm_gflops come from bench_util.h. */

/* ---- the GEMM FLOP counter ---- */
/* The linker sends every cblas_sgemm call of this program (the library's
 * included) here, and __real_cblas_sgemm is OpenBLAS's (-Wl,--wrap). One
 * addition per call: nothing measurable next to the GEMM itself. */
static int gemm_counting;
static double gemm_flops;

void __real_cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                        OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint M,
                        OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha,
                        OPENBLAS_CONST float *A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *B,
                        OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *C,
                        OPENBLAS_CONST blasint ldc);
void __wrap_cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                        OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint M,
                        OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha,
                        OPENBLAS_CONST float *A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *B,
                        OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *C,
                        OPENBLAS_CONST blasint ldc);
void __wrap_cblas_sgemm(OPENBLAS_CONST enum CBLAS_ORDER o, OPENBLAS_CONST enum CBLAS_TRANSPOSE ta,
                        OPENBLAS_CONST enum CBLAS_TRANSPOSE tb, OPENBLAS_CONST blasint M,
                        OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST float alpha,
                        OPENBLAS_CONST float *A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST float *B,
                        OPENBLAS_CONST blasint ldb, OPENBLAS_CONST float beta, float *C,
                        OPENBLAS_CONST blasint ldc)
{
    if (gemm_counting)
        gemm_flops += 2.0 * M * N * K;
    __real_cblas_sgemm(o, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

typedef struct {
    double updates_per_s, gflops, mflop;
} upd_rate;

/* (b), (d): updates on a buffer of random CartPole transitions. */
static int agent_updates(const exp_config *cfg, double secs, upd_rate *out)
{
    bdrl_err e;
    env *en = env_create(&cfg->env, &e);
    rng *init = rng_create((uint64_t)cfg->seed, RNG_STREAM_INIT);
    rng *g = rng_create((uint64_t)cfg->seed, RNG_STREAM_REPLAY);
    agent *a = en ? agent_create(cfg, en, init, &e) : NULL;
    replay *rb = a ? replay_create(cfg->train.buffer_size, env_obs_dim(en), &e) : NULL;
    replay_batch b;
    if (!rb || replay_batch_create(&b, cfg->train.batch_size, env_obs_dim(en), &e)) {
        fprintf(stderr, "bench_agents: %s\n", e.msg);
        return -1;
    }
    uint64_t seed = 5;
    float obs[8];
    memcpy(obs, env_reset(en, &seed), sizeof(float) * (size_t)env_obs_dim(en));
    for (int64_t i = 0; i < cfg->train.buffer_size; i++) {
        int act = (int)rng_below(g, (uint64_t)env_n_actions(en));
        env_step st = env_do_step(en, act);
        if (replay_add(rb, obs, act, st.reward, st.obs, st.terminated, st.truncated, &e)) {
            fprintf(stderr, "bench_agents: %s\n", e.msg);
            return -1;
        }
        memcpy(obs, st.terminated || st.truncated ? env_reset(en, NULL) : st.obs,
               sizeof(float) * (size_t)env_obs_dim(en));
    }
    const int B = cfg->train.batch_size, K = 20;
    static double rates[MAX_CHUNKS];
    int n = 0;
    double t_end = wall_now() + secs;
    agent_stats st;
    do {
        double t0 = cpu_now();
        for (int k = 0; k < K; k++) {
            replay_sample(rb, g, B, &b);
            agent_batch v = replay_batch_view(&b, NULL);
            if (agent_update(a, &v, &st, &e)) {
                fprintf(stderr, "bench_agents: %s\n", e.msg);
                return -1;
            }
        }
        rates[n++] = K / (cpu_now() - t0);
        if (n % 25 == 0)
            agent_update_target(a, 1.0);
    } while ((wall_now() < t_end || n < 3) && n < MAX_CHUNKS);
    out->updates_per_s = median(rates, n);
    out->mflop = a->ops->update_flops ? a->ops->update_flops(a, B) / 1e6 : 0;
    out->gflops = out->updates_per_s * out->mflop / 1e3;
    replay_batch_free(&b);
    replay_free(rb);
    agent_free(a);
    env_free(en);
    rng_free(init);
    rng_free(g);
    return 0;
}

/* (c): the whole trainer on a temporary run directory. */
static int full_loop(const exp_config *base, int64_t steps, double *sps_cpu, double *sps_wall)
{
    exp_config cfg = *base;
    cfg.train.total_steps = steps;
    cfg.train.learning_starts = cfg.train.batch_size; /* train from the start */
    cfg.train.eps_start = cfg.train.eps_end = 0.05;
    cfg.eval.interval = steps;                        /* one (cheap) evaluation at the end */
    cfg.eval.episodes = 1;
    char dir[] = "/tmp/bench_agents_XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    train_options o = {NULL, NULL, 0, 0, NULL, NULL};
    train_result res;
    bdrl_err e;
    double c0 = cpu_now(), w0 = wall_now();
    int rc = train_run(&cfg, dir, &o, &res, &e);
    double c1 = cpu_now(), w1 = wall_now();
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_agents: could not remove %s\n", dir);
    if (rc) {
        fprintf(stderr, "bench_agents: %s\n", e.msg);
        return -1;
    }
    *sps_cpu = (double)steps / (c1 - c0);
    *sps_wall = (double)steps / (w1 - w0);
    return 0;
}

/* One side-by-side pair: C51 and BD configs that differ only in the
 * distribution model. */
typedef struct {
    const char *what, *c51, *bd;
    int full; /* also the bare updates (random CartPole transitions), C51 against SGEMM and the grid fields */
} bench_pair;

static int load_pair(const char *c51_path, const char *bd_path, char **sets, int n_sets, exp_config *c,
                     exp_config *b)
{
    bdrl_err e;
    if (exp_load(c, c51_path, NULL, 0, &e) || exp_load(b, bd_path, sets, n_sets, &e)) {
        fprintf(stderr, "bench_agents: %s (run from the source tree)\n", e.msg);
        return -1;
    }
    if (c->agent.kind != agent_kind_find("c51") || b->agent.kind != agent_kind_find("bd")) {
        fprintf(stderr, "bench_agents: %s must be a c51 config and %s a bd config\n", c51_path, bd_path);
        return -1;
    }
    return 0;
}

/* ---- MinAtar (issue 22 §4) ---- */

static const char *const mn_games[] = {"breakout", "seaquest"};
static const char *const mn_agents[] = {"dqn", "c51", "qrdqn", "iqn", "bd"};
enum { MN_GAMES = 2, MN_AGENTS = 5, MN_C51 = 1, MN_DQN = 0 };

/* The loop's window. With train.checkpoint_seconds > 0 the trainer asks its
 * clock once when it starts and once after every step (train.h,
 * train_options.clock); minatar_loop sets it to a time no run reaches, so
 * this clock sees every step without changing the run: it opens the window
 * (CPU time, the GEMM counter) once `warm` steps are done, and asks the
 * trainer to stop once the window has lasted `secs` of CPU time. */
static struct {
    int64_t calls, warm, end;
    double secs, c0, c1, flops;
    volatile sig_atomic_t stop;
} win;

static double window_clock(void)
{
    int64_t t = win.calls++; /* steps done */
    if (t == win.warm) {
        gemm_flops = 0;
        gemm_counting = 1;
        win.c0 = cpu_now();
    } else if (t > win.warm && !win.stop) {
        double c = cpu_now();
        if (c - win.c0 >= win.secs) {
            gemm_counting = 0;
            win.c1 = c;
            win.end = t;
            win.flops = gemm_flops;
            win.stop = 1;
        }
    }
    return wall_now();
}

typedef struct {
    double sps;          /* environment steps per CPU second in the window */
    double mflop_counted; /* GEMM MFLOP per step counted in the window */
} loop_rate;

/* The whole training loop of cfg with an update every `tf` steps: updates
 * from step batch_size + 1 on, ε = 0.05 throughout (the loop's steady
 * state), no evaluation and no checkpoint inside the window. */
static int minatar_loop(const exp_config *base, int tf, double secs, loop_rate *out)
{
    exp_config cfg = *base;
    cfg.train.train_frequency = tf;
    cfg.train.total_steps = 100000000;
    cfg.train.learning_starts = cfg.train.batch_size;
    cfg.train.eps_start = cfg.train.eps_end = 0.05;
    cfg.train.checkpoint_interval = 0;
    cfg.train.checkpoint_seconds = 1000000000000LL;
    cfg.eval.interval = cfg.train.total_steps;
    cfg.eval.episodes = 1;
    memset(&win, 0, sizeof win);
    win.warm = cfg.train.learning_starts + 8 * tf; /* a few updates first: every buffer touched */
    win.secs = secs;
    char dir[] = "/tmp/bench_agents_XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    train_options o = {NULL, &win.stop, 0, 0, NULL, window_clock};
    train_result res;
    bdrl_err e;
    int rc = train_run(&cfg, dir, &o, &res, &e);
    gemm_counting = 0;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_agents: could not remove %s\n", dir);
    if (rc) {
        fprintf(stderr, "bench_agents: %s\n", e.msg);
        return -1;
    }
    if (!win.stop || res.steps != win.end) {
        fprintf(stderr, "bench_agents: the trainer's clock was not asked once per step (window ended at %lld, "
                        "run at %lld): see train_options.clock\n",
                (long long)win.end, (long long)res.steps);
        return -1;
    }
    double n = (double)(win.end - win.warm);
    out->sps = n / (win.c1 - win.c0);
    out->mflop_counted = win.flops / n / 1e6;
    return 0;
}

typedef struct {
    double upd;     /* GEMM MFLOP of one update at the config's batch (update_flops, else counted) */
    double upd_ops; /* agent_ops.update_flops, or -1 if the agent has none */
    double upd_cnt; /* counted on one update */
    double act;     /* counted on one greedy action (B = 1) */
} mn_flops;

/* One update on 32 transitions of random play, and one greedy action, through the counter. */
static int minatar_flops(const exp_config *cfg, mn_flops *f)
{
    bdrl_err e;
    env *en = env_create(&cfg->env, &e);
    rng *init = rng_create((uint64_t)cfg->seed, RNG_STREAM_INIT), *g = rng_create(3, RNG_STREAM_REPLAY);
    agent *a = en ? agent_create(cfg, en, init, &e) : NULL;
    int od = en ? env_obs_dim(en) : 0, B = cfg->train.batch_size;
    replay *rb = a ? replay_create(256, od, &e) : NULL;
    float *obs = malloc(sizeof(float) * (size_t)(od > 0 ? od : 1));
    replay_batch b;
    if (!rb || !obs || replay_batch_create(&b, B, od, &e)) {
        fprintf(stderr, "bench_agents: %s\n", e.msg);
        return -1;
    }
    uint64_t seed = 5;
    memcpy(obs, env_reset(en, &seed), sizeof(float) * (size_t)od);
    for (int i = 0; i < 256; i++) {
        int act = (int)rng_below(g, (uint64_t)env_n_actions(en));
        env_step st = env_do_step(en, act);
        if (replay_add(rb, obs, act, st.reward, st.obs, st.terminated, st.truncated, &e)) {
            fprintf(stderr, "bench_agents: %s\n", e.msg);
            return -1;
        }
        memcpy(obs, st.terminated || st.truncated ? env_reset(en, NULL) : st.obs, sizeof(float) * (size_t)od);
    }
    replay_sample(rb, g, B, &b);
    agent_batch v = replay_batch_view(&b, NULL);
    agent_stats st;
    int act, rc = 0;
    gemm_flops = 0;
    gemm_counting = 1;
    rc |= agent_update(a, &v, &st, &e);
    f->upd_cnt = gemm_flops / 1e6;
    gemm_flops = 0;
    rc |= agent_greedy(a, obs, &act, &e);
    f->act = gemm_flops / 1e6;
    gemm_counting = 0;
    if (rc)
        fprintf(stderr, "bench_agents: %s\n", e.msg);
    f->upd_ops = a->ops->update_flops ? a->ops->update_flops(a, B) / 1e6 : -1;
    f->upd = f->upd_ops >= 0 ? f->upd_ops : f->upd_cnt;
    replay_batch_free(&b);
    replay_free(rb);
    free(obs);
    agent_free(a);
    env_free(en);
    rng_free(init);
    rng_free(g);
    return rc ? -1 : 0;
}

/* A python3 that imports torch: $BDRL_TORCH_PYTHON, else python3, else
 * /usr/bin/python3 (Debian's python3-torch, when python3 on PATH is
 * another interpreter); NULL if none. */
static const char *torch_python(void)
{
    static char buf[512];
    const char *cands[] = {getenv("BDRL_TORCH_PYTHON"), "python3", "/usr/bin/python3"};
    for (int i = 0; i < 3; i++) {
        if (!cands[i] || !*cands[i] || strchr(cands[i], '\''))
            continue;
        char cmd[600];
        snprintf(cmd, sizeof cmd, "'%s' -c 'import torch' >/dev/null 2>&1", cands[i]);
        if (system(cmd) == 0) {
            snprintf(buf, sizeof buf, "%s", cands[i]);
            return buf;
        }
    }
    return NULL;
}

/* torch_minatar.py's results: steps/s per game, agent (dqn, c51) and optimizer (adam, rmsprop). */
typedef struct {
    double sps[MN_GAMES][2][2];
    char env_kind[MN_GAMES][64];
    int ok;
} torch_rates;

static void run_torch(double secs, torch_rates *tr)
{
    memset(tr, 0, sizeof *tr);
    const char *py = torch_python();
    if (!py) {
        printf("\nPyTorch reference: skipped (no python3 here imports torch; on Debian: apt-get install "
               "python3-torch, or point BDRL_TORCH_PYTHON at a python that has it)\n");
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' bench/torch_minatar.py --seconds %g 2>&1", py, secs);
    printf("\nPyTorch reference (%s, after bdrl's loops, same process tree): %s\n", py, cmd);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) {
        printf("  could not start it\n");
        return;
    }
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        printf("  | %s", line);
        char game[64], ag[16], opt[16], ek[64];
        double sps;
        if (sscanf(line, "RESULT game=%63s agent=%15s optimizer=%15s steps_per_s=%lf env=%63s", game, ag, opt, &sps,
                   ek) != 5)
            continue;
        for (int gi = 0; gi < MN_GAMES; gi++) {
            if (strcmp(game, mn_games[gi]))
                continue;
            int ai = !strcmp(ag, "c51") ? 1 : !strcmp(ag, "dqn") ? 0 : -1;
            int oi = !strcmp(opt, "rmsprop") ? 1 : !strcmp(opt, "adam") ? 0 : -1;
            if (ai >= 0 && oi >= 0) {
                tr->sps[gi][ai][oi] = sps;
                snprintf(tr->env_kind[gi], sizeof tr->env_kind[gi], "%s", ek);
                tr->ok = 1;
            }
        }
    }
    int st = pclose(p);
    if (st != 0)
        printf("  (it exited with status %d)\n", st);
}

static int c51_only;

static int minatar_section(double secs, double peak, int torch)
{
    static loop_rate r[MN_GAMES][MN_AGENTS][2];
    static mn_flops f[MN_GAMES][MN_AGENTS];
    for (int gi = 0; gi < MN_GAMES; gi++)
        for (int ai = 0; ai < MN_AGENTS; ai++) {
            if (c51_only && ai != MN_C51)
                continue;
            char path[256];
            snprintf(path, sizeof path, "configs/minatar/%s_%s.yaml", mn_games[gi], mn_agents[ai]);
            exp_config c;
            bdrl_err e;
            if (exp_load(&c, path, NULL, 0, &e)) {
                fprintf(stderr, "bench_agents: %s (run from the source tree)\n", e.msg);
                return 2;
            }
            if (minatar_flops(&c, &f[gi][ai]) || minatar_loop(&c, 1, secs, &r[gi][ai][0]) ||
                minatar_loop(&c, c.train.train_frequency, secs, &r[gi][ai][1]))
                return 1;
        }
    printf("\nMinAtar (configs/minatar/<game>_<agent>.yaml: conv [16] 3x3 valid -> dense 128 -> head, batch 32, "
           "Adam;\nthe whole training loop, eps 0.05; CPU time; GEMM FLOPs as above; each ratio against c51 "
           "of this run)\n");
    printf("%-18s %9s %9s | %-40s | %s\n", "", "MFLOP", "MFLOP", "an update every step", "every 4 steps (shipped)");
    printf("%-18s %9s %9s | %8s %8s %7s %6s %6s | %8s %7s %6s %6s\n", "", "update", "act", "steps/s", "MFLOP/st",
           "GFLOP/s", "SGEMM", "/c51", "steps/s", "GFLOP/s", "SGEMM", "/c51");
    for (int gi = 0; gi < MN_GAMES; gi++)
        for (int ai = 0; ai < MN_AGENTS; ai++) {
            if (c51_only && ai != MN_C51)
                continue;
            const mn_flops *q = &f[gi][ai];
            const loop_rate *a1 = &r[gi][ai][0], *a4 = &r[gi][ai][1], *c1 = &r[gi][MN_C51][0],
                            *c4 = &r[gi][MN_C51][1];
            double m1 = q->upd + q->act, m4 = q->upd / 4 + q->act, g1 = a1->sps * m1 / 1e3, g4 = a4->sps * m4 / 1e3;
            char name[40];
            snprintf(name, sizeof name, "%s %s", mn_games[gi], mn_agents[ai]);
            printf("%-18s %9.2f %9.3f | %8.0f %8.2f %7.1f %6.3f %6.2f | %8.0f %7.1f %6.3f %6.2f\n", name, q->upd,
                   q->act, a1->sps, m1, g1, g1 / peak, a1->sps / c1->sps, a4->sps, g4, g4 / peak, a4->sps / c4->sps);
        }
    printf("  MFLOP update: agent_ops.update_flops (dqn, c51), else counted on one update (qrdqn, iqn, bd);\n"
           "  MFLOP/st = update / train_frequency + the acting forward. Checks, counted in the loops' windows\n"
           "  (eps-greedy skips 5%% of the acting forwards) and on one update:\n");
    for (int gi = 0; gi < MN_GAMES; gi++)
        for (int ai = 0; ai < MN_AGENTS; ai++) {
            if (c51_only && ai != MN_C51)
                continue;
            const mn_flops *q = &f[gi][ai];
            printf("    %-8s %-6s loop MFLOP/step counted %.2f (every step), %.2f (every 4); one update counted "
                   "%.2f%s\n",
                   mn_games[gi], mn_agents[ai], r[gi][ai][0].mflop_counted, r[gi][ai][1].mflop_counted, q->upd_cnt,
                   q->upd_ops >= 0 ? (fabs(q->upd_cnt - q->upd_ops) <= 1e-6 * q->upd_ops ? " = update_flops"
                                                                                         : " (update_flops differs)")
                                   : "");
        }
    for (int gi = 0; gi < MN_GAMES; gi++) {
        const mn_flops *q = &f[gi][MN_C51];
        double g1 = r[gi][MN_C51][0].sps * (q->upd + q->act) / 1e3;
        printf("  %s c51, an update every step: %.0f steps/s, %.2f of SGEMM for its FLOPs; >= 1/2: %s\n",
               mn_games[gi], r[gi][MN_C51][0].sps, g1 / peak, g1 >= peak / 2 ? "met" : "MISSED");
    }
    if (!torch)
        return 0;
    torch_rates tr;
    run_torch(secs, &tr);
    if (!tr.ok) {
        printf("  no PyTorch figures: no ratio\n");
        return 0;
    }
    printf("\nbdrl against PyTorch (one thread each, the same network, batch 32, an update every step)\n");
    for (int gi = 0; gi < MN_GAMES; gi++) {
        double bc = r[gi][MN_C51][0].sps, bd = r[gi][MN_DQN][0].sps;
        double tc = tr.sps[gi][1][0], td = tr.sps[gi][0][0], tdr = tr.sps[gi][0][1];
        printf("  %-8s (torch on %s)\n", mn_games[gi], tr.env_kind[gi][0] ? tr.env_kind[gi] : "-");
        if (tc > 0)
            printf("    c51 Adam:      bdrl %6.0f, torch %6.0f steps/s: %.2fx; >= 2.5x: %s\n", bc, tc, bc / tc,
                   bc >= 2.5 * tc ? "met" : "MISSED");
        if (td > 0 && !c51_only)
            printf("    dqn Adam:      bdrl %6.0f, torch %6.0f steps/s: %.2fx\n", bd, td, bd / td);
        if (tdr > 0 && !c51_only)
            printf("    dqn (torch RMSprop, MinAtar's own; bdrl Adam): torch %6.0f steps/s, bdrl %.2fx\n", tdr,
                   bd / tdr);
    }
    return 0;
}

/* ---- components (issue 21 §5) ---- */

/* Rainbow's five components one at a time on C51, all five, and every other
 * agent plain and with all five, each at configs/cartpole_c51.yaml's settings
 * (the other agents' twins: configs/twins/cartpole_<agent>.yaml and
 * configs/cartpole_bd.yaml, every shared key at C51's value). */
#define ALL5 "agent.n_step=3", "replay.prioritized=true", "replay.alpha=0.5", "replay.beta=0.4", \
             "agent.double=true", "agent.dueling=true", "agent.noisy=true", "agent.noisy_sigma0=0.5"
typedef struct {
    const char *name, *path;
    char *sets[8];
    int n_sets;
    int plain; /* index of the same agent's plain variant (itself if plain) */
} comp_variant;

static const comp_variant comp_variants[] = {
    {"c51 plain", "configs/cartpole_c51.yaml", {NULL}, 0, 0},
    {"c51 + n_step 3", "configs/cartpole_c51.yaml", {"agent.n_step=3"}, 1, 0},
    {"c51 + prioritized a0.5 b0.4", "configs/cartpole_c51.yaml",
     {"replay.prioritized=true", "replay.alpha=0.5", "replay.beta=0.4"}, 3, 0},
    {"c51 + double", "configs/cartpole_c51.yaml", {"agent.double=true"}, 1, 0},
    {"c51 + dueling", "configs/cartpole_c51.yaml", {"agent.dueling=true"}, 1, 0},
    {"c51 + noisy s0 0.5", "configs/cartpole_c51.yaml", {"agent.noisy=true", "agent.noisy_sigma0=0.5"}, 2, 0},
    {"c51 all five (rainbow)", "configs/cartpole_rainbow.yaml", {NULL}, 0, 0},
    {"dqn plain", "configs/twins/cartpole_dqn.yaml", {NULL}, 0, 7},
    {"dqn all five", "configs/twins/cartpole_dqn.yaml", {ALL5}, 8, 7},
    {"qrdqn plain", "configs/twins/cartpole_qrdqn.yaml", {NULL}, 0, 9},
    {"qrdqn all five", "configs/twins/cartpole_qrdqn.yaml", {ALL5}, 8, 9},
    {"iqn plain", "configs/twins/cartpole_iqn.yaml", {NULL}, 0, 11},
    {"iqn all five", "configs/twins/cartpole_iqn.yaml", {ALL5}, 8, 11},
    {"bd plain", "configs/cartpole_bd.yaml", {NULL}, 0, 13},
    {"bd all five", "configs/cartpole_bd.yaml", {ALL5}, 8, 13},
};
enum { COMP_N = sizeof comp_variants / sizeof *comp_variants, COMP_ROUNDS_MAX = 64, COMP_RAINBOW = 6 };

/* The replay holds this many transitions before the measured steps: half of
 * train.buffer_size (100k), the buffer's mean fill over a 100k-step run
 * (sampling, n-step windows and the priority tree then reach across it, as
 * they do in a real run, not across a few hundred cached rows). */
#define COMP_FILL 50000

/* The variants run as coroutines (ucontext), each its own train_run from
 * start to end, so each is measured in its steady state yet all interleaved:
 * the trainer's clock (asked after every step, see window_clock) hands
 * control back to the scheduler after each chunk of CPU time. */
typedef struct {
    ucontext_t ctx;
    char *stack;
    exp_config cfg;
    char dir[32];
    int64_t calls, warm, t0;
    int round, rounds, in_chunk, finished, rc;
    double chunk, c0;
    double sps[COMP_ROUNDS_MAX];
    volatile sig_atomic_t stop;
    char why[sizeof ((bdrl_err *)0)->msg];
} comp_coro;

static ucontext_t comp_sched;
static comp_coro *comp_cur;

static double comp_clock(void)
{
    comp_coro *c = comp_cur;
    int64_t t = c->calls++; /* steps done */
    if (t < c->warm || c->stop)
        return wall_now();
    double now = cpu_now();
    if (!c->in_chunk) {
        c->in_chunk = 1;
        c->c0 = now;
        c->t0 = t;
    } else if (now - c->c0 >= c->chunk) {
        c->sps[c->round++] = (double)(t - c->t0) / (now - c->c0);
        if (c->round >= c->rounds)
            c->stop = 1;
        else {
            swapcontext(&c->ctx, &comp_sched);
            c->c0 = cpu_now(); /* resumed: a new chunk from this step on */
            c->t0 = t;
        }
    }
    return wall_now();
}

static void comp_body(void)
{
    comp_coro *c = comp_cur;
    train_options o = {NULL, &c->stop, 0, 0, NULL, comp_clock};
    train_result res;
    bdrl_err e;
    c->rc = train_run(&c->cfg, c->dir, &o, &res, &e);
    if (c->rc)
        snprintf(c->why, sizeof c->why, "%s", e.msg);
    else if (c->round < c->rounds) {
        c->rc = -1;
        snprintf(c->why, sizeof c->why, "the trainer's clock was not asked once per step (train_options.clock)");
    }
    c->finished = 1;
}

/* Each variant's whole training loop at its config's settings but ε 0.05
 * throughout (noisy: ε unused) and no evaluation or checkpoint: acting
 * alone for the first COMP_FILL steps (train.learning_starts), then an
 * update every train.train_frequency = 1 steps; measured from 8 updates on,
 * in CPU time. `rounds` rounds, each running every variant for secs / rounds
 * CPU seconds, the order rotated by one per round. A variant's steps/s is
 * its median over the rounds, its ratio the median over the rounds of
 * steps/s over plain C51's (or its own agent's plain) in the same round: a
 * slow spell of the machine hits both sides. */
static int components_section(double secs)
{
    static comp_coro co[COMP_N];
    const size_t stack = 16u << 20;
    int refused[COMP_N] = {0};
    int rounds = (int)(secs / 0.25 + 0.5);
    if (rounds < 3)
        rounds = 3;
    if (rounds > COMP_ROUNDS_MAX)
        rounds = COMP_ROUNDS_MAX;
    double chunk = secs / rounds;
    for (int v = 0; v < COMP_N; v++) {
        comp_coro *c = &co[v];
        bdrl_err e;
        if (exp_load(&c->cfg, comp_variants[v].path, comp_variants[v].sets, comp_variants[v].n_sets, &e)) {
            if (!comp_variants[v].n_sets) {
                fprintf(stderr, "bench_agents: %s (run from the source tree)\n", e.msg);
                return 2;
            }
            refused[v] = 1;
            snprintf(c->why, sizeof c->why, "%s", e.msg);
            continue;
        }
        exp_config *g = &c->cfg;
        g->train.total_steps = 100000000;
        g->train.learning_starts = COMP_FILL;
        g->train.eps_start = g->train.eps_end = 0.05;
        g->train.checkpoint_interval = 0;
        g->train.checkpoint_seconds = 1000000000000LL; /* the trainer asks comp_clock after every step */
        g->eval.interval = g->train.total_steps;
        g->eval.episodes = 1;
        c->warm = COMP_FILL + 8 * g->train.train_frequency;
        c->rounds = rounds;
        c->chunk = chunk;
        snprintf(c->dir, sizeof c->dir, "/tmp/bench_agents_XXXXXX");
        if (!mkdtemp(c->dir) || !(c->stack = malloc(stack)) || getcontext(&c->ctx)) {
            fprintf(stderr, "bench_agents: no run directory, stack or context\n");
            return 1;
        }
        c->ctx.uc_stack.ss_sp = c->stack;
        c->ctx.uc_stack.ss_size = stack;
        c->ctx.uc_link = &comp_sched;
        makecontext(&c->ctx, comp_body, 0);
    }
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < COMP_N; k++) {
            int v = (k + r) % COMP_N;
            if (refused[v] || co[v].finished)
                continue;
            comp_cur = &co[v];
            if (swapcontext(&comp_sched, &co[v].ctx)) {
                fprintf(stderr, "bench_agents: swapcontext failed\n");
                return 1;
            }
            if (co[v].finished && co[v].rc) {
                if (comp_variants[v].plain == v) {
                    fprintf(stderr, "bench_agents: %s: %s\n", comp_variants[v].name, co[v].why);
                    return 1;
                }
                refused[v] = 1;
            }
        }
    static double sps[COMP_N][COMP_ROUNDS_MAX];
    static char why[COMP_N][sizeof ((bdrl_err *)0)->msg];
    for (int v = 0; v < COMP_N; v++) {
        memcpy(sps[v], co[v].sps, sizeof sps[v]);
        memcpy(why[v], co[v].why, sizeof why[v]);
        free(co[v].stack);
        if (co[v].dir[0]) {
            char cmd[256];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", co[v].dir);
            if (system(cmd) != 0)
                fprintf(stderr, "bench_agents: could not remove %s\n", co[v].dir);
        }
    }
    printf("\nComponents (issue 21 §5): CartPole at configs/cartpole_c51.yaml's settings (torso 4-128-128 ReLU,\n"
           "batch 64, Adam, an update every step); the whole training loop, eps 0.05 (noisy: eps unused), the\n"
           "replay holding %d transitions first (acting only), then an update every step; CPU time; %d rounds,\n"
           "the variants interleaved, %.2f s each per round; steps/s the median over the rounds, each ratio the\n"
           "median of the per-round ratios (min-max beside it)\n",
           COMP_FILL, rounds, chunk);
    printf("%-30s %-38s %9s | %6s %13s %12s | %6s\n", "", "config (+ --set)", "steps/s", "/c51", "(min-max)", "first->last", "/plain");
    double verdict[2] = {0, 0};
    for (int v = 0; v < COMP_N; v++) {
        const comp_variant *cv = &comp_variants[v];
        char cname[64];
        snprintf(cname, sizeof cname, "%s%s", cv->path + strlen("configs/"), cv->n_sets == 8 ? " + all five" :
                 cv->n_sets ? " + the component" : "");
        if (refused[v]) {
            printf("%-30s %-38s refused: %s\n", cv->name, cname, why[v]);
            continue;
        }
        double a[COMP_ROUNDS_MAX], b[COMP_ROUNDS_MAX], c[COMP_ROUNDS_MAX];
        for (int r = 0; r < rounds; r++) {
            a[r] = sps[v][r];
            b[r] = sps[v][r] / sps[0][r];
            c[r] = sps[v][r] / sps[cv->plain][r];
        }
        double first = b[0], last = b[rounds - 1];
        double med = median(a, rounds), rc = median(b, rounds), ro = median(c, rounds);
        /* b is sorted now: its ends are the min and max */
        char range[32], trend[32];
        snprintf(range, sizeof range, "(%.2f-%.2f)", b[0], b[rounds - 1]);
        snprintf(trend, sizeof trend, "%.2f -> %.2f", first, last);
        printf("%-30s %-38s %9.0f | %6.2f %13s %12s | %6.2f\n", cv->name, cname, med, rc, v ? range : "",
               v ? trend : "", cv->plain == v ? 1.0 : ro);
        if (v == 2)
            verdict[0] = rc;
        if (v == COMP_RAINBOW)
            verdict[1] = rc;
    }
    printf("  the components one at a time: --set agent.n_step=3 | replay.prioritized=true replay.alpha=0.5 "
           "replay.beta=0.4 |\n  agent.double=true | agent.dueling=true | agent.noisy=true agent.noisy_sigma0=0.5; "
           "all five: all of these (c51: configs/cartpole_rainbow.yaml);\n  /plain: against the same agent's plain "
           "loop in the same round;\n  first->last: the ratio to c51 in the first and the last round (a drift over the run shows there)\n");
    if (refused[2] || refused[COMP_RAINBOW]) {
        printf("  prioritized or rainbow refused: no verdict\n");
        return 1;
    }
    printf("  c51 + prioritized replay vs plain c51: %.2f, >= 0.87 (at most 15%% added): %s\n", verdict[0],
           verdict[0] >= 0.87 ? "met" : "MISSED");
    printf("  rainbow (c51 all five) vs plain c51:   %.2f, >= 0.6: %s\n", verdict[1],
           verdict[1] >= 0.6 ? "met" : "MISSED");
    return 0;
}

/* ---- QR-DQN and IQN at Dopamine's agent keys ---- */

/* QR-DQN with Dopamine's 200 quantiles (the heaviest quantile loss bdrl
 * ships, as configs/minatar/ does) and IQN with Dopamine's agent keys
 * (N = N' = 64, K = 32, 64 cosine features, as configs/minatar/ and
 * configs/{acrobot,mountaincar}_iqn.yaml), both batch 128 on the torso
 * 4-120-84, against C51 at the same shared keys (configs/bench/cleanrl_c51.yaml),
 * each with an update every step (Dopamine's classic-control cadence): the
 * whole training loop in minatar_loop's window (any config's loop, not only
 * MinAtar's). QT_ROUNDS rounds of the three one after another, secs each;
 * a ratio is the median over the rounds of the agent's steps/s over C51's
 * in the same round (a slow spell of the machine hits both). */
#define QT_SETS(a) ((int)(sizeof(a) / sizeof *(a)))
static char *qt_qrdqn_sets[] = {"agent.kind=qrdqn", "qrdqn.quantiles=200", "qrdqn.kappa=1"};
static char *qt_iqn_sets[] = {"agent.kind=iqn", "iqn.n=64", "iqn.n_prime=64", "iqn.k=32", "iqn.embedding=64",
                              "iqn.kappa=1"};
static const struct {
    const char *path, *label; /* the config file; the table's name for it */
    char *const *sets;        /* overrides on top of it (n_sets) */
    int n_sets;
} qt_variants[] = {
    {"configs/bench/cleanrl_c51.yaml", "bench/cleanrl_c51.yaml", NULL, 0},
    {"configs/bench/cleanrl_c51.yaml", "bench/cleanrl_c51.yaml, 200 quant.", qt_qrdqn_sets, QT_SETS(qt_qrdqn_sets)},
    {"configs/bench/cleanrl_c51.yaml", "bench/cleanrl_c51.yaml, IQN", qt_iqn_sets, QT_SETS(qt_iqn_sets)},
};
enum { QT_N = (int)(sizeof qt_variants / sizeof qt_variants[0]), QT_ROUNDS = 3 };

static int quantile_section(double secs)
{
    static exp_config cfg[QT_N];
    double sps[QT_N][QT_ROUNDS], ratio[QT_N][QT_ROUNDS];
    for (int v = 0; v < QT_N; v++) {
        bdrl_err e;
        if (exp_load(&cfg[v], qt_variants[v].path, qt_variants[v].sets, qt_variants[v].n_sets, &e)) {
            fprintf(stderr, "bench_agents: %s (run from the source tree)\n", e.msg);
            return 2;
        }
    }
    for (int r = 0; r < QT_ROUNDS; r++)
        for (int v = 0; v < QT_N; v++) {
            loop_rate lr;
            if (minatar_loop(&cfg[v], 1, secs, &lr))
                return 1;
            sps[v][r] = lr.sps;
        }
    printf("\nQR-DQN and IQN at Dopamine's agent keys against C51 at the same shared keys (CartPole, torso\n"
           "4-120-84 ReLU, batch 128, Adam), an update every step; the whole training loop, eps 0.05; CPU time;\n"
           "%d rounds of %.2f s each; steps/s the median over the rounds, /c51 the median of the per-round ratios\n",
           QT_ROUNDS, secs);
    printf("%-8s %-32s %9s %9s | %6s %13s\n", "", "config (+ train.train_frequency=1)", "steps/s", "ms/step",
           "/c51", "(min-max)");
    for (int v = 0; v < QT_N; v++) {
        for (int r = 0; r < QT_ROUNDS; r++)
            ratio[v][r] = sps[v][r] / sps[0][r];
        double med = median(sps[v], QT_ROUNDS), rc = median(ratio[v], QT_ROUNDS);
        char range[32] = ""; /* median sorted ratio[v]: its ends are the min and max */
        if (v)
            snprintf(range, sizeof range, "(%.3f-%.3f)", ratio[v][0], ratio[v][QT_ROUNDS - 1]);
        printf("%-8s %-32s %9.1f %9.2f | %6.3f %13s\n", agent_kind_name(cfg[v].agent.kind),
               qt_variants[v].label, med, 1e3 / med, rc, range);
    }
    return 0;
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    double secs = 2.0;
    int only_minatar = 0, only_components = 0, only_quantile = 0, torch = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "minatar"))
            only_minatar = 1;
        else if (!strcmp(argv[i], "notorch"))
            torch = 0;
        else if (!strcmp(argv[i], "c51-only"))
            c51_only = 1;
        else if (!strcmp(argv[i], "components"))
            only_components = 1;
        else if (!strcmp(argv[i], "quantile"))
            only_quantile = 1;
        else if (atof(argv[i]) > 0)
            secs = atof(argv[i]);
        else {
            fprintf(stderr, "usage: bench_agents [seconds] [minatar] [notorch] [c51-only] [components] [quantile]\n");
            return 2;
        }
    }
    static const bench_pair pairs[] = {
        {"CleanRL's c51.py settings (CartPole)", "configs/bench/cleanrl_c51.yaml", "configs/bench/cleanrl_bd.yaml", 1},
        {"FrozenLake 4x4 policy evaluation", "configs/frozenlake4_eval_c51.yaml", "configs/frozenlake4_eval_bd.yaml", 0},
    };
    /* the grid fields (docs/design.md §1.4's prototype recipe), for reference */
    char *grid_sets[] = {"bd.field=grid", "bd.head=[64,64]", "bd.queries=16", "bd.grid=64", "bd.query_grid=0",
                         "bd.jitter=2e-4", "agent.eps_kernel=1e-3"};
    if (only_components)
        return components_section(secs);
    if (only_quantile)
        return quantile_section(secs);
    double peak = sgemm_gflops(secs);
    printf("agents benchmark (single thread, float32, CPU time; each BD figure against C51's in this run)\n");
    printf("%-52s %12s %10s %10s %14s\n", "", "updates/s", "GFLOP/s", "vs SGEMM", "env steps/s");
    printf("%-52s %12s %10.1f %10s %14s\n", "sgemm 2048^3", "-", peak, "1.00", "-");
    if (only_minatar)
        return minatar_section(secs, peak, torch);
    int ok_all = 1;
    for (size_t p = 0; p < sizeof pairs / sizeof *pairs; p++) {
        exp_config c, b, g;
        bdrl_err e;
        int full = pairs[p].full;
        if (load_pair(pairs[p].c51, pairs[p].bd, NULL, 0, &c, &b))
            return 2;
        if (full && exp_load(&g, pairs[p].bd, grid_sets, 7, &e)) {
            fprintf(stderr, "bench_agents: %s\n", e.msg);
            return 2;
        }
        upd_rate uc = {0}, ub = {0}, ug = {0};
        if (full && (agent_updates(&c, secs, &uc) || agent_updates(&b, secs, &ub) || agent_updates(&g, secs, &ug)))
            return 1;
        /* ~ secs of training loop at the expected rate */
        int64_t steps = (int64_t)(secs * (c.train.train_frequency > 1 ? 10000 : 2000));
        if (steps < 4000)
            steps = 4000;
        double cc, cw, bc, bw, gc = 0, gw;
        if (full_loop(&c, steps, &cc, &cw) || full_loop(&b, steps / 2, &bc, &bw) ||
            (full && full_loop(&g, steps / 8, &gc, &gw)))
            return 1;
        printf("\n%s: %s against %s\n", pairs[p].what, pairs[p].bd, pairs[p].c51);
        if (full) {
            printf("%-52s %12.0f %10.1f %10.2f %14s\n", "  c51 update (sample+fwd x2+bwd+Adam)", uc.updates_per_s,
                   uc.gflops, uc.gflops / peak, "-");
            printf("%-52s %12.0f %10s %10s %14s\n", "  bd update", ub.updates_per_s, "-", "-", "-");
        }
        printf("%-52s %12s %10s %10s %14.0f\n", "  c51 full training loop", "-", "-", "-", cc);
        printf("%-52s %12s %10s %10s %14.0f\n", "  bd full training loop", "-", "-", "-", bc);
        if (full) {
            printf("%-52s %12.0f %10s %10s %14.0f\n", "  bd grid fields, prototype recipe (update, loop)",
                   ug.updates_per_s, "-", "-", gc);
            printf("  GEMM work per c51 update: %.2f MFLOP (8BS - 2B n0 n1); c51 update rate >= 1/2 of SGEMM: %.2f, %s\n",
                   uc.mflop, uc.gflops / peak, uc.gflops >= peak / 2 ? "met" : "MISSED");
            printf("  bd updates/s vs c51: %.2f; grid fields: %.2f\n", ub.updates_per_s / uc.updates_per_s,
                   ug.updates_per_s / uc.updates_per_s);
        }
        printf("  bd loop steps/s vs c51: %.2f, >= 1/2: %s\n", bc / cc, bc >= cc / 2 ? "met" : "MISSED");
        if (full)
            printf("  grid fields loop vs c51: %.2f\n", gc / cc);
        ok_all &= bc >= cc / 2;
    }
    printf("\nbd loop >= 1/2 of c51's in every pair: %s\n", ok_all ? "met" : "MISSED");
    return minatar_section(secs, peak, torch);
}
