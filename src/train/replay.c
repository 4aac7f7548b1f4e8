/* replay.c — uniform ring buffer of transitions; see replay.h. */
#include "train/replay.h"

#include <stdlib.h>
#include <string.h>

replay *replay_create(int64_t capacity, int obs_dim, bdrl_err *e)
{
    if (capacity < 1 || obs_dim < 1) {
        err_set(e, "replay: capacity %lld and obs_dim %d must be >= 1", (long long)capacity, obs_dim);
        return NULL;
    }
    replay *r = err_calloc(1, sizeof *r, e);
    if (!r)
        return NULL;
    r->capacity = capacity;
    r->obs_dim = obs_dim;
    size_t n = (size_t)capacity, no = n * (size_t)obs_dim;
    if (!(r->obs = err_calloc(no, sizeof(float), e)) || !(r->next_obs = err_calloc(no, sizeof(float), e)) ||
        !(r->action = err_calloc(n, sizeof(int), e)) || !(r->reward = err_calloc(n, sizeof(float), e)) ||
        !(r->terminated = err_calloc(n, 1, e)) || !(r->truncated = err_calloc(n, 1, e))) {
        err_prefix(e, "replay buffer of %lld transitions", (long long)capacity);
        replay_free(r);
        return NULL;
    }
    return r;
}

void replay_free(replay *r)
{
    if (!r)
        return;
    free(r->obs);
    free(r->next_obs);
    free(r->action);
    free(r->reward);
    free(r->terminated);
    free(r->truncated);
    free(r);
}

void replay_add(replay *r, const float *obs, int action, double reward, const float *next_obs,
                int terminated, int truncated)
{
    int64_t i = r->pos;
    size_t d = (size_t)r->obs_dim;
    memcpy(r->obs + (size_t)i * d, obs, d * sizeof(float));
    memcpy(r->next_obs + (size_t)i * d, next_obs, d * sizeof(float));
    r->action[i] = action;
    r->reward[i] = (float)reward;
    r->terminated[i] = terminated != 0;
    r->truncated[i] = truncated != 0;
    r->pos = i + 1 == r->capacity ? 0 : i + 1;
    if (r->size < r->capacity)
        r->size++;
    r->added++;
}

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
        !(b->truncated = err_calloc(n, 1, e)) || !(b->next_action = err_calloc(n, sizeof(int), e))) {
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
    memset(b, 0, sizeof *b);
}

void replay_sample(const replay *r, rng *g, int B, replay_batch *b)
{
    if (B < 1 || B > b->cap || r->size < 1 || b->obs_dim != r->obs_dim)
        abort(); /* contract violation (see replay.h) */
    size_t d = (size_t)r->obs_dim;
    for (int k = 0; k < B; k++) {
        int64_t i = (int64_t)rng_below(g, (unsigned long)r->size);
        b->index[k] = i;
        memcpy(b->obs + (size_t)k * d, r->obs + (size_t)i * d, d * sizeof(float));
        memcpy(b->next_obs + (size_t)k * d, r->next_obs + (size_t)i * d, d * sizeof(float));
        b->action[k] = r->action[i];
        b->reward[k] = r->reward[i];
        b->terminated[k] = r->terminated[i];
        b->truncated[k] = r->truncated[i];
    }
    b->B = B;
}

agent_batch replay_batch_view(const replay_batch *b, const int *next_action)
{
    agent_batch v = {.B = b->B, .obs = b->obs, .action = b->action, .reward = b->reward, .next_obs = b->next_obs,
                     .terminated = b->terminated, .next_action = next_action};
    return v;
}

/* ------------------------------------------------------------------------ */
/* save / load
 *
 *   char    magic[8]    "BDRLRPL\0"
 *   uint32  version     1
 *   uint32  obs_dim
 *   int64   capacity, size, pos, added
 *   float   obs[size * obs_dim], next_obs[size * obs_dim]
 *   int32   action[size]
 *   float   reward[size]
 *   uint8   terminated[size], truncated[size]
 *   uint64  FNV-1a 64 of every byte above
 */

#define RPL_MAGIC "BDRLRPL"
#define RPL_VERSION 1u

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
    uint32_t u[2] = {RPL_VERSION, (uint32_t)r->obs_dim};
    int64_t c[4] = {r->capacity, r->size, r->pos, r->added};
    size_t n = (size_t)r->size, no = n * (size_t)r->obs_dim;
    hw(&o, magic, 8);
    hw(&o, u, sizeof u);
    hw(&o, c, sizeof c);
    hw(&o, r->obs, no * sizeof(float));
    hw(&o, r->next_obs, no * sizeof(float));
    hw(&o, r->action, n * sizeof(int));
    hw(&o, r->reward, n * sizeof(float));
    hw(&o, r->terminated, n);
    hw(&o, r->truncated, n);
    uint64_t h = o.h;
    hw(&o, &h, sizeof h);
    return o.bad ? err_set(e, "replay: write failed") : 0;
}

int replay_load(replay *r, FILE *f, bdrl_err *e)
{
    hio o = {f, 14695981039346656037ull, 0};
    char magic[8];
    uint32_t u[2];
    int64_t c[4];
    if (hr(&o, magic, 8) || hr(&o, u, sizeof u) || hr(&o, c, sizeof c))
        return err_set(e, "replay buffer truncated (in its header)");
    if (memcmp(magic, RPL_MAGIC, 8))
        return err_set(e, "not a replay buffer (bad magic)");
    if (u[0] != RPL_VERSION)
        return err_set(e, "replay buffer has version %u, this build reads %u", u[0], RPL_VERSION);
    if ((int)u[1] != r->obs_dim || c[0] != r->capacity)
        return err_set(e, "replay buffer holds %lld transitions of %u floats, this run's has %lld of %d",
                       (long long)c[0], u[1], (long long)r->capacity, r->obs_dim);
    if (c[1] < 0 || c[1] > c[0] || c[2] < 0 || c[2] >= c[0] || c[3] < c[1] ||
        (c[1] < c[0] && c[2] != c[1]))
        return err_set(e, "replay buffer corrupted (size %lld, position %lld)", (long long)c[1],
                       (long long)c[2]);
    size_t n = (size_t)c[1], no = n * (size_t)r->obs_dim;
    /* Read into scratch first: the buffer stays as it was on any failure. */
    float *obs = malloc(no * sizeof(float) + 1), *nobs = malloc(no * sizeof(float) + 1);
    int *act = malloc(n * sizeof(int) + 1);
    float *rew = malloc(n * sizeof(float) + 1);
    unsigned char *te = malloc(n + 1), *tr = malloc(n + 1);
    int rc = -1;
    uint64_t h;
    if (!obs || !nobs || !act || !rew || !te || !tr) {
        err_set(e, "out of memory loading a replay buffer of %zu transitions", n);
        goto out;
    }
    if (hr(&o, obs, no * sizeof(float)) || hr(&o, nobs, no * sizeof(float)) ||
        hr(&o, act, n * sizeof(int)) || hr(&o, rew, n * sizeof(float)) || hr(&o, te, n) || hr(&o, tr, n)) {
        err_set(e, "replay buffer truncated");
        goto out;
    }
    uint64_t want = o.h;
    if (fread(&h, 1, sizeof h, f) != sizeof h || h != want) {
        err_set(e, "replay buffer corrupted (checksum)");
        goto out;
    }
    memcpy(r->obs, obs, no * sizeof(float));
    memcpy(r->next_obs, nobs, no * sizeof(float));
    memcpy(r->action, act, n * sizeof(int));
    memcpy(r->reward, rew, n * sizeof(float));
    memcpy(r->terminated, te, n);
    memcpy(r->truncated, tr, n);
    r->size = c[1];
    r->pos = c[2];
    r->added = c[3];
    rc = 0;
out:
    free(obs);
    free(nobs);
    free(act);
    free(rew);
    free(te);
    free(tr);
    return rc;
}
