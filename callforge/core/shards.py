"""Scale-out: run one stage as n shards on an engine, then merge them into the stage's outputs.

    callforge shards dialogs --count 8 --engine local      # processes on this machine
    callforge shards dialogs --count 64 --engine submitit  # a SLURM cluster (submitit; `local` cluster in tests)
    callforge shards dialogs --count 64 --engine ray       # an existing Ray cluster (ray is not a dependency)

Shard i of n runs `stages/<stage>.py` with CALLFORGE_SHARD=i/n and handles a contiguous block of
items (StageContext.shard_range); items draw randomness from rng_for(seed, stage, index), so concatenating
the shards in order gives exactly the unsharded output. Model calls go through the shared response cache.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from callforge.core import io
from callforge.core.pipeline import StageSpec, load_pipeline
from callforge.core.stage import shard_path


def _run_one(argv: list[str], cwd: str, env: dict, index: int, count: int) -> int:
    env = {**env, "CALLFORGE_SHARD": f"{index}/{count}"}
    return subprocess.run(argv, cwd=cwd, env=env).returncode


def run_shards(spec: StageSpec, count: int, engine: str, root: Path, workdir: Path,
               workers: int | None = None, submitit_cluster: str | None = None) -> list[int]:
    argv = [sys.executable, str(root / "stages" / f"{spec.name}.py")]
    env = dict(os.environ)
    args = [(argv, str(workdir), env, i, count) for i in range(count)]
    if engine == "local":
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            return list(pool.map(lambda a: _run_one(*a), args))
    if engine == "submitit":
        import submitit

        ex = submitit.AutoExecutor(folder=str(workdir / ".cache" / "submitit"), cluster=submitit_cluster)
        ex.update_parameters(timeout_min=24 * 60)
        jobs = ex.map_array(_run_one, *zip(*args))
        return [j.result() for j in jobs]
    if engine == "ray":
        try:
            import ray
        except ImportError:
            raise SystemExit("engine=ray needs `pip install ray` (not a callforge dependency)") from None
        ray.init(ignore_reinit_error=True)
        remote = ray.remote(_run_one)
        return ray.get([remote.remote(*a) for a in args])
    raise SystemExit(f"unknown engine {engine!r}: local, submitit or ray")


def merge_stats(parts: list[dict]) -> dict:
    """Counts add up; other numbers are averaged over shards (marked), equal strings kept."""
    out: dict = {}
    keys = list(dict.fromkeys(k for p in parts for k in p))
    for k in keys:
        vals = [p[k] for p in parts if k in p]
        if all(isinstance(v, dict) for v in vals):
            out[k] = merge_stats(vals)
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
            out[k] = sum(vals)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            out[k] = round(sum(vals) / len(vals), 6)
        elif len({json.dumps(v, sort_keys=True) for v in vals}) == 1:
            out[k] = vals[0]
        else:
            out[k] = vals
    return out


def merge(spec: StageSpec, count: int, workdir: Path) -> dict[str, str]:
    """Concatenate each JSON-lines output's shards in order; merge the shard metrics. → {out: md5}."""
    merged = {}
    for out in spec.written:
        target = workdir / out
        shards = [shard_path(target, i, count) for i in range(count)]
        if not any(s.exists() for s in shards):
            continue
        missing = [s.name for s in shards if not s.exists()]
        if missing:
            raise RuntimeError(f"cannot merge {out}: missing shards {missing[:5]}")
        if target.suffix == ".json" and target.parent.name == "metrics":
            stats = merge_stats([json.loads(s.read_text()) for s in shards])
            stats["shards"] = count
            io.write_json(target, stats)
        else:
            with io.atomic_open(target, "wb") as f:
                for s in shards:
                    f.write(s.read_bytes())
            merged[str(target)] = io.md5_file(target)
        for s in shards:
            s.unlink()
    return merged


def run_and_merge(stage: str, count: int, engine: str, root: Path, workdir: Path, **kw) -> dict[str, str]:
    spec = next((s for s in load_pipeline(root) if s.name == stage), None)
    if spec is None:
        raise SystemExit(f"no stage {stage!r} in dvc.yaml")
    codes = run_shards(spec, count, engine, root, workdir, **kw)
    failed = [i for i, c in enumerate(codes) if c != 0]
    if failed:
        raise SystemExit(f"shards {failed} of {stage} failed; re-run resumes from the response cache")
    merged = merge(spec, count, workdir)
    _log(stage, merged, workdir)
    return merged


def _log(stage: str, merged: dict[str, str], workdir: Path) -> None:
    from callforge.core.config import load_params
    from callforge.core.stage import METRICS_DIR, RUNTIME_DIR
    from callforge.core.tracking import Tracker

    def read(path: Path) -> dict:
        return json.loads(path.read_text()) if path.exists() else {}

    cfg = load_params(workdir / "params.yaml")
    tracker = Tracker(cfg, stage)
    tracker.log_config(cfg)
    tracker.log_stage(stage, read(workdir / METRICS_DIR / f"{stage}.json"), read(workdir / RUNTIME_DIR / f"{stage}.json"),
                      merged)
    tracker.finish(ok=True)
