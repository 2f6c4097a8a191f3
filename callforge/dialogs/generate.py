"""The offline engine: skeleton → words → checks → steering → encoded lines, for a range of indices.

Every sample depends only on (seed, index, config), so ranges run in worker processes (which also
schema-check and encode their records) through the stage's ordered map and come back in index order:
the output is the same bytes for any worker count, batch size or shard split.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from callforge.calling.offline.values import Unsatisfiable
from callforge.core import io, records

from .builders import build
from .checks import check
from .pool import Pool
from .render import can_move, render, sample_id
from .sampling import data_type
from .skeleton import Dropped, Infeasible, Skeleton
from .stats import facts
from .variety import user_requests
from .steering import Bounds, run_bounds, steer


@dataclass
class Item:
    sk: Skeleton
    knobs: tuple[int, int]      # (extra candidate APIs, wording level)


def with_steering(rec: dict, info: dict) -> dict:
    """The record with its steering info placed before provenance (a stable key order)."""
    out = {k: v for k, v in rec.items() if k != "provenance"}
    out["steering"] = info
    out["provenance"] = rec["provenance"]
    return out


_TOOL_JSON: dict[int, tuple[dict, str]] = {}


def dumps_sample(rec: dict) -> str:
    """Exactly io.dumps(rec), with each offered tool encoded once per process rather than once per
    sample (tools are most of a record's bytes and the same pool dicts recur)."""
    parts = []
    for t in rec["tools"]:
        hit = _TOOL_JSON.get(id(t))
        if hit is None or hit[0] is not t:
            hit = _TOOL_JSON[id(t)] = (t, io.dumps(t))
        parts.append(hit[1])
    keys = list(rec)
    k = keys.index("tools")
    head = io.dumps({x: rec[x] for x in keys[:k]})
    tail = io.dumps({x: rec[x] for x in keys[k + 1:]})
    lead = head[:-1] + "," if len(head) > 2 else "{"
    return f'{lead}"tools":[{",".join(parts)}]' + (f",{tail[1:]}" if len(tail) > 2 else "}")


def encode(recs: list[dict]) -> tuple[list[str], list[dict]]:
    """Schema-checked JSON lines (the project's one encoding, io.dumps) and the stats facts."""
    records.check("sample", recs)
    # the user's words ride along to the stage's near-duplicate filter (dedup.py), which consumes them
    return [dumps_sample(r) for r in recs], [{**facts(r), "requests": user_requests(r)} for r in recs]


def drop_record(mix: dict, seed: int, provenance: dict, i: int, reason: str, detail: str) -> dict:
    return {"id": sample_id(i), "index": i, "data_type": data_type(mix, seed, i), "reason": reason,
            "detail": detail[:300], "provenance": provenance}


def skeletons(pool: Pool, dialogs, seed: int, indices) -> tuple[list[Item], list[tuple[int, str, str]]]:
    items, drops = [], []
    for i in indices:
        try:
            sk = build(pool, dialogs, seed, i)
        except Infeasible as e:
            drops.append((i, e.code, str(e)))
            continue
        except Unsatisfiable as e:
            drops.append((i, "dialogs.value_unsatisfiable", str(e)))
            continue
        items.append(Item(sk, (0, sk.wording)))
    return items, drops


class Engine:
    """Offline samples for index ranges. `dialogs` is the config section as plain values
    (OmegaConf.to_object): read for every sample, and inherited by the worker processes."""

    def __init__(self, pool: Pool, dialogs, seed: int, provenance: dict, scorer=None, bounds: Bounds | None = None):
        self.pool, self.d, self.seed, self.prov, self.scorer, self.bounds = pool, dialogs, seed, provenance, scorer, bounds

    def _render_many(self, pairs):
        # Checked once, after steering picked the version to keep (offline rounds differ in words
        # and offered tools only, so a check failure is rare and costs the sample, not a round).
        return [render(self.pool, it.sk, k[0], k[1], self.seed, self.d.thinking, self.prov) for it, k in pairs]

    def _move(self, it: Item, knobs, harder: bool):
        return can_move(it.sk, knobs[0], knobs[1], harder)

    def records(self, lo: int, hi: int) -> tuple[list[dict], list[dict]]:
        items, failed = skeletons(self.pool, self.d, self.seed, range(lo, hi))
        out = []
        for it, (rec, info) in zip(items, steer(items, self._render_many, self._move, self.scorer, self.bounds,
                                                self.d.steering.max_rounds)):
            reason = rec.reason if isinstance(rec, Dropped) else check(rec)
            if reason:
                failed.append((it.sk.index, reason, rec.detail if isinstance(rec, Dropped) else
                               "failed the generation-time check"))
            else:
                out.append(with_steering(rec, info))
        drops = [drop_record(self.d.mix, self.seed, self.prov, i, r, d) for i, r, d in sorted(failed)]
        return out, drops

    def run(self, lo: int, hi: int) -> tuple[list[str], list[dict], list[dict]]:
        recs, drops = self.records(lo, hi)
        lines, fs = encode(recs)
        return lines, fs, drops


_ENGINE: Engine | None = None   # this process's engine, set by _use_engine (the map's worker init)


def _use_engine(engine: Engine | None) -> None:
    global _ENGINE
    _ENGINE = engine


def _run_span(span: tuple[int, int]):
    lo, hi = span
    return (*_ENGINE.run(lo, hi), hi - lo)


def generate(engine: Engine, indices: range, workers: int, map_fn: Callable):
    """Yield (lines, facts, drops, n_indices) per batch of `indices`, in index order. map_fn is the
    stage's ordered parallel map (ctx.map): workers get the engine through its init, by fork."""
    batch = max(1, engine.d.batch)
    spans = [(lo, min(indices.stop, lo + batch)) for lo in range(indices.start, indices.stop, batch)]
    try:
        yield from map_fn(_run_span, spans, min(workers, len(spans)), init=_use_engine, initargs=(engine,))
    finally:
        _use_engine(None)      # with one worker the map ran here: do not keep the engine alive


def calibration_items(pool: Pool, dialogs, seed: int) -> list[Item]:
    """The steering calibration set: the first `calibration_samples` indices of the whole run (not of
    a shard or batch) at their drawn knobs, so every shard and batch calibrates on the same samples."""
    return skeletons(pool, dialogs, seed, range(min(dialogs.steering.calibration_samples, dialogs.samples)))[0]


def engine_for(pool: Pool, dialogs, seed: int, provenance: dict, scorer=None) -> Engine:
    """The offline engine with its steering bounds (configured, or calibrated once on the calibration
    set) and its scorer, which knows the calibration set's scores."""
    eng = Engine(pool, dialogs, seed, provenance)
    eng.bounds, eng.scorer = run_bounds(dialogs.steering, scorer, lambda: calibration_items(pool, dialogs, seed),
                                        eng._render_many)
    return eng
