"""The session fixture `report_project`: a project built by the real offline stages (taxonomy -> split,
heuristic scores), with untrusted-looking text planted in one sample and one of its tools, a sample that
verify rejects and a dialog-generation drop (reportdata.py); then the report stage, logged to a real MLflow
store. Shared by test_report.py and test_report_browser.py (`pytest_plugins`), so it is built once."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_stage, write_params
from reportdata import OVERRIDES, plant


@pytest.fixture(scope="session")
def report_project(tmp_path_factory, mlflow_template) -> Path:
    project = tmp_path_factory.mktemp("report")
    shutil.copytree(REPO / "conf", project / "conf")
    shutil.copy(REPO / "dvc.yaml", project / "dvc.yaml")     # each stage reads only what dvc.yaml declares
    shutil.copy(mlflow_template, project / "mlflow.db")
    write_params(project, OVERRIDES)
    for name in ("taxonomy", "apis", "dialogs"):
        run_stage(name, project)
    plant(project)
    for name in ("complexity", "verify", "split", "report"):
        run_stage(name, project)
    return project
