"""`llm=local`: the packaged GGUF served over the OpenAI protocol by llama.cpp's own server, started
and stopped by the pipeline, so the model path can be smoke-tested end to end with a real model and no
network. gemma-3-270m is a real LM but too small to write good data: this is a plumbing check, not a
data source.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the stage that started it dies (even by kill -9), so a
    killed stage leaves no model server eating the CPU."""
    try:
        import ctypes
        import signal
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class LocalServer:
    def __init__(self, model_path: str | None = None, n_ctx: int = 4096, startup_timeout_s: float = 180.0,
                 log_path: Path | str | None = None, extra_args: tuple[str, ...] = ("--chat_format", "gemma")):
        self.model_path, self.n_ctx, self.startup_timeout_s = model_path, n_ctx, startup_timeout_s
        self.log_path = Path(log_path) if log_path else None
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "LocalServer":
        try:
            import llama_cpp.server  # noqa: F401
        except ImportError as e:
            raise RuntimeError("llm=local needs the `local` extra (scripts/install_local_model.sh), "
                               f"including llama-cpp-python's server dependencies: {e}") from None
        from callforge.core.model_files import resolve_model

        model = resolve_model(self.model_path, None)
        self.port = _free_port()
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
             "--port", str(self.port), "--n_ctx", str(self.n_ctx), "--verbose", "False",
             # the server's default is half the cores; the pipeline only waits while it decodes
             "--n_threads", str(os.cpu_count() or 1), *self.extra_args],
            stdout=log, stderr=log, env={**os.environ},
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        deadline = time.time() + self.startup_timeout_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with {self.proc.returncode} while starting")
            try:
                urllib.request.urlopen(f"{self.base_url}/models", timeout=2).read()
                return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"llama.cpp server did not answer within {self.startup_timeout_s}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
