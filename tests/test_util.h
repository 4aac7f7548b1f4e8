/* test_util.h — small helpers shared by the cmocka tests: temporary
 * directories, writing files, running the bdrl binary and capturing its
 * output and exit status, an agent's state as bytes. Header-only so each
 * test binary stays standalone. */
#ifndef BDRL_TEST_UTIL_H
#define BDRL_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>

#include "agents/agent.h"

/* 1 in a build under AddressSanitizer (its allocator and address space
 * differ: glibc heap statistics and ulimit -v do not apply). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

/* Creates a fresh temporary directory; returns a static-lifetime copy. */
static inline char *tu_tmpdir(void)
{
    char *d = strdup("/tmp/bdrl_test_XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

/* A group fixture: a fresh temporary directory in tu_dir for the group's
 * tests, removed afterwards. Use cmocka_run_group_tests_name(..., tu_group_setup,
 * tu_group_teardown). */
static char *tu_dir;

static inline int tu_group_setup(void **state)
{
    (void)state;
    tu_dir = tu_tmpdir();
    return 0;
}

static inline int tu_group_teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
    int rc = system(cmd);
    free(tu_dir);
    tu_dir = NULL;
    return rc == 0 ? 0 : -1;
}

static inline void tu_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Reads a whole file (caller frees), with a NUL after its *len bytes (len
 * may be NULL); NULL if missing. */
static inline char *tu_read_len(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t k = fread(b, 1, (size_t)n, f);
    b[k] = '\0';
    fclose(f);
    if (len)
        *len = k;
    return b;
}

static inline char *tu_read(const char *path) { return tu_read_len(path, NULL); }
static inline void tu_write_bytes(const char *path, const char *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_true(fwrite(b, 1, len, f) == len);
    fclose(f);
}

/* FNV-1a 64, the checksum of checkpoints and replay buffers: tests that
 * craft a checkpoint sign it, so only the checks past the checksum can
 * refuse it. */
static inline uint64_t tu_fnv1a(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

typedef struct {
    int status;   /* exit status, or 128+signal */
    char *out;    /* stdout (caller frees via tu_run_free) */
    char *err;    /* stderr */
} tu_result;

/* Runs a shell command line with "$BDRL" available; captures stdout/stderr. */
static inline tu_result tu_run(const char *fmt, ...)
{
    char cmd[8192], full[9000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char *d = tu_tmpdir();
    snprintf(full, sizeof full, "( %s ) >%s/out 2>%s/err </dev/null", cmd, d, d);
    int st = system(full);
    tu_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    char p[512];
    snprintf(p, sizeof p, "%s/out", d);
    r.out = tu_read(p);
    unlink(p);
    snprintf(p, sizeof p, "%s/err", d);
    r.err = tu_read(p);
    unlink(p);
    rmdir(d);
    free(d);
    if (!r.out) r.out = strdup("");
    if (!r.err) r.err = strdup("");
    return r;
}

static inline void tu_run_free(tu_result *r)
{
    free(r->out);
    free(r->err);
}

/* Path of the bdrl binary under test (env BDRL, set by scripts/run_tests.sh). */
static inline const char *tu_bdrl(void)
{
    const char *b = getenv("BDRL");
    return b ? b : "build/rel/bdrl";
}

/* The source tree's root (env BDRL_SRC_ROOT), for configs/ and plots/. */
static inline const char *tu_root(void)
{
    const char *b = getenv("BDRL_SRC_ROOT");
    return b ? b : ".";
}

/* Under LeakSanitizer, for tests that start bdrl on a Python environment:
 * the embedded interpreter is never finalized, so CPython's own allocations
 * are still held at exit and reported with only libpython's frames
 * (tests/test_python.c says more). Suppresses those reports, and only
 * those, in the bdrl processes started after this call (LSAN_OPTIONS, a
 * suppressions file in tu_dir). No-op without AddressSanitizer. */
static inline void tu_lsan_ignore_python(void)
{
    if (!UNDER_ASAN)
        return;
    static char supp[1200], opts[1400];
    snprintf(supp, sizeof supp, "%s/lsan_python.supp", tu_dir);
    FILE *f = fopen(supp, "w");
    if (f) {
        fputs("leak:libpython3\n", f);
        fclose(f);
    }
    snprintf(opts, sizeof opts, "suppressions=%s:print_suppressions=0", supp);
    setenv("LSAN_OPTIONS", opts, 1);
}

/* The number of '\n' in s (the lines of a command's output). */
static inline int tu_count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The agent's whole state as its own save writes it (networks, targets,
 * optimizer states, random streams): two agents of one configuration are in
 * the same state exactly when these bytes are. The caller frees it. */
static inline char *tu_agent_state(agent *a, size_t *len)
{
    char *mem = NULL;
    FILE *f = open_memstream(&mem, len);
    bdrl_err e;
    assert_non_null(f);
    assert_int_equal(a->ops->save(a, f, &e), 0);
    fclose(f);
    return mem;
}

/* Weights of exactly 1 and discounts equal to agent.gamma (0.95 here) are
 * the plain update's arithmetic: a0 and a1, two agents of one seed on a
 * FrozenLake 4x4 with batch 4, the second given them (and a sample_loss
 * buffer) with every batch, train to the same losses and the same bytes. */
static inline void tu_neutral_fields_bit_exact(agent *a0, agent *a1)
{
    float obs[4] = {0, 4, 9, 14}, nobs[4] = {1, 8, 10, 15}, rew[4] = {0, 0, 0, 1};
    int act[4] = {2, 1, 0, 3};
    unsigned char term[4] = {0, 0, 0, 1};
    const double disc[4] = {0.95, 0.95, 0.95, 0.95};
    const float ones[4] = {1, 1, 1, 1};
    double sl[4];
    agent_batch b0 = {4, obs, act, rew, nobs, term, NULL, NULL, NULL, NULL},
                b1 = {4, obs, act, rew, nobs, term, NULL, disc, ones, sl};
    bdrl_err e;
    agent_stats s0, s1;
    for (int k = 0; k < 5; k++) {
        assert_int_equal(agent_update(a0, &b0, &s0, &e), 0);
        assert_int_equal(agent_update(a1, &b1, &s1, &e), 0);
        assert_true(s0.loss == s1.loss && s0.loss_grad == s1.loss_grad && s0.grad_norm == s1.grad_norm);
    }
    size_t n0, n1;
    char *m0 = tu_agent_state(a0, &n0), *m1 = tu_agent_state(a1, &n1);
    assert_true(n0 == n1 && !memcmp(m0, m1, n0));
    free(m0);
    free(m1);
}

/* metrics.csv's text without its last column (steps per second, which
 * differ between runs that are otherwise the same); the caller frees it. */
static inline char *tu_strip_sps(const char *text)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    for (const char *l = text; *l;) {
        const char *end = strchr(l, '\n'), *comma = end;
        while (comma > l && *comma != ',')
            comma--;
        memcpy(o, l, (size_t)(comma - l));
        o += comma - l;
        *o++ = '\n';
        l = end + 1;
    }
    *o = '\0';
    return out;
}

/* The build directory (env BUILD, set by scripts/run_tests.sh), and the
 * absolute path of a file under it (plugins, examples). */
static inline const char *tu_build_dir(void)
{
    const char *b = getenv("BUILD");
    return b ? b : "build/rel";
}

static inline void tu_build_path(char *out, size_t n, const char *rel)
{
    const char *b = tu_build_dir();
    if (b[0] == '/')
        snprintf(out, n, "%s/%s", b, rel);
    else
        snprintf(out, n, "%s/%s/%s", tu_root(), b, rel);
}

/* The number after "key": in a JSON text (whitespace as bdrl writes it:
 * none after the colon, or one space); NaN if the key is absent or null. */
static inline double tu_json_num(const char *json, const char *key)
{
    char k[128];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(json, k);
    if (!p)
        return NAN;
    p += strlen(k);
    while (*p == ' ')
        p++;
    char *end;
    double v = strtod(p, &end);
    return end == p ? NAN : v;
}

/* What tu_write_summary puts in DIR/summary.json: the fields of a run that
 * `bdrl train` ended, as the drivers (compare, sweep) read them. A NaN
 * number is written as null (steps_to_threshold: never reached). */
typedef struct {
    const char *agent, *env, *status, *threshold_on;
    double total_steps, configured_steps, wall_seconds, sps, final_eval_return, best_eval_return, threshold,
        steps_to_threshold, final_success_rate;
} tu_summary;

static inline void tu_summary_num(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, "null");
    else
        snprintf(b, n, "%.17g", v);
}

/* Writes DIR/summary.json (DIR must exist) in bdrl's layout: one field a
 * line, "key": value. */
static inline void tu_write_summary(const char *dir, const tu_summary *s)
{
    double v[9] = {s->total_steps,      s->wall_seconds, s->sps,
                   s->final_eval_return, s->best_eval_return, s->threshold,
                   s->steps_to_threshold, s->final_success_rate, s->configured_steps};
    char t[9][40], buf[2048], p[1200];
    for (int i = 0; i < 9; i++)
        tu_summary_num(t[i], sizeof t[i], v[i]);
    snprintf(buf, sizeof buf,
             "{\n  \"agent\": \"%s\",\n  \"env\": \"%s\",\n  \"seed\": 1,\n  \"total_steps\": %s,\n"
             "  \"wall_seconds\": %s,\n  \"sps\": %s,\n  \"final_eval_return\": %s,\n  \"best_eval_return\": %s,\n"
             "  \"threshold\": %s,\n  \"steps_to_threshold\": %s,\n  \"final_success_rate\": %s,\n"
             "  \"status\": \"%s\",\n  \"threshold_on\": \"%s\",\n  \"configured_steps\": %s\n}\n",
             s->agent, s->env, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], s->status, s->threshold_on, t[8]);
    snprintf(p, sizeof p, "%s/summary.json", dir);
    tu_write(p, buf);
}

#define assert_contains(hay, needle)                                              \
    do {                                                                          \
        const char *h_ = (hay), *n_ = (needle);                                   \
        if (!strstr(h_, n_))                                                      \
            fail_msg("expected to find \"%s\" in:\n%s", n_, h_);                  \
    } while (0)

#define assert_close(a, b, tol)                                                   \
    do {                                                                          \
        double a_ = (a), b_ = (b), t_ = (tol);                                    \
        if (!(a_ - b_ <= t_ && b_ - a_ <= t_))                                    \
            fail_msg("%s = %.17g, %s = %.17g, differ by more than %g",            \
                     #a, a_, #b, b_, t_);                                         \
    } while (0)

#endif
