/* distplot.h — figures of learned return distributions against the truth
 * (`bdrl plot dist`, `bdrl plot fields`).
 *
 * distplot_dist draws one panel per state: a tabular env as a grid laid out
 * like its map (terminal states as shaded panels labelled by the env,
 * env_state_label: FrozenLake's "H hole", "G goal"; their return is 0),
 * CartPole as a grid of the probe states (env_kind_info.probe). The title
 * names the env as env_display_name does (a plugin by its own name). Each
 * agent kind keeps one colour whatever its slot (a second run of the same
 * kind a second shade of it). A panel
 * shows, for one action (the policy's action by default), every run's model
 * law, for BD runs a histogram (or empirical CDF) of Bellman Diffusion
 * samples drawn with the agent's default sampler (agent_sample), and the
 * truth of evaldist.h (exact atoms on FrozenLake, a Monte Carlo rollout of the
 * run's greedy policy on CartPole), with each run's W1 to its truth in the
 * panel's title. Two encodings:
 *   cdf  every law as its CDF (BD: the grid density read as cells, as
 *        stat_dist_grid does; C51 and the truth: steps; samples: empirical),
 *        the honest comparison of densities with point masses (W1 is the
 *        area between two of these curves);
 *   pdf  probability per bin of width Δ (the C51 atom spacing, or
 *        (v_max − v_min)/50 without a C51 run): BD density × Δ, the sample
 *        histogram with bins of Δ centred on the C51 atoms, C51 atoms as a
 *        histogram outline, the true atoms as impulses (an atom's height is
 *        its probability, so a density spread over several bins reads lower).
 *
 * distplot_fields draws one BD run's scalar field s(u) and gradient field
 * g(u) at one state and action over the agent's grid range, with the
 * central finite difference of s beside g and the true atoms (probabilities
 * on a second axis).
 *
 * Files, for an output prefix P: P.png and P.svg (plot_gnuplot), P_data/
 * (gnuplot data files and meta.gp with the panel titles, layout and labels),
 * P_data/summary.csv (one row per panel and run: W1 of the model and of the
 * samples to the truth, both means) and P.gp, which redraws the figure:
 * `cd DIR && gnuplot P.gp` (PNG) or `gnuplot -e "term='svg'" P.gp`.
 *
 * Memory: nothing is kept between calls; the functions load the runs, and
 * free everything before returning.
 */
#ifndef BDRL_DISTPLOT_H
#define BDRL_DISTPLOT_H

#include <stdint.h>

#include "core/err.h"
#include "envs/env.h"

#define DISTPLOT_MAX_RUNS 6
/* Returned (instead of -1) when the input is at fault: a run that cannot be
 * loaded, runs of different environments, a bad state or action, a C51 run
 * given to distplot_fields. */
#define DISTPLOT_BAD_INPUT (-2)

typedef enum { DISTPLOT_CDF = 0, DISTPLOT_PDF = 1 } distplot_mode;

typedef struct {
    distplot_mode mode;
    int samples;        /* BDD samples per panel of a BD run; 0 = none */
    int action;         /* -1: in each state the action of the truth's policy
                           (FrozenLake: optimal for agent.mode evaluate, else
                           the first run's greedy one; CartPole: greedy) */
    uint64_t seed;      /* the sampler's seed */
    const char *title;  /* NULL: "<env>: return distributions ..." */
    const char *labels[DISTPLOT_MAX_RUNS]; /* NULL: the agent's registry label, e.g. "C51" (with the run number
                                              if several runs have that agent) */
} distplot_options;

/* CDF panels, 1000 samples, the policy's action, seed 1, default title and
 * labels. */
void distplot_options_default(distplot_options *o);

typedef struct {
    int n_panels;                          /* panels with a distribution (no holes) */
    double mean_w1[DISTPLOT_MAX_RUNS];     /* model vs truth, over the panels */
    double mean_w1_samples[DISTPLOT_MAX_RUNS]; /* NaN for C51 or without samples */
    char label[DISTPLOT_MAX_RUNS][64];
} distplot_result;

/* Panels of n_runs (1 to DISTPLOT_MAX_RUNS) runs of the same environment (same map), into
 * out_prefix.{png,svg,gp} and out_prefix_data/. res may be NULL. Returns 0,
 * DISTPLOT_BAD_INPUT, or -1 (a runtime failure: gnuplot, files). */
int distplot_dist(int n_runs, const char *const *run_dirs, const char *out_prefix,
                  const distplot_options *o, distplot_result *res, bdrl_err *e);

/* The fields of a BD run at a state given as text (evaldist_parse_state) and
 * an action (-1: as in distplot_options.action), into out_prefix.*.
 * *action_out (may be NULL) receives the action drawn. Returns as
 * distplot_dist. */
int distplot_fields(const char *run_dir, const char *state_text, int action, const char *out_prefix,
                    const char *title, int *action_out, bdrl_err *e);

/* The environment's name for action (env_action_name: "left", "push right",
 * ...); "?" for an unnamed one. */
const char *distplot_action_name(const env *en, int action);

#endif
