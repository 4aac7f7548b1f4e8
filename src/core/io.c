#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int io_join(char *out, size_t n, const char *dir, const char *name, bdrl_err *e)
{
    int k = snprintf(out, n, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= n)
        return err_set(e, "path too long: %s/%s", dir, name);
    return 0;
}

int io_is_temporary(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    return t && strlen(t) == strlen(IO_TMP_SUFFIX);
}

int io_atomic_open(io_atomic *a, const char *path, bdrl_err *e)
{
    a->f = NULL;
    int k = snprintf(a->path, sizeof a->path, "%s", path);
    if (k < 0 || (size_t)k >= sizeof a->path)
        return err_set(e, "path too long: %s", path);
    k = snprintf(a->tmp, sizeof a->tmp, "%s" IO_TMP_SUFFIX, path);
    if (k < 0 || (size_t)k >= sizeof a->tmp)
        return err_set(e, "path too long: %s", path);
    int fd = mkstemp(a->tmp);
    if (fd < 0)
        return err_set(e, "cannot create %s: %s", a->tmp, strerror(errno));
    a->f = fdopen(fd, "w");
    if (!a->f) {
        int saved = errno;
        close(fd);
        unlink(a->tmp);
        return err_set(e, "cannot open %s: %s", a->tmp, strerror(saved));
    }
    return 0;
}

static void fsync_parent_dir(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    int fd = open(dirname(buf), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int io_atomic_commit(io_atomic *a, bdrl_err *e)
{
    if (!a->f)
        return err_set(e, "%s: not open", a->path);
    int bad = ferror(a->f) || fflush(a->f) != 0 || fsync(fileno(a->f)) != 0;
    int saved = errno;
    /* mkstemp creates 0600; results should be readable like ordinary files. */
    mode_t um = umask(0);
    umask(um);
    fchmod(fileno(a->f), 0666 & ~um);
    if (fclose(a->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    a->f = NULL;
    if (bad) {
        unlink(a->tmp);
        return err_set(e, "cannot write %s: %s", a->path, strerror(saved));
    }
    if (rename(a->tmp, a->path) != 0) {
        saved = errno;
        unlink(a->tmp);
        return err_set(e, "cannot rename %s to %s: %s", a->tmp, a->path, strerror(saved));
    }
    fsync_parent_dir(a->path);
    return 0;
}

void io_atomic_abort(io_atomic *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
        unlink(a->tmp);
    }
}

int io_write_file_atomic(const char *path, const void *data, size_t n, bdrl_err *e)
{
    io_atomic a;
    if (io_atomic_open(&a, path, e))
        return -1;
    if (n && fwrite(data, 1, n, a.f) != n) {
        int saved = errno;
        io_atomic_abort(&a);
        return err_set(e, "cannot write %s: %s", path, strerror(saved)); /* e.g. no space left on device */
    }
    return io_atomic_commit(&a, e);
}

/* The rest of an open stream (closed here) as io_read_file returns it. */
static char *read_all(FILE *f, const char *path, size_t *len, bdrl_err *e)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        err_set(e, "out of memory reading %s", path);
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                err_set(e, "out of memory reading %s", path);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, f);
        n += k;
        if (k == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        err_set(e, "cannot read %s", path);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

char *io_read_file(const char *path, size_t *len, bdrl_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    return read_all(f, path, len, e);
}

char *io_read_regular_file(const char *path, size_t *len, bdrl_err *e)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer; the type is then checked on what was opened (no race with a
     * rename between a stat and the open). */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_set(e, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        err_set(e, "%s: not a regular file", path);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) ? NULL : fdopen(fd, "rb");
    if (!f) {
        int saved = errno;
        close(fd);
        err_set(e, "cannot open %s: %s", path, strerror(saved));
        return NULL;
    }
    return read_all(f, path, len, e);
}

int io_mkdirs(const char *path, bdrl_err *e)
{
    char buf[4096];
    int k = snprintf(buf, sizeof buf, "%s", path);
    if (k < 0 || (size_t)k >= sizeof buf)
        return err_set(e, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set(e, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return err_set(e, "cannot create directory %s: %s", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(e, "%s exists and is not a directory", buf);
    return 0;
}

int io_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}
