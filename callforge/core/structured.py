"""Structured outputs: how a request asks the server for JSON of an expected shape (`llm.structured_output`).

- json_schema: the request carries the schema, `response_format: {"type": "json_schema", "json_schema":
  {"name", "schema", "strict"}}`. OpenAI, vLLM and SGLang (guided decoding), Ollama and llama.cpp's own
  server then decode to it, so an answer of the wrong shape cannot come back from a server that enforces
  it. `strict` is true only when the schema lies inside OpenAI's strict subset (`strict_violation` finds
  nothing): OpenAI refuses a strict request whose schema is outside it, and with strict false it takes the
  schema as guidance (vLLM and SGLang enforce it either way).
- json_object: JSON mode only, for servers without schema support; the shape is checked afterwards and a
  bad answer repaired by the gateway (which checks and repairs in both modes).
"""
from __future__ import annotations

import json
import re

# keywords OpenAI's strict mode accepts; any other (allOf, if/then, not, minLength, ...) makes a schema non-strict
STRICT_KEYWORDS = frozenset({
    "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf", "description",
    "title", "$ref", "$defs", "definitions", "pattern", "format", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minItems", "maxItems"})
STRICT_MAX_DEPTH = 10            # object nesting OpenAI allows under strict
_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")

_formats: dict[str, dict] = {}   # (tag, schema) as JSON -> response_format: schemas recur, their strictness is fixed
_by_identity: dict[tuple[int, str], tuple[dict, dict]] = {}   # the same for a schema object seen before (no JSON)
_IDENTITY_MAX = 4096             # schemas built per call (tool results) would otherwise pile up here


def strict_violation(schema) -> str | None:
    """Why `schema` cannot be sent with strict true (the first reason found), or None when it can.
    OpenAI's rules: the root is an object; every object lists its properties, requires all of them and sets
    additionalProperties false; every node has a type (or is an enum, const, anyOf or $ref); only
    STRICT_KEYWORDS appear; objects nest at most STRICT_MAX_DEPTH deep."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return "<root>: the root is not an object schema"
    return _violation(schema, "<root>", 1)


def _violation(node, where: str, depth: int) -> str | None:
    if not isinstance(node, dict):
        return f"{where}: not a schema object"
    extra = sorted(set(node) - STRICT_KEYWORDS)
    if extra:
        return f"{where}: keyword {extra[0]!r} is outside the strict subset"
    if not ({"type", "enum", "const", "anyOf", "$ref"} & set(node)):
        return f"{where}: no type (an open schema)"
    types = node.get("type")
    if types == "object" or (isinstance(types, list) and "object" in types):
        if depth > STRICT_MAX_DEPTH:
            return f"{where}: objects nested deeper than {STRICT_MAX_DEPTH}"
        props = node.get("properties")
        if not isinstance(props, dict):
            return f"{where}: an object without properties"
        if node.get("additionalProperties") is not False:
            return f"{where}: additionalProperties is not false"
        if set(node.get("required") or ()) != set(props):
            return f"{where}: not every property is required"
        for name, sub in props.items():
            if (found := _violation(sub, f"{where}/{name}", depth + 1)) is not None:
                return found
    if "items" in node and (found := _violation(node["items"], f"{where}/items", depth)) is not None:
        return found
    for k, sub in enumerate(node.get("anyOf") or ()):
        if (found := _violation(sub, f"{where}/anyOf/{k}", depth)) is not None:
            return found
    for group in ("$defs", "definitions"):
        for name, sub in (node.get(group) or {}).items():
            if (found := _violation(sub, f"{where}/{group}/{name}", depth)) is not None:
                return found
    return None


def schema_name(tag: str) -> str:
    """The name a json_schema request gives its schema: the request's tag, in the characters OpenAI allows."""
    return _NAME_BAD.sub("_", tag)[:64] or "answer"


def response_format(mode: str, schema: dict, tag: str) -> dict:
    """The request's response_format for an answer of shape `schema` (see the module docstring). A schema
    object is taken as fixed once sent: its format is remembered by identity."""
    if mode == "json_object":
        return {"type": "json_object"}
    if mode != "json_schema":
        raise ValueError(f"structured_output: unknown mode {mode!r}")
    seen = _by_identity.get((id(schema), tag))
    if seen is not None and seen[0] is schema:   # the prompts' module-level schemas: most requests
        return seen[1]
    key = json.dumps([tag, schema], sort_keys=True)
    fmt = _formats.get(key)
    if fmt is None:
        fmt = _formats[key] = {"type": "json_schema", "json_schema": {
            "name": schema_name(tag), "schema": schema, "strict": strict_violation(schema) is None}}
    if len(_by_identity) >= _IDENTITY_MAX:
        _by_identity.clear()
    _by_identity[(id(schema), tag)] = (schema, fmt)
    return fmt
