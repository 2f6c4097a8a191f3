"""Stage `complexity`: data/dialogs.jsonl -> data/scores.jsonl (ToolACE §3's complexity evaluator).

One record per dialog sample, in input order: {"id", "loss", "response_tokens", "backend", "model",
"features"} (+ "error" with a reason code when the sample cannot be scored), as callforge/schemas/score.json
says. loss = mean NLL of the assistant tokens under the scorer's model (scorer=local: the packaged
gemma-3-270m in-process; remote: any server returning prompt logprobs; heuristic: a structural score,
not a loss).

Scores are cached by content (scorer identity + sample bytes) in cache_dir, so a killed run resumes
where it stopped and a rebuild with unchanged samples scores nothing. Writes metrics/complexity.json
and the loss histogram metrics/complexity_hist.json (a DVC plot, also logged to MLflow).
"""
from __future__ import annotations

import hashlib
import sys
import time

import numpy as np

from callforge.core import io, records
from callforge.core.cache import ResponseCache
from callforge.core.config import shared_path
from callforge.complexity import ScoringError, make_scorer
from callforge.complexity.features import features
from callforge.core.stage import stage_run

IN, OUT, HIST = "data/dialogs.jsonl", "data/scores.jsonl", "metrics/complexity_hist.json"
CHUNK = 16          # samples scored between cache writes: what a kill can lose at most
BINS = 30


def scorer_identity(scorer, cfg) -> str:
    """Everything besides the sample that determines its score."""
    return "|".join(str(x) for x in (scorer.backend, scorer.model, getattr(scorer, "chat_format", ""),
                                     getattr(scorer, "call_format", ""), cfg.model_sha256 or "", cfg.base_url or "",
                                     getattr(scorer, "reuse_prefix", "")))


def histogram(losses: list[float]) -> list[dict]:
    if not losses:
        return []
    counts, edges = np.histogram(np.asarray(losses), bins=BINS)
    return [{"loss": round(float((a + b) / 2), 4), "samples": int(c)} for a, b, c in zip(edges, edges[1:], counts)]


def summary(losses: list[float]) -> dict:
    if not losses:
        return {"mean": None, "std": None}
    a = np.asarray(losses)
    return {"mean": round(float(a.mean()), 6), "std": round(float(a.std()), 6),
            **{f"p{q}": round(float(np.percentile(a, q)), 6) for q in (10, 50, 90)}}


def main() -> None:
    with stage_run("complexity") as st:
        c = st.cfg.scorer
        try:
            scorer = make_scorer(c)
        except ScoringError as e:
            sys.exit(f"callforge complexity: scorer: {e}")
        fell_back = c.backend == "local" and scorer.backend != "local"
        if fell_back:
            print("callforge complexity: the optional `local` extra is not installed; scoring with the "
                  "heuristic (scripts/install_local_model.sh installs it)", file=sys.stderr)
        ident = scorer_identity(scorer, c)
        cache = ResponseCache(shared_path(st.cfg.cache_dir) / "scores.sqlite")
        with open(IN, "rb") as f:
            n_total = sum(1 for _ in f)       # for the progress bar's ETA
        bar = st.progress(None, total=n_total, desc="complexity")
        losses, errors, hits, tokens, t_model = [], {}, 0, 0, 0.0
        with scorer, io.atomic_open(OUT) as out:
            chunk: list[dict] = []

            def flush() -> None:
                nonlocal hits, tokens, t_model
                keys = [hashlib.sha256((ident + "\n" + io.dumps(s)).encode()).hexdigest() for s in chunk]
                got = {k: cache.get(k) for k in keys}
                todo = [i for i, k in enumerate(keys) if got[k] is None]
                hits += len(chunk) - len(todo)
                if todo:
                    t0 = time.perf_counter()
                    fresh = scorer.score([chunk[i] for i in todo])
                    t_model += time.perf_counter() - t0
                    for i, r in zip(todo, fresh):
                        k = keys[i]
                        got[k] = r
                        cache.put(k, r)
                        tokens += r["response_tokens"]
                for s, k in zip(chunk, keys):
                    rec = {**got[k], "id": s["id"], "features": features(s)}
                    records.check("score", [rec])      # callforge/schemas/score.json: what split reads
                    if rec.get("loss") is None:
                        errors[rec.get("error", "unscored")] = errors.get(rec.get("error", "unscored"), 0) + 1
                    else:
                        losses.append(rec["loss"])
                    out.write(io.dumps(rec))
                    out.write("\n")
                bar.update(len(chunk))
                chunk.clear()

            for s in io.iter_jsonl(IN):
                chunk.append(s)
                if len(chunk) == CHUNK:
                    flush()
            if chunk:
                flush()
        bar.close()
        cache.close()
        st.outputs[OUT] = io.md5_file(OUT)
        st.write_json(HIST, {"loss_histogram": histogram(losses)})
        st.artifacts.append(HIST)
        st.stats.update({
            "backend": scorer.backend, "model": scorer.model,
            "fallback": "heuristic (optional extra `local` not installed)" if fell_back else None,
            "samples": n_total, "scored": len(losses), "unscored": sum(errors.values()),
            "unscored_by_reason": dict(sorted(errors.items())), "cache_hits": hits,
            "loss": summary(losses),
            "scoring_s": round(t_model, 3),
        })
        if scorer.backend != "heuristic":          # work done this time (0 when every score came from the cache)
            st.runtime["response_tokens_scored"] = tokens
            stats = getattr(scorer, "stats", None)
            if stats:
                st.runtime["tokens"] = dict(stats)   # evaluated vs reused-prefix tokens (local)
                if t_model > 0:
                    st.runtime["tokens_per_s"] = round(stats["tokens"] / t_model, 1)


if __name__ == "__main__":
    main()
