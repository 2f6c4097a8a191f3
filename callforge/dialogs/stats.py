"""Statistics of a dialog run, for metrics/dialogs.json and MLflow."""
from __future__ import annotations

from collections import Counter

from .skeleton import DATA_TYPES
from .variety import record_facts, requests_stats, scenario_stats


def _dist(values: list[int]) -> dict:
    if not values:
        return {"mean": 0.0, "max": 0, "hist": {}}
    c = Counter(values)
    return {"mean": round(sum(values) / len(values), 4), "max": max(values),
            "hist": {str(k): c[k] for k in sorted(c)}}


def facts(r: dict) -> dict:
    """What the stats need from one record (small: travels back from worker processes)."""
    msgs = r["messages"]
    s = r.get("steering") or {}
    return {"type": r["data_type"], "user": sum(m["role"] == "user" for m in msgs), "messages": len(msgs),
            "calls": sum(len(m.get("tool_calls") or ()) for m in msgs), "tools": len(r["tools"]),
            "used": len(r["apis_used"]), "thinking": any(m.get("thinking") for m in msgs),
            "rounds": s.get("rounds", 0), "kept_round": s.get("kept_round", 0),
            "score": s.get("score"), "initial_score": s.get("initial_score"),
            "voting": r.get("voting"), **record_facts(r)}


def summarise(fs: list[dict], drops: list[dict], requested: int, mix: dict, scorer: dict, bounds) -> dict:
    """The run's statistics; mix is `dialogs.mix`, scorer what steered (SteeringScorer.describe()),
    bounds the run's steering Bounds (or None)."""
    per_type = Counter(f["type"] for f in fs)
    total_w = sum(mix.get(t, 0.0) for t in DATA_TYPES) or 1.0
    n = len(fs)
    steering = {
        "scored": sum(f["score"] is not None for f in fs),
        "rounds": _dist([f["rounds"] for f in fs]),
        "regenerated": sum(1 for f in fs if f["rounds"]),
        "kept_regenerated": sum(1 for f in fs if f["kept_round"]),
        **scorer,
    }
    if bounds is not None:
        steering.update(lower=bounds.lower, upper=bounds.upper, bounds_source=bounds.source,
                        calibrated_on=bounds.calibrated_on,
                        in_bounds_before=in_bounds_share([f["initial_score"] for f in fs], bounds.lower, bounds.upper),
                        in_bounds_after=in_bounds_share([f["score"] for f in fs], bounds.lower, bounds.upper))
    return {
        "samples_requested": requested,
        "samples_written": n,
        "samples_dropped": len(drops),
        "reconciled": requested == n + len(drops),
        "per_type": {t: per_type.get(t, 0) for t in DATA_TYPES},
        "type_share": {t: round(per_type.get(t, 0) / n, 4) if n else 0.0 for t in DATA_TYPES},
        "type_share_configured": {t: round(mix.get(t, 0) / total_w, 4) for t in DATA_TYPES},
        "drop_reasons": dict(sorted(Counter(d["reason"] for d in drops).items())),
        "user_turns": _dist([f["user"] for f in fs]),
        "messages": _dist([f["messages"] for f in fs]),
        "calls_per_sample": _dist([f["calls"] for f in fs]),
        "candidate_apis": _dist([f["tools"] for f in fs]),
        "apis_used": _dist([f["used"] for f in fs]),
        "thinking_share": round(sum(f["thinking"] for f in fs) / n, 4) if n else 0.0,
        "requests": requests_stats(fs, drops),
        "scenarios": scenario_stats(fs),
        "steering": steering,
    }


OFFLINE_VOTING = {"mode": "not informative offline",
                  "why": "the procedural assistant is deterministic: n samples of a decision would be identical, "
                         "so each decision is made once and voting drops nothing"}


def model_voting(fs: list[dict], drops: list[dict], votes: int) -> dict:
    """How consistency voting went on the model path (votes: `dialogs.votes` per decision)."""
    per_sample = [f["voting"] or {} for f in fs]
    return {"mode": "model", "votes_per_decision": votes,
            "decisions_kept": sum(v.get("decisions", 0) for v in per_sample),
            "dropped_for_disagreement": sum(d["reason"] == "dialogs.vote_disagreement" for d in drops),
            "samples_with_fewer_votes_returned": sum(1 for v in per_sample if v.get("min_samples", 0) < votes)}


def in_bounds_share(scores, lower, upper) -> float | None:
    vals = [s for s in scores if s is not None]
    if not vals or (lower is None and upper is None):
        return None
    ok = [s for s in vals if (lower is None or s >= lower) and (upper is None or s <= upper)]
    return round(len(ok) / len(vals), 4)
