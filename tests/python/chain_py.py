"""A tabular chain with Gymnasium's toy-text table P, for tests/test_python.c.

The Python twin of examples/envs/chain.c: states 0 .. length-1 are the
chain (start 0), length the goal, length+1 the fall. Action 0 "safe" moves
one state on (entering the goal pays 1); action 1 "risky" reaches the goal
with probability p_risky (reward 1), else falls (reward reward_fall); both
end the episode. Goal and fall are terminal: every action stays, reward 0,
terminated. Randomness only from the generator reset(seed=...) seeds.
"""
import random


class Discrete:
    def __init__(self, n):
        self.n = n
        self.shape = ()


class Chain:
    action_names = ["safe", "risky"]
    max_episode_steps = 100

    def __init__(self, length=3, p_risky=0.7, reward_fall=-1.0):
        assert isinstance(length, int) and isinstance(p_risky, float)
        self.length = length
        L = length
        self.observation_space = Discrete(L + 2)
        self.action_space = Discrete(2)
        self.P = {}
        for s in range(L + 2):
            if s >= L:
                self.P[s] = {a: [(1.0, s, 0.0, True)] for a in range(2)}
                continue
            nxt = s + 1
            self.P[s] = {
                0: [(1.0, nxt, 1.0 if nxt == L else 0.0, nxt == L)],
                1: [(p_risky, L, 1.0, True), (1.0 - p_risky, L + 1, float(reward_fall), True)],
            }
        self.rng = random.Random(0)
        self.s = 0

    def reset(self, seed=None, options=None):
        if seed is not None:
            self.rng = random.Random(seed)
        self.s = 0
        return self.s, {}

    def step(self, action):
        u = self.rng.random()
        acc = 0.0
        for p, ns, r, t in self.P[self.s][action]:
            acc += p
            if u < acc:
                break
        self.s = ns
        return ns, r, t, False, {"prob": p}
