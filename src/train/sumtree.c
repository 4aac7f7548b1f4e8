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

/* Many sets and searches level by level: a batch's paths through a large
 * tree miss the cache at almost every level below the top, and one path's
 * misses follow each other; level by level the batch's misses of one level
 * are independent loads the processor overlaps. Each path takes the same
 * steps as alone, so the results are sumtree_set's and sumtree_find's. */
void sumtree_set_many(sumtree *t, int n, const int64_t *i, const double *p)
{
    for (int k = 0; k < n; k++)
        t->node[t->leaves + i[k]] = p[k];
    /* Bottom up: a node is recomputed after every change below it, from
     * its children's final values, as the last sumtree_set through it
     * would; recomputing a node twice (paths that merged) changes nothing. */
    for (int64_t shift = 1, lv = t->leaves / 2; lv >= 1; shift++, lv /= 2)
        for (int k = 0; k < n; k++) {
            int64_t a = (t->leaves + i[k]) >> shift;
            t->node[a] = t->node[2 * a] + t->node[2 * a + 1];
        }
}

void sumtree_find_many(const sumtree *t, int n, double *u, int64_t *out)
{
    for (int k = 0; k < n; k++)
        out[k] = 1;
    for (int64_t lv = 1; lv < t->leaves; lv *= 2)
        for (int k = 0; k < n; k++) {
            /* sumtree_find's step without a branch on random data (u - 0
             * is u, a zero's sign included) */
            int64_t a = out[k];
            const double left = t->node[2 * a], right = t->node[2 * a + 1];
            const int go_right = !(u[k] < left || right <= 0);
            u[k] -= go_right ? left : 0.0;
            out[k] = 2 * a + go_right;
        }
    for (int k = 0; k < n; k++)
        out[k] -= t->leaves;
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
