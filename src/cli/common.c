/* common.c — process-wide set-up and exit statuses shared by every subcommand. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fields/blasmem.h"

void cli_init(char **argv)
{
    /* Under an address-space limit, OpenBLAS's worker threads, started when
     * it loads, each spin forever on a 128 MiB buffer the limit cannot hold
     * (fields/blasmem.h), and the exit then waits for them. Only the
     * environment stops them from starting, and it is read at load time:
     * so run again with OPENBLAS_NUM_THREADS=1 (the process is replaced,
     * spinning threads and all; once, as the variable is then set). */
    struct rlimit rl;
    const char *t = getenv("OPENBLAS_NUM_THREADS");
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && !(t && !strcmp(t, "1")) &&
        setenv("OPENBLAS_NUM_THREADS", "1", 1) == 0)
        execv("/proc/self/exe", argv); /* returns only on failure: go on, the check below still refuses */
    /* One seed reproduces a run bit for bit only with single-threaded BLAS;
     * parallelism comes from running several runs at once (docs/design.md §3). */
    openblas_set_num_threads(1);
    bdrl_err e;
    if (blasmem_reserve(&e)) {
        fprintf(stderr, "bdrl: %s\n", e.msg);
        fflush(stderr);
        _exit(2); /* not exit: it would wait for any worker thread still spinning */
    }
}

int cli_output_status(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    /* every prefix ending before a '/', then the whole path */
    for (char *p = buf + 1;; p++) {
        if (*p && *p != '/')
            continue;
        char c = *p;
        *p = '\0';
        struct stat st;
        int in_the_way = stat(buf, &st) == 0 && !S_ISDIR(st.st_mode);
        *p = c;
        if (in_the_way)
            return 2;
        if (!c)
            return 1;
    }
}
