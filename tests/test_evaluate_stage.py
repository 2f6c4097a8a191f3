"""Stage `evaluate` with backend=server: a real HTTP server on 127.0.0.1 plays both models.

BFCL questions come from ../shared/bfcl (evaluate.bfcl.source), the held-out split from a small
folder in BFCL layout like the one export writes. The "finetuned" model answers from the answer
key, the "base" model in prose; the stage must write the report and every answer with its verdict.
"""
from __future__ import annotations

import json
import shutil

import pytest

from callforge.calling.calls import print_calls
from conftest import run_stage, write_params
from test_evaluate import first_calls


def _heldout(shared_bfcl, dest):
    (dest / "possible_answer").mkdir(parents=True)
    for src, cat, n in (("simple_python", "callforge_simple", 4), ("irrelevance", "callforge_irrelevance", 3)):
        lines = (shared_bfcl / f"BFCL_v4_{src}.json").read_text().splitlines()[:n]
        (dest / f"BFCL_v4_{cat}.json").write_text("\n".join(lines) + "\n")
        ans = shared_bfcl / "possible_answer" / f"BFCL_v4_{src}.json"
        if ans.exists():
            (dest / "possible_answer" / f"BFCL_v4_{cat}.json").write_text("\n".join(ans.read_text().splitlines()[:n]) + "\n")


@pytest.mark.slow
def test_evaluate_stage_through_a_server(project, shared_bfcl, llm_server):
    _heldout(shared_bfcl, project / "data" / "export" / "eval_bfcl")
    keys = {}
    for cat in ("simple_python", "parallel"):
        answers = {json.loads(x)["id"]: json.loads(x)["ground_truth"]
                   for x in (shared_bfcl / "possible_answer" / f"BFCL_v4_{cat}.json").read_text().splitlines()}
        for line in (shared_bfcl / f"BFCL_v4_{cat}.json").read_text().splitlines():
            q = json.loads(line)
            keys[q["question"][0][-1]["content"]] = answers[q["id"]]

    def responder(req):
        gt = keys.get(req["messages"][-1]["content"])
        return print_calls(first_calls(gt)) if req["model"] == "tuned" and gt else "Let me think."

    llm_server.set_responder(responder)
    write_params(project, [
        "evaluate.backend=server", f"evaluate.server.base_url={llm_server.base_url}",
        "evaluate.server.base_model=plain", "evaluate.server.finetuned_model=tuned",
        f"evaluate.bfcl.source={shared_bfcl}", "evaluate.bfcl.categories=[simple_python,parallel,irrelevance]",
        "evaluate.bfcl.per_category=4", "evaluate.heldout_per_category=6"])
    run_stage("evaluate", project)
    m = json.loads((project / "metrics" / "evaluate.json").read_text())
    assert m["bfcl"]["models"]["finetuned"]["overall"]["accuracy"] == 1.0
    assert m["bfcl"]["models"]["base"]["categories"]["irrelevance"]["accuracy"] == 1.0
    assert m["bfcl"]["delta"]["categories"]["simple_python"]["delta"] == 1.0
    # a chat server gives no likelihood of a given answer: gold NLL says so instead of failing
    assert m["bfcl"]["gold_nll"]["available"] is False and "backend=server" in m["bfcl"]["gold_nll"]["reason"]
    assert (project / "data" / "evaluate" / "gold_nll.jsonl").read_text() == ""
    assert m["heldout"]["models"]["finetuned"]["categories"] == {
        "callforge_irrelevance": {"n": 3, "correct": 3, "accuracy": 1.0, "ci95": [0.4385, 1.0]},
        "callforge_simple": {"n": 4, "correct": 4, "accuracy": 1.0, "ci95": [0.5101, 1.0]}}
    rows = [json.loads(x) for x in (project / "data" / "evaluate" / "answers.jsonl").read_text().splitlines()]
    assert len(rows) == 2 * (12 + 7) and {r["set"] for r in rows} == {"bfcl", "heldout"}
    first = (project / "data" / "evaluate" / "answers.jsonl").read_bytes()
    shutil.rmtree(project / "data" / "evaluate")
    run_stage("evaluate", project)    # served from the response cache now: same bytes
    assert (project / "data" / "evaluate" / "answers.jsonl").read_bytes() == first
