"""Offline rendering: a skeleton plus steering knobs → a sample record (callforge/schemas/sample.json).

Knobs: `extra` candidate APIs beyond the drawn count (negative = fewer) and `wording` (0 close to the
API description, 2 far from it). The words come from the sample's text stream for that wording, so
re-rendering with other knobs keeps the plan (APIs, values, results) and changes only what steering
asks to change.
"""
from __future__ import annotations

from callforge.core.seeds import rng_for

from . import assistant_agent as A
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
    n = len(offered)
    msgs: list[dict] = []
    th = (lambda f, *a: f(*a)) if thinking else (lambda f, *a: None)
    for t, turn in enumerate(sk.turns):
        if turn.kind == "request":
            msgs.append({"role": "user", "content": U.request_text(pool, turn, wording, sk.domain, rng)})
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
            msgs.append({"role": "user", "content": U.wrap(U.clause(far, turn.data["args"], 0, rng), 0, sk.domain, rng)})
            offered_apis = [pool.apis[a] for a in offered]
            msgs.append(_say(A.oos_answer(far, offered_apis, rng),
                             th(A.thinking_none, f"the request is to {U.phrase(far, 0)}, which none of the offered tools does", n)))
            continue
        elif turn.kind == "arith":
            msgs.append({"role": "user", "content": U.arith_text(turn.data, rng)})
            msgs.append(_say(A.arith_answer(turn.data), th(A.thinking_none, "plain arithmetic I can do directly", n)))
            continue
        elif turn.kind == "capability":
            msgs.append({"role": "user", "content": U.capability_text(rng)})
            msgs.append(_say(A.capability_answer([pool.apis[a] for a in offered]),
                             th(A.thinking_none, "the user asks what I can do; the tool descriptions answer that", n)))
            continue
        if turn.ask:
            c = turn.steps[0][0]
            api = pool.apis[c.api]
            msgs.append(_say(A.ask_text(api, turn.ask, rng), th(A.thinking_ask, api, turn.ask, n)))
            msgs.append({"role": "user", "content": U.answer_text(turn.ask, c.args[turn.ask], wording, rng)})
        for step in turn.steps:
            msgs.append(_call_msg(pool, step, th(A.thinking_calls, pool, step, n, len(step) > 1)))
            msgs.extend(_tool_msgs(pool, step))
        msgs.append(_say(A.summary_text(pool, [c for s in turn.steps for c in s], rng)))
    return msgs


def render(pool: Pool, sk: Skeleton, extra: int, wording: int, seed: int, thinking: bool, provenance: dict) -> dict:
    offered = candidates(sk, extra)
    return {
        "id": sample_id(sk.index),
        "data_type": sk.data_type,
        "domain": sk.domain,
        "tools": [pool.apis[a].tool for a in offered],
        "messages": render_messages(pool, sk, offered, wording, seed, thinking),
        "apis_used": [pool.apis[a].name for a in sk.targets],
        "provenance": provenance,
    }


def sample_id(i: int) -> str:
    return f"dlg-{i:08d}"
