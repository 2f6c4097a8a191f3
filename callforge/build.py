"""`callforge build`: the Hydra app over conf/ — one dataset variant per job, sweeps with -m.

    callforge build -m split.seed=1,2 dialogs.samples=500,1000           # 4 variants
    callforge build -m hydra/launcher=joblib seed=0,1,2                   # local parallel
    callforge build -m hydra/launcher=submitit_slurm ...                  # a SLURM cluster

Each job composes its config, validates it, writes its params.yaml into its own output folder and
runs the pipeline there (callforge.executor), reusing identical upstream work from the shared store.
Each job is one MLflow run; in a multirun they are children of one sweep run.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from omegaconf import DictConfig

from callforge.config import project_root, shared_path, validate, write_params

ENV_UNTIL = "CALLFORGE_BUILD_UNTIL"


def _job(cfg: DictConfig) -> dict:
    from hydra.core.hydra_config import HydraConfig

    from callforge.executor import load_pipeline, run_pipeline
    from callforge.io import md5_file
    from callforge.tracking import Tracker

    cfg = validate(cfg)
    root = project_root()
    workdir = Path(HydraConfig.get().runtime.output_dir)
    write_params(cfg, workdir / "params.yaml")
    os.environ.pop("CALLFORGE_MLFLOW_RUN_ID", None)
    tracker = Tracker(cfg, fresh=True)
    env = {"CALLFORGE_MLFLOW_RUN_ID": tracker.run_id or "", "CALLFORGE_ROOT": str(root),
           "MLFLOW_TRACKING_URI": tracker.uri}
    status = run_pipeline(workdir, cfg, root, store=shared_path(cfg.cache_dir) / "stages",
                          until=os.environ.get(ENV_UNTIL) or None, env=env,
                          log=lambda m: print(f"{workdir.name}: {m}", flush=True))
    # Stages restored from the store did not log themselves: log their stats and outputs into this run.
    for spec in load_pipeline(root):
        if status.get(spec.name) == "reused":
            metrics_file = workdir / "metrics" / f"{spec.name}.json"
            stats = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
            outs = {str(workdir / o): md5_file(workdir / o) for o in spec.outs
                    if (workdir / o).exists() and not o.startswith("metrics/")}
            tracker.log_stage(spec.name, stats, outs, workdir / "metrics")
    tracker.log_config(cfg)
    tracker.finish(ok=True)
    return status


def main(args: list[str], until: str | None = None) -> None:
    """Run the Hydra app with `args` as its command line (overrides, -m, hydra/launcher=...)."""
    import sys

    import hydra

    root = project_root()
    os.environ["CALLFORGE_ROOT"] = str(root)
    if until:
        os.environ[ENV_UNTIL] = until
    if any(a in ("-m", "--multirun") for a in args) and not os.environ.get("CALLFORGE_PARENT_RUN_ID"):
        from callforge.config import compose
        from callforge.tracking import Tracker

        parent = Tracker(validate(compose([a for a in args if "=" in a and "," not in a and not a.startswith("hydra")])),
                         fresh=True, sweep=True)
        if parent.run_id:
            os.environ["CALLFORGE_PARENT_RUN_ID"] = parent.run_id
            print(f"sweep run {parent.run_id} (MLflow experiment {parent.experiment_id})", flush=True)
    app = hydra.main(config_path=str(root / "conf"), config_name="config", version_base="1.3")(_job)
    sys.argv = ["callforge-build", *args]
    app()
