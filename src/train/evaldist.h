/* evaldist.h — how close a trained agent's return distributions are to the
 * truth (docs/design.md §1.6), per state and action, in return units.
 *
 * For every non-terminal state of an environment with a transition table
 * (FrozenLake, tabular plugins), or every probe state of one with probes
 * (CartPole: env_kind_info.probe), or states the caller gives (any env whose
 * state can be set), and every action:
 *   model  agent_distribution: a BD grid density (stat_dist_grid, cells around
 *          the grid points) or C51 atoms (stat_dist_atoms);
 *   truth  the law of Z(s, a) under the run's own policy:
 *          FrozenLake, agent.mode evaluate: the optimal policy (value
 *            iteration), exact atoms (truth_tab_distribution);
 *          FrozenLake, control: the agent's greedy policy, exact atoms;
 *          CartPole: Monte Carlo under the agent's greedy policy
 *            (truth_mc_returns; deterministic, so one rollout by default);
 * and W1, Cramér, both means, and for BD optionally W1 of BDD samples
 * (through a sampler callback, so this module does not depend on how the BD
 * agent samples) to the same truth. Aggregates are plain means over the
 * entries where the value is defined (a BD field that is <= 0 on the whole
 * grid has no law: its entry is NaN and counted in n_undefined).
 *
 * Memory: evaldist_run allocates the entries; evaldist_result_free frees them.
 * The agent is borrowed (its distribution buffers are copied at once).
 */
#ifndef BDRL_EVALDIST_H
#define BDRL_EVALDIST_H

#include "agents/agent.h"
#include "agents/experiment.h"
#include "core/json.h"
#include "envs/env.h"
#include "stats/metrics.h"

/* n returns of the model's Z(obs, action) into out (n). */
typedef int (*evaldist_sample_fn)(void *ctx, agent *a, const float *obs, int action, int n,
                                  double *out, bdrl_err *e);

typedef struct {
    evaldist_sample_fn sample; /* NULL: no sample metric */
    void *sample_ctx;
    int sample_walkers;        /* samples per (state, action) for the sample metric */
    int mc_rollouts;           /* CartPole rollouts per (probe, action) */
    int mc_horizon;            /* CartPole steps per rollout; 0 = truth_mc_horizon */
    /* FrozenLake: the transition table the truth's laws are computed under,
     * NULL for the map's own (exact truth); e.g. truth_tab_empirical of the
     * run's replay, so the distances measure the learner without the
     * sampling error of its data. truth_name labels it in the JSON. */
    const env_table *table;
    const char *truth_name;
    /* Monte Carlo from these states (n_given, each env_state_dim doubles)
     * instead of the env's probe states: any env whose state can be set (a
     * plugin without a transition table, with bdrl_env_set_state). */
    const double *given;
    int n_given;
} evaldist_options;

/* No sampler, 1 rollout (the greedy policy and CartPole are deterministic),
 * the default horizon. */
void evaldist_options_default(evaldist_options *o);

typedef struct {
    int state;          /* FrozenLake state index; CartPole probe index; a given state's index */
    int action;
    double w1, cramer;  /* model vs truth; NaN if the model has no law */
    double mean_model, mean_truth;
    double w1_samples;  /* samples vs truth; NaN if not measured */
    double w1_samples_model; /* samples vs the model's own law: the sampler's share of
                                the error; NaN if not measured */
    double mass;        /* BD: grid mass of max(s, 0) before normalization; C51: 1 */
    double w1_truth_exact; /* with options.table: W1 of that truth to the exact law (the
                              data's own error); NaN otherwise */
} evaldist_entry;

typedef struct {
    env_kind kind;
    int is_density;            /* 1 BD, 0 C51 (from the first entry) */
    const char *truth_policy;  /* "optimal" or "greedy" */
    const char *truth;         /* "exact" (FrozenLake's map), options.truth_name, or "monte carlo" */
    double mean_w1_truth_exact; /* mean of w1_truth_exact; NaN without options.table */
    int n;
    evaldist_entry *entries;   /* (n): states ascending, then actions */
    double mean_w1, mean_cramer;
    double mean_w1_samples;    /* NaN if not measured */
    double mean_w1_samples_model;
    int n_undefined;           /* entries whose model law is undefined */
    int monte_carlo;           /* 1: Monte Carlo truth from probe or given states; 0: exact */
    double *given;             /* Monte Carlo from options.given: a copy of those states
                                  (n_given, state_dim each); NULL: the env's probes */
    int state_dim;             /* Monte Carlo: the probes' size */
    int mc_horizon, mc_rollouts; /* Monte Carlo */
    int n_states;              /* FrozenLake: size of policy */
    int *policy;               /* FrozenLake: the policy the truth follows (n_states) */
    /* Control with agent.risk other than mean (transition tables): the truth
     * follows the exact iterated risk-greedy policy (truth/risk_policy.h),
     * and the agent's greedy policy (by its risk values) is compared to it. */
    char risk[64];             /* the measure, "" otherwise */
    int *agent_policy;         /* (n_states) the agent's greedy policy; NULL otherwise */
    int risk_converged;        /* 1: the exact iteration converged (else it cycles; policy is its last) */
    int n_nonterminal, n_visited; /* states that act; those the exact policy visits from the start */
    int n_differ, n_differ_visited; /* states where agent_policy differs from policy: of all, of the visited */
} evaldist_result;

int evaldist_run(agent *a, const exp_config *cfg, const evaldist_options *o, evaldist_result *out,
                 bdrl_err *e);
void evaldist_result_free(evaldist_result *r);

/* Writes "mean_w1", "mean_cramer", "mean_w1_samples",
 * "mean_w1_samples_model" (null if not measured), "n_undefined", "truth",
 * "mean_w1_truth_exact" (null without options.table),
 * "truth_policy", FrozenLake "policy" (and with a risk measure "risk",
 * "agent_policy", "risk_converged", "policy_differ": {states, differ,
 * visited, differ_visited}) or CartPole "mc_horizon" and
 * "mc_rollouts", and "per_state" (a list of objects with state, action, w1,
 * cramer, mean_model, mean_truth, w1_samples, w1_samples_model, mass,
 * w1_truth_exact; for
 * CartPole also "obs", the probe) into the object the writer is in. */
void evaldist_json(json_writer *w, const evaldist_result *r);

/* ---- pieces the commands share ---- */

/* Parses a state given as text: FrozenLake an index in [0, n_states), the
 * other envs their env_state_dim comma-separated numbers (CartPole x, x_dot,
 * theta, theta_dot; see env_kind_describe()->state_help). Writes the
 * observation the agent sees (obs_dim floats, at most ENV_OBS_MAX) and, if
 * state is not NULL, the environment state (env_state_dim doubles). */
int evaldist_parse_state(const env *en, const char *text, float *obs, double *state, bdrl_err *e);

/* The model's law at (obs, action) as a stat_dist (caller frees); *mass gets
 * agent_dist.mass. */
stat_dist *evaldist_model_dist(agent *a, const float *obs, int action, double *mass, bdrl_err *e);

/* Greedy action (argmax of the online Q, ties to the lowest action); has the
 * signature of truth_policy_fn with ctx = the agent. */
int evaldist_greedy_action(void *agent_ptr, const float *obs, int *action, bdrl_err *e);

/* The states policy visits with positive probability from table t's start
 * (the drawing's S, else state 0), terminal states excluded: visited
 * (n_states) gets 1 or 0; returns their number. */
int evaldist_visited(const env_table *t, const int *policy, unsigned char *visited);

/* The policy Z(s, a) continues with on FrozenLake (n_states actions):
 * agent.mode evaluate -> the optimal policy, control -> the agent's greedy
 * policy (a may be NULL only in evaluate mode). *name gets "optimal" or
 * "greedy". */
int evaldist_fl_policy(agent *a, const exp_config *cfg, const env_table *t, int *policy,
                       const char **name, bdrl_err *e);

#endif
