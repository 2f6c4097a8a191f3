"""The record schemas every stage boundary checks (callforge/schemas/*.json), compiled once.

`validate(kind, record)` returns a list of error strings (empty when valid), so a stage can reject a
record with a reason instead of crashing; `check(kind, records)` raises on the first invalid record, for
outputs the stage itself produced (a bug, not bad input).
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import jsonschema_rs

BASE = "https://callforge.local/schemas/"


@lru_cache(maxsize=None)
def schema(kind: str) -> dict:
    return json.loads(resources.files("callforge.schemas").joinpath(f"{kind}.json").read_text())


def _retrieve(uri: str) -> dict:
    if not uri.startswith(BASE):
        raise ValueError(f"unknown schema reference {uri}")
    return schema(uri[len(BASE):].removesuffix(".json"))


@lru_cache(maxsize=None)
def validator(kind: str):
    return jsonschema_rs.validator_for(schema(kind), retriever=_retrieve)


def validate(kind: str, record) -> list[str]:
    v = validator(kind)
    if v.is_valid(record):
        return []
    return [f"{'/'.join(map(str, e.instance_path)) or '<root>'}: {e.message}" for e in v.iter_errors(record)][:5]


class RecordError(ValueError):
    pass


def check(kind: str, records) -> None:
    v = validator(kind)
    for i, r in enumerate(records):
        if not v.is_valid(r):
            raise RecordError(f"{kind} record #{i} ({r.get('id', '?') if isinstance(r, dict) else '?'}) "
                              f"violates callforge/schemas/{kind}.json: {validate(kind, r)[0]}")
