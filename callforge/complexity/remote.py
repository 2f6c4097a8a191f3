"""Scoring through any OpenAI-compatible `/v1/completions` server that returns prompt logprobs.

The production route for a large target (e.g. an 8B model on a vLLM GPU server). The sample is
rendered locally in the target's chat format and sent as text; the server scores the prompt:
  * mode "echo":            echo=True + logprobs=0 → choices[0].logprobs.{tokens, token_logprobs, text_offset}
                            (OpenAI legacy completions shape; vLLM, llama.cpp server, TGI-compatible)
  * mode "prompt_logprobs": vLLM's extra_body {"prompt_logprobs": 0} → choices[0].prompt_logprobs,
                            a list (one per prompt token; the first is null) of {token_id: {logprob,
                            decoded_token}}; character offsets are rebuilt from the decoded tokens.
A token belongs to the response when its first character lies inside a response span. The server
adds its own BOS token, so none is rendered.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np

from callforge.calling.calls import PrintError
from callforge.complexity.base import (BAD_RESPONSE, NO_RESPONSE, OFFSET_MISMATCH, REQUEST_FAILED, UNRENDERABLE,
                                    ModelScorer, ScoringError, TokenScores)
from callforge.complexity.render import FORMATS, render

def in_spans(offsets: Sequence[int], spans: list[tuple[int, int]]) -> np.ndarray:
    offs = np.asarray(offsets, dtype=np.int64)
    mask = np.zeros(len(offs), dtype=bool)
    for a, z in spans:
        mask |= (offs >= a) & (offs < z)
    return mask


def parse_echo(choice: dict, text: str) -> tuple[list[int], list[float | None]]:
    """(character offsets, logprobs) of the prompt tokens from an echo response."""
    lp = choice.get("logprobs") if isinstance(choice, dict) else None
    lp = lp if isinstance(lp, dict) else {}
    offs, vals, toks = lp.get("text_offset"), lp.get("token_logprobs"), lp.get("tokens")
    if not isinstance(offs, list) or not isinstance(vals, list) or len(offs) != len(vals) \
            or not all(_logprob(v) for v in vals):
        raise ValueError(BAD_RESPONSE)
    keep = [i for i, o in enumerate(offs) if isinstance(o, int) and o < len(text)]   # drop generated tokens
    if isinstance(toks, list) and len(toks) == len(offs):
        # Offsets that do not point at the token's own text mean the server counted differently
        # (e.g. a BOS written as text): scoring the wrong span would be silent garbage.
        for i in keep:
            t = toks[i]
            if vals[i] is not None and isinstance(t, str) and "\ufffd" not in t and not t.startswith("bytes:") \
                    and not text.startswith(t, offs[i]):
                raise ValueError(OFFSET_MISMATCH)
    return [offs[i] for i in keep], [vals[i] for i in keep]


def parse_prompt_logprobs(choice: dict, text: str) -> tuple[list[int], list[float | None]]:
    """(character offsets, logprobs) from vLLM's prompt_logprobs; offsets rebuilt from decoded tokens."""
    pl = choice.get("prompt_logprobs") if isinstance(choice, dict) else None
    if not isinstance(pl, list) or not pl:
        raise ValueError(BAD_RESPONSE)
    offs, vals, pos = [], [], 0
    for k, entry in enumerate(pl):
        if entry is None:
            if k == 0:
                continue   # the server's BOS: not part of our text, and it has no logprob
            raise ValueError(BAD_RESPONSE)
        if not isinstance(entry, dict) or len(entry) != 1:   # prompt_logprobs=0: only the prompt token itself
            raise ValueError(BAD_RESPONSE)
        info = next(iter(entry.values()))
        if not isinstance(info, dict) or not _logprob(info.get("logprob")):
            raise ValueError(BAD_RESPONSE)
        piece = info.get("decoded_token") or ""
        if not isinstance(piece, str):
            raise ValueError(BAD_RESPONSE)
        offs.append(pos)
        vals.append(info.get("logprob"))
        pos += len(piece)
    if pos != len(text):
        raise ValueError(OFFSET_MISMATCH)
    return offs, vals


PARSERS = {"echo": parse_echo, "prompt_logprobs": parse_prompt_logprobs}   # scorer.mode -> how to read the answer


def _logprob(v) -> bool:
    """A server's logprob: a number or null (never a string, a bool or an object)."""
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


class RemoteScorer(ModelScorer):
    backend = "remote"

    def __init__(self, base_url: str, model: str, chat_format: str, call_format: str = "python",
                 mode: str = "echo", api_key_env: str | None = None, concurrency: int = 4,
                 timeout_s: float = 120.0, max_retries: int = 3):
        if mode not in PARSERS:
            raise ScoringError("bad_config", f"scorer mode must be one of {tuple(PARSERS)}, got {mode!r}")
        if chat_format not in FORMATS:
            raise ScoringError("bad_config", f"unknown chat_format {chat_format!r}")
        from openai import OpenAI
        key = os.environ.get(api_key_env, "") if api_key_env else ""
        self.client = OpenAI(base_url=base_url, api_key=key or "none", timeout=timeout_s, max_retries=max_retries)
        self.model, self.chat_format, self.call_format = model, chat_format, call_format
        self.mode, self.concurrency = mode, max(1, concurrency)

    def _request(self, text: str) -> dict:
        kw = dict(model=self.model, prompt=text, max_tokens=1, temperature=0.0)
        if self.mode == "echo":
            resp = self.client.completions.create(echo=True, logprobs=0, **kw)
        else:
            resp = self.client.completions.create(extra_body={"prompt_logprobs": 0}, **kw)
        return resp.model_dump()

    def _one(self, sample: dict) -> TokenScores:
        sid = sample["id"]
        try:
            r = render(sample, self.chat_format, self.call_format, bos=False)
        except PrintError:
            return TokenScores(sid, None, UNRENDERABLE)
        if not r.has_response:
            return TokenScores(sid, None, NO_RESPONSE)
        text = r.text
        try:
            data = self._request(text)
        except Exception:   # the openai client already retried; the reason code says what happened
            return TokenScores(sid, None, REQUEST_FAILED)
        try:
            choice = (data.get("choices") or [None])[0] or {}
            offs, vals = PARSERS[self.mode](choice, text)
        except ValueError as e:
            return TokenScores(sid, None, str(e) if str(e) in (BAD_RESPONSE, OFFSET_MISMATCH) else BAD_RESPONSE)
        mask = in_spans(offs, r.response_spans())
        picked = [vals[i] for i in np.flatnonzero(mask)]
        if not picked or any(v is None for v in picked):
            return TokenScores(sid, None, BAD_RESPONSE)
        return TokenScores(sid, -np.asarray(picked, dtype=np.float64))

    def token_nlls(self, samples: Sequence[dict]) -> list[TokenScores]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(self._one, samples))

    def close(self) -> None:
        self.client.close()
