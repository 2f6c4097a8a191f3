"""Same config + seed → byte-identical outputs in two fresh clones; a warm rebuild makes zero LLM calls."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from callforge.core.io import md5_file
from dvc_project import env_for, scratch_project

SMALL = ["apis.pool_size=150", "dialogs.samples=120"]


def clone_pair(tmp_path: Path, mlflow_template: Path) -> tuple[Path, Path]:
    origin = scratch_project(tmp_path, mlflow_template)      # a git repo of its own
    clones = []
    for name in ("a", "b"):
        subprocess.run(["git", "clone", "-q", str(origin), str(tmp_path / name)], check=True)
        (tmp_path / name / "mlflow.db").write_bytes((origin / "mlflow.db").read_bytes())
        clones.append(tmp_path / name)
    return clones[0], clones[1]


def build(clone: Path, target: str, overrides: list[str], env_extra: dict | None = None) -> None:
    env = {**env_for(clone), **(env_extra or {})}
    for cmd in (["callforge", "params", *overrides], ["dvc", "repro", target]):
        proc = subprocess.run([str(Path(env["PATH"].split(":")[0]) / cmd[0]), *cmd[1:]], cwd=clone, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def data_hashes(clone: Path) -> dict[str, str]:
    """Every data file and tracked metric, not data/runtime/ (how long things took differs by design)."""
    files = [p for d in ("data", "metrics") for p in sorted((clone / d).rglob("*"))
             if p.is_file() and "runtime" not in p.relative_to(clone).parts]
    return {str(p.relative_to(clone)): md5_file(p) for p in files}


@pytest.mark.slow
def test_two_fresh_clones_build_byte_identical_data(tmp_path, mlflow_template):
    a, b = clone_pair(tmp_path, mlflow_template)
    for clone in (a, b):
        build(clone, "verify", SMALL)
    ha, hb = data_hashes(a), data_hashes(b)
    assert len(ha) >= 6 and ha == hb
    assert any(k.startswith("metrics/") for k in ha), "tracked metrics hold no timings: they match too"
    assert lock_outs(a) == lock_outs(b) and len(lock_outs(a)) >= 6


def lock_outs(clone: Path) -> dict[str, str]:
    import yaml
    lock = yaml.safe_load((clone / "dvc.lock").read_text())
    return {o["path"]: o["md5"] for s in lock["stages"].values() for o in s.get("outs", [])
            if not o["path"].startswith("metrics/")}


@pytest.mark.slow
def test_warm_rebuild_in_another_clone_makes_zero_llm_calls(tmp_path, mlflow_template, llm_server):
    from llm_server import llm_overrides
    from test_secrets import make_responder

    llm_server.set_responder(make_responder())
    a, b = clone_pair(tmp_path, mlflow_template)
    shared_cache = tmp_path / "llm-cache"       # a team's shared response cache (any path, e.g. NFS)
    overrides = llm_overrides(llm_server) + ["apis.pool_size=12", "apis.batch_size=6", "dialogs.samples=10",
                                             "taxonomy.source=offline", f"cache_dir={shared_cache}"]
    build(a, "dialogs", overrides)
    cold = llm_server.calls
    assert cold > 0
    build(b, "dialogs", overrides)
    assert llm_server.calls == cold, "a rebuild from a warm cache must make zero calls"
    assert data_hashes(a) == data_hashes(b)
