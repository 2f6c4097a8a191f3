"""The `callforge` command: everything that is not a DVC stage."""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from callforge.core.config import ConfigError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="callforge: build function-calling training data (ToolACE method) with DVC, Hydra and MLflow.")


@app.callback()
def _root():
    """callforge: build function-calling training data (ToolACE method) with DVC, Hydra and MLflow."""


def fail(msg: str, code: int = 2):
    typer.echo(f"callforge: {msg}", err=True)
    raise typer.Exit(code)


@app.command()
def params(overrides: Optional[List[str]] = typer.Argument(None, help="Hydra overrides, e.g. llm=compatible llm.temperature=0.3"),
           out: str = typer.Option("params.yaml", help="where to write the composed snapshot"),
           check: bool = typer.Option(False, "--check", help="only check that OUT is up to date with conf/")):
    """Compose conf/ (+ overrides) into params.yaml, validating it first."""
    from callforge.core.config import as_dict, compose, load_params, validate, write_params

    try:
        cfg = compose(overrides or [])
        validate(cfg)
        if check:
            current = as_dict(load_params(out))
            if current != as_dict(validate(cfg)):
                fail(f"{out} is stale against conf/: run `callforge params`", 1)
            typer.echo(f"{out} is up to date")
            return
    except ConfigError as e:
        fail(f"config error: {e}")
    write_params(cfg, out)
    typer.echo(f"wrote {out}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def build(ctx: typer.Context,
          until: Optional[str] = typer.Option(None, help="stop after this stage (e.g. split)")):
    """Build dataset variants with Hydra: `callforge build -m key=a,b other=x,y` (one job per variant).

    Every variant is checked before any job starts; each job is one `dvc exp run --temp` (DVC's cache and
    run-cache restore identical work) and one MLflow run named by its overrides, under one sweep run.
    """
    from callforge.core import build as build_mod

    try:
        build_mod.main(list(ctx.args), until=until)
    except ConfigError as e:
        fail(f"config error: {e}")
    except build_mod.BuildError as e:
        fail(str(e), 1)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def preview(ctx: typer.Context, n: int = typer.Argument(..., help="how many samples"),
            upstream: str = typer.Option("auto", help="auto: reuse the workspace's data/taxonomy.json and "
                                                      "data/apis.jsonl when both exist; run: always make them"),
            keep: bool = typer.Option(False, "--keep", help="keep the scratch folder and print its path")):
    """Run N samples through every stage up to verify against the configured model (Hydra overrides as in
    `callforge build`), in a scratch folder, and print them: dialog, checks, judge verdicts, tokens."""
    from callforge.preview import PreviewError
    from callforge.preview import preview as run_preview

    try:
        kept = run_preview(n, list(ctx.args), upstream=upstream, keep=keep)
    except ConfigError as e:
        fail(f"config error: {e}")
    except PreviewError as e:
        fail(f"preview: {e}", 1)
    if kept is not None:
        typer.echo(f"kept {kept}")


@app.command()
def compare(run_ids: Optional[List[str]] = typer.Argument(None, help="MLflow run ids (default: the last sweep)"),
            sweep: Optional[str] = typer.Option(None, help="parent run id of a sweep"),
            metric: Optional[List[str]] = typer.Option(None, help="glob of metrics to show (repeatable); "
                                                                  "a pattern starting with `runtime` shows timings"),
            all_rows: bool = typer.Option(False, "--all", help="show every row, equal ones and runtime.* timings too"),
            fmt: str = typer.Option("text", "--format", help="text, md, csv or json"),
            experiment: Optional[str] = typer.Option(None, help="MLflow experiment (default: tracking.experiment)")):
    """Show dataset variants side by side: the params, dataset stats and downstream metrics that differ."""
    from callforge.core import compare as cmp

    if fmt not in cmp.FORMATS:
        fail(f"--format must be one of {', '.join(cmp.FORMATS)}, not {fmt!r}")
    from mlflow.tracking import MlflowClient

    from callforge.core.config import compose, validate
    from callforge.core.tracking import tracking_uri

    try:
        cfg = validate(compose([]))
    except ConfigError as e:
        fail(f"config error: {e}")
    client = MlflowClient(tracking_uri=tracking_uri(cfg))
    try:
        runs = cmp.find_runs(client, experiment or cfg.tracking.experiment, sweep, run_ids, last_sweep=not run_ids)
    except ValueError as e:
        fail(str(e), 1)
    if not runs:
        fail("no runs to compare", 1)
    typer.echo(cmp.render(cmp.table(runs, metric, all_rows, answers=cmp.load_answers(client, runs)), fmt))


@app.command()
def report(runs: Optional[List[str]] = typer.Argument(None, help="with --compare: MLflow runs (names or ids)"),
           variant: Optional[str] = typer.Option(None, help="an MLflow run (name or id): fetch the report its "
                                                            "pipeline logged"),
           compare_runs: bool = typer.Option(False, "--compare", help="put RUNS side by side on one page"),
           all_rows: bool = typer.Option(False, "--all", help="with --compare: equal rows too"),
           out: Optional[str] = typer.Option(None, help="folder to write into (default data/reports/<name>/)"),
           experiment: Optional[str] = typer.Option(None, help="MLflow experiment (default: tracking.experiment)")):
    """An HTML report: the workspace's (runs the report stage), a variant's (--variant), or variants
    side by side (--compare A B ...). Each opens offline from file://."""
    import os
    from pathlib import Path

    from callforge.core.config import compose, project_root, validate
    from callforge.core.errors import CallforgeError

    if not variant and not compare_runs:
        if runs:
            fail("runs are given with --compare")
        from callforge.core.stage import main as run_stage
        from callforge.report.stage import OUT, run

        root = project_root()
        os.chdir(root)               # the stage reads and writes the project's paths, as under DVC
        run_stage("report", run)
        typer.echo(f"wrote {root / OUT / 'index.html'}")
        return
    from mlflow.tracking import MlflowClient

    from callforge.core.tracking import tracking_uri
    from callforge.report import variants

    try:
        cfg = validate(compose([]))
    except ConfigError as e:
        fail(f"config error: {e}")
    client = MlflowClient(tracking_uri=tracking_uri(cfg))
    exp = experiment or cfg.tracking.experiment
    try:
        if compare_runs:
            path = variants.write_comparison(client, exp, [*([variant] if variant else []), *(runs or [])],
                                             Path(out) if out else None, all_rows)
        else:
            path = variants.fetch_variant(client, exp, variant, Path(out) if out else None)
    except CallforgeError as e:
        fail(str(e), 1)
    typer.echo(f"wrote {path.resolve()}")


@app.command()
def ablation(overrides: Optional[List[str]] = typer.Argument(None, help="overrides of finetune / evaluate, e.g. finetune.max_steps=8"),
             preset: str = typer.Option("cpu", help="conf/ablation/<preset>.yaml: cpu (fits 2 cores) or gpu (ToolACE's recipe)")):
    """ToolACE's subset ablation: fine-tune on full, easy/medium/hard and div_low/medium/high, evaluate each on the
    same BFCL questions, and write the paired table to metrics/ablation.{md,json,png} and MLflow (resumable)."""
    from callforge.ablation.run import cli

    try:
        cli(preset, list(overrides or []))
    except ConfigError as e:
        fail(f"config error: {e}")


@app.command()
def bounds(scores: str = typer.Option("data/scores.jsonl", help="the complexity stage's output"),
           dialogs: str = typer.Option("data/dialogs.jsonl", help="samples, for judging the model's own answers"),
           judge: bool = typer.Option(True, help="judge greedy answers with the local model (scorer=local)"),
           write: Optional[str] = typer.Option("conf/dialogs/default.yaml",
                                               help="dialogs config to write steering.lower/upper into ('' = print only)")):
    """Derive steering bounds from complexity scores (ToolACE §3) and write them into the dialogs config.

    Lower: a quantile of the losses of samples the local model already answers correctly; upper: a high
    percentile of all losses; either falls back to dialogs.steering.*_percentile. Then refreshes params.yaml.
    The bounds are in the `scorer` section's units: they steer when that scorer steers (steering.scorer
    complexity, or auto choosing the model); when auto falls back to the heuristic, bounds are calibrated."""
    import json

    from callforge.core import io
    from callforge.core.config import compose, validate, write_params
    from callforge.complexity import make_scorer
    from callforge.complexity.steering_bounds import derive_bounds, judge_correct, write_steering_bounds

    try:
        cfg = validate(compose([]))
        recs = io.read_jsonl(scores)
    except ConfigError as e:
        fail(f"config error: {e}")
    except OSError as e:
        fail(f"{e.filename}: {e.strerror} (run `dvc repro complexity` first)", 1)
    b, st = cfg.scorer.bounds, cfg.dialogs.steering
    correct = None
    if judge and cfg.scorer.backend == "local":
        scorer = make_scorer(cfg.scorer)
        if hasattr(scorer, "greedy"):
            picked = []
            for s in io.iter_jsonl(dialogs):
                picked.append(s)
                if len(picked) >= b.judge_samples:
                    break
            with scorer:
                correct = judge_correct(scorer, picked, max_tokens=b.judge_max_tokens)
    try:
        res = derive_bounds(recs, correct, lower_percentile=st.lower_percentile, upper_percentile=st.upper_percentile,
                            correct_quantile=b.correct_quantile, min_correct=b.min_correct)
    except ValueError as e:
        fail(str(e), 1)
    typer.echo(json.dumps(res, indent=2))
    if write:
        write_steering_bounds(write, res["lower"], res["upper"])
        write_params(validate(compose([])))
        typer.echo(f"wrote dialogs.steering.lower={res['lower']:.6g} upper={res['upper']:.6g} into {write} and params.yaml"
                   f" (for an experiment instead: dvc exp run -S dialogs.steering.lower={res['lower']:.6g}"
                   f" -S dialogs.steering.upper={res['upper']:.6g})")


@app.command("check-calls")
def check_calls(file: str = typer.Argument(..., help="JSON lines {id, tools, calls}; - reads stdin")):
    """Check calls against their tools (executability rules only); one JSON line {id, ok, reasons} per input."""
    from callforge.calling.executability import check_calls_command

    raise typer.Exit(check_calls_command(file))


@app.command()
def bench(names: Optional[List[str]] = typer.Argument(None, help="bench modules, e.g. bench_gateway (default: all)")):
    """Run bench/bench_*.py, each in its own process, merging figures into bench/results.json."""
    import subprocess
    from pathlib import Path

    from callforge.core.config import project_root

    try:
        root = project_root()
    except ConfigError as e:
        fail(str(e))
    found = sorted(p.stem for p in (root / "bench").glob("bench_*.py"))
    chosen = [n if n.startswith("bench_") else f"bench_{n}" for n in names] if names else found
    unknown = sorted(set(chosen) - set(found))
    if unknown:
        fail(f"no such bench: {', '.join(unknown)} (have: {', '.join(found)})")
    failed = []
    for name in chosen:
        typer.echo(f"bench {name} ...", err=True)
        proc = subprocess.run([sys.executable, str(Path(root, "bench", "common.py")), name], cwd=root)
        if proc.returncode != 0:
            failed.append(name)
    typer.echo("wrote bench/results.json" + (f"; failed: {', '.join(failed)}" if failed else ""))
    if failed:
        raise typer.Exit(1)


@app.command()
def shards(stage: str = typer.Argument(..., help="a stage that runs in shards: dialogs, complexity, verify or export"),
           count: int = typer.Option(..., "--count", "-n", min=2, help="number of shards"),
           engine: str = typer.Option("local", help="local | submitit | ray"),
           workers: Optional[int] = typer.Option(None, help="engine=local: processes at once (default: the cores)"),
           cpus: int = typer.Option(1, min=1, help="engine=submitit|ray: CPUs each shard asks for"),
           cluster: Optional[str] = typer.Option(None, help="engine=submitit: slurm | local | debug (default: auto)"),
           submitit: Optional[List[str]] = typer.Option(None, "--submitit", help="engine=submitit: an executor "
                                                        "setting KEY=VALUE, e.g. slurm_partition=cpu (repeatable)"),
           address: Optional[str] = typer.Option(None, help="engine=ray: the cluster's address (default: RAY_ADDRESS)"),
           retries: int = typer.Option(1, min=0, help="times a failed shard is run again, alone"),
           resume: bool = typer.Option(False, "--resume", help="keep the complete shards of an earlier run of the same inputs")):
    """Run one stage as COUNT shards on an engine and merge them into the stage's outputs (byte-identical
    to running it whole; see callforge/core/shards.py)."""
    from pathlib import Path

    from callforge.core.config import project_root
    from callforge.core.shards import run_and_merge

    settings = {}
    for item in submitit or []:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--submitit {item!r}: expected KEY=VALUE")
        settings[key] = int(value) if value.isdigit() else value
    merged = run_and_merge(stage, count, engine, project_root(), Path.cwd(), retries=retries, resume=resume,
                           workers=workers, cpus=cpus, submitit_cluster=cluster, submitit_params=settings,
                           address=address)
    for path, md5 in merged.items():
        typer.echo(f"{path}  md5={md5}")


def main():  # pragma: no cover - console entry
    app()


if __name__ == "__main__":
    sys.exit(app())
