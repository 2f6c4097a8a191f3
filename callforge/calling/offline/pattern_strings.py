"""Generate a string matching a regular expression (JSON Schema `pattern`).

Walks the parse tree of Python's own regex parser, so every construct the validator
understands is read the same way here. Each candidate is checked with `re.search`; unsupported
constructs (look-arounds, back-references) raise `Unsupported`, which the value side reports as
`Unsatisfiable`.
"""
from __future__ import annotations

import random
import re
from functools import lru_cache
import re._parser as sre  # private, but stable across 3.11+: the same parser `re` compiles with
from re._constants import (ANY, AT, BRANCH, CATEGORY, IN, LITERAL, MAX_REPEAT, MIN_REPEAT,
                           NEGATE, NOT_LITERAL, RANGE, SUBPATTERN, CATEGORY_DIGIT, CATEGORY_NOT_DIGIT,
                           CATEGORY_SPACE, CATEGORY_NOT_SPACE, CATEGORY_WORD, CATEGORY_NOT_WORD)

_PRINTABLE = [chr(c) for c in range(32, 127)]
_CAT = {
    CATEGORY_DIGIT: "0123456789",
    CATEGORY_NOT_DIGIT: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_",
    CATEGORY_SPACE: " ",
    CATEGORY_NOT_SPACE: "abcdefghijklmnopqrstuvwxyz0123456789",
    CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    CATEGORY_NOT_WORD: "-.,:; ",
}
_MAX_OPEN_REPEAT = 4  # `*`, `+`, `{n,}` are open-ended; keep strings short and readable


class Unsupported(ValueError):
    pass


def _class_chars(items) -> list[str]:
    negate = False
    chars: list[str] = []
    for op, av in items:
        if op is NEGATE:
            negate = True
        elif op is LITERAL:
            chars.append(chr(av))
        elif op is RANGE:
            lo, hi = av
            chars.extend(chr(c) for c in range(lo, min(hi, lo + 200) + 1))
        elif op is CATEGORY:
            chars.extend(_CAT.get(av, ""))
        else:
            raise Unsupported(f"class item {op}")
    if negate:
        banned = set(chars)
        chars = [c for c in _PRINTABLE if c not in banned and c.isalnum()] or [c for c in _PRINTABLE if c not in banned]
    if not chars:
        raise Unsupported("empty class")
    return chars


_CLASS = object()   # op of a character class whose choices are precomputed


def _prepare(tree) -> list:
    """The parse tree with character classes expanded once (patterns repeat across samples)."""
    out = []
    for op, av in tree:
        if op is IN:
            out.append((_CLASS, _class_chars(av)))
        elif op in (MAX_REPEAT, MIN_REPEAT):
            out.append((op, (av[0], av[1], _prepare(av[2]))))
        elif op is SUBPATTERN:
            out.append((op, (*av[:-1], _prepare(av[-1]))))
        elif op is BRANCH:
            out.append((op, (av[0], [_prepare(b) for b in av[1]])))
        else:
            out.append((op, av))
    return out


@lru_cache(maxsize=4096)
def _compiled(pattern: str):
    return _prepare(sre.parse(pattern)), re.compile(pattern)


def _emit(tree, rng: random.Random, out: list[str]) -> None:
    for op, av in tree:
        if op is LITERAL:
            out.append(chr(av))
        elif op is _CLASS:
            out.append(rng.choice(av))
        elif op is NOT_LITERAL:
            out.append(rng.choice([c for c in "abcxyz019" if ord(c) != av]))
        elif op is ANY:
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789"))
        elif op is IN:
            out.append(rng.choice(_class_chars(av)))
        elif op is CATEGORY:
            out.append(rng.choice(_CAT[av]))
        elif op in (MAX_REPEAT, MIN_REPEAT):
            lo, hi, sub = av
            hi = lo + _MAX_OPEN_REPEAT if hi is sre.MAXREPEAT else hi
            for _ in range(rng.randint(lo, max(lo, hi))):
                _emit(sub, rng, out)
        elif op is SUBPATTERN:
            _emit(av[-1], rng, out)
        elif op is BRANCH:
            _emit(rng.choice(av[1]), rng, out)
        elif op is AT:
            continue  # anchors emit nothing; the caller anchors the search check itself
        else:
            raise Unsupported(f"regex op {op}")


def generate(pattern: str, rng: random.Random, tries: int = 8) -> str:
    """A string `s` with `re.search(pattern, s)`; raises Unsupported when none is found."""
    try:
        tree, rx = _compiled(pattern)
    except re.error as e:
        raise Unsupported(f"bad pattern: {e}") from None
    for _ in range(tries):
        out: list[str] = []
        _emit(tree, rng, out)
        s = "".join(out)
        if rx.search(s):
            return s
    raise Unsupported(f"no match found for {pattern!r}")
