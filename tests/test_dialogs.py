"""Offline dialog generation: data types, real chains, clarification, determinism, checks, values."""
from __future__ import annotations

import copy
import json
import random
import re
from collections import Counter

import jsonschema
import pytest

from callforge.calling.tool_errors import is_error
from callforge.core import records
from callforge.dialogs import checks
from callforge.calling.offline.values import Unsatisfiable, gen_value
from callforge.dialogs.pool import Pool
from callforge.calling.offline.pattern_strings import generate as regex_sample
from callforge.dialogs.sampling import data_type
from callforge.dialogs.skeleton import DATA_TYPES
from dialogs_fixtures import TOOLS, dialogs_config, generate_all


@pytest.fixture(scope="module")
def run300():
    recs, lines, drops, engine = generate_all(TOOLS, dialogs_config(samples=300))
    return recs, lines, drops, engine


def _scalars(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _scalars(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _scalars(v)
    elif not isinstance(obj, bool):
        yield obj


def _user_text(rec) -> str:
    return " ".join(m["content"] for m in rec["messages"] if m["role"] == "user")


def test_mix_is_followed_by_every_prefix_and_shard():
    s = dialogs_config(samples=20000)
    want = {t: w / sum(s.mix.values()) for t, w in s.mix.items()}
    for span in (range(0, 2000), range(7000, 9000), range(0, 20000)):
        got = Counter(data_type(s.mix, 0, i) for i in span)
        for t in DATA_TYPES:
            assert abs(got[t] / len(span) - want[t]) < 0.01, (span, t, got)
    s2 = dialogs_config(samples=1000, mix={"single": 0.0, "parallel": 1.0, "dependent": 0.0, "non_tool": 3.0,
                                      "clarify": 0.0, "multi_turn": 0.0})
    got = Counter(data_type(s2.mix, 0, i) for i in range(1000))
    assert set(got) == {"parallel", "non_tool"} and abs(got["non_tool"] / 1000 - 0.75) < 0.01


def test_every_type_is_made_valid_and_checked(run300):
    recs, _, drops, _ = run300
    assert len(recs) + len(drops) == 300
    assert len(drops) <= 3, drops
    assert set(r["data_type"] for r in recs) == set(DATA_TYPES)
    for r in recs:
        assert records.validate("sample", r) == []
        assert checks.check(r) is None
        assert r["provenance"]["provider"] == "offline" and r["provenance"]["model"] == "procedural-v1"
        assert r["provenance"]["prompt_version"] == "dialogs-offline-v2" and r["provenance"]["seed"] == 0
        offered = {t["name"] for t in r["tools"]}
        called = [c["name"] for m in r["messages"] for c in m.get("tool_calls") or []]
        assert set(called) <= offered and set(r["apis_used"]) == set(called)
        assert 1 <= len(r["tools"]) <= 6 + 4
        if r["data_type"] == "non_tool":
            assert not called
        if r["data_type"] == "parallel":
            assert any(len(m.get("tool_calls") or ()) >= 2 for m in r["messages"])
        if r["data_type"] == "multi_turn":
            assert sum(m["role"] == "user" for m in r["messages"]) >= 2


def test_dependent_samples_really_chain(run300):
    recs = [r for r in run300[0] if r["data_type"] == "dependent"]
    assert len(recs) >= 30
    for r in recs:
        results, chained = [], []
        for m in r["messages"]:
            if m["role"] == "tool" and not is_error(json.loads(m["content"])):
                results.extend(_scalars(json.loads(m["content"])))
            elif m.get("tool_calls") and results:
                for c in m["tool_calls"]:
                    for v in _scalars(c["arguments"]):
                        if v in results and str(v) not in _user_text(r):
                            chained.append(m)
        assert chained, f"{r['id']}: no later argument comes from an earlier result"
        calls = [m for m in r["messages"] if m.get("tool_calls")]
        assert len(calls) >= 2 and all(len(m["tool_calls"]) == 1 for m in calls)
        assert "result" in chained[0]["thinking"]  # the trace names where the value came from


def test_clarification_call_uses_the_value_the_user_supplied(run300):
    recs = [r for r in run300[0] if r["data_type"] == "clarify"]
    assert len(recs) >= 30
    for r in recs:
        roles = [m["role"] for m in r["messages"]]
        assert roles[:4] == ["user", "assistant", "user", "assistant"]
        request, question, answer, call = r["messages"][:4]
        assert question["content"].endswith("?") and not question.get("tool_calls")
        assert "missing" in question["thinking"]
        supplied = [v for v in call["tool_calls"][0]["arguments"].values()
                    if isinstance(v, (str, int, float)) and not isinstance(v, bool)
                    and re.search(rf"(?<!\w){re.escape(str(v))}(?!\w)", answer["content"])]
        assert supplied, (answer, call)
        assert not any(re.search(rf"(?<!\w){re.escape(str(v))}(?!\w)", request["content"]) for v in supplied)
        assert "from the user's answer" in call["thinking"]


def test_thinking_trace_follows_the_four_questions(run300):
    for r in run300[0]:
        for m in r["messages"]:
            if m.get("tool_calls"):
                lines = m["thinking"].splitlines()
                assert lines[0].startswith("Tool needed: yes") and lines[1].startswith("API: ")
                assert any(x.split(": ", 1)[-1].startswith("Required") or x.startswith("Required") for x in lines)
                assert "Optional" in m["thinking"]
    s = dialogs_config(samples=40, thinking=False)
    recs, *_ = generate_all(TOOLS, s)
    assert not any("thinking" in m for r in recs for m in r["messages"])


def test_tool_results_conform_and_repeat_the_arguments(run300):
    by_name = {t["name"]: t for t in TOOLS}
    echoed = 0
    for r in run300[0]:
        calls = {c["id"]: c for m in r["messages"] for c in m.get("tool_calls") or []}
        for m in r["messages"]:
            if m["role"] != "tool":
                continue
            res = json.loads(m["content"])
            if is_error(res):      # a failed call (tests/test_dialogs_variety.py)
                continue
            jsonschema.validate(res, by_name[m["name"]]["returns"])
            args = calls[m["tool_call_id"]]["arguments"]
            if "city" in args and "hotels" in res:
                assert all(h["city"] == args["city"] for h in res["hotels"] if "city" in h)
                echoed += 1
            if "location" in args and "location" in res:
                assert res["location"] == args["location"]
                echoed += 1
    assert echoed > 10


def test_output_is_byte_identical_for_any_workers_batches_and_shards():
    s = dialogs_config(samples=240, batch=50)
    _, one, d1, _ = generate_all(TOOLS, s, workers=1)
    _, two, d2, _ = generate_all(TOOLS, dialogs_config(samples=240, batch=77), workers=2)
    assert one == two and d1 == d2
    _, tail, _, _ = generate_all(TOOLS, s, workers=1, indices=range(120, 240))
    assert tail == [x for x in one if int(json.loads(x)["id"].split("-")[1]) >= 120]
    _, other, _, _ = generate_all(TOOLS, s, seed=1)
    assert other != one


def test_steering_moves_samples_into_the_bounds(run300):
    recs, _, _, engine = run300
    b = engine.bounds
    assert b is not None and b.lower < b.upper and b.source.startswith("calibration")
    inside = lambda s: b.lower <= s <= b.upper
    before = sum(inside(r["steering"]["initial_score"]) for r in recs)
    after = sum(inside(r["steering"]["score"]) for r in recs)
    assert after > before
    moved = [r for r in recs if r["steering"]["kept_round"] > 0]
    assert moved
    for r in moved:
        st = r["steering"]
        harder = st["initial_score"] < b.lower
        assert st["extra_candidates"] >= 0 if harder else st["extra_candidates"] <= 0
        assert b.distance(st["score"]) < b.distance(st["initial_score"])
    assert all(0 <= r["steering"]["rounds"] <= 2 for r in recs)


def test_configured_bounds_and_no_scorer():
    s = dialogs_config(samples=60, steering__lower=2.2, steering__upper=2.4)
    recs, _, _, engine = generate_all(TOOLS, s)
    assert engine.bounds.source == "config" and (engine.bounds.lower, engine.bounds.upper) == (2.2, 2.4)
    s = dialogs_config(samples=30, steering__scorer="none")
    recs, *_ = generate_all(TOOLS, s)
    assert all(r["steering"] == {"rounds": 0, "score": None} for r in recs)


def test_a_pool_that_cannot_chain_drops_dependent_samples_with_a_reason():
    flat = [t for t in TOOLS if t["domain"] == "Weather"] + [copy.deepcopy(TOOLS[6])]
    recs, _, drops, engine = generate_all(flat, dialogs_config(samples=200))
    assert not Pool(flat).chains
    assert len(recs) + len(drops) == 200
    assert {d["reason"] for d in drops} == {"dialogs.no_chain_in_pool"}
    assert {d["data_type"] for d in drops} == {"dependent"}
    assert "dependent" not in {r["data_type"] for r in recs} and len({r["data_type"] for r in recs}) == 5


@pytest.fixture
def sample_of(run300):
    def pick(kind):
        return copy.deepcopy(next(r for r in run300[0] if r["data_type"] == kind))
    return pick


def test_checks_reject_broken_dialogs(sample_of):
    r = sample_of("dependent")
    calls = [m for m in r["messages"] if m.get("tool_calls")]
    first_result = json.loads(next(m for m in r["messages"] if m["role"] == "tool")["content"])
    chained = next(k for k, v in calls[1]["tool_calls"][0]["arguments"].items() if v in list(_scalars(first_result)))
    value = calls[1]["tool_calls"][0]["arguments"][chained]
    # The same value said by the user: no longer a dependency on the result.
    r["messages"][0]["content"] += f" Use {value}."
    assert checks.check(r) == "dialogs.type_mismatch"

    r = sample_of("single")
    r["messages"][1]["tool_calls"][0]["name"] = "no_such_tool"
    assert checks.check(r) == "dialogs.unknown_tool"
    r = sample_of("single")
    r["messages"][1]["tool_calls"][0]["arguments"] = {"unexpected": 1}
    assert checks.check(r) == "dialogs.invalid_arguments"
    r = sample_of("single")
    del r["messages"][2]
    assert checks.check(r) == "dialogs.unanswered_call"
    r = sample_of("single")
    r["messages"][2]["content"] = json.dumps({"not": "the declared result"})
    assert checks.check(r) == "dialogs.invalid_result"
    r = sample_of("clarify")
    answer = r["messages"][2]["content"]
    r["messages"][0]["content"] += " " + answer       # the value was in the request after all
    assert checks.check(r) == "dialogs.type_mismatch"
    r = sample_of("parallel")
    r["data_type"] = "single"
    assert checks.check(r) == "dialogs.type_mismatch"


CONSTRAINED = [
    {"type": "string", "pattern": "^[A-Z]{2}-\\d{4}$"},
    {"type": "string", "pattern": "^(?:[01]\\d|2[0-3]):[0-5]\\d$"},
    {"type": "string", "format": "date"},
    {"type": "string", "format": "email"},
    {"type": "string", "minLength": 12, "maxLength": 14},
    {"type": "string", "enum": ["a", "b", "c"]},
    {"type": "integer", "minimum": 3, "maximum": 5},
    {"type": "integer", "exclusiveMinimum": 10, "exclusiveMaximum": 13},
    {"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 40},
    {"type": "number", "minimum": 0.5, "maximum": 0.75},
    {"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 2},
    {"type": "array", "items": {"type": "string", "enum": ["x", "y", "z"]}, "minItems": 2, "maxItems": 3, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]},
    {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {"type": "array", "items": {"type": "number", "minimum": 1}, "minItems": 1}}, "required": ["b"]}}, "required": ["a"]},
    {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer", "maximum": -5}]},
    {"type": ["null", "boolean"]},
    {"const": {"k": [1, 2]}},
]


@pytest.mark.parametrize("schema", CONSTRAINED)
def test_values_satisfy_constraints(schema):
    rng = random.Random(7)
    for name in ("value", "start_date", "city", "order_id", "price", "email"):
        for _ in range(25):
            jsonschema.validate(gen_value(schema, name, rng), schema, format_checker=jsonschema.FormatChecker())


def test_values_are_named_after_their_parameter():
    rng = random.Random(3)
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.\w+", gen_value({"type": "string"}, "contact_email", rng))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", gen_value({"type": "string"}, "departure_date", rng))
    assert 18 <= gen_value({"type": "integer"}, "age", rng) <= 85
    assert re.fullmatch(r"ORD-\d{5}", gen_value({"type": "string"}, "order_id", rng))
    assert gen_value({"type": "string", "description": "Caller number in E.164 form."}, "from_number", rng).startswith("+")


def test_unsatisfiable_constraints_raise_a_reason():
    rng = random.Random(0)
    with pytest.raises(Unsatisfiable):
        gen_value({"type": "integer", "minimum": 5, "maximum": 4}, "n", rng)
    with pytest.raises(Unsatisfiable):
        gen_value({"type": "string", "pattern": "(a)\\1"}, "s", rng)   # back-references are not generated
    with pytest.raises(Unsatisfiable):
        gen_value({"type": "array", "items": {"enum": [1]}, "minItems": 3}, "xs", rng)


@pytest.mark.parametrize("pattern", [r"^\+?[1-9]\d{6,14}$", r"^#[0-9a-fA-F]{6}$", r"^[a-z]+(-[a-z]+)*$",
                                     r"^(GET|POST|PUT)$", r"[^\s]{3,}", r"^\w+@\w+\.(com|org)$", r"(?i)^abc$"])
def test_regex_samples_match(pattern):
    rng = random.Random(1)
    for _ in range(30):
        assert re.search(pattern, regex_sample(pattern, rng))


def test_pool_links_results_to_parameters_by_name():
    pool = Pool(TOOLS)
    links = {(pool.apis[c.a].name, c.path, pool.apis[c.b].name, c.param) for c in pool.chains}
    assert ("search_hotels", ("hotels", "[]", "hotel_id"), "book_hotel_room", "hotel_id") in links
    assert ("search_flights", ("flights", "[]", "flight_number"), "get_flight_status", "flight_number") in links
    assert ("book_hotel_room", ("booking_id",), "cancel_booking", "booking_id") in links
    # a result field that only repeats the caller's own argument never counts as a link
    assert not any(a == "get_weather" and p == ("location",) for a, p, _, _ in links)
    assert all(pool.apis[c.a].domain == pool.apis[c.b].domain for c in pool.chains)


def test_encoded_lines_are_exactly_the_project_encoding(run300):
    from callforge.core import io
    from callforge.dialogs.generate import dumps_sample

    recs, lines, _, _ = run300
    assert lines == [io.dumps(r) for r in recs]
    odd = {"id": "x", "tools": [TOOLS[0]]}
    assert dumps_sample(odd) == io.dumps(odd) and dumps_sample({"tools": []}) == io.dumps({"tools": []})


def test_out_of_scope_requests_are_never_served_by_an_offered_tool():
    from callforge.dialogs.builders import build
    from callforge.dialogs.clones import could_serve
    from callforge.dialogs.render import candidates
    from callforge.dialogs.sampling import max_extra

    s = dialogs_config(samples=400, mix={"single": 0.0, "parallel": 0.0, "dependent": 0.0, "non_tool": 1.0,
                                   "clarify": 0.0, "multi_turn": 0.0}, non_tool_kinds={"out_of_scope": 1.0})
    pool = Pool(TOOLS)
    kinds = Counter()
    for i in range(60):
        sk = build(pool, s, 0, i)
        far = pool.apis[sk.turns[0].data["api"]]
        home = pool.apis[sk.turns[0].data["home"]]
        kinds[sk.near_miss] += 1
        for extra in range(-2, max_extra(s.steering) + 1):
            offered = [pool.apis[a] for a in candidates(sk, extra)]
            assert far.name not in {a.name for a in offered}
            assert not any(could_serve(a, far, s.distractors.clone_similarity) for a in offered)
            assert sk.domain in {a.domain for a in offered}
            if sk.near_miss == "same_subdomain":     # a job of the offered tools' own sub-domain
                assert (far.domain, far.sub) == (home.domain, home.sub) and far.leaf != home.leaf
            else:
                assert sk.near_miss is None and far.domain != sk.domain
    assert kinds["same_subdomain"] > 10 and kinds[None] > 10, kinds


@pytest.mark.parametrize("key, value", [("parallel_calls", [1, 3]), ("turns", [3, 2]), ("wording_weights", [1.0, 1.0]),
                                        ("non_tool_kinds", {"poetry": 1.0}), ("votes", 0)])
def test_config_refuses_values_the_generator_cannot_honour(key, value):
    with pytest.raises(ValueError, match=f"dialogs.{key}"):
        dialogs_config(**{key: value})


def test_real_bfcl_tools_make_valid_dialogs(shared_bfcl):
    """BFCL's own tool definitions (normalised from their dict/float dialect) as the pool."""
    from callforge.calling.tools import ToolError, normalise_tool

    tools, names = [], set()
    for line in open(shared_bfcl / "BFCL_v4_multiple.json", encoding="utf-8"):
        for f in json.loads(line)["function"]:
            try:
                t = normalise_tool(f, source="import:bfcl")
            except ToolError:
                continue
            if t["name"] not in names:
                names.add(t["name"])
                tools.append(t)
    assert len(tools) > 300
    recs, _, drops, _ = generate_all(tools, dialogs_config(samples=300))
    assert len(recs) + len(drops) == 300
    reasons = Counter(d["reason"] for d in drops)
    assert reasons["dialogs.no_chain_in_pool"] == sum(data_type(dialogs_config().mix, 0, i) == "dependent" for i in range(300))
    assert sum(reasons.values()) - reasons["dialogs.no_chain_in_pool"] <= 6, reasons
    assert {r["data_type"] for r in recs} == set(DATA_TYPES) - {"dependent"}
    by_name = {t["name"]: t for t in tools}
    for r in recs:
        assert records.validate("sample", r) == []
        for m in r["messages"]:
            for c in m.get("tool_calls") or []:
                jsonschema.validate(c["arguments"], by_name[c["name"]]["parameters"])


def test_steering_heuristic_equals_the_scoring_backend(run300):
    from callforge.dialogs.steering import HeuristicLoss
    from callforge.complexity.heuristic import HeuristicScorer

    recs = run300[0][:80]
    assert [x["loss"] for x in HeuristicLoss().score(recs)] == [x["loss"] for x in HeuristicScorer().score(recs)]
