"""The API pool as the dialog stage sees it: each tool with its parameters split, where it sits
in the domain tree, the scalar fields of its result, and which results can feed which parameters.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import jsonschema_rs

from callforge.apis.dedup import shingles
from callforge.calling.offline.names import singular, tokens

SCALARS = ("string", "integer", "number")
# Result fields named like this are identifiers another call can take.
_ID_LEAVES = frozenset({"id", "code", "number", "key", "name", "ref", "reference"})
_GENERIC = frozenset({"id", "ids", "name", "code", "number", "key", "value", "type", "data", "result", "info",
                      "list", "item", "items", "get", "set", "new", "count", "total", "no", "num"})


@dataclass
class Api:
    idx: int
    tool: dict
    name: str
    domain: str
    sub: str
    props: dict
    required: tuple[str, ...]
    optional: tuple[str, ...]
    returns: dict
    leaves: list[tuple[tuple, dict]] = field(default_factory=list)  # (path, schema); "[]" = first item
    leaf: str | None = None          # its function's node in the context tree (path[-1] of a 3-level path)
    nodes: frozenset = frozenset()   # every node it serves: its leaf and the functions merged into it (meta.nodes)

    @cached_property
    def bigrams(self) -> set[str]:
        """Word bigrams of name + description: what near-identical APIs share (clones.py)."""
        return shingles(self.name, self.tool.get("description", ""))

    @cached_property
    def required_names(self) -> frozenset[str]:
        """Required parameter names, spelling-free (checkInDate = check_in_date)."""
        return frozenset("".join(tokens(p)) for p in self.required)

    @property
    def params_validator(self):
        return validators(self.tool)[0]

    @property
    def returns_validator(self):
        return validators(self.tool)[1]


# Compiled (parameters, returns) validators per tool object, compiled on first use in each process.
# Keyed by identity; the entry holds the tool, so its id is not reused while cached.
_VALIDATORS: dict[int, tuple] = {}


def validators(tool: dict) -> tuple:
    hit = _VALIDATORS.get(id(tool))
    if hit is None or hit[0] is not tool:
        if len(_VALIDATORS) >= 65536:
            _VALIDATORS.clear()
        hit = _VALIDATORS[id(tool)] = (tool, jsonschema_rs.validator_for(tool.get("parameters") or {}),
                                       jsonschema_rs.validator_for(tool.get("returns") or {}))
    return hit[1], hit[2]


@dataclass(frozen=True)
class Chain:
    """A result field of `a` (at `path`) that can supply parameter `param` of `b`."""
    a: int
    path: tuple
    b: int
    param: str


def _stype(s: dict) -> str | None:
    t = s.get("type") if isinstance(s, dict) else None
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t


def result_leaves(schema: dict, path: tuple = (), depth: int = 0) -> list[tuple[tuple, dict]]:
    """Scalar fields of a result schema, with the path that reaches them (first array item)."""
    out: list[tuple[tuple, dict]] = []
    if not isinstance(schema, dict) or depth > 6:
        return out
    t = _stype(schema)
    if t == "object" or "properties" in schema:
        for k, s in (schema.get("properties") or {}).items():
            out.extend(result_leaves(s, path + (k,), depth + 1))
    elif t == "array" and isinstance(schema.get("items"), dict):
        if schema.get("maxItems", 1) >= 1:
            out.extend(result_leaves(schema["items"], path + ("[]",), depth + 1))
    elif t in SCALARS and path and "const" not in schema and not schema.get("enum"):
        out.append((path, schema))
    return out


def leaf_names(path: tuple) -> set[str]:
    """Names a result field answers to: its own, and `<parent>_<own>` for ids inside a named object
    (hotels[].id can feed hotel_id)."""
    keys = [p for p in path if p != "[]"]
    own = keys[-1].lower()
    names = {own}
    if own in _ID_LEAVES and len(keys) > 1:
        names.add(f"{singular(keys[-2]).lower()}_{own}")
    return names


# The tool definition a sample offers: the keys of callforge/schemas/tool.json (the pool's own
# bookkeeping, e.g. `meta` or `provenance`, stays in data/apis.jsonl).
TOOL_KEYS = ("name", "description", "parameters", "returns", "domain", "path", "source")


class Pool:
    def __init__(self, tools: list[dict]):
        self.apis: list[Api] = []
        for i, raw in enumerate(tools):
            t = {k: raw[k] for k in TOOL_KEYS if k in raw}
            params = t.get("parameters") or {}
            props = params.get("properties") or {}
            req = tuple(p for p in params.get("required") or () if p in props)
            opt = tuple(p for p in props if p not in req)
            path = t.get("path") or []
            domain = t.get("domain") or (path[0] if path else "general")
            sub = path[1] if len(path) > 2 else domain
            api = Api(i, t, t["name"], domain, sub, props, req, opt, t.get("returns") or {})
            api.leaves = result_leaves(api.returns)
            api.leaf = path[-1] if len(path) > 2 else None
            merged = (raw.get("meta") or {}).get("nodes") or ()
            api.nodes = frozenset([*([api.leaf] if api.leaf else []), *(n for n in merged if isinstance(n, str))])
            self.apis.append(api)
        self.by_domain: dict[str, list[int]] = defaultdict(list)
        self.by_sub: dict[tuple[str, str], list[int]] = defaultdict(list)
        for a in self.apis:
            self.by_domain[a.domain].append(a.idx)
            self.by_sub[(a.domain, a.sub)].append(a.idx)
        self.domains = sorted(self.by_domain)
        self.chains: list[Chain] = self._chains()
        self.chains_from: dict[int, list[Chain]] = defaultdict(list)
        for c in self.chains:
            self.chains_from[c.a].append(c)
        self.with_required = [a.idx for a in self.apis if a.required]
        self.with_params = [a.idx for a in self.apis if a.props]

    def __len__(self) -> int:
        return len(self.apis)

    def _chains(self) -> list[Chain]:
        """Pairs (a result field of A → a scalar parameter of B) within one domain, matched by name
        (hotel_id = hotelId = hotels[].id) or by the same distinctive words, same type. A result
        field named like one of A's own parameters only echoes the request, so it never feeds."""
        out: list[Chain] = []
        for dom in self.domains:
            ids = self.by_domain[dom]
            wanted: dict[object, list[tuple[int, str, str]]] = defaultdict(list)
            for b in ids:
                api = self.apis[b]
                for p in api.required + api.optional:
                    s = api.props[p]
                    t = _stype(s)
                    if t not in SCALARS or s.get("enum") or "const" in s:
                        continue
                    wanted[_norm(p)].append((b, p, t))
                    words = frozenset(tokens(p)) - _GENERIC
                    if words:
                        wanted[words].append((b, p, t))
            for a in ids:
                own = {_norm(p) for p in self.apis[a].props}
                seen: set[tuple[int, str]] = set()
                for path, s in self.apis[a].leaves:
                    if _norm(path[-1]) in own:
                        continue
                    t = _stype(s)
                    keys = sorted(_norm(n) for n in leaf_names(path))
                    words = frozenset(tokens(path[-1])) - _GENERIC
                    hits = [x for k in keys for x in wanted.get(k, ())] + (list(wanted.get(words, ())) if words else [])
                    for b, p, pt in hits:
                        if b != a and pt == t and (b, p) not in seen:
                            seen.add((b, p))
                            out.append(Chain(a, path, b, p))
        return out


def _norm(name: str) -> str:
    return "".join(tokens(name))
