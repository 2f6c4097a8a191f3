"""What the report reads: the pipeline's metrics files and sample outputs (all declared in dvc.yaml).

Every path goes through `declare` (the stage passes ctx.path, which refuses a path dvc.yaml does not
list for it), so the report can never show a file DVC would not re-run it for.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator

import orjson

METRIC_STAGES = ("taxonomy", "apis", "dialogs", "complexity", "verify", "split", "export", "finetune", "evaluate")
HIST = "metrics/complexity_hist.json"
VERIFIED, REJECTED, DROPPED = "data/verified.jsonl", "data/rejected.jsonl", "data/dialogs_dropped.jsonl"
SCORES = "data/scores.jsonl"
SPLIT_DIR = "data/split"
SUBSETS = ("full", "easy", "medium", "hard", "div_low", "div_medium", "div_high", "eval")
DECONTAM = f"{SPLIT_DIR}/decontam.jsonl"
SPLIT_REJECTED = f"{SPLIT_DIR}/rejected.jsonl"
# a verified sample that decontamination kept out of every training subset
DECONTAMINATED = "decontaminated"


def _identity(p) -> Path:
    return Path(p)


class Sources:
    """The pipeline's outputs under the current folder; `declare` checks each path (ctx.path in the stage)."""

    def __init__(self, declare: Callable = _identity):
        self.declare = declare

    def metrics(self) -> dict[str, dict]:
        """{stage: metrics/<stage>.json}, stages without a file left out; `complexity_hist` too."""
        out = {}
        for name in METRIC_STAGES:
            data = self._json(f"metrics/{name}.json")
            if data is not None:
                out[name] = data
        hist = self._json(HIST)
        if hist is not None:
            out["complexity_hist"] = hist
        return out

    def _json(self, path: str):
        try:
            return json.loads(self.declare(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None

    def rows(self, path: str) -> Iterator[dict]:
        """JSON lines of one output; a line that is not a JSON object is skipped (its stage counted it)."""
        try:
            f = open(self.declare(path), "rb")
        except FileNotFoundError:
            return
        with f:
            for line in f:
                if line.strip():
                    try:
                        row = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue
                    if isinstance(row, dict):
                        yield row

    def losses(self) -> dict[str, float]:
        return {r["id"]: r["loss"] for r in self.rows(SCORES)
                if isinstance(r.get("id"), str) and isinstance(r.get("loss"), (int, float))}

    def memberships(self) -> tuple[list[str], dict[str, int]]:
        """(subset names, {sample id: bit mask over those names}); decontaminated samples get their own bit."""
        names, mask = [], {}
        for name in (*SUBSETS, DECONTAMINATED):
            path = DECONTAM if name == DECONTAMINATED else f"{SPLIT_DIR}/{name}.jsonl"
            bit = 1 << len(names)
            names.append(name)
            for r in self.rows(path):
                sid = r.get("id")
                if isinstance(sid, str):
                    mask[sid] = mask.get(sid, 0) | bit
        return names, mask

    def split_rejects(self) -> dict[str, tuple[str, str]]:
        """{sample id: (reason code, detail)} for verified lines the split stage could not use."""
        return {r["id"]: (r.get("reason", ""), r.get("detail", "")) for r in self.rows(SPLIT_REJECTED)
                if isinstance(r.get("id"), str)}
