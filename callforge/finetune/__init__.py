"""Stage finetune: a LoRA adapter on the exported training split."""
