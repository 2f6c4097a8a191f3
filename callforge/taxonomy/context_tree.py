"""The API context tree (ToolACE's speciation): primary domain -> sub-domain -> functionality nodes.

Tree form (data/taxonomy.json "root"): every node is {"name", "description", "children": [...]};
leaves (functionalities) have no children and may carry "params": {"required": [...], "optional": [...]}
(parameter-name hints, present in the offline tree). Two ways to build it:
  - offline: callforge/data/taxonomy.yaml, written in this project;
  - LLM: speciation from configured root domains or seed documents, expanded level by level with
    breadth/depth limits; an unusable answer leaves its node a leaf and is recorded with its reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import yaml

from callforge.taxonomy import prompts

OFFLINE_FILE = "taxonomy.yaml"


@dataclass(frozen=True)
class Leaf:
    path: tuple[str, ...]                 # primary domain, ..., functionality
    description: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def domain(self) -> str:
        return self.path[0]


class TaxonomyError(ValueError):
    pass


# -- the offline tree -----------------------------------------------------------------------------
def load_offline() -> dict:
    """The tree written in this project, as a root node."""
    text = resources.files("callforge.data").joinpath(OFFLINE_FILE).read_text(encoding="utf-8")
    return tree_from_yaml(yaml.safe_load(text))


def tree_from_yaml(doc: dict) -> dict:
    domains = []
    for d in doc["domains"]:
        subs = []
        for s in d["subdomains"]:
            subs.append(node(s["name"], s.get("description", ""), [_leaf_from_line(x) for x in s["leaves"]]))
        domains.append(node(d["name"], d.get("description", ""), subs))
    return node("root", "API context tree", domains)


def _leaf_from_line(line: str) -> dict:
    """`name | description | required params ; optional params` -> a leaf node."""
    parts = [p.strip() for p in line.split("|")]
    if len(parts) != 3 or not parts[0]:
        raise TaxonomyError(f"taxonomy leaf needs 'name | description | params': {line!r}")
    req, _, opt = parts[2].partition(";")
    return {"name": parts[0], "description": parts[1], "children": [],
            "params": {"required": req.split(), "optional": opt.split()}}


def node(name: str, description: str, children: list | None = None) -> dict:
    return {"name": name, "description": description, "children": children or []}


# -- reading a tree -------------------------------------------------------------------------------
def leaves(root: dict) -> list[Leaf]:
    """All functionality leaves under the root, in tree order."""
    out: list[Leaf] = []

    def walk(n: dict, path: tuple[str, ...]):
        kids = n.get("children") or []
        if not kids:
            if path:
                p = n.get("params") or {}
                out.append(Leaf(path, n.get("description", ""), tuple(p.get("required", ())), tuple(p.get("optional", ()))))
            return
        for c in kids:
            walk(c, path + (c["name"],))

    for d in root.get("children") or []:
        walk(d, (d["name"],))
    return out


def level_counts(root: dict) -> dict:
    """Nodes per level (level_1 = primary domains) and the number of leaves."""
    counts: dict[str, int] = {}
    frontier, level = root.get("children") or [], 1
    while frontier:
        counts[f"level_{level}"] = len(frontier)
        frontier = [c for n in frontier for c in (n.get("children") or [])]
        level += 1
    return {"nodes_per_level": counts, "primary_domains": counts.get("level_1", 0), "leaves": len(leaves(root)),
            "depth": level - 1}


def check_tree(root: dict) -> list[str]:
    """Structural problems of a tree (empty for a usable one)."""
    errs: list[str] = []

    def walk(n, path):
        if not isinstance(n, dict) or not isinstance(n.get("name"), str) or not n["name"].strip():
            errs.append(f"{'/'.join(path) or '<root>'}: node without a name")
            return
        kids = n.get("children", [])
        if not isinstance(kids, list):
            errs.append(f"{'/'.join(path)}: children is not a list")
            return
        names = [k.get("name") for k in kids if isinstance(k, dict)]
        if len(set(names)) != len(names):
            errs.append(f"{'/'.join(path) or '<root>'}: duplicate child names")
        for k in kids:
            walk(k, path + [k.get("name", "?") if isinstance(k, dict) else "?"])

    walk(root, [])
    if not leaves(root):
        errs.append("the tree has no functionality leaves")
    return errs[:20]


# -- the LLM path: speciation ---------------------------------------------------------------------
_SPACES = re.compile(r"\s+")


def clean_children(items, breadth: int, taken: set[str] | None = None) -> list[dict]:
    """Model-proposed children -> at most `breadth` well-formed, distinct nodes (names trimmed)."""
    out, seen = [], set(taken or ())
    for it in items:
        name = _SPACES.sub(" ", str(it.get("name", ""))).strip().strip(".")[:80]
        desc = _SPACES.sub(" ", str(it.get("description", ""))).strip()[:400]
        key = name.lower()
        if not name or key in seen:
            continue
        seen.add(key)
        out.append(node(name, desc))
        if len(out) >= breadth:
            break
    return out


def speciate(gw, roots: list[dict], depth: int, breadth: int, max_nodes: int, docs: list[tuple[str, str]] = ()):
    """Grow a tree with a model. `roots`: [{"name","description"}] primary domains; `docs`:
    [(doc_id, text)] seed documents, each read into one domain with its functionalities.
    Returns (root node, failures [{"path","reason","detail"}])."""
    failures: list[dict] = []
    domains = [node(r["name"], r.get("description", "")) for r in roots]
    if docs:
        results = gw.run_all([gw.complete(prompts.speciate_doc(text, breadth), json_schema=prompts.DOC_SCHEMA,
                                          tag="taxonomy.doc", key=("taxonomy.doc", doc_id)) for doc_id, text in docs])
        for (doc_id, _), res in zip(docs, results):
            if not res.ok:
                failures.append({"path": [f"doc:{doc_id}"], "reason": res.reason, "detail": res.detail[:300]})
                continue
            kids = clean_children(res.data["functionalities"], breadth)
            dom = node(res.data["domain"]["name"].strip()[:80], res.data["domain"].get("description", "").strip(), kids)
            if not dom["name"] or not kids:
                failures.append({"path": [f"doc:{doc_id}"], "reason": "taxonomy.empty_answer", "detail": "no domain or functionalities"})
                continue
            if dom["name"].lower() in {d["name"].lower() for d in domains}:
                failures.append({"path": [f"doc:{doc_id}"], "reason": "taxonomy.duplicate_domain", "detail": dom["name"]})
                continue
            domains.append(dom)
    root = node("root", "API context tree", domains)
    total = len(domains) + sum(len(d["children"]) for d in domains)

    # expand level by level: every node above `depth` without children asks for its children
    frontier = [(d, (d["name"],)) for d in domains]
    for level in range(1, depth):
        todo = [(n, p) for n, p in frontier if not n["children"]]
        todo = todo[: max(0, -(-(max_nodes - total) // max(1, breadth)))]   # ceil: enough asks to fill the budget
        results = gw.run_all([gw.complete(prompts.expand_node(p, n["description"], breadth, level, depth),
                                          json_schema=prompts.CHILDREN_SCHEMA, tag="taxonomy.expand",
                                          key=("taxonomy.expand", *p)) for n, p in todo])   # a node's own seed
        for (n, p), res in zip(todo, results):
            if not res.ok:
                failures.append({"path": list(p), "reason": res.reason, "detail": (res.detail or "")[:300]})
                continue
            kids = clean_children(res.data["children"], min(breadth, max(0, max_nodes - total)))
            if not kids:
                failures.append({"path": list(p), "reason": "taxonomy.empty_answer", "detail": "no usable children"})
                continue
            n["children"] = kids
            total += len(kids)
        frontier = [(c, p + (c["name"],)) for n, p in frontier for c in n["children"]]
    return root, failures
