"""What the exporters share: compact JSON text, the first assistant decision, memoised tool conversion."""
from __future__ import annotations

import json
from functools import wraps

import orjson


def dumps(obj) -> str:
    """Compact UTF-8 JSON, key order as built (orjson; json for what orjson refuses, e.g. ints past 64 bits)."""
    try:
        return orjson.dumps(obj).decode()
    except TypeError:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def first_decision(sample: dict) -> tuple[list[dict], list[dict] | None, str]:
    """(messages before the first assistant turn, that turn's calls, kind).

    kind "call": the assistant calls tools at once; "none": a non-tool sample whose first answer needs
    no tool (BFCL's irrelevance); "other": anything a single-turn format cannot hold (a clarifying
    question first, or no assistant turn).
    """
    msgs = sample["messages"]
    for i, m in enumerate(msgs):
        if m["role"] != "assistant":
            continue
        prompt = [x for x in msgs[:i] if x["role"] in ("system", "user")]
        if m.get("tool_calls"):
            return prompt, [{"name": c["name"], "arguments": c["arguments"]} for c in m["tool_calls"]], "call"
        return prompt, None, "none" if sample["data_type"] == "non_tool" else "other"
    return [], None, "other"


def per_tool(fn):
    """Memoise a conversion of one tool definition on its JSON text: pools repeat tools across samples."""
    cache: dict[bytes, object] = {}

    @wraps(fn)
    def wrapper(tool: dict):
        key = dumps(tool).encode()
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = fn(tool)
        return hit
    return wrapper
