"""A minimal asyncio OpenAI-compatible server for benchmarks, run in its own process.

The threaded `callforge.core.testserver` spends more CPU per request than the client it serves, so a
throughput ratio against it would measure the server. This one parses HTTP/1.1 with keep-alive by
hand, answers every chat completion with a fixed JSON object after `--latency` seconds, and prints
its port on stdout. Bench traffic stays on 127.0.0.1 and the process is stopped by its parent.

    python bench/fastserver.py --latency 0.2   # prints "PORT 43121"
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path

ANSWER = '{"city": "Oslo", "ok": true}'


def _body(model: str, text: str) -> bytes:
    return json.dumps({
        "id": "cmpl-bench", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 8, "total_tokens": 18}}).encode()


async def _serve_conn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float, stats: dict):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            stats["calls"] += 1
            if latency:
                await asyncio.sleep(latency)
            try:
                model = json.loads(body).get("model", "bench")
            except ValueError:
                model = "bench"
            payload = _body(model, ANSWER)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % len(payload) + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(latency: float, port: int) -> None:
    stats = {"calls": 0}
    server = await asyncio.start_server(lambda r, w: _serve_conn(r, w, latency, stats), "127.0.0.1", port,
                                        backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


class FastServer:
    """Start the server in a child process; `base_url` points the client at it."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.proc = None
        self.port = None

    def __enter__(self) -> "FastServer":
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--latency", str(self.latency)],
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

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    try:
        asyncio.run(main(args.latency, args.port))
    except KeyboardInterrupt:
        pass
