"""What the exporters share: compact JSON text, the first assistant decision, memoised tool conversion,
legal renaming of tool names, and the opt-in thinking trace."""
from __future__ import annotations

import hashlib
from functools import wraps
from typing import Callable

from callforge.core import io


def dumps(obj) -> str:
    """Compact UTF-8 JSON, key order as built (orjson; json for what orjson refuses, e.g. ints past 64 bits)."""
    return io.json_bytes(obj).decode()


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
        key = io.json_bytes(tool)      # bytes as they come: no decode and encode again to key a cache
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = fn(tool)
        return hit
    return wrapper


def legal_names(names, legal: Callable[[str], bool], clean: Callable[[str], str], max_len: int | None = None
                ) -> dict[str, str]:
    """Original → legal name, for the names of one record. Legal names stay; others become clean(name), plus a
    short hash of the original when that collides with another name of the record, runs past `max_len`, or is
    still not legal. Deterministic, and never maps two names of a record to the same result."""
    names = sorted(set(names))
    out = {n: n for n in names if legal(n)}
    taken = set(out)
    for n in names:
        if n in out:
            continue
        base = clean(n)
        cand, salt = base or "_", 0
        while (max_len is not None and len(cand) > max_len) or cand in taken or not legal(cand):
            tag = hashlib.blake2b(f"{salt}:{n}".encode(), digest_size=3).hexdigest()
            cand = f"{base if max_len is None else base[:max_len - 7]}_{tag}"
            salt += 1
        out[n] = cand
        taken.add(cand)
    return out


def thinking_of(message: dict, wanted: bool) -> dict:
    """{"thinking": text} for an assistant message that has a trace, when the export asks for traces
    (export.thinking); else {}. The key is left out rather than null, so formats read as before."""
    text = message.get("thinking") if wanted else None
    return {"thinking": text} if text else {}
