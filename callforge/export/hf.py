"""A Hugging Face dataset per subset: data/train-00000-of-00001.parquet with nested columns, plus a
README.md dataset card (YAML metadata, then stats, config and provenance). `datasets.load_dataset(folder)`
finds the train split by the file name; the card declares no `configs:` file patterns on purpose, since
`datasets` would then cache every folder of the same name (all subsets' "hf") under one key. Free-form JSON (tool parameter schemas, call arguments) is stored as JSON text, since
its shape differs from row to row.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from omegaconf import OmegaConf

from callforge.export.common import dumps

DATA_FILE = "data/train-00000-of-00001.parquet"

TOOL = pa.struct([("name", pa.string()), ("description", pa.string()), ("parameters", pa.string()),
                  ("returns", pa.string()), ("domain", pa.string()), ("path", pa.list_(pa.string()))])
CALL = pa.struct([("id", pa.string()), ("name", pa.string()), ("arguments", pa.string())])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string()), ("thinking", pa.string()),
                     ("tool_calls", pa.list_(CALL)), ("tool_call_id", pa.string()), ("name", pa.string())])
PROVENANCE = pa.struct([("provider", pa.string()), ("model", pa.string()), ("prompt_version", pa.string()),
                        ("seed", pa.int64()), ("stage", pa.string())])
SCHEMA = pa.schema([("id", pa.string()), ("data_type", pa.string()), ("domain", pa.string()),
                    ("complexity", pa.float64()), ("tools", pa.list_(TOOL)), ("messages", pa.list_(MESSAGE)),
                    ("thinking_score", pa.float64()), ("apis_used", pa.list_(pa.string())),
                    ("provenance", PROVENANCE)])


class Rows:
    """A batch of parquet rows, gathered column by column and built into one Arrow table.

    Each leaf of SCHEMA is a Python list, and each nested list has its offsets. Arrow converts a
    list of strings at C speed, so building the columns costs a fraction of writing each row as
    JSON and parsing it back (pyarrow's JSON reader). The `thinking` column is null unless
    export.thinking asks for traces, and so is `thinking_score` (the traces' score,
    callforge/export/thinking.py)."""

    def __init__(self, thinking: bool = False):
        self.thinking = thinking
        # one list per string or number leaf, named as in SCHEMA; nested lists are built from offsets
        self.cols = {k: [] for k in ("id", "data_type", "domain", "complexity", "thinking_score", *_PROV)}
        self.tools = {f.name: [] for f in TOOL if f.name != "path"}
        self.msgs = {f.name: [] for f in MESSAGE if f.name != "tool_calls"}
        self.calls = {f.name: [] for f in CALL}
        self.paths: list = []           # each tool's path (a list, or None)
        self.apis: list = []            # each row's apis_used
        self.tool_offsets, self.msg_offsets, self.call_offsets = [0], [0], [0]
        self.no_calls: list[bool] = []  # a message's tool_calls is null when it calls nothing

    def add(self, sample: dict, complexity: float | None, thinking_score: float | None = None) -> None:
        c = self.cols
        c["id"].append(sample["id"])
        c["data_type"].append(sample["data_type"])
        c["domain"].append(sample.get("domain"))
        c["complexity"].append(complexity)
        c["thinking_score"].append(thinking_score)
        prov = sample["provenance"]
        for k in _PROV:
            c[k].append(prov.get(k))
        self.apis.append(sample["apis_used"])
        t = self.tools
        for tool in sample["tools"]:
            t["name"].append(tool["name"])
            t["description"].append(tool.get("description"))
            t["parameters"].append(dumps(tool["parameters"]))
            t["returns"].append(dumps(tool["returns"]) if "returns" in tool else None)
            t["domain"].append(tool.get("domain"))
            self.paths.append(tool.get("path"))
        self.tool_offsets.append(len(t["name"]))
        m, calls = self.msgs, self.calls
        for msg in sample["messages"]:
            m["role"].append(msg["role"])
            m["content"].append(msg.get("content"))
            m["thinking"].append(msg.get("thinking") if self.thinking else None)
            m["tool_call_id"].append(msg.get("tool_call_id"))
            m["name"].append(msg.get("name"))
            cs = msg.get("tool_calls")
            self.no_calls.append(not cs)
            for call in cs or ():
                calls["id"].append(call["id"])
                calls["name"].append(call["name"])
                calls["arguments"].append(dumps(call["arguments"]))
            self.call_offsets.append(len(calls["id"]))
        self.msg_offsets.append(len(m["role"]))

    def table(self) -> pa.Table:
        """The batch as a table of SCHEMA (one chunk per column)."""
        c = self.cols
        calls = _struct(CALL, self.calls)
        tool_calls = pa.ListArray.from_arrays(pa.array(self.call_offsets, pa.int32()), calls, type=pa.list_(CALL),
                                              mask=pa.array(self.no_calls, pa.bool_()))
        messages = _struct(MESSAGE, {**self.msgs, "tool_calls": tool_calls})
        paths = pa.array(self.paths, pa.list_(pa.string()))
        tools = _struct(TOOL, {**self.tools, "path": paths})
        prov = _struct(PROVENANCE, {k: c[k] for k in _PROV})
        columns = {
            "id": pa.array(c["id"], pa.string()), "data_type": pa.array(c["data_type"], pa.string()),
            "domain": pa.array(c["domain"], pa.string()), "complexity": pa.array(c["complexity"], pa.float64()),
            "tools": pa.ListArray.from_arrays(pa.array(self.tool_offsets, pa.int32()), tools, type=pa.list_(TOOL)),
            "messages": pa.ListArray.from_arrays(pa.array(self.msg_offsets, pa.int32()), messages,
                                                 type=pa.list_(MESSAGE)),
            "thinking_score": pa.array(c["thinking_score"], pa.float64()),
            "apis_used": pa.array(self.apis, pa.list_(pa.string())), "provenance": prov}
        return pa.Table.from_arrays([columns[f.name] for f in SCHEMA], schema=SCHEMA)


_PROV = tuple(PROVENANCE.names)


def _struct(kind: pa.StructType, children: dict) -> pa.StructArray:
    """A struct array of `kind` from its children: built arrays, or Python lists to convert."""
    fields = [kind.field(i) for i in range(kind.num_fields)]
    arrays = [children[f.name] for f in fields]
    arrays = [a if isinstance(a, pa.Array) else pa.array(a, f.type) for a, f in zip(arrays, fields)]
    return pa.StructArray.from_arrays(arrays, fields=fields)


class ParquetSink:
    """One parquet file written row group by row group, renamed into place on close (atomic)."""

    def __init__(self, path: Path, compression: str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        self.writer = pq.ParquetWriter(self.tmp, SCHEMA, compression=compression)
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


def _size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < bound:
            return label
    return "n>1M"


def card_config(cfg) -> str:
    """The `seed`, `split` and `export` settings as the card shows them: `workers` has no effect on the
    data, so it is left out (the cards do not change with the worker count)."""
    def shown(section) -> dict:
        return {k: v for k, v in OmegaConf.to_container(section).items() if k != "workers"}
    return OmegaConf.to_yaml(OmegaConf.create({"seed": int(cfg.seed), "split": shown(cfg.split),
                                               "export": shown(cfg.export)}))


def card(subset: str, stats: dict, config_yaml: str, provenance: Counter, license: str, formats: list[str]) -> str:
    """The dataset card: the YAML header `datasets` reads, then what the subset is and how it was made."""
    c = stats["complexity"]
    types = ", ".join(f"{t} {share:.1%}" for t, share in stats["data_types"].items() if share)
    prov = "\n".join(f"| {p} | {m} | {v} | {n} |" for (p, m, v), n in sorted(provenance.items()))
    mean = "n/a" if c["mean"] is None else f"{c['mean']:.4f} (std {c['std']:.4f}, min {c['min']:.4f}, max {c['max']:.4f})"
    return f"""---
license: {license}
pretty_name: callforge {subset}
task_categories:
- text-generation
tags:
- function-calling
- tool-use
- synthetic
size_categories:
- {_size_category(stats["samples"])}
---

# callforge — `{subset}`

Function-calling dialogs built by callforge, a config-driven implementation of the ToolACE method
(API synthesis, multi-agent dialog generation, dual-layer verification, complexity scoring).
Subset `{subset}`: {_SUBSETS.get(subset, subset)}

## Columns

- `id`, `data_type` (single / parallel / dependent / non_tool / clarify / multi_turn), `domain`
- `complexity`: the complexity score (mean response-token loss of the target model; null when unscored)
- `tools`: the tools offered; `parameters` and `returns` are JSON Schema as JSON text
- `messages`: role, content, thinking (the assistant's trace; null unless exported with `export.thinking`),
  tool_calls (id, name, arguments as JSON text), tool_call_id, name
- `thinking_score`: the share of the trace checks passed (non-empty, names the called tools and their
  arguments, no degenerate text), averaged over the traced turns; null unless exported with `export.thinking`
- `apis_used`, `provenance` (provider, model, prompt_version, seed, stage)

The same samples are exported beside this folder as {", ".join(f for f in formats if f != "hf")}.

## Stats

| samples | APIs offered | APIs called | clusters | domains |
|---|---|---|---|---|
| {stats["samples"]} | {stats["apis"]} | {stats["apis_called"]} | {stats["clusters"]} | {stats["domains"]} |

Complexity: {mean} over {c["scored"]} scored samples.
Data types: {types or "none"}.

## Provenance

| provider | model | prompt version | samples |
|---|---|---|---|
{prov}

## Configuration

The `seed`, `split` and `export` settings this subset was made with (the full pipeline config is
the project's params.yaml):

```yaml
{config_yaml.rstrip()}
```
"""


_SUBSETS = {
    "full": "every verified sample except those of held-out APIs and those overlapping an eval set.",
    "easy": "the lowest-complexity third (or configured size) of the scored samples.",
    "medium": "the middle of the scored samples by complexity.",
    "hard": "the highest-complexity samples.",
    "div_low": "samples drawn from few API clusters (low diversity), same size as the other diversity subsets.",
    "div_medium": "samples drawn from some API clusters (medium diversity).",
    "div_high": "samples drawn from all API clusters (high diversity).",
}
