"""The offline API writer (provider "offline", model "procedural-v1"): deterministic procedures that
play the model's part in API evolution. It writes an API for a sampled subtree of the context tree,
conditioned on one example from the buffer (naming style, response envelope, a shared parameter),
then applies the diversity operators. It invents no judgement: every choice is a seeded draw.
"""
from __future__ import annotations

import random
import re

from callforge.apis import self_evolution as operators
from callforge.calling.offline import schemas
from callforge.calling.offline.names import humanize
from callforge.taxonomy.context_tree import Leaf

MODEL = "procedural-v1"

_QUALIFIERS = ["pro", "lite", "plus", "v2", "v3", "advanced", "basic", "quick", "bulk", "batch", "live",
               "realtime", "global", "local", "smart", "express", "instant", "secure", "daily", "extended",
               "detailed", "summary", "simple", "premium", "open", "public", "direct", "fast", "full", "mini",
               "online", "cloud", "mobile", "hub", "suite", "manager", "service", "tool", "engine", "finder",
               "tracker", "planner", "helper", "assistant", "checker", "lookup", "insights", "console"]
_QUALIFIER_NOTE = {
    "bulk": "Accepts several requests in one call.", "batch": "Accepts several requests in one call.",
    "live": "Works on live data.", "realtime": "Works on live data.", "instant": "Answers immediately from cache.",
    "lite": "A lightweight variant with fewer options.", "basic": "A lightweight variant with fewer options.",
    "mini": "A lightweight variant with fewer options.", "simple": "A lightweight variant with fewer options.",
    "pro": "An extended variant for power users.", "premium": "An extended variant for power users.",
    "advanced": "An extended variant for power users.", "extended": "An extended variant for power users.",
    "global": "Covers all supported countries.", "local": "Restricted to the caller's region.",
    "secure": "Requires an authenticated caller.", "v2": "Second version of the interface.",
    "v3": "Third version of the interface.", "summary": "Returns a condensed answer.",
    "detailed": "Returns a detailed answer.",
}
_SYLLABLES = ["zen", "ora", "tel", "vex", "nova", "lum", "kai", "pix", "quo", "ria", "sol", "tra", "vio", "mar",
              "cor", "dex", "fin", "geo", "hel", "ion", "jet", "kin", "lyt", "mox", "nex", "opt", "pul", "qua",
              "rex", "syn", "tek", "uni", "vor", "wis", "xen", "yon", "zap", "bel", "cyr", "dor"]
_STYLES = ("snake", "camel", "dotted", "title")
_COLLECTIVE = ["manager", "hub", "toolkit", "service", "center", "suite", "desk", "studio"]

_LIST_VERBS = {"search", "find", "list", "recommend", "compare"}
_ACTION_VERBS = {"activate", "add", "allocate", "apply", "arm", "assign", "book", "build", "buy", "change", "collect",
                 "create", "deploy", "enable", "enroll", "follow", "grant", "invite", "lock", "log", "make", "merge",
                 "open", "pay", "place", "post", "rate", "record", "refill", "register", "renew", "rent", "report",
                 "request", "reserve", "reset", "schedule", "send", "set", "start", "submit", "subscribe", "transfer"}
_CANCEL_VERBS = {"cancel", "delete", "remove", "pause", "freeze", "block", "complete", "unlock", "stop"}
_CALC_VERBS = {"calculate", "compute", "estimate", "convert", "predict", "project", "evaluate", "solve", "count",
               "split", "scale", "fit", "run", "factorize", "differentiate", "integrate", "multiply", "balance",
               "size", "plan", "optimize", "forecast", "roll", "shuffle", "describe"}
_CHECK_VERBS = {"check", "validate", "scan", "detect", "assess", "audit", "screen", "test", "moderate", "grade",
                "diagnose", "identify", "decode", "lookup"}
_TEXT_VERBS = {"generate", "summarize", "translate", "format", "encode", "encrypt", "shorten", "draft", "lint",
               "extract", "define", "parse"}


# -- naming -----------------------------------------------------------------------------------------
def style_of(name: str) -> str:
    if " " in name:
        return "title"
    if "." in name:
        return "dotted"
    if re.search(r"[a-z][A-Z]", name):
        return "camel"
    return "snake"


def _brand(rng: random.Random) -> str:
    return (rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES)).capitalize()


def _render(words: list[str], style: str, brand: str | None) -> str:
    words = [w for w in words if w]
    if style == "camel":
        s = words[0].lower() + "".join(w.capitalize() for w in words[1:])
        return f"{brand.lower()}{s[:1].upper()}{s[1:]}" if brand else s
    if style == "title":
        return " ".join(([brand] if brand else []) + [w.capitalize() for w in words])
    snake = "_".join(w.lower() for w in words)
    if style == "dotted":
        return f"{(brand or 'api').lower()}.{snake}"
    return f"{brand.lower()}_{snake}" if brand else snake


_VERB_SYNONYMS = {
    "search": ["search", "find", "query", "lookup", "browse"], "find": ["find", "search", "locate", "discover"],
    "list": ["list", "get", "fetch", "enumerate"], "get": ["get", "fetch", "retrieve", "read", "show", "query"],
    "create": ["create", "add", "new", "make"], "book": ["book", "reserve", "schedule"],
    "calculate": ["calculate", "compute", "estimate"], "compute": ["compute", "calculate", "eval"],
    "estimate": ["estimate", "predict", "approximate"], "check": ["check", "verify", "validate", "inspect"],
    "send": ["send", "dispatch", "deliver"], "cancel": ["cancel", "void", "revoke"],
    "set": ["set", "update", "configure"], "convert": ["convert", "transform", "translate"],
    "track": ["track", "monitor", "follow"], "generate": ["generate", "create", "produce", "build"],
}


def _name(leaves: list[Leaf], scope: str, style: str, rng: random.Random) -> tuple[str, str | None]:
    primary = leaves[0]
    words = _slug(primary.name).split("_")
    if words[0] in _VERB_SYNONYMS and rng.random() < 0.6:
        words[0] = rng.choice(_VERB_SYNONYMS[words[0]])
    if len(words) > 1 and rng.random() < 0.25:   # noun-first: flights_search
        words = words[1:] + words[:1]
    if scope == "detailed" and len(primary.path) > 1 and rng.random() < 0.5:
        words = _slug(primary.path[-2]).split("_") + [rng.choice(_COLLECTIVE)]
    qualifier = rng.choice(_QUALIFIERS) if rng.random() < 0.6 else None
    brand = _brand(rng) if (style == "dotted" or rng.random() < 0.35) else None
    name = _render(words + ([qualifier] if qualifier else []), style, brand)
    return name[:64].rstrip(" _.-"), qualifier


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "api"


# -- descriptions and returns -------------------------------------------------------------------------
def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(".") else text + "."


def _describe(leaves: list[Leaf], optional: list[str], qualifier: str | None, rng: random.Random) -> str:
    parts = [_sentence(leaves[0].description)]
    if len(leaves) > 1:
        also = "; ".join(l.description[:1].lower() + l.description[1:] for l in leaves[1:])
        parts.append(f"It also covers: {also}.")
    if optional:
        shown = [humanize(p).lower() for p in optional[:4]]
        phrase = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1]
        parts.append(rng.choice([f"Optional inputs: {phrase}.", f"Results can be tuned by {phrase}.",
                                 f"Also accepts {phrase}."]))
    if qualifier in _QUALIFIER_NOTE:
        parts.append(_QUALIFIER_NOTE[qualifier])
    return " ".join(parts)


def _field_schema(param: str) -> tuple[str, dict] | None:
    """A result field that mirrors a scalar input (max_price -> price)."""
    field = re.sub(r"^(min|max|target)_", "", param)
    s = schemas.schema_for(field, schemas.kind_of(param))   # min_magnitude's field is a magnitude: a number
    if s["type"] in ("array", "object"):
        return None
    return field, s


def _record(noun: str, params: list[str], rng: random.Random, extra: int = 3) -> dict:
    props = {"id": {"type": "string", "description": f"Identifier of the {noun}."},
             "name": {"type": "string", "description": f"Display name of the {noun}."}}
    fields = [f for f in (_field_schema(p) for p in params) if f and f[0] not in props]
    for field, s in fields[: rng.randint(1, extra)]:
        props[field] = s
    return {"type": "object", "description": f"One {noun}.", "required": ["id"], "properties": props}


def role_of(leaf: Leaf) -> str:
    """What a functionality does, read from its verb: "list" (results come back), "cancel", "calc",
    "check", "text", "action" (something is done or recorded) or "get"."""
    verb, _, rest = _slug(leaf.name).partition("_")
    noun = rest or verb
    if verb in _LIST_VERBS or verb == "get" and noun.endswith("s") and not noun.endswith(("ss", "us", "is")):
        return "list"
    for role, verbs in (("cancel", _CANCEL_VERBS), ("calc", _CALC_VERBS), ("check", _CHECK_VERBS),
                        ("text", _TEXT_VERBS), ("action", _ACTION_VERBS)):
        if verb in verbs:
            return role
    return "get"


def returns_for(leaf: Leaf, params: list[str], rng: random.Random) -> dict:
    verb, _, rest = _slug(leaf.name).partition("_")
    noun = (rest or verb).replace("_", " ")
    role = role_of(leaf)
    if role == "list":
        item = _record(noun.rstrip("s") if noun.endswith("s") else noun, params, rng)
        return {"type": "object", "description": f"Matching {noun}.", "required": ["results"], "properties": {
            "results": {"type": "array", "description": "Results, best first.", "items": item},
            "total_count": {"type": "integer", "minimum": 0, "description": "Number of matches in total."}}}
    if role == "cancel":
        return {"type": "object", "description": "Outcome of the request.", "required": ["success"], "properties": {
            "success": {"type": "boolean", "description": "Whether the change took effect."},
            "status": {"type": "string", "enum": ["done", "already_done", "refused"], "description": "Resulting state."},
            "effective_at": {"type": "string", "format": "date-time", "description": "When it took effect."}}}
    if role == "calc":
        return {"type": "object", "description": f"Computed {noun}.", "required": ["result"], "properties": {
            "result": {"type": "number", "description": f"The computed {noun}."},
            "unit": {"type": "string", "description": "Unit of the result, if any."},
            "explanation": {"type": "string", "description": "How the result was obtained."}}}
    if role == "check":
        return {"type": "object", "description": "Check outcome.", "required": ["passed"], "properties": {
            "passed": {"type": "boolean", "description": "True when nothing problematic was found."},
            "score": {"type": "number", "minimum": 0, "maximum": 1, "description": "Confidence or risk score."},
            "findings": {"type": "array", "items": {"type": "string"}, "description": "What was found."}}}
    if role == "text":
        return {"type": "object", "description": "Produced content.", "required": ["output"], "properties": {
            "output": {"type": "string", "description": f"The {noun}."},
            "length": {"type": "integer", "minimum": 0, "description": "Length of the output in characters."}}}
    if role == "action":
        props = {"id": {"type": "string", "description": f"Identifier of the new {noun}."},
                 "status": {"type": "string", "enum": ["confirmed", "pending", "failed"], "description": "State of the request."},
                 "created_at": {"type": "string", "format": "date-time", "description": "When it was recorded."}}
        for field, s in [f for f in (_field_schema(p) for p in params) if f][:2]:
            props.setdefault(field, s)
        return {"type": "object", "description": f"The recorded {noun}.", "required": ["id", "status"], "properties": props}
    rec = _record(noun, params, rng, extra=4)
    rec["properties"].pop("id", None)
    rec["required"] = ["name"]
    return {"type": "object", "description": f"The {noun}.", "required": [_slug(noun)], "properties": {
        _slug(noun): rec, "retrieved_at": {"type": "string", "format": "date-time", "description": "Time of the data."}}}


# -- the writer ---------------------------------------------------------------------------------------
def write_api(leaves: list[Leaf], scope: str, siblings: list[Leaf], example: dict | None, ops: list[str],
              rng: random.Random, max_params: int = 16) -> tuple[dict, dict]:
    """One API for a sampled subtree → (api in internal form, meta about how it was made)."""
    primary = leaves[0]
    inherited: list[str] = []
    style = rng.choice(_STYLES)
    if example is not None and rng.random() < 0.7:
        style = style_of(example["name"])
        inherited.append("naming_style")
    many = example is not None and len(example.get("parameters", {}).get("properties", {})) > 6

    required = list(primary.required) or ["query"]
    optional = [p for p in primary.optional if rng.random() < (0.8 if many else 0.55)]
    for other in leaves[1:]:
        optional += list(other.required) + [p for p in other.optional if rng.random() < 0.3]
    if example is not None and rng.random() < 0.5:
        shared = [p for p in sorted(example.get("parameters", {}).get("properties", {}))
                  if p in schemas.GENERIC_PARAMS and operators.plausible(p, required + optional, role_of(primary))]
        if shared:
            optional.append(rng.choice(shared))
            inherited.append("shared_parameter")
    names = list(dict.fromkeys(required + optional))[:max_params]
    optional = [p for p in names if p not in required]

    name, qualifier = _name(leaves, scope, style, rng)
    api = {"name": name, "description": _describe(leaves, optional, qualifier, rng),
           "parameters": {"type": "object", "properties": {p: schemas.schema_for(p) for p in names},
                          "required": [p for p in required if p in names]},
           "returns": returns_for(primary, names, rng),
           "domain": primary.domain, "path": list(primary.path), "source": "offline"}
    if example is not None and "data" in example.get("returns", {}).get("properties", {}) and rng.random() < 0.5:
        api["returns"] = {"type": "object", "description": "Response envelope.", "required": ["data"],
                          "properties": {"data": api["returns"]}}
        inherited.append("response_envelope")

    ctx = operators.Ctx(siblings=siblings, max_params=max_params, covered=[l.name for l in leaves], role=role_of(primary))
    applied = [op for op in ops if operators.OPERATORS[op](api, rng, ctx)]
    meta = {"scope": scope, "nodes": ctx.covered, "example": example["name"] if example else None,
            "inherited": inherited, "operators": applied}
    return api, meta


def make_writer(max_params: int = 16):
    """Batch writer for Pool.run: offline jobs need no round trip, so a round is a plain loop."""
    from callforge.apis.pool import Written

    def write_batch(jobs) -> list:
        return [Written(*write_api(j.leaves, j.scope, j.siblings, j.example, j.operators, j.rng, max_params))
                for j in jobs]
    return write_batch
