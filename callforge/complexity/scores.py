"""The complexity stage's score records: samples scored through a content cache, and the loss statistics.

A score is cached under the scorer's identity plus the sample's bytes, so a killed run resumes where it
stopped and a rebuild with unchanged samples scores nothing. Samples go to the scorer CHUNK at a time:
what a kill can lose at most.
"""
from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np

from callforge.core import io, records
from callforge.complexity.features import features

CHUNK = 16          # samples scored between cache writes
BINS = 30


def scorer_identity(scorer, cfg) -> str:
    """Everything besides the sample that determines its score (`cfg`: the `scorer` config section)."""
    return "|".join(str(x) for x in (scorer.backend, scorer.model, getattr(scorer, "chat_format", ""),
                                     getattr(scorer, "call_format", ""), cfg.model_sha256 or "", cfg.base_url or "",
                                     getattr(scorer, "reuse_prefix", "")))


@dataclass
class ScoringWork:
    """What scoring cost this time (how the run went, not what it made)."""
    cache_hits: int = 0
    response_tokens: int = 0    # scored by the model this time (0 when every score came from the cache)
    model_s: float = 0.0


def score_cached(samples: Iterable[dict], scorer, cache, identity: str, work: ScoringWork) -> Iterator[dict]:
    """One record per sample, in input order, as callforge/schemas/score.json says (what split reads):
    the scorer's record (from the cache when there) with the sample's id and structural features."""
    chunk: list[dict] = []
    for s in samples:
        chunk.append(s)
        if len(chunk) == CHUNK:
            yield from _score_chunk(chunk, scorer, cache, identity, work)
            chunk = []
    if chunk:
        yield from _score_chunk(chunk, scorer, cache, identity, work)


def _score_chunk(chunk: list[dict], scorer, cache, identity: str, work: ScoringWork) -> Iterator[dict]:
    keys = [hashlib.sha256((identity + "\n" + io.dumps(s)).encode()).hexdigest() for s in chunk]
    got = {k: cache.get(k) for k in keys}
    todo = [i for i, k in enumerate(keys) if got[k] is None]
    work.cache_hits += len(chunk) - len(todo)
    if todo:
        t0 = time.perf_counter()
        fresh = scorer.score([chunk[i] for i in todo])
        work.model_s += time.perf_counter() - t0
        for i, r in zip(todo, fresh):
            got[keys[i]] = r
            cache.put(keys[i], r)
            work.response_tokens += r["response_tokens"]
    for s, k in zip(chunk, keys):
        rec = {**got[k], "id": s["id"], "features": features(s)}
        records.check("score", [rec])
        yield rec


@dataclass
class LossTally:
    """The losses of the scored records and the reasons of the unscored ones."""
    losses: list[float] = field(default_factory=list)
    unscored: Counter = field(default_factory=Counter)

    def add(self, rec: dict) -> dict:
        if rec.get("loss") is None:
            self.unscored[rec.get("error", "unscored")] += 1
        else:
            self.losses.append(rec["loss"])
        return rec

    def histogram(self) -> list[dict]:
        if not self.losses:
            return []
        counts, edges = np.histogram(np.asarray(self.losses), bins=BINS)
        return [{"loss": round(float((a + b) / 2), 4), "samples": int(c)} for a, b, c in zip(edges, edges[1:], counts)]

    def summary(self) -> dict:
        if not self.losses:
            return {"mean": None, "std": None}
        a = np.asarray(self.losses)
        return {"mean": round(float(a.mean()), 6), "std": round(float(a.std()), 6),
                **{f"p{q}": round(float(np.percentile(a, q)), 6) for q in (10, 50, 90)}}
