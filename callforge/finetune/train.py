"""Supervised LoRA fine-tuning (optional extra `train`: torch, transformers, peft, gguf).

The settings are the typed config section `finetune` (conf/finetune/): `full` is ToolACE's recipe
(../shared/toolace.md §6: LoRA rank 16, alpha 32 on all linear modules, lr 1e-4, cosine schedule,
warmup 0.1, 3 epochs, batch 48, micro-batches accumulated); `cpu` caps steps, sequence length and
samples so that a run fits a laptop budget.

The loop is a plain one (no Trainer) for one reason: the loss needs logits only where a label is,
so the output projection (262k x 640 for Gemma 3, the largest matrix of a small model) runs on
response tokens only (`logits_to_keep` with a mask). The loss is the mean over all labelled tokens
of an accumulated batch, so micro-batching does not change it.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from callforge.core.errors import CallforgeError
from callforge.finetune import base_model
from callforge.finetune.train_data import IGNORE, Example


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


def train(examples: list[Example], loaded: base_model.Loaded, c, seed: int, out_dir: str | Path,
          progress=None, token_ids: list[int] | None = None) -> TrainResult:
    """LoRA-train `loaded.model` on `examples` (plus the embedding rows of `token_ids`) with the settings
    `c` (the config section `finetune`), write the adapter to out_dir, return metrics."""
    import torch
    from peft import LoraConfig, get_peft_model

    if not examples:
        raise CallforgeError("train.no_examples", "nothing to train on")
    torch.manual_seed(seed)
    if c.threads:
        torch.set_num_threads(c.threads)
    device = next(loaded.model.parameters()).device
    model = get_peft_model(loaded.model, LoraConfig(
        r=c.rank, lora_alpha=c.alpha, lora_dropout=c.dropout, target_modules=c.target_modules,
        bias="none", task_type="CAUSAL_LM", trainable_token_indices=list(token_ids) if token_ids else None))
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=c.lr, weight_decay=0.0)
    batch_size, micro_batch = c.batch_size, c.micro_batch
    steps = math.ceil(len(examples) * c.epochs / batch_size)
    if c.max_steps is not None:
        steps = min(steps, c.max_steps)
    warmup = int(round(c.warmup_ratio * steps))
    sched = _schedule(opt, c.scheduler, warmup, steps)
    order = _order(len(examples), steps * batch_size, seed)
    pad = loaded.tokenizer.pad_token_id

    curve, tokens_seen, t0 = [], 0, time.perf_counter()
    for step in range(steps):
        chunk = [examples[i] for i in order[step * batch_size:(step + 1) * batch_size]]
        n_lab = sum(e.n_labels for e in chunk)
        total = 0.0
        for a in range(0, len(chunk), micro_batch):
            micro = chunk[a:a + micro_batch]
            nll = token_losses(model, micro, pad, device)
            (nll.sum() / n_lab).backward()       # token-mean over the whole accumulated batch
            total += float(nll.detach().sum())
            tokens_seen += sum(len(e.input_ids) for e in micro)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(trainable, c.max_grad_norm))
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
    peft_cfg = model.peft_config["default"]
    peft_cfg.base_model_name_or_path = loaded.source        # not a machine-local cache path
    peft_cfg.target_modules = sorted(peft_cfg.target_modules)    # a set: its order varies between processes
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
    }
    return TrainResult(str(out_dir), metrics, model)
