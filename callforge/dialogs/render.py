"""Offline rendering: a skeleton plus steering knobs → a sample record (callforge/schemas/sample.json).

Knobs: `extra` candidate APIs beyond the drawn count (negative = fewer) and `wording` (0 close to the
API description, 2 far from it). The words come from the sample's text stream for that wording, so
re-rendering with other knobs keeps the plan (APIs, values, results) and changes only what steering
asks to change.
"""
from __future__ import annotations

from callforge.core.seeds import rng_for

from . import assistant_agent as A
from . import intents, personas
from . import user_agent as U
from .pool import Pool
from .skeleton import Skeleton
from .tool_agent import dumps


def candidates(sk: Skeleton, extra: int) -> list[int]:
    n = max(len(sk.targets), 1, min(sk.base_k + extra, len(sk.targets) + len(sk.ranked)))
    chosen = sk.targets + sk.ranked[: n - len(sk.targets)]
    return sorted(chosen, key=sk.order.__getitem__)


def can_move(sk: Skeleton, extra: int, wording: int, harder: bool) -> tuple[int, int] | None:
    """The knobs one step harder (or simpler), or None when both are at their limit."""
    lo, hi = max(len(sk.targets), 1), len(sk.targets) + len(sk.ranked)
    now = len(candidates(sk, extra))
    step = 2
    if harder:
        e = extra + step if now < hi else extra
        w = min(2, wording + 1)
    else:
        e = extra - step if now > lo else extra
        w = max(0, wording - 1)
    return None if (len(candidates(sk, e)) == now and w == wording) else (e, w)


def _call_msg(pool, calls, thinking: str | None) -> dict:
    m = {"role": "assistant", "content": None}
    if thinking is not None:
        m["thinking"] = thinking
    m["tool_calls"] = [{"id": c.id, "name": pool.apis[c.api].name, "arguments": c.args} for c in calls]
    return m


def _tool_msgs(pool, calls) -> list[dict]:
    return [{"role": "tool", "tool_call_id": c.id, "name": pool.apis[c.api].name, "content": dumps(c.response)}
            for c in calls]


def _say(content: str, thinking: str | None = None) -> dict:
    m = {"role": "assistant", "content": content}
    if thinking is not None:
        m["thinking"] = thinking
    return m


def render_messages(pool: Pool, sk: Skeleton, offered: list[int], wording: int, seed: int, thinking: bool) -> list[dict]:
    rng = rng_for(seed, "dialogs", sk.index, "text", wording)
    register = personas.register_of(sk.persona)
    small_talk = sk.turns[0].kind == "intent" and sk.turns[0].data["kind"] in ("chitchat", "capability")
    intro = personas.introduction(sk.persona, rng_for(seed, "dialogs", sk.index, "intro"),
                                  personas.SMALL_TALK_INTRO_SHARE if small_talk else personas.INTRO_SHARE)
    n = len(offered)
    msgs: list[dict] = []
    th = (lambda f, *a: f(*a)) if thinking else (lambda f, *a: None)
    calls = {c.id: c for c in sk.calls()}
    again = {c.retry_of: c for c in calls.values() if c.retry_of}      # failed call id -> the call made again
    for t, turn in enumerate(sk.turns):
        opening = intro if t == 0 else None
        if turn.kind == "request":
            msgs.append({"role": "user", "content": U.request_text(pool, turn, wording, sk.domain, rng, register, opening)})
        elif turn.kind == "variation":
            c = turn.steps[0][0]
            msgs.append({"role": "user", "content": U.variation_text(turn.data["param"], c.args[turn.data["param"]], wording, rng)})
        elif turn.kind == "chain":
            msgs.append({"role": "user", "content": U.chain_text(pool, turn.steps[0][0], wording, rng)})
        elif turn.kind == "new_api":
            msgs.append({"role": "user", "content": U.new_api_text(pool, turn.steps[0][0], wording, sk.domain, rng)})
        elif turn.kind == "closing":
            msgs.append({"role": "user", "content": U.closing_text(rng)})
            msgs.append(_say(A.closing_answer(rng), th(A.thinking_none, "the user is wrapping up", n)))
            continue
        elif turn.kind == "oos":
            far = pool.apis[turn.data["api"]]
            request = U.wrap(U.clause(far, turn.data["args"], 0, rng), 0, sk.domain, rng, register, opening)
            msgs.append({"role": "user", "content": request})
            offered_apis = [pool.apis[a] for a in offered]
            msgs.append(_say(A.oos_answer(far, offered_apis, rng),
                             th(A.thinking_none, f"the request is to {U.phrase(far, 0)}, which none of the offered tools does", n)))
            continue
        elif turn.kind == "intent":
            question = intents.question(turn.data, pool, rng)
            msgs.append({"role": "user", "content": f"{opening} {question}" if opening else question})
            msgs.append(_say(intents.answer(turn.data, pool, [pool.apis[a] for a in offered]),
                             th(A.thinking_none, intents.reason(turn.data), n)))
            continue
        if turn.ask:
            c = turn.steps[0][0]
            api = pool.apis[c.api]
            msgs.append(_say(A.ask_text(api, turn.ask, rng), th(A.thinking_ask, api, turn.ask, n)))
            msgs.append({"role": "user", "content": U.answer_text(turn.ask, c.args[turn.ask], wording, rng)})
        for step in turn.steps:
            first = calls.get(step[0].retry_of) if len(step) == 1 else None
            trace = (th(A.thinking_retry, pool, first, step[0], n) if first is not None else
                     th(A.thinking_calls, pool, step, n, len(step) > 1))
            msgs.append(_call_msg(pool, step, trace))
            msgs.extend(_tool_msgs(pool, step))
            for c in step:
                if c.failure and c.failure["handling"] == "ask":
                    api = pool.apis[c.api]
                    msgs.append(_say(A.error_ask_text(c, rng), th(A.thinking_error_ask, api, c, n)))
                    msgs.append({"role": "user", "content": U.correction_text(again[c.id].args[c.failure["param"]], rng)})
        msgs.append(_say(A.summary_text(pool, [c for s in turn.steps for c in s if c.id not in again], rng)))
    return msgs


def render(pool: Pool, sk: Skeleton, extra: int, wording: int, seed: int, thinking: bool, provenance: dict) -> dict:
    offered = candidates(sk, extra)
    scenario = sk.scenario()
    return {
        "id": sample_id(sk.index),
        "data_type": sk.data_type,
        "domain": sk.domain,
        "tools": [pool.apis[a].tool for a in offered],
        "messages": render_messages(pool, sk, offered, wording, seed, thinking),
        "apis_used": [pool.apis[a].name for a in sk.targets],
        **({"scenario": scenario} if scenario else {}),
        "provenance": provenance,
    }


def sample_id(i: int) -> str:
    return f"dlg-{i:08d}"


def sample_index(sid: str) -> int:
    """The index a sample id names (sample_id's inverse)."""
    return int(sid.rsplit("-", 1)[1])
