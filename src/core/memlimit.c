/* memlimit.c — BDRL_MAX_MEMORY and the byte check; see memlimit.h. */
#include "core/memlimit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int memlimit_max_bytes(double *bytes, bdrl_err *e)
{
    const char *s = getenv("BDRL_MAX_MEMORY");
    if (s && *s) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        double mul = 1;
        switch (*end) {
        case 'k': case 'K': mul = 1024.0; end++; break;
        case 'm': case 'M': mul = 1024.0 * 1024; end++; break;
        case 'g': case 'G': mul = 1024.0 * 1024 * 1024; end++; break;
        case 't': case 'T': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
        default: break;
        }
        if (*end == 'B' || *end == 'b')
            end++;
        if (end == s || *end || errno || !(v > 0) || !isfinite(v))
            return err_set(e, "BDRL_MAX_MEMORY='%s': expected a size such as 8G, 512M or 1000000000", s);
        /* 2^60 bytes (1 EiB) is beyond any machine: a larger limit is a typo,
         * and past 2^63 it would not even fit the byte counts it is compared with */
        if (v * mul > 0x1p60)
            return err_set(e, "BDRL_MAX_MEMORY='%s' is over 2^60 bytes (1 EiB); expected a size such as 8G or 512M", s);
        *bytes = v * mul;
        return 0;
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    *bytes = pages > 0 && page > 0 ? (double)pages * (double)page : 16.0 * 1024 * 1024 * 1024;
    return 0;
}

static void fmt_bytes(double b, char *buf, size_t n)
{
    if (b >= 1024.0 * 1024 * 1024)
        snprintf(buf, n, "%.1f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        snprintf(buf, n, "%.1f MiB", b / (1024.0 * 1024));
    else
        snprintf(buf, n, "%.0f KiB", b / 1024.0);
}

int memlimit_check_bytes(const char *what, double bytes, const char *largest, double largest_bytes,
                         const char *hint, bdrl_err *e)
{
    double lim;
    if (memlimit_max_bytes(&lim, e))
        return -1;
    if (bytes <= lim)
        return 0;
    char need[32], big[32], lm[32];
    fmt_bytes(bytes, need, sizeof need);
    fmt_bytes(largest_bytes, big, sizeof big);
    fmt_bytes(lim, lm, sizeof lm);
    const char *env = getenv("BDRL_MAX_MEMORY");
    return err_set(e, "%s needs about %s (%s %s), more than the limit of %s (%s): lower %s", what, need, largest,
                   big, lm, env && *env ? "BDRL_MAX_MEMORY" : "physical memory; set BDRL_MAX_MEMORY to change it",
                   hint);
}
