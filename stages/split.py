"""Stage `split`: training subsets (full, difficulty, diversity) and the held-out eval split.

Reads data/verified.jsonl, data/scores.jsonl, data/apis.jsonl; writes one id manifest per subset
under data/split/ (JSON lines {"id", "line", "loss", "clusters"}, input order), plus summary.json (stats,
held-out APIs, chosen clusters), clusters.json (API → cluster), decontam.jsonl (dropped samples and
the eval question each overlapped) and rejected.jsonl (unusable input lines with reason codes).
"""
from __future__ import annotations

import sys

from callforge.split import decontam as D
from callforge.split import subsets as S
from callforge.core.stage import gc_paused, stage_run

OUT = "data/split"


def main() -> None:
    with stage_run("split") as st, gc_paused():
        c, seed = st.cfg.split, int(st.cfg.seed)
        rejects = S.Rejects()
        pool = S.read_pool("data/apis.jsonl")
        metas, tools = S.read_samples("data/verified.jsonl", rejects, skip_tools=pool.keys(), workers=c.workers)
        known = {**tools, **pool}      # the pool's definition wins
        scored = S.attach_scores(metas, "data/scores.jsonl", rejects)
        dv = c.diversity
        cmap, top_words = S.cluster_map(known, dv.cluster_by, dv.k, seed, dv.kmeans_iters, dv.vocab_size)
        S.attach_clusters(metas, cmap, known)

        eval_apis = S.choose_eval_apis(metas, known, c.holdout.unit, c.holdout.fraction, c.holdout.min_units, seed)
        train, ev, spill = S.holdout(metas, eval_apis)

        questions, source = D.eval_questions(c.decontam)
        if c.decontam.against_holdout:
            questions.update({f"holdout:{m.id}": m.request for m in ev})
        index = D.NgramIndex(questions, c.decontam.ngram, c.decontam.min_overlap) if questions else None
        full, dropped = [], []
        for m in train:
            hit = index.match(m.request) if index else None
            if hit:
                dropped.append({"id": m.id, "eval_id": hit[0], "overlap": hit[1]})
            else:
                full.append(m)

        diff = S.difficulty(full, c.difficulty.samples)
        div, chosen = S.diversity(full, cmap, (dv.low, dv.medium, dv.high), dv.samples, seed)
        subsets = {"full": full, **diff, **div, "eval": ev}
        for name, members in subsets.items():
            st.outputs[f"{OUT}/{name}.jsonl"] = S.write_manifest(f"{OUT}/{name}.jsonl", members)
        st.write_jsonl(f"{OUT}/decontam.jsonl", dropped)
        st.write_jsonl(f"{OUT}/rejected.jsonl", rejects.rows)
        st.write_json(f"{OUT}/clusters.json", dict(sorted(cmap.items())))

        per = {name: S.subset_stats(members) for name, members in subsets.items()}
        universe = sorted({k for m in full for k in m.clusters} - {S.UNASSIGNED})
        stats = {
            "input": {"samples": len(metas) + sum(r["reason"] != "split.bad_score" for r in rejects.rows),
                      "valid": len(metas), "scored": scored, "rejected": rejects.counts()},
            "holdout": {"eval_apis": len(eval_apis), "eval_samples": len(ev), "spilled": len(spill),
                        "train_pool": len(train)},
            "decontam": {"eval_set": c.decontam.eval_set, "source": source, "questions": len(questions),
                         "dropped": len(dropped), "ngram": c.decontam.ngram, "min_overlap": c.decontam.min_overlap},
            "clusters": {"by": dv.cluster_by, "total": len(universe),
                         "drawn_from": {k: len(v) for k, v in chosen.items()}},
            "subsets": per,
            "contrast": {
                "difficulty": S.strictly_increasing([per[k]["complexity"]["mean"] for k in S.DIFFICULTY]),
                "diversity": S.strictly_increasing([per[k]["clusters"] for k in S.DIVERSITY])
                and len({per[k]["samples"] for k in S.DIVERSITY}) == 1,
            },
        }
        st.write_json(f"{OUT}/summary.json", {**stats, "eval_apis": eval_apis, "drawn_clusters": chosen,
                                              "cluster_words": top_words})
        st.stats.update(stats)
        for what, ok in stats["contrast"].items():
            if not ok:
                print(f"callforge split: warning: the {what} subsets show no strict contrast "
                      f"(too few scored samples or clusters?)", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except (S.SplitError, D.EvalSetError) as e:
        print(f"callforge split: {e}", file=sys.stderr)
        raise SystemExit(2)
