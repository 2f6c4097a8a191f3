"""Every model-calling stage, run as DVC runs it against a flaky OpenAI-compatible server.

The server (callforge.core.testserver + FaultPlan) answers each stage's prompts correctly, except that at
configured rates it returns 429 with Retry-After, 500, answers too late (timeout), drops the
connection, sends a malformed HTTP body, truncates the answer, or answers JSON of the wrong shape.
Each run must finish, and every item the stage asked for must end produced or rejected with a
reason: requested = produced + rejected, reconciled from the stage's own outputs and metrics.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

import samplegen
from callforge.core import io
from conftest import run_stage, write_params, stage_record
from llm_server import FaultPlan, judge_overrides, llm_overrides
from test_apis import api_responder
from test_taxonomy import tree_responder

RATES = {"rate_limit": 0.06, "server_error": 0.06, "timeout": 0.03, "drop": 0.05, "malformed": 0.05,
         "truncated": 0.05, "schema_invalid": 0.05}
NO_TRACKING = ["tracking.enabled=false"]


def flaky(server, responder, **rates) -> FaultPlan:
    plan = FaultPlan(responder, {**RATES, **rates}, timeout_sleep=1.5)
    server.set_responder(plan)
    return plan


def overrides(server, **extra) -> list[str]:
    """Short timeouts and backoff so a storm of faults costs seconds, not minutes."""
    return llm_overrides(server, **{"llm.timeout_s": 1.0, "llm.max_retries": 4, "llm.repair_retries": 2,
                                    **extra}) + NO_TRACKING


def judges(server, **extra) -> list[str]:
    """The same for verify's judges, which call the model of the `judge` section."""
    return judge_overrides(server, **{"judge.timeout_s": 1.0, "judge.max_retries": 4, "judge.repair_retries": 2,
                                      **extra}) + NO_TRACKING


def read_jsonl(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def assert_storm(plan: FaultPlan, kinds: int = 5) -> None:
    """The faults really happened (a test that injected nothing would prove nothing)."""
    hit = [k for k, n in plan.injected.items() if n]
    assert len(hit) >= kinds, plan.injected


def verdict_responder(req: dict) -> str:
    return json.dumps({"verdict": "pass", "reasons": []})


# -- taxonomy: one request per node to expand ----------------------------------------------------------------
def test_taxonomy_under_faults_accounts_for_every_expansion(project, llm_server):
    plan = flaky(llm_server, tree_responder)
    write_params(project, overrides(llm_server) + [
        "taxonomy.root_domains=[Travel,Banking,Weather,Music,Sports,Cooking,Pets,Energy]",
        "taxonomy.depth=3", "taxonomy.breadth=3"])
    run_stage("taxonomy", project)
    doc = json.loads((project / "data" / "taxonomy.json").read_text())
    m = stage_record(project, "taxonomy")
    requested = m["llm"]["requests:taxonomy.expand"]

    def expanded(node, level):   # nodes above the leaf level that got their children
        own = int(level >= 1 and bool(node["children"]))
        return own + sum(expanded(c, level + 1) for c in node["children"] if level + 1 < 3)
    produced = expanded(doc["root"], 0)
    failures = doc["failures"]
    assert requested == produced + len(failures), (requested, produced, len(failures))
    assert all(f["reason"] and f["path"] for f in failures)
    assert m["failures"] == len(failures) == sum(m["failures_by_reason"].values())
    assert produced > 0 and plan.injected and sum(plan.injected.values()) > 0
    assert llm_server.calls > requested, "faults must have forced retries"


# -- apis: one request per attempt ------------------------------------------------------------------------------
def test_apis_under_faults_accounts_for_every_attempt(project, llm_server):
    write_params(project, overrides(llm_server) + ["taxonomy.source=offline", "apis.pool_size=60", "apis.batch_size=20"])
    run_stage("taxonomy", project)
    plan = flaky(llm_server, api_responder)
    run_stage("apis", project)
    m = stage_record(project, "apis")
    apis = read_jsonl(project / "data" / "apis.jsonl")
    rejected = read_jsonl(project / "data" / "apis_rejected.jsonl")
    assert m["attempts"] == m["apis_generated"] + len(rejected) == len(apis) + len(rejected)
    assert m["llm"]["requests:apis.write"] == m["attempts"]
    assert all(r["reasons"] for r in rejected)
    assert Counter(c for r in rejected for c in r["reasons"]) == Counter(m["rejected_by_reason"])
    assert len({a["name"] for a in apis}) == len(apis)
    assert_storm(plan)
    assert m["llm"]["retries"] > 0


# -- dialogs: one requested sample, one sample written or dropped ----------------------------------------------
def test_dialogs_under_faults_accounts_for_every_sample(project, llm_server):
    from test_dialogs_llm import WEATHER, FakeModel
    plan = flaky(llm_server, FakeModel())
    io.write_jsonl(project / "data" / "apis.jsonl", WEATHER)
    n = 16
    write_params(project, overrides(llm_server) + [
        f"dialogs.samples={n}", "dialogs.votes=2", "dialogs.steering.calibration_samples=4",
        "dialogs.mix.parallel=0", "dialogs.mix.dependent=0", "dialogs.mix.multi_turn=0"])
    run_stage("dialogs", project)
    rows = read_jsonl(project / "data" / "dialogs.jsonl")
    drops = read_jsonl(project / "data" / "dialogs_dropped.jsonl")
    m = stage_record(project, "dialogs")
    assert len(rows) + len(drops) == n and m["reconciled"]
    ids = [r["id"] for r in rows] + [d["id"] for d in drops]
    assert len(set(ids)) == n, "each requested sample ends exactly once: written or dropped"
    assert all(d["reason"] for d in drops) and rows, (len(rows), [d["reason"] for d in drops])
    assert_storm(plan)
    assert m["llm"]["retries"] > 0


# -- verify: one sample in, one sample out (verified or rejected) ----------------------------------------------
def dialogs_file(project, n: int) -> list[str]:
    pool = samplegen.make_pool(40, 8)
    by_domain: dict[str, list[int]] = {}
    for j, a in enumerate(pool):
        by_domain.setdefault(a["domain"], []).append(j)
    samples = [samplegen.make_sample(i, pool, by_domain) for i in range(n)]
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "dialogs.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    return [s["id"] for s in samples]


def test_verify_judges_under_faults_account_for_every_sample(project, llm_server):
    ids = dialogs_file(project, 40)
    plan = flaky(llm_server, verdict_responder)
    write_params(project, judges(llm_server) + ["verify.checks.grounding=report", "verify.checks.labels=report"])
    run_stage("verify", project)
    verified = read_jsonl(project / "data" / "verified.jsonl")
    rejected = read_jsonl(project / "data" / "rejected.jsonl")
    assert sorted([s["id"] for s in verified] + [r["id"] for r in rejected]) == sorted(ids)
    assert all(r["reasons"] for r in rejected)
    judged_out = [r for r in rejected if any(c.startswith("judge.") for c in r["reasons"])]
    m = stage_record(project, "verify")
    assert m["llm"]["calls"] > 0 and m["llm"]["retries"] > 0
    assert_storm(plan, kinds=4)
    # the responder only ever passes: a judge rejection can only be a fault that outlasted the retries
    for r in judged_out:
        assert {c for c in r["reasons"] if c.startswith("judge.")} <= {"judge.unavailable", "judge.unparseable"}


@pytest.mark.parametrize("kind", ["server_error", "drop", "malformed"])
def test_a_dead_server_rejects_everything_with_reasons_and_the_run_finishes(project, llm_server, kind):
    """The extreme: every answer is the same fault. Nothing is produced, nothing is lost."""
    ids = dialogs_file(project, 6)
    flaky(llm_server, verdict_responder, **{**{k: 0.0 for k in RATES}, kind: 1.0})
    write_params(project, judges(llm_server, **{"judge.max_retries": 1}) + [
        "verify.judges.hallucination=false", "verify.judges.response_fidelity=false",
        "verify.checks.grounding=report", "verify.checks.labels=report"])
    run_stage("verify", project)
    verified = read_jsonl(project / "data" / "verified.jsonl")
    rejected = read_jsonl(project / "data" / "rejected.jsonl")
    assert verified == [] and sorted(r["id"] for r in rejected) == sorted(ids)
    assert all("judge.unavailable" in r["reasons"] for r in rejected), [r["reasons"] for r in rejected]
