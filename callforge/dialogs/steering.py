"""Complexity steering (ToolACE §3): keep samples between a lower and an upper complexity bound.

A sample scored below the lower bound is too easy for the target model: it is regenerated harder
(more candidate APIs, a request worded further from the API descriptions); above the upper bound it
is regenerated simpler; at most `max_rounds` times. The version kept is the last one inside the
bounds, else the one closest to them. Every sample records its rounds and final score, and every
version is scored once.

What scores (`dialogs.steering.scorer`): `complexity`, the complexity stage's scorer (the `scorer`
section: ToolACE's choice, the target model's loss); `heuristic`, the structural score, whose inputs
are the very knobs steering turns; `auto` (default), the model loss where it is at hand and affordable
(a remote scorer; the local one when its extra is installed and the run has at most
`auto_local_max_samples` samples), else the heuristic; `none`. choose_scorer says which and why.

Bounds come from config (`dialogs.steering.lower/upper`, written by `callforge bounds`); when unset,
they are calibrated once per run, before any batch, on a fixed calibration set (the first
`calibration_samples` indices at their drawn knobs) by the same percentile rule the bounds command
falls back to: every batch and every shard computes the same set, so all agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SETTINGS = ("auto", "complexity", "heuristic", "none")


class HeuristicLoss:
    """The heuristic backend's loss (callforge.complexity.heuristic), without the response-token count
    that backend also reports: steering needs only the score, and the count costs a rendering pass."""
    backend = "heuristic"

    def __init__(self):
        from callforge.complexity.heuristic import MODEL
        self.model = MODEL

    def score(self, samples) -> list[dict]:
        from callforge.complexity.features import features
        from callforge.complexity.heuristic import heuristic_score

        return [{"id": s["id"], "loss": heuristic_score(features(s))
                 if any(m.get("role") == "assistant" for m in s.get("messages", ())) else None} for s in samples]


@dataclass
class SteeringScorer:
    """What steers a run: `scorer` (None: no steering) and, for the metrics, which one and why."""
    scorer: object | None
    setting: str            # dialogs.steering.scorer as configured
    name: str               # what steered: complexity (the `scorer` section's scorer) | heuristic | none
    why: str
    closers: tuple = ()     # what to close when the run is done (a model, the score cache)
    # configured bounds (`callforge bounds` writes them from the `scorer` section's scores) are in that
    # scorer's units: when `auto` falls back to the heuristic they do not apply, and bounds are calibrated
    configured_bounds_apply: bool = True

    @property
    def model_scored(self) -> bool:
        """Whether a model (local or remote) scores, rather than the structural heuristic."""
        return getattr(self.scorer, "backend", "heuristic") != "heuristic"

    def describe(self) -> dict:
        s = self.scorer
        return {"scorer": self.name, "scorer_setting": self.setting,
                "scorer_backend": getattr(s, "backend", None), "scorer_model": getattr(s, "model", None),
                "scorer_why": self.why}

    def close(self) -> None:
        for c in self.closers:
            c.close()


def choose_scorer(st, scorer_cfg, samples: int, cache_dir: Path | str | None = None) -> SteeringScorer:
    """The steering scorer for a run of `samples` samples (all shards together: every shard chooses the
    same). st: `dialogs.steering`; scorer_cfg: the `scorer` section. A model scorer's records go
    through the complexity stage's score cache in cache_dir (when given), so that stage does not
    score the kept versions again."""
    setting = st.scorer
    if setting not in SETTINGS:
        raise ValueError(f"dialogs.steering.scorer: unknown scorer {setting!r} ({' | '.join(SETTINGS)})")
    if setting == "none":
        return SteeringScorer(None, setting, "none", "configured")
    if setting == "heuristic":
        return SteeringScorer(HeuristicLoss(), setting, "heuristic", "configured")
    if setting == "auto":
        why = _model_unavailable(st, scorer_cfg, samples)
        if why:
            own_units = scorer_cfg.backend == "heuristic"
            if not own_units and (st.lower is not None or st.upper is not None):
                why += "; the configured bounds are the scorer section's loss, so they are calibrated instead"
            return SteeringScorer(HeuristicLoss(), setting, "heuristic", why, configured_bounds_apply=own_units)
    from callforge.complexity import make_scorer as scoring_scorer
    model = scoring_scorer(scorer_cfg)
    if model.backend == "heuristic":   # the scorer section is the heuristic, or local fell back to it
        why = "configured" if scorer_cfg.backend == "heuristic" else "the optional `local` extra is not installed"
        return SteeringScorer(model, setting, "complexity", f"the scorer section scores with the heuristic ({why})")
    why = "configured"
    if setting == "auto":
        why = f"auto: the {model.backend} model is at hand"
        if model.backend == "local":
            why += f" and {samples} samples are within auto_local_max_samples ({st.auto_local_max_samples})"
    if cache_dir is None:
        return SteeringScorer(model, setting, "complexity", why, (model,))
    from callforge.complexity.scores import CACHE_FILE, CachedScorer, scorer_identity
    from callforge.core.cache import ResponseCache
    cache = ResponseCache(Path(cache_dir) / CACHE_FILE)
    return SteeringScorer(CachedScorer(model, cache, scorer_identity(model, scorer_cfg)), setting, "complexity", why,
                          (model, cache))


def _model_unavailable(st, scorer_cfg, samples: int) -> str | None:
    """Why `auto` steers with the heuristic, or None when it steers with the model loss."""
    if scorer_cfg.backend == "heuristic":
        return "auto: the scorer section is the heuristic (no model)"
    if scorer_cfg.backend == "local":
        import importlib.util

        from callforge.complexity import local_available
        if not (local_available() if scorer_cfg.model_path is None else importlib.util.find_spec("llama_cpp")):
            return "auto: the optional `local` extra (llama-cpp-python + the packaged model) is not installed"
        if samples > st.auto_local_max_samples:
            return (f"auto: {samples} samples exceed auto_local_max_samples ({st.auto_local_max_samples}); "
                    "the in-process model would score for too long")
    return None


@dataclass
class Bounds:
    lower: float | None
    upper: float | None
    source: str
    calibrated_on: int | None = None    # samples of the calibration set that were scored

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
    return Bounds(b["lower"], b["upper"], f"calibration:{b['lower_method']}/{b['upper_method']}", len(recs))


class KnownScores:
    """The steering scorer, answering from the scores already made for the calibration set: the first
    round re-renders those samples at the same knobs (offline: the same bytes; model path: the same
    cached responses), and a version already scored is not scored again. A record whose content
    differs from the calibrated one (a model request that failed then and succeeded now) is scored."""

    def __init__(self, scorer, recs: list[dict], scores: list[dict]):
        self.scorer = scorer
        self.backend, self.model = getattr(scorer, "backend", None), getattr(scorer, "model", None)
        self.known = {r["id"]: (_content(r), s) for r, s in zip(recs, scores)}

    def score(self, samples) -> list[dict]:
        out: list = [None] * len(samples)
        todo = []
        for i, s in enumerate(samples):
            hit = self.known.get(s["id"])
            if hit is not None and hit[0] == _content(s):
                out[i] = hit[1]
            else:
                todo.append(i)
        if todo:
            for i, r in zip(todo, self.scorer.score([samples[i] for i in todo])):
                out[i] = r
        return out


def _content(rec: dict) -> str:
    from callforge.complexity.scores import score_key
    return score_key("", rec)


def run_bounds(st, scorer, calibration_items, render_many) -> tuple[Bounds | None, object]:
    """The run's bounds, decided once before any batch, and the scorer to steer with.
    st: `dialogs.steering`; calibration_items(): the calibration set's items at their drawn knobs (the
    same on every shard); render_many as steer's. Configured bounds are used as they are."""
    if scorer is None:
        return None, None
    if st.lower is not None or st.upper is not None:
        return Bounds(st.lower, st.upper, "config"), scorer
    items = calibration_items()
    recs = [r for r in render_many([(it, it.knobs) for it in items]) if isinstance(r, dict)]
    scores = scorer.score(recs) if recs else []
    known = KnownScores(scorer, recs, scores)
    losses = [x.get("loss") for x in scores]
    if not any(s is not None for s in losses):
        return None, known
    return calibrate(losses, st.lower_percentile, st.upper_percentile), known


def steer(items: list, render_many, can_move, scorer, bounds: Bounds | None, max_rounds: int) -> list[tuple]:
    """items carry `.knobs`; render_many([(item, knobs)]) -> [record dict | Dropped];
    can_move(item, knobs, harder) -> knobs | None; bounds: the run's Bounds (run_bounds), or None.
    → [(record | Dropped, steering info)] in input order. Each version is scored once.
    A round that fails keeps the best earlier version; a first version that fails is the result."""
    first = render_many([(it, it.knobs) for it in items])
    if scorer is None or bounds is None or (bounds.lower is None and bounds.upper is None):
        return [(r, {"rounds": 0, "score": None}) for r in first]
    scores = _scores(scorer, first)
    state = []
    for it, r, s in zip(items, first, scores):
        state.append({"knobs": it.knobs, "rounds": 0, "first": s, "cur": s, "cur_rec": r,
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
        # a move can leave the record as it was (no other tool to offer, a model that wrote the same
        # words): that version keeps its score instead of being scored again
        same = [r == state[j]["cur_rec"] for (j, _), r in zip(todo, new)]
        fresh = iter(_scores(scorer, [r for r, dup in zip(new, same) if not dup]))
        new_scores = [state[j]["cur"] if dup else next(fresh) for (j, _), dup in zip(todo, same)]
        for (j, k), r, s in zip(todo, new, new_scores):
            st = state[j]
            st["knobs"], st["rounds"], st["cur"], st["cur_rec"] = k, rnd, s, r
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
