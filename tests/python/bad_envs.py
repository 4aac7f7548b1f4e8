"""Broken Python environments for tests/test_python.c: one contract
violation per class. Lines marked `# raise: NAME` are where tests expect
the bridge to say an exception was raised."""
import math
import os


class Discrete:
    def __init__(self, n):
        self.n = n


class Box:
    def __init__(self, shape):
        self.shape = shape


class Base:
    """A valid 2-float, 2-action environment the others break."""

    max_episode_steps = 50

    def __init__(self):
        self.observation_space = Box((2,))
        self.action_space = Discrete(2)
        self.t = 0

    def reset(self, seed=None, options=None):
        self.t = 0
        return [0.0, 0.0], {}

    def obs(self):
        return [float(self.t), 1.0]

    def step(self, action):
        self.t += 1
        return self.obs(), 1.0, self.t >= 5, False, {}


class Ok(Base):
    pass


class RaisesInInit(Base):
    def __init__(self, length=3):
        raise ValueError("length %d is too short" % length)  # raise: init


class NoActionN(Base):
    def __init__(self):
        super().__init__()
        self.action_space = Box((1,))


class StepArity(Base):
    def step(self, action):
        return self.obs(), 1.0, False, {}


class ResetArity(Base):
    def reset(self, seed=None, options=None):
        return [0.0, 0.0]


class NanObs(Base):
    def obs(self):
        return [float(self.t), math.nan]


class WrongShape(Base):
    def obs(self):
        return [0.0, 1.0, 2.0]


class StepRaises(Base):
    def step(self, action):
        if self.t >= 1:
            raise RuntimeError("the cart fell off the table")  # raise: step
        return super().step(action)


class FailsAt(Base):
    """Raises at the process's step BDRL_TEST_FAIL_AT (unset: never): a run
    that dies mid-way and is resumed without the variable."""

    calls = 0

    def reset(self, seed=None, options=None):
        import random
        if seed is not None:
            self.rng = random.Random(seed)
        self.t = 0
        self.x = self.rng.uniform(-1, 1)
        return [self.x, 0.0], {}

    def step(self, action):
        FailsAt.calls += 1
        if str(FailsAt.calls) == os.environ.get("BDRL_TEST_FAIL_AT"):
            raise RuntimeError("failing on purpose")  # raise: failsat
        self.t += 1
        self.x += (0.1 if action else -0.1) + self.rng.gauss(0, 0.05)
        return [self.x, float(self.t) / 20], -abs(self.x), abs(self.x) > 1, False, {}
