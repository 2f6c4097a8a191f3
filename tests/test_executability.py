"""Executability rules: named reason codes, all of them per call set, and the BFCL bar via the real CLI."""
from __future__ import annotations

import io
import json
import math
import subprocess
import sys

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callforge.calling.executability import check_calls, check_calls_command, index_for
from callforge.calling.schema_check import compile_schema, explain

WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "", "parameters": {
    "type": "object", "required": ["city"], "properties": {
        "city": {"type": "string", "minLength": 2, "maxLength": 40},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "unit": {"type": "string", "enum": ["C", "F"]},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "when": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "mail": {"type": "string", "format": "email"},
        "link": {"type": "string", "format": "uri"},
        "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        "flag": {"type": "boolean"}}}}}


def codes(tools, calls) -> list[str]:
    return [r.split(":", 1)[0] for r in check_calls(tools, calls)]


def call(**args):
    return [{"name": "get_weather", "arguments": args}]


def test_a_valid_call_passes():
    assert check_calls([WEATHER], call(city="Paris", days=3, unit="C", ratio=0.5, when="2024-02-29",
                                       at="2024-02-29T10:00:00Z", mail="a@b.org", link="https://x.org/p?q=1",
                                       code="ABC", tags=["a"], flag=False)) == []


@pytest.mark.parametrize("args, code", [
    ({"city": "P"}, "exec.length"),
    ({"city": "P" * 41}, "exec.length"),
    ({"city": "Paris", "days": 0}, "exec.range"),
    ({"city": "Paris", "days": 15}, "exec.range"),
    ({"city": "Paris", "ratio": 0}, "exec.range"),
    ({"city": "Paris", "ratio": 1.0}, "exec.range"),
    ({"city": "Paris", "unit": "K"}, "exec.enum"),
    ({"city": "Paris", "when": "2023-02-29"}, "exec.format"),
    ({"city": "Paris", "when": "29/02/2024"}, "exec.format"),
    ({"city": "Paris", "at": "2024-02-29T25:00:00"}, "exec.format"),
    ({"city": "Paris", "mail": "not-an-email"}, "exec.format"),
    ({"city": "Paris", "link": "no scheme here"}, "exec.format"),
    ({"city": "Paris", "code": "abc"}, "exec.pattern"),
    ({"city": "Paris", "tags": []}, "exec.items"),
    ({"city": "Paris", "tags": ["a", "b", "c", "d"]}, "exec.items"),
    ({"city": "Paris", "tags": ["a", 2]}, "exec.wrong_type"),
    ({"city": "Paris", "flag": "true"}, "exec.wrong_type"),
    ({"city": "Paris", "zz": 1}, "exec.unknown_argument"),
    ({"days": 2}, "exec.missing_required"),
])
def test_each_rule_has_its_code(args, code):
    assert codes([WEATHER], call(**args)) == [code]


def test_bool_is_not_a_number_but_int_is():
    tool = {"name": "f", "parameters": {"type": "object", "properties": {
        "i": {"type": "integer"}, "n": {"type": "number"}, "b": {"type": "boolean"}}}}
    ok = lambda **a: check_calls([tool], [{"name": "f", "arguments": a}])
    assert ok(i=3, n=3, b=True) == []
    assert ok(n=2.5) == []
    assert codes([tool], [{"name": "f", "arguments": {"i": True}}]) == ["exec.wrong_type"]
    assert codes([tool], [{"name": "f", "arguments": {"n": False}}]) == ["exec.wrong_type"]
    assert codes([tool], [{"name": "f", "arguments": {"i": 3.0}}]) == ["exec.wrong_type"]
    assert codes([tool], [{"name": "f", "arguments": {"b": 1}}]) == ["exec.wrong_type"]


def test_parameter_named_type_in_bfcl_style():
    tool = {"name": "shape.make", "parameters": {"type": "dict", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["circle", "square"]}, "properties": {"type": "float"}}}}
    assert check_calls([tool], [{"name": "shape.make", "arguments": {"type": "circle", "properties": 2}}]) == []
    assert codes([tool], [{"name": "shape.make", "arguments": {"type": "oval"}}]) == ["exec.enum"]
    assert codes([tool], [{"name": "shape.make", "arguments": {"properties": 1.5}}]) == ["exec.missing_required"]


ORDER = {"name": "order", "parameters": {"type": "object", "required": ["lines"], "properties": {
    "lines": {"type": "array", "items": {"type": "object", "required": ["sku", "qty"], "properties": {
        "sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1},
        "opts": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}},
        "additionalProperties": False}}}}}


def test_nested_arrays_of_objects_report_paths():
    good = [{"name": "order", "arguments": {"lines": [{"sku": "a", "qty": 1, "opts": [[1, 2.5], []]}]}}]
    assert check_calls([ORDER], good) == []
    bad = [{"name": "order", "arguments": {"lines": [
        {"sku": "a", "qty": 1}, {"sku": 5, "qty": 0, "opts": [[1, "x"]], "note": "?"}, {"qty": 2}]}}]
    got = check_calls([ORDER], bad)
    assert sorted(got) == sorted([
        "exec.wrong_type: calls[0].lines[1].sku: expected string, got integer",
        "exec.range: calls[0].lines[1].qty: 0 < minimum 1",
        "exec.wrong_type: calls[0].lines[1].opts[0][1]: expected number, got string",
        "exec.unknown_argument: calls[0].lines[1].note: not a declared parameter",
        "exec.missing_required: calls[0].lines[2].sku: required argument missing"])


def test_bfcl_dicts_below_top_level_are_only_checked_to_be_dicts():
    # BFCL semantics (its answers keep allowed-value lists inside nested dicts); OpenAI style is strict.
    bfcl = {"name": "q", "parameters": {"type": "dict", "properties": {
        "where": {"type": "dict", "properties": {"age": {"type": "integer"}}, "required": ["age"]}}}}
    assert check_calls([bfcl], [{"name": "q", "arguments": {"where": {"age": [25]}}}]) == []
    assert codes([bfcl], [{"name": "q", "arguments": {"where": [25]}}]) == ["exec.wrong_type"]
    strict = {"name": "q", "parameters": {"type": "object", "properties": {
        "where": {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}}}}
    assert codes([strict], [{"name": "q", "arguments": {"where": {"age": [25]}}}]) == ["exec.wrong_type"]
    assert codes([strict], [{"name": "q", "arguments": {"where": {}}}]) == ["exec.missing_required"]


def test_all_reasons_of_all_calls_are_returned():
    calls = [{"name": "get_weather", "arguments": {"days": "3", "unit": "K", "extra": 1}},
             {"name": "nope", "arguments": {}},
             {"name": "get_weather", "arguments": {"city": "Rome"}},
             "not a call"]
    assert codes([WEATHER], calls) == ["exec.missing_required", "exec.wrong_type", "exec.enum",
                                       "exec.unknown_argument", "exec.unknown_function", "exec.malformed_call"]
    idx = index_for([WEATHER])
    assert idx.ok(calls) is False and idx.ok(calls[2:3]) is True


def test_call_shapes_and_bad_tools():
    assert check_calls([WEATHER], '[get_weather(city="Oslo", days=2)]') == []
    assert codes([WEATHER], "[get_weather(city=Oslo)]") == ["call.bad_literal"]
    wire = [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]
    assert check_calls([WEATHER], wire) == []
    assert codes([WEATHER, {"parameters": {}}], call(city="Oslo")) == ["tool.missing_name"]
    assert codes("tools?", []) == ["tool.not_list"]
    other = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    assert codes([WEATHER, other], call(city="Oslo")) == ["tool.duplicate_name"]


def test_exotic_keywords_are_checked_by_jsonschema_rs():
    tool = {"name": "f", "parameters": {"type": "object", "properties": {
        "m": {"type": "object", "patternProperties": {"^x_": {"type": "integer"}}, "additionalProperties": False},
        "c": {"type": "array", "contains": {"const": 1}}, "u": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}}
    assert check_calls([tool], [{"name": "f", "arguments": {"m": {"x_a": 1}, "c": [0, 1], "u": None}}]) == []
    assert codes([tool], [{"name": "f", "arguments": {"m": {"x_a": "1"}}}]) == ["exec.schema"]
    assert codes([tool], [{"name": "f", "arguments": {"m": {"y": 1}}}]) == ["exec.schema"]
    assert codes([tool], [{"name": "f", "arguments": {"c": [0]}}]) == ["exec.schema"]
    assert codes([tool], [{"name": "f", "arguments": {"u": 3}}]) == ["exec.schema"]


def test_index_cache_tells_equal_content_from_lookalikes():
    a = [{"name": "f", "parameters": {"type": "object", "properties": {"x": {"enum": [1]}}}}]
    b = [{"name": "f", "parameters": {"type": "object", "properties": {"x": {"enum": [True]}}}}]
    assert index_for(a) is index_for(json.loads(json.dumps(a)))
    assert index_for(a) is not index_for(b)
    assert check_calls(a, [{"name": "f", "arguments": {"x": 1}}]) == []
    assert codes(b, [{"name": "f", "arguments": {"x": 1}}]) == ["exec.enum"]


# ---------------------------------------------------------------- agreement with jsonschema-rs

SCALAR_TYPES = ["string", "integer", "number", "boolean", "null"]


def schemas():
    leaf = st.one_of(
        st.builds(lambda t: {"type": t}, st.sampled_from(SCALAR_TYPES)),
        st.builds(lambda lo, hi: {"type": "integer", "minimum": lo, "maximum": hi},
                  st.integers(-5, 5), st.integers(-5, 5)),
        st.builds(lambda lo: {"type": "number", "exclusiveMinimum": lo}, st.floats(-3, 3)),
        st.builds(lambda n, m: {"type": "string", "minLength": n, "maxLength": m}, st.integers(0, 3), st.integers(0, 5)),
        st.builds(lambda e: {"enum": e}, st.lists(st.one_of(st.integers(-2, 2), st.text(max_size=2), st.booleans()),
                                                  min_size=1, max_size=3)),
        st.just({"type": "string", "pattern": "^a+$"}),
        st.just({}))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.builds(lambda it, lo: {"type": "array", "items": it, "minItems": lo}, inner, st.integers(0, 2)),
        st.builds(lambda key, a, b: {key: [a, b]}, st.sampled_from(["anyOf", "oneOf", "allOf"]), inner, inner),
        st.builds(lambda props, req, extra: {"type": "object", "properties": props,
                                             "required": [k for k in props if k in req],
                                             "additionalProperties": extra},
                  st.dictionaries(st.sampled_from("abc"), inner, max_size=3), st.sets(st.sampled_from("abc")),
                  st.booleans())), max_leaves=6)


JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-6, 6), st.floats(-4, 4).filter(
    lambda f: not f.is_integer()), st.text(alphabet="ab", max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abcd"), inner, max_size=3)),
    max_leaves=8)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas(), JSON)
def test_compiled_checker_agrees_with_jsonschema_rs(schema, value):
    # Integral floats (3.0) are left out: there this checker is deliberately stricter than JSON Schema.
    node = compile_schema(schema)
    expected = jsonschema_rs.validator_for(schema).is_valid(value)
    assert node.valid(value) == expected
    out = []
    explain(node, value, "v", out)
    assert (not out) == expected, out


# ---------------------------------------------------------------- the command and the BFCL bar

def test_command_survives_malformed_lines(tmp_path):
    lines = [b'{"id": "a", "tools": [], "calls": []}', b"", b"{not json", b'["a list"]', b'{"id": "m", "tools": []}',
             b'{"id": "u", "tools": [], "calls": "\xff\xfe"}', b'{"id": "t", "tools": {"x": 1}, "calls": []}',
             json.dumps({"id": 9, "tools": [WEATHER], "calls": call(city="Oslo")}).encode()]
    f = tmp_path / "in.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    buf = io.StringIO()
    assert check_calls_command(str(f), buf) == 0
    out = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [o["id"] for o in out] == ["a", None, None, "m", None, "t", 9]
    assert [o["ok"] for o in out] == [True, False, False, False, False, False, True]
    assert [o["reasons"][0].split(":")[0] for o in out if not o["ok"]] == [
        "input.bad_json", "input.not_object", "input.missing_field", "input.bad_encoding", "tool.not_list"]
    assert check_calls_command(str(tmp_path / "missing.jsonl"), io.StringIO()) == 2


def test_bfcl_cases_through_the_cli_meet_the_bar(shared_bfcl, tmp_path):
    cases_file = tmp_path / "cases.jsonl"
    subprocess.run([sys.executable, str(shared_bfcl / "make_cases.py"), str(shared_bfcl), str(cases_file)],
                   check=True, capture_output=True)
    cases = [json.loads(x) for x in cases_file.read_text().splitlines()]
    proc = subprocess.run([sys.executable, "-m", "callforge.cli", "check-calls", str(cases_file)],
                          check=True, capture_output=True, text=True)
    results = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["id"] for r in results] == [c["id"] for c in cases]
    good = [r for r, c in zip(results, cases) if c["expect_ok"]]
    bad = [r for r, c in zip(results, cases) if not c["expect_ok"]]
    assert len(good) > 700 and len(bad) > 3000
    accepted = sum(r["ok"] for r in good) / len(good)
    rejected = sum(not r["ok"] for r in bad) / len(bad)
    assert accepted >= 0.995, [r for r in good if not r["ok"]][:5]
    assert rejected >= 0.995, [r for r in bad if r["ok"]][:5]
    assert all(r["reasons"] for r in bad if not r["ok"]) and all(not r["reasons"] for r in good if r["ok"])
    assert all(index_for(c["tools"]).ok(c["calls"]) == r["ok"] for r, c in zip(results, cases))  # fast path agrees
    # each mutation is caught by the rule named for it
    want = {"unknown_function": "exec.unknown_function", "missing_required": "exec.missing_required",
            "unknown_parameter": "exec.unknown_argument", "wrong_type": "exec.wrong_type",
            "enum_violation": "exec.enum"}
    named = [want[c["mutation"]] in {x.split(":")[0] for x in r["reasons"]} for r, c in zip(results, cases)
             if c["mutation"]]
    assert sum(named) / len(named) >= 0.995
    assert math.isclose(sum(named), len(named), rel_tol=0.005)
