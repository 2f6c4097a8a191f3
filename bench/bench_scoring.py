"""Complexity-scoring throughput vs raw llama.cpp prompt evaluation, side by side in one run.

Same model (the packaged gemma-3-270m GGUF), same context, same threads, same ~50 samples:
  raw      — llama-cpp-python's own `Llama.eval` over each sample's tokens from an empty KV cache,
             logits only for the last token (plain prompt processing: the speed ceiling);
  scoring  — `LocalScorer.token_nlls` end to end as the stage runs it by default (render, tokenize,
             sort, decode with logits at response positions only, exact full-vocabulary log-softmax there);
  scoring_reuse — the same with opt-in KV prefix reuse (shows what reuse contributes on this data).
Throughput counts every token of every sample, for all three. The routes alternate chunk by chunk.
Target: scoring / raw >= 0.7.

Samples: data/dialogs.jsonl when the dialog stage has run (CALLFORGE_BENCH_SAMPLES overrides),
else ~50 BFCL entries (tools + ground-truth calls) rendered as dialog samples (bench/bfcl_dialogs.py).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

N_SAMPLES = int(os.environ.get("CALLFORGE_BENCH_N", "50"))   # samples (each scored by all three routes)
ROUNDS = 1
CHUNK = 5


def load_samples(n: int = N_SAMPLES) -> tuple[list[dict], str]:
    path = Path(os.environ.get("CALLFORGE_BENCH_SAMPLES", "data/dialogs.jsonl"))
    if path.is_file():
        rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        return rows[:n], str(path)
    from bfcl_dialogs import bfcl_samples
    bfcl = Path(__file__).resolve().parents[2] / "shared" / "bfcl"
    if not bfcl.is_dir():
        raise SystemExit(f"no samples: neither {path} nor {bfcl} exists")
    return bfcl_samples(bfcl)[:n], "bfcl (tools + ground-truth calls as dialogs)"


def run() -> dict:
    import llama_cpp

    from callforge.complexity.local import LocalScorer

    samples, source = load_samples()
    sc = LocalScorer(n_ctx=4096)
    encs = [sc.encode(s) for s in samples]
    n_resp = sum(int(e.response[1:].sum()) for e in encs)
    # The scorer's own order (sorted by tokens), cut into chunks; per chunk the three routes run back
    # to back in rotating order, so load from other processes hits all three alike.
    order = sorted(range(len(samples)), key=lambda i: (encs[i].tokens.tobytes(), samples[i]["id"]))
    chunks = [order[a:a + CHUNK] for a in range(0, len(order), CHUNK)]

    def raw(idx) -> float:
        sc.reset()
        t0 = time.perf_counter()
        for i in idx:
            sc.llm.n_tokens = 0          # Llama.eval drops the cache from n_tokens on
            sc.llm.eval(encs[i].tokens.tolist())
        return time.perf_counter() - t0

    def scoring(idx, reuse: bool) -> float:
        sc.reset()
        sc.reuse_prefix = reuse
        t0 = time.perf_counter()
        res = sc.token_nlls([samples[i] for i in idx])
        dt = time.perf_counter() - t0
        assert all(r.error is None for r in res), [r.error for r in res if r.error]
        return dt

    sc.llm.eval(encs[0].tokens.tolist()[:64])     # warm up (first decode allocates buffers)
    routes = {"raw": raw, "scoring": lambda idx: scoring(idx, False), "reuse": lambda idx: scoring(idx, True)}
    names = list(routes)
    secs = dict.fromkeys(names, 0.0)
    tokens = dict.fromkeys(names, 0)
    reused = 0
    cpu0 = time.process_time()
    for _ in range(ROUNDS):
        for k, idx in enumerate(chunks):
            n = sum(len(encs[i].tokens) for i in idx)
            for name in names[k % 3:] + names[:k % 3]:
                sc.stats = {"tokens": 0, "evaluated": 0, "reused": 0}
                secs[name] += routes[name](idx)
                tokens[name] += n
                if name == "reuse":
                    reused += sc.stats["reused"]
    tps = {k: tokens[k] / secs[k] for k in names}
    sc.close()
    return {
        "model": sc.model, "llama_cpp_python": llama_cpp.__version__, "threads": os.cpu_count(),
        "samples": len(samples), "sample_source": source,
        "tokens": sum(len(e.tokens) for e in encs),
        "response_token_share": round(n_resp / sum(len(e.tokens) for e in encs), 4),
        "reused_token_share_with_reuse": round(reused / tokens["reuse"], 4),
        "raw_prompt_eval_tok_s": round(tps["raw"], 1),
        "scoring_tok_s": round(tps["scoring"], 1),
        "scoring_reuse_tok_s": round(tps["reuse"], 1),
        "ratio": round(tps["scoring"] / tps["raw"], 3),
        "ratio_with_reuse": round(tps["reuse"] / tps["raw"], 3),
        "target_ratio": 0.7,
        "rounds": ROUNDS, "chunk": CHUNK,
        "load_avg_1m": round(os.getloadavg()[0], 2),   # >cores: other processes shared the CPU
        "cpu_s": round(time.process_time() - cpu0, 1),
    }


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import main
    main("scoring", run)
