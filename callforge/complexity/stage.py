"""Stage `complexity` (ToolACE §3's complexity evaluator): data/dialogs.jsonl -> data/scores.jsonl.

One record per dialog sample, in input order: {"id", "loss", "response_tokens", "backend", "model",
"features"} (+ "error" with a reason code when the sample cannot be scored), as callforge/schemas/score.json
says. loss = mean NLL of the assistant tokens under the scorer's model (scorer=local: the packaged
gemma-3-270m in-process; remote: any server returning prompt logprobs; heuristic: a structural score,
not a loss). Scores are cached by content in cache_dir (callforge/complexity/scores.py).
Also writes the loss histogram metrics/complexity_hist.json (a DVC plot, also logged to MLflow).
"""
from __future__ import annotations

import sys

from callforge.core import io
from callforge.core.cache import ResponseCache
from callforge.complexity import make_scorer
from callforge.complexity.scores import LossTally, ScoringWork, score_cached, scorer_identity

IN, OUT, HIST = "data/dialogs.jsonl", "data/scores.jsonl", "metrics/complexity_hist.json"


def run(cfg, ctx) -> dict:
    c = cfg.scorer
    scorer = make_scorer(c)           # a ScoringError (bad config, bad model file) stops here, before any work
    fell_back = c.backend == "local" and scorer.backend != "local"
    if fell_back:
        print("callforge complexity: the optional `local` extra is not installed; scoring with the "
              "heuristic (scripts/install_local_model.sh installs it)", file=sys.stderr)
    cache = ResponseCache(ctx.cache_dir / "scores.sqlite")
    with open(ctx.path(IN), "rb") as f:
        n_total = sum(1 for _ in f)   # for the progress bar's ETA
    tally, work = LossTally(), ScoringWork()
    with scorer:
        scored = score_cached(io.iter_jsonl(ctx.path(IN)), scorer, cache, scorer_identity(scorer, c), work)
        ctx.write_jsonl_lines(ctx.path(OUT), (io.dumps(tally.add(rec))
                                              for rec in ctx.progress(scored, total=n_total, desc="complexity")))
    cache.close()
    ctx.write_json(ctx.path(HIST), {"loss_histogram": tally.histogram()})
    ctx.artifacts.append(HIST)
    if scorer.backend != "heuristic":    # work done this time
        ctx.runtime["response_tokens_scored"] = work.response_tokens
        tokens = getattr(scorer, "stats", None)
        if tokens:
            ctx.runtime["tokens"] = dict(tokens)   # evaluated vs reused-prefix tokens (local)
            if work.model_s > 0:
                ctx.runtime["tokens_per_s"] = round(tokens["tokens"] / work.model_s, 1)
    return {
        "backend": scorer.backend, "model": scorer.model,
        "fallback": "heuristic (optional extra `local` not installed)" if fell_back else None,
        "samples": n_total, "scored": len(tally.losses), "unscored": sum(tally.unscored.values()),
        "unscored_by_reason": dict(sorted(tally.unscored.items())), "cache_hits": work.cache_hits,
        "loss": tally.summary(),
        "scoring_s": round(work.model_s, 3),
    }
