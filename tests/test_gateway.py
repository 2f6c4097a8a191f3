"""The gateway against a real OpenAI-compatible HTTP server on 127.0.0.1 (callforge.core.testserver)."""
from __future__ import annotations

import json
import time

import pytest

from callforge.core.config import compose, validate
from callforge.core.gateway import Gateway
from llm_server import Fault, llm_overrides

SCHEMA = {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}
MSG = [{"role": "user", "content": "Name a city as JSON."}]


def gateway(server, tmp_path, **extra) -> Gateway:
    cfg = validate(compose(llm_overrides(server, **extra)))
    return Gateway(cfg.llm, stage="test", cache_dir=tmp_path / "cache", seed=cfg.seed)


def scripted(*replies):
    """A responder answering with `replies` in order, then repeating the last one."""
    it = iter(replies)
    last = [None]

    def respond(req):
        last[0] = next(it, last[0])
        return last[0]
    return respond


def test_plain_answer_and_usage(llm_server, tmp_path):
    llm_server.set_responder(lambda req: "Paris")
    gw = gateway(llm_server, tmp_path)
    res = gw.run(gw.complete(MSG))
    assert res.ok and res.text == "Paris"
    assert gw.usage()["calls"] == 1 and gw.usage()["prompt_tokens"] == 10


def test_retries_500_then_succeeds(llm_server, tmp_path):
    llm_server.set_responder(scripted(Fault(status=500), Fault(status=502), '{"city": "Oslo"}'))
    gw = gateway(llm_server, tmp_path)
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert res.ok and res.data == {"city": "Oslo"}
    assert llm_server.calls == 3 and gw.usage()["retries"] == 2


def test_429_honours_retry_after(llm_server, tmp_path):
    llm_server.set_responder(scripted(Fault(status=429, retry_after=0.6), '{"city": "Rome"}'))
    gw = gateway(llm_server, tmp_path)
    t0 = time.perf_counter()
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    waited = time.perf_counter() - t0
    assert res.ok and res.data["city"] == "Rome"
    assert waited >= 0.6, "Retry-After must be honoured, not the (much shorter) backoff"
    assert gw.usage()["retry:llm.http_429"] == 1


def test_timeout_is_retried(llm_server, tmp_path):
    llm_server.set_responder(scripted(Fault(sleep=1.5, then='{"city": "late"}'), '{"city": "Lima"}'))
    gw = gateway(llm_server, tmp_path, **{"llm.timeout_s": 0.5})
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert res.ok and res.data["city"] == "Lima"
    assert gw.usage()["retry:llm.timeout"] == 1


def test_malformed_http_body_and_dropped_connection_are_retried(llm_server, tmp_path):
    llm_server.set_responder(scripted(Fault(malformed=True), Fault(drop=True), '{"city": "Kyiv"}'))
    gw = gateway(llm_server, tmp_path)
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert res.ok and res.data["city"] == "Kyiv"
    assert llm_server.calls == 3


def test_bad_json_answer_is_repaired_by_asking_again(llm_server, tmp_path):
    llm_server.set_responder(scripted("Sure! The city is Paris.", '{"town": "x"}', '```json\n{"city": "Paris"}\n```'))
    gw = gateway(llm_server, tmp_path)
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert res.ok and res.data == {"city": "Paris"}
    repair_msgs = llm_server.requests[-1]["messages"]
    assert repair_msgs[-1]["role"] == "user" and "could not be used" in repair_msgs[-1]["content"]
    assert gw.usage()["repairs"] == 2


def test_unrepairable_answer_fails_with_reason_not_exception(llm_server, tmp_path):
    llm_server.set_responder(lambda req: "never JSON")
    gw = gateway(llm_server, tmp_path, **{"llm.repair_retries": 1})
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert not res.ok and res.reason == "llm.bad_json"


def test_persistent_failure_is_a_reason_code(llm_server, tmp_path):
    llm_server.set_responder(lambda req: Fault(status=503))
    gw = gateway(llm_server, tmp_path, **{"llm.max_retries": 2})
    res = gw.run(gw.complete(MSG))
    assert not res.ok and res.reason == "llm.http_503" and llm_server.calls == 3


def test_client_error_is_not_retried(llm_server, tmp_path):
    llm_server.set_responder(lambda req: Fault(status=400))
    gw = gateway(llm_server, tmp_path)
    res = gw.run(gw.complete(MSG))
    assert res.reason == "llm.http_400" and llm_server.calls == 1


def test_cache_makes_zero_calls_on_rerun(llm_server, tmp_path):
    llm_server.set_responder(lambda req: json.dumps({"city": req["messages"][-1]["content"][-3:]}))
    prompts = [[{"role": "user", "content": f"city {i:03d}"}] for i in range(20)]
    gw = gateway(llm_server, tmp_path)
    first = gw.run_all([gw.complete(p, json_schema=SCHEMA) for p in prompts])
    gw.close()
    assert llm_server.calls == 20
    gw2 = gateway(llm_server, tmp_path)        # a new process would see the same on-disk cache
    second = gw2.run_all([gw2.complete(p, json_schema=SCHEMA) for p in prompts])
    assert llm_server.calls == 20, "a re-run with unchanged inputs must make zero calls"
    assert [r.data for r in first] == [r.data for r in second]
    assert gw2.usage()["cache_hits"] == 20 and "calls" not in gw2.usage()


def test_cache_key_changes_with_sampling_parameters(llm_server, tmp_path):
    llm_server.set_responder(lambda req: "x")
    gw = gateway(llm_server, tmp_path)
    gw.run(gw.complete(MSG, temperature=0.1))
    gw.run(gw.complete(MSG, temperature=0.9))
    assert llm_server.calls == 2


def _seed_echo(req):
    """A sampling server: the answer depends on the request's seed, as a model's sample does."""
    return json.dumps({"city": f"city-{req['seed']}"})


def test_same_prompt_under_different_keys_samples_apart(llm_server, tmp_path):
    llm_server.set_responder(_seed_echo)
    gw = gateway(llm_server, tmp_path)
    a, b, plain = gw.run_all([gw.complete(MSG, json_schema=SCHEMA, key=("dlg-00000001", "user", 0)),
                              gw.complete(MSG, json_schema=SCHEMA, key=("dlg-00000002", "user", 0)),
                              gw.complete(MSG, json_schema=SCHEMA)])
    sent = sorted(r["seed"] for r in llm_server.requests)
    assert a.seed != b.seed and sorted([a.seed, b.seed, plain.seed]) == sent
    assert all(0 <= x < 2**31 for x in sent)
    assert plain.seed == gw.seed == 0, "a request without a key keeps the pipeline seed"
    assert a.data != b.data and {a.data["city"], b.data["city"]} == {f"city-{a.seed}", f"city-{b.seed}"}
    assert llm_server.calls == 3 and len(gw.cache) == 3, "one cache entry per seed sent, not one per prompt"
    assert a.seed == gw.seed_for(["dlg-00000001", "user", 0])   # a list names the same key as the tuple
    with pytest.raises(TypeError):
        gw.seed_for(("dlg-00000001", 0.5))


def test_keyed_rerun_replays_the_same_bytes_from_the_cache(llm_server, tmp_path):
    llm_server.set_responder(_seed_echo)
    keys = [(f"dlg-{i:08d}", "assistant", 0, 0, "vote", v) for i in range(5) for v in range(2)]
    gw = gateway(llm_server, tmp_path)
    first = gw.run_all([gw.complete(MSG, key=k) for k in keys])
    gw.close()
    assert llm_server.calls == len(keys) and len({r.text for r in first}) == len(keys)
    gw2 = gateway(llm_server, tmp_path)
    second = gw2.run_all([gw2.complete(MSG, key=k) for k in keys])
    assert llm_server.calls == len(keys), "the same samples re-run must be served from the cache"
    assert [r.text for r in second] == [r.text for r in first] and all(r.cached for r in second)
    assert [r.seed for r in second] == [r.seed for r in first]
    assert gw2.usage()["cache_hits"] == len(keys)
    gw2.close()
    other = gateway(llm_server, tmp_path, **{"llm.seed": 7})   # another base seed: other seeds, fresh calls
    third = other.run_all([other.complete(MSG, key=k) for k in keys])
    assert llm_server.calls == 2 * len(keys) and not {r.seed for r in third} & {r.seed for r in first}


def test_n_samples_return_one_parsed_answer_each(llm_server, tmp_path):
    llm_server.set_responder(lambda req: ['{"city": "A"}', '{"city": "B"}', '{"city": "A"}'])
    gw = gateway(llm_server, tmp_path)
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA, n=3))
    assert res.ok and [d["city"] for d in res.data] == ["A", "B", "A"]


def test_concurrency_is_bounded(llm_server, tmp_path):
    import threading
    active, peak, lock = [0], [0], threading.Lock()

    def slow(req):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return "ok"
    llm_server.set_responder(slow)
    gw = gateway(llm_server, tmp_path, **{"llm.concurrency": 4, "llm.cache": False})
    res = gw.run_all([gw.complete([{"role": "user", "content": str(i)}]) for i in range(24)])
    assert all(r.ok for r in res) and peak[0] <= 4 and peak[0] >= 2


def test_key_comes_from_env_and_never_from_config(llm_server, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLFORGE_API_KEY", "sk-test-SECRET-123")
    llm_server.set_responder(lambda req: "ok")
    gw = gateway(llm_server, tmp_path)
    gw.run(gw.complete(MSG))
    assert llm_server.auth_headers[-1] == "Bearer sk-test-SECRET-123"
    gw.close()
    assert b"SECRET" not in (tmp_path / "cache" / "llm-responses.sqlite").read_bytes()


def test_offline_provider_refuses_to_make_calls(tmp_path):
    from callforge.core.gateway import GatewayError
    cfg = validate(compose([]))
    with pytest.raises(GatewayError):
        Gateway(cfg.llm, stage="t", cache_dir=tmp_path)


# -- structured outputs: json_schema (the schema sent, strict where allowed) and the json_object fallback --------

STRICT_SCHEMA = {"type": "object", "required": ["city", "country"], "additionalProperties": False,
                 "properties": {"city": {"type": "string"}, "country": {"type": ["string", "null"]}}}


def test_json_schema_mode_sends_the_schema_and_strict_only_when_the_schema_allows_it(llm_server, tmp_path):
    llm_server.set_responder(lambda req: '{"city": "Oslo", "country": null}')
    gw = gateway(llm_server, tmp_path)
    assert gw.cfg.structured_output == "json_schema", "conf/llm/compatible.yaml asks for the schema"
    loose, strict = gw.run_all([gw.complete(MSG, json_schema=SCHEMA, tag="city.pick"),
                                gw.complete(MSG, json_schema=STRICT_SCHEMA, tag="city.pick")])
    assert loose.ok and strict.ok and strict.data == {"city": "Oslo", "country": None}
    formats = sorted((r["response_format"] for r in llm_server.requests), key=lambda f: f["json_schema"]["strict"])
    assert [f["type"] for f in formats] == ["json_schema", "json_schema"]
    assert [f["json_schema"]["strict"] for f in formats] == [False, True]
    assert [f["json_schema"]["schema"] for f in formats] == [SCHEMA, STRICT_SCHEMA]
    assert {f["json_schema"]["name"] for f in formats} == {"city_pick"}, "the tag, in the characters OpenAI allows"


def test_json_object_mode_sends_json_mode_and_repairs_the_shape(llm_server, tmp_path):
    llm_server.set_responder(scripted("Here you go: {\"town\": \"x\"}", '{"city": "Lima"}'))
    gw = gateway(llm_server, tmp_path, **{"llm.structured_output": "json_object"})
    res = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert res.ok and res.data == {"city": "Lima"} and gw.usage()["repairs"] == 1
    assert [r["response_format"] for r in llm_server.requests] == [{"type": "json_object"}] * 2
    plain = gw.run(gw.complete([{"role": "user", "content": "Say hi."}]))
    assert plain.ok and "response_format" not in llm_server.requests[-1], "no schema asked, no response_format sent"


def test_a_schema_enforcing_server_returns_bare_json_and_nothing_needs_repair(llm_server, tmp_path):
    llm_server.configure(enforce_schema=True)      # like vLLM's guided decoding: only the JSON value comes back
    llm_server.set_responder(scripted("Sure!\n```json\n{\"city\": \"Quito\"}\n```", "I think it is Quito."))
    gw = gateway(llm_server, tmp_path, **{"llm.max_retries": 0})
    first = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert first.ok and first.text == '{"city": "Quito"}' and "repairs" not in gw.usage()
    second = gw.run(gw.complete(MSG + [{"role": "user", "content": "again"}], json_schema=SCHEMA))
    assert not second.ok and second.reason == "llm.http_500" and llm_server.schema_violations == 1, \
        "an answer off the schema cannot come out of a constrained decoder"


def test_a_server_without_json_schema_refuses_it_and_json_object_mode_works_there(llm_server, tmp_path):
    llm_server.configure(response_formats=("text", "json_object"))
    llm_server.set_responder(lambda req: '{"city": "Rome"}')
    res = gateway(llm_server, tmp_path).run(gateway(llm_server, tmp_path / "b").complete(MSG, json_schema=SCHEMA))
    assert not res.ok and res.reason == "llm.http_400" and "json_schema" in res.detail
    assert llm_server.calls == 1, "a 400 is not retried"
    gw = gateway(llm_server, tmp_path / "c", **{"llm.structured_output": "json_object"})
    ok = gw.run(gw.complete(MSG, json_schema=SCHEMA))
    assert ok.ok and ok.data == {"city": "Rome"}


def test_the_test_server_refuses_what_openai_refuses(llm_server):
    """The server's checks are what make the gateway tests above able to fail: a strict schema outside the
    strict subset, a nameless schema, and JSON mode without the word JSON are 400s."""
    import urllib.error
    import urllib.request

    def post(fmt, content="Name a city as JSON."):
        body = {"model": "m", "messages": [{"role": "user", "content": content}], "response_format": fmt}
        req = urllib.request.Request(llm_server.base_url + "/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, ""
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())["error"]["message"]
    llm_server.set_responder(lambda req: '{"city": "Oslo"}')
    spec = lambda schema, strict, name="city": {"type": "json_schema",   # noqa: E731
                                                "json_schema": {"name": name, "schema": schema, "strict": strict}}
    assert post(spec(STRICT_SCHEMA, True))[0] == 200
    assert post(spec(SCHEMA, False))[0] == 200
    code, why = post(spec(SCHEMA, True))
    assert code == 400 and "additionalProperties" in why
    assert post(spec(SCHEMA, False, name="a city"))[0] == 400
    assert post(spec({"type": "nonsense"}, False))[0] == 400
    assert post({"type": "json_object"}, content="Name a city.")[0] == 400
    assert post({"type": "json_object"})[0] == 200


@pytest.mark.parametrize("schema, problem", [
    (STRICT_SCHEMA, None),
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}}, None),
    ({"type": "object", "additionalProperties": False, "required": ["v"], "properties": {"v": {"enum": ["x", "y"]}},
      "$defs": {"p": {"type": "object", "properties": {}, "required": [], "additionalProperties": False}}}, None),
    ({"type": "array", "items": {"type": "string"}}, "root is not an object"),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}, "additionalProperties"),
    ({"type": "object", "additionalProperties": False, "required": [],
      "properties": {"a": {"type": "string"}}}, "not every property is required"),
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"type": "object"}}}, "<root>/a: an object without properties"),
    ({"type": "object", "additionalProperties": False, "required": ["a"], "properties": {"a": {}}}, "<root>/a: no type"),
    ({"type": "object", "additionalProperties": False, "required": ["a"],
      "properties": {"a": {"type": "string", "minLength": 1}}}, "'minLength'"),
    ({"type": "object", "additionalProperties": False, "required": [], "properties": {},
      "allOf": [{"required": []}]}, "'allOf'"),
])
def test_strict_is_sent_only_for_schemas_in_openais_strict_subset(schema, problem):
    from callforge.core.structured import strict_violation
    found = strict_violation(schema)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_strict_subset_bounds_nesting_depth():
    from callforge.core.structured import STRICT_MAX_DEPTH, strict_violation

    def nested(depth):
        node = {"type": "string"}
        for _ in range(depth):
            node = {"type": "object", "properties": {"x": node}, "required": ["x"], "additionalProperties": False}
        return node
    assert strict_violation(nested(STRICT_MAX_DEPTH)) is None
    assert "deeper" in strict_violation(nested(STRICT_MAX_DEPTH + 1))


def test_the_projects_own_answer_schemas_are_strict_where_they_can_be():
    """The verdict is closed and all-required, so a strict server can only answer a verdict; the assistant's
    decision (if/then on the action) and the open tool results cannot be strict, and are sent non-strict."""
    from callforge.core.structured import strict_violation
    from callforge.dialogs import prompts
    from callforge.verify.judges import VERDICT_SCHEMA
    assert strict_violation(VERDICT_SCHEMA) is None
    assert "allOf" in strict_violation(prompts.ASSISTANT_SCHEMA)
    assert strict_violation(prompts.tool_result_schema({"type": "object"})) is not None


@pytest.mark.parametrize("mode", ["json_schema", "json_object"])
def test_judges_get_their_verdicts_in_both_modes(llm_server, tmp_path, mode):
    """verify's judges go through the `judge` section's gateway: in json_schema mode the verdict schema is sent
    strict (to a server that decodes to it); in json_object mode the verdict is read out of the chatter."""
    from llm_server import judge_overrides
    from callforge.verify.judges import JUDGES, VERDICT_SCHEMA, judge_samples
    from verify_samples import good

    llm_server.configure(enforce_schema=mode == "json_schema")
    llm_server.set_responder(lambda req: 'Verdict:\n```json\n{"reasons": ["fine"], "verdict": "pass"}\n```')
    cfg = validate(compose(judge_overrides(llm_server, **{"judge.structured_output": mode})))
    gw = Gateway(cfg.judge, stage="verify", cache_dir=tmp_path / "cache", seed=0, section="judge")
    verdicts = judge_samples(gw, [good(), good()], list(JUDGES))
    assert [v.status for vs in verdicts for v in vs] == ["pass"] * sum(len(vs) for vs in verdicts) and verdicts[0]
    sent = {json.dumps(r["response_format"], sort_keys=True) for r in llm_server.requests}
    expected = ({"type": "json_object"} if mode == "json_object" else
                {"type": "json_schema", "json_schema": {"name": None, "schema": VERDICT_SCHEMA, "strict": True}})
    for fmt in map(json.loads, sent):
        if mode == "json_schema":
            assert fmt["json_schema"]["name"].startswith("judge_")
            fmt["json_schema"]["name"] = None
        assert fmt == expected
    assert llm_server.schema_violations == 0 and "repairs" not in gw.usage()


@pytest.mark.parametrize("mode", ["json_schema", "json_object"])
def test_dialog_agents_make_valid_dialogs_in_both_modes(llm_server, tmp_path, mode):
    """The user, assistant and tool agents in either mode: json_schema against a server that decodes to each
    role's schema (none strict: they are open or conditional), json_object against one that does not."""
    from callforge.core import records
    from callforge.dialogs.llm_dialog import LLMDialogs
    from callforge.dialogs.pool import Pool
    from dialogs_fixtures import dialogs_config
    from test_dialogs_llm import MIX, WEATHER, FakeModel

    llm_server.configure(enforce_schema=mode == "json_schema")
    llm_server.set_responder(FakeModel())
    cfg = validate(compose(llm_overrides(llm_server, **{"llm.structured_output": mode})))
    gw = Gateway(cfg.llm, stage="dialogs", cache_dir=tmp_path / "cache", seed=0)
    prov = {"provider": "compatible", "model": "test-model", "prompt_version": "x", "seed": 0, "stage": "dialogs"}
    try:
        recs, drops = LLMDialogs(Pool(WEATHER), dialogs_config(samples=9, mix=MIX, votes=2, steering__scorer="none"),
                                 0, gw, prov).run(range(9))
    finally:
        gw.close()
    assert not drops and {r["data_type"] for r in recs} == {"single", "non_tool", "clarify"}
    assert all(records.validate("sample", r) == [] for r in recs)
    formats = [r["response_format"] for r in llm_server.requests]
    if mode == "json_object":
        assert formats and all(f == {"type": "json_object"} for f in formats)
    else:
        names = {f["json_schema"]["name"] for f in formats}
        assert names == {"user", "assistant", "tool"} and not any(f["json_schema"]["strict"] for f in formats)
        assert llm_server.schema_violations == 0
