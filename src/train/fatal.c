/* fatal.c — the failed summary written from the environment's fatal hook;
 * see fatal.h. */
#include "train/fatal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"
#include "envs/env.h"

_Static_assert(sizeof FATAL_TMP_SUFFIX == sizeof IO_TMP_SUFFIX, "a resume removes the hook's temporary");

static char *head, *tail;                 /* the text before and after the mark */
static char path_final[4096], path_tmp[4096];
static volatile sig_atomic_t armed;

static void write_all(int fd, const char *p, size_t n, int *bad)
{
    while (n > 0 && !*bad) {
        ssize_t k = write(fd, p, n);
        if (k <= 0) {
            *bad = 1;
            return;
        }
        p += k;
        n -= (size_t)k;
    }
}

static size_t len(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* The hook: async-signal-safe calls only (open, write, fsync, close,
 * rename, unlink), no allocation. */
static void on_fatal(const char *reason)
{
    if (!armed)
        return;
    int fd = open(path_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    int bad = 0;
    write_all(fd, head, len(head), &bad);
    /* the reason as JSON string content: quotes and backslashes escaped,
     * control characters dropped (a reason is one line) */
    char buf[256];
    size_t k = 0;
    for (const char *c = reason; *c && !bad; c++) {
        if ((unsigned char)*c < 0x20)
            continue;
        if (*c == '"' || *c == '\\')
            buf[k++] = '\\';
        buf[k++] = *c;
        if (k >= sizeof buf - 2) {
            write_all(fd, buf, k, &bad);
            k = 0;
        }
    }
    write_all(fd, buf, k, &bad);
    write_all(fd, tail, len(tail), &bad);
    bad |= fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (bad || rename(path_tmp, path_final) != 0)
        unlink(path_tmp);
}

int fatal_arm(const char *path, const char *json, bdrl_err *e)
{
    const char *mark = strstr(json, FATAL_REASON_MARK);
    if (!mark)
        return err_set(e, "internal: the failed summary has no place for the reason");
    size_t nh = (size_t)(mark - json);
    char *h = malloc(nh + 1), *t = strdup(mark + strlen(FATAL_REASON_MARK));
    if (!h || !t) {
        free(h);
        free(t);
        return err_set(e, "out of memory");
    }
    memcpy(h, json, nh);
    h[nh] = '\0';
    int k1 = snprintf(path_final, sizeof path_final, "%s", path);
    int k2 = snprintf(path_tmp, sizeof path_tmp, "%s" FATAL_TMP_SUFFIX, path);
    if (k1 < 0 || k2 < 0 || (size_t)k2 >= sizeof path_tmp) {
        free(h);
        free(t);
        armed = 0;
        return err_set(e, "path too long: %s", path);
    }
    armed = 0; /* the hook ignores the texts while they change */
    free(head);
    free(tail);
    head = h;
    tail = t;
    armed = 1;
    env_set_fatal_hook(on_fatal);
    return 0;
}

void fatal_disarm(void)
{
    env_set_fatal_hook(NULL);
    armed = 0;
    free(head);
    free(tail);
    head = tail = NULL;
}
