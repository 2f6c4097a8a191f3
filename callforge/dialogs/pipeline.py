"""The `dialogs` stage: read the API pool, generate, check, steer, write samples, drops and stats.

Sharding (CALLFORGE_SHARD=i/n) generates this shard's block of sample indices; calibration always
uses the same first samples, so shards agree on the steering bounds and concatenate byte for byte.
"""
from __future__ import annotations

from .generate import encode, engine_for, generate
from .pool import Pool
from .prompts import OFFLINE_VERSION, PROMPT_VERSION
from .settings import from_cfg
from .stats import in_bounds_share, summarise
from .steering import Bounds, calibrate, make_scorer

OUT = "data/dialogs.jsonl"
DROPPED = "data/dialogs_dropped.jsonl"


def run(st) -> None:
    cfg = st.cfg
    try:
        settings = from_cfg(cfg)
    except ValueError as e:
        raise SystemExit(f"callforge dialogs: config error: {e}")
    tools = st.read_jsonl(cfg.dialogs.input, schema="tool")
    if not tools:
        raise SystemExit(f"callforge dialogs: {cfg.dialogs.input} holds no APIs; run the apis stage first")
    pool = Pool(tools)
    indices = st.shard_range(settings.samples)
    fs: list[dict] = []
    drops: list[dict] = []
    bar = st.progress(None, total=len(indices), desc="dialogs")

    def collect(chunks):
        for lines, f, d, n in chunks:
            fs.extend(f)
            drops.extend(d)
            bar.update(n)
            yield from lines

    if st.offline:
        engine = engine_for(pool, settings, st.provenance(prompt_version=OFFLINE_VERSION), cfg)
        st.write_jsonl_lines(OUT, collect(generate(engine, indices, settings.workers)))
        bounds = engine.bounds
        voting = {"mode": "not informative offline",
                  "why": "the procedural assistant is deterministic: n samples of a decision would be identical, "
                         "so each decision is made once and voting drops nothing"}
    else:
        chunks, bounds = _llm_chunks(st, pool, settings, cfg, indices)
        st.write_jsonl_lines(OUT, collect(chunks))
        bounds = bounds()
        votes = [f["voting"] or {} for f in fs]
        voting = {"mode": "model", "votes_per_decision": settings.votes,
                  "decisions_kept": sum(v.get("decisions", 0) for v in votes),
                  "dropped_for_disagreement": sum(d["reason"] == "dialogs.vote_disagreement" for d in drops),
                  "samples_with_fewer_votes_returned": sum(1 for v in votes if v.get("min_samples", 0) < settings.votes)}
    bar.close()
    st.write_jsonl(DROPPED, drops)
    stats = summarise(fs, drops, len(indices), dict(settings.mix))
    steer = stats["steering"]
    steer["scorer"] = settings.steering.scorer
    if bounds is not None:
        steer.update(lower=bounds.lower, upper=bounds.upper, bounds_source=bounds.source,
                     in_bounds_before=in_bounds_share([f["initial_score"] for f in fs], bounds.lower, bounds.upper),
                     in_bounds_after=in_bounds_share([f["score"] for f in fs], bounds.lower, bounds.upper))
    stats["voting"] = voting
    stats["pool"] = {"apis": len(pool), "domains": len(pool.domains), "chains": len(pool.chains)}
    stats["provider"] = cfg.llm.provider
    st.stats.update(stats)
    st.runtime["tokens"] = _tokens(st)      # tokens paid for this time (cached answers cost none): not data


def _tokens(st) -> dict:
    if st.offline:
        return {"prompt_tokens": 0, "completion_tokens": 0}
    u = st.gateway.usage()
    return {"prompt_tokens": int(u.get("prompt_tokens", 0)), "completion_tokens": int(u.get("completion_tokens", 0))}


def _llm_chunks(st, pool, settings, cfg, indices):
    """Batches of model-made dialogs as (lines, facts, drops, n); and a getter for the bounds used."""
    from .llm_dialog import LLMDialogs

    prov = st.provenance(prompt_version=PROMPT_VERSION)
    scorer = make_scorer(settings.steering.scorer, cfg)
    s = settings.steering
    holder: dict = {"b": Bounds(s.lower, s.upper, "config") if s.lower is not None or s.upper is not None else None}

    def first_round(scores):  # no configured bounds: each batch's first round calibrates them
        ok = [x for x in scores if x is not None]
        holder["b"] = calibrate(ok, s.lower_percentile, s.upper_percentile) if ok else None
        return holder["b"]

    runner = LLMDialogs(pool, settings, st.gateway, prov, scorer, holder["b"] or first_round)

    def chunks():
        step = max(1, settings.batch)
        for lo in range(indices.start, indices.stop, step):
            span = range(lo, min(indices.stop, lo + step))
            recs, drops = runner.run(span)
            lines, fs = encode(recs)
            yield lines, fs, drops, len(span)

    return chunks(), lambda: holder["b"]
