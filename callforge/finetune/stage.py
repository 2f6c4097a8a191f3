"""Stage `finetune`: LoRA fine-tuning of the base model on one exported training subset.

Reads data/export/<finetune.subset>/openai.jsonl; writes models/adapter/ (a peft LoRA adapter:
adapter_config.json + adapter_model.safetensors), metrics/finetune_loss.json (the loss per optimizer
step, a DVC plot) and metrics/finetune.json (tokens/s, the settings used). The settings are the config
section `finetune`: `finetune=cpu` (the default, a capped budget) or `finetune=full` (ToolACE's recipe).
Needs the extra `train`.
"""
from __future__ import annotations

import os
import shutil
import sys

from omegaconf import OmegaConf

from callforge.core import io
from callforge.finetune import base_model
from callforge.finetune.train import chat_token_ids, train
from callforge.finetune.train_data import build_examples, read_openai_jsonl

OUT = "models/adapter"
LOSS_PLOT = "metrics/finetune_loss.json"


def run(cfg, ctx) -> dict:
    c, seed = cfg.finetune, int(cfg.seed)
    train_file = ctx.path(f"data/export/{c.subset}/openai.jsonl")
    if not train_file.is_file():
        sys.exit(f"callforge finetune: config error: finetune.subset: {train_file} not found (run export)")
    samples, bad_lines = read_openai_jsonl(train_file)

    loaded = base_model.load(c.base_model, c.device, c.dtype)
    fmt = base_model.chat_format_for(loaded, c.chat_format)
    examples, skipped = build_examples(samples, loaded.tokenizer, fmt, c.max_seq_len, c.max_samples, seed)
    end_token = chat_token_ids(loaded.tokenizer, fmt)

    out = ctx.path(OUT)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = io.mkdtemp_public(prefix=".adapter.", dir=out.parent)
    bar = ctx.progress(None, desc="finetune steps")
    try:
        result = train(examples, loaded, c, seed, tmp, progress=lambda row: _step_done(bar, row),
                       token_ids=end_token)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)                  # a half-written adapter never sits at OUT
    finally:
        bar.close()
        shutil.rmtree(tmp, ignore_errors=True)
    ctx.outputs[str(out)] = io.md5_file(out)
    ctx.write_json(ctx.path(LOSS_PLOT), {"loss_curve": result.metrics["loss_curve"]})
    ctx.artifacts.append(LOSS_PLOT)

    return {
        **result.metrics,
        "chat_format": fmt, "trained_token_rows": end_token, "load_s": loaded.load_s,
        "load_from_cache": loaded.from_cache, "input_samples": len(samples),
        "skipped": dict(sorted((bad_lines + skipped).items())),
        "subset": c.subset,
        # the training settings as used (the subset is reported above)
        "settings": {**{k: v for k, v in OmegaConf.to_container(c).items() if k != "subset"}, "seed": seed},
    }


def _step_done(bar, row: dict) -> None:
    bar.set_postfix(loss=f"{row['loss']:.4f}", lr=f"{row['lr']:.2e}", refresh=False)
    bar.update()
