"""The ablation table: one row per model (the base, then each subset), paired against the baseline subset.

Columns: training size, BFCL accuracy per category and overall (95% Wilson interval), gold-call NLL (mean
over questions, 95% t interval), and the paired differences to the baseline on the same questions: accuracy
(Newcombe interval, exact McNemar p) and gold NLL (paired t interval). `significant` = the interval excludes 0.
Written as metrics/ablation.json (everything), metrics/ablation.md (the table) and metrics/ablation.png.
"""
from __future__ import annotations

from callforge.core import io
from callforge.evaluate.accuracy import delta
from callforge.evaluate.intervals import mean_interval, paired_mean

JSON, MD, PLOT = "metrics/ablation.json", "metrics/ablation.md", "metrics/ablation.png"


def build(results: dict, subsets: list[str], baseline: str, entries: list) -> dict:
    cats = sorted({e.category for e in entries})
    ref = results[baseline]
    rows = []
    for name in ["base"] + list(subsets):
        r = results[name]
        row = {"model": name, "train": r.get("train"), "accuracy": r["accuracy"]}
        nll = [g["nll"] for g in r.get("gold", [])]
        row["gold_nll"] = mean_interval(nll)
        if name != baseline:
            row["vs_baseline"] = {
                "accuracy": delta(ref["records"], r["records"], ref["accuracy"], r["accuracy"])["overall"],
                "gold_nll": paired_mean([g["nll"] for g in ref.get("gold", [])], nll)}
        rows.append(row)
    return {"baseline": baseline, "categories": cats, "questions": len(entries),
            "gold_questions": len(ref.get("gold", [])), "rows": rows}


def _ci(x: dict | None, key: str) -> str:
    if not x or x.get(key) is None:
        return "–"
    ci = x.get("ci95")
    return f"{x[key]:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{x[key]:.3f}"


def markdown(tab: dict) -> str:
    cats = tab["categories"]
    head = (["model", "train samples"] + [f"{c} (k/n)" for c in cats] +
            ["accuracy [95% CI]", "gold NLL [95% CI]", f"Δ accuracy vs {tab['baseline']} [95% CI], p",
             f"Δ gold NLL vs {tab['baseline']} [95% CI]"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in tab["rows"]:
        acc = row["accuracy"]
        vs = row.get("vs_baseline", {})
        d_acc = vs.get("accuracy")
        d_acc_s = (f"{_ci(d_acc, 'delta')}, p={d_acc['p_value']}" + (" *" if d_acc["significant"] else "")
                   if d_acc else "(baseline)")
        d_nll = vs.get("gold_nll")
        d_nll_s = (_ci(d_nll, "delta") + (" *" if d_nll["significant"] else "")) if d_nll else "(baseline)"
        train = row["train"]["samples"] if row.get("train") else "– (no fine-tune)"
        cells = ([row["model"], str(train)] +
                 [f"{acc['categories'][c]['correct']}/{acc['categories'][c]['n']}" if c in acc["categories"] else "–"
                  for c in cats] +
                 [_ci(acc["overall"], "accuracy"), _ci(row["gold_nll"], "mean"), d_acc_s, d_nll_s])
        lines.append("| " + " | ".join(cells) + " |")
    s = tab.get("settings", {})
    ft = s.get("finetune", {})
    lines += ["", f"{tab['questions']} BFCL questions for accuracy, {tab['gold_questions']} for gold NLL (lower is "
              "better), the same for every row; `*`: the paired interval excludes 0. "
              f"Preset `{tab.get('preset')}` ({', '.join(tab.get('overrides', []))}): lr {ft.get('lr')}, "
              f"{ft.get('max_steps')} steps × {ft.get('batch_size')} sequences, max_seq_len {ft.get('max_seq_len')}, "
              f"seed {s.get('seed')}; engine {s.get('evaluate', {}).get('engine')}."]
    return "\n".join(lines) + "\n"


def plot(tab: dict, path: str = PLOT) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = tab["rows"]
    names = [r["model"] for r in rows]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, get, title in ((a1, lambda r: r["accuracy"]["overall"], "BFCL accuracy (95% Wilson)"),
                           (a2, lambda r: r["gold_nll"], "gold-call NLL, nats/token (95% t; lower is better)")):
        key = "accuracy" if ax is a1 else "mean"
        vals = [get(r).get(key) or 0.0 for r in rows]
        lo = [v - (get(r)["ci95"] or [v, v])[0] for v, r in zip(vals, rows)]
        hi = [(get(r)["ci95"] or [v, v])[1] - v for v, r in zip(vals, rows)]
        colors = ["#999999" if n == "base" else "#1f6feb" if n == tab["baseline"] else "#2da44e" for n in names]
        ax.bar(range(len(rows)), vals, yerr=[lo, hi], color=colors, capsize=3)
        ax.set_xticks(range(len(rows)), names, rotation=30, ha="right")
        ax.set_title(title, fontsize=10)
    fig.suptitle(f"callforge ablation ({tab.get('preset')}): {tab['questions']} / {tab['gold_questions']} BFCL questions",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def write(tab: dict) -> None:
    io.write_json(JSON, tab)
    io.atomic_write_text(MD, markdown(tab))
    plot(tab)


def log_mlflow(cfg, tab: dict, runtime: dict) -> None:
    """One parent run for the ablation, a child per model with its figures; the table and figure as artifacts."""
    if not cfg.tracking.enabled:
        return
    from mlflow.tracking import MlflowClient

    from callforge.core.config import flatten
    from callforge.core.tracking import metric_items, tracking_uri

    client = MlflowClient(tracking_uri(cfg))
    exp = client.get_experiment_by_name(cfg.tracking.experiment)
    exp_id = exp.experiment_id if exp else client.create_experiment(cfg.tracking.experiment)
    parent = client.create_run(exp_id, run_name=f"ablation-{tab.get('preset')}", tags={"callforge.kind": "ablation"})
    pid = parent.info.run_id
    for k, v in flatten({"preset": tab.get("preset"), "baseline": tab["baseline"], **tab["settings"]}).items():
        client.log_param(pid, k, v)
    client.log_metric(pid, "runtime.wall_s", runtime["wall_s"])
    for path in (JSON, MD, PLOT):
        client.log_artifact(pid, path)
    for row in tab["rows"]:
        child = client.create_run(exp_id, run_name=f"ablation-{tab.get('preset')}:{row['model']}",
                                  tags={"mlflow.parentRunId": pid, "callforge.kind": "ablation",
                                        "callforge.subset": row["model"]})
        figures = {"accuracy": row["accuracy"], "gold_nll": row["gold_nll"], "vs_baseline": row.get("vs_baseline", {}),
                   "train": row.get("train") or {}}
        for k, v in metric_items(figures, "ablation").items():
            client.log_metric(child.info.run_id, k, v)
        client.set_terminated(child.info.run_id)
    client.set_terminated(pid)
