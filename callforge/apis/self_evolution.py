"""Diversity operators of API evolution (ToolACE §1), as deterministic procedures on an API dict.

Each operator takes (api, rng, ctx), edits the API in place and returns True when it changed
something. The same operator names reach the model path as instructions (callforge.apis.prompts).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from callforge.calling.offline import schemas as vocab
from callforge.calling.offline.names import tokens
from callforge.taxonomy.context_tree import Leaf

NAMES = ("add_functionality", "add_parameters", "add_constraints", "mutate_types", "change_returns")
_TYPED_KEYWORDS = ("enum", "pattern", "format", "minimum", "maximum", "minLength", "maxLength",
                   "minItems", "maxItems", "items", "properties", "required", "additionalProperties", "default")


@dataclass
class Ctx:
    siblings: list[Leaf]                  # other functionalities near the API's own, for add_functionality
    max_params: int = 16
    covered: list[str] = field(default_factory=list)   # leaf names the API now covers
    role: str = ""                        # what the API's leaf does: "list", "action", "calc", ... (offline.role_of)


def contexts(params, role: str) -> set[str]:
    """The contexts an API with these parameters and this role shows (schemas.GENERIC_CONTEXT)."""
    out = {role} if role else set()
    if role == "cancel":       # cancelling is doing something too
        out.add("action")
    for p in params:
        kind = vocab.kind_of(p)
        if kind in vocab.KIND_CONTEXT:
            out.add(vocab.KIND_CONTEXT[kind])
        if not vocab.PLACE_WORDS.isdisjoint(tokens(p)):
            out.add("place")
    return out


def plausible(param: str, params, role: str) -> bool:
    """Whether a generic parameter makes sense on an API with these parameters and this role: a
    currency where money is involved, paging where a list comes back, never a currency on a
    triangle's sides."""
    need = vocab.GENERIC_CONTEXT.get(param)
    return need is None or need in contexts(params, role)


def _props(api: dict) -> dict:
    return api["parameters"]["properties"]


def _add_param(api: dict, name: str, ctx: Ctx, required: bool = False) -> bool:
    props = _props(api)
    if name in props or len(props) >= ctx.max_params:
        return False
    props[name] = vocab.schema_for(name)
    if required:
        api["parameters"]["required"].append(name)
    return True


def add_functionality(api: dict, rng: random.Random, ctx: Ctx) -> bool:
    options = [s for s in ctx.siblings if s.name not in ctx.covered]
    if not options:
        return False
    leaf = rng.choice(options)
    for p in leaf.required + leaf.optional:
        _add_param(api, p, ctx)
    ctx.covered.append(leaf.name)
    d = leaf.description
    api["description"] += f" It can also {d[:1].lower()}{d[1:]}."
    return True


def add_parameters(api: dict, rng: random.Random, ctx: Ctx) -> bool:
    pool = [g for g in vocab.GENERIC_PARAMS if g not in _props(api) and plausible(g, _props(api), ctx.role)]
    rng.shuffle(pool)
    added = [g for g in pool[: rng.randint(1, 2)] if _add_param(api, g, ctx)]
    return bool(added)


def _constrain(schema: dict, name: str, rng: random.Random) -> str | None:
    """Add one constraint that suits this property; return its keyword."""
    t = schema.get("type")
    hints = {k: v for k, v in vocab.hints_for(name).items() if k not in schema}
    if t == "string" and "enum" not in schema and "format" not in schema:
        choices = [k for k in ("pattern", "format", "minLength", "maxLength") if k in hints]
        if not choices and not hints:
            hints = {"minLength": 1, "maxLength": rng.choice([64, 128, 256, 1024])}
            choices = ["minLength", "maxLength"]
        if choices:
            k = rng.choice(choices)
            schema[k] = hints[k]
            if k == "minLength" and "maxLength" in hints:
                schema["maxLength"] = hints["maxLength"]
            return k
    if t in ("integer", "number"):
        lo = hints.get("minimum", 0)
        hi = hints.get("maximum", rng.choice([100, 1000, 100000]))
        if "minimum" not in schema and "maximum" not in schema:
            schema["minimum"], schema["maximum"] = lo, hi
            schema["description"] = schema["description"].rstrip(".") + f" (from {lo} to {hi})."
            return "minimum"
    if t == "array" and "minItems" not in schema:
        schema["minItems"] = 1
        schema["maxItems"] = rng.choice([5, 10, 20, 50])
        schema["description"] = schema["description"].rstrip(".") + f" (1 to {schema['maxItems']} entries)."
        return "minItems"
    if t == "string" and "enum" not in schema and name in vocab.ENUMS:
        schema["enum"] = list(vocab.ENUMS[name])
        return "enum"
    return None


def add_constraints(api: dict, rng: random.Random, ctx: Ctx) -> bool:
    names = sorted(_props(api))
    rng.shuffle(names)
    done = 0
    for n in names:
        if _constrain(_props(api)[n], n, rng):
            done += 1
            if done >= rng.randint(1, 3):
                break
    return done > 0


def _retype(schema: dict, new: dict) -> dict:
    """Keep the description, drop keywords that belonged to the old type."""
    out = {k: v for k, v in schema.items() if k not in _TYPED_KEYWORDS and k != "type"}
    out.update(new)
    return out


def mutate_types(api: dict, rng: random.Random, ctx: Ctx) -> bool:
    props = _props(api)
    names = sorted(props)
    if not names:
        return False
    n = rng.choice(names)
    s = props[n]
    t = s.get("type")
    desc = s.get("description", vocab.humanize(n) + ".")
    if t == "string" and "enum" not in s:
        item = {k: v for k, v in s.items() if k in ("type", "format", "pattern", "minLength", "maxLength")}
        props[n] = _retype(s, {"type": "array", "items": item, "description": f"One or more values. {desc}"})
    elif t == "string":   # categorical -> a weighted choice object
        props[n] = _retype(s, {"type": "object", "description": desc, "required": ["choice"], "properties": {
            "choice": {"type": "string", "enum": s["enum"], "description": "Selected option."},
            "weight": {"type": "number", "minimum": 0, "maximum": 1, "description": "How strongly to prefer it."}}})
    elif t in ("integer", "number"):
        units = _units_for(n)
        if units is None or rng.random() < 0.5:
            props[n] = _retype(s, {"type": "number" if t == "integer" else "integer", "description": desc})
        else:   # a quantity with its unit: nested object; the amount keeps the bounds it had
            bounds = {k: v for k, v in s.items() if k in ("minimum", "maximum")}
            props[n] = _retype(s, {"type": "object", "description": desc, "required": ["value"], "properties": {
                "value": {"type": t, "description": "Numeric amount.", **bounds},
                "unit": {"type": "string", "enum": units, "description": "Unit of the amount."}}})
    elif t == "boolean":
        props[n] = _retype(s, {"type": "string", "enum": ["yes", "no", "auto"], "description": desc})
    elif t == "array":
        items = s.get("items", {})
        if items.get("type") in ("object", "array"):
            props[n] = _retype(s, {"type": "array", "description": f"Groups of entries. {desc}", "items": {
                "type": "array", "items": items}})
        else:   # list of scalars -> list of labelled objects
            props[n] = _retype(s, {"type": "array", "description": desc, "items": {
                "type": "object", "required": ["value"], "properties": {
                    "value": {**items, "description": "The value."},
                    "label": {"type": "string", "description": "Optional label for the value."}}}})
    elif t == "object":
        fit = [shape for shape, need in (("date_range", "time"), ("coordinates", "place"), ("range", "money"))
               if need in contexts(props, ctx.role) and shape not in s.get("properties", {})]
        if not fit:
            return False
        extra = vocab.object_schema(rng.choice(fit), "Additional qualifiers.")
        props[n] = {**s, "properties": {**s.get("properties", {}), "qualifiers": extra}}
    else:
        return False
    return True


# Units a measured amount may come in, by the unit its name ends in; money comes in currencies.
_UNIT_CHOICES = {"kg": ["kg", "lb"], "km": ["km", "mi"], "cm": ["cm", "in"], "mm": ["mm", "in"], "m": ["m", "ft"],
                 "m2": ["m2", "sq ft"], "m3": ["m3", "gal"], "ml": ["ml", "fl oz"], "grams": ["g", "oz"],
                 "minutes": ["minutes", "hours"], "hours": ["hours", "days"], "days": ["days", "weeks"],
                 "months": ["months", "years"], "seconds": ["seconds", "minutes"]}


def _units_for(name: str) -> list[str] | None:
    """The units a numeric parameter may be given in, or None where a unit makes no sense (a count, a
    year, a latitude, a rating)."""
    kind = vocab.kind_of(name)
    if kind == "money":
        return ["USD", "EUR", "GBP", "JPY"]
    last = tokens(name)[-1] if tokens(name) else ""
    if kind in ("measure", "duration") and last in _UNIT_CHOICES:
        return list(_UNIT_CHOICES[last])
    return ["kg", "lb", "m", "ft"] if kind == "measure" and last in ("weight", "height", "length", "width") else None


def change_returns(api: dict, rng: random.Random, ctx: Ctx) -> bool:
    r = api["returns"]
    if r.get("type") != "object":   # a bare value becomes a field of a structured result
        r = api["returns"] = {"type": "object", "description": "Result.", "required": ["result"],
                              "properties": {"result": r}}
    props = r.setdefault("properties", {})
    choice = rng.randrange(4)
    if choice == 0 and "data" not in props:
        api["returns"] = {"type": "object", "description": "Response envelope.", "required": ["data"], "properties": {
            "data": r, "meta": {"type": "object", "description": "Request metadata.", "properties": {
                "request_id": {"type": "string", "description": "Server-side request identifier."},
                "generated_at": {"type": "string", "format": "date-time", "description": "When the answer was produced."}}}}}
    elif choice == 1:
        props["warnings"] = {"type": "array", "description": "Non-fatal problems.", "items": {
            "type": "object", "properties": {"code": {"type": "string", "description": "Warning code."},
                                             "message": {"type": "string", "description": "What went wrong."}}}}
    elif choice == 2:
        props["next_page_token"] = {"type": ["string", "null"], "description": "Token for the next page, null on the last."}
    else:
        props["links"] = {"type": "object", "description": "Related resources.", "properties": {
            "self": {"type": "string", "format": "uri", "description": "This resource."},
            "help": {"type": "string", "format": "uri", "description": "Documentation."}}}
    return True


OPERATORS = {"add_functionality": add_functionality, "add_parameters": add_parameters,
             "add_constraints": add_constraints, "mutate_types": mutate_types, "change_returns": change_returns}
