"""Per-item random streams derived from the pipeline seed by a stable hash (never Python's hash()),
so any item can be regenerated alone, in any order or shard, with the same result."""
from __future__ import annotations

import hashlib
import random


def derive(seed: int, *keys) -> int:
    h = hashlib.blake2b(repr((seed, *keys)).encode(), digest_size=8)
    return int.from_bytes(h.digest(), "big")


def rng_for(seed: int, *keys) -> random.Random:
    return random.Random(derive(seed, *keys))
