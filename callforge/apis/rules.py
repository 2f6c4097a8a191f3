"""API-definition rules: the first layer of ToolACE's verification, applied to every API that enters
the pool (written offline, written by a model, or imported).

`check_api(api)` returns a list of Violation(code, detail); empty means the API passes. Codes are
stable (CODES: the `api.` table of callforge.core.reasons) and go into data/apis_rejected.jsonl and the
stage's stats. Pool-level rules (unique names, near-duplicates) live in callforge.apis.pool; their codes
are in that table too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jsonschema_rs

from callforge.core import reasons

CODES = reasons.API   # this layer's codes, from the one registry

_PARAM_NAME = re.compile(r"^\S{1,64}$")
_TYPED_KEYS = ("type", "x-type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref")
_BOUNDS = (("minimum", "maximum"), ("exclusiveMinimum", "exclusiveMaximum"), ("minItems", "maxItems"),
           ("minLength", "maxLength"), ("minProperties", "maxProperties"))
_PY_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
             "array": (list,), "object": (dict,), "null": (type(None),)}


@dataclass(frozen=True)
class Violation:
    code: str
    detail: str = ""


@dataclass(frozen=True)
class Rules:
    """The rule set's knobs: name_pattern and describe_nested come from the `apis` config section."""
    name_pattern: str
    describe_nested: bool                # also demand descriptions on properties of nested objects
    require_typed_returns: bool = True   # written APIs state a result type; imports may leave it open ({})

    @classmethod
    def of(cls, apis, **kw) -> "Rules":
        """The rules an `apis` config section sets (kw: require_typed_returns)."""
        return cls(name_pattern=apis.name_pattern, describe_nested=apis.describe_nested, **kw)



def check_api(api, rules: Rules, declared_params: dict | None = None) -> list[Violation]:
    """All rule violations of one API in internal form. `declared_params` is the parameters schema
    as the source wrote it (before normalisation), so a BFCL "any" counts as a declared type."""
    if not isinstance(api, dict):
        return [Violation("api.not_object", type(api).__name__)]
    out: list[Violation] = []
    name = api.get("name")
    if not isinstance(name, str) or not name.strip():
        out.append(Violation("api.missing_name"))
    elif not _name_re(rules.name_pattern).match(name) or "  " in name or name != name.strip():
        out.append(Violation("api.bad_name", name[:80]))
    desc = api.get("description")
    if not isinstance(desc, str) or not desc.strip():
        out.append(Violation("api.missing_description"))

    params = api.get("parameters")
    if params is None:
        out.append(Violation("api.missing_parameters"))
    elif not isinstance(params, dict) or params.get("type") != "object" or not isinstance(params.get("properties"), dict):
        out.append(Violation("api.params_not_object"))
    else:
        out += _schema_valid(params, "api.schema_invalid")
        out += _property_rules(params, declared_params if isinstance(declared_params, dict) else params, rules)

    if "returns" not in api:
        out.append(Violation("api.missing_returns"))
    else:
        ret = api["returns"]
        if not isinstance(ret, dict):
            out.append(Violation("api.returns_invalid", "not an object"))
        else:
            out += _schema_valid(ret, "api.returns_invalid")
            if rules.require_typed_returns and not any(k in ret for k in _TYPED_KEYS):
                out.append(Violation("api.returns_untyped"))
            out += _keyword_rules(ret, "returns")
    return out


_NAME_RES: dict[str, re.Pattern] = {}


def _name_re(pattern: str) -> re.Pattern:
    r = _NAME_RES.get(pattern)
    if r is None:
        r = _NAME_RES[pattern] = re.compile(pattern)
    return r


def _schema_valid(schema: dict, code: str) -> list[Violation]:
    # jsonschema-rs checks against the draft 2020-12 metaschema in microseconds (the pure-Python
    # check_schema takes ~1 ms, too slow for a 26k-API pool); its message names the keyword.
    if jsonschema_rs.meta.is_valid(schema):
        return []
    try:
        jsonschema_rs.meta.validate(schema)
        detail = "invalid"
    except jsonschema_rs.ValidationError as e:
        detail = e.message[:200]
    except Exception as e:  # a schema the meta validator cannot even read
        detail = str(e)[:200]
    return [Violation(code, detail)]


def _property_rules(params: dict, declared: dict, rules: Rules) -> list[Violation]:
    out: list[Violation] = []
    props = params["properties"]
    req = params.get("required", [])
    if isinstance(req, list):
        missing = [r for r in req if r not in props]
        if missing:
            out.append(Violation("api.required_not_subset", ", ".join(map(str, missing))[:200]))
    for pname in props:
        if not isinstance(pname, str) or not _PARAM_NAME.match(pname):
            out.append(Violation("api.bad_param_name", repr(pname)[:80]))
    # typed/described: walk the declared form (types as written), bounds/patterns: the normalised form
    for path, s in _subschemas(declared, ("parameters",)):
        props = s.get("properties")
        if not isinstance(props, dict):
            continue
        top = len(path) == 1
        for k, schema in props.items():
            if not isinstance(schema, dict):
                continue
            if not any(key in schema for key in _TYPED_KEYS):
                out.append(Violation("api.property_untyped", _where(path + (k,))))
            if (top or rules.describe_nested) and not (isinstance(schema.get("description"), str) and schema["description"].strip()):
                out.append(Violation("api.property_undescribed", _where(path + (k,))))
    out += _keyword_rules(params, "parameters")
    return out


def _subschemas(schema, path: tuple):
    """(path, schema) for the schema and every schema nested in it; paths are tuples, joined only on failure."""
    stack = [(path, schema)]
    while stack:
        p, s = stack.pop()
        if not isinstance(s, dict):
            continue
        yield p, s
        props = s.get("properties")
        if isinstance(props, dict):
            stack.extend((p + (k,), v) for k, v in props.items())
        for key in ("items", "additionalProperties"):
            sub = s.get(key)
            if isinstance(sub, dict):
                stack.append((p + ("[]",), sub))
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            subs = s.get(key)
            if isinstance(subs, list):
                stack.extend((p + (f"<{i}>",), sub) for i, sub in enumerate(subs))


def _where(path: tuple) -> str:
    return ".".join(path)


def _keyword_rules(schema: dict, root: str) -> list[Violation]:
    """What the metaschema cannot see: regexes that do not compile, inverted bounds, enum/type clashes,
    nested required lists naming absent properties."""
    out: list[Violation] = []
    for path, s in _subschemas(schema, (root,)):
        pat = s.get("pattern")
        if pat is not None and isinstance(pat, str):
            try:
                _compile(pat)
            except re.error as e:
                out.append(Violation("api.bad_pattern", f"{_where(path)}: {e}"[:200]))
        for lo, hi in _BOUNDS:
            if lo in s and hi in s:
                a, b = s[lo], s[hi]
                if _num(a) and _num(b) and a > b:
                    out.append(Violation("api.bad_bounds", f"{_where(path)}: {lo} {a} > {hi} {b}"))
        enum = s.get("enum")
        if enum is not None:
            t = s.get("type")
            if isinstance(enum, list) and isinstance(t, str) and t in _PY_TYPES:
                bad = [v for v in enum if not _is_type(v, t)]
                if bad:
                    out.append(Violation("api.enum_type_mismatch", f"{_where(path)}: {bad[0]!r} is not {t}"[:200]))
        req = s.get("required")
        if len(path) > 1 and isinstance(req, list) and isinstance(s.get("properties"), dict):
            missing = [r for r in req if r not in s["properties"]]
            if missing:
                out.append(Violation("api.required_not_subset", f"{_where(path)}: {', '.join(map(str, missing))}"[:200]))
    return out


@lru_cache(maxsize=4096)
def _compile(pattern: str):
    return re.compile(pattern)


def _num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_type(v, t: str) -> bool:
    if t in ("integer", "number") and isinstance(v, bool):
        return False
    if t == "integer" and isinstance(v, float):
        return v.is_integer()
    return isinstance(v, _PY_TYPES[t])


def codes(violations: list[Violation]) -> list[str]:
    """Distinct codes in first-seen order."""
    return list(dict.fromkeys(v.code for v in violations))
