/* bench_agents — the agents' training throughput against the machine's own
 * large-SGEMM rate, all measured in one run (single thread):
 *   (a) cblas_sgemm 2048³
 *   (b) C51 updates at CleanRL's c51.py settings (configs/bench/cleanrl_c51.yaml:
 *       CartPole, MLP 4-120-84-202 ReLU, 101 atoms, batch 128, Adam): replay
 *       sample + target forward + online forward + backward + Adam
 *   (c) the full training loop (train_run: ε-greedy acting with a B = 1
 *       forward, environment, replay, an update every 10 steps, target copies)
 *       in environment steps per second, at ε = 0.05 throughout (95% greedy
 *       steps: the loop's steady state after exploration has decayed)
 *   (d) the Bellman Diffusion agent at the same settings
 *       (configs/bench/cleanrl_bd.yaml: same torso, batch, schedule, and
 *       the light BD recipe; its update and the same full loop). Target:
 *       BD's loop at least 1/3 of C51's steps/s, both measured in this run.
 *   (e) the same with DESIGN §1.4's prototype recipe (head [64, 64], 16
 *       query points, grid 64), for reference.
 *
 * FLOP counts: only the GEMMs' multiply-adds, 2·M·N·K per GEMM. With layer
 * sizes n_0..n_L and S = Σ_l n_l·n_{l+1}, one C51 update at batch B is
 *   target forward 2BS + online forward 2BS + dW 2BS + dA (all layers but
 *   the first) 2B(S − n_0 n_1)  =  8BS − 2B n_0 n_1
 * (c51_update_flops). At 4-120-84-202, S = 27528 and B = 128 this is
 * 28.07 MFLOP. Softmax, projection, Adam and sampling are real time but no
 * counted FLOPs, so they can only lower the reported rate.
 * Times are CPU times (the machine is shared), each figure the median over
 * short chunks.
 *
 * Usage: bench_agents [seconds per measurement, default 2] [C51 config, default
 *        configs/bench/cleanrl_c51.yaml] [BD config, default
 *        configs/bench/cleanrl_bd.yaml]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "agents/agent.h"
#include "agents/c51.h"
#include "agents/replay.h"
#include "agents/train.h"
#include "core/rng.h"

#include "bench_util.h"

/* cpu_now, wall_now, median and sgemm_gflops come from bench_util.h. */

typedef struct {
    double updates_per_s, gflops, mflop;
} upd_rate;

/* (b), (d): updates on a buffer of random CartPole transitions. */
static int agent_updates(const exp_config *cfg, double secs, upd_rate *out)
{
    bd_err e;
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
        int act = (int)rng_below(g, 2);
        env_step st = env_do_step(en, act);
        replay_add(rb, obs, act, st.reward, st.obs, st.terminated, st.truncated);
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
    out->mflop = a->kind == AGENT_C51 ? c51_update_flops(a, B) / 1e6 : 0;
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
    train_options o = {NULL, NULL, 0, 0, NULL};
    train_result res;
    bd_err e;
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

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    if (!(secs > 0))
        secs = 2.0;
    const char *path = argc > 2 ? argv[2] : "configs/bench/cleanrl_c51.yaml";
    const char *bd_path = argc > 3 ? argv[3] : "configs/bench/cleanrl_bd.yaml";
    exp_config cfg, bd_cfg, proto_cfg;
    bd_err e;
    /* (e): the same BD config with DESIGN §1.4's prototype recipe */
    char *proto_sets[] = {"bd.head=[64,64]", "bd.queries=16", "bd.grid=64", "bd.query_grid=0"};
    if (exp_load(&cfg, path, NULL, 0, &e) || exp_load(&bd_cfg, bd_path, NULL, 0, &e) ||
        exp_load(&proto_cfg, bd_path, proto_sets, 4, &e)) {
        fprintf(stderr, "bench_agents: %s (run from the source tree, or pass the configs)\n", e.msg);
        return 2;
    }
    if (cfg.agent.kind != AGENT_C51 || bd_cfg.agent.kind != AGENT_BD) {
        fprintf(stderr, "bench_agents: %s must be a c51 config and %s a bd config\n", path, bd_path);
        return 2;
    }
    double peak = sgemm_gflops(secs);
    upd_rate c51, bd, proto;
    if (agent_updates(&cfg, secs, &c51) || agent_updates(&bd_cfg, secs, &bd) ||
        agent_updates(&proto_cfg, secs, &proto))
        return 1;
    /* ~ secs of training loop at the expected rate */
    int64_t steps = (int64_t)(secs * 10000);
    if (steps < 20000)
        steps = 20000;
    double sps_cpu, sps_wall, bd_cpu, bd_wall, pr_cpu, pr_wall;
    if (full_loop(&cfg, steps, &sps_cpu, &sps_wall) || full_loop(&bd_cfg, steps / 2, &bd_cpu, &bd_wall) ||
        full_loop(&proto_cfg, steps / 8, &pr_cpu, &pr_wall))
        return 1;

    printf("agents benchmark (single thread, float32; %s: CartPole, MLP 4-120-84-%d ReLU,\n"
           "%d atoms, batch %d, an update every %d steps)\n",
           path, 2 * cfg.c51.atoms, cfg.c51.atoms, cfg.train.batch_size, cfg.train.train_frequency);
    printf("%-44s %12s %10s %10s %14s\n", "", "updates/s", "GFLOP/s", "vs SGEMM", "env steps/s");
    printf("%-44s %12s %10.1f %10s %14s\n", "(a) sgemm 2048^3", "-", peak, "1.00", "-");
    printf("%-44s %12.0f %10.1f %10.2f %14s\n", "(b) c51 update (sample+fwd x2+bwd+Adam)", c51.updates_per_s,
           c51.gflops, c51.gflops / peak, "-");
    printf("%-44s %12s %10s %10s %14.0f\n", "(c) c51 full training loop, cpu time", "-", "-", "-", sps_cpu);
    printf("%-44s %12s %10s %10s %14.0f\n", "    (same, wall time)", "-", "-", "-", sps_wall);
    /* BD: its FLOPs are not counted (grids, queries, two networks); the
     * comparison that matters to users is steps/s at the same settings. */
    printf("%-44s %12.0f %10s %10s %14s\n", "(d) bd update (targets on grids, 2 fields)", bd.updates_per_s, "-",
           "-", "-");
    printf("%-44s %12s %10s %10s %14.0f\n", "    bd full training loop, cpu time", "-", "-", "-", bd_cpu);
    printf("%-44s %12s %10s %10s %14.0f\n", "    (same, wall time)", "-", "-", "-", bd_wall);
    printf("%-44s %12.0f %10s %10s %14s\n", "(e) bd, prototype recipe: update", proto.updates_per_s, "-", "-", "-");
    printf("%-44s %12s %10s %10s %14.0f\n", "    full training loop, cpu time", "-", "-", "-", pr_cpu);
    printf("GEMM work per c51 update: %.2f MFLOP (8BS - 2B n0 n1)\n", c51.mflop);
    printf("c51 update rate >= 1/2 of (a): %.2f, %s\n", c51.gflops / peak, c51.gflops >= peak / 2 ? "met" : "MISSED");
    printf("bd updates/s vs c51: %.2f; bd loop steps/s vs c51 (cpu): %.2f, >= 1/3: %s\n",
           bd.updates_per_s / c51.updates_per_s, bd_cpu / sps_cpu, bd_cpu >= sps_cpu / 3 ? "met" : "MISSED");
    printf("prototype recipe (head [64,64], 16 queries, grid 64): loop steps/s vs c51 (cpu): %.2f\n",
           pr_cpu / sps_cpu);
    return 0;
}
