"""How a config field declares the values it may take (`knob`), and the check that enforces them.

The sections themselves live in config_schema.py; this is the mechanism they share.
"""
from __future__ import annotations

from dataclasses import field, fields, is_dataclass
from typing import Any

from omegaconf import MISSING, OmegaConf

_BOUNDS = {"ge": (lambda v, b: v >= b, "at least"), "gt": (lambda v, b: v > b, "above"),
           "le": (lambda v, b: v <= b, "at most"), "lt": (lambda v, b: v < b, "below")}


def knob(default: Any, *, choices: tuple | None = None, **bounds) -> Any:
    """A field with the values it may take (bounds ge/gt/le/lt, or choices; for a list, each item).
    `check` enforces them wherever a config is composed, so a bad value stops before any work."""
    meta = {"choices": choices, **bounds} if choices else bounds
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


class RangeError(ValueError):
    """A value out of range, not among the choices, or an added key. str() is one line naming the key."""


def check(node, cls: type, prefix: str = "") -> None:
    """Enforce the knob() constraints of dataclass `cls` (e.g. config_schema.Config) on a composed config
    (DictConfig or dict); raises RangeError."""
    known = {f.name for f in fields(cls)}
    for name in (node.keys() if hasattr(node, "keys") else ()):
        if name not in known:        # Hydra's `+key=` adds keys even to a structured config
            raise RangeError(f"{prefix}{name}: unknown key (not in callforge/core/config_schema.py)")
    for f in fields(cls):
        if f.name == "config_check":
            continue
        key = prefix + f.name
        if OmegaConf.is_config(node) and OmegaConf.is_missing(node, f.name):
            continue                      # reported as missing by callforge.core.config.validate
        value = node.get(f.name)
        default = f.default_factory() if callable(f.default_factory) else f.default
        if is_dataclass(default):
            if value is not None:
                check(value, type(default), key + ".")
            continue
        if value is None or not f.metadata or (isinstance(value, str) and value == MISSING):
            continue
        items = list(value) if isinstance(value, (list, tuple)) or OmegaConf.is_list(value) else [value]
        for v in items:
            if "choices" in f.metadata and v not in f.metadata["choices"]:
                allowed = " | ".join("null" if c is None else str(c) for c in f.metadata["choices"])
                raise RangeError(f"{key}: {v!r} is not one of {allowed}")
            for name, (ok, word) in _BOUNDS.items():
                if name in f.metadata and isinstance(v, (int, float)) and not ok(v, f.metadata[name]):
                    raise RangeError(f"{key}: {v} is out of range (must be {word} {f.metadata[name]})")
