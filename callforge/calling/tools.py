"""Tool (API) definitions: import from OpenAI or BFCL/ToolACE style into the one internal form.

Internal form (callforge/schemas/tool.json):
    {"name", "description", "parameters": {"type": "object", "properties", "required"},
     "returns": <JSON Schema>, optional "domain", "path", "source"}
Parameter schemas use standard JSON Schema types only. BFCL's "dict" -> "object", "float" ->
"number", "tuple" -> "array", "any" -> no type. A type name we do not know (Java's "String",
"HashMap", ...) places no constraint; it is kept under "x-type" so export can restore it.

Tools whose parameters are a BFCL "dict" get "source": "import:bfcl" (unless a source is given);
the executability checker then applies BFCL's semantics to dicts below the top level.

Normalisation walks schema *keywords* only: the keys of a "properties" map are parameter names
and are never rewritten, so a parameter may itself be called "type" or "properties".
Bad input raises ToolError with a stable reason code (the CODES below).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import jsonschema_rs
import orjson

from callforge.core import reasons
from callforge.core.errors import CallforgeError

CODES = reasons.TOOL    # the codes, with what each means: callforge/core/reasons.py

BFCL_SOURCE = "import:bfcl"
MAX_PARAMS = 128
MAX_DEPTH = 32

# BFCL/ToolACE spellings -> JSON Schema. Exact spellings only: "Boolean" in BFCL's JavaScript set
# holds code strings, so widening aliases would reject calls the source data calls correct.
TYPE_MAP = {
    "string": "string", "integer": "integer", "number": "number", "boolean": "boolean",
    "array": "array", "object": "object", "null": "null",
    "dict": "object", "float": "number", "tuple": "array",
}
REVERSE_TYPE = {"object": "dict", "number": "float"}

_SCHEMA_MAPS = ("properties", "patternProperties", "dependentSchemas")
_SCHEMA_ONE = ("items", "additionalProperties", "additionalItems", "not", "contains",
               "propertyNames", "if", "then", "else", "unevaluatedItems", "unevaluatedProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_TRUTHY = {True, "true", "True", "yes", "1", 1}


class ToolError(CallforgeError):
    """A tool definition that cannot be used; .code is one of CODES."""


def normalise_tool(raw: Any, source: str | None = None) -> dict:
    """Return the internal form of one tool given in OpenAI or BFCL/ToolACE style."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ToolError("tool.bad_encoding", str(e)) from None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as e:
            raise ToolError("tool.bad_json", str(e)) from None
    if not isinstance(raw, dict):
        raise ToolError("tool.not_object", f"got {type(raw).__name__}")
    # OpenAI chat style wraps the definition: {"type": "function", "function": {...}}.
    if isinstance(raw.get("function"), dict) and ("name" not in raw or raw.get("type") == "function"):
        raw = raw["function"]
    _check_text(raw)

    name = raw.get("name")
    if name is None or (isinstance(name, str) and not name.strip()):
        raise ToolError("tool.missing_name", "a tool needs a non-empty name")
    if not isinstance(name, str):
        raise ToolError("tool.bad_name", f"name is {type(name).__name__}")
    desc = raw.get("description", "")
    if desc is None:
        desc = ""
    if not isinstance(desc, str):
        raise ToolError("tool.bad_description", f"description is {type(desc).__name__}")

    params = raw.get("parameters")
    if params is None:
        params = raw.get("input_schema", raw.get("arguments"))  # Anthropic / some ToolACE dumps
    bfcl = isinstance(params, dict) and params.get("type") == "dict"
    params = normalise_parameters(params)

    out = {"name": name, "description": desc, "parameters": params,
           "returns": _returns(raw)}
    for key, kind in (("domain", str), ("path", list), ("source", str)):
        if isinstance(raw.get(key), kind):
            out[key] = raw[key]
    if source is not None:
        out["source"] = source
    elif bfcl and "source" not in out:
        out["source"] = BFCL_SOURCE  # the checker applies BFCL's semantics to nested dicts
    return out


def normalise_parameters(params: Any) -> dict:
    """The parameters object of a tool, as a normalised object schema with properties/required."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ToolError("tool.bad_schema", f"parameters is {type(params).__name__}, not an object")
    s = _schema(params, params, 0, ())
    if not isinstance(s, dict) or s.get("type", "object") != "object":
        raise ToolError("tool.bad_schema", f"parameters must be an object schema, got type {s.get('type')!r}")
    s["type"] = "object"
    s.setdefault("properties", {})
    s.setdefault("required", [])
    if len(s["properties"]) > MAX_PARAMS:
        raise ToolError("tool.too_many_params", f"{len(s['properties'])} > {MAX_PARAMS}")
    _check_valid(s)
    return s


def _returns(raw: dict) -> dict:
    for key in ("returns", "response", "results", "output_schema"):
        r = raw.get(key)
        if r is None:
            continue
        if not isinstance(r, dict):
            raise ToolError("tool.bad_schema", f"{key} is {type(r).__name__}, not an object")
        # ToolACE writes results either as a schema or as a bare {field: schema} map.
        if r and not _looks_like_schema(r) and all(isinstance(v, dict) for v in r.values()):
            r = {"type": "object", "properties": r}
        s = _schema(r, r, 0, ())
        _check_valid(s)
        return s
    return {}


def _looks_like_schema(r: dict) -> bool:
    return (isinstance(r.get("type"), (str, list)) or isinstance(r.get("properties"), dict)
            or isinstance(r.get("$ref"), str) or any(isinstance(r.get(k), list) for k in _SCHEMA_LISTS))


def _schema(s: Any, root: dict, depth: int, refs: tuple) -> Any:
    """Normalise one schema node; only keyword positions are interpreted."""
    if depth > MAX_DEPTH:
        raise ToolError("tool.too_deep", f"nesting deeper than {MAX_DEPTH}")
    if isinstance(s, bool):
        return s  # true/false are schemas in their own right (additionalProperties: false)
    if not isinstance(s, dict):
        raise ToolError("tool.bad_schema", f"a schema must be an object, got {type(s).__name__}")
    if "$ref" in s:
        return _resolve(s, root, depth, refs)
    out: dict = {}
    for key, val in s.items():
        if key == "type":
            _put_type(out, val)
        elif key in _SCHEMA_MAPS:
            if not isinstance(val, dict):
                raise ToolError("tool.bad_schema", f"{key} must be an object")
            out[key] = {k: _schema(v, root, depth + 1, refs) for k, v in val.items()}
        elif key in _SCHEMA_ONE:
            if key == "items" and isinstance(val, list):  # draft-4 tuple form
                out["prefixItems"] = [_schema(v, root, depth + 1, refs) for v in val]
            else:
                out[key] = _schema(val, root, depth + 1, refs)
        elif key in _SCHEMA_LISTS:
            if not isinstance(val, list):
                raise ToolError("tool.bad_schema", f"{key} must be an array")
            out[key] = [_schema(v, root, depth + 1, refs) for v in val]
        elif key in ("$defs", "definitions", "optional"):
            continue  # refs are inlined; BFCL's "optional" is folded into required below
        elif key == "required" and isinstance(val, bool):
            continue  # draft-3 style, hoisted by the parent
        else:
            out[key] = val
    for excl, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(excl), bool):  # draft-4 boolean form -> the number form
            if out.pop(excl) and bound in out:
                out[excl] = out.pop(bound)
    if "properties" in out:
        _fold_required(s, out)
    return out


def _put_type(out: dict, val: Any) -> None:
    names = val if isinstance(val, list) else [val]
    if not all(isinstance(n, str) for n in names):
        raise ToolError("tool.bad_schema", f"type must be a string or list of strings, got {val!r}")
    mapped = []
    for n in names:
        if n == "any":
            return  # any member "any" lifts the constraint
        t = TYPE_MAP.get(n)
        if t is None:
            out["x-type"] = val  # unknown spelling: no constraint, kept for export
            return
        if t not in mapped:
            mapped.append(t)
    if mapped:
        out["type"] = mapped if isinstance(val, list) else mapped[0]


def _fold_required(src: dict, out: dict) -> None:
    """Merge the three ways sources mark requiredness into one "required" list."""
    req = src.get("required", [])
    if isinstance(req, bool):
        req = []
    if not isinstance(req, list) or not all(isinstance(r, str) for r in req):
        raise ToolError("tool.bad_schema", "required must be a list of parameter names")
    req = list(dict.fromkeys(req))
    props_src = src.get("properties", {})
    for k, p in props_src.items():
        if isinstance(p, dict):
            if p.get("required") is True and k not in req:
                req.append(k)
            opt_flag = p.get("optional")
            if isinstance(opt_flag, (bool, int, str)) and opt_flag in _TRUTHY and k in req:
                req.remove(k)
    opt = src.get("optional")
    if isinstance(opt, list):
        req = [r for r in req if r not in opt]
    if req or "required" in src:
        out["required"] = req


def _resolve(s: dict, root: dict, depth: int, refs: tuple) -> Any:
    ref = s["$ref"]
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise ToolError("tool.bad_ref", f"only local $ref is supported, got {ref!r}")
    if ref in refs:
        raise ToolError("tool.recursive_ref", f"{ref} refers back to itself")
    node: Any = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise ToolError("tool.bad_ref", f"{ref} does not resolve")
        node = node[part]
    target = _schema(node, root, depth + 1, refs + (ref,))
    siblings = {k: v for k, v in s.items() if k != "$ref"}
    if not siblings:
        return target
    return {"allOf": [target, _schema(siblings, root, depth + 1, refs)]}


def _check_text(obj: Any) -> None:
    """Reject lone surrogates (what a JSON "\\ud800" escape yields): not encodable as UTF-8."""
    try:
        orjson.dumps(obj)   # one C pass refuses them too; ~20x faster than the walk below on a clean tool
        return
    except (orjson.JSONEncodeError, TypeError):
        pass                # a surrogate, or something orjson cannot write (a huge int, deep nesting): walk
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError as e:
                raise ToolError("tool.bad_encoding", str(e)) from None
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)


def _check_valid(s: dict) -> None:
    try:
        jsonschema_rs.meta.validate(s)
    except jsonschema_rs.ValidationError as e:
        raise ToolError("tool.bad_schema", e.message) from None
    except Exception as e:  # pragma: no cover - the meta validator rejects, never crashes, today
        raise ToolError("tool.bad_schema", str(e)) from None


def fingerprint(tool: Any) -> str:
    """Content hash of a (raw or normalised) tool, independent of key order."""
    blob = json.dumps(tool, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def to_bfcl(tool: dict) -> dict:
    """Export a normalised tool in BFCL style (dict/float types); inverse of normalise_tool."""
    return {"name": tool["name"], "description": tool.get("description", ""),
            "parameters": _bfcl_schema(tool["parameters"])}


def _bfcl_schema(s: Any) -> Any:
    if not isinstance(s, dict):
        return s
    out = {}
    for key, val in s.items():
        if key == "type":
            out["type"] = [REVERSE_TYPE.get(t, t) for t in val] if isinstance(val, list) else REVERSE_TYPE.get(val, val)
        elif key == "x-type":
            out["type"] = val
        elif key in _SCHEMA_MAPS:
            out[key] = {k: _bfcl_schema(v) for k, v in val.items()}
        elif key in _SCHEMA_ONE:
            out[key] = _bfcl_schema(val)
        elif key in _SCHEMA_LISTS:
            out[key] = [_bfcl_schema(v) for v in val]
        else:
            out[key] = val
    if not ({"type", "x-type", "properties", "anyOf", "oneOf", "allOf", "not", "$ref", "enum", "const"} & s.keys()):
        out["type"] = "any"
    return out


def openai_tool(tool: dict) -> dict:
    """Chat-completions tool entry. OpenAI restricts names to [a-zA-Z0-9_-]; callers rename if needed."""
    return {"type": "function", "function": {"name": tool["name"], "description": tool.get("description", ""),
                                             "parameters": tool["parameters"]}}
