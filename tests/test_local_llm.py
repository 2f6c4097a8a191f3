"""llm=local: the packaged GGUF behind llama.cpp's OpenAI-compatible server, started by the pipeline."""
from __future__ import annotations

import pytest

from conftest import stage_record

from callforge.core.config import compose, validate
from callforge.core.gateway import Gateway

pytest.importorskip("llama_cpp.server", reason="the `local` extra is not installed")


@pytest.mark.slow
def test_gateway_starts_the_local_model_server_and_gets_real_tokens(tmp_path):
    cfg = validate(compose(["llm=local", "llm.max_tokens=24", "llm.temperature=0"]))
    gw = Gateway(cfg.llm, stage="test", cache_dir=tmp_path, seed=0)
    try:
        proc = gw._local.proc
        res = gw.run(gw.complete([{"role": "user", "content": "Say the word hello."}]))
        assert res.ok, res.reason
        assert res.text.strip() and res.usage["completion_tokens"] > 0
        # a repeat is served from the response cache: llama.cpp's server is not bit-reproducible
        # across requests (its prompt cache changes the numerics), the cache makes the pipeline so
        again = gw.run(gw.complete([{"role": "user", "content": "Say the word hello."}]))
        assert again.cached and again.text == res.text and gw.usage()["calls"] == 1
    finally:
        gw.close()
    assert proc.poll() is not None, "the server is stopped with the gateway"


@pytest.mark.slow
def test_a_stage_runs_end_to_end_on_the_local_model(project):
    """The API writer's prompts go to a real model; whatever it answers ends produced or rejected with a reason."""
    import json

    from conftest import run_stage, write_params
    # taxonomy from the built-in tree: re-expanding 30 domains on a 270M model on 2 cores takes too long
    write_params(project, ["llm=local", "llm.max_tokens=256", "taxonomy.source=offline", "apis.pool_size=2", "apis.batch_size=2",
                           "apis.max_attempts_factor=1.0", "llm.repair_retries=0"])
    run_stage("taxonomy", project)
    run_stage("apis", project)
    stats = stage_record(project, "apis")
    written = sum(1 for _ in open(project / "data" / "apis.jsonl"))
    rejected = [json.loads(x) for x in open(project / "data" / "apis_rejected.jsonl")]
    assert written + len(rejected) >= 2
    assert all(r["reasons"] for r in rejected)
    assert stats["llm"]["calls"] >= 1
