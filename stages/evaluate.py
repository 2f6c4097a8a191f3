"""DVC stage `evaluate` (ToolACE §9): base vs fine-tuned function-calling accuracy on BFCL and the held-out split.
Reads models/adapter and data/export/eval_bfcl; writes data/evaluate/answers.jsonl (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.evaluate.stage import run

if __name__ == "__main__":
    main("evaluate", run)
