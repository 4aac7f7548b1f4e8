/* replay.c — the replay ring: storage, n-step windows, prioritized draws,
 * save/load; see replay.h. */
#include "train/replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* observations as stored                                                   */

/* The stored form of one observation: its floats, or one bit per component
 * (bit c % 8 of byte c / 8, low bit first; the last byte's spare bits 0).
 * Returns -1 (and the offending component in *bad) for a binary replay's
 * value other than +0.0f or 1.0f: -0.0f is refused too, since it would
 * come back as +0.0f and the batch would not be the observation given. */
static int encode(const replay *r, const float *x, unsigned char *out, int *bad)
{
    if (!r->spec.binary) {
        memcpy(out, x, r->obs_bytes);
        return 0;
    }
    memset(out, 0, r->obs_bytes);
    for (int c = 0; c < r->obs_dim; c++) {
        if (x[c] == 1.0f)
            out[c >> 3] |= (unsigned char)(1u << (c & 7));
        else if (!(x[c] == 0.0f && !signbit(x[c]))) {
            *bad = c;
            return -1;
        }
    }
    return 0;
}

static void decode(const replay *r, const unsigned char *s, float *out)
{
    if (!r->spec.binary) {
        memcpy(out, s, r->obs_bytes);
        return;
    }
    for (int c = 0; c < r->obs_dim; c++)
        out[c] = (s[c >> 3] >> (c & 7)) & 1u ? 1.0f : 0.0f;
}

static size_t obs_bytes_of(const replay_spec *s)
{
    return s->binary ? ((size_t)s->obs_dim + 7) / 8 : (size_t)s->obs_dim * sizeof(float);
}

static unsigned char *slot_obs(const replay *r, int64_t i) { return r->obs + (size_t)i * r->obs_bytes; }

static int64_t newest_slot(const replay *r) { return (r->pos + r->capacity - 1) % r->capacity; }

/* Where slot i's next observation is stored (replay.h). */
static const unsigned char *next_of(const replay *r, int64_t i)
{
    if (i == newest_slot(r))
        return r->newest_next;
    if (r->aside[i] >= 0)
        return r->side + (size_t)r->aside[i] * r->obs_bytes;
    return slot_obs(r, (i + 1) % r->capacity);
}

/* ------------------------------------------------------------------------ */
/* create / free                                                            */

void replay_spec_of(replay_spec *s, const exp_config *cfg, int obs_dim, int binary)
{
    memset(s, 0, sizeof *s);
    s->capacity = cfg->train.buffer_size;
    s->obs_dim = obs_dim;
    s->binary = binary != 0;
    s->n_step = cfg->agent.n_step;
    s->gamma = cfg->agent.gamma;
    s->prioritized = cfg->replay.prioritized != 0;
    s->alpha = cfg->replay.alpha;
    s->eps = cfg->replay.eps;
}

replay *replay_create_spec(const replay_spec *s, bdrl_err *e)
{
    if (s->capacity < 1 || s->obs_dim < 1 || s->capacity > INT32_MAX) {
        err_set(e, "replay: capacity %lld must be in [1, %d] and obs_dim %d >= 1", (long long)s->capacity,
                INT32_MAX, s->obs_dim);
        return NULL;
    }
    if (s->n_step < 1) {
        err_set(e, "replay: n_step %d must be >= 1", s->n_step);
        return NULL;
    }
    replay *r = err_calloc(1, sizeof *r, e);
    if (!r)
        return NULL;
    r->spec = *s;
    r->capacity = s->capacity;
    r->obs_dim = s->obs_dim;
    r->obs_bytes = obs_bytes_of(s);
    r->max_priority = 1;
    size_t n = (size_t)s->capacity;
    if (!(r->obs = err_calloc(n, r->obs_bytes, e)) || !(r->action = err_calloc(n, sizeof(int), e)) ||
        !(r->reward = err_calloc(n, sizeof(float), e)) || !(r->terminated = err_calloc(n, 1, e)) ||
        !(r->truncated = err_calloc(n, 1, e)) || !(r->aside = err_malloc(n * sizeof(int32_t), e)) ||
        !(r->newest_next = err_calloc(1, r->obs_bytes, e)) || !(r->scratch = err_calloc(2, r->obs_bytes, e)) ||
        (s->prioritized && !(r->tree = sumtree_create(s->capacity, e)))) {
        err_prefix(e, "replay buffer of %lld transitions", (long long)s->capacity);
        replay_free(r);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        r->aside[i] = -1;
    return r;
}

replay *replay_create(int64_t capacity, int obs_dim, bdrl_err *e)
{
    replay_spec s = {.capacity = capacity, .obs_dim = obs_dim, .n_step = 1, .gamma = 1};
    return replay_create_spec(&s, e);
}

void replay_free(replay *r)
{
    if (!r)
        return;
    free(r->obs);
    free(r->action);
    free(r->reward);
    free(r->terminated);
    free(r->truncated);
    free(r->aside);
    free(r->newest_next);
    free(r->scratch);
    free(r->side);
    free(r->side_free);
    sumtree_free(r->tree);
    free(r);
}

/* Per slot: its observation, action, reward, two flags and its side-store
 * index; the side store's entry (observation and free-stack index); beside
 * them the newest's next observation and replay_add's two scratch ones. */
static double slot_bytes(size_t obs_bytes) { return (double)obs_bytes + sizeof(int) + sizeof(float) + 2 + 4; }
static double side_entry_bytes(size_t obs_bytes) { return (double)obs_bytes + 4; }

double replay_estimate_bytes(const replay_spec *s)
{
    size_t ob = obs_bytes_of(s);
    double c = (double)s->capacity;
    return c * slot_bytes(ob) + (c / 16) * side_entry_bytes(ob) + (s->prioritized ? sumtree_bytes(s->capacity) : 0) +
           3.0 * (double)ob;
}

double replay_bytes(const replay *r)
{
    return (double)r->capacity * slot_bytes(r->obs_bytes) + (double)r->side_cap * side_entry_bytes(r->obs_bytes) +
           (r->tree ? sumtree_bytes(r->capacity) : 0) + 3.0 * (double)r->obs_bytes;
}

/* ------------------------------------------------------------------------ */
/* the side store                                                           */

/* Room for one more entry (grows the store by doubling); -1 when out of
 * memory, the store unchanged. */
static int side_reserve(replay *r, bdrl_err *e)
{
    if (r->n_free > 0 || r->side_top < r->side_cap)
        return 0;
    int64_t cap = r->side_cap ? 2 * (int64_t)r->side_cap : 16;
    if (cap > r->capacity)
        cap = r->capacity; /* at most one entry per slot */
    unsigned char *s = realloc(r->side, (size_t)cap * r->obs_bytes);
    if (!s)
        return err_set(e, "replay: out of memory growing the side store to %lld observations", (long long)cap);
    r->side = s;
    int32_t *f = realloc(r->side_free, (size_t)cap * sizeof(int32_t));
    if (!f)
        return err_set(e, "replay: out of memory growing the side store to %lld observations", (long long)cap);
    r->side_free = f;
    r->side_cap = (int32_t)cap;
    return 0;
}

/* Slot i's next observation x into the side store (side_reserve first). */
static void side_put(replay *r, int64_t i, const unsigned char *x)
{
    int32_t k = r->n_free > 0 ? r->side_free[--r->n_free] : r->side_top++;
    memcpy(r->side + (size_t)k * r->obs_bytes, x, r->obs_bytes);
    r->aside[i] = k;
}

static void side_release(replay *r, int64_t i)
{
    if (r->aside[i] < 0)
        return;
    r->side_free[r->n_free++] = r->aside[i];
    r->aside[i] = -1;
}

/* ------------------------------------------------------------------------ */
/* add                                                                      */

int replay_add(replay *r, const float *obs, int action, double reward, const float *next_obs, int terminated,
               int truncated, bdrl_err *e)
{
    /* Everything that can fail comes before the first change: both
     * observations are encoded into scratch first, and the side store
     * grown if the previous newest transition needs an entry. */
    const int64_t j = r->pos, prev = r->size > 0 ? newest_slot(r) : -1;
    unsigned char *o = r->scratch, *n = r->scratch + r->obs_bytes;
    int bad = 0;
    if (encode(r, obs, o, &bad))
        return err_set(e, "replay: observation component %d is %g; this environment's observations are binary "
                          "(stored as bits), so every component must be 0 or 1", bad, (double)obs[bad]);
    if (encode(r, next_obs, n, &bad))
        return err_set(e, "replay: next observation component %d is %g; this environment's observations are "
                          "binary (stored as bits), so every component must be 0 or 1", bad, (double)next_obs[bad]);
    /* The previous newest transition's next observation: its successor's
     * (the slot written now) if the bytes agree, else the side store. A
     * capacity-1 ring overwrites the previous newest itself. The newest
     * slot never holds an entry, so at most capacity - 1 are in use here
     * and side_reserve always finds room below capacity. */
    const int split = prev >= 0 && prev != j && memcmp(r->newest_next, o, r->obs_bytes) != 0;
    if (split && side_reserve(r, e))
        return -1;
    if (split)
        side_put(r, prev, r->newest_next);
    side_release(r, j); /* the overwritten transition's entry */
    memcpy(slot_obs(r, j), o, r->obs_bytes);
    memcpy(r->newest_next, n, r->obs_bytes);
    r->action[j] = action;
    r->reward[j] = (float)reward;
    r->terminated[j] = terminated != 0;
    r->truncated[j] = truncated != 0;
    if (r->tree)
        sumtree_set(r->tree, j, r->max_priority);
    r->pos = j + 1 == r->capacity ? 0 : j + 1;
    if (r->size < r->capacity)
        r->size++;
    r->added++;
    return 0;
}

void replay_obs(const replay *r, int64_t i, float *out) { decode(r, slot_obs(r, i), out); }

void replay_next_obs(const replay *r, int64_t i, float *out) { decode(r, next_of(r, i), out); }

/* ------------------------------------------------------------------------ */
/* batches                                                                  */

int replay_batch_create(replay_batch *b, int cap, int obs_dim, bdrl_err *e)
{
    memset(b, 0, sizeof *b);
    if (cap < 1 || obs_dim < 1)
        return err_set(e, "replay batch: cap %d and obs_dim %d must be >= 1", cap, obs_dim);
    b->cap = cap;
    b->obs_dim = obs_dim;
    size_t n = (size_t)cap, no = n * (size_t)obs_dim;
    if (!(b->index = err_calloc(n, sizeof(int64_t), e)) || !(b->obs = err_calloc(no, sizeof(float), e)) ||
        !(b->action = err_calloc(n, sizeof(int), e)) || !(b->reward = err_calloc(n, sizeof(float), e)) ||
        !(b->next_obs = err_calloc(no, sizeof(float), e)) || !(b->terminated = err_calloc(n, 1, e)) ||
        !(b->truncated = err_calloc(n, 1, e)) || !(b->next_action = err_calloc(n, sizeof(int), e)) ||
        !(b->discount = err_calloc(n, sizeof(double), e)) || !(b->steps = err_calloc(n, sizeof(int), e)) ||
        !(b->weight = err_calloc(n, sizeof(float), e)) || !(b->sample_loss = err_calloc(n, sizeof(double), e))) {
        replay_batch_free(b);
        return -1;
    }
    return 0;
}

void replay_batch_free(replay_batch *b)
{
    free(b->index);
    free(b->obs);
    free(b->action);
    free(b->reward);
    free(b->next_obs);
    free(b->terminated);
    free(b->truncated);
    free(b->next_action);
    free(b->discount);
    free(b->steps);
    free(b->weight);
    free(b->sample_loss);
    memset(b, 0, sizeof *b);
}

/* Row k of b from the window that starts at slot i (replay.h): the reward
 * sum in double over the stored float rewards, γ^m as m products, and the
 * flags and next observation of the window's last slot. With N = 1 the
 * loop runs once: R = 1 x r_i (a float, exactly), γ^1 = γ. */
static void fill_row(const replay *r, int64_t i, replay_batch *b, int k)
{
    const size_t d = (size_t)r->obs_dim;
    const int64_t newest = newest_slot(r);
    const double g = r->spec.gamma;
    decode(r, slot_obs(r, i), b->obs + (size_t)k * d);
    double R = 0, disc = 1;
    int m = 0;
    int64_t j = i;
    for (;;) {
        R += disc * (double)r->reward[j];
        disc *= g;
        m++;
        if (m >= r->spec.n_step || r->terminated[j] || r->truncated[j] || j == newest || r->aside[j] >= 0)
            break;
        j = j + 1 == r->capacity ? 0 : j + 1;
    }
    b->index[k] = i;
    b->action[k] = r->action[i];
    b->reward[k] = (float)R;
    b->discount[k] = disc;
    b->steps[k] = m;
    b->terminated[k] = r->terminated[j];
    b->truncated[k] = r->truncated[j];
    decode(r, next_of(r, j), b->next_obs + (size_t)k * d);
}

static void check_draw(const replay *r, int B, const replay_batch *b)
{
    if (B < 1 || B > b->cap || r->size < 1 || b->obs_dim != r->obs_dim)
        abort(); /* contract violation (see replay.h) */
}

void replay_sample(const replay *r, rng *g, int B, replay_batch *b)
{
    check_draw(r, B, b);
    for (int k = 0; k < B; k++)
        fill_row(r, (int64_t)rng_below(g, (unsigned long)r->size), b, k);
    b->B = B;
    b->has_discount = r->spec.n_step > 1;
    b->has_weight = 0;
}

int replay_sample_prioritized(const replay *r, rng *g, int B, double beta, replay_batch *b, bdrl_err *e)
{
    check_draw(r, B, b);
    if (!r->tree)
        abort(); /* contract violation: a uniform replay has no priorities */
    const double total = sumtree_total(r->tree);
    if (!(total > 0) || !isfinite(total))
        return err_set(e, "prioritized replay: the priorities sum to %g (replay.eps 0 and losses of 0 leave "
                          "nothing to draw); set replay.eps > 0", total);
    const double seg = total / B;
    double wmax = 0;
    /* the B points first (fill_row draws nothing), searched as one batch
     * (sumtree_find_many: the same leaves) with sample_loss as scratch */
    for (int k = 0; k < B; k++)
        b->sample_loss[k] = ((double)k + rng_uniform(g)) * seg;
    sumtree_find_many(r->tree, B, b->sample_loss, b->index);
    for (int k = 0; k < B; k++) {
        const int64_t i = b->index[k];
        fill_row(r, i, b, k);
        /* (N P(i))^-β: with β = 0 every weight is 1 */
        const double w = pow((double)r->size * (sumtree_get(r->tree, i) / total), -beta);
        b->sample_loss[k] = w; /* held here until the largest is known */
        if (w > wmax)
            wmax = w;
    }
    for (int k = 0; k < B; k++)
        b->weight[k] = (float)(b->sample_loss[k] / wmax);
    b->B = B;
    b->has_discount = r->spec.n_step > 1;
    b->has_weight = 1;
    return 0;
}

static double priority_of(const replay *r, double loss)
{
    return pow((loss > 0 ? loss : 0) + r->spec.eps, r->spec.alpha);
}

int replay_update_priorities(replay *r, const replay_batch *b, const double *loss, bdrl_err *e)
{
    if (!r->tree)
        abort(); /* contract violation */
    for (int k = 0; k < b->B; k++) {
        const double p = priority_of(r, loss[k]);
        if (!isfinite(loss[k]) || !isfinite(p))
            return err_set(e, "prioritized replay: row %d's loss %g gives the priority (loss + %g)^%g = %g, "
                              "not a finite number", k, loss[k], r->spec.eps, r->spec.alpha, p);
    }
    /* in chunks, each as one batch (sumtree_set_many: the same tree as
     * sumtree_set row by row) */
    enum { CHUNK = 256 };
    double p[CHUNK];
    for (int k0 = 0; k0 < b->B; k0 += CHUNK) {
        int n = b->B - k0 < CHUNK ? b->B - k0 : CHUNK;
        for (int k = 0; k < n; k++) {
            p[k] = priority_of(r, loss[k0 + k]);
            if (p[k] > r->max_priority)
                r->max_priority = p[k];
        }
        sumtree_set_many(r->tree, n, b->index + k0, p);
    }
    return 0;
}

double replay_beta(double beta0, int64_t steps, int64_t t)
{
    if (steps < 1 || t >= steps)
        return 1;
    return beta0 + (1 - beta0) * ((double)t / (double)steps);
}

agent_batch replay_batch_view(const replay_batch *b, const int *next_action)
{
    agent_batch v = {.B = b->B, .obs = b->obs, .action = b->action, .reward = b->reward, .next_obs = b->next_obs,
                     .terminated = b->terminated, .next_action = next_action,
                     .discount = b->has_discount ? b->discount : NULL, .weight = b->has_weight ? b->weight : NULL,
                     .sample_loss = b->has_weight ? b->sample_loss : NULL};
    return v;
}

/* ------------------------------------------------------------------------ */
/* save / load
 *
 * Version 2 (this layout):
 *   char    magic[8]    "BDRLRPL\0"
 *   uint32  version     2
 *   uint32  obs_dim
 *   uint32  flags       bit 0: observations as bits; bit 1: prioritized
 *   uint32  obs_bytes   bytes of one stored observation
 *   int64   capacity, size, pos, added
 *   uint8   obs[size * obs_bytes]           slots 0 .. size - 1
 *   uint8   newest_next[obs_bytes]          (size > 0 only)
 *   int32   action[size]
 *   float   reward[size]
 *   uint8   terminated[size], truncated[size]
 *   int64   n_aside; n_aside x (int64 slot, uint8 obs[obs_bytes]), slots ascending
 *   prioritized only: double max_priority; double priority[size]
 *   uint64  FNV-1a 64 of every byte above
 * The side store is written by slot, not as it lies in memory, so the bytes
 * are a function of the buffer's content: save, load, save gives the same
 * file. The tree's inner nodes are sums of its leaves (sumtree.h) and are
 * rebuilt bit for bit from the priorities.
 *
 * Version 1 (bdrl up to 4a193a3), read and converted:
 *   magic, uint32 version 1, uint32 obs_dim, int64 capacity, size, pos, added,
 *   float obs[size * obs_dim], next_obs[size * obs_dim], int32 action[size],
 *   float reward[size], uint8 terminated[size], truncated[size], uint64 FNV-1a.
 */

#define RPL_MAGIC "BDRLRPL"
#define RPL_VERSION 2u
#define RPL_FLAG_BINARY 1u
#define RPL_FLAG_PRIORITIZED 2u

typedef struct {
    FILE *f;
    uint64_t h;
    int bad;
} hio;

static void hash(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        *h ^= c[i];
        *h *= 1099511628211ull;
    }
}

static void hw(hio *o, const void *p, size_t n)
{
    if (o->bad || n == 0)
        return;
    hash(&o->h, p, n);
    if (fwrite(p, 1, n, o->f) != n)
        o->bad = 1;
}

static int hr(hio *o, void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (fread(p, 1, n, o->f) != n)
        return -1;
    hash(&o->h, p, n);
    return 0;
}

int replay_save(const replay *r, FILE *f, bdrl_err *e)
{
    hio o = {f, 14695981039346656037ull, 0};
    char magic[8] = RPL_MAGIC;
    uint32_t u[4] = {RPL_VERSION, (uint32_t)r->obs_dim,
                     (r->spec.binary ? RPL_FLAG_BINARY : 0) | (r->tree ? RPL_FLAG_PRIORITIZED : 0),
                     (uint32_t)r->obs_bytes};
    int64_t c[4] = {r->capacity, r->size, r->pos, r->added};
    size_t n = (size_t)r->size;
    hw(&o, magic, 8);
    hw(&o, u, sizeof u);
    hw(&o, c, sizeof c);
    hw(&o, r->obs, n * r->obs_bytes);
    if (n > 0)
        hw(&o, r->newest_next, r->obs_bytes);
    hw(&o, r->action, n * sizeof(int));
    hw(&o, r->reward, n * sizeof(float));
    hw(&o, r->terminated, n);
    hw(&o, r->truncated, n);
    int64_t n_aside = 0;
    for (size_t i = 0; i < n; i++)
        n_aside += r->aside[i] >= 0;
    hw(&o, &n_aside, sizeof n_aside);
    for (size_t i = 0; i < n; i++)
        if (r->aside[i] >= 0) {
            int64_t slot = (int64_t)i;
            hw(&o, &slot, sizeof slot);
            hw(&o, r->side + (size_t)r->aside[i] * r->obs_bytes, r->obs_bytes);
        }
    if (r->tree) {
        hw(&o, &r->max_priority, sizeof(double));
        hw(&o, r->tree->node + r->tree->leaves, n * sizeof(double));
    }
    uint64_t h = o.h;
    hw(&o, &h, sizeof h);
    return o.bad ? err_set(e, "replay: write failed") : 0;
}

/* Moves t's contents into r and r's old ones into t (for t's free). */
static void swap_in(replay *r, replay *t)
{
    replay tmp = *r;
    *r = *t;
    *t = tmp;
}

/* An observation of a version-1 buffer into t's stored form. */
static int encode_v1(const replay *t, const float *x, unsigned char *out, bdrl_err *e)
{
    int bad = 0;
    if (encode(t, x, out, &bad))
        return err_set(e, "replay buffer holds the observation component %g, not 0 or 1, for an environment "
                          "whose observations are binary", (double)x[bad]);
    return 0;
}

/* The version-1 body after its magic and version: into t (new, empty). */
static int load_v1(replay *t, hio *o, bdrl_err *e)
{
    uint32_t dim;
    int64_t c[4];
    if (hr(o, &dim, sizeof dim) || hr(o, c, sizeof c))
        return err_set(e, "replay buffer truncated (in its header)");
    if ((int)dim != t->obs_dim || c[0] != t->capacity)
        return err_set(e, "replay buffer holds %lld transitions of %u floats, this run's has %lld of %d",
                       (long long)c[0], dim, (long long)t->capacity, t->obs_dim);
    if (c[1] < 0 || c[1] > c[0] || c[2] < 0 || c[2] >= c[0] || c[3] < c[1] || (c[1] < c[0] && c[2] != c[1]))
        return err_set(e, "replay buffer corrupted (size %lld, position %lld)", (long long)c[1], (long long)c[2]);
    const size_t n = (size_t)c[1], D = (size_t)t->obs_dim, no = n * D;
    float *obs = malloc(no * sizeof(float) + 1), *nobs = malloc(no * sizeof(float) + 1);
    int rc = -1;
    if (!obs || !nobs) {
        err_set(e, "out of memory loading a replay buffer of %zu transitions", n);
        goto out;
    }
    if (hr(o, obs, no * sizeof(float)) || hr(o, nobs, no * sizeof(float)) || hr(o, t->action, n * sizeof(int)) ||
        hr(o, t->reward, n * sizeof(float)) || hr(o, t->terminated, n) || hr(o, t->truncated, n)) {
        err_set(e, "replay buffer truncated");
        goto out;
    }
    uint64_t want = o->h, h;
    if (fread(&h, 1, sizeof h, o->f) != sizeof h || h != want) {
        err_set(e, "replay buffer corrupted (checksum)");
        goto out;
    }
    t->size = c[1];
    t->pos = c[2];
    t->added = c[3];
    for (size_t i = 0; i < n; i++)
        if (encode_v1(t, obs + i * D, slot_obs(t, (int64_t)i), e))
            goto out;
    if (n > 0) {
        /* Slot i's next observation where its successor's differs, as
         * replay_add would have stored it (bytes compared in stored form). */
        const int64_t newest = newest_slot(t);
        unsigned char *x = malloc(t->obs_bytes);
        if (!x) {
            err_set(e, "out of memory loading a replay buffer");
            goto out;
        }
        for (int64_t i = 0; i < (int64_t)n; i++) {
            unsigned char *dst = i == newest ? t->newest_next : x;
            if (encode_v1(t, nobs + (size_t)i * D, dst, e)) {
                free(x);
                goto out;
            }
            if (i != newest && memcmp(x, slot_obs(t, (i + 1) % t->capacity), t->obs_bytes)) {
                if (side_reserve(t, e)) {
                    free(x);
                    goto out;
                }
                side_put(t, i, x);
            }
        }
        free(x);
    }
    if (t->tree) /* every transition as if new: the largest priority, 1 */
        for (size_t i = 0; i < n; i++)
            sumtree_set(t->tree, (int64_t)i, 1);
    rc = 0;
out:
    free(obs);
    free(nobs);
    return rc;
}

/* The version-2 body after its magic and version: into t (new, empty). */
static int load_v2(replay *t, hio *o, bdrl_err *e)
{
    uint32_t u[3];
    int64_t c[4];
    if (hr(o, u, sizeof u) || hr(o, c, sizeof c))
        return err_set(e, "replay buffer truncated (in its header)");
    const int binary = (u[1] & RPL_FLAG_BINARY) != 0, prio = (u[1] & RPL_FLAG_PRIORITIZED) != 0;
    if ((int)u[0] != t->obs_dim || c[0] != t->capacity)
        return err_set(e, "replay buffer holds %lld transitions of %u observations, this run's has %lld of %d",
                       (long long)c[0], u[0], (long long)t->capacity, t->obs_dim);
    if (binary != t->spec.binary)
        return err_set(e, "replay buffer stores observations as %s, this run's as %s (environment changed?)",
                       binary ? "bits" : "floats", t->spec.binary ? "bits" : "floats");
    if (prio && !t->tree)
        return err_set(e, "replay buffer holds priorities, and this run's replay is uniform "
                          "(replay.prioritized changed?)");
    if ((u[1] & ~(RPL_FLAG_BINARY | RPL_FLAG_PRIORITIZED)) || u[2] != t->obs_bytes)
        return err_set(e, "replay buffer corrupted (flags %u, %u bytes per observation)", u[1], u[2]);
    if (c[1] < 0 || c[1] > c[0] || c[2] < 0 || c[2] >= c[0] || c[3] < c[1] || (c[1] < c[0] && c[2] != c[1]))
        return err_set(e, "replay buffer corrupted (size %lld, position %lld)", (long long)c[1], (long long)c[2]);
    const size_t n = (size_t)c[1], ob = t->obs_bytes;
    t->size = c[1];
    t->pos = c[2];
    t->added = c[3];
    if (hr(o, t->obs, n * ob) || (n > 0 && hr(o, t->newest_next, ob)) || hr(o, t->action, n * sizeof(int)) ||
        hr(o, t->reward, n * sizeof(float)) || hr(o, t->terminated, n) || hr(o, t->truncated, n))
        return err_set(e, "replay buffer truncated");
    int64_t n_aside, last = -1;
    if (hr(o, &n_aside, sizeof n_aside))
        return err_set(e, "replay buffer truncated");
    if (n_aside < 0 || n_aside > (int64_t)n)
        return err_set(e, "replay buffer corrupted (%lld observations set aside of %zu)", (long long)n_aside, n);
    unsigned char *x = malloc(ob);
    if (!x)
        return err_set(e, "out of memory loading a replay buffer");
    for (int64_t k = 0; k < n_aside; k++) {
        int64_t slot;
        if (hr(o, &slot, sizeof slot) || hr(o, x, ob)) {
            free(x);
            return err_set(e, "replay buffer truncated");
        }
        /* slots ascending, filled, and never the newest (its next
         * observation is newest_next) */
        if (slot <= last || slot >= (int64_t)n || slot == newest_slot(t)) {
            free(x);
            return err_set(e, "replay buffer corrupted (an observation set aside for slot %lld)", (long long)slot);
        }
        last = slot;
        if (side_reserve(t, e)) {
            free(x);
            return -1;
        }
        side_put(t, slot, x);
    }
    free(x);
    double maxp = 1;
    if (prio) {
        if (hr(o, &maxp, sizeof maxp) || hr(o, t->tree->node + t->tree->leaves, n * sizeof(double)))
            return err_set(e, "replay buffer truncated");
        if (!(maxp >= 1) || !isfinite(maxp))
            return err_set(e, "replay buffer corrupted (largest priority %g)", maxp);
        for (size_t i = 0; i < n; i++) {
            const double p = sumtree_get(t->tree, (int64_t)i);
            if (!(p >= 0 && p <= maxp))
                return err_set(e, "replay buffer corrupted (priority %g of slot %zu, the largest is %g)", p, i, maxp);
        }
        sumtree_rebuild(t->tree);
    } else if (t->tree) {
        for (size_t i = 0; i < n; i++)
            sumtree_set(t->tree, (int64_t)i, 1);
    }
    t->max_priority = maxp;
    uint64_t want = o->h, h;
    if (fread(&h, 1, sizeof h, o->f) != sizeof h || h != want)
        return err_set(e, "replay buffer corrupted (checksum)");
    /* what a valid writer cannot produce: flags other than 0/1, bits past
     * obs_dim (a file whose checksum holds may still not be bdrl's) */
    for (size_t i = 0; i < n; i++)
        if (t->terminated[i] > 1 || t->truncated[i] > 1)
            return err_set(e, "replay buffer corrupted (flags of slot %zu)", i);
    if (binary && t->obs_dim % 8) {
        const unsigned char spare = (unsigned char)(0xffu << (t->obs_dim % 8));
        for (size_t i = 0; i < n; i++)
            if (slot_obs(t, (int64_t)i)[ob - 1] & spare)
                return err_set(e, "replay buffer corrupted (observation bits of slot %zu)", i);
    }
    return 0;
}

int replay_load(replay *r, FILE *f, bdrl_err *e)
{
    hio o = {f, 14695981039346656037ull, 0};
    char magic[8];
    uint32_t version;
    if (hr(&o, magic, 8) || hr(&o, &version, sizeof version))
        return err_set(e, "replay buffer truncated (in its header)");
    if (memcmp(magic, RPL_MAGIC, 8))
        return err_set(e, "not a replay buffer (bad magic)");
    if (version != 1 && version != RPL_VERSION)
        return err_set(e, "replay buffer has version %u, this build reads 1 and %u", version, RPL_VERSION);
    /* Into a fresh buffer of r's spec, swapped in only when all of it was
     * read: r stays as it was on any failure. */
    replay *t = replay_create_spec(&r->spec, e);
    if (!t)
        return -1;
    int rc = version == 1 ? load_v1(t, &o, e) : load_v2(t, &o, e);
    if (!rc)
        swap_in(r, t);
    replay_free(t);
    return rc;
}
