"""Pool statistics for metrics/apis.json and MLflow: domains, parameter types, constraints, rejections."""
from __future__ import annotations

from collections import Counter
from statistics import mean, median

PARAM_TYPES = ("string", "integer", "number", "boolean", "array", "object", "nested", "untyped")
CONSTRAINTS = ("enum", "minimum", "maximum", "pattern", "format", "minItems", "maxItems", "minLength", "maxLength")


def _type(s: dict) -> str:
    t = s.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t if t in PARAM_TYPES else "untyped"


def _children(s: dict) -> list[dict]:
    kids = [v for v in (s.get("properties") or {}).values() if isinstance(v, dict)]
    for key in ("items", "additionalProperties"):
        if isinstance(s.get(key), dict):
            kids.append(s[key])
    return kids


def is_nested(s: dict) -> bool:
    """A container holding another container: a list of lists/objects, an object with a list/object field."""
    return _type(s) in ("array", "object") and any(_type(k) in ("array", "object") for k in _children(s))


def _walk(s):
    if isinstance(s, dict):
        yield s
        for k in _children(s):
            yield from _walk(k)
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for sub in s.get(key) or []:
                yield from _walk(sub)


def pool_stats(apis: list[dict], rejected: list[dict]) -> dict:
    per_domain: Counter = Counter()
    types: Counter = Counter({t: 0 for t in PARAM_TYPES})
    cons: Counter = Counter({c: 0 for c in CONSTRAINTS})
    sources: Counter = Counter()
    scopes: Counter = Counter()
    ops: Counter = Counter()
    n_params, n_required = [], []
    with_example = 0
    for a in apis:
        per_domain[a.get("domain") or "(none)"] += 1
        sources[(a.get("source") or "?").split(":")[0]] += 1
        meta = a.get("meta") or {}
        if meta.get("scope"):
            scopes[meta["scope"]] += 1
        ops.update(meta.get("operators") or [])
        with_example += bool(meta.get("example"))
        props = a["parameters"].get("properties", {})
        n_params.append(len(props))
        n_required.append(len(a["parameters"].get("required", [])))
        for p in props.values():
            if isinstance(p, dict):
                types[_type(p)] += 1
                types["nested"] += is_nested(p)
        for s in _walk(a["parameters"]):
            for c in CONSTRAINTS:
                cons[c] += c in s
    reasons: Counter = Counter()
    for r in rejected:
        reasons.update(r["reasons"])
    return {
        "apis_total": len(apis),
        "apis_by_source": dict(sorted(sources.items())),
        "apis_per_domain": dict(sorted(per_domain.items())),
        "primary_domains": len(per_domain),
        "scope": dict(sorted(scopes.items())),
        "param_types": dict(types),
        "params_per_api": _summary(n_params),
        "required_per_api": _summary(n_required),
        "constraints": dict(cons),
        "operators_applied": dict(sorted(ops.items())),
        "conditioned_on_example": with_example,
        "rejected_total": len(rejected),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "duplicates_removed": reasons.get("api.near_duplicate", 0),
        "duplicate_names": reasons.get("api.duplicate_name", 0),
    }


def _summary(xs: list[int]) -> dict:
    if not xs:
        return {"mean": 0, "median": 0, "min": 0, "max": 0}
    return {"mean": round(mean(xs), 3), "median": median(xs), "min": min(xs), "max": max(xs)}
