"""ToolACE's released format (ShareGPT style): {"system", "conversations": [{"from", "value"}]}.

The system text carries the tool list as JSON in BFCL's type spelling (dict, float), as ToolACE's
release does; assistant calls are written in Python call syntax (`[f(a=1), g(b="x")]`, callforge.calling.calls);
consecutive tool results become one "tool" turn: a JSON list of {"name", "results"}.
"""
from __future__ import annotations

import orjson

from callforge.calling.calls import print_calls
from callforge.export.common import dumps, per_tool
from callforge.calling.tools import to_bfcl

INSTRUCTION = ("You may call the functions listed below. To call, reply with nothing but a list of calls in "
               "Python syntax: [function_name(argument=value, ...), ...]. If no function fits the request, "
               "or a value it needs is missing, reply in plain text instead.")


@per_tool
def _tool_json(tool: dict) -> str:
    return dumps(to_bfcl(tool))


def system_text(sample: dict) -> str:
    own = "\n".join(m["content"] for m in sample["messages"] if m["role"] == "system" and m.get("content"))
    tools = "[" + ",".join(_tool_json(t) for t in sample["tools"]) + "]"
    return (own + "\n\n" if own else "") + INSTRUCTION + "\nFunctions (JSON):\n" + tools


def _result(content):
    try:
        return orjson.loads(content)
    except (TypeError, orjson.JSONDecodeError):
        return content


def record(sample: dict) -> dict:
    """Raises callforge.calling.calls.PrintError when a call cannot be written in Python syntax."""
    conv: list[dict] = []
    results: list[dict] = []
    call_names: dict[str, str] = {}

    def flush():
        if results:
            conv.append({"from": "tool", "value": dumps(results)})
            results.clear()

    for m in sample["messages"]:
        role = m["role"]
        if role == "tool":
            name = m.get("name") or call_names.get(m.get("tool_call_id", ""), "")
            results.append({"name": name, "results": _result(m.get("content"))})
            continue
        flush()
        if role == "user":
            conv.append({"from": "user", "value": m.get("content") or ""})
        elif role == "assistant":
            calls = m.get("tool_calls")
            if calls:
                call_names.update((c["id"], c["name"]) for c in calls)
                value = print_calls([{"name": c["name"], "arguments": c["arguments"]} for c in calls])
            else:
                value = m.get("content") or ""
            conv.append({"from": "assistant", "value": value})
    flush()
    return {"system": system_text(sample), "conversations": conv}
