"""The `callforge` command: everything that is not a DVC stage."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from callforge.config import ConfigError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="callforge: build function-calling training data (ToolACE method) with DVC, Hydra and MLflow.")


@app.callback()
def _root():
    """callforge: build function-calling training data (ToolACE method) with DVC, Hydra and MLflow."""


def fail(msg: str, code: int = 2):
    typer.echo(f"callforge: {msg}", err=True)
    raise typer.Exit(code)


@app.command()
def params(overrides: Optional[List[str]] = typer.Argument(None, help="Hydra overrides, e.g. llm=compatible llm.temperature=0.3"),
           out: str = typer.Option("params.yaml", help="where to write the composed snapshot"),
           check: bool = typer.Option(False, "--check", help="only check that OUT is up to date with conf/")):
    """Compose conf/ (+ overrides) into params.yaml, validating it first."""
    from callforge.config import as_dict, compose, load_params, validate, write_params

    try:
        cfg = compose(overrides or [])
        validate(cfg)
        if check:
            current = as_dict(load_params(out))
            if current != as_dict(validate(cfg)):
                fail(f"{out} is stale against conf/: run `callforge params`", 1)
            typer.echo(f"{out} is up to date")
            return
    except ConfigError as e:
        fail(f"config error: {e}")
    write_params(cfg, out)
    typer.echo(f"wrote {out}")


def main():  # pragma: no cover - console entry
    app()


if __name__ == "__main__":
    sys.exit(app())
