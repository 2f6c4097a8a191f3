"""Stage `taxonomy`: the API context tree -> data/taxonomy.json (+ metrics/taxonomy.json).

Under llm=offline (or taxonomy.source=offline) the tree written in this project; with a model,
speciation from taxonomy.root_domains / taxonomy.seed_docs, expanded to taxonomy.depth levels.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from callforge.taxonomy import context_tree as tx
from callforge.taxonomy import prompts

OUT = "data/taxonomy.json"
BUILTIN_VERSION = "builtin-v1"   # provenance of the tree written in this project


def run(cfg, ctx) -> dict:
    c = cfg.taxonomy
    if c.source == "offline" or ctx.offline:
        root, failures, source = tx.load_offline(), [], "builtin"
        provenance = {**ctx.provenance(BUILTIN_VERSION), "provider": "offline",
                      "model": f"callforge/data/{tx.OFFLINE_FILE}"}
    else:
        docs = read_seed_docs(c.seed_docs)
        root, failures = tx.speciate(ctx.gateway, root_domains(c.root_domains, docs), c.depth, c.breadth,
                                     c.max_nodes, docs)
        source, provenance = "llm", ctx.provenance(prompts.TAXONOMY_PROMPT_VERSION)

    errs = tx.check_tree(root)
    if errs:
        sys.exit(f"callforge taxonomy: unusable tree: {errs[0]}")
    ctx.write_json(ctx.path(OUT), {"version": 1, "source": source, "provenance": provenance, "root": root,
                                   "failures": failures})
    counts = tx.level_counts(root)
    ctx.kept = sum(counts["nodes_per_level"].values())
    return {**counts, "source": source, "failures": len(failures),
            "failures_by_reason": dict(sorted(Counter(f["reason"] for f in failures).items()))}


def read_seed_docs(paths) -> list[tuple[str, str]]:
    """[(file name, text)] of taxonomy.seed_docs; a missing one stops the stage naming its key."""
    docs = []
    for i, p in enumerate(paths):
        if not Path(p).is_file():
            sys.exit(f"callforge taxonomy: config error: taxonomy.seed_docs[{i}]: {p} not found")
        docs.append((Path(p).name, Path(p).read_text(encoding="utf-8", errors="replace")))
    return docs


def root_domains(names, docs) -> list[dict]:
    """The primary domains the model expands: the configured ones; none when seed documents supply
    them; otherwise the built-in tree's, re-expanded by the model."""
    if names:
        return [{"name": r, "description": ""} for r in names]
    if docs:
        return []
    return [{"name": d["name"], "description": d["description"]} for d in tx.load_offline()["children"]]
