"""Honest numbers for small evaluations: an accuracy with its n and a 95% interval, a paired difference
with its interval, a p-value and a plain verdict.

- `wilson(k, n)`: the Wilson score interval for k correct of n (sound at small n and at 0 or n correct,
  where the normal approximation gives nonsense like [0, 0]).
- `paired(base, tuned)`: the same questions answered by two models. The difference in accuracy is
  (tuned-only correct - base-only correct) / n. Its interval is the hybrid score interval for paired
  proportions (Newcombe 1998, method 10, here without that method's continuity correction to phi). It is
  built from the two Wilson intervals and phi, the correlation of the pairs. Its p-value is the exact McNemar test: a two-sided binomial test on the discordant
  pairs. "significant" means p < 0.05. With few discordant pairs nothing is significant, and saying so
  is the point.
"""
from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> list[float] | None:
    """[low, high] of the Wilson score interval for k successes in n trials (None when n = 0)."""
    if n == 0:
        return None
    low, high = _wilson_raw(k, n, z)
    return [round(low, 4), round(high, 4)]


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs (binomial, p = 1/2)."""
    m = b + c
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(min(b, c) + 1)) / 2 ** m
    return min(1.0, 2 * tail)


def paired(base: list[bool], tuned: list[bool], z: float = Z95) -> dict:
    """Tuned minus base accuracy on the same questions (lists in the same question order)."""
    if len(base) != len(tuned):
        raise ValueError("paired results need the same questions in the same order")
    n = len(base)
    both = sum(1 for a, b in zip(base, tuned) if a and b)
    tuned_only = sum(1 for a, b in zip(base, tuned) if b and not a)
    base_only = sum(1 for a, b in zip(base, tuned) if a and not b)
    neither = n - both - tuned_only - base_only
    out = {"n": n, "tuned_only": tuned_only, "base_only": base_only, "delta": None, "ci95": None,
           "p_value": 1.0, "significant": False}
    if n == 0:
        return out
    p1, p2 = (both + tuned_only) / n, (both + base_only) / n           # tuned, base accuracy
    l1, u1 = _wilson_raw(both + tuned_only, n, z)
    l2, u2 = _wilson_raw(both + base_only, n, z)
    denom = (both + tuned_only) * (base_only + neither) * (both + base_only) * (tuned_only + neither)
    phi = (both * neither - tuned_only * base_only) / math.sqrt(denom) if denom else 0.0
    d = p1 - p2
    low = d - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    high = d + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    p = mcnemar_exact(tuned_only, base_only)
    out.update({"delta": round(d, 4), "ci95": [round(max(-1.0, low), 4), round(min(1.0, high), 4)],
                "p_value": round(p, 4), "significant": p < 0.05})
    return out


def _wilson_raw(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
