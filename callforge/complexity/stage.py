"""Stage `complexity` (ToolACE §3's complexity evaluator): data/dialogs.jsonl -> data/scores.jsonl.

One record per dialog sample, in input order: {"id", "loss", "response_tokens", "backend", "model",
"features"} (+ "error" with a reason code when the sample cannot be scored), as callforge/schemas/score.json
says. loss = mean NLL of the assistant tokens under the scorer's model (scorer=local: the packaged
gemma-3-270m in-process; remote: any server returning prompt logprobs; heuristic: a structural score,
not a loss). Scores are cached by content in cache_dir (callforge/complexity/scores.py), a cache the
dialogs stage fills when it steers with the same scorer: those samples are not scored twice.
Also writes the loss histogram metrics/complexity_hist.json (a DVC plot, also logged to MLflow).
Sharded (callforge/core/shards.py), each shard scores its block of lines; `merge` concatenates the
scores and makes the loss statistics and histogram from all of them.
"""
from __future__ import annotations

import json
import sys

from callforge.core import io
from callforge.core.cache import ResponseCache
from callforge.complexity import make_scorer
from callforge.complexity.scores import CACHE_FILE, LossTally, ScoringWork, score_cached, scorer_identity

IN, OUT, HIST = "data/dialogs.jsonl", "data/scores.jsonl", "metrics/complexity_hist.json"


def run(cfg, ctx) -> dict:
    c = cfg.scorer
    scorer = make_scorer(c)           # a ScoringError (bad config, bad model file) stops here, before any work
    fell_back = c.backend == "local" and scorer.backend != "local"
    if fell_back:
        print("callforge complexity: the optional `local` extra is not installed; scoring with the "
              "heuristic (scripts/install_local_model.sh installs it)", file=sys.stderr)
    cache = ResponseCache(ctx.cache_dir / CACHE_FILE)
    block, lines = ctx.shard_lines(ctx.path(IN))     # this shard's lines (all of them when whole)
    samples = (json.loads(text) for text in (line.decode("utf-8") for line in lines) if text.strip())
    tally, work = LossTally(), ScoringWork()
    with scorer:
        scored = score_cached(samples, scorer, cache, scorer_identity(scorer, c), work)
        ctx.write_jsonl_lines(ctx.path(OUT), (io.dumps(tally.add(rec))
                                              for rec in ctx.progress(scored, total=len(block), desc="complexity")))
    cache.close()
    if scorer.backend != "heuristic":    # work done this time
        ctx.runtime["response_tokens_scored"] = work.response_tokens
        tokens = getattr(scorer, "stats", None)
        if tokens:
            ctx.runtime["tokens"] = dict(tokens)   # evaluated vs reused-prefix tokens (local)
            if work.model_s > 0:
                ctx.runtime["tokens_per_s"] = round(tokens["tokens"] / work.model_s, 1)
    made = {"backend": scorer.backend, "model": scorer.model,
            "fallback": "heuristic (optional extra `local` not installed)" if fell_back else None}
    if ctx.sharded:     # the loss statistics are over every sample: the merge makes them
        return {**made, "samples": len(block), "cache_hits": work.cache_hits, "scoring_s": round(work.model_s, 3)}
    return _summary(ctx, made, len(block), tally, work)


def _summary(ctx, made: dict, samples: int, tally: LossTally, work: ScoringWork) -> dict:
    """The stage's stats, and the loss histogram beside them."""
    ctx.write_json(ctx.path(HIST), {"loss_histogram": tally.histogram()})
    ctx.artifacts.append(HIST)
    return {
        **made,
        "samples": samples, "scored": len(tally.losses), "unscored": sum(tally.unscored.values()),
        "unscored_by_reason": dict(sorted(tally.unscored.items())), "cache_hits": work.cache_hits,
        "loss": tally.summary(),
        "scoring_s": round(work.model_s, 3),
    }


def merge(cfg, ctx) -> dict:
    """The shards' scores concatenated in order; the loss statistics and histogram made from all of them."""
    tally = LossTally()
    for rec in io.iter_jsonl(ctx.concat_shards(ctx.path(OUT))):
        tally.add(rec)
    parts, runs = ctx.shard_stats, ctx.shard_runtime
    made = {k: parts[0][k] for k in ("backend", "model", "fallback")}
    work = ScoringWork(cache_hits=sum(r.get("cache_hits", 0) for r in runs),
                       model_s=sum(r.get("scoring_s", 0.0) for r in runs))
    return _summary(ctx, made, sum(p["samples"] for p in parts), tally, work)
