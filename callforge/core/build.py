"""`callforge build`: a Hydra sweep over conf/ whose jobs are DVC experiments.

    callforge build -m dialogs.samples=200,400 split.diversity.k=10,30     # 4 variants
    callforge build --until split -m split.difficulty.samples=3,6          # stop after split
    callforge build -m hydra/launcher=joblib ...                            # jobs in parallel
    callforge build -m hydra/launcher=ray hydra.launcher.ray.init.address=HEAD:6379 ...   # on a Ray cluster

Every combination is composed and checked first: one bad value stops the sweep, in one line naming the
key, before any job starts. Each job then runs `dvc exp run --temp -n <name> -S <override>...`: DVC
composes conf/ with the same overrides, and DVC's cache and run-cache are the one store of work. A stage
whose command, dependencies (resolved as DVC resolves them, `${...}` included) and params equal those
of an earlier run, whether by `dvc repro` in this workspace or by another job, is restored, not re-run.
Each variant is one MLflow run named by its overrides, a child of one sweep run, which always ends
FINISHED or FAILED. Results stay as DVC experiments: `dvc exp show`, `dvc exp apply <name>`.
"""
from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from callforge.core.config import ConfigError, compose, project_root, validate

ENV_UNTIL = "CALLFORGE_BUILD_UNTIL"
ENV_FAILURES = "CALLFORGE_BUILD_FAILURES"     # a file each failed job appends its variant's name to
ENV_PARENT = "CALLFORGE_PARENT_RUN_ID"
# hydra-ray-launcher 1.2 passes ray.init an object store size (78 MB) unless told one, and Ray refuses any size
# when it joins a running cluster (init.address): the cluster sizes its own store
RAY_LAUNCHER_DEFAULTS = ["++hydra.launcher.ray.init.object_store_memory=null"]


class BuildError(Exception):
    """A sweep that could not run. str() is one line."""


def exp_name(overrides: list[str]) -> str:
    """A DVC experiment name (a git ref part) saying what the variant is, e.g. `dialogs.samples=30`."""
    text = re.sub(r"[^A-Za-z0-9._=,+-]", "-", "+".join(overrides) or "default")[:200]
    text = re.sub(r"\.{2,}", ".", text).strip(".")        # git refuses "..", and a leading or trailing "."
    return text + "-" if text.endswith(".lock") else text


def combinations(overrides: list[str]) -> list[list[str]]:
    """Expand Hydra sweep syntax (a=1,2 b=x,y) into one override list per job, as Hydra's sweeper does."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    choices = []
    for o in OverridesParser.create().parse_overrides(overrides):
        if o.is_sweep_override():
            key = o.get_key_element()
            choices.append([f"{key}={v}" for v in o.sweep_string_iterator()])
        else:
            choices.append([o.input_line])
    return [list(c) for c in itertools.product(*choices)]


def _job(cfg) -> None:
    """One variant: `dvc exp run --temp` with this job's overrides, then the run completed from the experiment."""
    from hydra.core.hydra_config import HydraConfig

    overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("hydra")]
    name = exp_name(overrides)
    try:
        run_variant(validate(cfg), overrides, name, until=os.environ.get(ENV_UNTIL) or None)
    except (BuildError, ConfigError) as e:
        print(f"callforge: variant {name} failed: {e}", file=sys.stderr, flush=True)
        failures = os.environ.get(ENV_FAILURES)
        if failures:
            with open(failures, "a") as f:
                f.write(name + "\n")


def _job_with_env(env: dict[str, str]):
    """The job, carrying what it reads from this process's environment: a Ray worker or a SLURM node does
    not inherit the environment of `callforge build`, nor start in the project (where relative paths, the
    MLflow store's among them, resolve). It runs with Hydra's global state set aside (and put back after),
    so that composing conf/ inside it (the variant's run name) works under every launcher."""
    def job(cfg) -> None:
        from hydra.core.global_hydra import GlobalHydra
        from hydra.initialize import get_gh_backup, restore_gh_from_backup

        os.environ.update(env)
        cwd, backup = os.getcwd(), get_gh_backup()
        os.chdir(env["CALLFORGE_ROOT"])
        GlobalHydra.instance().clear()
        try:
            _job(cfg)
        finally:
            restore_gh_from_backup(backup)
            os.chdir(cwd)
    return job


def _is_hydra_override(arg: str) -> bool:
    return arg.lstrip("+~").startswith("hydra")


def _git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"git {' '.join(args)}: {(proc.stderr.strip().splitlines() or ['failed'])[-1]}")
    return proc.stdout


def run_variant(cfg, overrides: list[str], name: str, until: str | None = None) -> None:
    root = project_root()
    dvc = [str(Path(sys.executable).with_name("dvc"))]
    # the same name again is the same variant: replace the old experiment instead of failing on the name
    subprocess.run([*dvc, "exp", "remove", name], cwd=root, capture_output=True)
    cmd = [*dvc, "exp", "run", "--temp", "-n", name, *[a for o in overrides for a in ("-S", o)], *([until] if until else [])]
    print(f"[{name}] {' '.join(cmd[1:])}", flush=True)
    # dvc.yaml's `python` is this interpreter, also where PATH says otherwise (a cluster worker's)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(cmd, cwd=root, env=env)
    if proc.returncode != 0:
        raise BuildError(f"dvc exp run exited with {proc.returncode} (its error is above)")
    _complete_run(cfg, root, name)


def _complete_run(cfg, root: Path, name: str) -> None:
    """Stages DVC restored from its run-cache did not log: add their stats and outputs to the variant's run,
    read from the experiment's commit (the metrics and dvc.lock DVC committed), each value once."""
    import json

    import yaml

    from callforge.core.tracking import Tracker, locked_md5s, pipeline_outs

    if not cfg.tracking.enabled:
        return
    head = _git(root, "rev-parse", "HEAD").strip()
    ref = f"refs/exps/{head[:2]}/{head[2:]}/{name}"

    def show(path: str) -> str | None:
        proc = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=root, capture_output=True, text=True)
        return proc.stdout if proc.returncode == 0 else None

    stats = {}
    for stage in pipeline_outs(root):
        text = show(f"metrics/{stage}.json")
        if text:
            stats[stage] = json.loads(text)
    outs = locked_md5s(yaml.safe_load(show("dvc.lock") or "{}") or {}, pipeline_outs(root))
    tracker = Tracker(cfg)
    tracker.log_config(cfg)
    tracker.log_variant(stats, {}, outs)
    tracker.finish(ok=True)


def main(args: list[str], until: str | None = None) -> None:
    """Check every variant of the sweep, then run the Hydra app (jobs = DVC experiments) under one sweep run."""
    import hydra

    from callforge.core.tracking import Tracker

    root = project_root()
    os.environ["CALLFORGE_ROOT"] = str(root)
    if until:
        os.environ[ENV_UNTIL] = until
    multirun = any(a in ("-m", "--multirun") for a in args)
    overrides = [a for a in args if a not in ("-m", "--multirun") and not _is_hydra_override(a)]
    jobs = combinations(overrides) if multirun else [overrides]
    for job in jobs:                           # nothing starts unless every variant composes and validates
        try:
            validate(compose(job, root))
        except ConfigError as e:
            raise ConfigError(f"{e} (variant {exp_name(job)})") from None
    parent = None
    if multirun and not os.environ.get(ENV_PARENT):
        parent = Tracker(validate(compose([o for o in overrides if "," not in o], root)), sweep=True)
        if parent.run_id:
            os.environ[ENV_PARENT] = parent.run_id
            print(f"sweep run {parent.run_id} (MLflow experiment {parent.experiment_id}): {len(jobs)} variants",
                  flush=True)
    # in the project (DVC's ignored tmp folder), which every node of a cluster sees, not in this node's /tmp
    (root / ".dvc" / "tmp").mkdir(parents=True, exist_ok=True)
    fd, failures = tempfile.mkstemp(prefix="callforge-build-", suffix=".txt", dir=root / ".dvc" / "tmp")
    os.close(fd)
    os.environ[ENV_FAILURES] = failures
    env = {k: os.environ[k] for k in ("CALLFORGE_ROOT", ENV_PARENT, ENV_UNTIL, ENV_FAILURES, "MLFLOW_TRACKING_URI")
           if k in os.environ}
    if "hydra/launcher=ray" in args:           # a default the user's own value replaces
        args = args + [d for d in RAY_LAUNCHER_DEFAULTS
                       if not any(a.lstrip("+").startswith(d.lstrip("+").split("=")[0]) for a in args)]
    ok = False
    try:
        app = hydra.main(config_path=str(root / "conf"), config_name="config", version_base="1.3")(_job_with_env(env))
        sys.argv = ["callforge-build", *args]
        try:
            app()
        except SystemExit as e:                # Hydra exits on its own errors (it has printed them)
            if e.code:
                raise BuildError(f"Hydra stopped the sweep (exit {e.code})") from None
        failed = Path(failures).read_text().split()
        if failed:
            raise BuildError(f"{len(failed)} of {len(jobs)} variants failed: {', '.join(failed)}")
        ok = True
    finally:
        Path(failures).unlink(missing_ok=True)
        if parent is not None:
            parent.finish(ok=ok)
