"""Structural features of a dialog sample: the quantities ToolACE found to drive the loss
(number of candidate APIs, APIs used, query–description dissimilarity) plus size and shape.
Pure functions of the sample; no model needed.
"""
from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")
# Function words carry no signal about which API fits; dropping them keeps the overlap meaningful.
_STOP = frozenset("""a an the and or but if of to in on at by for with from into about as is are was were be been
being do does did have has had i me my we our you your he she it its they them their this that these those
what which who whom how when where why can could would should will shall may might must please get set
not no yes so than then there here some any all each also just only very too up out""".split())


def words(text: str) -> set[str]:
    """Content words: split on non-letters and camelCase/snake_case, lowercased, stop words and
    1-letter words dropped, a plural -s stripped."""
    out = set()
    for w in _WORD.findall(text or ""):
        w = w.lower()
        if len(w) < 2 or w in _STOP:
            continue
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.add(w)
    return out


def value_depth(v) -> int:
    """Nesting depth of a JSON value: scalars 0, each list/object level +1."""
    if isinstance(v, dict):
        return 1 + max((value_depth(x) for x in v.values()), default=0)
    if isinstance(v, list):
        return 1 + max((value_depth(x) for x in v), default=0)
    return 0


def schema_depth(s) -> int:
    """Nesting depth of a JSON Schema's object/array structure (a flat object of scalars is 1)."""
    if not isinstance(s, dict):
        return 0
    kids = list((s.get("properties") or {}).values())
    if isinstance(s.get("items"), dict):
        kids.append(s["items"])
    if isinstance(s.get("additionalProperties"), dict):
        kids.append(s["additionalProperties"])
    nested = s.get("type") in ("object", "array") or bool(kids)
    return int(nested) + max((schema_depth(k) for k in kids), default=0)


def tool_words(tool: dict) -> set[str]:
    ws = words(tool.get("name", "")) | words(tool.get("description", ""))
    for name, p in ((tool.get("parameters") or {}).get("properties") or {}).items():
        ws |= words(name) | words(p.get("description", "") if isinstance(p, dict) else "")
    return ws


# Per-tool facts keyed by the tool object itself: a dialog run offers the same pool dicts to many
# samples. The entry holds the tool, so its id cannot be reused while cached; tools are not mutated.
_TOOL_FACTS: dict[int, tuple] = {}


def _tool_facts(tool: dict) -> tuple[set[str], int]:
    hit = _TOOL_FACTS.get(id(tool))
    if hit is None or hit[0] is not tool:
        if len(_TOOL_FACTS) >= 8192:
            _TOOL_FACTS.clear()
        hit = _TOOL_FACTS[id(tool)] = (tool, tool_words(tool), schema_depth(tool.get("parameters")))
    return hit[1], hit[2]


def query_similarity(sample: dict) -> float:
    """Share of the user's content words found in the descriptions of the APIs used (all candidate
    APIs when none is used). 0 = no overlap (hard to map query to API), 1 = every word appears."""
    q = set().union(*(words(m.get("content") or "") for m in sample.get("messages", []) if m.get("role") == "user"))
    if not q:
        return 0.0
    used = set(sample.get("apis_used") or []) | {c["name"] for c in _calls(sample)}
    tools = [t for t in sample.get("tools") or [] if t.get("name") in used] or (sample.get("tools") or [])
    d = set().union(*(_tool_facts(t)[0] for t in tools)) if tools else set()
    return round(len(q & d) / len(q), 6)


def _calls(sample: dict) -> list[dict]:
    return [c for m in sample.get("messages", []) if m.get("role") == "assistant" for c in m.get("tool_calls") or []]


def features(sample: dict) -> dict:
    calls = _calls(sample)
    msgs = sample.get("messages", [])
    tools = sample.get("tools") or []
    return {
        "candidate_apis": len(tools),
        "calls": len(calls),
        "apis_used": len({c["name"] for c in calls}),
        "arguments": sum(len(c.get("arguments") or {}) for c in calls),
        "argument_depth": max((value_depth(c.get("arguments") or {}) for c in calls), default=0),
        "schema_depth": max((_tool_facts(t)[1] for t in tools), default=0),
        "user_turns": sum(m.get("role") == "user" for m in msgs),
        "assistant_turns": sum(m.get("role") == "assistant" for m in msgs),
        "query_similarity": query_similarity(sample),
    }
