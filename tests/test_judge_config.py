"""verify's judges have a config section of their own (`judge`, conf/judge/), so trying another judge re-runs
verify alone, and a generator setting never re-runs verify by itself. Checked in dvc.yaml, and for real:
DVC runs the dialogs and verify stages of the project's dvc.yaml, then a judge change and an llm change."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from callforge.core import io
from callforge.core.config import compose, validate
from callforge.core.pipeline import load_pipeline
from conftest import REPO, write_params
from dialogs_fixtures import TOOLS
from llm_server import JUDGE_MODEL, judge_overrides


def test_only_verify_reads_the_judge_section_and_verify_never_reads_llm():
    params = {s.name: {p.split(".")[0] for p in s.params} for s in load_pipeline(REPO)}
    assert [name for name, sections in params.items() if "judge" in sections] == ["verify"]
    assert "llm" not in params["verify"]
    assert {name for name, sections in params.items() if "llm" in sections} == {"taxonomy", "apis", "dialogs"}


def test_judge_choices_mirror_llm_and_default_to_offline():
    names = lambda group: sorted(p.stem for p in (REPO / "conf" / group).glob("*.yaml") if p.stem != "base")
    assert names("judge") == names("llm") == ["compatible", "local", "offline", "openai"]
    assert validate(compose([])).judge.provider == "offline"
    for choice in names("judge"):
        cfg = validate(compose([f"judge={choice}", "llm=openai"]))
        assert cfg.judge.provider == choice and cfg.llm.provider == "openai"   # independent of each other
        assert cfg.judge.temperature == 0.0                                     # a verdict, not a sample
    assert validate(compose(["judge=openai"])).judge.model != validate(compose(["llm=openai"])).llm.model


def dvc(project: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "CI": "1"}
    proc = subprocess.run([str(Path(sys.executable).with_name("dvc")), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def out_of_date(project: Path) -> list[str]:
    return sorted(json.loads(dvc(project, "status", "--json").strip() or "{}"))


def ran(out: str) -> list[str]:
    return sorted(s for s in ("dialogs", "verify") if f"Running stage '{s}'" in out)


@pytest.mark.slow
def test_a_judge_change_reruns_verify_only_and_an_llm_change_never_reruns_it(project, llm_server):
    llm_server.set_responder(lambda req: json.dumps({"reasons": [], "verdict": "pass"}))
    shutil.copytree(REPO / "stages", project / "stages")
    shutil.copytree(REPO / "callforge", project / "callforge", ignore=shutil.ignore_patterns("__pycache__"))
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": {k: spec["stages"][k] for k in ("dialogs", "verify")}},
                                                     sort_keys=False))
    io.write_jsonl(project / "data" / "apis.jsonl", TOOLS)
    base = ["tracking.enabled=false", "dialogs.samples=12", "dialogs.workers=1", "verify.workers=1"]
    write_params(project, base)
    dvc(project, "init", "--no-scm", "-q")
    assert ran(dvc(project, "repro", "verify")) == ["dialogs", "verify"]
    dialogs_before = (project / "data" / "dialogs.jsonl").read_bytes()
    assert json.loads((project / "metrics" / "verify.json").read_text())["layers"]["model"]["status"] == "not run"

    # another judge: verify alone is out of date, and re-running asks that judge
    write_params(project, base + judge_overrides(llm_server))
    assert out_of_date(project) == ["verify"]
    assert ran(dvc(project, "repro", "verify")) == ["verify"]
    metrics = json.loads((project / "metrics" / "verify.json").read_text())
    assert metrics["layers"]["model"]["status"] == "run" and metrics["layers"]["model"]["checked"] > 0
    assert llm_server.calls > 0 and {r["model"] for r in llm_server.requests} == {JUDGE_MODEL}
    assert (project / "data" / "dialogs.jsonl").read_bytes() == dialogs_before

    # a judge knob (its temperature): verify alone again
    write_params(project, base + judge_overrides(llm_server, **{"judge.temperature": 0.2}))
    assert out_of_date(project) == ["verify"]
    assert ran(dvc(project, "repro", "verify")) == ["verify"]

    # a generator knob: dialogs is out of date, verify is not; the offline generator writes the same
    # dialogs at any temperature, so DVC re-runs dialogs and leaves verify (its input did not change)
    calls = llm_server.calls
    write_params(project, base + judge_overrides(llm_server, **{"judge.temperature": 0.2}) + ["llm.temperature=0.3"])
    assert out_of_date(project) == ["dialogs"]
    assert ran(dvc(project, "repro", "verify")) == ["dialogs"]
    assert (project / "data" / "dialogs.jsonl").read_bytes() == dialogs_before and llm_server.calls == calls
