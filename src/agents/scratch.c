/* scratch.c — an agent's scratch buffers as one table; see scratch.h. */
#include "agents/scratch.h"

#include <stdlib.h>

static void **slot(void *owner, const scratch_row *r) { return (void **)((char *)owner + r->off); }

int scratch_alloc(void *owner, const scratch_row *t, int n, bdrl_err *e)
{
    for (int i = 0; i < n; i++)
        if (!(*slot(owner, &t[i]) = err_calloc(t[i].count, t[i].elem, e)))
            return -1;
    return 0;
}

void scratch_free(void *owner, const scratch_row *t, int n)
{
    for (int i = 0; i < n; i++) {
        free(*slot(owner, &t[i]));
        *slot(owner, &t[i]) = NULL;
    }
}

double scratch_bytes(const scratch_row *t, int n)
{
    double bytes = 0;
    for (int i = 0; i < n; i++)
        bytes += (double)t[i].count * (double)t[i].elem;
    return bytes;
}
