"""Judging a model's greedy answer against the reference calls (for the lower loss bound).

Python call syntax is read by callforge.calling.calls (ast-based, never evaluated); JSON answers by
callforge.core.jsonout. Returns None when the text holds no well-formed call list.
"""
from __future__ import annotations

import json

from callforge.calling.calls import ParseError, parse_calls
from callforge.core.jsonout import extract_json


def parse_answer(text: str, call_format: str) -> list[dict] | None:
    if call_format == "json":
        try:
            data = extract_json(text)
        except ValueError:
            return None
        data = [data] if isinstance(data, dict) else data
        ok = isinstance(data, list) and data and all(
            isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("arguments", {}), dict)
            for c in data)
        return [{"name": c["name"], "arguments": c.get("arguments", {})} for c in data] if ok else None
    s = (text or "").strip()
    a, z = s.find("["), s.rfind("]")   # tolerate chatter around the call list
    if a < 0 or z < a:
        return None
    try:
        return parse_calls(s[a:z + 1]) or None
    except ParseError:
        return None


def _canon(v):
    """Numbers compare by value (2 == 2.0); everything else exactly."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return int(v) if float(v).is_integer() else float(v)
    if isinstance(v, list):
        return [_canon(x) for x in v]
    if isinstance(v, dict):
        return {k: _canon(x) for k, x in v.items()}
    return v


def _key(call: dict) -> str:
    return json.dumps([call["name"], _canon(call.get("arguments") or {})], sort_keys=True, ensure_ascii=False)


def calls_match(got: list[dict] | None, want: list[dict]) -> bool:
    """Same calls with the same arguments, in any order (parallel calls are unordered)."""
    return got is not None and sorted(map(_key, got)) == sorted(map(_key, want))
