"""Prompts for the three dialog agents, and the JSON shapes their answers must have.

Written for callforge. Bump PROMPT_VERSION whenever a prompt's wording changes: it is part of every
sample's provenance (and of the response-cache key, through the messages themselves).
"""
from __future__ import annotations

import json

from .personas import prompt_text as persona_text

PROMPT_VERSION = "dialogs-llm-v2"
OFFLINE_VERSION = "dialogs-offline-v3"

USER_SCHEMA = {"type": "object", "required": ["message"],
               "properties": {"message": {"type": "string", "minLength": 1, "maxLength": 2000}}}

_CALL = {"type": "object", "required": ["name", "arguments"],
         "properties": {"name": {"type": "string", "minLength": 1}, "arguments": {"type": "object"}}}
ASSISTANT_SCHEMA = {
    "type": "object",
    "required": ["action"],
    "properties": {
        "thinking": {"type": "object", "properties": {
            "tool_needed": {"type": "boolean"}, "api": {"type": ["string", "null"]},
            "required_arguments": {"type": ["string", "null"]}, "optional_arguments": {"type": ["string", "null"]}}},
        "action": {"enum": ["call", "ask", "answer"]},
        "tool_calls": {"type": "array", "items": _CALL},
        "content": {"type": ["string", "null"]},
    },
    "allOf": [
        {"if": {"properties": {"action": {"const": "call"}}},
         "then": {"required": ["tool_calls"], "properties": {"tool_calls": {"minItems": 1}}}},
        {"if": {"properties": {"action": {"enum": ["ask", "answer"]}}},
         "then": {"required": ["content"], "properties": {"content": {"type": "string", "minLength": 1}}}},
    ],
}


def tool_result_schema(returns: dict | None) -> dict:
    return {"type": "object", "required": ["result"], "properties": {"result": returns or {}}}


def _tools_json(tools: list[dict]) -> str:
    keep = ("name", "description", "parameters", "returns")
    return "\n".join(json.dumps({k: t[k] for k in keep if k in t}, ensure_ascii=False) for t in tools)


WORDING = {
    0: "You may use the same words as the tool descriptions.",
    1: "Paraphrase: do not copy phrases from the tool descriptions.",
    2: "Describe what you want in everyday words, as someone who has never seen these tools would; "
       "avoid the words used in the tool names, descriptions and parameter names.",
}

_USER_SYSTEM = """You play the USER in a conversation with an AI assistant. The assistant can use the tools listed below; you cannot see them as tools, you simply want something done.
Write only what the user types: first person, natural, one message. Never mention tools, functions, APIs, parameters or JSON. Use concrete, realistic values (names, dates, places, amounts), not placeholders.
{persona}{wording}

Tools the assistant has:
{tools}

Reply with JSON only: {{"message": "<what the user types>"}}"""


def user_request_messages(tools: list[dict], instruction: str, wording: int, persona: dict | None = None) -> list[dict]:
    system = _USER_SYSTEM.format(persona=persona_text(persona), wording=WORDING.get(wording, WORDING[1]),
                                 tools=_tools_json(tools))
    return [{"role": "system", "content": system}, {"role": "user", "content": instruction}]


def user_reply_messages(tools: list[dict], transcript: list[dict], instruction: str,
                        persona: dict | None = None) -> list[dict]:
    system = _USER_SYSTEM.format(persona=persona_text(persona), wording=WORDING[1], tools=_tools_json(tools))
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"The conversation so far:\n{render_transcript(transcript)}\n\n{instruction}"}]


def render_transcript(messages: list[dict]) -> str:
    lines = []
    for m in messages:
        if m["role"] == "user":
            lines.append(f"USER: {m.get('content')}")
        elif m["role"] == "assistant" and m.get("tool_calls"):
            calls = "; ".join(f"{c['name']}({json.dumps(c['arguments'], ensure_ascii=False)})" for c in m["tool_calls"])
            lines.append(f"ASSISTANT called: {calls}")
        elif m["role"] == "assistant":
            lines.append(f"ASSISTANT: {m.get('content')}")
        elif m["role"] == "tool":
            lines.append(f"TOOL RESULT ({m.get('name')}, {m.get('tool_call_id')}): {m.get('content')}")
    return "\n".join(lines)


_ASSISTANT_SYSTEM = """You are a helpful assistant that can use the tools below (parameters and results are JSON Schema).
At each step choose exactly one action:
- "call": call one or more tools. Put several calls in one step only when they do not depend on each other; when a call needs another call's result, call the first one now and wait for its result.
- "ask": a required argument is missing and cannot be taken from the conversation: ask the user for it.
- "answer": reply in words — to summarise tool results for the user, or when no tool fits the request (say so, or answer directly if you can).
Use only argument values the user gave or a tool returned; never invent them. Arguments must match the tool's parameter schema.
When a tool returns an error ({{"error": ...}}) or nothing, handle it: call again with corrected arguments when the error says how (or that it is temporary), ask the user when only they can correct a value, or explain what went wrong.
{thinking}
Tools:
{tools}

Reply with JSON only:
{{{thinking_key}"action": "call" | "ask" | "answer", "tool_calls": [{{"name": "<tool name>", "arguments": {{...}}}}], "content": "<your words for ask/answer, else null>"}}"""

_THINKING = """Before choosing, think in `thinking`: tool_needed (is a tool needed at all?), api (which tool, or null), required_arguments (each required argument and where its value comes from), optional_arguments (which optional ones to set, and why)."""
_THINKING_KEY = '"thinking": {"tool_needed": true|false, "api": "<name>"|null, "required_arguments": "...", "optional_arguments": "..."}, '


def assistant_messages(tools: list[dict], transcript: list[dict], thinking: bool) -> list[dict]:
    system = _ASSISTANT_SYSTEM.format(thinking=_THINKING if thinking else "", tools=_tools_json(tools),
                                      thinking_key=_THINKING_KEY if thinking else "")
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"The conversation so far:\n{render_transcript(transcript)}\n\n"
                                        "Decide the assistant's next step."}]


def thinking_text(t: dict | None) -> str | None:
    """The stored trace: the four questions in order, one line each."""
    if not isinstance(t, dict):
        return None
    need = t.get("tool_needed")
    return "\n".join([f"Tool needed: {'yes' if need else 'no' if need is not None else '?'}",
                      f"API: {t.get('api') or 'none'}",
                      f"Required: {t.get('required_arguments') or 'none'}",
                      f"Optional: {t.get('optional_arguments') or 'none'}"])


_TOOL_SYSTEM = """You simulate the execution of an API. Given its definition and one call's arguments, return the result it would produce.
The result must conform exactly to the definition's "returns" JSON Schema and be consistent with the arguments (the same entities, places, dates and amounts). Use realistic values.
Reply with JSON only: {"result": <the result>}"""


def tool_messages(tool: dict, args: dict) -> list[dict]:
    definition = {k: tool[k] for k in ("name", "description", "parameters", "returns") if k in tool}
    return [{"role": "system", "content": _TOOL_SYSTEM},
            {"role": "user", "content": f"API definition:\n{json.dumps(definition, ensure_ascii=False, indent=1)}\n\n"
                                        f"Call arguments:\n{json.dumps(args, ensure_ascii=False)}"}]
