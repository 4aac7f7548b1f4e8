/* provenance.c — which build and machine produced a result (provenance.h). */
#include "core/provenance.h"

#include <stdio.h>
#include <string.h>

/* OpenBLAS's own queries (cblas.h declares them, but including it here would
 * pull the whole BLAS interface into a module that needs two names). */
char *openblas_get_corename(void);
char *openblas_get_config(void);

void provenance_cpu(char *out, size_t n)
{
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (!v)
            break;
        v += strspn(v + 1, " \t") + 1;
        size_t len = strcspn(v, "\n");
        if (len)
            snprintf(out, n, "%.*s", (int)len, v);
        break;
    }
    fclose(f);
}

const char *provenance_blas_core(void) { return openblas_get_corename(); }

const char *provenance_blas_config(void) { return openblas_get_config(); }
