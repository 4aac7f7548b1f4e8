#!/usr/bin/env python3
"""Mass of the nonnegative L2 projection of one unit Gaussian bump onto a
basis of Gaussian bumps (docs/basis.md, "Projected targets").

    python3 docs/nnls_projection.py [basis width in spacings, default 1]

A 21-bump basis with unit spacing; the target bump sits at t spacings from
a centre with sd gamma*sigma (a Bellman-mapped bump, gamma = 0.99) or sigma.
Prints the mass and mean of the projection with w >= 0 (projected gradient
descent from the clipped unconstrained solution) and the unconstrained mass.
"""
import math
import sys


def npdf(x, v):
    return math.exp(-0.5 * x * x / v) / math.sqrt(2 * math.pi * v)


def solve(A, b):
    n = len(b)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p] = M[p], M[c]
        for r in range(n):
            if r != c:
                f = M[r][c] / M[c][c]
                for k in range(c, n + 1):
                    M[r][k] -= f * M[c][k]
    return [M[i][n] / M[i][i] for i in range(n)]


def nnls(G, c, iters=20000):
    n = len(c)
    w = [max(0.0, x) for x in solve(G, c)]
    L = max(sum(abs(x) for x in row) for row in G)
    for _ in range(iters):
        g = [sum(G[i][j] * w[j] for j in range(n)) - c[i] for i in range(n)]
        w = [max(0.0, w[i] - g[i] / L) for i in range(n)]
    return w


def main():
    K, sigma, gamma = 21, float(sys.argv[1]) if len(sys.argv) > 1 else 1.0, 0.99
    mu = [k - K // 2 for k in range(K)]
    G = [[npdf(mu[k] - mu[l], 2 * sigma * sigma) for l in range(K)] for k in range(K)]
    for vt, name in [(gamma * gamma * sigma * sigma, "sd gamma*sigma"), (sigma * sigma, "sd sigma")]:
        for t in (0.0, 0.25, 0.5):
            c = [npdf(mu[k] - t, sigma * sigma + vt) for k in range(K)]
            w = nnls(G, c)
            m = sum(w)
            mean = sum(wi * x for wi, x in zip(w, mu)) / m
            print(f"{name:15s} t = {t:4}: w >= 0: mass {m:.5f}, mean {mean:.4f}; "
                  f"unconstrained mass {sum(solve(G, c)):.5f}")


if __name__ == "__main__":
    main()
