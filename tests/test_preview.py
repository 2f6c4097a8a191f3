"""`callforge preview N` against the project's OpenAI-compatible test server: N samples through taxonomy, apis,
dialogs, complexity and verify in a scratch folder, printed with their dialog, checks, judge verdicts and
model use, and the project's data/, metrics/ and MLflow store left as they were."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from callforge.core import io
from callforge.taxonomy.context_tree import load_offline
from conftest import REPO, stage_env
from llm_server import judge_overrides, llm_overrides
from test_apis import api_responder
from test_dialogs_llm import WEATHER, FakeModel
from test_faults import verdict_responder

MODEL_PATH = ["scorer=heuristic", "dialogs.steering.scorer=none", "dialogs.votes=2", "dialogs.mix.parallel=0",
              "dialogs.mix.dependent=0", "dialogs.mix.multi_turn=0"]


class Roles:
    """The test model: API writer, user / assistant / tool agents, and judge, told apart by their prompts."""

    def __init__(self):
        self.dialogs = FakeModel()

    def __call__(self, req):
        system = req["messages"][0]["content"]
        if system.startswith("You design realistic web APIs"):
            return api_responder(req)
        if system.startswith("You review function-calling training data"):
            return verdict_responder(req)
        return self.dialogs(req)


def preview(project: Path, *args: str) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).with_name("callforge")
    return subprocess.run([str(cli), "preview", *args], cwd=project, env=stage_env(project), capture_output=True,
                          text=True, timeout=600)


def workspace(project: Path) -> dict[str, str]:
    """A project with a built taxonomy and API pool (the weather tools), as after `dvc repro apis`."""
    shutil.copy(REPO / "dvc.yaml", project / "dvc.yaml")
    (project / "data").mkdir(exist_ok=True)
    io.write_json(project / "data" / "taxonomy.json", {"version": 1, "source": "builtin", "root": load_offline()})
    io.write_jsonl(project / "data" / "apis.jsonl", WEATHER)
    return {p.name: io.md5_file(p) for p in (project / "data").iterdir()}


def blocks(text: str) -> dict[str, str]:
    """Sample id -> its printed block."""
    parts = re.split(r"^── (dlg-\d{8}) ", text.split("\n── model use", 1)[0], flags=re.M)
    return {parts[k]: parts[k + 1] for k in range(1, len(parts) - 1, 2)}


def test_preview_prints_dialogs_checks_verdicts_and_tokens_and_touches_nothing(project, llm_server):
    llm_server.set_responder(Roles())
    before = workspace(project)
    args = ["6", *llm_overrides(llm_server), *judge_overrides(llm_server), *MODEL_PATH]
    proc = preview(project, *args)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "llm=compatible (test-model, json_schema) · judge=compatible (test-judge)" in out
    assert "taxonomy and APIs from the workspace" in out
    samples = blocks(out)
    assert list(samples) == [f"dlg-{i:08d}" for i in range(6)], "every sample, in index order"
    verified = [b for b in samples.values() if "· verified ─" in b.split("\n", 1)[0]]
    assert verified, out
    for block in verified:
        assert re.search(r"^  user +\S", block, re.M) and re.search(r"^  assistant +\S", block, re.M)
        assert re.search(r"^  rules +passed$", block, re.M)
        assert re.search(r"^  judges +.*task_consistency pass", block, re.M)
        assert re.search(r"^  complexity +loss \d+\.\d{3} \(heuristic\)", block, re.M)
    calls = [b for b in verified if "→ get_" in b]
    assert calls and all(re.search(r"^  tool +get_\w+: \{", b, re.M) for b in calls)
    usage = {m.group(1): m.group(2) for m in re.finditer(r"^  (\w+) +(.+)$", out.split("── model use", 1)[1], re.M)}
    assert usage["taxonomy"].startswith("reused") and usage["apis"].startswith("reused")
    dialogs = re.match(r"([\d,]+) requests · ([\d,]+) prompt \+ ([\d,]+) completion tokens · per kept item \((\d+)\)",
                       usage["dialogs"])
    assert dialogs and int(dialogs.group(1).replace(",", "")) > 0 and int(dialogs.group(4)) > 0
    assert re.match(r"[\d,]+ requests", usage["verify"]) and usage["complexity"] == "no model requests"
    # the workspace is as it was: the same data files, no metrics, no MLflow run
    assert {p.name: io.md5_file(p) for p in (project / "data").iterdir()} == before
    assert not (project / "metrics").exists() and not (project / "params.yaml").exists()
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    assert not client.search_runs([e.experiment_id for e in client.search_experiments()])
    # what the preview paid for sits in the project's response cache: looking again costs nothing
    paid = llm_server.calls
    again = preview(project, *args)
    assert again.returncode == 0 and llm_server.calls == paid
    assert blocks(again.stdout) == samples


def test_preview_can_make_the_upstream_too_and_shows_what_it_cost(project, llm_server):
    llm_server.set_responder(Roles())
    workspace(project)
    proc = preview(project, "3", "--upstream", "run", "--keep", *llm_overrides(llm_server), *MODEL_PATH,
                   "taxonomy.source=offline", "apis.pool_size=4", "apis.batch_size=4", "llm.repair_retries=2")
    assert proc.returncode == 0, proc.stderr
    assert "taxonomy and APIs made by this preview" in proc.stdout
    samples = blocks(proc.stdout)     # the test model plays the weather tools only: the model-written APIs defeat it
    assert len(samples) == 3 and all(re.search(r"^  reason +dialogs\.\w+: ", b, re.M) or "judges     not run" in b
                                     for b in samples.values())
    apis = re.search(r"^  apis +([\d,]+) requests .* per kept item \((\d+)\)", proc.stdout, re.M)
    assert apis and int(apis.group(2)) >= 1
    assert re.search(r"^  taxonomy +no model requests$", proc.stdout, re.M)    # the built-in tree
    kept = Path(re.search(r"^kept (.+)$", proc.stdout, re.M).group(1))
    try:
        made = io.read_jsonl(kept / "data" / "apis.jsonl")
        assert made and all(a["source"] == "llm" for a in made), "the preview's own pool, written by the model"
        assert json.loads((kept / "metrics" / "apis.json").read_text())["llm_usage"]["kept"] == len(made)
    finally:
        shutil.rmtree(kept)
    assert io.read_jsonl(project / "data" / "apis.jsonl") == WEATHER


def test_preview_refuses_what_it_sets_itself_naming_the_key(project):
    workspace(project)
    proc = preview(project, "2", "dialogs.samples=50")
    assert proc.returncode == 2 and "dialogs.samples: set by the preview itself" in proc.stderr
    bad = preview(project, "2", "llm.budget.max_requests=0")
    assert bad.returncode == 2 and "llm.budget.max_requests" in bad.stderr
