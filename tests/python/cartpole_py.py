"""Gymnasium's CartPole-v1 (classic_control/cartpole.py) transcribed to plain
Python for tests/test_python.c and bench/bench_env.c: the same constants,
explicit Euler, the same termination, the initial state uniform in
[-0.05, 0.05]^4. Observations are lists of floats (no numpy); the
generator is Python's random.Random seeded by reset(seed=...), so the
trajectories are Gymnasium's only in law. get_state/set_state let bdrl
compute Monte Carlo laws at chosen states.
"""
import math
import random


class Box:
    def __init__(self, shape):
        self.shape = shape


class Discrete:
    def __init__(self, n):
        self.n = n


class CartPole:
    state_names = ["x", "x_dot", "theta", "theta_dot"]
    action_names = ["push left", "push right"]

    def __init__(self, gravity=9.8, force_mag=10.0):
        self.gravity = float(gravity)
        self.masscart = 1.0
        self.masspole = 0.1
        self.total_mass = self.masspole + self.masscart
        self.length = 0.5
        self.polemass_length = self.masspole * self.length
        self.force_mag = float(force_mag)
        self.tau = 0.02
        self.theta_threshold_radians = 12 * 2 * math.pi / 360
        self.x_threshold = 2.4
        self.observation_space = Box((4,))
        self.action_space = Discrete(2)
        self.rng = random.Random(0)
        self.state = (0.0, 0.0, 0.0, 0.0)

    def reset(self, seed=None, options=None):
        if seed is not None:
            self.rng = random.Random(seed)
        self.state = tuple(self.rng.uniform(-0.05, 0.05) for _ in range(4))
        return list(self.state), {}

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = self.force_mag if action == 1 else -self.force_mag
        costheta = math.cos(theta)
        sintheta = math.sin(theta)
        temp = (force + self.polemass_length * theta_dot**2 * sintheta) / self.total_mass
        thetaacc = (self.gravity * sintheta - costheta * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * costheta**2 / self.total_mass)
        )
        xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass
        x = x + self.tau * x_dot
        x_dot = x_dot + self.tau * xacc
        theta = theta + self.tau * theta_dot
        theta_dot = theta_dot + self.tau * thetaacc
        self.state = (x, x_dot, theta, theta_dot)
        terminated = bool(
            x < -self.x_threshold
            or x > self.x_threshold
            or theta < -self.theta_threshold_radians
            or theta > self.theta_threshold_radians
        )
        return list(self.state), 1.0, terminated, False, {}

    def get_state(self):
        return list(self.state)

    def set_state(self, state):
        self.state = tuple(float(v) for v in state)
        return list(self.state)
