"""The model path: the same plans (data type, APIs, what to leave out, what to chain) as offline,
with every word, argument value and tool result written by the model through the gateway.

user → assistant (each decision sampled `votes` times, kept only when the votes agree) → tool
results → assistant … until the assistant answers in words; then the next user turn, if any.
Each request's sampling seed derives from the sample id and its step (Gateway.seed_for).
Every failure is a Dropped with a stable reason; the finished dialog passes the same checks as the
offline path (it must really be its data type).
"""
from __future__ import annotations

import asyncio

from .assistant_agent import LLMAssistant
from .checks import check
from .generate import drop_record, encode, skeletons, with_steering
from .phrasing import humanise
from .pool import Pool
from .prompts import thinking_text
from .render import can_move, candidates, sample_id
from .skeleton import Dropped, Skeleton
from .steering import Bounds, calibrate, steer
from .tool_agent import dumps, simulate_llm
from .user_agent import LLMUser

MAX_QUESTIONS = 2


def _names(pool, ids) -> str:
    return ", ".join(f"`{pool.apis[a].name}`" for a in ids)


def instructions(pool: Pool, sk: Skeleton) -> list[str]:
    """What each user turn must ask for, from the plan (the model invents the values)."""
    out = []
    for t, turn in enumerate(sk.turns):
        steps = turn.steps
        if turn.kind in ("request", "new_api") and steps:
            first = steps[0]
            if len(steps) > 1:
                links = []
                for a, b in zip(steps, steps[1:]):
                    fed = [(p, src) for p, src in b[0].sources.items() if src[0] == "tool"]
                    for p, src in fed:
                        links.append(f"`{pool.apis[b[0].api].name}` needs `{p}`, which only `{pool.apis[a[0].api].name}`'s "
                                     f"result provides (its {humanise(str(src[2][-1]))})")
                text = (f"Write one request that needs these tools one after another: {_names(pool, [s[0].api for s in steps])}, "
                        f"because {'; '.join(links)}. Give every other value needed, but not those — they are not known yet.")
            elif len(first) > 1:
                if len({c.api for c in first}) == 1:
                    text = (f"Write one request that needs `{pool.apis[first[0].api].name}` {len(first)} times with different "
                            "values, the calls independent of each other. Give every value needed.")
                else:
                    text = (f"Write one request that needs each of these tools once, independently: "
                            f"{_names(pool, [c.api for c in first])}. Give every value needed.")
            else:
                api = pool.apis[first[0].api]
                if turn.ask:
                    text = (f"Write a request that needs `{api.name}`, but leave out its required `{turn.ask}` entirely "
                            f"(do not mention it or hint at its value). Give the other required values.")
                else:
                    text = f"Write a request that needs exactly one call of `{api.name}`. Give every required value."
            if t > 0:
                text = "Continue the conversation as the user with a new, related request. " + text
        elif turn.kind == "variation":
            text = (f"Continue as the user: ask for the same thing again with a different `{turn.data['param']}` "
                    "(give the new value).")
        elif turn.kind == "chain":
            c = turn.steps[0][0]
            p, src = next((p, s) for p, s in c.sources.items() if s[0] == "tool")
            text = (f"Continue as the user: ask for something that needs `{pool.apis[c.api].name}` using the "
                    f"{humanise(str(src[2][-1]))} from the last result (do not repeat the value). Give any other value needed.")
        elif turn.kind == "closing":
            text = "Continue as the user: thank the assistant and close the conversation; ask for nothing else."
        elif turn.kind == "oos":
            far = pool.apis[turn.data["api"]]
            text = (f"Write a request that none of the tools can fulfil: for example, you want to: "
                    f"{far.tool.get('description', far.name)}. Do not ask for anything the tools can do.")
        elif turn.kind == "arith":
            text = "Write a short question the assistant can answer without any tool (simple arithmetic or a unit conversion)."
        else:
            text = "Ask the assistant what it can help you with."
        out.append(text)
    return out


class LLMDialogs:
    """Model-made dialogs for index ranges; `dialogs` is the config section (plain values or node)."""

    def __init__(self, pool: Pool, dialogs, seed: int, gw, provenance: dict, scorer=None, bounds=None):
        self.pool, self.d, self.seed, self.gw, self.prov = pool, dialogs, seed, gw, provenance
        self.scorer, self.bounds = scorer, bounds
        self.user = LLMUser(gw)
        self.assistant = LLMAssistant(gw, dialogs.votes, dialogs.thinking)

    async def dialog(self, sk: Skeleton, knobs) -> dict | Dropped:
        # every request's key names this sample and its step (turn t, assistant step, vote, call),
        # so its sampling seed is its own: samples that send the same prompt do not collapse into one
        sid = sample_id(sk.index)
        offered = candidates(sk, knobs[0])
        tools = [self.pool.apis[a].tool for a in offered]
        by_name = {t["name"]: self.pool.apis[a] for t, a in zip(tools, offered)}
        msgs: list[dict] = []
        votes: list[dict] = []
        n_calls = 0
        for t, instr in enumerate(instructions(self.pool, sk)):
            if t == 0:
                text, reason, _ = await self.user.request(tools, instr, knobs[1], key=(sid, "user", t))
            else:
                text, reason, _ = await self.user.reply(tools, msgs, instr, key=(sid, "user", t))
            if text is None:
                return Dropped(reason, "user agent")
            msgs.append({"role": "user", "content": text})
            questions = 0
            for step in range(self.d.max_steps):
                dec, reason, info, _ = await self.assistant.decide(tools, msgs, key=(sid, "assistant", t, step))
                if info is not None:
                    votes.append(info)
                if dec is None:
                    return Dropped(reason, "assistant agent")
                thinking = thinking_text(dec.get("thinking")) if self.d.thinking else None
                action = dec["action"]
                if action == "call":
                    calls = []
                    for c in dec["tool_calls"]:
                        api = by_name.get(c["name"])
                        if api is None:
                            return Dropped("dialogs.unknown_tool", f"model called {c['name']!r}, not offered")
                        if not api.params_validator.is_valid(c["arguments"]):
                            return Dropped("dialogs.invalid_arguments", f"{c['name']}: arguments do not match its schema")
                        n_calls += 1
                        calls.append({"id": f"call_{n_calls}", "name": c["name"], "arguments": c["arguments"]})
                    m = {"role": "assistant", "content": None}
                    if thinking is not None:
                        m["thinking"] = thinking
                    m["tool_calls"] = calls
                    msgs.append(m)
                    results = await asyncio.gather(*(
                        simulate_llm(self.gw, by_name[c["name"]], c["arguments"], key=(sid, "tool", t, step, k))
                        for k, c in enumerate(calls)))
                    for c, (res, reason, _) in zip(calls, results):
                        if reason:
                            return Dropped(reason, f"tool agent ({c['name']})")
                        msgs.append({"role": "tool", "tool_call_id": c["id"], "name": c["name"], "content": dumps(res)})
                    continue
                m = {"role": "assistant", "content": dec.get("content")}
                if thinking is not None:
                    m["thinking"] = thinking
                msgs.append(m)
                if action == "answer":
                    break
                questions += 1
                if questions > MAX_QUESTIONS:
                    return Dropped("dialogs.too_many_questions", "the assistant kept asking")
                text, reason, _ = await self.user.reply(
                    tools, msgs, "The assistant asked you a question. Answer it briefly with the concrete value it needs.",
                    key=(sid, "user", t, "answer", step))
                if text is None:
                    return Dropped(reason, "user agent (answer)")
                msgs.append({"role": "user", "content": text})
            else:
                return Dropped("dialogs.max_steps", f"no answer within {self.d.max_steps} assistant steps")
        used = list(dict.fromkeys(c["name"] for m in msgs for c in m.get("tool_calls") or []))
        rec = {"id": sid, "data_type": sk.data_type, "domain": sk.domain, "tools": tools,
               "messages": msgs, "apis_used": used,
               "voting": {"votes": self.d.votes, "decisions": len(votes),
                          "min_samples": min((v["samples"] for v in votes), default=0)},
               "provenance": self.prov}
        reason = check(rec)
        return Dropped(reason, "model dialog failed the generation-time check") if reason else rec

    def run(self, indices) -> tuple[list[dict], list[dict]]:
        """Records and drop records for these sample indices (steered when a scorer is set)."""
        items, failed = skeletons(self.pool, self.d, self.seed, indices)

        def render_many(pairs):
            return self.gw.run_all([self.dialog(it.sk, k) for it, k in pairs])

        out = []
        for it, (rec, info) in zip(items, steer(items, render_many, lambda it, k, h: can_move(it.sk, k[0], k[1], h),
                                                self.scorer, self.bounds, self.d.steering.max_rounds)):
            if isinstance(rec, Dropped):
                failed.append((it.sk.index, rec.reason, rec.detail))
            else:
                out.append(with_steering(rec, info))
        return out, [drop_record(self.d.mix, self.seed, self.prov, i, r, d) for i, r, d in sorted(failed)]


def model_batches(pool: Pool, dialogs, seed: int, gw, provenance: dict, scorer, indices: range):
    """Batches of model-made dialogs as (lines, facts, drops, n), like the offline engine's; and a
    getter for the steering bounds used (configured, else those the last batch calibrated)."""
    st = dialogs.steering
    holder: dict = {"b": Bounds(st.lower, st.upper, "config") if st.lower is not None or st.upper is not None else None}

    def first_round(scores):  # no configured bounds: each batch's first round calibrates them
        ok = [x for x in scores if x is not None]
        holder["b"] = calibrate(ok, st.lower_percentile, st.upper_percentile) if ok else None
        return holder["b"]

    runner = LLMDialogs(pool, dialogs, seed, gw, provenance, scorer, holder["b"] or first_round)

    def batches():
        step = max(1, dialogs.batch)
        for lo in range(indices.start, indices.stop, step):
            span = range(lo, min(indices.stop, lo + step))
            recs, drops = runner.run(span)
            lines, fs = encode(recs)
            yield lines, fs, drops, len(span)

    return batches(), lambda: holder["b"]
