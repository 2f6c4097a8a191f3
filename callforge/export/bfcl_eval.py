"""The held-out eval split in BFCL's layout, so the evaluate stage reads it like real BFCL categories.

    BFCL_v4_callforge_<category>.json                  {"id", "question": [[{"role", "content"}]], "function": [...]}
    possible_answer/BFCL_v4_callforge_<category>.json  {"id", "ground_truth": [{name: {param: [allowed, ...]}}]}

Categories follow BFCL: simple (one function offered, one call), multiple (several offered, one
call), parallel (one offered, several calls), parallel_multiple, irrelevance (no call is right; no
answer file). Each reference value is the one allowed value, plus "" (may be omitted) when it equals
the parameter's declared default. Functions use BFCL's type spelling (tools.to_bfcl).
"""
from __future__ import annotations

from callforge.export.common import first_decision
from callforge.tools import to_bfcl

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
                "function": [to_bfcl(t) for t in sample["tools"]]}
    if cat == "irrelevance":
        return cat, question, None
    by_name = {t["name"]: t for t in sample["tools"]}
    return cat, question, {"ground_truth": [allowed(c, by_name.get(c["name"])) for c in calls]}


def build(samples) -> tuple[dict[str, list[dict]], dict[str, list[dict]], list[dict], int]:
    """→ (questions by category, answers by category, index rows {"id", "sample_id", "category"}, skipped)."""
    questions: dict[str, list[dict]] = {c: [] for c in CATEGORIES}
    answers: dict[str, list[dict]] = {c: [] for c in CATEGORIES}
    index, skipped = [], 0
    for s in samples:
        e = entry(s)
        if e is None:
            skipped += 1
            continue
        cat, q, a = e
        qid = f"callforge_{cat}_{len(questions[cat])}"
        questions[cat].append({"id": qid, **q})
        if a is not None:
            answers[cat].append({"id": qid, **a})
        index.append({"id": qid, "sample_id": s["id"], "category": cat})
    return questions, answers, index, skipped
