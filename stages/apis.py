"""Stage `apis`: the self-evolving API pool -> data/apis.jsonl, data/apis_rejected.jsonl (+ metrics/apis.json).

Reads data/taxonomy.json, seeds the pool from apis.imports (if any), then writes apis.pool_size APIs
(offline procedures under llm=offline, the model otherwise) through adaptation, evolution and the
API-definition rules; near-duplicates and rule failures are kept in the rejected file with reasons.
"""
from __future__ import annotations

import json
import sys

from callforge.taxonomy import context_tree as tx
from callforge.apis import importers, offline, prompts, stats
from callforge.apis.pool import Pool, PoolSettings, Written
from callforge.apis.rules import Rules
from callforge.core.stage import stage_run

TAXONOMY = "data/taxonomy.json"
OUT, REJECTED = "data/apis.jsonl", "data/apis_rejected.jsonl"


def settings(a) -> PoolSettings:
    d = a.dedup
    return PoolSettings(
        pool_size=a.pool_size, detailed_ratio=a.detailed_ratio, max_nodes=a.max_nodes, buffer_size=a.buffer_size,
        batch_size=a.batch_size, max_attempts_factor=a.max_attempts_factor, max_params=a.max_params,
        operator_p={k: float(v) for k, v in a.operators.items()},
        rules=Rules(name_pattern=a.name_pattern, describe_nested=a.describe_nested),
        dedup={"threshold": d.threshold, "num_perm": d.num_perm, "bands": d.bands, "shingle": d.shingle,
               "max_candidates": d.max_candidates} if d.enabled else None)


def main() -> None:
    with stage_run("apis") as st:
        a, seed = st.cfg.apis, int(st.cfg.seed)
        with open(TAXONOMY, encoding="utf-8") as f:
            tree = json.load(f)["root"]
        errs = tx.check_tree(tree)
        if errs:
            sys.exit(f"callforge apis: {TAXONOMY} is unusable: {errs[0]}")
        leaves = tx.leaves(tree)
        s = settings(a)
        if st.offline:
            prov = st.provenance("procedural-apis-v1")
            write_batch = offline.make_writer(a.max_params)
        else:
            from callforge.apis import llm
            prov = st.provenance(prompts.API_PROMPT_VERSION)
            write_batch = llm.make_writer(st.gateway)
        pool = Pool(s, seed, prov)

        # imports first: they seed the example buffer; an import may leave its result type open
        import_rules = Rules(name_pattern=a.name_pattern, describe_nested=a.describe_nested, require_typed_returns=False)
        imported = 0
        for k, imp in enumerate(a.imports):
            try:
                ok, bad = importers.import_file(imp.path, imp.format, import_rules, imp.domain)
            except importers.ImportError_ as e:
                sys.exit(f"callforge apis: config error: apis.imports[{k}]: {e}")
            pool.rejected.extend(bad)
            iprov = {**prov, "provider": "import", "model": f"{imp.format}:{imp.path}", "prompt_version": "none"}
            for origin, api, declared in ok:
                if pool.admit(Written(api, {"scope": "imported"}, declared_params=declared), origin, import_rules, iprov):
                    imported += 1
                    pool.feed_buffer(pool.apis[-1], f"import-{k}-{imported}")

        bar = st.progress(None, total=a.pool_size, desc="apis")
        pool.run(leaves, write_batch, progress=bar.update)
        bar.close()

        st.write_jsonl(OUT, pool.apis, schema="tool")
        st.write_jsonl(REJECTED, pool.rejected)
        st.stats.update(stats.pool_stats(pool.apis, pool.rejected))
        st.stats.update({"apis_generated": pool.generated, "apis_imported": imported, "attempts": pool.attempts,
                         "taxonomy_leaves": len(leaves), "target_reached": pool.generated >= a.pool_size})
        if pool.generated < a.pool_size:
            print(f"callforge apis: wrote {pool.generated} of {a.pool_size} APIs within "
                  f"{pool.attempts} attempts (see {REJECTED})", file=sys.stderr)


if __name__ == "__main__":
    main()
