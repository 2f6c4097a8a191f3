"""DVC stage `taxonomy` (ToolACE §1): the API context tree, by speciation. Reads params only;
writes data/taxonomy.json (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.taxonomy.stage import run

if __name__ == "__main__":
    main("taxonomy", run)
