"""What split knows of a sample, and reading it: the verified samples, their complexity scores, the API pool.

Selection works on SampleMeta — the few fields it needs — so the stage streams the samples once and
100k of them take tens of MB. Input lines that cannot be used become Rejects rows with a reason code
(data/split/rejected.jsonl); nothing else is lost.
"""
from __future__ import annotations

import math
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import orjson

from callforge.core import records
from callforge.core.errors import CallforgeError


class SplitError(CallforgeError):
    """A split that cannot be made as configured; .code is a stable reason."""


@dataclass(slots=True)
class SampleMeta:
    index: int                    # position among the valid samples: subsets keep input order
    line: int                     # line number in the input file, so export reads exactly this record
    id: str
    data_type: str
    tools: tuple[str, ...]        # names of the tools offered
    used: tuple[str, ...]         # names of the APIs called
    request: str                  # the user turns, for decontamination
    loss: float | None = None
    clusters: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass
class Rejects:
    """Input lines that could not be used, each with a reason code; nothing else is lost."""
    rows: list[dict] = field(default_factory=list)

    def add(self, line: int, sid, reason: str, detail: str) -> None:
        self.rows.append({"line": line, "id": sid if isinstance(sid, str) else None, "reason": reason,
                          "detail": detail[:300]})

    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(r["reason"] for r in self.rows).items()))


def read_pool(path) -> dict[str, dict]:
    """The API pool by name (first definition wins); tools only need name/description/domain/path here."""
    pool: dict[str, dict] = {}
    with open(path, "rb") as f:
        for ln, line in enumerate(f, 1):
            if line.strip():
                try:
                    t = orjson.loads(line)
                    pool.setdefault(t["name"], t)
                except (orjson.JSONDecodeError, KeyError, TypeError) as e:
                    raise SplitError("split.bad_api", f"{path} line {ln}: {e}") from None
    return pool


def read_samples(path, rejects: Rejects, *, skip_tools=frozenset(), workers: int = 1, map_fn: Callable
                 ) -> tuple[list[SampleMeta], dict[str, dict]]:
    """Metas of the valid samples (first of each id) and every tool they offer, by name (bar those in
    `skip_tools`, e.g. the pool's, which win anyway). The file is read in byte ranges, `workers` at
    a time (parsing is most of split's time) through `map_fn`, an ordered parallel map
    (`map_fn(fn, items, workers)`, the stage's ctx.map); the result is the same for any count."""
    skip = frozenset(skip_tools)
    # a few ranges per worker, so this process merges the first ranges while the workers read the rest
    ranges = _line_ranges(path, workers * 4 if workers > 1 else 1)
    parts = map_fn(_read_range, [(path, a, b, skip) for a, b in ranges], min(workers, len(ranges)))
    metas: list[SampleMeta] = []
    tools: dict[str, dict] = {}
    seen: set[str] = set()
    bad: list[tuple] = []
    offset = 0
    for n_lines, part_metas, part_bad, part_tools in parts:     # in file order: the first of an id wins
        bad += [(ln + offset, *rest) for ln, *rest in part_bad]
        for m in part_metas:
            m.line += offset
            if m.id in seen:
                bad.append((m.line, m.id, "split.duplicate_id", "an earlier line has this id"))
                continue
            seen.add(m.id)
            m.index = len(metas)
            metas.append(m)
        for name, t in part_tools.items():
            tools.setdefault(name, t)
        offset += n_lines
    for row in sorted(bad, key=lambda r: r[0]):
        rejects.add(*row)
    return metas, tools


def _line_ranges(path, parts: int) -> list[tuple[int, int]]:
    """[start, end) byte ranges of about equal size, each starting at a line start."""
    size = os.path.getsize(path)
    if parts <= 1 or size < (1 << 20):
        return [(0, size)]
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, parts):
            f.seek(max(size * k // parts, cuts[-1]))
            f.readline()                      # to the start of the next line
            cuts.append(min(f.tell(), size))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a] or [(0, size)]


def _read_range(job: tuple) -> tuple[int, list[SampleMeta], list[tuple], dict]:
    """(lines read, metas, rejected (line, id, reason, detail), tools) for the lines in [start, end) of
    job = (path, start, end, skip_tools); line numbers count from 1 within the range."""
    path, start, end, skip_tools = job
    valid = records.validator("sample")
    metas: list[SampleMeta] = []
    bad: list[tuple] = []
    tools: dict[str, dict] = {}
    seen: set[str] = set()
    intern = sys.intern
    ln = 0
    with open(path, "rb") as f:
        f.seek(start)
        pos = start
        while pos < end:
            line = f.readline()
            if not line:
                break
            pos += len(line)
            ln += 1
            if not line.strip():
                continue
            try:
                s = orjson.loads(line)
            except orjson.JSONDecodeError as e:
                bad.append((ln, None, "split.bad_json", str(e)))
                continue
            if not valid.is_valid(s):
                bad.append((ln, s.get("id") if isinstance(s, dict) else None, "split.bad_record",
                            records.validate("sample", s)[0]))
                continue
            if s["id"] in seen:
                bad.append((ln, s["id"], "split.duplicate_id", "an earlier line has this id"))
                continue
            seen.add(s["id"])
            names = []
            for t in s["tools"]:
                names.append(intern(t["name"]))
                if t["name"] not in skip_tools:
                    tools.setdefault(t["name"], t)
            used = {c["name"] for m in s["messages"] for c in m.get("tool_calls") or ()} | set(s["apis_used"])
            request = "\n".join(m["content"] for m in s["messages"] if m["role"] == "user" and m.get("content"))
            metas.append(SampleMeta(0, ln, s["id"], s["data_type"], tuple(names),
                                    tuple(sorted(intern(u) for u in used)), request))
    return ln, metas, bad, tools


def attach_scores(metas: list[SampleMeta], path, rejects: Rejects) -> int:
    """Set each meta's loss from the complexity scores; returns how many samples got one."""
    loss: dict[str, float] = {}
    with open(path, "rb") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = orjson.loads(line)
                v = r["loss"]
                if v is not None:
                    v = float(v)
                    if not math.isfinite(v):
                        raise ValueError(f"loss {v} is not finite")
                    loss[r["id"]] = v
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                rejects.add(ln, None, "split.bad_score", f"scores line {ln}: {e}")
    n = 0
    for m in metas:
        m.loss = loss.get(m.id)
        n += m.loss is not None
    return n
