"""Render a dialog sample the way the target model sees it: context x and response spans y.

The sample is laid out with the target model's chat format; the tool list goes into the system
prompt (Gemma has no system role, so there it opens the first user turn). The result is a list of
segments, each marked as context or response. Response = every assistant turn's text plus its
end-of-turn marker (the model must learn to stop); everything else is context.

Segments are kept separate (not one string) so that a local tokenizer can encode them one by one:
the token boundaries between x and y are then exact, and identical prefixes (same system prompt
and tool list) give identical token prefixes, which the local scorer reuses from its KV cache.
Remote servers get the joined text and map tokens back to spans by character offset.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from callforge.calling.calls import print_calls

# -- chat formats -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatFormat:
    name: str
    bos: str                 # written at the very start (empty: the format has none)
    header: str              # turn opener; {role} is replaced by the format's role name
    end: str                 # end-of-turn marker (part of an assistant response)
    after_end: str           # text after the marker (context)
    roles: dict              # our role -> the format's role name; a missing role folds into "user"


FORMATS = {
    "gemma": ChatFormat("gemma", "<bos>", "<start_of_turn>{role}\n", "<end_of_turn>", "\n",
                        {"user": "user", "assistant": "model"}),
    "llama3": ChatFormat("llama3", "<|begin_of_text|>", "<|start_header_id|>{role}<|end_header_id|>\n\n",
                         "<|eot_id|>", "", {"system": "system", "user": "user", "assistant": "assistant",
                                            "tool": "ipython"}),
    "chatml": ChatFormat("chatml", "", "<|im_start|>{role}\n", "<|im_end|>", "\n",
                         {"system": "system", "user": "user", "assistant": "assistant"}),
}


def detect_format(chat_template: str | None, architecture: str | None = None) -> str:
    """Our format name for a model, from its Jinja chat template (GGUF metadata) or, for base models
    that ship none (gemma-3-270m), from its architecture family."""
    t = chat_template or ""
    for marker, name in (("<start_of_turn>", "gemma"), ("<|start_header_id|>", "llama3"), ("<|im_start|>", "chatml")):
        if marker in t:
            return name
    arch = (architecture or "").lower()
    for prefix, name in (("gemma", "gemma"), ("llama", "llama3"), ("qwen", "chatml")):
        if not t and arch.startswith(prefix):
            return name
    raise ValueError("unknown chat template; set scorer.chat_format to one of " + ", ".join(FORMATS))


# -- message text -----------------------------------------------------------------------------------

CALL_FORMATS = ("python", "json")

SYSTEM_INTRO = {
    "python": ("You can use the functions described below. To call functions, reply with only a list of "
               "calls: [function_name(parameter=value, ...), ...]. If no function fits, or information is "
               "missing, reply in plain text."),
    "json": ("You can use the functions described below. To call functions, reply with only a JSON list of "
             'calls: [{"name": ..., "arguments": {...}}, ...]. If no function fits, or information is '
             "missing, reply in plain text."),
}


def calls_text(calls: list[dict], call_format: str) -> str:
    """Assistant calls as text: Python call syntax (ToolACE's data) or a JSON list.
    Raises callforge.calling.calls.PrintError for a call the Python syntax cannot express."""
    if call_format == "json":
        return json.dumps([{"name": c["name"], "arguments": c.get("arguments") or {}} for c in calls],
                          ensure_ascii=False)
    return print_calls(calls)


def tool_text(tool: dict) -> str:
    keep = {k: tool[k] for k in ("name", "description", "parameters", "returns") if tool.get(k) not in (None, {})}
    return json.dumps(keep, ensure_ascii=False)


def system_text(sample: dict, call_format: str) -> str:
    own = [m.get("content") or "" for m in sample.get("messages", []) if m.get("role") == "system"]
    tools = sample.get("tools") or []
    lines = [t for t in own if t]
    if tools:
        lines.append(SYSTEM_INTRO[call_format])
        lines.append("Functions:\n" + "\n".join(tool_text(t) for t in tools))
    return "\n\n".join(lines)


def assistant_text(msg: dict, call_format: str) -> str:
    parts = [msg["content"]] if msg.get("content") else []
    if msg.get("tool_calls"):
        parts.append(calls_text(msg["tool_calls"], call_format))
    return "\n".join(parts)


def tool_results_text(msgs: list[dict]) -> str:
    """Consecutive tool messages as one JSON list of {name, results} (ToolACE's tool-turn shape)."""
    out = []
    for m in msgs:
        content = m.get("content")
        try:
            results = json.loads(content) if isinstance(content, str) else content
        except ValueError:
            results = content
        out.append({"name": m.get("name"), "results": results})
    return json.dumps(out, ensure_ascii=False)


# -- rendering --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    segments: tuple[tuple[str, bool], ...]   # (text, is_response), in order
    prefix: str                               # system prompt + tools: samples sharing it share a KV prefix

    @property
    def text(self) -> str:
        return "".join(s for s, _ in self.segments)

    def response_spans(self) -> list[tuple[int, int]]:
        """Character spans [start, end) of the response segments within `text`."""
        spans, pos = [], 0
        for s, is_resp in self.segments:
            if is_resp:
                spans.append((pos, pos + len(s)))
            pos += len(s)
        return spans

    @property
    def has_response(self) -> bool:
        return any(r and s for s, r in self.segments)


def _turns(sample: dict, fmt: ChatFormat, call_format: str) -> list[tuple[str, str]]:
    """(format role, text) per turn; roles the format lacks fold into a user turn."""
    turns: list[list] = []
    system = system_text(sample, call_format)
    msgs = [m for m in sample.get("messages", []) if m.get("role") != "system"]
    pending_system = None
    if system:
        if "system" in fmt.roles:
            turns.append([fmt.roles["system"], system])
        else:
            pending_system = system
    i = 0
    while i < len(msgs):
        m = msgs[i]
        if m["role"] == "assistant":
            turns.append(["assistant", assistant_text(m, call_format)])
            i += 1
            continue
        if m["role"] == "tool":
            j = i
            while j < len(msgs) and msgs[j]["role"] == "tool":
                j += 1
            text, role = tool_results_text(msgs[i:j]), fmt.roles.get("tool", fmt.roles["user"])
            i = j
        else:
            text, role = m.get("content") or "", fmt.roles["user"]
            i += 1
        if pending_system is not None:
            text, pending_system = pending_system + "\n\n" + text, None
        if turns and turns[-1][0] == role and role != "assistant":
            turns[-1][1] += "\n\n" + text   # formats that need alternation get merged turns
        else:
            turns.append([role, text])
    if pending_system is not None:
        turns.insert(0, [fmt.roles["user"], pending_system])
    return [tuple(t) for t in turns]


def render(sample: dict, chat_format: str = "gemma", call_format: str = "python", bos: bool = True) -> Rendered:
    """Lay `sample` out in `chat_format`. `bos=False` for servers that add the BOS token themselves."""
    if call_format not in CALL_FORMATS:
        raise ValueError(f"call_format must be one of {CALL_FORMATS}")
    fmt = FORMATS[chat_format]
    segs: list[tuple[str, bool]] = []
    ctx = fmt.bos if bos else ""
    for role, text in _turns(sample, fmt, call_format):
        if role == "assistant":
            ctx += fmt.header.format(role=fmt.roles["assistant"])
            segs.append((ctx, False))
            segs.append((text + fmt.end, True))
            ctx = fmt.after_end
        else:
            ctx += fmt.header.format(role=role) + text + fmt.end + fmt.after_end
    # Text after the last response cannot change its loss, so it is not rendered.
    return Rendered(tuple(segs), system_text(sample, call_format))


def context_before_first_response(r: Rendered) -> str:
    """The text a model sees before it writes the first assistant turn (for greedy answering)."""
    out = []
    for s, is_resp in r.segments:
        if is_resp:
            break
        out.append(s)
    return "".join(out)
