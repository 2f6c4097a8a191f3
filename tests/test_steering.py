"""Complexity steering done once and done right (issue #17, item 8).

- the bounds are calibrated once per run, on a calibration set every batch and shard computes the same
  way, on the model path (against the project's OpenAI-compatible test server) as offline;
- every version of a sample is scored once (the calibration set is not scored again in the first round);
- `auto` steers with the model loss where the local model is installed and the run is small enough,
  else with the heuristic, and the metrics name the scorer that steered and why;
- a model-steered run fills the complexity stage's score cache, which then scores nothing again.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from callforge.complexity import local_available
from callforge.complexity.scores import score_key
from callforge.core import io
from callforge.core.config import compose, defaults, validate
from callforge.core.gateway import Gateway
from callforge.core.stage import shard_path
from callforge.dialogs.generate import engine_for
from callforge.dialogs.llm_dialog import model_batches
from callforge.dialogs.pool import Pool
from callforge.dialogs.prompts import PROMPT_VERSION
from callforge.dialogs.steering import HeuristicLoss, choose_scorer
from conftest import REPO, run_stage, stage_record, write_params
from dialogs_fixtures import PROV, TOOLS, dialogs_config
from llm_server import llm_overrides
from test_dialogs_llm import MIX, WEATHER, FakeModel

MODEL_PROV = {"provider": "compatible", "model": "test-model", "prompt_version": PROMPT_VERSION, "seed": 0,
              "stage": "dialogs"}
needs_local = pytest.mark.skipif(not local_available(), reason="the optional `local` extra is not installed")


class CountingScorer:
    """The real heuristic loss, counting which versions (sample id and content) it is asked to score."""
    backend, model = "heuristic", "structural-v1"

    def __init__(self):
        self.inner, self.scored, self.calls = HeuristicLoss(), Counter(), []

    def score(self, samples):
        self.scored.update((s["id"], score_key("", s)) for s in samples)
        self.calls.append([s["id"] for s in samples])
        return self.inner.score(samples)


def _model_run(llm_server, tmp_path, batch: int, scorer, samples=12, calibration=6):
    """One model-path run through model_batches; (encoded lines, the bounds seen after each batch)."""
    cfg = validate(compose(llm_overrides(llm_server) + [f"cache_dir={tmp_path / 'cache'}"], root=REPO))
    d = dialogs_config(samples=samples, mix=MIX, votes=2, batch=batch, steering__scorer="heuristic",
                       steering__calibration_samples=calibration)
    gw = Gateway(cfg.llm, stage="dialogs", cache_dir=tmp_path / "cache", seed=0)
    try:
        batches, bounds = model_batches(Pool(WEATHER), d, 0, gw, MODEL_PROV, scorer, range(samples))
        lines, seen = [], []
        for batch_lines, _, _, _ in batches:
            lines += batch_lines
            seen.append(bounds())
    finally:
        gw.close()
    return lines, seen


def test_model_path_calibrates_once_and_every_batch_agrees(llm_server, tmp_path):
    llm_server.set_responder(FakeModel())
    small = CountingScorer()
    lines3, seen3 = _model_run(llm_server, tmp_path, batch=3, scorer=small)
    assert len(seen3) == 4 and all(b == seen3[0] for b in seen3), seen3
    b = seen3[0]
    assert b.source.startswith("calibration:") and b.lower < b.upper and 0 < b.calibrated_on <= 6
    recs = [json.loads(x) for x in lines3]
    assert any(r["steering"]["rounds"] > 0 for r in recs), "the premise: some samples are steered"
    assert max(small.scored.values()) == 1, "a version was scored twice"

    whole = CountingScorer()
    lines12, seen12 = _model_run(llm_server, tmp_path, batch=12, scorer=whole)
    assert seen12 == [b]                       # one batch or four: the same bounds ...
    assert lines12 == lines3                   # ... and the same dialogs
    assert max(whole.scored.values()) == 1


def test_the_first_round_does_not_score_the_calibration_set_again():
    counting = CountingScorer()
    s = dialogs_config(samples=40, steering__scorer="heuristic", steering__calibration_samples=16)
    engine = engine_for(Pool(TOOLS), s, 0, PROV, counting)
    assert len(counting.calls) == 1
    calibration = counting.calls[0]
    assert engine.bounds.calibrated_on == len(calibration) > 8
    out, drops = engine.records(0, 40)
    assert len(out) + len(drops) == 40
    assert any(r["steering"]["rounds"] for r in out)
    first_round = set(counting.calls[1])
    assert first_round and not first_round & set(calibration)   # only the samples past the calibration set
    assert max(counting.scored.values()) == 1, "a version was scored twice"


def _shard_metrics(project, i: int, n: int) -> dict:
    return json.loads(shard_path(project / "metrics" / "dialogs.json", i, n).read_text())


def test_model_path_shards_share_the_bounds_and_name_the_scorer(project, llm_server):
    llm_server.set_responder(FakeModel())
    io.write_jsonl(project / "data" / "apis.jsonl", WEATHER)
    # the heuristic scorer section: the model-loss case is the next test's (at 4 samples, in-process model)
    write_params(project, llm_overrides(llm_server) + ["scorer=heuristic",
        "dialogs.samples=8", "dialogs.votes=2", "dialogs.batch=2", "dialogs.steering.calibration_samples=4",
        "dialogs.mix.parallel=0", "dialogs.mix.dependent=0", "dialogs.mix.multi_turn=0"])
    run_stage("dialogs", project)
    whole = json.loads((project / "metrics" / "dialogs.json").read_text())["steering"]
    out = (project / "data" / "dialogs.jsonl").read_bytes()
    for i in range(2):
        run_stage("dialogs", project, CALLFORGE_SHARD=f"{i}/2")
    shards = [_shard_metrics(project, i, 2)["steering"] for i in range(2)]
    for st in shards:
        assert (st["lower"], st["upper"], st["bounds_source"]) == (whole["lower"], whole["upper"], whole["bounds_source"])
    assert whole["bounds_source"].startswith("calibration:") and whole["calibrated_on"] >= 3
    parts = b"".join(shard_path(project / "data" / "dialogs.jsonl", i, 2).read_bytes() for i in range(2))
    assert parts == out
    # the metrics name the scorer that steered, and why (auto, with no model in the scorer section)
    assert (whole["scorer_setting"], whole["scorer"]) == ("auto", "heuristic") and "heuristic" in whole["scorer_why"]
    assert all((st["scorer"], st["scorer_why"]) == (whole["scorer"], whole["scorer_why"]) for st in shards)


def test_auto_falls_back_to_the_heuristic_past_its_budget_or_without_a_model():
    st = defaults("dialogs").steering
    big = choose_scorer(st, defaults("scorer"), st.auto_local_max_samples + 1)
    assert big.name == "heuristic" and not big.model_scored
    assert "auto_local_max_samples" in big.why and big.describe()["scorer_backend"] == "heuristic"
    none = choose_scorer(st, defaults("scorer", backend="heuristic"), 10)
    assert none.name == "heuristic" and "heuristic" in none.why
    pinned = choose_scorer(defaults("dialogs", steering={"scorer": "heuristic"}).steering, defaults("scorer"), 10)
    assert pinned.describe()["scorer_why"] == "configured"
    # bounds `callforge bounds` wrote from the model's losses do not steer the heuristic: they are calibrated
    bounded = defaults("dialogs", steering={"lower": 1.2, "upper": 2.5}).steering
    fallback = choose_scorer(bounded, defaults("scorer"), bounded.auto_local_max_samples + 1)
    assert not fallback.configured_bounds_apply and "calibrated instead" in fallback.why
    assert choose_scorer(bounded, defaults("scorer", backend="heuristic"), 10).configured_bounds_apply


@needs_local
def test_auto_steers_with_the_local_model_and_the_complexity_stage_reuses_its_scores(project):
    """Offline data, the default scorer (local) and steering (auto) at 4 samples: the dialogs stage steers
    with the model's loss and fills the score cache; the complexity stage then scores nothing."""
    write_params(project, ["scorer=local", "dialogs.samples=4", "dialogs.steering.calibration_samples=4"])
    for stage in ("taxonomy", "apis", "dialogs"):
        run_stage(stage, project)
    m = stage_record(project, "dialogs")
    st = m["steering"]
    assert (st["scorer"], st["scorer_setting"], st["scorer_backend"]) == ("complexity", "auto", "local")
    assert "auto_local_max_samples" in st["scorer_why"] and st["scored"] == m["samples_written"]
    assert m["steering_scoring"]["response_tokens"] > 0
    rows = io.read_jsonl(project / "data" / "dialogs.jsonl")
    run_stage("complexity", project)
    c = stage_record(project, "complexity")
    assert c["backend"] == "local" and c["cache_hits"] == c["samples"] == len(rows)
    scores = {r["id"]: r["loss"] for r in io.read_jsonl(project / "data" / "scores.jsonl")}
    assert all(scores[r["id"]] == r["steering"]["score"] for r in rows)
