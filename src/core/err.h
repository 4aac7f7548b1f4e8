/* err.h — error reporting for library code.
 *
 * Library functions never print and never exit. A function that can fail takes
 * a `bdrl_err *` as its last argument and returns 0 on success or -1 on failure,
 * after writing one line (no trailing newline) into err->msg. The command line
 * prints that line and chooses the exit status. A NULL `bdrl_err *` is allowed
 * and simply discards the message.
 */
#ifndef BDRL_ERR_H
#define BDRL_ERR_H

#include <stddef.h>

typedef struct {
    char msg[1024];
} bdrl_err;

/* Writes the formatted message and returns -1, so callers can write
 * `return err_set(e, "...")`. */
int err_set(bdrl_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with "prefix: " (e.g. a file name). Returns -1. */
int err_prefix(bdrl_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* malloc/calloc that report failure through err (size in bytes, count*size
 * checked for overflow). Return NULL on failure. */
void *err_malloc(size_t size, bdrl_err *e);
void *err_calloc(size_t count, size_t size, bdrl_err *e);

#endif
