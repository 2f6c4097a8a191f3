"""Stage `export`: every training subset in every trainer format, and the eval split in BFCL layout.

Reads data/verified.jsonl and the manifests in data/split/ and writes

    data/export/<subset>/sharegpt.jsonl | openai.jsonl | xlam.jsonl | chat.jsonl | hf/{README.md, data/*.parquet}
    data/export/eval_bfcl/BFCL_v4_callforge_<category>.json, possible_answer/..., index.jsonl

The formats are shared out over `export.workers` processes (callforge/export/writer.py); the output
bytes are the same for any worker count.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from omegaconf import OmegaConf

from callforge.core import io
from callforge.core.gc_pause import gc_paused
from callforge.export import hf, writer
from callforge.split import SUBSETS, TRAIN_SUBSETS

SPLIT, OUT, VERIFIED = Path("data/split"), Path("data/export"), Path("data/verified.jsonl")


def run(cfg, ctx) -> dict:
    ex = cfg.export
    formats = writer.check_formats(ex.formats)
    with gc_paused():    # the workers fork inside: they inherit it
        manifests = writer.read_manifests({name: ctx.path(SPLIT / f"{name}.jsonl") for name in SUBSETS})
        summary = json.loads(ctx.path(SPLIT / "summary.json").read_text())
        for sub in (*TRAIN_SUBSETS, "eval_bfcl"):
            shutil.rmtree(ctx.path(OUT / sub), ignore_errors=True)

        settings = OmegaConf.to_container(ex)
        jobs = [writer.PartJob(fmts, i == 0, ctx.path(VERIFIED), OUT, manifests, settings)
                for i, fmts in enumerate(writer.plan(formats, ex.workers))]
        # the workers fork before this process has started any pyarrow threads (it only waits for them)
        parts = writer.merge(list(ctx.map(writer.write_part, jobs, len(jobs))))

        if "hf" in formats:
            conf_yaml = hf.card_config(cfg)
            for s in TRAIN_SUBSETS:
                io.atomic_write_text(OUT / s / "hf" / "README.md", hf.card(s, summary["subsets"][s], conf_yaml,
                                                                          parts.provenance[s], ex.hf.license, formats))
        for s in TRAIN_SUBSETS:          # one digest per subset folder (DVC's way), from the md5s kept while writing
            ctx.outputs[str(OUT / s)] = io.md5_file(OUT / s, parts.md5)
        ctx.outputs.update(parts.eval_md5)

    return {
        "samples": len(manifests.member),
        "workers": len(jobs),
        "records": {s: dict(sorted(c.items())) for s, c in parts.written.items()},
        "skipped": dict(sorted(parts.skipped.items())),
        "eval_bfcl": parts.eval_stats,
        "bytes": {s: sum(p.stat().st_size for p in (OUT / s).rglob("*") if p.is_file()) for s in TRAIN_SUBSETS},
    }
