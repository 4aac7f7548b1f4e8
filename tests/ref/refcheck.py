#!/usr/bin/env python3
"""Bit-exactness check of bdrl's Acrobot-v1 and MountainCar-v0 against
pure-Python transcriptions of Gymnasium's steps (acrobot_ref.py,
mountaincar_ref.py). Test tooling only.

  refcheck.py ENV check BDRL [--trajectories N] [--seed S]
      runs `BDRL env rollout ENV --state ... --actions ...` for N generated
      trajectories and compares every row (%.17g text) with the reference's;
      prints "ENV: N trajectories, K steps, D differ" and exits 1 on a difference.
  refcheck.py ENV csv [--trajectories N] [--seed S]
      prints the trajectories as CSV for the cmocka test without Python:
      traj,step,action,<state...>,reward,terminated,truncated
      (step 0 is the start state, action -1).
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import acrobot_ref  # noqa: E402
import mountaincar_ref  # noqa: E402

ENVS = {m.NAME: m for m in (acrobot_ref, mountaincar_ref)}


def g(x):
    return "%.17g" % x


def rows(mod, s, acts):
    """The reference's rollout rows: state after each step, TimeLimit
    truncation counted from the start, stopping at the episode's end."""
    out = []
    cur = list(s)
    for t, a in enumerate(acts, 1):
        cur, rew, term = mod.step(cur, a)
        trunc = t >= mod.TIME_LIMIT
        out.append((t, a, list(cur), rew, int(term), int(trunc)))
        if term or trunc:
            break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("env", choices=sorted(ENVS))
    ap.add_argument("mode", choices=["check", "csv"])
    ap.add_argument("bdrl", nargs="?")
    ap.add_argument("--trajectories", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    o = ap.parse_args()
    mod = ENVS[o.env]
    trajs = mod.trajectories(o.trajectories, o.seed)
    if o.mode == "csv":
        print("traj,step,action,%s,reward,terminated,truncated" % ",".join(mod.STATE_NAMES))
        for k, (s, acts) in enumerate(trajs):
            print("%d,0,-1,%s,0,0,0" % (k, ",".join(g(v) for v in s)))
            for t, a, st, rew, term, trunc in rows(mod, s, acts):
                print("%d,%d,%d,%s,%s,%d,%d" % (k, t, a, ",".join(g(v) for v in st), g(rew), term, trunc))
        return 0
    if not o.bdrl:
        ap.error("check needs the bdrl binary")
    steps = differ = 0
    header = "step,%s,reward,terminated,truncated" % ",".join(mod.STATE_NAMES)
    for k, (s, acts) in enumerate(trajs):
        want = [header] + ["%d,%s,%s,%d,%d" % (t, ",".join(g(v) for v in st), g(rew), term, trunc)
                           for t, a, st, rew, term, trunc in rows(mod, s, acts)]
        cmd = [o.bdrl, "env", "rollout", o.env, "--state", ",".join(g(v) for v in s),
               "--actions", ",".join(str(a) for a in acts)]
        got = subprocess.run(cmd, capture_output=True, text=True)
        if got.returncode != 0:
            print("%s: trajectory %d: bdrl exited %d: %s" % (o.env, k, got.returncode, got.stderr.strip()))
            return 1
        lines = got.stdout.splitlines()
        steps += len(want) - 1
        if lines != want:
            differ += 1
            for i in range(max(len(lines), len(want))):
                a = lines[i] if i < len(lines) else "<none>"
                b = want[i] if i < len(want) else "<none>"
                if a != b:
                    print("%s: trajectory %d from %s, row %d:\n  bdrl      %s\n  reference %s"
                          % (o.env, k, ",".join(g(v) for v in s), i, a, b))
                    break
    print("%s: %d trajectories, %d steps, %d differ" % (o.env, len(trajs), steps, differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
