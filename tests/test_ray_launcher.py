"""`callforge build -m hydra/launcher=ray`: each variant runs as a task of a running Ray cluster (hydra-ray-launcher),
here a real head on 127.0.0.1 that the test starts and stops."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("ray")
pytest.importorskip("hydra_plugins.hydra_ray_launcher")

from dvc_project import CLI, scratch_project, sh  # noqa: E402
from ray_head import LOCAL_ONLY, ray_head  # noqa: E402
from test_sweeps import ran, sweep_children  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture
def local_only(monkeypatch):
    for key, value in LOCAL_ONLY.items():
        monkeypatch.setenv(key, value)


def _errors(out: str) -> str:
    return "\n".join(ln for ln in out.splitlines() if "callforge" in ln or "error" in ln.lower())[-5000:]


def test_build_runs_each_variant_on_the_ray_cluster(tmp_path, mlflow_template, local_only):
    proj = scratch_project(tmp_path, mlflow_template)
    with ray_head() as head:
        launch = ["hydra/launcher=ray", f"hydra.launcher.ray.init.address={head.address}"]
        proc = sh(proj, *CLI, "build", "--until", "apis", "-m", "apis.pool_size=40,70", *launch)
        workers = head.worker_output()
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, _errors(out)
        client, kids = sweep_children(proj)
        jobs = sorted(proj.glob("multirun/*/*/*/.hydra/overrides.yaml"))
        stray = sorted(p.name for p in head.temp_dir.glob("*") if p.name in ("mlflow.db", "multirun", ".dvc"))
        # a job that fails on a worker is still named by the driver (the failure list lives in the project)
        bad = sh(proj, *CLI, "build", "--until", "no_such_stage", "-m", "apis.pool_size=41,71", *launch)
        bad_workers = head.worker_output()
    assert not head.processes(), "the head and everything it started are stopped"
    assert "Ray Launcher is launching 2 jobs" in out
    for name in ("apis.pool_size=40", "apis.pool_size=70"):
        # the job's own line is in the log of a worker of this head: the variant ran on the cluster,
        # not in a Ray the driver started for itself
        assert re.search(rf"\[{re.escape(name)}\] exp run --temp -n {re.escape(name)} -S {re.escape(name)} apis",
                         workers), workers[-3000:]
    assert ran(workers).count("apis") == 2
    assert [r.info.run_name for r in kids] == ["apis.pool_size=40", "apis.pool_size=70"]
    assert all(r.info.status == "FINISHED" for r in kids)
    totals = [r.data.metrics["apis.apis_total"] for r in kids]
    assert totals[0] < totals[1], totals
    assert len(jobs) == 2, "each job's Hydra folder is in the project, though the worker runs elsewhere"
    assert not stray, "nothing of the project lands where the worker started (its MLflow store is the project's)"

    assert bad.returncode == 1, bad.stdout + bad.stderr
    failed = re.search(r"callforge: 2 of 2 variants failed: (.+)", bad.stderr)
    assert failed and sorted(failed.group(1).split(", ")) == ["apis.pool_size=41", "apis.pool_size=71"], \
        bad.stderr[-3000:]   # in the order the jobs ended
    assert "[apis.pool_size=41]" in bad_workers and "[apis.pool_size=71]" in bad_workers
    assert not list((proj / ".dvc" / "tmp").glob("callforge-build-*")), "the failure list is removed"
