/* replay.h — the uniform replay buffer every agent learns from.
 *
 * A ring of `capacity` transitions (s, a, r, s', terminated, truncated),
 * each field in its own array. Termination and truncation are kept apart
 * because they mean different things to a Bellman target: a terminated
 * transition's return is its reward alone, a truncated one (time limit)
 * bootstraps from s' like any other (docs/design.md §1.1). When the ring is full the
 * oldest transition is overwritten.
 *
 * Sampling draws B indices uniformly with replacement (as SB3's and CleanRL's
 * buffers do) from the caller's rng and copies the rows into a replay_batch
 * the caller allocated once (replay_batch_create), so no batch allocates.
 *
 * Memory: the replay owns its arrays (replay_free); a replay_batch owns its
 * arrays (replay_batch_free). Save/load write the filled part and the ring
 * position, for resuming a run bit for bit.
 */
#ifndef BDRL_REPLAY_H
#define BDRL_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "agents/agent.h"
#include "core/err.h"
#include "core/rng.h"

typedef struct {
    int64_t capacity;
    int obs_dim;
    int64_t size;              /* filled entries, <= capacity */
    int64_t pos;               /* next slot written */
    int64_t added;             /* transitions ever added */
    float *obs;                /* (capacity, obs_dim) */
    float *next_obs;           /* (capacity, obs_dim) */
    int *action;               /* (capacity) */
    float *reward;             /* (capacity) */
    unsigned char *terminated; /* (capacity) */
    unsigned char *truncated;  /* (capacity) */
} replay;

/* A minibatch in caller-owned arrays, for up to `cap` rows. */
typedef struct {
    int cap, B, obs_dim;
    int64_t *index;            /* (cap) buffer slots drawn */
    float *obs;                /* (cap, obs_dim) */
    int *action;               /* (cap) */
    float *reward;             /* (cap) */
    float *next_obs;           /* (cap, obs_dim) */
    unsigned char *terminated; /* (cap) */
    unsigned char *truncated;  /* (cap) */
    int *next_action;          /* (cap) for the caller to fill (policy evaluation) */
} replay_batch;

replay *replay_create(int64_t capacity, int obs_dim, bdrl_err *e);
void replay_free(replay *r);

/* Appends one transition (copies obs and next_obs, obs_dim floats each). */
void replay_add(replay *r, const float *obs, int action, double reward, const float *next_obs,
                int terminated, int truncated);

int replay_batch_create(replay_batch *b, int cap, int obs_dim, bdrl_err *e);
void replay_batch_free(replay_batch *b);

/* Draws B (1 <= B <= b->cap) slots uniformly with replacement from the
 * filled part (which must not be empty) with rng_below(g, size), in order,
 * and copies them into b. */
void replay_sample(const replay *r, rng *g, int B, replay_batch *b);

/* The agent's view of a sampled batch. next_action: NULL (control, the agent
 * takes argmax Q_target) or b->next_action (policy evaluation). */
agent_batch replay_batch_view(const replay_batch *b, const int *next_action);

/* Binary, host byte order, with its own magic and an FNV-1a checksum.
 * Load checks that capacity and obs_dim match r and leaves r unchanged on
 * any failure. */
int replay_save(const replay *r, FILE *f, bdrl_err *e);
int replay_load(replay *r, FILE *f, bdrl_err *e);

#endif
