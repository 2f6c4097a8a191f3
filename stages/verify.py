"""DVC stage `verify` (ToolACE §4): the dual-layer check, rule layer then LLM judges, of every dialog.
Reads data/dialogs.jsonl; writes data/verified.jsonl and data/rejected.jsonl (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.verify.stage import run

if __name__ == "__main__":
    main("verify", run)
