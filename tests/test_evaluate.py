"""Evaluation end to end through a real OpenAI-compatible HTTP server on 127.0.0.1.

The server's responder plays two "models": `tuned` answers each BFCL question with a correct call
list taken from the answer key (printed in Python call syntax), `base` answers in prose. The code
under test (prompt building, gateway, parsing, checking, scoring, delta) is all real.
"""
from __future__ import annotations

import json

from callforge import bfcl
from callforge.calls import print_calls
from callforge.evaluate import delta, evaluate, judge, summarise
from callforge.inference import ServerGenerator, parse_answer


def first_calls(ground_truth):
    calls = []
    for g in ground_truth:
        (name, params), = g.items()
        args = {}
        for k, opts in params.items():
            v = next((o for o in opts if o != ""), None)
            if v is not None and not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict)):
                args[k] = v
            elif v is not None and isinstance(v, dict):
                args[k] = {kk: vv[0] for kk, vv in v.items() if vv and vv[0] != ""}
        calls.append({"name": name, "arguments": args})
    return calls


def test_base_vs_finetuned_through_a_server(shared_bfcl, llm_server, tmp_path):
    bench = bfcl.load_benchmark(["simple_python", "parallel", "irrelevance"], per_category=6, seed=5, source=shared_bfcl)
    entries = [e for v in bench.values() for e in v]
    by_question = {e.messages[-1]["content"]: e for e in entries}

    def responder(req):
        user = req["messages"][-1]["content"]
        assert req["messages"][0]["role"] == "system" and "Functions:" in req["messages"][0]["content"]
        e = by_question[user]
        if req["model"] == "tuned" and e.ground_truth:
            return print_calls(first_calls(e.ground_truth))
        return "I would need to think about that."

    llm_server.set_responder(responder)
    gens = {name: ServerGenerator(llm_server.base_url, model, tmp_path / "cache", max_retries=1, timeout_s=10)
            for name, model in (("base", "plain"), ("finetuned", "tuned"))}
    report, records = evaluate(gens, entries)
    for g in gens.values():
        g.close()
    base, tuned = report["models"]["base"], report["models"]["finetuned"]
    # prose passes irrelevance only; the key's own calls pass everything
    assert base["categories"]["irrelevance"]["accuracy"] == 1.0
    assert base["categories"]["simple_python"]["accuracy"] == 0.0 and base["reasons"] == {"unparsed": 12}
    assert tuned["overall"]["accuracy"] == 1.0, [r for r in records["finetuned"] if not r["ok"]]
    assert report["delta"]["categories"] == {"irrelevance": 0.0, "parallel": 1.0, "simple_python": 1.0}
    assert report["delta"]["overall"] == round(1 - 6 / 18, 4)
    assert llm_server.calls == 36
    json.dumps(report)   # a metrics file


def test_parse_answer_forms():
    assert parse_answer('[f(a=1), g.h(b="x")]').calls == [{"name": "f", "arguments": {"a": 1}},
                                                         {"name": "g.h", "arguments": {"b": "x"}}]
    assert parse_answer("```python\n[f(a=1)]\n```").calls == [{"name": "f", "arguments": {"a": 1}}]
    p = parse_answer("Sorry, I cannot help with that.")
    assert p.calls == [] and p.error == "call.syntax"
    assert parse_answer(None).error == "answer.none" and parse_answer("  ").error == "answer.empty"
    assert parse_answer("[f(x=__import__('os'))]").error == "call.bad_literal"   # never evaluated


def test_judge_and_summary_on_hand_made_entries():
    tool = {"name": "f", "parameters": {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}}}
    e_call = bfcl.Entry("a", "simple", [{"role": "user", "content": "?"}], [tool], [{"f": {"x": [1]}}])
    e_none = bfcl.Entry("b", "irrelevance", [{"role": "user", "content": "?"}], [tool], None)
    recs = [judge(e_call, "[f(x=1)]"), judge(e_call, "[f(x=2)]"), judge(e_call, "no"), judge(e_none, "no"),
            judge(e_none, "[f(x=1)]")]
    assert [r["ok"] for r in recs] == [True, False, False, True, False]
    assert [r["reason"] for r in recs] == ["ok", "value_not_allowed", "unparsed", "ok", "unexpected_call"]
    s = summarise(recs)
    assert s["categories"] == {"irrelevance": {"n": 2, "correct": 1, "accuracy": 0.5},
                               "simple": {"n": 3, "correct": 1, "accuracy": 0.3333}}
    assert s["overall"]["accuracy"] == 0.4 and s["overall"]["macro"] == round((0.5 + 0.3333) / 2, 4)
    d = delta(s, summarise(recs[:1] + recs[3:4]))
    assert d["categories"] == {"irrelevance": 0.5, "simple": 0.6667}
