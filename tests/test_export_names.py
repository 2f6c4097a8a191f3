"""ShareGPT call strings are Python for every tool name: names Python cannot read ("Telzap Lookup
Charities", "vexquo.calculate-x", "class") are written as identifiers, the same in the tool list, the
calls and the results, and "tool_names" maps them back. Checked with Python's own parser (`ast`)."""
from __future__ import annotations

import ast
import json

import pytest
from hypothesis import given, settings, strategies as st

from callforge.core import records
from callforge.export import sharegpt
from samplegen import make_pool, single_call_sample

ODD_NAMES = ["Telzap Lookup Charities", "vexquo.calculate-x", "class", "get weather", "get_weather", "get-weather",
             "9lives", "None", "True.x", "naïve search", "a..b", "math.gcd", "ﬁnd", "Market Trends API(v2)",
             "x" * 80 + " y"]


def parallel_sample(names: list[str]) -> dict:
    """One sample that offers a tool under each name and calls them all at once."""
    apis = [{**api, "name": n} for api, n in zip(make_pool(len(names), 2), names, strict=True)]
    singles = [single_call_sample(f"s{i}", api, "Do all of it.") for i, api in enumerate(apis)]
    calls = [s["messages"][1]["tool_calls"][0] for s in singles]
    results = [s["messages"][2] for s in singles]
    msgs = [singles[0]["messages"][0], {"role": "assistant", "content": None, "tool_calls": calls}, *results,
            {"role": "assistant", "content": "All done."}]
    return {**singles[0], "data_type": "parallel", "tools": apis, "messages": msgs, "apis_used": names}


def dotted(node: ast.expr) -> str:
    """The name a call is made on, if it is a name or a dotted name."""
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    if not isinstance(node, ast.Name):
        raise ValueError(f"a call on {ast.dump(node)}")
    return node.id


def python_calls(text: str) -> list[dict]:
    """A call list read by Python's own parser: [{"name", "arguments"}]; SyntaxError, or ValueError
    when Python reads it as something else."""
    tree = ast.parse(text, mode="eval").body
    if not isinstance(tree, ast.List):
        raise ValueError("not a list")
    out = []
    for node in tree.elts:
        if not isinstance(node, ast.Call) or node.args:
            raise ValueError(f"not a keyword call: {ast.dump(node)}")
        out.append({"name": dotted(node.func), "arguments": {k.arg: ast.literal_eval(k.value) for k in node.keywords}})
    return out


def original_calls(rec: dict) -> list[list[dict]]:
    """Every assistant call list of a ShareGPT record, parsed with `ast` and named back through tool_names."""
    back = {t["name"]: t["original"] for t in rec["tool_names"]}
    return [[{**c, "name": back[c["name"]]} for c in python_calls(t["value"])]
            for t in rec["conversations"] if t["from"] == "assistant" and t["value"].startswith("[")]


def test_odd_names_become_python_and_map_back():
    sample = parallel_sample(ODD_NAMES)
    assert records.validate("sample", sample) == []
    rec = sharegpt.record(sample)
    assert records.validate("sharegpt", rec) == []
    calls = [{"name": c["name"], "arguments": c["arguments"]} for c in sample["messages"][1]["tool_calls"]]
    assert original_calls(rec) == [calls]
    written = {t["original"]: t["name"] for t in rec["tool_names"]}
    assert list(written) == ODD_NAMES and len(set(written.values())) == len(ODD_NAMES)
    assert written["Telzap Lookup Charities"] == "Telzap_Lookup_Charities"
    assert written["vexquo.calculate-x"] == "vexquo.calculate_x"
    assert written["math.gcd"] == "math.gcd" and written["get_weather"] == "get_weather"
    # the tool list in the system text and the results name the tools as the calls do
    tools = json.loads(rec["system"].split("Functions (JSON):\n", 1)[1])
    assert [t["name"] for t in tools] == [written[n] for n in ODD_NAMES]
    results = json.loads(next(t["value"] for t in rec["conversations"] if t["from"] == "tool"))
    assert [r["name"] for r in results] == [written[n] for n in ODD_NAMES]


@pytest.mark.parametrize("name", ["Telzap Lookup Charities", "vexquo.calculate-x", "class", "9lives", "True.x"])
def test_names_written_as_given_are_not_python_calls(name):
    """What the mapping fixes: ToolACE writes such names unchanged, and Python reads no call list there
    ("vexquo.calculate-x(...)" parses, as a subtraction)."""
    with pytest.raises((SyntaxError, ValueError)):
        python_calls(f"[{name}(a=1)]")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6, unique=True))
def test_any_names_map_to_distinct_python_names(names):
    m = sharegpt.python_names(names)
    assert set(m) == set(names) and len(set(m.values())) == len(names)
    for original, written in m.items():
        assert python_calls(f"[{written}(a=1)]") == [{"name": written, "arguments": {"a": 1}}]
        if written == original:
            assert original.isascii()
    assert m == sharegpt.python_names(list(reversed(names)))
