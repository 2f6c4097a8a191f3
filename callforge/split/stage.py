"""Stage `split` (ToolACE §5): training subsets (full, difficulty, diversity) and the held-out eval split.

Reads data/verified.jsonl, data/scores.jsonl, data/apis.jsonl; writes one id manifest per subset
under data/split/ (callforge/split/manifest.py), plus summary.json (stats, held-out APIs, chosen
clusters), clusters.json (API → cluster), decontam.jsonl (dropped samples and the eval question each
overlapped) and rejected.jsonl (unusable input lines with reason codes).
"""
from __future__ import annotations

import sys

from callforge.core.gc_pause import gc_paused
from callforge.split.clusters import UNASSIGNED, attach_clusters, cluster_map
from callforge.split.decontam import decontaminate, eval_questions
from callforge.split.difficulty import difficulty
from callforge.split.diversity import diversity
from callforge.split.holdout import choose_eval_apis, holdout
from callforge.split.manifest import contrast, manifest_lines, subset_stats
from callforge.split.samples import Rejects, attach_scores, read_pool, read_samples

OUT = "data/split"


def run(cfg, ctx) -> dict:
    c, dv, seed = cfg.split, cfg.split.diversity, int(cfg.seed)
    with gc_paused():       # millions of acyclic objects: the cycle collector would only rescan them
        rejects = Rejects()
        pool = read_pool(ctx.path("data/apis.jsonl"))
        metas, tools = read_samples(ctx.path("data/verified.jsonl"), rejects, skip_tools=pool.keys(),
                                    workers=c.workers, map_fn=ctx.map)
        known = {**tools, **pool}      # the pool's definition wins
        scored = attach_scores(metas, ctx.path("data/scores.jsonl"), rejects)
        cmap, top_words = cluster_map(known, dv, seed)
        attach_clusters(metas, cmap, known)

        eval_apis = choose_eval_apis(metas, known, c.holdout.unit, c.holdout.fraction, c.holdout.min_units, seed)
        train, ev, spill = holdout(metas, eval_apis)

        questions, source = eval_questions(c.decontam)
        if c.decontam.against_holdout:
            questions.update({f"holdout:{m.id}": m.request for m in ev})
        full, dropped = decontaminate(train, questions, c.decontam, c.workers, ctx.map)

        div, chosen = diversity(full, cmap, (dv.low, dv.medium, dv.high), dv.samples, seed)
        subsets = {"full": full, **difficulty(full, c.difficulty.samples), **div, "eval": ev}
        for name, members in subsets.items():
            ctx.write_jsonl_lines(ctx.path(f"{OUT}/{name}.jsonl"), manifest_lines(members))
        ctx.write_jsonl(ctx.path(f"{OUT}/decontam.jsonl"), dropped)
        ctx.write_jsonl(ctx.path(f"{OUT}/rejected.jsonl"), rejects.rows)
        ctx.write_json(ctx.path(f"{OUT}/clusters.json"), dict(sorted(cmap.items())))

        per = {name: subset_stats(members) for name, members in subsets.items()}
        stats = {
            "input": {"samples": len(metas) + sum(r["reason"] != "split.bad_score" for r in rejects.rows),
                      "valid": len(metas), "scored": scored, "rejected": rejects.counts()},
            "holdout": {"eval_apis": len(eval_apis), "eval_samples": len(ev), "spilled": len(spill),
                        "train_pool": len(train)},
            "decontam": {"eval_set": c.decontam.eval_set, "source": source, "questions": len(questions),
                         "dropped": len(dropped), "ngram": c.decontam.ngram, "min_overlap": c.decontam.min_overlap},
            "clusters": {"by": dv.cluster_by, "total": len({k for m in full for k in m.clusters} - {UNASSIGNED}),
                         "drawn_from": {k: len(v) for k, v in chosen.items()}},
            "subsets": per,
            "contrast": contrast(per),
        }
        ctx.write_json(ctx.path(f"{OUT}/summary.json"), {**stats, "eval_apis": eval_apis, "drawn_clusters": chosen,
                                                         "cluster_words": top_words})
    for what, ok in stats["contrast"].items():
        if not ok:
            print(f"callforge split: warning: the {what} subsets show no strict contrast "
                  f"(too few scored samples or clusters?)", file=sys.stderr)
    return stats
