"""Tool import: OpenAI and BFCL/ToolACE styles normalise to one internal form; bad tools get codes."""
from __future__ import annotations

import json

import jsonschema_rs
import pytest

from callforge.core import records
from callforge.calling.tools import MAX_PARAMS, ToolError, normalise_tool, openai_tool, to_bfcl

PARAMS = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
          "required": ["city"]}


def code_of(raw) -> str:
    with pytest.raises(ToolError) as e:
        normalise_tool(raw)
    return e.value.code


def test_openai_wrapped_and_bare_forms_agree():
    bare = {"name": "get_weather", "description": "Weather.", "parameters": PARAMS}
    wrapped = {"type": "function", "function": bare}
    assert normalise_tool(wrapped) == normalise_tool(bare)
    t = normalise_tool(bare)
    assert t["parameters"] == PARAMS and t["returns"] == {} and "source" not in t
    assert normalise_tool(openai_tool(t)) == t
    assert records.validate("tool", t) == []


def test_bfcl_types_map_to_json_schema_at_every_depth():
    raw = {"name": "geo.route planner", "description": "d", "parameters": {
        "type": "dict", "required": ["stops"],
        "properties": {
            "stops": {"type": "array", "items": {"type": "dict", "properties": {
                "lat": {"type": "float"}, "tags": {"type": "tuple", "items": {"type": "string"}}}}},
            "anything": {"type": "any", "description": "free"},
            "speed": {"type": "float", "default": 1.5}}}}
    t = normalise_tool(raw)
    p = t["parameters"]
    assert t["name"] == "geo.route planner"  # names are kept exactly
    assert t["source"] == "import:bfcl"
    assert p["type"] == "object"
    item = p["properties"]["stops"]["items"]
    assert item["type"] == "object"
    assert item["properties"]["lat"] == {"type": "number"}
    assert item["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert p["properties"]["anything"] == {"description": "free"}
    assert p["properties"]["speed"] == {"type": "number", "default": 1.5}
    assert records.validate("tool", t) == []


def test_parameters_named_like_schema_keywords_are_left_alone():
    raw = {"name": "f", "parameters": {"type": "dict", "required": ["type"], "properties": {
        "type": {"type": "string", "enum": ["a", "b"]},
        "properties": {"type": "dict", "properties": {"type": {"type": "float"}, "items": {"type": "tuple"}}},
        "required": {"type": "boolean"}, "dict": {"type": "integer"}}}}
    p = normalise_tool(raw)["parameters"]
    assert list(p["properties"]) == ["type", "properties", "required", "dict"]
    assert p["properties"]["type"] == {"type": "string", "enum": ["a", "b"]}
    assert p["properties"]["properties"] == {"type": "object", "properties": {
        "type": {"type": "number"}, "items": {"type": "array"}}}
    assert p["properties"]["required"] == {"type": "boolean"}
    assert p["properties"]["dict"] == {"type": "integer"}
    assert p["required"] == ["type"]


def test_unknown_type_spelling_is_unconstrained_and_restored_on_export():
    raw = {"name": "j", "parameters": {"type": "dict", "properties": {"m": {"type": "HashMap"}}}}
    t = normalise_tool(raw)
    assert t["parameters"]["properties"]["m"] == {"x-type": "HashMap"}
    assert to_bfcl(t)["parameters"]["properties"]["m"] == {"type": "HashMap"}


def test_bfcl_optional_markers_and_draft3_required_fold_into_required():
    raw = {"name": "f", "parameters": {"type": "dict", "required": ["a", "b", "c"], "optional": ["c"],
                                       "properties": {"a": {"type": "string"},
                                                      "b": {"type": "string", "optional": "true"},
                                                      "c": {"type": "string"},
                                                      "d": {"type": "string", "required": True}}}}
    p = normalise_tool(raw)["parameters"]
    assert p["required"] == ["a", "d"]
    assert "optional" not in p and "optional" not in p["properties"]["b"]
    assert "required" not in p["properties"]["d"]


def test_draft4_exclusive_bounds_become_numbers():
    raw = {"name": "f", "parameters": {"type": "object", "properties": {
        "x": {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 9, "exclusiveMaximum": False}}}}
    assert normalise_tool(raw)["parameters"]["properties"]["x"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 9}


def test_local_refs_are_inlined_and_recursive_ones_rejected():
    raw = {"name": "f", "parameters": {"type": "object", "$defs": {"pt": {"type": "object", "properties": {
        "x": {"type": "number"}}}}, "properties": {"a": {"$ref": "#/$defs/pt"}, "b": {"$ref": "#/$defs/pt"}}}}
    p = normalise_tool(raw)["parameters"]
    assert p["properties"]["a"] == p["properties"]["b"] == {"type": "object", "properties": {"x": {"type": "number"}}}
    assert "$defs" not in p
    loop = {"name": "f", "parameters": {"type": "object", "$defs": {"node": {"type": "object", "properties": {
        "child": {"$ref": "#/$defs/node"}}}}, "properties": {"root": {"$ref": "#/$defs/node"}}}}
    assert code_of(loop) == "tool.recursive_ref"
    assert code_of({"name": "f", "parameters": {"properties": {"a": {"$ref": "https://x/s.json"}}}}) == "tool.bad_ref"
    assert code_of({"name": "f", "parameters": {"properties": {"a": {"$ref": "#/$defs/none"}}}}) == "tool.bad_ref"


@pytest.mark.parametrize("raw, code", [
    ({"description": "no name", "parameters": PARAMS}, "tool.missing_name"),
    ({"name": "  ", "parameters": PARAMS}, "tool.missing_name"),
    ({"name": 7, "parameters": PARAMS}, "tool.bad_name"),
    ({"name": "f", "description": ["x"]}, "tool.bad_description"),
    ({"name": "f", "parameters": ["a", "b"]}, "tool.bad_schema"),
    ({"name": "f", "parameters": {"type": "string"}}, "tool.bad_schema"),
    ({"name": "f", "parameters": {"type": "object", "properties": {"a": "string"}}}, "tool.bad_schema"),
    ({"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": 5}}}}, "tool.bad_schema"),
    ({"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "integer", "minimum": "0"}}}},
     "tool.bad_schema"),
    ({"name": "f", "parameters": {"type": "object", "required": "a"}}, "tool.bad_schema"),
    ({"name": "f\ud800", "parameters": PARAMS}, "tool.bad_encoding"),
    ("not json", "tool.bad_json"),
    (b'{"name": "caf\xe9"}', "tool.bad_encoding"),
    (["a list"], "tool.not_object"),
])
def test_malformed_tools_get_reason_codes(raw, code):
    assert code_of(raw) == code


def test_too_many_parameters():
    props = {f"p{i}": {"type": "string"} for i in range(MAX_PARAMS + 1)}
    assert code_of({"name": "f", "parameters": {"type": "object", "properties": props}}) == "tool.too_many_params"


def test_json_text_input_and_returns():
    raw = json.dumps({"name": "f", "parameters": PARAMS, "results": {"temp": {"type": "float"}}})
    t = normalise_tool(raw.encode())
    assert t["returns"] == {"type": "object", "properties": {"temp": {"type": "number"}}}


def test_bfcl_simple_python_imports_400_valid_tools(shared_bfcl):
    tools = []
    for line in (shared_bfcl / "BFCL_v4_simple_python.json").read_text().splitlines():
        for raw in json.loads(line)["function"]:
            tools.append((raw, normalise_tool(raw)))
    assert len(tools) == 400
    for raw, t in tools:
        assert records.validate("tool", t) == [], t["name"]
        assert jsonschema_rs.meta.is_valid(t["parameters"])
        assert t["name"] == raw["name"]
        assert set(t["parameters"]["properties"]) == set(raw["parameters"]["properties"])
        blob = json.dumps(t["parameters"])
        assert '"type": "dict"' not in blob and '"type": "float"' not in blob
        assert normalise_tool(t) == t  # idempotent
        assert normalise_tool(to_bfcl(t)) == t  # export round-trips
