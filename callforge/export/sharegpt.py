"""ToolACE's released format (ShareGPT style): {"system", "conversations": [{"from", "value"}], "tool_names"}.

The system text carries the tool list as JSON in BFCL's type spelling (dict, float), as ToolACE's
release does; assistant calls are written in Python call syntax (`[f(a=1), g(b="x")]`, callforge.calling.calls);
consecutive tool results become one "tool" turn: a JSON list of {"name", "results"}.

Every call string is valid Python (`ast.parse` reads each call as a call of a name or dotted name):
a tool name that is not one ("Telzap Lookup Charities", "vexquo.calculate-x", "class") is written as
an identifier (`python_names`: illegal characters become "_", a part that starts with a digit or is a
keyword gets a leading "_", a short hash resolves collisions), the same in the system text's tool
list, the calls and the tool results. "tool_names" records each name of the record as written and as
given ([{"name", "original"}], offered tools first), so a reader maps them back. ToolACE's own
release writes such names unchanged, which no Python parser reads.

With export.thinking, an assistant turn whose message has a thinking trace carries it as "thinking".
"""
from __future__ import annotations

import functools
import keyword
import re

import orjson

from callforge.calling.calls import print_calls
from callforge.export.common import dumps, legal_names, per_tool, thinking_of
from callforge.calling.tools import to_bfcl

INSTRUCTION = ("You may call the functions listed below. To call, reply with nothing but a list of calls in "
               "Python syntax: [function_name(argument=value, ...), ...]. If no function fits the request, "
               "or a value it needs is missing, reply in plain text instead.")

_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")   # ASCII only: Python folds other identifiers (NFKC) when parsing
_BAD_CHAR = re.compile(r"[^A-Za-z0-9_]")


@functools.lru_cache(maxsize=1 << 16)    # pools repeat their names across samples
def _python_name(name: str) -> bool:
    return all(_PART.fullmatch(p) and not keyword.iskeyword(p) for p in name.split("."))


def _identifier(part: str) -> str:
    part = _BAD_CHAR.sub("_", part)
    return part if _python_name(part) else f"_{part}"


def python_names(names) -> dict[str, str]:
    """Original → a name Python reads as a (dotted) name, for one record; dotted Python names stay."""
    return legal_names(names, _python_name, lambda n: ".".join(_identifier(p) for p in n.split(".")))


@per_tool
def _tool_json(tool: dict) -> str:
    return dumps(to_bfcl(tool))


def _renamed_tool_json(tool: dict, name: str) -> str:
    """The tool's JSON under the name the record writes: to_bfcl puts the name first, so a renamed tool
    swaps that head of its memoised text instead of being converted again."""
    text = _tool_json(tool)
    if name == tool["name"]:
        return text
    return '{"name":' + dumps(name) + text[len('{"name":' + dumps(tool["name"])):]


def system_text(sample: dict, names: dict[str, str]) -> str:
    own = "\n".join(m["content"] for m in sample["messages"] if m["role"] == "system" and m.get("content"))
    tools = "[" + ",".join(_renamed_tool_json(t, names[t["name"]]) for t in sample["tools"]) + "]"
    return (own + "\n\n" if own else "") + INSTRUCTION + "\nFunctions (JSON):\n" + tools


def _result(content):
    try:
        return orjson.loads(content)
    except (TypeError, orjson.JSONDecodeError):
        return content


def record(sample: dict, thinking: bool = False) -> dict:
    """Raises callforge.calling.calls.PrintError when a call cannot be written in Python syntax (an
    argument name that is not an identifier)."""
    order = [t["name"] for t in sample["tools"]]
    order += [c["name"] for m in sample["messages"] for c in m.get("tool_calls") or () if c["name"] not in order]
    names = python_names(order)
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
            results.append({"name": names.get(name, name), "results": _result(m.get("content"))})
            continue
        flush()
        if role == "user":
            conv.append({"from": "user", "value": m.get("content") or ""})
        elif role == "assistant":
            calls = m.get("tool_calls")
            if calls:
                call_names.update((c["id"], c["name"]) for c in calls)
                value = print_calls([{"name": names[c["name"]], "arguments": c["arguments"]} for c in calls])
            else:
                value = m.get("content") or ""
            conv.append({"from": "assistant", "value": value, **thinking_of(m, thinking)})
    flush()
    return {"system": system_text(sample, names), "conversations": conv,
            "tool_names": [{"name": names[n], "original": n} for n in dict.fromkeys(order)]}
