/* common.c — process-wide set-up shared by every subcommand. */
#include <cblas.h>

#include "cli/cli.h"

void cli_init(void)
{
    /* One seed reproduces a run bit for bit only with single-threaded BLAS;
     * parallelism comes from running several runs at once (DESIGN §3). */
    openblas_set_num_threads(1);
}
