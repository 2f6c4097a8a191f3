"""The session fixture `split_project`: one project split and exported once, shared by test_split.py and
test_export.py (both load this module with `pytest_plugins`, so it is built once)."""
from __future__ import annotations

from pathlib import Path

import pytest

from splitdata import EVAL_QUESTIONS, build, contaminated


@pytest.fixture(scope="session")
def split_project(tmp_path_factory, mlflow_template) -> Path:
    return build(tmp_path_factory.mktemp("split"), mlflow_template,
                 extra_fn=lambda pool, by: contaminated(pool, by, EVAL_QUESTIONS["simple_1"]))
