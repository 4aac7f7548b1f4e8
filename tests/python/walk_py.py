"""A small vector environment for tests/test_python.c: a walker on a line
pushed left or right with Gaussian noise, paid -|x| per step, ending past
|x| = 1 or after 30 steps (spec.max_episode_steps, as Gymnasium's make
sets it). The observation is an array.array of doubles (the buffer
protocol) or a tuple (the sequence protocol), chosen by env.params.as_tuple;
randomness only from the generator reset(seed=...) seeds."""
import array
import random


class Spec:
    max_episode_steps = 30


class Box:
    shape = (3,)


class Discrete:
    n = 3


class Walk:
    spec = Spec()
    observation_space = Box()
    action_space = Discrete()

    def __init__(self, noise=0.1, as_tuple=False):
        assert isinstance(as_tuple, bool)
        self.noise = noise
        self.as_tuple = as_tuple
        self.rng = random.Random(0)
        self.x = 0.0
        self.t = 0

    def _obs(self):
        o = (self.x, self.t / 30.0, 1.0)
        return o if self.as_tuple else array.array("d", o)

    def reset(self, seed=None, options=None):
        if seed is not None:
            self.rng = random.Random(seed)
        self.x = self.rng.uniform(-0.5, 0.5)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.x += 0.1 * (action - 1) + self.rng.gauss(0.0, self.noise)
        self.t += 1
        return self._obs(), -abs(self.x), abs(self.x) > 1.0, False, {}
