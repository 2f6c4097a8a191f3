"""Compile a normalised JSON Schema into closures: a fast `valid(v) -> bool` and an `explain` that
lists every failure with a reason code. Both come from the same predicates, so they agree.

Semantics (JSON values as Python objects): an int is a valid "number"; a bool is never an
integer or number; a float is not an "integer" (3.0 included: Python call syntax is typed);
"array" accepts list or tuple. Constraint keywords apply only to values of their own type, as in
JSON Schema. Keywords this compiler does not implement natively (patternProperties, if/then/else,
contains, dependentRequired, ...) are delegated to jsonschema-rs for that node (exec.schema).
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, NamedTuple

import jsonschema_rs

from .formats import FORMATS
from .tools import ToolError
from callforge.core import reasons

Pred = Callable[[Any], bool]

EXEC_CODES = reasons.EXEC    # the codes, with what each means: callforge/core/reasons.py

# Keywords jsonschema-rs checks for us (whole node); any other unknown keyword is an annotation.
_DELEGATED = {"patternProperties", "dependentRequired", "dependentSchemas", "dependencies", "if", "then",
              "else", "contains", "minContains", "maxContains", "propertyNames", "unevaluatedItems",
              "unevaluatedProperties", "additionalItems"}


class Problem(NamedTuple):
    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.where}: {self.message}"


def _true(v: Any) -> bool:
    return True


def _is_num(v: Any) -> bool:
    t = type(v)
    return t is int or t is float


def _is_arr(v: Any) -> bool:
    t = type(v)
    return t is list or t is tuple


TYPE_PRED: dict[str, Pred] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": _is_num,
    "boolean": lambda v: type(v) is bool,
    "array": _is_arr,
    "object": lambda v: type(v) is dict,
    "null": lambda v: v is None,
}


def json_type(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            tuple: "array", dict: "object"}.get(type(v), type(v).__name__)


def _and(preds: list[Pred]) -> Pred:
    preds = [p for p in preds if p is not _true]
    if not preds:
        return _true
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda v: a(v) and b(v)
    if len(preds) == 3:
        a, b, c = preds
        return lambda v: a(v) and b(v) and c(v)
    return lambda v: all(p(v) for p in preds)


class Node:
    """One compiled schema node. tests: [(code, pred, message)]; the rest is structure."""
    __slots__ = ("valid", "tests", "props", "required", "extra", "items", "prefix", "all_of")

    def __init__(self):
        self.tests: list[tuple[str, Pred, Callable[[Any], str]]] = []
        self.props: dict[str, Node] | None = None
        self.required: tuple[str, ...] = ()
        self.extra: Node | bool | None = None  # None: allowed, False: forbidden, Node: must match
        self.items: Node | None = None
        self.prefix: list[Node] = []
        self.all_of: list[Node] = []
        self.valid: Pred = _true


def compile_schema(s: Any, root: bool = False, shallow: bool = False) -> Node:
    """Compile a normalised schema. root=True: the tool's parameters (unknown keys forbidden
    unless additionalProperties says otherwise). shallow=True: BFCL semantics, where an object
    below the top level is only checked to be an object (BFCL's answers keep lists of allowed
    values inside nested dicts, and its own checker does not type their members).
    Raises ToolError for an unusable schema."""
    n = Node()
    if s is True:
        return n
    if s is False:
        n.tests.append(("exec.schema", lambda v: False, lambda v: "no value is allowed here"))
        n.valid = n.tests[0][1]
        return n
    if not isinstance(s, dict):
        raise ToolError("tool.bad_schema", f"a schema must be an object, got {type(s).__name__}")
    preds: list[Pred] = []  # everything valid() must satisfy: tests and structure

    def test(code: str, pred: Pred | None, msg: Callable[[Any], str] = str) -> None:
        """Register a predicate; code "" marks structure that explain() walks itself."""
        if code:
            n.tests.append((code, pred, msg))
        preds.append(pred)

    types = s.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        if s.get("nullable") is True and "null" not in names:
            names = [*names, "null"]
        try:
            tp = [TYPE_PRED[t] for t in names]
        except (KeyError, TypeError):
            raise ToolError("tool.bad_schema", f"unknown type {types!r}") from None
        pred = tp[0] if len(tp) == 1 else (lambda v, tp=tuple(tp): any(p(v) for p in tp))
        want = "/".join(names)
        test("exec.wrong_type", pred, lambda v: f"expected {want}, got {json_type(v)}")

    if "enum" in s or "const" in s:
        values = s["enum"] if "enum" in s else [s["const"]]
        if not isinstance(values, list):
            raise ToolError("tool.bad_schema", "enum must be an array")
        test("exec.enum", _enum_pred(values), lambda v: f"{_short(v)} not in {_short(values)}")

    _numeric(s, test)
    _string(s, test)
    _array(s, n, test, shallow)
    _object(s, n, test, root, shallow)

    if "anyOf" in s:
        any_of = [compile_schema(x, shallow=shallow) for x in s["anyOf"]]
        test("exec.schema", lambda v: any(x.valid(v) for x in any_of), lambda v: "matches no anyOf branch")
    if "oneOf" in s:
        one_of = [compile_schema(x, shallow=shallow) for x in s["oneOf"]]
        test("exec.schema", lambda v: sum(1 for x in one_of if x.valid(v)) == 1,
             lambda v: "does not match exactly one oneOf branch")
    if "allOf" in s:
        n.all_of = [compile_schema(x, shallow=shallow) for x in s["allOf"]]
        preds.extend(x.valid for x in n.all_of)
    if "not" in s:
        neg = compile_schema(s["not"], shallow=shallow)
        test("exec.schema", lambda v: not neg.valid(v), lambda v: "matches a schema under not")

    exotic = _DELEGATED.intersection(s)
    if exotic:  # rare keywords: jsonschema-rs checks this whole node
        try:
            rs = jsonschema_rs.validator_for(s)
        except Exception as e:
            raise ToolError("tool.bad_schema", str(e)) from None
        keys = ",".join(sorted(exotic))
        test("exec.schema", rs.is_valid, lambda v: f"fails {keys}")

    n.valid = _and(preds)
    return n


def _enum_key(v: Any) -> Any:
    t = type(v)
    if t is bool:
        return ("b", v)
    if t is int or t is float:
        return ("n", v)  # 1 and 1.0 are the same JSON number
    if t is str:
        return ("s", v)
    if v is None:
        return ("z",)
    try:
        return ("j", json.dumps(v, sort_keys=True))
    except (TypeError, ValueError):
        return ("?", id(v))


def _enum_pred(values: list) -> Pred:
    if all(type(e) is str for e in values):
        strs = frozenset(values)
        return lambda v: type(v) is str and v in strs
    keys = frozenset(_enum_key(e) for e in values)
    return lambda v: _enum_key(v) in keys


def _num(s: dict, key: str) -> float | None:
    x = s.get(key)
    if x is None or isinstance(x, bool):
        return None
    if not isinstance(x, (int, float)):
        raise ToolError("tool.bad_schema", f"{key} must be a number")
    return x


def _numeric(s: dict, test) -> None:
    lo, hi = _num(s, "minimum"), _num(s, "maximum")
    xlo, xhi = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
    if xlo is True:  # draft-4 boolean form
        lo, xlo = None, lo
    if xhi is True:
        hi, xhi = None, hi
    xlo = None if isinstance(xlo, bool) else _num({"x": xlo}, "x")
    xhi = None if isinstance(xhi, bool) else _num({"x": xhi}, "x")
    if lo is not None:
        test("exec.range", lambda v: not _is_num(v) or v >= lo, lambda v: f"{v} < minimum {lo}")
    if hi is not None:
        test("exec.range", lambda v: not _is_num(v) or v <= hi, lambda v: f"{v} > maximum {hi}")
    if xlo is not None:
        test("exec.range", lambda v: not _is_num(v) or v > xlo, lambda v: f"{v} <= exclusiveMinimum {xlo}")
    if xhi is not None:
        test("exec.range", lambda v: not _is_num(v) or v < xhi, lambda v: f"{v} >= exclusiveMaximum {xhi}")
    m = _num(s, "multipleOf")
    if m is not None:
        if m <= 0:
            raise ToolError("tool.bad_schema", "multipleOf must be > 0")
        test("exec.range", lambda v: not _is_num(v) or _multiple(v, m), lambda v: f"{v} not a multiple of {m}")


def _multiple(v: float, m: float) -> bool:
    if type(v) is int and type(m) is int:
        return v % m == 0
    q = v / m
    return math.isfinite(q) and abs(q - round(q)) <= 1e-9 * max(1.0, abs(q))


def _string(s: dict, test) -> None:
    if "pattern" in s:
        rx = _regex(s["pattern"])
        test("exec.pattern", lambda v: type(v) is not str or rx(v), lambda v: f"{_short(v)} !~ /{s['pattern']}/")
    fmt = s.get("format")
    if isinstance(fmt, str) and fmt in FORMATS:
        f = FORMATS[fmt]
        test("exec.format", lambda v: type(v) is not str or f(v), lambda v: f"{_short(v)} is not a {fmt}")
    lo, hi = _count(s, "minLength"), _count(s, "maxLength")
    if lo is not None:
        test("exec.length", lambda v: type(v) is not str or len(v) >= lo, lambda v: f"length {len(v)} < {lo}")
    if hi is not None:
        test("exec.length", lambda v: type(v) is not str or len(v) <= hi, lambda v: f"length {len(v)} > {hi}")


def _regex(p: Any) -> Pred:
    if not isinstance(p, str):
        raise ToolError("tool.bad_schema", "pattern must be a string")
    try:  # ECMA-262 \d and \w are ASCII; named groups are spelt (?<n>) there
        rx = re.compile(re.sub(r"\(\?<([A-Za-z_]\w*)>", r"(?P<\1>", p), re.ASCII)
        return lambda v: rx.search(v) is not None
    except re.error:
        pass
    try:  # \p{L} and friends: let the Rust regex engine do it
        rs = jsonschema_rs.validator_for({"pattern": p})
    except Exception as e:
        raise ToolError("tool.bad_schema", f"bad pattern {p!r}: {e}") from None
    return rs.is_valid


def _count(s: dict, key: str) -> int | None:
    x = s.get(key)
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, (int, float)) or x < 0:
        raise ToolError("tool.bad_schema", f"{key} must be a non-negative integer")
    return x


def _array(s: dict, n: Node, test, shallow: bool) -> None:
    lo, hi = _count(s, "minItems"), _count(s, "maxItems")
    if lo is not None:
        test("exec.items", lambda v: not _is_arr(v) or len(v) >= lo, lambda v: f"{len(v)} items < minItems {lo}")
    if hi is not None:
        test("exec.items", lambda v: not _is_arr(v) or len(v) <= hi, lambda v: f"{len(v)} items > maxItems {hi}")
    if s.get("uniqueItems") is True:
        test("exec.items", lambda v: not _is_arr(v) or len({_enum_key(x) for x in v}) == len(v),
             lambda v: "duplicate items")
    if "prefixItems" in s:
        n.prefix = [compile_schema(x, shallow=shallow) for x in s["prefixItems"]]
    if "items" in s:
        n.items = compile_schema(s["items"], shallow=shallow)
    if n.items is None and not n.prefix:
        return
    iv = n.items.valid if n.items is not None else _true
    if not n.prefix:
        test_struct = lambda v: not _is_arr(v) or all(map(iv, v))
    else:
        pv = [x.valid for x in n.prefix]
        k = len(pv)
        test_struct = lambda v: not _is_arr(v) or (all(p(x) for p, x in zip(pv, v)) and all(map(iv, v[k:])))
    test("", test_struct)


def _object(s: dict, n: Node, test, root: bool, shallow: bool) -> None:
    lo, hi = _count(s, "minProperties"), _count(s, "maxProperties")
    if lo is not None:
        test("exec.properties", lambda v: type(v) is not dict or len(v) >= lo, lambda v: f"{len(v)} properties < {lo}")
    if hi is not None:
        test("exec.properties", lambda v: type(v) is not dict or len(v) <= hi, lambda v: f"{len(v)} properties > {hi}")
    if shallow and not root:
        return
    props = s.get("properties")
    req = s.get("required")
    extra = s.get("additionalProperties")
    if props is None and req is None and extra is None and not root:
        return
    if props is not None and not isinstance(props, dict):
        raise ToolError("tool.bad_schema", "properties must be an object")
    if req is not None and (not isinstance(req, list) or not all(isinstance(r, str) for r in req)):
        raise ToolError("tool.bad_schema", "required must be a list of names")
    n.props = {k: compile_schema(v, shallow=shallow) for k, v in (props or {}).items()}
    n.required = tuple(dict.fromkeys(req or ()))
    if "patternProperties" in s or "unevaluatedProperties" in s:
        n.extra = None  # interplay with additionalProperties: jsonschema-rs judges this node
    elif extra is None:
        n.extra = False if root else None  # top-level arguments must be declared; nested: open
    elif extra is False:
        n.extra = False
    elif extra is True or extra == {}:
        n.extra = None
    else:
        n.extra = compile_schema(extra, shallow=shallow)
    test("", _object_pred(n))


def _object_pred(n: Node) -> Pred:
    get = {k: c.valid for k, c in n.props.items()}.get
    allowed = frozenset(n.props)
    req = frozenset(n.required)
    extra = n.extra
    if extra is False:
        def ok(v):
            if type(v) is not dict:
                return True
            keys = v.keys()
            if not (keys >= req and keys <= allowed):
                return False
            for k, x in v.items():
                if not get(k)(x):
                    return False
            return True
        return ok
    ev = _true if extra is None else extra.valid

    def ok_open(v):
        if type(v) is not dict:
            return True
        if not v.keys() >= req:
            return False
        for k, x in v.items():
            p = get(k)
            if not (p(x) if p is not None else ev(x)):
                return False
        return True
    return ok_open


def _short(v: Any, limit: int = 60) -> str:
    try:
        t = json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        t = repr(v)
    return t if len(t) <= limit else t[: limit - 3] + "..."


def explain(n: Node, v: Any, where: str, out: list[Problem]) -> None:
    """Append every failure of v against n (call only when n.valid(v) is False, or to double-check)."""
    for code, pred, msg in n.tests:
        if not pred(v):
            out.append(Problem(code, where, msg(v)))
    for sub in n.all_of:
        if not sub.valid(v):
            explain(sub, v, where, out)
    if n.props is not None and type(v) is dict:
        for r in n.required:
            if r not in v:
                out.append(Problem("exec.missing_required", f"{where}.{r}", "required argument missing"))
        for k, x in v.items():
            c = n.props.get(k)
            if c is not None:
                if not c.valid(x):
                    explain(c, x, f"{where}.{k}", out)
            elif n.extra is False:
                out.append(Problem("exec.unknown_argument", f"{where}.{k}", "not a declared parameter"))
            elif n.extra is not None and not n.extra.valid(x):
                explain(n.extra, x, f"{where}.{k}", out)
    if (n.items is not None or n.prefix) and _is_arr(v):
        for i, x in enumerate(v):
            c = n.prefix[i] if i < len(n.prefix) else n.items
            if c is not None and not c.valid(x):
                explain(c, x, f"{where}[{i}]", out)
