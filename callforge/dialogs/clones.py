"""Functional clones: APIs that could serve the same request. Offering one beside a called API makes
the "correct" call ambiguous, so a clone is never a distractor; and a request no offered tool may
serve (out of scope) must not be servable by a clone of the API it was written from.

A candidate is a clone of an API when it serves that API's context-tree leaf (the same leaf, or a
function merged into it: the pool's meta.nodes), or when name, description and required parameters
are near-identical (word-bigram Jaccard of name + description, the measure apis/dedup.py uses).
"""
from __future__ import annotations

import re

from callforge.apis.dedup import jaccard

from .pool import Api

_WORDS = re.compile(r"[a-z]{3,}")


def serves(candidate: Api, job: Api) -> bool:
    """Whether `candidate` does `job`'s own function (job's leaf is among the nodes it serves)."""
    return job.leaf is not None and job.leaf in candidate.nodes


def near_identical(a: Api, b: Api, similarity: float) -> bool:
    return a.required_names == b.required_names and jaccard(a.bigrams, b.bigrams) >= similarity


def clone_of(candidate: Api, job: Api, similarity: float) -> bool:
    """Could `candidate` be called for `job`'s request? Same name, same function, or near-identical."""
    return candidate.name == job.name or serves(candidate, job) or near_identical(candidate, job, similarity)


def could_serve(candidate: Api, job: Api, similarity: float) -> bool:
    """A looser test for requests that no offered tool may serve: a clone, or a description sharing
    most of its words with the job's."""
    if clone_of(candidate, job, similarity):
        return True
    wa = set(_WORDS.findall(candidate.tool.get("description", "").lower()))
    wb = set(_WORDS.findall(job.tool.get("description", "").lower()))
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= 0.5
