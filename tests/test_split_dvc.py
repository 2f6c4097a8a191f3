"""`dvc repro export` writes every format for every subset; changing a split parameter re-runs split and
export only, an export parameter export only (the split and export entries of the real dvc.yaml)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from callforge.split import TRAIN_SUBSETS
from conftest import REPO, write_params
from samplegen import make_dataset

BASE = ["tracking.enabled=false", "split.decontam.eval_set=none", "split.difficulty.samples=50", "split.diversity.samples=30"]


def dvc(project, *args) -> str:
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}", "CI": "1"}
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "dvc"), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def changed(project) -> list[str]:
    """Stages `dvc status` finds out of date."""
    return sorted(json.loads(dvc(project, "status", "--json").strip() or "{}"))


def ran(out: str) -> list[str]:
    return sorted(s for s in ("split", "export") if f"Running stage '{s}'" in out)


@pytest.mark.slow
def test_dvc_repro_export_and_what_a_param_change_reruns(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    shutil.copytree(REPO / "conf", project / "conf")
    shutil.copytree(REPO / "stages", project / "stages")
    shutil.copytree(REPO / "callforge", project / "callforge", ignore=shutil.ignore_patterns("__pycache__"))
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": {k: spec["stages"][k] for k in ("split", "export")}},
                                                     sort_keys=False))
    make_dataset(project, 500, n_apis=150, n_domains=10)
    write_params(project, BASE)
    dvc(project, "init", "--no-scm", "-q")

    assert ran(dvc(project, "repro", "export")) == ["export", "split"]
    for s in TRAIN_SUBSETS:
        files = {p.name for p in (project / "data" / "export" / s).rglob("*") if p.is_file()}
        assert files >= {"sharegpt.jsonl", "openai.jsonl", "xlam.jsonl", "README.md", "train-00000-of-00001.parquet"}
    assert any((project / "data" / "export" / "eval_bfcl").glob("BFCL_v4_callforge_*.json"))
    assert ran(dvc(project, "repro", "export")) == []

    write_params(project, [*BASE[:-1], "split.diversity.samples=20"])
    assert changed(project) == ["export", "split"]
    assert ran(dvc(project, "repro", "export")) == ["export", "split"]
    assert changed(project) == []
    stats = json.loads((project / "metrics" / "split.json").read_text())
    assert {stats["subsets"][k]["samples"] for k in ("div_low", "div_medium", "div_high")} == {20}

    write_params(project, [*BASE[:-1], "split.diversity.samples=20", "export.formats=[openai,hf]"])
    assert changed(project) == ["export"]
    assert ran(dvc(project, "repro", "export")) == ["export"]
    assert not (project / "data" / "export" / "full" / "sharegpt.jsonl").exists()
