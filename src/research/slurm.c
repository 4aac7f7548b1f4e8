/* slurm.c — Slurm job-array scripts and their submission; see slurm.h. */
#include "research/slurm.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io.h"

const char *const slurm_option_keys[] = {"partition", "time",         "cpus_per_task", "mem", "account",
                                         "max_parallel", "requeue", "extra",         NULL};

void slurm_options_init(slurm_options *o)
{
    memset(o, 0, sizeof *o);
    o->cpus_per_task = 1;
    o->requeue = 1;
}

/* Letters, digits and a few punctuation marks: nothing a #SBATCH line or a
 * shell could misread. */
static int plain(const char *v, const char *also)
{
    if (!*v)
        return 0;
    for (const char *p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr(also, *p))
            return 0;
    return 1;
}

static int set_int(const char *key, const char *v, int lo, int hi, int *out, bdrl_err *e)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return err_set(e, "slurm option %s: expected an integer from %d to %d, got '%s'", key, lo, hi, v);
    *out = (int)x;
    return 0;
}

int slurm_option_set(slurm_options *o, const char *key, const char *v, bdrl_err *e)
{
    if (!strcmp(key, "partition") || !strcmp(key, "account")) {
        char *dst = key[0] == 'p' ? o->partition : o->account;
        if (!plain(v, "_-.,") || strlen(v) >= sizeof o->partition)
            return err_set(e, "slurm option %s: expected a name (letters, digits, _-.,), got '%s'", key, v);
        snprintf(dst, sizeof o->partition, "%s", v);
        return 0;
    }
    if (!strcmp(key, "time")) {
        if (!plain(v, ":-") || !isdigit((unsigned char)v[0]) || strlen(v) >= sizeof o->time)
            return err_set(e, "slurm option time: expected minutes or [D-]HH:MM:SS such as 01:30:00, got '%s'", v);
        for (const char *p = v; *p; p++)
            if (isalpha((unsigned char)*p))
                return err_set(e, "slurm option time: expected minutes or [D-]HH:MM:SS such as 01:30:00, got '%s'",
                               v);
        snprintf(o->time, sizeof o->time, "%s", v);
        return 0;
    }
    if (!strcmp(key, "mem")) {
        size_t n = strlen(v), k = strspn(v, "0123456789");
        if (k == 0 || n >= sizeof o->mem || (n > k + 1) || (n == k + 1 && !strchr("KMGT", v[k])))
            return err_set(e, "slurm option mem: expected a size such as 2G, 500M or 4000 (MB), got '%s'", v);
        snprintf(o->mem, sizeof o->mem, "%s", v);
        return 0;
    }
    if (!strcmp(key, "cpus_per_task"))
        return set_int(key, v, 1, 4096, &o->cpus_per_task, e);
    if (!strcmp(key, "max_parallel"))
        return set_int(key, v, 1, 1000000, &o->max_parallel, e);
    if (!strcmp(key, "requeue")) {
        if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
            o->requeue = 1;
        else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
            o->requeue = 0;
        else
            return err_set(e, "slurm option requeue: expected true or false, got '%s'", v);
        return 0;
    }
    if (!strcmp(key, "extra")) {
        const char *line = v;
        if (!strncmp(line, "#SBATCH", 7))
            line += 7;
        while (*line == ' ')
            line++;
        if (line[0] != '-' || strchr(line, '\n') || strchr(line, '\r') || strlen(line) >= sizeof o->extra[0])
            return err_set(e, "slurm option extra: expected an sbatch option such as --qos=low (one line), got '%s'",
                           v);
        if (o->n_extra >= SLURM_MAX_EXTRA)
            return err_set(e, "slurm option extra: at most %d lines", SLURM_MAX_EXTRA);
        snprintf(o->extra[o->n_extra++], sizeof o->extra[0], "%s", line);
        return 0;
    }
    char keys[256] = "";
    for (int i = 0; slurm_option_keys[i]; i++)
        snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", i ? ", " : "", slurm_option_keys[i]);
    return err_set(e, "unknown slurm option '%s' (expected one of: %s)", key, keys);
}

int slurm_option_parse(slurm_options *o, const char *kv, bdrl_err *e)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return err_set(e, "--slurm-opt '%s': expected KEY=VALUE, e.g. partition=short", kv);
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    return slurm_option_set(o, key, eq + 1, e);
}

int slurm_array_spec(const int *idx, int n, char *buf, size_t cap)
{
    size_t k = 0;
    if (cap == 0)
        return -1;
    buf[0] = '\0';
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && idx[j + 1] == idx[j] + 1)
            j++;
        int w = j > i ? snprintf(buf + k, cap - k, "%s%d-%d", k ? "," : "", idx[i], idx[j])
                      : snprintf(buf + k, cap - k, "%s%d", k ? "," : "", idx[i]);
        if (w < 0 || (size_t)w >= cap - k)
            return -1;
        k += (size_t)w;
        i = j + 1;
    }
    return 0;
}

char *slurm_shell_quote(const char *s, char *buf, size_t cap)
{
    if (plain(s, "_-./,:=+@%")) {
        if (strlen(s) >= cap)
            return NULL;
        return strcpy(buf, s);
    }
    size_t k = 0;
#define PUT(c)                                                                                                   \
    do {                                                                                                         \
        if (k + 1 >= cap)                                                                                        \
            return NULL;                                                                                         \
        buf[k++] = (c);                                                                                          \
    } while (0)
    PUT('\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'') {
            PUT('\'');
            PUT('\\');
            PUT('\'');
            PUT('\'');
        } else
            PUT(*p);
    }
    PUT('\'');
#undef PUT
    buf[k] = '\0';
    return buf;
}

/* A growing string. */
typedef struct {
    char *s;
    size_t n, cap;
    int bad;
} sb;

static void sb_add(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sb *b, const char *fmt, ...)
{
    if (b->bad)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (w < 0) {
        b->bad = 1;
        return;
    }
    if (b->n + (size_t)w + 1 > b->cap) {
        size_t cap = (b->cap ? 2 * b->cap : 1024) + (size_t)w;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->bad = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)w;
}

static void sb_word(sb *b, const char *w)
{
    char q[8192];
    if (!slurm_shell_quote(w, q, sizeof q)) {
        b->bad = 1;
        return;
    }
    sb_add(b, " %s", q);
}

/* A path on an #SBATCH line is not read by a shell: no quotes, no spaces. */
static int sbatch_path_ok(const char *p) { return strcspn(p, " \t\n\r'\"\\$`") == strlen(p); }

static void header_common(sb *b, const slurm_options *o)
{
    sb_add(b, "#SBATCH --cpus-per-task=%d\n", o->cpus_per_task);
    if (o->partition[0])
        sb_add(b, "#SBATCH --partition=%s\n", o->partition);
    if (o->time[0])
        sb_add(b, "#SBATCH --time=%s\n", o->time);
    if (o->mem[0])
        sb_add(b, "#SBATCH --mem=%s\n", o->mem);
    if (o->account[0])
        sb_add(b, "#SBATCH --account=%s\n", o->account);
}

static char *finish(sb *b, bdrl_err *e)
{
    if (b->bad) {
        free(b->s);
        err_set(e, "slurm script: out of memory or an argument too long");
        return NULL;
    }
    return b->s;
}

char *slurm_array_script(const slurm_options *o, const slurm_job *j, bdrl_err *e)
{
    if (j->n_runs < 1) {
        err_set(e, "slurm: no runs to submit");
        return NULL;
    }
    if (!sbatch_path_ok(j->log_dir)) {
        err_set(e, "slurm: the log directory '%s' has a space or quote, which #SBATCH --output cannot hold",
                j->log_dir);
        return NULL;
    }
    size_t cap = (size_t)j->n_runs * 12 + 64;
    char *spec = malloc(cap);
    if (!spec || slurm_array_spec(j->runs, j->n_runs, spec, cap)) {
        free(spec);
        err_set(e, "out of memory");
        return NULL;
    }
    sb b = {0};
    sb_add(&b, "#!/bin/bash\n");
    sb_add(&b, "# Written by bdrl: one array task per unfinished run; the task index is the run's index.\n");
    sb_add(&b, "# A requeued task resumes its run from the last checkpoint.\n");
    sb_add(&b, "#SBATCH --job-name=%s\n", j->job_name);
    if (o->max_parallel > 0)
        sb_add(&b, "#SBATCH --array=%s%%%d\n", spec, o->max_parallel);
    else
        sb_add(&b, "#SBATCH --array=%s\n", spec);
    sb_add(&b, "#SBATCH --output=%s/%%x-%%A_%%a.out\n", j->log_dir);
    sb_add(&b, "#SBATCH --open-mode=append\n");
    header_common(&b, o);
    sb_add(&b, "#SBATCH --%s\n", o->requeue ? "requeue" : "no-requeue");
    for (int i = 0; i < o->n_extra; i++)
        sb_add(&b, "#SBATCH %s\n", o->extra[i]);
    free(spec);
    sb_add(&b, "set -u\ncd");
    sb_word(&b, j->workdir);
    sb_add(&b, " || exit 1\nexec");
    sb_word(&b, j->bdrl);
    for (int i = 0; i < j->n_task_args; i++)
        sb_word(&b, j->task_args[i]);
    sb_add(&b, " --only \"$SLURM_ARRAY_TASK_ID\"\n");
    return finish(&b, e);
}

char *slurm_summary_script(const slurm_options *o, const slurm_job *j, bdrl_err *e)
{
    if (!sbatch_path_ok(j->log_dir)) {
        err_set(e, "slurm: the log directory '%s' has a space or quote, which #SBATCH --output cannot hold",
                j->log_dir);
        return NULL;
    }
    sb b = {0};
    sb_add(&b, "#!/bin/bash\n");
    sb_add(&b, "# Written by bdrl: after every array task has ended, finishes what failed or was\n"
               "# cancelled and rebuilds the tables and figures.\n");
    sb_add(&b, "#SBATCH --job-name=%s-summary\n", j->job_name);
    sb_add(&b, "#SBATCH --output=%s/%%x-%%j.out\n", j->log_dir);
    sb_add(&b, "#SBATCH --open-mode=append\n");
    header_common(&b, o);
    for (int i = 0; i < o->n_extra; i++)
        sb_add(&b, "#SBATCH %s\n", o->extra[i]);
    sb_add(&b, "set -u\ncd");
    sb_word(&b, j->workdir);
    sb_add(&b, " || exit 1\nexec");
    sb_word(&b, j->bdrl);
    for (int i = 0; i < j->n_summary_args; i++)
        sb_word(&b, j->summary_args[i]);
    sb_add(&b, "\n");
    return finish(&b, e);
}

int slurm_have(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    char buf[PATH_MAX];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n > 0 && snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, name) < (int)sizeof buf &&
            access(buf, X_OK) == 0)
            return 1;
        p += n;
        if (*p == ':')
            p++;
    }
    return 0;
}

/* Runs argv (PATH looked up) and captures stdout and stderr into malloc'ed
 * strings; returns the exit status (or -1 if it could not be run). */
static int capture(char *const *argv, char **out, char **err)
{
    *out = *err = NULL;
    char tmpl[] = "/tmp/bdrl-slurm-err.XXXXXX";
    int efd = mkstemp(tmpl);
    if (efd < 0)
        return -1;
    unlink(tmpl);
    int pfd[2];
    if (pipe(pfd)) {
        close(efd);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(efd);
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, 0);
        dup2(pfd[1], 1);
        dup2(efd, 2);
        close(pfd[0]);
        execvp(argv[0], argv);
        dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    size_t n = 0, cap = 256;
    char *o = malloc(cap);
    for (;;) {
        if (o && n + 128 > cap) {
            char *t = realloc(o, cap *= 2);
            if (!t) {
                free(o);
                o = NULL;
            } else
                o = t;
        }
        char tmp[128];
        ssize_t k = read(pfd[0], o ? o + n : tmp, 128);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (o)
            n += (size_t)k;
    }
    close(pfd[0]);
    if (o)
        o[n] = '\0';
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    off_t len = lseek(efd, 0, SEEK_END);
    char *er = malloc(len > 0 ? (size_t)len + 1 : 1);
    if (er) {
        ssize_t k = len > 0 ? pread(efd, er, (size_t)len, 0) : 0;
        er[k > 0 ? k : 0] = '\0';
    }
    close(efd);
    *out = o;
    *err = er;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The first line of s, without its newline, into buf. */
static void first_line(const char *s, char *buf, size_t n)
{
    if (!s)
        s = "";
    while (*s == '\n' || *s == ' ')
        s++;
    snprintf(buf, n, "%.*s", (int)strcspn(s, "\n"), s);
}

int slurm_submit(const char *script, const char *after, char *id, size_t n, bdrl_err *e)
{
    char dep[128];
    char *argv[5];
    int k = 0;
    argv[k++] = (char *)"sbatch";
    argv[k++] = (char *)"--parsable";
    if (after) {
        snprintf(dep, sizeof dep, "--dependency=afterany:%s", after);
        argv[k++] = dep;
    }
    argv[k++] = (char *)script;
    argv[k] = NULL;
    char *out, *err;
    int st = capture(argv, &out, &err);
    char line[512];
    if (st != 0) {
        first_line(err && *err ? err : out, line, sizeof line);
        free(out);
        free(err);
        if (st < 0)
            return err_set(e, "sbatch: cannot run it: %s", strerror(errno));
        return err_set(e, "sbatch %s failed (exit %d): %s", script, st, line[0] ? line : "no message");
    }
    first_line(out, line, sizeof line);
    free(out);
    free(err);
    line[strcspn(line, ";")] = '\0'; /* "ID;cluster" */
    if (!line[0] || strspn(line, "0123456789") != strlen(line))
        return err_set(e, "sbatch %s: expected a job id, got '%s'", script, line);
    snprintf(id, n, "%s", line);
    return 0;
}

int slurm_queue_states(const char *job_id, char *state, int n, bdrl_err *e)
{
    char *argv[] = {(char *)"squeue", (char *)"-h", (char *)"-r", (char *)"-j", (char *)job_id,
                    (char *)"-o", (char *)"%K %t", NULL};
    char *out, *err;
    int st = capture(argv, &out, &err);
    if (st != 0) {
        char line[512];
        first_line(err, line, sizeof line);
        free(out);
        free(err);
        /* a job that has left the queue is "Invalid job id" for squeue */
        if (strstr(line, "Invalid job id"))
            return 0;
        return err_set(e, "squeue: %s", line[0] ? line : "failed");
    }
    int seen = 0;
    for (const char *p = out ? out : ""; *p;) {
        long i;
        char t[16];
        if (sscanf(p, "%ld %15s", &i, t) == 2 && i >= 0 && i < n) {
            state[i] = !strcmp(t, "R") || !strcmp(t, "CG") ? 'R' : !strcmp(t, "PD") ? 'P' : state[i];
            seen++;
        }
        p += strcspn(p, "\n");
        if (*p)
            p++;
    }
    free(out);
    free(err);
    return seen;
}

int slurm_launch(const slurm_options *o, const slurm_job *j, const char *slurm_dir, char *array_id,
                 char *summary_id, size_t n, bdrl_err *e)
{
    char pa[4200], ps[4200], pj[4200];
    char *a = slurm_array_script(o, j, e);
    if (!a)
        return -1;
    char *s = slurm_summary_script(o, j, e);
    if (!s) {
        free(a);
        return -1;
    }
    int rc = io_mkdirs(slurm_dir, e) || io_join(pa, sizeof pa, slurm_dir, "array.sbatch", e) ||
             io_join(ps, sizeof ps, slurm_dir, "summary.sbatch", e) ||
             io_join(pj, sizeof pj, slurm_dir, "jobs.json", e) || io_write_file_atomic(pa, a, strlen(a), e) ||
             io_write_file_atomic(ps, s, strlen(s), e);
    free(a);
    free(s);
    if (rc)
        return -1;
    if (slurm_submit(pa, NULL, array_id, n, e))
        return -1;
    if (slurm_submit(ps, array_id, summary_id, n, e))
        return err_prefix(e, "array job %s submitted, but its summary job was not", array_id);
    char js[256];
    int len = snprintf(js, sizeof js, "{\"array\": \"%s\", \"summary\": \"%s\"}\n", array_id, summary_id);
    return io_write_file_atomic(pj, js, (size_t)len, e);
}

int slurm_read_jobs(const char *slurm_dir, char *array_id, size_t n)
{
    char pj[4200];
    if (io_join(pj, sizeof pj, slurm_dir, "jobs.json", NULL))
        return 0;
    char *js = io_read_file(pj, NULL, NULL);
    if (!js)
        return 0;
    const char *p = strstr(js, "\"array\": \"");
    int ok = 0;
    if (p) {
        p += 10;
        size_t k = strspn(p, "0123456789");
        if (k > 0 && k < n) {
            snprintf(array_id, n, "%.*s", (int)k, p);
            ok = 1;
        }
    }
    free(js);
    return ok;
}
