"""Near-duplicate detection for API definitions: name + description similarity, online and sub-quadratic.

Each API becomes a set of shingles (word n-grams of its normalised name and description tokens).
A MinHash signature of that set is cut into bands; APIs that share any band bucket are candidates,
and a candidate is a duplicate when the exact Jaccard similarity of the two shingle sets reaches
the threshold. Only candidates are compared, and at most `max_candidates` per lookup, so adding
n APIs costs O(n) rather than O(n^2).
"""
from __future__ import annotations

import re
import zlib

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; camelCase, snake_case, dots and spaces all split the same way."""
    return _WORD.findall(_CAMEL.sub(r"\1 \2", text).lower())


def shingles(name: str, description: str, n: int = 2) -> set[str]:
    toks = tokens(name) + ["|"] + tokens(description)
    if len(toks) < n:
        return {" ".join(toks)}
    return {" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class NearDuplicateIndex:
    def __init__(self, cfg, seed: int = 0):
        """cfg: the `apis.dedup` config section (threshold, num_perm, bands, shingle, max_candidates)."""
        if cfg.num_perm % cfg.bands:
            raise ValueError("apis.dedup.num_perm must be a multiple of apis.dedup.bands")
        self.threshold, self.bands, self.rows, self.n = cfg.threshold, cfg.bands, cfg.num_perm // cfg.bands, cfg.shingle
        self.max_candidates = cfg.max_candidates
        rng = np.random.default_rng(seed)
        # multiply-shift hashing: h(x) = (a*x + b) mod 2^64 with odd a; the top 32 bits are kept
        self.a = (rng.integers(1, 2**63, size=cfg.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1))
        self.b = rng.integers(0, 2**63, size=cfg.num_perm, dtype=np.uint64)
        self.buckets: list[dict[bytes, list[int]]] = [{} for _ in range(cfg.bands)]
        self.sets: list[set[str]] = []
        self.keys: list[str] = []

    def signature(self, sh: set[str]) -> np.ndarray:
        x = np.fromiter((zlib.crc32(s.encode()) for s in sorted(sh)), dtype=np.uint64, count=len(sh))
        with np.errstate(over="ignore"):
            h = (self.a[:, None] * x[None, :] + self.b[:, None]) >> np.uint64(32)
        return h.min(axis=1)

    def find(self, name: str, description: str) -> tuple[int | None, float, set[str], np.ndarray]:
        """The index of an earlier near-duplicate (or None), its similarity, and this API's shingles/signature."""
        sh = shingles(name, description, self.n)
        sig = self.signature(sh)
        seen: set[int] = set()
        checked = 0
        for band in range(self.bands):
            key = sig[band * self.rows:(band + 1) * self.rows].tobytes()
            for j in reversed(self.buckets[band].get(key, ())):
                if j in seen:
                    continue
                seen.add(j)
                sim = jaccard(sh, self.sets[j])
                if sim >= self.threshold:
                    return j, sim, sh, sig
                checked += 1
                if checked >= self.max_candidates:
                    return None, 0.0, sh, sig
        return None, 0.0, sh, sig

    def add(self, key: str, sh: set[str], sig: np.ndarray) -> int:
        i = len(self.sets)
        self.sets.append(sh)
        self.keys.append(key)
        for band in range(self.bands):
            self.buckets[band].setdefault(sig[band * self.rows:(band + 1) * self.rows].tobytes(), []).append(i)
        return i
