"""MLflow tracking: one dataset variant = one MLflow run, each value logged once, by what produced it.

Stages of a `dvc repro` are separate processes, so a stage finds its variant's run by the variant's
digest (tag `callforge.config_digest`: the config without run_name/tracking) or creates one. A run that
already holds this stage (tag `callforge.stage.<name>`) belongs to an earlier execution: a stage that
runs again (`dvc repro -f`, changed code) opens a new run, so no key is ever logged twice in one run.

What a stage logs: its own data stats (`<stage>.*`, = metrics/<stage>.json), its runtime figures
(`runtime.<stage>.*`, = data/runtime/<stage>.json: timings and cache reuse, not tracked by git), its
outputs as dataset inputs named by path with dvc.lock's md5 as digest; and, once per run, the stats and
outputs of every upstream stage that DVC skipped (their metrics files and dvc.lock entries are current,
because DVC checked them before this stage ran). Downstream files are never read: they may be stale.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import warnings
from pathlib import Path

from callforge.core.config import as_dict, digest, flatten, shared_path

DIGEST_TAG = "callforge.config_digest"
STAGE_TAG = "callforge.stage."          # + stage name: this run holds that stage's execution
NOT_VARIANT = ("run_name", "tracking", "config_check")   # config keys that do not change the data
ARTIFACT_MAX_BYTES = 5 << 20            # output files up to this size are also logged as run artifacts


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


def variant_digest(cfg) -> str:
    """What names a dataset variant: the config minus keys that do not change the data."""
    return digest({k: v for k, v in as_dict(cfg).items() if k not in NOT_VARIANT})


def overrides(cfg, base=None) -> list[str]:
    """`key=value` for every variant key whose value differs from conf/'s defaults (composed without overrides)."""
    if base is None:
        from callforge.core.config import ConfigError, compose, validate
        try:
            base = validate(compose([]))
        except ConfigError:
            return []
    mine, theirs = flatten(as_dict(cfg)), flatten(as_dict(base))
    out = []
    for k in sorted(set(mine) | set(theirs)):
        if k.split(".")[0] in NOT_VARIANT or mine.get(k) == theirs.get(k):
            continue
        v = mine.get(k)
        out.append(f"{k}={v if isinstance(v, str) else json.dumps(v, separators=(',', ':'))}")
    return out


def run_name(cfg) -> str:
    """What the variant is: run_name if set, else its overrides of conf/, else the DVC experiment name."""
    if cfg.run_name:
        return cfg.run_name
    diff = " ".join(overrides(cfg))
    if len(diff) > 240:
        diff = diff[:237] + "..."
    return diff or os.environ.get("DVC_EXP_NAME") or "default"


_BAD = re.compile(r"[^A-Za-z0-9_\-. /:]")


def metric_items(stats: dict, prefix: str) -> dict[str, float]:
    """Numeric leaves of a stats dict as MLflow metric names (booleans and strings are not metrics)."""
    out = {}
    for k, v in flatten(stats, prefix + ".").items():
        if k.endswith(".ci95") and isinstance(v, list) and len(v) == 2:     # an interval: its two ends
            out.update({_BAD.sub("_", f"{k}_{end}")[:250]: float(x) for end, x in zip(("low", "high"), v)})
        elif k.endswith(".significant") and isinstance(v, bool):            # a verdict: 1 or 0
            out[_BAD.sub("_", k)[:250]] = float(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[_BAD.sub("_", k)[:250]] = float(v)
    return out


def dataset_input(stage: str, path: str, md5: str):
    """An output as an MLflow dataset input, named by its path; the digest is dvc.lock's md5."""
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import DatasetInput, InputTag

    # mlflow registers its local-file source class at run time (not importable by name), once for
    # the "" and once for the "file" scheme, and warns that the two match
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        source = resolve_dataset_source(Path(path).resolve().as_uri())
    ds = MetaDataset(source=source, name=path, digest=md5[:36])
    return DatasetInput(ds._to_mlflow_entity(), [InputTag("mlflow.data.context", stage)])


def pipeline_outs(root: Path = Path(".")) -> dict[str, list[str]]:
    """{stage: its declared outs (not metrics or plots)} in dvc.yaml order; {} without a dvc.yaml."""
    from callforge.core.pipeline import load_pipeline

    return {s.name: s.outs for s in load_pipeline(root)}


def locked_md5s(lock: dict, declared: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """{stage: {out path: md5}} of a parsed dvc.lock, for the outs dvc.yaml declares (metrics are not datasets)."""
    return {name: {o["path"]: o["md5"] for o in s.get("outs") or [] if "md5" in o and o["path"] in declared.get(name, [])}
            for name, s in (lock.get("stages") or {}).items()}


def read_lock(root: Path = Path(".")) -> dict:
    """dvc.lock parsed ({} without one)."""
    import yaml

    try:
        return yaml.safe_load((root / "dvc.lock").read_text()) or {}
    except OSError:
        return {}


class Tracker:
    def __init__(self, cfg, stage: str | None = None, sweep: bool = False, disabled: bool = False):
        """stage: the stage about to log (picks or opens the variant's run); sweep: a multirun's parent run."""
        self.enabled = bool(cfg.tracking.enabled) and not disabled
        self.run_id = self.experiment_id = None
        if not self.enabled:
            return
        from mlflow.tracking import MlflowClient

        self.uri = tracking_uri(cfg)
        self.client = MlflowClient(tracking_uri=self.uri)
        exp = self.client.get_experiment_by_name(cfg.tracking.experiment)
        self.experiment_id = exp.experiment_id if exp else self.client.create_experiment(cfg.tracking.experiment)
        self.run_id = self._sweep(cfg) if sweep else self._find_or_create(cfg, stage)

    def _sweep(self, cfg) -> str:
        return self.client.create_run(self.experiment_id, run_name=cfg.run_name or "sweep",
                                      tags={"callforge.sweep": "true", "git_commit": git_commit()}).info.run_id

    def _find_or_create(self, cfg, stage: str | None) -> str:
        d = variant_digest(cfg)
        parent = os.environ.get("CALLFORGE_PARENT_RUN_ID")
        flt = f"tags.`{DIGEST_TAG}` = '{d}'" + (f" and tags.`mlflow.parentRunId` = '{parent}'" if parent else "")
        found = self.client.search_runs([self.experiment_id], filter_string=flt,
                                        order_by=["attributes.start_time DESC"], max_results=1)
        if found and (stage is None or STAGE_TAG + stage not in found[0].data.tags):
            return found[0].info.run_id
        tags = {DIGEST_TAG: d, "git_commit": git_commit()}
        if parent:
            tags["mlflow.parentRunId"] = parent
        if os.environ.get("DVC_EXP_NAME"):
            tags["dvc_exp_name"] = os.environ["DVC_EXP_NAME"]
        return self.client.create_run(self.experiment_id, run_name=run_name(cfg), tags=tags).info.run_id

    def log_config(self, cfg) -> None:
        """Params (the flattened config) and params.yaml, once per run."""
        if not self.enabled:
            return
        from mlflow.entities import Param
        from omegaconf import OmegaConf

        existing = self.client.get_run(self.run_id).data.params
        params = [Param(k, json.dumps(v) if not isinstance(v, str) else v) for k, v in flatten(as_dict(cfg)).items()
                  if k not in existing and k.split(".")[0] not in NOT_VARIANT]
        for i in range(0, len(params), 100):
            self.client.log_batch(self.run_id, params=params[i:i + 100])
        if not existing:
            self.client.log_text(self.run_id, OmegaConf.to_yaml(cfg, resolve=True), "config/params.yaml")

    def log_variant(self, stats: dict[str, dict], runtime: dict[str, dict], outs: dict[str, dict[str, str]],
                    ran: list[str] = ()) -> None:
        """Log stage stats ({stage: stats}), runtime figures and outputs ({stage: {path: md5}}), skipping every
        metric and input the run already holds, so each value lands once. `ran`: stages this execution ran."""
        if not self.enabled:
            return
        from mlflow.entities import Metric, RunTag

        run = self.client.get_run(self.run_id)
        have = set(run.data.metrics)
        metrics = {}
        for stage, st in stats.items():
            metrics.update(metric_items(st, stage))
        for stage, rt in runtime.items():
            metrics.update(metric_items(rt, f"runtime.{stage}"))
        items = [Metric(k, v, 0, 0) for k, v in sorted(metrics.items()) if k not in have]
        for i in range(0, len(items), 1000):
            self.client.log_batch(self.run_id, metrics=items[i:i + 1000])
        have_inputs = {d.dataset.name for d in (run.inputs.dataset_inputs if run.inputs else [])}
        new = [(stage, p, md5) for stage, o in outs.items() for p, md5 in o.items() if p not in have_inputs]
        tags = [RunTag(f"callforge.md5.{p}", md5) for _, p, md5 in new] + [RunTag(STAGE_TAG + s, "ran") for s in ran]
        if tags:
            self.client.log_batch(self.run_id, tags=tags)
        if new:
            self.client.log_inputs(self.run_id, [dataset_input(stage, p, md5) for stage, p, md5 in new])

    def log_stage(self, stage: str, stats: dict, runtime: dict, outputs: dict[str, str]) -> None:
        """This stage's stats, runtime and outputs, plus what the run lacks of the stages upstream of it."""
        if not self.enabled:
            return
        from callforge.core.io import md5_file

        declared = pipeline_outs()
        own = {p: md5_file(p, outputs) for p in declared.get(stage, []) if Path(p).exists()} if declared \
            else dict(outputs)
        all_stats, outs = {stage: stats}, {stage: own}
        if stage in declared:
            locked = locked_md5s(read_lock(), declared)
            for up in list(declared)[:list(declared).index(stage)]:
                f = Path("metrics") / f"{up}.json"
                try:
                    all_stats[up] = json.loads(f.read_text())
                except (OSError, ValueError):
                    pass
                outs[up] = locked.get(up, {})
        self.log_variant(all_stats, {stage: runtime}, outs, ran=[stage])
        own_file = Path("metrics") / f"{stage}.json"
        if own_file.exists():
            self.client.log_artifact(self.run_id, str(own_file), artifact_path="metrics")
        for path in own:          # small outputs travel with the run (e.g. evaluate's answers: compare pairs them)
            if Path(path).is_file() and Path(path).stat().st_size <= ARTIFACT_MAX_BYTES:
                self.client.log_artifact(self.run_id, path, artifact_path="outputs")

    def log_artifact(self, path: Path | str, artifact_path: str | None = None) -> None:
        """A file, or a folder's whole tree (its files under artifact_path)."""
        if self.enabled:
            log = self.client.log_artifacts if Path(path).is_dir() else self.client.log_artifact
            log(self.run_id, str(path), artifact_path=artifact_path)

    def finish(self, ok: bool) -> None:
        if self.enabled:
            self.client.set_terminated(self.run_id, "FINISHED" if ok else "FAILED")


class BackgroundTracker:
    """A stage's Tracker in a forked process. Importing mlflow and finding the run take ~2 s of one
    core; here they overlap the stage's own work instead of preceding it. Calls are queued in order;
    finish() waits for all of them and raises TrackingError if any failed, so a stage that could not
    log still fails (after its outputs are written, as before). If the stage process dies, the helper
    sees its pipe close and marks the run FAILED."""

    def __init__(self, cfg, stage: str):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")   # fork: cfg travels without pickling, nothing to re-import
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(cfg, stage, child, self._conn), name="callforge-tracker", daemon=True)
        self._proc.start()
        child.close()

    def _send(self, method: str, *args) -> None:
        try:
            self._conn.send((method, args))
        except (BrokenPipeError, OSError):
            pass   # the helper has stopped; finish() reports why

    def log_stage(self, stage: str, stats: dict, runtime: dict, outputs: dict[str, str]) -> None:
        self._send("log_stage", stage, stats, runtime, outputs)

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


def _serve(cfg, stage, conn, parent_end) -> None:
    """The helper: open the run, log the config, then run the stage's calls until "done" (or EOF)."""
    import signal
    import traceback

    from callforge.core.gc_pause import gc_paused

    parent_end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the stage's to handle; it then sends finish
    error = None
    tracker = None
    with gc_paused():                               # collecting during mlflow's import cost ~0.5 s (measured)
        try:
            tracker = Tracker(cfg, stage)
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
