/* agent.h — what a distribution model (Bellman Diffusion fields, C51
 * histogram) offers the trainer and the evaluation commands.
 *
 * The trainer owns everything both agents share — replay, exploration, the
 * target-update schedule, evaluation — so a comparison differs only in the
 * distribution model. An agent owns its networks, their target copies and its
 * optimizers; it sees observations as the environment gives them (the torso
 * module encodes them, e.g. FrozenLake's index as a one-hot vector, the same
 * way for both agents).
 *
 * Returns are in return units at this interface; normalization to u in
 * [-1, 1] (DESIGN §1.1) is the BD agent's business.
 */
#ifndef BDRL_AGENT_H
#define BDRL_AGENT_H

#include <stdio.h>

#include "agents/experiment.h"
#include "core/err.h"
#include "core/rng.h"
#include "envs/env.h"

/* A minibatch of transitions, in the trainer's arrays (read only). */
typedef struct {
    int B;
    const float *obs;                /* (B, obs_dim) as the env returned them */
    const int *action;               /* (B) */
    const float *reward;             /* (B) */
    const float *next_obs;           /* (B, obs_dim) */
    const unsigned char *terminated; /* (B) 1: the return is the reward alone; a
                                        truncated transition has 0 and bootstraps */
    const int *next_action;          /* (B) a' drawn from the evaluated policy
                                        (agent.mode evaluate), or NULL: the agent
                                        uses argmax_a Q_target(s', a) */
} agent_batch;

/* What one update reports (means over the batch). */
typedef struct {
    double loss;       /* C51: cross-entropy; BD: scalar-field regression */
    double loss_grad;  /* BD: gradient-field regression; C51: 0 */
    double q_mean;     /* mean of Q(s, a) over the batch's (s, a) */
    double grad_norm;  /* global gradient norm before clipping */
} agent_stats;

/* One (state, action)'s return distribution, in return units. The arrays
 * belong to the agent and stay valid until its next call. */
typedef struct {
    int n;
    const double *x;   /* (n) grid points (BD) or atom locations (C51), ascending */
    const double *w;   /* (n) density values max(s, 0) on the grid (BD; integrate with
                          stat_dist_grid) or atom probabilities summing to 1 (C51) */
    int is_density;    /* 1: BD grid density, 0: C51 atoms */
    double mass;       /* BD: grid mass of max(s, 0) before normalization; C51: 1 */
} agent_dist;

typedef struct agent agent;

typedef struct {
    const char *name; /* "bd", "c51" */
    /* Q(s, ·) of B observations from the online networks: q (B, n_actions). */
    int (*q_values)(agent *a, int B, const float *obs, double *q, bd_err *e);
    /* One gradient step on a minibatch (targets from the target networks). */
    int (*update)(agent *a, const agent_batch *b, agent_stats *st, bd_err *e);
    /* target <- (1 - tau) target + tau online; tau = 1 copies. */
    void (*update_target)(agent *a, double tau);
    /* The online model's return distribution at one observation and action. */
    int (*distribution)(agent *a, const float *obs, int action, agent_dist *out, bd_err *e);
    /* Everything needed to resume: networks, targets, optimizer states. Load
     * checks shapes and leaves the agent unchanged on failure. */
    int (*save)(const agent *a, FILE *f, bd_err *e);
    int (*load)(agent *a, FILE *f, bd_err *e);
    void (*free)(agent *a);
} agent_ops;

struct agent {
    const agent_ops *ops;
    agent_kind kind;
    int obs_dim, n_actions;
    void *impl;
};

/* Creates the agent named by cfg->agent.kind for env, initializing its
 * networks from init (stream RNG_STREAM_INIT of the run's seed). */
agent *agent_create(const exp_config *cfg, const env *en, rng *init, bd_err *e);
void agent_free(agent *a);

/* Thin wrappers over the ops, for readability at call sites. */
static inline int agent_q_values(agent *a, int B, const float *obs, double *q, bd_err *e)
{
    return a->ops->q_values(a, B, obs, q, e);
}
static inline int agent_update(agent *a, const agent_batch *b, agent_stats *st, bd_err *e)
{
    return a->ops->update(a, b, st, e);
}
static inline void agent_update_target(agent *a, double tau) { a->ops->update_target(a, tau); }
static inline int agent_distribution(agent *a, const float *obs, int action, agent_dist *out, bd_err *e)
{
    return a->ops->distribution(a, obs, action, out, e);
}

/* Greedy action of one observation (ties to the lowest index). */
int agent_greedy(agent *a, const float *obs, int *action, bd_err *e);

/* 0 if every parameter of the agent's online networks is finite; otherwise 1,
 * with the first bad one named in what (e.g. "c51 network parameter 17 (nan)").
 * The trainer calls it after every update (a step can make parameters
 * non-finite while the loss it reports is still finite). */
int agent_params_nonfinite(agent *a, char *what, size_t n);

#endif
