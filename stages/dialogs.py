"""DVC stage `dialogs`: multi-agent dialog generation (ToolACE §2). Logic: callforge/dialogs/."""
from callforge.dialogs.pipeline import run
from callforge.core.stage import stage_run

if __name__ == "__main__":
    with stage_run("dialogs") as st:
        run(st)
