"""Getting JSON out of model text: strip fences and chatter, parse, check the expected shape.

Returns (data, reason) — never raises on bad model output; the reason is a stable code.
"""
from __future__ import annotations

import json

import jsonschema_rs

_validators: dict[str, object] = {}


MAX_STARTS = 256   # candidate '{'/'[' positions tried after chatter: bounds the work on bracket soup


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")   # Python's json accepts NaN/Infinity; JSON does not


_decoder = json.JSONDecoder(parse_constant=_no_constant)


def _loads(s: str, start: int = 0):
    try:
        return _decoder.raw_decode(s, start)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def extract_json(text: str | None):
    """The first complete JSON value in `text` (objects or arrays), or raise ValueError."""
    if text is None:
        raise ValueError("empty answer")
    s = text.strip()
    if s.startswith("```"):
        s = s.split("\n", 1)[1] if "\n" in s else ""
        s = s.rsplit("```", 1)[0].strip()
    try:
        data, end = _loads(s)
        if s[end:].strip():
            raise ValueError("extra data")
        return _checked(data)
    except ValueError:
        pass
    tried = 0
    for i, ch in enumerate(s):
        if ch in "{[":
            try:
                return _checked(_loads(s, i)[0])
            except ValueError:
                tried += 1
                if tried >= MAX_STARTS:
                    break
    raise ValueError("no JSON value found")


def _checked(data):
    """Lone surrogates ("\\ud800") and overflowing numbers parse but cannot be written back: reject them."""
    try:
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")   # 1e400 parses as inf
    except (UnicodeEncodeError, RecursionError, ValueError) as e:
        raise ValueError(f"unusable text: {type(e).__name__}") from None
    return data


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
            return None, "llm.schema_invalid", f"{where}: {err.message}"[:300]
    return data, None, ""
