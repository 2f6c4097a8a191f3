"""A structural complexity score for when no model is available.

It is NOT a loss and not comparable to model losses; it only orders samples the way ToolACE reports
the loss moving: up with the number of candidate APIs, the number of calls and arguments, nested
arguments, more turns, and a query worded unlike the API descriptions. Unitless, roughly 0.5–4:

    score = 0.5
          + 0.30 · ln(1 + candidate_apis)
          + 0.40 · ln(1 + calls) + 0.15 · ln(1 + arguments)
          + 0.25 · argument_depth' (depth beyond the flat argument object)
          + 0.20 · (user_turns − 1)
          + 1.00 · (1 − query_similarity)

Bounds derived from it come from percentiles only (there is no "answered correctly" signal).
"""
from __future__ import annotations

import math
import re
from typing import Sequence

from callforge.complexity.base import NO_RESPONSE, Scorer
from callforge.complexity.features import features
from callforge.complexity.render import assistant_text

MODEL = "structural-v1"
_PIECE = re.compile(r"\w+|[^\w\s]")


def heuristic_score(f: dict) -> float:
    s = (0.5 + 0.30 * math.log1p(f["candidate_apis"])
         + 0.40 * math.log1p(f["calls"]) + 0.15 * math.log1p(f["arguments"])
         + 0.25 * max(0, f["argument_depth"] - 1)
         + 0.20 * max(0, f["user_turns"] - 1)
         + 1.00 * (1.0 - f["query_similarity"]))
    return round(s, 6)


class HeuristicScorer(Scorer):
    backend = "heuristic"
    model = MODEL

    def score(self, samples: Sequence[dict]) -> list[dict]:
        out = []
        for s in samples:
            rec = {"id": s["id"], "loss": None, "response_tokens": 0, "backend": self.backend, "model": self.model}
            resp = [m for m in s.get("messages", []) if m.get("role") == "assistant"]
            if not resp:
                rec["error"] = NO_RESPONSE
            else:
                rec["loss"] = heuristic_score(features(s))
                # Words and punctuation stand in for model tokens (no tokenizer here).
                rec["response_tokens"] = sum(len(_PIECE.findall(assistant_text(m, "python"))) for m in resp)
            out.append(rec)
        return out
