"""The model path: the same plans (data type, APIs, what to leave out, what to chain) as offline,
with every word, argument value and tool result written by the model through the gateway.

user → assistant (each decision sampled `votes` times, kept only when the votes agree) → tool
results → assistant … until the assistant answers in words; then the next user turn, if any.
Each request's sampling seed derives from the sample id and its step (Gateway.seed_for). The user
agent speaks as the sample's persona; a planned tool failure makes the first tool response of its
turn an error (or an empty result) for the model to handle.
Every failure is a Dropped with a stable reason; the finished dialog passes the same checks as the
offline path (it must really be its data type).
"""
from __future__ import annotations

import asyncio

from . import intents
from .assistant_agent import LLMAssistant
from .checks import check
from .failures import model_failure
from .generate import calibration_items, drop_record, encode, skeletons, with_steering
from .phrasing import humanise
from .pool import Pool
from .prompts import thinking_text
from .render import can_move, candidates, sample_id
from .skeleton import Dropped, Skeleton
from .steering import run_bounds, steer
from .tool_agent import dumps, simulate_llm
from .user_agent import LLMUser

MAX_QUESTIONS = 2


def _names(pool, ids) -> str:
    return ", ".join(f"`{pool.apis[a].name}`" for a in ids)


def instructions(pool: Pool, sk: Skeleton) -> list[str]:
    """What each user turn must ask for, from the plan (the model invents the values)."""
    out = []
    for t, turn in enumerate(sk.turns):
        steps = turn.planned_steps()     # a call made again after a failure is the model's to decide
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
                if turn.ask and turn.data.get("allude"):   # a near miss: the value is named, never given
                    text = (f"Write a request that needs `{api.name}`, but do not give its required `{turn.ask}`: refer "
                            f"to it without stating it (say 'my usual {humanise(turn.ask)}' or 'the same "
                            f"{humanise(turn.ask)} as last time'), so it stays unknown. Give the other required values.")
                elif turn.ask:
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
            close = (" It sounds close to what the tools do (the same area), but none of them does it."
                     if turn.data.get("near_miss") else "")
            text = (f"Write a request that none of the tools can fulfil: you want to: "
                    f"{far.tool.get('description', far.name)}.{close} Do not ask for anything the tools can do.")
        else:
            text = intents.instruction(turn.data, pool)
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
        failure = sk.failure      # planned: the first tool response of its turn fails (failures.py)
        for t, instr in enumerate(instructions(self.pool, sk)):
            if t == 0:
                text, reason, _ = await self.user.request(tools, instr, knobs[1], key=(sid, "user", t), persona=sk.persona)
            else:
                text, reason, _ = await self.user.reply(tools, msgs, instr, key=(sid, "user", t), persona=sk.persona)
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
                        if failure is not None and failure["turn"] == t:
                            res = model_failure(failure, by_name[c["name"]], c["arguments"], res)
                            failure = None
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
                    key=(sid, "user", t, "answer", step), persona=sk.persona)
                if text is None:
                    return Dropped(reason, "user agent (answer)")
                msgs.append({"role": "user", "content": text})
            else:
                return Dropped("dialogs.max_steps", f"no answer within {self.d.max_steps} assistant steps")
        used = list(dict.fromkeys(c["name"] for m in msgs for c in m.get("tool_calls") or []))
        scenario = sk.scenario()
        if failure is not None:    # planned, but its turn made no call: nothing failed
            scenario.pop("tool_failure", None)
        rec = {"id": sid, "data_type": sk.data_type, "domain": sk.domain, "tools": tools,
               "messages": msgs, "apis_used": used,
               "voting": {"votes": self.d.votes, "decisions": len(votes),
                          "min_samples": min((v["samples"] for v in votes), default=0)},
               **({"scenario": scenario} if scenario else {}),
               "provenance": self.prov}
        reason = check(rec)
        return Dropped(reason, "model dialog failed the generation-time check") if reason else rec

    def render_many(self, pairs) -> list:
        """Dialogs for (item, knobs) pairs, made concurrently through the gateway (steer's render_many)."""
        return self.gw.run_all([self.dialog(it.sk, k) for it, k in pairs])

    def run(self, indices) -> tuple[list[dict], list[dict]]:
        """Records and drop records for these sample indices (steered when a scorer is set)."""
        items, failed = skeletons(self.pool, self.d, self.seed, indices)
        out = []
        for it, (rec, info) in zip(items, steer(items, self.render_many, lambda it, k, h: can_move(it.sk, k[0], k[1], h),
                                                self.scorer, self.bounds, self.d.steering.max_rounds)):
            if isinstance(rec, Dropped):
                failed.append((it.sk.index, rec.reason, rec.detail))
            else:
                out.append(with_steering(rec, info))
        return out, [drop_record(self.d.mix, self.seed, self.prov, i, r, d) for i, r, d in sorted(failed)]


def model_batches(pool: Pool, dialogs, seed: int, gw, provenance: dict, scorer, indices: range):
    """Batches of model-made dialogs as (lines, facts, drops, n), like the offline engine's; and a
    getter for the run's steering bounds. Without configured bounds they are calibrated once, before
    the first batch, on the calibration set every shard and batch shares (the first
    `calibration_samples` indices of the whole run): a shard that does not hold those samples pays
    for their dialogs once; the shard that does gets them from the response cache (llm.cache) in its batch."""
    runner = LLMDialogs(pool, dialogs, seed, gw, provenance)
    runner.bounds, runner.scorer = run_bounds(dialogs.steering, scorer, lambda: calibration_items(pool, dialogs, seed),
                                              runner.render_many)

    def batches():
        step = max(1, dialogs.batch)
        for lo in range(indices.start, indices.stop, step):
            span = range(lo, min(indices.stop, lo + step))
            recs, drops = runner.run(span)
            lines, fs = encode(recs)
            yield lines, fs, drops, len(span)

    return batches(), lambda: runner.bounds
