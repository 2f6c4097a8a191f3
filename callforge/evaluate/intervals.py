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
- `mean_interval(values)`: a mean (e.g. gold-call NLL over questions) with its 95% Student t interval,
  mean +- t(0.975, n-1) * sd / sqrt(n), sd with n-1 in the denominator.
- `paired_mean(base, tuned)`: tuned minus base on the same questions, as the paired t interval: the
  t interval of the per-question differences; its two-sided p-value from the same t distribution, and
  "significant" when the interval excludes 0 (equivalently p < 0.05). t quantiles are computed here
  (`t_quantile`, exact for integer degrees of freedom), so no statistics package is needed.
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


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with integer df >= 1 (Abramowitz & Stegun 26.7.3-4, exact finite sums)."""
    if df < 1:
        raise ValueError("df must be >= 1")
    theta = math.atan2(abs(t), math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:                      # odd: (2/pi) (theta + sin cos (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...))
        term, total = 1.0, 1.0 if df > 1 else 0.0
        for k in range(1, (df - 1) // 2):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        a = 2 / math.pi * (theta + s * math.cos(theta) * total)
    else:                           # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
        term, total = 1.0, 1.0
        for k in range(1, df // 2):
            term *= c2 * (2 * k - 1) / (2 * k)
            total += term
        a = s * total
    a = min(1.0, a)                 # a = P(|T| < |t|)
    return 0.5 + a / 2 if t >= 0 else 0.5 - a / 2


def t_quantile(p: float, df: int) -> float:
    """The t with P(T <= t) = p (0.5 <= p < 1), by bisection on t_cdf."""
    if not 0.5 <= p < 1:
        raise ValueError("p must be in [0.5, 1)")
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


def _t_interval(values: list[float], level: float) -> tuple[float, float | None, float | None]:
    """(mean, half-width, standard error); half-width and se None below 2 values."""
    n = len(values)
    m = math.fsum(values) / n
    if n < 2:
        return m, None, None
    sd = math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))
    se = sd / math.sqrt(n)
    return m, t_quantile(1 - (1 - level) / 2, n - 1) * se, se


def mean_interval(values: list[float], level: float = 0.95) -> dict:
    """{"n", "mean", "ci95"}: the mean of `values` and its Student t interval (None below 2 values)."""
    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "ci95": None}
    m, half, _ = _t_interval(list(values), level)
    return {"n": n, "mean": round(m, 4), "ci95": None if half is None else [round(m - half, 4), round(m + half, 4)]}


def paired_mean(base: list[float], tuned: list[float], level: float = 0.95) -> dict:
    """Tuned minus base of a per-question quantity on the same questions (lists in the same order): the mean
    difference, its paired t interval, the two-sided t-test p-value, and whether the interval excludes 0."""
    if len(base) != len(tuned):
        raise ValueError("paired results need the same questions in the same order")
    n = len(base)
    out = {"n": n, "delta": None, "ci95": None, "p_value": None, "significant": False}
    if n == 0:
        return out
    d, half, se = _t_interval([t - b for b, t in zip(base, tuned)], level)
    out["delta"] = round(d, 4)
    if half is None:
        return out
    low, high = d - half, d + half
    p = 1.0 if d == 0 else 0.0 if se == 0 else 2 * (1 - t_cdf(abs(d) / se, n - 1))
    out.update({"ci95": [round(low, 4), round(high, 4)], "p_value": round(p, 4),
                "significant": low > 0 or high < 0})
    return out


def _wilson_raw(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
