"""Stage `verify` run as DVC runs it: both outputs written, reasons add up to the metrics' drop counts,
bad input lines rejected with a reason while the rest go through, and the judges reached over HTTP."""
from __future__ import annotations

import json
from collections import Counter

from callforge.verify.judges import JUDGES, PROMPT_VERSION
import pytest

from conftest import run_stage, write_params, stage_record
from llm_server import JUDGE_MODEL, judge_overrides
from verify_samples import good, non_tool, parallel


def dialogs(project, samples, extra_lines=()):
    (project / "data").mkdir(exist_ok=True)
    body = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples)
    (project / "data" / "dialogs.jsonl").write_bytes(body.encode() + b"".join(extra_lines))


def read(project, name):
    return [json.loads(x) for x in (project / "data" / name).read_text(encoding="utf-8").splitlines()]


def mixed_batch():
    wrong_type, truncated, both = good("wrong-type"), good("truncated"), good("both")
    wrong_type["messages"][1]["tool_calls"][0]["arguments"]["days"] = "3"
    truncated["messages"][3]["content"] = "The forecast for Paris over the next 3 days is:"
    both["messages"][1]["tool_calls"][0]["arguments"]["unit"] = "kelvin"
    both["apis_used"] = []
    return [good("ok-1"), wrong_type, parallel("ok-2"), truncated, both, non_tool("ok-3")]


def test_offline_stage_writes_both_outputs_and_reasons_add_up(project):
    write_params(project, ["tracking.enabled=false"])
    dialogs(project, mixed_batch(), extra_lines=[b"{not json\n", b'"a string"\n', b"\xff\xfe bad bytes\n",
                                                 (json.dumps(good("ok-1")) + "\n").encode(),
                                                 b'{"id": "lone", "note": "\\ud800"}\n'])
    run_stage("verify", project)
    verified, rejected = read(project, "verified.jsonl"), read(project, "rejected.jsonl")
    metrics = json.loads((project / "metrics" / "verify.json").read_text())

    assert [s["id"] for s in verified] == ["ok-1", "ok-2", "ok-3"]
    assert verified[0] == good("ok-1")                       # a verified sample is passed on unchanged,
    first = (project / "data" / "verified.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert first == json.dumps(good("ok-1"), ensure_ascii=False)   # byte for byte
    by_line = {r["line"]: r for r in rejected}
    assert by_line[7]["reasons"] == ["input.bad_json"] and by_line[8]["reasons"] == ["input.not_object"]
    assert by_line[9]["reasons"] == ["input.bad_encoding"] and by_line[10]["reasons"] == ["input.duplicate_id"]
    assert by_line[11]["reasons"] == ["input.bad_encoding"]          # a lone surrogate escape
    assert {r["id"]: r["reasons"] for r in rejected if r["id"] and r["line"] < 7} == {
        "wrong-type": ["exec.wrong_type"], "truncated": ["dialog.truncated"],
        "both": ["exec.enum", "consistency.apis_used", "grounding.ungrounded_value"]}   # nobody said kelvin

    # the rejected file's reasons add up to the drop counts in the metrics
    assert Counter(code for r in rejected for code in r["reasons"]) == Counter(metrics["drop_counts"])
    assert metrics["samples"] == 11 and metrics["verified"] == 3 and metrics["rejected"] == 8 == len(rejected)
    assert metrics["layers"]["rules"]["passed"] == 3
    assert metrics["layers"]["model"]["status"] == "not run"
    assert metrics["checks"]["executability"]["checked"] == 6 and metrics["checks"]["executability"]["passed"] == 4
    assert metrics["groups"]["consistency"]["pass_rate"] == round(5 / 6, 6)
    assert stage_record(project, "verify")["rules_samples_per_s"] > 0


def test_report_mode_counts_without_dropping_and_off_skips(project):
    write_params(project, ["tracking.enabled=false", "verify.checks.truncation=report", "verify.checks.labels=off"])
    dialogs(project, mixed_batch())
    run_stage("verify", project)
    verified = read(project, "verified.jsonl")
    metrics = json.loads((project / "metrics" / "verify.json").read_text())
    assert "truncated" in [s["id"] for s in verified]
    assert metrics["flag_counts"] == {"dialog.truncated": 1}
    assert metrics["checks"]["labels"] == {"group": "consistency", "mode": "off"}
    assert metrics["drop_counts"] == {"exec.enum": 1, "exec.wrong_type": 1, "grounding.ungrounded_value": 1}


def test_bad_mode_is_a_config_error(project):
    from callforge.core.config import ConfigError
    with pytest.raises(ConfigError, match=r"^verify\.checks\.grounding: 'maybe' is not one of reject \| report \| off"):
        write_params(project, ["tracking.enabled=false", "verify.checks.grounding=maybe"])


def test_stage_with_judges_over_http(project, llm_server):
    def respond(req):
        text = req["messages"][1]["content"]
        if "Oslo" in text and JUDGES["response_fidelity"].question in text:
            return json.dumps({"verdict": "fail", "reasons": ["book_hotel result lacks the dates asked for"]})
        return json.dumps({"verdict": "pass", "reasons": []})
    llm_server.set_responder(respond)
    write_params(project, ["tracking.enabled=false", "verify.judges.hallucination=false", *judge_overrides(llm_server)])
    dialogs(project, [good("g"), parallel("p")])
    run_stage("verify", project)
    verified, rejected = read(project, "verified.jsonl"), read(project, "rejected.jsonl")
    metrics = stage_record(project, "verify")
    assert [s["id"] for s in verified] == ["g"]
    assert rejected[0]["id"] == "p" and rejected[0]["reasons"] == ["judge.response_mismatch"]
    assert metrics["checks"]["judge.hallucination"]["status"] == "off"
    assert metrics["layers"]["model"]["checked"] == 2 and metrics["layers"]["model"]["passed"] == 1
    assert metrics["llm"]["calls"] == llm_server.calls == 4
    # the judge section's model judged, while the generator's llm stayed offline
    assert {r["model"] for r in llm_server.requests} == {JUDGE_MODEL}
    assert metrics["judge"] == {"provider": "compatible", "model": JUDGE_MODEL, "prompt_version": PROMPT_VERSION}


def test_a_judge_without_its_key_stops_in_one_line_naming_the_setting(project):
    write_params(project, ["tracking.enabled=false", "judge=openai", "judge.api_key_env=CALLFORGE_NO_SUCH_KEY"])
    dialogs(project, [good("g")])
    proc = run_stage("verify", project, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "callforge verify: judge.no_api_key: judge.api_key_env: environment variable CALLFORGE_NO_SUCH_KEY "
        "holds no API key"]
    assert not (project / "data" / "verified.jsonl").exists()


def test_outputs_do_not_depend_on_workers_or_batch(project):
    samples = mixed_batch() * 3
    for k, s in enumerate(samples):
        s["id"] = f"{s['id']}-{k}"
    samples.append(dict(samples[0]))                     # a duplicate id, across chunk boundaries
    outs = []
    for workers, batch in ((1, 1000), (2, 4), (3, 1)):
        write_params(project, ["tracking.enabled=false", f"verify.workers={workers}", f"verify.batch={batch}"])
        dialogs(project, samples, extra_lines=[b"{broken\n"])
        run_stage("verify", project)
        metrics = json.loads((project / "metrics" / "verify.json").read_text())
        metrics = {k: v for k, v in metrics.items() if not k.startswith(("rules_", "elapsed"))}
        outs.append(((project / "data" / "verified.jsonl").read_bytes(),
                     (project / "data" / "rejected.jsonl").read_bytes(), metrics))
    assert outs[0] == outs[1] == outs[2]
    assert json.loads(outs[0][1].splitlines()[-2])["reasons"] == ["input.duplicate_id"]
