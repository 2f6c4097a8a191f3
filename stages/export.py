"""Stage `export`: every training subset in every trainer format, and the eval split in BFCL layout.

Reads data/verified.jsonl and the manifests in data/split/ and writes

    data/export/<subset>/sharegpt.jsonl | openai.jsonl | xlam.jsonl | hf/{README.md, data/*.parquet}
    data/export/eval_bfcl/BFCL_v4_callforge_<category>.json, possible_answer/..., index.jsonl

The formats are shared out over `export.workers` processes (callforge/export/writer.py); the output
bytes are the same for any worker count.
"""
from __future__ import annotations

import json
import multiprocessing
import shutil
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from omegaconf import OmegaConf

from callforge.core import io
from callforge.export import hf, writer
from callforge.export.writer import ExportError
from callforge.split.subsets import TRAIN_SUBSETS
from callforge.core.stage import gc_paused, stage_run

SPLIT, OUT, VERIFIED = Path("data/split"), Path("data/export"), Path("data/verified.jsonl")


def read_manifests() -> tuple[dict[int, str], dict[int, int], dict[int, float | None], set[int]]:
    """By input line (split names the exact line of each sample it accepted): the id, the bitmask
    over TRAIN_SUBSETS and the complexity; and the eval lines."""
    ids: dict[int, str] = {}
    member: dict[int, int] = {}
    loss: dict[int, float | None] = {}
    for bit, name in enumerate((*TRAIN_SUBSETS, "eval")):
        for r in io.iter_jsonl(SPLIT / f"{name}.jsonl"):
            ids[r["line"]] = r["id"]
            if name != "eval":
                member[r["line"]] = member.get(r["line"], 0) | (1 << bit)
                loss[r["line"]] = r["loss"]
    return ids, member, loss, {ln for ln in ids if ln not in member}


def main() -> None:
    with stage_run("export") as st, gc_paused():   # workers fork from here: they inherit it
        cfg, ex = st.cfg, st.cfg.export
        formats = list(ex.formats)
        unknown = sorted(set(formats) - set(writer.FORMATS))
        if unknown or not formats:
            raise ExportError("export.unknown_format", f"export.formats: {unknown or 'empty'} (known: {', '.join(writer.FORMATS)})")
        ids, member, loss, eval_lines = read_manifests()
        summary = json.loads((SPLIT / "summary.json").read_text())
        for sub in (*TRAIN_SUBSETS, "eval_bfcl"):
            shutil.rmtree(OUT / sub, ignore_errors=True)

        parts = writer.plan(formats, ex.workers)
        jobs = [(fmts, i == 0, VERIFIED, OUT, ids, member, loss, eval_lines, ex.validate, ex.hf.compression,
                 ex.hf.row_group_size) for i, fmts in enumerate(parts)]
        if len(jobs) == 1:
            results = [writer.write_part(*jobs[0])]
        else:     # fork: workers start at once, before this process has started any pyarrow threads
            with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("fork")) as pool:
                results = [f.result() for f in [pool.submit(writer.write_part, *j) for j in jobs]]
        first = results[0]
        written = {s: Counter() for s in TRAIN_SUBSETS}
        skipped, md5 = Counter(), {}
        for r in results:
            skipped.update(r.skipped)
            md5.update(r.md5)
            for s in TRAIN_SUBSETS:
                written[s].update(r.written[s])

        if "hf" in formats:
            def shown(section) -> dict:   # `workers` has no effect on the data: the card leaves it out
                return {k: v for k, v in OmegaConf.to_container(section).items() if k != "workers"}
            conf_yaml = OmegaConf.to_yaml(OmegaConf.create({"seed": int(cfg.seed), "split": shown(cfg.split),
                                                            "export": shown(ex)}))
            for s in TRAIN_SUBSETS:
                io.atomic_write_text(OUT / s / "hf" / "README.md", hf.card(s, summary["subsets"][s], conf_yaml,
                                                                          first.provenance[s], ex.hf.license, formats))
        for s in TRAIN_SUBSETS:          # one digest per subset folder (DVC's way), from the md5s kept while writing
            st.outputs[str(OUT / s)] = io.md5_file(OUT / s, md5)

        st.outputs.update(first.eval_md5)

        st.stats.update({
            "samples": len(member),
            "workers": len(jobs),
            "records": {s: dict(sorted(c.items())) for s, c in written.items()},
            "skipped": dict(sorted(skipped.items())),
            "eval_bfcl": first.eval_stats,
            "bytes": {s: sum(p.stat().st_size for p in (OUT / s).rglob("*") if p.is_file()) for s in TRAIN_SUBSETS},
        })


if __name__ == "__main__":
    try:
        main()
    except ExportError as e:
        print(f"callforge export: {e}", file=sys.stderr)
        raise SystemExit(2)
