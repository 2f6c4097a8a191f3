"""Lower and upper loss bounds for steering (ToolACE §3).

Lower bound: the loss of samples the target model already answers correctly — its greedy answer to
the first assistant turn matches the reference calls; samples at or below it teach it little.
We take a quantile (default the median) of those samples' losses.
Upper bound: the loss of samples that stay hard. Without a fine-tuned model to measure that, we take a
high percentile of all losses. When too few samples are answered correctly (always the case for a
small base model, and for the heuristic backend) the lower bound falls back to a configured
percentile too; the result says which method produced each bound.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from callforge.complexity.answers import calls_match, parse_answer


def first_reference_calls(sample: dict) -> list[dict] | None:
    """The calls of the sample's first assistant turn (None if that turn makes no call)."""
    for m in sample.get("messages", []):
        if m.get("role") == "assistant":
            return [{"name": c["name"], "arguments": c.get("arguments") or {}} for c in m.get("tool_calls") or []] or None
    return None


def judge_correct(scorer, samples: Sequence[dict], max_tokens: int = 128) -> dict[str, bool]:
    """id -> whether the local model's greedy answer matches the reference calls.
    Only samples whose first assistant turn makes calls are judged."""
    out = {}
    for s in samples:
        ref = first_reference_calls(s)
        if ref is None:
            continue
        text = scorer.greedy(s, max_tokens=max_tokens)
        if text is not None:
            out[s["id"]] = calls_match(parse_answer(text, scorer.call_format), ref)
    return out


def derive_bounds(scores: Sequence[dict], correct: dict[str, bool] | None = None, *,
                  lower_percentile: float = 20.0, upper_percentile: float = 90.0,
                  correct_quantile: float = 50.0, min_correct: int = 10) -> dict:
    """Bounds from score records ({"id", "loss", ...}; records without a loss are ignored)."""
    losses = {r["id"]: float(r["loss"]) for r in scores if r.get("loss") is not None}
    if not losses:
        raise ValueError("no_scores: no sample has a loss to derive bounds from")
    all_l = np.array(sorted(losses.values()))
    right = sorted(losses[i] for i, ok in (correct or {}).items() if ok and i in losses)
    upper = float(np.percentile(all_l, upper_percentile))
    res = {"n_scored": int(all_l.size), "n_judged": len(correct or {}), "n_correct": len(right),
           "upper": round(upper, 6), "upper_method": f"percentile_{upper_percentile:g}"}
    lower = float(np.percentile(right, correct_quantile)) if len(right) >= min_correct else None
    if lower is not None and lower < upper:
        res.update(lower=round(lower, 6), lower_method=f"correct_q{correct_quantile:g}")
    else:
        res.update(lower=round(float(np.percentile(all_l, lower_percentile)), 6),
                   lower_method=f"percentile_{lower_percentile:g}")
    res["share_inside"] = round(float(np.mean((all_l >= res["lower"]) & (all_l <= res["upper"]))), 6)
    return res


def write_steering_bounds(conf_file, lower: float, upper: float) -> None:
    """Set dialogs `steering.lower` / `steering.upper` in a conf/dialogs/*.yaml file in place,
    keeping its comments and layout (a YAML round trip would drop them)."""
    import re
    from pathlib import Path

    from callforge.core.io import atomic_write_text

    path = Path(conf_file)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    inside, done = False, set()
    for i, line in enumerate(lines):
        if re.match(r"^steering:\s*(#.*)?$", line):
            inside = True
            continue
        if inside and line.strip() and not line.startswith((" ", "\t")):
            break
        m = re.match(r"^(\s+)(lower|upper):\s*[^#\n]*?(\s*#.*)?$", line.rstrip("\n")) if inside else None
        if m:
            value = lower if m.group(2) == "lower" else upper
            lines[i] = f"{m.group(1)}{m.group(2)}: {value:.6g}{m.group(3) or ''}\n"
            done.add(m.group(2))
    if done != {"lower", "upper"}:
        raise ValueError(f"{path}: no steering.lower/upper keys to set")
    atomic_write_text(path, "".join(lines))
