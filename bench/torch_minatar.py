#!/usr/bin/env python3
"""torch_minatar.py — the PyTorch CPU reference for bench_agents' MinAtar
section (issue 22 §4): the training loop of bdrl's MinAtar configs written
plainly in PyTorch, one thread, so bdrl's steps/s can be set against it in
the same run. A benchmark only: not run by `make test` or CI, and nothing in
bdrl imports it.

Install PyTorch from Debian (not part of `make deps`: only this benchmark
needs it):

    apt-get install -y python3-torch          # Debian 12: PyTorch 1.13
    /usr/bin/python3 bench/torch_minatar.py --seconds 2

(python3-torch installs for Debian's /usr/bin/python3; bench_agents finds it
there when python3 on PATH is another interpreter.)

The loop, per game (breakout, seaquest) and per agent:
  - MinAtar's network as configs/minatar/<game>_<agent>.yaml has it: a 3x3
    valid convolution with 16 channels, ReLU, dense 128, ReLU, the head; on
    the game's minimal action set (bdrl's env.minimal_actions true);
  - c51: 51 atoms on [-100, 100], the target's argmax action, the
    categorical projection and cross-entropy loss; dqn: the Huber loss
    (configs/minatar/*_dqn.yaml's dqn.loss); γ = 0.99;
  - Adam lr 2.5e-4, eps 3.125e-4 (bdrl's configs) for both, and for dqn
    also MinAtar's own DQN optimizer (examples/dqn.py: RMSprop lr 2.5e-4,
    alpha 0.95, centered, eps 0.01) — the issue's anchor;
  - batch 32, an update every step from step 33 on, a target copy every
    1,000 steps, ε-greedy at ε = 0.05 throughout (as bench_agents' loops), a
    replay of 100,000 transitions of the environment's observations (kept as
    0/1 bytes, made float per batch).
The environment is the real MinAtar when `import minatar` works (put a
checkout on PYTHONPATH; MinAtar is GPL-3.0 and not part of bdrl), otherwise
random 0/1 observations of the game's shape with random rewards and episode
ends; each RESULT line says which (env=minatar or env=random-obs).

Timing: CPU time of this process (time.process_time, as bench_agents) over a
window that opens after 50 updates and lasts --seconds. Output: one line per
measurement,
    RESULT game=G agent=A optimizer=O steps_per_s=X env=E
which bench_agents parses.
"""
import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # read when torch loads

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

# (channels, minimal actions) of each game, for the random-observation fallback
SHAPES = {"breakout": (4, 3), "seaquest": (10, 6)}
ATOMS, V_MIN, V_MAX, GAMMA = 51, -100.0, 100.0, 0.99
BATCH, BUFFER, TARGET_EVERY, EPS = 32, 100_000, 1000, 0.05


class Net(nn.Module):
    """MinAtar's network; input (B, 10, 10, C) in MinAtar's (HWC) order."""

    def __init__(self, c, n_out):
        super().__init__()
        self.conv = nn.Conv2d(c, 16, kernel_size=3, stride=1)
        self.fc = nn.Linear(16 * 8 * 8, 128)
        self.out = nn.Linear(128, n_out)

    def forward(self, x):
        x = F.relu(self.conv(x.permute(0, 3, 1, 2)))
        x = F.relu(self.fc(x.flatten(1)))
        return self.out(x)


class MinAtarEnv:
    kind = "minatar"

    def __init__(self, game, seed):
        from minatar import Environment

        self.e = Environment(game, sticky_action_prob=0.1, difficulty_ramping=True)
        self.e.seed(seed)
        self.actions = self.e.minimal_action_set()
        self.e.reset()

    def obs(self):
        return self.e.state()

    def step(self, a):
        r, term = self.e.act(self.actions[a])
        return float(r), bool(term)

    def reset(self):
        self.e.reset()


class RandomEnv:
    kind = "random-obs"

    def __init__(self, game, seed):
        self.c, n = SHAPES[game]
        self.actions = list(range(n))
        self.r = np.random.default_rng(seed)
        self.o = self._draw()

    def _draw(self):
        return self.r.random((10, 10, self.c)) < 0.1

    def obs(self):
        return self.o

    def step(self, a):
        self.o = self._draw()
        return float(self.r.random() < 0.05), bool(self.r.random() < 0.01)

    def reset(self):
        self.o = self._draw()


def make_env(game, seed):
    try:
        return MinAtarEnv(game, seed)
    except ImportError:
        return RandomEnv(game, seed)


def run(game, agent, optimizer, seconds, seed=1):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = make_env(game, seed)
    A = len(env.actions)
    c = env.obs().shape[2]
    n_out = A * ATOMS if agent == "c51" else A
    net, tgt = Net(c, n_out), Net(c, n_out)
    tgt.load_state_dict(net.state_dict())
    if optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=2.5e-4, eps=3.125e-4)
    else:
        opt = torch.optim.RMSprop(net.parameters(), lr=2.5e-4, alpha=0.95, centered=True, eps=0.01)
    z = torch.linspace(V_MIN, V_MAX, ATOMS)
    dz = (V_MAX - V_MIN) / (ATOMS - 1)

    obs_b = np.zeros((BUFFER, 10, 10, c), dtype=np.uint8)
    nxt_b = np.zeros_like(obs_b)
    act_b = np.zeros(BUFFER, dtype=np.int64)
    rew_b = np.zeros(BUFFER, dtype=np.float32)
    done_b = np.zeros(BUFFER, dtype=np.float32)
    size = pos = 0
    rows = torch.arange(BATCH)

    def q_values(o):
        with torch.no_grad():
            y = net(torch.from_numpy(o[None].astype(np.float32)))
            if agent == "c51":
                y = (F.softmax(y.view(1, A, ATOMS), -1) * z).sum(-1)
            return int(y.argmax(1))

    def update():
        idx = rng.integers(0, size, BATCH)
        x = torch.from_numpy(obs_b[idx]).float()
        nx = torch.from_numpy(nxt_b[idx]).float()
        a = torch.from_numpy(act_b[idx])
        r = torch.from_numpy(rew_b[idx])
        d = torch.from_numpy(done_b[idx])
        if agent == "c51":
            with torch.no_grad():
                p_t = F.softmax(tgt(nx).view(BATCH, A, ATOMS), -1)
                a_star = (p_t * z).sum(-1).argmax(1)
                p = p_t[rows, a_star]
                tz = (r[:, None] + GAMMA * (1 - d[:, None]) * z[None]).clamp(V_MIN, V_MAX)
                b = (tz - V_MIN) / dz
                lo, up = b.floor().long(), b.ceil().long()
                lo[(up > 0) & (lo == up)] -= 1
                up[(lo < ATOMS - 1) & (lo == up)] += 1
                m = torch.zeros(BATCH * ATOMS)
                off = (rows * ATOMS)[:, None]
                m.index_add_(0, (lo + off).view(-1), (p * (up.float() - b)).view(-1))
                m.index_add_(0, (up + off).view(-1), (p * (b - lo.float())).view(-1))
                m = m.view(BATCH, ATOMS)
            logits = net(x).view(BATCH, A, ATOMS)[rows, a]
            loss = -(m * F.log_softmax(logits, -1)).sum(-1).mean()
        else:
            with torch.no_grad():
                y = r + GAMMA * (1 - d) * tgt(nx).max(1).values
            q = net(x).gather(1, a[:, None]).squeeze(1)
            loss = F.smooth_l1_loss(q, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    warm = BATCH + 50
    t = 0
    t0 = None
    o = env.obs().astype(np.uint8)
    while True:
        act = int(rng.integers(A)) if rng.random() < EPS else q_values(o)
        r, term = env.step(act)
        o2 = env.obs().astype(np.uint8)
        obs_b[pos], nxt_b[pos], act_b[pos], rew_b[pos], done_b[pos] = o, o2, act, r, term
        pos = (pos + 1) % BUFFER
        size = min(size + 1, BUFFER)
        if term:
            env.reset()
            o2 = env.obs().astype(np.uint8)
        o = o2
        t += 1
        if t > BATCH:
            update()
        if t % TARGET_EVERY == 0:
            tgt.load_state_dict(net.state_dict())
        if t == warm:
            t0 = time.process_time()
        elif t0 is not None and time.process_time() - t0 >= seconds:
            return (t - warm) / (time.process_time() - t0), env.kind


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="CPU seconds per measurement")
    ap.add_argument("--games", default="breakout,seaquest")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), numpy {np.__version__}", flush=True)
    for game in args.games.split(","):
        for agent, opt in (("c51", "adam"), ("dqn", "adam"), ("dqn", "rmsprop")):
            sps, kind = run(game, agent, opt, args.seconds)
            print(f"RESULT game={game} agent={agent} optimizer={opt} steps_per_s={sps:.1f} env={kind}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
