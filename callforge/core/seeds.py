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


REQUEST_SEEDS = 2**31   # a model request's seed lies in [0, 2**31): every OpenAI-compatible server takes it
                        # (llama.cpp reads a uint32 and reserves 0xFFFFFFFF for "random")


def request_seed(seed: int, *keys) -> int:
    """The sampling seed for one model request, from the pipeline (or llm) seed and the request's
    identity (sample id, role, step, vote index): stable across runs, shards and processes, and (but
    for a one-in-2**31 collision) different for different identities, so two samples that send the
    same prompt still sample apart."""
    return derive(seed, "llm.request", *keys) % REQUEST_SEEDS
