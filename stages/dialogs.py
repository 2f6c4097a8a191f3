"""DVC stage `dialogs` (ToolACE §2): multi-agent dialog generation with voting and complexity steering.
Reads data/apis.jsonl; writes data/dialogs.jsonl and data/dialogs_dropped.jsonl (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.dialogs.stage import run

if __name__ == "__main__":
    main("dialogs", run)
