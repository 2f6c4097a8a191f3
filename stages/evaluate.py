"""Stage `evaluate`: function-calling accuracy of the base and the fine-tuned model, side by side.

Questions: real BFCL categories (evaluate.bfcl.categories, read out of the bfcl-eval wheel, fetched
on demand and cached; evaluate.bfcl.per_category per category, seeded) and callforge's held-out
split (data/export/eval_bfcl, BFCL layout, evaluate.heldout_per_category per category).
Answers: evaluate.backend=local generates with the base model and with base + models/adapter
(transformers, greedy); backend=server asks an OpenAI-compatible server for the models named
evaluate.server.base_model and evaluate.server.finetuned_model (e.g. vLLM with --lora-modules).
Writes metrics/evaluate.json ({"bfcl": report, "heldout": report}, see callforge.evaluate.accuracy) and
data/evaluate/answers.jsonl (every answer with its verdict and reason).
"""
from __future__ import annotations

import sys
from pathlib import Path

from callforge.calling import bfcl
from callforge.core import io
from callforge.core.config import shared_path
from callforge.evaluate.accuracy import evaluate
from callforge.core.stage import stage_run

ADAPTER = Path("models/adapter")
HELDOUT = Path("data/export/eval_bfcl")
ANSWERS = "data/evaluate/answers.jsonl"


def questions(c, seed: int) -> dict[str, list]:
    out = {"bfcl": [], "heldout": []}
    if c.bfcl.categories:
        try:
            bench = bfcl.load_benchmark(list(c.bfcl.categories), c.bfcl.per_category, seed,
                                        source=c.bfcl.source, cache_dir=c.bfcl.cache_dir)
        except bfcl.BfclError as e:
            sys.exit(f"callforge evaluate: {e}")
        out["bfcl"] = [e for cat in c.bfcl.categories for e in bench[cat]]
    if c.heldout and HELDOUT.is_dir():
        with bfcl.Source(HELDOUT) as src:
            for cat in src.categories():
                out["heldout"] += bfcl.subsample(src.load(cat), c.heldout_per_category, seed)
    return out


def generators(st):
    c = st.cfg.evaluate
    if c.backend == "local":
        from callforge.finetune.base_model import ModelError
        from callforge.evaluate.inference import local_generators
        ft = st.cfg.finetune
        try:
            return local_generators(ft.base_model, str(ADAPTER), chat_format=ft.chat_format, device=ft.device,
                                    max_new_tokens=c.max_new_tokens, batch_size=c.batch_size)
        except ModelError as e:
            sys.exit(f"callforge evaluate: {e}")
    if c.backend == "server":
        from callforge.evaluate.inference import ServerGenerator
        s = c.server
        if not (s.base_url and s.base_model and s.finetuned_model):
            sys.exit("callforge evaluate: config error: evaluate.server needs base_url, base_model, finetuned_model")
        cache = shared_path(st.cfg.cache_dir)
        gens = {name: ServerGenerator(s.base_url, model, cache, seed=int(st.cfg.seed), max_tokens=c.max_new_tokens,
                                      api_key_env=s.api_key_env, concurrency=s.concurrency, timeout_s=s.timeout_s)
                for name, model in (("base", s.base_model), ("finetuned", s.finetuned_model))}
        return gens, {"base_url": s.base_url, "base_model": s.base_model, "finetuned_model": s.finetuned_model}
    sys.exit(f"callforge evaluate: config error: evaluate.backend: {c.backend!r} is not local or server")


def main() -> None:
    with stage_run("evaluate") as st:
        c, seed = st.cfg.evaluate, int(st.cfg.seed)
        sets = questions(c, seed)
        if not any(sets.values()):
            sys.exit("callforge evaluate: no questions: evaluate.bfcl.categories is empty and no held-out split")
        gens, info = generators(st)
        rows = []
        for name, entries in sets.items():
            if not entries:
                continue
            report, records = evaluate(gens, entries)
            st.stats[name] = report
            rows += [{"set": name, "model": model, **r} for model, recs in records.items() for r in recs]
        for g in gens.values():
            if hasattr(g, "close"):
                g.close()
        st.write_jsonl(ANSWERS, rows)
        st.stats["backend"] = c.backend
        st.stats["models"] = info
        if c.backend == "local":          # which adapter these figures are for (= dvc.lock's md5 of models/adapter)
            st.stats["models"]["adapter_md5"] = io.md5_file(ADAPTER)
        st.stats["generation"] = {name: getattr(g, "stats", None) or getattr(g, "failures", {})
                                  for name, g in gens.items()}


if __name__ == "__main__":
    main()
