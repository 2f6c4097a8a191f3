"""Stage `export`: every subset in every format loads with `datasets`, every record validates against
its format's schema (OpenAI messages against the fine-tuning schema), content survives the trip, the
eval split reads as BFCL, and the same inputs give the same bytes."""
from __future__ import annotations

import hashlib
import json
import re
import shutil

import datasets
import pyarrow.parquet as pq
import pytest

from callforge.calling import bfcl
from callforge.core import records
from callforge.calling.calls import parse_calls
from callforge.export import bfcl_eval, openai_ft
from callforge.export.common import first_decision
from callforge.split import TRAIN_SUBSETS
from conftest import run_stage
from splitdata import read_jsonl, samples_by_id

pytest_plugins = ["split_fixture"]       # its session fixture `split_project`, shared with test_split.py

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.fixture(scope="module")
def exported(split_project):
    by_id = samples_by_id(split_project)
    order = {s: [by_id[r["id"]] for r in read_jsonl(split_project / "data" / "split" / f"{s}.jsonl")]
             for s in TRAIN_SUBSETS}
    return split_project, order


def load(path, tmp_path):
    datasets.disable_progress_bars()
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))


def test_every_subset_and_format_loads_with_datasets(exported, tmp_path):
    project, order = exported
    stats = json.loads((project / "metrics" / "export.json").read_text())
    for s in TRAIN_SUBSETS:
        out = project / "data" / "export" / s
        n = len(order[s])
        assert n > 0
        xlam_n = sum(first_decision(x)[2] != "other" for x in order[s])
        for fmt, expected in (("sharegpt", n), ("openai", n), ("xlam", xlam_n), ("chat", n)):
            ds = load(out / f"{fmt}.jsonl", tmp_path)
            assert len(ds) == expected == stats["records"][s][fmt], (s, fmt)
        hf = datasets.load_dataset(str(out / "hf"), split="train", cache_dir=str(tmp_path / "hf"))
        assert hf["id"] == [x["id"] for x in order[s]]
        assert isinstance(hf.features["messages"], datasets.List)
        assert set(hf.features["messages"].feature) >= {"role", "content", "tool_calls", "tool_call_id"}


def test_openai_records_match_the_fine_tuning_schema(exported):
    project, order = exported
    schema_errors = []
    for s in TRAIN_SUBSETS:
        rows = read_jsonl(project / "data" / "export" / s / "openai.jsonl")
        for rec, sample in zip(rows, order[s], strict=True):
            schema_errors += records.validate("openai_ft", rec)
            names = [t["function"]["name"] for t in rec["tools"]]
            assert all(NAME.match(n) for n in names) and len(set(names)) == len(names)
            mapping = openai_ft.openai_names([t["name"] for t in sample["tools"]])
            assert names == [mapping[t["name"]] for t in sample["tools"]]
            ours = [c for m in sample["messages"] for c in m.get("tool_calls") or ()]
            theirs = [c for m in rec["messages"] for c in m.get("tool_calls") or ()]
            assert [c["function"]["name"] for c in theirs] == [mapping[c["name"]] for c in ours]
            assert [json.loads(c["function"]["arguments"]) for c in theirs] == [c["arguments"] for c in ours]
            answered = {m["tool_call_id"] for m in rec["messages"] if m["role"] == "tool"}
            assert answered <= {c["id"] for c in theirs}
    assert schema_errors == []
    renamed = [t for x in order["full"] for t in x["tools"] if not NAME.match(t["name"])]
    assert renamed, "the fixture should include names OpenAI rejects (spaces, dots)"


def test_openai_schema_rejects_what_openai_rejects():
    ok = {"messages": [{"role": "user", "content": "hi"},
                       {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                             "function": {"name": "f", "arguments": "{}"}}]}],
          "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]}
    assert records.validate("openai_ft", ok) == []
    bad_name = json.loads(json.dumps(ok))
    bad_name["tools"][0]["function"]["name"] = "get weather"
    args_object = json.loads(json.dumps(ok))
    args_object["messages"][1]["tool_calls"][0]["function"]["arguments"] = {}
    empty_assistant = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant"}]}
    tool_without_id = {"messages": [{"role": "tool", "content": "{}"}]}
    extra_key = {**ok, "id": "x"}
    for bad in (bad_name, args_object, empty_assistant, tool_without_id, extra_key):
        assert records.validate("openai_ft", bad), bad


def test_openai_names_are_legal_distinct_and_stable():
    names = ["get weather", "get_weather", "get.weather", "x" * 70, "ok-name", "Market Trends API"]
    m = openai_ft.openai_names(names)
    assert all(NAME.match(v) for v in m.values())
    assert len(set(m.values())) == len(names)
    assert m["get_weather"] == "get_weather" and m["ok-name"] == "ok-name"
    assert m["Market Trends API"] == "Market_Trends_API"
    assert m == openai_ft.openai_names(list(reversed(names)))


def test_sharegpt_calls_read_back_in_python_syntax(exported):
    project, order = exported
    rows = read_jsonl(project / "data" / "export" / "full" / "sharegpt.jsonl")
    for rec, sample in zip(rows, order["full"], strict=True):
        assert records.validate("sharegpt", rec) == []
        as_written = {t["original"]: t["name"] for t in rec["tool_names"]}
        assert list(as_written) == [t["name"] for t in sample["tools"]]
        assert all(json.dumps(as_written[t["name"]])[1:-1] in rec["system"] for t in sample["tools"])
        calls = [[{"name": as_written[c["name"]], "arguments": c["arguments"]} for c in m["tool_calls"]]
                 for m in sample["messages"] if m.get("tool_calls")]
        written = [parse_calls(t["value"]) for t in rec["conversations"]
                   if t["from"] == "assistant" and t["value"].startswith("[")]
        assert written == calls
        users = [m["content"] for m in sample["messages"] if m["role"] == "user"]
        assert [t["value"] for t in rec["conversations"] if t["from"] == "user"] == users
        for t in rec["conversations"]:
            if t["from"] == "tool":
                assert all({"name", "results"} == set(r) for r in json.loads(t["value"]))


def test_xlam_rows_hold_the_first_decision(exported):
    project, order = exported
    rows = read_jsonl(project / "data" / "export" / "full" / "xlam.jsonl")
    samples = [x for x in order["full"] if first_decision(x)[2] != "other"]
    assert [r["id"] for r in rows] == list(range(len(rows)))
    for r, sample in zip(rows, samples, strict=True):
        assert records.validate("xlam", r) == []
        _, calls, kind = first_decision(sample)
        assert json.loads(r["answers"]) == (calls or [])
        tools = json.loads(r["tools"])
        assert [t["name"] for t in tools] == [t["name"] for t in sample["tools"]]
        for t, src in zip(tools, sample["tools"]):
            req = set(src["parameters"].get("required", []))
            for p, spec in t["parameters"].items():
                assert spec["type"].endswith(", optional") == (p not in req)


def test_hf_card_and_nested_columns(exported):
    project, _ = exported
    summary = json.loads((project / "data" / "split" / "summary.json").read_text())
    for s in TRAIN_SUBSETS:
        folder = project / "data" / "export" / s / "hf"
        card = (folder / "README.md").read_text()
        assert card.startswith("---\n") and "\n- function-calling\n" in card
        assert f"| {summary['subsets'][s]['samples']} | {summary['subsets'][s]['apis']} |" in card
        assert "| offline | procedural-v1 | dialogs-v1 |" in card
        assert "cluster_by: domain" in card and "seed: 0" in card
        table = pq.read_table(folder / "data" / "train-00000-of-00001.parquet")
        assert str(table.schema.field("messages").type).startswith("list<element: struct<role: string")
        assert table.num_rows == summary["subsets"][s]["samples"]


def test_hf_rows_hold_each_sample_as_given(exported):
    """The parquet columns are built one by one (callforge/export/hf.py Rows): every row must still
    hold its sample's values, nulls where the sample has none."""
    project, order = exported
    for s in TRAIN_SUBSETS:
        rows = pq.read_table(project / "data" / "export" / s / "hf" / "data" / "train-00000-of-00001.parquet").to_pylist()
        assert [r["id"] for r in rows] == [x["id"] for x in order[s]]
        for row, sample in zip(rows, order[s]):
            assert (row["data_type"], row["domain"], row["apis_used"]) == \
                (sample["data_type"], sample.get("domain"), sample["apis_used"])
            assert row["provenance"] == {k: sample["provenance"].get(k) for k in row["provenance"]}
            assert [(t["name"], t["description"], json.loads(t["parameters"]), t["path"]) for t in row["tools"]] == \
                [(t["name"], t.get("description"), t["parameters"], t.get("path")) for t in sample["tools"]]
            for got, m in zip(row["messages"], sample["messages"], strict=True):
                assert (got["role"], got["content"], got["tool_call_id"], got["name"], got["thinking"]) == \
                    (m["role"], m.get("content"), m.get("tool_call_id"), m.get("name"), None)
                calls = m.get("tool_calls")
                assert (got["tool_calls"] is None) == (not calls)
                assert [(c["id"], c["name"], json.loads(c["arguments"])) for c in got["tool_calls"] or ()] == \
                    [(c["id"], c["name"], c["arguments"]) for c in calls or ()]


def test_eval_split_reads_as_bfcl(exported):
    project, _ = exported
    summary = json.loads((project / "data" / "split" / "summary.json").read_text())
    held = set(summary["eval_apis"])
    folder = project / "data" / "export" / "eval_bfcl"
    index = read_jsonl(folder / "index.jsonl")
    assert index and len(index) <= summary["holdout"]["eval_samples"]
    by_id = samples_by_id(project)
    for cat in bfcl_eval.CATEGORIES:
        qfile = folder / f"{bfcl_eval.PREFIX}{cat}.json"
        if not qfile.exists():
            continue
        questions = read_jsonl(qfile)
        afile = folder / "possible_answer" / qfile.name
        answers = {a["id"]: a for a in read_jsonl(afile)} if afile.exists() else {}
        assert (cat == "irrelevance") == (not answers)
        for q in questions:
            assert q["id"].startswith(f"callforge_{cat}_")
            assert all(f["parameters"]["type"] == "dict" for f in q["function"])
            assert q["question"][0][-1]["role"] == "user"
            if cat == "irrelevance":
                continue
            truth = answers[q["id"]]["ground_truth"]
            sample = by_id[next(r["sample_id"] for r in index if r["id"] == q["id"])]
            _, calls, _ = first_decision(sample)
            assert [next(iter(g)) for g in truth] == [c["name"] for c in calls]
            assert {next(iter(g)) for g in truth} <= held
            for g, c in zip(truth, calls):
                assert all(c["arguments"][k] in allowed for k, allowed in g[c["name"]].items())
    with bfcl.Source(folder) as src:                        # the evaluate stage's BFCL reader reads it back
        entries = [e for c in src.categories() for e in src.load(c)]
    assert sorted(e.id for e in entries) == sorted(r["id"] for r in index)
    assert all((e.ground_truth is None) == e.category.endswith("irrelevance") for e in entries)


def test_same_bytes_again_and_for_any_worker_count(exported, tmp_path):
    """Export again in a copy, with one worker instead of two: every file comes out the same."""
    project, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("export", "mlflow.db"))
    params = (copy / "params.yaml").read_text()
    assert "workers: 2" in params
    (copy / "params.yaml").write_text(params.replace("workers: 2", "workers: 1").replace("enabled: true", "enabled: false"))
    run_stage("export", copy)
    stats = json.loads((copy / "metrics" / "export.json").read_text())
    assert stats["workers"] == 1
    assert digest(copy) == digest(project)


def digest(root):
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted((root / "data" / "export").rglob("*")) if p.is_file()}


def test_input_changed_after_split_is_a_clear_error(exported, tmp_path):
    project, _ = exported
    copy = tmp_path / "stale"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("export", "mlflow.db"))
    lines = (copy / "data" / "verified.jsonl").read_text().splitlines()
    lines[0], lines[1] = lines[1], lines[0]
    (copy / "data" / "verified.jsonl").write_text("\n".join(lines) + "\n")
    (copy / "params.yaml").write_text((copy / "params.yaml").read_text().replace("enabled: true", "enabled: false"))
    proc = run_stage("export", copy, check=False)
    assert proc.returncode == 2 and "export.stale_split" in proc.stderr      # raised in a worker, reported here
    assert not [p for p in (copy / "data" / "export").rglob("*") if p.is_file()]   # nothing half-written
