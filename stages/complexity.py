"""DVC stage `complexity` (ToolACE §3): each dialog's complexity loss under the target model.
Reads data/dialogs.jsonl; writes data/scores.jsonl and metrics/complexity_hist.json (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.complexity.stage import run

if __name__ == "__main__":
    main("complexity", run)
