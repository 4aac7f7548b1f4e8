/* common.c — process-wide set-up and exit statuses shared by every subcommand. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

void cli_init(void)
{
    /* One seed reproduces a run bit for bit only with single-threaded BLAS;
     * parallelism comes from running several runs at once (DESIGN §3). */
    openblas_set_num_threads(1);
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
