"""`callforge compare`: dataset variants side by side — the params that differ, dataset stats, downstream metrics.

Rows fall into groups: `params` (the MLflow run params), `dataset stats` (stage metrics: taxonomy., apis.,
dialogs., complexity., verify., split., export.), `downstream` (finetune., evaluate.) and `runtime` (timings,
runtime.*: shown only with --all). By default only the rows whose values differ between the runs are shown.
"""
from __future__ import annotations

import csv
import fnmatch
import io
import json
import math
from dataclasses import dataclass, field

GROUPS = ("params", "dataset stats", "downstream", "runtime")
DOWNSTREAM_PREFIXES = ("finetune.", "evaluate.")
RUNTIME_PREFIX = "runtime."
FORMATS = ("text", "md", "csv", "json")
MISSING = "—"


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


# ---------------------------------------------------------------------------------------------- the table

@dataclass
class Row:
    group: str
    key: str
    values: list          # raw values, one per run: str (params), float (metrics) or None (absent)
    differs: bool


@dataclass
class Table:
    variants: list[tuple[str, str]]            # (column name, run id)
    rows: list[Row] = field(default_factory=list)
    shown_all: bool = False

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.variants]


def variant_names(runs) -> list[str]:
    """Column names: the run name (it says the variant's overrides), else the DVC experiment name, else the run
    id's first 8 characters; names that would repeat get the run id prefix."""
    def base(r) -> str:
        return r.info.run_name or r.data.tags.get("dvc_exp_name") or r.info.run_id[:8]

    names = [base(r) for r in runs]
    out = []
    for r, n in zip(runs, names):
        if names.count(n) > 1 and n != r.info.run_id[:8]:
            n = f"{n} [{r.info.run_id[:8]}]"
        out.append(n)
    if len(set(out)) < len(out):   # run ids sharing 8 characters (or a run named like another's id)
        out = [n if out.count(n) == 1 else f"{n} [{r.info.run_id}]" for r, n in zip(runs, out)]
    return out


def metric_group(name: str) -> str:
    if name.startswith(RUNTIME_PREFIX):
        return "runtime"
    if name.startswith(DOWNSTREAM_PREFIXES):
        return "downstream"
    return "dataset stats"


def _same_key(v):
    """What equality is judged on: NaN equals NaN, 1 equals 1.0, absent differs from everything else."""
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return v


def _differs(values: list) -> bool:
    return len({_same_key(v) for v in values}) > 1


def _wants_runtime(patterns: list[str] | None) -> bool:
    return any(p.startswith("runtime") for p in patterns or [])


def table(runs, metric_patterns: list[str] | None = None, all_rows: bool = False,
          answers: dict[str, list[dict]] | None = None) -> Table:
    """Every run's params and metrics as rows; unless all_rows, only those whose values differ.

    metric_patterns (globs) filter the metric rows; runtime.* metrics (timings) are left out unless all_rows or a
    pattern names them (starts with `runtime`). `answers` ({run id: evaluate's answer rows}, load_answers) adds
    paired differences of each variant's fine-tuned model against the first variant's."""
    t = Table(list(zip(variant_names(runs), [r.info.run_id for r in runs])), shown_all=all_rows)
    for k in sorted({k for r in runs for k in r.data.params}):
        vals = [r.data.params.get(k) for r in runs]
        t.rows.append(Row("params", k, vals, _differs(vals)))
    metric_rows = {g: [] for g in GROUPS[1:]}
    for k in sorted({k for r in runs for k in r.data.metrics}):
        if metric_patterns and not any(fnmatch.fnmatchcase(k, p) for p in metric_patterns):
            continue
        g = metric_group(k)
        if g == "runtime" and not (all_rows or _wants_runtime(metric_patterns)):
            continue
        vals = [r.data.metrics.get(k) for r in runs]
        metric_rows[g].append(Row(g, k, vals, _differs(vals)))
    metric_rows["downstream"].extend(paired_rows(runs, t.names, answers or {}))
    for g in GROUPS[1:]:
        t.rows.extend(metric_rows[g])
    if not all_rows:
        t.rows = [r for r in t.rows if r.differs]
    return t


def load_answers(client, runs) -> dict[str, list[dict]]:
    """{run id: evaluate's per-question rows}, from each run's `outputs/answers.jsonl` (answers, with "ok") and
    `outputs/gold_nll.jsonl` (gold-call NLL, with "nll") artifacts where it has them."""
    import tempfile
    from pathlib import Path

    out: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in runs:
            for name in ("answers.jsonl", "gold_nll.jsonl"):
                try:
                    path = client.download_artifacts(r.info.run_id, f"outputs/{name}", tmp)
                except Exception:        # no evaluate stage in this run (mlflow raises its own error types)
                    continue
                out.setdefault(r.info.run_id, []).extend(
                    json.loads(line) for line in Path(path).read_text().splitlines() if line.strip())
                Path(path).unlink()
    return out


def paired_rows(runs, names: list[str], answers: dict[str, list[dict]]) -> list[Row]:
    """Each variant's fine-tuned model against the first variant's, on the questions both answered: the
    difference in accuracy with its 95% interval, exact McNemar p and verdict (callforge.evaluate.intervals)."""
    from callforge.evaluate.intervals import paired, paired_mean

    if len(runs) < 2 or runs[0].info.run_id not in answers:
        return []
    first = runs[0].info.run_id
    rows = []

    def by_id(run_id, qset, value):
        return {a["id"]: v for a in answers.get(run_id, []) if a["set"] == qset and (v := value(a)) is not None}

    def pair_rows(label, value, test):
        ref = by_id(first, qset, value)
        cells = {"delta": [None], "ci95": [None], "n": [None], "p_value": [None], "significant": [None]}
        for r in runs[1:]:
            mine = by_id(r.info.run_id, qset, value)
            common = [q for q in ref if q in mine]
            d = test([ref[q] for q in common], [mine[q] for q in common]) if common else {}
            for k in cells:
                v = d.get(k)
                cells[k].append(f"[{v[0]}, {v[1]}]" if k == "ci95" and v else str(v).lower() if isinstance(v, bool) else v)
        for k, vals in cells.items():
            rows.append(Row("downstream", f"evaluate.{qset}.{label} vs {names[0]}.{k}", vals, True))

    for qset in sorted({a["set"] for a in answers[first]}):
        # accuracy: McNemar-paired; gold-call NLL (lower is better): paired t over the same questions
        pair_rows("finetuned", lambda a: a["ok"] if "ok" in a and a.get("model") == "finetuned" else None, paired)
        if any("nll" in a for a in answers[first] if a["set"] == qset):
            pair_rows("gold_nll.finetuned", lambda a: (a.get("nll") or {}).get("finetuned"), paired_mean)
    return rows


# ---------------------------------------------------------------------------------------------- values

def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _num(v: float, digits: int) -> str:
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if digits >= 17:
        return repr(v)
    return f"{v:.{digits}g}"


def format_values(values: list) -> list[str]:
    """Compact text for a row's values (`{:.6g}`); more digits where two different numbers would look the same."""
    def render(digits: int) -> list[str]:
        return [MISSING if v is None else _num(float(v), digits) if _is_num(v) else str(v) for v in values]

    distinct = len({_same_key(v) for v in values})
    for digits in (6, 8, 10, 12, 15, 17):
        out = render(digits)
        if len(set(out)) >= distinct:
            return out
    return out


def _exact(v) -> str:
    """Full precision for machine-readable output (csv)."""
    if v is None:
        return ""
    if _is_num(v):
        return _num(float(v), 17)
    return str(v)


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


# ---------------------------------------------------------------------------------------------- output

def _grouped(t: Table) -> list[tuple[str, list[Row]]]:
    return [(g, [r for r in t.rows if r.group == g]) for g in GROUPS if any(r.group == g for r in t.rows)]


def _empty_note(t: Table) -> str:
    if t.shown_all:
        return "no params or metrics to show"
    return f"no differences between the {len(t.variants)} runs (--all shows every row)"


def render_text(t: Table) -> str:
    cells = [(r, format_values(r.values)) for r in t.rows]
    header = ["key", *t.names]
    widths = [max([len(header[0]), *(len(r.key) for r, _ in cells)])]
    for i, name in enumerate(t.names):
        widths.append(max([len(name), *(len(v[i]) for _, v in cells)]))

    def line(cols: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    for g, rows in _grouped(t):
        lines += ["", f"[{g}]"]
        lines += [line([r.key, *format_values(r.values)]) for r in rows]
    if not t.rows:
        lines += ["", _empty_note(t)]
    return "\n".join(lines)


def _md_cell(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_md(t: Table) -> str:
    out = []
    for g, rows in _grouped(t):
        out += [f"### {g}", "", "| " + " | ".join(_md_cell(c) for c in ["key", *t.names]) + " |",
                "|" + "---|" * (len(t.names) + 1)]
        for r in rows:
            out.append("| " + " | ".join(_md_cell(c) for c in [r.key, *format_values(r.values)]) + " |")
        out.append("")
    if not t.rows:
        out.append(_empty_note(t))
    return "\n".join(out).rstrip("\n")


def render_csv(t: Table) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group", "key", *t.names])
    for r in t.rows:
        w.writerow([r.group, r.key, *[_exact(v) for v in r.values]])
    return buf.getvalue().rstrip("\n")


def render_json(t: Table) -> str:
    return json.dumps({"variants": [{"name": n, "run_id": rid} for n, rid in t.variants],
                       "rows": [{"group": r.group, "key": r.key, "values": [_json_value(v) for v in r.values]}
                                for r in t.rows]},
                      ensure_ascii=False, indent=2)


def render(t: Table, fmt: str = "text") -> str:
    renderers = {"text": render_text, "md": render_md, "csv": render_csv, "json": render_json}
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return renderers[fmt](t)
