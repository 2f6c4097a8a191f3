"""The scorer interface: one complexity score per dialog sample.

H_M(x, y) = mean negative log-likelihood (nats/token) of the assistant response tokens y given the
context x, under the model M that will be fine-tuned (ToolACE §3). Every backend returns, per sample:

    {"id", "loss", "response_tokens", "backend", "model"}             (+ "error": <reason> on failure)

A sample that cannot be scored gets loss None and a stable reason code; the other samples are kept.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from callforge.core.errors import CallforgeError

# Stable reason codes for samples that cannot be scored.
NO_RESPONSE = "no_response"          # no assistant message to score
TOO_LONG = "too_long"                # rendered sample exceeds the model context
DECODE_FAILED = "decode_failed"      # the model runtime refused the batch
BAD_RESPONSE = "bad_response"        # the server's answer lacks usable prompt logprobs
OFFSET_MISMATCH = "offset_mismatch"  # server tokens do not line up with the rendered text
REQUEST_FAILED = "request_failed"    # the server could not be reached / returned an error
UNRENDERABLE = "unrenderable"        # a call cannot be written in the chosen call format


class ScoringError(CallforgeError):
    """A scorer-wide failure (not a per-sample one): a bad scorer config or model file (.code says which)."""


@dataclass
class TokenScores:
    """Per-token NLLs of one sample's response tokens (None with a reason when unscorable)."""
    id: str
    nll: np.ndarray | None
    error: str | None = None


class Scorer(ABC):
    backend: str
    model: str

    @abstractmethod
    def score(self, samples: Sequence[dict]) -> list[dict]:
        """One record per sample, in input order."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ModelScorer(Scorer):
    """A scorer backed by a language model: loss is the mean of per-token response NLLs."""

    @abstractmethod
    def token_nlls(self, samples: Sequence[dict]) -> list[TokenScores]:
        """Per-token response NLLs for each sample, in input order."""

    def score(self, samples: Sequence[dict]) -> list[dict]:
        return [self.record(ts) for ts in self.token_nlls(samples)]

    def record(self, ts: TokenScores) -> dict:
        rec = {"id": ts.id, "loss": None, "response_tokens": 0, "backend": self.backend, "model": self.model}
        if ts.error is None:
            # Rounded so that re-runs write identical bytes despite last-bit float noise.
            rec["loss"] = round(float(np.mean(ts.nll, dtype=np.float64)), 6)
            rec["response_tokens"] = int(ts.nll.size)
        else:
            rec["error"] = ts.error
        return rec
