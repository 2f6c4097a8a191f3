"""Scores of the thinking traces an export carries (export.thinking): deterministic checks of each trace
against the turn it leads to, so a trainer can weigh or filter traces and the stats say how good they are.

Per assistant turn that has a trace, the checks that apply:

    non_empty        the trace holds a word (letters or digits), not only signs and spaces
    names_tools      a turn that calls: every called tool's name is in the trace
    names_arguments  a turn that calls with arguments: every argument's name is in the trace
                     (as written, or with "_" read as a space)
    clean            no decoding loop or meaningless token: verify's degenerate-text rules
                     (callforge/verify/degenerate.py, with verify.degenerate's thresholds; the
                     repeated-sentence test is left out, as verify leaves it out for traces: a trace
                     repeats its structure by design)

A turn's score is the share of its checks that pass; a sample's is the mean over its traced turns
(None without a trace). The score goes into the ShareGPT record and the hf column `thinking_score`;
the openai and chat records keep only the trace (their readers take a fixed set of keys). The stats
(TraceTally) are counts, so tallies of parts of the input add up.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace

from callforge.verify import degenerate as D

CHECKS = ("non_empty", "names_tools", "names_arguments", "clean")
_COUNTS = ("samples", "samples_traced", "samples_perfect", "assistant_turns", "traced_turns", "score_sum_e4")
_WORD = re.compile(r"\w")


def rules(degenerate: dict) -> SimpleNamespace:
    """verify.degenerate's settings (a plain dict) as the degenerate-text functions read them."""
    return SimpleNamespace(**degenerate)


def _mentions(trace: str, name: str) -> bool:
    low = name.lower()
    return low in trace or low.replace("_", " ") in trace


def _clean(trace: str, r) -> bool:
    st = D.SampleText([trace])
    return not (D.repetition(st, [False], r) or D.special_token(trace) or D.mojibake(trace)
                or D.symbol_garbage(st, r.min_symbol_run, r.min_meaningful_share, r.meaningful_share_min_chars))


def turn_checks(message: dict, r) -> dict[str, bool]:
    """check → passed, for the checks that apply to this assistant message's trace."""
    trace = message.get("thinking") or ""
    low = trace.lower()
    out = {"non_empty": bool(_WORD.search(trace))}
    calls = message.get("tool_calls") or []
    if calls:
        out["names_tools"] = all(_mentions(low, c["name"]) for c in calls)
        names = {k for c in calls for k in (c.get("arguments") or {})}
        if names:
            out["names_arguments"] = all(_mentions(low, k) for k in names)
    out["clean"] = _clean(trace, r)
    return out


@dataclass
class TraceScore:
    """One sample's traces: its score, and per check how often it applied and passed."""
    score: float | None
    assistant_turns: int
    traced_turns: int
    applied: Counter
    passed: Counter


def score_sample(sample: dict, r) -> TraceScore:
    assistant = [m for m in sample["messages"] if m["role"] == "assistant"]
    traced = [m for m in assistant if m.get("thinking")]
    applied, passed, shares = Counter(), Counter(), []
    for m in traced:
        checks = turn_checks(m, r)
        applied.update(checks.keys())
        passed.update(k for k, ok in checks.items() if ok)
        shares.append(sum(checks.values()) / len(checks))
    score = round(sum(shares) / len(shares), 4) if shares else None
    return TraceScore(score, len(assistant), len(traced), applied, passed)


@dataclass
class TraceTally:
    """The export's trace stats, as counts: the tallies of parts of the input add up (state / absorb)."""
    samples: int = 0
    samples_traced: int = 0
    samples_perfect: int = 0
    assistant_turns: int = 0
    traced_turns: int = 0
    score_sum_e4: int = 0     # scores are rounded to 4 places: summed as integers, the same in any order
    applied: Counter = field(default_factory=Counter)
    passed: Counter = field(default_factory=Counter)

    def add(self, s: TraceScore) -> None:
        self.samples += 1
        self.assistant_turns += s.assistant_turns
        self.traced_turns += s.traced_turns
        self.applied.update(s.applied)
        self.passed.update(s.passed)
        if s.score is not None:
            self.samples_traced += 1
            self.score_sum_e4 += round(s.score * 10_000)
            self.samples_perfect += s.score == 1.0

    def state(self) -> dict:
        """The counts as JSON (an export shard's part of the stats)."""
        return {**{k: getattr(self, k) for k in _COUNTS}, "applied": dict(self.applied), "passed": dict(self.passed)}

    def absorb(self, state: dict) -> None:
        """Add another tally's counts (its state()) to these."""
        for k in _COUNTS:
            setattr(self, k, getattr(self, k) + state[k])
        self.applied.update(state["applied"])
        self.passed.update(state["passed"])

    def summary(self) -> dict:
        return {
            "samples": self.samples, "samples_traced": self.samples_traced,
            "turn_coverage": round(self.traced_turns / self.assistant_turns, 4) if self.assistant_turns else None,
            "score_mean": round(self.score_sum_e4 / 10_000 / self.samples_traced, 4) if self.samples_traced else None,
            "samples_perfect": self.samples_perfect,
            "checks": {k: {"applied": self.applied[k], "passed": self.passed[k],
                           "pass_rate": round(self.passed[k] / self.applied[k], 4) if self.applied[k] else None}
                       for k in CHECKS},
        }
