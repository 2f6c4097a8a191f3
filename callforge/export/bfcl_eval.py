"""The held-out eval split in BFCL's layout, so the evaluate stage reads it like real BFCL categories.

    BFCL_v4_callforge_<category>.json                  {"id", "question": [[{"role", "content"}]], "function": [...]}
    possible_answer/BFCL_v4_callforge_<category>.json  {"id", "ground_truth": [{name: {param: [allowed, ...]}}]}

Categories follow BFCL: simple (one function offered, one call), multiple (several offered, one
call), parallel (one offered, several calls), parallel_multiple, irrelevance (no call is right; no
answer file). Each reference value is the one allowed value, plus "" (may be omitted) when it equals
the parameter's declared default. Functions use BFCL's type spelling (tools.to_bfcl).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from callforge.core import io
from callforge.export.common import dumps, first_decision, per_tool
from callforge.calling.tools import to_bfcl

_bfcl_tool = per_tool(to_bfcl)     # shared between entries: rows are only serialised, never changed

CATEGORIES = ("simple", "multiple", "parallel", "parallel_multiple", "irrelevance")
PREFIX = "BFCL_v4_callforge_"


def category(n_functions: int, calls: list[dict] | None) -> str:
    if not calls:
        return "irrelevance"
    parallel, multiple = len(calls) > 1, n_functions > 1
    if parallel and multiple:
        return "parallel_multiple"
    return "parallel" if parallel else "multiple" if multiple else "simple"


def allowed(call: dict, tool: dict | None) -> dict:
    props = ((tool or {}).get("parameters") or {}).get("properties") or {}
    out = {}
    for k, v in call["arguments"].items():
        p = props.get(k)
        ok = [v]
        optional = k not in ((tool or {}).get("parameters") or {}).get("required", ())
        if optional and isinstance(p, dict) and "default" in p and type(p["default"]) is type(v) and p["default"] == v:
            ok.append("")
        out[k] = ok
    return {call["name"]: out}


def entry(sample: dict) -> tuple[str, dict, dict | None] | None:
    """(category, question entry without id, answer entry without id); None when no BFCL form fits."""
    prompt, calls, kind = first_decision(sample)
    if kind == "other" or not any(m["role"] == "user" for m in prompt):
        return None
    cat = category(len(sample["tools"]), calls)
    question = {"question": [[{"role": m["role"], "content": m.get("content") or ""} for m in prompt]],
                "function": [_bfcl_tool(t) for t in sample["tools"]]}
    if cat == "irrelevance":
        return cat, question, None
    by_name = {t["name"]: t for t in sample["tools"]}
    return cat, question, {"ground_truth": [allowed(c, by_name.get(c["name"])) for c in calls]}


class EvalSplit:
    """The eval split's files, built one sample at a time: each entry is encoded as it comes, so memory
    holds the (small) encoded lines, never the samples (at 1M samples the eval split is ~150k of them)."""

    def __init__(self):
        self.questions: dict[str, list[bytes]] = {c: [] for c in CATEGORIES}
        self.answers: dict[str, list[bytes]] = {c: [] for c in CATEGORIES}
        self.index: list[bytes] = []
        self.samples = self.skipped = 0

    def add(self, sample: dict) -> None:
        self.samples += 1
        e = entry(sample)
        if e is None:
            self.skipped += 1
            return
        cat, q, a = e
        qid = f"callforge_{cat}_{len(self.questions[cat])}"
        self.questions[cat].append(_line({"id": qid, **q}))
        if a is not None:
            self.answers[cat].append(_line({"id": qid, **a}))
        self.index.append(_line({"id": qid, "sample_id": sample["id"], "category": cat}))

    def write(self, folder: Path) -> tuple[dict[str, str], dict]:
        """Write the split into `folder` in BFCL layout; → (md5 by file written, stats)."""
        files = {}
        for cat in CATEGORIES:
            for path, lines in ((folder / f"{PREFIX}{cat}.json", self.questions[cat]),
                                (folder / "possible_answer" / f"{PREFIX}{cat}.json", self.answers[cat])):
                if lines:
                    files[str(path)] = _write_lines(path, lines)
        files[str(folder / "index.jsonl")] = _write_lines(folder / "index.jsonl", self.index)
        return files, {"samples": self.samples, "entries": len(self.index), "skipped": self.skipped,
                       "categories": {c: len(self.questions[c]) for c in CATEGORIES}}


def _line(row: dict) -> bytes:
    return (dumps(row) + "\n").encode()


def _write_lines(path: Path, lines: list[bytes]) -> str:
    """Atomic; → the md5 of what was written (DVC's file digest)."""
    md5 = hashlib.md5()
    with io.atomic_open(path, "wb") as f:
        for line in lines:
            f.write(line)
            md5.update(line)
    return md5.hexdigest()
