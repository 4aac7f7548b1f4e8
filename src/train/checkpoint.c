/* checkpoint.c — the checkpoint container (see checkpoint.h for the
 * layout): header and shape words, the agent and replay sections, the
 * trainer's opaque section, the checksum; and the checks on opening. */
#include "train/checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "agents/registry.h"
#include "core/io.h"
#include "fields/mlp.h"

#define CKPT_MAGIC "BDRLCKPT"
#define CKPT_WIDTHS 8 /* width slots per network in the header (EXP_MAX_HIDDEN) */
_Static_assert(EXP_MAX_HIDDEN <= CKPT_WIDTHS, "the checkpoint header holds 8 widths per network");

/* The header's shape words: what the agent's networks and the trainer's
 * buffers look like, so a checkpoint from another configuration is refused
 * (naming the key) before anything is read. The agent area holds the agent
 * kind's own shape keys (its registry entry); unused words are 0. */
enum {
    SH_KIND, SH_OBS, SH_ACTIONS,
    SH_NHIDDEN, SH_HIDDEN, SH_ACTIVATION = SH_HIDDEN + CKPT_WIDTHS,
    SH_AGENT, SH_BATCH = SH_AGENT + AGENT_SHAPE_WORDS,
    SH_CONV, /* the word format 2 reserved (0): agent.conv's front, 0 = none (conv_word) */
    SH_N
};
_Static_assert(SH_N == 28, "checkpoint formats 2 and 3 have 27 shape words and the conv word");
/* magic, version, header bytes, shape words, buffer size, step, three
 * section sizes */
#define CKPT_OFF_SHAPE 16
#define CKPT_OFF_BUFFER (CKPT_OFF_SHAPE + 4 * SH_N)
#define CKPT_OFF_STEP (CKPT_OFF_BUFFER + 8)
#define CKPT_OFF_SECTIONS (CKPT_OFF_STEP + 8)
#define CKPT_HEADER (CKPT_OFF_SECTIONS + 3 * 8)

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *c = p;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int put(FILE *f, const void *p, size_t n) { return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1; }

/* agent.conv in one word: agent.conv_kernel (bits 0-7), the number of
 * layers (8-11) and 20 bits of an FNV-1a hash of the channel counts
 * (12-31); 0 without conv layers, as in every checkpoint written before
 * them. Two channel lists that share the hash bits still differ in the
 * network records, which mlp_load compares in full. */
static uint32_t conv_word(const exp_config *cfg)
{
    const exp_widths *c = &cfg->agent.conv;
    if (c->n == 0)
        return 0;
    uint32_t h = 2166136261u;
    for (int i = 0; i < c->n; i++)
        h = (h ^ (uint32_t)c->w[i]) * 16777619u;
    return ((uint32_t)cfg->agent.conv_kernel & 0xff) | (uint32_t)c->n << 8 | (h & 0xfffff) << 12;
}

/* Names the agent.conv key that differs between two conv words. */
static int conv_diff(const char *path, const char *pre, uint32_t have, uint32_t want, bdrl_err *e)
{
    unsigned kh = have & 0xff, kw = want & 0xff, nh = have >> 8 & 0xf, nw = want >> 8 & 0xf;
    if (!have || !want)
        return err_set(e, "%s: %s: agent.conv has %u layers in the checkpoint, %u in the config", path, pre, nh, nw);
    if (kh != kw)
        return err_set(e, "%s: %s: agent.conv_kernel is %u in the checkpoint, %u in the config", path, pre, kh, kw);
    if (nh != nw)
        return err_set(e, "%s: %s: agent.conv has %u layers in the checkpoint, %u in the config", path, pre, nh, nw);
    return err_set(e, "%s: %s: agent.conv has other channel counts in the checkpoint than in the config", path, pre);
}

static void shape_of(const exp_config *cfg, int obs_dim, int n_actions, uint32_t *sh, int64_t *buffer)
{
    memset(sh, 0, sizeof(uint32_t) * SH_N);
    sh[SH_KIND] = (uint32_t)cfg->agent.kind;
    sh[SH_OBS] = (uint32_t)obs_dim;
    sh[SH_ACTIONS] = (uint32_t)n_actions;
    sh[SH_NHIDDEN] = (uint32_t)cfg->agent.hidden.n;
    for (int i = 0; i < cfg->agent.hidden.n && i < CKPT_WIDTHS; i++)
        sh[SH_HIDDEN + i] = (uint32_t)cfg->agent.hidden.w[i];
    sh[SH_ACTIVATION] = (uint32_t)cfg->agent.activation;
    const agent_class *c = agent_class_of(cfg->agent.kind);
    for (int k = 0; c && k < c->n_shape; k++) {
        const agent_shape_key *key = &c->shape[k];
        const void *field = (const char *)cfg + key->offset;
        uint32_t *w = sh + SH_AGENT + key->slot;
        if (key->widths) {
            const exp_widths *ws = field;
            w[0] = (uint32_t)ws->n;
            for (int i = 0; i < ws->n && i < CKPT_WIDTHS; i++)
                w[1 + i] = (uint32_t)ws->w[i];
        } else {
            w[0] = (uint32_t) * (const int *)field;
        }
    }
    sh[SH_BATCH] = (uint32_t)cfg->train.batch_size;
    sh[SH_CONV] = conv_word(cfg);
    *buffer = cfg->train.buffer_size;
}

static void fmt_widths(const uint32_t *w, uint32_t n, char *b, size_t cap)
{
    size_t k = (size_t)snprintf(b, cap, "[");
    for (uint32_t i = 0; i < n && i < CKPT_WIDTHS && k < cap; i++)
        k += (size_t)snprintf(b + k, cap - k, "%s%u", i ? ", " : "", w[i]);
    if (k < cap)
        snprintf(b + k, cap - k, "]");
}

static const char *kind_name(uint32_t k)
{
    const char *n = agent_kind_name(k > INT32_MAX ? -1 : (int)k);
    return n ? n : "unknown";
}

/* Names a difference in one key: a single word at `at`, or a width list
 * with its count at `at`; 0 if equal. */
static int key_diff(const char *path, const char *key, int list, const uint32_t *have, const uint32_t *want,
                    bdrl_err *e)
{
    char a[128], b[128];
    if (list) {
        if (have[0] == want[0] && !memcmp(have + 1, want + 1, sizeof(uint32_t) * CKPT_WIDTHS))
            return 0;
        fmt_widths(have + 1, have[0], a, sizeof a);
        fmt_widths(want + 1, want[0], b, sizeof b);
    } else {
        if (have[0] == want[0])
            return 0;
        snprintf(a, sizeof a, "%u", have[0]);
        snprintf(b, sizeof b, "%u", want[0]);
    }
    return err_set(e, "%s: checkpoint from a different configuration: %s is %s in the checkpoint, %s in the config",
                   path, key, a, b);
}

/* Names the first difference between a checkpoint's shape (have) and the one
 * the configuration makes (want); 0 if they agree. */
static int shape_diff(const char *path, const uint32_t *have, int64_t buf_have, const uint32_t *want,
                      int64_t buf_want, bdrl_err *e)
{
    const char *pre = "checkpoint from a different configuration";
    if (have[SH_KIND] != want[SH_KIND])
        return err_set(e, "%s: %s: agent.kind is %s in the checkpoint, %s in the config", path, pre,
                       kind_name(have[SH_KIND]), kind_name(want[SH_KIND]));
    if (have[SH_OBS] != want[SH_OBS] || have[SH_ACTIONS] != want[SH_ACTIONS])
        return err_set(e, "%s: %s: the environment has %u observations and %u actions in the checkpoint, "
                          "%u and %u in the config (env.*)",
                       path, pre, have[SH_OBS], have[SH_ACTIONS], want[SH_OBS], want[SH_ACTIONS]);
    if (key_diff(path, "agent.hidden", 1, have + SH_NHIDDEN, want + SH_NHIDDEN, e))
        return -1;
    if (have[SH_ACTIVATION] != want[SH_ACTIVATION]) {
        const char *a = mlp_act_name((mlp_act)have[SH_ACTIVATION]), *b = mlp_act_name((mlp_act)want[SH_ACTIVATION]);
        return err_set(e, "%s: %s: agent.activation is %s in the checkpoint, %s in the config", path, pre,
                       a ? a : "?", b ? b : "?");
    }
    if (have[SH_CONV] != want[SH_CONV])
        return conv_diff(path, pre, have[SH_CONV], want[SH_CONV], e);
    const agent_class *c = agent_class_of((int)want[SH_KIND]);
    for (int k = 0; c && k < c->n_shape; k++) {
        int at = SH_AGENT + c->shape[k].slot;
        if (key_diff(path, c->shape[k].key, c->shape[k].widths, have + at, want + at, e))
            return -1;
    }
    if (key_diff(path, "train.batch_size", 0, have + SH_BATCH, want + SH_BATCH, e))
        return -1;
    if (buf_have != buf_want)
        return err_set(e, "%s: %s: train.buffer_size is %lld in the checkpoint, %lld in the config", path, pre,
                       (long long)buf_have, (long long)buf_want);
    return 0;
}

int ckpt_write(const char *path, const exp_config *cfg, const agent *a, const replay *rb, int64_t step,
               const void *trainer, size_t trainer_len, bdrl_err *e)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    if (!f)
        return err_set(e, "checkpoint: out of memory");
    unsigned char hdr[CKPT_HEADER];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, CKPT_MAGIC, 8);
    uint32_t u[2] = {CKPT_VERSION, CKPT_HEADER}, sh[SH_N];
    int64_t buffer;
    shape_of(cfg, a->obs_dim, a->n_actions, sh, &buffer);
    memcpy(hdr + 8, u, sizeof u);
    memcpy(hdr + CKPT_OFF_SHAPE, sh, sizeof sh);
    memcpy(hdr + CKPT_OFF_BUFFER, &buffer, 8);
    memcpy(hdr + CKPT_OFF_STEP, &step, 8);
    long p0 = put(f, hdr, sizeof hdr) ? -1 : ftell(f), p1 = -1, p2 = -1;
    if (p0 >= 0 && a->ops->save(a, f, e) == 0) {
        p1 = ftell(f);
        if (replay_save(rb, f, e) == 0)
            p2 = ftell(f);
    }
    if (p0 >= 0 && (p1 < 0 || p2 < 0)) {
        fclose(f);
        free(mem);
        return err_prefix(e, "checkpoint");
    }
    int bad = p0 < 0 || put(f, trainer, trainer_len);
    if (fclose(f) != 0 || bad || p1 < p0 || p2 < p1) {
        free(mem);
        return err_set(e, "checkpoint: out of memory");
    }
    char *m2 = realloc(mem, len + 8);
    if (!m2) {
        free(mem);
        return err_set(e, "checkpoint: out of memory");
    }
    mem = m2;
    uint64_t sec[3] = {(uint64_t)(p1 - p0), (uint64_t)(p2 - p1), (uint64_t)len - (uint64_t)p2};
    memcpy(mem + CKPT_OFF_SECTIONS, sec, sizeof sec);
    uint64_t h = fnv(mem, len);
    memcpy(mem + len, &h, 8);
    int rc = io_write_file_atomic(path, mem, len + 8, e);
    free(mem);
    return rc;
}

/* The container's own checks: magic, version, header size, section sizes
 * against the file size, checksum, step. */
static int check_container(const ckpt_file *c, bdrl_err *e)
{
    const char *path = c->path;
    const char *mem = c->mem;
    size_t len = c->len;
    uint32_t u[2];
    if (len < 16)
        return err_set(e, "%s: truncated: %zu bytes, not a checkpoint", path, len);
    if (memcmp(mem, CKPT_MAGIC, 8))
        return err_set(e, "%s: not a bdrl checkpoint (bad magic)", path);
    memcpy(u, mem + 8, sizeof u);
    if (u[0] < CKPT_VERSION_OLDEST || u[0] > CKPT_VERSION)
        return err_set(e, "%s: checkpoint format version %u, this build reads versions %u to %u%s", path, u[0],
                       CKPT_VERSION_OLDEST, CKPT_VERSION,
                       u[0] < CKPT_VERSION_OLDEST ? " (written by an older bdrl; retrain or use that version)"
                                                  : " (written by a newer bdrl)");
    if (u[1] != CKPT_HEADER)
        return err_set(e, "%s: corrupted: header of %u bytes, version %u has %d", path, u[1], u[0], CKPT_HEADER);
    if (len < CKPT_HEADER + 8)
        return err_set(e, "%s: truncated: %zu bytes, shorter than the header", path, len);
    const uint64_t *sec = c->sec;
    uint64_t body = (uint64_t)len - 8 - CKPT_HEADER;
    if (sec[0] > body || sec[1] > body || sec[2] > body || sec[0] + sec[1] + sec[2] != body) {
        uint64_t want = sec[0] + sec[1] + sec[2];
        if (sec[0] <= body && sec[1] <= body && sec[2] <= body && want > body)
            return err_set(e, "%s: truncated: %zu bytes, the header announces %llu", path, len,
                           (unsigned long long)(want + CKPT_HEADER + 8));
        return err_set(e, "%s: corrupted: section sizes do not add up to the file size", path);
    }
    uint64_t sum;
    memcpy(&sum, mem + len - 8, 8);
    if (sum != fnv(mem, len - 8))
        return err_set(e, "%s: corrupted (checksum mismatch)", path);
    /* Every header field in the range a run can write: a valid checksum
     * only says the bytes are the writer's, not that the writer was bdrl. */
    if (c->step < 0 || c->step > EXP_MAX_TOTAL_STEPS)
        return err_set(e, "%s: corrupted: step %lld is outside [0, %lld]", path, (long long)c->step,
                       (long long)EXP_MAX_TOTAL_STEPS);
    if (c->buffer_size < 1 || c->buffer_size > EXP_MAX_BUFFER_SIZE)
        return err_set(e, "%s: corrupted: train.buffer_size %lld is outside [1, %lld]", path,
                       (long long)c->buffer_size, (long long)EXP_MAX_BUFFER_SIZE);
    if (sec[0] == 0)
        return err_set(e, "%s: corrupted: empty agent section", path);
    return 0;
}

/* The shapes against cfg (every key), or without cfg the kind and the
 * environment's sizes against a. */
static int check_shapes(const ckpt_file *c, const agent *a, const exp_config *cfg, bdrl_err *e)
{
    uint32_t have[SH_N], want[SH_N];
    int64_t buf_want;
    memcpy(have, c->mem + CKPT_OFF_SHAPE, sizeof have);
    if (cfg) {
        shape_of(cfg, a->obs_dim, a->n_actions, want, &buf_want);
        return shape_diff(c->path, have, c->buffer_size, want, buf_want, e);
    }
    if (have[SH_KIND] != (uint32_t)agent_kind_of(a) || have[SH_OBS] != (uint32_t)a->obs_dim ||
        have[SH_ACTIONS] != (uint32_t)a->n_actions)
        return err_set(e, "%s: checkpoint of a %s agent with %u observations and %u actions; the config makes "
                          "a %s agent with %d and %d",
                       c->path, kind_name(have[SH_KIND]), have[SH_OBS], have[SH_ACTIONS], a->ops->name, a->obs_dim,
                       a->n_actions);
    return 0;
}

int ckpt_open(ckpt_file *c, const char *path, const agent *a, const exp_config *cfg, bdrl_err *e)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    if (!(c->mem = io_read_regular_file(path, &c->len, e)))
        return -1;
    if (c->len >= CKPT_HEADER) {
        memcpy(&c->buffer_size, c->mem + CKPT_OFF_BUFFER, 8);
        memcpy(&c->step, c->mem + CKPT_OFF_STEP, 8);
        memcpy(c->sec, c->mem + CKPT_OFF_SECTIONS, sizeof c->sec);
    }
    if (c->len >= 16)
        memcpy(&c->version, c->mem + 8, sizeof c->version);
    if (check_container(c, e) || check_shapes(c, a, cfg, e)) {
        ckpt_close(c);
        return -1;
    }
    return 0;
}

void ckpt_close(ckpt_file *c)
{
    free(c->mem);
    c->mem = NULL;
}

/* A read stream over section k (a zero-length section reads as empty). */
static FILE *section(const ckpt_file *c, int k, bdrl_err *e)
{
    size_t off = CKPT_HEADER;
    for (int i = 0; i < k; i++)
        off += (size_t)c->sec[i];
    /* fmemopen refuses size 0: a one-byte window read as empty */
    FILE *f = fmemopen(c->mem + off, c->sec[k] ? (size_t)c->sec[k] : 1, "rb");
    if (!f)
        err_set(e, "%s: out of memory", c->path);
    else if (!c->sec[k])
        fseek(f, 1, SEEK_SET);
    return f;
}

int ckpt_load_agent(const ckpt_file *c, agent *a, bdrl_err *e)
{
    FILE *s = section(c, 0, e);
    if (!s)
        return -1;
    int rc = a->ops->load(a, s, e);
    if (!rc && ftell(s) != (long)c->sec[0])
        rc = err_set(e, "agent section of %llu bytes, the %s agent read %ld", (unsigned long long)c->sec[0],
                     a->ops->name, ftell(s));
    fclose(s);
    return rc ? err_prefix(e, "%s", c->path) : 0;
}

int ckpt_load_replay(const ckpt_file *c, replay *rb, bdrl_err *e)
{
    FILE *s = section(c, 1, e);
    if (!s)
        return -1;
    int rc = replay_load(rb, s, e);
    if (rc)
        err_prefix(e, "%s", c->path);
    else if (ftell(s) != (long)c->sec[1] || fgetc(s) != EOF)
        rc = err_set(e, "%s: corrupted: the replay section is not %llu bytes", c->path,
                     (unsigned long long)c->sec[1]);
    fclose(s);
    return rc;
}

FILE *ckpt_trainer_stream(const ckpt_file *c, bdrl_err *e) { return section(c, 2, e); }

int ckpt_read_agent(const char *path, const exp_config *cfg, agent *a, int64_t *step, bdrl_err *e)
{
    ckpt_file c;
    if (ckpt_open(&c, path, a, cfg, e))
        return -1;
    int rc = ckpt_load_agent(&c, a, e);
    if (!rc && step)
        *step = c.step;
    ckpt_close(&c);
    return rc;
}

int ckpt_read_replay(const char *path, const exp_config *cfg, const agent *a, replay **out, bdrl_err *e)
{
    ckpt_file c;
    *out = NULL;
    if (ckpt_open(&c, path, a, cfg, e))
        return -1;
    const env_kind_info *k = env_kind_describe(cfg->env.kind);
    replay_spec rs;
    replay_spec_of(&rs, cfg, a->obs_dim, k && k->obs_binary);
    replay *rb = replay_create_spec(&rs, e);
    int rc = !rb || ckpt_load_replay(&c, rb, e) ? -1 : 0;
    if (rc)
        replay_free(rb);
    else
        *out = rb;
    ckpt_close(&c);
    return rc;
}
