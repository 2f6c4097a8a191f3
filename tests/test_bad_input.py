"""Bad input, end to end: every bad item is rejected with a stable reason and nothing else is lost.

Imported tool definitions (missing names, invalid schemas, recursive $ref, thousands of parameters,
non-UTF-8 bytes), model answers that are not JSON / the wrong shape / calls to tools not offered,
and property-based fuzzing of the parsers that read untrusted text: no exception escapes them.
"""
from __future__ import annotations

import functools
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callforge.apis.importers import ImportError_, import_file
from callforge.apis.rules import Rules
from callforge.calling.calls import ParseError, parse_calls
from callforge.core.config import compose, validate
from callforge.calling.executability import check_calls, check_line
from callforge.core.gateway import Gateway
from callforge.core.jsonout import extract_json, parse_json
from callforge.calling.tools import ToolError, normalise_tool
from llm_server import llm_overrides
from callforge.core.config import defaults

RULES = Rules.of(defaults("apis"))

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def good_tool(name: str) -> dict:
    return {"type": "function", "function": {
        "name": name, "description": f"Does {name}.",
        "parameters": {"type": "object", "required": ["city"],
                       "properties": {"city": {"type": "string", "description": "City name."}}}}}


def bad_lines() -> dict[str, bytes]:
    """One bad tool per expected reason code, as the raw JSON-lines bytes a user might hand us."""
    def line(obj) -> bytes:
        return json.dumps(obj).encode()
    no_name = good_tool("x")
    del no_name["function"]["name"]
    bad_schema = good_tool("bad_schema")
    bad_schema["function"]["parameters"]["properties"]["city"]["type"] = 5
    recursive = good_tool("recursive")
    recursive["function"]["parameters"] = {
        "type": "object", "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
        "properties": {"root": {"$ref": "#/$defs/node", "description": "A linked list."}}}
    huge = good_tool("huge")
    huge["function"]["parameters"]["properties"] = {
        f"p{i}": {"type": "integer", "description": f"Parameter {i}."} for i in range(5000)}
    deep = good_tool("deep")
    node = deep["function"]["parameters"]["properties"]["city"] = {"type": "array", "description": "Nested."}
    for _ in range(60):
        node["items"] = {"type": "array"}
        node = node["items"]
    return {
        "tool.missing_name": line(no_name),
        "tool.bad_schema": line(bad_schema),
        "tool.recursive_ref": line(recursive),
        "tool.too_many_params": line(huge),
        "tool.bad_encoding": line(good_tool("caf_NAME")).replace(b"_NAME", b"\xe9\xff"),   # Latin-1 bytes
        "tool.bad_encoding ": line(good_tool("lone")).replace(b'"lone"', b'"lone\\ud800"'),  # escaped surrogate
        "tool.not_object": b"[1, 2, 3]",
        "tool.bad_json": b'{"type": "function", "function": {"name": ',
        "tool.too_deep": line(deep),
    }


def test_import_rejects_each_bad_tool_with_its_reason_and_keeps_every_good_one(tmp_path):
    bad = bad_lines()
    lines = [json.dumps(good_tool("first_tool")).encode(), *bad.values(),
             json.dumps(good_tool("last_tool")).encode()]
    f = tmp_path / "tools.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    ok, rejected = import_file(f, "openai", Rules.of(defaults('apis'), require_typed_returns=False))
    assert [api["name"] for _, api, _ in ok] == ["first_tool", "last_tool"]
    assert len(ok) + len(rejected) == len(lines), "every input line ends accepted or rejected"
    got = [r["reasons"][0] for r in rejected]
    assert got == [code.strip() for code in bad], got
    assert all(r["origin"].startswith("import:openai:tools.jsonl#") for r in rejected)


def test_openapi_recursive_component_rejects_only_that_operation(tmp_path):
    spec = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
            "components": {"schemas": {"Tree": {"type": "object", "properties": {
                "kids": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}}}}}},
            "paths": {
                "/trees": {"post": {"operationId": "plant", "summary": "Plant a tree.",
                                    "requestBody": {"required": True, "content": {"application/json": {
                                        "schema": {"$ref": "#/components/schemas/Tree"}}}},
                                    "responses": {"200": {"description": "ok"}}}},
                "/weather": {"get": {"operationId": "weather", "summary": "Weather in a city.",
                                     "parameters": [{"name": "city", "in": "query", "required": True,
                                                     "description": "City.", "schema": {"type": "string"}}],
                                     "responses": {"200": {"description": "ok"}}}}}}
    f = tmp_path / "api.json"
    f.write_text(json.dumps(spec))
    ok, rejected = import_file(f, "openapi", Rules.of(defaults('apis'), require_typed_returns=False))
    assert [api["name"] for _, api, _ in ok] == ["weather"]
    assert [r["reasons"] for r in rejected] == [["tool.recursive_ref"]]


def test_unreadable_import_file_is_a_reason_not_a_crash(tmp_path):
    f = tmp_path / "spec.yaml"
    f.write_bytes(b"openapi: [unclosed\n\xff\xfe")
    with pytest.raises(ImportError_) as e:
        import_file(f, "openapi", RULES)
    assert e.value.code.startswith("import.")


def test_model_answers_in_one_batch_fail_alone_with_reasons(llm_server, tmp_path):
    """Not JSON, the wrong shape and a call to a tool that was not offered: each its own reason."""
    schema = {"type": "object", "required": ["name", "arguments"],
              "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}}}
    answers = {"a": '{"name": "get_weather", "arguments": {"city": "Oslo"}}',
               "b": "I think you should call get_weather for Oslo.",
               "c": '["get_weather", {"city": "Oslo"}]',
               "d": '{"name": "launch_rocket", "arguments": {"target": "moon"}}',
               "e": '```json\n{"name": "get_weather", "arguments": {"city": "Lima"}}\n```'}
    llm_server.set_responder(lambda req: answers[req["messages"][0]["content"]])
    cfg = validate(compose(llm_overrides(llm_server, **{"llm.repair_retries": 1})))
    gw = Gateway(cfg.llm, stage="t", cache_dir=tmp_path)
    try:
        res = gw.run_all([gw.complete([{"role": "user", "content": k}], json_schema=schema) for k in answers])
    finally:
        gw.close()
    by_key = dict(zip(answers, res))
    assert by_key["b"].reason == "llm.bad_json" and by_key["c"].reason == "llm.schema_invalid"
    assert by_key["a"].ok and by_key["e"].ok and by_key["d"].ok
    offered = [good_tool("get_weather")]
    verdicts = {k: check_calls(offered, [r.data]) for k, r in by_key.items() if r.ok}
    assert verdicts["a"] == [] and verdicts["e"] == []
    assert verdicts["d"] and verdicts["d"][0].startswith("exec.unknown_function")


@pytest.mark.parametrize("text", ["\ud800", None, 42, "bad \udfff text"])
def test_unusable_answer_text_is_a_reason(llm_server, tmp_path, text):
    """Lone surrogates or a non-string content from a server: retried, then a reason; never a crash."""
    llm_server.set_responder(lambda req: text)
    cfg = validate(compose(llm_overrides(llm_server, **{"llm.max_retries": 1})))
    gw = Gateway(cfg.llm, stage="t", cache_dir=tmp_path)
    try:
        res = gw.run(gw.complete([{"role": "user", "content": "x"}], json_schema={"type": "object"}))
    finally:
        gw.close()
    assert not res.ok and res.reason in ("llm.bad_response", "llm.empty_answer")


# -- fuzzing: no exception but the documented one escapes ------------------------------------------------
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_value = st.recursive(json_leaf, lambda kids: st.lists(kids, max_size=4)
                          | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=20)

name = st.text(string.ascii_letters + "_", min_size=1, max_size=8) | st.sampled_from(["Get Weather", "a.b", "x-y"])
literal = st.recursive(
    st.sampled_from(["1", "-2.5", "'s'", '"q\\"x"', "True", "None", "1e999", "0x1F", "x", "b'z'", "f'{x}'"]),
    lambda kids: st.lists(kids, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]")
    | st.lists(st.tuples(st.sampled_from(["'k'", "1", "k"]), kids), max_size=3).map(
        lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"), max_leaves=8)
call = st.builds(lambda n, args: f"{n}({', '.join(f'{k}={v}' for k, v in args)})",
                 name, st.lists(st.tuples(st.sampled_from(["a", "b", "city", "type", "lambda"]), literal), max_size=3))
noise = st.sampled_from(["", " ", ",", "(", ")", "[", "]", "=", "**", "*a", "lambda: 0", "\x00", "\u2028", "#", "\\"])
call_text = st.builds(lambda calls, junk, pos, wrap: (lambda s: s[:pos] + junk + s[pos:])(
    ("[" + ", ".join(calls) + "]") if wrap else ", ".join(calls)),
    st.lists(call, max_size=3), noise, st.integers(0, 60), st.booleans())


@FUZZ
@given(st.one_of(call_text, st.text(max_size=80)))
def test_fuzz_call_parser_only_raises_parse_error(text):
    try:
        calls = parse_calls(text)
    except ParseError as e:
        assert e.code.startswith("call.")
        return
    assert isinstance(calls, list)
    for c in calls:
        assert isinstance(c["name"], str) and isinstance(c["arguments"], dict)
        json.dumps(c, allow_nan=False)     # what we parse is plain JSON data


def model_text():
    chatter = st.sampled_from(["", "Sure! ", "Here you go:\n", "```json\n", "```\n", "{", "[", "}", "]", "NaN", "\\ud800"])
    body = json_value.map(json.dumps)
    cut = st.integers(0, 200)
    return st.builds(lambda pre, b, post, n, trunc: (pre + b + post)[: n if trunc else None],
                     chatter, body, chatter, cut, st.booleans()) | st.text(max_size=100)


SHAPE = {"type": "object", "required": ["children"], "properties": {
    "children": {"type": "array", "items": {"type": "object", "required": ["name"],
                                            "properties": {"name": {"type": "string"}}}}}}


@FUZZ
@given(model_text())
def test_fuzz_llm_output_parser_never_raises(text):
    data, reason, detail = parse_json(text, SHAPE)
    assert reason in (None, "llm.bad_json", "llm.schema_invalid")
    if reason is None:
        json.dumps(data, allow_nan=False).encode("utf-8")   # only writable JSON comes out
    try:
        extract_json(text)
    except ValueError:
        pass


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 50_000, "x" + "[1," * 5000, '"\\ud800"',
                                  '{"a": NaN}', '{"a": 1e400}', '{"a": ' + "9" * 5000 + "}", "{" * 300 + '{"ok": 1}'])
def test_hostile_answers_are_bad_json_not_exceptions(text):
    data, reason, _ = parse_json(text, {"type": "object"})
    assert reason == "llm.bad_json" and data is None


@FUZZ
@given(st.one_of(json_value, st.dictionaries(st.sampled_from(["name", "description", "parameters", "returns",
                                                                "function", "type"]), json_value, max_size=5)))
def test_fuzz_tool_normaliser_only_raises_tool_error(raw):
    try:
        tool = normalise_tool(raw)
    except ToolError as e:
        assert e.code.startswith("tool.")
        return
    assert isinstance(tool["name"], str) and tool["parameters"]["type"] == "object"


@FUZZ
@given(st.binary(max_size=200) | json_value.map(lambda v: json.dumps({"id": 1, "tools": v, "calls": v}).encode()))
def test_fuzz_check_calls_line_never_raises(line):
    out = check_line(line)
    assert set(out) == {"id", "ok", "reasons"} and (out["ok"] or out["reasons"])


# -- the stages' own parsers of model output ------------------------------------------------------------------
@FUZZ
@given(st.lists(json_value | st.dictionaries(st.sampled_from(["action", "tool_calls", "content", "thinking"]),
                                                json_value, max_size=4), min_size=1, max_size=4))
def test_fuzz_vote_on_arbitrary_decisions_never_raises(decisions):
    from callforge.dialogs.voting import vote
    decisions = [d for d in decisions if isinstance(d, dict)] or [{}]
    winner, info = vote(decisions)
    assert winner is None or winner in decisions
    assert info["samples"] == len(decisions)


@FUZZ
@given(model_text() | call_text, st.sampled_from(["json", "python"]))
def test_fuzz_answer_parser_of_the_bounds_command_never_raises(text, fmt):
    from callforge.complexity.answers import parse_answer
    calls = parse_answer(text, fmt)
    assert calls is None or all(isinstance(c["name"], str) and isinstance(c["arguments"], dict) for c in calls)


logprob_entry = st.one_of(json_value, st.dictionaries(st.sampled_from(["1", "2"]), st.one_of(
    json_value, st.fixed_dictionaries({"logprob": st.floats(allow_nan=False) | json_leaf,
                                       "decoded_token": st.text(max_size=3) | json_leaf})), max_size=2))


@FUZZ
@given(st.one_of(json_value, st.fixed_dictionaries({
    "logprobs": st.one_of(json_value, st.fixed_dictionaries({
        "text_offset": st.lists(st.integers(-2, 12) | json_leaf, max_size=6),
        "token_logprobs": st.lists(st.floats(allow_nan=False) | json_leaf, max_size=6),
        "tokens": st.lists(st.text(max_size=3) | json_leaf, max_size=6)})),
    "prompt_logprobs": st.lists(logprob_entry, max_size=6) | json_value})), st.text(max_size=12))
def test_fuzz_remote_scorer_parsers_only_raise_value_error(choice, text):
    from callforge.complexity.remote import parse_echo, parse_prompt_logprobs
    for parse in (parse_echo, parse_prompt_logprobs):
        try:
            offs, vals = parse(choice, text)
        except ValueError:
            continue
        assert len(offs) == len(vals) and all(isinstance(o, int) for o in offs)
        assert all(v is None or isinstance(v, (int, float)) for v in vals)


@functools.lru_cache(maxsize=1)
def _verify_config():
    return validate(compose(["verify.workers=1"])).verify


def _sample_lines():
    from verify_samples import good, non_tool
    g = json.dumps(good("g")).encode()
    return st.lists(st.binary(max_size=60) | json_value.map(lambda v: json.dumps(v).encode())
                    | st.builds(lambda cut, junk: g[:cut] + junk, st.integers(0, len(g)), st.binary(max_size=4))
                    | st.just(g) | st.just(json.dumps(non_tool("n")).encode()), max_size=6)


@FUZZ
@given(_sample_lines())
def test_fuzz_verify_stage_logic_accounts_for_every_line(lines):
    """The verify stage's reader + rule layer on hostile lines: nothing raises, nothing is lost."""
    from callforge.core.parallel import ordered_map
    from callforge.verify.runner import verify
    verified, rejected, _ = verify(lines, _verify_config(), map_fn=ordered_map, offline=True)
    assert len(verified) + len(rejected) == sum(1 for x in lines if x.strip(b" \t\r\n"))   # JSON whitespace only
    assert all(r["reasons"] for r in rejected)
