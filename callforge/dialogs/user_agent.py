"""The user agent: writes requests (in its persona's register, close to or far from the API wording),
answers clarifying questions, and asks follow-ups.

Offline it phrases a skeleton's calls; every argument value it is responsible for appears verbatim.
With a model (`LLMUser`), the model writes the words from the same plan and knobs.
"""
from __future__ import annotations

import re

from . import prompts
from .phrasing import humanise, join, render_value, reword, verb_phrase
from .personas import STYLES
from .pool import Api

_OPENERS = ("I'm sorting out some {d} things.", "Quick {d} question.", "Working on something {d}-related.",
            "I've got a {d} task for you.")


_QUALIFIER = re.compile(r"\s(?:for|with|by|in|on|from|between|using|given|at|that|which|if|when|to)\s|[,;(]")


def phrase(api: Api, wording: int) -> str:
    """What the user asks for: the description's own words (0), with an everyday verb (1), or only
    its gist — everyday verb, the object, no qualifiers (2: furthest from the API text)."""
    base = verb_phrase(api.tool.get("description", ""), api.name)
    if wording == 0:
        return base
    if wording == 1:
        return reword(base)
    words = base.split(" ", 1)
    if len(words) == 2:
        head = _QUALIFIER.split(" " + words[1], 1)[0].strip()
        base = f"{words[0]} {head}".strip() if head else base
    return reword(base)


def args_text(args: dict, skip, wording: int, rng) -> str:
    items = [(p, v) for p, v in args.items() if p not in skip]
    if not items:
        return ""
    if wording == 0:
        if rng.random() < 0.5:
            return " with " + join([f"{humanise(p)} {render_value(v)}" for p, v in items])
        return " where " + join([f"the {humanise(p)} {_be(v)} {render_value(v)}" for p, v in items])
    if wording == 1:
        return " (" + "; ".join(f"{humanise(p)}: {render_value(v)}" for p, v in items) + ")"
    # Far wording: values without parameter names, except where a bare value would mean nothing.
    parts = [f"{humanise(p)} {render_value(v)}" if isinstance(v, (bool, dict)) else render_value(v) for p, v in items]
    return " — " + join(parts)


def _be(v) -> str:
    """The verb that agrees with a value: "the tags are work and family", "the city is Oslo"."""
    return "are" if isinstance(v, list) and len(v) > 1 else "is"


def pairs_text(args: dict, skip, wording: int) -> str:
    items = [(p, v) for p, v in args.items() if p not in skip]
    if wording == 2:
        return ", ".join(render_value(v) if not isinstance(v, (bool, dict)) else f"{humanise(p)} {render_value(v)}"
                         for p, v in items) or "the usual"
    return ", ".join(f"{humanise(p)} {render_value(v)}" for p, v in items) or "the defaults"


def clause(api: Api, args: dict, wording: int, rng, skip=()) -> str:
    return phrase(api, wording) + args_text(args, skip, wording, rng)


def wrap(text: str, wording: int, domain: str, rng, register: str = "neutral", intro: str | None = None) -> str:
    """A request in the register's sentence shapes (personas.py), after the persona's introduction
    when it gives one, else sometimes after a word about the domain."""
    style = rng.choice(STYLES[register])
    out = style.replace("{C}", text[:1].upper() + text[1:]).replace("{c}", text)
    if intro:
        return f"{intro} {out}"
    if wording == 2 or rng.random() < 0.15:
        d = domain.lower()
        out = rng.choice(_OPENERS).format(d=d).replace(f"a {d}", f"an {d}" if d[:1] in "aeiou" else f"a {d}") + " " + out
    return out


def allusion(param: str, rng) -> str:
    """Names a value without giving it (a near-miss clarification: the assistant must still ask)."""
    p = humanise(param)
    return rng.choice((f"for my usual {p}", f"with the same {p} as last time", f"using my {p}"))


def request_text(pool, turn, wording: int, domain: str, rng, register: str = "neutral", intro: str | None = None) -> str:
    """The opening request of a turn that makes calls (single, parallel, dependent, clarify)."""
    steps = turn.planned_steps()
    first = steps[0]
    skip = {turn.ask} if turn.ask else set()
    if len(steps) == 1 and len(first) > 1:                      # parallel
        if len({c.api for c in first}) == 1:
            api = pool.apis[first[0].api]
            parts = [pairs_text(c.args, skip, wording) for c in first]
            text = f"{phrase(api, wording)} for each of these: " + "; ".join(parts)
        else:
            text = ", and also ".join(clause(pool.apis[c.api], c.args, wording, rng, skip) for c in first)
        return wrap(text, wording, domain, rng, register, intro)
    text = clause(pool.apis[first[0].api], first[0].args, wording, rng, skip)
    if turn.ask and turn.data.get("allude"):
        text += " " + allusion(turn.ask, rng)
    for step in steps[1:]:                                       # dependent: later steps use earlier results
        c = step[0]
        fed = [p for p, src in c.sources.items() if src[0] == "tool"]
        ref = " using the " + join([humanise(c.sources[p][2][-1]) for p in fed]) + " from that" if fed else ""
        if wording == 2 and fed:
            ref = " with what that turns up"
        text += ", and then " + clause(pool.apis[c.api], c.args, wording, rng, skip=set(fed)) + ref
    return wrap(text, wording, domain, rng, register, intro)


def answer_text(param: str, value, wording: int, rng) -> str:
    v = render_value(value)
    forms = ("{v}.", "It's {v}.", "Use {v}.", "Oh, right — {v}.") if wording else \
            ("{v}.", "It's {v}.", "Use {v}.", "The {p} is {v}.", "{P}: {v}.")
    f = rng.choice(forms)
    p = humanise(param)
    out = f.format(v=v, p=p, P=p[:1].upper() + p[1:])
    return out[:-1] if out.endswith("..") else out   # a value that is a sentence brings its own full stop


def correction_text(value, rng) -> str:
    """The user's reply when the value they gave matched nothing: the right one."""
    v = render_value(value)
    return rng.choice((f"Sorry, I meant {v}.", f"My mistake — it's {v}.", f"Oops, it should be {v}."))


def variation_text(param: str, value, wording: int, rng) -> str:
    v, p = render_value(value), humanise(param)
    if wording == 2:
        return rng.choice((f"Now try {v} instead.", f"And what if it's {v}?"))
    return rng.choice((f"What about {v} for the {p} instead?", f"Can you do the same with {p} {v}?",
                       f"And with the {p} set to {v}?"))


def chain_text(pool, call, wording: int, rng) -> str:
    fed = [p for p, src in call.sources.items() if src[0] == "tool"]
    api = pool.apis[call.api]
    ref = join([humanise(call.sources[p][2][-1]) for p in fed])
    body = clause(api, call.args, wording, rng, skip=set(fed))
    return rng.choice((f"Great. Now {body} using the {ref} from that result.",
                       f"Thanks! Next, {body} for the {ref} you just got.",
                       f"OK — {body}, using that {ref}."))


def new_api_text(pool, call, wording: int, domain: str, rng) -> str:
    body = clause(pool.apis[call.api], call.args, wording, rng)
    return rng.choice((f"Also, {body}.", f"One more thing: could you {body}?", f"While you're at it, {body}."))


def closing_text(rng) -> str:
    return rng.choice(("Thanks, that's all I needed.", "Perfect, thank you!", "Great, thanks for the help.",
                       "That's everything, thanks."))


class LLMUser:
    """The user agent backed by a model through the gateway. `key`: the request's identity (sample
    id and step), which picks its sampling seed (Gateway.seed_for)."""

    def __init__(self, gw):
        self.gw = gw

    async def request(self, tools: list[dict], instruction: str, wording: int, key=None, persona: dict | None = None):
        res = await self.gw.complete(prompts.user_request_messages(tools, instruction, wording, persona),
                                     json_schema=prompts.USER_SCHEMA, tag="user", key=key)
        return (res.data["message"], None, res) if res.ok else (None, res.reason, res)

    async def reply(self, tools: list[dict], transcript: list[dict], instruction: str, key=None,
                    persona: dict | None = None):
        res = await self.gw.complete(prompts.user_reply_messages(tools, transcript, instruction, persona),
                                     json_schema=prompts.USER_SCHEMA, tag="user", key=key)
        return (res.data["message"], None, res) if res.ok else (None, res.reason, res)
