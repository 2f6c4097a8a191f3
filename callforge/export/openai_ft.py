"""OpenAI chat fine-tuning JSONL: {"messages": [...], "tools": [{"type": "function", "function": {...}}]}.

Assistant calls become `tool_calls` entries ({"id", "type": "function", "function": {"name",
"arguments": <JSON text>}}); tool results become {"role": "tool", "tool_call_id", "content"}.
OpenAI accepts function names matching ^[a-zA-Z0-9_-]{1,64}$ only, while callforge keeps names as
given ("Market Trends API", "math.gcd"): `openai_names` renames deterministically, the same way in a
record's tools and its calls, and never maps two names of one record to the same result.
With export.thinking, an assistant message that has a thinking trace carries it as "thinking" (a
callforge extension OpenAI's fine-tuning input does not define: opt in only for trainers that read it).
"""
from __future__ import annotations

import re

from callforge.export.common import dumps, legal_names, thinking_of
from callforge.calling.tools import openai_tool

NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_BAD_CHAR = re.compile(r"[^a-zA-Z0-9_-]")


def openai_names(names) -> dict[str, str]:
    """Original → legal name for one record. Legal names stay; others get their illegal characters
    replaced by "_", plus a short hash of the original when that collides or runs past 64 characters."""
    return legal_names(names, NAME.fullmatch, lambda n: _BAD_CHAR.sub("_", n), 64)


def record(sample: dict, thinking: bool = False) -> dict:
    msgs = sample["messages"]
    names = openai_names([t["name"] for t in sample["tools"]] +
                         [c["name"] for m in msgs for c in m.get("tool_calls") or ()])
    out = []
    for m in msgs:
        role = m["role"]
        if role in ("system", "user"):
            out.append({"role": role, "content": m.get("content") or ""})
        elif role == "assistant":
            a = {"role": "assistant", **thinking_of(m, thinking)}
            calls = m.get("tool_calls")
            if m.get("content") is not None or not calls:
                a["content"] = m.get("content") or ""
            if calls:
                a["tool_calls"] = [{"id": c["id"], "type": "function",
                                    "function": {"name": names[c["name"]], "arguments": dumps(c["arguments"])}}
                                   for c in calls]
            out.append(a)
        elif role == "tool":
            out.append({"role": "tool", "tool_call_id": m.get("tool_call_id") or "", "content": m.get("content") or ""})
    tools = [openai_tool(t) for t in sample["tools"]]
    for t in tools:
        t["function"]["name"] = names[t["function"]["name"]]
    return {"messages": out, "tools": tools}
