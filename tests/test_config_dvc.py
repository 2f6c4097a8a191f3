"""A bad `dvc exp run -S key=value` stops while DVC composes conf/ (callforge's resolver checks the schema there),
in one line naming the key, before DVC touches any output or tracked file."""
from __future__ import annotations

from pathlib import Path

from dvc_project import DVC, scratch_project, sh


def md5s(proj: Path) -> dict[str, str]:
    from callforge.core.io import md5_file
    return {str(p.relative_to(proj)): md5_file(p) for d in ("data", "metrics") for p in (proj / d).rglob("*")
            if p.is_file()}


BAD = [
    ("+nosuch.key=1", "nosuch"),             # an added key
    ("llm.temperature=warm", "llm.temperature"),   # a wrong type
    ("llm.temperature=5", "llm.temperature"),      # out of range
    ("+llm.extra=1", "llm.extra"),
    ("finetune.subset=nosuch", "finetune.subset"), # not one of the choices
]


def test_bad_override_stops_dvc_exp_run_before_any_output_is_touched(tmp_path, mlflow_template):
    proj = scratch_project(tmp_path, mlflow_template)
    built = sh(proj, DVC, "repro", "taxonomy")
    assert built.returncode == 0, built.stdout + built.stderr
    before = md5s(proj)
    assert "data/taxonomy.json" in before and "metrics/taxonomy.json" in before
    for override, key in BAD:
        proc = sh(proj, DVC, "exp", "run", "-S", override)
        assert proc.returncode != 0, override
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        assert len(lines) == 1 and key in lines[0] and lines[0].startswith("ERROR: "), (override, lines)
        assert md5s(proj) == before, override
