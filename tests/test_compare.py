"""`callforge compare`: only the rows that differ, grouped, full names, text/md/csv/json, against a real MLflow store."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from callforge.core import compare as cmp

REPO = Path(__file__).resolve().parents[1]
LONG = "verify.rules.per_rule.argument_type_mismatch_against_declared_schema.rejected_fraction"
assert len(LONG) > 60

PARAMS_A = {"seed": "0", "llm.concurrency": "8", "dialogs.samples": "30"}
PARAMS_B = {"seed": "0", "llm.concurrency": "8", "dialogs.samples": "40"}
METRICS_A = {"taxonomy.leaves": 120.0, "dialogs.samples_total": 30.0, LONG: 0.125,
             "split.train.samples": 24.0, "evaluate.overall.accuracy": 0.5, "finetune.train.loss": 1.0,
             "evaluate.same": 0.75, "runtime.dialogs.seconds": 12.5, "runtime.same.seconds": 1.0,
             "export.near": 0.1234567}
METRICS_B = {**METRICS_A, "dialogs.samples_total": 40.0, LONG: 0.25, "evaluate.overall.accuracy": 0.625,
             "runtime.dialogs.seconds": 14.0, "export.near": 0.1234568}
# equal in both: taxonomy.leaves, split.train.samples, finetune.train.loss, evaluate.same, runtime.same.seconds


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from mlflow.entities import Metric, Param
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("compare") / "mlflow.db"
    uri = f"sqlite:///{db}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("callforge")
    t0 = 1_700_000_000_000
    parent = client.create_run(exp, run_name="sweep", start_time=t0, tags={"callforge.sweep": "true"}).info.run_id
    ids = []
    for i, (name, params, metrics) in enumerate([("dialogs.samples=30", PARAMS_A, METRICS_A),
                                                  ("dialogs.samples=40", PARAMS_B, METRICS_B)]):
        rid = client.create_run(exp, run_name=name, start_time=t0 + 1000 * (i + 1),
                                tags={"mlflow.parentRunId": parent}).info.run_id
        client.log_batch(rid, metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()],
                         params=[Param(k, v) for k, v in params.items()])
        ids.append(rid)
    # a plain run with the same name as the first child, outside the sweep: names get the run id prefix
    twin = client.create_run(exp, run_name="dialogs.samples=30", start_time=t0 + 5000).info.run_id
    client.log_batch(twin, metrics=[Metric(k, v, 0, 0) for k, v in METRICS_B.items()],
                     params=[Param(k, v) for k, v in PARAMS_A.items()])
    return SimpleNamespace(uri=uri, parent=parent, children=ids, twin=twin)


def run_compare(store, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLFLOW_TRACKING_URI": store.uri}
    proc = subprocess.run([sys.executable, "-m", "callforge.cli", "compare", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def sections(text: str) -> dict[str, list[str]]:
    """text output -> {group: [row lines]}"""
    out, group = {}, None
    for ln in text.splitlines():
        if ln.startswith("[") and ln.endswith("]"):
            group = ln[1:-1]
            out[group] = []
        elif group and ln.strip():
            out[group].append(ln)
    return out


def keys(lines: list[str]) -> list[str]:
    return [ln.split()[0] for ln in lines]


def test_default_shows_only_differing_rows_grouped_with_full_names(store):
    out = run_compare(store).stdout
    header = out.splitlines()[0]
    assert "dialogs.samples=30" in header and "dialogs.samples=40" in header
    assert header.index("dialogs.samples=30") < header.index("dialogs.samples=40")   # sweep order
    got = sections(out)
    assert list(got) == ["params", "dataset stats", "downstream"]
    assert keys(got["params"]) == ["dialogs.samples"]
    assert keys(got["dataset stats"]) == ["dialogs.samples_total", "export.near", LONG]
    assert keys(got["downstream"]) == ["evaluate.overall.accuracy"]
    assert LONG in out                                    # never cut at 60 characters
    row = {ln.split()[0]: ln.split()[1:] for lines in got.values() for ln in lines}
    assert row["dialogs.samples"] == ["30", "40"]
    assert row["dialogs.samples_total"] == ["30", "40"]
    assert row[LONG] == ["0.125", "0.25"]
    assert row["export.near"][0] != row["export.near"][1]   # {:.6g} would print both as 0.123457
    for equal in ("seed", "llm.concurrency", "taxonomy.leaves", "split.train.samples", "finetune.train.loss",
                  "evaluate.same"):
        assert equal not in row
    assert "runtime" not in out


def test_all_shows_equal_rows_and_runtime(store):
    got = sections(run_compare(store, "--all").stdout)
    assert list(got) == ["params", "dataset stats", "downstream", "runtime"]
    assert set(keys(got["params"])) == {"seed", "llm.concurrency", "dialogs.samples"}
    assert {"taxonomy.leaves", "split.train.samples", LONG} <= set(keys(got["dataset stats"]))
    assert set(keys(got["downstream"])) == {"evaluate.overall.accuracy", "finetune.train.loss", "evaluate.same"}
    assert set(keys(got["runtime"])) == {"runtime.dialogs.seconds", "runtime.same.seconds"}


def test_metric_glob_filters_metrics(store):
    got = sections(run_compare(store, "--metric", "evaluate.*", "--metric", "runtime.*").stdout)
    assert keys(got["downstream"]) == ["evaluate.overall.accuracy"]
    assert keys(got["runtime"]) == ["runtime.dialogs.seconds"]
    assert "dataset stats" not in got
    assert keys(got["params"]) == ["dialogs.samples"]


def test_markdown_tables(store):
    out = run_compare(store, "--format", "md").stdout
    assert [ln for ln in out.splitlines() if ln.startswith("### ")] == \
        ["### params", "### dataset stats", "### downstream"]
    tables = [ln for ln in out.splitlines() if ln.startswith("|")]
    widths = {ln.count("|") for ln in tables}
    assert widths == {4}                                  # key + 2 variants
    assert "| key | dialogs.samples=30 | dialogs.samples=40 |" in tables
    assert f"| {LONG} | 0.125 | 0.25 |" in tables


def test_csv(store):
    rows = list(csv.reader(io.StringIO(run_compare(store, "--format", "csv").stdout)))
    assert rows[0] == ["group", "key", "dialogs.samples=30", "dialogs.samples=40"]
    body = {(g, k): v for g, k, *v in rows[1:]}
    assert body[("params", "dialogs.samples")] == ["30", "40"]
    assert body[("dataset stats", LONG)] == ["0.125", "0.25"]
    assert body[("downstream", "evaluate.overall.accuracy")] == ["0.5", "0.625"]
    assert float(body[("dataset stats", "export.near")][1]) == 0.1234568
    assert len(body) == 5


def test_json(store):
    doc = json.loads(run_compare(store, "--format", "json").stdout)
    assert [v["name"] for v in doc["variants"]] == ["dialogs.samples=30", "dialogs.samples=40"]
    assert [v["run_id"] for v in doc["variants"]] == store.children
    rows = {(r["group"], r["key"]): r["values"] for r in doc["rows"]}
    assert rows[("params", "dialogs.samples")] == ["30", "40"]
    assert rows[("dataset stats", LONG)] == [0.125, 0.25]
    assert rows[("downstream", "evaluate.overall.accuracy")] == [0.5, 0.625]
    assert len(rows) == 5


def test_explicit_run_ids_with_same_name_get_the_run_id_prefix(store):
    a, twin = store.children[0], store.twin
    doc = json.loads(run_compare(store, a, twin, "--format", "json").stdout)
    names = [v["name"] for v in doc["variants"]]
    assert names == [f"dialogs.samples=30 [{a[:8]}]", f"dialogs.samples=30 [{twin[:8]}]"]
    assert not any(r["group"] == "params" for r in doc["rows"])   # same params
    assert {r["key"] for r in doc["rows"]} == {"dialogs.samples_total", "export.near", LONG,
                                               "evaluate.overall.accuracy"}


def test_bad_format_is_refused(store):
    env = {**os.environ, "MLFLOW_TRACKING_URI": store.uri}
    proc = subprocess.run([sys.executable, "-m", "callforge.cli", "compare", "--format", "xml"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "--format" in proc.stderr


# ------------------------------------------------------------------------------------ without a store

def fake_run(run_id: str, name: str | None = None, tags: dict | None = None, params=None, metrics=None):
    return SimpleNamespace(info=SimpleNamespace(run_id=run_id, run_name=name),
                           data=SimpleNamespace(tags=tags or {}, params=params or {}, metrics=metrics or {}))


def test_variant_names_fall_back_to_dvc_exp_name_then_run_id():
    runs = [fake_run("a" * 32, "x"), fake_run("b" * 32, None, {"dvc_exp_name": "exp-1"}),
            fake_run("c" * 32, None), fake_run("d" * 32, "x")]
    assert cmp.variant_names(runs) == ["x [aaaaaaaa]", "exp-1", "cccccccc", "x [dddddddd]"]


def test_numbers_get_more_digits_only_when_needed():
    assert cmp.format_values([0.1234567, 0.1234568]) == ["0.1234567", "0.1234568"]
    assert cmp.format_values([0.1234567, 0.5]) == ["0.123457", "0.5"]
    assert cmp.format_values([1e-12, 2e-12, None]) == ["1e-12", "2e-12", cmp.MISSING]
    assert cmp.format_values([3.0, 120000000.0]) == ["3", "120000000"]
    a, b = 0.1 + 0.2, 0.3
    assert len(set(cmp.format_values([a, b]))) == 2


def test_missing_values_and_nan_count_as_rows_that_differ():
    nan = float("nan")
    runs = [fake_run("a" * 32, "a", metrics={"x.only_a": 1.0, "x.nan": nan}),
            fake_run("b" * 32, "b", metrics={"x.nan": nan})]
    t = cmp.table(runs)
    assert [r.key for r in t.rows] == ["x.only_a"]
    assert "no differences" in cmp.render(cmp.table(runs, ["x.nan"]))


def test_variants_fine_tuned_models_are_paired_question_by_question(tmp_path):
    """Each variant's evaluate answers (a run artifact) against the first variant's, on the same questions."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.create_experiment("callforge")
    first = [True] * 8 + [False] * 5 + [True] + [False] * 6        # 20 BFCL questions
    second = [True] * 8 + [True] * 5 + [False] + [False] * 6       # 5 more right, 1 fewer
    runs = []
    for name, oks in (("dialogs.samples=30", first), ("dialogs.samples=40", second)):
        rid = client.create_run(exp, run_name=name).info.run_id
        rows = [{"set": "bfcl", "model": m, "id": f"q{i}", "ok": ok if m == "finetuned" else False}
                for m in ("base", "finetuned") for i, ok in enumerate(oks)]
        path = tmp_path / name / "answers.jsonl"
        path.parent.mkdir()
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        client.log_artifact(rid, str(path), artifact_path="outputs")
        # gold-call NLL per question: the second variant 0.1 nats lower on every question but the first
        gold = [{"set": "bfcl", "id": f"q{i}", "nll": {"base": 2.0, "finetuned": 1.0 + i / 10 - (0.1 if name.endswith("40") and i else 0)}}
                for i in range(10)]
        (path.parent / "gold_nll.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gold))
        client.log_artifact(rid, str(path.parent / "gold_nll.jsonl"), artifact_path="outputs")
        runs.append(client.get_run(rid))
    t = cmp.table(runs, answers=cmp.load_answers(client, runs))
    got = {r.key: r.values for r in t.rows if "finetuned vs" in r.key}
    prefix = "evaluate.bfcl.finetuned vs dialogs.samples=30."
    assert got[prefix + "delta"] == [None, 0.2] and got[prefix + "n"] == [None, 20]
    assert got[prefix + "p_value"] == [None, round(2 * 7 / 64, 4)] and got[prefix + "significant"] == [None, "false"]
    assert got[prefix + "ci95"][1].startswith("[-0.02")
    assert all(r.group == "downstream" for r in t.rows if "finetuned vs" in r.key)
    g = "evaluate.bfcl.gold_nll.finetuned vs dialogs.samples=30."
    assert got[g + "n"] == [None, 10] and got[g + "delta"] == [None, -0.09]      # 9 of 10 questions 0.1 lower
    low, high = (float(x) for x in got[g + "ci95"][1].strip("[]").split(", "))
    assert low < -0.09 < high < 0 and got[g + "significant"] == [None, "true"]
