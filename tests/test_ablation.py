"""`callforge ablation`: presets and overrides are checked before any work; the table pairs each row with the
baseline on the same questions (figures checked by hand); a saved result is reused only for the same inputs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from callforge.ablation import run as ablation
from callforge.ablation import table
from callforge.calling.bfcl import Entry

REPO = Path(__file__).resolve().parents[1]


def entries(n_per_cat: int) -> list[Entry]:
    return [Entry(f"{c}_{i}", c, [], [], None) for c in ("multiple", "simple_python") for i in range(n_per_cat)]


def result(oks: list[bool], nlls: list[float], qs: list[Entry], samples: int | None = 10) -> dict:
    from callforge.evaluate.accuracy import summarise

    recs = [{"id": q.id, "category": q.category, "ok": ok, "reason": None if ok else "wrong", "answer": ""}
            for q, ok in zip(qs, oks)]
    return {"accuracy": summarise(recs), "records": recs,
            "gold": [{"id": q.id, "category": q.category, "nll": v, "nll_call": v} for q, v in zip(qs, nlls)],
            "train": {"samples": samples} if samples else None}


def test_the_table_pairs_every_row_with_the_baseline_by_hand():
    qs = entries(5)                                       # 10 questions
    full = result([True] * 3 + [False] * 7, [1.0, 2.0, 3.0, 4.0, 5.0] * 2, qs)
    easy = result([True] * 6 + [False] * 4, [0.5, 1.5, 2.5, 3.5, 4.5] * 2, qs)       # 3 more right, NLL -0.5 each
    base = result([False] * 10, [3.0] * 10, qs, samples=None)
    tab = table.build({"base": base, "full": full, "easy": easy}, ["full", "easy"], "full", qs)
    rows = {r["model"]: r for r in tab["rows"]}
    assert [r["model"] for r in tab["rows"]] == ["base", "full", "easy"] and "vs_baseline" not in rows["full"]
    d = rows["easy"]["vs_baseline"]
    # accuracy: 6/10 - 3/10, discordant pairs 3 (easy only) vs 0: exact McNemar p = 2 * 0.5**3 = 0.25
    assert d["accuracy"]["delta"] == pytest.approx(0.3) and d["accuracy"]["p_value"] == pytest.approx(0.25)
    assert not d["accuracy"]["significant"]
    # gold NLL: every question exactly 0.5 lower, so the paired interval is a point at -0.5 and significant
    assert d["gold_nll"]["delta"] == pytest.approx(-0.5) and d["gold_nll"]["significant"]
    assert rows["full"]["gold_nll"]["mean"] == pytest.approx(3.0)
    # mean 3, sd of [1..5]x2 = 1.4907, t(0.975, 9) = 2.2622 -> half width 1.0664
    assert rows["full"]["gold_nll"]["ci95"] == pytest.approx([1.9336, 4.0664], abs=1e-3)
    md = table.markdown({**tab, "settings": {}, "preset": "cpu", "overrides": []})
    assert "| easy | 10 | 5/5 | 1/5 |" in md and "| full | 10 | 3/5 | 0/5 |" in md and "(baseline)" in md and "-0.500 [-0.500, -0.500] *" in md


def test_presets_and_overrides_stop_before_any_work(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    for name in ("cpu", "gpu"):
        p = ablation.load_preset(name)
        assert p["baseline"] in p["subsets"] and set(p["subsets"]) >= {"full", "easy", "medium", "hard",
                                                                       "div_low", "div_medium", "div_high"}
    with pytest.raises(ablation.AblationError, match="no conf/ablation/nope.yaml"):
        ablation.load_preset("nope")
    with pytest.raises(ablation.AblationError, match="only finetune / evaluate"):
        ablation.check_overrides(["finetune.lr=1e-3", "dialogs.samples=10"])
    ablation.check_overrides(["finetune=full", "+evaluate.bfcl.per_category=3"])


def test_a_saved_result_is_reused_only_for_the_same_inputs(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"accuracy": {"overall": {"accuracy": 0.5}}}

    first = ablation.cached_or(tmp_path / "easy", "k1", lambda m: None, compute)
    again = ablation.cached_or(tmp_path / "easy", "k1", lambda m: None, compute)
    assert len(calls) == 1 and again == {**first, "reused": True}
    ablation.cached_or(tmp_path / "easy", "k2", lambda m: None, compute)      # an input changed: computed anew
    assert len(calls) == 2 and json.loads((tmp_path / "easy" / "result.json").read_text())["key"] == "k2"
