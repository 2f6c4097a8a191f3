"""`callforge compare`: dataset variants side by side — the params that differ, stats, downstream metrics."""
from __future__ import annotations

import fnmatch

HEADLINE = ["*total*", "*samples*", "*pass_rate*", "*accuracy*", "*overall*", "*mean*", "*delta*", "*kept*",
            "*dropped*", "*removed*"]


def find_runs(client, experiment: str, sweep: str | None = None, run_ids: list[str] | None = None,
              last_sweep: bool = False) -> list:
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise ValueError(f"no MLflow experiment named {experiment!r}")
    if run_ids:
        return [client.get_run(r) for r in run_ids]
    if last_sweep and not sweep:
        sweeps = client.search_runs([exp.experiment_id], "tags.`callforge.sweep` = 'true'",
                                    order_by=["attributes.start_time DESC"], max_results=1)
        sweep = sweeps[0].info.run_id if sweeps else None   # no sweep yet: compare every variant
    flt = f"tags.`mlflow.parentRunId` = '{sweep}'" if sweep else "tags.`callforge.sweep` != 'true'"
    runs = client.search_runs([exp.experiment_id], flt, order_by=["attributes.start_time ASC"], max_results=200)
    if not sweep:   # plain runs: every variant except sweep parents
        runs = [r for r in runs if r.data.tags.get("callforge.sweep") != "true"]
    return runs


def table(runs, metric_patterns: list[str] | None = None, all_metrics: bool = False) -> list[list[str]]:
    """Rows: key, value per run. Params shown only where they differ; metrics that match the patterns."""
    names = [r.info.run_name or r.info.run_id[:8] for r in runs]
    rows = [["", *names], ["run_id", *[r.info.run_id[:12] for r in runs]]]
    params = sorted({k for r in runs for k in r.data.params})
    for k in params:
        vals = [r.data.params.get(k, "—") for r in runs]
        if len(set(vals)) > 1:
            rows.append([f"param {k}", *vals])
    patterns = metric_patterns or HEADLINE
    metrics = sorted({k for r in runs for k in r.data.metrics})
    for k in metrics:
        if all_metrics or any(fnmatch.fnmatch(k, p) for p in patterns):
            vals = [r.data.metrics.get(k) for r in runs]
            rows.append([k, *["—" if v is None else f"{v:.4g}" for v in vals]])
    return rows


def render(rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    widths[0] = min(widths[0], 60)
    lines = []
    for j, r in enumerate(rows):
        lines.append("  ".join(str(c)[:w].ljust(w) for c, w in zip(r, widths)).rstrip())
        if j == 1:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
