"""DVC stage `export`: every training subset in every trainer format (sharegpt, openai, xlam, chat, hf) and
the eval split in BFCL layout. Reads data/verified.jsonl and data/split/; writes data/export/ (declared in dvc.yaml)."""
from callforge.core.stage import main
from callforge.export.stage import run

if __name__ == "__main__":
    main("export", run)
