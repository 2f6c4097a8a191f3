"""APIGen / xLAM format: {"id", "query", "tools": <JSON text>, "answers": <JSON text>}.

xLAM rows are single-turn: the query is the user text before the first assistant turn and the answers
are that turn's calls ([] for a non-tool sample). Tools use xLAM's flat parameter map
{name: {"type": "str, optional", "description", "default"?}} with Python-style type names.
A sample whose first assistant turn is not a decision (a clarifying question) has no xLAM form.
The "id" is the row number, which the writer puts in front.
"""
from __future__ import annotations

from callforge.export.common import dumps, first_decision, per_tool

_PY = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "object": "dict", "null": "None"}


def py_type(schema) -> str:
    if not isinstance(schema, dict):
        return "Any"
    t = schema.get("type")
    if isinstance(t, list):
        kinds = [py_type({**schema, "type": x}) for x in t if x != "null"]
        inner = kinds[0] if len(kinds) == 1 else f"Union[{', '.join(kinds)}]" if kinds else "None"
        return f"Optional[{inner}]" if "null" in t else inner
    if t == "array":
        return f"List[{py_type(schema.get('items'))}]"
    return _PY.get(t, "Any")


def xlam_tool(tool: dict) -> dict:
    params = tool["parameters"]
    required = set(params.get("required") or ())
    flat = {}
    for name, p in (params.get("properties") or {}).items():
        entry = {"description": p.get("description", "") if isinstance(p, dict) else "",
                 "type": py_type(p) + ("" if name in required else ", optional")}
        if isinstance(p, dict) and "default" in p:
            entry["default"] = p["default"]
        flat[name] = entry
    return {"name": tool["name"], "description": tool.get("description", ""), "parameters": flat}


def record(sample: dict) -> dict | None:
    prompt, calls, kind = first_decision(sample)
    if kind == "other":
        return None
    query = "\n".join(m.get("content") or "" for m in prompt if m["role"] == "user")
    tools = "[" + ",".join(_tool_json(t) for t in sample["tools"]) + "]"
    return {"query": query, "tools": tools, "answers": dumps(calls or [])}


@per_tool
def _tool_json(tool: dict) -> str:
    return dumps(xlam_tool(tool))
