"""Realistic argument and result values from a JSON Schema, without a model.

A value is chosen from the parameter's name first (a `city` gets a city, an `order_id` an order id:
the ordered rule tables of meanings.py, read by names.first_match), then fitted to the schema's
constraints (enum, const, bounds, multipleOf, length, pattern, format, item counts, nested objects).
Callers validate the final object against the schema; a value this module cannot satisfy raises
`Unsatisfiable` and the caller drops the sample with a reason.
"""
from __future__ import annotations

import copy
import math
import random
import re
from functools import lru_cache
from typing import Any

from callforge.calling.offline import pattern_strings, words as W
from callforge.calling.offline.meanings import (BIRTH, CODE_RULES, NUMBER_RULES, STRING_RULES, Pick, birth_date,
                                                code, clock, identifier, short_email, some_date, url, uuid4)
from callforge.calling.offline.names import any_word, first_match, singular, tokens


class Unsatisfiable(ValueError):
    pass


@lru_cache(maxsize=16384)
def _string_rule(tok: tuple[str, ...]):
    return first_match(STRING_RULES, "_".join(tok), tok)


# Rules a parameter's description may trigger when its name says nothing specific ("from_number,
# in E.164 form"): only kinds whose words are unambiguous.
_DESC_KEYS = frozenset({"email", "phone", "164", "url", "uri", "uuid", "ip", "iso", "currency", "country", "city",
                        "language", "zip", "postal", "airport", "iata", "ticker", "address", "timestamp", "datetime"})


@lru_cache(maxsize=16384)
def _description_rule(description: str):
    tok = tuple(t for t in tokens(description) if t in _DESC_KEYS)
    return first_match(STRING_RULES, toks=tok) if tok else None


@lru_cache(maxsize=16384)
def _number_rule(tok: tuple[str, ...]):
    return first_match(NUMBER_RULES, toks=tok)


_FORMATS = {
    "date": lambda r: some_date(r).isoformat(),
    "date-time": lambda r: f"{some_date(r).isoformat()}T{r.randint(7, 21):02d}:{r.choice((0, 30)):02d}:00Z",
    "time": lambda r: f"{clock(r)}:00",
    "email": short_email,
    "idn-email": short_email,
    "uri": url,
    "url": url,
    "uri-reference": lambda r: f"/{r.choice(W.WORDS)}/{r.randint(1, 99)}",
    "uuid": uuid4,
    "ipv4": lambda r: f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
    "ipv6": lambda r: f"2001:db8::{r.randint(1, 65535):x}",
    "hostname": lambda r: f"{r.choice(W.WORDS)}.{r.choice(W.DOMAINS)}",
    "duration": lambda r: f"P{r.randint(1, 30)}D",
}


def _fit_length(s: str, schema: dict, rng) -> str:
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    if hi is not None and len(s) > hi:
        cut = s[:hi]
        s = (cut.rsplit(" ", 1)[0] if " " in cut and len(cut.rsplit(" ", 1)[0]) >= lo else cut).rstrip() or cut
    while len(s) < lo:
        s += rng.choice(W.WORDS)[: lo - len(s)] if s.endswith(" ") or not s else " "
    return s


def _named_value(schema: dict, tok, rng, topic: str):
    """The value the parameter's name (or, for a bare identifier, its description) calls for; None
    when neither says anything."""
    gen = _string_rule(tok)
    if gen is None or gen is identifier:   # the name says only "an identifier": its description may say more
        gen = _description_rule(schema.get("description") or "") or gen
    if gen is None:
        return None
    return gen(tok, rng, topic) if isinstance(gen, Pick) else gen(tok, rng)


_CODE_WORDS = frozenset({"code", "iso", "tag", "alpha"})


def _coded(schema: dict, tok) -> bool:
    """A name or description asking for a code ("country as an ISO 3166 alpha-2 code", "a language tag")."""
    return not _CODE_WORDS.isdisjoint(tokens(schema.get("description") or "")) and first_match(CODE_RULES, toks=tok) is not None


def gen_string(schema: dict, tok, rng, topic: str = "") -> str:
    pat = schema.get("pattern")
    lo, hi = schema.get("minLength", 0), schema.get("maxLength", 1 << 30)
    if pat:
        # What the name calls for, when the pattern admits it ("en" for a locale, "Europe/Paris" for a
        # time zone); else any string the pattern matches.
        fmt = schema.get("format")
        for gen in ((lambda: _FORMATS[fmt](rng)) if fmt in _FORMATS else None,
                    (lambda: code(tok, rng)) if first_match(CODE_RULES, toks=tok) else None,
                    lambda: _named_value(schema, tok, rng, topic)):
            v = gen() if gen else None
            for cand in ((v, v.replace("-", "")) if isinstance(v, str) else ()):   # "+1-555-..." where digits only
                if lo <= len(cand) <= hi and re.search(pat, cand):
                    return cand
        try:
            for _ in range(6):
                s = pattern_strings.generate(pat, rng)
                if lo <= len(s) <= hi:
                    return s
        except (pattern_strings.Unsupported, re.error) as e:
            raise Unsatisfiable(f"pattern {pat!r}: {e}") from None
        raise Unsatisfiable(f"pattern {pat!r} with length bounds")
    fmt = schema.get("format")
    if fmt == "date" and BIRTH.fits("", tok):
        s = birth_date(rng).isoformat()
    elif fmt in _FORMATS:
        s = _FORMATS[fmt](rng)
    elif _coded(schema, tok):
        s = code(tok, rng)
    else:
        s = _named_value(schema, tok, rng, topic)
        s = rng.choice(W.WORDS) if s is None else s
    return _fit_length(s, schema, rng)


def _bounds(schema: dict, integer: bool, default: tuple[float, float]) -> tuple[float, float, bool]:
    """(lo, hi, explicit): the schema's bounds, exclusive ones tightened, else the name default."""
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = 1 if integer else 0.01
    if isinstance(xlo, bool):  # draft-4 style flags
        xlo, xhi = (lo if xlo else None), (hi if xhi else None)
        lo = None if xlo is not None else lo
        hi = None if xhi is not None else hi
    if isinstance(xlo, (int, float)) and not isinstance(xlo, bool):
        lo = max(lo, xlo + step) if lo is not None else xlo + step
    if isinstance(xhi, (int, float)) and not isinstance(xhi, bool):
        hi = min(hi, xhi - step) if hi is not None else xhi - step
    explicit = lo is not None or hi is not None
    dlo, dhi = default
    if lo is None and hi is None:
        lo, hi = dlo, dhi
    elif lo is None:
        lo = min(dlo, hi - 10) if dlo <= hi else hi - 10
    elif hi is None:
        hi = max(dhi, lo + 10) if dhi >= lo else lo + 10
    if integer:
        lo, hi = math.ceil(lo), math.floor(hi)
    if lo > hi:
        raise Unsatisfiable(f"empty numeric range [{lo}, {hi}]")
    return lo, hi, explicit


def gen_number(schema: dict, tok, rng, integer: bool) -> int | float:
    keys = _number_rule(tok)
    lo, hi, _ = _bounds(schema, integer, keys or (1, 100))
    if keys and keys[0] <= hi and keys[1] >= lo:
        lo, hi = max(lo, keys[0]), min(hi, keys[1])  # the name's range, within the schema's bounds
        if integer:
            lo, hi = math.ceil(lo), math.floor(hi)
    m = schema.get("multipleOf")
    if m:
        k_lo, k_hi = math.ceil(lo / m - 1e-9), math.floor(hi / m + 1e-9)
        if k_lo > k_hi:
            raise Unsatisfiable(f"no multiple of {m} in [{lo}, {hi}]")
        v = rng.randint(k_lo, k_hi) * m
        if integer:
            return int(round(v))
        dec = max(0, -int(math.floor(math.log10(m)))) if m < 1 else 0
        return round(v, dec + 2)
    if integer:
        return rng.randint(int(lo), int(hi))
    v = round(rng.uniform(lo, hi), 2)
    return min(max(v, lo), hi)


def gen_value(schema: Any, name: str, rng: random.Random, depth: int = 0, p_optional: float = 0.5,
              echo: dict | None = None, topic: str = "") -> Any:
    """One value for `schema`; `name` steers what kind of value it is. `echo` maps field names to
    values that any object property of that name takes when they fit (a result repeating its arguments).
    `topic`: what the API does (its description), which settles names that alone are ambiguous."""
    topic = topic.lower()
    if not isinstance(schema, dict):
        schema = {}
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if schema.get("enum"):
        return copy.deepcopy(rng.choice(schema["enum"]))
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            branch = rng.choice(schema[key])
            merged = {k: v for k, v in schema.items() if k != key}
            merged.update(branch if isinstance(branch, dict) else {})
            return gen_value(merged, name, rng, depth, p_optional, echo, topic)
    if schema.get("allOf"):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, dict) else {})
        return gen_value(merged, name, rng, depth, p_optional, echo, topic)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t is None:
        t = ("object" if "properties" in schema else "array" if "items" in schema
             else "number" if "minimum" in schema or "maximum" in schema else "string")
    tok = tokens(name)
    if t == "string":
        return gen_string(schema, tok, rng, topic)
    if t == "integer":
        return gen_number(schema, tok, rng, integer=True)
    if t == "number":
        return gen_number(schema, tok, rng, integer=False)
    if t == "boolean":
        return rng.random() < 0.5
    if t == "null":
        return None
    if t == "array":
        return gen_array(schema, name, rng, depth, p_optional, echo, topic)
    if t == "object":
        return gen_object(schema, rng, depth, p_optional, echo, name, topic)
    raise Unsatisfiable(f"unknown type {t!r}")


def gen_array(schema: dict, name: str, rng, depth: int, p_optional: float, echo: dict | None = None,
              topic: str = "") -> list:
    lo = schema.get("minItems", 1)
    hi = schema.get("maxItems", max(lo, 3))
    if lo > hi:
        raise Unsatisfiable(f"minItems {lo} > maxItems {hi}")
    prefix = schema.get("prefixItems") or (schema["items"] if isinstance(schema.get("items"), list) else None)
    if prefix is not None:
        return [gen_value(s, f"{name}_{k}", rng, depth + 1, p_optional, echo, topic) for k, s in enumerate(prefix)]
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    want = rng.randint(lo, min(hi, lo + 3))
    out, seen, el = [], set(), singular(name)
    for _ in range(want * 6):
        if len(out) == want:
            break
        v = gen_value(items, el, rng, depth + 1, p_optional, echo, topic)
        key = repr(v)
        if key in seen:
            continue
        seen.add(key)
        out.append(v)
    if len(out) < lo:
        raise Unsatisfiable(f"could not make {lo} distinct items")
    return out


# Keys that mean little alone: they take their meaning from the object they sit in (a price range's
# min is a price, a latitude's value is a latitude).
_GENERIC_KEYS = frozenset({"name", "id", "title", "code", "label", "type", "value", "min", "max"})
# Keys of a free-form map, by what the map's name says it holds.
_MAP_KEYS = [(any_word("weights", "allocation"), {t: None for t in W.TICKERS}),
             (any_word("environment", "variables", "env"), {"LOG_LEVEL": ["debug", "info", "warning"],
                                                            "PORT": ["8080", "3000"], "REGION": ["eu-west-1", "us-east-2"]})]


def gen_object(schema: dict, rng, depth: int, p_optional: float, echo: dict | None = None, name: str = "",
               topic: str = "") -> dict:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    out: dict = {}
    p_opt = p_optional if depth == 0 else p_optional * 0.6
    for key in props:  # schema order: deterministic and the order a human would write
        if echo and key in echo and fits(props[key], echo[key]):
            out[key] = copy.deepcopy(echo[key])
        elif key in required or rng.random() < p_opt:
            hint = f"{name}_{key}" if key in _GENERIC_KEYS and name and name not in ("result", "item") else key
            out[key] = gen_value(props[key], hint, rng, depth + 1, p_optional, echo, topic)
    order_ranges(out)
    if not props and schema.get("additionalProperties") is not False and depth < 3:
        extra = schema.get("additionalProperties")
        keys = first_match(_MAP_KEYS, toks=tokens(name)) or {"label": None, "note": None, "tag": None}
        key = rng.choice(sorted(keys))
        schema_v = extra if isinstance(extra, dict) else {"type": "string"}
        told = [v for v in keys[key] or () if fits(schema_v, v)]
        out[key] = rng.choice(told) if told else gen_value(schema_v, key, rng, depth + 1, topic=topic)
    return out


_PYTYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def fits(schema: Any, v: Any) -> bool:
    """Cheap pre-check that `v` may stand in `schema` (type, enum, const, bounds, length, pattern).
    The caller still validates the whole object; this only avoids obviously wrong echoes."""
    if not isinstance(schema, dict):
        return True
    if "const" in schema:
        return schema["const"] == v
    if schema.get("enum") and v not in schema["enum"]:
        return False
    t = schema.get("type")
    if isinstance(t, list):
        return any(fits({**schema, "type": x}, v) for x in t)
    if t is not None:
        if t == "null":
            return v is None
        py = _PYTYPES.get(t)
        if py is None or not isinstance(v, py) or (t != "boolean" and isinstance(v, bool)):
            return False
        if t == "integer" and isinstance(v, float):
            return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in schema and v < schema["minimum"] or "maximum" in schema and v > schema["maximum"]:
            return False
    if isinstance(v, str):
        if len(v) < schema.get("minLength", 0) or len(v) > schema.get("maxLength", 1 << 30):
            return False
        if schema.get("pattern") and not re.search(schema["pattern"], v):
            return False
    return True


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_PAIRS = (("start", "end"), ("begin", "end"), ("from", "to"), ("min", "max"), ("in", "out"), ("departure", "return"),
          ("earliest", "latest"), ("lower", "upper"), ("pickup", "return"), ("pickup", "dropoff"), ("open", "close"))


def _same_dimension(a: str, b: str) -> str:
    """`b`, or a unit of `a`'s dimension when `b` measures something else (kilometers to miles, not to
    fahrenheit); units of no known dimension stay as they are."""
    dim = next((d for d in W.UNIT_DIMENSIONS if a in d), None)
    if dim is None or (b in dim and b != a):
        return b
    return dim[(dim.index(a) + 1) % len(dim)]


def order_ranges(obj: dict) -> None:
    """Make paired values agree: start_date before end_date, min below max (numbers and dates), and a
    conversion's from_unit and to_unit of one dimension."""
    keys = list(obj)
    for k in keys:
        tk = tokens(k)
        for lo, hi in _PAIRS:
            if lo not in tk:
                continue
            other = "_".join(hi if t == lo else t for t in tk)
            match = next((k2 for k2 in keys if k2 != k and "_".join(tokens(k2)) == other), None)
            if match is None:
                continue
            a, b = obj[k], obj[match]
            if "unit" in tk and isinstance(a, str) and isinstance(b, str):
                obj[match] = _same_dimension(a, b)
                continue
            comparable = (isinstance(a, (int, float)) and isinstance(b, (int, float))
                          and not isinstance(a, bool) and not isinstance(b, bool)) or \
                         (isinstance(a, str) and isinstance(b, str) and _DATE.match(a) and _DATE.match(b))
            if comparable and a > b:
                obj[k], obj[match] = b, a
