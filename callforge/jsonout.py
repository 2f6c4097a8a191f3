"""Getting JSON out of model text: strip fences and chatter, parse, check the expected shape.

Returns (data, reason) — never raises on bad model output; the reason is a stable code.
"""
from __future__ import annotations

import json

import jsonschema_rs

_validators: dict[str, object] = {}


def extract_json(text: str | None):
    """The first complete JSON value in `text` (objects or arrays), or raise ValueError."""
    if text is None:
        raise ValueError("empty answer")
    s = text.strip()
    if s.startswith("```"):
        s = s.split("\n", 1)[1] if "\n" in s else ""
        s = s.rsplit("```", 1)[0]
    try:
        return json.loads(s)
    except ValueError:
        pass
    dec = json.JSONDecoder()
    for i, ch in enumerate(s):
        if ch in "{[":
            try:
                return dec.raw_decode(s, i)[0]
            except ValueError:
                continue
    raise ValueError("no JSON value found")


def _validator(schema: dict):
    key = json.dumps(schema, sort_keys=True)
    v = _validators.get(key)
    if v is None:
        v = _validators[key] = jsonschema_rs.validator_for(schema)
    return v


def parse_json(text: str | None, schema: dict | None = None) -> tuple[object, str | None, str]:
    """→ (data, reason_code or None, human detail)."""
    try:
        data = extract_json(text)
    except ValueError as e:
        return None, "llm.bad_json", str(e)
    if schema is not None:
        v = _validator(schema)
        if not v.is_valid(data):
            err = next(iter(v.iter_errors(data)))
            where = "/".join(map(str, err.instance_path)) or "<root>"
            return None, "llm.schema_invalid", f"{where}: {err.message}"
    return data, None, ""
