"""The stage harness: what every `stages/<name>.py` script shares.

    with stage_run("apis") as st:
        ...st.cfg, st.stats, st.write_jsonl(...), st.gateway...

It loads and validates params.yaml before any work (a bad config exits with one line naming the
key), writes outputs atomically (schema-checked), collects stats into metrics/<stage>.json, and logs
the stage into the variant's MLflow run. Steps compute; the harness records.
"""
from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

from callforge import io, records
from callforge.config import ConfigError, load_params, shared_path

METRICS_DIR = Path("metrics")


def quiet() -> bool:
    """Progress bars only on an interactive terminal; CI logs stay clean."""
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


class StageRun:
    def __init__(self, name: str, cfg):
        self.name = name
        self.cfg = cfg
        self.stats: dict = {}
        self.outputs: dict[str, str] = {}   # path -> md5, for MLflow tags
        self._gateway = None

    @property
    def offline(self) -> bool:
        return self.cfg.llm.provider == "offline"

    @property
    def gateway(self):
        if self._gateway is None:
            from callforge.gateway import Gateway
            self._gateway = Gateway(self.cfg.llm, stage=self.name, cache_dir=shared_path(self.cfg.cache_dir),
                                    seed=self.cfg.seed)
        return self._gateway

    def provenance(self, prompt_version: str) -> dict:
        return {"provider": self.cfg.llm.provider, "model": self.cfg.llm.model,
                "prompt_version": prompt_version, "seed": int(self.cfg.seed), "stage": self.name}

    # -- outputs ----------------------------------------------------------------------------------
    def _record(self, path) -> None:
        self.outputs[str(path)] = io.md5_file(path)

    def write_jsonl(self, path, rows: Iterable[dict], schema: str | None = None) -> int:
        rows = list(rows)
        if schema:
            records.check(schema, rows)
        n = io.write_jsonl(path, rows)
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
        if self._gateway is not None:
            self.stats["llm"] = self._gateway.usage()
            self._gateway.close()
        self.stats["elapsed_s"] = round(elapsed, 3)
        io.write_json(METRICS_DIR / f"{self.name}.json", self.stats)


@contextmanager
def stage_run(name: str, params_path: str = "params.yaml"):
    try:
        cfg = load_params(params_path)
    except ConfigError as e:
        print(f"callforge {name}: config error: {e}", file=sys.stderr)
        raise SystemExit(2)
    from callforge.tracking import Tracker

    tracker = Tracker(cfg)
    tracker.log_config(cfg)
    st = StageRun(name, cfg)
    t0 = time.perf_counter()
    try:
        yield st
    except BaseException:
        tracker.finish(ok=False)
        raise
    st._finish(time.perf_counter() - t0)
    tracker.log_stage(name, st.stats, st.outputs, METRICS_DIR)
    tracker.finish(ok=True)
