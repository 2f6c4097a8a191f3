"""The `dialogs` stage (ToolACE §2): read the API pool, generate dialogs, check and steer them, write
samples, drops and stats.

Sharding (CALLFORGE_SHARD=i/n) generates this shard's block of sample indices; calibration always
uses the same first samples, so shards agree on the steering bounds and concatenate byte for byte.
"""
from __future__ import annotations

from omegaconf import OmegaConf

from callforge.core.errors import CallforgeError

from .generate import engine_for, generate
from .llm_dialog import model_batches
from .pool import Pool
from .prompts import OFFLINE_VERSION, PROMPT_VERSION
from .sampling import check_config
from .stats import OFFLINE_VOTING, model_voting, summarise
from .steering import make_scorer

OUT = "data/dialogs.jsonl"
DROPPED = "data/dialogs_dropped.jsonl"


def run(cfg, ctx) -> dict:
    check_config(cfg.dialogs)
    dialogs = OmegaConf.to_object(cfg.dialogs)   # plain values: read for every sample, inherited by workers
    tools = ctx.read_jsonl(ctx.path(dialogs.input), schema="tool")
    if not tools:
        raise CallforgeError("dialogs.empty_pool", f"{dialogs.input} holds no APIs; run the apis stage first")
    pool = Pool(tools)
    indices = ctx.shard_range(dialogs.samples)
    scorer = make_scorer(dialogs.steering.scorer, cfg.scorer)

    if ctx.offline:
        engine = engine_for(pool, dialogs, cfg.seed, ctx.provenance(prompt_version=OFFLINE_VERSION), scorer)
        batches, bounds = generate(engine, indices, dialogs.workers, ctx.map), lambda: engine.bounds
    else:
        batches, bounds = model_batches(pool, dialogs, cfg.seed, ctx.gateway,
                                        ctx.provenance(prompt_version=PROMPT_VERSION), scorer, indices)
    facts, drops = [], []
    bar = ctx.progress(None, total=len(indices), desc="dialogs")

    def lines():
        for batch_lines, batch_facts, batch_drops, n in batches:
            facts.extend(batch_facts)
            drops.extend(batch_drops)
            bar.update(n)
            yield from batch_lines

    ctx.write_jsonl_lines(ctx.path(OUT), lines())
    bar.close()
    ctx.write_jsonl(ctx.path(DROPPED), drops)

    stats = summarise(facts, drops, len(indices), dialogs.mix, dialogs.steering.scorer, bounds())
    stats["voting"] = OFFLINE_VOTING if ctx.offline else model_voting(facts, drops, dialogs.votes)
    stats["pool"] = {"apis": len(pool), "domains": len(pool.domains), "chains": len(pool.chains)}
    stats["provider"] = cfg.llm.provider
    # tokens paid for this time (cached answers cost none): how the run went, not data
    usage = {} if ctx.offline else ctx.gateway.usage()
    ctx.runtime["tokens"] = {k: int(usage.get(k, 0)) for k in ("prompt_tokens", "completion_tokens")}
    return stats
