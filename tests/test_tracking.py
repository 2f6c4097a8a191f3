"""The stage's MLflow helper process: the run holds the stage's stats, a logging failure fails the stage
(after its outputs are written), and a stage that dies leaves its run FAILED, not RUNNING."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

from callforge import io
from conftest import REPO, run_stage, stage_env, write_params


def _runs(project):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    exps = client.search_experiments()
    return client.search_runs([e.experiment_id for e in exps]) if exps else []


def test_stage_logs_its_stats_into_the_variant_run(project):
    write_params(project)
    run_stage("taxonomy", project)
    runs = _runs(project)
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    stats = json.loads((project / "metrics" / "taxonomy.json").read_text())
    assert runs[0].data.metrics["taxonomy.elapsed_s"] == stats["elapsed_s"]
    assert runs[0].data.tags["callforge.md5.taxonomy.taxonomy.json"] == io.md5_file(project / "data" / "taxonomy.json")


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
        from callforge.config import load_params
        from callforge.tracking import BackgroundTracker
        BackgroundTracker(load_params("params.yaml"))
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
