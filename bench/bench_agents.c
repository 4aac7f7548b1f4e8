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
 * FLOP counts: only the GEMMs' multiply-adds, 2·M·N·K per GEMM. With layer
 * sizes n_0..n_L and S = Σ_l n_l·n_{l+1}, one C51 update at batch B is
 *   target forward 2BS + online forward 2BS + dW 2BS + dA (all layers but
 *   the first) 2B(S − n_0 n_1)  =  8BS − 2B n_0 n_1
 * (c51_update_flops). Softmax, projection, Adam and sampling are real time
 * but no counted FLOPs, so they can only lower the reported rate. Each
 * update figure is the median over short chunks.
 *
 * Usage: bench_agents [seconds per measurement, default 2]; run from the
 * source tree (it reads the configs above).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    if (!(secs > 0))
        secs = 2.0;
    static const bench_pair pairs[] = {
        {"CleanRL's c51.py settings (CartPole)", "configs/bench/cleanrl_c51.yaml", "configs/bench/cleanrl_bd.yaml", 1},
        {"FrozenLake 4x4 policy evaluation", "configs/frozenlake4_eval_c51.yaml", "configs/frozenlake4_eval_bd.yaml", 0},
    };
    /* the grid fields (docs/design.md §1.4's prototype recipe), for reference */
    char *grid_sets[] = {"bd.field=grid", "bd.head=[64,64]", "bd.queries=16", "bd.grid=64", "bd.query_grid=0",
                         "bd.jitter=2e-4", "agent.eps_kernel=1e-3"};
    double peak = sgemm_gflops(secs);
    printf("agents benchmark (single thread, float32, CPU time; each BD figure against C51's in this run)\n");
    printf("%-52s %12s %10s %10s %14s\n", "", "updates/s", "GFLOP/s", "vs SGEMM", "env steps/s");
    printf("%-52s %12s %10.1f %10s %14s\n", "sgemm 2048^3", "-", peak, "1.00", "-");
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
    return 0;
}
