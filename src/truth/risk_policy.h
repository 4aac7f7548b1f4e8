/* risk_policy.h — the iterated per-state risk-greedy policy of a tabular
 * environment, with its exact return laws (what `bdrl truth --risk` prints).
 *
 * A distributional agent that acts greedily on a risk measure ρ (risk.h)
 * picks, in each state s, the action maximizing ρ(Z(s, a)) of the laws it
 * has learned, and learns the laws of the policy it follows. Its fixed
 * point, if it has one, is a policy π that is ρ-greedy with respect to its
 * own laws Z^π(s, a) (first a, then π). This module computes it exactly:
 *   π_0 = the mean-optimal policy (value iteration, ties to the lowest action);
 *   π_{k+1}(s) = argmax_a ρ(Z^{π_k}(s, a)), ties (within TRUTH_TIE_TOL
 *                relative to max(1, |best|)) to the lowest action, with
 *                Z^{π_k} the exact laws of truth_tab_distribution;
 * until some π_{k+1} equals an earlier π_j. If j = k the iteration
 * converged: π_k is ρ-greedy on its own laws. If j < k the policies cycle
 * with length k + 1 − j, π_j → ... → π_k → π_j: no policy of the cycle is
 * greedy on its own laws, and that is reported, never hidden.
 *
 * This is not the policy maximizing ρ of the whole return from the start
 * (the static CVaR-optimal policy, say): ρ is not additive over time, so
 * choosing per state on Z(s, a) is not dynamic programming for ρ of the
 * return; it is what an agent greedy on a risk measure of its learned laws
 * converges to, when it converges.
 *
 * Terminal states (t->terminal) take action 0 and no values. Memory: the
 * result's arrays are allocated here and freed with risk_greedy_free.
 */
#ifndef BDRL_RISK_POLICY_H
#define BDRL_RISK_POLICY_H

#include "core/err.h"
#include "envs/env.h"
#include "stats/risk.h"

#define RISK_GREEDY_MAX_ITER 1000 /* default: improvements before giving up */

typedef struct {
    int n_states, n_actions;
    int *mean_policy;   /* π_0: the mean-optimal policy (n_states) */
    int *policy;        /* π_k: the last policy evaluated (n_states) */
    int *greedy;        /* π_{k+1}: ρ-greedy on π_k's laws (n_states); = policy when converged */
    double *value;      /* ρ(Z^{π_k}(s, a)), (n_states · n_actions); NAN at terminal states */
    int iterations;     /* k + 1: the improvements computed */
    int converged;      /* 1: π_{k+1} = π_k */
    int cycle_start;    /* j: π_{k+1} = π_j (= k when converged) */
    int cycle_length;   /* k + 1 − j (1 when converged) */
    int *cycle;         /* cycle_length · n_states: π_j, ..., π_k */
    double residual;    /* the largest mass a law's truncation dropped (truth.h) */
} risk_greedy;

/* The iteration above on table t (max_iter ≤ 0: RISK_GREEDY_MAX_ITER).
 * Errors: bad γ or measure, a law that cannot be computed (γ = 1 and a
 * policy that never ends), no repeat within max_iter improvements. out is
 * zeroed first and needs risk_greedy_free after success (freed here on
 * failure). */
int truth_tab_risk_greedy(const env_table *t, double gamma, const risk_spec *r, int max_iter, risk_greedy *out,
                          bdrl_err *e);
void risk_greedy_free(risk_greedy *g);

/* 1 if state s's action is not the same in every policy of the cycle (a
 * state that flips); 0 when converged. */
int risk_greedy_flips(const risk_greedy *g, int s);

#endif
