"""Run the dvc.yaml pipeline in a folder of its own (a Hydra job, a shard, a test), reusing identical work.

`dvc repro` is the everyday way to run callforge. This executor serves the places DVC does not reach:
Hydra multirun jobs, each in its own output folder with no git repo of its own. It reads the stage
list (cmd, deps, params, outs) from dvc.yaml, so the pipeline is declared once, and it keeps a
content-addressed store of stage outputs: a stage whose code, params sections and input files hash
the same as an earlier run's is restored from the store instead of run — so sweeping a split
parameter re-runs only split and what follows, and makes no LLM calls.
"""
from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from omegaconf import OmegaConf

from callforge.io import md5_file


@dataclass
class StageSpec:
    name: str
    cmd: str
    deps: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    outs: list[str] = field(default_factory=list)     # outs + metrics + plots: everything the stage writes


def _paths(entries) -> list[str]:
    out = []
    for e in entries or []:
        out.append(next(iter(e)) if isinstance(e, dict) else str(e))
    return out


def load_pipeline(root: Path) -> list[StageSpec]:
    """Stages in dvc.yaml order (which callforge keeps topological)."""
    spec = yaml.safe_load((root / "dvc.yaml").read_text()) or {}
    stages = []
    for name, s in (spec.get("stages") or {}).items():
        params = []
        for p in s.get("params") or []:   # `- key` or `- params.yaml: [key, ...]`
            params.extend([p] if isinstance(p, str) else [k for v in p.values() for k in v])
        stages.append(StageSpec(name, s["cmd"], _paths(s.get("deps")), params,
                                _paths(s.get("outs")) + _paths(s.get("metrics")) + _paths(s.get("plots"))))
    return stages


def stage_key(stage: StageSpec, cfg, workdir: Path, root: Path, produced: set[str]) -> str:
    """Content address of a stage run: its command, its params sections, the bytes of every dep."""
    h = hashlib.sha256()
    h.update(stage.cmd.encode())
    for p in stage.params:
        value = OmegaConf.select(cfg, p)
        value = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
        h.update(f"\nparam {p}={json.dumps(value, sort_keys=True)}".encode())
    for d in stage.deps:
        path = (workdir if d in produced else root) / d
        h.update(f"\ndep {d}={md5_file(path) if path.exists() else 'missing'}".encode())
    return h.hexdigest()[:32]


def _command(stage: StageSpec, root: Path) -> list[str]:
    argv = shlex.split(stage.cmd)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
        if len(argv) > 1 and (root / argv[1]).exists():
            argv[1] = str(root / argv[1])
    return argv


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)


def _save(stage: StageSpec, workdir: Path, entry: Path) -> None:
    tmp = entry.with_name(entry.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for o in stage.outs:
        if (workdir / o).exists():
            _copy(workdir / o, tmp / o)
    (tmp / ".complete").write_text(stage.name)
    try:
        tmp.rename(entry)
    except OSError:            # another job stored the same key first: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)


def run_pipeline(workdir: Path, cfg, root: Path, store: Path, until: str | None = None,
                 env: dict | None = None, log=print) -> dict[str, str]:
    """Run (or restore) every stage up to `until` in `workdir`. → {stage: "ran" | "reused"}."""
    stages = load_pipeline(root)
    if until and until not in [s.name for s in stages]:
        raise ValueError(f"unknown stage {until!r}; dvc.yaml has {[s.name for s in stages]}")
    produced: set[str] = set()
    status = {}
    for stage in stages:
        key = stage_key(stage, cfg, workdir, root, produced)
        entry = store / stage.name / key
        if (entry / ".complete").exists():
            for o in stage.outs:
                if (entry / o).exists():
                    _copy(entry / o, workdir / o)
            status[stage.name] = "reused"
            log(f"[{stage.name}] reused {key} (inputs unchanged)")
        else:
            log(f"[{stage.name}] running")
            t0 = time.perf_counter()
            proc = subprocess.run(_command(stage, root), cwd=workdir, env={**os.environ, **(env or {})})
            if proc.returncode != 0:
                raise RuntimeError(f"stage {stage.name} failed with exit code {proc.returncode} in {workdir}")
            entry.parent.mkdir(parents=True, exist_ok=True)
            _save(stage, workdir, entry)
            status[stage.name] = "ran"
            log(f"[{stage.name}] done in {time.perf_counter() - t0:.1f}s")
        produced.update(stage.outs)
        if stage.name == until:
            break
    return status
