"""Supervised LoRA fine-tuning (optional extra `train`: torch, transformers, peft, gguf).

Defaults are ToolACE's recipe (../shared/toolace.md §6): LoRA rank 16, alpha 32 on all linear
modules, lr 1e-4, cosine schedule, warmup 0.1, 3 epochs, batch 48 (micro-batches accumulated).
The `cpu` profile caps steps, sequence length and samples so that a run fits a laptop budget; on
a GPU the full recipe runs unchanged (profile `full`).

The loop is a plain one (no Trainer) for one reason: the loss needs logits only where a label is,
so the output projection (262k x 640 for Gemma 3, the largest matrix of a small model) runs on
response tokens only (`logits_to_keep` with a mask). The loss is the mean over all labelled tokens
of an accumulated batch, so micro-batching does not change it.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from callforge.finetune import base_model
from callforge.finetune.train_data import IGNORE, Example, build_examples, read_openai_jsonl


@dataclass
class TrainSettings:
    base_model: str = base_model.PACKAGED
    chat_format: str | None = None           # None: from the model's chat template / architecture
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list = "all-linear"
    lr: float = 1e-4
    scheduler: str = "cosine"                # cosine | linear | constant
    warmup_ratio: float = 0.1
    epochs: float = 3
    batch_size: int = 48                     # sequences per optimizer step
    micro_batch: int = 1                     # sequences per forward pass (accumulated to batch_size)
    max_steps: int | None = None             # caps the optimizer steps the epochs would give
    max_seq_len: int = 2048
    max_samples: int | None = None
    max_grad_norm: float = 1.0
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    threads: int | None = None               # CPU threads; None: all cores


# Budget profiles: overrides on the recipe. `cpu` is planned from figures measured on this project's
# 2-core machines: ~150 training tokens/s (metrics/finetune.json, tokens_per_s) on offline samples of
# ~1,900 tokens (a tool list with return schemas is long; 2,048 keeps most of them), so 4 steps x 4
# sequences take ~3 minutes (measured ~100 tokens/s with the <end_of_turn> row trained too). So few steps at the recipe's lr 1e-4 barely move a LoRA adapter; the
# profile raises it.
PROFILES: dict[str, dict] = {
    "full": {},
    "cpu": {"max_steps": 4, "batch_size": 4, "max_seq_len": 2048, "max_samples": 32, "lr": 1e-3},
}


def settings(profile: str = "cpu", **overrides) -> TrainSettings:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}")
    return replace(TrainSettings(), **{**PROFILES[profile], **overrides})


@dataclass
class TrainResult:
    adapter_dir: str
    metrics: dict = field(default_factory=dict)
    model: object = None     # the peft model, adapter attached (in memory only)


def _schedule(optimizer, kind: str, warmup: int, total: int):
    import torch

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if kind == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        return max(0.0, 1 - progress) if kind == "linear" else 0.5 * (1 + math.cos(math.pi * progress))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _collate(batch: list[Example], pad_id: int, device):
    import torch

    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        labels[i, :n] = torch.tensor(e.labels)
        mask[i, :n] = 1
    return ids.to(device), labels.to(device), mask.to(device)


def token_losses(model, batch: list[Example], pad_id: int, device):
    """Per-token negative log-likelihoods of the labelled tokens of `batch` (1-D tensor)."""
    import torch.nn.functional as F

    ids, labels, mask = _collate(batch, pad_id, device)
    targets = labels[:, 1:]
    keep = targets != IGNORE                                   # position p predicts token p+1
    keep_full = F.pad(keep, (0, 1), value=False)
    out = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep_full, use_cache=False)
    logits = out.logits.reshape(-1, out.logits.shape[-1]).float()
    return F.cross_entropy(logits, targets[keep], reduction="none")


def _order(n_examples: int, n_needed: int, seed: int) -> list[int]:
    """Example indices for training: seeded shuffled epochs, concatenated."""
    rng = random.Random(seed)
    out: list[int] = []
    while len(out) < n_needed:
        epoch = list(range(n_examples))
        rng.shuffle(epoch)
        out += epoch
    return out[:n_needed]


def chat_token_ids(tokenizer, chat_format: str) -> list[int]:
    """The chat format's end-of-turn token, when it is one token. A base model never saw it, so its
    (tied) embedding row is untrained and sits among hundreds of near-identical untrained rows: LoRA on
    the linear layers cannot make the model emit it reliably. Training that one row (peft's trainable
    tokens) can."""
    from callforge.complexity.render import FORMATS

    ids = tokenizer(FORMATS[chat_format].end, add_special_tokens=False)["input_ids"]
    return ids if len(ids) == 1 else []


def train(examples: list[Example], loaded: base_model.Loaded, s: TrainSettings, out_dir: str | Path,
          progress=None, token_ids: list[int] | None = None) -> TrainResult:
    """LoRA-train `loaded.model` on `examples` (plus the embedding rows of `token_ids`), write the
    adapter to out_dir, return metrics."""
    import torch
    from peft import LoraConfig, get_peft_model

    if not examples:
        raise ValueError("train.no_examples: nothing to train on")
    torch.manual_seed(s.seed)
    if s.threads:
        torch.set_num_threads(s.threads)
    device = next(loaded.model.parameters()).device
    model = get_peft_model(loaded.model, LoraConfig(
        r=s.rank, lora_alpha=s.alpha, lora_dropout=s.dropout, target_modules=s.target_modules,
        bias="none", task_type="CAUSAL_LM", trainable_token_indices=list(token_ids) if token_ids else None))
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=s.lr, weight_decay=0.0)
    steps = math.ceil(len(examples) * s.epochs / s.batch_size)
    if s.max_steps:
        steps = min(steps, s.max_steps) if s.epochs else s.max_steps
    warmup = int(round(s.warmup_ratio * steps))
    sched = _schedule(opt, s.scheduler, warmup, steps)
    order = _order(len(examples), steps * s.batch_size, s.seed)
    pad = loaded.tokenizer.pad_token_id

    curve, tokens_seen, t0 = [], 0, time.perf_counter()
    for step in range(steps):
        chunk = [examples[i] for i in order[step * s.batch_size:(step + 1) * s.batch_size]]
        n_lab = sum(e.n_labels for e in chunk)
        total = 0.0
        for a in range(0, len(chunk), s.micro_batch):
            micro = chunk[a:a + s.micro_batch]
            nll = token_losses(model, micro, pad, device)
            (nll.sum() / n_lab).backward()       # token-mean over the whole accumulated batch
            total += float(nll.detach().sum())
            tokens_seen += sum(len(e.input_ids) for e in micro)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(trainable, s.max_grad_norm))
        lr = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        curve.append({"step": step + 1, "loss": round(total / n_lab, 5), "lr": float(f"{lr:.6g}"),
                      "grad_norm": round(grad_norm, 4), "tokens": tokens_seen})
        if progress:
            progress(curve[-1])
    elapsed = time.perf_counter() - t0

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = model.peft_config["default"]
    cfg.base_model_name_or_path = loaded.source        # not a machine-local cache path
    cfg.target_modules = sorted(cfg.target_modules)    # a set: its order varies between processes
    # save_embedding_layers=False: peft would otherwise look the base model up on the hub
    model.save_pretrained(out_dir, save_embedding_layers=False)
    (out_dir / "README.md").unlink(missing_ok=True)    # peft's model-card stub, with a local path in it
    model.eval()
    metrics = {
        "base_model": loaded.source, "base_sha256": loaded.sha256, "architecture": loaded.architecture,
        "device": str(device), "dtype": str(next(model.parameters()).dtype).replace("torch.", ""),
        "examples": len(examples), "steps": steps, "warmup_steps": warmup,
        "trainable_params": sum(p.numel() for p in trainable),
        "tokens": tokens_seen, "label_tokens": sum(examples[i].n_labels for i in order),
        "train_s": round(elapsed, 2), "tokens_per_s": round(tokens_seen / elapsed, 2) if elapsed else None,
        "first_loss": curve[0]["loss"], "final_loss": curve[-1]["loss"], "loss_curve": curve,
        "settings": {k: v for k, v in asdict(s).items()},
    }
    return TrainResult(str(out_dir), metrics, model)


def finetune(train_jsonl: str | Path, out_dir: str | Path, s: TrainSettings, progress=None) -> TrainResult:
    """Read OpenAI fine-tuning JSONL, load the base model, train, save the adapter."""
    samples, bad_lines = read_openai_jsonl(train_jsonl)
    loaded = base_model.load(s.base_model, device=s.device, dtype=s.dtype)
    fmt = base_model.chat_format_for(loaded, s.chat_format)
    examples, skipped = build_examples(samples, loaded.tokenizer, fmt, s.max_seq_len, s.max_samples, s.seed)
    tokens = chat_token_ids(loaded.tokenizer, fmt)
    result = train(examples, loaded, s, out_dir, progress, token_ids=tokens)
    result.metrics.update({
        "chat_format": fmt, "trained_token_rows": tokens, "load_s": loaded.load_s, "load_from_cache": loaded.from_cache,
        "input_samples": len(samples),
        "skipped": dict(sorted((bad_lines + skipped).items())),
    })
    return result
