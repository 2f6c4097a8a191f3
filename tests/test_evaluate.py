"""Evaluation end to end through a real OpenAI-compatible HTTP server on 127.0.0.1.

The server's responder plays two "models": `tuned` answers each BFCL question with a correct call
list taken from the answer key (printed in Python call syntax), `base` answers in prose. The code
under test (prompt building, gateway, parsing, checking, scoring, delta) is all real.
"""
from __future__ import annotations

import json

from callforge.calling import bfcl
from callforge.calling.calls import print_calls
from callforge.core.config import compose, validate
from callforge.evaluate.accuracy import delta, evaluate, judge, summarise
from callforge.evaluate.intervals import mcnemar_exact, mean_interval, paired, paired_mean, t_quantile, wilson
from callforge.evaluate.inference import ServerGenerator, parse_answer


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
    ev = validate(compose([f"evaluate.server.base_url={llm_server.base_url}", "evaluate.server.max_retries=1",
                           "evaluate.server.timeout_s=10"])).evaluate
    gens = {name: ServerGenerator(ev.server, model, max_tokens=ev.max_new_tokens, cache_dir=tmp_path / "cache", seed=0)
            for name, model in (("base", "plain"), ("finetuned", "tuned"))}
    report, records = evaluate(gens, entries)
    for g in gens.values():
        g.close()
    base, tuned = report["models"]["base"], report["models"]["finetuned"]
    # prose passes irrelevance only; the key's own calls pass everything
    assert base["categories"]["irrelevance"]["accuracy"] == 1.0
    assert base["categories"]["simple_python"]["accuracy"] == 0.0 and base["reasons"] == {"unparsed": 12}
    assert tuned["overall"]["accuracy"] == 1.0, [r for r in records["finetuned"] if not r["ok"]]
    assert {c: d["delta"] for c, d in report["delta"]["categories"].items()} == \
        {"irrelevance": 0.0, "parallel": 1.0, "simple_python": 1.0}
    overall = report["delta"]["overall"]
    assert overall["delta"] == round(1 - 6 / 18, 4) and overall["n"] == 18
    assert overall["tuned_only"] == 12 and overall["base_only"] == 0 and overall["significant"]
    assert overall["ci95"][0] > 0 and report["delta"]["categories"]["irrelevance"]["significant"] is False
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
    assert s["categories"] == {"irrelevance": {"n": 2, "correct": 1, "accuracy": 0.5, "ci95": wilson(1, 2)},
                               "simple": {"n": 3, "correct": 1, "accuracy": 0.3333, "ci95": wilson(1, 3)}}
    assert s["overall"]["accuracy"] == 0.4 and s["overall"]["macro"] == round((0.5 + 0.3333) / 2, 4)
    # the same five questions answered by a model that gets every one right
    perfect = [dict(r, ok=True) for r in recs]
    d = delta(recs, perfect, s, summarise(perfect))
    assert {c: x["delta"] for c, x in d["categories"].items()} == {"irrelevance": 0.5, "simple": 0.6667}
    assert d["overall"]["tuned_only"] == 3 and d["overall"]["base_only"] == 0 and d["macro"] == 0.5834   # 1.0 - (0.5 + 0.3333) / 2, from the rounded accuracies


def test_wilson_interval_matches_the_formula_by_hand():
    # 2 of 14: p = 1/7, z = 1.96: centre = (p + z^2/28) / (1 + z^2/14), half = z*sqrt(p(1-p)/14 + z^2/784) / (1 + z^2/14)
    assert wilson(2, 14) == [0.0401, 0.3994]
    assert wilson(0, 2) == [0.0, 0.6576]          # no zero-width interval at 0 correct
    assert wilson(10, 10) == [0.7225, 1.0]
    assert wilson(0, 0) is None


def test_paired_difference_by_hand():
    # 20 questions: 8 both right, 5 only tuned right, 1 only base right, 6 neither
    base = [True] * 8 + [False] * 5 + [True] + [False] * 6
    tuned = [True] * 8 + [True] * 5 + [False] + [False] * 6
    d = paired(base, tuned)
    assert d["delta"] == 0.2 and d["tuned_only"] == 5 and d["base_only"] == 1
    # exact McNemar: 2 * P(X <= 1), X ~ Bin(6, 1/2) = 2 * (1 + 6) / 64
    assert d["p_value"] == round(2 * 7 / 64, 4) and d["significant"] is False
    # hybrid score interval from the two Wilson intervals, tuned 13/20: [0.4329, 0.8188], base 9/20:
    # [0.2582, 0.6579], and phi = (8*6 - 5*1) / sqrt(13*7*9*11) = 0.4530; by hand, from these 4-digit figures:
    # low = 0.2 - sqrt(0.2171^2 - 2*0.4530*0.2171*0.2079 + 0.2079^2) = -0.0226,
    # high = 0.2 + sqrt(0.1688^2 - 2*0.4530*0.1688*0.1918 + 0.1918^2) = 0.3898 (unrounded: -0.0224, 0.3896)
    assert wilson(13, 20) == [0.4329, 0.8188] and wilson(9, 20) == [0.2582, 0.6579]
    assert abs(d["ci95"][0] - -0.0226) < 5e-4 and abs(d["ci95"][1] - 0.3898) < 5e-4
    assert mcnemar_exact(9, 0) == 2 / 2 ** 9 and paired([False] * 9, [True] * 9)["significant"]
    assert paired([], [])["delta"] is None


def test_t_intervals_for_gold_nll_by_hand():
    # Student t quantiles as printed in tables
    assert [round(t_quantile(0.975, df), 4) for df in (1, 2, 3, 10, 30)] == [12.7062, 4.3027, 3.1824, 2.2281, 2.0423]
    # NLLs 1, 2, 3, 4: mean 2.5, sd = sqrt(5/3) = 1.290994, se = sd / 2 = 0.645497, half = 3.182446 * se = 2.054260
    assert mean_interval([1.0, 2.0, 3.0, 4.0]) == {"n": 4, "mean": 2.5, "ci95": [0.4457, 4.5543]}
    assert mean_interval([5.0]) == {"n": 1, "mean": 5.0, "ci95": None} and mean_interval([])["mean"] is None
    # paired on 3 questions: differences -1, -1.5, -0.5: mean -1, sd 0.5, se 0.288675, half = 4.302653 * se = 1.242068;
    # p: t = 3.4641 on 2 df, P(T <= t) = 1/2 + t / (2 sqrt(2 + t^2)) = 0.962910, p = 2 * (1 - 0.962910) = 0.0742
    d = paired_mean([2.0, 3.0, 4.0], [1.0, 1.5, 3.5])
    assert d == {"n": 3, "delta": -1.0, "ci95": [-2.2421, 0.2421], "p_value": 0.0742, "significant": False}
    # differences -1, -1.5, -1.5, -2: mean -1.5, sd = sqrt(0.5 / 3) = 0.408248, se 0.204124, half = 3.182446 * se
    # = 0.649615; p: t = 7.348469 on 3 df, x = t/sqrt3 = 4.242641, P(T <= t) = 1/2 + (atan(x) + x / (1 + x^2)) / pi
    # = 1/2 + (1.339300 + 0.223297) / pi = 0.997389, p = 2 * (1 - 0.997389) = 0.0052
    d = paired_mean([3.0, 4.0, 5.0, 6.0], [2.0, 2.5, 3.5, 4.0])
    assert d == {"n": 4, "delta": -1.5, "ci95": [-2.1496, -0.8504], "p_value": 0.0052, "significant": True}
    same = paired_mean([1.0, 2.0], [1.0, 2.0])
    assert same["delta"] == 0.0 and same["significant"] is False and same["p_value"] == 1.0
    assert paired_mean([], [])["delta"] is None and paired_mean([1.0], [0.5])["ci95"] is None
