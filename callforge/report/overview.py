"""The report's static sections, from the metrics files: the counts through every stage and the charts.

A number taken from a metrics file is written with `data-metric`, the JSON path into metrics/ that
holds it (["verify", "drop_counts", "call.unknown_api"]), so a reader (and the browser test) can check
every figure against its file.
"""
from __future__ import annotations

import json
from html import escape

from . import charts
from .charts import num


def _get(metrics: dict, path: list):
    node = metrics
    for k in path:
        if not isinstance(node, dict) or k not in node:
            return None
        node = node[k]
    return node


def cell(metrics: dict, path: list) -> str:
    v = _get(metrics, path)
    return f'<td class="cf-num" data-metric="{escape(json.dumps(path))}">{escape(num(v))}</td>'


def _row(metrics: dict, label: str, path: list, depth: int = 0, code: bool = False) -> str:
    text = f"<code>{escape(label)}</code>" if code else escape(label)
    return f'<tr class="cf-depth-{depth}"><th scope="row">{text}</th>{cell(metrics, path)}</tr>'


def _by_reason(metrics: dict, path: list, describe) -> list[str]:
    node = _get(metrics, path) or {}
    return [_row(metrics, code, [*path, code], 2, code=True).replace(
        "</th>", f' <span class="cf-why">{escape(describe(code))}</span></th>', 1) for code in sorted(node)]


def funnel(m: dict, describe) -> str:
    """Requested -> produced -> dropped (by reason) -> verified -> rejected (by reason, by check) -> subsets."""
    rows = []
    if "apis" in m:
        rows += ['<tr><th colspan="2" class="cf-stage">apis</th></tr>',
                 _row(m, "APIs in the pool", ["apis", "apis_total"]),
                 _row(m, "APIs rejected", ["apis", "rejected_total"], 1),
                 *_by_reason(m, ["apis", "rejected_by_reason"], describe)]
    if "dialogs" in m:
        rows += ['<tr><th colspan="2" class="cf-stage">dialogs</th></tr>',
                 _row(m, "samples requested", ["dialogs", "samples_requested"]),
                 _row(m, "samples produced", ["dialogs", "samples_written"]),
                 _row(m, "samples dropped", ["dialogs", "samples_dropped"], 1),
                 *_by_reason(m, ["dialogs", "drop_reasons"], describe)]
    if "verify" in m:
        rows += ['<tr><th colspan="2" class="cf-stage">verify</th></tr>',
                 _row(m, "samples checked", ["verify", "samples"]),
                 _row(m, "verified", ["verify", "verified"]),
                 _row(m, "rejected", ["verify", "rejected"], 1),
                 *_by_reason(m, ["verify", "drop_counts"], describe)]
        checks = _get(m, ["verify", "checks"]) or {}
        failing = [c for c in sorted(checks) if isinstance(checks[c].get("checked"), int)
                   and checks[c]["checked"] != checks[c].get("passed")]
        if failing:
            rows.append('<tr class="cf-depth-1"><th scope="row">failed, by check</th><td></td></tr>')
        for c in failing:
            rows.append(f'<tr class="cf-depth-2"><th scope="row"><code>{escape(c)}</code> passed</th>'
                        f'{cell(m, ["verify", "checks", c, "passed"])}</tr>'
                        f'<tr class="cf-depth-2"><th scope="row"><code>{escape(c)}</code> checked</th>'
                        f'{cell(m, ["verify", "checks", c, "checked"])}</tr>')
    if "split" in m:
        rows += ['<tr><th colspan="2" class="cf-stage">split</th></tr>',
                 _row(m, "verified samples read", ["split", "input", "samples"]),
                 *_by_reason(m, ["split", "input", "rejected"], describe),
                 _row(m, "held out for evaluation", ["split", "holdout", "eval_samples"], 1),
                 _row(m, "dropped by decontamination", ["split", "decontam", "dropped"], 1),
                 _row(m, "training pool", ["split", "holdout", "train_pool"])]
        for name in _get(m, ["split", "subsets"]) or {}:
            label = "eval (held out)" if name == "eval" else f"subset {name}"
            rows.append(_row(m, label, ["split", "subsets", name, "samples"], 1))
    if not rows:
        return '<p class="cf-note">No metrics files were found.</p>'
    return f'<table class="cf-table cf-funnel"><tbody>{"".join(rows)}</tbody></table>'


def checks_table(m: dict) -> str:
    checks = _get(m, ["verify", "checks"]) or {}
    if not checks:
        return ""
    head = "<tr><th>check</th><th>group</th><th>mode</th><th>passed</th><th>checked</th></tr>"
    rows = []
    for c in sorted(checks):
        info = checks[c]
        mode = info.get("mode") or info.get("status") or ""
        rows.append(f'<tr><th scope="row"><code>{escape(c)}</code></th><td>{escape(str(info.get("group", "")))}</td>'
                    f'<td>{escape(str(mode))}</td>{cell(m, ["verify", "checks", c, "passed"])}'
                    f'{cell(m, ["verify", "checks", c, "checked"])}</tr>')
    return f'<table class="cf-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _sorted_items(d: dict | None, limit: int = 40) -> list[tuple[str, float]]:
    items = sorted(((k, v) for k, v in (d or {}).items() if isinstance(v, (int, float))), key=lambda kv: (-kv[1], kv[0]))
    return items[:limit]


def mix_charts(m: dict, domains: dict[str, int]) -> str:
    out = [charts.bars("Data types (samples generated)", _sorted_items(_get(m, ["dialogs", "per_type"]))),
           charts.bars("Domains (verified samples)", _sorted_items(domains),
                       note=f"{len(domains)} domains; the 40 largest shown" if len(domains) > 40 else "")]
    return "".join(out)


def coverage_charts(m: dict, apis_called: int) -> str:
    pool = _get(m, ["apis", "apis_total"])
    note = f"verified samples call {apis_called} distinct APIs" + (f" of the {pool} in the pool" if pool else "")
    return "".join([
        charts.bars("APIs per domain (pool)", _sorted_items(_get(m, ["apis", "apis_per_domain"])), note=note),
        charts.bars("Parameter types (pool)", _sorted_items(_get(m, ["apis", "param_types"]))),
        charts.bars("Parameter constraints (pool)", _sorted_items(_get(m, ["apis", "constraints"])))])


def loss_chart(m: dict) -> str:
    bins = _get(m, ["complexity_hist", "loss_histogram"]) or []
    steer = _get(m, ["dialogs", "steering"]) or {}
    markers = [(steer[k], f"steering {k}") for k in ("lower", "upper") if isinstance(steer.get(k), (int, float))]
    scorer = steer.get("scorer")
    note = ""
    if markers and scorer and scorer != "complexity":
        note = (f"Steering bounds were applied with the {scorer} scorer, so they are in its units, "
                f"not this model's loss.")
    model = _get(m, ["complexity", "model"]) or _get(m, ["complexity", "backend"]) or ""
    return charts.histogram(f"Complexity loss ({model})" if model else "Complexity loss", bins, markers, note)


def subsets_table(m: dict) -> str:
    subsets = _get(m, ["split", "subsets"]) or {}
    if not subsets:
        return ""
    cols = [("samples", ["samples"]), ("loss mean", ["complexity", "mean"]), ("loss min", ["complexity", "min"]),
            ("loss max", ["complexity", "max"]), ("clusters", ["clusters"]), ("domains", ["domains"]),
            ("APIs offered", ["apis"]), ("APIs called", ["apis_called"])]
    head = "<tr><th>subset</th>" + "".join(f"<th>{escape(c)}</th>" for c, _ in cols) + "</tr>"
    rows = [f'<tr><th scope="row">{escape(n)}</th>' + "".join(cell(m, ["split", "subsets", n, *p]) for _, p in cols)
            + "</tr>" for n in sorted(subsets)]
    sizes = charts.bars("Subset sizes", [(n, subsets[n].get("samples", 0)) for n in sorted(subsets)])
    return sizes + f'<table class="cf-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _ci(v) -> str:
    return f"[{num(v[0])}, {num(v[1])}]" if isinstance(v, list) and len(v) == 2 else ""


def downstream(m: dict) -> str:
    ev = m.get("evaluate")
    if not ev:
        return '<p class="cf-note">No downstream evaluation in this variant.</p>'
    out = []
    for qset in ("bfcl", "heldout"):
        models = _get(ev, [qset, "models"]) or {}
        if not models:
            continue
        cats = sorted(set(_get(models, ["base", "categories"]) or {}) | set(_get(models, ["finetuned", "categories"]) or {}))
        head = ("<tr><th>category</th><th>n</th><th>base</th><th>95% CI</th><th>fine-tuned</th><th>95% CI</th>"
                "<th>Δ (paired)</th><th>95% CI</th><th></th><th>p (McNemar)</th></tr>")
        rows = []
        for cat in [*cats, "overall"]:
            where = ["categories", cat] if cat != "overall" else ["overall"]
            base = ["evaluate", qset, "models", "base", *where]
            tuned = ["evaluate", qset, "models", "finetuned", *where]
            delta = ["evaluate", qset, "delta", *where]
            d = _get(m, delta) or {}
            ci = d.get("ci95")
            plot = charts.interval(ci[0], ci[1], d.get("delta", 0), -1, 1) if isinstance(ci, list) else ""
            sig = " cf-sig" if d.get("significant") else ""
            rows.append(f'<tr class="{"cf-total" if cat == "overall" else ""}"><th scope="row">{escape(cat)}</th>'
                        f'{cell(m, [*base, "n"])}{cell(m, [*base, "accuracy"])}<td>{_ci(_get(m, [*base, "ci95"]))}</td>'
                        f'{cell(m, [*tuned, "accuracy"])}<td>{_ci(_get(m, [*tuned, "ci95"]))}</td>'
                        f'<td class="cf-num{sig}" data-metric="{escape(json.dumps([*delta, "delta"]))}">'
                        f'{escape(num(d.get("delta")))}</td><td>{_ci(ci)}</td><td>{plot}</td>'
                        f'{cell(m, [*delta, "p_value"])}</tr>')
        out.append(f'<h3>{escape(qset)} accuracy</h3><table class="cf-table"><thead>{head}</thead>'
                   f'<tbody>{"".join(rows)}</tbody></table>')
    nll = _get(ev, ["bfcl", "gold_nll"]) or {}
    if nll.get("available"):
        p = ["evaluate", "bfcl", "gold_nll"]
        out.append('<h3>gold-call NLL (lower is better)</h3><table class="cf-table"><thead><tr><th></th><th>n</th>'
                   '<th>base</th><th>95% CI</th><th>fine-tuned</th><th>95% CI</th><th>Δ</th><th>95% CI</th></tr></thead>'
                   '<tbody>' + "".join(
                       f'<tr><th scope="row">{escape(label)}</th>{cell(m, [*p, *k, "models", "base", "overall", "n"])}'
                       f'{cell(m, [*p, *k, "models", "base", "overall", "mean"])}'
                       f'<td>{_ci(_get(m, [*p, *k, "models", "base", "overall", "ci95"]))}</td>'
                       f'{cell(m, [*p, *k, "models", "finetuned", "overall", "mean"])}'
                       f'<td>{_ci(_get(m, [*p, *k, "models", "finetuned", "overall", "ci95"]))}</td>'
                       f'{cell(m, [*p, *k, "delta", "overall", "delta"])}'
                       f'<td>{_ci(_get(m, [*p, *k, "delta", "overall", "ci95"]))}</td></tr>'
                       for label, k in (("whole answer", []), ("calls only", ["calls_only"])))
                   + "</tbody></table>")
    return "".join(out)
