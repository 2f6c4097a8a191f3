"""DVC stage `finetune` (ToolACE §6): LoRA fine-tuning of the base model on one exported subset. Reads
data/export/<finetune.subset>/openai.jsonl; writes models/adapter and metrics/finetune_loss.json (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.finetune.stage import run

if __name__ == "__main__":
    main("finetune", run)
