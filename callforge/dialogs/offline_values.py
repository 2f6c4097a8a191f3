"""Realistic argument and result values from a JSON Schema, without a model.

A value is chosen from the parameter's name first (a `city` gets a city, an `order_id` an order id),
then fitted to the schema's constraints (enum, const, bounds, multipleOf, length, pattern, format,
item counts, nested objects). Callers validate the final object against the schema; a value this
module cannot satisfy raises `Unsatisfiable` and the caller drops the sample with a reason.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
import random
import re
from functools import lru_cache
from typing import Any

from . import regexgen
from . import vocab as V


class Unsatisfiable(ValueError):
    pass


_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@lru_cache(maxsize=16384)
def tokens(name: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in _SPLIT.findall(name or ""))


def singular(name: str) -> str:
    for suf, rep in (("ies", "y"), ("_list", ""), ("List", ""), ("sses", "ss"), ("s", "")):
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)] + rep
    return name


def _date(rng: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))


def _full_name(rng):
    return f"{rng.choice(V.FIRST)} {rng.choice(V.LAST)}"


def _id(tok: tuple[str, ...], rng) -> str:
    stem = next((t for t in tok if t not in ("id", "ids", "code", "number", "num", "no", "ref", "reference", "key")), "")
    prefix = (stem[:3] or rng.choice(V.WORDS)[:3]).upper()
    return f"{prefix}-{rng.randint(10000, 99999)}"


# Name rules for strings: (tokens that trigger it, generator). First match wins, so order matters.
_STRING_RULES: list[tuple[frozenset, Any]] = [
    (frozenset({"email", "mail"}), lambda t, r: f"{r.choice(V.FIRST).lower()}.{r.choice(V.LAST).lower()}@{r.choice(V.DOMAINS)}".replace("ü", "ue")),
    (frozenset({"phone", "mobile", "tel", "telephone", "164", "msisdn"}), lambda t, r: f"+1-555-{r.randint(100, 999)}-{r.randint(1000, 9999)}"),
    (frozenset({"url", "link", "website", "uri", "endpoint", "homepage"}), lambda t, r: f"https://www.{r.choice(V.WORDS)}.com/{r.choice(V.WORDS)}"),
    (frozenset({"uuid", "guid"}), lambda t, r: _uuid(r)),
    (frozenset({"password", "secret", "pin"}), lambda t, r: f"{r.choice(V.WORDS).title()}#{r.randint(1000, 9999)}"),
    (frozenset({"ip"}), lambda t, r: f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"),
    (frozenset({"datetime", "timestamp"}), lambda t, r: f"{_date(r).isoformat()}T{r.randint(7, 21):02d}:{r.choice((0, 15, 30, 45)):02d}:00Z"),
    (frozenset({"date", "day", "birthday", "dob", "checkin", "checkout", "deadline", "since", "until"}), lambda t, r: _date(r).isoformat()),
    (frozenset({"conditions", "condition", "weather", "sky"}), lambda t, r: r.choice(
        ["sunny", "partly cloudy", "overcast", "light rain", "thunderstorms", "snow showers", "fog"])),
    (frozenset({"expression", "formula", "equation", "function"}), lambda t, r: r.choice(
        ["x**2 + 3*x - 4", "sin(x) * exp(x)", "3*x**3 - 2*x", "log(x + 1)", "x / (1 + x**2)"])),
    (frozenset({"variable", "var"}), lambda t, r: r.choice(["x", "t", "y", "z"])),
    (frozenset({"gate"}), lambda t, r: f"{r.choice('ABCDEF')}{r.randint(1, 40)}"),
    (frozenset({"time", "hour"}), lambda t, r: f"{r.randint(7, 21):02d}:{r.choice((0, 15, 30, 45)):02d}"),
    (frozenset({"ticker", "symbol", "stock"}), lambda t, r: r.choice(["AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "NVDA", "IBM", "SAP"])),
    (frozenset({"airport", "iata"}), lambda t, r: r.choice(["JFK", "LHR", "CDG", "HND", "FRA", "SFO", "SIN", "DXB", "MAD", "YYZ"])),
    (frozenset({"currency"}), lambda t, r: r.choice(V.CURRENCIES)),
    (frozenset({"zip", "postal", "postcode"}), lambda t, r: f"{r.randint(10000, 99999)}"),
    (frozenset({"code"}), lambda t, r: _code(t, r)),
    (frozenset({"id", "ids", "sku", "isbn", "ref", "reference", "code", "number", "token", "key", "no"}), lambda t, r: _id(t, r)),
    (frozenset({"address", "street"}), lambda t, r: f"{r.randint(1, 250)} {r.choice(V.STREETS)}, {r.choice(V.CITIES)}"),
    (frozenset({"country", "nation", "nationality"}), lambda t, r: r.choice(V.COUNTRIES)),
    (frozenset({"city", "town", "destination", "origin", "location", "place", "from", "to", "departure", "arrival", "region", "area"}), lambda t, r: r.choice(V.CITIES)),
    (frozenset({"language", "lang", "locale"}), lambda t, r: r.choice(V.LANGUAGES)),
    (frozenset({"username", "handle", "login", "account"}), lambda t, r: f"{r.choice(V.FIRST).lower()}_{r.choice(V.WORDS)}{r.randint(1, 99)}"),
    (frozenset({"first", "firstname", "given"}), lambda t, r: r.choice(V.FIRST)),
    (frozenset({"last", "lastname", "surname", "family"}), lambda t, r: r.choice(V.LAST)),
    (frozenset({"company", "organization", "organisation", "org", "employer", "brand", "vendor", "merchant", "store", "shop"}), lambda t, r: r.choice(V.COMPANIES)),
    (frozenset({"author", "customer", "person", "user", "contact", "recipient", "guest", "patient", "employee",
                "passenger", "owner", "artist", "sender", "attendee", "member", "student", "driver", "player",
                "athlete", "actor", "director", "singer", "scientist", "coach", "doctor", "teacher", "manager",
                "candidate", "speaker", "composer", "painter", "writer"}), lambda t, r: _full_name(r)),
    (frozenset({"product", "item", "goods"}), lambda t, r: r.choice(V.PRODUCTS)),
    (frozenset({"query", "keyword", "keywords", "search", "term", "q", "topic", "subject", "interest"}), lambda t, r: r.choice(V.TOPICS)),
    (frozenset({"genre"}), lambda t, r: r.choice(V.GENRES)),
    (frozenset({"category", "department", "section"}), lambda t, r: r.choice(V.CATEGORIES)),
    (frozenset({"type", "kind", "class", "tier", "plan", "variant", "mode", "style"}), lambda t, r: r.choice(V.KINDS)),
    (frozenset({"color", "colour"}), lambda t, r: r.choice(V.COLORS)),
    (frozenset({"status", "state"}), lambda t, r: r.choice(V.STATUSES)),
    (frozenset({"unit", "units", "system"}), lambda t, r: r.choice(V.UNITS)),
    (frozenset({"description", "message", "text", "content", "body", "comment", "note", "notes", "review",
                "reason", "instructions", "summary", "feedback", "request"}), lambda t, r: r.choice(V.NOTES)),
    (frozenset({"file", "path", "filename", "document"}), lambda t, r: f"/home/{r.choice(V.FIRST).lower()}/documents/{r.choice(V.WORDS)}.pdf"),
    (frozenset({"image", "photo", "picture", "avatar"}), lambda t, r: f"https://img.{r.choice(V.WORDS)}.com/{r.randint(100, 999)}.jpg"),
    (frozenset({"name", "title", "label"}), lambda t, r: _titled(t, r)),
]

_ID_RULE = next(g for k, g in _STRING_RULES if "id" in k)

_INT_RULES: list[tuple[frozenset, tuple[float, float]]] = [
    (frozenset({"age"}), (18, 85)),
    (frozenset({"year"}), (1995, 2026)),
    (frozenset({"month"}), (1, 12)),
    (frozenset({"day"}), (1, 28)),
    (frozenset({"hour", "hours"}), (1, 23)),
    (frozenset({"minute", "minutes"}), (5, 55)),
    (frozenset({"lat", "latitude"}), (-60, 70)),
    (frozenset({"lon", "lng", "longitude"}), (-150, 150)),
    (frozenset({"price", "amount", "cost", "budget", "salary", "income", "balance", "fee", "total", "payment",
                "principal", "deposit", "revenue", "value"}), (5, 5000)),
    (frozenset({"limit", "max", "top", "size", "per", "results"}), (5, 50)),
    (frozenset({"page", "offset"}), (1, 5)),
    (frozenset({"quantity", "qty", "count", "guests", "people", "adults", "children", "passengers", "nights",
                "rooms", "seats", "tickets", "copies", "servings", "num", "number", "bedrooms", "beds",
                "bathrooms", "replicas", "replica", "instances", "attempts"}), (1, 6)),
    (frozenset({"rating", "stars", "score", "priority", "level"}), (1, 5)),
    (frozenset({"percent", "percentage", "rate", "discount", "interest", "tax"}), (1, 25)),
    (frozenset({"duration", "days", "weeks", "term", "period", "length"}), (1, 30)),
    (frozenset({"weight", "kg", "mass"}), (1, 120)),
    (frozenset({"height", "width", "depth", "cm", "side", "radius", "base"}), (1, 50)),
    (frozenset({"distance", "km", "miles", "range"}), (1, 500)),
    (frozenset({"temperature", "temp"}), (-10, 35)),
]


def _code(tok, rng) -> str:
    """A code of the kind its name says (country_code -> "FR"), else an identifier."""
    if "country" in tok:
        return rng.choice(V.COUNTRY_CODES)
    if "language" in tok or "lang" in tok:
        return rng.choice(V.LANG_CODES)
    if "currency" in tok:
        return rng.choice(V.CURRENCIES)
    if "airport" in tok or "airline" in tok:
        return rng.choice(["JFK", "LHR", "CDG", "HND", "FRA"]) if "airport" in tok else rng.choice(["LH", "AF", "BA", "UA", "NH"])
    if "postal" in tok or "zip" in tok:
        return f"{rng.randint(10000, 99999)}"
    return _id(tok, rng)


def _uuid(rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _titled(tok, rng) -> str:
    rest = [t for t in tok if t not in ("name", "title", "label")]
    if not rest or rest[0] in ("full", "display", "real"):
        return _full_name(rng)
    return f"{rng.choice(V.WORDS).title()} {' '.join(rest).title()}"


def _first(rules, tok):
    for keys, gen in rules:
        if not keys.isdisjoint(tok):
            return gen
    return None


@lru_cache(maxsize=16384)
def _string_rule(tok: tuple[str, ...]):
    return _first(_STRING_RULES, tok)


# Rules a parameter's description may trigger when its name says nothing specific ("from_number,
# in E.164 form"): only kinds whose words are unambiguous.
_DESC_KEYS = frozenset({"email", "phone", "164", "url", "uri", "uuid", "ip", "iso", "currency", "country", "city",
                        "language", "zip", "postal", "airport", "iata", "ticker", "address", "timestamp", "datetime"})


@lru_cache(maxsize=16384)
def _description_rule(description: str):
    tok = tuple(t for t in tokens(description) if t in _DESC_KEYS)
    return _first(_STRING_RULES, tok) if tok else None


@lru_cache(maxsize=16384)
def _number_rule(tok: tuple[str, ...]):
    return _first(_INT_RULES, tok)


_FORMATS = {
    "date": lambda r: _date(r).isoformat(),
    "date-time": lambda r: f"{_date(r).isoformat()}T{r.randint(7, 21):02d}:{r.choice((0, 30)):02d}:00Z",
    "time": lambda r: f"{r.randint(7, 21):02d}:{r.choice((0, 15, 30, 45)):02d}:00",
    "email": lambda r: f"{r.choice(V.FIRST).lower()}@{r.choice(V.DOMAINS)}",
    "idn-email": lambda r: f"{r.choice(V.FIRST).lower()}@{r.choice(V.DOMAINS)}",
    "uri": lambda r: f"https://www.{r.choice(V.WORDS)}.com/{r.choice(V.WORDS)}",
    "url": lambda r: f"https://www.{r.choice(V.WORDS)}.com/{r.choice(V.WORDS)}",
    "uri-reference": lambda r: f"/{r.choice(V.WORDS)}/{r.randint(1, 99)}",
    "uuid": _uuid,
    "ipv4": lambda r: f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
    "ipv6": lambda r: f"2001:db8::{r.randint(1, 65535):x}",
    "hostname": lambda r: f"{r.choice(V.WORDS)}.{r.choice(V.DOMAINS)}",
    "duration": lambda r: f"P{r.randint(1, 30)}D",
}


def _fit_length(s: str, schema: dict, rng) -> str:
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    if hi is not None and len(s) > hi:
        cut = s[:hi]
        s = (cut.rsplit(" ", 1)[0] if " " in cut and len(cut.rsplit(" ", 1)[0]) >= lo else cut).rstrip() or cut
    while len(s) < lo:
        s += rng.choice(V.WORDS)[: lo - len(s)] if s.endswith(" ") or not s else " "
    return s


def gen_string(schema: dict, tok, rng) -> str:
    pat = schema.get("pattern")
    if pat:
        try:
            for _ in range(6):
                s = regexgen.generate(pat, rng)
                if schema.get("minLength", 0) <= len(s) <= schema.get("maxLength", 1 << 30):
                    return s
        except (regexgen.Unsupported, re.error) as e:
            raise Unsatisfiable(f"pattern {pat!r}: {e}") from None
        raise Unsatisfiable(f"pattern {pat!r} with length bounds")
    fmt = schema.get("format")
    gen = None
    if fmt in _FORMATS:
        s = _FORMATS[fmt](rng)
    else:
        gen = _string_rule(tok)
        if gen is None or gen is _ID_RULE:
            gen = _description_rule(schema.get("description") or "") or gen
        s = gen(tok, rng) if gen else rng.choice(V.WORDS)
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
    if keys and not (lo <= keys[0] and keys[1] <= hi) and (keys[0] <= hi and keys[1] >= lo):
        lo, hi = max(lo, keys[0]), min(hi, keys[1])  # name range narrowed to the schema's bounds
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
              echo: dict | None = None) -> Any:
    """One value for `schema`; `name` steers what kind of value it is. `echo` maps field names to
    values that any object property of that name takes when they fit (a result repeating its arguments)."""
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
            return gen_value(merged, name, rng, depth, p_optional, echo)
    if schema.get("allOf"):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            merged.update(part if isinstance(part, dict) else {})
        return gen_value(merged, name, rng, depth, p_optional, echo)
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "null")
    if t is None:
        t = ("object" if "properties" in schema else "array" if "items" in schema
             else "number" if "minimum" in schema or "maximum" in schema else "string")
    tok = tokens(name)
    if t == "string":
        return gen_string(schema, tok, rng)
    if t == "integer":
        return gen_number(schema, tok, rng, integer=True)
    if t == "number":
        return gen_number(schema, tok, rng, integer=False)
    if t == "boolean":
        return rng.random() < 0.5
    if t == "null":
        return None
    if t == "array":
        return gen_array(schema, name, rng, depth, p_optional, echo)
    if t == "object":
        return gen_object(schema, rng, depth, p_optional, echo, name)
    raise Unsatisfiable(f"unknown type {t!r}")


def gen_array(schema: dict, name: str, rng, depth: int, p_optional: float, echo: dict | None = None) -> list:
    lo = schema.get("minItems", 1)
    hi = schema.get("maxItems", max(lo, 3))
    if lo > hi:
        raise Unsatisfiable(f"minItems {lo} > maxItems {hi}")
    prefix = schema.get("prefixItems") or (schema["items"] if isinstance(schema.get("items"), list) else None)
    if prefix is not None:
        return [gen_value(s, f"{name}_{k}", rng, depth + 1, p_optional, echo) for k, s in enumerate(prefix)]
    items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
    want = rng.randint(lo, min(hi, lo + 3))
    out, seen, el = [], set(), singular(name)
    for _ in range(want * 6):
        if len(out) == want:
            break
        v = gen_value(items, el, rng, depth + 1, p_optional, echo)
        key = repr(v)
        if key in seen:
            continue
        seen.add(key)
        out.append(v)
    if len(out) < lo:
        raise Unsatisfiable(f"could not make {lo} distinct items")
    return out


_GENERIC_KEYS = frozenset({"name", "id", "title", "code", "label", "type"})


def gen_object(schema: dict, rng, depth: int, p_optional: float, echo: dict | None = None, name: str = "") -> dict:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    out: dict = {}
    p_opt = p_optional if depth == 0 else p_optional * 0.6
    for key in props:  # schema order: deterministic and the order a human would write
        if echo and key in echo and fits(props[key], echo[key]):
            out[key] = copy.deepcopy(echo[key])
        elif key in required or rng.random() < p_opt:
            hint = f"{name}_{key}" if key in _GENERIC_KEYS and name and name not in ("result", "item") else key
            out[key] = gen_value(props[key], hint, rng, depth + 1, p_optional, echo)
    order_ranges(out)
    if not props and schema.get("additionalProperties") is not False and depth < 3:
        extra = schema.get("additionalProperties")
        out[rng.choice(("label", "note", "tag"))] = gen_value(extra if isinstance(extra, dict) else {"type": "string"}, "label", rng, depth + 1)
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


def order_ranges(obj: dict) -> None:
    """Put range pairs in order: start_date before end_date, min below max (numbers and dates only)."""
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
            comparable = (isinstance(a, (int, float)) and isinstance(b, (int, float))
                          and not isinstance(a, bool) and not isinstance(b, bool)) or \
                         (isinstance(a, str) and isinstance(b, str) and _DATE.match(a) and _DATE.match(b))
            if comparable and a > b:
                obj[k], obj[match] = b, a
