/* fuzz_util.h — shared by the libFuzzer harnesses (fuzz/fuzz_*.c) and by
 * tests/test_fuzz_corpus.c, which replays every corpus and regression input
 * through the same functions in `make test`.
 *
 * The loaders under test take paths, so an input is handed to them as an
 * anonymous in-memory file (memfd) named /proc/self/fd/N: no disk, no
 * temporary files left behind.
 */
#ifndef BDRL_FUZZ_UTIL_H
#define BDRL_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/err.h"

/* A harness's verdict on a broken invariant: print it and abort, so
 * libFuzzer saves the input and the test fails. */
#define FUZZ_CHECK(cond, ...)                                                    \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "fuzz invariant failed: %s: ", #cond);               \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            abort();                                                             \
        }                                                                        \
    } while (0)

/* An in-memory file holding data; path receives its name. Returns the fd
 * (close it after use) or -1. */
static inline int fuzz_memfile(const void *data, size_t n, char *path, size_t cap)
{
    int fd = (int)syscall(SYS_memfd_create, "bdrl-fuzz", 0u);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t k = write(fd, p, left);
        if (k <= 0) {
            close(fd);
            return -1;
        }
        p += k;
        left -= (size_t)k;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

/* Error messages are one line and not empty. */
static inline void fuzz_check_message(const bdrl_err *e)
{
    FUZZ_CHECK(e->msg[0] != '\0', "empty error message");
    FUZZ_CHECK(!strchr(e->msg, '\n'), "multi-line error message: %s", e->msg);
}

#endif
