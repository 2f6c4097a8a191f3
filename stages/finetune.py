"""Stage `finetune`: LoRA fine-tuning of the base model on one exported training subset.

Reads data/export/<finetune.subset>/openai.jsonl; writes models/adapter/ (a peft LoRA adapter:
adapter_config.json + adapter_model.safetensors) and metrics/finetune.json (loss curve, tokens/s,
the settings used). finetune.profile picks the budget (cpu: the default, capped; full: ToolACE's
recipe unchanged); any non-null finetune.<knob> overrides the profile. Needs the extra `train`.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from callforge.core import io
from callforge.core.stage import quiet, stage_run

OUT = Path("models/adapter")
LOSS_PLOT = "metrics/finetune_loss.json"   # DVC plot: loss per optimizer step
KNOBS = ("rank", "alpha", "dropout", "lr", "epochs", "batch_size", "micro_batch", "max_steps", "max_seq_len",
         "max_samples", "threads")


def main() -> None:
    with stage_run("finetune") as st:
        from callforge.finetune import base_model, train as finetune

        c = st.cfg.finetune
        train_file = Path("data/export") / c.subset / "openai.jsonl"
        if not train_file.is_file():
            sys.exit(f"callforge finetune: config error: finetune.subset: {train_file} not found (run export)")
        overrides = {k: c[k] for k in KNOBS if c.get(k) is not None}
        try:
            s = finetune.settings(c.profile, base_model=c.base_model, chat_format=c.chat_format, device=c.device,
                                  seed=int(st.cfg.seed), **overrides)
        except ValueError as e:
            sys.exit(f"callforge finetune: config error: finetune.profile: {e}")
        OUT.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(io.mkdtemp_public(prefix=".adapter.", dir=OUT.parent))
        try:
            res = finetune.finetune(train_file, tmp, s, progress=None if quiet() else _progress)
            shutil.rmtree(OUT, ignore_errors=True)
            os.replace(tmp, OUT)                  # a half-written adapter never sits at OUT
        except (base_model.ModelError, ValueError) as e:
            sys.exit(f"callforge finetune: {e}")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        st.outputs[str(OUT)] = io.md5_file(OUT)
        st.stats.update(res.metrics)
        st.write_json(LOSS_PLOT, {"loss_curve": res.metrics["loss_curve"]})
        st.artifacts.append(LOSS_PLOT)
        st.stats["subset"] = c.subset
        st.stats["profile"] = c.profile


def _progress(row: dict) -> None:
    print(f"finetune step {row['step']}: loss {row['loss']:.4f} lr {row['lr']:.2e}", file=sys.stderr)


if __name__ == "__main__":
    main()
