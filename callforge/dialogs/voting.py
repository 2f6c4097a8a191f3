"""Consistency voting: an assistant decision is kept only when its samples agree.

Decisions are compared after normalisation: the action, and for calls the multiset of
(name, arguments) with argument strings trimmed, case- and space-folded and numbers compared by
value (1 == 1.0), so harmless surface differences do not count as disagreement. Free text
(a question, an answer) is not compared: only what the assistant decided to do.
"""
from __future__ import annotations

import json
import re

_WS = re.compile(r"\s+")


def norm_value(v):
    if isinstance(v, str):
        return _WS.sub(" ", v.strip().lower())
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, list):
        return [norm_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): norm_value(x) for k, x in sorted(v.items())}
    return v


def norm_calls(calls) -> list[str]:
    out = []
    for c in calls or []:
        if not isinstance(c, dict):
            out.append(json.dumps(c, sort_keys=True, default=str))
            continue
        out.append(json.dumps([c.get("name"), norm_value(c.get("arguments") or {})], sort_keys=True))
    return sorted(out)


def signature(decision: dict) -> str:
    action = decision.get("action")
    calls = norm_calls(decision.get("tool_calls")) if action == "call" else []
    return json.dumps([action, calls])


def vote(decisions: list[dict], min_agree: float = 1.0) -> tuple[dict | None, dict]:
    """→ (the first decision of the winning signature, or None when agreement < min_agree; info)."""
    sigs = [signature(d) for d in decisions]
    counts: dict[str, int] = {}
    for s in sigs:
        counts[s] = counts.get(s, 0) + 1
    best = max(counts, key=lambda s: (counts[s], -sigs.index(s)))
    share = counts[best] / len(sigs) if sigs else 0.0
    info = {"samples": len(sigs), "distinct": len(counts), "agreement": round(share, 4)}
    if not sigs or share < min_agree:
        return None, info
    return decisions[sigs.index(best)], info
