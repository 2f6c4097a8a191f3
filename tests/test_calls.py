"""Python call syntax: parse with ast (never eval), print back, round-trip BFCL's ground truths."""
from __future__ import annotations

import json
import keyword

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callforge.calling.calls import ParseError, PrintError, parse_calls, print_calls


def same(a, b) -> bool:
    """Equality that also tells 1 from 1.0 from True (plain == does not)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_parses_list_of_calls():
    got = parse_calls('[get_weather(city="Paris", days=3), other(k=[1, 2], t=(1, "a"), d={"x": -2.5}, n=None, b=True)]')
    assert got == [{"name": "get_weather", "arguments": {"city": "Paris", "days": 3}},
                   {"name": "other", "arguments": {"k": [1, 2], "t": [1, "a"], "d": {"x": -2.5}, "n": None, "b": True}}]


def test_bare_call_dotted_name_and_empty_list():
    assert parse_calls("  math.factorial(number=5)\n") == [{"name": "math.factorial", "arguments": {"number": 5}}]
    assert parse_calls("[a.b.c()]") == [{"name": "a.b.c", "arguments": {}}]
    assert parse_calls("[]") == []


def test_toolace_names_with_spaces_and_hyphens():
    got = parse_calls('[Market Trends API(trend_type="MARKET_INDEXES"), get-quote(symbol="X"), a.class(x=1)]')
    assert [c["name"] for c in got] == ["Market Trends API", "get-quote", "a.class"]
    assert got[0]["arguments"] == {"trend_type": "MARKET_INDEXES"}
    text = print_calls(got)
    assert text.startswith("[Market Trends API(")
    assert parse_calls(text) == got


@pytest.mark.parametrize("text, code", [
    ("", "call.syntax"),
    ("[f(a=1)] trailing words", "call.syntax"),
    ("[f(a=1]", "call.syntax"),
    ("[f(1)]", "call.positional_argument"),
    ("[f(*xs)]", "call.star_argument"),
    ("[f(**kw)]", "call.star_argument"),
    ("[f(a=1, a=2)]", "call.duplicate_argument"),
    ("[f(a=b)]", "call.bad_literal"),
    ("[f(a=__import__('os').system('true'))]", "call.bad_literal"),
    ("[f(a=1 + 2)]", "call.bad_literal"),
    ("[f(a={1, 2})]", "call.bad_literal"),
    ("[f(a=b'x')]", "call.bad_literal"),
    ("[f(a=f'{x}')]", "call.bad_literal"),
    ("[f(a=-True)]", "call.bad_literal"),
    ("[f(a=1j)]", "call.bad_literal"),
    ("[f(a={1: 2})]", "call.non_string_key"),
    ("[f(a=1e999)]", "call.bad_number"),
    ("[f(a=" + "9" * 5000 + ")]", "call.bad_number"),
    ("[f(a=1), 3]", "call.not_a_call"),
    ("[(lambda: 1)()]", "call.bad_name"),
    ("[f(a=" + "[" * 150 + "]" * 150 + ")]", "call.too_deep"),
    ("[f(a=" + "[" * 5000 + "]" * 5000 + ")]", "call.too_deep"),
])
def test_bad_input_raises_parse_error_with_code(text, code):
    with pytest.raises(ParseError) as e:
        parse_calls(text)
    assert e.value.code == code


def test_non_text_and_unprintable_values():
    with pytest.raises(ParseError) as e:
        parse_calls(b"[f()]")
    assert e.value.code == "call.not_text"
    for calls, code in [([{"name": "f", "arguments": {"x": float("nan")}}], "call.bad_number"),
                        ([{"name": "f", "arguments": {"x": {1: 2}}}], "call.non_string_key"),
                        ([{"name": "f", "arguments": {"class": 1}}], "call.bad_name"),
                        ([{"name": "f(x)", "arguments": {}}], "call.bad_name"),
                        ([{"name": "f", "arguments": {"x": {1, 2}}}], "call.bad_literal")]:
        with pytest.raises(PrintError) as e:
            print_calls(calls)
        assert e.value.code == code


def ground_truth_calls(shared_bfcl, pick):
    """Every ground-truth call set in possible_answer/, one value chosen per argument by pick(values)."""
    for f in sorted((shared_bfcl / "possible_answer").glob("*.json")):
        for line in f.read_text().splitlines():
            row = json.loads(line)
            yield row["id"], [{"name": name, "arguments": {k: pick(v) for k, v in params.items()}}
                              for g in row["ground_truth"] for name, params in g.items()]


def test_round_trips_first_allowed_value_of_every_ground_truth(shared_bfcl):
    n = 0
    for rid, calls in ground_truth_calls(shared_bfcl, lambda v: v[0]):
        text = print_calls(calls)
        assert same(parse_calls(text), calls), rid
        n += len(calls)
    assert n == 1140


def test_round_trips_every_allowed_value(shared_bfcl):
    widest = 0
    for f in (shared_bfcl / "possible_answer").glob("*.json"):
        for line in f.read_text().splitlines():
            for g in json.loads(line)["ground_truth"]:
                for params in g.values():
                    widest = max([widest, *map(len, params.values())])
    assert widest > 1
    for j in range(widest):
        for rid, calls in ground_truth_calls(shared_bfcl, lambda v: v[min(j, len(v) - 1)]):
            assert same(parse_calls(print_calls(calls)), calls), (rid, j)


# ---------------------------------------------------------------- fuzzing

CALLISH = st.text(alphabet=st.sampled_from(list('[](){}=,.:"\'-+ _abcfxyzTrueNonl0123456789e\\*\n')), max_size=60)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(CALLISH, st.text(max_size=80)))
def test_fuzz_only_parse_error_escapes(text):
    try:
        out = parse_calls(text)
    except ParseError as e:
        assert e.code.startswith("call.")
        return
    assert isinstance(out, list)
    for c in out:
        assert isinstance(c["name"], str) and isinstance(c["arguments"], dict)


def _ident():
    return st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))


LEAF = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                 st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
VALUES = st.recursive(LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=20)
NAMES = st.one_of(st.lists(_ident(), min_size=1, max_size=3).map(".".join),
                  st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}", fullmatch=True), min_size=2, max_size=4).map(" ".join))
CALLS = st.lists(st.fixed_dictionaries({"name": NAMES, "arguments": st.dictionaries(_ident(), VALUES, max_size=4)}),
                 max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CALLS)
def test_fuzz_print_then_parse_is_identity(calls):
    assert same(parse_calls(print_calls(calls)), calls)
