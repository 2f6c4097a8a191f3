"""Variants you can trust: `callforge build` sweeps drive DVC experiments (DVC's cache and run-cache are the one
store), each variant is one clean MLflow run under a sweep run, `callforge compare` shows what differs."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from dvc_project import CLI, DVC, scratch_project, sh

def mlflow_runs(proj: Path):
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{proj / 'mlflow.db'}")
    exp = client.get_experiment_by_name("callforge")
    return client, client.search_runs([exp.experiment_id], max_results=100)


def sweep_children(proj: Path):
    client, runs = mlflow_runs(proj)
    parents = [r for r in runs if r.data.tags.get("callforge.sweep") == "true"]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    kids = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    return client, sorted(kids, key=lambda r: r.info.run_name)


def ran(out: str) -> list[str]:
    return re.findall(r"Running stage '(\w+)'", out)


def test_split_sweep_after_dvc_repro_recomputes_nothing_upstream(tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    first = sh(proj, DVC, "repro", "split")
    assert first.returncode == 0, first.stdout + first.stderr
    assert set(ran(first.stdout)) >= {"dialogs", "complexity", "split"}
    proc = sh(proj, *CLI, "build", "--until", "split", "-m", "split.difficulty.samples=3,6")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert ran(out) == ["split", "split"], "only split runs; every upstream stage comes from DVC's run-cache"
    client, kids = sweep_children(proj)
    assert [r.info.run_name for r in kids] == ["split.difficulty.samples=3", "split.difficulty.samples=6"]
    for r in kids:
        m = r.data.metrics
        assert r.info.status == "FINISHED"
        assert not any(k.startswith(("runtime.dialogs.", "runtime.complexity.", "runtime.apis.")) for k in m), \
            "no dialog was generated and no sample scored again"
        assert "runtime.split.elapsed_s" in m and m["dialogs.samples_written"] > 0 and m["complexity.samples"] > 0
        for key in m:
            assert len(client.get_metric_history(r.info.run_id, key)) == 1, key
    sizes = [r.data.metrics["split.subsets.easy.samples"] for r in kids]
    assert sizes == [3, 6]
    show = sh(proj, DVC, "exp", "show", "--only-changed", "--csv")
    assert show.returncode == 0, show.stderr
    columns = show.stdout.splitlines()[0].split(",")
    assert "split.difficulty.samples" in columns and "subsets.easy.samples" in columns
    assert not [c for c in columns if re.search(r"_s$|elapsed|cache_hits", c)], "no timing differs between variants"
    cmp = sh(proj, *CLI, "compare")
    assert cmp.returncode == 0, cmp.stderr
    lines = cmp.stdout.splitlines()
    assert any(ln.startswith("split.difficulty.samples") for ln in lines)
    assert any(ln.startswith("split.subsets.easy.samples") for ln in lines)
    assert not any(ln.startswith(("seed", "dialogs.samples ")) for ln in lines), "only rows that differ"


def test_bad_value_in_a_sweep_stops_before_any_job_in_one_line(tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    proc = sh(proj, *CLI, "build", "-m", "llm.temperature=0.3,warm")
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "llm.temperature" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (proj / "data").exists()
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{proj / 'mlflow.db'}")
    exps = client.search_experiments()
    assert not client.search_runs([e.experiment_id for e in exps]), "no sweep run is opened for a sweep that cannot start"


@pytest.mark.slow
@pytest.mark.model
def test_upstream_sweep_retrains_and_reevaluates_each_variant(tmp_path, mlflow_template):
    pytest.importorskip("peft")
    proj = scratch_project(tmp_path, mlflow_template)
    proc = sh(proj, *CLI, "build", "-m", "dialogs.samples=20,24", timeout=1500)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert ran(out).count("finetune") == 2 and ran(out).count("evaluate") == 2, "no variant reuses another's model"
    client, kids = sweep_children(proj)
    assert [r.info.run_name for r in kids] == ["dialogs.samples=20", "dialogs.samples=24"]
    adapters = [r.data.tags["callforge.md5.models/adapter"] for r in kids]
    assert adapters[0] != adapters[1]
    exps = json.loads(sh(proj, DVC, "exp", "show", "--json").stdout)
    shown = {e["name"]: e["revs"][0]["data"] for rev in exps for e in (rev.get("experiments") or [])}
    evals = [shown[f"dialogs.samples={n}"]["metrics"]["metrics/evaluate.json"]["data"]["models"]["adapter_md5"]
             for n in (20, 24)]
    assert evals == adapters, "each variant was evaluated with its own adapter"


@pytest.mark.slow
def test_dvc_queue_runs_two_experiments(tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    q = sh(proj, DVC, "exp", "run", "--queue", "-S", "apis.pool_size=40,70", "apis")
    assert q.returncode == 0, q.stdout + q.stderr
    assert sh(proj, DVC, "queue", "start", "-j", "1").returncode == 0
    deadline = time.time() + 500
    while time.time() < deadline:
        status = sh(proj, DVC, "queue", "status").stdout
        if status.count("Success") + status.count("Failed") >= 2:
            break
        time.sleep(3)
    assert status.count("Success") == 2, status
    show = json.loads(sh(proj, DVC, "exp", "show", "--json").stdout)
    totals = [e["revs"][0]["data"]["metrics"]["metrics/apis.json"]["data"]["apis_total"]
              for rev in show for e in (rev.get("experiments") or [])]
    assert len(set(totals)) == 2, show
    _, runs = mlflow_runs(proj)
    assert sorted(r.info.run_name for r in runs) == ["apis.pool_size=40", "apis.pool_size=70"], \
        "each queued experiment logs into the project's MLflow store, named by what it changed"


def test_experiment_names_say_the_overrides_and_are_valid_git_refs():
    import subprocess

    from callforge.core.build import combinations, exp_name

    jobs = combinations(["dialogs.samples=20,24", "evaluate.bfcl.categories=[simple_python,multiple]", "llm=offline"])
    assert [j[0] for j in jobs] == ["dialogs.samples=20", "dialogs.samples=24"] and len(jobs) == 2
    for overrides in [*jobs, ["x=..y."], ["p=a.lock"], []]:
        name = exp_name(overrides)
        ok = subprocess.run(["git", "check-ref-format", f"refs/exps/ab/cdef/{name}"]).returncode == 0
        assert ok and "/" not in name, name
    assert exp_name(["dialogs.samples=20", "seed=1"]) == "dialogs.samples=20+seed=1" and exp_name([]) == "default"
