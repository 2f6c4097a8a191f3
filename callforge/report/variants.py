"""`callforge report --variant` and `--compare`: reports of variants other than the workspace's, from MLflow.

Every variant's report stage logged its folder to the variant's run (artifact `report/`), so a variant's
report is fetched, not rebuilt; the comparison page is built from the runs' params and metrics.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from callforge.core import io
from callforge.core.errors import CallforgeError

from .compare_page import render, resolve_runs

ARTIFACT = "report"
REPORTS = Path("data/reports")     # beside the data, untracked: not the stage's data/report


def folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", name)[:120] or "variant"


def fetch_variant(client, experiment: str, name: str, out: Path | None = None) -> Path:
    """Download the run's logged report into out (default data/reports/<name>/); -> its index.html."""
    run = resolve_runs(client, experiment, [name])[0]
    out = Path(out or REPORTS / folder_name(name))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            got = Path(client.download_artifacts(run.info.run_id, ARTIFACT, tmp))
        except Exception:         # mlflow raises its own error types for a missing artifact
            got = None
        if got is None or not (got / "index.html").is_file():
            raise CallforgeError("report.no_report", f"run {run.info.run_id} ({name}) holds no report: its "
                                 "pipeline stopped before the report stage (e.g. `callforge build --until`)")
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(got, out)
    return out / "index.html"


def write_comparison(client, experiment: str, names: list[str], out: Path | None = None,
                     all_rows: bool = False) -> Path:
    from callforge.core.compare import load_answers

    if len(names) < 2:
        raise CallforgeError("report.compare_needs_two", "--compare takes two or more runs (names or ids)")
    runs = resolve_runs(client, experiment, names)
    path = Path(out or REPORTS / "compare") / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    io.atomic_write_text(path, render(runs, load_answers(client, runs), all_rows))
    return path
