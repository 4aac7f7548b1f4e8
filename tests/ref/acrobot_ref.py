"""Pure-Python transcription of Gymnasium's Acrobot-v1 step (reference for tests only).

Follows gymnasium/envs/classic_control/acrobot.py (AcrobotEnv, book_or_nips =
"book", torque_noise_max = 0; helpers wrap, bound, rk4) operation for
operation in Python floats, which are the float64 of the reference's numpy
scalars and arrays: `x**2` is C pow() as for a numpy float64, math.cos/sin
are libm's. Not shipped logic: tests/ref/refcheck.py drives it.
"""
import math
import random
import struct

NAME = "acrobot"
STATE_NAMES = ["theta1", "theta2", "dtheta1", "dtheta2"]
TIME_LIMIT = 500

pi = math.pi
dt = 0.2
LINK_LENGTH_1 = 1.0
LINK_MASS_1 = 1.0
LINK_MASS_2 = 1.0
LINK_COM_POS_1 = 0.5
LINK_COM_POS_2 = 0.5
LINK_MOI = 1.0
MAX_VEL_1 = 4 * pi
MAX_VEL_2 = 9 * pi
AVAIL_TORQUE = [-1.0, 0.0, +1]


def _dsdt(s_augmented):
    m1 = LINK_MASS_1
    m2 = LINK_MASS_2
    l1 = LINK_LENGTH_1
    lc1 = LINK_COM_POS_1
    lc2 = LINK_COM_POS_2
    I1 = LINK_MOI
    I2 = LINK_MOI
    g = 9.8
    a = s_augmented[-1]
    s = s_augmented[:-1]
    theta1 = s[0]
    theta2 = s[1]
    dtheta1 = s[2]
    dtheta2 = s[3]
    cos, sin = math.cos, math.sin
    d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * cos(theta2)) + I1 + I2
    d2 = m2 * (lc2**2 + l1 * lc2 * cos(theta2)) + I2
    phi2 = m2 * lc2 * g * cos(theta1 + theta2 - pi / 2.0)
    phi1 = (
        -m2 * l1 * lc2 * dtheta2**2 * sin(theta2)
        - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
        + (m1 * lc1 + m2 * l1) * g * cos(theta1 - pi / 2)
        + phi2
    )
    ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * sin(theta2) - phi2) / (
        m2 * lc2**2 + I2 - d2**2 / d1
    )
    ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
    return [dtheta1, dtheta2, ddtheta1, ddtheta2, 0.0]


def _rk4(derivs, y0, t):
    # one interval [t[0], t[1]]; lists stand in for the float64 arrays
    this = t[0]
    h = t[1] - this
    h2 = h / 2.0
    k1 = derivs(y0)
    k2 = derivs([y + h2 * k for y, k in zip(y0, k1)])
    k3 = derivs([y + h2 * k for y, k in zip(y0, k2)])
    k4 = derivs([y + h * k for y, k in zip(y0, k3)])
    return [y + h / 6.0 * (a + 2 * b + 2 * c + d) for y, a, b, c, d in zip(y0, k1, k2, k3, k4)][:4]


def wrap(x, m, M):
    diff = M - m
    while x > M:
        x = x - diff
    while x < m:
        x = x + diff
    return x


def bound(x, m, M):
    return min(max(x, m), M)


def step(state, action):
    """Returns (next state, reward, terminated)."""
    torque = AVAIL_TORQUE[action]
    s_augmented = [float(v) for v in state] + [float(torque)]
    ns = _rk4(_dsdt, s_augmented, [0, dt])
    ns[0] = wrap(ns[0], -pi, pi)
    ns[1] = wrap(ns[1], -pi, pi)
    ns[2] = bound(ns[2], -MAX_VEL_1, MAX_VEL_1)
    ns[3] = bound(ns[3], -MAX_VEL_2, MAX_VEL_2)
    terminated = bool(-math.cos(ns[0]) - math.cos(ns[1] + ns[0]) > 1.0)
    reward = -1.0 if not terminated else 0.0
    return ns, reward, terminated


def _f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def trajectories(n, seed):
    """n (start state, actions) pairs: reset-like starts (float32, as
    reset's astype) with random actions, wide random states (also beyond
    the bounds, to exercise wrap and bound), and an energy-pumping policy
    with random actions mixed in that swings up (termination)."""
    r = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            s = [_f32(-0.1 + 0.2 * r.random()) for _ in range(4)]
        elif i % 6 == 1:
            s = [r.uniform(-pi, pi), r.uniform(-pi, pi), r.uniform(-MAX_VEL_1, MAX_VEL_1),
                 r.uniform(-MAX_VEL_2, MAX_VEL_2)]
        else:
            s = [r.uniform(-12, 12), r.uniform(-12, 12), r.uniform(-60, 60), r.uniform(-120, 120)]
        acts = []
        cur = list(s)
        for t in range(TIME_LIMIT):
            if kind == 2 and r.random() > 0.2:
                a = 2 if cur[3] > 0 else 0
            else:
                a = r.randrange(3)
            acts.append(a)
            cur, _, term = step(cur, a)
            if term:
                break
        out.append((s, acts))
    return out
