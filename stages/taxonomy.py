"""Stage `taxonomy`: the API context tree -> data/taxonomy.json (+ metrics/taxonomy.json).

Under llm=offline (or taxonomy.source=offline) the tree written in this project; with a model,
speciation from taxonomy.root_domains / taxonomy.seed_docs, expanded to taxonomy.depth levels.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from callforge.taxonomy import context_tree as tx
from callforge.apis import prompts
from callforge.core.stage import stage_run

OUT = "data/taxonomy.json"


def main() -> None:
    with stage_run("taxonomy") as st:
        c = st.cfg.taxonomy
        if c.source not in ("auto", "offline"):
            sys.exit(f"callforge taxonomy: config error: taxonomy.source: {c.source!r} is not auto or offline")
        failures: list[dict] = []
        if c.source == "offline" or st.offline:
            root = tx.load_offline()
            source = "builtin"
            prov = {"provider": "offline", "model": "callforge/data/taxonomy.yaml", "prompt_version": "builtin-v1",
                    "seed": int(st.cfg.seed), "stage": "taxonomy"}
        else:
            docs = []
            for i, p in enumerate(c.seed_docs):
                if not Path(p).is_file():
                    sys.exit(f"callforge taxonomy: config error: taxonomy.seed_docs[{i}]: {p} not found")
                docs.append((Path(p).name, Path(p).read_text(encoding="utf-8", errors="replace")))
            if c.root_domains:
                roots = [{"name": r, "description": ""} for r in c.root_domains]
            elif docs:
                roots = []
            else:   # no roots given: the built-in primary domains, re-expanded by the model
                roots = [{"name": d["name"], "description": d["description"]} for d in tx.load_offline()["children"]]
            root, failures = tx.speciate(st.gateway, roots, c.depth, c.breadth, c.max_nodes, docs)
            source = "llm"
            prov = st.provenance(prompts.TAXONOMY_PROMPT_VERSION)
        errs = tx.check_tree(root)
        if errs:
            sys.exit(f"callforge taxonomy: unusable tree: {errs[0]}")
        st.write_json(OUT, {"version": 1, "source": source, "provenance": prov, "root": root, "failures": failures})
        st.stats.update(tx.level_counts(root))
        st.stats["source"] = source
        st.stats["failures"] = len(failures)
        st.stats["failures_by_reason"] = dict(sorted(Counter(f["reason"] for f in failures).items()))


if __name__ == "__main__":
    main()
