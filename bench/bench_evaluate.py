"""The evaluate stage's two local engines, side by side in one run (issue #16, item 3).

On the same BFCL questions, the same base model (packaged gemma-3-270m) and the same adapter (models/adapter,
from the workspace's last `dvc repro`):
  generate   greedy answers of base and tuned, max_new_tokens and batch size as conf/evaluate sets them:
               transformers - `generate` on the base model and on the peft model (today's path)
               llama_cpp    - the base GGUF and base + adapter merged into a GGUF (merge time reported
                              apart), questions decoded together (callforge.evaluate.llama_cpp_generate)
             questions/s over both models, and how often the two engines give the same answer
  gold NLL   the answer-token NLL of BFCL's reference answers, same token ids, on both engines: tokens/s
             and the largest per-question difference
Figures per wall-second and per CPU-second (a shared machine moves the first). OMP_WAIT_POLICY=PASSIVE: torch's
threads must not spin while llama.cpp's run. Needs ../shared/bfcl and the extras `train` and `local`.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_BFCL = ROOT.parent / "shared" / "bfcl"
CATEGORIES = ["simple_python", "multiple", "parallel", "irrelevance"]
PER_CATEGORY = 4
NLL_PER_CATEGORY = 4


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(fn):
    w, c = time.perf_counter(), _cpu()
    out = fn()
    return out, time.perf_counter() - w, _cpu() - c


def run() -> dict:
    import numpy as np

    from callforge.calling import bfcl
    from callforge.complexity.local import Encoded, LocalScorer
    from callforge.core.config import compose, validate
    from callforge.evaluate import gold_nll
    from callforge.evaluate.accuracy import evaluate
    from callforge.evaluate.inference import local_generators
    from callforge.evaluate.llama_cpp_generate import llama_cpp_generators
    from callforge.finetune.base_model import resolve
    from callforge.finetune.train_data import IGNORE

    adapter = ROOT / "models" / "adapter"
    if not SHARED_BFCL.is_dir() or not adapter.is_dir():
        return {"skipped": "needs ../shared/bfcl and models/adapter (run `dvc repro` first)"}
    cfg = validate(compose([]))
    c = cfg.evaluate
    bench = bfcl.load_benchmark(CATEGORIES, PER_CATEGORY, 0, source=SHARED_BFCL)
    entries = [e for k in CATEGORIES for e in bench[k]]
    hf, _ = local_generators(cfg.finetune, str(adapter), max_new_tokens=c.max_new_tokens, batch_size=c.batch_size)
    tok, fmt = hf["base"].tok, hf["base"].fmt
    out: dict = {"questions": len(entries), "categories": CATEGORIES, "max_new_tokens": c.max_new_tokens,
                 "batch_size": c.batch_size}

    (rep_hf, rec_hf), w_hf, c_hf = _timed(lambda: evaluate(hf, entries))
    with tempfile.TemporaryDirectory() as scratch:
        (gens, info), w_merge, _ = _timed(lambda: llama_cpp_generators(
            cfg.finetune, str(adapter), tok, fmt, scratch, max_new_tokens=c.max_new_tokens,
            batch_size=c.batch_size, max_prompt_tokens=c.max_prompt_tokens))
        (rep_lc, rec_lc), w_lc, c_lc = _timed(lambda: evaluate(gens, entries))
        merged = Path(scratch) / "finetuned.gguf"

        # gold NLL, the same token ids through both engines
        nll_bench = bfcl.load_benchmark(CATEGORIES[:3], NLL_PER_CATEGORY, 0, source=SHARED_BFCL)
        encoded, _ = gold_nll.encode_gold([e for v in nll_bench.values() for e in v], tok, fmt)
        examples = [ex for _, ex, _ in encoded]
        scorers = gold_nll.scorers_for(hf, 1)
        (nll_hf), w_nhf, c_nhf = _timed(lambda: {n: s.score(examples) for n, s in scorers.items()})
        _, base_path, _ = resolve(cfg.finetune.base_model)
        nll_lc, w_nlc, c_nlc = {}, 0.0, 0.0
        for name, path in (("base", base_path), ("finetuned", merged)):
            scorer = LocalScorer(str(path), None, chat_format=fmt)
            vals, w, cc = _timed(lambda: [float(scorer._score_one(Encoded(
                np.asarray(x.input_ids, dtype=np.int32), np.asarray([lab != IGNORE for lab in x.labels]))).mean())
                for x in examples])
            nll_lc[name], w_nlc, c_nlc = vals, w_nlc + w, c_nlc + cc
            scorer.close()
        for g in gens.values():
            g.close()

    n = 2 * len(entries)
    same = sum(a.get("answer") == b.get("answer") for m in ("base", "finetuned")
               for a, b in zip(rec_hf[m], rec_lc[m]))
    tokens = 2 * sum(len(x.input_ids) for x in examples)
    out["generate"] = {
        "transformers": {"wall_s": round(w_hf, 1), "cpu_s": round(c_hf, 1), "questions_per_s": round(n / w_hf, 3),
                         "questions_per_cpu_s": round(n / c_hf, 3),
                         "accuracy": {m: rep_hf["models"][m]["overall"]["accuracy"] for m in ("base", "finetuned")}},
        "llama_cpp": {"wall_s": round(w_lc, 1), "cpu_s": round(c_lc, 1), "questions_per_s": round(n / w_lc, 3),
                      "questions_per_cpu_s": round(n / c_lc, 3), "merge_s": round(w_merge, 1),
                      "accuracy": {m: rep_lc["models"][m]["overall"]["accuracy"] for m in ("base", "finetuned")}},
        "speedup_wall": round(w_hf / w_lc, 2), "speedup_cpu": round(c_hf / c_lc, 2),
        "speedup_wall_with_merge": round(w_hf / (w_lc + w_merge), 2),
        "same_answer_share": round(same / n, 3), "target_speedup": 3.0,
    }
    diffs = [abs(a["nll"] - b) for m in ("base", "finetuned") for a, b in zip(nll_hf[m], nll_lc[m])]
    out["gold_nll"] = {
        "questions": len(examples), "tokens_scored": tokens,
        "transformers": {"wall_s": round(w_nhf, 1), "tokens_per_s": round(tokens / w_nhf, 1),
                         "tokens_per_cpu_s": round(tokens / c_nhf, 1)},
        "llama_cpp": {"wall_s": round(w_nlc, 1), "tokens_per_s": round(tokens / w_nlc, 1),
                      "tokens_per_cpu_s": round(tokens / c_nlc, 1)},
        "speedup_wall": round(w_nhf / w_nlc, 2), "max_abs_nll_difference": round(max(diffs), 4),
    }
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    from common import main

    main("evaluate", run)
