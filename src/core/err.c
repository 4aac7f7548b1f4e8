#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages are one line even when they quote user input (a key with a
 * newline in it, a binary file's bytes): control characters become '?'. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = *s == '\t' ? ' ' : '?';
}

int err_set(bdrl_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    one_line(e->msg);
    return -1;
}

int err_prefix(bdrl_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char head[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t n = strlen(head);
    if (n > sizeof e->msg - 3)
        n = sizeof e->msg - 3;
    memcpy(e->msg, head, n);
    memcpy(e->msg + n, ": ", 2);
    size_t room = sizeof e->msg - n - 3, k = strlen(old);
    if (k > room)
        k = room;
    memcpy(e->msg + n + 2, old, k);
    e->msg[n + 2 + k] = '\0';
    one_line(e->msg);
    return -1;
}

void *err_malloc(size_t size, bdrl_err *e)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        err_set(e, "out of memory allocating %zu bytes", size);
    return p;
}

void *err_calloc(size_t count, size_t size, bdrl_err *e)
{
    if (size && count > (size_t)-1 / size) {
        err_set(e, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        err_set(e, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}
