"""Fixtures for tests that talk to a model: a real OpenAI-compatible server on 127.0.0.1.

    def test_x(llm_server):
        llm_server.set_responder(lambda req: '{"a": 1}')
        ... overrides = llm_overrides(llm_server) ...
"""
from __future__ import annotations

import pytest

from callforge.core.testserver import Fault, FaultPlan, TestServer  # noqa: F401  (re-exported for tests)


def default_responder(req: dict) -> str:
    return "ok"


@pytest.fixture
def llm_server():
    with TestServer(default_responder) as srv:
        yield srv


def llm_overrides(server: TestServer, **extra) -> list[str]:
    """Hydra overrides that point llm=compatible at a test server, with short timeouts and backoff."""
    base = {"llm": "compatible", "llm.base_url": server.base_url, "llm.model": "test-model",
            "llm.timeout_s": 2.0, "llm.backoff_base_s": 0.01, "llm.backoff_max_s": 0.05, "llm.max_retries": 4}
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]
