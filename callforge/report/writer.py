"""Build one variant's report folder: index.html plus the sample browser's sidecar files.

Same outputs in, same bytes out: no clock, no absolute path, every mapping written in a fixed order.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from callforge.core import io
from callforge.core.reasons import describe

from . import overview
from .browse import SAMPLES_DIR, collect
from .page import render
from .sources import Sources

INDEX = "index.html"
# LLM usage varies between executions of the same data (cache hits cost nothing), so it is a runtime figure
# (data/runtime/, MLflow runtime.*), not part of this reproducible page.
COST_NOTE = ("LLM requests and tokens per kept sample are runtime figures (they fall to zero when the response "
             "cache answers), so they are not in this reproducible page: `callforge report --compare` shows "
             "them for each variant from its MLflow run.")


def model_layer(m: dict) -> str:
    layer = ((m.get("verify") or {}).get("layers") or {}).get("model") or {}
    if not layer:
        return ""
    return " — ".join(str(x) for x in (layer.get("status"), layer.get("reason")) if x)


def reject_checks(m: dict) -> list[str]:
    """The rule checks a verified sample passed: every reject-mode check that ran."""
    checks = (m.get("verify") or {}).get("checks") or {}
    return [c for c in sorted(checks) if checks[c].get("mode") == "reject" and checks[c].get("checked")]


def build(src: Sources, out_dir: Path, cfg, title: str = "callforge report") -> dict:
    """Write the report into out_dir (emptied first); -> the stage's stats."""
    out_dir = Path(out_dir)
    shutil.rmtree(out_dir / SAMPLES_DIR, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    m = src.metrics()
    browse = collect(src, out_dir, cfg)
    settings = {"page_size": cfg.page_size, "checks": reject_checks(m), "model_layer": model_layer(m),
                **browse.finish(describe)}
    sections = {"funnel": overview.funnel(m, describe), "checks": overview.checks_table(m),
                "mix": overview.mix_charts(m, browse.domain_counts),
                "coverage": overview.coverage_charts(m, len(browse.apis_called)),
                "loss": overview.loss_chart(m) or '<p class="cf-note">No complexity scores.</p>',
                "subsets": overview.subsets_table(m), "downstream": overview.downstream(m), "cost": COST_NOTE}
    html = render(title, sections, settings)
    io.atomic_write_text(out_dir / INDEX, html)
    sidecar = sum(p.stat().st_size for p in browse.files)
    return {"samples": browse.verdict_counts, "sample_files": len(browse.files),
            "bytes": {"index_html": len(html.encode("utf-8")), "sidecar": sidecar}}
