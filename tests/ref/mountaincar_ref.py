"""Pure-Python transcription of Gymnasium's MountainCar-v0 step (reference for tests only).

Follows gymnasium/envs/classic_control/mountain_car.py (MountainCarEnv,
goal_velocity = 0) in Python floats (the reference's numpy float64 scalars;
math.cos as there; np.clip is max-then-min). Not shipped logic:
tests/ref/refcheck.py drives it.
"""
import math
import random

NAME = "mountaincar"
STATE_NAMES = ["position", "velocity"]
TIME_LIMIT = 200

min_position = -1.2
max_position = 0.6
max_speed = 0.07
goal_position = 0.5
goal_velocity = 0
force = 0.001
gravity = 0.0025


def _clip(x, lo, hi):
    # numpy's clip for floats: max(x, lo) then min(., hi), comparisons as in C
    y = x if x > lo else lo
    return y if y < hi else hi


def step(state, action):
    """Returns (next state, reward, terminated)."""
    position, velocity = state
    velocity += (action - 1) * force + math.cos(3 * position) * (-gravity)
    velocity = _clip(velocity, -max_speed, max_speed)
    position += velocity
    position = _clip(position, min_position, max_position)
    if position == min_position and velocity < 0:
        velocity = 0
    terminated = bool(position >= goal_position and velocity >= goal_velocity)
    reward = -1.0
    return [position, velocity], reward, terminated


def trajectories(n, seed):
    """n (start state, actions) pairs: reset-like starts with random actions,
    random states (some against the left wall), and an energy-pumping policy
    with random actions mixed in that reaches the goal (termination)."""
    r = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            s = [-0.6 + (-0.4 - -0.6) * r.random(), 0.0]
        elif kind == 1:
            s = [r.uniform(-1.2, 0.6), r.uniform(-0.07, 0.07)]
        elif kind == 2:
            s = [-1.2 + 0.05 * r.random(), -0.07 * r.random()]
        else:
            s = [r.uniform(-1.2, 0.5), r.uniform(-0.07, 0.07)]
        acts = []
        cur = list(s)
        for t in range(TIME_LIMIT):
            if kind >= 2 and r.random() > 0.15:
                a = 2 if cur[1] >= 0 else 0
            else:
                a = r.randrange(3)
            acts.append(a)
            cur, _, term = step(cur, a)
            if term:
                break
        out.append((s, acts))
    return out
