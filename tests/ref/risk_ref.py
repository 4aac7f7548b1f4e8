#!/usr/bin/python3
"""Independent reference for `bdrl truth --risk` (test tooling, not shipped
logic; needs numpy and Gymnasium's source, see gym_stub.py; not run by CI or
`make test`).

The iterated per-state risk-greedy policy on slippery CliffWalking and
FrozenLake 4x4 (gamma 0.99), from the transition tables P of Gymnasium's own
cliffwalking.py and frozen_lake.py, without bdrl's code:
  - states an episode stands on: the closure of the start under outcomes
    that do not terminate (the rest, holes, goal and cliff, have return 0);
  - pi_0: value iteration to 1e-14, argmax ties (within 1e-9 relative to
    max(1, |best|)) to the lowest action;
  - Z(s, a) under pi: the exact law by propagating arrays of (state, return
    so far, probability), merging equal (state, return) pairs (returns equal
    to 1e-8) with numpy, until less than 1e-13 of the probability
    walks (bdrl stops at 1e-9: agreeing to 6 decimals shows that its
    truncation is honest) or, for paths that never end, the rewards still to
    come are below 1e-14;
  - rho(Z) = sum_i x_(i) [h(F_i) - h(F_{i-1})] over the sorted atoms, h the
    inverse of beta written here (Wang through statistics.NormalDist, CPW by
    vectorized bisection);
  - pi_{k+1}(s) = argmax_a rho(Z^{pi_k}(s, a)), same ties, until a policy
    repeats (the last: converged; an earlier: a cycle).
Prints, per environment and measure, the iterations, converged or the
cycle, the policy over the standing states, how many states differ from
pi_0, the start state's values and the mean value over every (s, a), to 6
decimals; tests/test_risk_truth.c holds these numbers. With --bdrl BIN it
also runs `BIN truth CONFIG --risk M` and reports the largest difference of
any value and whether the policies agree.

    /usr/bin/python3 tests/ref/risk_ref.py [--bdrl bin/bdrl]    # about a minute
"""
import argparse
import os
import subprocess
import sys
import tempfile
from statistics import NormalDist

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gym_stub  # noqa: E402

GAMMA = 0.99
MASS_TOL = 1e-13
TAIL_TOL = 1e-14
MEASURES = ["cvar:0.1", "cvar:0.25", "wang:-0.75", "cpw:0.71", "pow:-2", "mean", "wang:0.75", "var:0.1"]
N01 = NormalDist()


def tables():
    cw = gym_stub.load("cliffwalking").CliffWalkingEnv(is_slippery=True)
    fl = gym_stub.load("frozen_lake").FrozenLakeEnv(map_name="4x4", is_slippery=True)
    return {
        "cliffwalking": (cw.P, int(cw.nS), 4, int(cw.start_state_index),
                         "env:\n  name: cliffwalking\n  slippery: true\nagent:\n  gamma: 0.99\n"),
        "frozenlake": (fl.P, int(fl.observation_space.n), 4, 0,
                       "env:\n  name: frozenlake\nagent:\n  gamma: 0.99\n"),
    }


def standing(P, S, start):
    seen, todo = {start}, [start]
    while todo:
        s = todo.pop()
        for a in P[s]:
            for p, s2, r, t in P[s][a]:
                if p > 0 and not t and s2 not in seen:
                    seen.add(s2)
                    todo.append(s2)
    return sorted(seen)


def argmax_low(v):
    best = max(v)
    tol = 1e-9 * max(1.0, abs(best))
    return next(a for a in range(len(v)) if v[a] >= best - tol)


def value_iteration(P, S, A, live):
    V = np.zeros(S)
    for _ in range(100000):
        Q = np.zeros((S, A))
        for s in live:
            for a in range(A):
                Q[s, a] = sum(p * (r + (0 if t else GAMMA * V[s2])) for p, s2, r, t in P[s][a])
        nV = np.array([Q[s].max() if s in live else 0.0 for s in range(S)])
        d = np.abs(nV - V).max()
        V = nV
        if d <= 1e-14 * max(1, np.abs(V).max()):
            break
    return [argmax_low(list(Q[s])) if s in live else 0 for s in range(S)]


def law(P, pi, s, a, rmax):
    """atoms (values, probs) of Z(s, a) under pi"""
    ws, wg, wp = np.array([s]), np.array([0.0]), np.array([1.0])
    xs, xp = [], []
    disc = 1.0
    step = 0
    while True:
        if wp.sum() < MASS_TOL:
            break
        if disc * rmax / (1 - GAMMA) < TAIL_TOL:
            xs.append(wg)
            xp.append(wp)
            break
        ns, ng, np_ = [], [], []
        for i in range(len(ws)):
            act = a if step == 0 else pi[ws[i]]
            for p, s2, r, t in P[int(ws[i])][act]:
                q = wp[i] * p
                if q == 0:
                    continue
                g = wg[i] + disc * r
                if t:
                    xs.append(np.array([g]))
                    xp.append(np.array([q]))
                else:
                    ns.append(s2)
                    ng.append(g)
                    np_.append(q)
        ws, wg, wp = np.array(ns, dtype=int), np.array(ng), np.array(np_)
        if len(ws):
            # merge equal (state, return): returns rounded to 1e-8 (distinct
            # returns of one state and step differ by 99 gamma^t (1 - gamma) or more)
            key = np.round(wg * 1e8)
            order = np.lexsort((key, ws))
            ws, wg, wp, key = ws[order], wg[order], wp[order], key[order]
            new = np.ones(len(ws), bool)
            new[1:] = (ws[1:] != ws[:-1]) | (key[1:] != key[:-1])
            idx = np.cumsum(new) - 1
            wp = np.bincount(idx, weights=wp)
            ws, wg = ws[new], wg[new]
        disc *= GAMMA
        step += 1
    x, w = np.concatenate(xs), np.concatenate(xp)
    return x, w


def cpw(eta, t):
    t = np.clip(t, 0, 1)
    a, b = t ** eta, (1 - t) ** eta
    return a / (a + b) ** (1 / eta)


def h_fn(measure):
    name, _, par = measure.partition(":")
    p = float(par) if par else 0.0
    if name == "mean":
        return lambda u: u
    if name == "cvar":
        return lambda u: np.minimum(u / p, 1.0)
    if name == "var":
        return lambda u: (u >= p).astype(float)
    if name == "wang":
        def wang(u):
            out = np.empty_like(u)
            for i, x in enumerate(u):
                out[i] = 0.0 if x <= 0 else 1.0 if x >= 1 else N01.cdf(N01.inv_cdf(x) - p)
            return out
        return wang
    if name == "pow":
        return (lambda u: u ** (1 + p)) if p >= 0 else (lambda u: 1 - (1 - u) ** (1 - p))
    if name == "cpw":
        def inv(u):
            lo, hi = np.zeros_like(u), np.ones_like(u)
            for _ in range(80):
                mid = (lo + hi) / 2
                below = cpw(p, mid) <= u
                lo = np.where(below, mid, lo)
                hi = np.where(below, hi, mid)
            return np.where(u >= 1, 1.0, np.where(u <= 0, 0.0, lo))
        return inv
    raise ValueError(measure)


def rho(measure, x, w):
    o = np.argsort(x, kind="stable")
    x, w = x[o], w[o] / w.sum()
    F = np.cumsum(w)
    F[-1] = 1.0
    h = h_fn(measure)(F)
    return float(np.sum(x * np.diff(np.concatenate([[0.0], h]))))


def risk_greedy(P, S, A, live, measure):
    rmax = max(abs(r) for s in P for a in P[s] for p, s2, r, t in P[s][a])
    pi0 = value_iteration(P, S, A, live)
    hist = [pi0]
    while True:
        pi = hist[-1]
        vals = np.full((S, A), np.nan)
        for s in live:
            for a in range(A):
                vals[s, a] = rho(measure, *law(P, pi, s, a, rmax))
        nxt = [argmax_low(list(vals[s])) if s in live else 0 for s in range(S)]
        if nxt in hist:
            j = hist.index(nxt)
            return pi0, pi, vals, len(hist), j == len(hist) - 1, len(hist) - j, hist[j:]
        hist.append(nxt)
        if len(hist) > 200:
            raise RuntimeError("no repeat")


def bdrl_values(binary, cfg_text, measure):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(cfg_text)
    res = subprocess.run([binary, "truth", f.name, "--risk", measure], capture_output=True, text=True)
    os.unlink(f.name)
    if res.returncode:
        raise RuntimeError(res.stderr)
    rows = {}
    for line in res.stdout.splitlines()[1:]:
        c = line.split(",")
        rows[int(c[0])] = (int(c[1]), [float(v) for v in c[3:]])
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bdrl")
    ap.add_argument("--measures", default=",".join(MEASURES))
    o = ap.parse_args()
    worst = 0.0
    for env, (P, S, A, start, cfg) in tables().items():
        live = standing(P, S, start)
        print("%s: %d standing states" % (env, len(live)))
        for m in o.measures.split(","):
            pi0, pi, vals, its, conv, clen, cyc = risk_greedy(P, S, A, live, m)
            differ = sum(pi[s] != pi0[s] for s in live)
            flips = [s for s in live if len({c[s] for c in cyc}) > 1]
            mean_v = float(np.mean([vals[s, a] for s in live for a in range(A)]))
            print("  %-10s iterations %d, %s, policy %s, %d differ from pi_0, start %s, mean value %.6f" % (
                m, its, "converged" if conv else "cycle of %d (flips %s)" % (clen, flips),
                "".join(str(pi[s]) for s in live), differ,
                " ".join("%.6f" % vals[start, a] for a in range(A)), mean_v))
            if o.bdrl:
                got = bdrl_values(o.bdrl, cfg, m)
                d = max(abs(got[s][1][a] - vals[s, a]) for s in live for a in range(A))
                same = all(got[s][0] == pi[s] for s in live) and sorted(got) == live
                worst = max(worst, d)
                print("  %-10s bdrl: largest value difference %.2e, policy %s" % (m, d, "same" if same else "DIFFERS"))
    if o.bdrl:
        print("largest difference over every value: %.2e" % worst)


if __name__ == "__main__":
    main()
