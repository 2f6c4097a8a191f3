"""The model path of the dialog stage against a real OpenAI-compatible server on 127.0.0.1.

The server's responder plays the three roles the way a chat model answers: JSON, sometimes inside a
``` fence or after a sentence of chatter. It reads only what the prompts give it (the instruction,
the transcript, the call's arguments), so a prompt that stops carrying what a role needs fails here.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from callforge.core import io, records
from callforge.core.config import compose, validate
from callforge.dialogs.llm_dialog import LLMDialogs
from callforge.dialogs.pool import Pool
from callforge.dialogs.prompts import PROMPT_VERSION
from callforge.dialogs.voting import vote
from callforge.core.gateway import Gateway
from conftest import run_stage, write_params, stage_record
from dialogs_fixtures import TOOLS, dialogs_config
from llm_server import FaultPlan, llm_overrides

REPO = Path(__file__).resolve().parents[1]
WEATHER = [t for t in TOOLS if t["domain"] == "Weather"]
CITIES = ("Oslo", "Lisbon", "Quito", "Hanoi")
MIX = {"single": 1.0, "parallel": 0.0, "dependent": 0.0, "non_tool": 1.0, "clarify": 1.0, "multi_turn": 0.0}


def shaped(obj, k: int) -> str:
    """How chat models hand back JSON: bare, fenced, or after a sentence."""
    text = json.dumps(obj)
    return (text, f"```json\n{text}\n```", f"Sure, here it is:\n{text}")[k % 3]


class FakeModel:
    """Answers as user, assistant or tool, from the prompt text alone."""

    def __init__(self):
        self.k = 0
        self.assistant_n: list[int] = []
        self.tweak = None          # optional: f(role, default_answer) -> answer, to inject bad output

    def __call__(self, req):
        self.k += 1
        # the role's prompt is the first user message (later ones are the gateway's repair requests)
        system, last = req["messages"][0]["content"], req["messages"][1]["content"]
        if system.startswith("You play the USER"):
            role, ans = "user", self.user(last)
        elif system.startswith("You simulate the execution"):
            role, ans = "tool", self.tool(last)
        else:
            role, ans = "assistant", self.assistant(system, last)
            self.assistant_n.append(int(req.get("n") or 1))
        if self.tweak:
            ans = self.tweak(role, ans, req)
        if role == "assistant" and not isinstance(ans, list):
            return [shaped(ans, self.k) if not isinstance(ans, str) else ans] * int(req.get("n") or 1)
        return ans if isinstance(ans, (str, list)) else shaped(ans, self.k)

    def user(self, text):
        city = CITIES[self.k % len(CITIES)]
        other = CITIES[(self.k + 1) % len(CITIES)]
        if "asked you a question" in text:
            asked = [x for x in text.split("\n") if x.startswith("ASSISTANT:")][-1]
            return {"message": "5 days." if "days" in asked else f"{city}, please."}
        if "thank the assistant" in text:
            return {"message": "Thanks, that's all!"}
        if "same thing again with a different `location`" in text:
            return {"message": f"And what about {city}?"}
        if "leave out its required `location`" in text:
            return {"message": "What's the weather like right now?" if "get_weather" in text else "Can I get a 3-day forecast?"}
        if "do not give its required `location`" in text:     # a near miss: named, never given
            return {"message": "What's the weather like at my usual location?" if "get_weather" in text
                    else "Can I get a 3-day forecast for my usual location?"}
        if "do not give its required `days`" in text:
            return {"message": f"What's the forecast for {city}, for my usual number of days?"}
        if "leave out its required `days`" in text:
            return {"message": f"What's the forecast for {city}?"}
        if "times with different values" in text:
            if "get_forecast" in text:
                return {"message": f"Give me the 2-day forecast for {city}, and the 2-day forecast for {other}."}
            return {"message": f"How's the weather in {city}, and how's the weather in {other}?"}
        if "each of these tools once" in text:
            return {"message": f"How's the weather in {city}, and the 3-day forecast for {other}?"}
        if "exactly one call of `get_forecast`" in text:
            return {"message": f"Give me the 4-day forecast for {city}."}
        if "exactly one call of `get_weather`" in text:
            return {"message": f"How's the weather in {city} at the moment?"}
        if "It needs no tool" in text:     # a non-tool intent: its gist, in the user's words
            gist = text.split(". It needs no tool")[0].removeprefix("Ask the assistant ")
            return {"message": f"Quick question: {gist}?"}
        return {"message": "What can you help me with?"}

    def assistant(self, system, text):
        lines = [x for x in text.split("\n") if x.startswith(("USER:", "ASSISTANT", "TOOL RESULT"))]
        thinking = {"tool_needed": True, "api": None, "required_arguments": "", "optional_arguments": "none"}
        last = lines[-1]
        prev = [x for x in lines if x.startswith("ASSISTANT called: ")]
        if last.startswith("TOOL RESULT") and '"retryable"' in last:      # a transient error: the same call again
            name, args = re.match(r"ASSISTANT called: ([\w.]+)\((\{.*?\})\)", prev[-1]).groups()
            return {"thinking": {**thinking, "api": name}, "action": "call",
                    "tool_calls": [{"name": name, "arguments": json.loads(args)}], "content": None}
        if last.startswith("TOOL RESULT") and '{"error"' in last:          # explain what went wrong
            return {"thinking": {**thinking, "tool_needed": False}, "action": "answer",
                    "content": "Sorry, that did not work: " + last.split(": ", 1)[1]}
        if last.startswith("TOOL RESULT"):
            return {"thinking": {**thinking, "tool_needed": False}, "action": "answer",
                    "content": "Here is what I found: " + last.split(": ", 1)[1]}
        # what this decision is about: the latest user message, plus the request it answers
        chunk = last[len("USER: "):]
        if len(lines) >= 3 and lines[-2].startswith("ASSISTANT:") and lines[-2].endswith("?"):
            chunk = lines[-3][len("USER: "):] + " " + chunk
        if "Thanks" in chunk or "Quick question" in chunk or "help me with" in chunk:
            answer = ("You're welcome!" if "Thanks" in chunk else "Here is the answer to that." if "Quick" in chunk
                      else "I can check current weather and forecasts.")
            return {"thinking": {**thinking, "tool_needed": False}, "action": "answer", "content": answer}
        prev_name, prev_args = (re.match(r"ASSISTANT called: ([\w.]+)\((\{.*?\})\)", prev[-1]).groups()
                                if prev else (None, "{}"))
        calls = []
        for clause in re.split(r",? and ", chunk):
            name = ("get_forecast" if "forecast" in clause else "get_weather" if "weather" in clause
                    else prev_name or "get_weather")     # "and what about Hanoi?" repeats the last call
            city = next((c for c in CITIES if c in clause), None)
            days = re.search(r"(\d+)[- ]day", clause) or re.search(r"(\d+)[- ]day", chunk)
            if city is None:
                continue
            if name == "get_forecast" and days is None and name == prev_name:
                days = re.search(r"(\d+)", str(json.loads(prev_args).get("days", "")))
            if name == "get_forecast" and days is None:
                return {"thinking": {**thinking, "api": name, "required_arguments": "days: missing"},
                        "action": "ask", "content": "For how many days?"}
            args = {"location": city, **({"days": int(days.group(1))} if name == "get_forecast" else {})}
            calls.append({"name": name, "arguments": args})
        if not calls:
            name = "get_forecast" if "forecast" in chunk else "get_weather"
            return {"thinking": {**thinking, "api": name, "required_arguments": "location: missing"},
                    "action": "ask", "content": "Which city do you mean?"}
        return {"thinking": {**thinking, "api": calls[0]["name"], "required_arguments": "location (user)"},
                "action": "call", "tool_calls": calls, "content": None}

    def tool(self, text):
        args = json.loads(text.rsplit("Call arguments:\n", 1)[1])
        if "days" in args:
            return {"result": {"location": args["location"], "days": [{"date": "2025-03-01", "high": 12.0, "low": 4.5}]}}
        return {"result": {"location": args["location"], "temperature": 14.5, "conditions": "light rain"}}


@pytest.fixture
def model(llm_server):
    fake = FakeModel()
    llm_server.set_responder(fake)
    return fake


def _runner(llm_server, tmp_path, n=18, votes=3, mix=MIX, **over):
    """The model path's runner; tool failures off unless asked for (their tests are below)."""
    cfg = validate(compose(llm_overrides(llm_server) + [f"cache_dir={tmp_path / 'cache'}"], root=REPO))
    gw = Gateway(cfg.llm, stage="dialogs", cache_dir=tmp_path / "cache", seed=0)
    over = {"tool_failures__share": 0.0, **over}
    s = dialogs_config(samples=n, mix=mix, votes=votes, steering__scorer="none", **over)
    prov = {"provider": "compatible", "model": "test-model", "prompt_version": PROMPT_VERSION, "seed": 0, "stage": "dialogs"}
    return LLMDialogs(Pool(WEATHER), s, 0, gw, prov), gw


def test_model_path_makes_valid_dialogs_of_each_type(llm_server, model, tmp_path):
    runner, gw = _runner(llm_server, tmp_path)
    try:
        recs, drops = runner.run(range(18))
    finally:
        gw.close()
    assert not drops, drops
    assert {r["data_type"] for r in recs} == {"single", "non_tool", "clarify"}
    for r in recs:
        assert records.validate("sample", r) == []
        assert r["provenance"]["provider"] == "compatible" and r["provenance"]["prompt_version"] == PROMPT_VERSION
        assert r["voting"]["votes"] == 3 and r["voting"]["min_samples"] == 3
        for m in r["messages"]:
            if m["role"] == "assistant":
                assert m["thinking"].startswith("Tool needed: ")
        if r["data_type"] == "clarify":
            answer = r["messages"][2]["content"]
            call = r["messages"][3]["tool_calls"][0]
            supplied = [str(v) for v in call["arguments"].values() if str(v) in answer]
            assert supplied and not any(v in r["messages"][0]["content"] for v in supplied)
        if r["data_type"] == "single":
            res = json.loads(r["messages"][2]["content"])
            assert res["location"] == r["messages"][1]["tool_calls"][0]["arguments"]["location"]
    assert set(model.assistant_n) == {1}   # every decision was sampled three times, by three requests


def test_model_path_makes_parallel_and_multi_turn_dialogs(llm_server, model, tmp_path):
    mix = {"single": 0.0, "parallel": 1.0, "dependent": 0.0, "non_tool": 0.0, "clarify": 0.0, "multi_turn": 1.0}
    runner, gw = _runner(llm_server, tmp_path, n=16, mix=mix)
    try:
        recs, drops = runner.run(range(16))
    finally:
        gw.close()
    assert not drops, drops
    assert {r["data_type"] for r in recs} == {"parallel", "multi_turn"}
    for r in recs:
        assert records.validate("sample", r) == []
        if r["data_type"] == "parallel":
            step = next(m for m in r["messages"] if m.get("tool_calls"))
            assert len(step["tool_calls"]) == 2
            assert [m["tool_call_id"] for m in r["messages"] if m["role"] == "tool"] == [c["id"] for c in step["tool_calls"]]
        else:
            assert sum(m["role"] == "user" for m in r["messages"]) >= 2


def _drops_with(llm_server, model, tmp_path, tweak, n=9):
    model.tweak = tweak
    runner, gw = _runner(llm_server, tmp_path, n=n)
    try:
        return runner.run(range(n))
    finally:
        gw.close()


def test_disagreeing_votes_drop_the_sample(llm_server, model, tmp_path):
    def tweak(role, ans, req):   # a sampling model unsure of the city: each vote (its own seed) names another
        if role == "assistant" and ans.get("action") == "call":
            a = ans["tool_calls"][0]
            return {**ans, "tool_calls": [{"name": a["name"], "arguments": {**a["arguments"],
                                                                            "location": f"{a['arguments']['location']} {req['seed']}"}}]}
        return ans
    recs, drops = _drops_with(llm_server, model, tmp_path, tweak)
    assert drops and {d["reason"] for d in drops} == {"dialogs.vote_disagreement"}
    assert all(not any(m.get("tool_calls") for m in r["messages"]) for r in recs)   # only non-tool ones survive


def test_votes_that_differ_only_in_surface_form_agree(llm_server, model, tmp_path):
    forms_seen: dict[str, set] = {}

    def tweak(role, ans, req):   # the vote's seed picks the surface form (any may win: each passes the checks)
        if role == "assistant" and ans.get("action") == "call":
            a = ans["tool_calls"][0]
            forms = (a["arguments"]["location"], a["arguments"]["location"].upper(), a["arguments"]["location"].lower())
            k = req["seed"] % 3
            forms_seen.setdefault(json.dumps(req["messages"]), set()).add(k)
            return {**ans, "tool_calls": [{"name": a["name"], "arguments": {**a["arguments"], "location": forms[k]}}]}
        return ans
    recs, drops = _drops_with(llm_server, model, tmp_path, tweak)
    assert not drops and any(r["data_type"] == "single" for r in recs)
    assert any(len(k) > 1 for k in forms_seen.values()), "some decision's votes must really differ in form"
    padded = [{"action": "call", "tool_calls": [{"name": "get_weather", "arguments": {"location": f}}]}
              for f in ("Oslo", "  OSLO ", "oslo")]
    assert vote(padded)[1]["agreement"] == 1.0    # spaces fold too (a padded winner would fail the clarify check)


def _role(req) -> str:
    system = req["messages"][0]["content"]
    return ("user" if system.startswith("You play the USER") else
            "tool" if system.startswith("You simulate the execution") else "assistant")


def test_votes_of_one_decision_carry_distinct_seeds(llm_server, model, tmp_path):
    runner, gw = _runner(llm_server, tmp_path, n=9, votes=3)
    try:
        recs, drops = runner.run(range(9))
        first = gw.seed_for(("dlg-00000000", "assistant", 0, 0, "vote", 0))
    finally:
        gw.close()
    assert recs and not drops, drops
    decisions: dict[str, list[int]] = {}
    for req in llm_server.requests:
        if _role(req) == "assistant":
            decisions.setdefault(json.dumps(req["messages"]), []).append(req["seed"])
    assert sum(map(len, decisions.values())) == 3 * sum(r["voting"]["decisions"] for r in recs)
    for seeds in decisions.values():    # one prompt: the 3 votes of a decision (or of several samples' alike ones)
        assert len(seeds) % 3 == 0 and len(set(seeds)) == len(seeds), seeds
    assert first in {x for seeds in decisions.values() for x in seeds}
    assert gw.usage()["requests:assistant"] == 3 * sum(r["voting"]["decisions"] for r in recs)


def test_samples_sending_the_same_prompt_do_not_collapse_and_rerun_from_cache(llm_server, model, tmp_path):
    """Non-tool samples often send the very same user prompt (the same instruction, tools and wording).
    A model that samples (here: its answer depends on the seed) must then still write different
    requests for them; a re-run of the same samples replays every answer from the cache."""
    def tweak(role, ans, req):
        return {"message": f"{ans['message']} (ticket {req['seed']})"} if role == "user" else ans
    model.tweak = tweak
    mix = {**{k: 0.0 for k in MIX}, "non_tool": 1.0}
    same = {"personas__share": 0.0, "non_tool_kinds": {"capability": 1.0}}   # prompts that often coincide
    runner, gw = _runner(llm_server, tmp_path, n=12, mix=mix, **same)
    try:
        recs, drops = runner.run(range(12))
        seed_of = {gw.seed_for((r["id"], "user", 0)): r["id"] for r in recs}
    finally:
        gw.close()
    assert len(recs) == 12 and not drops, drops
    same_prompt: dict[str, list[str]] = {}
    for req in llm_server.requests:
        if _role(req) == "user" and req["seed"] in seed_of:
            same_prompt.setdefault(json.dumps(req["messages"]), []).append(seed_of[req["seed"]])
    shared = [ids for ids in same_prompt.values() if len(ids) > 1]
    assert shared, "the premise: some samples send an identical user prompt"
    first_user = {r["id"]: r["messages"][0]["content"] for r in recs}
    for ids in shared:
        assert len({first_user[i] for i in ids}) == len(ids), "samples with one prompt collapsed into one request"
    calls = llm_server.calls

    runner2, gw2 = _runner(llm_server, tmp_path, n=12, mix=mix, **same)   # the same run again, on the same cache
    try:
        again, _ = runner2.run(range(12))
    finally:
        gw2.close()
    assert llm_server.calls == calls, "a re-run of the same samples must be served from the cache"
    assert json.dumps(again) == json.dumps(recs)
    assert gw2.usage()["cache_hits"] > 0 and "calls" not in gw2.usage()


@pytest.mark.parametrize("kind, reason", [
    ("prose", "llm.bad_json"),
    ("unknown_tool", "dialogs.unknown_tool"),
    ("bad_arguments", "dialogs.invalid_arguments"),
    ("bad_result", "llm.schema_invalid"),
    ("no_call", "dialogs.type_mismatch"),
])
def test_malformed_answers_are_dropped_with_reasons(llm_server, model, tmp_path, kind, reason):
    def tweak(role, ans, req):
        if role == "assistant" and isinstance(ans, dict) and ans.get("action") == "call":
            if kind == "prose":
                return "I would call the weather tool for Oslo."
            if kind == "unknown_tool":
                return {**ans, "tool_calls": [{"name": "get_stock_price", "arguments": {"ticker": "X"}}]}
            if kind == "bad_arguments":
                return {**ans, "tool_calls": [{"name": ans["tool_calls"][0]["name"], "arguments": {"units": "kelvin"}}]}
            if kind == "no_call":
                return {"action": "answer", "content": "It is probably sunny."}
        if role == "tool" and kind == "bad_result":
            return {"result": {"temperature": "warm"}}
        return ans
    recs, drops = _drops_with(llm_server, model, tmp_path, tweak)
    tool_types = {"single", "clarify"}
    assert drops and {d["reason"] for d in drops} == {reason}
    assert {d["data_type"] for d in drops} <= tool_types
    assert all(r["data_type"] == "non_tool" for r in recs)
    assert len(recs) + len(drops) == 9


def test_stage_runs_the_model_path_through_faults(project, llm_server, model):
    llm_server.set_responder(FaultPlan(model, {"server_error": 0.08, "malformed": 0.05, "rate_limit": 0.05}))
    io.write_jsonl(project / "data" / "apis.jsonl", WEATHER)
    over = ["dialogs.samples=12", "dialogs.votes=2", "dialogs.steering.calibration_samples=4",
            "dialogs.mix.parallel=0", "dialogs.mix.dependent=0", "dialogs.mix.multi_turn=0"]
    # No timeout fault here: a generous timeout keeps a loaded machine from adding unplanned faults, which
    # would leave different samples uncached (a failed request is not cached) and the re-run below would ask again.
    write_params(project, llm_overrides(llm_server, **{"llm.timeout_s": 30.0}) + over)
    run_stage("dialogs", project)
    rows = io.read_jsonl(project / "data" / "dialogs.jsonl")
    drops = io.read_jsonl(project / "data" / "dialogs_dropped.jsonl")
    m = stage_record(project, "dialogs")
    assert len(rows) + len(drops) == 12 and m["reconciled"] and len(rows) >= 9
    assert all(r["provenance"]["model"] == "test-model" for r in rows)
    assert m["voting"]["mode"] == "model" and m["voting"]["votes_per_decision"] == 2
    assert m["tokens"]["prompt_tokens"] > 0 and m["tokens"]["completion_tokens"] > 0
    assert m["steering"]["scored"] == len(rows)
    calls_before = llm_server.calls
    run_stage("dialogs", project)            # the response cache answers a re-run
    assert llm_server.calls == calls_before
    assert io.read_jsonl(project / "data" / "dialogs.jsonl") == rows


def _user_prompts(llm_server) -> list[dict]:
    return [req for req in llm_server.requests if _role(req) == "user"]


def test_the_persona_conditions_the_model_user(llm_server, model, tmp_path):
    """Every user-agent prompt of a sample carries its persona (who, why, register) to the server."""
    runner, gw = _runner(llm_server, tmp_path, n=12, personas__share=1.0)
    try:
        recs, drops = runner.run(range(12))
        seeds = {gw.seed_for((r["id"], "user", 0)): r for r in recs}
    finally:
        gw.close()
    assert recs and not drops, drops
    seen = 0
    for req in _user_prompts(llm_server):
        r = seeds.get(req["seed"])
        if r is None:
            continue
        p = r["scenario"]["persona"]
        system = req["messages"][0]["content"]
        assert f"Who you are: {p['who']}, {p['why']}." in system and f"in a {p['register']} register" in system
        seen += 1
    assert seen == len(recs)
    assert len({r["scenario"]["persona"]["who"] for r in recs}) > 3
    runner, gw = _runner(llm_server, tmp_path / "plain", n=4, personas__share=0.0)
    try:
        before = len(llm_server.requests)
        runner.run(range(4))
    finally:
        gw.close()
    assert not any("Who you are:" in req["messages"][0]["content"] for req in _user_prompts(llm_server)[before:])


def test_non_tool_intents_give_each_sample_its_own_instruction(llm_server, model, tmp_path):
    mix = {**{k: 0.0 for k in MIX}, "non_tool": 1.0}
    runner, gw = _runner(llm_server, tmp_path, n=16, mix=mix, personas__share=0.0,
                         non_tool_kinds={"arithmetic": 1.0, "conversion": 1.0, "dates": 1.0})
    try:
        recs, drops = runner.run(range(16))
    finally:
        gw.close()
    assert len(recs) == 16 and not drops, drops
    asks = [req["messages"][1]["content"] for req in _user_prompts(llm_server)]
    assert len(set(asks)) >= 14 and all("It needs no tool" in a for a in asks)
    assert not any(m.get("tool_calls") for r in recs for m in r["messages"])


def test_near_misses_reach_the_model_user(llm_server, model, tmp_path):
    """A near-miss clarification names the missing value without giving it; the assistant still asks."""
    mix = {**{k: 0.0 for k in MIX}, "clarify": 1.0}
    runner, gw = _runner(llm_server, tmp_path, n=8, mix=mix, near_miss__clarify=1.0)
    try:
        recs, drops = runner.run(range(8))
    finally:
        gw.close()
    assert recs and not drops, drops
    asks = [req["messages"][1]["content"] for req in _user_prompts(llm_server)
            if "do not give its required" in req["messages"][1]["content"]]
    assert len(asks) == len(recs) and all("my usual" in a for a in asks)
    for r in recs:
        assert r["scenario"]["near_miss"] == "unstated_value"
        assert not r["messages"][1].get("tool_calls") and r["messages"][1]["content"].endswith("?")


def test_failed_tool_responses_reach_the_model_and_are_handled(llm_server, model, tmp_path):
    """The planned failure answers the first call of its turn with an error; the model retries a
    transient one and explains the rest; the dialogs pass the same checks, labels unchanged."""
    mix = {**{k: 0.0 for k in MIX}, "single": 1.0, "clarify": 1.0}
    runner, gw = _runner(llm_server, tmp_path, n=16, mix=mix, tool_failures__share=1.0,
                         tool_failures__kinds={"retry": 1.0, "explain": 1.0})
    try:
        recs, drops = runner.run(range(16))
    finally:
        gw.close()
    assert len(recs) == 16 and not drops, drops
    handled = Counter()
    for r in recs:
        plan = r["scenario"]["tool_failure"]
        tool_msgs = [(k, m) for k, m in enumerate(r["messages"]) if m["role"] == "tool"]
        k, first = tool_msgs[0]
        err = json.loads(first["content"])["error"]
        nxt = r["messages"][k + 1]
        if plan["handling"] == "retry":
            assert err["code"] == "unavailable" and err["retryable"]
            assert nxt["tool_calls"][0]["name"] == first["name"] and len(tool_msgs) == 2
            assert "error" not in json.loads(tool_msgs[1][1]["content"])
        else:
            assert not nxt.get("tool_calls") and "did not work" in nxt["content"] and len(tool_msgs) == 1
        assert r["apis_used"] == [first["name"]]
        handled[plan["handling"]] += 1
    assert set(handled) == {"retry", "explain"}
