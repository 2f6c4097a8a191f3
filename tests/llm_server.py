"""Fixtures for tests that talk to a model: a real OpenAI-compatible server on 127.0.0.1.

    def test_x(llm_server):
        llm_server.set_responder(lambda req: '{"a": 1}')
        ... overrides = llm_overrides(llm_server) ...
"""
from __future__ import annotations

import pytest

from callforge.core.testserver import Fault, FaultPlan, TestServer  # noqa: F401  (re-exported for tests)


JUDGE_MODEL = "test-judge"


def default_responder(req: dict) -> str:
    return "ok"


@pytest.fixture
def llm_server():
    with TestServer(default_responder) as srv:
        yield srv


def llm_overrides(server: TestServer, section: str = "llm", **extra) -> list[str]:
    """Hydra overrides that point llm=compatible at a test server, with short timeouts and backoff.
    section="judge": the same for verify's judges (judge=compatible)."""
    model = JUDGE_MODEL if section == "judge" else "test-model"
    base = {section: "compatible", f"{section}.base_url": server.base_url, f"{section}.model": model,
            f"{section}.timeout_s": 2.0, f"{section}.backoff_base_s": 0.01, f"{section}.backoff_max_s": 0.05,
            f"{section}.max_retries": 4}
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def judge_overrides(server: TestServer, **extra) -> list[str]:
    """Hydra overrides that point verify's judges (judge=compatible) at a test server."""
    return llm_overrides(server, "judge", **extra)
