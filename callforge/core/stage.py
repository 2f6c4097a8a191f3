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

A stage whose module defines `merge(cfg, ctx) -> stats` beside `run` also runs in shards (CALLFORGE_SHARD,
set by `callforge shards`: callforge/core/shards.py). Each shard's `run` handles its block of items
(ctx.shard_range, ctx.shard_lines) and writes shard files (ctx.out_path); then one more run calls
`merge`, which makes the stage's outputs and stats from them. Any other stage refuses CALLFORGE_SHARD
before it reads its config.

The context owns, once for every stage, what a stage should not re-implement: the paths dvc.yaml
declares, the LLM gateway, provenance, progress, atomic schema-checked writes, stats, and the one
ordered parallel map. The stage packages (callforge/<stage>/) receive it as an argument and never
import this module. Steps compute; the harness records.
"""
from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import os
import re
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator

from callforge.core import io, records
from callforge.core.config import ConfigError, load_params, shared_path
from callforge.core.errors import CallforgeError
from callforge.core.parallel import ordered_map
from callforge.core.shard_spec import SHARD_ENV, shard_spec  # noqa: F401  (shards and tests import them from here)
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


def shard_block(n_items: int, index: int, count: int) -> range:
    """Shard `index` of `count`'s contiguous block of item indices: blocks in shard order cover
    range(n_items), so a merge concatenates."""
    return range(n_items * index // count, n_items * (index + 1) // count)


def shard_path(path: Path | str, index: int, count: int) -> Path:
    """Where shard `index` of `count` writes the output `path` (a file or a folder): beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}.shard-{index:04d}-of-{count:04d}{path.suffix}")


def count_lines(path: Path | str) -> int:
    """Lines as iterating the file yields them (a last line without a newline counts)."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def _lines(path, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """Lines start..stop of a file, as bytes, read as they are consumed."""
    with open(path, "rb") as f:
        yield from itertools.islice(f, start, stop)


def merge_hook(run: Callable) -> Callable | None:
    """The stage's `merge(cfg, ctx) -> stats`, defined beside `run` in its stage module: a stage runs in
    shards only when it has one (callforge/core/shards.py)."""
    return getattr(sys.modules.get(run.__module__), "merge", None)


class StageContext:
    def __init__(self, name: str, cfg):
        self.name = name
        self.cfg = cfg                      # the stage's view (params_view) once main() hands it over
        self._full = cfg                    # the harness's own reads: llm, seed, cache_dir, tracking
        self.stats: dict = {}               # what the data and models are: metrics/<stage>.json (git)
        self.runtime: dict = {}             # how this execution went: data/runtime/<stage>.json (see RUNTIME_DIR)
        self.outputs: dict[str, str] = {}   # path -> md5, for MLflow tags
        self.artifacts: list = []           # extra files (plots), or (path, run folder), logged to the MLflow run
        self.kept: int | None = None        # items the stage kept (samples, APIs, nodes): per-kept model usage
        self._gateway = None
        self._budget = None                 # the Budget of the gateway the stage used, for its usage stats
        self.shard_index, self.shard_count = shard_spec()

    # -- shards (callforge/core/shards.py) ------------------------------------------------------
    @property
    def sharded(self) -> bool:
        """This run is one shard of several: it writes shard files (out_path), merged later."""
        return self.shard_index is not None and self.shard_count > 1

    @property
    def merging(self) -> bool:
        """This run merges the shards into the stage's outputs: the stage's `merge` runs, not `run`."""
        return self.shard_index is None

    def shard_range(self, n_items: int) -> range:
        """This shard's contiguous block of item indices (all of them when not sharded)."""
        return shard_block(n_items, self.shard_index, self.shard_count) if self.sharded else range(n_items)

    def shard_lines(self, path, index: int | None = None) -> tuple[range, Iterator[bytes]]:
        """(the block's 0-based line numbers, its lines as bytes) of a JSON-lines file: this shard's
        block (all lines when not sharded), or shard `index`'s when merging."""
        n = count_lines(path)
        block = (shard_block(n, index, self.shard_count) if index is not None else self.shard_range(n))
        return block, _lines(path, block.start, block.stop)

    def numbered_lines(self, path) -> tuple[int, Iterator[bytes]]:
        """(the 1-based number of the first line, this shard's lines), for a stage that needs no count: a
        whole run streams the file without the count of its lines a shard's block needs (one more pass
        over 7 GB at 1M samples)."""
        if self.sharded:
            block, lines = self.shard_lines(path)
            return block.start + 1, lines
        return 1, _lines(path)

    def out_path(self, path) -> Path:
        """Where an output goes: itself, or its shard file when sharded."""
        return shard_path(path, self.shard_index, self.shard_count) if self.sharded else Path(path)

    def shard_files(self, path) -> list[Path]:
        """Merging: the shards' files (or folders) of an output, in shard order."""
        files = [shard_path(path, i, self.shard_count) for i in range(self.shard_count)]
        missing = [str(f) for f in files if not f.exists()]
        if missing:
            raise RuntimeError(f"stage {self.name}: cannot merge {path}: missing {', '.join(missing[:3])}")
        return files

    def concat_shards(self, path) -> Path:
        """Merging: an output as its shards' files concatenated in shard order (atomic)."""
        path = Path(path)
        with io.atomic_open(path, "wb") as out:
            for part in self.shard_files(path):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        self._record(path)
        return path

    @property
    def shard_stats(self) -> list[dict]:
        """Merging: what each shard's run returned (its metrics shard file), in shard order."""
        return self._shard_records(METRICS_DIR)

    @property
    def shard_runtime(self) -> list[dict]:
        """Merging: how each shard's run went (its data/runtime shard file), in shard order."""
        return self._shard_records(RUNTIME_DIR)

    def _shard_records(self, folder: Path) -> list[dict]:
        return [json.loads(p.read_text()) for p in self.shard_files(folder / f"{self.name}.json")]

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
        path = self.out_path(path)
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

    def record_usage(self, gateway) -> None:
        """Note a gateway's use: its counters of this run (paid calls, cache hits, retries) go to the
        runtime record, and what the stage's data cost (requests and tokens, cache replays included:
        callforge.core.budget) to the stats as `llm_usage`, per kept item when `kept` is set. The stage's
        own gateway is noted at the end; a stage that builds another (verify's judge) notes it itself."""
        self.runtime["llm"] = gateway.usage()
        self._budget = gateway.budget
        if gateway.budget.stopped:
            print(f"callforge {self.name}: stopped by the budget: {gateway.budget.stop_detail()}; what was made "
                  "is written, the rest recorded as budget.stopped", file=sys.stderr)

    def merge_usage(self, section_cfg, section: str, parts: list[dict] | None = None, plus=None) -> None:
        """Merging: the shards' model use (the `llm_usage` of `parts`, default every shard's stats) plus
        what the merge spent itself (`plus`, a Budget), as one Budget of `section` (`llm`, `judge`), so
        the merged stats say what an unsharded run's would."""
        from callforge.core.budget import Budget
        budget = Budget(section_cfg.budget, section)
        if plus is not None:
            budget.spent, budget.stopped = dataclasses.replace(plus.spent), plus.stopped
        spent = budget.spent
        for part in self.shard_stats if parts is None else parts:
            used = part.get("llm_usage") or {}
            spent.requests += used.get("requests", 0)
            spent.prompt_tokens += used.get("prompt_tokens", 0)
            spent.completion_tokens += used.get("completion_tokens", 0)
            spent.unreported += used.get("answers_without_token_counts", 0)
            cap = (used.get("budget") or {}).get("cap")
            budget.stopped = budget.stopped or (cap.rsplit(".", 1)[-1] if cap else None)
        self._budget = budget

    def _finish(self, elapsed: float) -> None:
        data, runtime = split_runtime(self.stats)
        self.stats, self.runtime = data, {**runtime, **self.runtime, "elapsed_s": round(elapsed, 3)}
        if self.merging:     # how each shard's run went
            self.runtime["shards"] = self.shard_runtime
        if self._gateway is not None:
            self.record_usage(self._gateway)
            self._gateway.close()
        if self._budget is not None:
            self.stats["llm_usage"] = self._budget.summary(self.kept)
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
    index, count = shard_spec()
    merge = merge_hook(run)
    if (index is None or count > 1) and merge is None:   # before any work: nothing is written
        print(f"callforge {name}: the stage does not run in shards ({SHARD_ENV} is set, and "
              f"callforge/{name}/stage.py has no merge); run it whole", file=sys.stderr)
        raise SystemExit(2)
    try:
        with stage_run(name, params_path) as ctx:
            from callforge.core.pipeline import load_pipeline
            spec = next((s for s in load_pipeline() if s.name == name), None)
            if spec is not None:          # inside a DVC project: only what dvc.yaml declares
                ctx.cfg = params_view(ctx.cfg, spec.params)
            stats = (merge if ctx.merging else run)(ctx.cfg, ctx)
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

