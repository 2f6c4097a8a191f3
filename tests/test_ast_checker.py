"""The AST checker against BFCL's own ground truth (../shared/bfcl) and hand-made cases.

On the real data: every possible-answer combination of every entry must pass (combinations are
enumerated so that each allowed value appears at least once, plus a capped number of mixed ones),
parallel answers must pass in reverse order too, and each mutant must fail with its reason.
"""
from __future__ import annotations

import copy
import itertools
import random

import pytest

from callforge.calling import ast_checker as C
from callforge.calling.bfcl import Source

OMIT = object()   # "leave this parameter out"
EXTRA_COMBOS = 6  # random mixed combinations per entry, beyond the diagonal that covers every value


# -- combination enumeration -------------------------------------------------------------------------

def realise(option, rng) -> list:
    """Concrete values for one allowed option: answer-form dicts (and lists of them) expanded."""
    if isinstance(option, dict):
        choices = {k: choices_for(opts if isinstance(opts, list) else [opts], rng) for k, opts in option.items()}
        return [_pick_dict(choices, i) for i in range(max((len(c) for c in choices.values()), default=1))]
    if isinstance(option, list) and any(isinstance(x, dict) for x in option):
        per = [realise(x, rng) for x in option]
        return [[p[i % len(p)] for p in per] for i in range(max(len(p) for p in per))]
    return [option]


def choices_for(opts: list, rng) -> list:
    if opts == []:
        return [OMIT, []]
    out = [v for o in opts if o != "" for v in realise(o, rng)]
    return out + [OMIT] if "" in opts else out


def _pick_dict(choices: dict, i: int) -> dict:
    d = {k: c[i % len(c)] for k, c in choices.items()}
    return {k: v for k, v in d.items() if v is not OMIT}


def call_combos(name: str, params: dict, rng) -> list[dict]:
    choices = {k: choices_for(v, rng) for k, v in params.items()}
    width = max((len(c) for c in choices.values()), default=1)
    picks = [{k: c[i % len(c)] for k, c in choices.items()} for i in range(width)]   # covers every value
    sizes = [len(c) for c in choices.values()]
    total = 1
    for s in sizes:
        total *= s
    if total <= 16:
        picks += [dict(zip(choices, p)) for p in itertools.product(*choices.values())]
    else:
        picks += [{k: rng.choice(c) for k, c in choices.items()} for _ in range(EXTRA_COMBOS)]
    return [{"name": name, "arguments": {k: v for k, v in p.items() if v is not OMIT}} for p in picks]


def answer_combos(ground_truth: list[dict], rng) -> list[list[dict]]:
    per = [call_combos(*next(iter(g.items())), rng) for g in ground_truth]
    width = max(len(p) for p in per)
    answers = [[p[i % len(p)] for p in per] for i in range(width)]
    if len(ground_truth) > 1:
        answers.append(list(reversed(answers[0])))
    return answers


# -- mutants ---------------------------------------------------------------------------------------------

WRONG = {"string": 12345, "integer": "not-a-number", "float": "not-a-number", "number": "nan-text",
         "boolean": "yes-please", "array": "single", "tuple": "single", "dict": ["a", "list"],
         "object": ["a", "list"]}


def mutants(calls: list[dict], tools: list[dict], ground_truth: list[dict]):
    """(kind, expected reasons, mutated calls) for the first call of a correct answer."""
    by_name = {t["name"]: t for t in tools}
    c0 = calls[0]
    params = by_name[c0["name"]]["parameters"]
    props = params.get("properties", {})
    allowed = next(iter(ground_truth[0].values()))   # calls[0] answers ground_truth[0]

    def mutate(fn):
        m = copy.deepcopy(calls)
        fn(m[0])
        return m

    # Parallel answers report "no_match" (the mutated call pairs with no entry) whatever the cause.
    def want(reason):
        return {reason} if len(calls) == 1 else {"no_match"}

    yield "wrong_name", want("wrong_name"), mutate(lambda c: c.update(name=c["name"] + "_zz"))
    present_required = [r for r in params.get("required", []) if r in c0["arguments"]
                        and not C.may_omit(allowed.get(r))]
    if present_required:
        yield "missing_required", want("missing_required"), mutate(lambda c: c["arguments"].pop(present_required[0]))
    yield "extra_argument", want("unknown_argument"), mutate(lambda c: c["arguments"].update(zz_extra_param="v"))
    typed = [k for k in c0["arguments"] if props.get(k, {}).get("type") in WRONG]
    if typed:
        k = typed[0]
        yield "wrong_type", want("wrong_type"), mutate(lambda c: c["arguments"].update({k: WRONG[props[k]["type"]]}))
    strings = [k for k in c0["arguments"] if props.get(k, {}).get("type") == "string"
               and all(isinstance(v, str) for v in allowed[k])]
    if strings:
        k = strings[0]
        yield "value_not_allowed", want("value_not_allowed"), \
            mutate(lambda c: c["arguments"].update({k: "zz definitely not allowed"}))
    ints = [k for k in c0["arguments"] if props.get(k, {}).get("type") == "integer"
            and isinstance(c0["arguments"][k], int) and not isinstance(c0["arguments"][k], bool)]
    if ints:
        k = ints[0]
        yield "value_not_allowed", want("value_not_allowed"), \
            mutate(lambda c: c["arguments"].update({k: c["arguments"][k] + 1000003}))


# -- the real-data tests ---------------------------------------------------------------------------------

def _entries(shared_bfcl):
    with Source(shared_bfcl) as src:
        return [e for cat in src.categories() for e in src.load(cat)]


def test_every_possible_answer_combination_passes(shared_bfcl):
    rng = random.Random(11)
    entries = [e for e in _entries(shared_bfcl) if e.ground_truth]
    assert len(entries) >= 800
    failures, checked = [], 0
    for e in entries:
        for calls in answer_combos(e.ground_truth, rng):
            r = C.check(calls, e.ground_truth, e.functions)
            checked += 1
            if not r.ok:
                failures.append((e.id, r.reason, r.detail, calls))
    assert not failures, f"{len(failures)}/{checked} correct answers rejected, e.g. {failures[:3]}"
    assert checked > 2 * len(entries)   # the enumeration really went past the first values


def test_mutants_fail_with_their_reason(shared_bfcl):
    rng = random.Random(12)
    kinds: dict[str, int] = {}
    wrong = []
    for e in _entries(shared_bfcl):
        if not e.ground_truth:
            continue
        calls = answer_combos(e.ground_truth, rng)[0]
        for kind, reasons, m in mutants(calls, e.functions, e.ground_truth):
            r = C.check(m, e.ground_truth, e.functions)
            kinds[kind] = kinds.get(kind, 0) + 1
            if r.ok or r.reason not in reasons:
                wrong.append((e.id, kind, r))
    assert not wrong, f"{len(wrong)} mutants not rejected as expected, e.g. {wrong[:3]}"
    for kind in ("wrong_name", "missing_required", "extra_argument", "wrong_type", "value_not_allowed"):
        assert kinds.get(kind, 0) >= 100, kinds


def test_irrelevance_passes_iff_no_call(shared_bfcl):
    entries = [e for e in _entries(shared_bfcl) if e.category == "irrelevance"]
    assert len(entries) >= 200
    for e in entries:
        assert C.check([], e.ground_truth, e.functions).ok
        f = e.functions[0]
        call = [{"name": f["name"], "arguments": {}}]
        assert C.check(call, e.ground_truth, e.functions).reason == "unexpected_call"


# -- hand-made cases ---------------------------------------------------------------------------------------

TOOL = {"name": "book", "parameters": {"type": "dict", "required": ["city"], "properties": {
    "city": {"type": "string"}, "nights": {"type": "integer"}, "price": {"type": "float"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "when": {"type": "tuple", "items": {"type": "integer"}},
    "opts": {"type": "dict", "properties": {"view": {"type": "boolean"}, "floor": {"type": "integer"}}},
    "anything": {"type": "any"}}}}


def gt(**params):
    return [{"book": params}]


def test_string_normalisation_and_optional_values():
    g = gt(city=["New York, NY"], nights=[2, ""])
    assert C.check([{"name": "book", "arguments": {"city": "new york ny"}}], g, [TOOL]).ok
    assert C.check([{"name": "book", "arguments": {"city": "NEW-YORK_NY."}}], g, [TOOL]).ok
    assert C.check([{"name": "book", "arguments": {"city": "Newark"}}], g, [TOOL]).reason == "value_not_allowed"
    # without "" a parameter the schema calls optional is still required by the answer
    g2 = gt(city=["Paris"], nights=[2])
    assert C.check([{"name": "book", "arguments": {"city": "Paris"}}], g2, [TOOL]).reason == "missing_argument"


def test_type_rules():
    def run(**args):
        g = gt(city=["x"], **{k: [v] for k, v in args.items()})
        return C.check([{"name": "book", "arguments": {"city": "x", **args}}], g, [TOOL])

    assert run(price=3).ok                       # int accepted for float
    assert run(when=[1, 2]).ok                   # tuple given as a list
    assert run(anything=[1, "x"]).ok             # "any" has no type constraint
    r = C.check([{"name": "book", "arguments": {"city": "x", "nights": True}}], gt(city=["x"], nights=[1]), [TOOL])
    assert r.reason == "wrong_type"              # a bool is not an integer
    r = C.check([{"name": "book", "arguments": {"city": "x", "price": "3"}}], gt(city=["x"], price=[3.0]), [TOOL])
    assert r.reason == "wrong_type"
    r = C.check([{"name": "book", "arguments": {"city": "x", "tags": ["a", 2]}}], gt(city=["x"], tags=[["a", "2"]]), [TOOL])
    assert r.reason == "wrong_type"              # nested item type
    r = C.check([{"name": "book", "arguments": {"city": "x", "opts": {"view": 1}}}],
                gt(city=["x"], opts=[{"view": [True]}]), [TOOL])
    assert r.reason == "wrong_type"              # nested property type


def test_nested_dict_answers():
    g = gt(city=["x"], opts=[{"view": [True], "floor": [3, ""]}])
    ok = [{"view": True}, {"view": True, "floor": 3}]
    for opts in ok:
        assert C.check([{"name": "book", "arguments": {"city": "x", "opts": opts}}], g, [TOOL]).ok
    for opts in ({"floor": 3}, {"view": True, "floor": 4}, {"view": True, "zz": 1}):
        assert not C.check([{"name": "book", "arguments": {"city": "x", "opts": opts}}], g, [TOOL]).ok


def test_list_values_keep_order():
    g = gt(city=["x"], tags=[["a b", "c"]])
    assert C.check([{"name": "book", "arguments": {"city": "x", "tags": ["AB", "c"]}}], g, [TOOL]).ok
    assert not C.check([{"name": "book", "arguments": {"city": "x", "tags": ["c", "a b"]}}], g, [TOOL]).ok


def test_parallel_matching_is_bipartite_not_greedy():
    # Entry 0 allows nights 1 or 2, entry 1 only 1. The first call (nights=1) fits both; a greedy
    # pairing gives it entry 0 and strands the second call. A maximum matching pairs both.
    g = [{"book": {"city": ["x"], "nights": [1, 2]}}, {"book": {"city": ["x"], "nights": [1]}}]
    calls = [{"name": "book", "arguments": {"city": "x", "nights": 1}},
             {"name": "book", "arguments": {"city": "x", "nights": 2}}]
    assert C.check(calls, g, [TOOL]).ok
    assert C.check(list(reversed(calls)), g, [TOOL]).ok
    both_one = [calls[0], calls[0]]
    assert C.check(both_one + [], g, [TOOL]).ok
    both_two = [calls[1], calls[1]]
    r = C.check(both_two, g, [TOOL])
    assert not r.ok and r.reason == "no_match"


def test_counts_names_and_irrelevance():
    g = gt(city=["x"])
    call = {"name": "book", "arguments": {"city": "x"}}
    assert C.check([], g, [TOOL]).reason == "no_call"
    assert C.check([call, call], g, [TOOL]).reason == "wrong_count"
    assert C.check([{**call, "name": "Book"}], g, [TOOL]).reason == "wrong_name"
    assert C.check([call], [{"ghost": {"city": ["x"]}}], [TOOL]).reason == "wrong_name"
    assert C.check([{**call, "name": "ghost"}], [{"ghost": {"city": ["x"]}}], [TOOL]).reason == "unknown_function"
    assert C.check([], None, [TOOL]).ok
    assert C.check([call], None, [TOOL]).reason == "unexpected_call"


def test_json_schema_spelling_is_accepted():
    tool = {"name": "f", "parameters": {"type": "object", "required": ["x"],
                                        "properties": {"x": {"type": "number"}, "o": {"type": "object"}}}}
    g = [{"f": {"x": [1.5], "o": [{"k": ["v"]}, ""]}}]
    assert C.check([{"name": "f", "arguments": {"x": 1.5}}], g, [tool]).ok
    assert C.check([{"name": "f", "arguments": {"x": "1.5"}}], g, [tool]).reason == "wrong_type"
    assert C.check([{"name": "f", "arguments": {"x": 1.5, "o": {"k": "V"}}}], g, [tool]).ok


def test_full_wheel_when_cached():
    """All seven evaluated categories of the real bfcl-eval wheel, where it is already cached
    (the evaluate stage downloads it; tests never do)."""
    from callforge.calling.bfcl import CATEGORIES, VERSION, default_cache_dir

    wheel = default_cache_dir() / f"bfcl_eval-{VERSION}-py3-none-any.whl"
    if not wheel.is_file():
        pytest.skip(f"{wheel} not cached")
    rng = random.Random(13)
    bad = []
    with Source(wheel) as src:
        for cat in CATEGORIES:
            for e in src.load(cat):
                if not e.ground_truth:
                    continue
                for calls in answer_combos(e.ground_truth, rng):
                    r = C.check(calls, e.ground_truth, e.functions)
                    if not r.ok:
                        bad.append((e.id, r))
                for kind, reasons, m in mutants(answer_combos(e.ground_truth, rng)[0], e.functions, e.ground_truth):
                    r = C.check(m, e.ground_truth, e.functions)
                    if r.ok or r.reason not in reasons:
                        bad.append((e.id, kind, r))
    assert not bad, bad[:3]
