"""A stand-in model for the model-path benchmarks: it answers the dialog agents' and the judges' prompts
with JSON of the shape each role's schema asks for, and plays the roles consistently enough that the
dialogs pass the generation-time checks and the rule layer (the values it calls tools with are the ones
its user wrote; a dependent call takes its value from the earlier result; a clarification's value comes
in the user's answer). It is not a model: it reads the prompts' fixed wording (callforge/dialogs/prompts.py,
llm_dialog.instructions) and its own earlier answers, and it is deterministic. Judges always pass.
It also answers distilabel's APIGen generator and semantic checker (bench/peers/distilabel_run.py) in
the JSON those steps parse, and anything else with a line of text.

`answer(request_body) -> str` is what bench/fastserver.py calls for each chat completion (--responder
shaped_model:answer). Work is cached per tool and per system prompt, so the server spends little CPU on a
request next to the client it measures.
"""
from __future__ import annotations

import json
import random
import re
import zlib
from functools import lru_cache

import jsonschema_rs

from callforge.calling.offline.values import gen_value
from callforge.dialogs.phrasing import humanise, render_value

USER, ASSISTANT, TOOL, JUDGE = "user", "assistant", "tool", "judge"
APIGEN, CHECKER, TEXT = "apigen_generator", "apigen_checker", "text"
_ROLES = (("You play the USER", USER), ("You are a helpful assistant", ASSISTANT),
          ("You simulate the execution", TOOL), ("You review function-calling", JUDGE),
          ("You are a data labeler", APIGEN), ("As a data quality evaluator", CHECKER))
PASS = '{"reasons": [], "verdict": "pass"}'

# what this model's user writes, so that its assistant can read it back
_CALL = re.compile(r"`([^`]+)` \(set (\d+)\)")
_MISSING = re.compile(r"without the `([^`]+)`")
# what the prompts ask the user for (llm_dialog.instructions)
_NAMES = re.compile(r"`([^`]+)`")


def role_of(system: str) -> str:
    return next((r for prefix, r in _ROLES if system.startswith(prefix)), USER if system else TEXT)


@lru_cache(maxsize=4096)
def tools_in(system: str) -> dict[str, dict]:
    """The tools a user or assistant prompt lists (one JSON object a line), by name."""
    out = {}
    for line in system.splitlines():
        if line.startswith('{"name"'):
            tool = json.loads(line)
            out[tool["name"]] = tool
    return out


def _rng(*parts) -> random.Random:
    return random.Random(zlib.crc32("\x1f".join(map(str, parts)).encode()))


@lru_cache(maxsize=65536)
def _validator(schema_json: str):
    return jsonschema_rs.validator_for(json.loads(schema_json))


def arguments(tool: dict, k: int) -> dict:
    """Set k of the tool's required arguments: valid against its parameters, the same every time."""
    return json.loads(_arguments(json.dumps(tool, sort_keys=True), k))


@lru_cache(maxsize=65536)
def _arguments(tool_json: str, k: int) -> str:
    tool = json.loads(tool_json)
    params = tool.get("parameters") or {}
    props = params.get("properties") or {}
    valid = _validator(json.dumps(params, sort_keys=True))
    args = {}
    for attempt in range(8):
        rng = _rng(tool["name"], k, attempt)
        args = {p: gen_value(props.get(p) or {}, p, rng, topic=tool.get("description", ""))
                for p in params.get("required") or []}
        if valid.is_valid(args):
            break
    return json.dumps(args)


def result(tool: dict, args: dict) -> dict:
    """A result valid against the tool's returns schema, repeating the call's arguments where fields match."""
    returns = tool.get("returns") or {}
    if not returns:
        return {"status": "success"}
    valid = _validator(json.dumps(returns, sort_keys=True))
    echo = {k: v for k, v in args.items() if isinstance(v, (str, int, float, bool))}
    out = {}
    for attempt in range(6):
        rng = _rng(tool["name"], json.dumps(args, sort_keys=True), attempt)
        out = gen_value(returns, "result", rng, p_optional=1.0, echo=echo if attempt < 4 else None,
                        topic=tool.get("description", ""))
        full = _complete(out, returns, rng)    # every field present: a later call may need any of them
        if valid.is_valid(full):
            return full
        if valid.is_valid(out):
            break
    return out


def _complete(value, schema, rng, depth: int = 0):
    """`value` with every optional object property the schema declares filled in, at any depth."""
    if not isinstance(schema, dict) or depth > 6:
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        out = {k: _complete(v, props.get(k), rng, depth + 1) for k, v in value.items()}
        for k, sub in props.items():
            if k not in out:
                out[k] = _complete(gen_value(sub, k, rng, depth + 1, p_optional=1.0), sub, rng, depth + 1)
        return out
    if isinstance(value, list):
        return [_complete(v, schema.get("items"), rng, depth + 1) for v in value]
    return value


def _values(args: dict, skip=()) -> str:
    return ", ".join(f"{humanise(p)} {render_value(v)}" for p, v in args.items() if p not in skip) or "nothing else"


def _ask(tool: dict, k: int, fed: list[tuple[str, str]] = (), missing: str | None = None) -> str:
    """How this model's user asks for one call: its name and argument set, the values it gives, where the
    values it does not give come from (an earlier result's field, for a parameter), or which one it leaves out."""
    skip = {p for p, _ in fed} | ({missing} if missing else set())
    text = f"`{tool['name']}` (set {k}) with {_values(arguments(tool, k), skip)}"
    text += "".join(f", using the {field} from that result for its `{p}`" for p, field in fed)
    if missing:
        text += f", without the `{missing}`"
    return text


def _param_for(tool: dict, field: str) -> str:
    """The parameter an earlier result's field most likely feeds (a chain turn does not name it)."""
    props = list(((tool.get("parameters") or {}).get("properties") or {}))
    words = field.split()
    for match in (lambda p: humanise(p) == field, lambda p: humanise(p).split()[-1:] == words[-1:],
                  lambda p: set(humanise(p).split()) & set(words)):
        hit = next((p for p in props if match(p)), None)
        if hit:
            return hit
    return props[0]


# ------------------------------------------------------------------ the user

_LINK = re.compile(r"`([^`]+)` needs `([^`]+)`, which only `[^`]+`'s result provides \(its ([^)]+)\)")


_NO_TOOL = ("needs no tool", "none of the tools can fulfil", "what it can help you with")
_LEAVE_OUT = re.compile(r"(?:leave out|do not give) its required `([^`]+)`")


def user(system: str, prompt: str, seed: int) -> str:
    """The user's message for the instruction at the end of the prompt. Its argument sets start at one
    its sampling seed picks, so samples asking for the same tool do not repeat each other's words."""
    tools = tools_in(system)
    instruction = prompt.rsplit("\n\n", 1)[-1]
    named = [n for n in _NAMES.findall(instruction) if n in tools]
    said = [ln for ln in prompt.split("\n") if ln.startswith("USER:") and _CALL.search(ln)]
    k = seed % 997
    if instruction.startswith("The assistant asked you a question"):
        request = next(ln for ln in reversed(said) if _MISSING.search(ln))
        name, j = _CALL.search(request).groups()
        missing = _MISSING.search(request).group(1)
        return _message(f"Use {render_value(arguments(tools[name], int(j))[missing])}.")
    if "thank the assistant" in instruction:
        return _message("Thanks, that is all I needed today.")
    if any(marker in instruction for marker in _NO_TOOL) or not named:
        return _message(f"What is {k % 89 + 11} times {seed % 13 + 3}? No need to look anything up.")
    if "same thing again with a different" in instruction:
        name, j = _CALL.findall(said[-1])[-1]
        return _message(f"Please run {_ask(tools[name], int(j) + 1)} as well.")
    if "from the last result" in instruction:              # chain: a value the last result holds
        field = re.search(r"using the (.+?) from the last result", instruction).group(1)
        api = tools[named[0]]
        return _message(f"Now please run {_ask(api, k, fed=[(_param_for(api, field), field)])}.")
    if "one after another" in instruction:                  # dependent: later tools take earlier results
        links: dict[str, list] = {}
        for name, p, field in _LINK.findall(instruction):
            links.setdefault(name, []).append((p, field))
        order = [n for n in _NAMES.findall(instruction.split(", because", 1)[0]) if n in tools]
        return _message("Please run " + ", then ".join(_ask(tools[n], k, fed=links.get(n, [])) for n in order) + ".")
    if "times with different values" in instruction:
        n = int(re.search(r"` (\d+) times", instruction).group(1))
        return _message("Please run " + ", and ".join(_ask(tools[named[0]], k + i) for i in range(n)) + ".")
    if "each of these tools once" in instruction:
        return _message("Please run " + ", and ".join(_ask(tools[n], k) for n in named) + ".")
    if (missing := _LEAVE_OUT.search(instruction)) is not None:
        return _message(f"Please run {_ask(tools[named[0]], k, missing=missing.group(1))}.")
    return _message(f"Please run {_ask(tools[named[0]], k)}.")    # exactly one call


def _message(text: str) -> str:
    return json.dumps({"message": text})


# ------------------------------------------------------------------ the assistant

def _find(obj, field: str):
    """A scalar under a key whose words are `field`, searched depth first (a list: its first item)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if humanise(k) == field and isinstance(v, (str, int, float)) and not isinstance(v, bool):
                return v
        for v in obj.values():
            found = _find(v, field)
            if found is not None:
                return found
    elif isinstance(obj, list) and obj:
        return _find(obj[0], field)
    return None


_FEEDS = re.compile(r"using the (.+?) from that result for its `([^`]+)`")


def _is_error(result) -> bool:
    return isinstance(result, dict) and list(result) == ["error"]


_TOOL_LINE = re.compile(r"TOOL RESULT \((.*?), ([^,()]+)\): ")


def _result(line: str):
    return json.loads(line[_TOOL_LINE.match(line).end():])


def assistant(system: str, prompt: str) -> str:
    """The next step for the transcript: ask for a value the user left out, call the tools of the
    request's next step (again, for a call whose response was an error), or answer."""
    tools = tools_in(system)
    lines = [ln for ln in prompt.split("\n") if ln.startswith(("USER:", "ASSISTANT", "TOOL RESULT"))]
    at = max(i for i, ln in enumerate(lines) if ln.startswith("USER:"))
    request = lines[at]
    if not _CALL.search(request) and at >= 2 and _MISSING.search(lines[at - 2]):
        request = lines[at - 2]                             # the user answered the question about its request
    elif _MISSING.search(request):
        name = _CALL.search(request).group(1)
        return _decide("ask", name, content=f"Which {humanise(_MISSING.search(request).group(1))} should I use?")
    parts = [(tools[n], int(k), part) for part in request.split(", then ")
             for n, k in _CALL.findall(part) if n in tools]
    if not parts:
        return _decide("answer", None, content="I can work that out without a tool: it is a simple product.")
    steps = [[p] for p in parts] if ", then " in request else [parts]
    done, failed, called = 0, set(), False   # steps whose calls all came back; tools whose last response failed
    for ln in lines[at + 1:]:
        if ln.startswith("ASSISTANT called:"):
            done += called and not failed
            failed, called = set(), True
        elif ln.startswith("TOOL RESULT") and _is_error(_result(ln)):
            failed.add(_TOOL_LINE.match(ln).group(1))
    done += called and not failed
    if done >= len(steps):
        return _decide("answer", None, content="Done: the results are above, and everything you asked for is complete.")
    ok = [_result(ln) for ln in lines if ln.startswith("TOOL RESULT") and not _is_error(_result(ln))]
    last = ok[-1] if ok else {}
    calls = []
    for tool, k, part in steps[done]:
        if failed and tool["name"] not in failed:
            continue                                        # called again: only what failed
        args = arguments(tool, k)
        for field, p in _FEEDS.findall(part):
            value = _find(last, field)
            if value is not None:
                args[p] = value
        calls.append({"name": tool["name"], "arguments": args})
    return _decide("call", calls[0]["name"], calls=calls)


def _decide(action: str, api: str | None, content: str | None = None, calls: list | None = None) -> str:
    thinking = {"tool_needed": api is not None, "api": api,
                "required_arguments": "from the user's message" if api else "none", "optional_arguments": "none"}
    out = {"thinking": thinking, "action": action, "content": content}
    if calls is not None:
        out["tool_calls"] = calls
    return json.dumps(out)


# ------------------------------------------------------------------ the tool and the judges

def tool(prompt: str) -> str:
    definition, args = prompt.split("\n\nCall arguments:\n", 1)
    return json.dumps({"result": result(json.loads(definition.split("\n", 1)[1]), json.loads(args))})


def answer(req: dict) -> str:
    messages = req.get("messages") or []
    system = messages[0].get("content") or "" if messages else ""
    prompt = messages[1].get("content") or "" if len(messages) > 1 else ""
    role = role_of(system)
    if role == JUDGE:
        return PASS
    if role == TEXT:
        return "A short answer, written for the benchmark."
    if role == APIGEN:
        name = re.search(r"for the function `([^`]+)`", prompt).group(1)
        return json.dumps([{"query": f"Please run {name} for me.", "answers": [{"name": name, "arguments": {}}]}])
    if role == CHECKER:
        return json.dumps({"thought": "The call serves the query and its result.", "passes": "yes"})
    if role == TOOL:
        return tool(prompt)
    if role == ASSISTANT:
        return assistant(system, prompt)
    return user(system, prompt, int(req.get("seed") or 0))
