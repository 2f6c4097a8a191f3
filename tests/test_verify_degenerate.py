"""The repetition and meaningless-token checks (verify's rule layer): planted loops and garbage are rejected
with their codes wherever they sit (answer, user turn, thinking trace, argument value, tool result), text
that merely looks like them passes (markdown tables, code blocks, big numbers, structured thinking), the
thresholds and modes come from conf/verify, and the default offline data trips none of them."""
from __future__ import annotations

import json

import pytest

from callforge.core import io
from callforge.core.parallel import ordered_map
from callforge.verify.runner import verify
from conftest import run_stage, write_params
from verify_samples import good, verify_config

NEW_CODES = {"dialog.repeated_ngrams", "dialog.repeated_sentence", "dialog.token_run", "dialog.special_token",
             "dialog.mojibake", "dialog.symbol_garbage"}
ANSWER = 3   # good()'s final assistant answer


def with_answer(sid: str, text: str) -> dict:
    s = good(sid)
    s["messages"][ANSWER]["content"] = text
    return s


def check(*samples, overrides=()):
    vc = verify_config("checks.grounding=off", *overrides)   # the planted words are not what this is about
    verified, rejected, stats = verify([json.dumps(s, ensure_ascii=False) for s in samples], vc,
                                       map_fn=ordered_map, offline=True)
    return {s["id"] for s in verified}, {r["id"]: r for r in rejected}, stats


PLANTED = {   # id: (final answer, the code it must be rejected with, a word of the detail)
    "loop": ("I can check that for you. " * 8, "dialog.repeated_ngrams", "4-word sequences"),
    "sentence": ("Paris is sunny today and warm. It is nice. Paris is sunny today and warm. Enjoy! "
                 "Paris is sunny today and warm.", "dialog.repeated_sentence", "3 times"),
    "lines": ("- the forecast for paris is sunny\n- the forecast for paris is sunny\n"
              "- the forecast for paris is sunny\nThat is all for the next 3 days.", "dialog.repeated_sentence", "3 times"),
    "word_run": ("The forecast is the the the the same as yesterday.", "dialog.token_run", "'the'"),
    "letter_run": ("Paris is sunnyyyyyyyyyy for the next 3 days.", "dialog.token_run", "'y'"),
    "cased_run": ("Paris is sunny. Zzzzzzzzzzz. Enjoy the next 3 days.", "dialog.token_run", "'z'"),
    "cjk_run": ("Paris is sunny for the next 3 days 好好好好好好好好好好.", "dialog.token_run", "'好'"),
    "im_end": ("Paris is sunny for the next 3 days.<|im_end|>", "dialog.special_token", "<|im_end|>"),
    "eos": ("Paris is sunny for the next 3 days.</s>", "dialog.special_token", "</s>"),
    "turn": ("Paris is sunny for the next 3 days.<end_of_turn>\n<start_of_turn>user", "dialog.special_token", "turn"),
    "inst": ("[INST] Paris is sunny for the next 3 days.", "dialog.special_token", "[INST]"),
    "mojibake": ("Paris is sunny at 18 Â°C, itâ€™s warm for the next 3 days.", "dialog.mojibake", "Â°C"),
    "latin1": ("The CafÃ© de Flore is open, and Paris is sunny for the next 3 days.", "dialog.mojibake", "CafÃ©"),
    "symbols": ("Paris is sunny #$%&*@!^~#$% for the next 3 days.", "dialog.symbol_garbage", "symbol run"),
    "mostly_signs": ("Paris ; , ! ? ; , ! ? ; , ! ? ; , ! ? ; , ! ? ; , ! ? ; , ! ? ; , ! ? ( ) ' \" ( ) 3 days.",
                     "dialog.symbol_garbage", "not punctuation"),
}

LOOKALIKES = {   # answers a human writes: each must pass
    "table": "| Day | Temp |\n|:---|---:|\n| Mon | 18 |\n| Tue | 19 |\n| Wed | 18 |\n\nThat is Paris for the next 3 days.",
    "rule": "Paris, next 3 days\n==========================\nSunny, 18.5 °C, light wind.",
    "code": "Here is how to ask again:\n```python\nx = get_weather('Paris')\nx = get_weather('Paris')\n"
            "x = get_weather('Paris')\nx = get_weather('Paris')\n```\nThat is all for Paris for the next 3 days.",
    "numbers": "Paris has 2,161,000 residents and 1000000000 visits a year; it is sunny for the next 3 days.",
    "emphasis": "Paris is **very, very** sunny for the next 3 days -- enjoy!!! :-)",
    "parallel_wording": "Paris is sunny at 18.5 °C. Oslo is cloudy at 12 °C. Rome is sunny at 24 °C. Those are the next 3 days.",
    "accents": "Le café de Flore à Paris: ensoleillé, 18,5 °C, les 3 prochains jours. Ça va être beau.",
    "url": "Paris is sunny for the next 3 days (https://example.org/weather?city=Paris&days=3#today).",
    "cron": "I set the forecast job for Paris to run on */15 * * * * for the next 3 days.",
}


@pytest.mark.parametrize("sid", sorted(PLANTED))
def test_planted_degenerate_answers_are_rejected_with_their_code(sid):
    text, code, detail = PLANTED[sid]
    verified, rejected, _ = check(with_answer(sid, text))
    assert sid in rejected, f"{sid} passed"
    assert code in rejected[sid]["reasons"]
    assert any(r.startswith(f"{code}: messages[{ANSWER}].content: ") and detail in r for r in rejected[sid]["details"])


def test_text_that_only_looks_degenerate_passes():
    verified, rejected, _ = check(*(with_answer(k, v) for k, v in LOOKALIKES.items()))
    assert verified == set(LOOKALIKES), {k: r["details"] for k, r in rejected.items()}


def test_every_text_is_read_where_it_sits():
    user_loop, thinking_loop, arg_token, tool_mojibake = good("user"), good("thinking"), good("arg"), good("tool")
    user_loop["messages"][0]["content"] = "What's the weather in Paris for the next 3 days? " * 6
    thinking_loop["messages"][1]["thinking"] = "I should call get_weather for Paris now. " * 6
    arg_token["messages"][1]["tool_calls"][0]["arguments"]["city"] = "Paris<|eot_id|>"
    tool_mojibake["messages"][2]["content"] = json.dumps({"city": "Paris", "temp": 18.5, "summary": "sunny â€“ calm"},
                                                         ensure_ascii=False)
    verified, rejected, _ = check(user_loop, thinking_loop, arg_token, tool_mojibake)
    assert not verified
    where = {sid: r["details"] for sid, r in rejected.items()}
    assert any(d.startswith("dialog.repeated_ngrams: messages[0].content:") for d in where["user"])
    assert any(d.startswith("dialog.repeated_ngrams: messages[1].thinking:") for d in where["thinking"])
    assert any(d.startswith("dialog.special_token: messages[1].tool_calls[0].arguments: the template token '<|eot_id|>'")
               for d in where["arg"])
    assert any(d.startswith("dialog.mojibake: messages[2].content:") for d in where["tool"])


def test_a_structured_thinking_trace_may_repeat_its_lines():
    """Three parallel calls of one API: the trace says "Optional: none set." three times by design."""
    s = good("trace")
    s["messages"][1]["thinking"] = "\n".join(
        ["Tool needed: yes: the user asks for the forecast of three cities."]
        + [f"get_weather: Required: city=\"{c}\" (from the user).\nget_weather: Optional: none set." for c in
           ("Paris", "Oslo", "Rome")])
    verified, rejected, _ = check(s)
    assert verified == {"trace"}, rejected
    s["messages"][ANSWER]["content"] = "get_weather: Optional: none set. " * 3 + "Paris is sunny."
    verified, rejected, _ = check(s)
    assert rejected["trace"]["reasons"] == ["dialog.repeated_sentence"]   # in an answer it is a loop


def test_thresholds_and_modes_come_from_the_config():
    four = with_answer("four", "The forecast is the the the the same as yesterday.")
    assert "four" in check(four)[1]
    assert check(four, overrides=["degenerate.max_word_run=4"])[0] == {"four"}
    verified, rejected, stats = check(four, overrides=["checks.repetition=report"])
    assert verified == {"four"} and stats["flag_counts"] == {"dialog.token_run": 1}
    assert stats["checks"]["repetition"]["passed"] == 0
    verified, _, stats = check(with_answer("tok", "Paris is sunny.</s>"), overrides=["checks.meaningless_tokens=off"])
    assert verified == {"tok"} and stats["checks"]["meaningless_tokens"] == {"group": "dialog_correctness", "mode": "off"}
    loop = with_answer("loop", PLANTED["loop"][0])
    assert check(loop, overrides=["degenerate.max_ngram_repeat_share=0.9", "degenerate.max_sentence_repeats=8"])[0] == {"loop"}


def test_the_default_offline_data_trips_none_of_them(project):
    """taxonomy -> apis -> dialogs on the default offline config (1,000 samples instead of 32), then the
    verify stage: the new checks reject none of it."""
    write_params(project, ["tracking.enabled=false", "dialogs.samples=1000"])
    for stage in ("taxonomy", "apis", "dialogs", "verify"):
        run_stage(stage, project)
    metrics = json.loads((project / "metrics" / "verify.json").read_text())
    rejected = io.read_jsonl(project / "data" / "rejected.jsonl")
    hits = [r for r in rejected if NEW_CODES & set(r["reasons"])]
    assert metrics["samples"] >= 900 and metrics["checks"]["repetition"]["checked"] == metrics["samples"]
    assert hits == [], [r["details"] for r in hits[:3]]
    for check_name in ("repetition", "meaningless_tokens"):
        assert metrics["checks"][check_name]["pass_rate"] == 1.0
