"""The complexity stage's score records: samples scored through a content cache, and the loss statistics.

A score is cached under the scorer's identity plus what a scorer reads of the sample (its tools and
messages), so a killed run resumes where it stopped, a rebuild with unchanged samples scores nothing,
and the versions the dialogs stage already scored while steering with the same scorer are not scored
again here (a record's steering info and provenance do not change its loss). Samples go to the scorer
CHUNK at a time: what a kill can lose at most.
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


CACHE_FILE = "scores.sqlite"    # under cache_dir: shared by the complexity stage and model steering


def score_key(identity: str, sample: dict) -> str:
    """The cache key of a sample's score: the scorer's identity and the only parts of the sample a
    scorer renders (callforge/complexity/render.py reads its tools and messages)."""
    blob = io.dumps({"tools": sample.get("tools"), "messages": sample.get("messages")})
    return hashlib.sha256((identity + "\n" + blob).encode()).hexdigest()


@dataclass
class ScoringWork:
    """What scoring cost this time (how the run went, not what it made)."""
    cache_hits: int = 0
    response_tokens: int = 0    # scored by the model this time (0 when every score came from the cache)
    model_s: float = 0.0


class CachedScorer:
    """A scorer whose records come from the score cache when there and go into it when made: the
    scorer's records, in input order, with the scorer's backend and model."""

    def __init__(self, scorer, cache, identity: str, work: ScoringWork | None = None):
        self.scorer, self.cache, self.identity = scorer, cache, identity
        self.work = work if work is not None else ScoringWork()
        self.backend, self.model = scorer.backend, scorer.model

    def score(self, samples: list[dict]) -> list[dict]:
        keys = [score_key(self.identity, s) for s in samples]
        got = {k: self.cache.get(k) for k in keys}
        todo = [i for i, k in enumerate(keys) if got[k] is None]
        self.work.cache_hits += len(samples) - len(todo)
        if todo:
            t0 = time.perf_counter()
            fresh = self.scorer.score([samples[i] for i in todo])
            self.work.model_s += time.perf_counter() - t0
            for i, r in zip(todo, fresh):
                got[keys[i]] = r
                self.cache.put(keys[i], r)
                self.work.response_tokens += r["response_tokens"]
        return [{**got[k], "id": s["id"]} for s, k in zip(samples, keys)]


def score_cached(samples: Iterable[dict], scorer, cache, identity: str, work: ScoringWork) -> Iterator[dict]:
    """One record per sample, in input order, as callforge/schemas/score.json says (what split reads):
    the scorer's record (from the cache when there) with the sample's id and structural features."""
    cached = CachedScorer(scorer, cache, identity, work)
    chunk: list[dict] = []
    for s in samples:
        chunk.append(s)
        if len(chunk) == CHUNK:
            yield from _score_chunk(chunk, cached)
            chunk = []
    if chunk:
        yield from _score_chunk(chunk, cached)


def _score_chunk(chunk: list[dict], cached: CachedScorer) -> Iterator[dict]:
    for s, r in zip(chunk, cached.score(chunk)):
        rec = {**r, "features": features(s)}
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
