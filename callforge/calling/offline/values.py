"""Realistic argument and result values from a JSON Schema, without a model.

A value is chosen from the parameter's name first (a `city` gets a city, an `order_id` an order id:
ordered rule tables over the name's tokens, read by names.first_match), then fitted to the schema's
constraints (enum, const, bounds, multipleOf, length, pattern, format, item counts, nested objects).
Callers validate the final object against the schema; a value this module cannot satisfy raises
`Unsatisfiable` and the caller drops the sample with a reason.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
import random
import re
from functools import lru_cache
from typing import Any

from callforge.calling.offline import pattern_strings, words as W
from callforge.calling.offline.names import any_word, first_match, singular, tokens


class Unsatisfiable(ValueError):
    pass


# -- small generators (each draws from the rng in a fixed order) ---------------------------------------
def _date(rng: random.Random) -> dt.date:
    return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))


def _clock(rng) -> str:
    return f"{rng.randint(7, 21):02d}:{rng.choice((0, 15, 30, 45)):02d}"


def _url(rng) -> str:
    return f"https://www.{rng.choice(W.WORDS)}.com/{rng.choice(W.WORDS)}"


def _short_email(rng) -> str:
    return f"{rng.choice(W.FIRST).lower()}@{rng.choice(W.DOMAINS)}"


def _postal(rng) -> str:
    return f"{rng.randint(10000, 99999)}"


def _full_name(rng):
    return f"{rng.choice(W.FIRST)} {rng.choice(W.LAST)}"


def _uuid(rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _id(tok: tuple[str, ...], rng) -> str:
    stem = next((t for t in tok if t not in ("id", "ids", "code", "number", "num", "no", "ref", "reference", "key")), "")
    prefix = (stem[:3] or rng.choice(W.WORDS)[:3]).upper()
    return f"{prefix}-{rng.randint(10000, 99999)}"


# A code of the kind its name says (country_code -> "FR"); other codes are identifiers.
_CODE_RULES = [
    (any_word("country"), lambda r: r.choice(W.COUNTRY_CODES)),
    (any_word("language", "lang"), lambda r: r.choice(W.LANG_CODES)),
    (any_word("currency"), lambda r: r.choice(W.CURRENCIES)),
    (any_word("airport"), lambda r: r.choice(W.AIRPORTS[:5])),
    (any_word("airline"), lambda r: r.choice(W.AIRLINES)),
    (any_word("postal", "zip"), _postal),
]


def _code(tok, rng) -> str:
    gen = first_match(_CODE_RULES, toks=tok)
    return gen(rng) if gen else _id(tok, rng)


def _titled(tok, rng) -> str:
    rest = [t for t in tok if t not in ("name", "title", "label")]
    if not rest or rest[0] in ("full", "display", "real"):
        return _full_name(rng)
    return f"{rng.choice(W.WORDS).title()} {' '.join(rest).title()}"


# Name rules for strings: (tokens that trigger it, generator(tokens, rng)). First match wins, so order matters.
_STRING_RULES = [
    (any_word("email", "mail"), lambda t, r: f"{r.choice(W.FIRST).lower()}.{r.choice(W.LAST).lower()}@{r.choice(W.DOMAINS)}".replace("ü", "ue")),
    (any_word("phone", "mobile", "tel", "telephone", "164", "msisdn"), lambda t, r: f"+1-555-{r.randint(100, 999)}-{r.randint(1000, 9999)}"),
    (any_word("url", "link", "website", "uri", "endpoint", "homepage"), lambda t, r: _url(r)),
    (any_word("uuid", "guid"), lambda t, r: _uuid(r)),
    (any_word("password", "secret", "pin"), lambda t, r: f"{r.choice(W.WORDS).title()}#{r.randint(1000, 9999)}"),
    (any_word("ip"), lambda t, r: f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"),
    (any_word("datetime", "timestamp"), lambda t, r: f"{_date(r).isoformat()}T{_clock(r)}:00Z"),
    (any_word("date", "day", "birthday", "dob", "checkin", "checkout", "deadline", "since", "until"), lambda t, r: _date(r).isoformat()),
    (any_word("conditions", "condition", "weather", "sky"), lambda t, r: r.choice(W.WEATHER)),
    (any_word("expression", "formula", "equation", "function"), lambda t, r: r.choice(W.EXPRESSIONS)),
    (any_word("variable", "var"), lambda t, r: r.choice(W.VARIABLES)),
    (any_word("gate"), lambda t, r: f"{r.choice('ABCDEF')}{r.randint(1, 40)}"),
    (any_word("time", "hour"), lambda t, r: _clock(r)),
    (any_word("ticker", "symbol", "stock"), lambda t, r: r.choice(W.TICKERS)),
    (any_word("airport", "iata"), lambda t, r: r.choice(W.AIRPORTS)),
    (any_word("currency"), lambda t, r: r.choice(W.CURRENCIES)),
    (any_word("zip", "postal", "postcode"), lambda t, r: _postal(r)),
    (any_word("code"), _code),
    (any_word("id", "ids", "sku", "isbn", "ref", "reference", "code", "number", "token", "key", "no"), _id),
    (any_word("address", "street"), lambda t, r: f"{r.randint(1, 250)} {r.choice(W.STREETS)}, {r.choice(W.CITIES)}"),
    (any_word("country", "nation", "nationality"), lambda t, r: r.choice(W.COUNTRIES)),
    (any_word("city", "town", "destination", "origin", "location", "place", "from", "to", "departure", "arrival",
           "region", "area"), lambda t, r: r.choice(W.CITIES)),
    (any_word("language", "lang", "locale"), lambda t, r: r.choice(W.LANGUAGES)),
    (any_word("username", "handle", "login", "account"), lambda t, r: f"{r.choice(W.FIRST).lower()}_{r.choice(W.WORDS)}{r.randint(1, 99)}"),
    (any_word("first", "firstname", "given"), lambda t, r: r.choice(W.FIRST)),
    (any_word("last", "lastname", "surname", "family"), lambda t, r: r.choice(W.LAST)),
    (any_word("company", "organization", "organisation", "org", "employer", "brand", "vendor", "merchant", "store",
           "shop"), lambda t, r: r.choice(W.COMPANIES)),
    (any_word("author", "customer", "person", "user", "contact", "recipient", "guest", "patient", "employee",
           "passenger", "owner", "artist", "sender", "attendee", "member", "student", "driver", "player",
           "athlete", "actor", "director", "singer", "scientist", "coach", "doctor", "teacher", "manager",
           "candidate", "speaker", "composer", "painter", "writer"), lambda t, r: _full_name(r)),
    (any_word("product", "item", "goods"), lambda t, r: r.choice(W.PRODUCTS)),
    (any_word("query", "keyword", "keywords", "search", "term", "q", "topic", "subject", "interest"), lambda t, r: r.choice(W.TOPICS)),
    (any_word("genre"), lambda t, r: r.choice(W.GENRES)),
    (any_word("category", "department", "section"), lambda t, r: r.choice(W.CATEGORIES)),
    (any_word("type", "kind", "class", "tier", "plan", "variant", "mode", "style"), lambda t, r: r.choice(W.TIERS)),
    (any_word("color", "colour"), lambda t, r: r.choice(W.COLORS)),
    (any_word("status", "state"), lambda t, r: r.choice(W.STATUSES)),
    (any_word("unit", "units", "system"), lambda t, r: r.choice(W.UNITS)),
    (any_word("description", "message", "text", "content", "body", "comment", "note", "notes", "review",
           "reason", "instructions", "summary", "feedback", "request"), lambda t, r: r.choice(W.NOTES)),
    (any_word("file", "path", "filename", "document"), lambda t, r: f"/home/{r.choice(W.FIRST).lower()}/documents/{r.choice(W.WORDS)}.pdf"),
    (any_word("image", "photo", "picture", "avatar"), lambda t, r: f"https://img.{r.choice(W.WORDS)}.com/{r.randint(100, 999)}.jpg"),
    (any_word("name", "title", "label"), _titled),
]

# Name rules for numbers: (tokens that trigger it, the range a value is drawn from unless the schema bounds it).
_NUMBER_RULES = [
    (any_word("age"), (18, 85)),
    (any_word("year"), (1995, 2026)),
    (any_word("month"), (1, 12)),
    (any_word("day"), (1, 28)),
    (any_word("hour", "hours"), (1, 23)),
    (any_word("minute", "minutes"), (5, 55)),
    (any_word("lat", "latitude"), (-60, 70)),
    (any_word("lon", "lng", "longitude"), (-150, 150)),
    (any_word("price", "amount", "cost", "budget", "salary", "income", "balance", "fee", "total", "payment",
           "principal", "deposit", "revenue", "value"), (5, 5000)),
    (any_word("limit", "max", "top", "size", "per", "results"), (5, 50)),
    (any_word("page", "offset"), (1, 5)),
    (any_word("quantity", "qty", "count", "guests", "people", "adults", "children", "passengers", "nights",
           "rooms", "seats", "tickets", "copies", "servings", "num", "number", "bedrooms", "beds",
           "bathrooms", "replicas", "replica", "instances", "attempts"), (1, 6)),
    (any_word("rating", "stars", "score", "priority", "level"), (1, 5)),
    (any_word("percent", "percentage", "rate", "discount", "interest", "tax"), (1, 25)),
    (any_word("duration", "days", "weeks", "term", "period", "length"), (1, 30)),
    (any_word("weight", "kg", "mass"), (1, 120)),
    (any_word("height", "width", "depth", "cm", "side", "radius", "base"), (1, 50)),
    (any_word("distance", "km", "miles", "range"), (1, 500)),
    (any_word("temperature", "temp"), (-10, 35)),
]


@lru_cache(maxsize=16384)
def _string_rule(tok: tuple[str, ...]):
    return first_match(_STRING_RULES, toks=tok)


# Rules a parameter's description may trigger when its name says nothing specific ("from_number,
# in E.164 form"): only kinds whose words are unambiguous.
_DESC_KEYS = frozenset({"email", "phone", "164", "url", "uri", "uuid", "ip", "iso", "currency", "country", "city",
                        "language", "zip", "postal", "airport", "iata", "ticker", "address", "timestamp", "datetime"})


@lru_cache(maxsize=16384)
def _description_rule(description: str):
    tok = tuple(t for t in tokens(description) if t in _DESC_KEYS)
    return first_match(_STRING_RULES, toks=tok) if tok else None


@lru_cache(maxsize=16384)
def _number_rule(tok: tuple[str, ...]):
    return first_match(_NUMBER_RULES, toks=tok)


_FORMATS = {
    "date": lambda r: _date(r).isoformat(),
    "date-time": lambda r: f"{_date(r).isoformat()}T{r.randint(7, 21):02d}:{r.choice((0, 30)):02d}:00Z",
    "time": lambda r: f"{_clock(r)}:00",
    "email": _short_email,
    "idn-email": _short_email,
    "uri": _url,
    "url": _url,
    "uri-reference": lambda r: f"/{r.choice(W.WORDS)}/{r.randint(1, 99)}",
    "uuid": _uuid,
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


def gen_string(schema: dict, tok, rng) -> str:
    pat = schema.get("pattern")
    if pat:
        try:
            for _ in range(6):
                s = pattern_strings.generate(pat, rng)
                if schema.get("minLength", 0) <= len(s) <= schema.get("maxLength", 1 << 30):
                    return s
        except (pattern_strings.Unsupported, re.error) as e:
            raise Unsatisfiable(f"pattern {pat!r}: {e}") from None
        raise Unsatisfiable(f"pattern {pat!r} with length bounds")
    fmt = schema.get("format")
    gen = None
    if fmt in _FORMATS:
        s = _FORMATS[fmt](rng)
    else:
        gen = _string_rule(tok)
        if gen is None or gen is _id:   # the name says only "an identifier": its description may say more
            gen = _description_rule(schema.get("description") or "") or gen
        s = gen(tok, rng) if gen else rng.choice(W.WORDS)
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
