"""Degenerate text: the repetition loops and meaningless tokens a model emits when decoding goes wrong.

ToolACE drops responses with repetition or meaningless tokens; these are the mechanical tests for
that. Fenced code blocks are left out of the repetition and symbol tests: code and data repeat and
use symbols by nature. Control and replacement characters are the invalid_chars check's (text.py).

They run on every text of every sample, so they are written for speed: a sample's texts are scanned
together once (`SampleText`), and a test looks at one text only when that scan says it may fail.
Words are whitespace tokens, lower-cased: a loop repeats its words with their punctuation, so they
need no further cleaning.
"""
from __future__ import annotations

import functools
import operator
import re
from collections import Counter
from itertools import chain
from string import punctuation

_FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)
_SENTENCE_ENDS = ("! ", "? ", "\n", "。", "！", "？")   # each made ". ", then split there
# The same letter (any script) many times in a row: "zzzzzzzz", "ééééééééé". Digits do not count (1000000000).
_LETTER_RUN = r"([^\W\d_])\1{%d,}"          # % the run length past which it counts
_SYMBOL_RUN = r"[!-/:-@\[-`{-~]{%d,}"       # % the shortest run of ASCII punctuation that counts
# Markdown's table, rule and emphasis signs: "|:---|", "=====", "**" are layout, neither meaning nor garbage.
_MARKDOWN = "|-:=+*_#~."
_LAYOUT_BYTES = (_MARKDOWN + " \t\n\r\f\v").encode()
_GARBAGE_BYTES = "".join(c for c in punctuation if c not in _MARKDOWN).encode()
# Chat-template and tokenizer tokens that belong to no text: a model that emits them has lost the turn
# structure (<|im_end|>, <end_of_turn>, </s>, [INST], <think> in an answer, ...).
_SPECIAL = re.compile(r"<\|[A-Za-z0-9_]+\|?>|</?s>|<(?:unk|pad|eos|bos|mask|sep|cls)>|</?(?:start|end)_of_turn>"
                      r"|\[/?INST\]|<</?SYS>>|</?think>|</?tool_call>")
# UTF-8 read as Latin-1 or cp1252: "CafÃ©", "itâ€™s", "Â°". No language writes Ã or Â before these symbols.
_MOJIBAKE = re.compile("[\u00c2\u00c3][\u00a0-\u00bf]"
                       "|\u00e2\u20ac[\u2122\u0153\u02dc\u201c\u201d\u2018\u2019\u00a6\u00a2\u00a0-\u00bf]")


def prose(text: str) -> str:
    """The text without fenced code blocks."""
    return _FENCED.sub(" ", text) if "```" in text else text


def _garbage(text: str) -> int:
    """ASCII punctuation other than markdown's signs (bytes.translate deletes at C speed)."""
    b = text.encode()
    return len(b) - len(b.translate(None, _GARBAGE_BYTES))


class SampleText:
    """The prose of one sample (what its user and assistant write), scanned once for every text at a
    time: its tokens, the long ones, its punctuation. A finding here only says which texts to test."""

    def __init__(self, texts: list[str]):
        self.texts = [prose(t) for t in texts]
        self.lowered = [t.lower() for t in self.texts]
        self.tokens_of = [t.split() for t in self.lowered]
        self.tokens = list(chain.from_iterable(self.tokens_of))
        self._long: tuple[int, list[str]] = (0, self.tokens)   # (n, the tokens of n characters or more)

    def long_tokens(self, n: int) -> str:
        """The tokens of n characters or more, joined by spaces (a run of n characters lies in one).
        A call filters the shortest list an earlier call left: the letter and symbol tests share it."""
        floor, tokens = self._long
        if n < floor:
            tokens = self.tokens
        long = [t for t in tokens if len(t) >= n]
        if n >= floor:
            self._long = (n, long)
        return " ".join(long)

    def adjacent_repeat(self) -> bool:
        """Two equal tokens in a row somewhere (a word run needs one; two texts' ends may give a false one)."""
        return any(map(operator.eq, self.tokens, self.tokens[1:]))


# ------------------------------------------------------------------ repetition

def repetition(st: SampleText, sentences: list[bool], s) -> list[tuple[int, str, str]]:
    """(text index, reason code, detail) of each loop in the sample's texts. s: verify.degenerate;
    sentences[k]: whether text k gets the sentence test (thinking traces repeat their structure by design)."""
    out = []
    letter_runs = _has_letter_run(st.long_tokens(s.max_letter_run + 1), s.max_letter_run)
    word_runs = st.adjacent_repeat()
    for k, (text, tokens) in enumerate(zip(st.texts, st.tokens_of)):
        found = (("dialog.repeated_ngrams", repeated_ngrams(tokens, s.ngram, s.min_words, s.max_ngram_repeat_share)),
                 ("dialog.repeated_sentence", sentences[k] and repeated_sentence(
                     text, s.min_sentence_words, s.max_sentence_repeats, st.lowered[k])),
                 ("dialog.token_run", (word_runs and word_run(tokens, s.max_word_run))
                  or (letter_runs and letter_run(text, s.max_letter_run))))
        out += [(k, code, why) for code, why in found if why]
    return out


def _max_tokens(text: str) -> int:
    """An upper bound of the whitespace tokens in text, without splitting it."""
    return text.count(" ") + text.count("\n") + text.count("\t") + 1


def repeated_ngrams(tokens: list[str], n: int, min_words: int, max_share: float) -> str | None:
    """Too many of the word n-grams occur earlier in the same text ("I can help. I can help. I can help.")."""
    total = len(tokens) - n + 1
    # a repeated n-gram starts with a repeated token, so few repeated tokens settle it without the n-grams
    if len(tokens) < min_words or total < 2 or len(tokens) - len(set(tokens)) <= max_share * total:
        return None
    share = 1 - len(set(zip(*(tokens[i:] for i in range(n))))) / total
    if share > max_share:
        return f"{share:.0%} of its {n}-word sequences repeat an earlier one ({len(tokens)} words)"
    return None


def repeated_sentence(text: str, min_words: int, max_repeats: int, lowered: str | None = None) -> str | None:
    """One sentence or line (of min_words words or more) written more than max_repeats times.
    `lowered`: text.lower(), when the caller has it already."""
    if _max_tokens(text) < min_words * (max_repeats + 1):
        return None
    t = text.lower() if lowered is None else lowered
    for end in _SENTENCE_ENDS:   # plain replaces: a regex split costs several times more
        if end in t:
            t = t.replace(end, ". ")
    if t.count(". ") < max_repeats:
        return None            # at most max_repeats sentences: none can be there max_repeats + 1 times
    units = [u.strip(" .") for u in t.split(". ")]
    if len(units) - len(set(units)) < max_repeats:
        return None            # no sentence is there max_repeats + 1 times
    counts = Counter(u for u in units if len(u.split()) >= min_words)
    unit, k = counts.most_common(1)[0] if counts else ("", 0)
    return f"the sentence {unit[:60]!r} {k} times" if k > max_repeats else None


def word_run(tokens: list[str], max_run: int) -> str | None:
    """The same word more than max_run times in a row (signs alone are not words: "*/15 * * * *" is a cron line)."""
    run = 1
    for a, b in zip(tokens, tokens[1:]):
        run = run + 1 if a == b else 1
        if run > max_run and any(map(str.isalnum, a)):
            return f"the word {a[:30]!r} {run}+ times in a row"
    return None


def letter_run(text: str, max_run: int) -> str | None:
    """The same letter more than max_run times in a row."""
    m = _letter_run(max_run).search(text.lower())
    return f"the letter {m.group(1)!r} {len(m.group())} times in a row" if m else None


# ------------------------------------------------------------------ meaningless tokens

def symbol_garbage(st: SampleText, min_run: int, min_meaningful_share: float, min_chars: int) -> list[tuple[int, str]]:
    """(text index, detail) of texts with a long run of mixed punctuation ("#$%&*@!^~"), or of min_chars
    or more that are mostly punctuation (markdown's signs aside)."""
    out = []
    runs = any(_mixed(m.group()) for m in _symbol_run(min_run).finditer(st.long_tokens(min_run)))
    enough = (1 - min_meaningful_share) * min_chars   # a text fails the share test only with more garbage
    for k, text in enumerate(st.texts):
        why = ((runs and _symbol_run_in(text, min_run))
               or (_garbage(text) > enough and _low_share(text, min_meaningful_share, min_chars)))
        if why:
            out.append((k, why))
    return out


def _mixed(run: str) -> bool:
    """Garbage, not layout: three kinds of sign or more, two of them not markdown's."""
    kinds = set(run)
    return len(kinds) >= 3 and len(kinds - set(_MARKDOWN)) >= 2


def _symbol_run_in(text: str, min_run: int) -> str | None:
    run = next((m.group() for m in _symbol_run(min_run).finditer(text) if _mixed(m.group())), None)
    return f"the symbol run {run[:30]!r}" if run else None


def _low_share(text: str, min_share: float, min_chars: int) -> str | None:
    b = text.encode()   # spaces and markdown signs are ASCII: counted in bytes, they are counted in characters
    chars = len(text) - (len(b) - len(b.translate(None, _LAYOUT_BYTES)))
    if chars < min_chars:
        return None
    share = 1 - _garbage(text) / chars
    return f"only {share:.0%} of its {chars} characters are not punctuation" if share < min_share else None


def special_token(text: str) -> str | None:
    m = _SPECIAL.search(text) if "<" in text or "INST]" in text else None
    return f"the template token {m.group()!r}" if m else None


def mojibake(text: str) -> str | None:
    """UTF-8 decoded as Latin-1 or cp1252 somewhere upstream."""
    suspect = not text.isascii() and ("\u00c3" in text or "\u00c2" in text or "\u00e2\u20ac" in text)
    m = _MOJIBAKE.search(text) if suspect else None
    return f"{text[max(0, m.start() - 12):m.end() + 12]!r}" if m else None


@functools.lru_cache(maxsize=None)
def _letter_run(limit: int) -> re.Pattern:
    return re.compile(_LETTER_RUN % limit)


def _has_letter_run(lowered: str, limit: int) -> bool:
    """Whether lower-cased text holds a letter run; ASCII text by a plain class, 2x faster than any script's."""
    return (_ascii_letter_run(limit) if lowered.isascii() else _letter_run(limit)).search(lowered) is not None


@functools.lru_cache(maxsize=None)
def _ascii_letter_run(limit: int) -> re.Pattern:
    return re.compile(r"([a-z])\1{%d,}" % limit)


@functools.lru_cache(maxsize=None)
def _symbol_run(min_run: int) -> re.Pattern:
    return re.compile(_SYMBOL_RUN % min_run)
