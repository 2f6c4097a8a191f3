"""The dialog stage's settings as plain Python (cheap to pass to worker processes)."""
from __future__ import annotations

from dataclasses import dataclass

from .skeleton import DATA_TYPES


@dataclass(frozen=True)
class Steering:
    scorer: str                  # heuristic | complexity (the `scorer` config section) | none
    lower: float | None
    upper: float | None
    max_rounds: int
    step_candidates: int
    calibration_samples: int
    lower_percentile: float
    upper_percentile: float


@dataclass(frozen=True)
class Settings:
    seed: int
    samples: int
    mix: tuple[tuple[str, float], ...]
    candidate_weights: tuple[float, ...]     # P(k candidate APIs), k = 1, 2, ...
    distractor_tiers: tuple[float, float, float]   # same sub-domain, same domain, other domain
    parallel_calls: tuple[int, int]
    turns: tuple[int, int]
    chain_steps: tuple[int, int]
    optional_arg_prob: float
    wording_weights: tuple[float, ...]
    non_tool_kinds: tuple[tuple[str, float], ...]
    thinking: bool
    votes: int
    max_steps: int
    workers: int
    batch: int
    steering: Steering

    @property
    def max_extra(self) -> int:
        return self.steering.max_rounds * self.steering.step_candidates


def from_cfg(cfg) -> Settings:
    d = cfg.dialogs
    mix = {k: float(v) for k, v in d.mix.items()}
    unknown = set(mix) - set(DATA_TYPES)
    if unknown:
        raise ValueError(f"dialogs.mix: unknown data type(s) {sorted(unknown)} (known: {', '.join(DATA_TYPES)})")
    if sum(mix.values()) <= 0:
        raise ValueError("dialogs.mix: weights must sum to more than 0")
    _check(d)
    s = d.steering
    return Settings(
        seed=int(cfg.seed), samples=int(d.samples),
        mix=tuple((t, mix.get(t, 0.0)) for t in DATA_TYPES),
        candidate_weights=tuple(float(x) for x in d.candidate_weights),
        distractor_tiers=(float(d.distractors.same_subdomain), float(d.distractors.same_domain),
                          float(d.distractors.other_domain)),
        parallel_calls=(int(d.parallel_calls[0]), int(d.parallel_calls[1])),
        turns=(int(d.turns[0]), int(d.turns[1])),
        chain_steps=(int(d.chain_steps[0]), int(d.chain_steps[1])),
        optional_arg_prob=float(d.optional_arg_prob),
        wording_weights=tuple(float(x) for x in d.wording_weights),
        non_tool_kinds=tuple((k, float(v)) for k, v in d.non_tool_kinds.items()),
        thinking=bool(d.thinking), votes=int(d.votes), max_steps=int(d.max_steps),
        workers=int(d.workers), batch=int(d.batch),
        steering=Steering(scorer=str(s.scorer), lower=None if s.lower is None else float(s.lower),
                          upper=None if s.upper is None else float(s.upper), max_rounds=int(s.max_rounds),
                          step_candidates=int(s.step_candidates), calibration_samples=int(s.calibration_samples),
                          lower_percentile=float(s.lower_percentile), upper_percentile=float(s.upper_percentile)),
    )


def _check(d) -> None:
    """Values the types allow but the generator cannot honour: fail before any work, naming the key."""
    def need(ok: bool, key: str, what: str):
        if not ok:
            raise ValueError(f"dialogs.{key}: {what}")
    for key, lo in (("parallel_calls", 2), ("turns", 2), ("chain_steps", 2)):
        v = list(d[key])
        need(len(v) == 2 and lo <= v[0] <= v[1], key, f"expected [min, max] with {lo} <= min <= max, got {v}")
    need(len(d.candidate_weights) > 0 and min(d.candidate_weights) >= 0 and sum(d.candidate_weights) > 0,
         "candidate_weights", "expected non-negative weights, not all zero")
    need(len(d.wording_weights) == 3 and min(d.wording_weights) >= 0 and sum(d.wording_weights) > 0,
         "wording_weights", "expected three non-negative weights (close, paraphrased, far)")
    need(min(d.mix.values(), default=0) >= 0, "mix", "weights must be non-negative")
    need(set(d.non_tool_kinds) <= {"out_of_scope", "arithmetic", "capability"} and sum(d.non_tool_kinds.values()) > 0,
         "non_tool_kinds", "kinds are out_of_scope, arithmetic, capability, weights not all zero")
    need(d.votes >= 1 and d.max_steps >= 1 and d.workers >= 1 and d.batch >= 1 and d.samples >= 0,
         "votes/max_steps/workers/batch/samples", "must be positive")
    need(0.0 <= d.optional_arg_prob <= 1.0, "optional_arg_prob", "must be within [0, 1]")
