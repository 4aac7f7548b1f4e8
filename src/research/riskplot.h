/* riskplot.h — figures of what a risk measure does to a run's choices
 * (issue 19): `bdrl plot risk` (one state's laws and how their ranking
 * moves with the measure's parameter) and `bdrl plot returns` (the returns
 * of runs' greedy episodes side by side).
 *
 * riskplot_risk, at one state of a run:
 *   top     each action's learned return law as a CDF (agent_distribution:
 *           atoms as steps, a density as cells), with each action's value of
 *           the run's agent.risk marked on its curve; dashed, the exact laws
 *           where the environment has a transition table;
 *   bottom  each action's value of one family of measures across its
 *           parameter: cvar and var over alpha in (0, 1], wang over eta in
 *           [-3, 3], pow over [-5, 5], cpw over [0.28, 3] (widened to hold
 *           the run's own parameter), from the agent's own risk_values (what
 *           it would act on at that parameter), and dashed from the exact laws.
 *           Where two curves cross, the ranking of the actions flips; the
 *           parameters where the best action changes are returned.
 * The exact laws are those of Z(s, a) under the policy `bdrl eval` takes as
 * the run's truth (evaldist.h): the optimal policy for agent.mode evaluate,
 * the exact iterated risk-greedy policy for a control run with agent.risk
 * other than mean, the run's greedy policy for a mean control run. Only the
 * first action varies along the sweep; the continuation stays that policy.
 *
 * riskplot_returns plays each run's greedy episodes as `bdrl eval` does
 * (episode k reset with eval_episode_seed(seed, k), actions by
 * agent_greedy, so a risk run acts on its measure), one seed for every run
 * so that all face the same episode seeds, and draws one column per run:
 * the histogram of the undiscounted return (what eval scores) above that of
 * the discounted return sum_t gamma^t r_t (what the laws are laws of), each
 * with its mean and a risk measure of the episodes' empirical law marked.
 *
 * Files, for an output prefix P: P.png, P.svg, P.gp and P_data/ (risk:
 * laws.dat, exact.dat, marks.dat, sweep.dat, flips.csv, meta.gp; returns:
 * hist.dat, episodes.csv, meta.gp), drawn by plots/risk.gp and
 * plots/returns.gp.
 *
 * Memory: nothing is kept; the functions free what they load.
 */
#ifndef BDRL_RISKPLOT_H
#define BDRL_RISKPLOT_H

#include <stdint.h>

#include "core/err.h"
#include "stats/risk.h"

/* Returned (instead of -1) when the input is at fault: a run that cannot be
 * loaded, a bad state, an agent without a law to distort (DQN), bad
 * options. */
#define RISKPLOT_BAD_INPUT (-2)
#define RISKPLOT_MAX_FLIPS 32
#define RISKPLOT_MAX_ACTIONS 18
#define RISKPLOT_MAX_RUNS 6
#define RISKPLOT_MAX_EPISODES 100000

/* The best action changes between two neighbouring parameters of the sweep. */
typedef struct {
    double lo, hi;   /* the parameters on either side */
    int from, to;    /* the best action at lo and at hi (ties to the lowest) */
    int tie;         /* 1: at lo or at hi the best value is shared by several actions (the
                        change may be the tie rule's, e.g. every CVaR 0 at a small alpha) */
} riskplot_flip;

typedef struct {
    int family_given;      /* 0: the run's own family (cvar for a mean run) */
    risk_measure family;   /* with family_given: RISK_CVAR, RISK_VAR, RISK_WANG, RISK_POW or RISK_CPW */
    const char *title;     /* NULL: a default naming the run and the state */
} riskplot_risk_options;

typedef struct {
    int state;             /* tabular: the state index; -1 otherwise */
    int n_actions;
    char own[64];          /* the run's agent.risk, "cvar:0.1" */
    char family[16];       /* the swept family, "cvar" */
    int has_exact;         /* 1: the env has a transition table */
    char exact_policy[32]; /* the policy the exact laws continue with */
    int greedy;            /* the agent's greedy action at the state */
    double own_learned[RISKPLOT_MAX_ACTIONS]; /* the run's measure of each learned law */
    double own_exact[RISKPLOT_MAX_ACTIONS];   /* of each exact law (NaN without) */
    int n_points;
    int n_flips_learned, n_flips_exact;
    riskplot_flip flips_learned[RISKPLOT_MAX_FLIPS], flips_exact[RISKPLOT_MAX_FLIPS];
} riskplot_risk_result;

/* The figure for the run in run_dir at the state given as text
 * (evaldist_parse_state: a tabular index, or the state's components) into
 * out_prefix.{png,svg,gp} and out_prefix_data/. res may be NULL. Returns 0,
 * RISKPLOT_BAD_INPUT or -1. */
int riskplot_risk(const char *run_dir, const char *state_text, const riskplot_risk_options *o,
                  const char *out_prefix, riskplot_risk_result *res, bdrl_err *e);

/* The sweep's parameters for a family (n ≤ max into param, ascending), the
 * range widened to hold own when own is of that family (else own may be
 * NULL). Returns n, or -1 for a family without a parameter (mean). */
int riskplot_sweep_params(risk_measure family, const risk_spec *own, double *param, int max);

/* The argmax of v (n), ties within TRUTH_TIE_TOL (relative) to the lowest,
 * as the exact policies break them. */
int riskplot_best(const double *v, int n);

/* The changes of the best action along a sweep: values (n_points,
 * n_actions) row-major; at most max flips into out; returns how many. */
int riskplot_flips(const double *param, const double *values, int n_points, int n_actions, riskplot_flip *out,
                   int max);

typedef struct {
    int episodes;                           /* >= 1 */
    int seed_given;                         /* 0: the first run's evaluation seed (train_eval_seed) */
    uint64_t seed;
    int measure_given;                      /* 0: the first run's agent.risk other than mean, else cvar:0.1 */
    risk_spec measure;
    const char *title;
    const char *labels[RISKPLOT_MAX_RUNS];  /* NULL: "<agent label>, agent.risk <measure>" */
} riskplot_returns_options;

/* 100 episodes, the defaults above. */
void riskplot_returns_options_default(riskplot_returns_options *o);

typedef struct {
    int n_runs, episodes;
    uint64_t seed;
    char measure[64];
    char label[RISKPLOT_MAX_RUNS][160];
    double mean[RISKPLOT_MAX_RUNS], disc_mean[RISKPLOT_MAX_RUNS];       /* undiscounted, discounted */
    double risk[RISKPLOT_MAX_RUNS], disc_risk[RISKPLOT_MAX_RUNS];       /* the measure of each */
    double success[RISKPLOT_MAX_RUNS], length[RISKPLOT_MAX_RUNS];       /* success rate, mean steps */
} riskplot_returns_result;

/* The greedy episodes of n_runs runs (1 to RISKPLOT_MAX_RUNS) into
 * out_prefix.{png,svg,gp} and out_prefix_data/. res may be NULL. Returns 0,
 * RISKPLOT_BAD_INPUT or -1. */
int riskplot_returns(int n_runs, const char *const *run_dirs, const riskplot_returns_options *o,
                     const char *out_prefix, riskplot_returns_result *res, bdrl_err *e);

#endif
