/* truth.h — ground truth for the return distributions the agents learn
 * (docs/design.md §1.6): exact laws from transition tables, Monte Carlo from set states.
 *
 * Tabular environments (from the transition table, env_transition_table:
 * FrozenLake, CliffWalking, tabular plugins):
 *   - value iteration for Q*, V* and the optimal policy π* (ties to the lowest
 *     action, within TRUTH_TIE_TOL), and evaluation of a deterministic policy;
 *   - the empirical table of observed transitions (truth_tab_empirical), under
 *     which the same laws are what a perfect learner of those data reaches;
 *   - the exact infinite-horizon return law of Z(s, a) — first action a, then
 *     π — by propagating the probability of every (state, return so far) pair
 *     through the table: a path that ends at step k contributes the atom
 *     sum_{t<k} γ^t r_t (default rewards: γ^(k-1) for the goal, 0 for a hole).
 *     Equal returns are merged. Time limits are ignored on purpose: a
 *     truncation is not terminal, and bootstrapped learning estimates the
 *     infinite-horizon law. Propagation stops when the mass still walking is
 *     below TRUTH_TAB_MASS_TOL (that mass is dropped and reported as
 *     `residual`), or, for a policy that keeps some paths walking forever
 *     (γ < 1), when the rewards still to come are bounded by TRUTH_TAB_TAIL_TOL
 *     (those paths become atoms at the return collected so far).
 *     A terminal state (t->terminal: FrozenLake's H and G, CliffWalking's goal
 *     and cliff cells) has return 0: its law is the one atom 0, whatever its
 *     outcomes in the table.
 *     Honesty of the truncation: dropping mass m (and renormalizing) moves a
 *     law's mean by at most m times the span of its returns (at most
 *     2 rmax/(1 − γ)), and CVaR_α (stats/risk.h) by at most that over α. On
 *     slippery CliffWalking (rmax 100, γ 0.99: a span up to 2·10^4) the old
 *     limit m < 1e-9 left CVaR_0.25 3e-7 away from a propagation to 1e-13
 *     (tests/ref/risk_ref.py), too much for 6 decimals; at m < 1e-12 the
 *     worst-case bound for CVaR_0.1 is 2e-7, and every value of every measure
 *     in tests/ref/risk_ref.out is within 1.1e-9 of the reference. The cost
 *     is about a third more steps (FrozenLake 4x4 from the start: 856 to 1137).
 *
 * Monte Carlo: returns sum_{t<T} γ^t r_t from a given state of any env whose
 * state can be set, first action a, then a policy callback, for K steps with
 * γ^K < TRUTH_MC_TAIL (the time limit ignored; the neglected tail γ^K V(s_K)
 * is below γ^K r/(1 − γ), 0.01 at γ = 0.99 with CartPole's reward 1), from
 * the env's reference probe states (env_kind_info.probe: CartPole's 20).
 * Gymnasium's CartPole is deterministic once
 * its state is set, so under a deterministic policy every rollout returns the
 * same value: the true law is a single atom and one rollout suffices.
 *
 * Memory: callers own every array they pass; truth_atoms are allocated here
 * and freed with truth_atoms_free. Nothing keeps pointers to caller memory.
 */
#ifndef BDRL_TRUTH_H
#define BDRL_TRUTH_H

#include "core/err.h"
#include "envs/env.h"

#define TRUTH_TIE_TOL 1e-9        /* relative: Q values this close count as tied */
#define TRUTH_TAB_MASS_TOL 1e-12   /* stop when the walking mass is below this (see "Honesty" above) */
#define TRUTH_TAB_TAIL_TOL 1e-12   /* ... or when the rewards still to come are below this */
#define TRUTH_TAB_MAX_STEPS 100000 /* give up (γ = 1 with a policy that never ends) */
#define TRUTH_MC_TAIL 1e-4        /* Monte Carlo horizon K: smallest with γ^K < this */

/* 1 if s is terminal (t->terminal: FrozenLake's holes and goal, CliffWalking's
 * goal and cliff cells). */
int truth_tab_is_terminal(const env_table *t, int s);

/* Value iteration to convergence: v (n_states), q (n_states, n_actions) and
 * policy (n_states) may each be NULL. Terminal states get 0 and action 0.
 * Fails if it does not converge (γ = 1 and no policy ends the episodes). */
int truth_tab_value_iteration(const env_table *t, double gamma, double *v, double *q, int *policy,
                             bdrl_err *e);

/* The optimal policy of an env with a transition table (FrozenLake, tabular
 * plugins), the one rule agent.mode evaluate and `bdrl eval` use:
 * truth_tab_value_iteration itself — policy (n_states), argmax ties
 * (relative TRUTH_TIE_TOL) to the lowest action, terminal states action 0.
 * Returns -1 if en has no transition table or value iteration does not
 * converge. */
int truth_env_optimal_policy(const env *en, double gamma, int *policy);

/* V^π (n_states) and Q^π (n_states, n_actions) of a deterministic policy
 * (n_states actions); v or q may be NULL. */
int truth_tab_policy_eval(const env_table *t, double gamma, const int *policy, double *v, double *q,
                         bdrl_err *e);

/* The exact range of returns [*lo, *hi]: the smallest and the largest
 * discounted return that any path of positive probability attains from any
 * non-terminal (s, a), under any policy. Value iteration with min (and max)
 * over both the actions and the outcomes: Vmin(s) = min_a min_o (r_o + γ
 * (1 − terminated_o) Vmin(s'_o)), terminal states 0, the range the min of
 * the first step from each non-terminal (s, a) (and likewise the max). What
 * a learner's support must cover for every law it learns (policies only
 * change which of those returns have mass). Fails when the returns are
 * unbounded (γ = 1 and a cycle that collects rewards). */
int truth_tab_return_range(const env_table *t, double gamma, double *lo, double *hi, bdrl_err *e);

/* A law given by atoms: values ascending and distinct, probabilities > 0
 * summing to 1 - residual. */
typedef struct {
    int n;
    double *value;   /* (n) */
    double *prob;    /* (n) */
    double residual; /* mass dropped by the truncation, < TRUTH_TAB_MASS_TOL */
    int steps;       /* steps propagated */
} truth_atoms;

/* The law of Z(s, a) under policy (n_states actions): first a, then π. */
int truth_tab_distribution(const env_table *t, double gamma, const int *policy, int s, int a,
                          truth_atoms *out, bdrl_err *e);
void truth_atoms_free(truth_atoms *d);
/* Mean of the atoms renormalized to mass 1 (as stat_dist_atoms does). */
double truth_atoms_mean(const truth_atoms *d);

/* Which of t's outcomes of (s, a) an observed transition (next state,
 * reward, termination) is: the first that matches all three, so outcomes
 * that share a next state with different rewards (a gamble that ends in one
 * terminal state with +3 or -1) stay apart, and identical ones (FrozenLake's
 * corner moves) count as one. Rewards are compared in single precision (the
 * replay buffer stores floats). -1 if none matches: the transition is
 * impossible in t. */
int truth_tab_match_outcome(const env_table *t, int s, int a, int next_state, double reward, int terminated);

/* The empirical transition table of observed transitions: counts
 * (n_states · n_actions · max_outcomes), counts[(s · A + a) · M + k] the
 * times (s, a) produced t's outcome k (truth_tab_match_outcome). Each (s, a)
 * with data gets t's observed outcomes, each with probability count / total;
 * an (s, a) without data, and every terminal state, keeps t's outcomes; a
 * count for an outcome t does not have is an error. *fewest (may be NULL)
 * gets the smallest total over non-terminal (s, a) (0 if one has no data).
 * The exact laws under this table are the fixed point a perfect learner of
 * those transitions reaches (what `bdrl eval --truth replay` compares
 * with). out's arrays are allocated here: free them with
 * truth_tab_table_free. */
int truth_tab_empirical(const env_table *t, const int64_t *counts, env_table *out, int64_t *fewest, bdrl_err *e);
void truth_tab_table_free(env_table *t);

/* ---- Monte Carlo from a chosen state (CartPole's probe states) ---- */

/* A policy: the action for one observation (obs_dim floats). */
typedef int (*truth_policy_fn)(void *ctx, const float *obs, int *action, bdrl_err *e);

/* Smallest K >= 1 with γ^K < TRUTH_MC_TAIL; fails for γ = 1 (no finite
 * horizon makes the tail negligible). */
int truth_mc_horizon(double gamma, int *K, bdrl_err *e);

/* n rollouts of K steps (K <= 0: truth_mc_horizon) from state (env_state_dim
 * doubles, e.g. CartPole's x, x_dot, theta, theta_dot): first `action`, then
 * pol; each stops early when the episode terminates. cfg's time limit is
 * ignored; its env must have a state that can be set.
 * Writes returns (n) and, if not NULL, lengths (n, steps taken). */
int truth_mc_returns(const env_config *cfg, const double *state, int action, double gamma, int K,
                      truth_policy_fn pol, void *ctx, int n, double *returns, int *lengths,
                      bdrl_err *e);

#endif
