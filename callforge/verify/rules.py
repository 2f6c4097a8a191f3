"""The rule layer: small named checks, each `(SampleView) -> list of reasons`.

A reason is a stable code, optionally followed by ": detail" ("exec.wrong_type: messages[2]..."); the codes
and what they mean are registered in callforge/core/reasons.py (VERIFY).
Checks only look; counting pass rates and drops is the runner's job. Every check belongs to one of
ToolACE's rule groups (api_clarity, executability, dialog_correctness, consistency) or to
grounding, which is kept apart: a rule cannot see paraphrase, so its pass rate is read on its own.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable

import orjson

from callforge.core import records
from callforge.calling.calls import ParseError, PrintError, parse_calls, print_calls
from callforge.calling.tool_errors import is_error

from . import degenerate as D
from . import text as T
from .view import SampleView


@dataclass(frozen=True)
class Check:
    name: str
    group: str
    fn: Callable[[SampleView], list[str]]
    gate: bool = False     # a failing gate stops the other checks (they would read a malformed sample)


# ------------------------------------------------------------------ api_clarity

def api_schema(v: SampleView) -> list[str]:
    return v.tools.schema_problems


def api_fields(v: SampleView) -> list[str]:
    return v.tools.field_problems


# ------------------------------------------------------------------ executability

def executability(v: SampleView) -> list[str]:
    index = v.tools.index
    out = []
    for i, calls in v.call_turns:
        if index.ok(calls):
            continue
        out += [f"{p.code}: messages[{i}].{p.where}: {p.message}" for p in index.check(calls)
                if not p.code.startswith("tool.")]   # definition problems are api_schema's
    return out


# ------------------------------------------------------------------ dialog_correctness

def record_fields(v: SampleView) -> list[str]:
    errs = records.validate("sample", v.sample)
    return [f"dialog.bad_record: {errs[0]}"] if errs else []


def message_lengths(v: SampleView) -> list[str]:
    s = v.settings
    out = []
    for i, m in enumerate(v.messages):
        role, content = m["role"], m.get("content") or ""
        if role == "assistant":
            n = len(content.strip())
            if n > s.max_response_chars:
                out.append(f"dialog.response_too_long: messages[{i}]: {n} > {s.max_response_chars} chars")
            elif not m.get("tool_calls") and n < s.min_response_chars:
                out.append(f"dialog.response_too_short: messages[{i}]: {n} < {s.min_response_chars} chars")
        elif role in ("user", "tool") and not content.strip():
            out.append(f"dialog.empty_message: messages[{i}]: empty {role} message")
        if role in ("user", "tool") and len(content) > s.max_message_chars:
            out.append(f"dialog.message_too_long: messages[{i}]: {role} message of {len(content)} chars")
    return out


def _bad_char(x) -> str | None:
    """The first invalid character in a string or in the strings (keys too) of a JSON value."""
    if isinstance(x, str):
        return None if x.isascii() and x.isprintable() else T.invalid_char(x)
    if isinstance(x, dict):
        for k, y in x.items():
            bad = _bad_char(k) or _bad_char(y)
            if bad:
                return bad
    elif isinstance(x, list):
        for y in x:
            bad = _bad_char(y)
            if bad:
                return bad
    return None


def invalid_chars(v: SampleView) -> list[str]:
    for i, m in enumerate(v.messages):
        bad = _bad_char(m.get("content")) or _bad_char(m.get("thinking"))
        for c in m.get("tool_calls") or ():
            bad = bad or _bad_char(c["name"]) or _bad_char(c["arguments"])
        if bad:
            return [f"dialog.invalid_chars: messages[{i}]: {bad}"]
    return []


def language(v: SampleView) -> list[str]:
    s = v.settings
    out = []
    for i, m in enumerate(v.messages):
        content = m.get("content")
        if m["role"] != "assistant" or not content or (T.latin_only(content) and _user_latin(v, i)):
            continue
        context = v.text_before(i, ("user", "tool"))
        mixed = T.mixed_scripts(content, context, s.mixed_language_min_share, s.mixed_language_min_words,
                                s.mixed_language_any_share_words)
        if mixed:
            out.append(f"dialog.mixed_language: messages[{i}]: {mixed[0]} with {mixed[1]}")
        user = next((u.get("content") or "" for u in reversed(v.messages[:i]) if u["role"] == "user"), "")
        a, b = T.main_script(content, s.language_match_min_words), T.main_script(user, s.language_match_min_words)
        if a and b and a != b:
            out.append(f"dialog.language_mismatch: messages[{i}]: answer in {a}, user wrote {b}")
    return out


def _user_latin(v: SampleView, i: int) -> bool:
    """Fast path: a Latin-only answer to Latin-only user turns cannot mix or mismatch scripts."""
    return all(T.latin_only(u.get("content") or "") for u in v.messages[:i] if u["role"] == "user")


def truncation(v: SampleView) -> list[str]:
    out = []
    for i, m in enumerate(v.messages):
        if m["role"] == "assistant" and m.get("content") and not m.get("tool_calls"):
            why = T.truncated(m["content"])
            if why:
                out.append(f"dialog.truncated: messages[{i}]: {why}")
    return out


def repetition(v: SampleView) -> list[str]:
    """Decoding loops in what the user and assistant write: repeated n-grams, repeated sentences (in
    messages only: a thinking trace repeats its structure by design), runs of one word or letter."""
    where, text = v.prose
    found = D.repetition(text, [key == "content" for _, key in where], v.settings.degenerate)
    return [f"{code}: messages[{where[k][0]}].{where[k][1]}: {why}" for k, code, why in found]


def meaningless_tokens(v: SampleView) -> list[str]:
    """Template tokens and mojibake in any text (messages, thinking, tool results, argument values);
    symbol garbage in what the user and assistant write."""
    s = v.settings.degenerate
    blob = v.all_text()
    out = []
    if D.special_token(blob) or D.mojibake(blob):   # one scan of the sample; which field, only on a hit
        for i, key, text in v.strings:
            found = (("dialog.special_token", D.special_token(text)), ("dialog.mojibake", D.mojibake(text)))
            out += [f"{code}: messages[{i}].{key}: {why}" for code, why in found if why]
    where, text = v.prose
    return out + [f"dialog.symbol_garbage: messages[{where[k][0]}].{where[k][1]}: {why}" for k, why in
                  D.symbol_garbage(text, s.min_symbol_run, s.min_meaningful_share, s.meaningful_share_min_chars)]


# ------------------------------------------------------------------ consistency

def role_order(v: SampleView) -> list[str]:
    out, prev = [], None
    for i, m in enumerate(v.messages):
        role = m["role"]
        bad = ((role == "system" and i > 0) or (prev in (None, "system") and role not in ("system", "user"))
               or (role == prev and role in ("user", "assistant")) or (prev == "tool" and role == "user"))
        if bad:
            out.append(f"consistency.role_order: messages[{i}]: {role} after {prev or 'start'}")
        prev = role
    if prev != "assistant":
        out.append(f"consistency.no_final_answer: the dialog ends with {prev or 'nothing'}")
    return out


def call_responses(v: SampleView) -> list[str]:
    """Each call answered by exactly one tool message of the same name, right after its call turn."""
    out = []
    open_calls: dict[str, str] = {}
    seen: set[str] = set()
    in_block = False   # after a call turn, before the next user/assistant message
    for i, m in enumerate(v.messages):
        role = m["role"]
        if role == "tool":
            cid = m.get("tool_call_id")
            if not in_block:
                out.append(f"consistency.tool_without_call: messages[{i}]: no call before this tool message")
            elif cid not in open_calls:
                out.append(f"consistency.extra_response: messages[{i}]: answers no open call (id {cid!r})")
            else:
                name = open_calls.pop(cid)
                if m.get("name") != name:
                    out.append(f"consistency.response_name: messages[{i}]: {m.get('name')!r} answers call {name!r}")
            try:
                orjson.loads(m.get("content") or "")
            except orjson.JSONDecodeError:
                out.append(f"consistency.response_not_json: messages[{i}]: content is not JSON")
            continue
        if open_calls:
            out.append(f"consistency.missing_response: before messages[{i}]: {sorted(open_calls.values())} unanswered")
        open_calls, in_block = {}, False
        for c in m.get("tool_calls") or () if role == "assistant" else ():
            if c["id"] in seen:
                out.append(f"consistency.duplicate_call_id: messages[{i}]: id {c['id']!r} used twice")
            seen.add(c["id"])
            open_calls[c["id"]] = c["name"]
            in_block = True
    if open_calls:
        out.append(f"consistency.missing_response: at the end: {sorted(open_calls.values())} unanswered")
    return out


def _asked_format(v: SampleView) -> str | None:
    """"python" when the system prompt asks for `[func(arg=value)]` calls, "json" for {"name": ...}, else None."""
    memo = v.ctx.memo.setdefault("format", {})
    text = v.system_text
    if text not in memo:
        low = text.lower()
        if "python" in low and "call" in low or _PY_EXAMPLE.search(text):
            memo[text] = "python"
        elif '"name"' in text and ('"arguments"' in text or '"parameters"' in text) and "call" in low:
            memo[text] = "json"
        else:
            memo[text] = None
    return memo[text]


_PY_EXAMPLE = re.compile(r"\[\s*[A-Za-z_][\w. ]*\(\s*[A-Za-z_]\w*\s*=")


def _looks_like_calls(content: str) -> list[dict] | None:
    s = content.strip()
    if s.startswith("[") and s.endswith("]") and "(" in s or s.endswith(")") and "(" in s[:80]:
        try:
            return parse_calls(s)
        except ParseError:
            return None
    if s.startswith("{") and '"name"' in s:
        try:
            obj = json.loads(s)
        except ValueError:
            return None
        if isinstance(obj, dict) and "name" in obj and ("arguments" in obj or "parameters" in obj):
            return [obj]
    return None


def call_format(v: SampleView) -> list[str]:
    """Calls are tool_calls written in the format the system prompt asks for; never call text in an answer."""
    fmt = _asked_format(v) if v.call_turns else None
    out = []
    for i, m in enumerate(v.messages):
        if m["role"] != "assistant":
            continue
        content = (m.get("content") or "").strip()
        calls = m.get("tool_calls")
        if not calls:
            if content and _looks_like_calls(content) is not None:
                out.append(f"consistency.call_as_text: messages[{i}]: a call written as answer text")
            continue
        if fmt == "python":
            try:
                written = print_calls([{"name": c["name"], "arguments": c["arguments"]} for c in calls])
            except PrintError as e:
                out.append(f"consistency.call_format: messages[{i}]: not writable as python calls ({e.code})")
                continue
            said = _looks_like_calls(content) if content else None
            if said is not None and _canon(said) != _canon(parse_calls(written)):
                out.append(f"consistency.call_format: messages[{i}]: the text's calls differ from tool_calls")
    return out


def _canon(calls: list[dict]) -> list[str]:
    """Calls as comparable strings, order-free (parallel calls may be listed in any order)."""
    return sorted(json.dumps([c.get("name"), c.get("arguments")], sort_keys=True) for c in calls)


def _retries(v: SampleView) -> int:
    """Calls made again right after their tool answered with an error (calling/tool_errors.py): a
    failed call's second try, not a call of the dialog's own."""
    n, msgs = 0, v.messages
    for k, m in enumerate(msgs):
        if m["role"] != "tool" or '"error"' not in (m.get("content") or ""):
            continue
        try:
            if not is_error(orjson.loads(m["content"])):
                continue
        except orjson.JSONDecodeError:
            continue
        nxt = next((x for x in msgs[k + 1:] if x["role"] != "tool"), None)
        n += nxt is not None and any(c["name"] == m.get("name") for c in nxt.get("tool_calls") or ())
    return n


_SHAPES: dict[str, Callable[[SampleView], bool]] = {
    "non_tool": lambda v: not v.calls,
    "single": lambda v: len(v.calls) - _retries(v) == 1,
    "parallel": lambda v: any(len(cs) > 1 for _, cs in v.call_turns),
    "dependent": lambda v: len(v.call_turns) > 1,
    "clarify": lambda v: bool(v.call_turns) and any(
        m["role"] == "assistant" and not m.get("tool_calls") for m in v.messages[:v.call_turns[0][0]]),
    "multi_turn": lambda v: sum(1 for m in v.messages if m["role"] == "user") > 1,
}


def labels(v: SampleView) -> list[str]:
    """The sample's own labels (apis_used, data_type) agree with what the dialog does."""
    out = []
    called = sorted({c["name"] for c in v.calls})
    if sorted(set(v.sample["apis_used"])) != called:
        out.append(f"consistency.apis_used: apis_used {sorted(set(v.sample['apis_used']))} but called {called}")
    dt = v.sample["data_type"]
    if not _SHAPES[dt](v):
        out.append(f"consistency.data_type: {dt!r} does not match the dialog's calls and turns")
    return out


# ------------------------------------------------------------------ grounding

def _ungrounded(x, schema, hay: "_Haystack") -> list[str]:
    """Paths (".a[0]=value") of the scalars in an argument value that nothing grounds; the schema is
    followed alongside for defaults. Paths are only built for failures: this runs on every value."""
    if isinstance(x, dict):
        props = schema.get("properties") if isinstance(schema, dict) else None
        out = []
        for k, y in x.items():
            bad = _ungrounded(y, props.get(k) if isinstance(props, dict) else None, hay)
            if bad:
                out += [f".{k}{p}" for p in bad]
        return out
    if isinstance(x, list):
        items = schema.get("items") if isinstance(schema, dict) else None
        out = []
        for j, y in enumerate(x):
            bad = _ungrounded(y, items, hay)
            if bad:
                out += [f"[{j}]{p}" for p in bad]
        return out
    return [] if hay.has(x) or _fixed_by_schema(x, schema) else [f"={x!r}"]


def _fixed_by_schema(value, schema) -> bool:
    if not isinstance(schema, dict):
        return False
    if "default" in schema and schema["default"] == value and type(schema["default"]) is type(value):
        return True
    if "const" in schema and schema["const"] == value:
        return True
    enum = schema.get("enum")
    return isinstance(enum, list) and len(enum) == 1 and enum[0] == value


class _Haystack:
    """The text a value may come from: user turns and tool responses so far. The normalised text and the
    numbers grow with each message; the rarer views (number words, dates) are built only when asked."""

    def __init__(self):
        self.raw: list[str] = []
        self._norm = ""
        self._normed = 0           # messages already in _norm
        self._nums: set[float] = set()
        self._counted = 0          # messages whose numbers are in _nums
        self._views: dict[str, object] = {}

    def add(self, s: str) -> None:
        self.raw.append(s)
        self._views.clear()

    @property
    def norm(self) -> str:
        if self._normed < len(self.raw):   # messages after the last call are never normalised
            self._norm += "".join(T.norm(r) for r in self.raw[self._normed:])
            self._normed = len(self.raw)
        return self._norm

    @property
    def numbers(self) -> set[float]:
        while self._counted < len(self.raw):
            self._nums |= T.numbers_in(self.raw[self._counted])
            self._counted += 1
        return self._nums

    def view(self, kind: str, make):
        v = self._views.get(kind)
        if v is None:
            v = self._views[kind] = make("\n".join(self.raw))
        return v

    def has(self, value) -> bool:
        if isinstance(value, str):
            n = T.norm(value)
            if not n or n in self.norm:
                return True
            d = T.iso_date(value)   # "2024-03-05" from "March 5th": the year may be implied
            return d is not None and (d[1], d[2]) in self.view("dates", T.dates_in)
        if isinstance(value, bool) or value is None:
            return True            # yes/no and null are decisions, not values a text can contain
        if isinstance(value, (int, float)):
            if T.number_found(value, self.numbers):
                return True
            digits = str(value)   # long ids run into letters ("A12345"), which the number scan skips
            return ((isinstance(value, int) and len(digits) >= 4 and digits in self.norm)
                    or T.number_found(value, self.view("words", T.number_words_in)))
        return False


def grounding(v: SampleView) -> list[str]:
    out = []
    hay = _Haystack()
    by_name = v.tools.by_name
    for i, m in enumerate(v.messages):
        role = m["role"]
        if role == "user" or role == "tool":
            hay.add(m.get("content") or "")
        elif role == "assistant" and m.get("tool_calls"):
            for j, c in enumerate(m["tool_calls"]):
                tool = by_name.get(c["name"])
                params = tool.get("parameters") if tool else None
                for path in _ungrounded(c["arguments"], params, hay):
                    out.append(f"grounding.ungrounded_value: messages[{i}].tool_calls[{j}]{path}"[:300])
    return out


# ------------------------------------------------------------------ the rule layer, in order

RULES: list[Check] = [
    Check("record", "dialog_correctness", record_fields, gate=True),
    Check("api_schema", "api_clarity", api_schema),
    Check("api_fields", "api_clarity", api_fields),
    Check("executability", "executability", executability),
    Check("message_length", "dialog_correctness", message_lengths),
    Check("invalid_chars", "dialog_correctness", invalid_chars),
    Check("language", "dialog_correctness", language),
    Check("truncation", "dialog_correctness", truncation),
    Check("repetition", "dialog_correctness", repetition),
    Check("meaningless_tokens", "dialog_correctness", meaningless_tokens),
    Check("role_order", "consistency", role_order),
    Check("call_responses", "consistency", call_responses),
    Check("call_format", "consistency", call_format),
    Check("labels", "consistency", labels),
    Check("grounding", "grounding", grounding),
]
GROUPS = ("api_clarity", "executability", "dialog_correctness", "consistency", "grounding")
