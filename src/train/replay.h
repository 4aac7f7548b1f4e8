/* replay.h — the replay buffer every agent learns from: uniform or
 * prioritized sampling, one-step or n-step returns.
 *
 * Storage: a ring of `capacity` slots. Slot i keeps transition i's
 * observation, action, reward, terminated and truncated, each field in its
 * own array, and each observation is stored once. The next observation of
 * transition i is found, in this order:
 *   - i is the newest transition: a copy kept aside (newest_next);
 *   - i's next observation differs from the observation of slot i + 1 (an
 *     episode ended there: after a termination or a time-limit truncation
 *     the environment was reset): the side store, one entry per such slot,
 *     grown as episodes end and freed when its slot is overwritten;
 *   - otherwise it *is* the observation of slot i + 1, its successor.
 * The side store keeps terminated transitions' final observations too,
 * though no target bootstraps from them (agents mask terminated rows), so
 * the batches the agents see are exactly the ones a buffer storing
 * (s, a, r, s') whole would give, and `bdrl eval --truth replay` can match
 * a terminal s' to its outcome; it costs one observation per episode in the
 * buffer. Whether the next observation is the successor's is decided by
 * comparing the bytes when the next transition arrives, so any caller's
 * sequence is stored exactly, chained or not.
 * Termination and truncation are kept apart because they mean different
 * things to a Bellman target: a terminated transition's return is its
 * reward alone, a truncated one (time limit) bootstraps from its final
 * observation like any other (docs/design.md §1.1).
 *
 * Binary observations (env_obs_is_binary: the MinAtar games) are stored as
 * packed bits, obs_dim / 8 bytes rounded up, and unpacked to 0.0f / 1.0f
 * into the batch; any other value is refused at replay_add.
 *
 * n-step returns (spec.n_step = N >= 1) are computed when sampling, from
 * consecutive slots: row k of a batch drawn at slot i holds
 *     reward R = Σ_{k<m} γ^k r_{i+k},   discount γ^m,   next_obs of slot i+m-1,
 * where the window stops at m = N, or earlier at the first transition that
 * is terminated (terminated = 1: no bootstrap), truncated (bootstrap from
 * its final observation), the newest (bootstrap from its next observation)
 * or whose next observation is not its successor's; so the ring's wrap
 * (the newest slot followed by the oldest) never joins two unrelated
 * transitions. Every filled slot can be drawn, the newest N - 1 with a
 * shorter window: uniform draws stay uniform over all filled slots, and N
 * = 1 draws exactly what a one-step buffer draws. (Dopamine's buffer
 * instead never draws the newest N - 1 slots, whose windows are not
 * complete yet; here they bootstrap earlier, as a truncation does, which
 * keeps every transition sampleable from the step it is stored and the
 * rng draws independent of N.) The discount is γ multiplied m times, so
 * N = 1 gives exactly γ.
 *
 * Prioritized replay (spec.prioritized; Schaul et al. 2016, proportional):
 * a sum tree (sumtree.h) over the slots holds p_i = (loss_i + eps)^α, with
 * loss_i the agent's own unweighted loss on slot i's row when it was last
 * drawn (a negative loss counts as 0). A new transition gets the largest p
 * seen so far (1 at the start). replay_sample_prioritized draws B rows by
 * stratified sampling: the total is cut into B equal segments and one
 * uniform draw from the caller's rng falls in each. Row k gets the
 * importance weight w_k = (N P(i_k))^-β, N the filled slots and P(i) =
 * p_i / Σ p, divided by the *batch's* largest w (Schaul et al. divide by
 * the largest over the whole buffer, which needs the smallest p, a second
 * tree; the batch's largest keeps every weight <= 1, as theirs does, and is
 * what Dopamine's Rainbow does).
 *
 * Sampling copies rows into a replay_batch the caller allocated once
 * (replay_batch_create), so no batch allocates.
 *
 * Memory: the replay owns its arrays, side store and tree (replay_free); a
 * replay_batch owns its arrays (replay_batch_free). Save/load write the
 * filled part, the side store, the priorities and the ring position, for
 * resuming a run bit for bit.
 */
#ifndef BDRL_REPLAY_H
#define BDRL_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agents/agent.h"
#include "agents/experiment.h"
#include "core/err.h"
#include "core/rng.h"
#include "train/sumtree.h"

/* What a replay is built for. */
typedef struct {
    int64_t capacity;
    int obs_dim;
    int binary;        /* 1: observations are 0/1 and stored as bits */
    int n_step;        /* N >= 1 */
    double gamma;      /* the discount of n-step sums (unused when N = 1) */
    int prioritized;   /* 1: a sum tree of priorities */
    double alpha, eps; /* p = (loss + eps)^alpha */
} replay_spec;

typedef struct {
    replay_spec spec;
    int64_t capacity;
    int obs_dim;
    size_t obs_bytes;          /* one stored observation: obs_dim floats, or obs_dim bits */
    int64_t size;              /* filled entries, <= capacity */
    int64_t pos;               /* next slot written */
    int64_t added;             /* transitions ever added */
    unsigned char *obs;        /* (capacity, obs_bytes) */
    int *action;               /* (capacity) */
    float *reward;             /* (capacity) */
    unsigned char *terminated; /* (capacity) */
    unsigned char *truncated;  /* (capacity) */
    int32_t *aside;            /* (capacity) slot's entry in the side store, or -1 */
    unsigned char *newest_next;/* (obs_bytes) the newest transition's next observation */
    unsigned char *scratch;    /* (2, obs_bytes) replay_add's encoded observations */
    /* the side store: side_cap entries of obs_bytes, side_top of them ever
     * handed out, free ones (released by overwritten slots) on a stack */
    unsigned char *side;       /* (side_cap, obs_bytes) */
    int32_t *side_free;        /* (side_cap) */
    int32_t side_cap, side_top, n_free;
    /* prioritized replay */
    sumtree *tree;             /* NULL when uniform */
    double max_priority;       /* the largest p set so far, >= 1 */
} replay;

/* A minibatch in caller-owned arrays, for up to `cap` rows. */
typedef struct {
    int cap, B, obs_dim;
    int64_t *index;            /* (cap) buffer slots drawn */
    float *obs;                /* (cap, obs_dim) */
    int *action;               /* (cap) */
    float *reward;             /* (cap) the n-step sum R (one reward when N = 1) */
    float *next_obs;           /* (cap, obs_dim) */
    unsigned char *terminated; /* (cap) the window ended in a termination */
    unsigned char *truncated;  /* (cap) ... in a truncation */
    int *next_action;          /* (cap) for the caller to fill (policy evaluation) */
    double *discount;          /* (cap) γ^m of each row */
    int *steps;                /* (cap) m, the transitions the row's window sums */
    float *weight;             /* (cap) importance weights (prioritized draws) */
    double *sample_loss;       /* (cap) the agent's per-row losses (prioritized draws) */
    int has_discount;          /* the view hands discount to the agent (N > 1) */
    int has_weight;            /* the view hands weight and sample_loss (prioritized draws) */
} replay_batch;

/* The spec of a run's replay: train.buffer_size, agent.n_step and
 * agent.gamma, replay.prioritized, alpha and eps of cfg, for observations
 * of obs_dim floats, binary or not (env_obs_is_binary). */
void replay_spec_of(replay_spec *s, const exp_config *cfg, int obs_dim, int binary);

replay *replay_create_spec(const replay_spec *s, bdrl_err *e);
/* A uniform one-step buffer of float observations. */
replay *replay_create(int64_t capacity, int obs_dim, bdrl_err *e);
void replay_free(replay *r);

/* The bytes a replay of spec s holds (what replay_bytes reports once it is
 * filled), for the memory estimate (train/limits.h): the slots, the
 * priorities' tree, and a side store of one entry per 16 transitions (one
 * episode end per 16 steps; shorter episodes grow it further, up to one
 * entry per slot). */
double replay_estimate_bytes(const replay_spec *s);
/* The bytes this replay holds now. */
double replay_bytes(const replay *r);

/* Appends one transition (copies obs and next_obs, obs_dim floats each).
 * Fails, changing nothing, when a binary replay gets a value other than 0
 * or 1, or when the side store cannot grow (out of memory). */
int replay_add(replay *r, const float *obs, int action, double reward, const float *next_obs, int terminated,
               int truncated, bdrl_err *e);

/* Slot i's observation and next observation (0 <= i < size), obs_dim
 * floats into out. */
void replay_obs(const replay *r, int64_t i, float *out);
void replay_next_obs(const replay *r, int64_t i, float *out);

int replay_batch_create(replay_batch *b, int cap, int obs_dim, bdrl_err *e);
void replay_batch_free(replay_batch *b);

/* Draws B (1 <= B <= b->cap) slots uniformly with replacement from the
 * filled part (which must not be empty) with rng_below(g, size), in order,
 * and copies their rows (n-step windows) into b. */
void replay_sample(const replay *r, rng *g, int B, replay_batch *b);

/* Draws B rows by stratified proportional sampling (prioritized replays
 * only: above), one rng_uniform(g) per row, in order, and their importance
 * weights with exponent beta. Fails when every priority is 0 (replay.eps 0
 * and losses of 0). */
int replay_sample_prioritized(const replay *r, rng *g, int B, double beta, replay_batch *b, bdrl_err *e);

/* Sets the priorities of b's rows' slots from the agent's per-row losses
 * (loss[k] for row k; a slot drawn twice keeps its last row's), and the
 * largest priority. Fails, changing nothing, on a non-finite loss or
 * priority. */
int replay_update_priorities(replay *r, const replay_batch *b, const double *loss, bdrl_err *e);

/* β at step t: beta0 + (1 - beta0) min(1, t / steps), linear from beta0 at
 * step 0 to 1 at step `steps` (>= 1) and after. */
double replay_beta(double beta0, int64_t steps, int64_t t);

/* The agent's view of a sampled batch. next_action: NULL (control, the agent
 * takes argmax Q_target) or b->next_action (policy evaluation). discount is
 * NULL for one-step rows (agent.gamma), weight and sample_loss NULL for
 * uniform draws, so that N = 1 without priorities is today's batch. */
agent_batch replay_batch_view(const replay_batch *b, const int *next_action);

/* Binary, host byte order, with its own magic and an FNV-1a checksum
 * (replay.c gives the layout). Load checks that capacity, obs_dim and the
 * storage match r and leaves r unchanged on any failure. It also reads the
 * format of bdrl before this one (version 1: every transition's
 * observation and next observation as floats), converting it to this
 * layout; a prioritized replay loaded from it starts with every priority
 * 1. */
int replay_save(const replay *r, FILE *f, bdrl_err *e);
int replay_load(replay *r, FILE *f, bdrl_err *e);

#endif
