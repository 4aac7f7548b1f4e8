/* agent.h — what an agent (Bellman Diffusion fields, C51 histogram, DQN, ...)
 * offers the trainer and the evaluation commands. Which agents exist, and
 * how each is created, sized and checkpointed, is registry.h's business.
 *
 * The trainer owns everything the agents share — replay, exploration, the
 * target-update schedule, evaluation — so a comparison differs only in the
 * distribution model. An agent owns its networks, their target copies and its
 * optimizers; it sees observations as the environment gives them (the torso
 * module encodes them, e.g. FrozenLake's index as a one-hot vector, the same
 * way for every agent).
 *
 * Returns are in return units at this interface; normalization to u in
 * [-1, 1] (docs/design.md §1.1) is the BD agent's business.
 */
#ifndef BDRL_AGENT_H
#define BDRL_AGENT_H

#include <stdio.h>

#include "agents/experiment.h"
#include "core/err.h"
#include "core/rng.h"
#include "envs/env.h"
#include "fields/real.h"
#include "sdes/sampler.h"
#include "stats/risk.h"

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
    const double *discount;          /* (B) the factor of the bootstrap of each row:
                                        γ^m after an m-step reward sum (agent.n_step),
                                        or NULL: agent.gamma for every row */
    const float *weight;             /* (B) importance weights of prioritized replay:
                                        the loss is mean_i weight_i loss_i; NULL: 1 */
    double *sample_loss;             /* (B) out, or NULL: each row's own loss (the
                                        replay's new priority), before weighting:
                                        C51 its cross-entropy, QR-DQN and IQN its
                                        quantile Huber loss, BD its scalar-field
                                        loss; DQN |δ|, its TD error (Schaul et al.'s
                                        proportional priority), not ℓ(δ) */
} agent_batch;

/* ---- the batch's optional per-row fields, read the same way by every
 * agent's update ---- */

/* The bootstrap factor of row i: b->discount[i], or gamma (agent.gamma)
 * when the batch has none. Returned as given, so a discount equal to γ
 * gives the very doubles γ gives. */
static inline double agent_row_discount(const agent_batch *b, int i, double gamma)
{
    return b->discount ? b->discount[i] : gamma;
}

/* The importance weight of row i: 1 without weights. An agent scales row
 * i's gradient by it (a weight of exactly 1 changes no bit). */
static inline double agent_row_weight(const agent_batch *b, int i) { return b->weight ? (double)b->weight[i] : 1.0; }

/* Row i's own loss l: kept as b->sample_loss[i] when the batch asks for it,
 * and returned weighted, weight_i · l, the row's term of the weighted mean
 * the update reports (agent_stats.loss). */
static inline double agent_row_loss(const agent_batch *b, int i, double l)
{
    if (b->sample_loss)
        b->sample_loss[i] = l;
    return b->weight ? (double)b->weight[i] * l : l;
}

/* What one update reports (means over the batch; with importance weights
 * the losses are the weighted means (1/B) Σ_i weight_i loss_i the gradient
 * is taken of, not normalized by Σ weight). */
typedef struct {
    double loss;       /* C51: cross-entropy; BD: scalar-field regression */
    double loss_grad;  /* BD: gradient-field regression; C51: 0 */
    double q_mean;     /* mean of Q(s, a) over the batch's (s, a) */
    double grad_norm;  /* global gradient norm before clipping */
} agent_stats;

/* One (state, action)'s return distribution, in return units: either atoms
 * with weights (C51's histogram; a quantile agent's N atoms of weight 1/N;
 * DQN's single atom at Q with weight 1) or a density on a grid (BD). The
 * arrays belong to the agent and stay valid until its next call. */
typedef struct {
    int n;
    const double *x;   /* (n) grid points or atom locations, ascending */
    const double *w;   /* (n) density values max(s, 0) on the grid (integrate with
                          stat_dist_grid) or atom probabilities summing to 1 */
    int is_density;    /* 1: a grid density, 0: atoms */
    double mass;       /* density: grid mass of max(s, 0) before normalization; atoms: 1 */
} agent_dist;

/* One named array of an agent's online parameters (agent_params_nonfinite). */
typedef struct {
    const char *name;  /* e.g. "c51 network" */
    const real *p;     /* (n) */
    size_t n;
} agent_param_block;

/* Greedy evaluation (train/evaluate.c) never passes more rows than this to
 * q_values at once, so an agent sizes its buffers for
 * max(train.batch_size, EVAL_MAX_ROWS) rows. */
#define EVAL_MAX_ROWS 32

#define AGENT_MAX_PARAM_BLOCKS 8

/* Where an agent's fields live (BD): return = c + h u for u in [lo, hi]. */
typedef struct {
    double c, h, lo, hi;
} agent_field_range;

typedef struct agent agent;

/* Noisy nets (agent.noisy): which weights the forwards of an agent's noisy
 * layers use. The trainer switches the noise on to act and to update, and
 * off again right after, so evaluation, `bdrl eval`, `dist`, `plot` and
 * `render` see the mean weights. */
typedef enum {
    AGENT_NOISE_OFF = 0, /* the mean weights μ (the state after create and load) */
    AGENT_NOISE_ACT,     /* a new draw for the online networks, switched on */
    AGENT_NOISE_UPDATE,  /* a new draw for the online networks, then an independent one for
                            the target networks, both switched on */
} agent_noise;

typedef struct {
    const char *name; /* the registry name: "bd", "c51", ... */
    /* Q(s, ·) of B observations from the online networks: q (B, n_actions). */
    int (*q_values)(agent *a, int B, const float *obs, double *q, bdrl_err *e);
    /* ρ(Z(s, ·)) of B observations from the same networks as q_values, for
     * a risk measure (stats/risk.h): out (B, n_actions). NULL: the agent
     * learns no law to distort (DQN), and only agent.risk mean is allowed.
     * With r->measure RISK_MEAN it need not equal q_values bit for bit:
     * callers go through agent_action_values, which uses q_values then. */
    int (*risk_values)(agent *a, int B, const float *obs, const risk_spec *r, double *out, bdrl_err *e);
    /* One gradient step on a minibatch (targets from the target networks). */
    int (*update)(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e);
    /* target <- (1 - tau) target + tau online; tau = 1 copies. */
    void (*update_target)(agent *a, double tau);
    /* The online model's return distribution at one observation and action. */
    int (*distribution)(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e);
    /* Everything needed to resume: networks, targets, optimizer states. Load
     * checks shapes and leaves the agent unchanged on failure. */
    int (*save)(const agent *a, FILE *f, bdrl_err *e);
    int (*load)(agent *a, FILE *f, bdrl_err *e);
    void (*free)(agent *a);
    /* The online networks' parameters (what the non-finite guard scans):
     * up to AGENT_MAX_PARAM_BLOCKS blocks into out; returns how many. */
    int (*params)(agent *a, agent_param_block *out);
    /* One line: networks, parameter counts, the agent's own settings. Owned
     * by the agent. */
    const char *(*describe)(const agent *a);

    /* ---- capabilities: NULL (0) when the agent has none ---- */
    /* 1: update picks a* by ρ of agent.risk when agent.risk_target is set
     * (agent_create refuses agent.risk_target otherwise). */
    int risk_target;
    /* Return samples by a sampler on learned fields (BD): the default
     * sampler configuration, and n samples of Z(obs, action) in return units. */
    void (*sampler_defaults)(const agent *a, sde_config *sc);
    int (*sample)(agent *a, const float *obs, int action, const sde_config *sc, int n, double *returns,
                  sde_result *res, rng *r, bdrl_err *e);
    /* Noisy nets: switches the noise of the agent's noisy layers (every
     * dense layer of its torso and heads with agent.noisy), drawing from r
     * in a fixed order (agent_noise_nets). NULL: no noisy layers to switch
     * (the grid agent; agent.noisy then is refused at create). */
    void (*noise)(agent *a, agent_noise mode, rng *r);
    /* GEMM multiply-adds of one update at batch B (benchmarks). */
    double (*update_flops)(const agent *a, int B);
    /* Fields of the return in normalized units u (BD, `bdrl plot fields`):
     * their range, and the reported scalar and gradient fields s, g (n, A)
     * at n points u (either may be NULL). */
    void (*field_range)(const agent *a, agent_field_range *r);
    int (*fields)(agent *a, const float *obs, int n, const double *u, double *s, double *g, bdrl_err *e);
} agent_ops;

struct agent {
    const agent_ops *ops;
    int obs_dim, n_actions;
    void *impl;
    risk_spec risk;  /* agent.risk: what ranks actions in acting and evaluation
                        (agent_action_values); set by agent_create, mean otherwise */
};

/* Creates the agent of kind cfg->agent.kind (registry.h) for env,
 * initializing its networks from init (stream RNG_STREAM_INIT of the run's
 * seed). */
agent *agent_create(const exp_config *cfg, const env *en, rng *init, bdrl_err *e);
void agent_free(agent *a);

/* Thin wrappers over the ops, for readability at call sites. */
static inline int agent_q_values(agent *a, int B, const float *obs, double *q, bdrl_err *e)
{
    return a->ops->q_values(a, B, obs, q, e);
}
static inline int agent_update(agent *a, const agent_batch *b, agent_stats *st, bdrl_err *e)
{
    return a->ops->update(a, b, st, e);
}
static inline void agent_update_target(agent *a, double tau) { a->ops->update_target(a, tau); }
static inline int agent_distribution(agent *a, const float *obs, int action, agent_dist *out, bdrl_err *e)
{
    return a->ops->distribution(a, obs, action, out, e);
}
static inline const char *agent_describe(const agent *a) { return a->ops->describe(a); }

/* agent.noisy: the noise as mode says (draws from r; r may be NULL for
 * AGENT_NOISE_OFF); nothing for an agent without the capability. */
static inline void agent_noise_set(agent *a, agent_noise mode, rng *r)
{
    if (a->ops->noise)
        a->ops->noise(a, mode, r);
}

/* An agent's noise op over its networks: online[0..n_on) and target[0..n_tg)
 * (NULL entries skipped; networks without noisy layers draw nothing). OFF
 * switches all off; ACT draws for the online networks in order and leaves
 * the targets as they are; UPDATE draws for the online networks, then for
 * the targets. */
struct mlp;
void agent_noise_nets(struct mlp *const *online, int n_on, struct mlp *const *target, int n_tg, agent_noise mode,
                      rng *r);

/* Capabilities. */
static inline int agent_can_sample(const agent *a) { return a->ops->sample != NULL; }
static inline int agent_has_fields(const agent *a) { return a->ops->fields != NULL; }
/* The default sampler and n samples (agent_can_sample only: else an error). */
void agent_sampler_defaults(const agent *a, sde_config *sc);
int agent_sample(agent *a, const float *obs, int action, const sde_config *sc, int n, double *returns,
                 sde_result *res, rng *r, bdrl_err *e);

/* Checks a minibatch before an update: 1 to max_batch rows, actions (and
 * the given next actions of non-terminal rows) in [0, n_actions), finite
 * rewards, discounts of non-terminal rows in [0, 1] and weights finite and
 * >= 0 when given. Errors start with who ("dqn: ..."). */
int agent_check_batch(const char *who, const agent_batch *b, int max_batch, int n_actions, bdrl_err *e);

/* The values actions are ranked by, (B, n_actions): Q = E[Z] (q_values,
 * bit for bit) when a->risk is mean, else ρ(Z) (risk_values). Acting,
 * greedy evaluation and the greedy policy of `bdrl eval` all go through it,
 * so none of them knows which agent or measure it has. */
int agent_action_values(agent *a, int B, const float *obs, double *out, bdrl_err *e);

/* Greedy action of one observation on agent_action_values (ties to the
 * lowest index). */
int agent_greedy(agent *a, const float *obs, int *action, bdrl_err *e);

/* 0 if every parameter of the agent's online networks (ops->params) is
 * finite; otherwise 1, with the first bad one named in what (e.g. "c51
 * network parameter 17 (nan)").
 * The trainer calls it after every update (a step can make parameters
 * non-finite while the loss it reports is still finite). */
int agent_params_nonfinite(agent *a, char *what, size_t n);

#endif
