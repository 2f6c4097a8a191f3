"""Varied and correctly labelled dialogs on the offline path (#17 items 1-2): clone-free distractors,
near misses, failed tool responses the assistant handles, personas, non-tool intents, and
near-duplicate removal with the distinct-request ratio in the stats."""
from __future__ import annotations

import copy
import json
import re
from collections import Counter

import pytest

from callforge.apis.dedup import jaccard, shingles
from callforge.calling.tool_errors import is_error
from callforge.core import io, records
from callforge.core.parallel import ordered_map
from callforge.dialogs import checks
from callforge.dialogs.builders import build
from callforge.dialogs.clones import clone_of
from callforge.dialogs.pool import Pool
from callforge.verify.runner import verify
from conftest import run_stage, stage_record, write_params
from dialogs_fixtures import TOOLS, dialogs_config, generate_all
from verify_samples import verify_config

HOTELS = next(t for t in TOOLS if t["name"] == "search_hotels")
ONLY = {"single": 0.0, "parallel": 0.0, "dependent": 0.0, "non_tool": 0.0, "clarify": 0.0, "multi_turn": 0.0}


def _clone(name: str, **changes) -> dict:
    t = copy.deepcopy(HOTELS)
    t["name"] = name
    t.update(changes)
    return t


# Three functional clones of search_hotels, each caught by another of clones.py's tests.
PLANTED = [
    _clone("hotelFinderPlus"),                                                  # its leaf, search_hotels
    _clone("search_hotels_v2", path=["Travel", "Lodging", "find_stays"]),       # near-identical name, text, required
    _clone("stay_search_pro", path=["Travel", "Lodging", "find_rooms"],         # search_hotels merged into another leaf
           description="Search rooms and suites to rent for a stay.", meta={"nodes": ["find_rooms", "search_hotels"]}),
]


def _offered(r) -> set[str]:
    return {t["name"] for t in r["tools"]}


def _called(r) -> set[str]:
    return {c["name"] for m in r["messages"] for c in m.get("tool_calls") or ()}


def test_clone_detection_names_each_planted_clone():
    pool = Pool(TOOLS + PLANTED)
    hotels = next(a for a in pool.apis if a.name == "search_hotels")
    sim = dialogs_config().distractors.clone_similarity
    for a in pool.apis[len(TOOLS):]:
        assert clone_of(a, hotels, sim), a.name
    assert jaccard(shingles("search_hotels_v2", HOTELS["description"]), hotels.bigrams) >= sim
    others = [a for a in pool.apis[:len(TOOLS)] if a.name != "search_hotels"]
    assert not any(clone_of(a, hotels, sim) for a in others)      # siblings of the same sub-domain are not clones


def test_a_planted_clone_is_never_offered_beside_the_api_it_clones():
    tools = TOOLS + PLANTED
    s = dialogs_config(samples=400, distractors__same_subdomain=1.0, distractors__same_domain=0.0,
                       distractors__other_domain=0.0)
    recs, _, drops, _ = generate_all(tools, s)
    assert len(recs) + len(drops) == 400
    clones = {t["name"] for t in PLANTED}
    family = {"search_hotels"} | clones
    calling = [r for r in recs if _called(r) & family]
    assert len(calling) > 40
    for r in calling:
        offered = _offered(r)
        if "search_hotels" in _called(r):        # no clone of it beside it
            assert not offered & clones, (r["id"], sorted(offered & clones))
        if _called(r) & {"hotelFinderPlus", "search_hotels_v2"}:   # nor it beside the two it is a clone of in turn
            assert "search_hotels" not in offered, r["id"]   # (stay_search_pro's own leaf is not search_hotels's job)
    # the test can fail: the clones are offered where nothing they clone is called
    elsewhere = [r for r in recs if not _called(r) & family and len(_offered(r) & family) > 1]
    assert elsewhere, "planted clones never met: the exclusion above would hold vacuously"


def test_near_miss_shares_follow_the_config():
    mix = {**ONLY, "non_tool": 1.0, "clarify": 1.0}
    kinds = {"out_of_scope": 1.0}
    for share in (0.0, 0.5, 1.0):
        s = dialogs_config(samples=300, mix=mix, non_tool_kinds=kinds, near_miss__out_of_scope=share,
                           near_miss__clarify=share, tool_failures__share=0.0)
        recs, _, drops, _ = generate_all(TOOLS, s)
        for dtype, label in (("non_tool", "same_subdomain"), ("clarify", "unstated_value")):
            of_type = [r for r in recs if r["data_type"] == dtype]
            near = [r for r in of_type if (r.get("scenario") or {}).get("near_miss") == label]
            got = len(near) / len(of_type)
            # out of scope falls back to another domain where a sub-domain has no job its tools miss
            assert got <= share + 0.08 and got >= share * (0.75 if dtype == "non_tool" else 1) - 0.08, (dtype, share, got)


def test_near_misses_are_hard_and_still_right():
    mix = {**ONLY, "non_tool": 1.0, "clarify": 1.0}
    s = dialogs_config(samples=300, mix=mix, non_tool_kinds={"out_of_scope": 1.0}, near_miss__out_of_scope=0.5,
                       near_miss__clarify=0.5, tool_failures__share=0.0)
    recs, _, drops, _ = generate_all(TOOLS, s)
    assert not drops, drops
    for r in recs:
        near = (r.get("scenario") or {}).get("near_miss")
        request = r["messages"][0]["content"]
        if r["data_type"] == "non_tool":
            # declined, near miss or not: nothing is called (builders are checked in test_dialogs.py)
            assert not _called(r) and re.search(r"none of (them|the tools)", r["messages"][1]["content"])
            continue
        assert checks.check(r) is None
        ask = r["messages"][1]
        assert not ask.get("tool_calls") and ask["content"].endswith("?")
        alludes = re.search(r"my usual |the same .* as last time|using my ", request)
        assert bool(alludes) == (near == "unstated_value"), request
    # a near-miss clarification offers, first of all, another API of the called one's sub-domain
    pool = Pool(TOOLS)
    first_same = {True: [], False: []}
    for i in range(300):
        sk = build(pool, s, 0, i)
        if sk.data_type != "clarify":
            continue
        api = pool.apis[sk.targets[0]]
        if len(pool.by_sub[(api.domain, api.sub)]) > 1:
            ranked = pool.apis[sk.ranked[0]]
            first_same[sk.near_miss is not None].append((ranked.domain, ranked.sub) == (api.domain, api.sub))
            assert sk.near_miss is None or sk.base_k >= 2
    assert all(first_same[True]) and len(first_same[True]) > 20
    assert sum(first_same[False]) < 0.8 * len(first_same[False])


@pytest.fixture(scope="module")
def failing():
    """Every tool-calling sample with one failed response, every handling possible."""
    s = dialogs_config(samples=360, tool_failures__share=1.0)
    recs, _, drops, _ = generate_all(TOOLS, s)
    return recs, drops


def _errors(r):
    for k, m in enumerate(r["messages"]):
        if m["role"] == "tool":
            res = json.loads(m["content"])
            if is_error(res):
                yield k, m, res["error"]


def test_failed_tool_responses_are_handled(failing):
    recs, drops = failing
    assert len(drops) <= 4, Counter(d["reason"] for d in drops)
    handled = Counter()
    for r in recs:
        sc = (r.get("scenario") or {}).get("tool_failure")
        if r["data_type"] == "non_tool":
            assert sc is None
            continue
        assert sc is not None, r["id"]
        assert checks.check(r) is None
        errors = list(_errors(r))
        if sc["code"] == "empty":
            assert not errors
            handled["empty"] += 1
            continue
        assert len(errors) == 1, r["id"]
        k, msg, err = errors[0]
        nxt = next(m for m in r["messages"][k + 1:] if m["role"] != "tool")
        assert nxt["role"] == "assistant"
        if sc["handling"] == "retry":        # the same tool again: corrected as suggested, or as it was
            again = next(c for c in nxt["tool_calls"] if c["name"] == msg["name"])
            failed = next(c for m in r["messages"][:k] for c in m.get("tool_calls") or () if c["id"] == msg["tool_call_id"])
            if "suggestion" in err:
                assert err["suggestion"] in again["arguments"].values() and again["arguments"] != failed["arguments"]
            else:
                assert again["arguments"] == failed["arguments"] and err.get("retryable")
            assert "failed" in nxt["thinking"].splitlines()[0]
        elif sc["handling"] == "ask":        # a question, the user's correction, the call with it
            assert not nxt.get("tool_calls") and nxt["content"].endswith("?")
            answer = r["messages"][r["messages"].index(nxt) + 1]
            again = r["messages"][r["messages"].index(nxt) + 2]["tool_calls"][0]
            assert answer["role"] == "user" and again["name"] == msg["name"]
            assert any(str(v) in answer["content"] for v in again["arguments"].values())
        else:                                # explained in words, no further call
            assert not nxt.get("tool_calls")
            assert err["message"].rstrip(".").lower() in nxt["content"].lower(), (err, nxt["content"])
        handled[sc["handling"]] += 1
    assert set(handled) == {"empty", "explain", "retry", "ask"}, handled


def test_verify_accepts_the_handled_failures(failing):
    recs, _ = failing
    with_errors = [r for r in recs if any(_errors(r))]
    assert len(with_errors) > 100
    verified, rejected, _ = verify([json.dumps(r) for r in with_errors], verify_config(), map_fn=ordered_map,
                                   offline=True)
    assert len(verified) + len(rejected) == len(with_errors)
    assert len(rejected) <= 0.01 * len(with_errors), [x["reasons"] for x in rejected][:5]


def test_an_unhandled_error_or_a_retry_counted_twice_is_caught(failing):
    recs, _ = failing
    single = next(r for r in recs if r["data_type"] == "single"
                  and (r.get("scenario") or {}).get("tool_failure", {}).get("handling") == "retry")
    assert checks.check(single) is None and sum(1 for m in single["messages"] if m.get("tool_calls")) == 2
    k = next(k for k, _, _ in _errors(single))
    bad = copy.deepcopy(single)             # after the error, on to another tool as if it had worked
    weather = next(t for t in TOOLS if t["name"] == "get_weather")
    bad["tools"].append(weather)
    bad["messages"][k + 1]["tool_calls"] = [{"id": "call_2", "name": "get_weather", "arguments": {"location": "Oslo"}}]
    bad["messages"][k + 2].update(name="get_weather",
                                  content=json.dumps({"location": "Oslo", "temperature": 3.5, "conditions": "snow"}))
    assert checks.check(bad) == "dialogs.unhandled_tool_error"
    bad = copy.deepcopy(single)             # the error replaced by a real result: now two calls, not a single
    bad["messages"][k]["content"] = bad["messages"][k + 2]["content"]
    assert checks.check(bad) == "dialogs.type_mismatch"


def test_personas_condition_the_user_and_are_recorded():
    s = dialogs_config(samples=200, personas__share=1.0)
    recs, _, _, _ = generate_all(TOOLS, s)
    regs = Counter(r["scenario"]["persona"]["register"] for r in recs)
    assert set(regs) == {"casual", "neutral", "formal", "terse"}
    intros = 0
    for r in recs:
        p, first = r["scenario"]["persona"], r["messages"][0]["content"]
        if first.startswith((f"I'm {p['who']}, {p['why']}.", f"I am {p['who']}, {p['why']}.")):
            intros += 1
            assert p["register"] != "terse"
    assert intros > 60
    assert not any("persona" in (r.get("scenario") or {})
                   for r in generate_all(TOOLS, dialogs_config(samples=40, personas__share=0.0))[0])


def test_non_tool_intents_vary_and_answer_correctly():
    s = dialogs_config(samples=240, mix={**ONLY, "non_tool": 1.0}, personas__share=0.0,
                       non_tool_kinds={"arithmetic": 1.0, "conversion": 1.0, "dates": 1.0, "capability": 1.0,
                                       "chitchat": 1.0})
    recs, _, drops, _ = generate_all(TOOLS, s)
    assert not drops and not any(_called(r) for r in recs)
    firsts = [r["messages"][0]["content"] for r in recs]
    assert len(set(firsts)) >= 0.85 * len(firsts), Counter(firsts).most_common(3)
    for r in recs:
        q, a = r["messages"][0]["content"], r["messages"][1]["content"]
        m = re.fullmatch(r"What's the average of ([\d, and]+)\?|Can you give me the mean of ([\d, and]+)\?", q)
        if m:
            nums = [int(x) for x in re.findall(r"\d+", m.group(1) or m.group(2))]
            assert f"is {round(sum(nums) / len(nums), 2):g}." in a, (q, a)
        m = re.search(r"How many days are there from (\d{4}-\d\d-\d\d) to (\d{4}-\d\d-\d\d)", q)
        if m:
            from datetime import date
            d1, d2 = (date.fromisoformat(x) for x in m.groups())
            assert a.endswith(f"is {(d2 - d1).days} days."), (q, a)


def _stage_overrides(**extra) -> list[str]:
    """Small talk only, without personas: a run that repeats itself."""
    kinds = {k: 0 for k in ("out_of_scope", "arithmetic", "conversion", "dates", "capability")}
    base = {**{f"dialogs.mix.{t}": 0 for t in ONLY}, "dialogs.mix.non_tool": 1, "dialogs.personas.share": 0,
            **{f"dialogs.non_tool_kinds.{k}": v for k, v in kinds.items()}, "dialogs.non_tool_kinds.chitchat": 1,
            "dialogs.steering.scorer": "heuristic", "dialogs.workers": 1, "dialogs.samples": 90,
            "dialogs.dedup.window": 40, **extra}
    return [f"{k}={v}" for k, v in base.items()]


def test_near_duplicate_requests_are_removed_with_their_reason(project):
    """Small talk without personas repeats itself: the repeats go, with a reason naming the dialog
    kept; the stats give the distinct-request ratio; shards (split inside a dedup block) still
    concatenate to the whole, and a re-run writes the same bytes."""
    io.write_jsonl(project / "data" / "apis.jsonl", TOOLS)
    write_params(project, _stage_overrides())
    run_stage("dialogs", project)
    out = (project / "data" / "dialogs.jsonl").read_bytes()
    rows = [json.loads(x) for x in out.splitlines()]
    drops = io.read_jsonl(project / "data" / "dialogs_dropped.jsonl")
    m = stage_record(project, "dialogs")
    removed = [d for d in drops if d["reason"] == "dialogs.near_duplicate_request"]
    assert removed and m["reconciled"] and len(rows) + len(drops) == 90
    assert m["requests"]["near_duplicates_removed"] == len(removed)
    # repeats across blocks of 40 stay (each block is deduplicated on its own)
    assert 1.0 > m["requests"]["distinct_ratio"] > m["requests"]["distinct_ratio_generated"]
    folded = {re.sub(r"[\W_]+", " ", " ".join(x["content"] for x in r["messages"] if x["role"] == "user").lower()).strip()
              for r in rows}
    assert m["requests"]["distinct_ratio"] == round(len(folded) / len(rows), 4)
    assert all(records.validate("sample", r) == [] for r in rows)
    kept = {r["id"]: r for r in rows}
    for d in removed:
        other = re.search(r"match (dlg-\d+)'s", d["detail"]).group(1)
        assert other in kept and int(other[4:]) < d["index"] and int(other[4:]) // 40 == d["index"] // 40
    # each kept dialog's requests differ from every earlier kept one's in its block
    texts = [(r["id"], " ".join(x["content"] for x in r["messages"] if x["role"] == "user")) for r in rows]
    for a in range(len(texts)):
        for b in range(a):
            if int(texts[a][0][4:]) // 40 == int(texts[b][0][4:]) // 40:
                assert jaccard(shingles(texts[a][1], ""), shingles(texts[b][1], "")) < 0.8, (texts[a], texts[b])
    run_stage("dialogs", project)
    assert (project / "data" / "dialogs.jsonl").read_bytes() == out
    for i in range(2):    # shard 1 starts at 45, inside the block 40..79
        run_stage("dialogs", project, CALLFORGE_SHARD=f"{i}/2")
    parts = b"".join((project / "data" / f"dialogs.shard-{i:04d}-of-0002.jsonl").read_bytes() for i in range(2))
    assert parts == out
    shard_drops = [d for i in range(2) for d in
                   io.read_jsonl(project / "data" / f"dialogs_dropped.shard-{i:04d}-of-0002.jsonl")]
    assert shard_drops == drops


def test_without_dedup_the_ratio_shows_the_repeats(project):
    io.write_jsonl(project / "data" / "apis.jsonl", TOOLS)
    write_params(project, _stage_overrides(**{"dialogs.dedup.enabled": "false"}))
    run_stage("dialogs", project)
    m = stage_record(project, "dialogs")
    assert m["samples_written"] == 90 and m["requests"]["near_duplicates_removed"] == 0
    assert m["requests"]["distinct_ratio"] == m["requests"]["distinct_ratio_generated"] < 0.9


@pytest.mark.parametrize("key, value, named", [
    ("near_miss", {"out_of_scope": 1.5}, "dialogs.near_miss"),
    ("near_miss", {"irrelevance": 0.5}, "dialogs.near_miss"),
    ("tool_failures__kinds", {"crash": 1.0}, "dialogs.tool_failures.kinds"),
    ("personas__register", {"poetic": 1.0}, "dialogs.personas.register"),
    ("personas__who", ["a parent of 2"], "dialogs.personas"),
    ("dedup__bands", 7, "dialogs.dedup.num_perm"),
])
def test_config_refuses_what_the_generator_cannot_honour(key, value, named):
    with pytest.raises(ValueError, match=re.escape(named)):
        dialogs_config(**{key: value})
