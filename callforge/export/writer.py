"""Streaming the samples into every subset's files.

A part takes some of the formats, reads data/verified.jsonl once, converts each sample once per
format and writes the record to every subset holding it (subsets repeat samples; conversion is the
cost, copying bytes is not). The export stage shares the formats out between processes: each file is
written by exactly one part, in input order, so the bytes do not depend on the number of workers.
The first part also writes the eval split (BFCL layout), so the parts should finish together: `plan`
balances them by measured cost.
"""
from __future__ import annotations

import itertools
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterable

import orjson

from callforge.calling.calls import PrintError
from callforge.core import io, records
from callforge.core.errors import CallforgeError
from callforge.export import bfcl_eval, chat, hf, openai_ft, sharegpt, thinking, xlam
from callforge.split import TRAIN_SUBSETS

JSONL = {"sharegpt": sharegpt.record, "openai": openai_ft.record, "xlam": xlam.record, "chat": chat.record}
SCHEMA = {"sharegpt": "sharegpt", "openai": "openai_ft", "xlam": "xlam", "chat": "chat"}
THINKING = ("sharegpt", "openai", "chat")    # formats that carry thinking traces when export.thinking asks (and hf)
FORMATS = (*JSONL, "hf")
# CPU seconds per 100k samples on a 2-core machine, measured by running write_part one format at a time
# on the scale bench's inputs (the mean of four rounds): PASS_S is every part's own pass over the input,
# EVAL_S the eval split the first part writes.
COST = {"sharegpt": 8.2, "openai": 4.5, "xlam": 3.3, "chat": 3.5, "hf": 6.6}
PASS_S, EVAL_S = 2.7, 1.2


def plan(formats: list[str], workers: int) -> list[list[str]]:
    """Formats shared out over at most `workers` parts so the slowest part is as fast as can be (every
    assignment is tried: there are five formats). The first part is the one that also writes the eval split."""
    n = max(1, min(workers, len(formats)))
    formats = sorted(formats, key=FORMATS.index)

    def loads(assign) -> list[float]:
        out = [PASS_S + (EVAL_S if i == 0 else 0.0) for i in range(n)]
        for f, i in zip(formats, assign):
            out[i] += COST[f]
        return out
    best = min((a for a in itertools.product(range(n), repeat=len(formats)) if len(set(a)) == n),
               key=lambda a: (max(loads(a)), a))
    return [[f for f, i in zip(formats, best) if i == p] for p in range(n)]


class ExportError(CallforgeError):
    """An export that cannot be made; .code is a stable reason."""

    def __reduce__(self):       # unpickled from a worker process (Part.error): rebuilt from code and message
        return type(self), (self.code, self.message)


def check_formats(formats) -> list[str]:
    """The configured formats, if callforge writes them all."""
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ExportError("export.unknown_format", f"export.formats: {unknown or 'empty'} (known: {', '.join(FORMATS)})")
    return formats


@dataclass(frozen=True)
class Manifests:
    """split's manifests (data/split/<subset>.jsonl), by input line: split names the exact line of each
    sample it accepted."""
    ids: dict[int, str]                  # line → sample id, for every subset and the eval split
    member: dict[int, int]               # line → bitmask over TRAIN_SUBSETS
    loss: dict[int, float | None]        # line → complexity
    eval_lines: set[int]                 # lines of the eval split

    def training_block(self, lines: Iterable[int]) -> "Manifests":
        """Only the training samples on `lines` (a shard's block), and no eval split."""
        keep = set(lines)
        return Manifests({ln: i for ln, i in self.ids.items() if ln in keep},
                         {ln: m for ln, m in self.member.items() if ln in keep},
                         {ln: x for ln, x in self.loss.items() if ln in keep}, set())


def read_manifests(paths: dict[str, Path]) -> Manifests:
    """`paths`: each of TRAIN_SUBSETS and "eval" → its manifest file."""
    ids: dict[int, str] = {}
    member: dict[int, int] = {}
    loss: dict[int, float | None] = {}
    for bit, name in enumerate((*TRAIN_SUBSETS, "eval")):
        for r in io.iter_jsonl(paths[name]):
            ids[r["line"]] = r["id"]
            if name != "eval":
                member[r["line"]] = member.get(r["line"], 0) | (1 << bit)
                loss[r["line"]] = r["loss"]
    return Manifests(ids, member, loss, {ln for ln in ids if ln not in member})


@dataclass(frozen=True)
class PartJob:
    """What one part writes: it crosses to a worker process, so it holds plain values."""
    formats: list[str]
    first: bool                          # the first part also counts provenance and writes the eval split
    verified: Path                       # data/verified.jsonl
    folders: dict[str, Path]             # subset → its folder (data/export/<subset>, or a shard's), and
                                         # "eval_bfcl" → the eval split's, when this run writes it
    manifests: Manifests
    export: dict                         # the export config (OmegaConf.to_container(cfg.export))
    trace_rules: dict | None = None      # verify.degenerate, to score the thinking traces when exported


@dataclass
class Part:
    """What one part wrote."""
    written: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in TRAIN_SUBSETS})
    skipped: Counter = field(default_factory=Counter)
    md5: dict[str, str] = field(default_factory=dict)                 # JSONL file → md5
    provenance: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in TRAIN_SUBSETS})
    eval_md5: dict[str, str] = field(default_factory=dict)            # eval split file → md5 (first part)
    eval_stats: dict = field(default_factory=dict)
    traces: thinking.TraceTally = field(default_factory=thinking.TraceTally)  # thinking-trace scores (first part)
    error: Exception | None = None                                    # why the part could not be written
    cpu_s: list[float] = field(default_factory=list)                  # CPU seconds of each part (plan order)

    def state(self) -> dict:
        """The counts as JSON: a shard's part of the stage's stats (callforge/core/shards.py)."""
        return {"written": {s: sorted(c.items()) for s, c in self.written.items()},
                "skipped": sorted(self.skipped.items()),
                "provenance": {s: [[*k, n] for k, n in c.items()] for s, c in self.provenance.items()},
                "traces": self.traces.state()}

    def absorb(self, state: dict) -> None:
        """Add another part's counts (its state()) to these."""
        for s, counts in state["written"].items():
            self.written[s].update(dict(counts))
        self.skipped.update(dict(state["skipped"]))
        for s, rows in state["provenance"].items():
            self.provenance[s].update({tuple(r[:-1]): r[-1] for r in rows})
        self.traces.absorb(state["traces"])


def samples(path, wanted: dict[int, str]):
    """(line number, sample) for the lines split accepted (`wanted`: line → id); a line that no longer
    holds its id means the input changed after split ran."""
    last = max(wanted, default=0)
    with open(path, "rb") as f:
        for ln, line in enumerate(f, 1):
            if ln > last:          # the rest is not wanted (a shard's block ends early in the file)
                break
            if ln in wanted:
                try:
                    s = orjson.loads(line)
                except orjson.JSONDecodeError:
                    s = None
                if not isinstance(s, dict) or s.get("id") != wanted[ln]:
                    raise ExportError("export.stale_split", f"{path} line {ln} is not sample {wanted[ln]} "
                                      "as data/split/ says (re-run split)")
                yield ln, s


def merge(parts: list[Part]) -> Part:
    """The parts' counts and md5s together; provenance and the eval split as the first part wrote them."""
    for p in parts:
        if p.error is not None:
            raise p.error
    first = parts[0]
    total = Part(provenance=first.provenance, eval_md5=first.eval_md5, eval_stats=first.eval_stats,
                 traces=first.traces)
    for p in parts:
        total.skipped.update(p.skipped)
        total.md5.update(p.md5)
        total.cpu_s += p.cpu_s
        for s in TRAIN_SUBSETS:
            total.written[s].update(p.written[s])
    return total


def write_part(job: PartJob) -> Part:
    """Write the job's formats for every subset; the first part also counts provenance and writes the eval split.

    Bad input comes back as Part.error rather than raised (merge raises it): a raise would stop the
    stage's other parts halfway, their temporary files left behind, while a returned error lets each
    part clean up after itself."""
    c0 = time.process_time()
    try:
        part = _write_part(job)
    except (ExportError, records.RecordError) as e:
        return Part(error=e)
    part.cpu_s = [round(time.process_time() - c0, 2)]    # how well `plan` balanced the parts (runtime record)
    return part


def _write_part(job: PartJob) -> Part:
    formats, first, verified, folders = job.formats, job.first, job.verified, job.folders
    evals = folders.get("eval_bfcl") if first else None
    ids, member, loss, eval_lines = job.manifests.ids, job.manifests.member, job.manifests.loss, job.manifests.eval_lines
    validate, hf_cfg, traces = job.export["validate"], job.export["hf"], job.export["thinking"]
    rules = thinking.rules(job.trace_rules) if traces and job.trace_rules is not None else None
    part = Part()
    eval_split = bfcl_eval.EvalSplit() if evals else None
    found: set[int] = set()
    jsonl = [f for f in JSONL if f in formats]
    convert = {f: partial(JSONL[f], thinking=traces) if f in THINKING else JSONL[f] for f in jsonl}
    check = {f: records.validator(SCHEMA[f]) for f in jsonl} if validate else {}
    written = part.written
    with ExitStack() as stack:
        files = {(s, f): stack.enter_context(io.md5_output(folders[s] / f"{f}.jsonl"))
                 for s in TRAIN_SUBSETS for f in jsonl}
        sinks = {s: hf.ParquetSink(folders[s] / "hf" / hf.DATA_FILE, hf_cfg["compression"])
                 for s in TRAIN_SUBSETS} if "hf" in formats else {}
        stack.callback(lambda: [k.abort() for k in sinks.values() if k.writer.is_open])
        batch, masks = hf.Rows(traces), []

        def flush():
            nonlocal batch
            if masks:
                table = batch.table()
                for bit, s in enumerate(TRAIN_SUBSETS):
                    idx = [i for i, m in enumerate(masks) if m >> bit & 1]
                    if idx:
                        sinks[s].write(table.take(idx))
                batch = hf.Rows(traces)
                masks.clear()

        wanted = {ln: i for ln, i in ids.items() if ln in member or (evals and ln in eval_lines)}
        for ln, sample in samples(verified, wanted):
            found.add(ln)
            sid = sample["id"]
            if evals and ln in eval_lines:
                eval_split.add(sample)
            mask = member.get(ln, 0)
            if not mask:
                continue
            subs = [s for bit, s in enumerate(TRAIN_SUBSETS) if mask >> bit & 1]
            trace = thinking.score_sample(sample, rules) if rules is not None else None
            if first:
                p = sample["provenance"]
                for s in subs:
                    part.provenance[s][(p["provider"], p["model"], p["prompt_version"])] += 1
                if trace is not None:
                    part.traces.add(trace)
            for f in jsonl:
                try:
                    rec = convert[f](sample)
                except PrintError as e:
                    part.skipped[f"{f}.{e.code}"] += 1
                    continue
                if rec is None:
                    part.skipped[f"{f}.no_single_turn_form"] += 1
                    continue
                if f == "sharegpt" and trace is not None and trace.score is not None:
                    rec["thinking_score"] = trace.score
                if f in check and not check[f].is_valid({"id": 0, **rec} if f == "xlam" else rec):
                    raise records.RecordError(f"{f} record of sample {sid} violates callforge/schemas/"
                                              f"{SCHEMA[f]}.json: {records.validate(SCHEMA[f], rec)[0]}")
                line = orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE)
                for s in subs:                   # xLAM rows lead with their row number
                    files[(s, f)].write(b'{"id":%d,' % written[s][f] + line[1:] if f == "xlam" else line)
                    written[s][f] += 1
            if sinks:
                batch.add(sample, loss[ln], trace.score if trace else None)
                masks.append(mask)
                if len(masks) >= hf_cfg["row_group_size"]:
                    flush()
        flush()
        missing = len(wanted.keys() - found)
        if missing:                              # raised inside the ExitStack: no partial file lands
            raise ExportError("export.missing_sample", f"{missing} samples named in data/split/ are not in "
                              f"{verified} (re-run split)")
        for s, sink in sinks.items():
            sink.close()
            written[s]["hf"] = sink.rows
            part.md5[str(sink.path)] = io.md5_file(sink.path)   # still in the page cache: hash it here, in parallel
    part.md5.update({str(folders[s] / f"{f}.jsonl"): h.hexdigest() for (s, f), h in files.items()})
    if evals:
        part.eval_md5, part.eval_stats = eval_split.write(evals)
    return part
