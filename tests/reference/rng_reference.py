#!/usr/bin/env python3
"""The reference outputs of mae.tensor.Rng: xoshiro256** (Blackman and Vigna, xoshiro256starstar.c) with its state
seeded by splitmix64 (splitmix64.c), written from the published C code. Prints the first outputs for a seed as a
Java long array, for TensorContractsTest.

  python3 tests/reference/rng_reference.py [SEED [COUNT]]      (default: 42 8)
"""
import sys

MASK = (1 << 64) - 1


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return x, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


def xoshiro256ss(seed, count):
    s, x = [], seed & MASK
    for _ in range(4):
        x, z = splitmix64(x)
        s.append(z)
    out = []
    for _ in range(count):
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        out.append(result - (1 << 64) if result >= 1 << 63 else result)   # as Java's signed long
    return out


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 42
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    print("{" + ", ".join(f"{v}L" for v in xoshiro256ss(seed, count)) + "}")
