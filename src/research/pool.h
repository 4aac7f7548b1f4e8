/* pool.h — runs K child processes at most J at a time (compare, sweep).
 *
 * Each job is a command line for the bdrl binary itself (default
 * /proc/self/exe: the binary that is running), e.g. {"train", CONFIG, "--set",
 * ..., "--out", DIR, "--quiet"}. A child runs in its own process group (so a
 * Ctrl-C at the terminal reaches only the parent, which forwards it once:
 * every child then checkpoints and stops cleanly), with stdin from /dev/null
 * and stdout + stderr appended to the job's log file, and dies with its
 * parent (PR_SET_PDEATHSIG: a killed sweep leaves no orphan writing into its
 * run directories). After a stop no new job starts.
 *
 * Memory: the caller owns the jobs and their strings; pool_run only fills in
 * status and seconds.
 */
#ifndef BDRL_POOL_H
#define BDRL_POOL_H

#include <signal.h>
#include <stdio.h>

#include "core/err.h"

#define POOL_NOT_RUN (-1)

typedef struct {
    const char *name;        /* shown in progress and failure lines */
    char *const *argv;       /* arguments after the program name, NULL-terminated */
    const char *log;         /* the child's stdout and stderr (appended); NULL: /dev/null */
    int status;              /* out: exit status, 128 + signal, or POOL_NOT_RUN */
    double seconds;          /* out: wall time */
} pool_job;

typedef struct {
    int jobs;                        /* at most this many at once; <= 0: online cores */
    FILE *progress;                  /* one line per finished job; NULL: quiet */
    volatile sig_atomic_t *stop;     /* non-zero (a signal number): forward it, start nothing new */
    const char *exe;                 /* NULL: the running binary (/proc/self/exe) */
} pool_options;

/* Runs the n jobs. Returns 0 when every started job has ended (check each
 * status: 0 = success), -1 if a child could not be started (fork/exec
 * failure is reported with the job's name). *n_failed (may be NULL) receives
 * the number of jobs that ran and did not exit 0. */
int pool_run(pool_job *jobs, int n, const pool_options *o, int *n_failed, bdrl_err *e);

/* A growable NULL-terminated argument vector of malloc'ed strings. */
typedef struct {
    char **v;
    int n, cap;
    int bad;   /* an allocation failed */
} pool_argv;

void pool_argv_add(pool_argv *a, const char *s);
void pool_argv_free(pool_argv *a);

/* Number of online cores (>= 1). */
int pool_ncpu(void);

/* "exit 1", "killed by signal 9 (SIGKILL)", "interrupted (SIGINT)"... */
void pool_describe_status(int status, char *buf, size_t n);

#endif
