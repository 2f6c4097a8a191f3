"""DVC stage `apis` (ToolACE §1): the self-evolving API pool (adaptation, evolution, API rules).
Reads data/taxonomy.json; writes data/apis.jsonl and data/apis_rejected.jsonl (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.apis.stage import run

if __name__ == "__main__":
    main("apis", run)
