/* support.h — whether the returns a run sees fit the support of an agent
 * that has one (agent_kind_uses_support, the registry's SUPPORT column: C51's atoms, BD's return range),
 * [agent.v_min, agent.v_max]. Such an agent projects or clips every target
 * onto the support, so a support that is too narrow trains silently on
 * wrong targets; the trainer warns once (support_warning in summary.json).
 *
 * The criterion needs nothing but the transitions: the Bellman image of the
 * support must stay inside it. A terminal transition's return is its reward
 * r, so r must lie in [v_min, v_max]; any other bootstraps, r + γ·z for z
 * in the support, so r + γ·v_max <= v_max and r + γ·v_min >= v_min. Each
 * comparison allows SUPPORT_TOL·(v_max - v_min) of rounding. When a
 * transition breaks it, returns can leave the support (the fixed point of
 * the Bellman operator does, from some state); when none does, the support
 * is closed under every target the replay can make.
 */
#ifndef BDRL_SUPPORT_H
#define BDRL_SUPPORT_H

#include <stddef.h>

#include "agents/experiment.h"
#include "train/replay.h"

#define SUPPORT_TOL 1e-9

/* 1 if the transition (reward r, terminated or not) takes a return of the
 * support outside it, with a one-line reason in why (n bytes); else 0. */
int support_breached(const exp_config *cfg, double r, int terminated, char *why, size_t n);

/* support_breached over the filled part of a replay, oldest first (a run
 * resumed from a checkpoint that predates the warning): the first breach,
 * or 0. */
int support_breached_in(const exp_config *cfg, const replay *rb, char *why, size_t n);

#endif
