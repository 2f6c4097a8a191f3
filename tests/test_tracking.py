"""The stage's MLflow helper process: the run holds the stage's stats, a logging failure fails the stage
(after its outputs are written), and a stage that dies leaves its run FAILED, not RUNNING."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from callforge.core import io
from conftest import REPO, run_stage, stage_env, write_params


def _runs(project):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    exps = client.search_experiments()
    return client.search_runs([e.experiment_id for e in exps]) if exps else []


def _numeric_leaves(stats, prefix):
    from callforge.core.tracking import metric_items
    return metric_items(stats, prefix)


def test_stage_logs_each_value_once_into_a_run_named_by_its_overrides(project):
    from mlflow.tracking import MlflowClient

    write_params(project, ["apis.pool_size=40"])
    run_stage("taxonomy", project)
    run_stage("apis", project)
    runs = _runs(project)
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    run = runs[0]
    assert run.info.run_name == "apis.pool_size=40"
    for stage in ("taxonomy", "apis"):
        stats = json.loads((project / "metrics" / f"{stage}.json").read_text())
        runtime = json.loads((project / "data" / "runtime" / f"{stage}.json").read_text())
        assert "elapsed_s" not in stats and runtime["elapsed_s"] > 0, "timings live apart from tracked metrics"
        for k, v in _numeric_leaves(stats, stage).items():
            assert run.data.metrics[k] == v
        assert run.data.metrics[f"runtime.{stage}.elapsed_s"] == runtime["elapsed_s"]
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    for key in run.data.metrics:
        assert len(client.get_metric_history(run.info.run_id, key)) == 1, key
    names = [d.dataset.name for d in run.inputs.dataset_inputs]
    assert sorted(names) == sorted(set(names)) and "data/apis.jsonl" in names
    digest = next(d.dataset.digest for d in run.inputs.dataset_inputs if d.dataset.name == "data/apis.jsonl")
    assert digest == io.md5_file(project / "data" / "apis.jsonl")
    assert not any(k.startswith("bench.") for k in run.data.metrics)


def test_a_stage_run_again_opens_a_new_run_instead_of_logging_twice(project):
    write_params(project)
    run_stage("taxonomy", project)
    run_stage("taxonomy", project)
    runs = _runs(project)
    assert len(runs) == 2 and {r.info.run_name for r in runs} == {"default"}
    assert all(r.info.status == "FINISHED" for r in runs)


def test_folder_digest_is_the_one_dvc_records(tmp_path):
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a\n")
    (folder / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (folder / "z-c.json").write_text("{}")
    dvc = str(Path(sys.executable).with_name("dvc"))
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    subprocess.run([dvc, "add", "-q", "out"], cwd=tmp_path, check=True)
    import yaml
    recorded = yaml.safe_load((tmp_path / "out.dvc").read_text())["outs"][0]["md5"]
    assert io.md5_file(folder) == recorded


def test_stage_that_cannot_log_fails_after_writing_its_outputs(project):
    write_params(project)
    (project / "blocked").write_text("a file where the store's folder would go")
    proc = run_stage("taxonomy", project, check=False,
                     MLFLOW_TRACKING_URI=f"sqlite:///{project / 'blocked' / 'mlflow.db'}")
    assert proc.returncode == 1
    assert "outputs written, but not logged" in proc.stderr and "MLflow tracking" in proc.stderr
    assert json.loads((project / "data" / "taxonomy.json").read_text())     # the work is not lost


def test_stage_that_dies_leaves_its_run_failed(project):
    write_params(project)
    script = textwrap.dedent("""
        import os, sys, time
        sys.path.insert(0, %r)
        from callforge.core.config import load_params
        from callforge.core.tracking import BackgroundTracker
        BackgroundTracker(load_params("params.yaml"), "taxonomy")
        time.sleep(0.5)
        os._exit(9)      # no finish(): as if killed
    """ % str(REPO))
    proc = subprocess.run([sys.executable, "-c", script], cwd=project, env=stage_env(project), timeout=120)
    assert proc.returncode == 9
    deadline = time.time() + 60                # the helper finishes opening the run, then sees the pipe closed
    while time.time() < deadline:
        runs = _runs(project)
        if runs and runs[0].info.status != "RUNNING":
            break
        time.sleep(0.5)
    assert len(runs) == 1 and runs[0].info.status == "FAILED"
