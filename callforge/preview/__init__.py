"""`callforge preview N`: N samples through every stage up to verify, in a scratch folder, printed to read.

Before paying for twenty thousand samples, look at a handful: the same config as `callforge build` (conf/
plus any Hydra overrides) with `dialogs.samples=N` runs taxonomy, apis, dialogs, complexity and verify,
each as its stage runs under DVC (callforge.core.stage.main), in a temporary folder. The project's data/,
metrics/ and MLflow store are never touched (tracking is off); the response cache is the project's, so
what the preview paid for is not paid again, by a second preview or by the build (the first N samples of
a build with the same config send the same requests).

The taxonomy and the API pool are not per-sample work, and on the model path they are most of the cost
(thousands of APIs at the default pool size). With `upstream="auto"` the preview reads the workspace's
data/taxonomy.json and data/apis.jsonl when both exist (copies: the originals are only read), and runs
those stages only when they do not; `upstream="run"` always runs them (scale them with overrides such as
`apis.pool_size=30`). The printout says which.
"""
from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from callforge.core.config import ConfigError, compose, project_root, validate, write_params

STAGES = ("taxonomy", "apis", "dialogs", "complexity", "verify")
UPSTREAM_FILES = {"taxonomy": "data/taxonomy.json", "apis": "data/apis.jsonl"}
FIXED = (("dialogs", "samples"), ("tracking", "enabled"), ("cache_dir",))   # keys the preview sets itself


class PreviewError(Exception):
    """A preview that could not run. str() is one line."""


def preview_config(n: int, overrides: list[str], root: Path):
    """The composed, checked config of a preview: conf/ + overrides, N samples, no tracking, and every
    path the stages resolve from the working folder made absolute against the project."""
    from omegaconf import OmegaConf

    taken = [o for o in overrides if tuple(o.lstrip("+~").split("=", 1)[0].split(".")) in FIXED]
    if taken:
        raise ConfigError(f"{taken[0].split('=', 1)[0]}: set by the preview itself (N is the sample count)")
    cfg = validate(compose([*overrides, f"dialogs.samples={n}", "tracking.enabled=false"], root))
    OmegaConf.set_readonly(cfg, False)
    cfg.cache_dir = str((root / cfg.cache_dir).resolve())
    cfg.taxonomy.seed_docs = [str((root / p).resolve()) for p in cfg.taxonomy.seed_docs]
    for imp in cfg.apis.imports:
        imp.path = str((root / imp.path).resolve())
    return cfg


def reused_upstream(root: Path, upstream: str) -> list[str]:
    """The upstream stages whose outputs the preview takes from the workspace (see the module docstring)."""
    if upstream not in ("auto", "run"):
        raise PreviewError(f"--upstream must be auto or run, not {upstream!r}")
    if upstream == "run" or not all((root / f).is_file() for f in UPSTREAM_FILES.values()):
        return []
    return list(UPSTREAM_FILES)


def run_stage(name: str, workdir: Path) -> None:
    """One stage, in this process, as DVC runs it (params.yaml and dvc.yaml of the working folder)."""
    from callforge.core.gateway import GatewayError
    from callforge.core.stage import main

    run = importlib.import_module(f"callforge.{name}.stage").run
    here = Path.cwd()
    os.chdir(workdir)
    try:
        main(name, run)
    except SystemExit as e:
        if e.code:
            raise PreviewError(f"stage {name} stopped (exit {e.code}); its message is above") from None
    except GatewayError as e:        # e.g. no API key in the variable the config names
        raise PreviewError(f"stage {name}: {e}") from None
    finally:
        os.chdir(here)


def preview(n: int, overrides: list[str], *, upstream: str = "auto", keep: bool = False, out=None) -> Path | None:
    """Run the preview and print it to `out` (stdout). Returns the kept working folder, else None."""
    from callforge.preview.render import render

    out = out or sys.stdout
    if n < 1:
        raise PreviewError("N must be at least 1")
    root = project_root()
    cfg = preview_config(n, overrides, root)
    reused = reused_upstream(root, upstream)
    workdir = Path(tempfile.mkdtemp(prefix="callforge-preview-"))
    try:
        write_params(cfg, workdir / "params.yaml")
        shutil.copy(root / "dvc.yaml", workdir / "dvc.yaml")     # the stages' declared paths and params
        (workdir / "data").mkdir()
        for name in reused:
            shutil.copy(root / UPSTREAM_FILES[name], workdir / UPSTREAM_FILES[name])
        for name in STAGES:
            if name not in reused:
                print(f"callforge preview: {name} ...", file=sys.stderr, flush=True)
                run_stage(name, workdir)
        out.write(render(workdir, cfg, reused))
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return workdir if keep else None
