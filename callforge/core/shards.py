"""Scale-out: run one stage as n shards on an engine, then merge them into the stage's outputs.

    callforge shards verify --count 8                                     # processes on this machine
    callforge shards verify --count 64 --engine submitit                  # SLURM (submitit; its local executor in tests)
    callforge shards verify --count 64 --engine ray --address HOST:PORT   # an existing Ray cluster (extra `ray`)

The protocol (the stage side is in callforge/core/stage.py). A stage runs in shards when its stage module
defines `merge(cfg, ctx) -> stats` beside `run`: today dialogs, complexity, verify and export. This
command checks that before any shard starts, and the harness refuses CALLFORGE_SHARD in any other stage
before it reads its config, so a stage that cannot shard fails without touching a file. Shard i of n runs
`stages/<stage>.py` with CALLFORGE_SHARD=i/n: its `run` handles a contiguous block of the items and writes
shard files beside the outputs (`<name>.shard-i-of-n<suffix>`), its stats into metrics/ the same way.
When every shard is complete, one more run with CALLFORGE_SHARD=merge/n, on this machine, calls the
stage's `merge`, which writes the outputs and metrics/<stage>.json; then the shard files are removed.

Why each stage merges for itself. Items draw their randomness from their own index, so the per-item
outputs of the blocks, concatenated in order, are the unsharded outputs. What is computed over all
items is not: averages and percentiles in the stats, running numbers, duplicates that fall in different
blocks, files whose format does not concatenate (parquet). Each stage's merge does that global part
once: from the merged outputs (dialogs: its stats from the records; complexity: the loss statistics and
histogram) or from additive counts its shards report (verify: the tally, and the ids each block holds,
so a duplicate across blocks is found; export: records per format and provenance, while running
numbers, parquet row groups and the eval split are made at the merge). So metrics/<stage>.json equals
the unsharded run's byte for byte; averaging the shards' stats would not.

Engines. `local`: processes here (`--workers` at once). `submitit`: one SLURM array job, its settings
from `--submitit KEY=VALUE` (slurm_partition, timeout_min, ...; submitit's `local` cluster runs the same
jobs as local processes, for tests); jobs inherit the submitting environment, as SLURM does, so no secret
is written into submitit's job files. `ray`: one task per shard on an existing cluster (`--address`, else
RAY_ADDRESS; `auto` finds one started on this machine), with this process's environment (model keys
included). `--cpus`: what each shard asks of a node, for a stage whose `workers` setting is above one.
Every engine runs the same python, project folder and files: on a cluster they need a shared
filesystem, as SLURM and Ray setups for this have.

Failures. A shard that fails (non-zero exit, or killed) is run again alone, `--retries` times; complete
shards are kept. If some still fail, the command stops and keeps what is complete: `--resume` later runs
only the missing shards (and the merge), provided the params and the stage's inputs and code are
unchanged since (a fingerprint in data/runtime/<stage>.shards.json; otherwise it starts afresh).

Caches and MLflow. Shards share the response and score caches: SQLite in WAL mode with a busy timeout,
one transaction per write, safe across processes (tests/test_shards.py writes from several at once).
Shards do not log; the merge run logs the stage to MLflow once, as an unsharded run does. DVC does not
see this command: `dvc commit <stage>` records the merged outputs in dvc.lock.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from callforge.core import io
from callforge.core.pipeline import StageSpec, load_pipeline
from callforge.core.stage import METRICS_DIR, RUNTIME_DIR, SHARD_ENV, shard_path

ENGINES = ("local", "submitit", "ray")


class ShardsError(SystemExit):
    """Why `callforge shards` stopped, in one line."""

    def __init__(self, message: str):
        super().__init__(f"callforge shards: {message}")


def shardable(stage: str, root: Path) -> StageSpec:
    """The stage's dvc.yaml entry, if the stage runs in shards (see the module docstring)."""
    spec = next((s for s in load_pipeline(root) if s.name == stage), None)
    if spec is None:
        raise ShardsError(f"no stage {stage!r} in {root / 'dvc.yaml'}")
    name = f"callforge.{stage}.stage"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if not f"{name}.".startswith(f"{e.name}."):     # a module the stage imports is missing: say that
            raise
        module = None
    if getattr(module, "merge", None) is None:
        raise ShardsError(f"stage {stage} does not run in shards (callforge/{stage}/stage.py has no "
                          f"merge(cfg, ctx)); run it whole")
    return spec


# ---------------------------------------------------------------------------------------- engines

def run_shard(python: str, script: str, workdir: str, env: dict, index: int, count: int) -> int:
    """One shard as a process, wherever the engine placed this call; → its exit status."""
    env = {**os.environ, **env, SHARD_ENV: f"{index}/{count}"}
    return subprocess.run([python, script], cwd=workdir, env=env).returncode


def run_on_engine(engine: str, argv: tuple[str, str, str], indices: list[int], count: int, *,
                  workers: int | None = None, cpus: int = 1, submitit_cluster: str | None = None,
                  submitit_params: dict | None = None, address: str | None = None) -> list[int]:
    """Run the shards `indices` of `count` on `engine`; → their exit statuses (-1: the engine lost the
    shard). cpus: what a shard asks of its node (engines submitit and ray); submitit_params: more
    settings for submitit's executor (slurm_partition, timeout_min, ...)."""
    if engine == "local":
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            return list(pool.map(lambda i: run_shard(*argv, dict(os.environ), i, count), indices))
    if engine == "submitit":
        import submitit

        ex = submitit.AutoExecutor(folder=str(Path(argv[2]) / ".cache" / "submitit"), cluster=submitit_cluster)
        ex.update_parameters(**{"timeout_min": 24 * 60, "cpus_per_task": cpus, **(submitit_params or {})})
        k = len(indices)
        jobs = ex.map_array(run_shard, [argv[0]] * k, [argv[1]] * k, [argv[2]] * k, [{}] * k, indices, [count] * k)
        codes = []
        for i, job in zip(indices, jobs):
            try:
                codes.append(job.result())
            except Exception as e:      # the job itself failed (preempted, timed out, node lost)
                _log(f"shard {i}: submitit job {job.job_id} failed: {str(e).splitlines()[0] if str(e) else e!r}")
                codes.append(-1)
        return codes
    if engine == "ray":
        import ray

        ray.init(address=address, logging_level=logging.WARNING)
        try:
            task = ray.remote(num_cpus=cpus, max_retries=0)(run_shard)    # a failed shard is retried here, alone
            refs = [task.remote(*argv, dict(os.environ), i, count) for i in indices]
            codes = []
            for i, ref in zip(indices, refs):
                try:
                    codes.append(ray.get(ref))
                except ray.exceptions.RayError as e:    # the worker or its node died
                    _log(f"shard {i}: ray task failed: {type(e).__name__}")
                    codes.append(-1)
            return codes
        finally:
            ray.shutdown()
    raise ShardsError(f"unknown engine {engine!r}: {', '.join(ENGINES)}")


def _check_engine(engine: str, address: str | None) -> str | None:
    """Before any shard runs: the engine exists and can start; → the Ray address."""
    if engine not in ENGINES:
        raise ShardsError(f"unknown engine {engine!r}: {', '.join(ENGINES)}")
    if engine != "ray":
        return None
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ShardsError("engine ray needs the optional extra `ray`: pip install 'callforge[ray]'") from None
    address = address or os.environ.get("RAY_ADDRESS")
    if not address:
        raise ShardsError("engine ray runs on an existing Ray cluster: pass --address HOST:PORT or set RAY_ADDRESS "
                          "(`auto`: the cluster `ray start` began on this machine)")
    return address


def _log(msg: str) -> None:
    print(f"callforge shards: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ shard files

class ShardFiles:
    """The shard files of one stage run in `workdir`: which shards are complete, and what a resume may keep."""

    def __init__(self, spec: StageSpec, count: int, workdir: Path):
        self.spec, self.count, self.workdir = spec, count, workdir
        self.outputs = [workdir / p for p in (*spec.written, RUNTIME_DIR / f"{spec.name}.json")]
        self.manifest = workdir / RUNTIME_DIR / f"{spec.name}.shards.json"

    def complete(self, index: int) -> bool:
        """A shard is complete when its stats and runtime are written: the harness writes them last."""
        return all(shard_path(self.workdir / d / f"{self.spec.name}.json", index, self.count).is_file()
                   for d in (METRICS_DIR, RUNTIME_DIR))

    def forget(self, index: int) -> None:
        """Before a shard (re)runs: it is not complete until it says so again, and what a killed run of
        it left half-written goes."""
        for d in (METRICS_DIR, RUNTIME_DIR):
            shard_path(self.workdir / d / f"{self.spec.name}.json", index, self.count).unlink(missing_ok=True)
        for out in self.outputs:
            _remove_unfinished(shard_path(out, index, self.count))

    def fingerprint(self) -> str:
        """What a shard's output depends on: params.yaml, the stage's inputs and code (by size and mtime)."""
        h = hashlib.sha256()
        params = self.workdir / "params.yaml"
        h.update(params.read_bytes() if params.exists() else b"")
        for dep in self.spec.deps:
            path = self.workdir / dep
            files = sorted(f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts) \
                if path.is_dir() else [path]
            for f in files:
                st = f.stat() if f.exists() else None
                h.update(f"{f.relative_to(self.workdir)}:{st and (st.st_size, st.st_mtime_ns)}\n".encode())
        h.update(str(self.count).encode())
        return h.hexdigest()

    def start(self, resume: bool) -> list[int]:
        """The shards still to run: the incomplete ones when resuming the same inputs, else all (stale
        shard files of any earlier run removed)."""
        mark = {"count": self.count, "fingerprint": self.fingerprint()}
        if resume:
            try:
                if json.loads(self.manifest.read_text()) == mark:
                    return [i for i in range(self.count) if not self.complete(i)]
                _log(f"{self.spec.name}: nothing to resume (params, inputs, code or count changed): running every shard")
            except FileNotFoundError:
                _log(f"{self.spec.name}: nothing to resume: running every shard")
        self.clear()
        io.write_json(self.manifest, mark)
        return list(range(self.count))

    def clear(self) -> None:
        """Remove every shard file of this stage, of any count."""
        for out in self.outputs:
            for p in out.parent.glob(f"{out.stem}.shard-*-of-*{out.suffix}"):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
            _remove_unfinished(out.with_name(f"{out.stem}.shard-*-of-*{out.suffix}"))
        self.manifest.unlink(missing_ok=True)


def _remove_unfinished(path: Path) -> None:
    """The temporary files io.atomic_open leaves for `path` (a glob pattern too) when its process is killed."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------------------- the run

def run_and_merge(stage: str, count: int, engine: str, root: Path, workdir: Path, *, retries: int = 1,
                  resume: bool = False, **engine_options) -> dict[str, str]:
    """Run the stage as `count` shards on `engine` (engine_options: run_on_engine's), re-running failed
    shards alone up to `retries` times, then merge them here; → {output: md5} of the stage's data outputs."""
    spec = shardable(stage, root)
    engine_options["address"] = _check_engine(engine, engine_options.get("address"))
    if count < 2:
        raise ShardsError("--count must be at least 2 (run the stage whole with dvc repro)")
    workdir = workdir.resolve()
    files = ShardFiles(spec, count, workdir)
    argv = (sys.executable, str(root / "stages" / f"{stage}.py"), str(workdir))
    todo = files.start(resume)
    for attempt in range(retries + 1):
        if not todo:
            break
        _log(f"{stage}: {'re-running' if attempt else 'running'} shards {_ranges(todo)} of {count} on {engine}")
        for i in todo:
            files.forget(i)
        codes = run_on_engine(engine, argv, todo, count, **engine_options)
        failed = {i: code for i, code in zip(todo, codes) if code != 0 or not files.complete(i)}
        todo = list(failed)
        if not todo:
            break
        _log(f"{stage}: shards {_ranges(todo)} failed (exit {sorted(set(failed.values()))})")
        stopped = [i for i, code in failed.items() if code == 2]
        if stopped:     # the harness's exit for a bad config or input: running it again would fail the same way
            raise ShardsError(f"{stage}: shards {_ranges(stopped)} stopped on an error (above); the complete shards "
                              f"are kept: once it is fixed, `callforge shards {stage} --count {count} --resume`")
    if todo:
        tries = f"{retries + 1} attempt{'s' if retries else ''}"
        raise ShardsError(f"{stage}: shards {_ranges(todo)} still failed after {tries}; the {count - len(todo)} "
                          f"complete shards are kept: `callforge shards {stage} --count {count} --resume` runs the rest")
    _log(f"{stage}: merging {count} shards")
    merged = subprocess.run([sys.executable, argv[1]], cwd=workdir, env={**os.environ, SHARD_ENV: f"merge/{count}"})
    if merged.returncode != 0:
        raise ShardsError(f"{stage}: the merge failed (exit {merged.returncode}); the shards are kept: "
                          f"`callforge shards {stage} --count {count} --resume` merges them again")
    files.clear()
    return {out: io.md5_file(workdir / out) for out in spec.outs if (workdir / out).exists()}


def _ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5] → "0-2, 5"."""
    out, start = [], None
    for k, i in enumerate(indices):
        if start is None:
            start = i
        if k + 1 == len(indices) or indices[k + 1] != i + 1:
            out.append(f"{start}" if start == i else f"{start}-{i}")
            start = None
    return ", ".join(out)
