/* scratch.h — an agent's scratch buffers as one table of sizes.
 *
 * An agent lists its work arrays once, as rows (where the pointer lives in
 * the agent's struct, the element size, the count) computed from the
 * configuration alone; the same rows then drive allocation at create,
 * release at free and the scratch part of the memory estimate, so the three
 * cannot drift apart (llm.c sizes its activation tensors the same way). A
 * row's count may depend on the settings (a buffer only one mode reads is
 * left out of the others' tables); the agent keeps the sizes it built the
 * table from, so free names the same rows create allocated.
 *
 * Used by the basis (bd.c) and grid (bd_grid.c) Bellman Diffusion agents:
 * each has its own sizes struct and table function; only the walks over a
 * table are here.
 */
#ifndef BDRL_SCRATCH_H
#define BDRL_SCRATCH_H

#include <stddef.h>

#include "core/err.h"

/* One buffer: its pointer at byte offset off in the owner struct, count
 * elements of elem bytes. */
typedef struct {
    size_t off, elem, count;
} scratch_row;

/* The row of owner_type's pointer member field: n elements of type. */
#define SCRATCH_ROW(owner_type, field, type, n) \
    ((scratch_row){offsetof(owner_type, field), sizeof(type), (size_t)(n)})

/* Allocates (zeroed, err_calloc) every buffer of rows t[0..n) into owner; -1
 * with err_calloc's message on the first failure (the ones already allocated
 * stay set, for scratch_free). */
int scratch_alloc(void *owner, const scratch_row *t, int n, bdrl_err *e);

/* Frees every buffer of rows t[0..n) in owner and sets its pointer to NULL
 * (one never allocated is NULL already). */
void scratch_free(void *owner, const scratch_row *t, int n);

/* Bytes of rows t[0..n): Σ count · elem. */
double scratch_bytes(const scratch_row *t, int n);

#endif
