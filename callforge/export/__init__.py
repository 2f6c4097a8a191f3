"""Export of samples (callforge/schemas/sample.json) to the formats trainers and benchmarks read.

One module per format, each a pure function of a sample: sharegpt (ToolACE's release), openai_ft
(OpenAI chat fine-tuning JSONL), xlam (APIGen/xLAM), chat (messages with argument objects + tools, for
Hugging Face chat templates and TRL), hf (a parquet dataset with a card), and bfcl_eval (the held-out
eval split in BFCL's question / function / possible_answer layout).
"""
