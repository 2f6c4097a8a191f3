"""Stage `apis`: the self-evolving API pool -> data/apis.jsonl, data/apis_rejected.jsonl (+ metrics/apis.json).

Reads data/taxonomy.json, seeds the pool from apis.imports (if any), then writes apis.pool_size APIs
(offline procedures under llm=offline, the model otherwise) through adaptation, evolution and the
API-definition rules; near-duplicates and rule failures are kept in the rejected file with reasons.
"""
from __future__ import annotations

import dataclasses
import json
import sys

from callforge.apis import importers, offline, prompts, stats
from callforge.apis.pool import Pool, Written
from callforge.taxonomy import context_tree as tx

TAXONOMY = "data/taxonomy.json"
OUT, REJECTED = "data/apis.jsonl", "data/apis_rejected.jsonl"
OFFLINE_VERSION = "procedural-apis-v1"   # provenance of the offline writer's APIs


def run(cfg, ctx) -> dict:
    a = cfg.apis
    tree = json.loads(ctx.path(TAXONOMY).read_text(encoding="utf-8"))["root"]
    errs = tx.check_tree(tree)
    if errs:
        sys.exit(f"callforge apis: {TAXONOMY} is unusable: {errs[0]}")
    leaves = tx.leaves(tree)

    if ctx.offline:
        provenance = ctx.provenance(OFFLINE_VERSION)
        write_batch = offline.make_writer(a.max_params)
    else:
        from callforge.apis import llm
        provenance = ctx.provenance(prompts.API_PROMPT_VERSION)
        write_batch = llm.make_writer(ctx.gateway)
    pool = Pool(a, int(cfg.seed), provenance)
    imported = seed_from_imports(pool, a.imports, provenance)

    bar = ctx.progress(None, total=a.pool_size, desc="apis")
    pool.run(leaves, write_batch, progress=bar.update)
    bar.close()

    ctx.write_jsonl(ctx.path(OUT), pool.apis, schema="tool")
    ctx.write_jsonl(ctx.path(REJECTED), pool.rejected)
    if pool.generated < a.pool_size:
        print(f"callforge apis: wrote {pool.generated} of {a.pool_size} APIs within "
              f"{pool.attempts} attempts (see {REJECTED})", file=sys.stderr)
    ctx.kept = pool.generated
    return {**stats.pool_stats(pool.apis, pool.rejected),
            "apis_generated": pool.generated, "apis_imported": imported, "attempts": pool.attempts,
            "taxonomy_leaves": len(leaves), "target_reached": pool.generated >= a.pool_size}


def seed_from_imports(pool: Pool, imports, provenance: dict) -> int:
    """Admit the apis.imports tools before any is written: they seed the example buffer. An import
    may leave its result type open. Returns how many were admitted; the rest go to pool.rejected."""
    rules = dataclasses.replace(pool.rules, require_typed_returns=False)
    imported = 0
    for k, imp in enumerate(imports):
        try:
            ok, bad = importers.import_file(imp.path, imp.format, rules, imp.domain)
        except importers.ImportError_ as e:
            sys.exit(f"callforge apis: config error: apis.imports[{k}]: {e}")
        pool.rejected.extend(bad)
        import_provenance = {**provenance, "provider": "import", "model": f"{imp.format}:{imp.path}",
                             "prompt_version": "none"}
        for origin, api, declared in ok:
            if pool.admit(Written(api, {"scope": "imported"}, declared_params=declared), origin, rules,
                          import_provenance):
                imported += 1
                pool.feed_buffer(pool.apis[-1], f"import-{k}-{imported}")
    return imported
