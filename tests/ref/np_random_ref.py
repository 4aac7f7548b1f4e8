"""numpy's legacy RandomState, the values tests/test_np_random.c checks
src/core/np_random.c against (test tooling, not shipped logic).

Writes tests/ref/np_random.csv, one numpy call per row:

    call,low,high,size,values

call is seed (low is the seed), rand (size 0: the scalar rand(); n: rand(n))
or randint (randint(low, high) for size 0, randint(low, high, n) for n);
values are separated by spaces (doubles as repr, the shortest text that reads
back exactly). Run by hand:

    /usr/bin/python3 tests/ref/np_random_ref.py > tests/ref/np_random.csv
"""
import numpy as np

# (seed, [calls]); a call is ("rand", size) or ("randint", low, high, size)
SCRIPT = [
    ("rand", 0), ("rand", 0), ("rand", 0),
    ("randint", 0, 3, 0), ("randint", 0, 3, 0), ("randint", 0, 3, 0), ("randint", 0, 3, 0),
    ("randint", 1, 9, 0), ("randint", 1, 9, 0), ("randint", 1, 9, 0),
    ("randint", 0, 1, 0), ("rand", 0),            # one value: nothing drawn
    ("randint", 5, 6, 0), ("randint", 0, 2, 0),
    ("randint", 1, 6, 8), ("rand", 8),            # Freeway's car speeds and directions
    ("randint", 0, 8, 0), ("randint", 0, 5, 0), ("randint", 0, 7, 0), ("randint", 0, 6, 0),
    ("randint", -5, 5, 0), ("randint", -3, -1, 4),
    ("randint", 0, 2**32, 0), ("randint", 0, 2**32 + 5, 0), ("randint", 0, 2**32 + 5, 3),
    ("randint", -2**63, 2**63 - 1, 0), ("randint", 7, 2**40, 2),
    ("randint", 0, 7, 640),                        # across the 624-word regeneration
    ("rand", 8), ("randint", 0, 3, 20),
]
SEEDS = [0, 1, 2, 42, 12345, 123456789, 2**31, 2**32 - 1]


def fmt(v):
    return repr(float(v)) if isinstance(v, (float, np.floating)) else str(int(v))


def main():
    print("call,low,high,size,values")
    for seed in SEEDS:
        r = np.random.RandomState(seed)
        print("seed,%d,,," % seed)
        for c in SCRIPT:
            if c[0] == "rand":
                vals = [r.rand()] if c[1] == 0 else list(r.rand(c[1]))
                print("rand,,,%d,%s" % (c[1], " ".join(fmt(v) for v in vals)))
            else:
                _, lo, hi, n = c
                vals = [r.randint(lo, hi)] if n == 0 else list(r.randint(lo, hi, n))
                print("randint,%d,%d,%d,%s" % (lo, hi, n, " ".join(fmt(v) for v in vals)))


if __name__ == "__main__":
    main()
