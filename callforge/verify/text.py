"""Text tests the rule layer needs: bad characters, writing scripts, truncation, value normalisation.

All of them are plain functions on strings, written for speed: ASCII text (most of it) takes a
fast path, and nothing here builds more than one pass over a string.
"""
from __future__ import annotations

import bisect
import re

# C0/C1 controls except tab/newline/CR, lone surrogates (what a bad "\ud800" escape decodes to), the
# replacement character (a decode that already failed upstream), non-characters, bidi overrides.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd\ufffe\uffff"
                      "\u202a-\u202e\u2066-\u2069]")


def invalid_char(s: str) -> str | None:
    """The first invalid character of s (as U+XXXX), or None."""
    m = _INVALID.search(s)
    return f"U+{ord(m.group()):04X}" if m else None


# ------------------------------------------------------------------ writing scripts

# (first code point, script) for letter ranges; a letter between ranges is "other".
# Han, kana and Hangul form one group: Japanese mixes Han and kana, Korean may use Han.
_RANGES = sorted([
    (0x0041, "latin"), (0x0250, "other"), (0x1E00, "latin"), (0x1F00, "greek"), (0x2000, "other"),
    (0x0370, "greek"), (0x0400, "cyrillic"), (0x0530, "other"), (0x0590, "hebrew"), (0x0600, "arabic"),
    (0x0780, "other"), (0x0900, "indic"), (0x0E00, "thai"), (0x0E80, "other"), (0x1100, "cjk"), (0x1200, "other"),
    (0x2E80, "cjk"), (0xA000, "other"), (0xAC00, "cjk"), (0xD7B0, "other"), (0xF900, "cjk"), (0xFB00, "other"),
    (0xFF21, "latin"), (0xFF5B, "other"), (0xFF66, "cjk"), (0xFFDD, "other"), (0x20000, "cjk"), (0x30000, "other"),
])
_STARTS = [r[0] for r in _RANGES]
_NAMES = [r[1] for r in _RANGES]


def script_of(ch: str) -> str:
    i = bisect.bisect_right(_STARTS, ord(ch)) - 1
    return _NAMES[i] if i >= 0 else "other"


def script_words(text: str) -> list[tuple[str, str]]:
    """[(script, word)]: maximal runs of letters of one script (CJK runs are whole phrases: no spaces)."""
    out: list[tuple[str, str]] = []
    cur, start = None, 0
    for i, ch in enumerate(text):
        sc = script_of(ch) if ch.isalpha() else None
        if sc != cur:
            if cur is not None:
                out.append((cur, text[start:i]))
            cur, start = sc, i
    if cur is not None:
        out.append((cur, text[start:]))
    return out


def _weight(sc: str, w: str) -> int:
    """Words in a run: a CJK run of n characters counts (n + 1) // 2 (CJK words are 1-2 characters)."""
    return (len(w) + 1) // 2 if sc == "cjk" else 1


def script_counts(text: str) -> dict[str, int]:
    """Words per script."""
    counts: dict[str, int] = {}
    for sc, w in script_words(text):
        if sc != "other":
            counts[sc] = counts.get(sc, 0) + _weight(sc, w)
    return counts


def _quoted(sc: str, w: str, context: str, known: set[str]) -> bool:
    """A run the answer copies from the context: a CJK run found there, or a word of it (3+ letters;
    in Latin only names, so "sunny" copied from a tool result still counts as English)."""
    if sc == "cjk":
        return len(w) > 1 and w in context
    return len(w) >= 3 and w in known and (sc != "latin" or not w.islower())


# A letter or digit beyond Latin (U+0000-U+024F): only text holding one can be in another script.
_FOREIGN = re.compile(r"[^\x00-\u024f\W]")


def latin_only(text: str) -> bool:
    return text.isascii() or _FOREIGN.search(text) is None


def mixed_scripts(text: str, context: str, min_share: float, min_words: int,
                  any_share_words: int = 6) -> tuple[str, str] | None:
    """(main, minority) when a second script holds at least min_share of the words (and min_words), or
    at least any_share_words words whatever its share (a whole sentence switched inside a long answer).
    Names quoted from the context in a minority script do not count: "東京タワー" in an English answer
    to a user who wrote it is not a language switch."""
    if latin_only(text):
        return None
    runs = [(sc, w) for sc, w in script_words(text) if sc != "other"]
    counts: dict[str, int] = {}
    for sc, w in runs:
        counts[sc] = counts.get(sc, 0) + _weight(sc, w)
    if len(counts) < 2:
        return None
    main = max(sorted(counts), key=counts.get)
    known = {w for _, w in script_words(context)}
    minority: dict[str, int] = {}
    for sc, w in runs:
        if sc != main and not _quoted(sc, w, context, known):
            minority[sc] = minority.get(sc, 0) + _weight(sc, w)
    if not minority:
        return None
    second = max(sorted(minority), key=minority.get)
    n = minority[second]
    if n >= min_words and (n / (counts[main] + n) >= min_share or n >= any_share_words):
        return main, second
    return None


def main_script(text: str, min_words: int = 3) -> str | None:
    if latin_only(text):
        return "latin" if sum(1 for w in text.split() if any(c.isalpha() for c in w)) >= min_words else None
    counts = script_counts(text)
    if not counts or sum(counts.values()) < min_words:
        return None
    return max(sorted(counts), key=counts.get)


# ------------------------------------------------------------------ truncation

_DANGLING = frozenset("a an the and or but nor so to of for with in on at by from into than as is are was were be "
                      "that which who whose your my our their its this these those if because while".split())
_CUT_ENDINGS = (",", ";", ":", "-", "–", "—", "(", "[", "{", "，", "、", "：", "；", "\\")
_STRUCTURED = re.compile(r"\s*(?:[-*•+|#>]|\d+[.)]\s)")   # list item, table row, heading, quote


def truncated(text: str) -> str | None:
    """Why a response looks cut off mid-way, or None. Heuristics, each one a distinct sign; a finished
    prose answer ends in punctuation or a symbol (an emoji), a list item, a table row or a code block."""
    s = text.rstrip()
    if not s:
        return None
    if s.count("```") % 2:
        return "unclosed code block"
    for o, c in ("()", "[]", "{}"):
        if s.count(o) > s.count(c):
            return f"unclosed {o!r}"
    if s.endswith(_CUT_ENDINGS):
        return f"ends with {s[-1]!r}"
    last = s.rsplit(None, 1)[-1]
    if last.isalpha() and last.lower() in _DANGLING and len(s.split()) > 3:
        return f"ends with the word {last!r}"
    if s[-1].isalnum() and not _STRUCTURED.match(s.rsplit("\n", 1)[-1]) and len(s.split()) > 3:
        return f"prose ends without punctuation ({last[-20:]!r})"
    return None


# ------------------------------------------------------------------ value normalisation (grounding)

# BFCL compares strings after dropping spaces and ,./-_*^ and lower-casing; quotes and brackets too here.
_DROP = str.maketrans("", "", " \t\n\r,./-_*^'\"`()[]{}:;!?")


def norm(s: str) -> str:
    return s.casefold().translate(_DROP)


_NUM = re.compile(r"(\d[\d,]*(?:\.\d+)?)(\s*%|\s*(?:percent|k|thousand|m|mn|million|bn|billion)\b)?")
_SCALE = {"%": 0.01, "percent": 0.01, "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6,
          "bn": 1e9, "billion": 1e9}
_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                      "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}
_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
               "hundred": 100, "thousand": 1000, "million": 1e6, "dozen": 12, "half": 0.5, "once": 1, "twice": 2,
               "single": 1, "double": 2, "triple": 3, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
               "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "a": 1, "an": 1})
_WORD = re.compile(r"[a-z]+")


def numbers_in(text: str) -> set[float]:
    """Every number written in digits in text: 1,000 / 2.5 / 5% / 3k / 2 million (a list "3,4" gives 3, 4 and 34)."""
    out: set[float] = set()
    for num, scale in _NUM.findall(text.lower()):
        parts = [num.replace(",", "")] + (num.split(",") if "," in num else [])
        for p in parts:
            try:
                x = float(p)
            except ValueError:    # "1,,2" or a trailing comma
                continue
            out.add(x)
            if scale:
                out.add(round(x * _SCALE[scale.strip()], 9))
    return out


def number_words_in(text: str) -> set[float]:
    """Small numbers written as words: "three", "a dozen", "twice", "second"."""
    return {float(_WORDS[w]) for w in _WORD.findall(text.lower()) if w in _WORDS}


def number_found(v: float, numbers: set[float]) -> bool:
    v = abs(float(v))
    return v in numbers or round(v, 9) in numbers or round(v * 100, 9) in numbers


_MONTHS = {m: i + 1 for i, m in enumerate("january february march april may june july august september october "
                                          "november december".split())}
_MONTHS.update({k[:3]: v for k, v in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MD = re.compile(r"\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\b")
_SLASH = re.compile(r"\b(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})\b")


def dates_in(text: str) -> set[tuple[int, int]]:
    """(month, day) pairs of dates written in words ("March 5th", "5 March") or with slashes."""
    t = text.lower()
    out = set()
    for m in _MD.finditer(t):
        month = _MONTHS.get(m.group(1) or m.group(4))
        day = int(m.group(2) or m.group(3))
        if month and 1 <= day <= 31:
            out.add((month, day))
    for m in _SLASH.finditer(t):
        a, b, c = (int(x) for x in m.groups())
        if len(m.group(1)) == 4:
            out.add((b, c))
        else:            # both readings: 03/05 is March 5 in the US and May 3 elsewhere
            out.add((a, b))
            out.add((b, a))
    return out


def iso_date(s: str) -> tuple[int, int, int] | None:
    m = _ISO.match(s)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None
