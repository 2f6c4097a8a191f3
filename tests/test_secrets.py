"""An API key never lands anywhere: params.yaml, dvc.lock, DVC's cache, MLflow (params, tags, metrics,
artifacts), the response cache, logs, metrics or data.

A recognisable key is put in the environment; the model-calling stages run through `dvc repro` with
llm=compatible against a real server on 127.0.0.1, which must receive the key as a Bearer token (so
the test can fail) and which, for some requests, quotes the key back in its error message, as
careless servers do. Then every byte the run left behind is searched for the key.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, stage_env, write_params, stage_record
from llm_server import Fault, judge_overrides, llm_overrides
from test_apis import api_responder
from test_taxonomy import tree_responder

CANARY = "sk-callforge-LEAK-CANARY-7f3a9c2e1b5d4f60a8e2c4b6d8f0a1c3"


def make_responder():
    from test_dialogs_llm import FakeModel
    dialog_model = FakeModel()

    def respond(req: dict):
        system, user = req["messages"][0]["content"], req["messages"][-1]["content"]
        if system.startswith(("You play the USER", "You simulate the execution", "You are a helpful assistant")):
            return dialog_model(req)
        if "Area: Leaky" in user:
            return Fault(status=401, echo_auth=True)          # the server quotes the key in its error
        if "QUESTION:" in user:
            return json.dumps({"verdict": "pass", "reasons": []})
        if "Area: " in user or "Read the document" in user or "Area: " in req["messages"][1]["content"]:
            return tree_responder(req)
        return api_responder(req)
    return respond


def dvc(project: Path, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def scratch_pipeline(project: Path) -> None:
    """The pipeline as a user's checkout has it: dvc.yaml, the stage scripts and the code they depend on."""
    shutil.copy(REPO / "dvc.yaml", project / "dvc.yaml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "stages", project / "stages", ignore=ignore)
    shutil.copytree(REPO / "callforge", project / "callforge", ignore=ignore)


def test_api_key_appears_nowhere(project, llm_server):
    llm_server.set_responder(make_responder())
    scratch_pipeline(project)
    judge = judge_overrides(llm_server, **{"judge.api_key_env": "CALLFORGE_API_KEY"})   # the judges use the key too
    write_params(project, llm_overrides(llm_server) + judge + [
        "taxonomy.root_domains=[Travel,Leaky,Banking]", "taxonomy.depth=2", "taxonomy.breadth=2",
        "apis.pool_size=12", "apis.batch_size=6", "llm.repair_retries=1",
        "dialogs.samples=6", "dialogs.votes=2", "dialogs.steering.calibration_samples=2",
        "dialogs.mix.parallel=0", "dialogs.mix.dependent=0", "dialogs.mix.multi_turn=0", "dialogs.mix.clarify=0",
        "verify.checks.grounding=report", "verify.checks.labels=report"])

    env = stage_env(project, CALLFORGE_API_KEY=CANARY,
                    PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    logs = []
    for args in (["init", "--no-scm", "-q"], ["repro", "verify"]):   # taxonomy → apis → dialogs → … → verify
        proc = dvc(project, *args, env=env)
        logs += [proc.stdout, proc.stderr]
        assert proc.returncode == 0, f"dvc {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"

    # the key really was used: the server saw it on every request, from every model-calling stage
    stats = {st: stage_record(project, st).get("llm", {})
             for st in ("taxonomy", "apis", "dialogs", "verify")}
    assert all(v.get("calls", 0) > 0 for v in stats.values()), stats
    assert llm_server.calls > 0 and set(llm_server.auth_headers) == {f"Bearer {CANARY}"}
    # and the server really did quote it back (so redaction was exercised, not just never needed)
    failures = json.loads((project / "data" / "taxonomy.json").read_text())["failures"]
    assert [f["reason"] for f in failures] == ["llm.http_401"] and "redacted" in failures[0]["detail"]

    # every file the run left behind: params.yaml, dvc.lock, .dvc/cache, mlflow.db + artifacts, the
    # response cache (and its WAL), metrics/, data/
    for must in ("params.yaml", "dvc.lock", "mlflow.db", "metrics/apis.json", "metrics/dialogs.json",
                 "metrics/verify.json", "data/apis.jsonl", "data/dialogs.jsonl", "data/verified.jsonl",
                 ".cache/callforge/llm-responses.sqlite"):
        assert (project / must).exists(), must
    searched = 0
    for p in project.rglob("*"):
        if p.is_file() and not p.is_symlink():
            assert CANARY.encode() not in p.read_bytes(), f"the API key leaked into {p.relative_to(project)}"
            searched += 1
    assert searched > 20
    for text in logs:
        assert CANARY not in text, "the API key leaked into the logs"

    # MLflow through its own API too (params, tags, metric names, artifact listing)
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    runs = [r for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]
    assert runs, "the stages logged to MLflow"
    for r in runs:
        blob = json.dumps([r.data.params, r.data.tags, sorted(r.data.metrics)])
        assert CANARY not in blob and "LEAK-CANARY" not in blob
        assert r.data.params.get("llm.api_key_env") == "CALLFORGE_API_KEY"   # the variable's name, never its value


def test_key_is_read_from_the_named_variable_only(project, llm_server):
    """Putting a key into config is refused: config holds the *name* of the variable."""
    with pytest.raises(Exception) as e:
        write_params(project, llm_overrides(llm_server) + [f"llm.api_key={CANARY}"])
    assert "api_key" in str(e.value)
