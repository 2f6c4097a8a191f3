"""The report stage without a browser: what it writes, that it is reproducible and self-contained, that it
reaches the variant's MLflow run, and the comparison page from real MLflow runs."""
from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import pytest

from conftest import run_stage
from reportdata import BROKEN_ID, DROPPED_ID, PLANT, PLANTED_ID, read_rows

pytest_plugins = ["report_fixture"]       # its session fixture `report_project`, shared with test_report_browser.py


def tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def index_of(project: Path) -> dict:
    text = (project / "data" / "report" / "samples" / "index.js").read_text(encoding="utf-8")
    assert text.startswith("CF.index(") and text.endswith(");\n")
    return json.loads(text[len("CF.index("):-3])


def test_every_sample_is_in_the_browser_once_with_its_verdict(report_project):
    verified = read_rows(report_project / "data" / "verified.jsonl")
    rejected = read_rows(report_project / "data" / "rejected.jsonl")
    dropped = read_rows(report_project / "data" / "dialogs_dropped.jsonl")
    ix = index_of(report_project)
    got = {r[0]: ix["verdicts"][r[1]] for r in ix["rows"]}
    assert len(got) == len(ix["rows"]) == len(verified) + len(rejected) + len(dropped)
    assert got[BROKEN_ID] == "rejected" and got[DROPPED_ID] == "dropped"
    assert {s["id"] for s in verified} == {i for i, v in got.items() if v == "verified"}
    stats = json.loads((report_project / "metrics" / "report.json").read_text())
    assert stats["samples"] == {"verified": len(verified), "rejected": len(rejected), "dropped": len(dropped)}
    # rejected rows carry verify's reason codes; subsets come from data/split/
    row = next(r for r in ix["rows"] if r[0] == BROKEN_ID)
    assert [ix["reasons"][k] for k in row[5]] == rejected[0]["reasons"]
    full = {r["id"] for r in read_rows(report_project / "data" / "split" / "full.jsonl")}
    bit = 1 << ix["subsets"].index("full")
    assert {r[0] for r in ix["rows"] if r[4] & bit} == full


def test_samples_are_chunked_and_each_tool_is_written_once(report_project):
    samples = report_project / "data" / "report" / "samples"
    n = len(index_of(report_project)["rows"])
    chunks = sorted(samples.glob("s-*.js"))
    assert len(chunks) == math.ceil(n / 7)                  # report.chunk_samples=7 in the fixture
    cards = []
    for i, f in enumerate(chunks):
        head = f"CF.chunk({i},"
        text = f.read_text(encoding="utf-8")
        assert text.startswith(head)
        cards += json.loads(text[len(head):-3])
    tools = []
    for i, f in enumerate(sorted(samples.glob("t-*.js"))):
        head = f"CF.tools({i},"
        tools += json.loads(f.read_text(encoding="utf-8")[len(head):-3])
    assert len({json.dumps(t, sort_keys=True) for t in tools}) == len(tools)
    by_id = {c["id"]: c for c in cards}
    source = {s["id"]: s for s in read_rows(report_project / "data" / "verified.jsonl")}
    source.update({r["id"]: r["sample"] for r in read_rows(report_project / "data" / "rejected.jsonl")})
    planted = by_id[PLANTED_ID]
    assert [tools[t] for t in planted["tools"]] == source[PLANTED_ID]["tools"]
    assert [m.get("content") for m in planted["messages"]] == [m.get("content") for m in source[PLANTED_ID]["messages"]]
    losses = {r["id"]: r["loss"] for r in read_rows(report_project / "data" / "scores.jsonl")}
    assert planted["loss"] == losses[PLANTED_ID]


def test_the_report_names_no_outside_url_and_keeps_planted_markup_out_of_the_html(report_project):
    html = (report_project / "data" / "report" / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.I)
    assert re.findall(r'<script[^>]*src="([^"]+)"', html) == ["samples/index.js"]
    assert "Content-Security-Policy" in html and "unsafe-inline" not in html.split("style-src")[0]
    assert "window.__cfPwned" not in html           # sample text lives only in the sidecar JSON
    chunk = "".join(p.read_text(encoding="utf-8") for p in (report_project / "data" / "report" / "samples").glob("*.js"))
    assert json.dumps(PLANT)[1:-1] in chunk          # there, as a JSON string


def test_same_outputs_give_the_same_bytes(report_project):
    before = tree_digest(report_project / "data" / "report")
    run_stage("report", report_project)
    assert tree_digest(report_project / "data" / "report") == before


def test_the_report_is_logged_to_the_variants_run(report_project, tmp_path):
    from mlflow.tracking import MlflowClient

    from callforge.report.variants import fetch_variant

    client = MlflowClient(tracking_uri=f"sqlite:///{report_project / 'mlflow.db'}")
    run = client.search_runs([client.get_experiment_by_name("callforge").experiment_id],
                             "tags.`callforge.stage.report` = 'ran'", max_results=1)[0]
    assert "report/index.html" in [a.path for a in client.list_artifacts(run.info.run_id, "report")]
    got = fetch_variant(client, "callforge", run.info.run_name, tmp_path / "variant")
    assert tree_digest(got.parent) == tree_digest(report_project / "data" / "report")


def test_compare_page_shows_two_runs_side_by_side(report_project, tmp_path):
    from mlflow.tracking import MlflowClient

    from callforge.core.errors import CallforgeError
    from callforge.report.variants import write_comparison

    client = MlflowClient(tracking_uri=f"sqlite:///{report_project / 'mlflow.db'}")
    exp = client.get_experiment_by_name("callforge").experiment_id
    first = client.search_runs([exp], "tags.`callforge.stage.report` = 'ran'", max_results=1)[0]
    other = client.create_run(exp, run_name="dialogs.samples=80 <b>").info.run_id
    client.log_param(other, "dialogs.samples", "80")
    client.log_metric(other, "verify.verified", 78)
    client.log_metric(other, "runtime.dialogs.tokens.prompt_tokens", 7800)
    client.set_terminated(other)
    page = write_comparison(client, "callforge", [first.info.run_id, "dialogs.samples=80 <b>"], tmp_path)
    html = page.read_text(encoding="utf-8")
    assert "dialogs.samples=80 &lt;b&gt;" in html and "<b>" not in html
    row = re.search(r"<code>dialogs\.samples</code></th>(.*?)</tr>", html).group(1)
    assert re.findall(r">([^<]+)</td>", row) == ["40", "80"]
    cost = re.search(r"<code>runtime\.dialogs\.tokens\.prompt_tokens per kept sample</code></th>(.*?)</tr>", html)
    assert re.findall(r">([^<]+)</td>", cost.group(1))[1] == "100"
    with pytest.raises(CallforgeError) as e:
        write_comparison(client, "callforge", [first.info.run_id], tmp_path)
    assert e.value.code == "report.compare_needs_two"
    with pytest.raises(CallforgeError) as e:
        write_comparison(client, "callforge", [first.info.run_id, "no such variant"], tmp_path)
    assert e.value.code == "report.no_run"


def test_a_bad_report_setting_stops_naming_the_key():
    from callforge.core.config import ConfigError, compose, validate

    with pytest.raises(ConfigError, match=r"report\.page_size"):
        validate(compose(["report.page_size=0"]))


def test_chart_labels_are_escaped():
    from callforge.report import charts

    svg = charts.bars("t", [("<script>x</script>", 3)])
    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt;" in svg


def test_cli_report_compare_refuses_a_single_run_in_one_line(report_project, monkeypatch):
    from typer.testing import CliRunner

    from callforge.cli import app

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{report_project / 'mlflow.db'}")
    monkeypatch.chdir(report_project)
    result = CliRunner().invoke(app, ["report", "--compare", "only-one"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "callforge: report.compare_needs_two: --compare takes two or more runs (names or ids)"]
