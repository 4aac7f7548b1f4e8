/* bench_fields — throughput of the fields module against the machine's own
 * large-SGEMM rate, all measured in one run (single thread):
 *   (a) cblas_sgemm 2048³
 *   (b) a field training step: forward + input-JVP, backward with double
 *       backprop (loss containing ẏ), Adam — on a 3×128 tanh MLP at batch 256
 *   (c) plain forward + backward (no tangents) of the same MLP
 *   (d) the same training step on a SiLU MLP, for comparison
 *   (e) MinAtar's torso (10x10xC image -> conv C->16 3x3 -> relu -> 1024 ->
 *       dense 128 -> relu) training step at batch 32, C = 4 and C = 10:
 *       forward, backward without the input gradient (nothing consumes it
 *       in training), Adam with clipping
 *
 * FLOP counts (stated honestly): only the GEMMs' multiply-adds are counted,
 * 2·M·N·K per GEMM; the elementwise work (activations, bias, Adam) is real
 * time but no counted FLOPs, so it can only lower the reported rate.
 * With layer sizes n_0..n_L and S = Σ_l n_l·n_{l+1}:
 *   (b) per layer: [z; ż] (2B rows), dW (K = 2B), [da; dȧ] (2B rows, not for
 *       the first layer, whose input needs no gradient):
 *       12·B·S − 4·B·n_0·n_1
 *   (c) the same with B rows: 6·B·S − 2·B·n_0·n_1
 * Input width 33 = Fourier features of u (K = 16), output 1: S = 37120, so
 * (b) = 109.7 MFLOP and (c) = 54.9 MFLOP per step at B = 256. Adam (with
 * gradient-norm clipping on) is inside (b)'s time.
 * (e) counts mlp_flops(spec, 32, 1): the forward's two GEMMs, the
 * backward's dK, dW and the dense layer's input adjoint (into the conv):
 * for C = 4: conv 2·32·64·36·16 = 2.36 MFLOP, dense 2·32·1024·128 = 8.39
 * MFLOP, so 2·2.36 + 3·8.39 = 29.9 MFLOP per step; C = 10 (conv 5.90): 37.0.
 * Times are CPU times, each figure the median over short chunks (see
 * cpu_now).
 *
 * Usage: bench_fields [seconds per measurement, default 1.5]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "core/rng.h"
#include "fields/adam.h"
#include "fields/mlp.h"

#include "bench_util.h"
typedef struct {
    double steps_per_s, gflops, mflop_per_step;
} rate;

/* One network at work: mode 0 a field training step (JVP + double
 * backprop + Adam), 1 forward + backward, 2 a torso training step
 * (forward, backward, Adam; outputs (B, n_out)). */
typedef struct {
    mlp *m;
    adam *o;
    real *x, *xd, *dy, *dyd;
    int B, mode;
} job;

static void job_step(job *j)
{
    mlp *m = j->m;
    int B = j->B, no = mlp_n_out(m);
    mlp_zero_grad(m);
    if (j->mode == 0) {
        const real *y = mlp_forward_jvp(m, B, j->x, j->xd);
        /* adjoints of a loss of the L̂_grad form: mean y² + c·ẏ */
        for (int i = 0; i < B; i++) {
            j->dy[i] = 2 * y[i] / B;
            j->dyd[i] = (real)0.3 / B;
        }
        mlp_backward(m, j->dy, j->dyd, NULL, NULL);
        adam_step_mlp(j->o, m);
    } else if (j->mode == 1) {
        const real *y = mlp_forward(m, B, j->x);
        for (int i = 0; i < B; i++)
            j->dy[i] = 2 * y[i] / B;
        mlp_backward(m, j->dy, NULL, NULL, NULL);
    } else {
        const real *y = mlp_forward(m, B, j->x);
        for (int i = 0; i < B * no; i++)
            j->dy[i] = (y[i] - (real)0.5) / B;
        mlp_backward(m, j->dy, NULL, NULL, NULL); /* no input gradient: nothing consumes it */
        adam_step_mlp(j->o, m);
    }
}

/* The job's rate in steps per CPU second (median over chunks of 20), and
 * its GEMM rate for `flops` per step. */
static rate measure(job *j, double flops, double secs)
{
    static double rates[MAX_CHUNKS];
    int nch = 0;
    double t_end = wall_now() + secs;
    do {
        double t0 = cpu_now();
        for (int k = 0; k < 20; k++)
            job_step(j);
        rates[nch++] = 20 / (cpu_now() - t0);
    } while ((wall_now() < t_end || nch < 3) && nch < MAX_CHUNKS);
    double sps = median(rates, nch);
    rate out = {sps, flops * sps / 1e9, flops / 1e6};
    return out;
}

/* A job on spec sp, a fixed batch of B inputs (binary: 1 with probability
 * 0.1, else 0, as MinAtar's images; otherwise uniform in [-1, 1]); Adam
 * with clipping. */
static job job_make(const mlp_spec *sp, int B, int mode, int binary, rng *r)
{
    job j = {mlp_create(sp, B, r, NULL), NULL, NULL, NULL, NULL, NULL, B, mode};
    adam_config cfg = adam_defaults();
    cfg.clip_norm = 10;
    j.o = adam_create(j.m->n_params, &cfg, NULL);
    int ni = mlp_n_in(j.m), no = mlp_n_out(j.m);
    j.x = malloc(sizeof(real) * B * ni);
    j.xd = malloc(sizeof(real) * B * ni);
    j.dy = malloc(sizeof(real) * B * no);
    j.dyd = malloc(sizeof(real) * B * no);
    for (int i = 0; i < B * ni; i++) {
        j.x[i] = binary ? (real)(rng_uniform(r) < 0.1) : (real)(2 * rng_uniform(r) - 1);
        j.xd[i] = (real)(2 * rng_uniform(r) - 1);
    }
    return j;
}

static void job_free(job *j)
{
    free(j->x);
    free(j->xd);
    free(j->dy);
    free(j->dyd);
    adam_free(j->o);
    mlp_free(j->m);
}

/* (b)-(d): mode 0 training step (JVP + double backprop + Adam); 1: forward + backward */
static rate run(mlp_act act, int mode, double secs)
{
    const int B = 256, n_in = 33;
    mlp_spec sp;
    mlp_spec_make(&sp, act, n_in, 128, 128, 128, 1, 0);
    rng *r = rng_create(7, RNG_STREAM_INIT);
    job j = job_make(&sp, B, mode, 0, r);
    double S = 0;
    for (int l = 0; l < sp.n_layers; l++)
        S += (double)sp.sizes[l] * sp.sizes[l + 1];
    double first = (double)sp.sizes[0] * sp.sizes[1];
    double flops = mode == 0 ? 12.0 * B * S - 4.0 * B * first : 6.0 * B * S - 2.0 * B * first;
    rate out = measure(&j, flops, secs);
    job_free(&j);
    rng_free(r);
    return out;
}

/* (e): MinAtar's torso with C input channels, one training step per
 * iteration on a fixed batch of 0/1 images (MinAtar's observations). */
static rate run_conv(int C, double secs)
{
    mlp_spec sp;
    mlp_conv cv = {1, 10, 10, C, 3, {16}};
    int dense[1] = {128};
    mlp_spec_make_conv(&sp, MLP_RELU, &cv, 1, dense);
    sp.out_act = MLP_RELU; /* the torso: its embedding after the activation */
    rng *r = rng_create(7, RNG_STREAM_INIT);
    job j = job_make(&sp, 32, 2, 1, r);
    rate out = measure(&j, mlp_flops(&sp, 32, 1), secs);
    job_free(&j);
    rng_free(r);
    return out;
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    double secs = argc > 1 ? atof(argv[1]) : 1.5;
    if (!(secs > 0))
        secs = 1.5;
    const int B = 256;
    double peak = sgemm_gflops(secs);
    rate tr = run(MLP_TANH, 0, secs), fb = run(MLP_TANH, 1, secs), ts = run(MLP_SILU, 0, secs);
    rate c4 = run_conv(4, secs), c10 = run_conv(10, secs);
    printf("fields benchmark (single thread, float32, MLP 33-128-128-128-1, batch %d)\n", B);
    printf("%-48s %12s %12s %10s\n", "", "samples/s", "GFLOP/s", "vs SGEMM");
    printf("%-48s %12s %12.1f %10s\n", "(a) sgemm 2048^3", "-", peak, "1.00");
    printf("%-48s %12.0f %12.1f %10.2f\n", "(b) train step tanh: fwd+JVP, double backprop, Adam",
           tr.steps_per_s * B, tr.gflops, tr.gflops / peak);
    printf("%-48s %12.0f %12.1f %10.2f\n", "(c) plain fwd+bwd tanh", fb.steps_per_s * B, fb.gflops,
           fb.gflops / peak);
    printf("%-48s %12.0f %12.1f %10.2f\n", "(d) train step silu", ts.steps_per_s * B, ts.gflops,
           ts.gflops / peak);
    printf("%-48s %12.0f %12.1f %10.2f\n", "(e) MinAtar torso C=4: conv+dense, bwd, Adam, B=32",
           c4.steps_per_s * 32, c4.gflops, c4.gflops / peak);
    printf("%-48s %12.0f %12.1f %10.2f\n", "(e) MinAtar torso C=10", c10.steps_per_s * 32, c10.gflops,
           c10.gflops / peak);
    printf("GEMM work per step: (b) %.1f MFLOP, (c) %.1f MFLOP, (e) %.1f and %.1f MFLOP\n", tr.mflop_per_step,
           fb.mflop_per_step, c4.mflop_per_step, c10.mflop_per_step);
    printf("train step: %.0f steps/s; target >= 1/3 of (a): %s\n", tr.steps_per_s,
           tr.gflops >= peak / 3 ? "met" : "MISSED");
    return 0;
}
