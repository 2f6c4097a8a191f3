"""The `dialogs` stage (ToolACE §2): read the API pool, generate dialogs, check and steer them, write
samples, drops and stats.

Sharding (CALLFORGE_SHARD=i/n) generates this shard's block of sample indices; calibration always
uses the same first samples, so shards agree on the steering bounds and concatenate byte for byte.
`merge` makes the stats from the merged records (callforge/core/shards.py).
"""
from __future__ import annotations

from dataclasses import asdict

import orjson
from omegaconf import OmegaConf

from callforge.core.errors import CallforgeError

from .dedup import RequestFilter, lead_in
from .generate import engine_for, generate
from .llm_dialog import model_batches
from .pool import Pool
from .prompts import OFFLINE_VERSION, PROMPT_VERSION
from .sampling import check_config
from .stats import OFFLINE_VOTING, facts as facts_of, model_voting, summarise
from .steering import Bounds, choose_scorer

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
    steering = choose_scorer(dialogs.steering, cfg.scorer, dialogs.samples, ctx.cache_dir)
    if not steering.configured_bounds_apply:     # bounds in another scorer's units: calibrate instead
        dialogs.steering.lower = dialogs.steering.upper = None
    try:
        stats = _generate(cfg, ctx, dialogs, pool, indices, steering)
    finally:
        steering.close()
    work = getattr(steering.scorer, "work", None)
    if work is not None:   # a model steered: what scoring cost this time (the score cache answers a re-run)
        ctx.runtime["steering_scoring"] = {"cache_hits": work.cache_hits, "response_tokens": work.response_tokens,
                                           "model_s": round(work.model_s, 3)}
    return stats


def _generate(cfg, ctx, dialogs, pool: Pool, indices: range, steering) -> dict:
    scorer = steering.scorer
    span = lead_in(dialogs.dedup, indices)   # from the start of the near-duplicate block this run starts in
    prov = ctx.provenance(prompt_version=OFFLINE_VERSION if ctx.offline else PROMPT_VERSION)
    if ctx.offline:
        engine = engine_for(pool, dialogs, cfg.seed, prov, scorer)
        # a model scorer runs in this process (one llama.cpp context on every core, one cache
        # connection): worker processes would only queue behind it
        workers = 1 if steering.model_scored else dialogs.workers
        batches, bounds = generate(engine, span, workers, ctx.map), lambda: engine.bounds
    else:
        batches, bounds = model_batches(pool, dialogs, cfg.seed, ctx.gateway, prov, scorer, span)
    dedup = RequestFilter(dialogs, cfg.seed, prov)
    facts, drops = [], []
    bar = ctx.progress(None, total=len(span), desc="dialogs")

    def lines():
        for batch_lines, batch_facts, batch_drops, n in batches:
            batch_lines, batch_facts, batch_drops = dedup.filter(batch_lines, batch_facts, batch_drops, indices.start)
            facts.extend(batch_facts)
            drops.extend(batch_drops)
            bar.update(n)
            yield from batch_lines

    ctx.write_jsonl_lines(ctx.path(OUT), lines())
    bar.close()
    ctx.write_jsonl(ctx.path(DROPPED), drops)

    pool_stats = {"apis": len(pool), "domains": len(pool.domains), "chains": len(pool.chains)}
    stats = _stats(cfg, ctx, dialogs, facts, drops, len(indices), steering.describe(), bounds(), pool_stats)
    if ctx.sharded:    # what the merge needs besides the records: the same in every shard
        stats["shard"] = {"scorer": steering.describe(), "pool": pool_stats,
                          "bounds": asdict(bounds()) if bounds() is not None else None}
    # tokens paid for this time (cached answers cost none): how the run went, not data
    usage = {} if ctx.offline else ctx.gateway.usage()
    ctx.runtime["tokens"] = {k: int(usage.get(k, 0)) for k in ("prompt_tokens", "completion_tokens")}
    return stats


def _stats(cfg, ctx, dialogs, facts: list[dict], drops: list[dict], requested: int, scorer: dict, bounds,
           pool_stats: dict) -> dict:
    stats = summarise(facts, drops, requested, dialogs.mix, scorer, bounds)
    stats["voting"] = OFFLINE_VOTING if ctx.offline else model_voting(facts, drops, dialogs.votes)
    stats["pool"] = pool_stats
    stats["provider"] = cfg.llm.provider
    ctx.kept = len(facts)
    return stats


def merge(cfg, ctx) -> dict:
    """The shards' records and drops concatenated in order; the stats made from them as `run` makes
    them, with the scorer, steering bounds and pool every shard shares."""
    dialogs = OmegaConf.to_object(cfg.dialogs)
    with open(ctx.concat_shards(ctx.path(OUT)), "rb") as f:
        facts = [facts_of(orjson.loads(line)) for line in f]
    drops = ctx.read_jsonl(ctx.concat_shards(ctx.path(DROPPED)))
    shared = ctx.shard_stats[0]["shard"]
    bounds = Bounds(**shared["bounds"]) if shared["bounds"] is not None else None
    if not ctx.offline:
        ctx.merge_usage(cfg.llm, "llm")
    return _stats(cfg, ctx, dialogs, facts, drops, dialogs.samples, shared["scorer"], bounds, shared["pool"])
