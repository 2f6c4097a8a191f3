"""What every rule needs from a sample, computed once per sample (and once per tool list).

A SampleView wraps one sample dict; its derived parts (call turns, the compiled tools) are built on
first use and shared by all checks. Each distinct tool is normalised and compiled once per run
(Context.tool), since samples draw their tools from one pool.
"""
from __future__ import annotations

import json
from functools import cached_property

import orjson

from callforge.calling.executability import CompiledTool, ToolIndex
from callforge.calling.tools import ToolError, normalise_tool
from callforge.core import io
from callforge.core.config_schema import VerifyConfig

from .degenerate import SampleText


class ToolSet:
    """The offered tools of a sample: compiled for executability, plus what the API checks found."""
    __slots__ = ("index", "by_name", "schema_problems", "field_problems")

    def __init__(self, tools, ctx: "Context"):
        if not isinstance(tools, list):
            tools = [tools]
        entries = [ctx.tool(t) for t in tools]
        self.index = ToolIndex([e[0] for e in entries])
        self.by_name = {t["name"]: t for t in tools if isinstance(t, dict) and isinstance(t.get("name"), str)}
        self.schema_problems = [f"{p.code}: {p.where}: {p.message}" for p in self.index.problems]
        self.field_problems = [p.format(i=i) for i, e in enumerate(entries) for p in e[1]]


def _field_problems(t, settings: VerifyConfig) -> list[str]:
    """ToolACE's "all necessary fields": a described tool, described parameters, required ⊆ properties.
    Templates with {i} for the tool's position, filled per sample."""
    if not isinstance(t, dict):
        return []
    out = []
    name = str(t.get("name")).replace("{", "{{").replace("}", "}}")
    if not str(t.get("description") or "").strip():
        out.append(f"api.no_description: tools[{{i}}]: {name!r} has no description")
    params = t.get("parameters")
    if not isinstance(params, dict):
        return out + ["api.no_parameters: tools[{i}]: no parameters object"]
    props = params.get("properties")
    props = props if isinstance(props, dict) else {}
    req = params.get("required")
    for r in req if isinstance(req, list) else []:
        if r not in props:
            out.append(f"api.required_undeclared: tools[{{i}}]: required {_esc(r)!r} is not a declared parameter")
    if settings.require_param_descriptions:
        for k, p in props.items():
            if not (isinstance(p, dict) and str(p.get("description") or "").strip()):
                out.append(f"api.param_no_description: tools[{{i}}].{_esc(k)}: parameter has no description")
    return out


def _esc(x) -> str:
    return str(x).replace("{", "{{").replace("}", "}}")


class Context:
    """Settings plus caches shared across the samples of one run. The settings are the `verify` config
    section as plain values (OmegaConf.to_object: attribute reads on the config node are slow in the
    hot loop, and plain values travel to worker processes).

    Tools are cached one by one, keyed by their JSON text (orjson: ~2 us for a tool; a lookup by
    (name, description) confirmed by dict equality costs twice that once the cache outgrows the CPU's
    caches, as it does with a pool of 26k tools). At most MAX_TOOLS are kept (oldest out)."""
    MAX_TOOLS = 100_000

    def __init__(self, settings: VerifyConfig):
        self.settings = settings
        self._tools: dict[bytes, tuple] = {}
        self.memo: dict[str, dict] = {}   # per-check caches keyed by text (e.g. system prompt -> call format)

    def tool(self, t) -> tuple:
        """(CompiledTool, or the raw tool when it does not compile; its field problem templates)."""
        if not isinstance(t, dict):
            return t, _field_problems(t, self.settings)   # ToolIndex reports it
        key = io.json_bytes(t)
        entry = self._tools.get(key)
        if entry is None:
            if len(self._tools) >= self.MAX_TOOLS:
                self._tools.pop(next(iter(self._tools)))
            entry = self._tools[key] = self._entry(t)
        return entry

    def _entry(self, t: dict) -> tuple:
        try:    # what executability.compile_tool does, minus its own cache key: this cache already keyed it
            compiled = CompiledTool(normalise_tool(t))
        except (ToolError, RecursionError):
            compiled = t    # ToolIndex will compile again and record the problem with the tool's position
        return compiled, _field_problems(t, self.settings)

    def toolset(self, tools) -> ToolSet:
        return ToolSet(tools, self)


class SampleView:
    def __init__(self, sample: dict, ctx: Context):
        self.sample = sample
        self.ctx = ctx
        self.settings = ctx.settings
        self.messages: list[dict] = sample.get("messages") or []

    @cached_property
    def tools(self) -> ToolSet:
        return self.ctx.toolset(self.sample.get("tools") or [])

    @cached_property
    def call_turns(self) -> list[tuple[int, list[dict]]]:
        """[(message index, tool_calls)] for every assistant message that calls tools."""
        return [(i, m["tool_calls"]) for i, m in enumerate(self.messages)
                if m.get("role") == "assistant" and m.get("tool_calls")]

    @cached_property
    def calls(self) -> list[dict]:
        return [c for _, cs in self.call_turns for c in cs]

    @cached_property
    def system_text(self) -> str:
        m = self.messages[0] if self.messages else None
        return (m.get("content") or "") if m and m.get("role") == "system" else ""

    @cached_property
    def prose(self) -> tuple[list[tuple[int, str]], SampleText]:
        """What the user and assistant write (each message's content and thinking trace), for the
        repetition and meaningless-token checks: ([(message index, field)], their texts scanned together)."""
        where = [(i, key) for i, m in enumerate(self.messages) if m.get("role") in ("user", "assistant")
                 for key in ("content", "thinking") if isinstance(m.get(key), str) and m[key]]
        return where, SampleText([self.messages[i][key] for i, key in where])

    def all_text(self) -> str:
        """Every text the messages carry, joined: content, thinking, and the calls' arguments as JSON."""
        texts = [m[key] for m in self.messages for key in ("content", "thinking") if isinstance(m.get(key), str)]
        return "\n".join(texts) + "\n" + _json([c.get("arguments") for c in self.calls])

    @cached_property
    def strings(self) -> list[tuple[int, str, str]]:
        """(message index, field, text) of every text the messages carry: content, thinking, and each call's
        arguments as JSON (their strings appear in it as written)."""
        out = []
        for i, m in enumerate(self.messages):
            out += [(i, key, m[key]) for key in ("content", "thinking") if isinstance(m.get(key), str)]
            out += [(i, f"tool_calls[{j}].arguments", _json(c.get("arguments")))
                    for j, c in enumerate(m.get("tool_calls") or ())]
        return out

    def text_before(self, end: int, roles: tuple[str, ...]) -> str:
        return "\n".join(m.get("content") or "" for m in self.messages[:end] if m.get("role") in roles)



def _json(x) -> str:
    try:
        return orjson.dumps(x).decode()
    except orjson.JSONEncodeError:   # an integer past 64 bits: a check must not fail on what JSON allows
        return json.dumps(x, ensure_ascii=False, default=str)
