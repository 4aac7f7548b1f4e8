/* nftw */
#define _XOPEN_SOURCE 700
#include "research/rundir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/io.h"

/* Points just past `"key":` (whitespace skipped), or NULL. */
static const char *find_key(const char *js, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = js; (p = strchr(p, '"')); p++) {
        if (!strncmp(p + 1, key, kl) && p[1 + kl] == '"') {
            const char *q = p + 2 + kl;
            while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                q++;
            if (*q == ':') {
                q++;
                while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
                    q++;
                return q;
            }
        }
    }
    return NULL;
}

int rundir_json_num(const char *js, const char *key, double *out)
{
    const char *q = find_key(js, key);
    if (!q)
        return 0;
    if (!strncmp(q, "null", 4)) {
        *out = NAN;
        return 1;
    }
    char *end;
    double v = strtod(q, &end);
    if (end == q)
        return 0;
    *out = v;
    return 1;
}

int rundir_json_str(const char *js, const char *key, char *buf, size_t n)
{
    const char *q = find_key(js, key);
    if (!q || *q != '"' || n == 0)
        return 0;
    q++;
    size_t j = 0;
    for (; *q && *q != '"'; q++) {
        if (*q == '\\' && q[1])
            q++;
        if (j + 1 < n)
            buf[j++] = *q;
    }
    buf[j] = '\0';
    return 1;
}

int rundir_read_summary(const char *dir, rundir_summary *s, bdrl_err *e)
{
    char path[4096];
    if (io_join(path, sizeof path, dir, RUN_FILE_SUMMARY, e))
        return -1;
    char *js = io_read_file(path, NULL, e);
    if (!js)
        return -1;
    memset(s, 0, sizeof *s);
    rundir_json_str(js, "status", s->status, sizeof s->status);
    rundir_json_str(js, "agent", s->agent, sizeof s->agent);
    rundir_json_str(js, "env", s->env, sizeof s->env);
    rundir_json_str(js, "threshold_on", s->threshold_on, sizeof s->threshold_on);
    double v;
    s->seed = rundir_json_num(js, "seed", &v) && isfinite(v) ? (int64_t)v : -1;
    s->total_steps = rundir_json_num(js, "total_steps", &v) && isfinite(v) ? (int64_t)v : -1;
    s->configured_steps = rundir_json_num(js, "configured_steps", &v) && isfinite(v) ? (int64_t)v : -1;
    double *f[] = {&s->wall_seconds, &s->sps, &s->final_eval_return, &s->best_eval_return, &s->threshold,
                   &s->steps_to_threshold, &s->final_success_rate};
    const char *k[] = {"wall_seconds", "sps", "final_eval_return", "best_eval_return", "threshold",
                       "steps_to_threshold", "final_success_rate"};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (!rundir_json_num(js, k[i], f[i]))
            *f[i] = NAN;
    free(js);
    return 0;
}

int rundir_done(const rundir_summary *s, int64_t total_steps)
{
    return (!strcmp(s->status, "finished") && (total_steps < 0 || s->total_steps == total_steps)) ||
           !strcmp(s->status, "solved");
}

int rundir_complete(const char *dir, int64_t total_steps)
{
    rundir_summary s;
    if (rundir_read_summary(dir, &s, NULL))
        return 0;
    return rundir_done(&s, total_steps);
}

int rundir_config_differs(const char *dir, const exp_config *cfg, char *why, size_t n)
{
    char path[4096];
    if (io_join(path, sizeof path, dir, RUN_FILE_CONFIG, NULL))
        return -1;
    exp_config *run = malloc(sizeof *run);
    if (!run)
        return -1;
    bdrl_err e;
    if (exp_load(run, path, NULL, 0, &e)) {
        snprintf(why, n, "%s", e.msg);
        free(run);
        return -1;
    }
    /* The run recorded its ε decay length when it started; cfg may leave
     * it to eps_fraction (0): compare what both resolve to. */
    exp_config *now = malloc(sizeof *now);
    if (!now) {
        free(run);
        return -1;
    }
    *now = *cfg;
    exp_record_eps_decay(run);
    exp_record_eps_decay(now);
    exp_record_beta_steps(run); /* and β's annealing length, likewise */
    exp_record_beta_steps(now);
    cfg = now;
    int rc = 0;
    for (int i = 0; i < exp_schema.n_keys && !rc; i++) {
        const char *k = exp_schema.keys[i].name;
        if (!strcmp(k, "output.dir"))
            continue;
        char a[4096], b[4096];
        if (cfg_format_value(&exp_schema, run, k, a, sizeof a, NULL) ||
            cfg_format_value(&exp_schema, cfg, k, b, sizeof b, NULL))
            continue;
        if (strcmp(a, b)) {
            snprintf(why, n, "%s is %s there, %s here", k, a, b);
            rc = 1;
        }
    }
    free(run);
    free(now);
    return rc;
}

int rundir_is_lock_file(const char *name) { return !strcmp(name, RUN_FILE_LOCK); }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level == 0)
        return 0; /* keep the directory itself */
    if (ftw->level == 1 && rundir_is_lock_file(path + ftw->base))
        return 0; /* and its lock: another process may be waiting on it */
    return remove(path) ? -1 : 0;
}

/* "pid P on host H" from an open lock file. */
static void lock_holder(int fd, char *who, size_t n)
{
    char buf[512];
    ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
    buf[k > 0 ? k : 0] = '\0';
    long pid = 0;
    char host[256] = "";
    if (sscanf(buf, "%ld %255s", &pid, host) == 2)
        snprintf(who, n, "pid %ld on host %s", pid, host);
    else
        snprintf(who, n, "a process that has not written its pid yet");
}

/* Takes DIR/.lock; a busy lock's message says DIR `doing` by its holder. */
static int lock_dir(const char *dir, const char *doing, int *fd, int *busy, bdrl_err *e)
{
    char path[4096];
    *fd = -1;
    *busy = 0;
    if (io_join(path, sizeof path, dir, RUN_FILE_LOCK, e))
        return -1;
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0)
        return err_set(e, "%s: cannot open the run's lock: %s", path, strerror(errno));
    /* A checker (rundir_locked: sweep --status, a driver's plan) holds it
     * for an instant: retry for about a second before calling it busy. */
    int got = -1, err = 0;
    for (int i = 0; i < 20 && got; i++) {
        if (i) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        got = flock(f, LOCK_EX | LOCK_NB);
        err = errno;
        if (got && err != EWOULDBLOCK)
            break;
    }
    if (got) {
        if (err == EWOULDBLOCK) {
            char who[400];
            lock_holder(f, who, sizeof who);
            close(f);
            *busy = 1;
            return err_set(e, "%s %s by %s (lock %s); wait for it or stop it", dir, doing, who, path);
        }
        close(f);
        return err_set(e, "%s: cannot lock: %s", path, strerror(err));
    }
    char host[256] = "unknown", line[400];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    int len = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), host);
    if (ftruncate(f, 0) || pwrite(f, line, (size_t)len, 0) != len) {
        int err = errno;
        close(f);
        return err_set(e, "%s: cannot write the lock: %s", path, strerror(err));
    }
    *fd = f;
    return 0;
}

int rundir_lock(const char *dir, int *fd, int *busy, bdrl_err *e)
{
    return lock_dir(dir, "is being trained", fd, busy, e);
}

int rundir_lock_output(const char *dir, int *fd, int *busy, bdrl_err *e)
{
    return lock_dir(dir, "is in use (a bdrl compare or sweep writes there)", fd, busy, e);
}

void rundir_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* releases the flock */
}

int rundir_locked(const char *dir, char *who, size_t n)
{
    char path[4096];
    if (io_join(path, sizeof path, dir, RUN_FILE_LOCK, NULL))
        return 0;
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return 0;
    int held = flock(f, LOCK_EX | LOCK_NB) && errno == EWOULDBLOCK;
    if (held)
        lock_holder(f, who, n);
    close(f); /* releases it if we took it */
    return held;
}

int rundir_clear(const char *dir, bdrl_err *e)
{
    if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
        return err_set(e, "%s: cannot clear the partial run: %s", dir, strerror(errno));
    return 0;
}

static int dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 1;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !rundir_is_lock_file(de->d_name))
            n++;
    closedir(d);
    return n == 0;
}

int rundir_plan(const char *dir, const exp_config *cfg, rundir_action *act, bdrl_err *e)
{
    char path[4096], who[512];
    if (rundir_locked(dir, who, sizeof who))
        return err_set(e, "%s is being trained by %s; wait for it or stop it", dir, who);
    if (!io_exists(dir) || dir_empty(dir)) {
        *act = RUNDIR_FRESH;
        return 0;
    }
    if (io_join(path, sizeof path, dir, RUN_FILE_CONFIG, e))
        return -1;
    if (io_exists(path)) {
        char why[1024];
        int d = rundir_config_differs(dir, cfg, why, sizeof why);
        if (d > 0)
            return err_set(e, "%s holds a run of another configuration (%s); use another output directory",
                           dir, why);
        rundir_summary s;
        if (d == 0 && rundir_read_summary(dir, &s, NULL) == 0 &&
            (rundir_done(&s, cfg->train.total_steps) || !strcmp(s.status, "diverged"))) {
            *act = RUNDIR_DONE;
            return 0;
        }
        if (d == 0 && io_join(path, sizeof path, dir, RUN_FILE_CHECKPOINT, e) == 0 && io_exists(path)) {
            *act = RUNDIR_RESUME;
            return 0;
        }
    }
    if (rundir_clear(dir, e))
        return -1;
    *act = RUNDIR_FRESH;
    return 0;
}

const char *const rundir_state_names[RUNDIR_N_STATES] = {"pending", "running", "finished", "diverged", "failed"};

int rundir_state(const char *dir, int64_t total_steps, char queue, rundir_summary *su)
{
    rundir_summary tmp, *s = su ? su : &tmp;
    char who[512];
    int have = rundir_read_summary(dir, s, NULL) == 0;
    if (!have)
        memset(s, 0, sizeof *s);
    if (have && rundir_done(s, total_steps))
        return RUNDIR_FINISHED;
    if (have && !strcmp(s->status, "diverged"))
        return RUNDIR_DIVERGED;
    if (queue == 'R' || rundir_locked(dir, who, sizeof who))
        return RUNDIR_RUNNING;
    if (have && !strcmp(s->status, "failed") && queue != 'P')
        return RUNDIR_FAILED;
    return RUNDIR_PENDING;
}
