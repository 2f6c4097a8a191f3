"""Fine-tuning and local-inference figures for planning the `cpu` budget profile.

Measured on the packaged gemma-3-270m (extra `train`), in one run:
  load         cold: GGUF de-quantised by transformers (a fresh cache folder); cached: the converted
               folder callforge keeps (what every later run pays)
  train        LoRA rank 16 on all linear modules, 2 optimizer steps x 4 sequences of ~335 tokens
               (BFCL-shaped dialogs, bench/bfcl_dialogs.py), side by side:
                 masked_head - logits only at labelled positions (callforge.finetune.train.token_losses)
                 full_head   - logits at every position, the usual HF loss (the baseline)
  generate     greedy answers to BFCL simple_python questions: prefill and decode tokens/s at
               batch 1 and batch 16 (decode is bound by a per-step cost, so batching pays)
Each figure is given per wall-second and per CPU-second of this process: on a shared machine the
wall figure drops with the load; CPU-seconds stay comparable (run with OMP_WAIT_POLICY=PASSIVE, or
2 threads spin-wait on each other under load). Needs ../shared/bfcl. Not a test: no targets fail.
"""
from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_BFCL = ROOT.parent / "shared" / "bfcl"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Timer:
    def __enter__(self):
        self.w, self.c = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w, _cpu() - self.c


def _rate(n: float, t: Timer) -> dict:
    return {"per_wall_s": round(n / t.wall, 1), "per_cpu_s": round(n / t.cpu, 1), "wall_s": round(t.wall, 2)}


def run() -> dict:
    import torch

    from callforge.finetune import base_model, train as finetune
    from callforge.calling.bfcl import load_benchmark
    from callforge.evaluate.accuracy import question
    from callforge.evaluate.inference import HFGenerator
    from callforge.finetune.train_data import build_examples

    sys.path.insert(0, str(Path(__file__).parent))
    from bfcl_dialogs import bfcl_samples

    out: dict = {"threads": torch.get_num_threads(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}
    with tempfile.TemporaryDirectory() as cold:
        old = os.environ.get("CALLFORGE_CACHE")
        os.environ["CALLFORGE_CACHE"] = cold
        with Timer() as t:
            base_model.load("packaged", "auto", "auto")
        out["load_cold_s"] = round(t.wall, 1)
        with Timer() as t:
            loaded = base_model.load("packaged", "auto", "auto")
        out["load_cached_s"] = round(t.wall, 1)
        if old is None:
            del os.environ["CALLFORGE_CACHE"]
        else:
            os.environ["CALLFORGE_CACHE"] = old
    out["dtype"] = str(loaded.model.dtype).replace("torch.", "")

    samples = bfcl_samples(SHARED_BFCL, per_category=30)
    examples, _ = build_examples(samples, loaded.tokenizer, "gemma", 512, 8, seed=0)
    from callforge.core.config import compose, validate
    s = validate(compose(["finetune=cpu", "finetune.max_steps=2", "finetune.batch_size=4",
                          "finetune.micro_batch=1"])).finetune
    masked = finetune.token_losses

    def full_head(model, batch, pad, device):
        ids, labels, mask = finetune._collate(batch, pad, device)
        logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits[:, :-1]
        t = labels[:, 1:].reshape(-1)
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), t,
                                                reduction="none", ignore_index=-100)
        return nll[t != -100]

    train = {}
    for name, fn in (("masked_head", masked), ("full_head", full_head)):
        fresh = base_model.load("packaged", "auto", "auto")
        finetune.token_losses = fn
        try:
            with Timer() as t, tempfile.TemporaryDirectory() as d:
                res = finetune.train(examples, fresh, s, 0, d)
        finally:
            finetune.token_losses = masked
        train[name] = {"tokens": res.metrics["tokens"], **_rate(res.metrics["tokens"], t)}
    train["masked_over_full"] = round(train["masked_head"]["per_cpu_s"] / train["full_head"]["per_cpu_s"], 2)
    out["train_rank16_tokens"] = train

    entries = load_benchmark(["simple_python"], per_category=16, seed=0, source=SHARED_BFCL)["simple_python"]
    qs = [question(e) for e in entries]
    gen = {}
    g = HFGenerator(loaded.model, loaded.tokenizer, "gemma", max_new_tokens=32, batch_size=16)
    ids = loaded.tokenizer(g.prompt_text(qs[0]), add_special_tokens=False, return_tensors="pt").input_ids
    with torch.no_grad(), Timer() as t:
        loaded.model(input_ids=ids, logits_to_keep=1)
    gen["prefill_tokens"] = _rate(ids.shape[1], t)
    for bs in (1, 16):
        g = HFGenerator(loaded.model, loaded.tokenizer, "gemma", max_new_tokens=32, batch_size=bs)
        with Timer() as t:
            g.generate(qs[:bs])
        gen[f"batch{bs}_new_tokens"] = {"prompts": bs, "new_tokens": g.stats["new_tokens"],
                                        **_rate(g.stats["new_tokens"], t)}
    out["generate"] = gen
    return out


if __name__ == "__main__":
    from common import main
    main("finetune", run)
