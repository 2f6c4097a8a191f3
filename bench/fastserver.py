"""A minimal asyncio OpenAI-compatible server for benchmarks, run in its own process.

The threaded `callforge.core.testserver` spends more CPU per request than the client it serves, so a
throughput ratio against it would measure the server. This one parses HTTP/1.1 with keep-alive by
hand, answers every chat completion after `--latency` seconds with a fixed JSON object, or with what
`--responder module:function` (a function of the request body, e.g. shaped_model:answer) returns, and
prints its port on stdout. `GET /stats` reports the requests answered, the mean number in flight while
any was, and the server's own CPU seconds. Bench traffic stays on 127.0.0.1 and the process is stopped
by its parent.

    python bench/fastserver.py --latency 0.2   # prints "PORT 43121"
"""
from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ANSWER = '{"city": "Oslo", "ok": true}'


def _body(model: str, text: str) -> bytes:
    return json.dumps({
        "id": "cmpl-bench", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18}}).encode()


class Stats:
    """Requests answered, and the time integral of requests in flight (its mean = integral / busy time)."""

    def __init__(self):
        self.calls = 0
        self.in_flight = 0
        self.area = 0.0        # in-flight x seconds
        self.busy = 0.0        # seconds with at least one request in flight
        self.max_in_flight = 0
        self._t = time.perf_counter()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.in_flight:
            self.area += self.in_flight * (now - self._t)
            self.busy += now - self._t
        self._t = now

    def enter(self) -> None:
        self._tick()
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        self._tick()
        self.in_flight -= 1

    def report(self) -> dict:
        self._tick()
        t = os.times()
        return {"calls": self.calls, "mean_in_flight": round(self.area / self.busy, 2) if self.busy else 0.0,
                "max_in_flight": self.max_in_flight, "busy_s": round(self.busy, 3),
                "cpu_s": round(t.user + t.system, 3)}


def _response(status: str, payload: bytes) -> bytes:
    return (b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (status.encode(), len(payload)) + payload)


async def _serve_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float, stats: Stats,
                      responder):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            if head.startswith(b"GET /stats"):
                writer.write(_response("200 OK", json.dumps(stats.report()).encode()))
                await writer.drain()
                continue
            stats.enter()
            try:
                if latency:
                    await asyncio.sleep(latency)
                try:
                    req = json.loads(body)
                except ValueError:
                    req = {}
                text = responder(req) if responder else ANSWER
                writer.write(_response("200 OK", _body(req.get("model", "bench"), text)))
            finally:
                stats.leave()
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


def load_responder(spec: str | None):
    """`module:function` from bench/ (or any importable module), or None for the fixed answer."""
    if not spec:
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    module, fn = spec.split(":")
    return getattr(importlib.import_module(module), fn)


async def main(latency: float, port: int, responder: str | None = None) -> None:
    stats, answer = Stats(), load_responder(responder)
    server = await asyncio.start_server(lambda r, w: _serve_conn(r, w, latency, stats, answer), "127.0.0.1", port,
                                        backlog=4096)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


class FastServer:
    """Start the server in a child process; `base_url` points the client at it."""

    def __init__(self, latency: float = 0.0, responder: str | None = None):
        self.latency = latency
        self.responder = responder
        self.proc = None
        self.port = None

    def __enter__(self) -> "FastServer":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--latency", str(self.latency)]
        self.proc = subprocess.Popen(cmd + (["--responder", self.responder] if self.responder else []),
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"bench server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as r:
            return json.loads(r.read())

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--responder", default=None, help="module:function answering each request body")
    args = ap.parse_args()
    try:
        asyncio.run(main(args.latency, args.port, args.responder))
    except KeyboardInterrupt:
        pass
