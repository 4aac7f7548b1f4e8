"""Loads Gymnasium's toy-text environments from their source with the few
gymnasium imports they make stubbed, each as Gymnasium defines it (test
tooling, not shipped logic; needs numpy):
  - gymnasium.Env.reset(seed=S) makes np_random as
    numpy.random.Generator(numpy.random.PCG64(numpy.random.SeedSequence(S)))
    (gymnasium/utils/seeding.py np_random) and keeps it when seed is None;
  - gymnasium.utils.seeding.np_random(seed) returns (that generator, entropy);
  - gymnasium.spaces.Discrete(n) holds n; gymnasium.utils.EzPickle does
    nothing; gymnasium.error.DependencyNotInstalled is an exception
    (rendering only).
GYM (environment variable) is the Gymnasium checkout, /tmp/ref/Gymnasium by
default.
"""
import importlib.util
import os
import sys
import types

import numpy as np

GYM = os.environ.get("GYM", "/tmp/ref/Gymnasium")


def _np_random(seed=None):
    ss = np.random.SeedSequence(seed)
    return np.random.Generator(np.random.PCG64(ss)), ss.entropy


def _install():
    gym = types.ModuleType("gymnasium")

    class Env:
        _np_random = None

        def reset(self, *, seed=None, options=None):
            if seed is not None:
                self._np_random, _ = _np_random(seed)

        @property
        def np_random(self):
            if self._np_random is None:
                self._np_random, _ = _np_random(None)
            return self._np_random

    class Discrete:
        def __init__(self, n):
            self.n = n

    class EzPickle:
        def __init__(self, *args, **kwargs):
            pass

    class DependencyNotInstalled(Exception):
        pass

    spaces = types.ModuleType("gymnasium.spaces")
    spaces.Discrete = Discrete
    error = types.ModuleType("gymnasium.error")
    error.DependencyNotInstalled = DependencyNotInstalled
    utils = types.ModuleType("gymnasium.utils")
    utils.EzPickle = EzPickle
    seeding = types.ModuleType("gymnasium.utils.seeding")
    seeding.np_random = _np_random
    utils.seeding = seeding
    gym.Env, gym.spaces, gym.error, gym.utils = Env, spaces, error, utils
    sys.modules.update({"gymnasium": gym, "gymnasium.spaces": spaces, "gymnasium.error": error,
                        "gymnasium.utils": utils, "gymnasium.utils.seeding": seeding,
                        "gymnasium.envs": types.ModuleType("gymnasium.envs"),
                        "gymnasium.envs.toy_text": types.ModuleType("gymnasium.envs.toy_text")})


def load(name):
    """The module gymnasium/envs/toy_text/NAME.py (utils.py loaded first)."""
    if "gymnasium" not in sys.modules:
        _install()
    toy = os.path.join(GYM, "gymnasium", "envs", "toy_text")
    for n in ("utils", name):
        full = "gymnasium.envs.toy_text." + n
        if full in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(full, os.path.join(toy, n + ".py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[full] = mod
        spec.loader.exec_module(mod)
    return sys.modules["gymnasium.envs.toy_text." + name]
