"""The LLM gateway: the one way any stage talks to a model.

AsyncOpenAI underneath (any OpenAI-compatible server), with bounded concurrency, retries with
backoff (429 honouring Retry-After, 5xx, timeouts, dropped connections, unreadable bodies), a
persistent response cache, JSON answers checked against an expected schema with a bounded
repair-and-retry, and token accounting. A request that still fails comes back as a Result with
ok=False and a stable reason code; it never raises into the stage.

Sampling seeds: a request made with `key=` (the identity of what it generates: sample id, role,
step, vote index) sends `seeds.request_seed(base seed, *key)`, so two samples that happen to send the
same prompt sample apart, and a re-run of the same sample sends the same seed. A request without a key
sends the base seed itself (llm.seed, else the pipeline seed). The seed is part of the request, hence
of the cache key: a re-run hits the cache, and samples with different keys never share an entry.

Structured outputs: a request with a schema asks for it as `llm.structured_output` says
(callforge.core.structured: the schema itself, strict where OpenAI's subset allows, or JSON mode).
Budget: every answered request is charged to the gateway's Budget (callforge.core.budget), and caps are
checked between windows of `run_all`; past a cap, requests fail at once with `budget.stopped`.
"""
from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import openai
from omegaconf import OmegaConf

from callforge.core.budget import BUDGET_STOPPED, Budget
from callforge.core.cache import ResponseCache, request_key
from callforge.core.jsonout import parse_json
from callforge.core.seeds import request_seed
from callforge.core.structured import response_format

OFFLINE = "offline"


@dataclass
class Result:
    ok: bool
    texts: list[str] = field(default_factory=list)
    data: object = None                 # parsed JSON (a list when n > 1) when a schema was given
    reason: str | None = None           # stable code, e.g. llm.http_500, llm.timeout, llm.bad_json
    detail: str = ""
    usage: dict = field(default_factory=dict)
    cached: bool = False
    seed: int | None = None             # the sampling seed the request sent

    @property
    def text(self) -> str | None:
        return self.texts[0] if self.texts else None


class GatewayError(RuntimeError):
    pass


def api_key(llm_cfg) -> str:
    """The key comes only from the environment variable *named* in config; 'unset' for keyless servers."""
    name = llm_cfg.api_key_env
    key = os.environ.get(name) if name else None
    if llm_cfg.provider == "openai" and not key:
        raise GatewayError(f"llm.api_key_env: environment variable {name or '(unset)'} holds no API key")
    return key or "unset"


class Gateway:
    def __init__(self, llm_cfg, *, stage: str, cache_dir: Path | str, seed: int = 0, section: str = "llm"):
        """llm_cfg: the `llm` config section (cfg.llm, or a config_schema.LLMConfig); section: its name
        (`llm`, or `judge` for verify's judges), for the keys that messages name."""
        if OmegaConf.is_config(llm_cfg):   # plain attributes: OmegaConf lookups cost ~20 µs each, per request
            llm_cfg = OmegaConf.to_object(llm_cfg)
        if llm_cfg.provider == OFFLINE:
            raise GatewayError("llm=offline has no model to call: stages use their procedural roles instead")
        self.cfg = llm_cfg
        self.base_url = llm_cfg.base_url
        self._local = None
        if llm_cfg.provider == "local":   # start the packaged model's server for this gateway's lifetime
            from callforge.core.local_server import LocalServer

            self._local = LocalServer(log_path=Path(cache_dir) / "llama-server.log").start()
            self.base_url = self._local.base_url
        self.stage = stage
        self.seed = llm_cfg.seed if llm_cfg.seed is not None else seed
        self.cache = ResponseCache(Path(cache_dir) / "llm-responses.sqlite") if llm_cfg.cache else None
        self.stats: Counter = Counter()
        self.budget = Budget(llm_cfg.budget, section)
        self._loop = asyncio.new_event_loop()
        self._client: openai.AsyncOpenAI | None = None
        self._sem: asyncio.Semaphore | None = None
        self._secret: str | None = None

    # -- plumbing -------------------------------------------------------------------------------
    def _ensure_client(self):
        if self._client is None:
            key = api_key(self.cfg)
            self._secret = key if key != "unset" and len(key) >= 8 else None
            # aiohttp under the client: httpx's pool walks its connections for every request, so its CPU per
            # request grows with concurrency (2.0 ms at 64 in flight, 3.5 ms at 256 on this project's 2-core
            # machine, against 0.9 ms for aiohttp at either; bench/bench_peers.py compares both transports);
            # the same errors reach the gateway, mapped to the same openai exceptions
            self._client = openai.AsyncOpenAI(
                api_key=key, base_url=self.base_url or None,
                max_retries=0, timeout=self.cfg.timeout_s,
                http_client=openai.DefaultAioHttpClient(timeout=self.cfg.timeout_s))
            self._sem = asyncio.Semaphore(self.cfg.concurrency)
        return self._client

    def run_all(self, coroutines) -> list:
        """Run coroutines (typically `complete(...)` calls, or whole samples made of them) on the
        gateway's loop; results in order. Under a budget cap they run in windows of `concurrency`,
        and the cap is checked before each window (a barrier: see callforge.core.budget)."""
        coroutines = list(coroutines)

        async def gather():
            self._ensure_client()
            if not self.budget.capped:
                return await asyncio.gather(*coroutines)
            out = []
            for lo in range(0, len(coroutines), self.cfg.concurrency):
                self.budget.check()
                out.extend(await asyncio.gather(*coroutines[lo:lo + self.cfg.concurrency]))
            return out
        try:
            return self._loop.run_until_complete(gather())
        except BaseException:
            for c in coroutines:       # those never started (e.g. no API key): closed, not left unawaited
                c.close()
            raise

    def run(self, coroutine):
        return self.run_all([coroutine])[0]

    def close(self):
        if self._client is not None:
            self._loop.run_until_complete(self._client.close())
        self._loop.close()
        if self.cache:
            self.cache.close()
        if self._local is not None:
            self._local.stop()

    def usage(self) -> dict:
        return dict(sorted(self.stats.items()))

    # -- one request ----------------------------------------------------------------------------
    def seed_for(self, key=None) -> int:
        """The sampling seed a request with this identity key sends (see the module docstring).
        key: a str or int, or a tuple of them, e.g. ("dlg-00000007", "assistant", 0, 1, 2)."""
        if key is None:
            return self.seed
        parts = tuple(key) if isinstance(key, (tuple, list)) else (key,)
        if not all(isinstance(p, (str, int)) for p in parts):
            raise TypeError(f"a request key is made of str and int parts, not {parts!r}")
        return request_seed(self.seed, *parts)

    def _request(self, messages, temperature, n, max_tokens, json_schema, tag: str, seed: int) -> dict:
        req = {"model": self.cfg.model, "messages": messages, "n": n,
               "temperature": self.cfg.temperature if temperature is None else temperature,
               "top_p": self.cfg.top_p, "max_tokens": max_tokens or self.cfg.max_tokens, "seed": seed}
        if json_schema is not None:
            req["response_format"] = response_format(self.cfg.structured_output, json_schema, tag)
        return req

    async def _send(self, req: dict) -> dict:
        """One HTTP exchange with retries. → {"texts", "usage"} or {"reason", "detail"}."""
        client = self._ensure_client()
        last = ("llm.unknown", "")
        for attempt in range(self.cfg.max_retries + 1):
            delay = None
            try:
                async with self._sem:
                    self.stats["calls"] += 1
                    # the client's low-level post: same HTTP, errors and timeouts as .create(), without
                    # re-walking the request through typed-dict transforms (a third of the client's CPU);
                    # the answer as parsed JSON, not built into typed models (a tenth of what is left)
                    resp = await client.post("/chat/completions", body=req, cast_to=object)
                texts = [c["message"]["content"] for c in resp["choices"]]
                if not texts or any(t is None for t in texts):
                    last = ("llm.empty_answer", "no message content")
                elif not all(isinstance(t, str) and _utf8(t) for t in texts):
                    last = ("llm.bad_response", "message content is not valid text")  # e.g. a lone surrogate
                else:
                    u = resp.get("usage")
                    usage = {k: v for k in ("prompt_tokens", "completion_tokens")   # servers may omit or null them
                             if isinstance(u, dict) and isinstance(v := u.get(k), int)}
                    return {"texts": [self._scrub(t) for t in texts], "usage": usage}
            except openai.RateLimitError as e:
                last = ("llm.http_429", self._scrub(str(e))[:200])
                delay = _retry_after(e.response)
            except openai.APITimeoutError:
                last = ("llm.timeout", f"no answer within {self.cfg.timeout_s}s")
            except openai.APIConnectionError as e:
                last = ("llm.connection", self._scrub(str(e))[:200])
            except openai.APIStatusError as e:
                last = (f"llm.http_{e.status_code}", self._scrub(str(e))[:200])
                if e.status_code < 500 and e.status_code not in (408, 409):
                    break  # a 400/401/404 will not get better by asking again
            except (openai.APIResponseValidationError, ValueError, KeyError, TypeError, AttributeError) as e:
                last = ("llm.bad_response", f"{type(e).__name__}: {self._scrub(str(e))[:200]}")
            if attempt < self.cfg.max_retries:
                self.stats["retries"] += 1
                self.stats[f"retry:{last[0]}"] += 1
                await asyncio.sleep(delay if delay is not None else self._backoff(attempt))
        return {"reason": last[0], "detail": last[1]}

    def _scrub(self, text: str) -> str:
        """A server may echo the key (in a 401 message, or worse): it must not reach data, cache or logs."""
        return text.replace(self._secret, "[api key redacted]") if self._secret and self._secret in text else text

    def _backoff(self, attempt: int) -> float:
        base = min(self.cfg.backoff_max_s, self.cfg.backoff_base_s * 2 ** attempt)
        return base * (0.5 + random.random() / 2)   # jitter: timing only, never data

    async def _cached_send(self, req: dict) -> tuple[dict, bool]:
        """An answer from the cache, else from the server; the budget is charged for it either way
        (what the data cost), the runtime counters only for what was paid now."""
        key = request_key({"provider": self.cfg.provider, **req})   # the whole request: the seed sent is in it
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            self.stats["cache_hits"] += 1
            self.budget.charge(hit["usage"])
            return hit, True
        out = await self._send(req)
        if "texts" in out:
            for k, v in out["usage"].items():
                self.stats[k] += v
            self.budget.charge(out["usage"])
            if self.cache is not None:
                self.cache.put(key, out)
        return out, False

    async def complete(self, messages: list[dict], *, json_schema: dict | None = None,
                       temperature: float | None = None, n: int = 1, max_tokens: int | None = None,
                       tag: str = "default", key=None) -> Result:
        """Ask the model. With json_schema, every one of the n answers must parse and match it;
        a bad answer is shown back to the model for repair, at most `repair_retries` times.
        key: what this request generates (sample id, role, step, vote index), which picks its
        sampling seed (`seed_for`); one request carries one seed, so samples that must differ
        (the votes of one decision) are separate requests with separate keys, not n > 1."""
        self.stats[f"requests:{tag}"] += 1
        seed = self.seed_for(key)
        if self.budget.stopped:
            self.stats[f"failed:{BUDGET_STOPPED}"] += 1
            return Result(False, reason=BUDGET_STOPPED, detail=self.budget.stop_detail(), seed=seed)
        messages = list(messages)
        for repair in range(self.cfg.repair_retries + 1):
            req = self._request(messages, temperature, n, max_tokens, json_schema, tag, seed)
            out, cached = await self._cached_send(req)
            if "texts" not in out:
                self.stats[f"failed:{out['reason']}"] += 1
                return Result(False, reason=out["reason"], detail=out["detail"], seed=seed)
            texts = out["texts"]
            if json_schema is None:
                return Result(True, texts=texts, usage=out["usage"], cached=cached, seed=seed)
            parsed = [parse_json(t, json_schema) for t in texts]
            bad = next((p for p in parsed if p[1]), None)
            if bad is None:
                data = [p[0] for p in parsed]
                return Result(True, texts=texts, data=data if n > 1 else data[0], usage=out["usage"], cached=cached,
                              seed=seed)
            if repair < self.cfg.repair_retries:
                self.stats["repairs"] += 1
                bad_text = texts[parsed.index(bad)]
                messages = messages + [
                    {"role": "assistant", "content": bad_text or ""},
                    {"role": "user", "content": f"That answer could not be used ({bad[1]}: {bad[2]}). "
                                                 "Reply again with only the corrected JSON, nothing else."}]
        self.stats[f"failed:{bad[1]}"] += 1
        return Result(False, texts=texts, reason=bad[1], detail=bad[2], seed=seed)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _retry_after(response) -> float | None:
    try:
        value = response.headers.get("retry-after")
        return min(float(value), 120.0) if value is not None else None
    except (AttributeError, ValueError):
        return None
