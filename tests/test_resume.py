"""Crash and resume: `kill -9` a model-calling stage part-way, run it again.

The re-run redoes only the missing work (the server's call counts show it: calls already answered
before the kill come from the response cache), writes no duplicate ids, and its output is byte-equal
to an uninterrupted run's. A killed stage never leaves an output file that looks complete.
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import samplegen
from callforge.core import io
from callforge.core.testserver import TestServer
from conftest import REPO, run_stage, stage_env, write_params, stage_record
from llm_server import judge_overrides, llm_overrides
from test_apis import api_responder

NO_TRACKING = ["tracking.enabled=false"]


def verdict_responder(req: dict) -> str:
    return json.dumps({"verdict": "pass", "reasons": []})


def prepare_apis(project: Path, server: TestServer) -> None:
    write_params(project, llm_overrides(server, **{"llm.concurrency": 4}) + NO_TRACKING + [
        "taxonomy.source=offline", "apis.pool_size=48", "apis.batch_size=16", "llm.repair_retries=1"])
    run_stage("taxonomy", project)


def prepare_verify(project: Path, server: TestServer) -> None:
    pool = samplegen.make_pool(40, 8)
    by_domain: dict[str, list[int]] = {}
    for j, a in enumerate(pool):
        by_domain.setdefault(a["domain"], []).append(j)
    (project / "data").mkdir(exist_ok=True)
    (project / "data" / "dialogs.jsonl").write_text(
        "".join(json.dumps(samplegen.make_sample(i, pool, by_domain)) + "\n" for i in range(30)))
    write_params(project, judge_overrides(server, **{"judge.concurrency": 4}) + NO_TRACKING + [
        "verify.checks.grounding=report", "verify.checks.labels=report", "verify.batch=10"])


class SameAnswers:
    """The dialog tests' scripted model, made a function of the request alone (it counts calls to vary
    its wording): an interrupted and an uninterrupted run must be asked, and answer, the same things."""

    def __init__(self):
        from test_dialogs_llm import FakeModel
        self.model, self.lock = FakeModel(), threading.Lock()

    def __call__(self, req):
        with self.lock:
            self.model.k = int(hashlib.sha256(json.dumps(req, sort_keys=True).encode()).hexdigest()[:8], 16)
            return self.model(req)


def prepare_dialogs(project: Path, server: TestServer) -> None:
    from test_dialogs_llm import WEATHER
    io.write_jsonl(project / "data" / "apis.jsonl", WEATHER)
    write_params(project, llm_overrides(server, **{"llm.concurrency": 4}) + NO_TRACKING + [
        "dialogs.samples=24", "dialogs.votes=2", "dialogs.batch=8", "dialogs.steering.calibration_samples=4",
        "dialogs.mix.parallel=0", "dialogs.mix.dependent=0", "dialogs.mix.multi_turn=0"])


CASES = {  # stage -> (responder, set-up, outputs, id field)
    "apis": (api_responder, prepare_apis, ["data/apis.jsonl", "data/apis_rejected.jsonl"], "name"),
    "dialogs": (SameAnswers(), prepare_dialogs, ["data/dialogs.jsonl", "data/dialogs_dropped.jsonl"], "id"),
    "verify": (verdict_responder, prepare_verify, ["data/verified.jsonl", "data/rejected.jsonl"], "id"),
}


def metrics(project: Path, stage: str) -> dict:
    return stage_record(project, stage)


@pytest.mark.parametrize("stage", sorted(CASES))
def test_kill_9_then_resume_redoes_only_missing_work(tmp_path, project, stage):
    responder, prepare, outputs, id_field = CASES[stage]

    # the reference: one uninterrupted run in a folder of its own
    ref = tmp_path / "reference"
    ref.mkdir()
    (ref / "conf").symlink_to(project / "conf")
    with TestServer(responder, latency=0.02) as srv:
        prepare(ref, srv)
        run_stage(stage, ref)
        full = metrics(ref, stage)["llm"]
    full_calls = full["calls"]
    full_asks = full_calls + full.get("cache_hits", 0)   # identical asks within a run hit the cache too
    assert full_calls >= 20

    # the same run, killed part-way; then run again
    with TestServer(responder, latency=0.05) as srv:
        prepare(project, srv)
        before = srv.calls
        proc = subprocess.Popen([sys.executable, str(REPO / "stages" / f"{stage}.py")], cwd=project,
                                env=stage_env(project), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while srv.calls - before < full_calls // 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the stage finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        killed_calls = srv.calls - before
        assert proc.returncode == -signal.SIGKILL
        for out in outputs:   # nothing a later stage could take as complete
            assert not (project / out).exists(), out
        assert not (project / "metrics" / f"{stage}.json").exists()

        time.sleep(0.3)                            # let the server finish the requests cut off mid-way
        before = srv.calls
        run_stage(stage, project)
        resumed_calls = srv.calls - before
    m = metrics(project, stage)["llm"]
    assert m["calls"] == resumed_calls
    assert m.get("cache_hits", 0) > 0, "answers paid for before the kill are replayed from the cache"
    assert resumed_calls + m["cache_hits"] == full_asks, "every request is answered once: by the cache or the server"
    assert resumed_calls < full_calls and killed_calls + resumed_calls >= full_calls

    for out in outputs:
        assert (project / out).read_bytes() == (ref / out).read_bytes(), f"{out} differs from the uninterrupted run"
    rows = [json.loads(x) for x in (project / outputs[0]).read_text().splitlines()]
    ids = [r[id_field] for r in rows]
    assert len(ids) == len(set(ids)), "no duplicate ids"


WRITER = """
import sys, time
from callforge.core.io import write_jsonl

def rows():
    for i in range(100_000):
        if i == 50_000:
            print("half", flush=True)
            time.sleep(60)
        yield {"id": i, "text": "x" * 50}

write_jsonl(sys.argv[1], rows())
"""


def test_a_killed_writer_leaves_the_old_file_or_none_never_a_partial_one(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text('{"id": "old"}\n')
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.readline().strip() == "half"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert target.read_text() == '{"id": "old"}\n', "the target is untouched until the new file is complete"
    leftovers = [p.name for p in tmp_path.iterdir() if p != target]
    assert all(n.startswith(".out.jsonl.") and n.endswith(".tmp") for n in leftovers), leftovers
