/* sumtree.h — a sum tree over n non-negative priorities, for prioritized
 * replay (replay.h): O(log n) update of one priority and O(log n) search of
 * the leaf where a prefix sum falls, so that drawing u uniform in
 * [0, total) and searching it draws leaf i with probability p_i / total.
 *
 * Layout: a complete binary tree of `leaves` = the smallest power of two
 * >= n leaves in one array (node k's children are 2k and 2k + 1, the root
 * is node 1, leaf i is node leaves + i; leaves past n stay 0). A power of
 * two keeps the leaves in index order under the root, so prefix sums are
 * over leaves 0, 1, 2, ... in order (a heap over n leaves that is not a
 * power of two would visit them rotated).
 *
 * Every update recomputes each ancestor as the sum of its two children
 * (not by adding a difference), so the tree is a pure function of its
 * leaves: no rounding drift accumulates over millions of updates, and a
 * tree rebuilt from its saved leaves equals the original bit for bit.
 *
 * Memory: the tree owns its node array (sumtree_free); 2 x leaves doubles,
 * about 16 bytes per leaf up to 32 (sumtree_bytes).
 */
#ifndef BDRL_SUMTREE_H
#define BDRL_SUMTREE_H

#include <stdint.h>

#include "core/err.h"

typedef struct {
    int64_t n;       /* priorities */
    int64_t leaves;  /* smallest power of two >= n */
    double *node;    /* (2 leaves); node[0] unused, node[1] the total */
} sumtree;

/* n >= 1 priorities, all 0. */
sumtree *sumtree_create(int64_t n, bdrl_err *e);
void sumtree_free(sumtree *t);
/* The bytes sumtree_create(n) allocates (the memory estimate). */
double sumtree_bytes(int64_t n);

/* Sets priority i (0 <= i < n) to p (finite, >= 0; the caller's contract). */
void sumtree_set(sumtree *t, int64_t i, double p);
static inline double sumtree_get(const sumtree *t, int64_t i) { return t->node[t->leaves + i]; }
static inline double sumtree_total(const sumtree *t) { return t->node[1]; }

/* The leaf i whose prefix interval [p_0 + .. + p_{i-1}, p_0 + .. + p_i)
 * holds u, for 0 <= u < total (the total must be > 0). Where rounding
 * would lead into a subtree of sum 0 (u at or past the total, or at the
 * boundary of an empty subtree), the search turns to its sibling, so the
 * leaf returned always has a priority > 0. */
int64_t sumtree_find(const sumtree *t, double u);

/* sumtree_set of p[k] at i[k] for k = 0..n-1 in order (a repeated i: the
 * last p), and sumtree_find of every u[k] (n, clobbered) into out (n): the
 * same tree and leaves bit for bit, faster for a batch on a large tree. */
void sumtree_set_many(sumtree *t, int n, const int64_t *i, const double *p);
void sumtree_find_many(const sumtree *t, int n, double *u, int64_t *out);

/* Recomputes every inner node from the leaves (after the leaves were
 * written directly, e.g. when loading them). */
void sumtree_rebuild(sumtree *t);

#endif
