"""MLflow tracking: one pipeline execution = one dataset variant = one MLflow run.

Stages of a `dvc repro` are separate processes, so a stage finds its run by the variant's config
digest (tag `callforge.config_digest`) or creates it. CALLFORGE_MLFLOW_RUN_ID pins a run explicitly
(used by `callforge build` for sweep children). Every stage logs all metrics/*.json present, so the
run holds the whole variant even when DVC skipped unchanged upstream stages.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import warnings
from pathlib import Path

from callforge.config import as_dict, digest, flatten, shared_path

DIGEST_TAG = "callforge.config_digest"


def tracking_uri(cfg) -> str:
    uri = os.environ.get("MLFLOW_TRACKING_URI") or cfg.tracking.tracking_uri
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):   # relative file: the project's store
        uri = f"sqlite:///{shared_path(uri[len('sqlite:///'):])}"
    return uri


def git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


_BAD = re.compile(r"[^A-Za-z0-9_\-. /:]")


def metric_items(stats: dict, prefix: str) -> dict[str, float]:
    """Numeric leaves of a stats dict as MLflow metric names (booleans and strings are not metrics)."""
    out = {}
    for k, v in flatten(stats, prefix + ".").items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[_BAD.sub("_", k)[:250]] = float(v)
    return out


def dataset_input(stage: str, path: str, md5: str):
    """An output as an MLflow dataset input; the digest is DVC's md5 (polars' row hash is not stable across versions)."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import DatasetInput, InputTag

    # mlflow registers its local-file source class at run time (not importable by name), once for
    # the "" and once for the "file" scheme, and warns that the two match
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        source = resolve_dataset_source(Path(path).resolve().as_uri())
    ds = MetaDataset(source=source, name=f"{stage}/{Path(path).name}",
                     digest=md5[:36])
    return DatasetInput(ds._to_mlflow_entity(), [InputTag("mlflow.data.context", stage)])


class Tracker:
    def __init__(self, cfg, fresh: bool = False, sweep: bool = False, disabled: bool = False):
        """fresh: always start a new run (a build job); sweep: the parent run of a multirun."""
        self.enabled = bool(cfg.tracking.enabled) and not disabled
        self.run_id = self.experiment_id = None
        if not self.enabled:
            return
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri(cfg)
        self.client = MlflowClient(tracking_uri=self.uri)
        exp = self.client.get_experiment_by_name(cfg.tracking.experiment)
        self.experiment_id = exp.experiment_id if exp else self.client.create_experiment(cfg.tracking.experiment)
        self.run_id = self._find_or_create(cfg, fresh, sweep)

    def _find_or_create(self, cfg, fresh: bool, sweep: bool) -> str:
        pinned = os.environ.get("CALLFORGE_MLFLOW_RUN_ID")
        if pinned and not fresh:
            return pinned
        d = digest(cfg)
        if sweep:
            return self.client.create_run(self.experiment_id, run_name=cfg.run_name or "sweep",
                                          tags={"callforge.sweep": "true", "git_commit": git_commit()}).info.run_id
        if not fresh:
            found = self.client.search_runs([self.experiment_id], filter_string=f"tags.`{DIGEST_TAG}` = '{d}'",
                                            order_by=["attributes.start_time DESC"], max_results=1)
            if found:
                return found[0].info.run_id
        tags = {DIGEST_TAG: d}
        if os.environ.get("CALLFORGE_PARENT_RUN_ID"):
            tags["mlflow.parentRunId"] = os.environ["CALLFORGE_PARENT_RUN_ID"]
        run = self.client.create_run(self.experiment_id, run_name=cfg.run_name or f"variant-{d[:8]}", tags=tags)
        return run.info.run_id

    def log_config(self, cfg) -> None:
        if not self.enabled:
            return
        from mlflow.entities import Param, RunTag

        params = [Param(k, json.dumps(v) if not isinstance(v, str) else v) for k, v in flatten(as_dict(cfg)).items()]
        existing = self.client.get_run(self.run_id).data.params
        params = [p for p in params if p.key not in existing]
        for i in range(0, len(params), 100):
            self.client.log_batch(self.run_id, params=params[i:i + 100])
        from omegaconf import OmegaConf
        self.client.log_text(self.run_id, OmegaConf.to_yaml(cfg, resolve=True), "config/params.yaml")
        tags = [RunTag("git_commit", git_commit())]
        if os.environ.get("DVC_EXP_NAME"):
            tags.append(RunTag("dvc_exp_name", os.environ["DVC_EXP_NAME"]))
        self.client.log_batch(self.run_id, tags=tags)

    def log_stage(self, stage: str, stats: dict, outputs: dict[str, str], metrics_dir: Path) -> None:
        """Stats of this stage and of every upstream stage present; output md5s as tags; metric files as artifacts."""
        if not self.enabled:
            return
        from mlflow.entities import Metric, RunTag

        metrics = metric_items(stats, stage)
        for f in sorted(metrics_dir.glob("*.json")):
            if f.stem != stage:
                try:
                    metrics.update(metric_items(json.loads(f.read_text()), f.stem))
                except (ValueError, OSError):
                    pass
        items = [Metric(k, v, 0, 0) for k, v in sorted(metrics.items())]
        for i in range(0, len(items), 1000):
            self.client.log_batch(self.run_id, metrics=items[i:i + 1000])
        tags = [RunTag(f"callforge.md5.{stage}.{Path(p).name}", md5) for p, md5 in outputs.items()]
        if tags:
            self.client.log_batch(self.run_id, tags=tags)
            self.client.log_inputs(self.run_id, [dataset_input(stage, p, md5) for p, md5 in outputs.items()])
        own = metrics_dir / f"{stage}.json"
        if own.exists():
            self.client.log_artifact(self.run_id, str(own), artifact_path="metrics")

    def log_artifact(self, path: Path | str, artifact_path: str | None = None) -> None:
        if self.enabled:
            self.client.log_artifact(self.run_id, str(path), artifact_path=artifact_path)

    def finish(self, ok: bool) -> None:
        if self.enabled:
            self.client.set_terminated(self.run_id, "FINISHED" if ok else "FAILED")


class BackgroundTracker:
    """A stage's Tracker in a forked process. Importing mlflow and finding the run take ~2 s of one
    core; here they overlap the stage's own work instead of preceding it. Calls are queued in order;
    finish() waits for all of them and raises TrackingError if any failed, so a stage that could not
    log still fails (after its outputs are written, as before). If the stage process dies, the helper
    sees its pipe close and marks the run FAILED."""

    def __init__(self, cfg):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")   # fork: cfg travels without pickling, nothing to re-import
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(cfg, child, self._conn), name="callforge-tracker", daemon=True)
        self._proc.start()
        child.close()

    def _send(self, method: str, *args) -> None:
        try:
            self._conn.send((method, args))
        except (BrokenPipeError, OSError):
            pass   # the helper has stopped; finish() reports why

    def log_stage(self, stage: str, stats: dict, outputs: dict[str, str], metrics_dir: Path) -> None:
        self._send("log_stage", stage, stats, outputs, metrics_dir)

    def log_artifact(self, path: Path | str, artifact_path: str | None = None) -> None:
        self._send("log_artifact", str(path), artifact_path)

    def finish(self, ok: bool) -> None:
        self._send("finish", ok)
        self._send("done")
        try:
            error = self._conn.recv()
        except EOFError:
            error = f"the tracking helper exited with code {self._proc.exitcode}"
        self._proc.join()
        self._conn.close()
        if error:
            raise TrackingError(error)


class TrackingError(RuntimeError):
    pass


def _serve(cfg, conn, parent_end) -> None:
    """The helper: open the run, log the config, then run the stage's calls until "done" (or EOF)."""
    import signal
    import traceback

    from callforge.stage import gc_paused

    parent_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the stage's to handle; it then sends finish
    error = None
    tracker = None
    with gc_paused():                               # collecting during mlflow's import cost ~0.5 s (measured)
        try:
            tracker = Tracker(cfg)
            tracker.log_config(cfg)
        except Exception as e:
            error = f"MLflow tracking ({tracking_uri(cfg)}): {type(e).__name__}: {e}"
            traceback.print_exc()
    while True:
        try:
            msg = conn.recv()
        except EOFError:               # the stage died without finishing: say so in its run
            if tracker is not None:
                tracker.finish(ok=False)
            return
        method, args = msg
        if method == "done":
            conn.send(error)
            return
        if tracker is None or error:
            continue
        try:
            getattr(tracker, method)(*args)
        except Exception as e:
            error = f"MLflow tracking: {method}: {type(e).__name__}: {e}"
            traceback.print_exc()
