"""A real OpenAI-compatible HTTP server on 127.0.0.1 with a scriptable responder and injected faults.

For tests, benchmarks and demos of the `llm=compatible` path without a model. It does not pretend to
be a model: a *responder* (a function of the request body) decides each answer, or a fault.

    with TestServer(lambda req: '{"ok": true}') as srv:
        ... llm.base_url = srv.base_url ...
        srv.calls  # requests answered so far

A responder returns a str (the message content), a list of str (one per choice, for n > 1), or a
Fault: Fault(status=429, retry_after=1), Fault(status=500), Fault(sleep=5) (then answers normally,
too late for a short client timeout), Fault(malformed=True), Fault(drop=True), Fault(truncate=True),
Fault(status=401, echo_auth=True) (the error quotes the key back, as careless servers do).
`FaultPlan` injects faults at configured rates, deterministically per request body.

Structured outputs are checked as OpenAI checks them, before the responder is asked: a response_format
type the server does not accept (`response_formats`), a json_schema without a usable name or schema, a
strict schema outside OpenAI's strict subset, or json_object mode with no "json" in the messages is
answered 400 (param response_format). With enforce_schema=True the server also decodes to the schema, as
vLLM's guided decoding does: only the JSON value reaches the client (no fences or chatter), and an
answer that does not fit the schema is not sent (500, counted in `schema_violations`).
"""
from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import jsonschema_rs

from callforge.core.jsonout import parse_json
from callforge.core.structured import strict_violation

FORMATS = ("text", "json_object", "json_schema")
_SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class Fault:
    status: int | None = None
    retry_after: float | None = None
    sleep: float = 0.0
    malformed: bool = False
    drop: bool = False
    truncate: bool = False
    then: object = None      # what to answer after sleeping / with truncate
    echo_auth: bool = False  # a careless server: the error message quotes the Authorization header


class FaultPlan:
    """Wrap a responder: each request draws a fault kind at the configured rates. The draw hashes the
    request body plus how many times that body was seen, so a retry can succeed and a run is repeatable."""

    KINDS = ("rate_limit", "server_error", "timeout", "drop", "malformed", "truncated", "schema_invalid")

    def __init__(self, responder: Callable, rates: dict[str, float], timeout_sleep: float = 3.0,
                 invalid_answer: str = '{"unexpected": "shape"}'):
        unknown = set(rates) - set(self.KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.responder, self.rates, self.timeout_sleep, self.invalid_answer = responder, rates, timeout_sleep, invalid_answer
        self.seen: dict[str, int] = {}
        self.injected: dict[str, int] = {k: 0 for k in self.KINDS}
        self._lock = threading.Lock()

    def __call__(self, req: dict):
        body = json.dumps(req, sort_keys=True)
        with self._lock:
            k = self.seen[body] = self.seen.get(body, 0) + 1
        u = int.from_bytes(hashlib.sha256(f"{k}:{body}".encode()).digest()[:8], "big") / 2**64
        acc = 0.0
        for kind in self.KINDS:
            acc += self.rates.get(kind, 0.0)
            if u < acc:
                with self._lock:
                    self.injected[kind] += 1
                return self._fault(kind, req)
        return self.responder(req)

    def _fault(self, kind: str, req: dict):
        return {"rate_limit": Fault(status=429, retry_after=0.05), "server_error": Fault(status=500),
                "timeout": Fault(sleep=self.timeout_sleep, then=""), "drop": Fault(drop=True),
                "malformed": Fault(malformed=True), "truncated": Fault(truncate=True, then=self.responder(req)),
                "schema_invalid": self.invalid_answer}[kind]


def format_problem(req: dict, accepted: tuple[str, ...]) -> str | None:
    """Why a server accepting these response_format types refuses the request's response_format, or None."""
    fmt = req.get("response_format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in accepted:
        return f"response_format type {kind!r} is not supported by this server"
    if kind == "json_object" and not any("json" in str(m.get("content") or "").lower() for m in req.get("messages", [])):
        return "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'"
    if kind != "json_schema":
        return None
    spec = fmt.get("json_schema")
    if not isinstance(spec, dict) or not _SCHEMA_NAME.match(str(spec.get("name", ""))):
        return "response_format.json_schema needs a name of letters, digits, '_' and '-' (at most 64)"
    schema = spec.get("schema")
    try:
        jsonschema_rs.validator_for(schema)
    except (ValueError, TypeError) as e:
        return f"Invalid schema for response_format '{spec['name']}': {str(e).splitlines()[0]}"
    if spec.get("strict") is True and (why := strict_violation(schema)) is not None:
        return f"Invalid schema for response_format '{spec['name']}' (strict): {why}"
    return None


def constrained(text: str, req: dict) -> str | None:
    """What a server decoding to the request's json_schema sends for `text`: the JSON value alone, or None
    when text holds no value of the schema's shape (a constrained decoder could not have written it)."""
    data, reason, _ = parse_json(text, req["response_format"]["json_schema"]["schema"])
    return None if reason else json.dumps(data, ensure_ascii=False)


def _completion(texts: list[str], model: str, finish: str = "stop") -> dict:
    return {"id": "cmpl-test", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": finish}
                        for i, t in enumerate(texts)],
            "usage": {"prompt_tokens": 10, "completion_tokens": sum(max(1, len(str(t)) // 4) for t in texts),
                      "total_tokens": 10 + sum(max(1, len(str(t)) // 4) for t in texts)}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, json.dumps({"object": "list", "data": [{"id": "test-model", "object": "model"}]}).encode())
        else:
            self._send(404, b'{"error": {"message": "not found"}}')

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        req = json.loads(self.rfile.read(length) or b"{}")
        srv = self.server
        with srv.lock:
            srv.calls += 1
            srv.requests.append(req)
            srv.auth_headers.append(self.headers.get("Authorization", ""))
        if srv.latency:
            time.sleep(srv.latency)
        problem = format_problem(req, srv.response_formats)
        if problem:
            self._send(400, json.dumps({"error": {"message": problem, "type": "invalid_request_error",
                                                  "param": "response_format"}}).encode())
            return
        reply = srv.responder(req)
        if isinstance(reply, Fault):
            if reply.sleep:
                time.sleep(reply.sleep)
            if reply.drop:
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if reply.status:
                headers = {"Retry-After": str(reply.retry_after)} if reply.retry_after is not None else {}
                msg = f"injected {reply.status}"
                if reply.echo_auth:
                    msg += f": invalid credentials {self.headers.get('Authorization', '')}"
                self._send(reply.status, json.dumps({"error": {"message": msg}}).encode(), headers)
                return
            if reply.malformed:
                self._send(200, b'{"id": "cmpl-test", "choices": [{"message": {"content": "unterminated')
                return
            finish = "length" if reply.truncate else "stop"
            text = reply.then if isinstance(reply.then, str) else ""
            if reply.truncate:
                text = text[: max(1, len(text) // 2)]
            self._send(200, json.dumps(_completion([text], req.get("model", "test"), finish)).encode())
            return
        texts = reply if isinstance(reply, list) else [reply] * int(req.get("n") or 1)
        if srv.enforce_schema and (req.get("response_format") or {}).get("type") == "json_schema":
            texts = [constrained(t, req) for t in texts]
            if None in texts:
                with srv.lock:
                    srv.schema_violations += 1
                self._send(500, b'{"error": {"message": "test server: the answer does not fit the json_schema"}}')
                return
        self._send(200, json.dumps(_completion(texts, req.get("model", "test"))).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class TestServer:
    __test__ = False  # not a pytest class

    def __init__(self, responder: Callable, latency: float = 0.0, port: int = 0,
                 response_formats: tuple[str, ...] = FORMATS, enforce_schema: bool = False):
        """response_formats: the response_format types accepted (others: 400, as from a server without
        them); enforce_schema: decode to a json_schema request's schema (see the module docstring)."""
        self._srv = _Server(("127.0.0.1", port), _Handler)
        self._srv.responder = responder
        self._srv.latency = latency
        self._srv.response_formats = tuple(response_formats)
        self._srv.enforce_schema = enforce_schema
        self._srv.schema_violations = 0
        self._srv.calls = 0
        self._srv.requests = []
        self._srv.auth_headers = []
        self._srv.lock = threading.Lock()
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._srv.server_address[1]}/v1"

    @property
    def calls(self) -> int:
        return self._srv.calls

    @property
    def requests(self) -> list[dict]:
        return self._srv.requests

    @property
    def auth_headers(self) -> list[str]:
        return self._srv.auth_headers

    @property
    def schema_violations(self) -> int:
        """json_schema answers refused under enforce_schema because they did not fit."""
        return self._srv.schema_violations

    def configure(self, *, response_formats: tuple[str, ...] | None = None, enforce_schema: bool | None = None) -> None:
        """Change what the server accepts and enforces (for a fixture-made server)."""
        if response_formats is not None:
            self._srv.response_formats = tuple(response_formats)
        if enforce_schema is not None:
            self._srv.enforce_schema = enforce_schema

    def set_responder(self, responder: Callable) -> None:
        self._srv.responder = responder

    def start(self) -> "TestServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
