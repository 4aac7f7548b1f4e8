"""Reference rollouts of the real MinAtar 1.0.15, for tests/test_minatar.c
(test tooling, not shipped logic; run by hand, not by `make test` or CI).

Needs numpy and a MinAtar checkout on PYTHONPATH (MinAtar is GPL-3.0 and
not part of bdrl):

    export PYTHONPATH=/tmp/ref/MinAtar
    PY=/usr/bin/python3

    # the CSV `bdrl env rollout` prints, from MinAtar itself
    $PY tests/ref/minatar_ref.py rollout minatar-breakout --seed 3 --actions 0,1,3 [--sticky P] [--no-ramping]

    # the committed data: tests/ref/minatar/*.csv and cases.csv
    $PY tests/ref/minatar_ref.py gen tests/ref/minatar

    # many fresh episodes of every game through bdrl and MinAtar, first difference named
    $PY tests/ref/minatar_ref.py check bin/bdrl --episodes 200 --seed 1 [--policy random]

Episodes run through MinAtar's own Gymnasium wrapper, minatar.gym.BaseEnv,
with the full action set (MinAtar/NAME-v0; actions are full-set indices
whatever bdrl's env.minimal_actions): reset(seed=S), then step(a) per action
until terminated. gymnasium itself is replaced by a stub of the three names
gym.py imports (a base class, two space constructors, register), none of
which is game logic. Rows: step,action,reward,terminated,obs, obs the
(10, 10, C) state as 0/1 characters in C order; row 0 is the reset.

Action sequences mix uniform random actions with "guided" play that reads
MinAtar's game state (track the ball, chase gold and divers, surface with 6
divers, fire under aliens) and avoids actions that end the episode at once
(a deep copy of the game, its generator included, tried one step ahead), so
that episodes reach what random play rarely does: cleared walls and waves,
full rows, surfacing with 6 divers and then with a negative diver count.
"""
import argparse
import copy
import random
import subprocess
import sys
import types

GAMES = ["asterix", "breakout", "freeway", "seaquest", "space_invaders"]


def _stub_gymnasium():
    gym = types.ModuleType("gymnasium")

    class Env:
        pass

    gym.Env = Env
    gym.logger = types.SimpleNamespace(warn=lambda *a, **k: None)
    spaces = types.ModuleType("gymnasium.spaces")
    spaces.Discrete = lambda n: ("Discrete", n)
    spaces.Box = lambda *a, **k: ("Box", a, k)
    gym.spaces = spaces
    envs = types.ModuleType("gymnasium.envs")
    registration = types.ModuleType("gymnasium.envs.registration")
    registration.register = lambda **k: None
    envs.registration = registration
    gym.envs = envs
    sys.modules.update({"gymnasium": gym, "gymnasium.spaces": spaces, "gymnasium.envs": envs,
                        "gymnasium.envs.registration": registration})


_stub_gymnasium()
import logging  # noqa: E402

logging.disable(logging.WARNING)  # MinAtar warns that it cannot render
from minatar.gym import BaseEnv  # noqa: E402


def make(game, sticky, ramping):
    return BaseEnv(game=game, use_minimal_action_set=False, sticky_action_prob=sticky,
                   difficulty_ramping=ramping)


def cells(state):
    return "".join("1" if v else "0" for v in state.reshape(-1))


def rollout_rows(game, seed, sticky, ramping, actions):
    """The rows `bdrl env rollout` prints, from MinAtar."""
    env = make(game, sticky, ramping)
    obs, _ = env.reset(seed=seed)
    rows = ["step,action,reward,terminated,obs", "0,-1,0,0," + cells(obs)]
    for i, a in enumerate(actions):
        obs, r, term, _, _ = env.step(a)
        rows.append("%d,%d,%d,%d,%s" % (i + 1, a, int(r), int(term), cells(obs)))
        if term:
            break
    return rows


# ---------------------------------------------------------------- policies

def safe(env, a, depth):
    """Can full action a be followed by depth - 1 more steps without the
    episode ending? (Copies of the whole game, generator included, are
    stepped.)"""
    c = copy.deepcopy(env)
    _, _, term, _, _ = c.step(a)
    if term:
        return False
    return depth <= 1 or any(safe(c, b, depth - 1) for b in (0, 1, 2, 3, 4, 5))


def landing(g):
    """Breakout: the column where the ball next reaches the paddle's row,
    from a copy of the game played on with the paddle out of the way."""
    return landing_in(g)[0]


def landing_in(g):
    """landing(g) and the number of steps until then. The paddle may meet
    the ball under its last column (it bounces straight back) or under the
    new one (it turns): g._aim, drawn anew while the ball goes up, picks
    (an attribute of ours on MinAtar's object, which its code never reads)."""
    c = copy.deepcopy(g)
    c.pos = -5
    for t in range(200):
        c.act(0)
        if c.terminal:
            return (c.last_x if getattr(g, "_aim", 0) else c.ball_x), t + 1
    return g.ball_x, 200


def hits(g):
    """Space Invaders: would a shot fired now hit an alien (a copy of the
    game played on)?"""
    c = copy.deepcopy(g)
    got = c.act(5)[0]
    for _ in range(10):
        if got or c.terminal:
            break
        got += c.act(0)[0]
    return got > 0


def preferred(game, g, rng, passive=False):
    """A game-specific wish, from MinAtar's game state g (env.game.env)."""
    if game == "breakout":
        x = landing(g)
        return 1 if x < g.pos else 3 if x > g.pos else 0
    if game == "freeway":
        return 2
    if game == "asterix":
        golds = [(abs(x[0] - g.player_x) + abs(x[1] - g.player_y), x) for x in g.entities if x is not None and x[3]]
        if not golds:
            return rng.choice([0, 1, 2, 3, 4])
        _, t = min(golds)
        if t[1] != g.player_y:
            return 2 if t[1] < g.player_y else 4
        return 1 if t[0] < g.player_x else 3
    if game == "space_invaders" and passive:
        # thin the first wave a little, then let it come down: the aliens
        # reach row 9 and, turning there, roll round to row 0
        if g.shot_timer == 0 and g.alien_map.sum() > 21 and hits(g):
            return 5
        return rng.choice([0, 0, 1, 3])
    if game == "space_invaders":
        if g.shot_timer == 0 and hits(g):
            return 5
        cols = [c for c in range(10) if g.alien_map[:, c].sum() > 0]
        if not cols:
            return 0
        c = min(cols, key=lambda c: abs(c - g.pos)) + 2 * g.alien_dir
        return 1 if c < g.pos else 3 if c > g.pos else 0
    if game == "seaquest":
        if g.diver_count >= 6 or (g.diver_count != 0 and g.oxygen < 60) or (g.diver_count < 0 and rng.random() < 0.3):
            return 2 if g.sub_y > 0 else 4
        if g.diver_count == 0 and g.sub_y == 0:
            return 4
        if g.divers and g.diver_count < 6:
            d = min(g.divers, key=lambda d: abs(d[0] - g.sub_x) + abs(d[1] - g.sub_y))
            if d[1] != g.sub_y:
                return 2 if d[1] < g.sub_y else 4
            return 1 if d[0] < g.sub_x else 3
        return rng.choice([1, 3, 5, 5])
    raise ValueError(game)


LOOKAHEAD = {"asterix": 2, "breakout": 1, "freeway": 1, "seaquest": 2, "space_invaders": 2}


def choose(game, env, rng, guided, eps):
    """Uniform random play, or guided play: the game's wish, or with
    probability eps a random action, either kept only if it is safe."""
    if not guided:
        return rng.randrange(6)
    g = env.game.env
    if game == "breakout":
        if g.ball_dir < 2:
            g._aim = rng.random() < 0.5
        x, t = landing_in(g)
        if abs(x - g.pos) + 3 > t:
            eps = 0  # no detour the paddle cannot make up
    want = rng.randrange(6) if rng.random() < eps else preferred(game, g, rng, guided == "passive")
    depth = LOOKAHEAD[game]
    if safe(env, want, depth):
        return want
    ok = [a for a in range(6) if safe(env, a, depth)]
    return rng.choice(ok) if ok else want


def summary(game, g):
    """What events() compares before and after a step."""
    if game == "breakout":
        return (int(g.brick_map.sum()), bool(g.brick_map[g.ball_y, g.ball_x]))
    if game == "asterix":
        return (sum(x is not None for x in g.entities), g.spawn_timer, g.ramp_index)
    if game == "seaquest":
        return (g.diver_count, g.ramp_index, len(g.e_subs) + len(g.e_fish), g.e_spawn_timer)
    if game == "space_invaders":
        return (int(g.alien_map.sum()), int(g.alien_map[9].sum()), g.ramp_index, int(g.alien_map[0].sum()))
    return (g.pos,)


def events(game, b, a, r, term):
    """Names of the rare things that step (summaries b -> a) did."""
    ev = set()
    if game == "breakout":
        if a[0] > b[0]:
            ev.add("bricks refilled")
        if a[1]:
            ev.add("ball inside a brick")
    elif game == "asterix":
        if b[1] == 0 and b[0] == 8:
            ev.add("spawn with all rows full")
        if a[2] > b[2]:
            ev.add("ramp")
    elif game == "seaquest":
        if b[0] == 6 and a[0] == -1:
            ev.add("surfaced with 6 divers")
        if a[0] < -1:
            ev.add("diver count below -1")
        if a[1] > b[1]:
            ev.add("ramp")
        if b[3] == 0 and a[2] <= b[2]:
            ev.add("enemy spawn refused or none")
    elif game == "space_invaders":
        if a[0] > b[0]:
            ev.add("wave cleared")
        if b[1] or a[1]:
            ev.add("alien on row 9")
        if term and b[1] and a[3] and not b[3]:
            ev.add("aliens rolled from row 9 to row 0")
    elif game == "freeway":
        if r > 0:
            ev.add("crossed")
    if r > 1:
        ev.add("reward > 1")
    if term and r > 0:
        ev.add("reward on the terminal step")
    return ev


def play(game, seed, sticky, ramping, rng, guided, eps, max_steps):
    """Plays one episode in MinAtar; returns the actions taken and the set of
    events() seen."""
    env = make(game, sticky, ramping)
    env.reset(seed=seed)
    actions, seen = [], set()
    while len(actions) < max_steps:
        a = choose(game, env, rng, guided, eps)
        actions.append(a)
        before = summary(game, env.game.env)
        _, r, term, _, _ = env.step(a)
        seen |= events(game, before, summary(game, env.game.env), r, term)
        if term:
            break
    return actions, seen


# ---------------------------------------------------------------- gen

# (seed, sticky, ramping, guided, eps, max steps[, games]); random episodes
# are short, so several per game. guided "passive": Space Invaders lets the
# aliens come down.
CASES = [
    (0, 0.1, True, False, 0.0, 300),
    (1, 0.0, True, False, 0.0, 300),
    (2, 0.1, False, False, 0.0, 300),
    (4294967295, 0.25, True, False, 0.0, 300),
    (7, 0.1, True, True, 0.2, 1200),
    (8, 0.0, True, True, 0.1, 1200),
    (9, 0.1, False, True, 0.2, 1200),
    (10, 0.25, True, True, 0.1, 1200),
    (2, 0.0, True, "passive", 0.0, 1200, ("space_invaders",)),
    (8, 0.1, True, "passive", 0.0, 1200, ("space_invaders",)),
]


# Episodes played one after another in one env: the sticky action carries
# over (MinAtar never resets it), and an unseeded reset continues the
# generator. (seed or None, guided)
CHAIN = [(11, False), (12, True), (None, False), (None, True), (11, False)]


def chain_rows(game, rng):
    """Rows episode,seed,step,action,reward,terminated,obs of CHAIN's
    episodes in one MinAtar env (sticky 0.5, so that carried actions show)."""
    env = make(game, 0.5, True)
    rows = ["episode,seed,step,action,reward,terminated,obs"]
    for k, (seed, guided) in enumerate(CHAIN):
        obs, _ = env.reset(seed=seed)
        tag = "-" if seed is None else str(seed)
        rows.append("%d,%s,0,-1,0,0,%s" % (k, tag, cells(obs)))
        for i in range(150):
            a = choose(game, env, rng, guided, 0.1)
            obs, r, term, _, _ = env.step(a)
            rows.append("%d,%s,%d,%d,%d,%d,%s" % (k, tag, i + 1, a, int(r), int(term), cells(obs)))
            if term:
                break
    return rows


def gen(outdir):
    rng = random.Random(20240601)
    manifest = ["file,game,seed,sticky,ramping"]
    for game in GAMES:
        for case in CASES:
            seed, sticky, ramping, guided, eps, cap = case[:6]
            if len(case) > 6 and game not in case[6]:
                continue
            # Freeway always lasts 2501 steps: one whole episode, the rest cut short
            if game == "freeway":
                cap = 2600 if seed == 8 else 150
            acts, seen = play(game, seed, sticky, ramping, rng, guided, eps, cap)
            # passive episodes: the first seed from here on whose aliens roll round
            while guided == "passive" and "aliens rolled from row 9 to row 0" not in seen:
                seed += 1
                acts, seen = play(game, seed, sticky, ramping, rng, guided, eps, cap)
            name = "%s_s%d_p%g_r%d%s.csv" % (game, seed, sticky, int(ramping), "_passive" if guided == "passive" else "")
            rows = rollout_rows(game, seed, sticky, ramping, acts)
            with open("%s/%s" % (outdir, name), "w") as f:
                f.write("\n".join(rows) + "\n")
            manifest.append("%s,minatar-%s,%d,%g,%d" % (name, game, seed, sticky, int(ramping)))
            print("%-40s %5d steps, terminated %d, return %d; %s" % (
                name, len(rows) - 2, rows[-1].split(",")[3] == "1",
                sum(int(r.split(",")[2]) for r in rows[2:]), ", ".join(sorted(seen))), file=sys.stderr)
        with open("%s/%s_chain.csv" % (outdir, game), "w") as f:
            f.write("\n".join(chain_rows(game, rng)) + "\n")
    with open("%s/cases.csv" % outdir, "w") as f:
        f.write("\n".join(manifest) + "\n")


# ---------------------------------------------------------------- check

def bdrl_rows(bdrl, game, seed, sticky, ramping, actions):
    cmd = [bdrl, "env", "rollout", "minatar-" + game, "--seed", str(seed), "--sticky", repr(sticky),
           "--actions", ",".join(map(str, actions))]
    if not ramping:
        cmd.append("--no-ramping")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out.rstrip("\n").split("\n")


def first_difference(game, want, got):
    for i, (w, g) in enumerate(zip(want, got)):
        if w == g:
            continue
        wf, gf = w.split(","), g.split(",")
        for k, name in enumerate(["step", "action", "reward", "terminated"]):
            if wf[k] != gf[k]:
                return "row %d: %s %s, MinAtar %s" % (i, name, gf[k], wf[k])
        c = len(wf[4]) // 100
        for j, (a, b) in enumerate(zip(wf[4], gf[4])):
            if a != b:
                return "step %s: cell (y %d, x %d, channel %d) is %s, MinAtar %s" % (
                    wf[0], j // (10 * c), j // c % 10, j % c, b, a)
        return "row %d differs" % i
    if len(want) != len(got):
        return "%d rows, MinAtar %d" % (len(got), len(want))
    return None


def check(bdrl, episodes, seed, policy):
    rng = random.Random(seed)
    bad = 0
    for game in GAMES:
        steps = ends = 0
        seen = {}
        for k in range(episodes):
            s = rng.randrange(2**32)
            sticky = rng.choice([0.0, 0.1, 0.1, 0.25, 0.5])
            ramping = rng.random() < 0.7
            guided = rng.choice([False, True, True, "passive"]) if policy == "mixed" else False
            cap = 800 if game == "freeway" and rng.random() < 0.8 else 3000
            acts, ev = play(game, s, sticky, ramping, rng, guided, rng.choice([0.05, 0.2, 0.5]), cap)
            for e in ev:
                seen[e] = seen.get(e, 0) + 1
            want = rollout_rows(game, s, sticky, ramping, acts)
            got = bdrl_rows(bdrl, game, s, sticky, ramping, acts)
            d = first_difference(game, want, got)
            steps += len(want) - 2
            ends += want[-1].split(",")[3] == "1"
            if d:
                bad += 1
                print("DIFFER %s seed %d sticky %g ramping %d: %s" % (game, s, sticky, ramping, d))
        print("%-15s %d episodes, %d steps, %d terminated; episodes with: %s" % (
            game, episodes, steps, ends, ", ".join("%s %d" % kv for kv in sorted(seen.items()))))
        sys.stdout.flush()
    print("%d differ" % bad)
    return 1 if bad else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("rollout")
    r.add_argument("name")
    r.add_argument("--seed", type=int, required=True)
    r.add_argument("--sticky", type=float, default=0.1)
    r.add_argument("--no-ramping", action="store_true")
    r.add_argument("--actions", required=True)
    g = sub.add_parser("gen")
    g.add_argument("outdir")
    c = sub.add_parser("check")
    c.add_argument("bdrl")
    c.add_argument("--episodes", type=int, default=200)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--policy", choices=["mixed", "random"], default="mixed",
                   help="mixed: a quarter uniform random episodes, the rest guided; random: all uniform")
    a = p.parse_args()
    if a.cmd == "rollout":
        game = a.name[len("minatar-"):] if a.name.startswith("minatar-") else a.name
        acts = [int(x) for x in a.actions.split(",")]
        print("\n".join(rollout_rows(game, a.seed, a.sticky, not a.no_ramping, acts)))
        return 0
    if a.cmd == "gen":
        gen(a.outdir)
        return 0
    return check(a.bdrl, a.episodes, a.seed, a.policy)


if __name__ == "__main__":
    sys.exit(main())
