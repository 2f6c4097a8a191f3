"""Rendering, features, the heuristic score, answer judging and bounds: no model needed."""
from __future__ import annotations

import re

import pytest
from scoring_samples import CONVERT, FLIGHTS, WEATHER, call_sample, samples

from callforge.complexity import HeuristicScorer, ScoringError
from callforge.complexity.answers import calls_match, parse_answer
from callforge.complexity.steering_bounds import derive_bounds, first_reference_calls
from callforge.complexity.features import features, query_similarity, schema_depth
from callforge.core.model_files import ModelFileError, resolve_model
from callforge.complexity.render import FORMATS, detect_format, render


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_response_spans_are_exactly_the_assistant_turns(fmt):
    s = samples()[0]
    r = render(s, fmt)
    spans = [r.text[a:z] for a, z in r.response_spans()]
    end = FORMATS[fmt].end
    assert spans == ['[get_weather(city="Oslo", unit="celsius")]' + end, "It is 4 degrees and cloudy in Oslo." + end]
    # Tools go into the context, before the question, and never into a response.
    ctx = "".join(t for t, resp in r.segments if not resp)
    assert ctx.index('"name": "get_weather"') < ctx.index("What's the weather in Oslo")
    assert '"name": "search_flights"' in ctx and "ok" in ctx   # tool results are context too


def test_gemma_has_no_system_or_tool_role_and_alternates():
    r = render(samples()[0], "gemma")
    text = r.text
    assert text.startswith("<bos><start_of_turn>user\n")
    roles = re.findall(r"<start_of_turn>(\w+)", text)
    assert roles == ["user", "model", "user", "model"]


def test_same_tools_same_prefix_and_no_bos_for_servers():
    a, b, c = samples()[0], samples()[2], samples()[1]
    assert render(a).prefix == render(b).prefix != render(c).prefix
    assert not render(a, "gemma", bos=False).text.startswith("<bos>")


def test_json_call_format_and_unknown_template():
    r = render(samples()[3], "chatml", "json")
    assert '[{"name": "convert_currency", "arguments": {"amount": 120.5' in r.text
    assert detect_format("{{ '<start_of_turn>' + role }}") == "gemma"
    with pytest.raises(ValueError):
        detect_format("no markers here")


def test_features_count_structure():
    s = samples()[2]
    f = features(s)
    assert (f["candidate_apis"], f["calls"], f["apis_used"], f["arguments"]) == (2, 2, 1, 4)
    assert (f["user_turns"], f["assistant_turns"], f["argument_depth"]) == (1, 2, 1)
    nested = {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "object", "properties": {
        "b": {"type": "string"}}}}}}
    assert schema_depth(nested) == 3


def test_query_similarity_follows_wording():
    close = call_sample("a", [CONVERT], "Convert an amount of currency", [("convert_currency", {})])
    far = call_sample("b", [CONVERT], "How many kroner would my euros buy?", [("convert_currency", {})])
    assert query_similarity(close) > query_similarity(far)
    assert query_similarity(close) == 1.0


def test_heuristic_rises_with_candidates_and_calls():
    h = HeuristicScorer()
    one = call_sample("a", [WEATHER], "Weather in Oslo?", [("get_weather", {"city": "Oslo"})])
    many = call_sample("b", [WEATHER, FLIGHTS, CONVERT], "Weather in Oslo?", [("get_weather", {"city": "Oslo"})])
    two = call_sample("c", [WEATHER, FLIGHTS, CONVERT], "Weather in Oslo?",
                      [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Bergen"})])
    a, b, c = (r["loss"] for r in h.score([one, many, two]))
    assert a < b < c
    rec = h.score([one])[0]
    assert rec["backend"] == "heuristic" and rec["response_tokens"] > 0


def test_unscorable_sample_gets_a_reason_and_others_survive():
    bad = {"id": "x", "tools": [], "messages": [{"role": "user", "content": "hi"}]}
    recs = HeuristicScorer().score([bad, samples()[0]])
    assert recs[0]["loss"] is None and recs[0]["error"] == "no_response"
    assert recs[1]["loss"] is not None


def test_answers_parse_without_eval_and_match_in_any_order():
    want = [{"name": "f", "arguments": {"a": 1}}, {"name": "g.h", "arguments": {"b": [1, 2.0]}}]
    assert calls_match(parse_answer('Sure! [g.h(b=[1, 2]), f(a=1.0)] hope that helps', "python"), want)
    assert not calls_match(parse_answer("[f(a=2), g.h(b=[1, 2])]", "python"), want)
    assert parse_answer("[__import__('os').system('x')]", "python") is None
    assert parse_answer("no calls", "python") is None
    assert calls_match(parse_answer('[{"name": "f", "arguments": {"a": 1}}]', "json"), want[:1])
    assert first_reference_calls(samples()[0]) == [{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]


def _recs(losses):
    return [{"id": str(i), "loss": v} for i, v in enumerate(losses)]


def test_bounds_fall_back_to_percentiles_without_correct_answers():
    recs = _recs([float(i) for i in range(101)])
    b = derive_bounds(recs, {}, lower_percentile=20, upper_percentile=90)
    assert (b["lower"], b["upper"]) == (20.0, 90.0)
    assert b["lower_method"] == "percentile_20" and b["n_correct"] == 0
    assert abs(b["share_inside"] - 71 / 101) < 1e-6


def test_bounds_use_losses_of_correctly_answered_samples():
    recs = _recs([float(i) for i in range(101)])
    correct = {str(i): i < 30 for i in range(101)}        # the model gets the 30 easiest right
    b = derive_bounds(recs, correct, min_correct=10, correct_quantile=50)
    assert b["lower_method"] == "correct_q50" and b["lower"] == 14.5 and b["n_correct"] == 30
    few = derive_bounds(recs, {"1": True, "2": True}, min_correct=10)
    assert few["lower_method"].startswith("percentile")
    with pytest.raises(ValueError, match="no_scores"):
        derive_bounds([{"id": "a", "loss": None}])


def test_model_file_sha256_is_checked(tmp_path):
    f = tmp_path / "m.gguf"
    f.write_bytes(b"not a model")
    with pytest.raises(ModelFileError) as e:
        resolve_model(str(f), "0" * 64)
    assert e.value.code == "sha256_mismatch"
    with pytest.raises(ModelFileError) as e:
        resolve_model(str(tmp_path / "missing.gguf"), None)
    assert e.value.code == "model_missing"


def test_make_scorer_picks_backends_from_config(tmp_path):
    from callforge.core.config import compose, validate
    from callforge.complexity import local_available, make_scorer

    assert make_scorer(validate(compose(["scorer=heuristic"])).scorer).backend == "heuristic"
    # a bad backend or mode never reaches the scorer: the config is refused as it composes, naming the key
    from callforge.core.config import ConfigError
    with pytest.raises(ConfigError, match=r"^scorer\.backend: 'nope' is not one of"):
        validate(compose(["scorer.backend=nope"]))
    with pytest.raises(ConfigError, match=r"^scorer\.mode: 'sideways' is not one of"):
        validate(compose(["scorer=remote", "scorer.base_url=http://127.0.0.1:9/v1", "scorer.model=m",
                          "scorer.mode=sideways"]))
    # and the scorer still refuses one given to it directly (a config built without the schema)
    from omegaconf import OmegaConf
    raw = OmegaConf.merge(validate(compose(["scorer=heuristic"])).scorer, {})
    OmegaConf.set_readonly(raw, False)
    raw.backend = "nope"
    with pytest.raises(ScoringError) as e:
        make_scorer(raw)
    assert e.value.code == "bad_config"
    # A named model file that is not there is an error, never a silent fallback (when the extra is installed).
    cfg = validate(compose([f"scorer.model_path={tmp_path / 'none.gguf'}"])).scorer
    if local_available():
        with pytest.raises(ScoringError) as e:
            make_scorer(cfg)
        assert e.value.code == "model_missing"
    else:
        assert make_scorer(cfg).backend == "heuristic"
