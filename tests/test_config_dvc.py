"""A bad `dvc exp run -S key=value` stops while DVC composes conf/ (callforge's resolver checks the schema there),
in one line naming the key, before DVC touches any output or tracked file."""
from __future__ import annotations

from pathlib import Path

import pytest

from dvc_project import DVC, scratch_project, sh


def md5s(proj: Path) -> dict[str, str]:
    from callforge.io import md5_file
    return {str(p.relative_to(proj)): md5_file(p) for d in ("data", "metrics") for p in (proj / d).rglob("*")
            if p.is_file()}


@pytest.mark.parametrize("override, key", [
    ("+nosuch.key=1", "nosuch"),
    ("llm.temperature=warm", "llm.temperature"),
    ("llm.temperature=5", "llm.temperature"),
    ("+llm.extra=1", "llm.extra"),
    ("finetune.subset=nosuch", "finetune.subset"),
])
def test_bad_override_stops_dvc_exp_run_before_any_output_is_touched(override, key, tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    built = sh(proj, DVC, "repro", "taxonomy")
    assert built.returncode == 0, built.stdout + built.stderr
    before = md5s(proj)
    assert "data/taxonomy.json" in before and "metrics/taxonomy.json" in before
    proc = sh(proj, DVC, "exp", "run", "-S", override)
    assert proc.returncode != 0
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and key in lines[0] and lines[0].startswith("ERROR: "), lines
    assert md5s(proj) == before
