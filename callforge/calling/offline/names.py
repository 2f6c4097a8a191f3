"""Reading parameter names: their tokens, singular and human forms, and ordered rule tables.

A rule table is a list of (NameShape, result) rows; `first_match` gives the result of the first row
whose shape the name has. The schema side maps names to kinds with one, the value side maps names
to generators and number ranges with others, so row order is meaning: put specific rows first.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple, Pattern

_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@lru_cache(maxsize=16384)
def tokens(name: str) -> tuple[str, ...]:
    """Lower-case words of a snake_case, camelCase or dotted name ("maxPriceUSD" -> max, price, usd)."""
    return tuple(t.lower() for t in _SPLIT.findall(name or ""))


# Nouns whose last "s" is no plural ending.
_NOT_PLURAL = ("species", "series", "news", "alias", "status", "analysis", "basis", "canvas", "bus", "ss", "us", "is")


def singular(name: str) -> str:
    if name.lower().endswith(_NOT_PLURAL):
        return name
    for suf, rep in (("ies", "y"), ("_list", ""), ("List", ""), ("sses", "ss"), ("s", "")):
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)] + rep
    return name


@lru_cache(maxsize=None)
def humanize(name: str) -> str:
    """A name as words for a description ("max_price" -> "Max price"; short acronyms keep their case)."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name).replace("_", " ").replace(".", " ").split()
    s = " ".join(w.lower() if w.upper() != w or len(w) > 4 else w for w in words) or name
    return s[:1].upper() + s[1:]


class NameShape(NamedTuple):
    """What marks a name; it has the shape when any one mark is present."""
    words: frozenset = frozenset()      # one of its tokens
    names: frozenset = frozenset()      # the whole name
    prefixes: tuple = ()
    suffixes: tuple = ()
    pattern: Pattern | None = None      # searched anywhere in the name

    def fits(self, name: str, toks: tuple[str, ...]) -> bool:
        return (not self.words.isdisjoint(toks) or name in self.names or name.startswith(self.prefixes)
                or name.endswith(self.suffixes) or (self.pattern is not None and self.pattern.search(name) is not None))


def any_word(*ws: str) -> NameShape:
    """The shape of names with any of these tokens (the value side's rows)."""
    return NameShape(words=frozenset(ws))


def first_match(rules: list[tuple[NameShape, Any]], name: str = "", toks: tuple[str, ...] = ()) -> Any:
    """The result of the first row whose shape `name` (or its tokens `toks`) has; None when none does."""
    for shape, result in rules:
        if shape.fits(name, toks):
            return result
    return None
