"""In-process scoring on a GGUF model through llama.cpp (optional extra `local`).

Why not llama-cpp-python's `echo`+`logprobs`: it asks for logits at every position and normalises
the full vocabulary (262,144 for Gemma 3) at each, which is ~100x slower than prompt evaluation.
Here, per sample:
  * the batch asks llama.cpp for logits only at the positions that predict a response token, so the
    output projection (the largest matrix of a small-vocabulary-heavy model) runs only there;
  * log-softmax over the full vocabulary is computed only for those rows (exact, not top-k);
  * optionally (reuse_prefix), samples are sorted by their tokens and the KV cache keeps the longest
    prefix shared with the previous sample (same system prompt + tool list), so that prefix is
    evaluated once. Off by default: llama.cpp's kernels are not batch-invariant, so splitting a
    sequence into two evaluations moves some logits slightly, and a score would depend on its neighbour.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from callforge.calling.calls import PrintError
from callforge.complexity.base import (DECODE_FAILED, NO_RESPONSE, TOO_LONG, UNRENDERABLE, ModelScorer,
                                    ScoringError, TokenScores)
from callforge.core.model_files import INSTALL_HINT, resolve_model
from callforge.complexity.render import FORMATS, context_before_first_response, detect_format, render

_ROWS = 32   # vocabulary rows normalised at a time (bounds the scratch buffer: 32 x 262k floats = 32 MiB)


def load_llama_cpp():
    try:
        import llama_cpp
    except ImportError as e:
        raise ScoringError("local_extra_missing", f"llama-cpp-python is not installed; {INSTALL_HINT}") from e
    return llama_cpp


@dataclass
class Encoded:
    tokens: np.ndarray     # int32 token ids of the rendered sample
    response: np.ndarray   # bool, True where the token belongs to the response y


class _DecodeError(RuntimeError):
    pass


class LocalScorer(ModelScorer):
    backend = "local"

    def __init__(self, model_path: str | None = None, sha256: str | None = None, chat_format: str | None = None,
                 call_format: str = "python", n_ctx: int = 8192, n_batch: int = 512, n_threads: int | None = None,
                 reuse_prefix: bool = False):
        lc = self._lc = load_llama_cpp()
        path = resolve_model(model_path, sha256)
        threads = n_threads or os.cpu_count() or 1
        # swa_full: Gemma 3 uses sliding-window attention; a window-sized cache cannot be rolled back
        # to an arbitrary position, which prefix reuse needs.
        self.llm = lc.Llama(str(path), n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_batch, n_threads=threads,
                            n_threads_batch=threads, logits_all=False, swa_full=True, verbose=False)
        self.model = path.name
        meta = self.llm.metadata
        try:
            self.chat_format = chat_format or detect_format(meta.get("tokenizer.chat_template"),
                                                            meta.get("general.architecture"))
        except ValueError as e:
            raise ScoringError("bad_config", str(e)) from None
        if self.chat_format not in FORMATS:
            raise ScoringError("bad_config", f"unknown chat_format {self.chat_format!r}")
        self.call_format = call_format
        self.n_ctx, self.n_batch, self.reuse_prefix = n_ctx, n_batch, reuse_prefix
        self._ctx = self.llm._ctx.ctx
        self._mem = lc.llama_get_memory(self._ctx)
        self._batch = lc.llama_batch_init(n_batch, 0, 1)
        self.n_vocab = self.llm.n_vocab()
        self._buf = np.empty((_ROWS, self.n_vocab), dtype=np.float32)
        self._kv: list[int] = []   # tokens held in the KV cache (sequence 0, positions 0..len-1)
        self.stats = {"tokens": 0, "evaluated": 0, "reused": 0}

    def close(self) -> None:
        if self._batch is not None:
            self._lc.llama_batch_free(self._batch)
            self._batch = None
        self.llm.close()

    def reset(self) -> None:
        """Forget the KV cache (e.g. after someone else used the context)."""
        self._lc.llama_memory_clear(self._mem, True)
        self._kv = []

    # -- tokens --------------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def encode(self, sample: dict) -> Encoded:
        toks: list[int] = []
        resp: list[bool] = []
        for text, is_resp in render(sample, self.chat_format, self.call_format).segments:
            t = self.tokenize(text)
            toks += t
            resp += [is_resp] * len(t)
        return Encoded(np.asarray(toks, dtype=np.int32), np.asarray(resp, dtype=bool))

    # -- KV cache and decoding --------------------------------------------------------------------------
    def _start(self, tokens: Sequence[int], first_needed: int) -> int:
        """Drop cached positions the new sequence does not share; return where evaluation resumes.
        `first_needed` is the first position whose logits we need: it must be (re)evaluated."""
        keep = 0
        if self.reuse_prefix:
            n = min(len(self._kv), len(tokens), first_needed)
            while keep < n and self._kv[keep] == tokens[keep]:
                keep += 1
        if keep < len(self._kv):
            if keep == 0 or not self._lc.llama_memory_seq_rm(self._mem, 0, keep, -1):
                self._lc.llama_memory_clear(self._mem, True)
                keep = 0
            del self._kv[keep:]
        return keep

    def _decode(self, tokens: Sequence[int], start: int, want: np.ndarray):
        """Evaluate tokens[start:] at positions start.., yielding (positions, logits rows) for the
        positions where `want` is True. Rows are only valid until the next decode."""
        b, lc = self._batch, self._lc
        for a in range(start, len(tokens), self.n_batch):
            z = min(a + self.n_batch, len(tokens))
            for i, p in enumerate(range(a, z)):
                b.token[i] = int(tokens[p])
                b.pos[i] = p
                b.n_seq_id[i] = 1
                b.seq_id[i][0] = 0
                b.logits[i] = bool(want[p])
            b.n_tokens = z - a
            rc = lc.llama_decode(self._ctx, b)
            if rc != 0:
                lc.llama_memory_clear(self._mem, True)
                self._kv = []
                raise _DecodeError(f"llama_decode returned {rc}")
            self._kv.extend(int(t) for t in tokens[a:z])
            pos = np.flatnonzero(want[a:z]) + a
            if pos.size:
                rows = np.ctypeslib.as_array(lc.llama_get_logits(self._ctx), shape=(pos.size, self.n_vocab))
                yield pos, rows

    def _nll(self, rows: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """-log softmax(rows)[targets], exact over the full vocabulary, a few rows at a time."""
        out = np.empty(len(targets), dtype=np.float64)
        for a in range(0, len(targets), _ROWS):
            r = rows[a:a + _ROWS]
            buf = self._buf[:len(r)]
            m = r.max(axis=1)
            np.subtract(r, m[:, None], out=buf)
            np.exp(buf, out=buf)
            lse = m.astype(np.float64) + np.log(buf.sum(axis=1, dtype=np.float64))
            out[a:a + _ROWS] = lse - r[np.arange(len(r)), targets[a:a + _ROWS]]
        return out

    def _score_one(self, enc: Encoded) -> np.ndarray:
        toks, resp = enc.tokens, enc.response
        want = np.zeros(len(toks), dtype=bool)
        want[:-1] = resp[1:]                     # logits at p-1 predict token p
        start = self._start(toks, int(np.argmax(want)))
        self.stats["tokens"] += len(toks)
        self.stats["reused"] += start
        self.stats["evaluated"] += len(toks) - start
        parts = [self._nll(rows, toks[pos + 1]) for pos, rows in self._decode(toks, start, want)]
        return np.concatenate(parts)

    def token_nlls(self, samples: Sequence[dict]) -> list[TokenScores]:
        out: list[TokenScores | None] = [None] * len(samples)
        encs: dict[int, Encoded] = {}
        for i, s in enumerate(samples):
            try:
                encs[i] = self.encode(s)
            except PrintError:
                out[i] = TokenScores(s["id"], None, UNRENDERABLE)
        # Lexicographic order of the token bytes puts samples sharing a token prefix (same system
        # prompt + tools) next to each other; the id breaks ties, so the order is deterministic.
        order = sorted(encs, key=lambda i: (encs[i].tokens.tobytes(), samples[i]["id"]))
        for i in order:
            sid, enc = samples[i]["id"], encs[i]
            if not enc.response[1:].any():
                out[i] = TokenScores(sid, None, NO_RESPONSE)
            elif len(enc.tokens) > self.n_ctx:
                out[i] = TokenScores(sid, None, TOO_LONG)
            else:
                try:
                    out[i] = TokenScores(sid, self._score_one(enc))
                except _DecodeError:
                    out[i] = TokenScores(sid, None, DECODE_FAILED)
        return out

    # -- greedy answering (for the lower bound) ------------------------------------------------------
    def greedy(self, sample: dict, max_tokens: int = 128) -> str | None:
        """The model's greedy answer to the context before the sample's first assistant turn."""
        try:
            r = render(sample, self.chat_format, self.call_format)
        except PrintError:
            return None
        if not r.has_response:
            return None
        toks = self.tokenize(context_before_first_response(r))
        if len(toks) + max_tokens > self.n_ctx:
            return None
        stop = {self.llm.token_eos()}
        end = self.tokenize(FORMATS[self.chat_format].end)
        if len(end) == 1:
            stop.add(end[0])
        out: list[int] = []
        try:
            want = np.zeros(len(toks), dtype=bool)
            want[-1] = True
            for _ in range(max_tokens):
                start = self._start(toks, len(toks) - 1)
                nxt = None
                for _, rows in self._decode(toks, start, want):
                    nxt = int(np.argmax(rows[-1]))
                if nxt is None or nxt in stop:
                    break
                out.append(nxt)
                toks = toks + [nxt]
                want = np.append(want, True)
                want[-2] = False
        except _DecodeError:
            return None
        return self.llm.detokenize(out).decode("utf-8", errors="replace")
