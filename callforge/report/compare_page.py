"""The comparison page: two or more variants' MLflow runs side by side (`callforge report --compare A B ...`).

The rows are `callforge compare`'s (callforge.core.compare: params that differ, dataset stats, downstream
metrics with each variant's fine-tuned model paired against the first's), plus the LLM cost each run
logged as runtime figures, per kept (verified) sample. Static HTML, every value escaped.
"""
from __future__ import annotations

import re
from html import escape

from callforge.core import compare as cmp
from callforge.core.errors import CallforgeError

from .page import asset, fill

COST = re.compile(r"^runtime\..*(tokens|requests)[^.]*$")
KEPT = ".".join(("verify", "verified"))   # the MLflow metric of kept samples (not a reason code)


def resolve_runs(client, experiment: str, names: list[str]) -> list:
    """Each name is a run id or a run name (the latest run of that name)."""
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise CallforgeError("report.no_run", f"no MLflow experiment named {experiment!r}")
    runs = []
    for name in names:
        found = client.search_runs([exp.experiment_id], f"attributes.run_id = '{name}'", max_results=1) \
            if re.fullmatch(r"[0-9a-f]{32}", name) else []
        if not found:
            quoted = name.replace("'", "\\'")
            found = client.search_runs([exp.experiment_id], f"attributes.run_name = '{quoted}'",
                                       order_by=["attributes.start_time DESC"], max_results=1)
        if not found:
            raise CallforgeError("report.no_run", f"no MLflow run named or with id {name!r} in {experiment!r}")
        runs.append(found[0])
    return runs


def cost_rows(runs) -> list[cmp.Row]:
    """Runtime LLM usage (tokens, requests) of each run, and the same per kept sample."""
    rows = []
    for key in sorted({k for r in runs for k in r.data.metrics if COST.match(k)}):
        vals = [r.data.metrics.get(key) for r in runs]
        kept = [r.data.metrics.get(KEPT) for r in runs]
        per = [v / k if v is not None and k else None for v, k in zip(vals, kept)]
        rows += [cmp.Row("LLM cost", key, vals, cmp._differs(vals)),
                 cmp.Row("LLM cost", f"{key} per kept sample", per, cmp._differs(per))]
    return rows


def render(runs, answers: dict, all_rows: bool = False) -> str:
    t = cmp.table(runs, all_rows=all_rows, answers=answers)
    groups = [(g, [r for r in t.rows if r.group == g]) for g in cmp.GROUPS[:3]]
    groups.append(("LLM cost", cost_rows(runs)))
    head = "<tr><th>key</th>" + "".join(f'<th scope="col">{escape(n)}</th>' for n in t.names) + "</tr>"
    body = []
    for g, rows in groups:
        body.append(f'<tr><th colspan="{len(t.names) + 1}" class="cf-stage">{escape(g)}</th></tr>')
        if not rows:
            body.append(f'<tr><td colspan="{len(t.names) + 1}" class="cf-note">'
                        f'{"no values" if g == "LLM cost" else "no differences"}</td></tr>')
        for r in rows:
            cells = "".join(f'<td class="cf-num">{escape(v)}</td>' for v in cmp.format_values(r.values))
            body.append(f'<tr class="{"cf-differs" if r.differs else ""}" data-group="{escape(g)}">'
                        f'<th scope="row"><code>{escape(r.key)}</code></th>{cells}</tr>')
    ids = "".join(f"<li>{escape(n)}: <code>{escape(rid)}</code></li>" for n, rid in t.variants)
    table = f'<table class="cf-table cf-compare"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
    note = ("Only rows whose values differ between the runs are shown." if not all_rows else "Every row is shown.") + \
        (" Downstream rows `finetuned vs ...` pair each variant's fine-tuned model with the first variant's on the "
         "same questions (difference, 95% interval, exact McNemar p)." if answers else "")
    return fill(asset("compare.html"), {"title": "callforge: variants compared", "css": asset("style.css"),
                                        "runs": f"<ul>{ids}</ul>", "table": table, "note": escape(note)})
