/* blasmem.h — OpenBLAS's work buffer against the address-space limit
 * (ulimit -v, RLIMIT_AS).
 *
 * OpenBLAS takes a work buffer of BLASMEM_BUFFER_BYTES the first time a
 * matrix product needs one (Debian 12's 0.3.21 on x86_64: BUFFER_SIZE =
 * 32 << 22 bytes, plus a page), and when neither mmap nor malloc can give
 * it, memory.c retries forever: the process spins at 100% CPU, silent and
 * deaf to SIGTERM (its handler only sets a flag nobody reads again). Each of
 * its worker threads takes one as it starts, at load time; bdrl runs
 * single-threaded BLAS (one seed, one result), so under a limit the CLI
 * runs itself again with OPENBLAS_NUM_THREADS=1 and none start.
 *
 * blasmem_reserve, called once before any job allocates, checks that the
 * limit leaves room for the buffer beside what the process already maps,
 * then makes OpenBLAS take it at once (one small product): later a job too
 * big for the limit fails an ordinary allocation with a message, and never
 * reaches the retry loop.
 */
#ifndef BDRL_BLASMEM_H
#define BDRL_BLASMEM_H

#include "core/err.h"

#define BLASMEM_BUFFER_BYTES ((32.0 * (1 << 22)) + 4096)
/* Room kept beyond the buffer for what a command maps before its own large
 * allocations (stacks, the allocator's first arenas, file buffers). */
#define BLASMEM_MARGIN_BYTES (32.0 * (1 << 20))

/* 0 if there is no address-space limit or it leaves room for the buffer
 * (which is then taken); -1 with one line naming the limit, what is mapped
 * and what OpenBLAS needs otherwise. */
int blasmem_reserve(bdrl_err *e);

#endif
