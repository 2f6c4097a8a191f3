"""Budget caps (llm.budget, judge.budget) against the project's OpenAI-compatible test server: a cap stops a
stage cleanly (what was made is written and valid, the rest recorded as budget.stopped, counts reconcile),
the cut does not depend on the cache, and a re-run with a higher cap resumes from the response cache.
The usage figures (requests and tokens per kept sample) are data, the same on a re-run; what a run paid
is runtime."""
from __future__ import annotations

import json

import pytest

from callforge.core import io, records
from callforge.core.config import compose, validate
from callforge.core.errors import CallforgeError
from callforge.core.gateway import Gateway
from conftest import run_stage, stage_record, write_params
from llm_server import judge_overrides, llm_overrides

MSG = [{"role": "user", "content": "Name a city as JSON."}]
NO_TRACKING = ["tracking.enabled=false"]


def gateway(server, tmp_path, **extra) -> Gateway:
    cfg = validate(compose(llm_overrides(server, **extra)))
    return Gateway(cfg.llm, stage="test", cache_dir=tmp_path / "cache", seed=0)


def ask(gw, n: int) -> list:
    return gw.run_all([gw.complete(MSG + [{"role": "user", "content": f"#{i}"}]) for i in range(n)])


# -- the gateway: caps checked between windows, charged for replays too ---------------------------------------

def test_a_cap_stops_requests_at_a_window_boundary(llm_server, tmp_path):
    llm_server.set_responder(lambda req: "Oslo")
    gw = gateway(llm_server, tmp_path, **{"llm.budget.max_requests": 5, "llm.concurrency": 2})
    res = ask(gw, 10)
    # windows of 2: 2, 4 (< 5: go on), 6 (>= 5: stop); the window that crossed the cap ran to its end
    assert [r.ok for r in res] == [True] * 6 + [False] * 4
    assert {r.reason for r in res[6:]} == {"budget.stopped"} and "max_requests=5" in res[6].detail
    assert llm_server.calls == 6, "nothing is sent past the cap"
    summary = gw.budget.summary(kept=6)
    assert summary["requests"] == 6 and summary["budget"] == {"stopped": True, "cap": "llm.budget.max_requests",
                                                              "limit": 5}
    assert summary["per_kept"]["requests"] == 1.0
    gw.close()


def test_the_cut_is_the_same_from_a_warm_cache_and_a_higher_cap_resumes_from_it(llm_server, tmp_path):
    llm_server.set_responder(lambda req: req["messages"][-1]["content"])
    capped = {"llm.budget.max_requests": 5, "llm.concurrency": 2}
    gw = gateway(llm_server, tmp_path, **capped)
    first = ask(gw, 10)
    gw.close()
    again = gateway(llm_server, tmp_path, **capped)      # a cache replay is charged: the cut cannot move
    second = ask(again, 10)
    again.close()
    assert llm_server.calls == 6 and [r.text for r in second] == [r.text for r in first]
    assert again.usage()["cache_hits"] == 6 and again.budget.spent.requests == 6
    more = gateway(llm_server, tmp_path, **{**capped, "llm.budget.max_requests": 8})
    third = ask(more, 10)
    more.close()
    assert [r.ok for r in third] == [True] * 8 + [False] * 2
    assert [r.text for r in third[:6]] == [r.text for r in first[:6]]
    assert llm_server.calls == 8 and more.usage()["cache_hits"] == 6, "only the new requests are paid"


def test_token_and_dollar_caps_and_the_dollar_estimate(llm_server, tmp_path):
    llm_server.set_responder(lambda req: "x" * 40)        # the test server counts 10 prompt + 10 completion tokens
    prices = {"llm.budget.usd_per_1m_input": 2.0, "llm.budget.usd_per_1m_output": 8.0, "llm.concurrency": 1}
    gw = gateway(llm_server, tmp_path, **{**prices, "llm.budget.max_tokens": 50})
    assert [r.ok for r in ask(gw, 5)] == [True] * 3 + [False] * 2      # 20, 40, 60 tokens: stop after the third
    s = gw.budget.summary(kept=3)
    assert (s["prompt_tokens"], s["completion_tokens"]) == (30, 30) and s["usd"] == pytest.approx(30 * 10 / 1e6)
    assert s["per_kept"]["tokens"] == 20.0 and s["budget"]["cap"] == "llm.budget.max_tokens"
    gw.close()
    dollars = gateway(llm_server, tmp_path / "b", **{**prices, "llm.budget.max_usd": 0.0002})   # $0.0001 a request
    assert [r.ok for r in ask(dollars, 4)] == [True, True, False, False]
    dollars.close()


def test_shards_share_the_caps_so_together_they_stay_within_them(monkeypatch):
    from callforge.core.budget import Budget
    from callforge.core.stage import SHARD_ENV
    cfg = validate(compose(["llm.budget.max_requests=10", "llm.budget.max_tokens=1000", "llm.budget.max_usd=3",
                            "llm.budget.usd_per_1m_input=1", "llm.budget.usd_per_1m_output=2"])).llm.budget
    shares = []
    for i in range(3):
        monkeypatch.setenv(SHARD_ENV, f"{i}/3")
        shares.append(Budget(cfg).caps)
    assert [s["max_requests"] for s in shares] == [4, 3, 3] and sum(s["max_tokens"] for s in shares) == 1000
    assert sum(s["max_usd"] for s in shares) == pytest.approx(3)
    monkeypatch.setenv(SHARD_ENV, "merge/3")            # the merge reports against the whole cap
    assert Budget(cfg).caps["max_requests"] == 10
    monkeypatch.delenv(SHARD_ENV)
    assert Budget(cfg).caps == {"max_requests": 10, "max_tokens": 1000, "max_usd": 3}


def test_a_dollar_cap_without_prices_stops_naming_the_key(llm_server, tmp_path):
    with pytest.raises(CallforgeError, match=r"llm\.budget\.max_usd: .*usd_per_1m_input"):
        gateway(llm_server, tmp_path, **{"llm.budget.max_usd": 1.0})
    cfg = validate(compose(judge_overrides(llm_server, **{"judge.budget.max_usd": 1.0})))
    with pytest.raises(CallforgeError, match=r"judge\.budget\.max_usd"):
        Gateway(cfg.judge, stage="verify", cache_dir=tmp_path, section="judge")


# -- the dialogs stage: stopped part-way, counts reconcile, outputs valid, a higher cap resumes ----------------

DIALOGS = ["dialogs.votes=2", "dialogs.steering.scorer=none", "dialogs.mix.parallel=0", "dialogs.mix.dependent=0",
           "dialogs.mix.multi_turn=0"]


def _dialogs(project, server, cap: int | None, n: int) -> tuple[list[str], list[dict], dict]:
    budget = {"llm.budget.max_requests": cap if cap is not None else "null", "llm.concurrency": 3}
    write_params(project, llm_overrides(server, **budget) + NO_TRACKING + DIALOGS + [f"dialogs.samples={n}"])
    run_stage("dialogs", project)
    lines = (project / "data" / "dialogs.jsonl").read_text().splitlines()
    return lines, io.read_jsonl(project / "data" / "dialogs_dropped.jsonl"), stage_record(project, "dialogs")


def test_a_cap_stops_dialogs_part_way_and_a_higher_cap_resumes_from_the_cache(project, llm_server):
    from test_dialogs_llm import WEATHER, FakeModel

    llm_server.set_responder(FakeModel())
    io.write_jsonl(project / "data" / "apis.jsonl", WEATHER)
    n = 18
    lines, drops, m = _dialogs(project, llm_server, 25, n)
    metrics = json.loads((project / "metrics" / "dialogs.json").read_text())
    stopped = [d for d in drops if d["reason"] == "budget.stopped"]
    assert lines and stopped, "the cap must stop the stage part-way, not before or after everything"
    assert len(lines) + len(drops) == n and m["reconciled"] and m["drop_reasons"]["budget.stopped"] == len(stopped)
    rows = [json.loads(x) for x in lines]
    records.check("sample", rows)
    assert max(int(r["id"][4:]) for r in rows) < min(d["index"] for d in stopped), "the cut is a prefix of samples"
    usage = metrics["llm_usage"]
    assert usage["budget"] == {"stopped": True, "cap": "llm.budget.max_requests", "limit": 25}
    assert 25 <= usage["requests"] < 25 + 3 * 12, "at most one window of samples past the cap"
    assert usage["kept"] == len(rows) and usage["per_kept"]["requests"] == round(usage["requests"] / len(rows), 3)
    assert m["llm"]["calls"] == usage["requests"], "a cold cache: every charged request was paid"
    paid = llm_server.calls

    lines2, drops2, m2 = _dialogs(project, llm_server, 25, n)        # the same cap, a warm cache
    assert llm_server.calls == paid and (lines2, drops2) == (lines, drops)
    assert json.loads((project / "metrics" / "dialogs.json").read_text()) == metrics, "usage figures are data"
    assert m2["llm"]["cache_hits"] == usage["requests"] and "calls" not in m2["llm"]

    lines3, drops3, m3 = _dialogs(project, llm_server, None, n)      # no cap: resume, paying only what is new
    assert len(lines3) + len(drops3) == n and len(lines3) > len(lines)
    assert not any(d["reason"] == "budget.stopped" for d in drops3)
    assert set(lines) <= set(lines3), "every sample made under the cap is kept, byte for byte"
    assert m3["llm"]["cache_hits"] == usage["requests"]
    assert llm_server.calls - paid == m3["llm_usage"]["requests"] - usage["requests"]


# -- verify: the judge's own cap (judge.budget) --------------------------------------------------------------

def test_a_judge_cap_stops_judging_and_the_rest_is_rejected_as_budget_stopped(project, llm_server):
    from test_faults import dialogs_file, verdict_responder

    ids = dialogs_file(project, 12)
    llm_server.set_responder(verdict_responder)
    write_params(project, judge_overrides(llm_server, **{"judge.budget.max_requests": 5, "judge.concurrency": 4})
                 + ["verify.checks.grounding=report", "verify.checks.labels=report",
                                  "verify.judges.hallucination=false", "verify.judges.response_fidelity=false"])
    run_stage("verify", project)
    verified = io.read_jsonl(project / "data" / "verified.jsonl")
    rejected = io.read_jsonl(project / "data" / "rejected.jsonl")
    m = stage_record(project, "verify")
    assert sorted([s["id"] for s in verified] + [r["id"] for r in rejected]) == sorted(ids)
    stopped = [r for r in rejected if "budget.stopped" in r["reasons"]]
    assert verified and stopped and m["drop_counts"]["budget.stopped"] == len(stopped)
    assert all(r["reasons"] == ["budget.stopped"] for r in stopped), "the responder passes every sample it is asked about"
    task = m["checks"]["judge.task_consistency"]
    assert task["checked"] == task["passed"] == llm_server.calls, "a question never asked is not a judge's check"
    assert m["llm_usage"]["budget"]["cap"] == "judge.budget.max_requests"
    # windows of 4 questions: 4 (< 5: go on), 8 (>= 5: stop)
    assert m["llm_usage"]["requests"] == llm_server.calls == 8 and m["llm_usage"]["kept"] == len(verified)
    from mlflow.tracking import MlflowClient       # the figures reach the variant's MLflow run, the data and the runtime
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    logged = run.data.metrics
    assert logged["verify.llm_usage.requests"] == 8 and logged["runtime.verify.llm.calls"] == 8
    assert logged["verify.llm_usage.per_kept.requests"] == m["llm_usage"]["per_kept"]["requests"]
    assert logged["verify.drop_counts.budget.stopped"] == len(stopped)



def test_a_cap_stops_the_apis_stage_after_the_window_that_reached_it(project, llm_server):
    """Past the cap the stage stops asking: no stream of budget.stopped rejections up to the attempt limit."""
    from test_apis import api_responder
    llm_server.set_responder(api_responder)
    write_params(project, NO_TRACKING + llm_overrides(llm_server, **{"llm.budget.max_requests": 5, "llm.concurrency": 4})
                 + ["taxonomy.source=offline", "apis.pool_size=60", "apis.batch_size=8"])
    run_stage("taxonomy", project)
    run_stage("apis", project)
    m = stage_record(project, "apis")
    rejected = io.read_jsonl(project / "data" / "apis_rejected.jsonl")
    stopped = [r for r in rejected if "budget.stopped" in r["reasons"]]
    assert m["llm_usage"]["budget"]["stopped"] and m["llm_usage"]["requests"] == llm_server.calls
    assert 0 < len(stopped) < 8, "one batch of attempts at most is cut by the cap, then the stage stops"
    assert m["attempts"] == m["apis_generated"] + len(rejected) < 60
