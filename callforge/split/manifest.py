"""The subset manifests split writes and export reads: data/split/<subset>.jsonl, one JSON line
{"id", "line", "loss", "clusters"} per member in input order (`line` is the sample's line in
data/verified.jsonl, so export reads exactly that record), and the per-subset stats of summary.json.

    full        the training pool: verified samples minus the held-out APIs' samples minus
                those overlapping an evaluation set (decontamination)
    easy/medium/hard          bottom / middle / top of the pool ordered by complexity (difficulty.py)
    div_low/medium/high       equal-sized draws from few / some / all API clusters (diversity.py)
    eval        samples whose calls use only held-out APIs; no training subset offers those APIs (holdout.py)
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterator

import orjson

from callforge.core import records
from callforge.split import DIFFICULTY, DIVERSITY
from callforge.split.clusters import UNASSIGNED
from callforge.split.samples import SampleMeta

DATA_TYPES = tuple(records.schema("sample")["properties"]["data_type"]["enum"])


def manifest_lines(members: list[SampleMeta]) -> Iterator[str]:
    """The manifest's JSON lines (without newline), in the members' order."""
    for m in members:
        yield orjson.dumps({"id": m.id, "line": m.line, "loss": m.loss, "clusters": m.clusters}).decode()


def subset_stats(members: list[SampleMeta]) -> dict:
    losses = [m.loss for m in members if m.loss is not None]
    mean = sum(losses) / len(losses) if losses else None
    std = math.sqrt(sum((x - mean) ** 2 for x in losses) / len(losses)) if losses else None
    types = Counter(m.data_type for m in members)
    n = len(members)
    return {
        "samples": n,
        "apis": len({t for m in members for t in m.tools}),
        "apis_called": len({u for m in members for u in m.used}),
        "clusters": len({c for m in members for c in m.clusters} - {UNASSIGNED}),
        "domains": len({d for m in members for d in m.domains} - {UNASSIGNED}),
        "complexity": {"scored": len(losses),
                       "mean": None if mean is None else round(mean, 6),
                       "std": None if std is None else round(std, 6),
                       "min": round(min(losses), 6) if losses else None,
                       "max": round(max(losses), 6) if losses else None},
        "data_types": {t: round(types[t] / n, 4) if n else 0.0 for t in DATA_TYPES},
    }


def contrast(per: dict[str, dict]) -> dict[str, bool]:
    """Whether the subsets show what they exist for (from subset_stats by name): complexity rising
    strictly from easy to hard; clusters rising strictly from div_low to div_high at equal size."""
    return {
        "difficulty": strictly_increasing([per[k]["complexity"]["mean"] for k in DIFFICULTY]),
        "diversity": strictly_increasing([per[k]["clusters"] for k in DIVERSITY])
        and len({per[k]["samples"] for k in DIVERSITY}) == 1,
    }


def strictly_increasing(values) -> bool:
    return all(a is not None and b is not None and a < b for a, b in zip(values, values[1:]))
