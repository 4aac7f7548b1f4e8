/* io.h — files that appear whole or not at all, and directories.
 *
 * Every result a user produced (metrics, summaries, checkpoints, configs) is
 * written through io_atomic: data goes to a temporary file beside the target,
 * is flushed and fsync'ed, then renamed over the target. A crash at any point
 * leaves either the old file or the new one, never a torn one.
 */
#ifndef BDRL_IO_H
#define BDRL_IO_H

#include <stdio.h>

#include "err.h"

/* The temporary of an atomic write of PATH is PATH IO_TMP_SUFFIX, the X's
 * made unique by mkstemp. */
#define IO_TMP_SUFFIX ".tmp.XXXXXX"

/* 1 if a file name has the form of such a temporary (what a killed writer
 * leaves behind). */
int io_is_temporary(const char *name);

typedef struct {
    FILE *f;          /* write here between open and commit */
    char path[4096];  /* final name */
    char tmp[4096];   /* temporary name in the same directory */
} io_atomic;

int io_atomic_open(io_atomic *a, const char *path, bdrl_err *e);
/* Flushes, fsyncs, closes and renames. On failure the temporary is removed. */
int io_atomic_commit(io_atomic *a, bdrl_err *e);
/* Closes and removes the temporary; the target is untouched. */
void io_atomic_abort(io_atomic *a);

/* Writes a whole buffer atomically. */
int io_write_file_atomic(const char *path, const void *data, size_t n, bdrl_err *e);

/* Reads a whole file into a NUL-terminated malloc'ed buffer (caller frees). */
char *io_read_file(const char *path, size_t *len, bdrl_err *e);
/* The same for a file that must be a regular one (a checkpoint, a run's
 * CSVs): anything else (a FIFO, a device, a directory) is refused at once
 * with "PATH: not a regular file", never waited on. */
char *io_read_regular_file(const char *path, size_t *len, bdrl_err *e);

/* mkdir -p. Existing directories are fine. */
int io_mkdirs(const char *path, bdrl_err *e);

/* 1 if the path exists (any type), 0 otherwise. */
int io_exists(const char *path);

/* Joins dir and name into out (size n); returns -1 if it does not fit. */
int io_join(char *out, size_t n, const char *dir, const char *name, bdrl_err *e);

#endif
