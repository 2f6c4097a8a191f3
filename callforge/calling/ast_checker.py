"""BFCL-style AST checking of model calls against a ground truth of allowed values.

Written for callforge from BFCL's published rules (../shared/toolace.md §9); the `bfcl-eval`
package is not used. Inputs:
  calls         [{"name", "arguments": {...}}], as callforge.calling.calls.parse_calls returns them
  ground_truth  BFCL's [{function_name: {param: [allowed values...]}}, ...]; "" among the allowed
                values marks a parameter that may be left out; a dict-typed value is itself given
                as {key: [allowed...]} and a list of dicts as a list of such maps
  tools         the offered function definitions, BFCL spelling ("dict", "float", "tuple", "any")
                or standard JSON Schema ("object", "number")

Where the answer key and the schema disagree, the key wins (BFCL's own data has such entries):
a parameter the schema requires may be left out when the key allows "" or does not list it, and a
value the key lists explicitly passes even if it breaks the schema type (None for a float, true
for a string) or the schema lacks the parameter. A type error is reported only for a value the
key does not list. An empty allowed list ([], seen in the live categories) means nothing to fill
in: the parameter may be left out or given an empty value.

A check passes when there are as many calls as ground-truth entries and the calls can be paired
one-to-one with entries (any order; a maximum bipartite matching, so an early greedy pick cannot
block a later one) such that each pair passes check_call(). Irrelevance passes iff no call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from callforge.core import reasons

# Stable reason codes.
REASONS = reasons.VERDICT    # the codes, with what each means: callforge/core/reasons.py

_PY_TYPES = {
    "string": (str,), "integer": (int,), "float": (int, float), "number": (int, float),
    "boolean": (bool,), "array": (list, tuple), "tuple": (list, tuple), "dict": (dict,), "object": (dict,),
    "null": (type(None),),
}
_STRIP = re.compile(r"[ ,./\-_*^]")


@dataclass(frozen=True)
class Result:
    ok: bool
    reason: str           # one of REASONS
    detail: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "reason": self.reason, "detail": self.detail}


OK = Result(True, "ok")


def _fail(reason: str, detail: str) -> Result:
    return Result(False, reason, detail)


def normalise_string(s: str) -> str:
    """BFCL's string comparison form: drop spaces and , . / - _ * ^, lower-case, one quote style."""
    return _STRIP.sub("", s).lower().replace("'", '"')


# -- types ---------------------------------------------------------------------------------------------

def type_ok(spec: dict, value: Any) -> bool:
    """Does `value` fit the (BFCL or JSON Schema) type of `spec`? Nested item and property types count."""
    if not isinstance(spec, dict):
        return True
    t = spec.get("type")
    if isinstance(t, list):   # JSON Schema type unions
        return any(type_ok({**spec, "type": x}, value) for x in t)
    if t not in _PY_TYPES:    # "any", absent, or unknown: no constraint
        return True
    if isinstance(value, bool) and t != "boolean":
        return False          # bool is an int in Python, never in a call
    if not isinstance(value, _PY_TYPES[t]):
        return False
    if t in ("array", "tuple") and isinstance(spec.get("items"), dict):
        return all(type_ok(spec["items"], v) for v in value)
    if t in ("dict", "object") and isinstance(spec.get("properties"), dict):
        props = spec["properties"]
        return all(type_ok(props[k], v) for k, v in value.items() if k in props)
    return True


# -- values --------------------------------------------------------------------------------------------

def value_matches(value: Any, allowed: Any) -> bool:
    """One value against one allowed value (recursively, strings normalised, lists in order)."""
    if isinstance(allowed, dict):
        # Answer form of a dict: {key: [allowed...]}; a key may be left out iff "" is allowed.
        if not isinstance(value, dict) or any(k not in allowed for k in value):
            return False
        for k, opts in allowed.items():
            opts = opts if isinstance(opts, list) else [opts]
            if k not in value:
                if not may_omit(opts):
                    return False
            elif not any_matches(value[k], opts):
                return False
        return True
    if isinstance(allowed, list):
        return (isinstance(value, (list, tuple)) and len(value) == len(allowed)
                and all(value_matches(v, a) for v, a in zip(value, allowed)))
    if isinstance(allowed, str):
        return isinstance(value, str) and normalise_string(value) == normalise_string(allowed)
    if isinstance(allowed, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(allowed, bool) and value == allowed
    if isinstance(allowed, (int, float)):
        return isinstance(value, (int, float)) and value == allowed
    return value == allowed   # None


def may_omit(options: list | None) -> bool:
    return options is not None and ("" in options or options == [])


def any_matches(value: Any, options: list) -> bool:
    if options == []:   # BFCL writes [] for "nothing to fill in": an empty value or none at all
        return value in ("", [], {}, None)
    return any(value_matches(value, a) for a in options)


# -- one call ------------------------------------------------------------------------------------------

def check_call(call: dict, expected_name: str, expected_params: dict, tool: dict | None) -> Result:
    """One call against one ground-truth entry {param: [allowed...]} and its tool definition."""
    name = call.get("name")
    if name != expected_name:
        return _fail("wrong_name", f"{name!r} instead of {expected_name!r}")
    if tool is None:
        return _fail("unknown_function", f"{name!r} is not offered")
    args = call.get("arguments") or {}
    params = tool.get("parameters") or {}
    props = params.get("properties") or {}
    for r in params.get("required") or []:
        if r not in args and r in expected_params and not may_omit(expected_params[r]):
            return _fail("missing_required", f"{name}: {r}")
    for k, v in args.items():
        if k not in expected_params:
            return _fail("unexpected_argument" if k in props else "unknown_argument", f"{name}: {k}")
        if not any_matches(v, expected_params[k]):
            if k not in props:
                return _fail("unknown_argument", f"{name}: {k}")
            if not type_ok(props[k], v):
                return _fail("wrong_type", f"{name}: {k}={v!r} is not {props[k].get('type')}")
            return _fail("value_not_allowed", f"{name}: {k}={v!r}")
    for k, opts in expected_params.items():
        if k not in args and not may_omit(opts):
            return _fail("missing_argument", f"{name}: {k}")
    return OK


# -- a whole answer ------------------------------------------------------------------------------------

def _entries(ground_truth: list[dict]) -> list[tuple[str, dict]]:
    out = []
    for g in ground_truth:
        (name, params), = g.items()
        out.append((name, params))
    return out


def _max_matching(ok: list[list[bool]]) -> tuple[int, list[int]]:
    """Kuhn's augmenting paths: size of a maximum matching of rows (calls) to columns (entries)
    and, for each column, the row paired with it (-1 if none)."""
    n_cols = len(ok[0]) if ok else 0
    owner = [-1] * n_cols

    def augment(r: int, seen: list[bool]) -> bool:
        for c in range(n_cols):
            if ok[r][c] and not seen[c]:
                seen[c] = True
                if owner[c] < 0 or augment(owner[c], seen):
                    owner[c] = r
                    return True
        return False

    size = sum(augment(r, [False] * n_cols) for r in range(len(ok)))
    return size, owner


def check(calls: list[dict], ground_truth: list[dict] | None, tools: list[dict]) -> Result:
    """Score one answer. `ground_truth` None or [] means irrelevance: pass iff no call."""
    if not ground_truth:
        return OK if not calls else _fail("unexpected_call", f"{len(calls)} call(s)")
    if not calls:
        return _fail("no_call", f"expected {len(ground_truth)} call(s)")
    entries = _entries(ground_truth)
    if len(calls) != len(entries):
        return _fail("wrong_count", f"{len(calls)} call(s), expected {len(entries)}")
    by_name = {t.get("name"): t for t in tools}
    if len(entries) == 1:
        name, params = entries[0]
        return check_call(calls[0], name, params, by_name.get(name))
    results = [[check_call(c, name, params, by_name.get(name)) for name, params in entries] for c in calls]
    size, owner = _max_matching([[r.ok for r in row] for row in results])
    if size == len(entries):
        return OK
    # Explain with the first unpaired entry and a call that shares its name, if any.
    c = owner.index(-1)
    name = entries[c][0]
    why = next((row[c] for row, call in zip(results, calls) if call.get("name") == name), results[0][c])
    return _fail("no_match", f"entry {c} ({name}) unpaired; {why.reason}: {why.detail}")
