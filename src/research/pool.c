#include "research/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int pool_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)(n > 4096 ? 4096 : n) : 1;
}

void pool_describe_status(int status, char *buf, size_t n)
{
    if (status == POOL_NOT_RUN)
        snprintf(buf, n, "not run");
    else if (status == 130)
        snprintf(buf, n, "interrupted (exit 130, SIGINT)");
    else if (status == 143)
        snprintf(buf, n, "terminated (exit 143, SIGTERM)");
    else if (status >= 256)
        snprintf(buf, n, "killed by signal %d", status - 256);
    else
        snprintf(buf, n, "exit %d", status);
}

/* Child side: never returns. Only async-signal-safe calls between fork and
 * exec would be strictly required in a threaded parent; bdrl is single-threaded. */
static void child(const char *exe, const pool_job *j, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before prctl took effect */
        _exit(127);
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int in = open("/dev/null", O_RDONLY);
    if (in >= 0) {
        dup2(in, 0);
        close(in);
    }
    int fd = open(j->log ? j->log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    int argc = 0;
    while (j->argv[argc])
        argc++;
    char **av = calloc((size_t)argc + 2, sizeof *av);
    if (!av)
        _exit(127);
    av[0] = (char *)"bdrl";
    for (int i = 0; i < argc; i++)
        av[i + 1] = j->argv[i];
    execv(exe, av);
    dprintf(2, "bdrl: cannot run %s: %s\n", exe, strerror(errno));
    _exit(127);
}

int pool_run(pool_job *jobs, int n, const pool_options *o, int *n_failed, bdrl_err *e)
{
    int J = o && o->jobs > 0 ? o->jobs : pool_ncpu();
    FILE *prog = o ? o->progress : NULL;
    volatile sig_atomic_t *stop = o ? o->stop : NULL;
    /* A fork's /proc/self/exe is the parent's binary even if its file was
     * replaced (a rebuild) or removed since: every run uses the same code. */
    char exe[PATH_MAX];
    snprintf(exe, sizeof exe, "%s", o && o->exe ? o->exe : "/proc/self/exe");
    for (int i = 0; i < n; i++) {
        jobs[i].status = POOL_NOT_RUN;
        jobs[i].seconds = 0;
    }
    pid_t *pid = calloc((size_t)(n ? n : 1), sizeof *pid);
    double *t0 = calloc((size_t)(n ? n : 1), sizeof *t0);
    if (!pid || !t0) {
        free(pid);
        free(t0);
        return err_set(e, "out of memory");
    }
    int next = 0, running = 0, done = 0, failed = 0, rc = 0, forwarded = 0;
    pid_t self = getpid();
    for (;;) {
        int stopping = stop && *stop;
        if (stopping && !forwarded) {
            for (int i = 0; i < n; i++)
                if (pid[i] > 0)
                    kill(pid[i], (int)*stop);
            forwarded = 1;
        }
        while (!stopping && !rc && running < J && next < n) {
            pool_job *j = &jobs[next];
            fflush(NULL);
            pid_t p = fork();
            if (p < 0) {
                rc = err_set(e, "%s: cannot start: %s", j->name, strerror(errno));
                break;
            }
            if (p == 0)
                child(exe, j, self);
            pid[next] = p;
            t0[next] = now_s();
            running++;
            next++;
        }
        if (running == 0)
            break;
        int st;
        pid_t w = waitpid(-1, &st, WNOHANG);
        if (w < 0 && errno != EINTR) {
            rc = err_set(e, "waiting for runs: %s", strerror(errno));
            break;
        }
        if (w <= 0) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        int i;
        for (i = 0; i < n && pid[i] != w; i++)
            ;
        if (i == n)
            continue; /* not ours */
        pid[i] = 0;
        running--;
        done++;
        pool_job *j = &jobs[i];
        j->seconds = now_s() - t0[i];
        j->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 256 + WTERMSIG(st) : 255;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
            rc = err_set(e, "%s: could not run %s (see %s)", j->name, exe, j->log ? j->log : "its output");
        if (j->status != 0)
            failed++;
        if (prog) {
            char d[96];
            pool_describe_status(j->status, d, sizeof d);
            if (j->status == 0)
                fprintf(prog, "[%d/%d] %s done in %.1f s\n", done, n, j->name, j->seconds);
            else
                fprintf(prog, "[%d/%d] %s FAILED: %s%s%s\n", done, n, j->name, d, j->log ? "; log: " : "",
                        j->log ? j->log : "");
            fflush(prog);
        }
    }
    free(pid);
    free(t0);
    if (n_failed)
        *n_failed = failed;
    return rc;
}

void pool_argv_add(pool_argv *a, const char *s)
{
    if (a->bad)
        return;
    if (a->n + 2 > a->cap) {
        int cap = a->cap ? 2 * a->cap : 16;
        char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v) {
            a->bad = 1;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    if (!(a->v[a->n] = strdup(s))) {
        a->bad = 1;
        return;
    }
    a->v[++a->n] = NULL;
}

void pool_argv_free(pool_argv *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}
