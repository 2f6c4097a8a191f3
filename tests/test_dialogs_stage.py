"""The `dialogs` stage as DVC runs it: params.yaml in, data/dialogs.jsonl + drops + metrics out."""
from __future__ import annotations

import json

from callforge.core import io, records
from conftest import run_stage, stage_record, write_params
from dialogs_fixtures import TOOLS


def _pool(project):
    io.write_jsonl(project / "data" / "apis.jsonl", TOOLS)


def test_stage_writes_samples_drops_and_stats(project):
    _pool(project)
    write_params(project, ["dialogs.samples=240", "dialogs.batch=64"])
    run_stage("dialogs", project)
    out = (project / "data" / "dialogs.jsonl").read_bytes()
    rows = [json.loads(x) for x in out.splitlines()]
    drops = io.read_jsonl(project / "data" / "dialogs_dropped.jsonl")
    m = json.loads((project / "metrics" / "dialogs.json").read_text())
    assert len(rows) + len(drops) == 240 == m["samples_requested"] and m["reconciled"]
    assert all(records.validate("sample", r) == [] for r in rows)
    assert all(d["reason"].startswith("dialogs.") and d["provenance"]["provider"] == "offline" for d in drops)
    assert m["per_type"] == {t: sum(r["data_type"] == t for r in rows) for t in m["per_type"]}
    assert m["voting"]["mode"] == "not informative offline"
    assert "tokens" not in m and stage_record(project, "dialogs")["tokens"] == {"prompt_tokens": 0, "completion_tokens": 0}
    assert m["steering"]["in_bounds_after"] > m["steering"]["in_bounds_before"]
    assert m["candidate_apis"]["max"] >= 2 and m["calls_per_sample"]["max"] >= 2
    # a re-run with the same params writes the same bytes
    run_stage("dialogs", project)
    assert (project / "data" / "dialogs.jsonl").read_bytes() == out


def test_stage_shards_concatenate_to_the_whole(project):
    _pool(project)
    write_params(project, ["dialogs.samples=90", "dialogs.workers=1"])
    run_stage("dialogs", project)
    whole = (project / "data" / "dialogs.jsonl").read_bytes()
    for i in range(2):
        run_stage("dialogs", project, CALLFORGE_SHARD=f"{i}/2")
    parts = b"".join((project / "data" / f"dialogs.shard-{i:04d}-of-0002.jsonl").read_bytes() for i in range(2))
    assert parts == whole


def test_bad_mix_fails_fast_with_the_key(project):
    _pool(project)
    write_params(project, ["dialogs.samples=10", "+dialogs.mix.smalltalk=1.0"])
    proc = run_stage("dialogs", project, check=False)
    assert proc.returncode != 0
    assert "dialogs.mix" in proc.stderr and "smalltalk" in proc.stderr
    assert not (project / "data" / "dialogs.jsonl").exists()


def test_default_pipeline_yields_the_configured_mix(project):
    """The done-when: taxonomy -> apis -> dialogs on the default offline config. Steering by the
    heuristic: the mix does not depend on the scorer, and the local model's steering of this default
    run is tested in tests/test_steering.py."""
    write_params(project, ["dialogs.steering.scorer=heuristic"])
    for stage in ("taxonomy", "apis", "dialogs"):
        run_stage(stage, project)
    m = json.loads((project / "metrics" / "dialogs.json").read_text())
    assert m["samples_written"] >= 0.99 * m["samples_requested"]
    # 32 samples by default: shares come in steps of 1/32, so within 5 percentage points
    for t, share in m["type_share_configured"].items():
        assert share > 0 and abs(m["type_share"][t] - share) <= 0.05, (t, m["type_share"])


def test_mix_at_scale_is_within_five_percent_of_each_share(project):
    write_params(project, ["dialogs.samples=2000"])
    for stage in ("taxonomy", "apis", "dialogs"):
        run_stage(stage, project)
    m = json.loads((project / "metrics" / "dialogs.json").read_text())
    for t, share in m["type_share_configured"].items():
        assert share > 0 and abs(m["type_share"][t] - share) <= 0.05 * share, (t, m["type_share"])
