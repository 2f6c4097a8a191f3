"""Decontamination: drop training samples whose requests reproduce an evaluation question.

Texts are lower-cased word sequences; a question is represented by its word n-grams (a question
shorter than n words by its whole sequence). A training request overlaps a question when it contains
at least `min_overlap` of the question's n-grams. The named eval set is BFCL, read with callforge.calling.bfcl
from a folder in its layout (`bfcl_dir`) or from the bfcl-eval wheel it downloads (`fetch`).
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Callable

from callforge.core.errors import CallforgeError
from callforge.core.parallel import ordered_map

_WORD = re.compile(r"[a-z0-9]+")


class EvalSetError(CallforgeError):
    """An evaluation set that cannot be read; .code is a stable reason."""


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def grams(ws: list[str], n: int) -> set[tuple[str, ...]]:
    if len(ws) < n:
        return {tuple(ws)} if ws else set()
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


class NgramIndex:
    """Inverted index from n-gram to the eval questions containing it. Questions shorter than n words
    are looked up whole: by their first word, then compared in place. Questions of fewer than
    MIN_WORDS words ("help", "thanks", "Hey!": BFCL's live_irrelevance has many) are not evidence of
    contamination and are left out: any request with the word would otherwise be dropped."""

    MIN_WORDS = 3

    def __init__(self, questions: dict[str, str], n: int, min_overlap: float):
        self.n, self.min_overlap = n, min_overlap
        self.size: dict[str, int] = {}
        self.postings: dict[tuple[str, ...], list[str]] = {}
        self.short: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for qid in sorted(questions):
            ws = words(questions[qid])
            if len(ws) < self.MIN_WORDS:
                continue
            if len(ws) < n:
                self.short.setdefault(ws[0], []).append((tuple(ws), qid))
                self.size[qid] = 1
                continue
            gs = grams(ws, n)
            self.size[qid] = len(gs)
            for g in sorted(gs):
                self.postings.setdefault(g, []).append(qid)

    def __len__(self) -> int:
        return len(self.size)

    def match(self, text: str) -> tuple[str, float] | None:
        """The eval question this text overlaps most (id, share of its n-grams), if past the threshold."""
        ws = words(text)
        n, post = self.n, self.postings
        hits: Counter = Counter()
        seen: set = set()
        for i in range(len(ws) - n + 1):      # the common case: a dict miss per position
            g = tuple(ws[i:i + n])
            qs = post.get(g)
            if qs and g not in seen:
                seen.add(g)
                hits.update(qs)
        if self.short:
            for i, w in enumerate(ws):
                for q, qid in self.short.get(w, ()):
                    if tuple(ws[i:i + len(q)]) == q:
                        hits[qid] = 1
        if not hits:
            return None
        share, qid = max((c / self.size[q], q) for q, c in hits.items())
        return (qid, round(share, 4)) if share >= self.min_overlap else None


def decontaminate(train: list, questions: dict[str, str], decontam, workers: int = 1,
                  map_fn: Callable = ordered_map, chunk: int = 20_000) -> tuple[list, list[dict]]:
    """(kept, dropped): the training samples (metas with .id and .request) whose request overlaps no
    question, and a row {"id", "eval_id", "overlap"} for each one that does. `decontam` is the
    split.decontam config (ngram, min_overlap). The requests are matched in chunks on `workers`
    processes through `map_fn` (the stage's ordered parallel map); the result is the same for any count."""
    if not questions:
        return list(train), []
    index = NgramIndex(questions, decontam.ngram, decontam.min_overlap)
    chunks = [[m.request for m in train[i:i + chunk]] for i in range(0, len(train), chunk)]
    hits = chain.from_iterable(map_fn(_match_chunk, chunks, min(workers, len(chunks)) or 1,
                                      init=_use_index, initargs=(index,)))
    kept, dropped = [], []
    try:
        for m, hit in zip(train, hits):
            if hit:
                dropped.append({"id": m.id, "eval_id": hit[0], "overlap": hit[1]})
            else:
                kept.append(m)
    finally:
        _use_index(None)    # set in this process when it matched alone
    return kept, dropped


_index: NgramIndex | None = None    # the process's index: a forked worker has it from the start (no copy sent)


def _use_index(index: NgramIndex) -> None:
    global _index
    _index = index


def _match_chunk(requests: list[str]) -> list:
    return [_index.match(r) for r in requests]


def bfcl_questions(source, categories=()) -> dict[str, str]:
    """User turns of every entry of a BFCL source (a bfcl-eval wheel or a folder in its layout),
    keyed "<category>:<id>"; read with callforge.calling.bfcl, the evaluate stage's reader."""
    from callforge.calling import bfcl

    try:
        with bfcl.Source(source) as src:
            out = {}
            wanted = list(categories)
            for cat in wanted or src.categories():
                try:
                    entries = src.load(cat, with_answers=False)
                except bfcl.BfclError:
                    if wanted:
                        raise
                    continue   # all found: a category in another layout (multi-turn, memory, ...) is skipped
                for e in entries:
                    out[f"{cat}:{e.id}"] = "\n".join(m["content"] for m in e.messages
                                                     if m.get("role") == "user" and isinstance(m.get("content"), str))
            return out
    except bfcl.BfclError as e:
        raise EvalSetError(e.code, str(e).split(": ", 1)[-1]) from None


def eval_questions(cfg) -> tuple[dict[str, str], str]:
    """The configured evaluation set's questions, and a label of where they came from.

    `cfg` is the split.decontam config. BFCL comes from `bfcl_dir` when set, else from the BFCL
    fetcher's download when `fetch` is on; without either it is "unavailable": an error when
    `required`, otherwise a warning and no decontamination (the stats say so).
    """
    if cfg.eval_set == "none":
        return {}, "none"
    if cfg.eval_set != "bfcl":
        raise EvalSetError("decontam.unknown_eval_set", f"split.decontam.eval_set must be bfcl or none, not {cfg.eval_set!r}")
    if cfg.bfcl_dir:
        if not Path(cfg.bfcl_dir).is_dir():
            raise EvalSetError("decontam.eval_set_missing", f"split.decontam.bfcl_dir {cfg.bfcl_dir} is not a folder")
        return bfcl_questions(cfg.bfcl_dir, cfg.categories), "bfcl_dir"
    if cfg.fetch:
        from callforge.calling import bfcl
        try:
            wheel = bfcl.fetch_wheel()
        except bfcl.BfclError as e:
            if cfg.required:
                raise EvalSetError(e.code, str(e).split(": ", 1)[-1]) from None
            print(f"callforge: warning: BFCL download failed ({e}); training samples are not checked against it",
                  file=sys.stderr)
            return {}, "unavailable"
        return bfcl_questions(wheel, cfg.categories), f"bfcl-eval=={bfcl.VERSION}"
    if cfg.required:
        raise EvalSetError("decontam.eval_set_unavailable",
                           "no BFCL data: set split.decontam.bfcl_dir or split.decontam.fetch=true")
    print("callforge: warning: no BFCL data for decontamination (set split.decontam.bfcl_dir or "
          "split.decontam.fetch=true); training samples are not checked against it", file=sys.stderr)
    return {}, "unavailable"

