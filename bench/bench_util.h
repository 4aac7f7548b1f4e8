/* bench_util.h — what every benchmark shares: CPU-time clocks, medians over
 * short chunks, and the machine's large-SGEMM rate measured in the same run
 * (the reference every FLOP rate is quoted against). Header-only: each
 * benchmark is one standalone program. */
#ifndef BDRL_BENCH_UTIL_H
#define BDRL_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

#include <cblas.h>

#include "core/rng.h"

/* CPU time of this (single-threaded) process: the machine's two cores are
 * shared, and wall time would charge us for other jobs' time slices. Each
 * figure is the median over short chunks, which also discards chunks slowed
 * by a neighbour competing for the FPU or the caches. */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double wall_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAX_CHUNKS 4096

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double sgemm_gflops(double secs)
{
    const int n = 2048;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    rng *r = rng_create(1, 1);
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)rng_uniform(r) - 0.5f;
        b[i] = (float)rng_uniform(r) - 0.5f;
    }
    static double rates[MAX_CHUNKS];
    int k = 0;
    double t_end = wall_now() + secs;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    do {
        double t = cpu_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t = cpu_now() - t;
        rates[k++] = 2.0 * n * n * (double)n / t / 1e9;
    } while ((wall_now() < t_end || k < 3) && k < MAX_CHUNKS);
    double best = median(rates, k);
    free(a);
    free(b);
    free(c);
    rng_free(r);
    return best;
}


#endif
