"""`callforge ablation [--preset cpu|gpu] [overrides]`: train and evaluate one model per subset.

Shared work happens once: `dvc repro export` brings the subsets up to date (a no-op when they are, DVC's
cache restores the rest), the base model is evaluated once, and the BFCL questions are the evaluate stage's
(evaluate.bfcl: `per_category` for generation, `nll_per_category` for gold NLL, seeded), the same for every
subset. Per subset: LoRA fine-tuning (callforge.finetune.train) on data/export/<subset>/openai.jsonl, gold NLL
of the peft model, greedy answers through evaluate.engine. Each finished subset is saved with the digest of
everything that shapes it (its training file's md5, the finetune and evaluate sections, the seed, the base
model), so an interrupted ablation resumes where it stopped and a changed input is never reused.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import OmegaConf

from callforge.core import io

PRESETS = Path("conf/ablation")
OUT = Path("data/ablation")
SECTIONS = ("finetune", "evaluate")     # what an ablation override may change: everything upstream is shared


class AblationError(ValueError):
    pass


def load_preset(name: str) -> dict:
    path = PRESETS / f"{name}.yaml"
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in PRESETS.glob("*.yaml")))
        raise AblationError(f"ablation preset {name!r}: no {path} (have: {have})")
    p = OmegaConf.to_container(OmegaConf.load(path))
    for key, kind in (("subsets", list), ("baseline", str), ("overrides", list)):
        if not isinstance(p.get(key), kind):
            raise AblationError(f"{path}: {key} must be a {kind.__name__}")
    if p["baseline"] not in p["subsets"]:
        raise AblationError(f"{path}: baseline {p['baseline']!r} is not among subsets")
    return p


def check_overrides(overrides: list[str]) -> None:
    for o in overrides:
        section = o.lstrip("+~").split("=", 1)[0].split(".", 1)[0]
        if section not in SECTIONS:
            raise AblationError(f"ablation override {o!r}: only {' / '.join(SECTIONS)} may change; upstream work "
                                "is shared (change conf/ and run `dvc repro` for another dataset)")


def digest(obj) -> str:
    return hashlib.md5(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def main(preset: str, extra: list[str], log=print) -> dict:
    from callforge.core.config import as_dict, compose, load_params, validate

    p = load_preset(preset)
    overrides = list(p["overrides"]) + list(extra)
    check_overrides(overrides)
    cfg = validate(compose(overrides))
    current = as_dict(load_params("params.yaml"))
    stale = [k for k, v in as_dict(cfg).items() if k not in SECTIONS + ("run_name", "config_check") and current.get(k) != v]
    if stale:
        raise AblationError(f"params.yaml is stale against conf/ in {stale[0]}: run `callforge params`")
    t0 = time.perf_counter()
    log("ablation: dvc repro export (shared upstream work; a no-op when up to date)")
    subprocess.run(["dvc", "repro", "export"], check=True)
    for s in p["subsets"]:
        if not Path(f"data/export/{s}/openai.jsonl").is_file():
            raise AblationError(f"subset {s!r}: data/export/{s}/openai.jsonl not found (split.* names the subsets)")

    from callforge.ablation import table
    from callforge.evaluate.stage import bfcl_questions, gold_questions
    from callforge.finetune import base_model

    seed = int(cfg.seed)
    entries = bfcl_questions(cfg.evaluate.bfcl, seed)
    gold = gold_questions(cfg.evaluate.bfcl, seed) if cfg.evaluate.bfcl.nll_per_category != 0 else []
    kind, _, sha = base_model.resolve(cfg.finetune.base_model)
    shared_key = {"finetune": as_dict(cfg.finetune), "evaluate": as_dict(cfg.evaluate), "seed": seed, "base": sha,
                  "questions": [e.id for e in entries], "gold": [e.id for e in gold]}
    results = {"base": cached_or(OUT / "base", digest({**shared_key, "model": "base"}), log,
                                 lambda: evaluate_model(cfg, None, entries, gold, log))}
    for s in p["subsets"]:
        train_file = Path(f"data/export/{s}/openai.jsonl")
        key = digest({**shared_key, "model": s, "train_md5": io.md5_file(train_file)})
        results[s] = cached_or(OUT / s, key, log, lambda: evaluate_model(cfg, train_file, entries, gold, log))
    tab = table.build(results, p["subsets"], p["baseline"], entries)
    tab["preset"], tab["overrides"] = preset, overrides
    tab["settings"] = {"finetune": as_dict(cfg.finetune), "evaluate": {k: v for k, v in as_dict(cfg.evaluate).items()
                                                                      if k != "server"}, "seed": seed}
    table.write(tab)
    # timings vary from run to run: beside the data (untracked) and in MLflow, never in metrics/
    runtime = {"wall_s": round(time.perf_counter() - t0, 1),
               "models": {name: {"wall_s": r.get("wall_s"), "reused": r.get("reused", False)}
                          for name, r in results.items()}}
    io.write_json(OUT / "runtime.json", runtime)
    table.log_mlflow(cfg, tab, runtime)
    return {**tab, "runtime": runtime}


def cached_or(folder: Path, key: str, log, compute) -> dict:
    """The saved result in `folder` when it was made from the same inputs (key); else compute and save it."""
    path = folder / "result.json"
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            log(f"ablation: {folder.name}: reused ({path})")
            return {**saved, "reused": True}
    log(f"ablation: {folder.name}: training and evaluating" if folder.name != "base" else "ablation: base: evaluating")
    t0 = time.perf_counter()
    out = {"key": key, **compute(), "wall_s": None}
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    io.write_json(path, out)
    log(f"ablation: {folder.name}: done in {out['wall_s']} s, accuracy {out['accuracy']['overall']['accuracy']}")
    return out


def evaluate_model(cfg, train_file: Path | None, entries: list, gold: list, log) -> dict:
    """Train on train_file (None: the base model as is), then answer `entries` and score `gold`."""
    from callforge.evaluate import gold_nll
    from callforge.evaluate.accuracy import judge, question, summarise
    from callforge.evaluate.inference import HFGenerator
    from callforge.evaluate.llama_cpp_generate import llama_cpp_generators
    from callforge.finetune import base_model
    from callforge.finetune.train import chat_token_ids, train
    from callforge.finetune.train_data import build_examples, read_openai_jsonl

    c, e, seed = cfg.finetune, cfg.evaluate, int(cfg.seed)
    loaded = base_model.load(c.base_model, c.device, c.dtype)
    fmt = base_model.chat_format_for(loaded, c.chat_format)
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix=".ablation.", dir=OUT.parent if OUT.parent.is_dir() else None) as scratch:
        model, adapter = loaded.model, None
        if train_file is not None:
            samples, bad = read_openai_jsonl(train_file)
            examples, skipped = build_examples(samples, loaded.tokenizer, fmt, c.max_seq_len, c.max_samples, seed)
            adapter = Path(scratch) / "adapter"
            res = train(examples, loaded, c, seed, adapter, token_ids=chat_token_ids(loaded.tokenizer, fmt),
                        progress=lambda row: log(f"  step {row['step']}: loss {row['loss']:.4f}"))
            model = res.model
            out["train"] = {"samples": len(samples), "examples": len(examples), "steps": res.metrics["steps"],
                            "first_loss": res.metrics["first_loss"], "final_loss": res.metrics["final_loss"],
                            "skipped": dict(bad + skipped)}
        hf = HFGenerator(model, loaded.tokenizer, fmt, max_new_tokens=e.max_new_tokens, batch_size=e.batch_size,
                         adapter=adapter is not None)
        if e.engine == "llama_cpp":
            gens, _ = llama_cpp_generators(c, str(adapter) if adapter else None, loaded.tokenizer, fmt, scratch,
                                           max_new_tokens=e.max_new_tokens, batch_size=e.batch_size,
                                           max_prompt_tokens=e.max_prompt_tokens, base=adapter is None)
            gen = next(iter(gens.values()))
        else:
            gen = hf
        answers = gen.generate([question(q) for q in entries])
        if gen is not hf:
            gen.close()
        records = [judge(q, a) for q, a in zip(entries, answers)]
        out["accuracy"] = summarise(records)
        out["records"] = [{k: r[k] for k in ("id", "category", "ok", "reason", "answer")} for r in records]
        if gold:
            scorer = gold_nll.NllScorer(model, loaded.tokenizer, fmt, adapter=adapter is not None,
                                        batch_size=e.nll_batch_size)
            encoded, skipped = gold_nll.encode_gold(gold, loaded.tokenizer, fmt)
            scores = scorer.score([ex for _, ex, _ in encoded])
            out["gold"] = [{"id": q.id, "category": q.category, "nll": round(s["nll"], 6),
                            "nll_call": round(s["nll_call"], 6)} for (q, _, _), s in zip(encoded, scores)]
    return out


def cli(preset: str, overrides: list[str]) -> None:
    try:
        tab = main(preset, overrides, log=lambda m: print(m, file=sys.stderr, flush=True))
    except AblationError as err:
        sys.exit(f"callforge ablation: {err}")
    from callforge.ablation.table import MD

    print(Path(MD).read_text())
    print(f"({tab['runtime']['wall_s']} s; metrics/ablation.md, .json, .png; timings in {OUT}/runtime.json)", file=sys.stderr)
