"""An export's shards joined into its outputs: the stage's `merge` (callforge/core/shards.py).

Each shard writes, for its block of the training samples, every subset's files into a folder beside
the subset's (data/export/<subset>.shard-i-of-n/). Joined in shard order they are the unsharded files,
except where a number or a layout runs over all the samples:
- an xLAM row leads with its row number in the subset's file: rows are renumbered as they are joined;
- an unsharded export writes a parquet row group per `export.hf.row_group_size` training samples (the
  subset's rows among them): the shards' rows are cut into those same groups and written again;
- the eval split numbers its entries per category, and no shard writes it: it is made here, whole,
  from data/verified.jsonl (it is small: the held-out samples).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from callforge.core import io
from callforge.export import bfcl_eval, hf, writer
from callforge.split import TRAIN_SUBSETS


def join(folders: list[Path], target: Path, formats: list[str], groups: list[int], compression: str) -> dict[str, str]:
    """One subset's shard folders, in shard order, joined into `target`; → md5 by file written.
    groups: the row counts of its parquet row groups (row_groups)."""
    md5 = {}
    for f in writer.JSONL:
        if f in formats:
            path = target / f"{f}.jsonl"
            md5[str(path)] = _join_lines([d / f"{f}.jsonl" for d in folders], path, renumber=f == "xlam")
    if "hf" in formats:
        path = target / "hf" / hf.DATA_FILE
        md5[str(path)] = _join_parquet([d / "hf" / hf.DATA_FILE for d in folders], path, groups, compression)
    return md5


def row_groups(manifests: writer.Manifests, subset: str, size: int) -> list[int]:
    """The row counts of a subset's parquet row groups as an unsharded export writes them: its rows among
    each `size` training samples in input order (a group with none is not written)."""
    bit = TRAIN_SUBSETS.index(subset)
    lines = sorted(manifests.member)
    counts = (sum(manifests.member[ln] >> bit & 1 for ln in lines[i:i + size]) for i in range(0, len(lines), size))
    return [c for c in counts if c]


def eval_split(verified: Path, manifests: writer.Manifests, folder: Path) -> tuple[dict[str, str], dict]:
    """The eval split in BFCL layout, as an unsharded export writes it; → (md5 by file, stats)."""
    wanted = {ln: manifests.ids[ln] for ln in manifests.eval_lines}
    split = bfcl_eval.EvalSplit()
    for _, sample in writer.samples(verified, wanted):
        split.add(sample)
    if split.samples != len(wanted):
        raise writer.ExportError("export.missing_sample", f"{len(wanted) - split.samples} samples named in "
                                 f"data/split/ are not in {verified} (re-run split)")
    return split.write(folder)


def _join_lines(sources: list[Path], target: Path, renumber: bool) -> str:
    """Concatenate JSON-lines files; renumber: each row's leading `{"id":N,` becomes its row number."""
    with io.md5_output(target) as out:
        row = 0
        for src in sources:
            with open(src, "rb") as lines:
                if not renumber:
                    for block in iter(lambda: lines.read(1 << 20), b""):
                        out.write(block)
                    continue
                for line in lines:
                    out.write(b'{"id":%d,' % row + line[line.index(b",") + 1:])
                    row += 1
    return out.hexdigest()


def _join_parquet(sources: list[Path], target: Path, groups: list[int], compression: str) -> str:
    """The shards' parquet rows, in order, written again in row groups of `groups` rows."""
    tables = _tables(sources)
    sink = hf.ParquetSink(target, compression)
    try:
        pending, have = [], 0
        for rows in groups:
            while have < rows:
                t = next(tables, None)
                if t is None:
                    raise RuntimeError(f"the shards of {target} hold fewer rows than data/split/ names")
                pending.append(t)
                have += t.num_rows
            table = pa.concat_tables(pending).combine_chunks()
            sink.write(table.slice(0, rows))
            pending, have = [table.slice(rows)], have - rows
        if have or next(tables, None) is not None:
            raise RuntimeError(f"the shards of {target} hold more rows than data/split/ names")
        sink.close()
    except BaseException:
        sink.abort()
        raise
    return io.md5_file(target)


def _tables(paths: list[Path]) -> Iterator[pa.Table]:
    """The row groups of parquet files, in order."""
    for path in paths:
        f = pq.ParquetFile(path)
        for i in range(f.num_row_groups):
            yield f.read_row_group(i)
