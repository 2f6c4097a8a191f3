"""Stage `evaluate`: function-calling accuracy of the base and the fine-tuned model, side by side.

Questions: real BFCL categories (evaluate.bfcl.categories, read out of the bfcl-eval wheel, fetched
on demand and cached; evaluate.bfcl.per_category per category, seeded) and callforge's held-out
split (data/export/eval_bfcl, BFCL layout, evaluate.heldout_per_category per category).
Answers: evaluate.backend=local generates with the base model and with base + models/adapter
(transformers, greedy); backend=server asks an OpenAI-compatible server for the models named
evaluate.server.base_model and evaluate.server.finetuned_model (e.g. vLLM with --lora-modules).
Gold-call NLL (callforge.evaluate.gold_nll): no generation, one forward pass per question, so it runs on
a larger seeded BFCL subsample (evaluate.bfcl.nll_per_category per category with an answer key; it holds
the per_category questions), base and base + adapter, paired.
Writes metrics/evaluate.json ({"bfcl": report, "heldout": report}, see callforge.evaluate.accuracy; the
bfcl report also holds "gold_nll"), data/evaluate/answers.jsonl (every answer with its verdict and reason)
and data/evaluate/gold_nll.jsonl (every gold-NLL question: the reference answer, its token counts, and each
model's NLL; empty where gold NLL is not available).
"""
from __future__ import annotations

import shutil
import sys

from callforge.calling import bfcl
from callforge.core import io
from callforge.evaluate import gold_nll
from callforge.evaluate.accuracy import evaluate
from callforge.evaluate.inference import ServerGenerator, local_generators
from callforge.evaluate.llama_cpp_generate import llama_cpp_generators

ADAPTER = "models/adapter"
HELDOUT = "data/export/eval_bfcl"
ANSWERS = "data/evaluate/answers.jsonl"
GOLD_NLL = "data/evaluate/gold_nll.jsonl"


def run(cfg, ctx) -> dict:
    c, seed = cfg.evaluate, int(cfg.seed)
    sets = {"bfcl": bfcl_questions(c.bfcl, seed), "heldout": []}
    heldout = ctx.path(HELDOUT)
    if c.heldout and heldout.is_dir():
        sets["heldout"] = heldout_questions(heldout, c.heldout_per_category, seed)
    if not any(sets.values()):
        sys.exit("callforge evaluate: no questions: evaluate.bfcl.categories is empty and no held-out split")

    ctx.path(ANSWERS).parent.mkdir(parents=True, exist_ok=True)
    scratch = io.mkdtemp_public(prefix=".evaluate.", dir=ctx.path(ANSWERS).parent)   # the merged GGUF
    try:
        return _evaluate(cfg, ctx, sets, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _evaluate(cfg, ctx, sets: dict, scratch: str) -> dict:
    c, seed = cfg.evaluate, int(cfg.seed)
    hf = {}
    if c.backend == "local":
        adapter = ctx.path(ADAPTER)
        hf, models = local_generators(cfg.finetune, str(adapter), max_new_tokens=c.max_new_tokens,
                                      batch_size=c.batch_size)
        models["adapter_md5"] = io.md5_file(adapter)   # which adapter these figures are for (= dvc.lock's md5)
        gens = hf
        if c.engine == "llama_cpp":
            g = hf["base"]
            try:
                gens, merged = llama_cpp_generators(cfg.finetune, str(adapter), g.tok, g.fmt, scratch,
                                                    max_new_tokens=c.max_new_tokens, batch_size=c.batch_size,
                                                    max_prompt_tokens=c.max_prompt_tokens)
            except ValueError as e:
                sys.exit(f"callforge evaluate: config error: {e}")
            models.update(merged)
    else:
        gens, models = server_generators(c, ctx.cache_dir, seed)

    stats, rows = {}, []
    for name, entries in sets.items():
        if not entries:
            continue
        report, records = evaluate(gens, entries)
        stats[name] = report
        rows += [{"set": name, "model": model, **r} for model, recs in records.items() for r in recs]
    nll_rows = []
    if c.bfcl.categories and c.bfcl.nll_per_category != 0:
        nll, rows_ = gold_nll_report(c, hf or gens, seed)
        stats.setdefault("bfcl", {})["gold_nll"] = nll
        nll_rows += [{"set": "bfcl", **r} for r in rows_]
    scorers = gold_nll.scorers_for(hf or gens, c.nll_batch_size)
    if sets["heldout"] and scorers:        # the held-out split's own answers (callforge data, BFCL layout)
        g = next(iter((hf or gens).values()))
        nll, rows_ = gold_nll.report(scorers, sets["heldout"], g.fmt, g.tok)
        stats["heldout"]["gold_nll"] = nll
        nll_rows += [{"set": "heldout", **r} for r in rows_]
    for g in gens.values():
        if hasattr(g, "close"):
            g.close()
    ctx.write_jsonl(ctx.path(ANSWERS), rows)
    ctx.write_jsonl(ctx.path(GOLD_NLL), nll_rows)
    return {**stats, "backend": c.backend, "engine": c.engine if c.backend == "local" else None, "models": models,
            "generation": {name: getattr(g, "stats", None) or getattr(g, "failures", {}) for name, g in gens.items()}}


def bfcl_questions(c, seed: int) -> list:
    """The BFCL questions of evaluate.bfcl, category by category."""
    if not c.categories:
        return []
    try:
        bench = bfcl.load_benchmark(list(c.categories), c.per_category, seed, source=c.source, cache_dir=c.cache_dir)
    except bfcl.BfclError as e:
        sys.exit(f"callforge evaluate: {e}")
    return [e for cat in c.categories for e in bench[cat]]


def gold_nll_report(c, gens: dict, seed: int) -> tuple[dict, list[dict]]:
    """Gold-call NLL of the models behind `gens` on evaluate.bfcl.nll_per_category questions per BFCL
    category with an answer key: (report, per-question rows); "not available" for a server backend."""
    scorers = gold_nll.scorers_for(gens, c.nll_batch_size)
    if scorers is None:
        return gold_nll.not_available(gold_nll.SERVER_REASON), []
    entries = gold_questions(c.bfcl, seed)
    if not entries:
        return gold_nll.not_available("no category of evaluate.bfcl.categories has an answer key"), []
    g = next(iter(gens.values()))
    return gold_nll.report(scorers, entries, g.fmt, g.tok)


def gold_questions(c, seed: int) -> list:
    """The gold-NLL questions of evaluate.bfcl (c): nll_per_category per category with an answer key."""
    cats = [k for k in c.categories if not bfcl.no_answer(k)]
    if not cats:
        return []
    try:
        bench = bfcl.load_benchmark(cats, c.nll_per_category, seed, source=c.source, cache_dir=c.cache_dir)
    except bfcl.BfclError as e:
        sys.exit(f"callforge evaluate: {e}")
    return [e for k in cats for e in bench[k]]


def heldout_questions(folder, per_category: int | None, seed: int) -> list:
    with bfcl.Source(folder) as src:
        return [e for cat in src.categories() for e in bfcl.subsample(src.load(cat), per_category, seed)]


def server_generators(c, cache_dir, seed: int) -> tuple[dict, dict]:
    """{"base", "finetuned"} answering through evaluate.server, and what they are."""
    s = c.server
    if not (s.base_url and s.base_model and s.finetuned_model):
        sys.exit("callforge evaluate: config error: evaluate.server needs base_url, base_model, finetuned_model")
    gens = {name: ServerGenerator(s, model, max_tokens=c.max_new_tokens, cache_dir=cache_dir, seed=seed)
            for name, model in (("base", s.base_model), ("finetuned", s.finetuned_model))}
    return gens, {"base_url": s.base_url, "base_model": s.base_model, "finetuned_model": s.finetuned_model}
