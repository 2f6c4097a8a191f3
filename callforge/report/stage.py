"""Stage `report`: every output of the pipeline -> data/report/ (index.html + the sample browser's files),
logged to the variant's MLflow run as the artifact folder `report/`."""
from __future__ import annotations

from .sources import Sources
from .writer import build

OUT = "data/report"


def run(cfg, ctx) -> dict:
    stats = build(Sources(ctx.path), ctx.path(OUT), cfg.report)
    ctx.artifacts.append((OUT, "report"))
    return stats
