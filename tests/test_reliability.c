/* Reliability (issue 6): hostile and damaged inputs, crash safety, numerical
 * guards, resource limits and the command line's manners.
 *
 *   checkpoints   truncated, corrupted, wrong-version, wrong-magic,
 *                 wrong-agent and other-configuration files are refused with
 *                 a clear message and change nothing (the agent in memory,
 *                 the run directory on disk)
 *   numerical     a NaN/Inf parameter or gradient norm stops training naming
 *                 the step and the quantity, the last checkpoint intact;
 *                 train.nonfinite skip undoes and counts such updates
 *   crash safety  SIGKILL at random moments of `bdrl train` and `bdrl fit`:
 *                 every file left parses; the run resumes and tidies up
 *   limits        absurd configurations are refused before allocation;
 *                 allocation failures (ulimit -v) are reported, not crashes
 *   command line  bad flags, files and values: one line, exit 2; --help
 *                 everywhere; nothing written outside --out
 * Random kill times are drawn from a seed printed with each test (set
 * BDRL_TEST_SEED to replay one). */
#include "test_util.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "agents/agent.h"
#include "agents/bd.h"
#include "agents/bd_grid.h"
#include "agents/c51.h"
#include "train/limits.h"
#include "train/checkpoint.h"
#include "train/train.h"
#include "data/dataset.h"
#include "gen/fit.h"


/* ---- helpers ---- */

static void load_cfg(exp_config *cfg, const char *const *sets)
{
    char *s[32];
    int n = 0;
    while (sets[n]) {
        s[n] = (char *)sets[n];
        n++;
    }
    bdrl_err e;
    if (exp_load(cfg, NULL, s, n, &e))
        fail_msg("%s", e.msg);
}

#define C51_SETS "env.name=cartpole", "agent.kind=c51", "agent.hidden=[8]", "c51.atoms=11", "agent.v_max=50", \
                 "train.buffer_size=500", "train.batch_size=8", "train.learning_starts=50", "eval.episodes=1"
/* BD as it ships (basis fields), small */
#define BD_SETS "env.name=frozenlake", "agent.kind=bd", "agent.hidden=[8]", "bd.basis=11", "train.buffer_size=500", \
                "train.batch_size=4", "train.learning_starts=50", "eval.episodes=1"

static unsigned seed_from_env(const char *test)
{
    const char *s = getenv("BDRL_TEST_SEED");
    unsigned seed = s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    printf("%s: BDRL_TEST_SEED=%u\n", test, seed);
    return seed;
}

static char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static agent *make(const exp_config *cfg, env **en)
{
    bdrl_err e;
    *en = env_create(&cfg->env, &e);
    assert_non_null(*en);
    rng *r = rng_create((uint64_t)cfg->seed + 99, RNG_STREAM_INIT);
    agent *a = agent_create(cfg, *en, r, &e);
    rng_free(r);
    if (!a)
        fail_msg("%s", e.msg);
    return a;
}

/* A short finished run of cfg in dir. */
static void short_run(const exp_config *cfg, const char *dir)
{
    train_options o = {NULL, NULL, 0, 0, NULL, NULL};
    train_result res;
    bdrl_err e;
    if (train_run(cfg, dir, &o, &res, &e))
        fail_msg("%s", e.msg);
}

/* A tiny JSON validator: one value, then only whitespace. */
static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = json_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = json_value(p);
                if (!p || *(p = json_ws(p)) != ':')
                    return NULL;
                p++;
            }
            if (!(p = json_value(p)))
                return NULL;
            p = json_ws(p);
            if (*p == ',') {
                p++;
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p)
                return NULL;
        return *p ? p + 1 : NULL;
    }
    if (!strncmp(p, "true", 4) || !strncmp(p, "null", 4))
        return p + 4;
    if (!strncmp(p, "false", 5))
        return p + 5;
    char *end;
    strtod(p, &end);
    return end == p ? NULL : end;
}

static int json_valid(const char *text)
{
    const char *p = json_value(text);
    return p && *json_ws(p) == '\0';
}

/* CSV written by bdrl: a header, then rows of numbers (or nan), all ending in \n. */
static int csv_valid(const char *path)
{
    bdrl_err e;
    size_t n;
    char *t = read_bytes(path, &n);
    if (!t || n == 0 || t[n - 1] != '\n') {
        free(t);
        return 0;
    }
    free(t);
    data_set *ds = data_load_csv(path, &e);
    if (ds) {
        data_free(ds);
        return 1;
    }
    /* metrics rows may hold "nan" (no update yet); accept them, nothing else */
    return strstr(e.msg, "is NaN") != NULL || strstr(e.msg, "no data rows") != NULL;
}

static int is_temporary(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    return t && strlen(t) == 11;
}

/* Number of regular files in dir matching tmp (1) or not (0). */
static int count_files(const char *dir, int tmp)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && is_temporary(de->d_name) == tmp)
            n++;
    closedir(d);
    return n;
}

static pid_t spawn(const char *cmd)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void wait_for(const char *path)
{
    for (int i = 0; i < 3000 && access(path, F_OK) != 0; i++)
        usleep(10000);
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- checkpoints ---- */

static void expect_refused(const char *path, const exp_config *cfg, agent *a, const char *want)
{
    size_t l0, l1;
    char *before = tu_agent_state(a, &l0);
    bdrl_err e;
    e.msg[0] = '\0';
    assert_int_equal(ckpt_read_agent(path, cfg, a, NULL, &e), -1);
    if (!strstr(e.msg, want))
        fail_msg("expected \"%s\" in: %s", want, e.msg);
    assert_null(strchr(e.msg, '\n'));
    char *after = tu_agent_state(a, &l1);
    assert_true(l0 == l1 && !memcmp(before, after, l0)); /* changes nothing */
    free(before);
    free(after);
    e.msg[0] = '\0';
    assert_int_equal(train_verify_checkpoint(cfg, path, NULL, &e), -1);
    if (!strstr(e.msg, want))
        fail_msg("verify: expected \"%s\" in: %s", want, e.msg);
}

static void test_checkpoint_damage_is_refused(void **state)
{
    (void)state;
    static const char *const c51s[] = {C51_SETS, "train.total_steps=300", NULL};
    static const char *const c51_wide[] = {C51_SETS, "train.total_steps=300", "agent.hidden=[16]", NULL};
    static const char *const c51_atoms[] = {C51_SETS, "c51.atoms=21", NULL};
    static const char *const bds[] = {BD_SETS, "train.total_steps=300", NULL};
    exp_config c, cw, ca, cb;
    load_cfg(&c, c51s);
    load_cfg(&cw, c51_wide);
    load_cfg(&ca, c51_atoms);
    load_cfg(&cb, bds);
    char dir[700], dirb[700], ck[800], bad[800];
    snprintf(dir, sizeof dir, "%s/ck_c51", tu_dir);
    snprintf(dirb, sizeof dirb, "%s/ck_bd", tu_dir);
    short_run(&c, dir);
    short_run(&cb, dirb);
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", dir);
    snprintf(bad, sizeof bad, "%s/bad.bin", tu_dir);
    bdrl_err e;
    int64_t step = 0;
    assert_int_equal(train_verify_checkpoint(&c, ck, &step, &e), 0);
    assert_int_equal(step, 300);
    size_t n;
    char *orig = read_bytes(ck, &n);
    env *en;
    agent *a = make(&c, &en);

    /* truncated anywhere: before the version, inside the header, in a section, the checksum */
    size_t cuts[] = {0, 5, 12, 100, n / 2, n - 9, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        write_bytes(bad, orig, cuts[i]);
        expect_refused(bad, &c, a, "truncated");
    }
    /* one flipped bit in each part: header shapes, agent, replay, trainer, checksum */
    size_t flips[] = {20, 400, n / 2, n - 40, n - 3};
    for (size_t i = 0; i < sizeof flips / sizeof *flips; i++) {
        char *m = malloc(n);
        memcpy(m, orig, n);
        m[flips[i]] ^= 0x10;
        write_bytes(bad, m, n);
        expect_refused(bad, &c, a, flips[i] < 168 && flips[i] >= 16 ? "corrupted" : "checksum mismatch");
        free(m);
    }
    /* an older and a newer format version */
    uint32_t versions[] = {1, 4};
    for (int i = 0; i < 2; i++) {
        char *m = malloc(n);
        memcpy(m, orig, n);
        memcpy(m + 8, &versions[i], 4);
        write_bytes(bad, m, n);
        expect_refused(bad, &c, a, versions[i] == 1 ? "format version 1, this build reads versions 2 to 3 (written by an older"
                                                    : "format version 4, this build reads versions 2 to 3 (written by a newer");
        free(m);
    }
    /* not a checkpoint at all */
    write_bytes(bad, "agent.kind: c51\nseed: 1\n# a YAML file, not a checkpoint ...........\n", 68);
    expect_refused(bad, &c, a, "not a bdrl checkpoint (bad magic)");
    /* another configuration: the key that differs is named */
    env *enw;
    agent *aw = make(&cw, &enw);
    expect_refused(ck, &cw, aw, "agent.hidden is [8] in the checkpoint, [16] in the config");
    agent_free(aw);
    env_free(enw);
    env *ena;
    agent *aa = make(&ca, &ena);
    expect_refused(ck, &ca, aa, "c51.atoms is 11 in the checkpoint, 21 in the config");
    agent_free(aa);
    env_free(ena);
    /* the wrong agent: a C51 checkpoint for a BD config and vice versa */
    env *enb;
    agent *ab = make(&cb, &enb);
    expect_refused(ck, &cb, ab, "agent.kind is c51 in the checkpoint, bd in the config");
    char ckb[800];
    snprintf(ckb, sizeof ckb, "%s/checkpoint.bin", dirb);
    assert_int_equal(train_verify_checkpoint(&cb, ckb, NULL, &e), 0);
    expect_refused(ckb, &c, a, "agent.kind is bd in the checkpoint, c51 in the config");
    /* the agent-only loader without a config checks kind and shapes too */
    size_t l0, l1;
    char *b0 = tu_agent_state(a, &l0);
    assert_int_equal(ckpt_read_agent(ckb, NULL, a, NULL, &e), -1);
    assert_contains(e.msg, "checkpoint of a bd agent");
    char *b1 = tu_agent_state(a, &l1);
    assert_true(l0 == l1 && !memcmp(b0, b1, l0));
    free(b0);
    free(b1);
    agent_free(ab);
    env_free(enb);
    agent_free(a);
    env_free(en);
    free(orig);
}

/* Snapshot of every file in a directory (names and bytes). */
typedef struct {
    int n;
    char name[16][256];
    char *data[16];
    size_t len[16];
} dir_snap;

static void snap(const char *dir, dir_snap *s)
{
    memset(s, 0, sizeof *s);
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d)) && s->n < 16) {
        if (de->d_name[0] == '.')
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        snprintf(s->name[s->n], 256, "%s", de->d_name);
        s->data[s->n] = read_bytes(p, &s->len[s->n]);
        s->n++;
    }
    closedir(d);
}

static void same_snap(const dir_snap *a, const dir_snap *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        int found = 0;
        for (int j = 0; j < b->n; j++)
            if (!strcmp(a->name[i], b->name[j])) {
                found = 1;
                if (a->len[i] != b->len[j] || memcmp(a->data[i], b->data[j], a->len[i]))
                    fail_msg("%s changed", a->name[i]);
            }
        if (!found)
            fail_msg("%s disappeared", a->name[i]);
    }
}

static void free_snap(dir_snap *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->data[i]);
}

static void test_resume_refuses_damage_and_changes_nothing(void **state)
{
    (void)state;
    static const char *const sets[] = {C51_SETS, "train.total_steps=300", NULL};
    exp_config c;
    load_cfg(&c, sets);
    char dir[700], ck[800];
    snprintf(dir, sizeof dir, "%s/resume_damage", tu_dir);
    short_run(&c, dir);
    snprintf(ck, sizeof ck, "%s/checkpoint.bin", dir);
    size_t n;
    char *orig = read_bytes(ck, &n);
    const char *want[3] = {"truncated", "checksum mismatch", "format version 7"};
    for (int k = 0; k < 3; k++) {
        char *m = malloc(n);
        memcpy(m, orig, n);
        size_t len = n;
        if (k == 0)
            len = n - 1000;
        else if (k == 1)
            m[n / 2] ^= 1;
        else
            m[8] = 7;
        write_bytes(ck, m, len);
        free(m);
        dir_snap before, after;
        snap(dir, &before);
        tu_result r = tu_run("%s train --resume %s -q --set train.total_steps=600", tu_bdrl(), dir);
        assert_int_equal(r.status, 2);
        assert_contains(r.err, want[k]);
        assert_int_equal(lines(r.err), 1);
        tu_run_free(&r);
        snap(dir, &after);
        same_snap(&before, &after);
        free_snap(&before);
        free_snap(&after);
    }
    /* a checkpoint from another configuration under this run's config.yaml */
    static const char *const wide[] = {C51_SETS, "train.total_steps=300", "agent.hidden=[16]", NULL};
    exp_config cw;
    load_cfg(&cw, wide);
    char dir2[700], ck2[800];
    snprintf(dir2, sizeof dir2, "%s/resume_other", tu_dir);
    short_run(&cw, dir2);
    snprintf(ck2, sizeof ck2, "%s/checkpoint.bin", dir2);
    write_bytes(ck2, orig, n);
    tu_result r = tu_run("%s train --resume %s -q --set train.total_steps=600", tu_bdrl(), dir2);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "checkpoint from a different configuration: agent.hidden is [8] in the checkpoint, "
                           "[16] in the config");
    tu_run_free(&r);
    /* and the undamaged one still resumes */
    write_bytes(ck, orig, n);
    r = tu_run("%s train --resume %s -q --set train.total_steps=400", tu_bdrl(), dir);
    if (r.status != 0)
        fail_msg("resume exited %d: %s", r.status, r.err);
    tu_run_free(&r);
    free(orig);
}

/* ---- numerical guards ---- */

static agent_ops poison_ops;
static const agent_ops *real_ops;
static int poison_n, poison_every_from;
static int poison_at[8], n_poison;
static int poison_kind; /* 0: a parameter NaN, 1: +Inf, 2: the gradient norm +Inf */

static int poison_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    int rc = real_ops->update(a, b, st, e);
    poison_n++;
    int hit = poison_every_from > 0 && poison_n >= poison_every_from;
    for (int i = 0; i < n_poison; i++)
        hit |= poison_n == poison_at[i];
    if (hit) {
        if (poison_kind == 2)
            st->grad_norm = INFINITY;
        else
            c51_online(a)->params[3] = poison_kind == 0 ? NAN : INFINITY;
    }
    return rc;
}

static agent *make_poison_agent(const exp_config *cfg, const env *en, rng *init, bdrl_err *e)
{
    agent *a = agent_create(cfg, en, init, e);
    if (!a)
        return NULL;
    real_ops = a->ops;
    poison_ops = *a->ops;
    poison_ops.update = poison_update;
    a->ops = &poison_ops;
    poison_n = 0;
    return a;
}

static void test_nonfinite_stops_naming_step_and_quantity(void **state)
{
    (void)state;
    static const char *const sets[] = {C51_SETS, "train.total_steps=2000", "train.checkpoint_interval=500",
                                       "eval.interval=500", NULL};
    exp_config c;
    load_cfg(&c, sets);
    const char *want[3] = {"c51 network parameter 3 (nan)", "c51 network parameter 3 (+inf)",
                           "the gradient norm is +inf"};
    for (int k = 0; k < 3; k++) {
        char dir[700], ck[800];
        snprintf(dir, sizeof dir, "%s/poison%d", tu_dir, k);
        poison_kind = k;
        n_poison = 1;
        poison_at[0] = 700; /* update 700 happens after step 750 */
        poison_every_from = 0;
        train_options o = {NULL, NULL, 0, 0, make_poison_agent, NULL};
        train_result res;
        bdrl_err e;
        assert_int_equal(train_run(&c, dir, &o, &res, &e), -1);
        assert_contains(e.msg, "training diverged at step 750 (update 700)");
        assert_contains(e.msg, want[k]);
        assert_contains(e.msg, "the checkpoint of step 500 is intact");
        snprintf(ck, sizeof ck, "%s/checkpoint.bin", dir);
        int64_t step;
        assert_int_equal(train_verify_checkpoint(&c, ck, &step, &e), 0);
        assert_int_equal(step, 500);
        char p[800];
        snprintf(p, sizeof p, "%s/summary.json", dir);
        char *js = tu_read(p);
        assert_contains(js, "\"status\": \"diverged\"");
        free(js);
    }
}

static void test_nonfinite_skip_mode_counts(void **state)
{
    (void)state;
    static const char *const sets[] = {C51_SETS, "train.total_steps=1000", "train.checkpoint_interval=500",
                                       "eval.interval=500", "train.nonfinite=skip", NULL};
    exp_config c;
    load_cfg(&c, sets);
    char dir[700], p[800];
    snprintf(dir, sizeof dir, "%s/skip", tu_dir);
    poison_kind = 0;
    n_poison = 3;
    poison_at[0] = 100, poison_at[1] = 101, poison_at[2] = 600;
    poison_every_from = 0;
    train_options o = {NULL, NULL, 0, 0, make_poison_agent, NULL};
    train_result res;
    bdrl_err e;
    if (train_run(&c, dir, &o, &res, &e))
        fail_msg("%s", e.msg);
    assert_int_equal(res.skipped_updates, 3);
    snprintf(p, sizeof p, "%s/summary.json", dir);
    char *js = tu_read(p);
    assert_contains(js, "\"skipped_updates\": 3");
    assert_contains(js, "\"status\": \"finished\"");
    free(js);
    /* the undone updates left no trace: every parameter is finite */
    exp_config c2 = c;
    env *en;
    agent *a = make(&c2, &en);
    snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
    assert_int_equal(ckpt_read_agent(p, &c2, a, NULL, &e), 0);
    char what[160];
    assert_int_equal(agent_params_nonfinite(a, what, sizeof what), 0);
    agent_free(a);
    env_free(en);
    /* every update bad: stops after TRAIN_MAX_SKIPS_IN_A_ROW in a row */
    snprintf(dir, sizeof dir, "%s/skip_all", tu_dir);
    n_poison = 0;
    poison_every_from = 1;
    assert_int_equal(train_run(&c, dir, &o, &res, &e), -1);
    assert_contains(e.msg, "100 updates in a row were non-finite");
    poison_every_from = 0;
}

/* Both field forms: their parameter blocks differ (basis: one network per
 * field; grid: a torso and a head per field). */
static void test_bd_parameter_check(void **state)
{
    (void)state;
    static const char *const sets[] = {BD_SETS, NULL};
    static const char *const grid[] = {BD_SETS, "bd.field=grid", "bd.head=[8]", "bd.grid=16", "bd.fourier_k=2",
                                       "bd.queries=2", NULL};
    for (int k = 0; k < 2; k++) {
        exp_config c;
        load_cfg(&c, k ? grid : sets);
        env *en;
        agent *a = make(&c, &en);
        char what[160];
        assert_int_equal(agent_params_nonfinite(a, what, sizeof what), 0);
        mlp *g = k ? bd_grid_net(a, BD_FIELD_G, 1, 0) : bd_net(a, BD_FIELD_G, 0);
        g->params[5] = -INFINITY;
        assert_int_equal(agent_params_nonfinite(a, what, sizeof what), 1);
        assert_string_equal(what, k ? "bd gradient-field head parameter 5 (-inf)"
                                    : "bd gradient-field network parameter 5 (-inf)");
        agent_free(a);
        env_free(en);
    }
}

static void test_env_step_after_end_is_refused(void **state)
{
    (void)state;
    env_config ec;
    env_config_defaults(&ec, "cartpole");
    bdrl_err e;
    env *en = env_create(&ec, &e);
    env_step st = env_do_step(en, 0); /* before any reset */
    assert_int_equal(st.refused, 1);
    uint64_t s = 1;
    env_reset(en, &s);
    st = env_do_step(en, 7); /* no such action */
    assert_int_equal(st.refused, 1);
    do
        st = env_do_step(en, 1);
    while (!st.terminated && !st.truncated);
    assert_int_equal(st.refused, 0);
    double before[4], after[4];
    env_get_state(en, before);
    st = env_do_step(en, 1); /* after termination: refused, nothing changes */
    assert_int_equal(st.refused, 1);
    assert_true(st.terminated && st.truncated && st.reward == 0);
    env_get_state(en, after);
    assert_memory_equal(before, after, sizeof before);
    env_free(en);
}

/* ---- resource limits ---- */

static void test_limits_refuse_before_allocation(void **state)
{
    (void)state;
    unsetenv("BDRL_MAX_MEMORY");
    static const char *const huge_replay[] = {"env.name=cartpole", "train.buffer_size=1e9", NULL};
    static const char *const huge_net[] = {"env.name=cartpole", "agent.kind=c51", "agent.hidden=[8192, 8192, 8192, 8192, 8192, 8192, 8192, 8192]",
                                           "train.batch_size=65536", NULL};
    static const char *const normal[] = {"env.name=cartpole", NULL};
    exp_config c;
    bdrl_err e;
    env *en;
    env_config ec;
    env_config_defaults(&ec, "cartpole");
    en = env_create(&ec, &e);
    setenv("BDRL_MAX_MEMORY", "16G", 1);
    load_cfg(&c, huge_replay);
    assert_int_equal(limits_check_experiment(&c, en, &e), -1);
    assert_contains(e.msg, "replay buffer");
    assert_contains(e.msg, "lower train.buffer_size");
    assert_contains(e.msg, "limit of 16.0 GiB (BDRL_MAX_MEMORY)");
    load_cfg(&c, huge_net);
    assert_int_equal(limits_check_experiment(&c, en, &e), -1);
    assert_contains(e.msg, "networks and their buffers");
    load_cfg(&c, normal);
    assert_int_equal(limits_check_experiment(&c, en, &e), 0);
    sizing_estimate est;
    limits_estimate_experiment(&c, en, &est);
    /* 100000 slots of 4 floats + action, reward, flags, side-store index
     * (train/replay.h: each observation once) = 3.0 MB, a side store of one
     * observation per 16 transitions (4 floats + an index), and three
     * observations aside */
    assert_close(est.replay, 100000.0 * 30 + 6250.0 * 20 + 3 * 16, 1);
    assert_true(est.total > est.replay && est.total < 1e9);
    setenv("BDRL_MAX_MEMORY", "lots", 1);
    assert_int_equal(limits_check_experiment(&c, en, &e), -1);
    assert_contains(e.msg, "BDRL_MAX_MEMORY='lots'");
    unsetenv("BDRL_MAX_MEMORY");
    env_free(en);

    /* the command line: one line, exit 2, nothing created */
    char out[700];
    snprintf(out, sizeof out, "%s/limit_run", tu_dir);
    tu_result r = tu_run("BDRL_MAX_MEMORY=1M %s train %s/configs/cartpole_c51.yaml --out %s -q", tu_bdrl(), tu_root(), out);
    assert_int_equal(r.status, 2);
    assert_int_equal(lines(r.err), 1);
    assert_contains(r.err, "more than the limit of 1.0 MiB");
    tu_run_free(&r);
    assert_false(access(out, F_OK) == 0);
    r = tu_run("%s train %s/configs/cartpole_c51.yaml --set train.buffer_size=1e9 --out %s -q", tu_bdrl(), tu_root(), out);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "lower train.buffer_size");
    tu_run_free(&r);
    assert_false(access(out, F_OK) == 0);
    r = tu_run("BDRL_MAX_MEMORY=1M %s fit %s/configs/fit/mog1d.yaml --out %s/limit_fit -q", tu_bdrl(), tu_root(), tu_dir);
    assert_int_equal(r.status, 2);
    assert_contains(r.err, "this fit needs about");
    tu_run_free(&r);
    r = tu_run("%s train --help", tu_bdrl());
    assert_contains(r.out, "BDRL_MAX_MEMORY");
    tu_run_free(&r);
}

static void test_allocation_failure_is_reported(void **state)
{
    (void)state;
    if (UNDER_ASAN) { /* ASan reserves terabytes of address space: no ulimit -v */
        printf("skipped under AddressSanitizer\n");
        return;
    }
    char out[700];
    snprintf(out, sizeof out, "%s/oom_run", tu_dir);
    /* 40M transitions (1.25 GB) pass the limit of a normal machine but not ulimit -v 1 GB */
    tu_result r = tu_run("ulimit -v 1000000; BDRL_MAX_MEMORY=1T %s train %s/configs/cartpole_c51.yaml "
                         "--set train.buffer_size=40000000 --out %s -q",
                         tu_bdrl(), tu_root(), out);
    assert_true(r.status == 1 || r.status == 2);
    assert_contains(r.err, "out of memory");
    assert_int_equal(lines(r.err), 1);
    tu_run_free(&r);
}

/* ---- crash safety ---- */

/* Every file in a training run's directory parses; returns the checkpoint's step. */
static int64_t check_run_files(const char *dir)
{
    char p[1024];
    exp_config c;
    bdrl_err e;
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    if (exp_load(&c, p, NULL, 0, &e))
        fail_msg("%s", e.msg);
    int64_t step = -1;
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, nm);
        if (!strcmp(nm, "config.yaml"))
            continue; /* loaded above */
        if (!strcmp(nm, "metrics.csv") || !strcmp(nm, "eval.csv")) {
            if (!csv_valid(p))
                fail_msg("%s does not parse", p);
        } else if (!strcmp(nm, "summary.json")) {
            char *t = tu_read(p);
            if (!json_valid(t))
                fail_msg("%s is not valid JSON:\n%s", p, t);
            free(t);
        } else if (!strcmp(nm, "checkpoint.bin")) {
            if (train_verify_checkpoint(&c, p, &step, &e))
                fail_msg("%s", e.msg);
        } else if (!is_temporary(nm)) {
            fail_msg("unexpected file %s", p);
        }
    }
    closedir(d);
    return step;
}

static void test_sigkill_training_at_random_points(void **state)
{
    (void)state;
    unsigned seed = seed_from_env("sigkill train");
    for (int trial = 0; trial < 3; trial++) {
        char dir[700], cmd[2048], p[800];
        snprintf(dir, sizeof dir, "%s/killed%d", tu_dir, trial);
        snprintf(cmd, sizeof cmd,
                 "exec %s train %s/configs/cartpole_c51.yaml --out %s -q --set train.total_steps=50000 "
                 "--set train.learning_starts=100 --set train.checkpoint_interval=150 --set eval.interval=250 "
                 "--set eval.episodes=1 --set 'agent.hidden=[16]' --set train.buffer_size=2000",
                 tu_bdrl(), tu_root(), dir);
        pid_t pid = spawn(cmd);
        snprintf(p, sizeof p, "%s/checkpoint.bin", dir);
        wait_for(p);
        int delay = (int)(rand_r(&seed) % 1500) * 1000;
        usleep((useconds_t)delay);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        int64_t step = check_run_files(dir);
        printf("trial %d: killed %d ms after the first checkpoint; last checkpoint at step %lld, %d temporaries\n",
               trial, delay / 1000, (long long)step, count_files(dir, 1));
        assert_true(step > 0 && step % 150 == 0);
        tu_result r = tu_run("%s train --resume %s -q --set train.total_steps=%lld", tu_bdrl(), dir,
                             (long long)step + 200);
        if (r.status != 0)
            fail_msg("resume after kill exited %d: %s", r.status, r.err);
        tu_run_free(&r);
        assert_int_equal(check_run_files(dir), step + 200);
        assert_int_equal(count_files(dir, 1), 0); /* resume removed stale temporaries */
        char *js = tu_read((snprintf(p, sizeof p, "%s/summary.json", dir), p));
        assert_contains(js, "\"status\": \"finished\"");
        free(js);
    }
}

static void test_sigkill_fit_at_random_points(void **state)
{
    (void)state;
    unsigned seed = seed_from_env("sigkill fit");
    for (int trial = 0; trial < 3; trial++) {
        char dir[700], cmd[2048], p[1200];
        snprintf(dir, sizeof dir, "%s/fitkill%d", tu_dir, trial);
        snprintf(cmd, sizeof cmd,
                 "exec %s fit %s/configs/fit/mog1d.yaml --out %s -q --set train.steps=300 --set data.n_train=2000 "
                 "--set data.n_eval=500 --set field.width=16 --set sampler.steps=100",
                 tu_bdrl(), tu_root(), dir);
        pid_t pid = spawn(cmd);
        snprintf(p, sizeof p, "%s/config.yaml", dir);
        wait_for(p);
        int delay = (int)(300 + rand_r(&seed) % 2700) * 1000;
        usleep((useconds_t)delay);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        int files = 0;
        DIR *d = opendir(dir);
        struct dirent *de;
        while ((de = readdir(d))) {
            const char *nm = de->d_name;
            size_t l = strlen(nm);
            if (nm[0] == '.' || is_temporary(nm) || strstr(nm, ".gnuplot.log"))
                continue;
            files++;
            snprintf(p, sizeof p, "%s/%s", dir, nm);
            bdrl_err e;
            if (!strcmp(nm, "config.yaml")) {
                fit_config fc;
                if (fit_load(&fc, p, NULL, 0, &e))
                    fail_msg("%s", e.msg);
            } else if (l > 4 && !strcmp(nm + l - 4, ".csv")) {
                data_set *ds = data_load_csv(p, &e);
                if (!ds)
                    fail_msg("%s", e.msg);
                data_free(ds);
            } else if (l > 5 && !strcmp(nm + l - 5, ".json")) {
                char *t = tu_read(p);
                if (!json_valid(t))
                    fail_msg("%s is not valid JSON", p);
                free(t);
            } else if (l > 4 && !strcmp(nm + l - 4, ".png")) {
                size_t n;
                char *b = read_bytes(p, &n);
                assert_true(n > 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8));
                free(b);
            } else if (l > 4 && !strcmp(nm + l - 4, ".svg")) {
                char *t = tu_read(p);
                assert_non_null(strstr(t, "</svg>"));
                free(t);
            } else {
                fail_msg("unexpected file %s", p);
            }
        }
        closedir(d);
        printf("fit trial %d: killed after %d ms (%s), %d complete files\n", trial, delay / 1000,
               WIFSIGNALED(st) ? "running" : "already done", files);
    }
}

/* ---- the command line ---- */

static void test_every_command_rejects_bad_flags(void **state)
{
    (void)state;
    tu_result top = tu_run("%s --help", tu_bdrl());
    assert_int_equal(top.status, 0);
    char *p = strstr(top.out, "commands:");
    assert_non_null(p);
    int n = 0;
    for (char *l = strchr(p, '\n') + 1; l && *l == ' ' && l[2] != ' '; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char name[32];
        if (sscanf(l, " %31s", name) != 1)
            break;
        n++;
        tu_result r = tu_run("%s %s --no-such-flag", tu_bdrl(), name);
        if (r.status != 2 || lines(r.err) != 1)
            fail_msg("bdrl %s --no-such-flag: exit %d, stderr:\n%s", name, r.status, r.err);
        tu_run_free(&r);
        r = tu_run("%s %s --help", tu_bdrl(), name);
        if (r.status != 0 || !strstr(r.out, "usage: bdrl"))
            fail_msg("bdrl %s --help: exit %d, stdout:\n%s", name, r.status, r.out);
        tu_run_free(&r);
    }
    assert_true(n >= 8);
    tu_run_free(&top);

    /* missing files and directories, bad values: one line, exit 2 */
    char file[700];
    snprintf(file, sizeof file, "%s/plain_file", tu_dir);
    tu_write(file, "x\n");
    const char *cases[] = {
        "config /nonexistent/x.yaml",
        "fit /nonexistent/x.yaml",
        "train /nonexistent/x.yaml",
        "eval /nonexistent/run",
        "dist /nonexistent/run --state 0",
        "sample /nonexistent/run --state 0 --action 0 -n 10",
        "truth --policy /nonexistent/run --state 0",
        "train CONFIG --set train.batch_size=abc",
        "train CONFIG --set train.batch_size",
        "train CONFIG --set no.such.key=1",
        "train CONFIG --stop-after -3",
        "train CONFIG --out FILE/sub -q --set train.total_steps=10",
        "fit FITCONFIG --set data.name=csv --set data.path=/nonexistent.csv --out FILE/fit -q",
        "fit FITCONFIG --set data.name=csv --set data.path=FILE --out DIR/badcsv -q",
        "eval FILE",
        "env rollout cartpole --actions 1,x",
        "env rollout nosuchenv --actions 1",
        "env info frozenlake --set env.map=[SFX]",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char args[1024], *o = args;
        for (const char *c = cases[i]; *c;) {
            if (!strncmp(c, "FITCONFIG", 9)) {
                o += sprintf(o, "%s/configs/fit/mog1d.yaml", tu_root());
                c += 9;
            } else if (!strncmp(c, "CONFIG", 6)) {
                o += sprintf(o, "%s/configs/cartpole_c51.yaml", tu_root());
                c += 6;
            } else if (!strncmp(c, "FILE", 4)) {
                o += sprintf(o, "%s", file);
                c += 4;
            } else if (!strncmp(c, "DIR", 3)) {
                o += sprintf(o, "%s", tu_dir);
                c += 3;
            } else {
                *o++ = *c++;
            }
        }
        *o = '\0';
        tu_result r = tu_run("%s %s", tu_bdrl(), args);
        if (r.status != 2 || lines(r.err) != 1)
            fail_msg("bdrl %s: exit %d (expected 2), stderr:\n%s", cases[i], r.status, r.err);
        tu_run_free(&r);
    }
}

static void test_nothing_written_outside_out(void **state)
{
    (void)state;
    char bdrl[4096];
    if (!realpath(tu_bdrl(), bdrl))
        fail_msg("no bdrl at %s", tu_bdrl());
    char cwd[700], out[700], fout[700];
    snprintf(cwd, sizeof cwd, "%s/cwd", tu_dir);
    snprintf(out, sizeof out, "%s/elsewhere_run", tu_dir);
    snprintf(fout, sizeof fout, "%s/elsewhere_fit", tu_dir);
    mkdir(cwd, 0755);
    tu_result r = tu_run("cd %s && %s train %s/configs/frozenlake4_c51.yaml --out %s -q --set train.total_steps=300 "
                         "--set eval.episodes=2 && %s fit %s/configs/fit/mog1d.yaml --out %s -q --set train.steps=50 "
                         "--set data.n_train=500 --set data.n_eval=100 --set sampler.steps=20 --set field.width=8",
                         cwd, bdrl, tu_root(), out, bdrl, tu_root(), fout);
    if (r.status != 0)
        fail_msg("exit %d: %s", r.status, r.err);
    tu_run_free(&r);
    DIR *d = opendir(cwd);
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            fail_msg("%s/%s was written outside --out", cwd, de->d_name);
    closedir(d);
    assert_int_equal(count_files(out, 1), 0);
    assert_int_equal(count_files(fout, 1), 0);
    assert_true(count_files(fout, 0) >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_damage_is_refused),
        cmocka_unit_test(test_resume_refuses_damage_and_changes_nothing),
        cmocka_unit_test(test_nonfinite_stops_naming_step_and_quantity),
        cmocka_unit_test(test_nonfinite_skip_mode_counts),
        cmocka_unit_test(test_bd_parameter_check),
        cmocka_unit_test(test_env_step_after_end_is_refused),
        cmocka_unit_test(test_limits_refuse_before_allocation),
        cmocka_unit_test(test_allocation_failure_is_reported),
        cmocka_unit_test(test_sigkill_training_at_random_points),
        cmocka_unit_test(test_sigkill_fit_at_random_points),
        cmocka_unit_test(test_every_command_rejects_bad_flags),
        cmocka_unit_test(test_nothing_written_outside_out),
    };
    return cmocka_run_group_tests_name("reliability", tests, tu_group_setup, tu_group_teardown);
}
