/* contract.c — the one way library code ends the process: an environment
 * (plugin or Python) that broke its contract while a run was stepping it;
 * and the fatal hook (env.h) called first, so the process's owner (the
 * trainer: summary.json) can record why. */
#include "env_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static volatile env_fatal_hook fatal_hook;

void env_set_fatal_hook(env_fatal_hook hook) { fatal_hook = hook; }
env_fatal_hook env_fatal_hook_get(void) { return fatal_hook; }

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
    env_fatal_hook hook = fatal_hook;
    if (hook)
        hook(msg);
    exit(2);
}
