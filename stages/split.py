"""DVC stage `split` (ToolACE §5): difficulty and diversity training subsets and the held-out eval split.
Reads data/verified.jsonl, data/scores.jsonl, data/apis.jsonl; writes data/split/ (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.split.stage import run

if __name__ == "__main__":
    main("split", run)
