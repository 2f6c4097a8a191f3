"""Variants at scale: Hydra multirun with stage reuse, MLflow sweep runs, `callforge compare`, DVC queue."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, stage_env

CLI = [sys.executable, "-m", "callforge.cli"]


def scratch_project(tmp_path: Path, mlflow_template: Path) -> Path:
    """A copy of the project's tracked files (what a clone has), as its own git repo."""
    proj = tmp_path / "proj"
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        src = REPO / f
        if src.is_file() and not f.startswith(("metrics/", "tests/", "bench/")):
            dst = proj / f
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(src.read_bytes())
    import shutil
    shutil.copy(mlflow_template, proj / "mlflow.db")
    return proj


def env_for(proj: Path) -> dict:
    env = stage_env(proj)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"   # dvc.yaml's `python` = this venv
    env["CALLFORGE_ROOT"] = str(proj)
    return env


def runs(proj: Path):
    from mlflow.tracking import MlflowClient
    client = MlflowClient(tracking_uri=f"sqlite:///{proj / 'mlflow.db'}")
    exp = client.get_experiment_by_name("callforge")
    return client, client.search_runs([exp.experiment_id], max_results=100)


def test_multirun_builds_one_variant_per_job_and_reuses_shared_work(tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    proc = subprocess.run([*CLI, "build", "--until", "apis", "-m", "apis.pool_size=60,90,120",
                           "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
                          cwd=proj, env=env_for(proj), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = sorted(p.parent for p in proj.glob("multirun/*/*/*/params.yaml"))
    assert len(jobs) == 3
    sizes = sorted(sum(1 for _ in open(j / "data" / "apis.jsonl")) for j in jobs)
    assert sizes[0] < sizes[1] < sizes[2] and sizes[2] <= 120
    # taxonomy reads none of the swept keys: computed once, restored in the other jobs
    assert proc.stdout.count("[taxonomy] running") <= 2 and proc.stdout.count("[taxonomy] reused") >= 1
    client, all_runs = runs(proj)
    parents = [r for r in all_runs if r.data.tags.get("callforge.sweep") == "true"]
    assert len(parents) == 1
    children = [r for r in all_runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert sorted(r.data.params["apis.pool_size"] for r in children) == ["120", "60", "90"]
    for r in children:   # each variant carries its own stats, upstream (reused) stage included
        assert r.data.metrics["apis.apis_total"] > 0 and "taxonomy.leaves" in " ".join(r.data.metrics) or \
            any(k.startswith("taxonomy.") for k in r.data.metrics)
        assert r.data.tags["git_commit"] and r.inputs.dataset_inputs
    out = subprocess.run([*CLI, "compare"], cwd=proj, env=env_for(proj), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("param apis.pool_size"))
    assert line.split()[2:] == ["60", "90", "120"] or sorted(line.split()[2:]) == ["120", "60", "90"]
    assert "param seed" not in out.stdout, "only params that differ are shown"
    assert any(ln.startswith("apis.apis_total") for ln in out.stdout.splitlines())


def test_rebuild_with_same_config_reuses_every_stage(tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    cmd = [*CLI, "build", "--until", "apis", "apis.pool_size=50"]
    first = subprocess.run(cmd, cwd=proj, env=env_for(proj), capture_output=True, text=True, timeout=600)
    second = subprocess.run(cmd, cwd=proj, env=env_for(proj), capture_output=True, text=True, timeout=600)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "[apis] running" in first.stdout and "[apis] running" not in second.stdout
    assert second.stdout.count("reused") == 2
    a, b = (sorted(proj.glob("outputs/*/*/data/apis.jsonl")))
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.slow
def test_dvc_queue_runs_two_experiments(tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    env = env_for(proj)
    sh = lambda *c, **kw: subprocess.run(list(c), cwd=proj, env=env, capture_output=True, text=True, timeout=600, **kw)
    assert sh("git", "init", "-q").returncode == 0
    sh("git", "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    assert sh("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init").returncode == 0
    q = sh("dvc", "exp", "run", "--queue", "-S", "apis.pool_size=40,70", "apis")
    assert q.returncode == 0, q.stdout + q.stderr
    assert sh("dvc", "queue", "start", "-j", "1").returncode == 0
    deadline = time.time() + 500
    while time.time() < deadline:
        status = sh("dvc", "queue", "status").stdout
        if status.count("Success") + status.count("Failed") >= 2:
            break
        time.sleep(3)
    assert status.count("Success") == 2, status + sh("dvc", "queue", "logs", "--help").stdout[:0]
    show = json.loads(sh("dvc", "exp", "show", "--json").stdout)
    exps = [e for rev in show for e in (rev.get("experiments") or [])]
    totals = []
    for e in exps:
        data = e["revs"][0]["data"]
        totals.append(data["metrics"]["metrics/apis.json"]["data"]["apis_total"])
        assert data["params"]["params.yaml"]["data"]["apis"]["pool_size"] in (40, 70)
    assert sorted(totals) == sorted(set(totals)) and len(totals) == 2, show
    client, all_runs = runs(proj)
    sizes = sorted(r.data.params.get("apis.pool_size") for r in all_runs if r.data.params.get("apis.pool_size"))
    assert sizes == ["40", "70"], "each queued experiment logs into the project's MLflow store"
