"""RemoteScorer against a real OpenAI-compatible /v1/completions server on 127.0.0.1.

The server scores prompts with the local GGUF model when the `local` extra is installed, else with
a tiny deterministic toy LM written here; it records what it sent, and the test checks the scorer's
parsed per-token NLLs against that record.
"""
from __future__ import annotations

import json
import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from scoring_samples import samples

from callforge.complexity.remote import RemoteScorer
from callforge.complexity.render import render

_PIECE = re.compile(r"\s+|\w+|[^\w\s]")


class ToyLM:
    """Tokens = runs of letters/digits, whitespace, or single symbols; log p(t | prev) from a hash."""
    name = "toy-hash-bigram"

    def prompt_tokens(self, text: str) -> list[tuple[int, str, int, float | None]]:
        out, prev = [], ""
        for k, m in enumerate(_PIECE.finditer(text)):
            t = m.group()
            lp = None if k == 0 else -(0.05 + (zlib.crc32(f"{prev}\0{t}".encode()) % 1000) / 250.0)
            out.append((m.start(), t, zlib.crc32(t.encode()) % 50000, lp))
            prev = t
        return out


class GgufLM:
    """The packaged GGUF through llama-cpp-python, the plain way: all logits, full log-softmax."""

    def __init__(self, path):
        import llama_cpp
        self.llm = llama_cpp.Llama(str(path), n_ctx=1024, n_batch=512, logits_all=True, verbose=False)
        self.name = path.name
        self.lock = threading.Lock()      # the server is threaded; one llama context is not

    def prompt_tokens(self, text: str):
        with self.lock:
            return self._prompt_tokens(text)

    def _prompt_tokens(self, text: str):
        llm = self.llm
        toks = llm.tokenize(text.encode(), add_bos=True, special=True)
        llm.reset()
        llm.eval(toks)
        scores = np.asarray(llm.scores[:len(toks)], dtype=np.float64)
        lse = np.log(np.exp(scores - scores.max(1, keepdims=True)).sum(1)) + scores.max(1)
        out, done = [], b""
        for k in range(1, len(toks)):            # toks[0] is the BOS the server adds: not echoed
            piece = llm.detokenize([toks[k]], prev_tokens=toks[:k], special=True)
            off = len(done.decode("utf-8", errors="ignore"))
            done += piece
            out.append((off, piece.decode("utf-8", errors="replace"), toks[k], float(scores[k - 1, toks[k]] - lse[k - 1])))
        return out


def make_lm():
    try:
        import llama_cpp  # noqa: F401

        from callforge.core.model_files import default_gguf
        return GgufLM(default_gguf())
    except Exception:
        return ToyLM()


class Server:
    def __init__(self, lm, fault: str | None = None):
        self.lm, self.fault, self.sent = lm, fault, {}
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if srv.fault == "500" or self.path != "/v1/completions":
                    self.send_response(500)
                    self.end_headers()
                    return
                data = json.dumps(srv.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def answer(self, body: dict) -> dict:
        text = body["prompt"]
        toks = self.lm.prompt_tokens(text)
        self.sent[text] = toks
        choice = {"index": 0, "text": " ok", "finish_reason": "length", "logprobs": None}
        if body.get("echo"):
            gen = [(len(text), " ok", 1, -0.5)]               # the generated token follows the prompt
            shift = 3 if self.fault == "shift" else 0
            choice["text"] = text + " ok"
            choice["logprobs"] = {"tokens": [t for _, t, _, _ in toks + gen],
                                  "token_logprobs": [lp for _, _, _, lp in toks + gen],
                                  "text_offset": [o + shift for o, _, _, _ in toks + gen], "top_logprobs": None}
        if body.get("prompt_logprobs") is not None:
            choice["prompt_logprobs"] = [None] + [
                {str(i): {"logprob": lp if lp is not None else -1.0, "rank": 1,
                          "decoded_token": t + ("x" if self.fault == "shift" else "")}}
                for _, t, i, lp in toks]
        return {"id": "cmpl-1", "object": "text_completion", "created": 0, "model": body["model"],
                "choices": [choice], "usage": {"prompt_tokens": len(toks), "completion_tokens": 1,
                                               "total_tokens": len(toks) + 1}}

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def lm():
    return make_lm()


def expected(server: Server, sample: dict, fmt: str, mode: str) -> np.ndarray:
    """What the server sent for the response tokens, read straight from its record."""
    r = render(sample, fmt, bos=False)
    toks = server.sent[r.text]
    starts = [a for a, _ in r.response_spans()]
    ends = [z for _, z in r.response_spans()]
    picked = [lp if lp is not None else -1.0 for o, _, _, lp in toks
              if any(a <= o < z for a, z in zip(starts, ends))]
    return -np.asarray(picked)


@pytest.mark.parametrize("mode", ["echo", "prompt_logprobs"])
def test_parsed_nll_matches_what_the_server_sent(lm, mode):
    fmt = "gemma"
    data = samples() if isinstance(lm, ToyLM) else samples()[:2]   # a real model is slow at logits_all
    with Server(lm) as srv, RemoteScorer(srv.base_url, "target", fmt, mode=mode, max_retries=0, timeout_s=600) as sc:
        got = sc.token_nlls(data)
    for s, ts, rec in zip(data, got, map(sc.record, got)):
        assert ts.id == s["id"] and ts.error is None
        want = expected(srv, s, fmt, mode)
        assert want.size > 3
        np.testing.assert_allclose(ts.nll, want, rtol=0, atol=1e-9)
        assert rec["response_tokens"] == want.size and rec["backend"] == "remote" and rec["model"] == "target"
        assert abs(rec["loss"] - want.mean()) < 1e-6


def test_remote_agrees_with_local_scorer_on_the_same_model(lm):
    if not isinstance(lm, GgufLM):
        pytest.skip("the local extra is not installed")
    from callforge.complexity.local import LocalScorer
    data = samples()[:2]
    with Server(lm) as srv, RemoteScorer(srv.base_url, "target", "gemma", max_retries=0, timeout_s=600) as sc:
        remote = sc.token_nlls(data)
    with LocalScorer(n_ctx=1024) as local:
        near = local.token_nlls(data)
    for r, l in zip(remote, near):
        assert r.nll.shape == l.nll.shape
        np.testing.assert_allclose(r.nll, l.nll, atol=1e-3)


@pytest.mark.parametrize("fault,mode,reason", [("500", "echo", "request_failed"), ("shift", "echo", "offset_mismatch"),
                                               ("shift", "prompt_logprobs", "offset_mismatch")])
def test_server_faults_give_reason_codes(fault, mode, reason):
    data = samples()[:2]
    with Server(ToyLM(), fault) as srv, RemoteScorer(srv.base_url, "t", "gemma", mode=mode, max_retries=0) as sc:
        recs = sc.score(data)
    assert [r["error"] for r in recs] == [reason, reason]
    assert all(r["loss"] is None for r in recs)
