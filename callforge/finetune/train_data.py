"""Training examples for fine-tuning: OpenAI chat fine-tuning JSONL -> token ids + label mask.

Input lines are OpenAI's fine-tuning shape: {"messages": [...], "tools": [{"type": "function",
"function": {...}}]}, assistant tool calls as {"id", "type": "function", "function": {"name",
"arguments": "<JSON string>"}}. Each line becomes a callforge sample (arguments as objects) and is
laid out by callforge.complexity.render, the same layout the complexity scorer uses, so the model
is trained on exactly the prompt format it is scored and evaluated with: tools in the system
prompt (the first user turn for Gemma), calls in Python call syntax `[f(a=1)]`.

Labels: only response tokens (each assistant turn plus its end-of-turn marker) carry a label; the
rest is -100 and adds nothing to the loss. Bad lines are skipped with a `train.*` reason code
(callforge/core/reasons.py), not fatal.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from callforge.calling.calls import PrintError
from callforge.core.errors import CallforgeError
from callforge.complexity.render import render

IGNORE = -100

class BadLine(CallforgeError):
    """A training line that cannot be used; .code says why."""


@dataclass
class Example:
    id: str
    input_ids: list[int]
    labels: list[int]

    @property
    def n_labels(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def sample_from_openai(row: object, line_id: str) -> dict:
    """One OpenAI fine-tuning row -> a callforge-shaped sample {"id", "messages", "tools"}."""
    if not isinstance(row, dict):
        raise BadLine("train.bad_json", "not an object")
    msgs = row.get("messages")
    if not isinstance(msgs, list) or not msgs or not all(isinstance(m, dict) and "role" in m for m in msgs):
        raise BadLine("train.bad_messages", "messages missing, not a list, or a message without a role")
    tools_raw = row.get("tools") or []
    if not isinstance(tools_raw, list):
        raise BadLine("train.bad_tools", "tools is not a list")
    tools = []
    for t in tools_raw:
        fn = t.get("function", t) if isinstance(t, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise BadLine("train.bad_tools", "a tool without a name")
        tools.append(fn)
    out, names = [], {}
    for m in msgs:
        m2 = {"role": m["role"], "content": m.get("content")}
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = []
            for tc in m["tool_calls"]:
                fn = tc.get("function", tc) if isinstance(tc, dict) else {}
                args = fn.get("arguments", {})
                try:
                    args = json.loads(args) if isinstance(args, str) else args
                except ValueError:
                    raise BadLine("train.bad_tool_call", "arguments are not JSON") from None
                if not isinstance(fn.get("name"), str) or not isinstance(args, dict):
                    raise BadLine("train.bad_tool_call", "a call without a name, or arguments that are not an object")
                names[tc.get("id")] = fn["name"]
                calls.append({"id": str(tc.get("id") or ""), "name": fn["name"], "arguments": args})
            m2["tool_calls"] = calls
        if m["role"] == "tool":
            m2["name"] = m.get("name") or names.get(m.get("tool_call_id"), "")
        out.append(m2)
    return {"id": str(row.get("id") or line_id), "messages": out, "tools": tools}


def read_openai_jsonl(path: str | Path) -> tuple[list[dict], Counter]:
    """Samples from a fine-tuning JSONL file, and counts of skipped lines by reason."""
    samples, skipped = [], Counter()
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                samples.append(sample_from_openai(json.loads(line), f"line-{i}"))
            except ValueError as e:   # json errors and BadLine
                skipped[e.code if isinstance(e, BadLine) else "train.bad_json"] += 1
    return samples, skipped


def encode(sample: dict, tokenizer, chat_format: str, max_seq_len: int) -> Example:
    """Token ids and labels of one sample; raises BadLine when it cannot be used."""
    try:
        segs = render(sample, chat_format, "python").segments
    except PrintError as e:
        raise BadLine("train.unrenderable", str(e)) from None
    ids: list[int] = []
    labels: list[int] = []
    first_response_end = None
    for text, is_resp in segs:
        toks = tokenizer(text, add_special_tokens=False)["input_ids"]   # segments carry their own <bos>
        ids += toks
        labels += toks if is_resp else [IGNORE] * len(toks)
        if is_resp and first_response_end is None:
            first_response_end = len(ids)
    if first_response_end is None:
        raise BadLine("train.no_response", "no assistant turn")
    if first_response_end > max_seq_len:
        raise BadLine("train.too_long", f"{first_response_end} > {max_seq_len} tokens")
    return Example(sample["id"], ids[:max_seq_len], labels[:max_seq_len])


def build_examples(samples: list[dict], tokenizer, chat_format: str, max_seq_len: int,
                   max_samples: int | None, seed: int) -> tuple[list[Example], Counter]:
    """Examples in a seeded order; with max_samples, the first that many usable ones."""
    order = sorted(samples, key=lambda s: s["id"])          # input order must not matter
    random.Random(seed).shuffle(order)
    out, skipped = [], Counter()
    for s in order:
        if max_samples is not None and len(out) >= max_samples:
            break
        try:
            out.append(encode(s, tokenizer, chat_format, max_seq_len))
        except BadLine as e:
            skipped[e.code] += 1
    return out, skipped
