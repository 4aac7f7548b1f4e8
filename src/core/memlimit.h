/* memlimit.h — the memory limit every job is checked against before it
 * allocates anything (a training run: train/limits.h; a fit: gen/fit.c).
 *
 * The limit is BDRL_MAX_MEMORY (bytes, or with a suffix K, M, G or T, powers
 * of 1024; an optional trailing B) if set, else the machine's physical
 * memory. A job above it is refused with its estimate, its largest part and
 * the keys to change.
 */
#ifndef BDRL_MEMLIMIT_H
#define BDRL_MEMLIMIT_H

#include "core/err.h"

/* The limit in bytes; -1 with a message if BDRL_MAX_MEMORY is malformed or
 * absurd (not a finite size of at most 2^60 bytes). */
int memlimit_max_bytes(double *bytes, bdrl_err *e);

/* 0 if `bytes` is within the limit; else -1 with a message such as "the
 * configuration needs about 41.0 GiB (replay buffer 40.2 GiB), more than the
 * limit of 23.4 GiB (physical memory; set BDRL_MAX_MEMORY to change it):
 * lower train.buffer_size". `what` names the job, `largest` its biggest part,
 * `hint` the keys to lower. */
int memlimit_check_bytes(const char *what, double bytes, const char *largest, double largest_bytes,
                         const char *hint, bdrl_err *e);

#endif
