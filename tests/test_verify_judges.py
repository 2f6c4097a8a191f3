"""The model layer against a real OpenAI-compatible server on 127.0.0.1: verdicts parsed and applied,
bad verdicts and failing servers reject with a reason (never a crash, never a pass), judges switch off,
the judge writes its reasons before its verdict, the repetition judge, and judge=offline reports "not run"."""
from __future__ import annotations

import json

from callforge.core.config import compose, validate
from callforge.core.gateway import Gateway
from callforge.core.parallel import ordered_map
from callforge.verify import judges as J
from callforge.verify.judges import JUDGES
from callforge.verify.runner import verify
from llm_server import JUDGE_MODEL, Fault, judge_overrides
from verify_samples import good, non_tool, parallel, verify_config

ALL = list(JUDGES)


def gateway(server, tmp_path, **extra) -> Gateway:
    """The judge's gateway, built as the stage builds it: from the `judge` section (the generator stays offline)."""
    cfg = validate(compose(judge_overrides(server, **{"judge.max_tokens": 256, **extra})))
    assert cfg.llm.provider == "offline"
    return Gateway(cfg.judge, stage="verify", cache_dir=tmp_path / "cache", seed=cfg.seed)


def judge_of(req: dict) -> str:
    text = req["messages"][1]["content"]     # the question; repair turns come after it
    return next(name for name, j in JUDGES.items() if j.question in text)


def lines(*samples) -> list[str]:
    return [json.dumps(s, ensure_ascii=False) for s in samples]


def run(server, tmp_path, samples, names=tuple(n for n in ALL if n != "repetition"), **extra):
    gw = gateway(server, tmp_path, **extra)
    try:
        vc = verify_config(*(f"judges.{n}={n in names}" for n in JUDGES))
        return verify(lines(*samples), vc, map_fn=ordered_map, gateway=gw)
    finally:
        gw.close()


def test_verdicts_are_parsed_and_a_fail_rejects_with_its_reason(llm_server, tmp_path):
    def respond(req):
        name = judge_of(req)
        if name == "hallucination" and "Oslo" in req["messages"][1]["content"]:
            return json.dumps({"verdict": "fail", "reasons": ["book_hotel.guests=Bo Chen: the user never named Bo"]})
        return json.dumps({"verdict": "pass", "reasons": []})
    llm_server.set_responder(respond)
    verified, rejected, stats = run(llm_server, tmp_path, [good("g"), parallel("p"), non_tool("n")])

    assert [s["id"] for s in verified] == ["g", "n"]
    assert [r["id"] for r in rejected] == ["p"]
    assert rejected[0]["reasons"] == ["judge.hallucinated_value"]
    assert "the user never named Bo" in rejected[0]["details"][0]
    # hallucination and fidelity are asked only where there are calls / results: not of the non-tool sample
    asked = sorted(judge_of(r) for r in llm_server.requests)
    assert asked == sorted(["hallucination"] * 2 + ["task_consistency"] * 3 + ["response_fidelity"] * 2)
    h = stats["checks"]["judge.hallucination"]
    assert (h["status"], h["checked"], h["passed"]) == ("run", 2, 1)
    assert stats["layers"]["model"] == {"status": "run", "checked": 3, "passed": 2, "pass_rate": round(2 / 3, 6)}
    assert stats["drop_counts"] == {"judge.hallucinated_value": 1}
    # judges see the dialog and the tool definitions, and are asked deterministically, by the judge's model
    req = llm_server.requests[0]
    assert "get_weather" in req["messages"][-1]["content"] and req["temperature"] == 0.0
    assert req["response_format"]["type"] == "json_schema" and req["response_format"]["json_schema"]["strict"] is True
    assert req["model"] == JUDGE_MODEL and req["max_tokens"] == 256


def test_malformed_verdicts_reject_as_unparseable_not_crash(llm_server, tmp_path):
    def respond(req):
        name = judge_of(req)
        if name == "task_consistency":
            return "Looks fine to me! {verdict: pass"          # not JSON, every time (repairs included)
        if name == "response_fidelity":
            return json.dumps({"verdict": "maybe", "reasons": []})   # JSON, but not a verdict
        return json.dumps({"verdict": "pass", "reasons": []})
    llm_server.set_responder(respond)
    verified, rejected, stats = run(llm_server, tmp_path, [good("g")])
    assert verified == []
    assert rejected[0]["reasons"] == ["judge.unparseable"]
    assert {d.split(": ")[1] for d in rejected[0]["details"]} == {"task_consistency", "response_fidelity"}
    assert stats["checks"]["judge.task_consistency"]["passed"] == 0
    assert stats["checks"]["judge.hallucination"]["passed"] == 1


def test_a_server_that_keeps_failing_rejects_as_unavailable(llm_server, tmp_path):
    llm_server.set_responder(lambda req: Fault(status=500))
    verified, rejected, stats = run(llm_server, tmp_path, [good("g")], names=["task_consistency"],
                                    **{"judge.max_retries": 1})
    assert verified == [] and rejected[0]["reasons"] == ["judge.unavailable"]
    assert "llm.http_500" in rejected[0]["details"][0]


def test_judges_switch_off_one_by_one(llm_server, tmp_path):
    llm_server.set_responder(lambda req: json.dumps({"verdict": "pass", "reasons": []}))
    verified, rejected, stats = run(llm_server, tmp_path, [good("g"), parallel("p")], names=["response_fidelity"])
    assert len(verified) == 2
    assert {judge_of(r) for r in llm_server.requests} == {"response_fidelity"}
    assert stats["checks"]["judge.hallucination"] == {"group": "model", "status": "off"}
    assert stats["checks"]["judge.response_fidelity"]["checked"] == 2


def test_rule_failures_are_not_sent_to_the_judges(llm_server, tmp_path):
    llm_server.set_responder(lambda req: json.dumps({"verdict": "pass", "reasons": []}))
    bad = good("bad")
    bad["messages"][1]["tool_calls"][0]["arguments"]["days"] = "3"
    verified, rejected, stats = run(llm_server, tmp_path, [bad, good("ok")], names=["task_consistency"])
    assert [s["id"] for s in verified] == ["ok"] and rejected[0]["reasons"] == ["exec.wrong_type"]
    assert llm_server.calls == 1


def test_offline_reports_not_run_and_never_a_pass():
    verified, rejected, stats = verify(lines(good("g"), non_tool("n")), verify_config(), map_fn=ordered_map,
                                       offline=True)
    assert len(verified) == 2            # the rule layer passed them; the model layer did not
    model = stats["layers"]["model"]
    assert model["status"] == "not run" and "passed" not in model and "pass_rate" not in model
    for name in ALL:                     # a judge switched off by default says so
        status = "not run" if getattr(verify_config().judges, name) else "off"
        assert stats["checks"][f"judge.{name}"] == {"group": "model", "status": status}
    assert stats["checks"]["judge.hallucination"]["status"] == "not run" and "judge_key_order" not in stats


def test_the_judge_is_asked_for_reasons_first_and_its_key_order_is_counted(llm_server, tmp_path):
    """Reasons first, verdict last: in the requested format (prompt and schema) and in what is counted."""
    def respond(req):
        verdict_first = judge_of(req) == "task_consistency"     # this judge ignores the requested order
        body = {"verdict": "pass", "reasons": []} if verdict_first else {"reasons": [], "verdict": "pass"}
        return json.dumps(body)
    llm_server.set_responder(respond)
    verified, rejected, stats = run(llm_server, tmp_path, [good("g"), non_tool("n")])
    assert len(verified) == 2                   # the order is asked for, not enforced: a verdict is a verdict
    system = llm_server.requests[0]["messages"][0]["content"]
    assert system.index('"reasons"') < system.index('"verdict"') < system.index("Then the verdict, last")
    assert list(J.VERDICT_SCHEMA["properties"]) == ["reasons", "verdict"] == J.VERDICT_SCHEMA["required"]
    # good: hallucination, task, fidelity; non_tool: task only -> 2 answers verdict first, 2 reasons first
    assert stats["judge_key_order"] == {"reasons_first": 2, "verdict_first": 2}


def test_a_fail_written_reasons_first_keeps_its_reasons(llm_server, tmp_path):
    llm_server.set_responder(lambda req: json.dumps(
        {"reasons": ["the answer says 18.5 °C, the tool said 12"], "verdict": "fail"}
        if judge_of(req) == "response_fidelity" else {"reasons": [], "verdict": "pass"}))
    verified, rejected, stats = run(llm_server, tmp_path, [good("g")])
    assert rejected[0]["reasons"] == ["judge.response_mismatch"]
    assert rejected[0]["details"] == ["judge.response_mismatch: response_fidelity: the answer says 18.5 °C, the tool said 12"]


def test_the_repetition_judge_is_optional_and_rejects_degenerate_text(llm_server, tmp_path):
    """Off by default (the rule layer's repetition checks cost nothing); on, it is asked of every sample."""
    assert verify_config().judges.repetition is False
    def respond(req):
        if judge_of(req) == "repetition" and "octopus" in req["messages"][1]["content"]:
            return json.dumps({"reasons": ["'three hearts' comes back as filler"], "verdict": "fail"})
        return json.dumps({"reasons": [], "verdict": "pass"})
    llm_server.set_responder(respond)
    verified, rejected, stats = run(llm_server, tmp_path, [good("g"), non_tool("n")], names=["repetition"])
    assert [s["id"] for s in verified] == ["g"]
    assert rejected[0]["reasons"] == ["judge.degenerate_text"] and "filler" in rejected[0]["details"][0]
    assert {judge_of(r) for r in llm_server.requests} == {"repetition"} and llm_server.calls == 2
    assert stats["checks"]["judge.repetition"]["checked"] == 2
