"""Scores of exported thinking traces (issue #17, item 6): each check fails on the trace it is meant to
catch and passes on a faithful one; tallies add up across parts. The export stage's use of them (the
ShareGPT field, the hf column, the stats) is tested on a real offline run in tests/test_export_chat.py."""
from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from callforge.core.config import defaults
from callforge.export.thinking import CHECKS, TraceTally, rules, score_sample, turn_checks

RULES = rules(OmegaConf.to_container(defaults("verify").degenerate))
CALL = {"id": "call_1", "name": "get_forecast", "arguments": {"location": "Oslo", "days": 3}}
GOOD = ("Tool needed: yes — the user wants a forecast.\nAPI: get_forecast — out of 2 offered.\n"
        "Required: location=Oslo (user); days=3 (user).\nOptional: none.")


def _calling(trace: str | None) -> dict:
    m = {"role": "assistant", "content": None, "tool_calls": [CALL]}
    if trace is not None:
        m["thinking"] = trace
    return m


def _sample(*assistant) -> dict:
    msgs = [{"role": "user", "content": "3-day forecast for Oslo?"}]
    for m in assistant:
        msgs.append(m)
        if m.get("tool_calls"):
            msgs.append({"role": "tool", "tool_call_id": "call_1", "name": "get_forecast", "content": "{}"})
    return {"id": "dlg-1", "messages": msgs}


def test_a_faithful_trace_passes_every_check():
    assert turn_checks(_calling(GOOD), RULES) == {k: True for k in CHECKS}
    s = score_sample(_sample(_calling(GOOD)), RULES)
    assert (s.score, s.traced_turns, s.assistant_turns) == (1.0, 1, 1)


@pytest.mark.parametrize("trace, failed", [
    (GOOD.replace("get_forecast", "a weather tool"), ["names_tools"]),
    (GOOD.replace("days=3 (user)", "the number 3"), ["names_arguments"]),
    (GOOD + " " + "check the forecast " * 30, ["clean"]),                   # a decoding loop
    (GOOD + " <end_of_turn>", ["clean"]),                                   # a template token
    ("?! -- ... !!", ["non_empty", "names_tools", "names_arguments"]),      # no words, so no names either
])
def test_each_check_catches_its_fault(trace, failed):
    checks = turn_checks(_calling(trace), RULES)
    assert [k for k, ok in checks.items() if not ok] == failed
    assert score_sample(_sample(_calling(trace)), RULES).score == round(1 - len(failed) / 4, 4)


def test_argument_names_may_be_written_as_words():
    spaced = {**CALL, "arguments": {"start_date": "2025-01-01"}}
    m = {"role": "assistant", "content": None, "tool_calls": [spaced],
         "thinking": "API: get_forecast. Required: the start date is 2025-01-01."}
    assert turn_checks(m, RULES)["names_arguments"]


def test_turns_without_calls_get_the_checks_that_apply_and_untraced_samples_no_score():
    answer = {"role": "assistant", "content": "It is 12 degrees.", "thinking": "Tool needed: no — I can answer."}
    assert set(turn_checks(answer, RULES)) == {"non_empty", "clean"}
    s = score_sample(_sample(_calling(None), answer), RULES)
    assert (s.score, s.traced_turns, s.assistant_turns) == (1.0, 1, 2)
    assert score_sample(_sample(_calling(None)), RULES).score is None


def test_tallies_of_parts_add_up_to_the_whole():
    samples = [_sample(_calling(GOOD)), _sample(_calling(GOOD.replace("get_forecast", "it"))), _sample(_calling(None))]
    whole, a, b = TraceTally(), TraceTally(), TraceTally()
    for k, s in enumerate(samples):
        whole.add(score_sample(s, RULES))
        (a if k < 2 else b).add(score_sample(s, RULES))
    merged = TraceTally()
    merged.absorb(a.state())
    merged.absorb(b.state())
    assert merged.summary() == whole.summary()
    got = whole.summary()
    assert (got["samples"], got["samples_traced"], got["samples_perfect"]) == (3, 2, 1)
    assert got["score_mean"] == round((1.0 + 0.75) / 2, 4) and got["turn_coverage"] == round(2 / 3, 4)
    assert got["checks"]["names_tools"] == {"applied": 2, "passed": 1, "pass_rate": 0.5}
