"""The stage harness: what every `stages/<name>.py` script shares.

    # stages/split.py
    from callforge.core.stage import main
    from callforge.split.stage import run      # run(cfg, ctx) -> stats

    if __name__ == "__main__":
        main("split", run)

`main` loads and validates params.yaml before any work (a bad config exits with one line naming the
key), hands the stage its typed config and a StageContext, and records what comes back: stats into
metrics/<stage>.json, timings into data/runtime/<stage>.json, the stage into the variant's MLflow run.
A CallforgeError ends the stage with one line and exit status 2.

The context owns, once for every stage, what a stage should not re-implement: the paths dvc.yaml
declares, the LLM gateway, provenance, progress, atomic schema-checked writes, stats, and the one
ordered parallel map. The stage packages (callforge/<stage>/) receive it as an argument and never
import this module. Steps compute; the harness records.
"""
from __future__ import annotations

import gc
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from callforge.core import io, records
from callforge.core.config import ConfigError, load_params, shared_path
from callforge.core.errors import CallforgeError
from callforge.core.parallel import ordered_map
from callforge.core.gc_pause import gc_paused  # noqa: F401  (stages import it from here)

METRICS_DIR = Path("metrics")
# How an execution went (timings, throughput, cache reuse, LLM usage) varies from run to run of the same
# data, so it stays out of the git-tracked metrics/ (whose diffs must show data and model changes only):
# data/runtime/<stage>.json, untracked, and `runtime.<stage>.*` in the variant's MLflow run.
RUNTIME_DIR = Path("data/runtime")
_RUNTIME_LEAF = re.compile(r".*_s$|^cache_hits$|^load_from_cache$")


def split_runtime(stats: dict) -> tuple[dict, dict]:
    """(data, runtime): leaves named like timings or cache reuse (`*_s`, `cache_hits`, ...) move to runtime."""
    data, runtime = {}, {}
    for k, v in stats.items():
        if isinstance(v, dict) and v:
            d, r = split_runtime(v)
            if d or not r:
                data[k] = d
            if r:
                runtime[k] = r
        elif _RUNTIME_LEAF.match(k):
            runtime[k] = v
        else:
            data[k] = v
    return data, runtime


def quiet() -> bool:
    """Progress bars only on an interactive terminal; CI logs stay clean."""
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


def shard_spec() -> tuple[int, int]:
    """(index, count) from CALLFORGE_SHARD="i/n"; (0, 1) when the stage runs whole.

    Sharding is how a stage runs, not what it makes, so it lives outside params.yaml: the merged
    shards equal the unsharded output byte for byte (see callforge/core/shards.py)."""
    raw = os.environ.get("CALLFORGE_SHARD")
    if not raw:
        return 0, 1
    try:
        i, n = (int(x) for x in raw.split("/"))
        assert 0 <= i < n
    except (ValueError, AssertionError):
        raise SystemExit(f"CALLFORGE_SHARD={raw!r}: expected i/n with 0 <= i < n") from None
    return i, n


def shard_path(path: Path | str, index: int, count: int) -> Path:
    path = Path(path)
    return path.with_name(f"{path.stem}.shard-{index:04d}-of-{count:04d}{path.suffix}")


class StageContext:
    def __init__(self, name: str, cfg):
        self.name = name
        self.cfg = cfg                      # the stage's view (params_view) once main() hands it over
        self._full = cfg                    # the harness's own reads: llm, seed, cache_dir, tracking
        self.stats: dict = {}               # what the data and models are: metrics/<stage>.json (git)
        self.runtime: dict = {}             # how this execution went: data/runtime/<stage>.json (see RUNTIME_DIR)
        self.outputs: dict[str, str] = {}   # path -> md5, for MLflow tags
        self.artifacts: list = []           # extra files (plots), or (path, run folder), logged to the MLflow run
        self._gateway = None
        self.shard_index, self.shard_count = shard_spec()
        self._shard_aware = False

    @property
    def sharded(self) -> bool:
        return self.shard_count > 1

    def shard_range(self, n_items: int) -> range:
        """This shard's contiguous block of item indices (all of them when not sharded).
        Contiguous blocks make the merge a plain concatenation in shard order."""
        self._shard_aware = True
        i, n = self.shard_index, self.shard_count
        return range(n_items * i // n, n_items * (i + 1) // n)

    def out_path(self, path) -> Path:
        """Where an output goes: itself, or its shard file when sharded."""
        if self.sharded and not self._shard_aware:
            raise RuntimeError(f"stage {self.name} does not support sharding (it never asked for its shard_range)")
        return shard_path(path, self.shard_index, self.shard_count) if self.sharded else Path(path)

    @property
    def offline(self) -> bool:
        return self._full.llm.provider == "offline"

    @property
    def gateway(self):
        if self._gateway is None:
            from callforge.core.gateway import Gateway
            self._gateway = Gateway(self._full.llm, stage=self.name, cache_dir=self.cache_dir,
                                    seed=self._full.seed)
        return self._gateway

    @property
    def cache_dir(self) -> Path:
        """Where caches live (responses, scores): how a run is sped up, never what it makes."""
        return shared_path(self._full.cache_dir)

    def map(self, fn: Callable, items: Iterable, workers: int = 1, *, init: Callable | None = None,
            initargs: tuple = ()):
        """fn over items in input order, on `workers` processes (callforge.core.parallel.ordered_map).
        fn and init must be module-level functions; a stage's config goes to workers through initargs."""
        return ordered_map(fn, items, workers, init=init, initargs=initargs)

    def path(self, path) -> Path:
        """A path this stage declares in dvc.yaml (a dep, an out, or a file under a declared folder)."""
        p = str(path)
        declared = self.declared
        if declared is not None and not any(p == d or p.startswith(d.rstrip("/") + "/") for d in declared):
            raise RuntimeError(f"stage {self.name} uses {p}, which dvc.yaml does not declare for it")
        return Path(p)

    @property
    def declared(self) -> list[str] | None:
        """The stage's deps, outs and metrics in dvc.yaml (the truth); None outside a DVC project."""
        if not hasattr(self, "_declared"):
            from callforge.core.pipeline import load_pipeline
            spec = next((s for s in load_pipeline() if s.name == self.name), None)
            from omegaconf import OmegaConf
            fill = lambda s: re.sub(r"\$\{([^}]+)\}", lambda m: str(OmegaConf.select(self.cfg, m.group(1))), s)
            self._declared = None if spec is None else [fill(d) for d in (*spec.deps, *spec.written)]
        return self._declared

    def provenance(self, prompt_version: str) -> dict:
        return {"provider": self._full.llm.provider, "model": self._full.llm.model,
                "prompt_version": prompt_version, "seed": int(self._full.seed), "stage": self.name}

    # -- outputs ----------------------------------------------------------------------------------
    def _record(self, path) -> None:
        self.outputs[str(path)] = io.md5_file(path)

    def write_jsonl(self, path, rows: Iterable[dict], schema: str | None = None) -> int:
        """Atomic, schema-checked; a sharded stage writes its shard file instead (merged later)."""
        rows = list(rows)
        if schema:
            records.check(schema, rows)
        path = self.out_path(path)
        n = io.write_jsonl(path, rows)
        self._record(path)
        return n

    def write_jsonl_lines(self, path, lines: Iterable[str]) -> int:
        """Like write_jsonl, for rows the caller already encoded with io.dumps and checked against
        their schema (e.g. in worker processes): a large output streams to disk, encoded once."""
        path = self.out_path(path)
        n = 0
        with io.atomic_open(path) as f:
            for line in lines:
                f.write(line)
                f.write("\n")
                n += 1
        self._record(path)
        return n

    def write_json(self, path, obj) -> None:
        io.write_json(path, obj)
        self._record(path)

    def read_jsonl(self, path, schema: str | None = None) -> list[dict]:
        rows = io.read_jsonl(path)
        if schema:
            records.check(schema, rows)
        return rows

    def progress(self, items, total: int | None = None, desc: str | None = None):
        from tqdm import tqdm
        return tqdm(items, total=total, desc=desc or self.name, disable=quiet(), unit="it", dynamic_ncols=True)

    def _finish(self, elapsed: float) -> None:
        data, runtime = split_runtime(self.stats)
        self.stats, self.runtime = data, {**runtime, **self.runtime, "elapsed_s": round(elapsed, 3)}
        if self._gateway is not None:
            self.runtime["llm"] = self._gateway.usage()
            self._gateway.close()
        io.write_json(self.out_path(METRICS_DIR / f"{self.name}.json"), self.stats)
        io.write_json(self.out_path(RUNTIME_DIR / f"{self.name}.json"), self.runtime)


@contextmanager
def stage_run(name: str, params_path: str = "params.yaml"):
    try:
        cfg = load_params(params_path)
    except ConfigError as e:
        print(f"callforge {name}: config error: {e}", file=sys.stderr)
        raise SystemExit(2)
    from callforge.core.tracking import BackgroundTracker, Tracker, TrackingError

    st = StageContext(name, cfg)
    # Shards do not log: `callforge shards` merges them and logs the whole stage once.
    if st.sharded or not cfg.tracking.enabled:
        tracker = Tracker(cfg, disabled=True)
    else:
        tracker = BackgroundTracker(cfg, name)   # opens the run and logs the config while the stage works
    gc.freeze()             # what is loaded now lives to the end: later collections need not rescan it
    t0 = time.perf_counter()
    try:
        yield st
    except BaseException:
        try:
            tracker.finish(ok=False)
        except TrackingError as e:      # the stage's own error is the one to report
            print(f"callforge {name}: {e}", file=sys.stderr)
        raise
    st._finish(time.perf_counter() - t0)
    tracker.log_stage(name, st.stats, st.runtime, st.outputs)
    for item in st.artifacts:          # a file (a plot), or (file or folder, where it goes in the run)
        path, where = item if isinstance(item, tuple) else (item, "plots")
        tracker.log_artifact(path, artifact_path=where)
    try:
        tracker.finish(ok=True)
    except TrackingError as e:
        print(f"callforge {name}: outputs written, but not logged: {e}", file=sys.stderr)
        raise SystemExit(1)


def params_view(cfg, declared: list[str]):
    """The config as a stage may read it: only the params dvc.yaml declares for the stage (`section` or
    `section.key`). Reading anything else raises, so dvc.yaml's params cannot fall behind the code."""
    from omegaconf import OmegaConf, open_dict
    view = OmegaConf.masked_copy(cfg, sorted({p.split(".")[0] for p in declared}))
    for top in {p.split(".")[0] for p in declared if "." in p} - set(declared):
        keep = {p.split(".", 1)[1].split(".")[0] for p in declared if p.startswith(top + ".")}
        with open_dict(view[top]):
            for key in [k for k in view[top] if k not in keep]:
                del view[top][key]
    OmegaConf.set_struct(view, True)
    OmegaConf.set_readonly(view, True)
    return view


def main(name: str, run: Callable, params_path: str = "params.yaml") -> None:
    """Run one DVC stage: `run(cfg, ctx) -> stats` inside the harness (see the module docstring)."""
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError
    try:
        with stage_run(name, params_path) as ctx:
            from callforge.core.pipeline import load_pipeline
            spec = next((s for s in load_pipeline() if s.name == name), None)
            if spec is not None:          # inside a DVC project: only what dvc.yaml declares
                ctx.cfg = params_view(ctx.cfg, spec.params)
            stats = run(ctx.cfg, ctx)
            if stats:
                ctx.stats.update(stats)
    except CallforgeError as e:
        print(f"callforge {name}: {e}", file=sys.stderr)
        raise SystemExit(2)
    except (ConfigAttributeError, ConfigKeyError) as e:
        key = getattr(e, "full_key", None) or str(e).splitlines()[0]
        print(f"callforge {name}: reads the config key `{key}`, which dvc.yaml does not declare in the "
              f"stage's params (add it there, or DVC would not re-run the stage when it changes)", file=sys.stderr)
        raise SystemExit(2)

