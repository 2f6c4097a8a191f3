"""Executability rules: is each call something the offered tools could execute?

Name in the offered tools; required arguments present; no undeclared arguments; types (nested
included); enum, range, pattern, format, length and item-count constraints. Nothing is executed.
Every failure is a Problem with a stable code (schema_check.EXEC_CODES, tools.CODES); all of them
are reported, not just the first.

Hot loops: `index_for(tools)` returns a ToolIndex compiled once per distinct tool list (cached by
content); `ToolIndex.check(calls)` then costs a dict lookup and a few closure calls per argument.
"""
from __future__ import annotations

import json
import marshal
import sys
from typing import IO, Any

from .calls import ParseError, parse_calls
from .schema_check import EXEC_CODES, Node, Problem, compile_schema, explain
from .tools import BFCL_SOURCE, ToolError, normalise_tool

__all__ = ["ToolIndex", "CompiledTool", "Problem", "index_for", "check_calls", "check_calls_command",
           "EXEC_CODES"]

CACHE_SIZE = 4096


class CompiledTool:
    __slots__ = ("name", "tool", "node", "valid")

    def __init__(self, tool: dict):
        self.name = tool["name"]
        self.tool = tool
        # BFCL-imported tools get BFCL's nested-dict semantics (see compile_schema).
        self.node: Node = compile_schema(tool["parameters"], root=True, shallow=tool.get("source") == BFCL_SOURCE)
        self.valid = self.node.valid


_tool_cache: dict[str, CompiledTool | ToolError] = {}
_index_cache: dict[bytes, "ToolIndex"] = {}


def _remember(cache: dict, key: str, value: Any) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.pop(next(iter(cache)))  # oldest first: bounded memory over long inputs
    cache[key] = value


def compile_tool(raw: Any) -> CompiledTool:
    """Normalise and compile one tool (OpenAI or BFCL style); cached by the tool's content."""
    try:
        key = json.dumps(raw, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ToolError("tool.bad_json", f"not JSON data: {e}") from None
    hit = _tool_cache.get(key)
    if hit is None:
        try:
            hit = CompiledTool(normalise_tool(raw))
        except ToolError as e:
            hit = e
        except RecursionError:
            hit = ToolError("tool.too_deep", "schema nested too deeply")
        _remember(_tool_cache, key, hit)
    if isinstance(hit, ToolError):
        raise hit
    return hit


class ToolIndex:
    """The offered tools, compiled. `problems` holds tool-definition failures (tool.* codes)."""

    def __init__(self, tools: Any):
        self.by_name: dict[str, CompiledTool] = {}
        self.problems: list[Problem] = []
        if not isinstance(tools, list):
            self.problems.append(Problem("tool.not_list", "tools", f"expected a list, got {type(tools).__name__}"))
            return
        for i, raw in enumerate(tools):
            try:  # a CompiledTool passes through: callers with their own tool cache (verify) skip re-keying
                ct = raw if isinstance(raw, CompiledTool) else compile_tool(raw)
            except ToolError as e:
                self.problems.append(Problem(e.code, f"tools[{i}]", e.message))
                continue
            prev = self.by_name.get(ct.name)
            if prev is not None and prev.tool != ct.tool:
                self.problems.append(Problem("tool.duplicate_name", f"tools[{i}]",
                                             f"{ct.name!r} is defined twice, differently"))
            self.by_name.setdefault(ct.name, ct)

    def ok(self, calls: list) -> bool:
        """Fast yes/no for hot loops; equivalent to `not self.check(calls)`."""
        if self.problems or type(calls) is not list:
            return False
        by_name = self.by_name
        for c in calls:
            if type(c) is not dict or type(args := c.get("arguments")) is not dict:
                return not self.check(calls)  # unusual shapes: take the full path
            ct = by_name.get(c.get("name"))
            if ct is None or not ct.valid(args):
                return False
        return True

    def check(self, calls: Any) -> list[Problem]:
        """Every problem of a call set ([] when all calls are executable)."""
        out = list(self.problems)
        if type(calls) is not list:
            out.append(Problem("exec.malformed_call", "calls", f"expected a list, got {type(calls).__name__}"))
            return out
        by_name = self.by_name
        for i, c in enumerate(calls):
            if type(c) is dict and type(c.get("function")) is dict:
                c = c["function"]  # OpenAI tool_call wrapper
            if type(c) is not dict or type(c.get("name")) is not str:
                out.append(Problem("exec.malformed_call", f"calls[{i}]", "a call needs a string name"))
                continue
            name = c["name"]
            args = c.get("arguments", {})
            if type(args) is str:  # OpenAI wire form: arguments as a JSON string
                try:
                    args = json.loads(args)
                except ValueError:
                    out.append(Problem("exec.malformed_call", f"calls[{i}].arguments", "arguments are not JSON"))
                    continue
            if args is None:
                args = {}
            ct = by_name.get(name)
            if ct is None:
                out.append(Problem("exec.unknown_function", f"calls[{i}]", f"{name!r} is not an offered tool"))
                continue
            if not ct.valid(args):
                explain(ct.node, args, f"calls[{i}]", out)
        return out


def index_for(tools: Any) -> ToolIndex:
    """A compiled ToolIndex for this tool list, reused when the same tools come again."""
    try:
        # marshal is a faithful C-speed serialisation: equal bytes imply equal content
        # (1, 1.0 and True stay distinct). Version 2 writes no back-references, so equal content
        # gives equal bytes however the objects happen to be shared.
        key = marshal.dumps(tools, 2)
    except (ValueError, TypeError):
        return ToolIndex(tools)  # not plain data: each bad tool is reported, nothing cached
    idx = _index_cache.get(key)
    if idx is None:
        idx = ToolIndex(tools)
        _remember(_index_cache, key, idx)
    return idx


def check_calls(tools: Any, calls: Any) -> list[str]:
    """Reasons (each "code: where: message") why `calls` are not executable against `tools`; [] if they are.

    tools: OpenAI or BFCL style definitions. calls: [{"name", "arguments"}] or Python call syntax text.
    """
    if isinstance(calls, str):
        try:
            calls = parse_calls(calls)
        except ParseError as e:
            return [str(Problem(e.code, "calls", e.message))]
    return [str(p) for p in index_for(tools).check(calls)]


# ---------------------------------------------------------------- the check-calls command

def check_line(line: bytes | str) -> dict:
    """One input line {"id", "tools", "calls"} -> {"id", "ok", "reasons"}; never raises on bad input."""
    rid = None
    try:
        if isinstance(line, bytes):
            line = line.decode("utf-8")
        rec = json.loads(line)
    except UnicodeDecodeError as e:
        return {"id": None, "ok": False, "reasons": [f"input.bad_encoding: line: {e.reason}"]}
    except (ValueError, RecursionError) as e:
        return {"id": None, "ok": False, "reasons": [f"input.bad_json: line: {e}"]}
    if not isinstance(rec, dict):
        return {"id": None, "ok": False, "reasons": ["input.not_object: line: expected a JSON object"]}
    rid = rec.get("id")
    missing = [k for k in ("tools", "calls") if k not in rec]
    if missing:
        return {"id": rid, "ok": False, "reasons": [f"input.missing_field: line: no {k!r}" for k in missing]}
    try:
        reasons = check_calls(rec["tools"], rec["calls"])
    except RecursionError:
        reasons = ["input.too_deep: line: nested too deeply"]
    except Exception as e:  # a checker bug must not take down the other lines of a batch
        reasons = [f"internal.error: line: {type(e).__name__}: {e}"]
    return {"id": rid, "ok": not reasons, "reasons": reasons}


def check_calls_command(path: str, out: IO[str] | None = None) -> int:
    """`callforge check-calls FILE` ("-" for stdin): one result line per input line, in input order.

    Returns 0 when every line was read (whatever the verdicts), 2 when FILE cannot be opened.
    """
    out = out or sys.stdout
    try:
        f = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as e:
        print(f"callforge check-calls: cannot read {path}: {e.strerror}", file=sys.stderr)
        return 2
    with f:
        for raw in f:
            if not raw.strip():
                continue
            out.write(json.dumps(check_line(raw.rstrip(b"\r\n"))) + "\n")
    out.flush()
    return 0
