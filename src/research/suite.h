/* suite.h — several agents over a suite of environments, summarized the
 * way Agarwal et al. 2021 (rliable) recommend (stats/aggregate.h): what
 * `bdrl compare` writes beside its table when its configs span several
 * environments, and what `bdrl compare --aggregate DIR...` writes from
 * finished comparisons.
 *
 * Runs: the finished ones (rundir_done) among the run directories given.
 * Agent: summary.json's agent with the Rainbow components of the run's
 * config.yaml (agent_variant_name: bd, c51, c51+rainbow, dqn+n3+per, ...;
 * the agent alone if config.yaml cannot be read): the configs of one
 * agent on different environments form one agent. Task: summary.json's
 * env. Every agent needs finished runs on every task, all from one config
 * per task.
 *
 * Score of a run: its final evaluation, the quantity its threshold is on
 * (summary.json's threshold_on): final_eval_return, the mean greedy return
 * over eval.episodes episodes at the last evaluation, or final_success_rate
 * for FrozenLake. (rliable's Atari 100k scores are the same: each run's
 * evaluation return at the end of training.) With SUITE_SCORE_LAST_QUARTER
 * the same quantity averaged over the evaluations of the last quarter of
 * the run's steps (eval.csv).
 *
 * Normalization, per task, (score - random) / (reference - random):
 *   random     the uniformly random policy's score (random_score.h:
 *              RANDOM_SCORE_EPISODES episodes on the environment of the
 *              task's first run, its config.yaml), or --random ENV=VALUE;
 *   reference  the task's evaluation threshold (summary.json's threshold:
 *              eval.threshold, by default Gymnasium's reward_threshold,
 *              CartPole 475, Acrobot -100, MountainCar -110, FrozenLake a
 *              success rate of 0.7), which every run of the task must
 *              share, or --reference ENV=VALUE, or --reference ENV=best:
 *              the best score among the task's runs.
 * So 0 is random play and 1 is solving the task by Gymnasium's measure.
 *
 * Files written into the output directory:
 *   aggregate.csv    agent,statistic,estimate,ci_lo,ci_hi: IQM, median,
 *                    mean, optimality gap (gamma 1) of the normalized
 *                    scores with 95% stratified bootstrap intervals
 *                    (AGG_REPS resamples);
 *   improvement.csv  agent_x,agent_y,p_x_gt_y,ci_lo,ci_hi for every ordered
 *                    pair (P(Y > X) = 1 - P(X > Y); same resamples);
 *   scores.csv       agent,task,config,run,score,random,reference,normalized:
 *                    the table behind both;
 *   profile.{png,svg} the performance profiles (fraction of runs with
 *                    normalized score > tau, 95% bands from
 *                    AGG_PROFILE_REPS resamples), drawn by plots/profile.gp
 *                    from profile.dat (redraw: gnuplot profile.gp);
 *   aggregate.md     all of it for reading, with the figure.
 * The intervals are reproducible: agent A's come from stream hash(A) of
 * SUITE_SEED, a pair's from the pair's stream.
 */
#ifndef BDRL_SUITE_H
#define BDRL_SUITE_H

#include <stdint.h>

#include "core/err.h"

#define SUITE_SEED 0x61676772ull
#define SUITE_TAUS 201 /* points of the profiles' tau grid */

/* A per-environment value given on the command line: ENV=VALUE, or
 * ENV=best for a reference: the best score of any run on ENV (a min-max
 * normalization, for environments without a threshold such as MinAtar's). */
typedef struct {
    char env[32];
    double value; /* NaN: best (a number given is always finite) */
} suite_value;

/* Parses "ENV=VALUE" (ENV a name from `bdrl env list`, VALUE finite or
 * "best"; suite_write refuses best for a random score). */
int suite_value_parse(const char *arg, suite_value *out, bdrl_err *e);

/* What a run scores (--score): its final evaluation, or the mean of its
 * evaluations after 3/4 of its steps (curves_last_quarter of eval.csv, the
 * quantity bdrl compare's last-quarter column averages), which a single
 * noisy evaluation at the end does not swing. */
typedef enum { SUITE_SCORE_FINAL = 0, SUITE_SCORE_LAST_QUARTER = 1 } suite_score;

typedef struct {
    const suite_value *random, *reference; /* overrides, n_random and n_reference of them */
    suite_score score;                     /* SUITE_SCORE_FINAL by default */
    int n_random, n_reference;
    int reps, profile_reps;                /* 0: AGG_REPS, AGG_PROFILE_REPS */
} suite_options;

/* The number of different environments among the finished runs of dirs. */
int suite_n_envs(const char *const *dirs, int n);

/* The run directories of a comparison directory: DIR/runs/<label>_s<seed>
 * for the labels in DIR/comparison.csv (its configs; other runs left there
 * by earlier comparisons are not), sorted by name. *dirs (*n of them) is
 * freed with suite_dirs_free. Errors: no comparison.csv or runs/. */
int suite_scan(const char *compare_dir, char ***dirs, int *n, bdrl_err *e);
void suite_dirs_free(char **dirs, int n);

/* Writes the files above into out_dir for the runs among dirs (n). o may
 * be NULL (defaults). On error *bad_input says whether the runs themselves
 * do not make a suite (missing agent/task pairs, two configs of an agent on
 * one task, disagreeing thresholds, an override for no task) rather than a
 * failure to read or write. */
int suite_write(const char *out_dir, const char *const *dirs, int n, const suite_options *o, int *bad_input,
                bdrl_err *e);

#endif
