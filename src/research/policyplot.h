/* policyplot.h — `bdrl plot policy`: the greedy policy of tabular runs drawn
 * on the environment's map, each beside the exact policy it should have
 * learned, with the states where the two disagree marked (issue 19).
 *
 * Each run gets a row of two panels on the drawing of its transition table
 * (env_table's nrow x ncol letters: FrozenLake's map, CliffWalking's grid, a
 * plugin's layout; a table without a layout, such as a Python environment's
 * P, is one row of states):
 *   left   the run's greedy action in every non-terminal state, ranked as
 *          the agent acts (agent_greedy: Q, or agent.risk's measure of each
 *          action's law);
 *   right  the exact policy for the run's measure and gamma: the iterated
 *          risk-greedy policy of truth/risk_policy.h (for agent.risk mean,
 *          the mean-optimal policy of value iteration), with the
 *          mean-optimal action drawn grey and dashed in the states where the
 *          two differ, and states that flip in a cycle labelled;
 * and every state where the run's action differs from the exact one is
 * outlined in red in both panels. Terminal states (holes, the goal, cliff
 * cells) carry no action. An action is an arrow when its name is a
 * direction (env_action_name: left, right, up, down), otherwise its name is
 * written in the cell (a plugin's "safe", "risky").
 *
 * Files, for an output prefix P: P.png and P.svg (plot_gnuplot, drawn by
 * plots/policy.gp), P.gp (redraws it), and P_data/: meta.gp (layout,
 * titles, legend), cells.dat (the map: x y rgb letter), and one `index`
 * block per panel (2 per run: agent, exact) in arrows.dat (x0 y0 dx dy state
 * action), names.dat (x y state action "name"), differ.dat (x y state
 * agent_action exact_action), mean.dat (the grey arrows), flips.dat (x y
 * state), and policy.csv (one row per run and non-terminal state: the
 * actions, whether they differ, whether the exact policy visits the state).
 *
 * Memory: nothing is kept; the functions free what they load.
 */
#ifndef BDRL_POLICYPLOT_H
#define BDRL_POLICYPLOT_H

#include "core/err.h"
#include "envs/env.h"

#define POLICYPLOT_MAX_RUNS 6
/* Returned (instead of -1) when the input is at fault: a run that cannot be
 * loaded, an environment without a transition table, runs on different
 * maps, bad labels. */
#define POLICYPLOT_BAD_INPUT (-2)

/* One run's row of panels. */
typedef struct {
    const char *label;               /* the run, e.g. "C51, agent.risk cvar:0.1" */
    const char *exact_label;         /* e.g. "exact cvar:0.1-greedy policy (gamma 0.9, converged)" */
    const int *agent;                /* (n_states) the run's greedy actions */
    const int *exact;                /* (n_states) the exact policy */
    const int *mean_optimal;         /* (n_states) or NULL: drawn where exact differs from it */
    const unsigned char *flips;      /* (n_states) or NULL: 1 for a state the exact iteration flips in a cycle */
} policyplot_row;

typedef struct {
    int n_nonterminal;                         /* states that act */
    int n_differ[POLICYPLOT_MAX_RUNS];         /* non-terminal states where agent != exact */
    int n_visited[POLICYPLOT_MAX_RUNS];        /* non-terminal states the exact policy visits from the start */
    int n_differ_visited[POLICYPLOT_MAX_RUNS]; /* of those, where agent != exact */
    int n_risk_differ[POLICYPLOT_MAX_RUNS];    /* states where exact != mean_optimal (0 without it) */
    int named_actions;                         /* 1: some action has no direction and is written by name */
} policyplot_counts;

/* Writes the data files of n rows (1 to POLICYPLOT_MAX_RUNS) of policies on
 * en's transition table into data_dir (created), and counts the
 * disagreements into c (may be NULL). Errors: no transition table, an
 * action out of range. */
int policyplot_write_data(const env *en, int n, const policyplot_row *rows, const char *data_dir,
                          policyplot_counts *c, bdrl_err *e);

typedef struct {
    const char *title;                          /* NULL: "<env>: greedy policies against the exact ..." */
    const char *labels[POLICYPLOT_MAX_RUNS];    /* NULL: "<agent label>, agent.risk <measure>" (and the run's
                                                   directory name when two runs would share one) */
} policyplot_options;

typedef struct {
    policyplot_counts counts;
    char label[POLICYPLOT_MAX_RUNS][160];
    char exact[POLICYPLOT_MAX_RUNS][160];       /* the exact panel's label */
    int converged[POLICYPLOT_MAX_RUNS];         /* the exact iteration converged (else it cycles) */
} policyplot_result;

/* The figure of n_runs runs on one map into out_prefix.{png,svg,gp} and
 * out_prefix_data/. res may be NULL. Returns 0, POLICYPLOT_BAD_INPUT, or -1
 * (a runtime failure: gnuplot, files). */
int policyplot_runs(int n_runs, const char *const *run_dirs, const char *out_prefix, const policyplot_options *o,
                    policyplot_result *res, bdrl_err *e);

/* (dx, dy) of an action called name on a map drawn with row 0 at the top:
 * left (-1, 0), right (1, 0), up (0, 1), down (0, -1); returns 0 and zeros
 * for a name that is not a direction. */
int policyplot_direction(const char *name, double *dx, double *dy);

#endif
