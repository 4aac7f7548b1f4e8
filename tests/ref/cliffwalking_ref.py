#!/usr/bin/python3
"""Gymnasium's own CliffWalking-v1, run from its source, against bdrl's
(test tooling, not shipped logic; needs numpy and a Gymnasium checkout, not
run by CI or `make test`).

The real gymnasium/envs/toy_text/cliffwalking.py and utils.py are loaded
from GYM (default /tmp/ref/Gymnasium) with the few gymnasium imports they
make stubbed as Gymnasium defines them (gym_stub.py: reset(seed=S) makes
numpy.random.Generator(numpy.random.PCG64(numpy.random.SeedSequence(S)))).
gym.make('CliffWalking-v1') adds no TimeLimit (the registration has no
max_episode_steps), so truncated is always False; its other wrappers change
no value.

  cliffwalking_ref.py table [--slippery]
      P as `bdrl env table cliffwalking` prints it:
      state,action,prob,next_state,reward,terminated (%.17g)
  cliffwalking_ref.py rollouts [--slippery] [--seeds A:B] [--steps N]
      for each seed S in [A, B): reset(seed=S), then the generated actions
      until terminated or N steps: seed,step,action,state,reward,terminated,
      truncated (step 0 is the reset's state, action -1)
  cliffwalking_ref.py check BDRL [--slippery] [--seeds A:B] [--steps N]
      compares `BDRL env table` with P and `BDRL env rollout cliffwalking
      --seed S --actions ...` with the reference for every seed; prints
      "cliffwalking: T tables, N trajectories, K steps, D differ" and exits
      1 on a difference. `bdrl env rollout` does not print the reset's
      state; test_cliffwalking checks it (env_reset) against the step-0 rows
      of the committed rollouts.

The actions of seed S come from random.Random(S): a mix of uniformly random
moves, walks along the cliff's edge and detours through the top rows, so
trajectories fall into the cliff, bump the walls, reach the goal or run to
N steps.
"""
import argparse
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gym_stub  # noqa: E402

CliffWalkingEnv = gym_stub.load("cliffwalking").CliffWalkingEnv


def g(x):
    return "%.17g" % x


def table_lines(slippery):
    env = CliffWalkingEnv(is_slippery=slippery)
    out = ["state,action,prob,next_state,reward,terminated"]
    for s in range(env.nS):
        for a in range(env.nA):
            for p, s2, r, t in env.P[s][a]:
                out.append("%d,%d,%s,%d,%s,%d" % (s, a, g(p), int(s2), g(r), int(t)))
    return out


def actions(seed, n):
    """n actions for seed: segments of random moves, cliff-edge walks (up,
    then right along row 2, then down) and top-row detours."""
    r = random.Random(seed)
    acts = []
    while len(acts) < n:
        kind = r.random()
        if kind < 0.4:
            acts += [r.randrange(4) for _ in range(r.randint(1, 30))]
        elif kind < 0.7:
            acts += [0] + [1] * r.randint(1, 13) + [2] * r.randint(0, 2)
        else:
            acts += [0] * r.randint(1, 4) + [1] * r.randint(1, 12) + [2] * r.randint(1, 4) + [3] * r.randint(0, 2)
    return acts[:n]


def rollout(env, seed, acts):
    """[(step, action, state, reward, terminated, truncated)], step 0 the reset."""
    s, _ = env.reset(seed=seed)
    rows = [(0, -1, s, 0, 0, 0)]
    for t, a in enumerate(acts, 1):
        s, r, term, trunc, _ = env.step(a)
        rows.append((t, a, s, r, int(term), int(trunc)))
        if term or trunc:
            break
    return rows


def seed_range(text):
    a, b = text.split(":")
    return range(int(a), int(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["table", "rollouts", "check"])
    ap.add_argument("bdrl", nargs="?")
    ap.add_argument("--slippery", action="store_true")
    ap.add_argument("--seeds", default="0:20")
    ap.add_argument("--steps", type=int, default=300)
    o = ap.parse_args()
    if o.mode == "table":
        print("\n".join(table_lines(o.slippery)))
        return 0
    env = CliffWalkingEnv(is_slippery=o.slippery)
    if o.mode == "rollouts":
        print("seed,step,action,state,reward,terminated,truncated")
        for seed in seed_range(o.seeds):
            for t, a, s, r, term, trunc in rollout(env, seed, actions(seed, o.steps)):
                print("%d,%d,%d,%d,%s,%d,%d" % (seed, t, a, s, g(r), term, trunc))
        return 0
    if not o.bdrl:
        ap.error("check needs the bdrl binary")
    sets = ["--set", "env.slippery=%s" % ("true" if o.slippery else "false")]
    differ = steps = trajs = tables = 0
    got = subprocess.run([o.bdrl, "env", "table", "cliffwalking"] + sets, capture_output=True, text=True)
    tables += 1
    if got.stdout.splitlines() != table_lines(o.slippery):
        differ += 1
        print("cliffwalking: the transition tables differ")
    for seed in seed_range(o.seeds):
        acts = actions(seed, o.steps)
        rows = rollout(env, seed, acts)
        want = ["step,state,reward,terminated,truncated"] + [
            "%d,%d,%s,%d,%d" % (t, s, g(r), term, trunc) for t, a, s, r, term, trunc in rows[1:]]
        res = subprocess.run([o.bdrl, "env", "rollout", "cliffwalking", "--seed", str(seed), "--actions",
                              ",".join(map(str, acts))] + sets, capture_output=True, text=True)
        trajs += 1
        steps += len(rows) - 1
        if res.returncode != 0 or res.stdout.splitlines() != want:
            differ += 1
            lines = res.stdout.splitlines()
            for i in range(max(len(lines), len(want))):
                a = lines[i] if i < len(lines) else "<none>"
                b = want[i] if i < len(want) else "<none>"
                if a != b:
                    print("seed %d: bdrl %s, reference %s %s" % (seed, a, b, res.stderr.strip()))
                    break
    print("cliffwalking%s: %d tables, %d trajectories, %d steps, %d differ" % (
        " slippery" if o.slippery else "", tables, trajs, steps, differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
