"""The Python call syntax ToolACE and BFCL write calls in: `[get_weather(city="Paris", days=3), f(k=[1, 2])]`.

parse_calls() reads it with the `ast` module (never eval) into [{"name", "arguments"}];
print_calls() writes it back. Values are JSON-like literals: str, int, float, bool, None, list,
tuple (read as a list), dict with string keys, and negative numbers. ToolACE tool names may contain
spaces ("Market Trends API(...)"): when plain Python parsing fails, the names at call positions are
swapped for placeholders, parsed, and swapped back. Anything else raises ParseError with a code.
"""
from __future__ import annotations

import ast
import functools
import io
import json
import keyword
import math
import re
import tokenize
import warnings
from typing import Any

import orjson

from callforge.core import reasons
from callforge.core.errors import CallforgeError

MAX_CHARS = 1_000_000
MAX_DEPTH = 100  # value nesting; printing and parsing share it

CODES = reasons.CALL    # the codes, with what each means: callforge/core/reasons.py


class ParseError(CallforgeError):
    """Text that is not a call list; .code is one of CODES."""


class PrintError(CallforgeError):
    """A call that cannot be written in Python call syntax; .code is one of CODES."""


# ---------------------------------------------------------------- parsing

def parse_calls(text: Any) -> list[dict]:
    """`[f(a=1), g.h(b="x")]` or a bare `f(a=1)` -> [{"name": "f", "arguments": {"a": 1}}, ...]."""
    if not isinstance(text, str):
        raise ParseError("call.not_text", f"got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ParseError("call.too_long", f"{len(text)} characters")
    src = text.strip()
    if not src:
        raise ParseError("call.syntax", "empty input")
    try:
        return _calls(_parse(src), {})
    except ParseError as first:
        if first.code not in ("call.syntax", "call.not_a_call", "call.bad_name"):
            raise
        # ToolACE-style names ("Get Weather", "get-weather", "a.class") are not Python names.
        masked, names = _mask_names(src)
        if not names:
            raise
        try:
            return _calls(_parse(masked), names)
        except ParseError:
            raise first from None


def _parse(src: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid escape sequence" etc. in model text: not ours to print
            return ast.parse(src, mode="eval")
    except RecursionError:
        raise ParseError("call.too_deep", "expression nested too deeply") from None
    except (SyntaxError, ValueError, MemoryError) as e:
        text = str(e)
        code = ("call.bad_number" if "integer string conversion" in text
                else "call.too_deep" if "too many nested" in text else "call.syntax")
        raise ParseError(code, getattr(e, "msg", None) or str(e)) from None


def _calls(tree: ast.Expression, names: dict[str, str]) -> list[dict]:
    body = tree.body
    try:
        return [_call(node, names) for node in (body.elts if isinstance(body, (ast.List, ast.Tuple)) else [body])]
    except RecursionError:
        raise ParseError("call.too_deep", "values nested too deeply") from None


def _call(node: ast.expr, names: dict[str, str]) -> dict:
    if not isinstance(node, ast.Call):
        raise ParseError("call.not_a_call", f"{type(node).__name__} where a call was expected")
    name = _dotted(node.func)
    name = names.get(name, name)
    if node.args:
        bad = node.args[0]
        code = "call.star_argument" if isinstance(bad, ast.Starred) else "call.positional_argument"
        raise ParseError(code, f"{name}: positional argument")
    args: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise ParseError("call.star_argument", f"{name}: **kwargs")
        if kw.arg in args:
            raise ParseError("call.duplicate_argument", f"{name}: {kw.arg} given twice")
        args[kw.arg] = _literal(kw.value)
    return {"name": name, "arguments": args}


def _dotted(node: ast.expr) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Constant) and (node.value is None or node.value is True or node.value is False):
        parts.append(repr(node.value))  # a tool may be called "None" or "True.x"
        return ".".join(reversed(parts))
    if not isinstance(node, ast.Name):
        raise ParseError("call.bad_name", f"cannot call a {type(node).__name__}")
    parts.append(node.id)
    return ".".join(reversed(parts))


def _literal(node: ast.expr, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ParseError("call.too_deep", f"values nested deeper than {MAX_DEPTH}")
    if isinstance(node, ast.Constant):
        v = node.value
        if v is None or isinstance(v, (str, bool, int)):
            return v
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ParseError("call.bad_number", f"{v} is not a finite number")
            return v
        raise ParseError("call.bad_literal", f"{type(v).__name__} literal")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _literal(node.operand, depth + 1)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ParseError("call.bad_literal", "sign applied to a non-number")
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, (ast.List, ast.Tuple)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise ParseError("call.bad_literal", "starred element")
        return [_literal(e, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                raise ParseError("call.bad_literal", "**mapping inside a dict")
            key = _literal(k, depth + 1)
            if not isinstance(key, str):
                raise ParseError("call.non_string_key", f"dict key {key!r}")
            out[key] = _literal(v, depth + 1)
        return out
    raise ParseError("call.bad_literal", f"{type(node).__name__} is not a literal")


def _mask_names(src: str) -> tuple[str, dict[str, str]]:
    """Replace each name in call position with a placeholder identifier; ({} if none or untokenizable)."""
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(src).readline)
                if t.type not in _SKIP]
    except (tokenize.TokenError, SyntaxError):
        return src, {}
    if not toks:
        return src, {}
    starts = [0]
    for ln in src.splitlines(keepends=True):
        starts.append(starts[-1] + len(ln))

    def offset(pos: tuple[int, int]) -> int:
        return starts[pos[0] - 1] + pos[1]

    call_depth = 1 if toks[0].string == "[" else 0
    spans: list[tuple[int, int]] = []
    depth, run = 0, []  # run: name-like tokens since the last separator at the call level
    for tok in toks:
        s, op = tok.string, tok.type == tokenize.OP
        if op and s in ("(", "[", "{"):
            while run and run[0].type == tokenize.OP:  # a name starts with a word
                run.pop(0)
            if s == "(" and depth == call_depth and run:
                spans.append((offset(run[0].start), offset(run[-1].end)))
            depth += 1
            run = []
        elif op and s in (")", "]", "}"):
            depth -= 1
            run = []
        elif depth == call_depth and (tok.type in (tokenize.NAME, tokenize.NUMBER) or (op and s in (".", "-"))):
            run.append(tok)
        else:
            run = []
    names: dict[str, str] = {}
    out, last = [], 0
    for i, (a, b) in enumerate(spans):
        ph = f"_cf_name_{i}_"
        while ph in src:
            ph += "_"
        names[ph] = src[a:b]
        out += [src[last:a], ph]
        last = b
    out.append(src[last:])
    return "".join(out), names


_SKIP = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}


# ---------------------------------------------------------------- printing

_LOOSE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\- ]*")


def print_calls(calls: list[dict]) -> str:
    """[{"name", "arguments"}] -> `[name(k=v, ...), ...]`; raises PrintError for unwritable calls."""
    return "[" + ", ".join(print_call(c) for c in calls) + "]"


def print_call(call: dict) -> str:
    name = call.get("name") if isinstance(call, dict) else None
    if not isinstance(name, str) or not _printable_name(name):
        raise PrintError("call.bad_name", f"cannot write {name!r} as a call name")
    args = call.get("arguments") or {}
    if not isinstance(args, dict):
        raise PrintError("call.bad_literal", "arguments must be an object")
    parts = []
    for k, v in args.items():
        if not isinstance(k, str) or not k.isidentifier() or keyword.iskeyword(k):
            raise PrintError("call.bad_name", f"argument name {k!r} is not a Python identifier")
        parts.append(f"{k}={_lit(v, 0)}")
    return f"{name}({', '.join(parts)})"


@functools.lru_cache(maxsize=4096)
def _printable_name(name: str) -> bool:
    parts = name.split(".")
    if all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        return True
    # A ToolACE-style name ("Get Weather", "get-weather") must read back through the masking path.
    if not _LOOSE_NAME.fullmatch(name):
        return False
    try:
        return parse_calls(f"[{name}()]")[0]["name"] == name
    except ParseError:
        return False


def _lit(v: Any, depth: int) -> str:
    if depth > MAX_DEPTH:
        raise PrintError("call.too_deep", f"values nested deeper than {MAX_DEPTH}")
    if v is None or v is True or v is False:
        return repr(v)
    if isinstance(v, str):
        try:     # json.dumps(v, ensure_ascii=False)'s text (checked for every code point), at C speed
            return orjson.dumps(v).decode()
        except orjson.JSONEncodeError:  # lone surrogates: \u escapes read back the same
            return json.dumps(v)
    if isinstance(v, int):
        try:
            return str(v)
        except ValueError:
            raise PrintError("call.bad_number", "integer too large to print") from None
    if isinstance(v, float):
        if not math.isfinite(v):
            raise PrintError("call.bad_number", f"{v} is not finite")
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_lit(x, depth + 1) for x in v) + "]"
    if isinstance(v, dict):
        items = []
        for k, x in v.items():
            if not isinstance(k, str):
                raise PrintError("call.non_string_key", f"dict key {k!r}")
            items.append(f"{_lit(k, depth + 1)}: {_lit(x, depth + 1)}")
        return "{" + ", ".join(items) + "}"
    raise PrintError("call.bad_literal", f"cannot write a {type(v).__name__}")
