"""Stage `export`: every training subset in every trainer format, and the eval split in BFCL layout.

Reads data/verified.jsonl and the manifests in data/split/ and writes

    data/export/<subset>/sharegpt.jsonl | openai.jsonl | xlam.jsonl | chat.jsonl | hf/{README.md, data/*.parquet}
    data/export/eval_bfcl/BFCL_v4_callforge_<category>.json, possible_answer/..., index.jsonl

The formats are shared out over `export.workers` processes (callforge/export/writer.py); the output
bytes are the same for any worker count. Sharded (callforge/core/shards.py), each shard writes its block
of the training samples; `merge` joins them (callforge/export/shards.py) and makes the eval split.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from omegaconf import OmegaConf

from callforge.core import io
from callforge.core.gc_pause import gc_paused
from callforge.export import hf, shards, writer
from callforge.split import SUBSETS, TRAIN_SUBSETS

SPLIT, OUT, VERIFIED = Path("data/split"), Path("data/export"), Path("data/verified.jsonl")


def run(cfg, ctx) -> dict:
    ex = cfg.export
    formats = writer.check_formats(ex.formats)
    with gc_paused():    # the workers fork inside: they inherit it
        manifests, summary = _inputs(ctx)
        folders = {s: ctx.out_path(ctx.path(OUT / s)) for s in TRAIN_SUBSETS}
        block = manifests
        if ctx.sharded:    # this shard's block of the training samples; the eval split is made at the merge
            lines = sorted(manifests.member)
            block = manifests.training_block(lines[i] for i in ctx.shard_range(len(lines)))
        else:
            folders["eval_bfcl"] = ctx.path(OUT / "eval_bfcl")
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)

        settings = OmegaConf.to_container(ex)
        # exported traces are scored with verify's degenerate-text thresholds (callforge/export/thinking.py)
        rules = OmegaConf.to_container(cfg.verify.degenerate) if ex.thinking else None
        jobs = [writer.PartJob(fmts, i == 0, ctx.path(VERIFIED), folders, block, settings, trace_rules=rules)
                for i, fmts in enumerate(writer.plan(formats, ex.workers))]
        # the workers fork before this process has started any pyarrow threads (it only waits for them)
        parts = writer.merge(list(ctx.map(writer.write_part, jobs, len(jobs))))
        if ctx.sharded:
            return {"shard": parts.state()}
        return _finish(cfg, ctx, formats, manifests, summary, parts)


def merge(cfg, ctx) -> dict:
    """The shards' files joined into each subset's (callforge/export/shards.py), the eval split made from
    data/verified.jsonl, and the cards and stats from the shards' counts, as `run` makes them."""
    ex = cfg.export
    formats = writer.check_formats(ex.formats)
    with gc_paused():
        manifests, summary = _inputs(ctx)
        for sub in (*TRAIN_SUBSETS, "eval_bfcl"):
            shutil.rmtree(ctx.path(OUT / sub), ignore_errors=True)
        parts = writer.Part()
        for part in ctx.shard_stats:
            parts.absorb(part["shard"])
        for s in TRAIN_SUBSETS:
            parts.md5.update(shards.join(ctx.shard_files(ctx.path(OUT / s)), OUT / s, formats,
                                         shards.row_groups(manifests, s, ex.hf.row_group_size), ex.hf.compression))
        parts.eval_md5, parts.eval_stats = shards.eval_split(ctx.path(VERIFIED), manifests, OUT / "eval_bfcl")
        return _finish(cfg, ctx, formats, manifests, summary, parts)


def _inputs(ctx) -> tuple[writer.Manifests, dict]:
    """split's manifests and summary."""
    manifests = writer.read_manifests({name: ctx.path(SPLIT / f"{name}.jsonl") for name in SUBSETS})
    return manifests, json.loads(ctx.path(SPLIT / "summary.json").read_text())


def _finish(cfg, ctx, formats: list[str], manifests: writer.Manifests, summary: dict, parts: writer.Part) -> dict:
    """The dataset cards, the outputs' digests and the stage's stats."""
    ex = cfg.export
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
        "workers": len(writer.plan(formats, ex.workers)),
        "part_cpu_s": parts.cpu_s,
        "records": {s: dict(sorted(c.items())) for s, c in parts.written.items()},
        "skipped": dict(sorted(parts.skipped.items())),
        "eval_bfcl": parts.eval_stats,
        "thinking": {"exported": bool(ex.thinking), **(parts.traces.summary() if ex.thinking else {})},
        "bytes": {s: sum(p.stat().st_size for p in (OUT / s).rglob("*") if p.is_file()) for s in TRAIN_SUBSETS},
    }
