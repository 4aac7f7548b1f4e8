/* blasmem.c — see blasmem.h. */
#include "fields/blasmem.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cblas.h>

/* Bytes the process maps now (/proc/self/statm's first field), or -1. */
static double mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    unsigned long pages = 0;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    return ok ? (double)pages * (double)sysconf(_SC_PAGESIZE) : -1;
}

int blasmem_reserve(bdrl_err *e)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        double limit = (double)rl.rlim_cur, mapped = mapped_bytes();
        double need = (mapped > 0 ? mapped : 0) + BLASMEM_BUFFER_BYTES + BLASMEM_MARGIN_BYTES;
        if (limit < need)
            return err_set(e,
                           "the address-space limit (ulimit -v) is %.0f MiB, below the %.0f MiB bdrl needs before "
                           "any work (%.0f MiB mapped, OpenBLAS's %.0f MiB work buffer, %.0f MiB of margin); raise "
                           "it to at least ulimit -v %.0f, or remove it",
                           limit / 1048576, need / 1048576, mapped / 1048576, BLASMEM_BUFFER_BYTES / 1048576,
                           BLASMEM_MARGIN_BYTES / 1048576, need / 1024);
    }
    /* A product too big for OpenBLAS's small-matrix kernels (they need no
     * buffer; 0.3.21 allows them up to 100^3 multiply-adds): it takes the
     * buffer now, and keeps it for every later call. */
    enum { N = 256 };
    static float a[N * N], c[N * N];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, a, N, 0.0f, c, N);
    return 0;
}
