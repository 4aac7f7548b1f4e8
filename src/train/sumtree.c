/* sumtree.c — the sum tree of prioritized replay; see sumtree.h. */
#include "train/sumtree.h"

#include <stdlib.h>

static int64_t leaves_for(int64_t n)
{
    int64_t l = 1;
    while (l < n)
        l *= 2;
    return l;
}

double sumtree_bytes(int64_t n) { return n < 1 ? 0 : 2.0 * (double)leaves_for(n) * sizeof(double); }

sumtree *sumtree_create(int64_t n, bdrl_err *e)
{
    if (n < 1) {
        err_set(e, "sum tree: %lld priorities, must be >= 1", (long long)n);
        return NULL;
    }
    sumtree *t = err_calloc(1, sizeof *t, e);
    if (!t)
        return NULL;
    t->n = n;
    t->leaves = leaves_for(n);
    if (!(t->node = err_calloc(2 * (size_t)t->leaves, sizeof(double), e))) {
        free(t);
        return NULL;
    }
    return t;
}

void sumtree_free(sumtree *t)
{
    if (!t)
        return;
    free(t->node);
    free(t);
}

void sumtree_set(sumtree *t, int64_t i, double p)
{
    int64_t k = t->leaves + i;
    t->node[k] = p;
    for (k /= 2; k >= 1; k /= 2)
        t->node[k] = t->node[2 * k] + t->node[2 * k + 1];
}

int64_t sumtree_find(const sumtree *t, double u)
{
    int64_t k = 1;
    while (k < t->leaves) {
        const double left = t->node[2 * k], right = t->node[2 * k + 1];
        /* right == 0: u reached this subtree's end by rounding (or u >=
         * total); its mass is all on the left */
        if (u < left || right <= 0) {
            k = 2 * k;
        } else {
            u -= left;
            k = 2 * k + 1;
        }
    }
    return k - t->leaves;
}

void sumtree_rebuild(sumtree *t)
{
    for (int64_t k = t->leaves - 1; k >= 1; k--)
        t->node[k] = t->node[2 * k] + t->node[2 * k + 1];
}
