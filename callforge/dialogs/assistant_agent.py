"""The assistant agent: decides (call tools, ask for missing information, answer without tools,
summarise results), with a structured thinking trace before each decision:
tool needed? → which API → required arguments → optional arguments.

Offline the decisions come from the skeleton (the plan that built the dialog), so the trace states
the plan's reasons; it is a procedural assistant, not a model's judgement. `LLMAssistant` asks a
model, samples each decision n times (n requests, n seeds) and keeps it only when the votes agree
(voting.py).
"""
from __future__ import annotations

import asyncio
import json
import re

from . import prompts
from .phrasing import abilities, count_of, humanise, join, render_value, verb_phrase
from .pool import Api
from .skeleton import FROM_ANSWER, FROM_ERROR, FROM_TOOL, Call
from .voting import vote

# A result whose status is one of these reports a failure: the answer must not call it done.
FAILED_STATUSES = {"failed", "failure", "error", "rejected", "declined", "denied"}


def _v(v) -> str:
    if isinstance(v, str) and v.isprintable() and '"' not in v and "\\" not in v:
        return f'"{v}"'      # what json.dumps gives for plain strings, without its cost
    return json.dumps(v, ensure_ascii=False)


def thinking_calls(pool, calls: list[Call], n_candidates: int, parallel: bool) -> str:
    lines = [f"Tool needed: yes — the request asks to {join([verb_phrase(pool.apis[c.api].tool.get('description', ''), pool.apis[c.api].name) for c in _unique(calls)])}."]
    names = [pool.apis[c.api].name for c in calls]
    how = " (independent requests: call in parallel)" if parallel else ""
    lines.append(f"API: {', '.join(names)} — out of {n_candidates} offered{how}.")
    for c in calls:
        api = pool.apis[c.api]
        prefix = f"{api.name}: " if len(calls) > 1 else ""
        req = [f"{p}={_v(c.args[p])} {_source(c, p)}" for p in api.required if p in c.args]
        opt = [f"{p}={_v(c.args[p])} {_source(c, p)}" for p in api.optional if p in c.args]
        lines.append(f"{prefix}Required: {'; '.join(req) if req else 'none'}.")
        left = len(api.optional) - len(opt)
        rest = f"{left} left unset" if left else ""
        lines.append(f"{prefix}Optional: {'; '.join(x for x in ('; '.join(opt), rest) if x) or 'none'}.")
    return "\n".join(lines)


def _unique(calls):
    seen, out = set(), []
    for c in calls:
        if c.api not in seen:
            seen.add(c.api)
            out.append(c)
    return out


def _source(c: Call, p: str) -> str:
    src = c.sources.get(p)
    if src is None:
        return "(from the user)"
    if src[0] == FROM_TOOL:
        return f"(from the {src[1]} result, {'.'.join(str(x) for x in src[2])})"
    if src[0] == FROM_ANSWER:
        return "(from the user's answer)"
    if src[0] == FROM_ERROR:
        return f"(from the {src[1]} error's suggestion)"
    return ""


def thinking_retry(pool, failed: Call, call: Call, n_candidates: int) -> str:
    """The trace of a call made again after `failed` returned an error: why, then the usual four lines."""
    err = failed.response["error"]
    p = (failed.failure or {}).get("param")
    if call.sources.get(p, ("",))[0] == FROM_ERROR:
        how = f"calling it again with {p}={_v(call.args[p])}, as the error suggests"
    elif call.sources.get(p, ("",))[0] == FROM_ANSWER:
        how = f"calling it again with the {humanise(p)} the user just gave"
    else:
        how = "the error is temporary, so calling it again with the same arguments"
    lines = thinking_calls(pool, [call], n_candidates, False).splitlines()
    lines[0] = f"Tool needed: yes — the {failed.id} call failed ({err['code']}: {err['message']}); {how}."
    return "\n".join(lines)


def thinking_error_ask(api: Api, failed: Call, n_candidates: int) -> str:
    p = failed.failure["param"]
    return "\n".join([f"Tool needed: yes — {api.name} found nothing for {p}={_v(failed.args[p])}.",
                      f"API: {api.name} — out of {n_candidates} offered.",
                      f"Required: {p} must be corrected, and only the user knows the right value → ask the user."])


def error_ask_text(failed: Call, rng) -> str:
    """The question after a not-found error: which value did the user mean?"""
    p = failed.failure["param"]
    bad, name = render_value(failed.args[p]), humanise(p)
    return rng.choice((f"I couldn't find any {name} '{bad}'. Could you check it and tell me the right one?",
                       f"Hmm, '{bad}' didn't match any {name}. What's the correct {name}?",
                       f"Nothing matched the {name} '{bad}' — is there a typo? What should it be?"))


def failure_text(pool, c: Call, rng) -> str:
    """The assistant's words for a failed response it cannot recover from: what went wrong."""
    short = _short(c.args)
    if c.failure["code"] == "empty":
        lists = [k for k, v in c.response.items() if isinstance(v, list)] if isinstance(c.response, dict) else []
        noun = humanise(lists[0]) if lists else "results"
        return rng.choice((f"I checked, but there are no matching {noun} for {short}. Want me to try different details?",
                           f"Nothing came back for {short}: the search found no {noun}.",
                           f"I looked for {short}, but found no {noun}."))
    message = c.response["error"]["message"]
    if c.failure["code"] == "not_found":
        p = humanise(c.failure["param"])
        return rng.choice((f"I couldn't complete that: {message} Could you double-check the {p}?",
                           f"That didn't work — {message[:1].lower() + message[1:]} Can you check the {p}?"))
    name = pool.apis[c.api].name
    return rng.choice((f"Sorry, I couldn't get that done: {message} Please try again a bit later.",
                       f"{name} isn't available right now ({message.rstrip('.').lower()}), so I couldn't finish this. "
                       "Could you try again later?"))


def thinking_ask(api: Api, missing: str, n_candidates: int) -> str:
    phrase = verb_phrase(api.tool.get("description", ""), api.name)
    return "\n".join([f"Tool needed: yes — the request asks to {phrase}.",
                      f"API: {api.name} — out of {n_candidates} offered.",
                      f"Required: {missing} is missing and has no default → ask the user before calling."])


def thinking_none(reason: str, n_candidates: int) -> str:
    return f"Tool needed: no — {reason}.\nAPI: none of the {n_candidates} offered."


def _hint(desc, p: str) -> str:
    """The parameter's description as a hint in brackets, unless it only restates the name
    ("Message (free text, may be long)" for `message` says nothing the question does not)."""
    if not isinstance(desc, str) or not 0 < len(desc) < 120:
        return ""
    said = re.sub(r"\s*\([^)]*\)", "", desc).rstrip(". ")
    return "" if said.lower() in ("", p.lower()) else f" ({said})"


def ask_text(api: Api, missing: str, rng) -> str:
    p = humanise(missing)
    hint = _hint((api.props.get(missing) or {}).get("description"), p)
    return rng.choice((f"Sure — which {p} should I use{hint}?", f"Happy to help. What {p} do you have in mind{hint}?",
                       f"I can do that; I just need the {p}{hint}. What should it be?"))


def describe(value, depth: int = 0) -> str:
    """A short spoken summary of a result (a few fields, one level deep)."""
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if isinstance(v, list):
                first = f" (first: {describe(v[0], 1)})" if v and depth == 0 and isinstance(v[0], dict) else ""
                parts.append(f"{count_of(len(v), k)}{first}" if not all(isinstance(x, (str, int, float)) for x in v)
                             or not v else f"{humanise(k)} {render_value(v)}")
            elif isinstance(v, dict):
                if depth == 0:
                    parts.append(f"{humanise(k)}: {describe(v, 1)}")
            else:
                parts.append(f"{humanise(k)} {render_value(v)}")
            if len(parts) >= (4 if depth == 0 else 3):
                break
        return join(parts) or "nothing to report"
    if isinstance(value, list):
        return count_of(len(value), "results") + (f", the first being {describe(value[0], 1)}" if value and depth == 0 else "")
    return render_value(value)


def _failed_part(c: Call) -> str:
    """A failed call among several results, in a few words."""
    if c.failure["code"] == "empty":
        return "nothing found"
    message = c.response["error"]["message"].rstrip(".")
    return f"that one failed ({message[:1].lower() + message[1:]})"


def _reports_failure(response) -> bool:
    """A result that says it did not work: a failed status at its top or in its `data` envelope."""
    for part in (response, response.get("data") if isinstance(response, dict) else None):
        status = part.get("status") if isinstance(part, dict) else None
        if isinstance(status, str) and status.lower() in FAILED_STATUSES:
            return True
    return False


def summary_text(pool, calls: list[Call], rng) -> str:
    """The answer after a turn's calls (those that failed unrecovered are explained)."""
    if len(calls) == 1:
        c = calls[0]
        if c.failure:
            return failure_text(pool, c, rng)
        if _reports_failure(c.response):
            return rng.choice(("That did not go through: {s}.", "The request was not completed: {s}.")).format(
                s=describe(c.response))
        return rng.choice(("Here's what I found: {s}.", "Done. The result: {s}.", "All set — {s}.")).format(
            s=describe(c.response))
    parts = [f"{pool.apis[c.api].name} ({_short(c.args)}): " + (_failed_part(c) if c.failure else describe(c.response))
             for c in calls]
    return "Here are the results. " + " ".join(f"{k + 1}) {p}." for k, p in enumerate(parts))


def _short(args: dict) -> str:
    return ", ".join(f"{humanise(k)} {render_value(v)}" for k, v in list(args.items())[:2]) or "no arguments"


def oos_answer(far: Api, offered: list[Api], rng) -> str:
    what = verb_phrase(far.tool.get("description", ""), far.name)
    can = abilities(offered, 3, "or")
    return rng.choice((f"Sorry, I can't {what} — none of the tools available to me does that. I can {can}, if that helps.",
                       f"That's outside what my tools cover: none of them can {what}. They can {can}."))


def closing_answer(rng) -> str:
    return rng.choice(("You're welcome! Let me know if you need anything else.", "Glad I could help!",
                       "Any time — just ask if something else comes up."))


class LLMAssistant:
    """The assistant agent backed by a model: one decision per step, sampled `votes` times.

    Each vote is its own request with its own key, (*key, "vote", v), hence its own sampling seed:
    one request with n=votes would carry a single seed for all of them (and llama.cpp's server
    answers n > 1 with one choice), which would make the agreement check vacuous."""

    def __init__(self, gw, votes: int, thinking: bool):
        self.gw, self.votes, self.thinking = gw, votes, thinking

    async def decide(self, tools: list[dict], transcript: list[dict], key: tuple = ()):
        """→ (decision dict, None, vote info, results) or (None, reason, vote info, results); results:
        the gateway Result of each vote. key: the decision's identity (sample id, turn, step)."""
        messages = prompts.assistant_messages(tools, transcript, self.thinking)
        results = await asyncio.gather(*(
            self.gw.complete(messages, json_schema=prompts.ASSISTANT_SCHEMA, tag="assistant", key=(*key, "vote", v))
            for v in range(self.votes)))
        failed = next((r for r in results if not r.ok), None)
        if failed is not None:
            return None, failed.reason or "llm.failed", None, results
        decision, info = vote([r.data for r in results])
        if decision is None:
            return None, "dialogs.vote_disagreement", info, results
        return decision, None, info, results
