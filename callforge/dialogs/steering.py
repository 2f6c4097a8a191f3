"""Complexity steering (ToolACE §3): keep samples between a lower and an upper complexity bound.

A sample scored below the lower bound is too easy for the target model: it is regenerated harder
(more candidate APIs, a request worded further from the API descriptions); above the upper bound it
is regenerated simpler; at most `max_rounds` times. The version kept is the last one inside the
bounds, else the one closest to them. Every sample records its rounds and final score.

Bounds come from config (`dialogs.steering.lower/upper`, written by `callforge bounds`); when unset,
they are derived from a fixed calibration set (the first samples at their drawn knobs) by the same
percentile rule the bounds command falls back to — fixed indices, so every shard agrees.
"""
from __future__ import annotations

from dataclasses import dataclass


class HeuristicLoss:
    """The heuristic backend's loss (callforge.complexity.heuristic), without the response-token count
    that backend also reports: steering needs only the score, and the count costs a rendering pass."""

    def score(self, samples) -> list[dict]:
        from callforge.complexity.features import features
        from callforge.complexity.heuristic import heuristic_score

        return [{"id": s["id"], "loss": heuristic_score(features(s))
                 if any(m.get("role") == "assistant" for m in s.get("messages", ())) else None} for s in samples]


def make_scorer(name: str, scorer_cfg=None):
    """None (no steering), the heuristic loss, or the complexity stage's scorer, configured by the
    `scorer` section (scorer_cfg: read only for name == "complexity")."""
    if name in ("none", "", None):
        return None
    if name == "heuristic":
        return HeuristicLoss()
    if name == "complexity":
        from callforge.complexity import make_scorer as scoring_scorer
        return scoring_scorer(scorer_cfg)
    raise ValueError(f"dialogs.steering.scorer: unknown scorer {name!r} (heuristic | complexity | none)")


@dataclass
class Bounds:
    lower: float | None
    upper: float | None
    source: str

    def side(self, score) -> int:
        """-1 below (too easy), +1 above (too hard), 0 inside or unknown."""
        if score is None:
            return 0
        if self.lower is not None and score < self.lower:
            return -1
        if self.upper is not None and score > self.upper:
            return 1
        return 0

    def distance(self, score) -> float:
        if score is None:
            return float("inf")
        if self.lower is not None and score < self.lower:
            return self.lower - score
        if self.upper is not None and score > self.upper:
            return score - self.upper
        return 0.0


def calibrate(scores: list[float | None], lower_pct: float, upper_pct: float) -> Bounds:
    from callforge.complexity.steering_bounds import derive_bounds
    recs = [{"id": str(k), "loss": s} for k, s in enumerate(scores) if s is not None]
    b = derive_bounds(recs, None, lower_percentile=lower_pct, upper_percentile=upper_pct)
    return Bounds(b["lower"], b["upper"], f"calibration:{b['lower_method']}/{b['upper_method']}")


def steer(items: list, render_many, can_move, scorer, bounds, max_rounds: int) -> list[tuple]:
    """items carry `.knobs`; render_many([(item, knobs)]) -> [record dict | Dropped];
    can_move(item, knobs, harder) -> knobs | None; bounds: Bounds, None, or a function of the
    first round's scores giving Bounds. → [(record | Dropped, steering info)] in input order.
    A round that fails keeps the best earlier version; a first version that fails is the result."""
    first = render_many([(it, it.knobs) for it in items])
    if callable(bounds) and scorer is not None:   # no configured bounds: calibrate on this first round
        bounds = bounds(_scores(scorer, first))
    off = scorer is None or bounds is None or (bounds.lower is None and bounds.upper is None)
    if off:
        return [(r, {"rounds": 0, "score": None}) for r in first]
    scores = _scores(scorer, first)
    state = []
    for it, r, s in zip(items, first, scores):
        state.append({"knobs": it.knobs, "rounds": 0, "first": s, "cur": s,
                      "best": (bounds.distance(s), 0, r, s, it.knobs)})
    for rnd in range(1, max_rounds + 1):
        todo = []
        for j, it in enumerate(items):
            st = state[j]
            side = bounds.side(st["cur"])
            if not isinstance(st["best"][2], dict) or side == 0:
                continue
            knobs = can_move(it, st["knobs"], side < 0)
            if knobs is not None:
                todo.append((j, knobs))
        if not todo:
            break
        new = render_many([(items[j], k) for j, k in todo])
        new_scores = _scores(scorer, new)
        for (j, k), r, s in zip(todo, new, new_scores):
            st = state[j]
            st["knobs"], st["rounds"], st["cur"] = k, rnd, s
            if isinstance(r, dict) and (bounds.distance(s), -rnd) < st["best"][:2]:
                st["best"] = (bounds.distance(s), -rnd, r, s, k)
            elif not isinstance(r, dict):
                st["cur"] = None      # this round failed: stop moving the sample
    out = []
    for st in state:
        _, neg_round, r, s, knobs = st["best"]
        out.append((r, {"rounds": st["rounds"], "score": s, "initial_score": st["first"], "kept_round": -neg_round,
                        "extra_candidates": knobs[0], "wording": knobs[1]}))
    return out


def _scores(scorer, recs: list) -> list[float | None]:
    ok = [r for r in recs if isinstance(r, dict)]
    by_id = {x["id"]: x.get("loss") for x in scorer.score(ok)} if ok else {}
    return [by_id.get(r["id"]) if isinstance(r, dict) else None for r in recs]
