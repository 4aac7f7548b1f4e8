#include "plot.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BDRL_SOURCE_PLOTS_DIR
#define BDRL_SOURCE_PLOTS_DIR "plots"
#endif

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int plot_find_script(const char *script, char *buf, size_t n, bdrl_err *e)
{
    const char *env = getenv("BDRL_PLOTS_DIR");
    if (env && *env) {
        snprintf(buf, n, "%s/%s", env, script);
        if (is_file(buf))
            return 0;
    }
    char exe[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            snprintf(buf, n, "%s/../share/bdrl/plots/%s", exe, script);
            if (is_file(buf))
                return 0;
        }
    }
    snprintf(buf, n, "%s/%s", BDRL_SOURCE_PLOTS_DIR, script);
    if (is_file(buf))
        return 0;
    return err_set(e, "plot script %s not found (set BDRL_PLOTS_DIR to bdrl's plots/ folder)", script);
}

void plot_write_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        if (*s != '\n')
            fputc(*s, f);
    }
    fputc('\'', f);
}

void plot_write_redraw(FILE *f, const char *data, const char *out_prefix, const char *png, const char *title,
                       const char *script)
{
    fprintf(f, "datafile = ");
    plot_write_quoted(f, data);
    fprintf(f, "\nif (!exists(\"dir\")) {\n  dir = ");
    plot_write_quoted(f, out_prefix);
    fprintf(f, "; out = ");
    plot_write_quoted(f, png);
    fprintf(f, "; term = 'png'; ttl = ");
    plot_write_quoted(f, title ? title : "");
    fprintf(f, "\n  load ");
    plot_write_quoted(f, script);
    fprintf(f, "\n}\n");
}

/* gnuplot single-quoted string: a quote is written twice. */
static void quote(char *out, size_t n, const char *s)
{
    size_t j = 0;
    if (j + 1 < n)
        out[j++] = '\'';
    for (; *s && j + 3 < n; s++) {
        if (*s == '\'')
            out[j++] = '\'';
        out[j++] = *s;
    }
    out[j++] = '\'';
    out[j] = '\0';
}

/* Runs gnuplot on a script; its stderr (and stdout, unless on_line takes
 * stdout's lines) goes to errlog. */
static int run_gnuplot_lines(const char *script_path, const char *vars, const char *errlog,
                             void (*on_line)(const char *line, void *ctx), void *ctx, bdrl_err *e)
{
    int pfd[2] = {-1, -1};
    if (on_line && pipe(pfd) != 0)
        return err_set(e, "cannot start gnuplot: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        if (on_line) {
            close(pfd[0]);
            close(pfd[1]);
        }
        return err_set(e, "cannot start gnuplot: %s", strerror(errno));
    }
    if (pid == 0) {
        int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(on_line ? pfd[1] : fd, 1);
            close(fd);
        }
        if (on_line) {
            close(pfd[0]);
            close(pfd[1]);
        }
        execlp("gnuplot", "gnuplot", "-e", vars, script_path, (char *)NULL);
        fprintf(stderr, "cannot run gnuplot: %s\n", strerror(errno));
        _exit(127);
    }
    if (on_line) {
        close(pfd[1]);
        FILE *in = fdopen(pfd[0], "r");
        if (in) {
            char buf[512];
            while (fgets(buf, sizeof buf, in)) {
                buf[strcspn(buf, "\r\n")] = '\0';
                on_line(buf, ctx);
            }
            fclose(in);
        } else {
            close(pfd[0]);
        }
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return err_set(e, "waiting for gnuplot: %s", strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    char line[512] = "";
    FILE *f = fopen(errlog, "r");
    if (f) {
        /* The last non-empty line usually names the problem. */
        char cur[512];
        while (fgets(cur, sizeof cur, f))
            if (strspn(cur, " \t\r\n") < strlen(cur))
                snprintf(line, sizeof line, "%s", cur);
        fclose(f);
    }
    line[strcspn(line, "\r\n")] = '\0';
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return err_set(e, "gnuplot is not installed (apt-get install gnuplot-nox, or run 'make deps')");
    return err_set(e, "gnuplot failed on %s: %s", script_path, line[0] ? line : "(no message)");
}

static int run_gnuplot(const char *script_path, const char *vars, const char *errlog, bdrl_err *e)
{
    return run_gnuplot_lines(script_path, vars, errlog, NULL, NULL, e);
}

int plot_gnuplot_run(const char *script, int n_vars, const char *const *names, const char *const *values,
                     const char *errlog, void (*on_line)(const char *line, void *ctx), void *ctx,
                     bdrl_err *e)
{
    char path[PATH_MAX];
    if (plot_find_script(script, path, sizeof path, e))
        return -1;
    size_t cap = 64, len = 0;
    for (int i = 0; i < n_vars; i++)
        cap += strlen(names[i]) + 2 * strlen(values[i]) + 8;
    char *vars = malloc(cap), *q = malloc(cap);
    if (!vars || !q) {
        free(vars);
        free(q);
        return err_set(e, "out of memory");
    }
    vars[0] = '\0';
    for (int i = 0; i < n_vars; i++) {
        quote(q, cap, values[i]);
        len += (size_t)snprintf(vars + len, cap - len, "%s%s=%s", i ? "; " : "", names[i], q);
    }
    free(q);
    int rc = run_gnuplot_lines(path, vars, errlog, on_line, ctx, e);
    free(vars);
    if (!rc)
        unlink(errlog);
    return rc;
}

int plot_gnuplot(const char *script, const char *data_dir, const char *out_png, const char *title,
                 bdrl_err *e)
{
    char path[PATH_MAX];
    if (plot_find_script(script, path, sizeof path, e))
        return -1;
    size_t len = strlen(out_png);
    if (len < 5 || strcmp(out_png + len - 4, ".png"))
        return err_set(e, "plot output %s must end in .png", out_png);
    char svg[PATH_MAX], errlog[PATH_MAX];
    snprintf(svg, sizeof svg, "%.*s.svg", (int)(len - 4), out_png);
    snprintf(errlog, sizeof errlog, "%.*s.gnuplot.log", (int)(len - 4), out_png);
    /* gnuplot writes temporaries beside the targets, renamed over them once
     * both are complete, so a killed run never leaves a torn figure. */
    const char *outs[2] = {out_png, svg}, *terms[2] = {"png", "svg"};
    char tmp[2][PATH_MAX + 16];
    for (int i = 0; i < 2; i++) {
        snprintf(tmp[i], sizeof tmp[i], "%s" IO_TMP_SUFFIX, outs[i]);
        int fd = mkstemp(tmp[i]);
        if (fd < 0) {
            if (i)
                unlink(tmp[0]);
            return err_set(e, "cannot create %s: %s", tmp[i], strerror(errno));
        }
        close(fd);
    }
    int rc = 0;
    for (int i = 0; i < 2 && !rc; i++) {
        char qd[PATH_MAX + 8], qo[PATH_MAX + 24], qt[600], vars[3 * PATH_MAX + 64];
        quote(qd, sizeof qd, data_dir);
        quote(qo, sizeof qo, tmp[i]);
        quote(qt, sizeof qt, title ? title : "");
        snprintf(vars, sizeof vars, "dir=%s; out=%s; term='%s'; ttl=%s", qd, qo, terms[i], qt);
        rc = run_gnuplot(path, vars, errlog, e);
    }
    if (!rc) {
        unlink(errlog);
        FILE *f = fopen(tmp[0], "rb");
        unsigned char magic[8] = {0};
        size_t k = f ? fread(magic, 1, 8, f) : 0;
        if (f)
            fclose(f);
        if (k != 8 || memcmp(magic, "\x89PNG\r\n\x1a\n", 8))
            rc = err_set(e, "gnuplot did not write a PNG to %s", out_png);
    }
    for (int i = 0; i < 2 && !rc; i++) {
        mode_t um = umask(0);
        umask(um);
        chmod(tmp[i], 0666 & ~um);
        if (rename(tmp[i], outs[i]) != 0)
            rc = err_set(e, "cannot rename %s to %s: %s", tmp[i], outs[i], strerror(errno));
    }
    for (int i = 0; i < 2; i++)
        unlink(tmp[i]); /* no-op once renamed */
    return rc;
}
