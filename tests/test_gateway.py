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
