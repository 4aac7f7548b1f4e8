/* contract.c — the one way library code ends the process: an environment
 * (plugin or Python) that broke its contract while a run was stepping it. */
#include "env_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void env_contract_exit(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *q = msg; *q; q++)
        if (*q == '\n')
            *q = ' ';
    fprintf(stderr, "bdrl: %s\n", msg);
    exit(2);
}
