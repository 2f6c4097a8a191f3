"""The rule layer: each check catches a crafted bad sample with its reason code and passes good ones."""
from __future__ import annotations

import json

import pytest

from callforge.core.parallel import ordered_map
from callforge.core.reasons import VERIFY as CODES
from callforge.verify.rules import RULES
from callforge.verify.runner import verify
from verify_samples import good, non_tool, parallel, verify_config


def run(samples, **settings):
    lines = [json.dumps(s, ensure_ascii=False) for s in samples]
    vc = verify_config(*(f"{k}={v}" for k, v in settings.items()))
    return verify(lines, vc, map_fn=ordered_map, offline=True)


def codes(sample, **settings) -> list[str]:
    verified, rejected, _ = run([sample], **settings)
    return rejected[0]["reasons"] if rejected else []


def test_good_samples_pass_every_check():
    verified, rejected, stats = run([good("a"), parallel("b"), non_tool("c")])
    assert [r["details"] for r in rejected] == []
    assert [s["id"] for s in verified] == ["a", "b", "c"]
    assert all(c.get("pass_rate") == 1.0 for name, c in stats["checks"].items() if not name.startswith("judge."))


def mutate(fn, base=good):
    s = base()
    fn(s)
    return s


def msg(s, i):
    return s["messages"][i]


def call(s, i=1, j=0):
    return s["messages"][i]["tool_calls"][j]


CASES = {
    # api_clarity
    "bad JSON Schema type": (lambda s: s["tools"][0]["parameters"]["properties"]["days"].update(type=7),
                             "tool.bad_schema"),
    "tool without description": (lambda s: s["tools"][1].update(description=" "), "api.no_description"),
    "parameter without description": (lambda s: s["tools"][0]["parameters"]["properties"]["days"].pop("description"),
                                      "api.param_no_description"),
    "required but undeclared": (lambda s: s["tools"][1]["parameters"]["required"].append("room"),
                                "api.required_undeclared"),
    # executability
    "unknown function": (lambda s: [call(s).update(name="get_wether"), msg(s, 2).update(name="get_wether"),
                                    s.update(apis_used=["get_wether"])], "exec.unknown_function"),
    "missing required": (lambda s: call(s)["arguments"].pop("city"), "exec.missing_required"),
    "unknown argument": (lambda s: call(s)["arguments"].update(country="France"), "exec.unknown_argument"),
    "string for integer": (lambda s: call(s)["arguments"].update(days="3"), "exec.wrong_type"),
    "boolean for integer": (lambda s: call(s)["arguments"].update(days=True), "exec.wrong_type"),
    "outside enum": (lambda s: call(s)["arguments"].update(unit="kelvin"), "exec.enum"),
    "above maximum": (lambda s: call(s)["arguments"].update(days=30), "exec.range"),
    # dialog_correctness
    "record without apis_used": (lambda s: s.pop("apis_used"), "dialog.bad_record"),
    "unknown data_type": (lambda s: s.update(data_type="chit_chat"), "dialog.bad_record"),
    "empty final answer": (lambda s: msg(s, 3).update(content="  "), "dialog.response_too_short"),
    "empty user message": (lambda s: msg(s, 0).update(content=""), "dialog.empty_message"),
    "overlong answer": (lambda s: msg(s, 3).update(content="Paris is sunny. " * 300), "dialog.response_too_long"),
    "control character": (lambda s: msg(s, 3).update(content="Paris is sunny\x07 today."), "dialog.invalid_chars"),
    "replacement character": (lambda s: msg(s, 0).update(content="Weather in Par\ufffds for 3 days?"),
                              "dialog.invalid_chars"),
    "control character in an argument": (lambda s: call(s)["arguments"].update(city="Pa\x00ris"),
                                         "dialog.invalid_chars"),
    "Latin mixed with CJK": (lambda s: msg(s, 3).update(content="Paris is sunny for 3 days. 明天会下雨，请带伞出门。"),
                             "dialog.mixed_language"),
    "Latin mixed with Cyrillic": (lambda s: msg(s, 3).update(content="Paris is sunny. Завтра будет дождь, возьмите зонт."),
                                  "dialog.mixed_language"),
    "answer in another script": (lambda s: msg(s, 3).update(content="В Париже солнечно, около восемнадцати градусов."),
                                 "dialog.language_mismatch"),
    "stops mid-sentence": (lambda s: msg(s, 3).update(content="Paris will be sunny for the next three days and the"),
                           "dialog.truncated"),
    "stops after a colon": (lambda s: msg(s, 3).update(content="Here is the forecast for Paris:"), "dialog.truncated"),
    "prose stops without punctuation": (lambda s: msg(s, 3).update(content="Paris stays sunny for the next 3 days with light wind"),
                                        "dialog.truncated"),
    "a sentence in another script inside a long answer": (
        lambda s: msg(s, 3).update(content="Paris is sunny at 18.5 degrees for the next 3 days, with a light wind from the "
                                           "west, clear evenings and no rain expected at all, so pack light and enjoy "
                                           "the walks along the river. 如果您还有其他问题，请随时告诉我。"),
        "dialog.mixed_language"),
    "unclosed code block": (lambda s: msg(s, 3).update(content="Result:\n```json\n{\"temp\": 18.5}"), "dialog.truncated"),
    "an answer in a loop": (lambda s: msg(s, 3).update(content="Paris is sunny for 3 days. " * 6), "dialog.repeated_ngrams"),
    "a word over and over": (lambda s: msg(s, 3).update(content="Paris is very very very very sunny."), "dialog.token_run"),
    "a template token in an answer": (lambda s: msg(s, 3).update(content="Paris is sunny.<|im_end|>"),
                                      "dialog.special_token"),
    "mojibake in a user message": (lambda s: msg(s, 0).update(content="Whatâ€™s the weather in Paris for 3 days?"),
                                   "dialog.mojibake"),
    "punctuation garbage": (lambda s: msg(s, 3).update(content="Paris is sunny ~!@#$%^&*()_+ for 3 days."),
                            "dialog.symbol_garbage"),
    # consistency
    "starts with the assistant": (lambda s: s["messages"].insert(0, {"role": "assistant", "content": "Hello there!"}),
                                  "consistency.role_order"),
    "two user turns in a row": (lambda s: s["messages"].insert(1, {"role": "user", "content": "Thanks in advance."}),
                                "consistency.role_order"),
    "system prompt mid-dialog": (lambda s: s["messages"].insert(2, {"role": "system", "content": "Be brief."}),
                                 "consistency.role_order"),
    "ends with the user": (lambda s: s["messages"].append({"role": "user", "content": "Great, thanks!"}),
                           "consistency.no_final_answer"),
    "tool result named wrong": (lambda s: msg(s, 2).update(name="book_hotel"), "consistency.response_name"),
    "call never answered": (lambda s: s["messages"].pop(2), "consistency.missing_response"),
    "tool message before any call": (lambda s: s["messages"].insert(1, dict(msg(s, 2))), "consistency.tool_without_call"),
    "answered twice": (lambda s: s["messages"].insert(3, dict(msg(s, 2))), "consistency.extra_response"),
    "tool result not JSON": (lambda s: msg(s, 2).update(content="sunny, 18 degrees"), "consistency.response_not_json"),
    "call written as answer text": (lambda s: msg(s, 3).update(content='[get_weather(city="Paris", days=3)]'),
                                    "consistency.call_as_text"),
    "apis_used wrong": (lambda s: s.update(apis_used=["book_hotel"]), "consistency.apis_used"),
    "data_type wrong": (lambda s: s.update(data_type="parallel"), "consistency.data_type"),
    # grounding
    "city nobody mentioned": (lambda s: [call(s)["arguments"].update(city="Lyon"),
                                         msg(s, 2).update(content=json.dumps({"city": "Lyon", "temp": 18.5}))],
                              "grounding.ungrounded_value"),
    "number nobody mentioned": (lambda s: call(s)["arguments"].update(days=7), "grounding.ungrounded_value"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_check_catches(name):
    fn, code = CASES[name]
    got = codes(mutate(fn))
    assert code in got, f"{name}: expected {code}, got {got}"


def test_every_check_has_a_case_and_every_case_code_is_documented():
    caught = {code for _, code in CASES.values()}
    prefixes = {c.split(".")[0] + ".*" for c in caught}
    assert all(c in CODES or c.split(".")[0] + ".*" in CODES for c in caught)
    families = {"record": "dialog.bad_record", "api_schema": "tool.", "api_fields": "api.", "executability": "exec.",
                "message_length": "dialog.response_", "invalid_chars": "dialog.invalid_chars",
                "language": "dialog.mixed_language", "truncation": "dialog.truncated", "role_order": "consistency.role_order",
                "call_responses": "consistency.missing_response", "call_format": "consistency.call_as_text",
                "labels": "consistency.apis_used", "grounding": "grounding.", "repetition": "dialog.repeated_",
                "meaningless_tokens": "dialog.special_token"}
    assert set(families) == {c.name for c in RULES}
    assert all(any(code.startswith(p) for code in caught) for p in families.values()), prefixes


def test_every_reason_is_kept_not_just_the_first():
    s = good()
    call(s)["arguments"].update(days="3", unit="kelvin")          # two exec problems
    msg(s, 3)["content"] = "Here is the forecast for Paris:"        # truncated
    s["apis_used"] = []                                              # label mismatch
    got = codes(s)
    for code in ("exec.wrong_type", "exec.enum", "dialog.truncated", "consistency.apis_used"):
        assert code in got
    assert len(got) == len(set(got))


# ------------------------------------------------------------------ passes that a cruder rule would fail

def test_grounding_accepts_defaults_earlier_results_words_and_dates():
    s = good()
    call(s)["arguments"].update(unit="celsius", days=3)               # default unit, days from "3 days"
    msg(s, 0)["content"] = "What's the weather in PARIS for the next three days?"
    assert codes(s) == []
    d = parallel()
    msg(d, 0)["content"] = ("Weather in Oslo, and book a hotel in Oslo from June 1st for two nights for "
                            "Ana Lima and Bo Chen, please.")
    assert codes(d) == []
    # dependent: the second call's argument comes from the first call's result
    dep = good("dep")
    dep["data_type"] = "dependent"
    dep["messages"] = [
        {"role": "user", "content": "Find the weather where my next trip goes, then book 2 nights from 2025-07-04."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "a", "name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"role": "tool", "tool_call_id": "a", "name": "get_weather", "content": json.dumps({"city": "Lisbon", "temp": 25})},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "b", "name": "book_hotel", "arguments": {"city": "Lisbon", "check_in": "2025-07-04", "nights": 2}}]},
        {"role": "tool", "tool_call_id": "b", "name": "book_hotel", "content": json.dumps({"booking_id": "X1", "total": 300})},
        {"role": "assistant", "content": "Booked 2 nights in Lisbon (X1), 300 in total; it is 25 °C there."},
    ]
    dep["apis_used"] = ["book_hotel", "get_weather"]
    got = codes(dep)
    assert got == ["grounding.ungrounded_value"]       # "Paris" is the only value nothing grounds
    msg(dep, 0)["content"] += " My trip goes to Paris first."
    assert codes(dep) == []


def test_language_check_ignores_names_quoted_from_the_user():
    s = good()
    msg(s, 0)["content"] = "What's the weather in Paris for the next 3 days? I'll visit 東京タワー after."
    msg(s, 3)["content"] = "Paris is sunny for the next 3 days; 東京タワー will have to wait for your next trip."
    assert codes(s) == []
    msg(s, 3)["content"] = "Paris is sunny. 东京今天也是晴天，气温很高。"
    assert "dialog.mixed_language" in codes(s)


def test_python_call_format_asked_by_the_system_prompt():
    s = good()
    sys_msg = {"role": "system", "content": "Call tools in Python syntax: [func_name(param=value), ...]."}
    s["messages"].insert(0, sys_msg)
    assert codes(s) == []
    s["messages"][2]["content"] = '[get_weather(city="Rome", days=3)]'   # text disagrees with tool_calls
    assert "consistency.call_format" in codes(s)
    s["messages"][2]["content"] = '[get_weather(days=3, city="Paris")]'  # same call, other order: fine
    assert codes(s) == []
    # a parameter named like a Python keyword cannot be written in that syntax
    s["tools"][0]["parameters"]["properties"]["class"] = {"type": "string", "description": "Travel class."}
    call(s, 2)["arguments"]["class"] = "economy"
    s["messages"][0]["content"] += " Travel class: economy."
    s["messages"][1]["content"] += " Economy class."
    assert codes(s) == ["consistency.call_format"]


def test_settings_bound_response_length():
    s = good()
    assert codes(s, max_response_chars=20) == ["dialog.response_too_long"]
    assert codes(s, min_response_chars=200) == ["dialog.response_too_short"]


def test_every_code_the_verifier_emits_is_documented():
    from callforge.core.reasons import INPUT as INPUT_CODES, JUDGE as JUDGE_CODES
    from callforge.verify.judges import JUDGES
    assert {j.code for j in JUDGES.values()} <= set(JUDGE_CODES)
    assert all(code in CODES or code.split(".")[0] + ".*" in CODES for _, code in CASES.values())
    assert {"input.bad_json", "input.duplicate_id"} <= set(INPUT_CODES)


def test_a_bad_check_mode_given_directly_stops_before_any_line_is_read():
    """The schema refuses a bad mode as the config composes; a section built around it is refused too."""
    from omegaconf import OmegaConf
    from callforge.verify.runner import VerifyConfigError

    vc = OmegaConf.merge(verify_config(), {})
    OmegaConf.set_readonly(vc, False)
    vc.checks.grounding = "maybe"

    def unread():
        raise AssertionError("a line was read")
        yield

    with pytest.raises(VerifyConfigError, match=r"^verify\.checks: mode must be one of \('reject', 'report', 'off'\), "
                                                r"got \{'grounding': 'maybe'\}$"):
        verify(unread(), vc, map_fn=ordered_map, offline=True)
