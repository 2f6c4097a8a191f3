"""Chat export, the shape Hugging Face chat templates and TRL read: {"messages": [...], "tools": [...]}.

    {"role": "system" | "user", "content"}
    {"role": "assistant", "content", "tool_calls": [{"id", "type": "function",
                                                     "function": {"name", "arguments": {...}}}]}
    {"role": "tool", "tool_call_id", "name", "content"}
    tools: [{"type": "function", "function": {"name", "description", "parameters": <JSON Schema>}}]

Unlike the OpenAI export, `arguments` is an object (what `tokenizer.apply_chat_template(messages,
tools=tools)` templates serialise), and tool names stay as given: templates print any string, and
the calls must name the tools the model was shown. `tool_calls` is only present on assistant
messages that call, and `content` is "" there when the assistant says nothing, so templates that
test `message.tool_calls` or print `message.content` read every message right.

Loading with `datasets.load_dataset("json", ...)`: argument objects and parameter schemas differ
from tool to tool, which one Arrow struct cannot hold without filling every row with the other rows'
keys. datasets (5+) stores a field as `Json` (each object kept as it is, decoded on access) when the
objects there have different keys in the file's first 10 MB: one record with a call (its user, assistant
and tool messages differ) and two tools with different parameters suffice, and every callforge export
has them, so messages and tool parameters load as Json. `features()` names those columns for files
that might not show it early (`load_dataset("json", data_files=..., features=chat.features())`).

With export.thinking, an assistant message that has a thinking trace carries it as "thinking" (the
key gpt-oss's template renders; others name it "reasoning_content").
"""
from __future__ import annotations

from callforge.export.common import thinking_of
from callforge.calling.tools import openai_tool


def features():
    """The columns for `datasets.load_dataset("json", data_files=..., features=features())`: each message
    and each tool kept as a Json object."""
    import datasets

    return datasets.Features({"messages": datasets.List(datasets.Json()), "tools": datasets.List(datasets.Json())})


def record(sample: dict, thinking: bool = False) -> dict:
    out = []
    call_names: dict[str, str] = {}
    for m in sample["messages"]:
        role = m["role"]
        if role in ("system", "user"):
            out.append({"role": role, "content": m.get("content") or ""})
        elif role == "assistant":
            a = {"role": "assistant", **thinking_of(m, thinking), "content": m.get("content") or ""}
            if m.get("tool_calls"):
                call_names.update((c["id"], c["name"]) for c in m["tool_calls"])
                a["tool_calls"] = [{"id": c["id"], "type": "function",
                                    "function": {"name": c["name"], "arguments": c["arguments"]}}
                                   for c in m["tool_calls"]]
            out.append(a)
        elif role == "tool":
            call_id = m.get("tool_call_id") or ""
            out.append({"role": "tool", "tool_call_id": call_id, "name": m.get("name") or call_names.get(call_id, ""),
                        "content": m.get("content") or ""})
    return {"messages": out, "tools": [openai_tool(t) for t in sample["tools"]]}
