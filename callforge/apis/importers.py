"""Seeding the pool from existing tool definitions: OpenAI tools JSON, BFCL function docs, OpenAPI 3.

Each reader yields (origin, raw tool) pairs; `import_file` normalises every raw tool with
callforge.calling.tools.normalise_tool and checks it against the API-definition rules, so an import ends
as (accepted [(origin, api, declared params)], rejected records with reason codes). Nothing is
dropped silently: an unreadable file raises ImportError_ with a reason code.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from callforge.apis.rules import Rules, Violation, check_api, codes
from callforge.calling.tools import ToolError, normalise_tool
from callforge.core.errors import CallforgeError

FORMATS = ("openai", "bfcl", "openapi")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class ImportError_(CallforgeError):
    """A file that cannot be imported at all (import.missing_file, import.bad_shape, ...)."""


# -- readers ---------------------------------------------------------------------------------------
def _load_json_or_lines(path: Path):
    """One JSON document, or JSON lines. In JSON lines a line that is not UTF-8 or not JSON becomes a
    ToolError in its place (rejected with its reason by import_file); the other lines still import."""
    blob = path.read_bytes()
    try:
        return json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        pass
    rows = []
    for n, line in enumerate(blob.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line.decode("utf-8")))
        except UnicodeDecodeError as e:
            rows.append(ToolError("tool.bad_encoding", f"{path.name}:{n}: {e.reason} at byte {e.start}"))
        except (ValueError, RecursionError) as e:
            rows.append(ToolError("tool.bad_json", f"{path.name}:{n}: {str(e)[:200]}"))
    return rows


def read_openai(path: Path):
    """A list of tools ({"type": "function", "function": {...}} or bare), {"tools": [...]}, or JSON lines."""
    data = _load_json_or_lines(path)
    if isinstance(data, dict):
        data = data.get("tools", data.get("functions", [data]))
    if not isinstance(data, list):
        raise ImportError_("import.bad_shape", f"{path.name}: expected a list of tools")
    for i, t in enumerate(data):
        yield f"{path.name}#{i}", t


def read_bfcl(path: Path):
    """BFCL data files (JSON lines of {"id", "question", "function": [...]}) or bare function docs."""
    data = _load_json_or_lines(path)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ImportError_("import.bad_shape", f"{path.name}: expected JSON lines or a list")
    for i, entry in enumerate(data):
        if isinstance(entry, dict) and isinstance(entry.get("function"), list):
            for j, fn in enumerate(entry["function"]):
                yield f"{path.name}#{entry.get('id', i)}.{j}", fn
        else:
            yield f"{path.name}#{i}", entry


def read_openapi(path: Path):
    """One tool per operation: path/query/header parameters plus a JSON request body become the
    parameters; the first 2xx (or default) JSON response becomes the return schema."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ImportError_("import.bad_encoding", f"{path.name}: {e.reason} at byte {e.start}") from None
    try:
        spec = yaml.safe_load(text)   # YAML is a superset of JSON
    except yaml.YAMLError as e:
        raise ImportError_("import.bad_yaml", f"{path.name}: {str(e).splitlines()[0]}") from None
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3"):
        raise ImportError_("import.not_openapi3", f"{path.name}: no 'openapi: 3.x' field")
    for route, item in sorted((spec.get("paths") or {}).items()):
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in _HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            origin = f"{path.name}#{method.upper()} {route}"
            try:
                yield origin, _operation_tool(spec, route, method, op, shared)
            except ToolError as e:
                yield origin, e


def _operation_tool(spec: dict, route: str, method: str, op: dict, shared: list) -> dict:
    props: dict = {}
    required: list = []
    merged = {}
    for p in [*shared, *(op.get("parameters") or [])]:
        p = _deref(spec, p, ())
        if isinstance(p, dict) and p.get("in") != "cookie" and p.get("name"):
            merged[(p["name"], p.get("in"))] = p   # operation-level wins over path-level
    for (name, _), p in merged.items():
        schema = dict(_deref(spec, p.get("schema") or {}, ()))
        if p.get("description"):
            schema["description"] = p["description"]
        props[name] = schema
        if p.get("required") or p.get("in") == "path":
            required.append(name)
    body = _deref(spec, op.get("requestBody") or {}, ())
    bschema = _json_schema(spec, body.get("content"))
    if bschema is not None:
        if bschema.get("type") == "object" and isinstance(bschema.get("properties"), dict):
            for k, v in bschema["properties"].items():
                props.setdefault(k, v)
            if body.get("required"):
                required += [r for r in bschema.get("required", []) if r not in required]
        else:
            props["body"] = {**bschema, "description": bschema.get("description") or body.get("description", "")}
            if body.get("required"):
                required.append("body")
    returns = {}
    responses = op.get("responses") or {}
    for code in sorted(responses, key=lambda c: (not str(c).startswith("2"), str(c))):
        if str(code).startswith("2") or code == "default":
            r = _json_schema(spec, _deref(spec, responses[code], ()).get("content"))
            if r is not None:
                returns = r
                break
    name = op.get("operationId") or f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', route).strip('_')}"
    desc = op.get("summary") or op.get("description") or ""
    if op.get("summary") and op.get("description") and op["description"] != op["summary"]:
        desc = f"{op['summary'].rstrip('.')}. {op['description']}"
    return {"name": name, "description": desc, "returns": returns,
            "parameters": {"type": "object", "properties": props, "required": list(dict.fromkeys(required))}}


def _json_schema(spec: dict, content) -> dict | None:
    if not isinstance(content, dict):
        return None
    for mime in sorted(content, key=lambda m: m != "application/json"):
        if "json" in mime and isinstance(content[mime], dict) and "schema" in content[mime]:
            return _deref(spec, content[mime]["schema"], ())
    return None


def _deref(spec: dict, node, seen: tuple):
    """Inline local $refs (#/components/...) throughout a node; a cycle raises tool.recursive_ref."""
    if isinstance(node, list):
        return [_deref(spec, x, seen) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            raise ToolError("tool.recursive_ref", f"{ref} refers back to itself")
        if not ref.startswith("#/"):
            raise ToolError("tool.bad_ref", f"only local $ref is supported, got {ref!r}")
        target = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise ToolError("tool.bad_ref", f"{ref} does not resolve")
            target = target[part]
        out = _deref(spec, target, seen + (ref,))
        extra = {k: _deref(spec, v, seen) for k, v in node.items() if k != "$ref"}
        return {**out, **extra} if isinstance(out, dict) else out
    return {k: _deref(spec, v, seen) for k, v in node.items()}


READERS = {"openai": read_openai, "bfcl": read_bfcl, "openapi": read_openapi}


# -- normalise + rules -----------------------------------------------------------------------------
def import_file(path: str | Path, fmt: str, rules: Rules, domain: str | None = None):
    """→ (accepted [(origin, api, declared_params)], rejected [record]). Raises ImportError_ when the
    file itself cannot be read; a bad tool inside it is rejected with its reason and the rest go on."""
    path = Path(path)
    if fmt not in READERS:
        raise ImportError_("import.unknown_format", f"{fmt!r} (known: {', '.join(FORMATS)})")
    if not path.is_file():
        raise ImportError_("import.missing_file", str(path))
    accepted, rejected = [], []
    for origin, raw in READERS[fmt](path):
        origin = f"import:{fmt}:{origin}"
        if isinstance(raw, ToolError):
            rejected.append(_reject(origin, [Violation(raw.code, raw.message)], None))
            continue
        try:
            api = normalise_tool(raw, source=f"import:{fmt}")
        except ToolError as e:
            rejected.append(_reject(origin, [Violation(e.code, e.message)], raw))
            continue
        if domain and "domain" not in api:
            api["domain"] = domain
        declared = _declared(raw)
        viol = check_api(api, rules, declared)
        if viol:
            rejected.append(_reject(origin, viol, raw))
        else:
            accepted.append((origin, api, declared))
    return accepted, rejected


def _declared(raw):
    if isinstance(raw, dict) and isinstance(raw.get("function"), dict):
        raw = raw["function"]
    return raw.get("parameters") if isinstance(raw, dict) else None


def _reject(origin: str, viol: list[Violation], raw) -> dict:
    return {"origin": origin, "reasons": codes(viol),
            "details": [f"{v.code}: {v.detail}" if v.detail else v.code for v in viol], "api": raw}
